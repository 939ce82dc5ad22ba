/**
 * WASI preview1 (`wasi_snapshot_preview1`) for guests of the engine.
 *
 * Deterministic by default: a virtual clock driven by fuel, a seeded random
 * stream, and no file access unless directories are mounted. Its state saves
 * to plain data and restores, so that a guest can continue from a snapshot.
 */
export { Wasi, type WasiOptions, type WasiIo } from './wasi.js';
export { WasiExit, WasiStateError } from './errors.js';
export type { WasiState, FdState, VirtualClockSaved } from './state.js';
export type { WasiStats, StdinSource, OutputSink } from './preview1.js';
/** Every preview1 function with its signature; `Wasi.imports` provides all of them. */
export { PREVIEW1_SIGNATURES } from './preview1.js';
export { DEFAULT_START_TIME } from './clock.js';
export { WASI_LIMITS } from './limits.js';
