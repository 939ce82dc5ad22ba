/**
 * Lowering: a validated wasm function body to the interpreter's internal code.
 *
 * The wasm operand stack becomes numbered slots of the frame (the validator
 * guarantees every instruction's stack height is known), so each internal
 * instruction names where its operands are and where its result goes, and
 * branch targets and the moves a branch needs are resolved here, once.
 *
 * A virtual stack tracks what each stack entry holds without emitting code
 * for it yet: a value already in its own slot, a local (after local.get) or a
 * constant. Operands are then read straight from locals, constants become
 * immediates where an instruction form exists, and a result followed by
 * local.set is written straight into the local. Pending entries are written
 * to their slots ("materialized") before anything could change what they
 * stand for: a local.set of that local, entering a block, a call.
 */
import { CodeReader } from './reader.js';
import { BLOCK_EMPTY, Imm, Op, OPS, op } from './opcodes.js';
import { funcTypeOf, type ModuleAst, type ValidatedModule } from './types.js';
import { K } from './interp.js';
import { ENDS_RUN, ISA, forEachTarget, insnLength, isCondBranch, opcode } from './isa.js';
import type { Lowered } from './internal-code.js';
export type { Lowered } from './internal-code.js';


/**
 * Fuel is charged per run: the instructions from where control arrives (a
 * function's entry, a branch target) up to and including the next
 * unconditional branch, return or tail call, straight through conditional
 * branches that are not taken. Calls do not end a run: the callee charges
 * its own runs. So the loop pays for many instructions with one subtraction
 * and one check, at a taken branch or a call, and a branch not taken costs
 * nothing. A taken conditional branch leaves its run early: it pays for the
 * run at its target less the rest of its own run, which was paid for and
 * will not execute (a difference that may be negative). When a call ends,
 * the fuel it used is exactly the number of instructions it executed.
 *
 * Fills the cost words of every branch in `code` and returns the cost of the
 * run at pc 0. Layouts: `BR target cost`; conditional branches `... target
 * delta`; `BR_TABLE c n target*(n+1) cost*(n+1)`.
 */
function chargeRuns(code: Int32Array): number {
  // Instruction starts, then each one's run cost, from the end backwards.
  const starts: number[] = [];
  for (let pc = 0; pc < code.length; pc += insnLength(code, pc)) starts.push(pc);
  const cost = new Map<number, number>();
  let next = 0;
  for (let i = starts.length - 1; i >= 0; i--) {
    const pc = starts[i]!;
    next = ENDS_RUN[code[pc]!] === 1 ? 1 : next + 1;
    cost.set(pc, next);
  }
  const at = (pc: number): number => cost.get(pc) ?? 0;
  for (const pc of starts) {
    // A taken conditional branch pays the run at its target less the rest of its own run (the run after it).
    const rest = isCondBranch(code[pc]!) ? at(pc + insnLength(code, pc)) : 0;
    forEachTarget(code, pc, (target, fuel) => {
      code[fuel] = at(code[target]!) - rest;
    });
  }
  return at(0);
}

/** At most this many constants get slots of their own in a function's frame. */
const MAX_CONST_SLOTS = 64;

// Kinds of virtual stack entries.
const SLOT = 0;
const LOCAL = 1;
const C32 = 2;
const C64 = 3;

const enum Ctl {
  FUNC,
  BLOCK,
  LOOP,
  IF,
  ELSE,
}

interface Frame {
  kind: Ctl;
  /** Stack height at entry, below the block's parameters. */
  height: number;
  nparams: number;
  nresults: number;
  /** For loops: the pc of the loop's start. */
  loopPc: number;
  /** Code positions waiting for this block's end pc. */
  fixups: number[];
  /** For if: the position of the BR_UNLESS target to patch with the else pc. */
  elseFix: number;
}

/** wasm opcode -> internal opcode for instructions that map one to one (d a [b]). */
const SIMPLE = new Int16Array(0x400).fill(-1);
/** Internal binary i32 op -> its immediate form (the superinstructions of the table that fuse an op, and do not branch). */
const IMM_FORM = new Map<number, number>(ISA.filter((i) => i.of !== null && !i.branch).map((i) => [opcode(i.of!), i.op]));
const COMMUTATIVE = new Set<number>([K.I32_ADD, K.I32_AND, K.I32_OR, K.I32_XOR, K.I32_MUL, K.I32_EQ, K.I32_NE]);
/** Compare op (i32 register or immediate form, f64) -> [branch-if-true op, branch-if-false op]. */
const CMP_BRANCH = new Map<number, [number, number]>();
{
  const base = [K.I32_EQ, K.I32_NE, K.I32_LT_S, K.I32_LT_U, K.I32_GT_S, K.I32_GT_U, K.I32_LE_S, K.I32_LE_U, K.I32_GE_S, K.I32_GE_U];
  const baseI = [K.I32_EQ_I, K.I32_NE_I, K.I32_LT_S_I, K.I32_LT_U_I, K.I32_GT_S_I, K.I32_GT_U_I, K.I32_LE_S_I, K.I32_LE_U_I, K.I32_GE_S_I, K.I32_GE_U_I];
  const br = [K.BR_IF_EQ, K.BR_IF_NE, K.BR_IF_LT_S, K.BR_IF_LT_U, K.BR_IF_GT_S, K.BR_IF_GT_U, K.BR_IF_LE_S, K.BR_IF_LE_U, K.BR_IF_GE_S, K.BR_IF_GE_U];
  const brI = [K.BR_IF_EQ_I, K.BR_IF_NE_I, K.BR_IF_LT_S_I, K.BR_IF_LT_U_I, K.BR_IF_GT_S_I, K.BR_IF_GT_U_I, K.BR_IF_LE_S_I, K.BR_IF_LE_U_I, K.BR_IF_GE_S_I, K.BR_IF_GE_U_I];
  // Negation of each comparison: EQ<->NE, LT_S<->GE_S, LT_U<->GE_U, GT_S<->LE_S, GT_U<->LE_U
  const neg = [1, 0, 8, 9, 6, 7, 4, 5, 2, 3];
  const f64 = [K.F64_EQ, K.F64_NE, K.F64_LT, K.F64_GT, K.F64_LE, K.F64_GE];
  const f64br = [K.BR_IF_F64_EQ, K.BR_IF_F64_NE, K.BR_IF_F64_LT, K.BR_IF_F64_GT, K.BR_IF_F64_LE, K.BR_IF_F64_GE];
  const f64not = [K.BR_IFNOT_F64_EQ, K.BR_IFNOT_F64_NE, K.BR_IFNOT_F64_LT, K.BR_IFNOT_F64_GT, K.BR_IFNOT_F64_LE, K.BR_IFNOT_F64_GE];
  f64.forEach((k, i) => CMP_BRANCH.set(k, [f64br[i]!, f64not[i]!]));
  for (let i = 0; i < 10; i++) {
    CMP_BRANCH.set(base[i]!, [br[i]!, br[neg[i]!]!]);
    CMP_BRANCH.set(baseI[i]!, [brI[i]!, brI[neg[i]!]!]);
  }
}

// The wasm instructions each internal one implements one to one: the `wasm` column of the table in isa.ts.
for (const insn of ISA) for (const name of insn.wasm) SIMPLE[op(name)] = insn.op;

/** i32 ops that take a constant right operand as an immediate (a constant before them needs no slot). */
const IMM_NEXT = new Set(['i32.add', 'i32.sub', 'i32.and', 'i32.or', 'i32.xor', 'i32.shl', 'i32.shr_s', 'i32.shr_u', 'i32.mul',
  'i32.eq', 'i32.ne', 'i32.lt_s', 'i32.lt_u', 'i32.gt_s', 'i32.gt_u', 'i32.le_s', 'i32.le_u', 'i32.ge_s', 'i32.ge_u'].map(op));

/** Instructions that only change how bits are read: on the virtual stack they are no-ops. */
const REINTERPRET = new Set(['i32.wrap_i64', 'i32.reinterpret_f32', 'f32.reinterpret_i32', 'i64.reinterpret_f64', 'f64.reinterpret_i64'].map(op));

/** Lowers defined function `funcIdx` (in the function index space) of a validated module. */
export function lowerFunction(vm: ValidatedModule, funcIdx: number, mutableImportedGlobals: ReadonlySet<number>): Lowered {
  return new Lowerer(vm, funcIdx, mutableImportedGlobals).run();
}

class Lowerer {
  private readonly ast: ModuleAst;
  private readonly r: CodeReader;
  private readonly code: number[] = [];
  private readonly kind: number[] = [];
  private readonly val: number[] = [];
  private readonly val2: number[] = [];
  private h = 0;
  /** Slots before the operand stack: parameters, declared locals, then constant slots. */
  private readonly L: number;
  private readonly nlocals: number;
  /** Constant -> its slot, for constants kept in the frame (key: low word, high word). */
  private readonly constSlots = new Map<string, number>();
  private readonly constWords: number[] = [];
  private readonly nparams: number;
  private readonly nresults: number;
  private readonly maxStack: number;
  private readonly ctrl: Frame[] = [];
  /** Every entry below this height is in its own slot (so materializing can start here). */
  private lazyFrom = 0;
  /**
   * For each local, heights where an entry standing for it was pushed (some
   * may since have been popped or materialized: checked when used). With
   * `lazyFrom`, this keeps the lowering linear on adversarial code: no scan
   * of the whole stack per block entry or per local.set.
   */
  private readonly refsTo: (number[] | undefined)[] = [];
  /** Position in `code` of the result operand of the last instruction, while its result is still the top entry and nothing was emitted since. */
  private lastDst = -1;
  private lastDstH = -1;
  /** Start of that instruction. */
  private lastInsn = -1;

  constructor(
    vm: ValidatedModule,
    funcIdx: number,
    private readonly extGlobals: ReadonlySet<number>,
  ) {
    const ast = vm.ast;
    this.ast = ast;
    const def = funcIdx - ast.numImportedFuncs;
    const body = ast.codes[def]!;
    const type = funcTypeOf(ast, funcIdx);
    this.nparams = type.params.length;
    this.nresults = type.results.length;
    this.nlocals = this.nparams + body.localCount;
    this.maxStack = vm.funcInfo[def]!.maxStack;
    this.r = new CodeReader(ast.bytes, body.start, body.end);
    // The body is validated: reading memory indices as u32s is right for every encoding it can hold.
    this.r.multiMemory = true;
    this.collectConstants(body.start, body.end);
    this.L = this.nlocals + this.constWords.length / 2;
  }

  /**
   * In a function with a loop, constants are read many times per call:
   * give each (up to MAX_CONST_SLOTS) a slot after the locals, written once
   * at entry, so instructions read them like locals instead of each use
   * costing a CONST instruction. An i32 constant that an immediate form
   * will absorb (it is followed by an op that has one) gets no slot.
   */
  private collectConstants(start: number, end: number): void {
    const r = new CodeReader(this.ast.bytes, start, end);
    r.multiMemory = true;
    const found: [string, number, number][] = [];
    let loop = false;
    let pending: [string, number, number] | null = null;
    while (r.pos < r.end) {
      const id = r.next().id;
      if (pending !== null) {
        if (!(pending[2] === 0 && IMM_NEXT.has(id))) found.push(pending);
        pending = null;
      }
      if (id === Op.loop) loop = true;
      else if (id === Op.i32_const || id === Op.f32_const) pending = [`${r.a},0`, r.a, 0];
      else if (id === Op.i64_const || id === Op.f64_const) found.push([`${r.lo},${r.hi}`, r.lo, r.hi]);
    }
    if (!loop) return;
    for (const [key, lo, hi] of found) {
      if (this.constSlots.has(key)) continue;
      if (this.constSlots.size >= MAX_CONST_SLOTS) break;
      this.constSlots.set(key, this.nlocals + this.constSlots.size);
      this.constWords.push(lo, hi);
    }
  }

  run(): Lowered {
    const r = this.r;
    this.ctrl.push({ kind: Ctl.FUNC, height: 0, nparams: 0, nresults: this.nresults, loopPc: -1, fixups: [], elseFix: -1 });
    let dead = false;
    let deadDepth = 0;
    while (this.ctrl.length > 0) {
      const info = r.next();
      const id = info.id;
      if (dead) {
        if (id === Op.block || id === Op.loop || id === Op.if) deadDepth++;
        else if (id === Op.end) {
          if (deadDepth > 0) deadDepth--;
          else {
            this.end(false);
            dead = false;
          }
        } else if (id === Op.else && deadDepth === 0) {
          this.else(false);
          dead = false;
        }
        continue;
      }
      dead = this.instr(id);
    }
    const code = Int32Array.from(this.code);
    const init = new Int32Array(2 * (this.L - this.nparams));
    // Entering also writes `init` into the frame: 1 unit per 16 words, so a
    // function with 50,000 locals cannot make each call cost one unit while
    // the host clears 100,000 words (small frames pay nothing more).
    const entry = chargeRuns(code) + (init.length >>> 4);
    init.set(this.constWords, 2 * (this.nlocals - this.nparams));
    return {
      code,
      entry,
      nparams: this.nparams,
      nlocals: this.nlocals,
      nresults: this.nresults,
      init,
      frameWords: 2 * (this.L + this.maxStack + 2),
      // Present from the start, so that every Lowered has one shape (one map in V8) whichever tier ran it:
      // the compiled tier reads them at each call.
      compiled: undefined,
      heat: 0,
    };
  }

  // ---- emission -----------------------------------------------------------

  private emit(...words: number[]): number {
    const at = this.code.length;
    for (const w of words) this.code.push(w);
    this.lastDst = -1;
    return at;
  }

  /** Emits an instruction whose operand 1 is its result slot (the new top entry). */
  private emitResult(...words: number[]): void {
    const at = this.emit(...words);
    this.lastInsn = at;
    this.lastDst = at + 1;
    this.lastDstH = this.h - 1;
  }

  private slot(i: number): number {
    return 2 * (this.L + i);
  }

  private push(kind: number, v = 0, v2 = 0): void {
    const h = this.h++;
    this.kind[h] = kind;
    this.val[h] = v;
    this.val2[h] = v2;
    if (kind !== SLOT && h < this.lazyFrom) this.lazyFrom = h;
    if (kind === LOCAL) (this.refsTo[v] ??= []).push(h);
  }

  /** Writes entry i's value into word `dst` without changing the virtual stack. */
  private moveTo(dst: number, i: number): void {
    switch (this.kind[i]) {
      case LOCAL:
        if (dst !== 2 * this.val[i]!) this.emit(K.COPY, dst, 2 * this.val[i]!);
        break;
      case C32:
        this.emit(K.CONST32, dst, this.val[i]!);
        break;
      case C64:
        this.emit(K.CONST64, dst, this.val[i]!, this.val2[i]!);
        break;
      default:
        if (dst !== this.slot(i)) this.emit(K.COPY, dst, this.slot(i));
    }
  }

  private materialize(i: number): void {
    if (this.kind[i] !== SLOT) {
      this.moveTo(this.slot(i), i);
      this.kind[i] = SLOT;
    }
  }

  private materializeFrom(from: number): void {
    for (let i = Math.max(from, this.lazyFrom); i < this.h; i++) this.materialize(i);
    if (from <= this.lazyFrom) this.lazyFrom = this.h;
  }

  /** Where to read entry i: a local's slot, a constant's slot, or its own slot (other constants are written there first). */
  private src(i: number): number {
    const k = this.kind[i];
    if (k === LOCAL) return 2 * this.val[i]!;
    if (k !== SLOT) {
      const c = this.constSlots.get(`${this.val[i]!},${k === C64 ? this.val2[i]! : 0}`);
      if (c !== undefined) return 2 * c;
      this.materialize(i);
    }
    return this.slot(i);
  }

  private top(): Frame {
    return this.ctrl[this.ctrl.length - 1]!;
  }

  private blockArity(bt: number): [number, number] {
    if (bt === BLOCK_EMPTY) return [0, 0];
    if (bt < 0) return [0, 1];
    const t = this.ast.types[bt]!;
    return [t.params.length, t.results.length];
  }

  // ---- branches -----------------------------------------------------------

  private arity(f: Frame): number {
    return f.kind === Ctl.LOOP ? f.nparams : f.nresults;
  }

  /** Whether branching to f needs moves (its values are not already where f wants them). */
  private needsMoves(f: Frame): boolean {
    const n = this.arity(f);
    for (let i = 0; i < n; i++) {
      const e = this.h - n + i;
      if (this.kind[e] !== SLOT || e !== f.height + i) return true;
    }
    return false;
  }

  private emitMoves(f: Frame): void {
    const n = this.arity(f);
    for (let i = 0; i < n; i++) {
      const e = this.h - n + i;
      if (this.kind[e] !== SLOT || e !== f.height + i) this.moveTo(this.slot(f.height + i), e);
    }
  }

  /** Emits a jump word for frame f: the loop start, or a fixup patched at f's end. `at` is where the target word goes. */
  private target(f: Frame, at: number): void {
    if (f.kind === Ctl.LOOP) this.code[at] = f.loopPc;
    else f.fixups.push(at);
  }

  /** Unconditional branch to label depth l (with its moves), or a return for the function's label. */
  private branch(l: number): void {
    const f = this.ctrl[this.ctrl.length - 1 - l]!;
    if (f.kind === Ctl.FUNC) {
      this.ret();
      return;
    }
    this.emitMoves(f);
    const at = this.emit(K.BR, 0, 0);
    this.target(f, at + 1);
  }

  private ret(): void {
    const n = this.nresults;
    if (n === 0) this.emit(K.RETURN0);
    else if (n === 1) {
      const s = this.src(this.h - 1);
      this.emit(K.RETURN1, s);
    } else {
      this.materializeFrom(this.h - n);
      this.emit(K.RETURN_N, this.slot(this.h - n), n);
    }
  }

  private brIf(l: number): void {
    const f = this.ctrl[this.ctrl.length - 1 - l]!;
    const condAt = this.h - 1;
    this.h--;
    const direct = f.kind !== Ctl.FUNC && !this.needsMoves(f);
    // Fuse a just-computed i32 comparison into the branch.
    if (direct && this.lastDst >= 0 && this.lastDstH === condAt) {
      const fused = this.fuseCompare(true);
      if (fused >= 0) {
        this.target(f, fused);
        return;
      }
    }
    const c = this.src(condAt);
    if (direct) {
      const at = this.emit(K.BR_IF, c, 0, 0);
      this.target(f, at + 2);
      return;
    }
    // The moves happen only on the taken path, so first put the carried
    // values in their own slots on both paths; the moves then change nothing
    // in the virtual stack.
    this.materializeFrom(this.h - this.arity(f));
    const skip = this.emit(K.BR_UNLESS, c, 0, 0);
    this.branch(l);
    this.code[skip + 2] = this.code.length;
  }

  /**
   * If the last instruction is an i32 comparison (or eqz) producing the top
   * entry, replaces it with a compare-and-branch (branch when the comparison
   * is `when`) and returns the position of its target word; else -1.
   */
  private fuseCompare(when: boolean): number {
    const at = this.lastInsn;
    const k = this.code[at]!;
    let a: number, b: number, br: number;
    if (k === K.I32_EQZ) {
      a = this.code[at + 2]!;
      b = 0;
      br = when ? K.BR_IF_EQ_I : K.BR_IF_NE_I;
    } else if (k === K.I64_EQZ) {
      a = this.code[at + 2]!;
      b = 0;
      br = when ? K.BR_IF_I64_EQZ : K.BR_IF_I64_NEZ;
    } else {
      const pair = CMP_BRANCH.get(k);
      if (pair === undefined) return -1;
      a = this.code[at + 2]!;
      b = this.code[at + 3]!;
      br = when ? pair[0] : pair[1];
    }
    this.code.length = at;
    this.emit(br, a, b, 0, 0);
    return at + 3;
  }

  private brTable(): void {
    const r = this.r;
    const labels = [...r.targets, r.a];
    const c = this.src(this.h - 1);
    this.h--;
    // Stubs run on one path each: make every entry a slot first, so no stub changes the virtual stack.
    this.materializeFrom(this.top().height);
    // Pushed word by word: an argument spread of a guest-sized list overflows V8's argument limit (65,000 targets threw a RangeError).
    const at = this.emit(K.BR_TABLE, c, labels.length - 1);
    for (let i = 0; i < 2 * labels.length; i++) this.code.push(0);
    const stubs = new Map<number, number[]>();
    labels.forEach((l, i) => {
      const f = this.ctrl[this.ctrl.length - 1 - l]!;
      if (f.kind !== Ctl.FUNC && !this.needsMoves(f)) this.target(f, at + 3 + i);
      else {
        const list = stubs.get(l) ?? [];
        list.push(at + 3 + i);
        stubs.set(l, list);
      }
    });
    for (const [l, positions] of stubs) {
      const pc = this.code.length;
      for (const p of positions) this.code[p] = pc;
      this.branch(l);
    }
  }

  // ---- blocks -------------------------------------------------------------

  private enter(kind: Ctl, bt: number): Frame {
    const [np, nr] = this.blockArity(bt);
    this.materializeFrom(this.top().height);
    const f: Frame = { kind, height: this.h - np, nparams: np, nresults: nr, loopPc: -1, fixups: [], elseFix: -1 };
    this.ctrl.push(f);
    this.lastDst = -1;
    return f;
  }

  private else(reachable: boolean): void {
    const f = this.top();
    if (reachable) {
      this.materializeFrom(f.height);
      const at = this.emit(K.BR, 0, 0);
      f.fixups.push(at + 1);
    }
    this.code[f.elseFix] = this.code.length;
    f.elseFix = -1;
    f.kind = Ctl.ELSE;
    this.h = f.height + f.nparams;
    for (let i = f.height; i < this.h; i++) this.kind[i] = SLOT;
    this.lastDst = -1;
  }

  private end(reachable: boolean): void {
    const f = this.ctrl.pop()!;
    if (f.kind === Ctl.FUNC) {
      if (reachable) this.ret();
      return;
    }
    if (reachable) this.materializeFrom(f.height);
    const pc = this.code.length;
    if (f.elseFix >= 0) this.code[f.elseFix] = pc;
    for (const p of f.fixups) this.code[p] = pc;
    this.h = f.height + f.nresults;
    for (let i = f.height; i < this.h; i++) this.kind[i] = SLOT;
    this.lastDst = -1;
  }

  // ---- locals -------------------------------------------------------------

  private localSet(x: number, tee: boolean): void {
    const t = this.h - 1;
    if (this.kind[t] === LOCAL && this.val[t] === x) {
      if (!tee) this.h--;
      return;
    }
    // Entries below the top that still stand for local x must keep its old value.
    const list = this.refsTo[x];
    const isRef = (i: number) => i < t && this.kind[i] === LOCAL && this.val[i] === x;
    const refs = list !== undefined && list.some(isRef);
    if (!refs && this.kind[t] === SLOT && this.lastDst >= 0 && this.lastDstH === t) {
      this.code[this.lastDst] = 2 * x;
      this.lastDst = -1;
    } else {
      if (refs) for (const i of list!) if (isRef(i)) this.materialize(i);
      this.moveTo(2 * x, t);
    }
    // No entry below the top stands for x now (and the top is consumed).
    if (list !== undefined) list.length = 0;
    this.h--;
    if (tee) this.push(LOCAL, x);
  }

  // ---- the instruction switch ---------------------------------------------

  /** Lowers one reachable instruction; returns true when the code after it is unreachable. */
  private instr(id: number): boolean {
    const r = this.r;
    switch (id) {
      case Op.unreachable:
        this.emit(K.UNREACHABLE);
        return true;
      case Op.nop:
        return false;
      case Op.block:
        this.enter(Ctl.BLOCK, r.a);
        return false;
      case Op.loop:
        this.enter(Ctl.LOOP, r.a).loopPc = this.code.length;
        return false;
      case Op.if: {
        const bt = r.a;
        const condAt = this.h - 1;
        const canFuse = this.lastDst >= 0 && this.lastDstH === condAt;
        // Entries below the condition go to their slots first (as at any block entry).
        const from = this.top().height;
        for (let i = Math.max(from, this.lazyFrom); i < condAt; i++) this.materialize(i);
        if (from <= this.lazyFrom) this.lazyFrom = condAt;
        // A comparison right before `if` becomes a compare-and-branch to the else part,
        // unless materializing emitted code after it.
        let fixAt = canFuse && this.lastDst >= 0 ? this.fuseCompare(false) : -1;
        if (fixAt < 0) fixAt = this.emit(K.BR_UNLESS, this.src(condAt), 0, 0) + 2;
        this.h--;
        const f = this.enter(Ctl.IF, bt);
        f.elseFix = fixAt;
        return false;
      }
      case Op.else:
        this.else(true);
        return false;
      case Op.end:
        this.end(true);
        return false;
      case Op.br:
        this.branch(r.a);
        return true;
      case Op.br_if:
        this.brIf(r.a);
        return false;
      case Op.br_table:
        this.brTable();
        return true;
      case Op.return:
        this.ret();
        return true;
      case Op.call: {
        const t = funcTypeOf(this.ast, r.a);
        const np = t.params.length;
        this.materializeFrom(this.h - np);
        this.emit(K.CALL, r.a, this.slot(this.h - np));
        this.h -= np;
        for (let i = 0; i < t.results.length; i++) this.push(SLOT);
        return false;
      }
      case Op.call_indirect: {
        const t = this.ast.types[r.a]!;
        const np = t.params.length;
        const c = this.src(this.h - 1);
        this.h--;
        this.materializeFrom(this.h - np);
        this.emit(K.CALL_INDIRECT, r.a, r.b, c, this.slot(this.h - np));
        this.h -= np;
        for (let i = 0; i < t.results.length; i++) this.push(SLOT);
        return false;
      }
      case Op.return_call: {
        const np = funcTypeOf(this.ast, r.a).params.length;
        this.materializeFrom(this.h - np);
        this.emit(K.RETURN_CALL, r.a, this.slot(this.h - np));
        return true;
      }
      case Op.return_call_indirect: {
        const np = this.ast.types[r.a]!.params.length;
        const c = this.src(this.h - 1);
        this.h--;
        this.materializeFrom(this.h - np);
        this.emit(K.RETURN_CALL_INDIRECT, r.a, r.b, c, this.slot(this.h - np));
        return true;
      }
      case Op.drop:
        // The dropped entry may be the last instruction's result: then a later
        // entry at the same height is not it (no fusing with a stale result).
        if (this.lastDstH === this.h - 1) this.lastDst = -1;
        this.h--;
        return false;
      case Op.select:
      case Op.select_t: {
        const c = this.src(this.h - 1);
        const b = this.src(this.h - 2);
        const a = this.src(this.h - 3);
        this.h -= 3;
        this.push(SLOT);
        this.emitResult(K.SELECT, this.slot(this.h - 1), a, b, c);
        return false;
      }
      case Op.local_get:
        this.push(LOCAL, r.a);
        return false;
      case Op.local_set:
        this.localSet(r.a, false);
        return false;
      case Op.local_tee:
        this.localSet(r.a, true);
        return false;
      case Op.global_get:
        this.push(SLOT);
        if (this.extGlobals.has(r.a)) this.emitResult(K.GLOBAL_GET_EXT, this.slot(this.h - 1), r.a);
        else this.emitResult(K.GLOBAL_GET, this.slot(this.h - 1), 2 * r.a);
        return false;
      case Op.global_set: {
        const a = this.src(this.h - 1);
        this.h--;
        if (this.extGlobals.has(r.a)) this.emit(K.GLOBAL_SET_EXT, r.a, a);
        else this.emit(K.GLOBAL_SET, 2 * r.a, a);
        return false;
      }
      case Op.table_get: {
        const i = this.src(this.h - 1);
        this.h--;
        this.push(SLOT);
        this.emitResult(K.TABLE_GET, this.slot(this.h - 1), r.a, i);
        return false;
      }
      case Op.table_set: {
        const v = this.src(this.h - 1);
        const i = this.src(this.h - 2);
        this.h -= 2;
        this.emit(K.TABLE_SET, r.a, i, v);
        return false;
      }
      case Op.memory_size:
        this.push(SLOT);
        if (r.a === 0) this.emitResult(K.MEMORY_SIZE, this.slot(this.h - 1));
        else this.emitResult(K.MEMORY_SIZE_M, this.slot(this.h - 1), r.a);
        return false;
      case Op.memory_grow: {
        const a = this.src(this.h - 1);
        this.h--;
        this.push(SLOT);
        if (r.a === 0) this.emitResult(K.MEMORY_GROW, this.slot(this.h - 1), a);
        else this.emitResult(K.MEMORY_GROW_M, this.slot(this.h - 1), a, r.a);
        return false;
      }
      case Op.i32_const:
      case Op.f32_const:
        this.push(C32, r.a);
        return false;
      case Op.i64_const:
        this.push(C64, r.lo, r.hi);
        return false;
      case Op.f64_const:
        this.push(C64, r.lo, r.hi);
        return false;
      case Op.ref_null:
        this.push(C32, 0);
        return false;
      case Op.ref_func:
        this.push(SLOT);
        this.emitResult(K.REF_FUNC, this.slot(this.h - 1), r.a);
        return false;
      case Op.memory_init: {
        const [d, s, n] = this.pop3();
        this.emit(K.MEMORY_INIT, r.a, d, s, n, r.b);
        return false;
      }
      case Op.data_drop:
        this.emit(K.DATA_DROP, r.a);
        return false;
      case Op.memory_copy: {
        const [d, s, n] = this.pop3();
        this.emit(K.MEMORY_COPY, d, s, n, r.a, r.b);
        return false;
      }
      case Op.memory_fill: {
        const [d, v, n] = this.pop3();
        this.emit(K.MEMORY_FILL, d, v, n, r.a);
        return false;
      }
      case Op.table_init: {
        const [d, s, n] = this.pop3();
        this.emit(K.TABLE_INIT, r.a, r.b, d, s, n);
        return false;
      }
      case Op.elem_drop:
        this.emit(K.ELEM_DROP, r.a);
        return false;
      case Op.table_copy: {
        const [d, s, n] = this.pop3();
        this.emit(K.TABLE_COPY, r.a, r.b, d, s, n);
        return false;
      }
      case Op.table_grow: {
        const n = this.src(this.h - 1);
        const init = this.src(this.h - 2);
        this.h -= 2;
        this.push(SLOT);
        this.emitResult(K.TABLE_GROW, this.slot(this.h - 1), r.a, init, n);
        return false;
      }
      case Op.table_size:
        this.push(SLOT);
        this.emitResult(K.TABLE_SIZE, this.slot(this.h - 1), r.a);
        return false;
      case Op.table_fill: {
        const [i, v, n] = this.pop3();
        this.emit(K.TABLE_FILL, r.a, i, v, n);
        return false;
      }
      default:
        this.simple(id);
        return false;
    }
  }

  /** Whether entry i was just computed by an I32_ADD_I that nothing has followed yet. */
  private addrAdd(i: number): boolean {
    return this.lastDst >= 0 && this.lastDstH === i && this.code[this.lastInsn] === K.I32_ADD_I;
  }

  private pop3(): [number, number, number] {
    const z = this.src(this.h - 1);
    const y = this.src(this.h - 2);
    const x = this.src(this.h - 3);
    this.h -= 3;
    return [x, y, z];
  }

  /** Instructions with a fixed type that map to one internal instruction. */
  private simple(id: number): void {
    const info = OPS[id]!;
    if (REINTERPRET.has(id)) return;
    const k = SIMPLE[id]!;
    if (k < 0) throw new Error(`lowering: no internal form for ${info.name}`);
    const r = this.r;
    // Memory access: `op d|v a k offset` addresses ((a + k) mod 2^32) + offset; an
    // `i32.add imm` that just computed the address is folded in as k.
    if (r.c !== 0 && info.imm === Imm.memarg) {
      // A memory other than 0 (multi-memory): one generic instruction, out of the fast paths.
      if (ISA[k]!.store) {
        const v = this.src(this.h - 1);
        const a = this.src(this.h - 2);
        this.h -= 2;
        this.emit(K.MEM_ACCESS_M, id, r.c, a, v, 0, r.b);
      } else {
        const a = this.src(this.h - 1);
        this.h--;
        this.push(SLOT);
        this.emitResult(K.MEM_ACCESS_M, id, r.c, this.slot(this.h - 1), a, 0, r.b);
        this.lastDst = -1; // its result operand is not operand 1
      }
      return;
    }
    if (ISA[k]!.load) {
      let a: number;
      let add = 0;
      if (this.addrAdd(this.h - 1)) {
        a = this.code[this.lastInsn + 2]!;
        add = this.code[this.lastInsn + 3]!;
        this.code.length = this.lastInsn;
      } else a = this.src(this.h - 1);
      this.h--;
      this.push(SLOT);
      this.emitResult(k, this.slot(this.h - 1), a, add, r.b);
      return;
    }
    if (ISA[k]!.store) {
      let a = -1;
      let add = 0;
      // Only when the value is not in a slot: then no instruction came between the add and here.
      if (this.kind[this.h - 1] !== SLOT && this.addrAdd(this.h - 2)) {
        a = this.code[this.lastInsn + 2]!;
        add = this.code[this.lastInsn + 3]!;
        this.code.length = this.lastInsn;
        this.lastDst = -1;
      }
      const v = this.src(this.h - 1);
      if (a < 0) a = this.src(this.h - 2);
      this.h -= 2;
      this.emit(k, a, v, add, r.b);
      return;
    }
    if (k === K.REF_IS_NULL || info.pops!.length === 1) {
      const a = this.src(this.h - 1);
      this.h--;
      this.push(SLOT);
      this.emitResult(k, this.slot(this.h - 1), a);
      return;
    }
    // Binary. An i32 constant operand becomes an immediate where a form exists.
    const immK = IMM_FORM.get(k);
    const tb = this.h - 1;
    const ta = this.h - 2;
    if (immK !== undefined || k === K.I32_SUB) {
      let imm: number | undefined;
      let x = -1;
      const kk = immK ?? K.I32_ADD_I;
      if (this.kind[tb] === C32) {
        imm = k === K.I32_SUB ? -this.val[tb]! | 0 : this.val[tb]!;
        x = ta;
      } else if (this.kind[ta] === C32 && COMMUTATIVE.has(k)) {
        imm = this.val[ta]!;
        x = tb;
      }
      if (imm !== undefined) {
        if (kk === K.I32_SHL_I || kk === K.I32_SHR_S_I || kk === K.I32_SHR_U_I) imm &= 31;
        const a = this.src(x);
        this.h -= 2;
        this.push(SLOT);
        this.emitResult(kk, this.slot(this.h - 1), a, imm);
        return;
      }
    }
    const b = this.src(tb);
    const a = this.src(ta);
    this.h -= 2;
    this.push(SLOT);
    this.emitResult(k, this.slot(this.h - 1), a, b);
  }
}
