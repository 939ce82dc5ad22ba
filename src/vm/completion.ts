/**
 * How a call that cannot pause ended: the result type of `Func.invoke`
 * (runtime.ts) and of the JS API's calls. It is its own file because both
 * runtime.ts and the public API (api.ts, which builds `Outcome` on it and
 * names runtime's `Func`) need it: here, neither depends on the other for it.
 */
import type { Trap } from './errors.js';
import type { Value } from './values.js';

/** How a call that cannot pause ended (`Func.invoke`, the JS API). */
export type Completion =
  | { kind: 'done'; results: Value[] }
  | { kind: 'trapped'; trap: Trap };
