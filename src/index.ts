/**
 * wasmhive: many small WebAssembly programs as actors in one Node.js process.
 * The package exports the actor runtime (`./actors`: hives, refs, supervisors,
 * per-actor snapshots), its scheduling (`./scheduler`: executors, clocks), the
 * engine (`./vm`: modules, instances, fuel, pausing, snapshots) and the native
 * services for guests (`./bindings`: deterministic WASI preview1).
 */
export * from './vm/index.js';
export * from './bindings/index.js';
export * from './scheduler/index.js';
export * from './actors/index.js';
export * from './store/index.js';
