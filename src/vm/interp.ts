/**
 * The interpreter: one loop over lowered code (an Int32Array), with explicit
 * frames, so a wasm call never recurses in JS.
 *
 * Frame layout (see docs/architecture.md): every value takes one 8-byte slot,
 * two 32-bit words of the machine's stack `S`. A function's frame starts at
 * word `fp` (always even): its locals (parameters first), then its operand
 * stack. Lowered instructions name their operands as word offsets from `fp`,
 * so locals and stack entries are read alike. i64 is two words (low, high);
 * f32 and f64 are read through Float32Array / Float64Array views of the same
 * buffer and moved as raw words, so NaN payloads survive copies.
 *
 * The internal opcodes are a const enum in this file so that every `case`
 * below is a literal and V8 compiles the switch to a jump table.
 */
import { Exhaustion, Trap, type StackFrame } from './errors.js';
import { Func, PAGE, Suspend, asTrap, checkResults, idToRef, isPause, isStackOverflow, refToId, readValue, writeValue, type HostResult, type I32HostFn, type Inst, type Memory } from './runtime.js';
import type { Lowered } from './internal-code.js';
import type { Table } from './runtime.js';
import { Imm, OPS } from './opcodes.js';
import type { Value } from './values.js';

/** Internal opcodes. Operands follow each opcode in the code array; `d`, `a`, `b`, `c` are word offsets from fp. */
export const enum K {
  UNREACHABLE, // -
  BR, // target
  BR_IF, // c target
  BR_UNLESS, // c target
  BR_TABLE, // c n target*(n+1)
  RETURN0, //
  RETURN1, // a
  RETURN_N, // a n
  CALL, // func base
  CALL_INDIRECT, // typeIdx table c base
  COPY, // d a
  CONST32, // d v
  CONST64, // d lo hi
  SELECT, // d a b c
  GLOBAL_GET, // d g(word)
  GLOBAL_SET, // g(word) a
  GLOBAL_GET_EXT, // d globalIdx
  GLOBAL_SET_EXT, // globalIdx a

  LOAD_32, // d a k offset: address (S[a] + k) mod 2^32, plus offset
  LOAD_64,
  LOAD_I32_8S,
  LOAD_I32_8U,
  LOAD_I32_16S,
  LOAD_I32_16U,
  LOAD_I64_8S,
  LOAD_I64_8U,
  LOAD_I64_16S,
  LOAD_I64_16U,
  LOAD_I64_32S,
  LOAD_I64_32U,
  STORE_32, // a v k offset
  STORE_64,
  STORE_8,
  STORE_16,
  MEMORY_SIZE, // d (memory 0)
  MEMORY_GROW, // d a (memory 0)
  MEMORY_INIT, // seg d s n mem
  DATA_DROP, // seg
  MEMORY_COPY, // d s n dstMem srcMem
  MEMORY_FILL, // d v n mem
  MEM_ACCESS_M, // wasmOp mem d|a a|v k offset: a load or store on a memory other than 0 (multi-memory)
  MEMORY_SIZE_M, // d mem
  MEMORY_GROW_M, // d a mem

  TABLE_GET, // d table i
  TABLE_SET, // table i v
  TABLE_SIZE, // d table
  TABLE_GROW, // d table init n
  TABLE_FILL, // table i v n
  TABLE_COPY, // dstTable srcTable d s n
  TABLE_INIT, // seg table d s n
  ELEM_DROP, // seg
  REF_IS_NULL, // d a
  REF_FUNC, // d func

  I32_EQZ, // d a
  I32_EQ, // d a b (and so on for binary ops)
  I32_NE,
  I32_LT_S,
  I32_LT_U,
  I32_GT_S,
  I32_GT_U,
  I32_LE_S,
  I32_LE_U,
  I32_GE_S,
  I32_GE_U,
  I32_CLZ,
  I32_CTZ,
  I32_POPCNT,
  I32_ADD,
  I32_SUB,
  I32_MUL,
  I32_DIV_S,
  I32_DIV_U,
  I32_REM_S,
  I32_REM_U,
  I32_AND,
  I32_OR,
  I32_XOR,
  I32_SHL,
  I32_SHR_S,
  I32_SHR_U,
  I32_ROTL,
  I32_ROTR,

  I64_EQZ,
  I64_EQ,
  I64_NE,
  I64_LT_S,
  I64_LT_U,
  I64_GT_S,
  I64_GT_U,
  I64_LE_S,
  I64_LE_U,
  I64_GE_S,
  I64_GE_U,
  I64_CLZ,
  I64_CTZ,
  I64_POPCNT,
  I64_ADD,
  I64_SUB,
  I64_MUL,
  I64_DIV_S,
  I64_DIV_U,
  I64_REM_S,
  I64_REM_U,
  I64_AND,
  I64_OR,
  I64_XOR,
  I64_SHL,
  I64_SHR_S,
  I64_SHR_U,
  I64_ROTL,
  I64_ROTR,

  F32_EQ,
  F32_NE,
  F32_LT,
  F32_GT,
  F32_LE,
  F32_GE,
  F64_EQ,
  F64_NE,
  F64_LT,
  F64_GT,
  F64_LE,
  F64_GE,
  F32_ABS,
  F32_NEG,
  F32_CEIL,
  F32_FLOOR,
  F32_TRUNC,
  F32_NEAREST,
  F32_SQRT,
  F32_ADD,
  F32_SUB,
  F32_MUL,
  F32_DIV,
  F32_MIN,
  F32_MAX,
  F32_COPYSIGN,
  F64_ABS,
  F64_NEG,
  F64_CEIL,
  F64_FLOOR,
  F64_TRUNC,
  F64_NEAREST,
  F64_SQRT,
  F64_ADD,
  F64_SUB,
  F64_MUL,
  F64_DIV,
  F64_MIN,
  F64_MAX,
  F64_COPYSIGN,

  MOV32, // d a: one word (i32.wrap_i64, f32/i32 reinterpret)
  I32_TRUNC_F32_S,
  I32_TRUNC_F32_U,
  I32_TRUNC_F64_S,
  I32_TRUNC_F64_U,
  I64_EXTEND_I32_S,
  I64_EXTEND_I32_U,
  I64_TRUNC_F32_S,
  I64_TRUNC_F32_U,
  I64_TRUNC_F64_S,
  I64_TRUNC_F64_U,
  F32_CONVERT_I32_S,
  F32_CONVERT_I32_U,
  F32_CONVERT_I64_S,
  F32_CONVERT_I64_U,
  F32_DEMOTE_F64,
  F64_CONVERT_I32_S,
  F64_CONVERT_I32_U,
  F64_CONVERT_I64_S,
  F64_CONVERT_I64_U,
  F64_PROMOTE_F32,
  I32_EXTEND8_S,
  I32_EXTEND16_S,
  I64_EXTEND8_S,
  I64_EXTEND16_S,
  I64_EXTEND32_S,
  I32_TRUNC_SAT_F32_S,
  I32_TRUNC_SAT_F32_U,
  I32_TRUNC_SAT_F64_S,
  I32_TRUNC_SAT_F64_U,
  I64_TRUNC_SAT_F32_S,
  I64_TRUNC_SAT_F32_U,
  I64_TRUNC_SAT_F64_S,
  I64_TRUNC_SAT_F64_U,

  // Superinstructions (see lower.ts for when they are chosen).
  I32_ADD_I, // d a imm
  I32_AND_I,
  I32_OR_I,
  I32_XOR_I,
  I32_SHL_I,
  I32_SHR_S_I,
  I32_SHR_U_I,
  I32_MUL_I,
  I32_EQ_I,
  I32_NE_I,
  I32_LT_S_I,
  I32_LT_U_I,
  I32_GT_S_I,
  I32_GT_U_I,
  I32_LE_S_I,
  I32_LE_U_I,
  I32_GE_S_I,
  I32_GE_U_I,
  BR_IF_EQ, // a b target: compare two i32 slots and branch
  BR_IF_NE,
  BR_IF_LT_S,
  BR_IF_LT_U,
  BR_IF_GT_S,
  BR_IF_GT_U,
  BR_IF_LE_S,
  BR_IF_LE_U,
  BR_IF_GE_S,
  BR_IF_GE_U,
  BR_IF_EQ_I, // a imm target
  BR_IF_NE_I,
  BR_IF_LT_S_I,
  BR_IF_LT_U_I,
  BR_IF_GT_S_I,
  BR_IF_GT_U_I,
  BR_IF_LE_S_I,
  BR_IF_LE_U_I,
  BR_IF_GE_S_I,
  BR_IF_GE_U_I,

  BR_IF_F64_EQ, // a b target: branch when the f64 comparison holds
  BR_IF_F64_NE,
  BR_IF_F64_LT,
  BR_IF_F64_GT,
  BR_IF_F64_LE,
  BR_IF_F64_GE,
  BR_IFNOT_F64_EQ, // a b target: branch when it does not (not the opposite comparison: NaN)
  BR_IFNOT_F64_NE,
  BR_IFNOT_F64_LT,
  BR_IFNOT_F64_GT,
  BR_IFNOT_F64_LE,
  BR_IFNOT_F64_GE,
  BR_IF_I64_EQZ, // a _ target
  BR_IF_I64_NEZ,

  RETURN_CALL, // func base: tail call (tail-call proposal)
  RETURN_CALL_INDIRECT, // typeIdx table c base

  COUNT,
}

/** Number of operand words after each opcode (-1: variable, BR_TABLE). Used by the disassembler and the lowering's checks. */
export const OPERANDS: Int8Array = (() => {
  const n = new Int8Array(K.COUNT).fill(3); // most ops: d a b
  const set = (ops: K[], v: number) => ops.forEach((o) => (n[o] = v));
  set([K.UNREACHABLE, K.RETURN0], 0);
  set([K.RETURN1, K.MEMORY_SIZE, K.DATA_DROP, K.ELEM_DROP], 1);
  // Branches end with the fuel cost of the runs they start (see chargeRuns in lower.ts).
  set([K.BR], 2);
  set([K.BR_IF, K.BR_UNLESS], 3);
  for (let o = K.BR_IF_EQ; o <= K.BR_IF_I64_NEZ; o++) n[o] = 4;
  set([K.RETURN_CALL], 2);
  set([K.RETURN_CALL_INDIRECT], 4);
  set([K.RETURN_N, K.CALL, K.COPY, K.CONST32, K.GLOBAL_GET, K.GLOBAL_SET, K.GLOBAL_GET_EXT, K.GLOBAL_SET_EXT, K.MEMORY_GROW, K.TABLE_SIZE, K.REF_IS_NULL, K.REF_FUNC, K.MOV32], 2);
  set([K.I32_EQZ, K.I32_CLZ, K.I32_CTZ, K.I32_POPCNT, K.I64_EQZ, K.I64_CLZ, K.I64_CTZ, K.I64_POPCNT, K.I32_EXTEND8_S, K.I32_EXTEND16_S, K.I64_EXTEND8_S, K.I64_EXTEND16_S, K.I64_EXTEND32_S], 2);
  for (let o = K.F32_ABS; o <= K.F32_SQRT; o++) n[o] = 2;
  for (let o = K.F64_ABS; o <= K.F64_SQRT; o++) n[o] = 2;
  for (let o = K.I32_TRUNC_F32_S; o <= K.I64_TRUNC_SAT_F64_U; o++) n[o] = 2;
  set([K.CALL_INDIRECT, K.SELECT, K.MEMORY_FILL, K.TABLE_GROW, K.TABLE_FILL], 4);
  set([K.MEMORY_INIT, K.MEMORY_COPY], 5);
  set([K.MEMORY_SIZE_M], 2);
  set([K.MEM_ACCESS_M], 6);
  for (let o = K.LOAD_32; o <= K.STORE_16; o++) n[o] = 4;
  set([K.TABLE_COPY, K.TABLE_INIT], 5);
  n[K.BR_TABLE] = -1;
  return n;
})();

/** 1 for the instructions that end a run of fuel: unconditional branches, returns, tail calls, unreachable. */
export const ENDS_RUN: Uint8Array = (() => {
  const e = new Uint8Array(K.COUNT);
  for (const o of [K.BR, K.BR_TABLE, K.RETURN0, K.RETURN1, K.RETURN_N, K.RETURN_CALL, K.RETURN_CALL_INDIRECT, K.UNREACHABLE]) e[o] = 1;
  return e;
})();

/** Whether an internal opcode is a conditional branch (`BR_IF`, `BR_UNLESS`, compare-and-branch). */
export function isCondBranch(op: number): boolean {
  return op === K.BR_IF || op === K.BR_UNLESS || (op >= K.BR_IF_EQ && op <= K.BR_IF_I64_NEZ);
}

/** Words of the instruction at pc (opcode and operands). */
export function insnLength(code: Int32Array, pc: number): number {
  const n = OPERANDS[code[pc]!]!;
  return n >= 0 ? 1 + n : 3 + 2 * (code[pc + 2]! + 1);
}

/** Fuel of the run that starts at pc (pc must be an instruction start). */
export function runCost(code: Int32Array, pc: number): number {
  let c = 0;
  while (pc < code.length) {
    c++;
    if (ENDS_RUN[code[pc]!] === 1) break;
    pc += insnLength(code, pc);
  }
  return c;
}

/** What run() returns when execution stopped and can continue: out of fuel, or waiting on the host. */
export class Paused {
  private constructor() {}
  static readonly it = new Paused();
}
export const PAUSE = Paused.it;
/** How a run of the loop ended: returned (null), trapped, or paused. */
export type RunResult = Trap | null | Paused;

/** A host call a paused invocation waits on. */
export interface Pending {
  /** The host function called. */
  func: Func;
  args: Value[];
  /** What the host function returned to pause: a Promise of the results, or a Suspend. */
  answer: PromiseLike<Value[]> | Suspend;
}

/** Fuel handed to the loop at a time: small enough to stay a small integer in V8. */
const FUEL_SLICE = 0x3fffffff;
/** How far a nested run may overdraw when its pausable caller is out of fuel (see refuel). */
const NESTED_DEBT = 1 << 24;

/** Execution state of one instance. Every field that a snapshot needs is a number or a typed array. */
export class Machine {
  /** Words of the stack: frames' locals and operand stacks. */
  S: Int32Array;
  D: Float64Array;
  F: Float32Array;
  /** Frame records, 3 words each: return pc, caller fp, caller function index. */
  frames: Int32Array;
  /** Number of frame records in use. */
  depth = 0;
  /** First free word of S (where the next invocation's frame starts). */
  top = 0;
  readonly maxDepth: number;
  readonly maxWords: number;
  readonly inst: Inst;
  /** Lowers a function on its first call. */
  readonly lower: (inst: Inst, funcIdx: number) => Lowered;

  // Fuel: one unit per instruction of lowered code, plus the size-dependent part of bulk instructions.
  /** Fuel not yet handed to the loop (Infinity: unmetered). Negative after a run or a bulk instruction ran into debt. */
  reserve = Infinity;
  /** Fuel handed to the loop at its last refill (to count what it used). */
  slice = 0;
  /** Units of fuel consumed so far. */
  used = 0;

  /** Active runs of the loop on this machine (more than one when the host or another instance calls back in). */
  nest = 0;
  /** Whether the outermost run may pause (only for Instance.call and resume; the JS API's calls cannot). */
  suspendable = false;
  /**
   * Set while this machine runs for a caller that can pause (a call from a
   * pausable run of another instance): its runs may then overdraw (see refuel).
   */
  overdraw = false;
  /** Where a paused invocation stopped: its innermost function (-1: not paused), pc and frame. */
  pFn = -1;
  pPc = 0;
  pFp = 0;
  /** The host call the paused invocation waits on (its pc is at the call instruction); null when out of fuel. */
  pending: Pending | null = null;
  /**
   * Units of fuel already paid toward the grow or bulk instruction the
   * paused invocation stopped inside (at pPc), which was too costly for the
   * fuel at hand (see `payInParts`); -1 when it stopped between instructions.
   */
  part = -1;

  /**
   * A machine for `inst`. With `globalWords` > 0, it also gives the
   * instance its `globalWords` (that many words). The first stack, the first
   * frame records and the globals share one ArrayBuffer: each small
   * ArrayBuffer costs the collector work of its own (a spawn made three).
   * When the stack or the frames grow, they move to buffers of their own.
   */
  constructor(inst: Inst, lower: (inst: Inst, funcIdx: number) => Lowered, opts: { maxCallDepth?: number; maxStackBytes?: number } = {}, globalWords = 0) {
    this.inst = inst;
    this.lower = lower;
    this.maxDepth = opts.maxCallDepth ?? 200_000;
    this.maxWords = Math.floor((opts.maxStackBytes ?? 128 * 1024 * 1024) / 4);
    // 256 words (1 KiB) of stack and 16 frame records to start (each grows by doubling): most actors never need more.
    const stack = 256;
    const frames = 3 * 16;
    const buf = new ArrayBuffer(4 * (stack + frames + globalWords));
    this.S = new Int32Array(buf, 0, stack);
    this.D = new Float64Array(buf, 0, stack / 2);
    this.F = new Float32Array(buf, 0, stack);
    this.frames = new Int32Array(buf, 4 * stack, frames);
    if (globalWords > 0) inst.globalWords = new Int32Array(buf, 4 * (stack + frames), globalWords);
  }

  /** Makes room for `words` words of stack; false when the limit forbids it. */
  ensureStack(words: number): boolean {
    if (words <= this.S.length) return true;
    if (words > this.maxWords) return false;
    let n = this.S.length * 2;
    while (n < words) n *= 2;
    if (n > this.maxWords) n = this.maxWords + (this.maxWords & 1);
    const S = new Int32Array(n);
    S.set(this.S);
    this.S = S;
    this.D = new Float64Array(S.buffer);
    this.F = new Float32Array(S.buffer);
    return true;
  }

  /** Makes room for one more frame record; false at the call-depth limit. */
  ensureFrames(depth: number): boolean {
    if (depth >= this.maxDepth) return false;
    if (3 * (depth + 1) <= this.frames.length) return true;
    let n = this.frames.length * 2;
    while (n < 3 * (depth + 1)) n *= 2;
    const f = new Int32Array(n);
    f.set(this.frames);
    this.frames = f;
    return true;
  }

  /** The lowered code of defined function `fn`. */
  code(fn: number): Lowered {
    const inst = this.inst;
    return inst.lowered[fn - inst.module.ast.numImportedFuncs] ?? this.lower(inst, fn);
  }

  /** The wasm stack at a trap, innermost first. */
  stackTrace(fn: number, pc: number, depth: number, entryDepth: number): StackFrame[] {
    const out: StackFrame[] = [{ func: fn, name: this.inst.funcName(fn), pc }];
    for (let i = depth - 1; i >= entryDepth && out.length < 64; i--) {
      const f = this.frames[3 * i + 2]!;
      out.push({ func: f, name: this.inst.funcName(f), pc: this.frames[3 * i]! });
    }
    return out;
  }

  /** Whether an invocation is paused (out of fuel, or waiting on the host). */
  get paused(): boolean {
    return this.pFn >= 0;
  }

  /**
   * Calls defined function `fn` with its arguments already in S at word
   * `base`; leaves its results there. Returns null when it returned, the
   * trap, or PAUSE when it paused (only an outermost, suspendable call can).
   */
  call(fn: number, base: number): RunResult {
    const lw = this.code(fn);
    if (this.nest === 0 && !this.paused) this.part = -1; // a new outermost call: nothing is paid toward an aborted instruction
    if (!this.ensureStack(base + lw.frameWords)) return new Exhaustion('call stack exhausted');
    this.S.set(lw.init, base + 2 * lw.nparams);
    const savedTop = this.top;
    this.top = base + lw.frameWords;
    return this.enter(fn, base, lw.code, 0, this.depth, savedTop, lw.entry, -1);
  }

  /**
   * Continues the paused invocation (which started at word 0 with no frames
   * below it): after running out of fuel, or with the results of the host
   * call it waits on (already checked against the callee's type), or with
   * the host's error, which traps it.
   */
  resume(results: Value[] | null, error: Trap | null): RunResult {
    let fn = this.pFn;
    let pc = this.pPc;
    let fp = this.pFp;
    const pending = this.pending;
    this.pFn = -1;
    this.pending = null;
    let code = this.code(fn).code;
    // Out of fuel, it stopped before a run, which it pays for now, or inside an instruction paid in parts (whose
    // run is paid for), which it goes on paying for; a host call was paid for with its run.
    const inside = this.part;
    this.part = -1;
    const charge = pending === null && inside < 0 ? runCost(code, pc) : 0;
    if (pending !== null) {
      if (error !== null) return this.finish(withTrace(this, error, fn, pc, this.depth, 0));
      const op = code[pc]!;
      const base = fp + code[pc + (op === K.CALL || op === K.RETURN_CALL ? 2 : 4)]!;
      const n = results === null ? 0 : results.length;
      if (!this.ensureStack(base + 2 * n)) return this.finish(withTrace(this, new Exhaustion('call stack exhausted'), fn, pc, this.depth, 0));
      try {
        for (let i = 0; i < n; i++) writeValue(results![i]!, this.S, base + 2 * i, this.inst);
      } catch (e) {
        return this.finish(withTrace(this, asTrap(e), fn, pc, this.depth, 0));
      }
      if (op === K.CALL || op === K.CALL_INDIRECT) {
        pc += 1 + OPERANDS[op]!;
      } else {
        // A tail call of a host function: its results are this frame's; return from it.
        this.S.copyWithin(fp, base, base + 2 * n);
        if (this.depth === 0) return this.finish(null);
        const d = --this.depth;
        pc = this.frames[3 * d]!;
        fp = this.frames[3 * d + 1]!;
        fn = this.frames[3 * d + 2]!;
        code = this.code(fn).code;
      }
    }
    return this.enter(fn, fp, code, pc, 0, 0, charge, pending === null ? inside : -1);
  }

  /** Ends the outermost invocation without running: no frames left. */
  private finish(r: Trap | null): RunResult {
    this.depth = 0;
    this.top = 0;
    return r;
  }

  /** Runs the loop from (fn, pc) with frame fp until the depth returns to entryDepth; `inside`: see run. */
  private enter(fn: number, fp: number, code: Int32Array, pc: number, entryDepth: number, savedTop: number, charge: number, inside: number): RunResult {
    let r: RunResult;
    this.nest++;
    try {
      r = run(this, fn, fp, code, pc, entryDepth, charge, inside);
    } catch (e) {
      // A JS error inside the loop is an engine bug or a resource failure (e.g. out of memory); keep it contained.
      r = isStackOverflow(e) ? new Exhaustion('call stack exhausted') : internalError(e);
      settle(this, 0); // the loop's share is lost with it: count it as used

    } finally {
      this.nest--;
    }
    // A paused invocation keeps its frames (run set depth and top); otherwise they are gone.
    if (!(r instanceof Paused)) {
      this.depth = entryDepth;
      this.top = savedTop;
    }
    return r;
  }
}

// ---------------------------------------------------------------------------
// Fuel. The loop keeps its share in a local (`fuel`), from which each run of
// instructions is paid when control enters it (see chargeRuns in lower.ts);
// these helpers move fuel between that local and the machine, out of the loop. Invariant: fuel left = m.reserve + local, and
// fuel used = m.used + m.slice - local.

/** Hands the loop its next share of fuel. */
function take(m: Machine): number {
  const r = m.reserve;
  const t = r <= 0 ? 0 : r < FUEL_SLICE ? r : FUEL_SLICE;
  m.reserve = r - t;
  m.slice = t;
  return t;
}

/** Gives the loop's unused fuel back to the machine. */
function settle(m: Machine, fuel: number): void {
  m.used += m.slice - fuel;
  m.reserve += fuel;
  m.slice = 0;
}

/**
 * Called when the local went below zero after paying for the run at pc: a
 * new share when the machine has fuel for it, else -1 when no fuel at all
 * was left (the run is then not paid for, and does not start).
 */
function refuel(m: Machine, fuel: number, code: Int32Array, pc: number): number {
  const total = m.reserve + fuel;
  if (total < 0) {
    const cost = runCost(code, pc);
    // A run nested inside a pausable call (a host function calling back in, or
    // a call from a pausable run of another instance) cannot pause; it goes on
    // into debt, up to a bound, and the pausable run pauses when control is
    // back. Past the bound it ends in Exhaustion, so an endless loop there stops.
    const nested = (m.overdraw || (m.suspendable && m.nest > 1)) && total > -NESTED_DEBT;
    if (total + cost <= 0 && !nested) {
      settle(m, fuel + cost);
      return -1;
    }
    // Some fuel was left, only not enough for the whole run: run it into debt,
    // so that a run longer than the budget still makes progress.
    settle(m, fuel);
    return 0;
  }
  settle(m, fuel);
  return take(m);
}

/** Out of fuel before the run at pc: pause there, or trap when this run cannot pause. */
function outOfFuel(m: Machine, fn: number, pc: number, fp: number, depth: number, entryDepth: number): Trap | Paused {
  if (m.nest === 1 && m.suspendable) return stop(m, 0, fn, pc, fp, depth);
  m.depth = depth;
  return withTrace(m, new Exhaustion('out of fuel'), fn, pc, depth, entryDepth);
}

/** Pauses the outermost invocation at (fn, pc, fp), keeping its frames. */
function stop(m: Machine, fuel: number, fn: number, pc: number, fp: number, depth: number): Paused {
  settle(m, fuel);
  m.depth = depth;
  m.pFn = fn;
  m.pPc = pc;
  m.pFp = fp;
  m.top = fp + m.code(fn).frameWords;
  return PAUSE;
}

/** Units of fuel per memory page a memory.grow adds (as for filling it: one per 64 bytes). */
export const GROW_PAGE_COST = PAGE >>> 6;

/**
 * Fuel beyond one unit for grows and bulk instructions, paid before the
 * work: one unit per 64 bytes (memory.fill, copy, init), per 8 table
 * elements (table.fill, copy, init), per element a table.grow adds (adding
 * one costs the host about what an instruction does, copying 8 about as
 * much), and GROW_PAGE_COST per page a memory.grow adds. A grow past the
 * limits costs nothing more (it fails at once).
 */
function sizeCost(m: Machine, S: Int32Array, code: Int32Array, pc: number, fp: number, resumed: boolean): number {
  switch (code[pc]) {
    case K.MEMORY_COPY:
    case K.MEMORY_FILL:
      return (S[fp + code[pc + 3]!]! >>> 0) >>> 6;
    case K.MEMORY_INIT:
      return (S[fp + code[pc + 4]!]! >>> 0) >>> 6;
    case K.MEMORY_GROW:
    case K.MEMORY_GROW_M: {
      const mem = m.inst.memories[code[pc] === K.MEMORY_GROW ? 0 : code[pc + 3]!]!;
      const delta = S[fp + code[pc + 2]!]! >>> 0;
      // Pages added, and the copy of the memory when it outgrows its backing store, at memory.copy's rate.
      return delta <= mem.limit - mem.pages ? delta * GROW_PAGE_COST + (mem.copyBytes(delta) >>> 6) : 0;
    }
    case K.TABLE_GROW: {
      const delta = S[fp + code[pc + 4]!]! >>> 0;
      // Checked before the first part only: resumed inside, the table has grown by the parts done.
      return resumed || m.inst.tables[code[pc + 2]!]!.canGrow(delta) ? delta : 0;
    }
    case K.TABLE_FILL:
      return (S[fp + code[pc + 4]!]! >>> 0) >>> 3;
    case K.TABLE_COPY:
    case K.TABLE_INIT:
      return (S[fp + code[pc + 5]!]! >>> 0) >>> 3;
    default:
      return 0;
  }
}

/** What payInParts returns when the instruction is not paid in full and the invocation pauses inside it. */
const PAUSED_INSIDE = '\0paused';
/** The trap message of an instruction a run that cannot pause cannot pay for (an Exhaustion). */
const OUT_OF_FUEL = 'out of fuel';
const OOB_MEMORY = 'out of bounds memory access';
const OOB_TABLE = 'out of bounds table access';

/**
 * Runs a grow or bulk instruction whose size cost `cost` the loop's share
 * could not pay (the loop has settled its fuel into `m.reserve`), `paid`
 * units of it already paid (resumed inside it). Returns '' when done, a
 * trap message, or PAUSED_INSIDE (having set `m.part`).
 *
 * Nothing is done that is not paid for first. In an invocation that can
 * pause, the instruction takes the fuel there is, does the work that pays
 * for (a fill, copy or init that part of its range, in 64-byte or
 * 8-element units; a table.grow that many elements; a memory.grow that
 * outgrows its backing store that much of the new one's preparation, and
 * the grow itself when paid in full), and pauses inside itself with the
 * units paid in `m.part`; resumed, it goes on paying. So no instruction does more work in
 * one slice than the slice's fuel pays for, every instruction completes
 * whatever the slice size, and the fuel it uses in all is its cost, however
 * it was sliced. A run that cannot pause cannot wait for more fuel: a
 * nested run (see refuel) may overdraw up to NESTED_DEBT; past that, or in
 * a run that may not overdraw, a grow fails (-1) and any other instruction
 * ends the run with Exhaustion("out of fuel"), before any work.
 */
function payInParts(m: Machine, code: Int32Array, pc: number, fp: number, cost: number, paid: number): string {
  const S = m.S;
  const op = code[pc]!;
  // The range and the limits are checked before anything is paid or done: a trap or a failed grow costs
  // only the instruction's unit. They stay true while it is paid in parts (memories and tables do not shrink).
  const check = checkBulk(m, code, pc, fp);
  if (check !== '') return check;
  if (paid > cost) return 'invalid snapshot: more paid toward an instruction than it costs';
  const need = cost - paid;
  const avail = m.reserve;
  if (m.nest !== 1 || !m.suspendable) {
    const nested = m.overdraw || (m.suspendable && m.nest > 1);
    if (need > avail && !(nested && avail - need > -NESTED_DEBT)) {
      if (op === K.MEMORY_GROW || op === K.MEMORY_GROW_M || op === K.TABLE_GROW) {
        S[fp + code[pc + 1]!] = -1;
        return '';
      }
      return OUT_OF_FUEL;
    }
  }
  const pay = need <= avail || m.nest !== 1 || !m.suspendable ? need : Math.max(avail, 0);
  m.reserve -= pay;
  m.used += pay;
  const now = paid + pay;
  doPart(m, code, pc, fp, paid, now, cost);
  if (now < cost) {
    m.part = now;
    return PAUSED_INSIDE;
  }
  return '';
}

/** Checks the operands of a bulk instruction before any work (its range, a reference it stores): '' when it may run, else its trap message. */
function checkBulk(m: Machine, code: Int32Array, pc: number, fp: number): string {
  const S = m.S;
  const inst = m.inst;
  const u = (k: number): number => S[fp + code[pc + k]!]! >>> 0;
  switch (code[pc]) {
    case K.MEMORY_FILL:
      return u(1) + u(3) > inst.memories[code[pc + 4]!]!.byteLength ? OOB_MEMORY : '';
    case K.MEMORY_COPY:
      return u(2) + u(3) > inst.memories[code[pc + 5]!]!.byteLength || u(1) + u(3) > inst.memories[code[pc + 4]!]!.byteLength ? OOB_MEMORY : '';
    case K.MEMORY_INIT:
      return u(3) + u(4) > (inst.datas[code[pc + 1]!] ?? EMPTY_BYTES).length || u(2) + u(4) > inst.memories[code[pc + 5]!]!.byteLength ? OOB_MEMORY : '';
    case K.TABLE_FILL:
      if (elemRef(inst, inst.tables[code[pc + 1]!]!, S[fp + code[pc + 3]!]!) === undefined) return BAD_REF;
      return u(2) + u(4) > inst.tables[code[pc + 1]!]!.elements.length ? OOB_TABLE : '';
    case K.TABLE_COPY:
      return u(4) + u(5) > inst.tables[code[pc + 2]!]!.elements.length || u(3) + u(5) > inst.tables[code[pc + 1]!]!.elements.length ? OOB_TABLE : '';
    case K.TABLE_INIT:
      return u(4) + u(5) > (inst.elems[code[pc + 1]!] ?? EMPTY_ELEMS).length || u(3) + u(5) > inst.tables[code[pc + 2]!]!.elements.length ? OOB_TABLE : '';
    case K.TABLE_GROW:
      return elemRef(inst, inst.tables[code[pc + 2]!]!, S[fp + code[pc + 3]!]!) === undefined ? BAD_REF : '';
    default:
      // memory.grow: its limits were checked by sizeCost (a grow past them costs 0 and never comes here).
      return '';
  }
}

/**
 * Does the work that units [from, to) of an instruction's size cost pay
 * for (to === cost: all the rest). Items are bytes (64 per unit) or table
 * elements (8 per unit; 1 for table.grow). A memory.grow prepares its new
 * backing store in parts and grows when paid in full.
 */
function doPart(m: Machine, code: Int32Array, pc: number, fp: number, from: number, to: number, cost: number): void {
  const S = m.S;
  const inst = m.inst;
  const u = (k: number): number => S[fp + code[pc + k]!]! >>> 0;
  const op = code[pc]!;
  const shift = op === K.MEMORY_FILL || op === K.MEMORY_COPY || op === K.MEMORY_INIT ? 6 : op === K.TABLE_GROW ? 0 : 3;
  const n = op === K.MEMORY_FILL || op === K.MEMORY_COPY || op === K.TABLE_FILL || op === K.TABLE_GROW ? u(op === K.TABLE_FILL || op === K.TABLE_GROW ? 4 : 3) : op === K.MEMORY_INIT ? u(4) : op === K.MEMORY_GROW || op === K.MEMORY_GROW_M ? 0 : u(5);
  // Items [a, b) of the operation's range.
  const a = Math.min(n, from * 2 ** shift);
  const b = to >= cost ? n : Math.min(n, to * 2 ** shift);
  switch (op) {
    case K.MEMORY_GROW:
    case K.MEMORY_GROW_M: {
      // Each part writes its share of the new backing store the grow will copy into; the last one grows.
      const mem = inst.memories[op === K.MEMORY_GROW ? 0 : code[pc + 3]!]!;
      if (to < cost) mem.prepareGrow(u(2), (to - from) * 64);
      else memoryOp(m, code, pc, fp);
      return;
    }
    case K.MEMORY_FILL:
      inst.memories[code[pc + 4]!]!.u8.fill(S[fp + code[pc + 2]!]! & 0xff, u(1) + a, u(1) + b);
      return;
    case K.MEMORY_INIT:
      inst.memories[code[pc + 5]!]!.u8.set((inst.datas[code[pc + 1]!] ?? EMPTY_BYTES).subarray(u(3) + a, u(3) + b), u(2) + a);
      return;
    case K.MEMORY_COPY: {
      const dm = inst.memories[code[pc + 4]!]!;
      const sm = inst.memories[code[pc + 5]!]!;
      const d = u(1);
      const s = u(2);
      // Overlapping with the destination above the source: copy from the end, so no byte is overwritten before it is read.
      if (dm === sm && d > s) dm.u8.copyWithin(d + n - b, s + n - b, s + n - a);
      else if (dm === sm) dm.u8.copyWithin(d + a, s + a, s + b);
      else dm.u8.set(sm.u8.subarray(s + a, s + b), d + a);
      return;
    }
    case K.TABLE_GROW: {
      const t = inst.tables[code[pc + 2]!]!;
      const r = t.grow(b - a, elemRef(inst, t, S[fp + code[pc + 3]!]!));
      // The result is the length before the first part (written at the last one; a part cannot fail, its
      // limits were checked for the whole before the first).
      if (to >= cost) S[fp + code[pc + 1]!] = r < 0 ? -1 : t.elements.length - n;
      return;
    }
    case K.TABLE_FILL:
      inst.tables[code[pc + 1]!]!.elements.fill(elemRef(inst, inst.tables[code[pc + 1]!]!, S[fp + code[pc + 3]!]!), u(2) + a, u(2) + b);
      return;
    case K.TABLE_COPY: {
      const dt = inst.tables[code[pc + 1]!]!.elements;
      const st = inst.tables[code[pc + 2]!]!.elements;
      const d = u(3);
      const s = u(4);
      if (dt === st && d > s) dt.copyWithin(d + n - b, s + n - b, s + n - a);
      else if (dt === st) dt.copyWithin(d + a, s + a, s + b);
      else for (let i = a; i < b; i++) dt[d + i] = st[s + i];
      return;
    }
    case K.TABLE_INIT: {
      const seg = inst.elems[code[pc + 1]!] ?? EMPTY_ELEMS;
      const t = inst.tables[code[pc + 2]!]!.elements;
      const d = u(3);
      const s = u(4);
      for (let i = a; i < b; i++) t[d + i] = seg[s + i];
      return;
    }
  }
}

/** A trap at (fn, pc): gives back the loop's fuel and adds the wasm stack. */
function trapAt(m: Machine, fuel: number, t: Trap, fn: number, pc: number, depth: number, entryDepth: number): Trap {
  settle(m, fuel);
  m.depth = depth;
  return withTrace(m, t, fn, pc, depth, entryDepth);
}

/** An exception from inside the engine (a bug, or the host out of memory) as a trap, so it stays contained. */
function internalError(e: unknown): Trap {
  const t = new Trap(`internal error: ${e instanceof Error ? e.message : String(e)}`);
  (t as { cause?: unknown }).cause = e;
  return t;
}

// ---------------------------------------------------------------------------
// Helpers kept out of the loop so that it stays small.

const TWO32 = 4294967296;

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * Math.floor and friends return a NaN argument unchanged, signalling bit
 * pattern included; wasm wants a quiet (arithmetic) NaN there.
 */
function quiet(x: number): number {
  return x === x ? x : NaN;
}

/** Round half to even, keeping the sign of zero. */
function nearest(x: number): number {
  if (x !== x || x === 0 || !Number.isFinite(x)) return x;
  const r = Math.round(x);
  const v = r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
  return v === 0 && x < 0 ? -0 : v;
}

function i64mul(S: Int32Array, d: number, a: number, b: number): void {
  const al = S[a]!, ah = S[a + 1]!, bl = S[b]!, bh = S[b + 1]!;
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const lo = a0 * b0 + (mid % 65536) * 65536;
  const hi = a1 * b1 + Math.floor(mid / 65536) + Math.floor(lo / TWO32) + Math.imul(ah, bl) + Math.imul(al, bh);
  S[d] = lo | 0;
  S[d + 1] = hi | 0;
}

// Quotient and remainder of the last divU64, as uint32 halves (module state: no allocation per division).
let QL = 0;
let QH = 0;
let RL = 0;
let RH = 0;

/**
 * Unsigned 64-bit division on uint32 halves (given as non-negative numbers),
 * divisor non-zero. Doubles are exact below 2^53; beyond that a divisor
 * below 2^32 is divided 16 bits at a time (partial remainders stay below
 * 2^48), and a larger one by shift and subtract (its quotient has at most
 * 32 bits).
 */
function divU64(nl: number, nh: number, dl: number, dh: number): void {
  if (nh < 0x200000 && dh < 0x200000) {
    const x = nh * TWO32 + nl;
    const y = dh * TWO32 + dl;
    let q = Math.floor(x / y);
    let r = x - q * y;
    // Guard against the quotient's rounding (exact below 2^53 in practice).
    if (r < 0) {
      q--;
      r += y;
    } else if (r >= y) {
      q++;
      r -= y;
    }
    QH = Math.floor(q / TWO32);
    QL = q - QH * TWO32;
    RH = Math.floor(r / TWO32);
    RL = r - RH * TWO32;
    return;
  }
  if (dh === 0) {
    let r = 0;
    let q3 = 0, q2 = 0, q1 = 0, q0 = 0;
    let t = r * 65536 + (nh >>> 16); q3 = Math.floor(t / dl); r = t - q3 * dl;
    t = r * 65536 + (nh & 0xffff); q2 = Math.floor(t / dl); r = t - q2 * dl;
    t = r * 65536 + (nl >>> 16); q1 = Math.floor(t / dl); r = t - q1 * dl;
    t = r * 65536 + (nl & 0xffff); q0 = Math.floor(t / dl); r = t - q0 * dl;
    QH = q3 * 65536 + q2;
    QL = q1 * 65536 + q0;
    RH = 0;
    RL = r;
    return;
  }
  // Align the divisor's top bit with the dividend's, then subtract down.
  const s = clz64(dl, dh) - clz64(nl, nh);
  if (s < 0) {
    QL = QH = 0;
    RL = nl;
    RH = nh;
    return;
  }
  let ml = dl, mh = dh;
  if (s >= 32) {
    mh = ml * 2 ** (s - 32);
    ml = 0;
  } else if (s > 0) {
    mh = ((mh << s) | (ml >>> (32 - s))) >>> 0;
    ml = (ml << s) >>> 0;
  }
  let q = 0;
  for (let i = 0; i <= s; i++) {
    q *= 2;
    if (nh > mh || (nh === mh && nl >= ml)) {
      const borrow = nl < ml ? 1 : 0;
      nl = nl - ml + borrow * TWO32;
      nh = nh - mh - borrow;
      q += 1;
    }
    ml = (ml >>> 1) + (mh % 2) * 0x80000000;
    mh = Math.floor(mh / 2);
  }
  QH = 0;
  QL = q;
  RH = nh;
  RL = nl;
}

function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** i64 division and remainder. Returns a trap message or null. */
function i64divrem(S: Int32Array, d: number, a: number, b: number, op: K): string | null {
  let bl = S[b]! >>> 0, bh = S[b + 1]! >>> 0;
  if (bl === 0 && bh === 0) return 'integer divide by zero';
  let al = S[a]! >>> 0, ah = S[a + 1]! >>> 0;
  const isDiv = op === K.I64_DIV_S || op === K.I64_DIV_U;
  let negQ = false;
  let negR = false;
  if (op === K.I64_DIV_S || op === K.I64_REM_S) {
    if (ah >= 0x80000000) {
      if (isDiv && ah === 0x80000000 && al === 0 && bl === 0xffffffff && bh === 0xffffffff) return 'integer overflow';
      negQ = negR = true;
      al = (-al) >>> 0;
      ah = (~ah + (al === 0 ? 1 : 0)) >>> 0;
    }
    if (bh >= 0x80000000) {
      negQ = !negQ;
      bl = (-bl) >>> 0;
      bh = (~bh + (bl === 0 ? 1 : 0)) >>> 0;
    }
  }
  divU64(al, ah, bl, bh);
  let lo = isDiv ? QL : RL;
  let hi = isDiv ? QH : RH;
  if (isDiv ? negQ : negR) {
    lo = (-lo) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  S[d] = lo | 0;
  S[d + 1] = hi | 0;
  return null;
}

function i64shift(S: Int32Array, d: number, a: number, b: number, op: K): void {
  const lo = S[a]!, hi = S[a + 1]!;
  let k = S[b]! & 63;
  if (op === K.I64_ROTL || op === K.I64_ROTR) {
    if (op === K.I64_ROTR) k = (64 - k) & 63;
    // rotl by k
    let l = lo, h = hi;
    if (k >= 32) {
      l = hi;
      h = lo;
      k -= 32;
    }
    if (k === 0) {
      S[d] = l;
      S[d + 1] = h;
    } else {
      S[d] = (l << k) | (h >>> (32 - k));
      S[d + 1] = (h << k) | (l >>> (32 - k));
    }
    return;
  }
  if (k === 0) {
    S[d] = lo;
    S[d + 1] = hi;
    return;
  }
  if (op === K.I64_SHL) {
    if (k < 32) {
      S[d + 1] = (hi << k) | (lo >>> (32 - k));
      S[d] = lo << k;
    } else {
      S[d + 1] = lo << (k - 32);
      S[d] = 0;
    }
  } else if (op === K.I64_SHR_U) {
    if (k < 32) {
      S[d] = (lo >>> k) | (hi << (32 - k));
      S[d + 1] = hi >>> k;
    } else {
      S[d] = hi >>> (k - 32);
      S[d + 1] = 0;
    }
  } else {
    if (k < 32) {
      S[d] = (lo >>> k) | (hi << (32 - k));
      S[d + 1] = hi >> k;
    } else {
      S[d] = hi >> (k - 32);
      S[d + 1] = hi >> 31;
    }
  }
}

/** Writes the integer `t` (|t| < 2^64, already truncated) as i64 words. */
function putI64(S: Int32Array, d: number, t: number): void {
  if (t >= 0) {
    const hi = Math.floor(t / TWO32);
    S[d] = (t - hi * TWO32) | 0;
    S[d + 1] = hi | 0;
  } else {
    const m = -t;
    const hi = Math.floor(m / TWO32);
    const lo = m - hi * TWO32;
    S[d] = -lo | 0;
    S[d + 1] = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
}

/** Float to i64 conversions, trapping and saturating. Returns a trap message or null. */
function truncToI64(S: Int32Array, d: number, x: number, signed: boolean, sat: boolean): string | null {
  if (x !== x) {
    if (!sat) return 'invalid conversion to integer';
    S[d] = 0;
    S[d + 1] = 0;
    return null;
  }
  if (signed) {
    if (!(x >= -9223372036854775808 && x < 9223372036854775808)) {
      if (!sat) return 'integer overflow';
      S[d] = x < 0 ? 0 : -1;
      S[d + 1] = x < 0 ? -0x80000000 : 0x7fffffff;
      return null;
    }
  } else if (!(x > -1 && x < 18446744073709551616)) {
    if (!sat) return 'integer overflow';
    S[d] = x < 0 ? 0 : -1;
    S[d + 1] = x < 0 ? 0 : -1;
    return null;
  }
  putI64(S, d, Math.trunc(x));
  return null;
}

function truncToI32(x: number, signed: boolean, sat: boolean): number | string {
  if (x !== x) return sat ? 0 : 'invalid conversion to integer';
  if (signed) {
    if (x > -2147483649 && x < 2147483648) return x | 0;
    if (!sat) return 'integer overflow';
    return x < 0 ? -2147483648 : 2147483647;
  }
  if (x > -1 && x < 4294967296) return (x >>> 0) | 0;
  if (!sat) return 'integer overflow';
  return x < 0 ? 0 : -1;
}

/** i64 (as words) to a double with one rounding; to f32 with round-to-odd first so the final rounding is the only one. */
function i64ToFloat(S: Int32Array, a: number, signed: boolean, toF32: boolean): number {
  let lo = S[a]!, hi = S[a + 1]!;
  let neg = false;
  if (signed && hi < 0) {
    neg = true;
    // two's complement negation
    lo = -lo | 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
  let loU = lo >>> 0;
  const hiU = hi >>> 0;
  if (toF32 && hiU >= 0x200000 && (loU & 0x7ff) !== 0) {
    // Beyond 53 bits: fold the bits a double would drop into a sticky bit (round to odd).
    loU = ((loU | 0x800) & ~0x7ff) >>> 0;
  }
  const v = hiU * TWO32 + loU;
  const r = toF32 ? Math.fround(v) : v;
  return neg ? -r : r;
}

function copysignHi(x: number, sgn: number): number {
  return (x & 0x7fffffff) | (sgn & 0x80000000);
}

/** Calls a function that is not this instance's own code: a host function or another instance's wasm function. */
function callOther(m: Machine, f: Func, base: number): RunResult {
  // While control is outside, this machine's live frames end at the call's
  // argument/result slots (m.top only covers the outermost frame): a call back
  // into this instance, from the host or through another instance, must put
  // its frame above them.
  const savedTop = m.top;
  m.top = base + 2 * Math.max(f.type.params.length, f.type.results.length);
  try {
    return callOut(m, f, base);
  } finally {
    m.top = savedTop;
  }
}

function callOut(m: Machine, f: Func, base: number): RunResult {
  const type = f.type;
  const fast = f.fast;
  if (fast !== null) return callFast(m, f, fast, base);
  if (f.host !== null) {
    const args: Value[] = new Array(type.params.length);
    try {
      for (let i = 0; i < args.length; i++) args[i] = readValue(type.params[i]!, m.S, base + 2 * i, m.inst);
      const results = f.host(args, m.inst);
      if (isPause(results)) {
        if (m.nest !== 1 || !m.suspendable) {
          return new Trap('host function paused outside a call that can wait (use Instance.call, with no host function on the stack)');
        }
        m.pending = { func: f, args, answer: results };
        return PAUSE;
      }
      checkResults(type, results);
      if (!m.ensureStack(base + 2 * results.length)) return new Exhaustion('call stack exhausted');
      for (let i = 0; i < results.length; i++) writeValue(results[i]!, m.S, base + 2 * i, m.inst);
    } catch (e) {
      return asTrap(e);
    }
    return null;
  }
  // Another instance's function. Numbers pass as raw words, so NaN payloads
  // survive; references are translated between the two instances' ids. The
  // caller's fuel pays for the callee.
  const other = f.inst!.machine as Machine;
  const n = Math.max(type.params.length, type.results.length);
  const ob = other.top;
  if (!other.ensureStack(ob + 2 * n)) return new Exhaustion('call stack exhausted');
  if (!passWords(m.inst, m.S, base, other.inst, other.S, ob, type.params)) return new Trap(BAD_REF);
  const reserve = other.reserve;
  const used = other.used;
  const overdraw = other.overdraw;
  other.reserve = m.reserve;
  other.overdraw = m.overdraw || m.suspendable;
  const t = other.call(f.index, ob);
  m.reserve = other.reserve;
  m.used += other.used - used;
  other.reserve = reserve;
  other.used = used;
  other.overdraw = overdraw;
  if (t !== null) return t;
  if (!m.ensureStack(base + 2 * type.results.length)) return new Exhaustion('call stack exhausted');
  if (!passWords(other.inst, other.S, ob, m.inst, m.S, base, type.results)) return new Trap(BAD_REF);
  return null;
}

/**
 * Calls a host function made by `Func.hostI32` with its i32 arguments as
 * numbers, read from the stack (no Value objects). Only an answer that is not
 * a plain result (a pause, or results as values) takes the general path.
 */
function callFast(m: Machine, f: Func, fast: I32HostFn, base: number): RunResult {
  const S = m.S;
  const n = f.type.params.length;
  let r: number | undefined | HostResult;
  try {
    switch (n) {
      case 0: r = fast(0, 0, 0, 0, 0, m.inst); break;
      case 1: r = fast(S[base]!, 0, 0, 0, 0, m.inst); break;
      case 2: r = fast(S[base]!, S[base + 2]!, 0, 0, 0, m.inst); break;
      case 3: r = fast(S[base]!, S[base + 2]!, S[base + 4]!, 0, 0, m.inst); break;
      case 4: r = fast(S[base]!, S[base + 2]!, S[base + 4]!, S[base + 6]!, 0, m.inst); break;
      default: r = fast(S[base]!, S[base + 2]!, S[base + 4]!, S[base + 6]!, S[base + 8]!, m.inst); break;
    }
  } catch (e) {
    return asTrap(e);
  }
  const one = f.type.results.length === 1;
  if (typeof r === 'number' && one) {
    if (!m.ensureStack(base + 2)) return new Exhaustion('call stack exhausted');
    m.S[base] = r;
    m.S[base + 1] = 0;
    return null;
  }
  if (r === undefined && !one) return null;
  const args: Value[] = new Array(n);
  for (let i = 0; i < n; i++) args[i] = { type: 'i32', value: S[base + 2 * i]! };
  const results: HostResult = typeof r === 'number' || r === undefined ? (r as unknown as Value[]) : r;
  try {
    if (isPause(results)) {
      if (m.nest !== 1 || !m.suspendable) {
        return new Trap('host function paused outside a call that can wait (use Instance.call, with no host function on the stack)');
      }
      m.pending = { func: f, args, answer: results };
      return PAUSE;
    }
    checkResults(f.type, results);
    if (!m.ensureStack(base + 2 * results.length)) return new Exhaustion('call stack exhausted');
    for (let i = 0; i < results.length; i++) writeValue(results[i]!, m.S, base + 2 * i, m.inst);
  } catch (e) {
    return asTrap(e);
  }
  return null;
}

/** Copies values of the given types between two instances' stacks; false when a reference id is invalid. */
function passWords(from: Inst, src: Int32Array, at: number, to: Inst, dst: Int32Array, into: number, types: readonly number[]): boolean {
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t === 0x70 || t === 0x6f) {
      const x = idToRef(from, src[at + 2 * i]!);
      if (x === undefined || (t === 0x70 && x !== null && !(x instanceof Func))) return false;
      dst[into + 2 * i] = refToId(to, x);
      dst[into + 2 * i + 1] = 0;
    } else {
      dst[into + 2 * i] = src[at + 2 * i]!;
      dst[into + 2 * i + 1] = src[at + 2 * i + 1]!;
    }
  }
  return true;
}

const EMPTY_MEM = { byteLength: 0, buffer: new ArrayBuffer(0), u8: new Uint8Array(0), dv: new DataView(new ArrayBuffer(0)) } as unknown as Memory;

/**
 * The loop. Runs function `fn` (already set up at `fp` with code `code`)
 * from `pc`, having `charge` to pay for the run there, until the frame depth
 * returns to `entryDepth`. Returns null, a Trap, or PAUSE.
 */
function run(m: Machine, fn: number, fp: number, code: Int32Array, pc: number, entryDepth: number, charge: number, inside: number): RunResult {
  const inst = m.inst;
  const nImp = inst.module.ast.numImportedFuncs;
  const lowered = inst.lowered;
  const G = inst.globalWords;
  const mem: Memory = inst.memories[0] ?? EMPTY_MEM;
  let S = m.S;
  let D = m.D;
  let F = m.F;
  let dv = mem.dv;
  let memLen = mem.byteLength;
  let depth = m.depth;
  const maxDepth = m.maxDepth;
  let msg = '';
  // The loop's share of fuel; the run at pc is paid for here.
  let fuel = take(m) - charge;
  if (inside >= 0) {
    // Resumed inside a grow or bulk instruction paid in parts, `inside` units paid: go on paying for it first.
    settle(m, fuel);
    msg = payInParts(m, code, pc, fp, sizeCost(m, S, code, pc, fp, true), inside);
    fuel = take(m);
    if (msg === PAUSED_INSIDE) return stop(m, fuel, fn, pc, fp, depth);
    dv = mem.dv;
    memLen = mem.byteLength;
    if (msg !== '') return trapAt(m, fuel, msg === OUT_OF_FUEL ? new Exhaustion(msg) : new Trap(msg), fn, pc, depth, entryDepth);
    pc += 1 + OPERANDS[code[pc]!]!;
  }

  for (;;) {
    // Reached at the start and when a branch or call left `fuel` negative:
    // take more from the machine, or stop before the run at pc.
    if (fuel < 0) {
      fuel = refuel(m, fuel, code, pc);
      if (fuel < 0) return outOfFuel(m, fn, pc, fp, depth, entryDepth);
    }
    exec: for (;;) {
      // Returns leave this block with `break ret` (to the frame pop below); traps leave
      // the switch with `break` and end here.
      ret: {
        switch (code[pc]) {
          case K.UNREACHABLE:
            msg = 'unreachable';
            break;
          // Branches pay for the run they start (see chargeRuns in lower.ts).
          case K.BR:
            fuel -= code[pc + 2]!;
            pc = code[pc + 1]!;
            if (fuel < 0) break exec;
            continue;
          case K.BR_IF:
            if (S[fp + code[pc + 1]!] !== 0) {
              fuel -= code[pc + 3]!;
              pc = code[pc + 2]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 4;
            continue;
          case K.BR_UNLESS:
            if (S[fp + code[pc + 1]!] === 0) {
              fuel -= code[pc + 3]!;
              pc = code[pc + 2]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 4;
            continue;
          case K.BR_TABLE: {
            const i = S[fp + code[pc + 1]!]! >>> 0;
            const n = code[pc + 2]!;
            const k = i < n ? i : n;
            fuel -= code[pc + 4 + n + k]!;
            pc = code[pc + 3 + k]!;
            if (fuel < 0) break exec;
            continue;
          }
          case K.RETURN0:
            break ret;
          case K.RETURN1: {
            const a = fp + code[pc + 1]!;
            S[fp] = S[a]!;
            S[fp + 1] = S[a + 1]!;
            break ret;
          }
          case K.RETURN_N: {
            const a = fp + code[pc + 1]!;
            const n = 2 * code[pc + 2]!;
            for (let i = 0; i < n; i++) S[fp + i] = S[a + i]!;
            break ret;
          }
          case K.CALL:
          case K.CALL_INDIRECT: {
            let callee: number;
            let base: number;
            let next: number;
            // A function that is not this instance's own code: a host function or another instance's.
            let other: Func | null = null;
            if (code[pc] === K.CALL) {
              callee = code[pc + 1]!;
              base = fp + code[pc + 2]!;
              next = pc + 3;
              if (callee < nImp) other = inst.funcs[callee]!;
            } else {
              const table = inst.tables[code[pc + 2]!]!;
              const i = S[fp + code[pc + 3]!]! >>> 0;
              base = fp + code[pc + 4]!;
              next = pc + 5;
              if (i >= table.elements.length) {
                msg = 'undefined element';
                break;
              }
              const f = table.elements[i] as Func | null;
              if (f === null) {
                msg = `uninitialized element ${i}`;
                break;
              }
              if (f.typeId !== inst.typeIds[code[pc + 1]!]) {
                msg = 'indirect call type mismatch';
                break;
              }
              callee = f.index;
              if (f.inst !== inst) other = f;
            }
            if (other !== null) {
              m.depth = depth;
              settle(m, fuel);
              const t = callOther(m, other, base);
              fuel = take(m);
              if (t !== null) {
                if (t instanceof Paused) return stop(m, fuel, fn, pc, fp, depth);
                return trapAt(m, fuel, t, fn, pc, depth, entryDepth);
              }
              // The callee may have grown this machine's stack or memory 0.
              S = m.S;
              D = m.D;
              F = m.F;
              dv = mem.dv;
              memLen = mem.byteLength;
              pc = next;
              continue;
            }
            const lw = lowered[callee - nImp] ?? m.lower(inst, callee);
            let fr = m.frames;
            if (3 * depth + 3 > fr.length || depth >= maxDepth) {
              if (!m.ensureFrames(depth)) {
                return trapAt(m, fuel, new Exhaustion('call stack exhausted'), fn, pc, depth, entryDepth);
              }
              fr = m.frames;
            }
            if (base + lw.frameWords > S.length) {
              if (!m.ensureStack(base + lw.frameWords)) {
                return trapAt(m, fuel, new Exhaustion('call stack exhausted'), fn, pc, depth, entryDepth);
              }
              S = m.S;
              D = m.D;
              F = m.F;
            }
            fr[3 * depth] = next;
            fr[3 * depth + 1] = fp;
            fr[3 * depth + 2] = fn;
            depth++;
            fp = base;
            fn = callee;
            code = lw.code;
            pc = 0;
            const init = lw.init;
            for (let i = 0, b = fp + 2 * lw.nparams; i < init.length; i++) S[b + i] = init[i]!;
            fuel -= lw.entry;
            if (fuel < 0) break exec;
            continue;
          }
          case K.RETURN_CALL:
          case K.RETURN_CALL_INDIRECT: {
            // The callee replaces this frame: its arguments move down to fp.
            let f: Func;
            let base: number;
            if (code[pc] === K.RETURN_CALL) {
              f = inst.funcs[code[pc + 1]!]!;
              base = fp + code[pc + 2]!;
            } else {
              const table = inst.tables[code[pc + 2]!]!;
              const i = S[fp + code[pc + 3]!]! >>> 0;
              base = fp + code[pc + 4]!;
              if (i >= table.elements.length) {
                msg = 'undefined element';
                break;
              }
              const g = table.elements[i] as Func | null;
              if (g === null) {
                msg = `uninitialized element ${i}`;
                break;
              }
              if (g.typeId !== inst.typeIds[code[pc + 1]!]) {
                msg = 'indirect call type mismatch';
                break;
              }
              f = g;
            }
            if (f.inst !== inst) {
              m.depth = depth;
              settle(m, fuel);
              const t = callOther(m, f, base);
              fuel = take(m);
              if (t !== null) {
                if (t instanceof Paused) return stop(m, fuel, fn, pc, fp, depth);
                return trapAt(m, fuel, t, fn, pc, depth, entryDepth);
              }
              S = m.S;
              D = m.D;
              F = m.F;
              dv = mem.dv;
              memLen = mem.byteLength;
              for (let i = 0, n = 2 * f.type.results.length; i < n; i++) S[fp + i] = S[base + i]!;
              break ret;
            }
            const lw = lowered[f.index - nImp] ?? m.lower(inst, f.index);
            for (let i = 0, n = 2 * lw.nparams; i < n; i++) S[fp + i] = S[base + i]!;
            if (fp + lw.frameWords > S.length) {
              if (!m.ensureStack(fp + lw.frameWords)) {
                return trapAt(m, fuel, new Exhaustion('call stack exhausted'), fn, pc, depth, entryDepth);
              }
              S = m.S;
              D = m.D;
              F = m.F;
            }
            fn = f.index;
            code = lw.code;
            pc = 0;
            const init = lw.init;
            for (let i = 0, b = fp + 2 * lw.nparams; i < init.length; i++) S[b + i] = init[i]!;
            fuel -= lw.entry;
            if (fuel < 0) break exec;
            continue;
          }
          case K.COPY: {
            const d = fp + code[pc + 1]!;
            const a = fp + code[pc + 2]!;
            S[d] = S[a]!;
            S[d + 1] = S[a + 1]!;
            pc += 3;
            continue;
          }
          case K.CONST32:
            S[fp + code[pc + 1]!] = code[pc + 2]!;
            pc += 3;
            continue;
          case K.CONST64: {
            const d = fp + code[pc + 1]!;
            S[d] = code[pc + 2]!;
            S[d + 1] = code[pc + 3]!;
            pc += 4;
            continue;
          }
          case K.SELECT: {
            const d = fp + code[pc + 1]!;
            const s = S[fp + code[pc + 4]!] !== 0 ? fp + code[pc + 2]! : fp + code[pc + 3]!;
            S[d] = S[s]!;
            S[d + 1] = S[s + 1]!;
            pc += 5;
            continue;
          }
          case K.GLOBAL_GET: {
            const d = fp + code[pc + 1]!;
            const g = code[pc + 2]!;
            S[d] = G[g]!;
            S[d + 1] = G[g + 1]!;
            pc += 3;
            continue;
          }
          case K.GLOBAL_SET: {
            const g = code[pc + 1]!;
            const a = fp + code[pc + 2]!;
            G[g] = S[a]!;
            G[g + 1] = S[a + 1]!;
            pc += 3;
            continue;
          }
          case K.GLOBAL_GET_EXT:
          case K.GLOBAL_SET_EXT:
            msg = globalExt(inst, S, code, pc, fp);
            if (msg !== '') break;
            pc += 3;
            continue;

          // Memory: `op d|v a k offset` accesses ((S[a] + k) mod 2^32) + offset. The effective
          // address is computed as a double, so adding the offset cannot wrap.
          case K.LOAD_32: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 4 > memLen) break;
            S[fp + code[pc + 1]!] = dv.getInt32(ea, true);
            pc += 5;
            continue;
          }
          case K.LOAD_64: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 8 > memLen) break;
            const d = fp + code[pc + 1]!;
            S[d] = dv.getInt32(ea, true);
            S[d + 1] = dv.getInt32(ea + 4, true);
            pc += 5;
            continue;
          }
          case K.LOAD_I32_8S: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 1 > memLen) break;
            S[fp + code[pc + 1]!] = dv.getInt8(ea);
            pc += 5;
            continue;
          }
          case K.LOAD_I32_8U: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 1 > memLen) break;
            S[fp + code[pc + 1]!] = dv.getUint8(ea);
            pc += 5;
            continue;
          }
          case K.LOAD_I32_16S: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 2 > memLen) break;
            S[fp + code[pc + 1]!] = dv.getInt16(ea, true);
            pc += 5;
            continue;
          }
          case K.LOAD_I32_16U: {
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 2 > memLen) break;
            S[fp + code[pc + 1]!] = dv.getUint16(ea, true);
            pc += 5;
            continue;
          }
          case K.LOAD_I64_8S:
          case K.LOAD_I64_8U:
          case K.LOAD_I64_16S:
          case K.LOAD_I64_16U:
          case K.LOAD_I64_32S:
          case K.LOAD_I64_32U: {
            const op = code[pc]!;
            const ea = ((S[fp + code[pc + 2]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            const w = op <= K.LOAD_I64_8U ? 1 : op <= K.LOAD_I64_16U ? 2 : 4;
            if (ea + w > memLen) break;
            let v: number;
            let h = 0;
            switch (op) {
              case K.LOAD_I64_8S: v = dv.getInt8(ea); h = v >> 31; break;
              case K.LOAD_I64_8U: v = dv.getUint8(ea); break;
              case K.LOAD_I64_16S: v = dv.getInt16(ea, true); h = v >> 31; break;
              case K.LOAD_I64_16U: v = dv.getUint16(ea, true); break;
              case K.LOAD_I64_32S: v = dv.getInt32(ea, true); h = v >> 31; break;
              default: v = dv.getInt32(ea, true); break;
            }
            const d = fp + code[pc + 1]!;
            S[d] = v;
            S[d + 1] = h;
            pc += 5;
            continue;
          }
          case K.STORE_32: {
            const ea = ((S[fp + code[pc + 1]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 4 > memLen) break;
            dv.setInt32(ea, S[fp + code[pc + 2]!]!, true);
            pc += 5;
            continue;
          }
          case K.STORE_64: {
            const ea = ((S[fp + code[pc + 1]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 8 > memLen) break;
            const v = fp + code[pc + 2]!;
            dv.setInt32(ea, S[v]!, true);
            dv.setInt32(ea + 4, S[v + 1]!, true);
            pc += 5;
            continue;
          }
          case K.STORE_8: {
            const ea = ((S[fp + code[pc + 1]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 1 > memLen) break;
            dv.setInt8(ea, S[fp + code[pc + 2]!]!);
            pc += 5;
            continue;
          }
          case K.STORE_16: {
            const ea = ((S[fp + code[pc + 1]!]! + code[pc + 3]!) >>> 0) + (code[pc + 4]! >>> 0);
            if (ea + 2 > memLen) break;
            dv.setInt16(ea, S[fp + code[pc + 2]!]!, true);
            pc += 5;
            continue;
          }
          case K.MEMORY_SIZE:
            S[fp + code[pc + 1]!] = memLen / 65536;
            pc += 2;
            continue;
          case K.MEMORY_GROW:
          case K.MEMORY_INIT:
          case K.MEMORY_COPY:
          case K.MEMORY_FILL:
          case K.DATA_DROP:
          case K.MEM_ACCESS_M:
          case K.MEMORY_SIZE_M:
          case K.MEMORY_GROW_M: {
            // Grows, bulk operations and memories other than 0: out of the loop. Size-dependent costs are paid
            // before the work; what the loop's share cannot pay is paid in parts (see payInParts).
            const c = sizeCost(m, S, code, pc, fp, false);
            if (c <= fuel) {
              fuel -= c;
              msg = memoryOp(m, code, pc, fp);
            } else {
              settle(m, fuel);
              msg = payInParts(m, code, pc, fp, c, 0);
              fuel = take(m);
              if (msg === PAUSED_INSIDE) return stop(m, fuel, fn, pc, fp, depth);
            }
            dv = mem.dv;
            memLen = mem.byteLength;
            if (msg !== '') break;
            pc += 1 + OPERANDS[code[pc]!]!;
            continue;
          }

          case K.TABLE_GET:
          case K.TABLE_SET:
          case K.TABLE_SIZE:
          case K.TABLE_GROW:
          case K.TABLE_FILL:
          case K.TABLE_COPY:
          case K.TABLE_INIT:
          case K.ELEM_DROP: {
            const c = sizeCost(m, S, code, pc, fp, false);
            if (c <= fuel) {
              fuel -= c;
              msg = tableOp(m, code, pc, fp);
            } else {
              settle(m, fuel);
              msg = payInParts(m, code, pc, fp, c, 0);
              fuel = take(m);
              if (msg === PAUSED_INSIDE) return stop(m, fuel, fn, pc, fp, depth);
            }
            if (msg !== '') break;
            pc += 1 + OPERANDS[code[pc]!]!;
            continue;
          }
          case K.REF_IS_NULL:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] === 0 ? 1 : 0;
            pc += 3;
            continue;
          case K.REF_FUNC:
            S[fp + code[pc + 1]!] = refToId(inst, inst.funcs[code[pc + 2]!]!);
            pc += 3;
            continue;

          // i32
          case K.I32_EQZ:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] === 0 ? 1 : 0;
            pc += 3;
            continue;
          case K.I32_EQ:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] === S[fp + code[pc + 3]!] ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_NE:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] !== S[fp + code[pc + 3]!] ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LT_S:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! < S[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LT_U:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 < S[fp + code[pc + 3]!]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GT_S:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! > S[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GT_U:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 > S[fp + code[pc + 3]!]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LE_S:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! <= S[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LE_U:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 <= S[fp + code[pc + 3]!]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GE_S:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >= S[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GE_U:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 >= S[fp + code[pc + 3]!]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_CLZ:
            S[fp + code[pc + 1]!] = Math.clz32(S[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.I32_CTZ:
            S[fp + code[pc + 1]!] = ctz32(S[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.I32_POPCNT:
            S[fp + code[pc + 1]!] = popcnt32(S[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.I32_ADD:
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! + S[fp + code[pc + 3]!]!) | 0;
            pc += 4;
            continue;
          case K.I32_SUB:
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! - S[fp + code[pc + 3]!]!) | 0;
            pc += 4;
            continue;
          case K.I32_MUL:
            S[fp + code[pc + 1]!] = Math.imul(S[fp + code[pc + 2]!]!, S[fp + code[pc + 3]!]!);
            pc += 4;
            continue;
          case K.I32_DIV_S: {
            const x = S[fp + code[pc + 2]!]!;
            const y = S[fp + code[pc + 3]!]!;
            if (y === 0) {
              msg = 'integer divide by zero';
              break;
            }
            if (x === -2147483648 && y === -1) {
              msg = 'integer overflow';
              break;
            }
            S[fp + code[pc + 1]!] = (x / y) | 0;
            pc += 4;
            continue;
          }
          case K.I32_DIV_U: {
            const y = S[fp + code[pc + 3]!]! >>> 0;
            if (y === 0) {
              msg = 'integer divide by zero';
              break;
            }
            S[fp + code[pc + 1]!] = ((S[fp + code[pc + 2]!]! >>> 0) / y) | 0;
            pc += 4;
            continue;
          }
          case K.I32_REM_S: {
            const y = S[fp + code[pc + 3]!]!;
            if (y === 0) {
              msg = 'integer divide by zero';
              break;
            }
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! % y | 0;
            pc += 4;
            continue;
          }
          case K.I32_REM_U: {
            const y = S[fp + code[pc + 3]!]! >>> 0;
            if (y === 0) {
              msg = 'integer divide by zero';
              break;
            }
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! >>> 0) % y | 0;
            pc += 4;
            continue;
          }
          case K.I32_AND:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! & S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_OR:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! | S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_XOR:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! ^ S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_SHL:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! << S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_SHR_S:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >> S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_SHR_U:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> S[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.I32_ROTL: {
            const x = S[fp + code[pc + 2]!]!;
            const k = S[fp + code[pc + 3]!]! & 31;
            S[fp + code[pc + 1]!] = (x << k) | (x >>> (32 - k));
            pc += 4;
            continue;
          }
          case K.I32_ROTR: {
            const x = S[fp + code[pc + 2]!]!;
            const k = S[fp + code[pc + 3]!]! & 31;
            S[fp + code[pc + 1]!] = (x >>> k) | (x << (32 - k));
            pc += 4;
            continue;
          }

          // i64 (two words: low at d, high at d+1)
          case K.I64_EQZ: {
            const a = fp + code[pc + 2]!;
            S[fp + code[pc + 1]!] = (S[a]! | S[a + 1]!) === 0 ? 1 : 0;
            pc += 3;
            continue;
          }
          case K.I64_EQ: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            S[fp + code[pc + 1]!] = S[a] === S[b] && S[a + 1] === S[b + 1] ? 1 : 0;
            pc += 4;
            continue;
          }
          case K.I64_NE: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            S[fp + code[pc + 1]!] = S[a] !== S[b] || S[a + 1] !== S[b + 1] ? 1 : 0;
            pc += 4;
            continue;
          }
          case K.I64_LT_S:
          case K.I64_LT_U:
          case K.I64_GT_S:
          case K.I64_GT_U:
          case K.I64_LE_S:
          case K.I64_LE_U:
          case K.I64_GE_S:
          case K.I64_GE_U: {
            const op = code[pc]!;
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const signed = op === K.I64_LT_S || op === K.I64_GT_S || op === K.I64_LE_S || op === K.I64_GE_S;
            const ah = signed ? S[a + 1]! : S[a + 1]! >>> 0;
            const bh = signed ? S[b + 1]! : S[b + 1]! >>> 0;
            // -1, 0, 1 as a compares to b
            const c = ah < bh ? -1 : ah > bh ? 1 : S[a]! >>> 0 < S[b]! >>> 0 ? -1 : S[a]! >>> 0 > S[b]! >>> 0 ? 1 : 0;
            let r: boolean;
            if (op === K.I64_LT_S || op === K.I64_LT_U) r = c < 0;
            else if (op === K.I64_GT_S || op === K.I64_GT_U) r = c > 0;
            else if (op === K.I64_LE_S || op === K.I64_LE_U) r = c <= 0;
            else r = c >= 0;
            S[fp + code[pc + 1]!] = r ? 1 : 0;
            pc += 4;
            continue;
          }
          case K.I64_CLZ: {
            const a = fp + code[pc + 2]!;
            const d = fp + code[pc + 1]!;
            const h = S[a + 1]!;
            S[d] = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(S[a]!);
            S[d + 1] = 0;
            pc += 3;
            continue;
          }
          case K.I64_CTZ: {
            const a = fp + code[pc + 2]!;
            const d = fp + code[pc + 1]!;
            const l = S[a]!;
            S[d] = l !== 0 ? ctz32(l) : 32 + ctz32(S[a + 1]!);
            S[d + 1] = 0;
            pc += 3;
            continue;
          }
          case K.I64_POPCNT: {
            const a = fp + code[pc + 2]!;
            const d = fp + code[pc + 1]!;
            S[d] = popcnt32(S[a]!) + popcnt32(S[a + 1]!);
            S[d + 1] = 0;
            pc += 3;
            continue;
          }
          case K.I64_ADD: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const d = fp + code[pc + 1]!;
            const al = S[a]!;
            const lo = (al + S[b]!) | 0;
            S[d + 1] = (S[a + 1]! + S[b + 1]! + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
            S[d] = lo;
            pc += 4;
            continue;
          }
          case K.I64_SUB: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const d = fp + code[pc + 1]!;
            const al = S[a]!;
            const bl = S[b]!;
            S[d + 1] = (S[a + 1]! - S[b + 1]! - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
            S[d] = (al - bl) | 0;
            pc += 4;
            continue;
          }
          case K.I64_MUL:
            i64mul(S, fp + code[pc + 1]!, fp + code[pc + 2]!, fp + code[pc + 3]!);
            pc += 4;
            continue;
          case K.I64_DIV_S:
          case K.I64_DIV_U:
          case K.I64_REM_S:
          case K.I64_REM_U: {
            const r = i64divrem(S, fp + code[pc + 1]!, fp + code[pc + 2]!, fp + code[pc + 3]!, code[pc]!);
            if (r !== null) {
              msg = r;
              break;
            }
            pc += 4;
            continue;
          }
          case K.I64_AND: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const d = fp + code[pc + 1]!;
            S[d] = S[a]! & S[b]!;
            S[d + 1] = S[a + 1]! & S[b + 1]!;
            pc += 4;
            continue;
          }
          case K.I64_OR: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const d = fp + code[pc + 1]!;
            S[d] = S[a]! | S[b]!;
            S[d + 1] = S[a + 1]! | S[b + 1]!;
            pc += 4;
            continue;
          }
          case K.I64_XOR: {
            const a = fp + code[pc + 2]!;
            const b = fp + code[pc + 3]!;
            const d = fp + code[pc + 1]!;
            S[d] = S[a]! ^ S[b]!;
            S[d + 1] = S[a + 1]! ^ S[b + 1]!;
            pc += 4;
            continue;
          }
          case K.I64_SHL:
          case K.I64_SHR_S:
          case K.I64_SHR_U:
          case K.I64_ROTL:
          case K.I64_ROTR:
            i64shift(S, fp + code[pc + 1]!, fp + code[pc + 2]!, fp + code[pc + 3]!, code[pc]!);
            pc += 4;
            continue;

          // f32 / f64 comparisons
          case K.F32_EQ:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!] === F[fp + code[pc + 3]!] ? 1 : 0;
            pc += 4;
            continue;
          case K.F32_NE:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!] !== F[fp + code[pc + 3]!] ? 1 : 0;
            pc += 4;
            continue;
          case K.F32_LT:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! < F[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F32_GT:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! > F[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F32_LE:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! <= F[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F32_GE:
            S[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! >= F[fp + code[pc + 3]!]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_EQ:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1] === D[(fp + code[pc + 3]!) >> 1] ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_NE:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1] !== D[(fp + code[pc + 3]!) >> 1] ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_LT:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1]! < D[(fp + code[pc + 3]!) >> 1]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_GT:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1]! > D[(fp + code[pc + 3]!) >> 1]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_LE:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1]! <= D[(fp + code[pc + 3]!) >> 1]! ? 1 : 0;
            pc += 4;
            continue;
          case K.F64_GE:
            S[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1]! >= D[(fp + code[pc + 3]!) >> 1]! ? 1 : 0;
            pc += 4;
            continue;

          // f32 arithmetic: a Float32Array store rounds the double result once, which is exact for + - * / sqrt.
          case K.F32_ABS:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! & 0x7fffffff;
            pc += 3;
            continue;
          case K.F32_NEG:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! ^ -0x80000000;
            pc += 3;
            continue;
          case K.F32_CEIL:
            F[fp + code[pc + 1]!] = Math.ceil(F[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.F32_FLOOR:
            F[fp + code[pc + 1]!] = Math.floor(F[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.F32_TRUNC:
            F[fp + code[pc + 1]!] = Math.trunc(F[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.F32_NEAREST:
            F[fp + code[pc + 1]!] = nearest(F[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.F32_SQRT:
            F[fp + code[pc + 1]!] = Math.sqrt(F[fp + code[pc + 2]!]!);
            pc += 3;
            continue;
          case K.F32_ADD:
            F[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! + F[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.F32_SUB:
            F[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! - F[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.F32_MUL:
            F[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! * F[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.F32_DIV:
            F[fp + code[pc + 1]!] = F[fp + code[pc + 2]!]! / F[fp + code[pc + 3]!]!;
            pc += 4;
            continue;
          case K.F32_MIN:
            F[fp + code[pc + 1]!] = Math.min(F[fp + code[pc + 2]!]!, F[fp + code[pc + 3]!]!);
            pc += 4;
            continue;
          case K.F32_MAX:
            F[fp + code[pc + 1]!] = Math.max(F[fp + code[pc + 2]!]!, F[fp + code[pc + 3]!]!);
            pc += 4;
            continue;
          case K.F32_COPYSIGN:
            S[fp + code[pc + 1]!] = copysignHi(S[fp + code[pc + 2]!]!, S[fp + code[pc + 3]!]!);
            pc += 4;
            continue;
          case K.F64_ABS: {
            const d = fp + code[pc + 1]!;
            const a = fp + code[pc + 2]!;
            S[d] = S[a]!;
            S[d + 1] = S[a + 1]! & 0x7fffffff;
            pc += 3;
            continue;
          }
          case K.F64_NEG: {
            const d = fp + code[pc + 1]!;
            const a = fp + code[pc + 2]!;
            S[d] = S[a]!;
            S[d + 1] = S[a + 1]! ^ -0x80000000;
            pc += 3;
            continue;
          }
          case K.F64_CEIL:
            D[(fp + code[pc + 1]!) >> 1] = quiet(Math.ceil(D[(fp + code[pc + 2]!) >> 1]!));
            pc += 3;
            continue;
          case K.F64_FLOOR:
            D[(fp + code[pc + 1]!) >> 1] = quiet(Math.floor(D[(fp + code[pc + 2]!) >> 1]!));
            pc += 3;
            continue;
          case K.F64_TRUNC:
            D[(fp + code[pc + 1]!) >> 1] = quiet(Math.trunc(D[(fp + code[pc + 2]!) >> 1]!));
            pc += 3;
            continue;
          case K.F64_NEAREST:
            D[(fp + code[pc + 1]!) >> 1] = quiet(nearest(D[(fp + code[pc + 2]!) >> 1]!));
            pc += 3;
            continue;
          case K.F64_SQRT:
            D[(fp + code[pc + 1]!) >> 1] = Math.sqrt(D[(fp + code[pc + 2]!) >> 1]!);
            pc += 3;
            continue;
          case K.F64_ADD:
            D[(fp + code[pc + 1]!) >> 1] = D[(fp + code[pc + 2]!) >> 1]! + D[(fp + code[pc + 3]!) >> 1]!;
            pc += 4;
            continue;
          case K.F64_SUB:
            D[(fp + code[pc + 1]!) >> 1] = D[(fp + code[pc + 2]!) >> 1]! - D[(fp + code[pc + 3]!) >> 1]!;
            pc += 4;
            continue;
          case K.F64_MUL:
            D[(fp + code[pc + 1]!) >> 1] = D[(fp + code[pc + 2]!) >> 1]! * D[(fp + code[pc + 3]!) >> 1]!;
            pc += 4;
            continue;
          case K.F64_DIV:
            D[(fp + code[pc + 1]!) >> 1] = D[(fp + code[pc + 2]!) >> 1]! / D[(fp + code[pc + 3]!) >> 1]!;
            pc += 4;
            continue;
          case K.F64_MIN:
            D[(fp + code[pc + 1]!) >> 1] = Math.min(D[(fp + code[pc + 2]!) >> 1]!, D[(fp + code[pc + 3]!) >> 1]!);
            pc += 4;
            continue;
          case K.F64_MAX:
            D[(fp + code[pc + 1]!) >> 1] = Math.max(D[(fp + code[pc + 2]!) >> 1]!, D[(fp + code[pc + 3]!) >> 1]!);
            pc += 4;
            continue;
          case K.F64_COPYSIGN: {
            const d = fp + code[pc + 1]!;
            const a = fp + code[pc + 2]!;
            const sgn = S[fp + code[pc + 3]! + 1]!;
            S[d] = S[a]!;
            S[d + 1] = copysignHi(S[a + 1]!, sgn);
            pc += 4;
            continue;
          }

          // Conversions
          case K.MOV32:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]!;
            pc += 3;
            continue;
          case K.I32_TRUNC_F32_S:
          case K.I32_TRUNC_F32_U:
          case K.I32_TRUNC_F64_S:
          case K.I32_TRUNC_F64_U:
          case K.I32_TRUNC_SAT_F32_S:
          case K.I32_TRUNC_SAT_F32_U:
          case K.I32_TRUNC_SAT_F64_S:
          case K.I32_TRUNC_SAT_F64_U: {
            const op = code[pc]!;
            const a = fp + code[pc + 2]!;
            const isF32 = op === K.I32_TRUNC_F32_S || op === K.I32_TRUNC_F32_U || op === K.I32_TRUNC_SAT_F32_S || op === K.I32_TRUNC_SAT_F32_U;
            const signed = op === K.I32_TRUNC_F32_S || op === K.I32_TRUNC_F64_S || op === K.I32_TRUNC_SAT_F32_S || op === K.I32_TRUNC_SAT_F64_S;
            const r = truncToI32(isF32 ? F[a]! : D[a >> 1]!, signed, op >= K.I32_TRUNC_SAT_F32_S);
            if (typeof r === 'string') {
              msg = r;
              break;
            }
            S[fp + code[pc + 1]!] = r;
            pc += 3;
            continue;
          }
          case K.I64_TRUNC_F32_S:
          case K.I64_TRUNC_F32_U:
          case K.I64_TRUNC_F64_S:
          case K.I64_TRUNC_F64_U:
          case K.I64_TRUNC_SAT_F32_S:
          case K.I64_TRUNC_SAT_F32_U:
          case K.I64_TRUNC_SAT_F64_S:
          case K.I64_TRUNC_SAT_F64_U: {
            const op = code[pc]!;
            const a = fp + code[pc + 2]!;
            const isF32 = op === K.I64_TRUNC_F32_S || op === K.I64_TRUNC_F32_U || op === K.I64_TRUNC_SAT_F32_S || op === K.I64_TRUNC_SAT_F32_U;
            const signed = op === K.I64_TRUNC_F32_S || op === K.I64_TRUNC_F64_S || op === K.I64_TRUNC_SAT_F32_S || op === K.I64_TRUNC_SAT_F64_S;
            const r = truncToI64(S, fp + code[pc + 1]!, isF32 ? F[a]! : D[a >> 1]!, signed, op >= K.I64_TRUNC_SAT_F32_S);
            if (r !== null) {
              msg = r;
              break;
            }
            pc += 3;
            continue;
          }
          case K.I64_EXTEND_I32_S: {
            const d = fp + code[pc + 1]!;
            const v = S[fp + code[pc + 2]!]!;
            S[d] = v;
            S[d + 1] = v >> 31;
            pc += 3;
            continue;
          }
          case K.I64_EXTEND_I32_U: {
            const d = fp + code[pc + 1]!;
            S[d] = S[fp + code[pc + 2]!]!;
            S[d + 1] = 0;
            pc += 3;
            continue;
          }
          case K.F32_CONVERT_I32_S:
            F[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]!;
            pc += 3;
            continue;
          case K.F32_CONVERT_I32_U:
            F[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0;
            pc += 3;
            continue;
          case K.F32_CONVERT_I64_S:
          case K.F32_CONVERT_I64_U:
            F[fp + code[pc + 1]!] = i64ToFloat(S, fp + code[pc + 2]!, code[pc] === K.F32_CONVERT_I64_S, true);
            pc += 3;
            continue;
          case K.F32_DEMOTE_F64:
            F[fp + code[pc + 1]!] = D[(fp + code[pc + 2]!) >> 1]!;
            pc += 3;
            continue;
          case K.F64_CONVERT_I32_S:
            D[(fp + code[pc + 1]!) >> 1] = S[fp + code[pc + 2]!]!;
            pc += 3;
            continue;
          case K.F64_CONVERT_I32_U:
            D[(fp + code[pc + 1]!) >> 1] = S[fp + code[pc + 2]!]! >>> 0;
            pc += 3;
            continue;
          case K.F64_CONVERT_I64_S:
          case K.F64_CONVERT_I64_U:
            D[(fp + code[pc + 1]!) >> 1] = i64ToFloat(S, fp + code[pc + 2]!, code[pc] === K.F64_CONVERT_I64_S, false);
            pc += 3;
            continue;
          case K.F64_PROMOTE_F32:
            D[(fp + code[pc + 1]!) >> 1] = F[fp + code[pc + 2]!]!;
            pc += 3;
            continue;
          case K.I32_EXTEND8_S:
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! << 24) >> 24;
            pc += 3;
            continue;
          case K.I32_EXTEND16_S:
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! << 16) >> 16;
            pc += 3;
            continue;
          case K.I64_EXTEND8_S:
          case K.I64_EXTEND16_S:
          case K.I64_EXTEND32_S: {
            const d = fp + code[pc + 1]!;
            const x = S[fp + code[pc + 2]!]!;
            const v = code[pc] === K.I64_EXTEND8_S ? (x << 24) >> 24 : code[pc] === K.I64_EXTEND16_S ? (x << 16) >> 16 : x;
            S[d] = v;
            S[d + 1] = v >> 31;
            pc += 3;
            continue;
          }

          // Superinstructions: i32 op with an immediate.
          case K.I32_ADD_I:
            S[fp + code[pc + 1]!] = (S[fp + code[pc + 2]!]! + code[pc + 3]!) | 0;
            pc += 4;
            continue;
          case K.I32_AND_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! & code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_OR_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! | code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_XOR_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! ^ code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_SHL_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! << code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_SHR_S_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >> code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_SHR_U_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> code[pc + 3]!;
            pc += 4;
            continue;
          case K.I32_MUL_I:
            S[fp + code[pc + 1]!] = Math.imul(S[fp + code[pc + 2]!]!, code[pc + 3]!);
            pc += 4;
            continue;
          case K.I32_EQ_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] === code[pc + 3] ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_NE_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!] !== code[pc + 3] ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LT_S_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! < code[pc + 3]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LT_U_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 < code[pc + 3]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GT_S_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! > code[pc + 3]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GT_U_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 > code[pc + 3]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LE_S_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! <= code[pc + 3]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_LE_U_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 <= code[pc + 3]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GE_S_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >= code[pc + 3]! ? 1 : 0;
            pc += 4;
            continue;
          case K.I32_GE_U_I:
            S[fp + code[pc + 1]!] = S[fp + code[pc + 2]!]! >>> 0 >= code[pc + 3]! >>> 0 ? 1 : 0;
            pc += 4;
            continue;

          // Superinstructions: compare two i32 and branch.
          case K.BR_IF_EQ:
            if (S[fp + code[pc + 1]!] === S[fp + code[pc + 2]!]) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_NE:
            if (S[fp + code[pc + 1]!] !== S[fp + code[pc + 2]!]) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LT_S:
            if (S[fp + code[pc + 1]!]! < S[fp + code[pc + 2]!]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LT_U:
            if (S[fp + code[pc + 1]!]! >>> 0 < S[fp + code[pc + 2]!]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GT_S:
            if (S[fp + code[pc + 1]!]! > S[fp + code[pc + 2]!]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GT_U:
            if (S[fp + code[pc + 1]!]! >>> 0 > S[fp + code[pc + 2]!]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LE_S:
            if (S[fp + code[pc + 1]!]! <= S[fp + code[pc + 2]!]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LE_U:
            if (S[fp + code[pc + 1]!]! >>> 0 <= S[fp + code[pc + 2]!]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GE_S:
            if (S[fp + code[pc + 1]!]! >= S[fp + code[pc + 2]!]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GE_U:
            if (S[fp + code[pc + 1]!]! >>> 0 >= S[fp + code[pc + 2]!]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_EQ_I:
            if (S[fp + code[pc + 1]!] === code[pc + 2]) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_NE_I:
            if (S[fp + code[pc + 1]!] !== code[pc + 2]) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LT_S_I:
            if (S[fp + code[pc + 1]!]! < code[pc + 2]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LT_U_I:
            if (S[fp + code[pc + 1]!]! >>> 0 < code[pc + 2]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GT_S_I:
            if (S[fp + code[pc + 1]!]! > code[pc + 2]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GT_U_I:
            if (S[fp + code[pc + 1]!]! >>> 0 > code[pc + 2]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LE_S_I:
            if (S[fp + code[pc + 1]!]! <= code[pc + 2]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_LE_U_I:
            if (S[fp + code[pc + 1]!]! >>> 0 <= code[pc + 2]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GE_S_I:
            if (S[fp + code[pc + 1]!]! >= code[pc + 2]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_GE_U_I:
            if (S[fp + code[pc + 1]!]! >>> 0 >= code[pc + 2]! >>> 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;

          case K.BR_IF_F64_EQ:
            if (D[(fp + code[pc + 1]!) >> 1]! === D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_F64_NE:
            if (D[(fp + code[pc + 1]!) >> 1]! !== D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_F64_LT:
            if (D[(fp + code[pc + 1]!) >> 1]! < D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_F64_GT:
            if (D[(fp + code[pc + 1]!) >> 1]! > D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_F64_LE:
            if (D[(fp + code[pc + 1]!) >> 1]! <= D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_F64_GE:
            if (D[(fp + code[pc + 1]!) >> 1]! >= D[(fp + code[pc + 2]!) >> 1]!) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_EQ:
            if (!(D[(fp + code[pc + 1]!) >> 1]! === D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_NE:
            if (!(D[(fp + code[pc + 1]!) >> 1]! !== D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_LT:
            if (!(D[(fp + code[pc + 1]!) >> 1]! < D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_GT:
            if (!(D[(fp + code[pc + 1]!) >> 1]! > D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_LE:
            if (!(D[(fp + code[pc + 1]!) >> 1]! <= D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IFNOT_F64_GE:
            if (!(D[(fp + code[pc + 1]!) >> 1]! >= D[(fp + code[pc + 2]!) >> 1]!)) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          case K.BR_IF_I64_EQZ: {
            const a = fp + code[pc + 1]!;
            if ((S[a]! | S[a + 1]!) === 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          }
          case K.BR_IF_I64_NEZ: {
            const a = fp + code[pc + 1]!;
            if ((S[a]! | S[a + 1]!) !== 0) {
              fuel -= code[pc + 4]!;
              pc = code[pc + 3]!;
              if (fuel < 0) break exec;
              continue;
            }
            pc += 5;
            continue;
          }

          default:
            msg = `internal error: bad opcode ${code[pc]} at ${pc}`;
            break;
        }
        // Only traps leave the switch with `break`.
        return trapAt(m, fuel, msg === OUT_OF_FUEL ? new Exhaustion(msg) : new Trap(msg === '' ? 'out of bounds memory access' : msg), fn, pc, depth, entryDepth);
      }
      // Return: the results are at fp; pop the caller's frame, or leave the loop at the entry frame.
      if (depth === entryDepth) {
        m.depth = depth;
        settle(m, fuel);
        return null;
      }
      depth--;
      pc = m.frames[3 * depth]!;
      fp = m.frames[3 * depth + 1]!;
      fn = m.frames[3 * depth + 2]!;
      code = lowered[fn - nImp]!.code;
    }
  }
}

function withTrace(m: Machine, t: Trap, fn: number, pc: number, depth: number, entryDepth: number): Trap {
  const frames = m.stackTrace(fn, pc, depth, entryDepth);
  t.setWasmStack(frames.concat(t.wasmStack), depth - entryDepth + 1 + t.wasmStack.length);
  return t;
}

/** Width in bytes, and flags, of each load and store by wasm opcode (for memories other than 0). */
const MEM_OPS = new Map<number, { width: number; store: boolean; signed: boolean; i64: boolean }>();
for (const o of OPS) {
  if (o === undefined || o.imm !== Imm.memarg) continue;
  const w = /(8|16|32)(_[su])?$/.exec(o.name);
  const store = o.name.includes('.store');
  const width = w !== null ? Number(w[1]) / 8 : o.name.startsWith('i64') || o.name.startsWith('f64') ? 8 : 4;
  MEM_OPS.set(o.id, { width, store, signed: o.name.endsWith('_s'), i64: o.name.startsWith('i64') });
}

/** Bulk memory operations, data.drop, and memory instructions on memories other than 0. Returns '' or a trap message. */
function memoryOp(m: Machine, code: Int32Array, pc: number, fp: number): string {
  const S = m.S;
  const inst = m.inst;
  const OOB = 'out of bounds memory access';
  switch (code[pc]) {
    case K.DATA_DROP:
      if (inst.datasShared) {
        inst.datas = inst.datas.slice();
        inst.datasShared = false;
      }
      inst.datas[code[pc + 1]!] = null;
      return '';
    case K.MEMORY_INIT: {
      const mem = inst.memories[code[pc + 5]!]!;
      const data = inst.datas[code[pc + 1]!] ?? EMPTY_BYTES;
      const d = S[fp + code[pc + 2]!]! >>> 0;
      const s = S[fp + code[pc + 3]!]! >>> 0;
      const n = S[fp + code[pc + 4]!]! >>> 0;
      if (s + n > data.length || d + n > mem.byteLength) return OOB;
      mem.u8.set(data.subarray(s, s + n), d);
      return '';
    }
    case K.MEMORY_COPY: {
      const dm = inst.memories[code[pc + 4]!]!;
      const sm = inst.memories[code[pc + 5]!]!;
      const d = S[fp + code[pc + 1]!]! >>> 0;
      const s = S[fp + code[pc + 2]!]! >>> 0;
      const n = S[fp + code[pc + 3]!]! >>> 0;
      if (s + n > sm.byteLength || d + n > dm.byteLength) return OOB;
      if (dm === sm) dm.u8.copyWithin(d, s, s + n);
      else dm.u8.set(sm.u8.subarray(s, s + n), d);
      return '';
    }
    case K.MEMORY_FILL: {
      const mem = inst.memories[code[pc + 4]!]!;
      const d = S[fp + code[pc + 1]!]! >>> 0;
      const v = S[fp + code[pc + 2]!]! & 0xff;
      const n = S[fp + code[pc + 3]!]! >>> 0;
      if (d + n > mem.byteLength) return OOB;
      mem.u8.fill(v, d, d + n);
      return '';
    }
    case K.MEMORY_SIZE_M:
      S[fp + code[pc + 1]!] = inst.memories[code[pc + 2]!]!.byteLength / 65536;
      return '';
    case K.MEMORY_GROW:
      S[fp + code[pc + 1]!] = inst.memories[0]!.grow(S[fp + code[pc + 2]!]! >>> 0);
      return '';
    case K.MEMORY_GROW_M:
      S[fp + code[pc + 1]!] = inst.memories[code[pc + 3]!]!.grow(S[fp + code[pc + 2]!]! >>> 0);
      return '';
    default: {
      // MEM_ACCESS_M wasmOp mem x y k offset
      const op = MEM_OPS.get(code[pc + 1]!)!;
      const mem = inst.memories[code[pc + 2]!]!;
      const x = fp + code[pc + 3]!;
      const y = fp + code[pc + 4]!;
      const ea = ((S[op.store ? x : y]! + code[pc + 5]!) >>> 0) + (code[pc + 6]! >>> 0);
      if (ea + op.width > mem.byteLength) return OOB;
      const dv = mem.dv;
      if (op.store) {
        const lo = S[y]!;
        if (op.width === 1) dv.setInt8(ea, lo);
        else if (op.width === 2) dv.setInt16(ea, lo, true);
        else {
          dv.setInt32(ea, lo, true);
          if (op.width === 8) dv.setInt32(ea + 4, S[y + 1]!, true);
        }
        return '';
      }
      let lo: number;
      let hi = 0;
      if (op.width === 1) lo = op.signed ? dv.getInt8(ea) : dv.getUint8(ea);
      else if (op.width === 2) lo = op.signed ? dv.getInt16(ea, true) : dv.getUint16(ea, true);
      else {
        lo = dv.getInt32(ea, true);
        if (op.width === 8) hi = dv.getInt32(ea + 4, true);
      }
      if (op.i64 && op.width < 8) hi = op.signed ? lo >> 31 : 0;
      S[x] = lo;
      S[x + 1] = hi;
      return '';
    }
  }
}

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_ELEMS: unknown[] = [];
/** Only a slot forged in an untrusted snapshot can hold an id that is no reference of the instance. */
const BAD_REF = 'invalid reference';

/** The reference a slot id names, checked against the table's element type; undefined when invalid. */
function elemRef(inst: Inst, t: Table, id: number): unknown {
  const x = idToRef(inst, id);
  if (x === undefined || (t.elemType === 0x70 && x !== null && !(x instanceof Func))) return undefined;
  return x;
}

/** global.get and global.set through the Global object: imported mutable globals, and globals of reference types. */
function globalExt(inst: Inst, S: Int32Array, code: Int32Array, pc: number, fp: number): string {
  if (code[pc] === K.GLOBAL_GET_EXT) {
    const d = fp + code[pc + 1]!;
    const g = inst.globals[code[pc + 2]!]!;
    if (g.isRef) {
      S[d] = refToId(inst, g.ref);
      S[d + 1] = 0;
    } else {
      S[d] = g.cell[g.idx]!;
      S[d + 1] = g.cell[g.idx + 1]!;
    }
    return '';
  }
  const g = inst.globals[code[pc + 1]!]!;
  const a = fp + code[pc + 2]!;
  if (g.isRef) {
    const x = idToRef(inst, S[a]!);
    if (x === undefined || (g.type === 0x70 && x !== null && !(x instanceof Func))) return BAD_REF;
    g.ref = x;
  } else {
    g.cell[g.idx] = S[a]!;
    g.cell[g.idx + 1] = S[a + 1]!;
  }
  return '';
}

/** Table instructions. Returns '' or a trap message. */
function tableOp(m: Machine, code: Int32Array, pc: number, fp: number): string {
  const S = m.S;
  const inst = m.inst;
  const OOB = 'out of bounds table access';
  switch (code[pc]) {
    case K.TABLE_GET: {
      const t = inst.tables[code[pc + 2]!]!;
      const i = S[fp + code[pc + 3]!]! >>> 0;
      if (i >= t.elements.length) return OOB;
      S[fp + code[pc + 1]!] = refToId(inst, t.elements[i]);
      return '';
    }
    case K.TABLE_SET: {
      const t = inst.tables[code[pc + 1]!]!;
      const i = S[fp + code[pc + 2]!]! >>> 0;
      if (i >= t.elements.length) return OOB;
      const v = elemRef(inst, t, S[fp + code[pc + 3]!]!);
      if (v === undefined) return BAD_REF;
      t.elements[i] = v;
      return '';
    }
    case K.TABLE_SIZE:
      S[fp + code[pc + 1]!] = inst.tables[code[pc + 2]!]!.elements.length;
      return '';
    case K.TABLE_GROW: {
      const t = inst.tables[code[pc + 2]!]!;
      const init = elemRef(inst, t, S[fp + code[pc + 3]!]!);
      if (init === undefined) return BAD_REF;
      S[fp + code[pc + 1]!] = t.grow(S[fp + code[pc + 4]!]! >>> 0, init);
      return '';
    }
    case K.TABLE_FILL: {
      const t = inst.tables[code[pc + 1]!]!;
      const i = S[fp + code[pc + 2]!]! >>> 0;
      const v = elemRef(inst, t, S[fp + code[pc + 3]!]!);
      if (v === undefined) return BAD_REF;
      const n = S[fp + code[pc + 4]!]! >>> 0;
      if (i + n > t.elements.length) return OOB;
      t.elements.fill(v, i, i + n);
      return '';
    }
    case K.TABLE_COPY: {
      const dt = inst.tables[code[pc + 1]!]!;
      const st = inst.tables[code[pc + 2]!]!;
      const d = S[fp + code[pc + 3]!]! >>> 0;
      const s = S[fp + code[pc + 4]!]! >>> 0;
      const n = S[fp + code[pc + 5]!]! >>> 0;
      if (s + n > st.elements.length || d + n > dt.elements.length) return OOB;
      if (dt === st) dt.elements.copyWithin(d, s, s + n);
      else for (let i = 0; i < n; i++) dt.elements[d + i] = st.elements[s + i];
      return '';
    }
    case K.TABLE_INIT: {
      const seg = inst.elems[code[pc + 1]!] ?? EMPTY_ELEMS;
      const t = inst.tables[code[pc + 2]!]!;
      const d = S[fp + code[pc + 3]!]! >>> 0;
      const s = S[fp + code[pc + 4]!]! >>> 0;
      const n = S[fp + code[pc + 5]!]! >>> 0;
      if (s + n > seg.length || d + n > t.elements.length) return OOB;
      for (let i = 0; i < n; i++) t.elements[d + i] = seg[s + i];
      return '';
    }
    default:
      inst.elems[code[pc + 1]!] = null;
      return '';
  }
}
