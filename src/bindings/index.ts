/**
 * Bindings: native services that host functions give to guests. A binding
 * is a set of imports for the engine (`src/vm`) plus the host-side state
 * behind them; it knows nothing of actors or scheduling.
 *
 * For now there is one: WASI preview1 (`./wasi`), deterministic by default.
 */
export { Wasi, WasiExit, WasiStateError, DEFAULT_START_TIME } from './wasi/index.js';
export type { WasiOptions, WasiIo, WasiState, FdState, WasiStats, StdinSource, OutputSink } from './wasi/index.js';
