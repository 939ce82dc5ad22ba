/**
 * wasmhive: many small WebAssembly programs as actors in one Node.js process.
 * For now the package exports the engine (`./vm`); actors, the scheduler and
 * bindings build on it.
 */
export * from './vm/index.js';
