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
}
