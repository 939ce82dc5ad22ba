/**
 * The engine's public API, close in shape to the `WebAssembly` JS API:
 * compile a `Module` once, make many `Instance`s of it, call exports as
 * functions. Below that, `Func.invoke` is the handle the actor runtime drives:
 * it takes and gives raw `Value`s and returns a discriminated `Outcome`
 * instead of throwing.
 */
import type { Completion } from './completion.js';
import type { Func, Suspend } from './runtime.js';
import type { Value } from './values.js';

export type { Completion } from './completion.js';

/** Optional features beyond WebAssembly 2.0. All off by default. */
export interface Features {
  multiMemory?: boolean;
  tailCall?: boolean;
  extendedConst?: boolean;
}

/**
 * How a call ended, or why it stopped. "out-of-fuel" and "waiting" leave the
 * call paused with all its state: `Instance.resume` continues it.
 */
export type Outcome = Completion | { kind: 'out-of-fuel' } | { kind: 'waiting'; call: HostCall };

/** The host call a paused guest waits on. */
export interface HostCall {
  /** The import's module and field name ('' for a host function that is not an import, reached through a table). */
  module: string;
  name: string;
  /** Index of the function in the instance's function index space (-1 when it has none). */
  index: number;
  func: Func;
  args: Value[];
  /**
   * What the host function returned to pause: a Promise of its results, or a
   * Suspend. After a restore from a snapshot it is always a Suspend (a
   * Promise cannot be saved): the host answers the call again from `args`.
   */
  answer: PromiseLike<Value[]> | Suspend;
}

