/**
 * wasmhive: many small WebAssembly programs as actors in one Node.js process.
 * For now the package exports the engine (`./vm`: modules, instances, fuel,
 * pausing, snapshots) and the native services for guests (`./bindings`:
 * deterministic WASI preview1); actors and the scheduler build on them.
 */
export * from './vm/index.js';
export * from './bindings/index.js';
