/**
 * The shape of a lowered function (what lowering in lower.ts produces and the
 * interpreter in interp.ts runs), as a type of its own so that the
 * interpreter, the runtime and snapshots need not import the lowering. The
 * opcode numbers stay a `const enum` in interp.ts, the same file as the loop,
 * so that every `case` is a literal there whatever the compiler (tsc inlines
 * const enums across files; esbuild, which vitest uses, does not).
 */
/** A function ready to run. */
export interface Lowered {
  code: Int32Array;
  nparams: number;
  /** Parameters plus declared locals. */
  nlocals: number;
  nresults: number;
  /**
   * Words written at a call's entry after the parameters: zeros for the
   * declared locals, then the function's constant slots (see `constSlots`).
   */
  init: Int32Array;
  /** Words of stack the frame needs: 2 per local, constant and operand slot. */
  frameWords: number;
  /** Fuel of the run at pc 0, charged when the function is entered (see `chargeRuns`), plus 1 per 16 words of `init`. */
  entry: number;
  /** The compiled tier's code of this function: undefined until it is hot, null when it stays interpreted. */
  compiled?: CompiledCode | null;
  /** Calls and resumes counted toward compiling it (see Machine.tierUp). */
  heat?: number;
}

/**
 * A function of the compiled tier (src/vm/compiled): `(machine, fp, depth,
 * fuel, entry, jsLeft) => fuel left, or -1 when it stopped` (see compile.ts).
 * `entries[pc]` is the block that starts at pc (where it can be entered), or 0.
 */
export interface CompiledCode {
  (m: never, fp: number, depth: number, fuel: number, entry: number, jsLeft: number): number;
  readonly entries: Int32Array;
}

/**
 * How a compiled frame stopped (Machine.uw): paused, trapped, a call to go on from the explicit frames, or
 * (UW_AGAIN) the root of a chain, out of its fuel share at the run at m.uwPc with the local at m.uwFuel, to be
 * called again there (see ROOT_SLICE in interp.ts).
 */
export const UW_PAUSE = 1;
export const UW_TRAP = 2;
export const UW_DEEP = 3;
export const UW_AGAIN = 4;

/**
 * The JS stack, in bytes as estimated, that a chain of compiled frames may
 * take from where the interpreter calls in; past it a call goes on from the
 * explicit frames (UW_DEEP), so the wasm depth limit is the interpreter's
 * whatever the JS stack (see jsFrameBytes in compiled/compile.ts).
 */
export const JS_STACK_BUDGET = 256 * 1024;
