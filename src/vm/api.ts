/**
 * The engine's public API, close in shape to the `WebAssembly` JS API:
 * compile a `Module` once, make many `Instance`s of it, call exports as
 * functions. Below that, `Func.invoke` is the handle the actor runtime drives:
 * it takes and gives raw `Value`s and returns a discriminated `Outcome`
 * instead of throwing.
 */
import type { Trap } from './errors.js';
import type { Value } from './values.js';

/** Optional features beyond WebAssembly 2.0. All off by default. */
export interface Features {
  multiMemory?: boolean;
  tailCall?: boolean;
  extendedConst?: boolean;
}

/** How a call ended. More kinds ("out of fuel", "waiting on the host") come with fuel and pausing. */
export type Outcome =
  | { kind: 'done'; results: Value[] }
  | { kind: 'trapped'; trap: Trap };

