/**
 * Bindings: native services that host functions give to guests. A binding
 * is a set of import modules for the engine (`src/vm`) plus the host-side
 * state behind them, built per caller through one contract (`Binding`,
 * `./binding.ts`): the imports get a context with the caller's id, memory,
 * fuel, clock, random generator and logger, and the state saves to plain
 * data. Bindings know nothing of scheduling; the actor system implements
 * the hive ABI's port (`./hive`), never the other way round.
 *
 * - WASI preview1 (`./wasi`), deterministic by default.
 * - The guest ABI `hive` (`./hive`), used by the actor runtime.
 * - A host's own functions that know their caller: `hostFunction`, `hostBinding`.
 */
export { Wasi, WasiExit, WasiStateError, DEFAULT_START_TIME } from './wasi/index.js';
export type { WasiOptions, WasiIo, WasiState, FdState, WasiStats, StdinSource, OutputSink } from './wasi/index.js';
export { bindingImports, hostFunction, hostBinding } from './binding.js';
export type { Binding, BindingContext, BindingClock, BindingRandom, BindingLogger, HostFunction, LogLevel } from './binding.js';
export { defineService, isServiceDefinition, ServiceError } from './service.js';
export type { ServiceContext, ServiceMethod, ServiceHandlers, ServiceOptions, ServiceSchema, ServiceHost, ServiceDefinition, RequestOf, ResponseOf } from './service.js';
export * from './services/index.js';
