/**
 * The compiled tier's code generator: one lowered function (the
 * interpreter's internal code, see interp.ts) to one JavaScript function,
 * which V8 then optimizes on its own.
 *
 * The frame stays where the interpreter keeps it, with one difference:
 * the function's locals and most of its operand slots live in JS variables
 * (the words of an i32, i64, f32 or reference value as int32 variables, an
 * f64 as a double, an f32 used mostly as an f32 as a number, a NaN's bits
 * kept in S: see ySlots), which are written back to the frame's slots in S
 * (those the code writes: the others hold what S holds) wherever the frame ends or stops (a return, a trap, a pause, a call that
 * goes on from the explicit frames, before a helper that reads the frame).
 * Operand slots are read from S at each entry (S may hold words the
 * interpreter would leave there, dead ones, which a write-back must not
 * change) and, from a call's base up, written before the call and read after
 * it (the callee's words land there). The types of the instructions'
 * destinations (the ISA table) tell how each operand slot is written:
 * mostly with integers, it is int32 variables; mostly with f64s, a double;
 * read and written mostly as f32s (in the innermost loops), an f32 number;
 * else it stays in S. Constant slots (written at entry, never changed) are read as literals.
 * So the words a compiled frame leaves in S are exactly the interpreter's,
 * live or dead, and snapshots are the same bytes. What it saves over the
 * interpreter: the dispatch on each opcode, the reads of the operands from
 * the code array (each becomes a constant in the source), and most loads
 * and stores of the frame's slots; i64 shifts, and division where the
 * operands allow, are inline.
 *
 * Shape of the generated function `(m, fp, depth, fuel, entry, jsLeft) => number`:
 * the straight-line code of each block (a block starts at pc 0, at every
 * branch target and after every call) in pc order, inside the constructs of
 * structure.ts: a branch back is `continue` of a labelled loop, a branch
 * forward `break` of a labelled block, so V8 sees the function's loops as
 * loops. Every sequence of blocks and constructs opens with a dispatch on
 * `rb`, the block to resume at (0 on the way in), so a frame can still be
 * entered at any block. Where the flow cannot be nested (irreducible, or
 * nested too deep: MAX_NEST), the other shape: a loop over a `switch` on
 * the current block, each case a block, falling through into the next (a
 * block that branches to its own start is wrapped in a loop of its own).
 * `entry` 0 enters at the start of the function (writes its declared locals
 * and constant slots, pays for its first run); entry k > 0 enters at block k
 * (its run already paid for: a resume). Fuel is paid as in the interpreter:
 * a taken branch subtracts the cost its operand holds; when the local went
 * below zero, the frame refuels before the target block (the structured
 * shape leaves its body for that, and resumes at the target), so `fuelUsed`
 * is the interpreter's exactly.
 *
 * Returns the fuel left (>= 0) when the function returned (its results at
 * fp), or -1 when it stopped: `m.uw` says why (UW_PAUSE: the machine is
 * paused at the innermost frame; UW_TRAP: `m.uwTrap` at `m.uwFn`/`m.uwPc`;
 * UW_DEEP: the call at `m.uwPc` in `m.uwFn` is to run from the explicit
 * frames), and each compiled caller on the way out writes its locals and
 * its frame record, so that the machine holds the frames the interpreter
 * would have. `jsLeft` is the JS stack the chain of compiled frames may still
 * take (see JS_STACK_BUDGET).
 */
import { K, insnLength, RUNTIME, type Machine } from '../interp.js';
import { ISA, forEachTarget } from '../isa.js';
import { JS_STACK_BUDGET, UW_AGAIN, UW_DEEP, UW_PAUSE, UW_TRAP, type Lowered } from '../internal-code.js';
import { blocksOf, structure, type Item } from './structure.js';
export { JS_STACK_BUDGET };

/** A compiled function (see the header). */
export type CompiledFn = (m: Machine, fp: number, depth: number, fuel: number, entry: number, jsLeft: number) => number;

/** What a compiled function carries beside its code (read by the loop, `entries`, and by its compiled callers). */
interface CompiledInfo {
  /** The block at each pc where a block starts (0 elsewhere): where a resume enters. */
  entries: Int32Array;
  /** Its entry words that SKIP_INIT may skip: [initLo, initHi) of its frame, and whether it may. */
  initLo: number;
  initHi: number;
  initSafe: boolean;
}

/** What the generator needs to know of the module beyond the code. */
export interface CompileContext {
  /** Index of the function in the function index space. */
  readonly fn: number;
  /** The generated code's shape: 'structured' (the default, where the flow allows it: see structure.ts) or 'switch' (a loop over a switch on the block). */
  readonly shape?: 'structured' | 'switch';
  /** Number of imported functions (callees below it are imports). */
  readonly numImportedFuncs: number;
  /** Value types of the function's locals, parameters first (ValType codes). */
  readonly localTypes: readonly number[];
}

/** The f64 and f32 value type codes. */
const F64 = 0x7c;
const F32 = 0x7d;

/** The result of compiling: the function, or why the function stays interpreted. */
export type CompileResult = { ok: true; fn: CompiledFn; source: string } | { ok: false; reason: string };

/** Functions with more words of lowered code stay interpreted. */
export const MAX_CODE_WORDS = 60_000;

/**
 * The `entry` of a call whose callee's words written at entry (its declared locals' zeros and constant slots) are
 * still in place, from the call just before at the same place (see K.CALL): the callee skips writing them.
 */
export const SKIP_INIT = 0x40000000;

/** Functions whose structured shape would nest deeper than this (labelled blocks and loops) get the switch shape. */
export const MAX_NEST = 1000;

/** Functions with more locals keep them in the frame (S), not in JS variables. */
export const MAX_VAR_LOCALS = 300;

/** Functions whose locals and operand slots in variables would be more keep their operand slots in S. */
export const MAX_VARS = 400;

/** A generous estimate of the JS stack a compiled function's frame takes, in bytes, by its number of variables. */
export function jsFrameBytes(vars: number): number {
  return 512 + 24 * vars;
}

/** Instruction starts of `code`, in order. */
function starts(code: Int32Array): number[] {
  const out: number[] = [];
  for (let pc = 0; pc < code.length; pc += insnLength(code, pc)) out.push(pc);
  return out;
}

const OOB = 'out of bounds memory access';

/**
 * The halves of an i64 shift or rotation of (lo, hi), as expressions: by the
 * constant `k` (0-63), or by a variable `k` known to be 1-31 (k = -1) or
 * 32-63 (k = -2) (not for rotations).
 */
function shift64(op: number, lo: string, hi: string, k: number): [string, string] {
  const n = k === -1 ? 'k' : k === -2 ? '(k - 32)' : String(k);
  const m = k === -1 ? '(32 - k)' : String(32 - k);
  if (k === 0) return [lo, hi];
  const small = k === -1 || (k > 0 && k < 32);
  switch (op) {
    case K.I64_SHL:
      return small ? [`${lo} << ${n}`, `(${hi} << ${n}) | (${lo} >>> ${m})`] : ['0', `${lo} << ${k === -2 ? n : k - 32}`];
    case K.I64_SHR_U:
      return small ? [`(${lo} >>> ${n}) | (${hi} << ${m})`, `${hi} >>> ${n}`] : [`${hi} >>> ${k === -2 ? n : k - 32}`, '0'];
    case K.I64_SHR_S:
      return small ? [`(${lo} >>> ${n}) | (${hi} << ${m})`, `${hi} >> ${n}`] : [`${hi} >> ${k === -2 ? n : k - 32}`, `${hi} >> 31`];
    case K.I64_ROTL:
    case K.I64_ROTR: {
      // A constant rotation: rotl by r.
      let r = op === K.I64_ROTR ? (64 - k) & 63 : k;
      let l = lo;
      let h = hi;
      if (r >= 32) {
        l = hi;
        h = lo;
        r -= 32;
      }
      return r === 0 ? [l, h] : [`(${l} << ${r}) | (${h} >>> ${32 - r})`, `(${h} << ${r}) | (${l} >>> ${32 - r})`];
    }
    default:
      throw new Error(`shift64: opcode ${op}`);
  }
}

/**
 * Statements that compute an i64 product's halves into `lo` and `hi`: `a`
 * and `b` are the operands' (low, high) words as int32 expressions (read
 * once each), `bk` the words of `b` when it is a constant (then its limbs
 * are literals and the terms it zeroes are left out), `square` when both
 * operands are the same slot.
 *
 * The low word is Math.imul's. The high word is the high half of the
 * unsigned 32x32 product of the low words plus the two cross terms (mod
 * 2^32, so Math.imul). That high half H, when the product P may pass 2^53:
 * the double p = fl(al * bl) is within 2^10 of P (P < 2^64), fl(p - lo) within
 * 2^11 of P - lo = H * 2^32 exactly, so (p - lo) / 2^32 is within 2^-21 of
 * the integer H and `+ 0.5` then truncation (ToInt32, exact below 2^63, wrapping
 * H into the int32 it is as a word) gives H. A constant low word below 2^21
 * keeps P below 2^53: H is P / 2^32 truncated.
 */
export function mul64(a: [string, string], b: [string, string], bk: [number, number] | null, square: boolean): string {
  const out = [`const al = ${a[0]}; const ah = ${a[1]};`];
  if (bk === null) {
    out.push(`const bl = ${b[0]}; const bh = ${b[1]}; const lo = Math.imul(al, bl);`);
    const cross = square ? '(Math.imul(al, ah) << 1)' : 'Math.imul(ah, bl) + Math.imul(al, bh)';
    out.push(`const hi = ((((al >>> 0) * (bl >>> 0) - (lo >>> 0)) / 4294967296 + 0.5) | 0) + ${cross};`);
    return out.join(' ');
  }
  const [kl, kh] = bk;
  const klu = kl >>> 0;
  const terms: string[] = [];
  if (klu === 0) out.push(`const lo = 0;`);
  else if (klu === 1) out.push(`const lo = al;`);
  else {
    out.push(`const lo = Math.imul(al, ${kl});`);
    terms.push(klu < 0x200000 ? `(((al >>> 0) * ${klu} / 4294967296) | 0)` : `((((al >>> 0) * ${klu} - (lo >>> 0)) / 4294967296 + 0.5) | 0)`);
  }
  if (klu === 1) terms.push('ah');
  else if (klu !== 0) terms.push(`Math.imul(ah, ${kl})`);
  if (kh === 1) terms.push('al');
  else if (kh !== 0) terms.push(`Math.imul(al, ${kh})`);
  out.push(`const hi = ${terms.length === 0 ? '0' : terms.join(' + ')};`);
  return out.join(' ');
}

/**
 * Statements that divide the unsigned 64-bit (nh, nl) by `dl`, a non-zero
 * divisor below 2^32: `al` is nl as an int32, nh and nl uint32 expressions,
 * dl a uint32 variable or literal. The quotient's estimate multiplies by
 * 1 / dl: `inv` is its literal when dl is a constant, else `cache` names
 * the variables (`${cache}d`, `${cache}i`) that keep the last divisor and
 * its reciprocal (a divisor is mostly the same from one run of the division
 * to the next, as a modulus in a loop: a multiply instead of a division,
 * measured 20% off millerrabin). Declares `r` (the remainder) and, with
 * `quotient`, `q` and `qh` (the quotient's words, as non-negative numbers).
 *
 * The high word first, in uint32 arithmetic: qh = nh / dl, h = nh % dl.
 * Then V = h * 2^32 + nl, whose quotient is below 2^32: the double x = fl(V)
 * is within V * 2^-53 < dl * 2^-21 of V, so x * fl(1 / dl) is within
 * 2^-19 of V / dl and its floor q is the quotient or one off either way. The
 * remainder V - q * dl is then in [-dl, 2 * dl): its low 32 bits exactly
 * by int32 arithmetic (nl - q * dl mod 2^32), its multiple of 2^32 from the
 * double estimate x - q * dl (within 2^12 of it); one step puts it in [0, dl).
 */
export function divU64Small(al: string, nh: string, nl: string, dl: string, inv: string | { cache: string }, quotient: boolean): string {
  const out: string[] = [];
  if (quotient) out.push(`let h = ${nh}; let qh = 0; if (h >= ${dl}) { qh = (h / ${dl}) >>> 0; h -= qh * ${dl}; }`);
  else out.push(`let h = ${nh}; if (h >= ${dl}) h = h % ${dl};`);
  let rcp = inv;
  if (typeof inv !== 'string') {
    out.push(`if (${dl} !== ${inv.cache}d) { ${inv.cache}d = ${dl}; ${inv.cache}i = 1 / ${dl}; }`);
    rcp = `${inv.cache}i`;
  }
  out.push(`const x = h * 4294967296 + ${nl}; let q = Math.floor(x * ${rcp as string});`);
  out.push(`let r = (${al} - Math.imul(q, ${dl})) >>> 0; const e = x - q * ${dl} - r;`);
  out.push(`if (e < -2147483648) r -= 4294967296; else if (e > 2147483648) r += 4294967296;`);
  out.push(quotient ? `if (r < 0) { r += ${dl}; q--; } else if (r >= ${dl}) { r -= ${dl}; q++; }` : `if (r < 0) r += ${dl}; else if (r >= ${dl}) r -= ${dl};`);
  return out.join(' ');
}

/**
 * Compiles lowered function `lw`. Functions with instructions this version
 * does not compile (tail calls) are left to the interpreter.
 */
export function compileFunction(lw: Lowered, ctx: CompileContext): CompileResult {
  const code = lw.code;
  // V8 compiles large functions slowly or not at all (and its optimizing compiler has limits): those stay interpreted.
  if (code.length > MAX_CODE_WORDS) return { ok: false, reason: `${code.length} words of code (at most ${MAX_CODE_WORDS} are compiled)` };
  const pcs = starts(code);
  for (const pc of pcs) {
    const op = code[pc]!;
    const insn = ISA[op];
    if (insn === undefined) return { ok: false, reason: `bad opcode ${op} at ${pc}` };
    if (insn.call && insn.returns) return { ok: false, reason: 'tail call' };
  }
  // Blocks: pc 0, branch targets, and the instruction after each call (where a resume after a host call enters).
  const blockAt = new Map<number, number>();
  const blockPcs: number[] = [-1];
  const addBlock = (pc: number): void => {
    if (!blockAt.has(pc) && pc < code.length) {
      blockAt.set(pc, 0);
    }
  };
  addBlock(0);
  for (const pc of pcs) {
    forEachTarget(code, pc, (at) => addBlock(code[at]!));
    if (ISA[code[pc]!]!.call) addBlock(pc + insnLength(code, pc));
  }
  for (const pc of pcs) {
    if (blockAt.has(pc)) {
      blockAt.set(pc, blockPcs.length);
      blockPcs.push(pc);
    }
  }
  const blk = (pc: number): number => {
    const b = blockAt.get(pc);
    if (b === undefined) throw new Error(`compile: branch to ${pc}, not a block`);
    return b;
  };

  const FN = ctx.fn;
  const nImp = ctx.numImportedFuncs;
  // Locals live in JS variables: the words of an i32, i64, f32 or reference local in `w<word>` (int32, as
  // in S, both words, so that what is written back is what the interpreter would have in S), an f64 local
  // in `x<local>` (a double: its bits are kept, as in a Float64Array).
  // Operand slots too, those the function writes mostly as integers or mostly as f64s (moves of any value
  // neutral), by the types of the instructions' destinations: `w<word>` or `x<slot>`. They are written back wherever the
  // locals are (so S holds exactly the interpreter's words, dead ones included), read from S at every entry
  // (S holds words the interpreter would leave there, which a flush must not change), and around a call:
  // those from its base up written back before it (the callee reads its arguments there, and its own words
  // land there) and read again after it.
  // Constant slots (written at entry, never changed) are read as literals.
  // T32/T64/TF are one 8-byte scratch seen as int32, f64 and f32, to move bits between the two.
  // (A function with very many locals keeps them in S: thousands of JS variables make frames V8 handles badly.)
  const NW = lw.nlocals <= MAX_VAR_LOCALS ? 2 * lw.nlocals : 0;
  /** First word of the constant slots, and of the operand slots. */
  const constLo = 2 * lw.nlocals;
  const opLo = 2 * lw.nparams + lw.init.length;
  /**
   * The operand slots kept in variables (by slot index): 'w' as two int32 words, 'x' as a double, 'y' as an
   * f32 number and an int32 high word (see ySlots).
   */
  let opVar = new Map<number, 'w' | 'x' | 'y'>();
  /**
   * The f32 slots (locals and operand slots, by slot index) whose low word is a number, `y<word>` (an f32
   * value, as Math.fround gives), not its bits: f32 arithmetic on them needs no trip through the scratch.
   * Bits are what S holds, though, and a NaN's bits are not a number's (a signalling NaN read as a number
   * is quieted): the invariant is "if y is NaN, S holds the slot's exact low word (written when the NaN was
   * made, loaded or copied); else y is the value", so a flush writes `F[..] = y` only when y is not NaN,
   * and a read of the bits is `y === y ? <bits of y> : S[..]`. As a number, a NaN y is the one a Float32Array
   * read of those bits gives (both are the hardware's float32 to float64 conversion), so arithmetic on it
   * gives the interpreter's bits. The high word is an int32 variable `w<word + 1>`.
   * Chosen by the types the instructions read and write the slot as (the ISA table): f32 more often than
   * integers and f64s (see fScan).
   */
  const ySlots = new Set<number>();
  /**
   * The weight of an instruction in the choices of variables' kinds: 8^d, d the depth of loops it is in (up to 4),
   * so that what the inner loops do decides. A branch back to pc t (or to itself) makes [t, branch] a loop.
   */
  const weightAt = new Float64Array(code.length + 1);
  {
    const depthAt = new Int32Array(code.length + 1);
    for (const pc of pcs) {
      forEachTarget(code, pc, (at) => {
        const t = code[at]!;
        if (t <= pc) {
          depthAt[t]!++;
          depthAt[pc + 1]!--;
        }
      });
    }
    let depth = 0;
    let last = 0;
    for (const pc of pcs) {
      for (; last <= pc; last++) depth += depthAt[last]!;
      weightAt[pc] = 8 ** Math.min(depth, 4);
    }
  }
  /** Whether constant slots are read as literals (off if anything writes one: never seen). */
  let foldConsts = true;
  /** How each operand slot is written: writes of an integer word or two (int), of an f64 (f64); moves of any value neither. */
  const opWrites = new Map<number, { int: number; f64: number }>();
  const OPW_INT = 1;
  const OPW_F64 = 2;
  const OPW_ANY = 4;
  let constWritten = false;
  const record = (o: number, how: number, wgt = 1): void => {
    if (o >= opLo) {
      let w = opWrites.get(o >> 1);
      if (w === undefined) opWrites.set(o >> 1, (w = { int: 0, f64: 0 }));
      if (how === OPW_INT) w.int += wgt;
      else if (how === OPW_F64) w.f64 += wgt;
    }
    else if (o >= constLo) constWritten = true;
  };
  /** Where word o is: 0 in S, 1 an int32 variable, 2 (a word of) a double variable, 3 a constant, 4 an f32 number (the low word of a 'y' slot). */
  const where = (o: number): number => {
    if (o < NW) return ctx.localTypes[o >> 1] === F64 ? 2 : (o & 1) === 0 && ySlots.has(o >> 1) ? 4 : 1;
    if (o >= opLo) {
      const k = opVar.get(o >> 1);
      return k === undefined ? 0 : k === 'x' ? 2 : k === 'y' && (o & 1) === 0 ? 4 : 1;
    }
    return foldConsts && o >= constLo ? 3 : 0;
  };
  const f64 = (o: number): boolean => where(o) === 2;
  const scratch8 = new DataView(new ArrayBuffer(8));
  /** A constant word, as a literal. */
  const cw = (o: number): string => `(${lw.init[o - 2 * lw.nparams]!})`;
  /** The words (low, high) of the i64 slot at word o when it is a constant, else null. */
  const kw = (o: number): [number, number] | null => (where(o) === 3 ? [lw.init[o - 2 * lw.nparams]! | 0, lw.init[o + 1 - 2 * lw.nparams]! | 0] : null);
  /** A number as a JS literal, or null (a NaN: its bits matter, read it from S). */
  const lit = (v: number): string | null => (Number.isNaN(v) ? null : Object.is(v, -0) ? '(-0)' : `(${String(v)})`);
  /** An f64 constant slot at word o, as a literal, or null. */
  const cd = (o: number): string | null => {
    scratch8.setInt32(0, lw.init[o - 2 * lw.nparams]!, true);
    scratch8.setInt32(4, lw.init[o + 1 - 2 * lw.nparams]!, true);
    return lit(scratch8.getFloat64(0, true));
  };
  /** An f32 constant slot at word o, as a literal, or null. */
  const cf32 = (o: number): string | null => {
    scratch8.setInt32(0, lw.init[o - 2 * lw.nparams]!, true);
    return lit(scratch8.getFloat32(0, true));
  };
  /** An int32 read of word o. */
  const s = (o: number): string => {
    const k = where(o);
    return k === 0 ? `S[fp + ${o}]` : k === 1 ? `w${o}` : k === 2 ? `(T64[0] = x${o >> 1}, T32[${o & 1}])` : k === 4 ? `(y${o} === y${o} ? (TF[0] = y${o}, T32[0]) : S[fp + ${o}])` : cw(o);
  };
  const u = (o: number): string => `(${s(o)} >>> 0)`;
  /** An f64 read of the slot at word o. */
  const d = (o: number): string => {
    const k = where(o);
    return k === 0 ? `D[(fp + ${o}) >> 1]` : k === 2 ? `x${o >> 1}` : k === 1 ? `(T32[0] = w${o}, T32[1] = w${o + 1}, T64[0])` : k === 4 ? `(T32[0] = ${s(o)}, T32[1] = w${o + 1}, T64[0])` : (cd(o) ?? `D[(fp + ${o}) >> 1]`);
  };
  /** An f32 read (as a number) of the slot at word o. */
  const f = (o: number): string => {
    const k = where(o);
    return k === 0 ? `F[fp + ${o}]` : k === 3 ? (cf32(o) ?? `F[fp + ${o}]`) : k === 4 ? `y${o}` : `(T32[0] = ${s(o)}, TF[0])`;
  };
  /**
   * The words of variables the code writes (a double's by its first word). A variable the code never writes
   * only ever holds what S holds (it is read from S at entry, after calls and helpers, and nothing else writes
   * it), so a flush leaves it out: flushes are placeholders per word (`mark`), resolved once the body is generated.
   */
  const wrote = new Set<number>();
  const wroteVar = (o: number, k: number): void => {
    if (k === 2) wrote.add(o & ~1);
    else wrote.add(o);
  };
  /** A flush of word o's int32 variable, or (x) of the double at words o and o + 1, kept only if the code writes it. */
  const mark = (o: number, x: boolean): string => (x ? `/*x${o}*/D[(fp + ${o}) >> 1] = x${o >> 1};/**/` : `/*w${o}*/S[fp + ${o}] = w${o};/**/`);
  /** Writes an int32 word (an Int32Array store: ToInt32). */
  const W = (o: number, e: string): string => {
    record(o, OPW_INT);
    const k = where(o);
    if (k === 0 || k === 3) return `S[fp + ${o}] = ${e};`;
    wroteVar(o, k);
    if (k === 2) return `{ const v_ = ${e}; T64[0] = x${o >> 1}; T32[${o & 1}] = v_; x${o >> 1} = T64[0]; }`;
    if (k === 4) return `{ const v_ = ${e}; T32[0] = v_; y${o} = TF[0]; if (y${o} !== y${o}) S[fp + ${o}] = v_; }`;
    return `w${o} = (${e}) | 0;`;
  };
  /** Writes a constant word. */
  const Wconst = (o: number, bits: number): string => {
    if (where(o) !== 4) return W(o, String(bits));
    record(o, OPW_INT);
    wroteVar(o, 4);
    scratch8.setInt32(0, bits, true);
    const v = lit(scratch8.getFloat32(0, true));
    // A NaN's number is the one its bits read as (its payload goes on through arithmetic).
    return v === null ? `S[fp + ${o}] = ${bits}; y${o} = F[fp + ${o}];` : `y${o} = ${v};`;
  };
  /** Writes both words of a slot (both values computed before either is written). */
  const W64 = (o: number, lo: string, hi: string, how = OPW_INT): string => {
    record(o, how);
    const k = where(o);
    if (k === 0 || k === 3) return `{ const l_ = ${lo}; const h_ = ${hi}; S[fp + ${o}] = l_; S[fp + ${o + 1}] = h_; }`;
    wroteVar(o, k);
    wroteVar(o + 1, k);
    if (k === 2) return `{ const l_ = ${lo}; const h_ = ${hi}; T32[0] = l_; T32[1] = h_; x${o >> 1} = T64[0]; }`;
    if (k === 4) return `{ const l_ = ${lo}; const h_ = ${hi}; ${W(o, 'l_')} w${o + 1} = h_ | 0; }`;
    return `{ const l_ = ${lo}; const h_ = ${hi}; w${o} = l_ | 0; w${o + 1} = h_ | 0; }`;
  };
  /** Writes an f64 (a Float64Array store). */
  const WF64 = (o: number, e: string): string => {
    record(o, OPW_F64);
    const k = where(o);
    if (k === 0 || k === 3) return `D[(fp + ${o}) >> 1] = ${e};`;
    wroteVar(o, k);
    wroteVar(o + 1, k);
    if (k === 2) return `x${o >> 1} = ${e};`;
    if (k === 4) return `{ T64[0] = ${e}; const l_ = T32[0]; w${o + 1} = T32[1]; ${W(o, 'l_')} }`;
    return `{ T64[0] = ${e}; w${o} = T32[0]; w${o + 1} = T32[1]; }`;
  };
  /** Writes an f32 (a Float32Array store: rounds). */
  const WF32 = (o: number, e: string): string => {
    const k = where(o);
    if (k === 0 || k === 3) {
      record(o, OPW_INT);
      return `F[fp + ${o}] = ${e};`;
    }
    if (k === 4) {
      // The number rounded to f32; a NaN's bits to S as the interpreter's store makes them.
      record(o, OPW_INT);
      wroteVar(o, 4);
      return `{ const e_ = ${e}; y${o} = Math.fround(e_); if (y${o} !== y${o}) F[fp + ${o}] = e_; }`;
    }
    return `{ TF[0] = ${e}; ${W(o, 'T32[0]')} }`;
  };
  /** Copies a slot's two words. */
  const COPY64 = (dst: number, src: number): string => {
    const kd = where(dst);
    const ks = where(src);
    if (kd === 2 || kd === 1 || kd === 4) {
      wroteVar(dst, kd);
      wroteVar(dst + 1, kd);
    }
    if (kd === 2 && ks === 2) {
      record(dst, OPW_ANY);
      return `x${dst >> 1} = x${src >> 1};`;
    }
    if (kd === 0 && ks === 2) {
      record(dst, OPW_ANY);
      return `D[(fp + ${dst}) >> 1] = x${src >> 1};`;
    }
    if (kd === 2 && ks === 0) {
      record(dst, OPW_ANY);
      return `x${dst >> 1} = D[(fp + ${src}) >> 1];`;
    }
    if (kd === 2 && ks === 3 && cd(src) !== null) {
      record(dst, OPW_ANY);
      return `x${dst >> 1} = ${cd(src)!};`;
    }
    if (kd === 4) {
      // The number as the number (a NaN's bits from S to S), the high word as a word.
      record(dst, OPW_ANY);
      const y = `y${dst}`;
      const lo =
        ks === 4 ? `${y} = y${src}; if (${y} !== ${y}) S[fp + ${dst}] = S[fp + ${src}];`
        : ks === 0 ? `${y} = F[fp + ${src}]; if (${y} !== ${y}) S[fp + ${dst}] = S[fp + ${src}];`
        : ks === 3 ? Wconst(dst, lw.init[src - 2 * lw.nparams]!)
        : W(dst, s(src));
      return `{ const h_ = ${s(src + 1)}; ${lo} w${dst + 1} = h_ | 0; }`;
    }
    if (ks === 4 && kd === 0) {
      record(dst, OPW_ANY);
      return `if (y${src} === y${src}) F[fp + ${dst}] = y${src}; else S[fp + ${dst}] = S[fp + ${src}]; S[fp + ${dst + 1}] = ${s(src + 1)};`;
    }
    return W64(dst, s(src), s(src + 1), OPW_ANY);
  };
  /**
   * A helper that works on S words (i64 arithmetic): its operand slots are
   * copied to the scratch SC (at 2, 4, ...), it writes its result at SC[0..1],
   * which goes to slot d. `body(dst, srcs)` gets the offset expressions.
   */
  const viaScratch = (dst: number, srcs: number[], body: (dd: string, a: string[]) => string): string => {
    const ins = srcs.map((o, k) => `SC[${2 + 2 * k}] = ${s(o)}; SC[${3 + 2 * k}] = ${s(o + 1)};`).join(' ');
    return `{ ${ins} ${body('SC, 0', srcs.map((_, k) => String(2 + 2 * k)))}; ${W64(dst, 'SC[0]', 'SC[1]')} }`;
  };
  /** A 'y' slot at word o written to S (a NaN's low word is there already), and read from S. */
  const yFlush = (o: number): string => `if (y${o} === y${o}) F[fp + ${o}] = y${o}; S[fp + ${o + 1}] = w${o + 1};`;
  const yLoad = (o: number): string => `y${o} = F[fp + ${o}]; w${o + 1} = S[fp + ${o + 1}];`;
  /**
   * Which slots are 'y' (see ySlots): f32 locals and operand slots that the instructions read or write as
   * f32 more often than as integers or f64s (a read of an integer from a 'y' slot, or of an f32 from a 'w'
   * one, goes through the scratch). Loads, stores and moves of a word, and moves of any value, count as
   * neither (for a 'y' slot they are as cheap). Each access counts 8^d, d the depth of loops it is in (up to
   * 4): an operand slot is used as an integer in one loop and as an f32 in another (matmul's: integers in
   * the loop that fills the matrices, f32s in the inner loop of the product), and the inner loop is the one
   * that counts. Operand slots are checked again by the pass that chooses the operand slots' kinds (a slot
   * it leaves in S is in S).
   */
  function fScan(): void {
    const f32n = new Map<number, number>();
    const other = new Map<number, number>();
    for (const pc of pcs) {
      const wgt = weightAt[pc]!;
      const ops = ISA[code[pc]!]!.operands;
      for (let i = 0; i < ops.length; i++) {
        const { kind, type } = ops[i]!;
        if (type === null || type === 'any' || type === 'w32' || type === 'w64') continue;
        if (kind !== 'd' && kind !== 'a' && kind !== 'b' && kind !== 'c') continue;
        const sl = code[pc + 1 + i]! >> 1;
        const m = type === 'f32' ? f32n : other;
        m.set(sl, (m.get(sl) ?? 0) + wgt);
      }
    }
    for (const [sl, n] of f32n) {
      if (n <= (other.get(sl) ?? 0)) continue;
      if (2 * sl < NW ? ctx.localTypes[sl] === F32 : 2 * sl >= opLo) ySlots.add(sl);
    }
  }
  /** Writes the locals' variables to S (before the frame stops or a helper reads it), and back. */
  // Written back wherever the frame ends or stops: a return, a pause, a trap, a call going on from the explicit frames
  // (so S holds, live or dead, exactly the words the interpreter would have left there: snapshots are the same bytes).
  // Which locals it writes is known once the body is generated: a placeholder until then.
  const flushParts: string[] = [];
  const loadParts: string[] = [];
  fScan();
  for (let L = 0; L < NW / 2; L++) {
    if (ySlots.has(L)) {
      flushParts.push(yFlush(2 * L));
      loadParts.push(yLoad(2 * L));
    } else if (ctx.localTypes[L] === F64) {
      flushParts.push(mark(2 * L, true));
      loadParts.push(`x${L} = D[(fp + ${2 * L}) >> 1];`);
    } else {
      flushParts.push(`${mark(2 * L, false)} ${mark(2 * L + 1, false)}`);
      loadParts.push(`w${2 * L} = S[fp + ${2 * L}]; w${2 * L + 1} = S[fp + ${2 * L + 1}];`);
    }
  }
  /** The operand slots' variables from word `from` up to word `to`, written to S, or read from S. */
  const opFlush = (from: number, to = Infinity): string => {
    const w: string[] = [];
    for (const [sl, k] of opVar) {
      if (2 * sl < from || 2 * sl >= to) continue;
      w.push(k === 'x' ? mark(2 * sl, true) : k === 'y' ? yFlush(2 * sl) : `${mark(2 * sl, false)} ${mark(2 * sl + 1, false)}`);
    }
    return w.join(' ');
  };
  const opLoad = (from: number): string => {
    const w: string[] = [];
    for (const [sl, k] of opVar) {
      if (2 * sl < from) continue;
      w.push(k === 'x' ? `x${sl} = D[(fp + ${2 * sl}) >> 1];` : k === 'y' ? yLoad(2 * sl) : `w${2 * sl} = S[fp + ${2 * sl}]; w${2 * sl + 1} = S[fp + ${2 * sl + 1}];`);
    }
    return w.join(' ');
  };
  /** Where the locals' flush goes (known once the body is generated). */
  const FLUSHL = '/*FLUSH*/';
  // Set by each pass, as opVar is.
  let FLUSH = '';
  let LOAD = '';
  let JS_FRAME = 0;
  /** `flush` without the marked stores of the words below n (those a return's `n` result words overwrite). */
  const aboveResults = (flush: string, n: number): string =>
    flush.replace(/\/\*([wx])(\d+)\*\/[^;]*;\/\*\*\//g, (all, k: string, o: string) => (Number(o) + (k === 'x' ? 1 : 0) < n ? '' : all));
  /** The flush at a return of `n` result words, which leaves out the words the results overwrite. */
  const flushReturn = (n: number): string => aboveResults(FLUSH.split(FLUSHL).join(`/*FLUSHR${n}*/`), n);
  /** Writes back what is below a call's base (its callee's words are above: they stay). */
  const flushBelow = (baseOff: number): string => `${FLUSHL} ${opFlush(0, baseOff)}`;
  /** The divisors (their slots' first words) whose last reciprocal a variable keeps (see divU64Small). */
  const rcpCaches = new Set<number>();
  /** A trap at pc with message expression `msg` (a JS string literal or variable). */
  const trap = (pc: number, msg: string): string => `{ pc = ${pc}; msg = ${msg}; break sw; }`;
  /** A taken branch: pays for the target's run and goes there (the loop's head refuels when needed). */
  // A block that branches to its own start (a loop of one block: most hot inner loops) is wrapped in a loop of
  // its own, `case k: for (;;) { ...; break; }`, and that branch goes round it while the fuel lasts instead of
  // through the switch; it leaves for the loop's head (L) as any branch when the fuel went below zero.
  const selfLoops = new Set<number>();
  /** The branches between blocks, [from, to]. */
  const edges: [number, number][] = [];
  {
    let cur = 0;
    for (const pc of pcs) {
      if (blockAt.has(pc)) cur = blk(pc);
      forEachTarget(code, pc, (at) => {
        edges.push([cur, blk(code[at]!)]);
        if (code[pc] !== K.BR_TABLE && blk(code[at]!) === cur) selfLoops.add(cur);
      });
    }
  }
  // The function's constructs (see structure.ts), or null: then the code is a loop over a switch on the block.
  // A function nested deeper than MAX_NEST gets the switch shape too (each sequence of n items is n labelled blocks
  // deep: see emitSeq below).
  const nesting = (items: readonly Item[], depth: number): number => {
    let most = depth + items.length;
    for (const it of items) if (typeof it !== 'number') most = Math.max(most, nesting(it.items, depth + items.length));
    return most;
  };
  const nested = ctx.shape === 'switch' ? null : structure(blockPcs.length - 1, edges);
  const tree: Item[] | null = nested !== null && nesting(nested, 0) <= MAX_NEST ? nested : null;
  /** The block whose code is being generated. */
  let curBlock = 0;
  /** A taken branch's payment and check in the structured shape: when the fuel went below zero, out to refuel before `target`. */
  const pay = (cost: string, T: number): string => `fuel = (fuel - ${cost}) | 0; if (fuel < 0) { b = ${T}; break sw; } `;
  /** A taken branch in the structured shape, to block T: `continue` the loop it heads, or `break` the block that ends before it. */
  const goTo = (T: number): string => (T <= curBlock ? `continue L${T};` : `break B${T};`);
  // (The local is never below zero where a branch is: a payment of nothing, or a refund, cannot take it below.)
  const jump = (target: number, cost: string): string =>
    tree !== null
      ? Number(cost) > 0
        ? `{ ${pay(cost, blk(target))}${goTo(blk(target))} }`
        : Number(cost) < 0
        ? `{ fuel = (fuel - ${cost}) | 0; ${goTo(blk(target))} }`
        : `{ ${goTo(blk(target))} }`
      : blk(target) === curBlock && selfLoops.has(curBlock)
      ? `{ fuel = (fuel - ${cost}) | 0; if (fuel >= 0) continue; b = ${curBlock}; continue L; }`
      : `{ fuel = (fuel - ${cost}) | 0; b = ${blk(target)}; continue L; }`;
  // After anything that may have grown the stack (RELOAD_S: S and its views) or memory 0 too (RELOAD): placeholders
  // until the body is generated, then the reads of only the views the function uses (see `header` below).
  const RELOAD_S = '/*RELOAD_S*/';
  const reload = '/*RELOAD*/';
  /** Whether the code accesses memory (then an access past the end throws, and a catch makes it the trap). */
  let accesses = false;
  /** The words of the frame the code writes (see SKIP_INIT). */
  const writtenWords = new Set<number>();
  /** Per call site to a defined function: the words this code writes from the call's base up, relative to it. */
  const siteWrites = new Map<number, number[]>();
  /** Where each block's code starts in the generator's output (the structured shape). */
  const blockStart: number[] = [];
  /** Calls to defined functions by pc: each caches its callee's compiled code and frame size (see K.CALL). */
  const callSites: number[] = [];

  /**
   * The effective address of a memory access, as an expression: the i32 in slot `o` plus `k` (wrapped to 32
   * bits, as the interpreter's `(x + k) >>> 0`), plus the offset `off` (up to 2^32 - 1, so the sum may pass 2^32:
   * a Number). The access itself is the check: the view is exactly the memory's bytes (see `body1` below).
   */
  const address = (o: number, k: number, off: number): string => {
    if (where(o) === 3) return String(((lw.init[o - 2 * lw.nparams]! + k) >>> 0) + off);
    return `(${k !== 0 ? `((${s(o)} + ${k}) | 0)` : s(o)} >>> 0)${off !== 0 ? ` + ${off}` : ''}`;
  };

  /** One pass of the generator over the code: the switch's cases, or why the function is not compiled. */
  const generate = (): { out: string[]; brTables: number[] } | string => {
  FLUSH = `${FLUSHL} ${opFlush(0)}`;
  LOAD = `${loadParts.join(' ')} ${opLoad(0)}`;
  JS_FRAME = jsFrameBytes(NW + 2 * opVar.size);
  wrote.clear();
  opWrites.clear();
  rcpCaches.clear();
  callSites.length = 0;
  curBlock = 0;
  blockStart.length = 0;
  accesses = false;
  constWritten = false;
  /** br_table targets: (block, cost) pairs of every br_table, in one table of constants (BT). */
  const brTables: number[] = [];
  const out: string[] = [];
  const emit = (s: string): void => {
    out.push(s);
  };
  for (const pc of pcs) {
    const op = code[pc]!;
    const c = (k: number): number => code[pc + k]!;
    const len = insnLength(code, pc);
    const next = pc + len;
    if (blockAt.has(pc) && tree !== null) {
      curBlock = blk(pc);
      blockStart[curBlock] = out.length;
      emit(`// block ${curBlock}: pc ${pc}`);
    } else if (blockAt.has(pc)) {
      if (selfLoops.has(curBlock)) emit(`break; }`);
      curBlock = blk(pc);
      emit(`case ${curBlock}: // pc ${pc}`);
      if (selfLoops.has(curBlock)) emit(`for (;;) {`);
    }
    switch (op) {
      case K.UNREACHABLE:
        emit(trap(pc, `'unreachable'`));
        break;
      case K.BR:
        emit(jump(c(1), String(c(2))));
        break;
      case K.BR_IF:
        emit(`if (${s(c(1))} !== 0) ${jump(c(2), String(c(3)))}`);
        break;
      case K.BR_UNLESS:
        emit(`if (${s(c(1))} === 0) ${jump(c(2), String(c(3)))}`);
        break;
      case K.BR_TABLE: {
        // Targets (as blocks) and their costs from a table of constants, not a switch: br_table may have 65,536 targets.
        const n = c(2);
        const at = brTables.length;
        for (let k = 0; k <= n; k++) brTables.push(blk(c(3 + k)), c(4 + n + k));
        if (tree !== null) {
          const ts = [...new Set(Array.from({ length: n + 1 }, (_, k) => blk(c(3 + k))))];
          emit(`{ const i = ${u(c(1))}; const t = ${at} + 2 * (i < ${n} ? i : ${n}); fuel = (fuel - BT[t + 1]) | 0; const tb = BT[t]; if (fuel < 0) { b = tb; break sw; }`);
          emit(`switch (tb) { ${ts.map((T) => `case ${T}: ${goTo(T)}`).join(' ')} } }`);
        } else emit(`{ const i = ${u(c(1))}; const t = ${at} + 2 * (i < ${n} ? i : ${n}); fuel = (fuel - BT[t + 1]) | 0; b = BT[t]; continue L; }`);
        break;
      }
      case K.RETURN0:
        emit(`${FLUSH} return fuel;`);
        break;
      case K.RETURN1:
        emit(`{ const r0 = ${s(c(1))}; const r1 = ${s(c(1) + 1)}; ${flushReturn(2)} S[fp] = r0; S[fp + 1] = r1; return fuel; }`);
        break;
      case K.RETURN_N:
        {
          // The results are read before the locals are written back: they may overwrite locals' words at fp.
          const w: string[] = [];
          for (let i = 0; i < 2 * c(2); i++) w.push(`const r${i} = ${s(c(1) + i)};`);
          w.push(flushReturn(2 * c(2)));
          for (let i = 0; i < 2 * c(2); i++) w.push(`S[fp + ${i}] = r${i};`);
          emit(`{ ${w.join(' ')} return fuel; }`);
        }
        break;
      case K.CALL:
      case K.CALL_INDIRECT: {
        // The callee: a defined function of this instance (compiled, or run through the explicit
        // frames), an import or another instance's function (out of the loop, as the interpreter does).
        const baseOff = op === K.CALL ? c(2) : c(4);
        // The arguments and whatever else of this frame is at the base and above go to S before the call, and
        // are read back after it (the callee's frame starts at the base: its words are left there).
        emit(`{ const base = fp + ${baseOff}; ${opFlush(baseOff)}`);
        if (op === K.CALL) {
          const callee = c(1);
          if (callee < nImp) {
            emit(`li = 0; const o = inst.funcs[${callee}];`);
            emit(`m.depth = depth; R.settle(m, fuel); const t = R.callOther(m, o, base); fuel = R.take(m, share) | 0;`);
            emit(`if (t !== null) { ${RELOAD_S} if (t === R.PAUSE) { ${flushBelow(baseOff)} R.stop(m, fuel, ${FN}, ${pc}, fp, depth); m.uw = ${UW_PAUSE}; return -1; } ${flushBelow(baseOff)} return fail(m, fuel, t, ${pc}, depth); }`);
            emit(reload);
            emit(opLoad(baseOff));
            emit(`}`);
            break;
          }
          // The callee's compiled code and frame size, once known, are cached in variables of the closure (of
          // every instance of the module: the lowered code, and so its compiled code, is the module's). A
          // callee left to the interpreter is looked up each time (it takes the slow way anyway).
          callSites.push(pc);
          siteWrites.set(pc, [...writtenWords].filter((o) => o >= baseOff).map((o) => o - baseOff).sort((a, b) => a - b));
          emit(`let cf = C${pc}; let fw = FW${pc};`);
          // (The instance is read here, on the way that runs once, not at every entry.) SK: whether this code
          // leaves the callee's entry words alone (writes none of them: see SKIP_INIT).
          emit(`if (cf === null) { const k = ${callee - nImp}; const mi = m.inst; const lw = mi.lowered[k] ?? m.lower(mi, k + ${nImp}); cf = lw.compiled; fw = lw.frameWords;`);
          emit(`if (cf === undefined) cf = m.tierUp === null ? null : m.tierUp(mi, k + ${nImp}, lw, 1e9);`);
          emit(`if (cf != null) { C${pc} = cf; FW${pc} = fw; SK${pc} = cf.initSafe === true && WR${pc}.every((o) => o < cf.initLo || o >= cf.initHi); } }`);
        } else {
          emit(`const table = inst.tables[${c(2)}]; const i = ${u(c(3))};`);
          emit(`if (i >= table.elements.length) ${trap(pc, `'undefined element'`)}`);
          emit(`const g = table.elements[i];`);
          emit(`if (g === null) ${trap(pc, '`uninitialized element ${i}`')}`);
          emit(`if (g.typeId !== inst.typeIds[${c(1)}]) ${trap(pc, `'indirect call type mismatch'`)}`);
          emit(`li = 0; if (g.inst !== inst) {`);
          emit(`m.depth = depth; R.settle(m, fuel); const t = R.callOther(m, g, base); fuel = R.take(m, share) | 0;`);
          emit(`if (t !== null) { ${RELOAD_S} if (t === R.PAUSE) { ${flushBelow(baseOff)} R.stop(m, fuel, ${FN}, ${pc}, fp, depth); m.uw = ${UW_PAUSE}; return -1; } ${flushBelow(baseOff)} return fail(m, fuel, t, ${pc}, depth); }`);
          emit(reload);
          emit(opLoad(baseOff));
          emit(`} else {`);
          emit(`const k = g.index - ${nImp};`);
          emit(`const lw = LW[k] ?? m.lower(inst, k + ${nImp});`);
          emit(`let cf = lw.compiled; const fw = lw.frameWords;`);
          emit(`if (cf === undefined) cf = m.tierUp === null ? null : m.tierUp(inst, k + ${nImp}, lw, 1e9);`);
        }
        // Deep in JS, or a callee left to the interpreter: the call runs from the explicit frames.
        emit(`if (cf == null || jsLeft < ${JS_FRAME}) { ${flushBelow(baseOff)} m.uwFuel = fuel; m.uw = ${UW_DEEP}; m.uwFn = ${FN}; m.uwPc = ${pc}; m.uwFp = fp; m.depth = depth; return -1; }`);
        // The depth limit, as the interpreter's. This frame's record is written only if the callee stops (on the
        // way out, below): the room for it is made there, not on every call.
        emit(`if (depth >= m.maxDepth) { ${flushBelow(baseOff)} return fail(m, fuel, new R.Exhaustion('call stack exhausted'), ${pc}, depth); }`);
        // (S is not read again before the call; it is read again after it.)
        emit(`if (base + fw > S.length && !m.ensureStack(base + fw)) { ${flushBelow(baseOff)} return fail(m, fuel, new R.Exhaustion('call stack exhausted'), ${pc}, depth); }`);
        // A direct call right after one from here (nothing else called or written the callee's entry words since:
        // `li` is the site of the last call, 0 after any other) tells the callee they are in place.
        if (op === K.CALL) emit(`const left = cf(m, base, depth + 1, fuel, li === ${pc + 1} ? ${SKIP_INIT} : 0, jsLeft - ${JS_FRAME}); li = SK${pc} ? ${pc + 1} : 0;`);
        else emit(`const left = cf(m, base, depth + 1, fuel, 0, jsLeft - ${JS_FRAME});`);
        emit(`if (left < 0) { ${RELOAD_S} ${flushBelow(baseOff)} if (3 * depth + 3 > m.frames.length) m.ensureFrames(depth); const fr = m.frames; fr[3 * depth] = ${next}; fr[3 * depth + 1] = fp; fr[3 * depth + 2] = ${FN}; return -1; }`);
        emit(`fuel = left | 0;`);
        emit(reload);
        emit(opLoad(baseOff));
        if (op === K.CALL_INDIRECT) emit(`}`);
        emit(`}`);
        break;
      }
      case K.COPY:
        emit(COPY64(c(1), c(2)));
        break;
      case K.CONST32:
        emit(Wconst(c(1), c(2)));
        break;
      case K.CONST64:
        emit(W64(c(1), String(c(2)), String(c(3))));
        break;
      case K.SELECT: {
        // Words in int32 variables or S: without a branch, by a mask (-1 when the condition holds, else 0), as V8's
        // wasm code does it with a conditional move; a select on data (CoreMark's CRC bits) mispredicts half the time.
        const int = (o: number): boolean => where(o) === 0 || where(o) === 1 || where(o) === 3;
        if (int(c(1)) && int(c(1) + 1) && int(c(2)) && int(c(2) + 1) && int(c(3)) && int(c(3) + 1)) {
          const pick = (k: number): string => `(${s(c(2) + k)} & m_) | (${s(c(3) + k)} & ~m_)`;
          emit(`{ const t_ = ${s(c(4))}; const m_ = (t_ | ((0 - t_) | 0)) >> 31; ${W64(c(1), pick(0), pick(1), OPW_ANY)} }`);
        } else emit(`if (${s(c(4))} !== 0) { ${COPY64(c(1), c(2))} } else { ${COPY64(c(1), c(3))} }`);
        break;
      }
      case K.GLOBAL_GET:
        emit(W64(c(1), `G[${c(2)}]`, `G[${c(2) + 1}]`));
        break;
      case K.GLOBAL_SET:
        emit(`G[${c(1)}] = ${s(c(2))}; G[${c(1) + 1}] = ${s(c(2) + 1)};`);
        break;
      case K.GLOBAL_GET_EXT:
      case K.GLOBAL_SET_EXT:
        emit(`${FLUSH} msg = R.globalExt(inst, S, CODE, ${pc}, fp); ${LOAD} if (msg !== '') { pc = ${pc}; break sw; }`);
        break;

      case K.LOAD_32:
      case K.LOAD_64:
      case K.LOAD_I32_8S:
      case K.LOAD_I32_8U:
      case K.LOAD_I32_16S:
      case K.LOAD_I32_16U:
      case K.LOAD_I64_8S:
      case K.LOAD_I64_8U:
      case K.LOAD_I64_16S:
      case K.LOAD_I64_16U:
      case K.LOAD_I64_32S:
      case K.LOAD_I64_32U: {
        const off = c(4) >>> 0;
        const dst = c(1);
        accesses = true;
        emit(`{ const ea = ${address(c(2), c(3), off)}; pc = ${pc};`);
        switch (op) {
          case K.LOAD_32:
            if (where(dst) === 4) {
              // A signalling NaN's bits would not survive the number: they go to S.
              wroteVar(dst, 4);
              emit(`y${dst} = dv.getFloat32(ea, true); if (y${dst} !== y${dst}) S[fp + ${dst}] = dv.getInt32(ea, true);`);
            } else emit(W(dst, `dv.getInt32(ea, true)`));
            break;
          case K.LOAD_64: emit(f64(dst) ? WF64(dst, `dv.getFloat64(ea, true)`) : W64(dst, `dv.getInt32(ea, true)`, `dv.getInt32(ea + 4, true)`)); break;
          case K.LOAD_I32_8S: emit(W(dst, `dv.getInt8(ea)`)); break;
          case K.LOAD_I32_8U: emit(W(dst, `dv.getUint8(ea)`)); break;
          case K.LOAD_I32_16S: emit(W(dst, `dv.getInt16(ea, true)`)); break;
          case K.LOAD_I32_16U: emit(W(dst, `dv.getUint16(ea, true)`)); break;
          case K.LOAD_I64_8S: emit(`{ const v = dv.getInt8(ea); ${W64(dst, 'v', 'v >> 31')} }`); break;
          case K.LOAD_I64_8U: emit(W64(dst, `dv.getUint8(ea)`, '0')); break;
          case K.LOAD_I64_16S: emit(`{ const v = dv.getInt16(ea, true); ${W64(dst, 'v', 'v >> 31')} }`); break;
          case K.LOAD_I64_16U: emit(W64(dst, `dv.getUint16(ea, true)`, '0')); break;
          case K.LOAD_I64_32S: emit(`{ const v = dv.getInt32(ea, true); ${W64(dst, 'v', 'v >> 31')} }`); break;
          default: emit(W64(dst, `dv.getInt32(ea, true)`, '0')); break;
        }
        emit(`}`);
        break;
      }
      case K.STORE_32:
      case K.STORE_64:
      case K.STORE_8:
      case K.STORE_16: {
        const off = c(4) >>> 0;
        const v = c(2);
        accesses = true;
        emit(`{ const ea = ${address(c(1), c(3), off)}; pc = ${pc};`);
        if (op === K.STORE_32 && where(v) === 4) emit(`if (y${v} === y${v}) dv.setFloat32(ea, y${v}, true); else dv.setInt32(ea, S[fp + ${v}], true);`);
        else if (op === K.STORE_32) emit(`dv.setInt32(ea, ${s(v)}, true);`);
        // (The high word first: when it is past the end, the store throws before it wrote anything, as a trap must.)
        else if (op === K.STORE_64) emit(f64(v) ? `dv.setFloat64(ea, ${d(v)}, true);` : `{ const l_ = ${s(v)}; dv.setInt32(ea + 4, ${s(v + 1)}, true); dv.setInt32(ea, l_, true); }`);
        else if (op === K.STORE_16) emit(`dv.setInt16(ea, ${s(v)}, true);`);
        else emit(`dv.setInt8(ea, ${s(v)});`);
        emit(`}`);
        break;
      }
      case K.MEMORY_SIZE:
        emit(W(c(1), `memLen / 65536`));
        break;
      case K.MEMORY_GROW:
      case K.MEMORY_INIT:
      case K.MEMORY_COPY:
      case K.MEMORY_FILL:
      case K.DATA_DROP:
      case K.MEM_ACCESS_M:
      case K.MEMORY_SIZE_M:
      case K.MEMORY_GROW_M:
        emit(`${FLUSH} msg = bulk(m, ${pc}, fp, depth, fuel, 0, share); fuel = bfuel | 0; ${LOAD}`);
        emit(`if (msg === R.PAUSED_INSIDE) { m.uw = ${UW_PAUSE}; return -1; }`);
        emit(`dv = mem.exact; memLen = mem.byteLength; if (msg !== '') { pc = ${pc}; break sw; }`);
        break;
      case K.TABLE_GET:
      case K.TABLE_SET:
      case K.TABLE_SIZE:
      case K.TABLE_GROW:
      case K.TABLE_FILL:
      case K.TABLE_COPY:
      case K.TABLE_INIT:
      case K.ELEM_DROP:
        emit(`${FLUSH} msg = bulk(m, ${pc}, fp, depth, fuel, 1, share); fuel = bfuel | 0; ${LOAD}`);
        emit(`if (msg === R.PAUSED_INSIDE) { m.uw = ${UW_PAUSE}; return -1; }`);
        emit(`if (msg !== '') { pc = ${pc}; break sw; }`);
        break;
      case K.REF_IS_NULL:
        emit(W(c(1), `${s(c(2))} === 0 ? 1 : 0`));
        break;
      case K.REF_FUNC:
        emit(W(c(1), `R.refToId(inst, inst.funcs[${c(2)}])`));
        break;

      case K.I32_EQZ: emit(W(c(1), `${s(c(2))} === 0 ? 1 : 0`)); break;
      case K.I32_EQ: emit(W(c(1), `${s(c(2))} === ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_NE: emit(W(c(1), `${s(c(2))} !== ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_LT_S: emit(W(c(1), `${s(c(2))} < ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_LT_U: emit(W(c(1), `${u(c(2))} < ${u(c(3))} ? 1 : 0`)); break;
      case K.I32_GT_S: emit(W(c(1), `${s(c(2))} > ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_GT_U: emit(W(c(1), `${u(c(2))} > ${u(c(3))} ? 1 : 0`)); break;
      case K.I32_LE_S: emit(W(c(1), `${s(c(2))} <= ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_LE_U: emit(W(c(1), `${u(c(2))} <= ${u(c(3))} ? 1 : 0`)); break;
      case K.I32_GE_S: emit(W(c(1), `${s(c(2))} >= ${s(c(3))} ? 1 : 0`)); break;
      case K.I32_GE_U: emit(W(c(1), `${u(c(2))} >= ${u(c(3))} ? 1 : 0`)); break;
      case K.I32_CLZ: emit(W(c(1), `Math.clz32(${s(c(2))})`)); break;
      case K.I32_CTZ: emit(W(c(1), `R.ctz32(${s(c(2))})`)); break;
      case K.I32_POPCNT: emit(W(c(1), `R.popcnt32(${s(c(2))})`)); break;
      case K.I32_ADD: emit(W(c(1), `(${s(c(2))} + ${s(c(3))}) | 0`)); break;
      case K.I32_SUB: emit(W(c(1), `(${s(c(2))} - ${s(c(3))}) | 0`)); break;
      case K.I32_MUL: emit(W(c(1), `Math.imul(${s(c(2))}, ${s(c(3))})`)); break;
      case K.I32_DIV_S:
        emit(`{ const x = ${s(c(2))}; const y = ${s(c(3))}; if (y === 0) ${trap(pc, `'integer divide by zero'`)} if (x === -2147483648 && y === -1) ${trap(pc, `'integer overflow'`)} ${W(c(1), '(x / y) | 0')} }`);
        break;
      case K.I32_DIV_U:
        emit(`{ const y = ${u(c(3))}; if (y === 0) ${trap(pc, `'integer divide by zero'`)} ${W(c(1), `(${u(c(2))} / y) | 0`)} }`);
        break;
      case K.I32_REM_S:
        emit(`{ const y = ${s(c(3))}; if (y === 0) ${trap(pc, `'integer divide by zero'`)} ${W(c(1), `${s(c(2))} % y | 0`)} }`);
        break;
      case K.I32_REM_U:
        emit(`{ const y = ${u(c(3))}; if (y === 0) ${trap(pc, `'integer divide by zero'`)} ${W(c(1), `${u(c(2))} % y | 0`)} }`);
        break;
      case K.I32_AND: emit(W(c(1), `${s(c(2))} & ${s(c(3))}`)); break;
      case K.I32_OR: emit(W(c(1), `${s(c(2))} | ${s(c(3))}`)); break;
      case K.I32_XOR: emit(W(c(1), `${s(c(2))} ^ ${s(c(3))}`)); break;
      case K.I32_SHL: emit(W(c(1), `${s(c(2))} << ${s(c(3))}`)); break;
      case K.I32_SHR_S: emit(W(c(1), `${s(c(2))} >> ${s(c(3))}`)); break;
      case K.I32_SHR_U: emit(W(c(1), `${s(c(2))} >>> ${s(c(3))}`)); break;
      case K.I32_ROTL: emit(`{ const x = ${s(c(2))}; const k = ${s(c(3))} & 31; ${W(c(1), '(x << k) | (x >>> (32 - k))')} }`); break;
      case K.I32_ROTR: emit(`{ const x = ${s(c(2))}; const k = ${s(c(3))} & 31; ${W(c(1), '(x >>> k) | (x << (32 - k))')} }`); break;

      case K.I64_EQZ: emit(W(c(1), `(${s(c(2))} | ${s(c(2) + 1)}) === 0 ? 1 : 0`)); break;
      case K.I64_EQ: emit(W(c(1), `${s(c(2))} === ${s(c(3))} && ${s(c(2) + 1)} === ${s(c(3) + 1)} ? 1 : 0`)); break;
      case K.I64_NE: emit(W(c(1), `${s(c(2))} !== ${s(c(3))} || ${s(c(2) + 1)} !== ${s(c(3) + 1)} ? 1 : 0`)); break;
      case K.I64_LT_S:
      case K.I64_LT_U:
      case K.I64_GT_S:
      case K.I64_GT_U:
      case K.I64_LE_S:
      case K.I64_LE_U:
      case K.I64_GE_S:
      case K.I64_GE_U: {
        const signed = op === K.I64_LT_S || op === K.I64_GT_S || op === K.I64_LE_S || op === K.I64_GE_S;
        const rel = op === K.I64_LT_S || op === K.I64_LT_U ? '<' : op === K.I64_GT_S || op === K.I64_GT_U ? '>' : op === K.I64_LE_S || op === K.I64_LE_U ? '<=' : '>=';
        const ah = signed ? s(c(2) + 1) : u(c(2) + 1);
        const bh = signed ? s(c(3) + 1) : u(c(3) + 1);
        // The high words decide unless equal, then the low words (unsigned).
        const strict = rel === '<' || rel === '<=' ? '<' : '>';
        emit(`{ const ah = ${ah}; const bh = ${bh}; const al = ${u(c(2))}; const bl = ${u(c(3))};`);
        emit(`${W(c(1), `ah ${strict} bh || (ah === bh && al ${rel} bl) ? 1 : 0`)} }`);
        break;
      }
      case K.I64_CLZ:
        emit(`{ const h = ${s(c(2) + 1)}; ${W64(c(1), `h !== 0 ? Math.clz32(h) : 32 + Math.clz32(${s(c(2))})`, '0')} }`);
        break;
      case K.I64_CTZ:
        emit(`{ const l = ${s(c(2))}; ${W64(c(1), `l !== 0 ? R.ctz32(l) : 32 + R.ctz32(${s(c(2) + 1)})`, '0')} }`);
        break;
      case K.I64_POPCNT:
        emit(W64(c(1), `R.popcnt32(${s(c(2))}) + R.popcnt32(${s(c(2) + 1)})`, '0'));
        break;
      case K.I64_ADD:
        emit(`{ const al = ${s(c(2))}; const lo = (al + ${s(c(3))}) | 0; ${W64(c(1), 'lo', `(${s(c(2) + 1)} + ${s(c(3) + 1)} + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0`)} }`);
        break;
      case K.I64_SUB:
        emit(`{ const al = ${s(c(2))}; const bl = ${s(c(3))}; ${W64(c(1), '(al - bl) | 0', `(${s(c(2) + 1)} - ${s(c(3) + 1)} - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0`)} }`);
        break;
      case K.I64_MUL: {
        // Inline (see mul64): a constant operand (either one: the product commutes) as literals.
        const [a, b] = kw(c(2)) !== null && kw(c(3)) === null ? [c(3), c(2)] : [c(2), c(3)];
        emit(`{ ${mul64([s(a), s(a + 1)], [s(b), s(b + 1)], kw(b), a === b)} ${W64(c(1), 'lo', 'hi')} }`);
        break;
      }
      case K.I64_DIV_S:
      case K.I64_DIV_U:
      case K.I64_REM_S:
      case K.I64_REM_U: {
        // Inline where the operands allow it (else the interpreter's helper): unsigned, a divisor below 2^32
        // (see divU64Small), else both below 2^53 (in doubles); signed, both int32s. A constant divisor's
        // checks are made here and its words are literals.
        const div = op === K.I64_DIV_S || op === K.I64_DIV_U;
        const dk = kw(c(3));
        const helper = viaScratch(c(1), [c(2), c(3)], (d, a) => `msg = R.i64divrem(${d}, ${a[0]}, ${a[1]}, ${op}); if (msg !== null) { pc = ${pc}; break sw; }`);
        if (dk !== null && (dk[0] | dk[1]) === 0) {
          emit(trap(pc, `'integer divide by zero'`));
          break;
        }
        emit(`{ const al = ${s(c(2))}; const ah = ${s(c(2) + 1)}; const bl = ${s(c(3))}; const bh = ${s(c(3) + 1)};`);
        if (dk === null) emit(`if ((bl | bh) === 0) ${trap(pc, `'integer divide by zero'`)}`);
        if (op === K.I64_DIV_U || op === K.I64_REM_U) {
          const small = (dl: string, inv: string | { cache: string }): string =>
            `${divU64Small('al', '(ah >>> 0)', '(al >>> 0)', dl, inv, div)} ${div ? W64(c(1), 'q', 'qh') : W64(c(1), 'r', '0')}`;
          if (dk !== null && dk[1] === 0) {
            const dl = dk[0] >>> 0;
            emit(`${small(String(dl), String(1 / dl))} }`);
            break;
          }
          if (dk === null) {
            rcpCaches.add(c(3));
            emit(`if (bh === 0) { const dl = bl >>> 0; ${small('dl', { cache: `rcp${c(3)}` })} } else`);
          }
          emit(`if (ah >>> 0 < 0x200000 && bh >>> 0 < 0x200000) {`);
          emit(`const x = (ah >>> 0) * 4294967296 + (al >>> 0); const y = (bh >>> 0) * 4294967296 + (bl >>> 0); let q = Math.floor(x / y); let r = x - q * y;`);
          emit(`if (r < 0) { q--; r += y; } else if (r >= y) { q++; r -= y; }`);
          emit(div ? W64(c(1), 'q', 'Math.floor(q / 4294967296)') : W64(c(1), 'r', 'Math.floor(r / 4294967296)'));
          emit(`} else ${helper}`);
        } else {
          emit(`if (ah === al >> 31 && bh === bl >> 31) {`);
          emit(div ? `const q = Math.trunc(al / bl); ${W64(c(1), 'q', 'q < 0 ? -1 : 0')}` : `const r = al % bl; ${W64(c(1), 'r', 'r < 0 ? -1 : 0')}`);
          // A divisor of magnitude below 2^32: the unsigned division of the magnitudes, the signs after (the
          // quotient's negative when the signs differ, the remainder has the dividend's). MIN / -1 traps.
          const body = (dl: string, inv: string | { cache: string }, negB: string): string => {
            const neg = div ? `(ah < 0) !== ${negB}` : 'ah < 0';
            return [
              div ? `if (al === 0 && ah === -2147483648 && bl === -1 && bh === -1) ${trap(pc, `'integer overflow'`)}` : '',
              `let xl = al; let xh = ah; if (ah < 0) { xl = -al | 0; xh = ~ah + (xl === 0 ? 1 : 0); }`,
              divU64Small('xl', '(xh >>> 0)', '(xl >>> 0)', dl, inv, div),
              div
                ? `if (${neg}) { const l = -q | 0; ${W64(c(1), 'l', '~qh + (l === 0 ? 1 : 0)')} } else ${W64(c(1), 'q', 'qh')}`
                : `if (${neg}) ${W64(c(1), '-r', 'r === 0 ? 0 : -1')} else ${W64(c(1), 'r', '0')}`,
            ].join(' ');
          };
          const m = dk === null ? -1 : dk[1] === 0 || (dk[1] === -1 && dk[0] !== 0) ? Math.abs(dk[1] * 4294967296 + (dk[0] >>> 0)) : 0;
          if (m > 0) {
            emit(`} else { ${body(String(m), String(1 / m), dk !== null && dk[1] < 0 ? 'true' : 'false')} }`);
          } else {
            if (m < 0) {
              rcpCaches.add(c(3));
              emit(`} else if (bh === 0 || (bh === -1 && bl !== 0)) { const dl = bh === 0 ? bl >>> 0 : -bl >>> 0; ${body('dl', { cache: `rcp${c(3)}` }, 'bh < 0')}`);
            }
            emit(`} else ${helper}`);
          }
        }
        emit(`}`);
        break;
      }
      case K.I64_AND: emit(W64(c(1), `${s(c(2))} & ${s(c(3))}`, `${s(c(2) + 1)} & ${s(c(3) + 1)}`)); break;
      case K.I64_OR: emit(W64(c(1), `${s(c(2))} | ${s(c(3))}`, `${s(c(2) + 1)} | ${s(c(3) + 1)}`)); break;
      case K.I64_XOR: emit(W64(c(1), `${s(c(2))} ^ ${s(c(3))}`, `${s(c(2) + 1)} ^ ${s(c(3) + 1)}`)); break;
      case K.I64_SHL:
      case K.I64_SHR_S:
      case K.I64_SHR_U:
      case K.I64_ROTL:
      case K.I64_ROTR: {
        // Inline, on the two halves (as the interpreter's i64shift): by a constant, the case of its amount only.
        const k = where(c(3)) === 3 ? lw.init[c(3) - 2 * lw.nparams]! & 63 : -1;
        const by = (n: number): [string, string] => shift64(op, 'lo', 'hi', n);
        if (k >= 0) {
          const [l, h] = by(k);
          emit(`{ const lo = ${s(c(2))}; const hi = ${s(c(2) + 1)}; ${W64(c(1), l, h)} }`);
        } else {
          // Amount 0, 1-31, 32-63 (a rotation by 32 or more swaps the halves first).
          const [l0, h0] = by(0);
          const [l1, h1] = op === K.I64_ROTL || op === K.I64_ROTR ? ['', ''] : shift64(op, 'lo', 'hi', -1);
          const [l2, h2] = op === K.I64_ROTL || op === K.I64_ROTR ? ['', ''] : shift64(op, 'lo', 'hi', -2);
          if (op === K.I64_ROTL || op === K.I64_ROTR) {
            const right = op === K.I64_ROTR;
            emit(`{ let lo = ${s(c(2))}; let hi = ${s(c(2) + 1)}; let k = ${right ? `(64 - (${s(c(3))} & 63)) & 63` : `${s(c(3))} & 63`};`);
            emit(`if (k >= 32) { const t = lo; lo = hi; hi = t; k -= 32; }`);
            emit(`${W64(c(1), `k === 0 ? lo : (lo << k) | (hi >>> (32 - k))`, `k === 0 ? hi : (hi << k) | (lo >>> (32 - k))`)} }`);
          } else {
            emit(`{ const lo = ${s(c(2))}; const hi = ${s(c(2) + 1)}; const k = ${s(c(3))} & 63;`);
            emit(`${W64(c(1), `k === 0 ? ${l0} : k < 32 ? ${l1} : ${l2}`, `k === 0 ? ${h0} : k < 32 ? ${h1} : ${h2}`)} }`);
          }
        }
        break;
      }

      case K.F32_EQ: emit(W(c(1), `${f(c(2))} === ${f(c(3))} ? 1 : 0`)); break;
      case K.F32_NE: emit(W(c(1), `${f(c(2))} !== ${f(c(3))} ? 1 : 0`)); break;
      case K.F32_LT: emit(W(c(1), `${f(c(2))} < ${f(c(3))} ? 1 : 0`)); break;
      case K.F32_GT: emit(W(c(1), `${f(c(2))} > ${f(c(3))} ? 1 : 0`)); break;
      case K.F32_LE: emit(W(c(1), `${f(c(2))} <= ${f(c(3))} ? 1 : 0`)); break;
      case K.F32_GE: emit(W(c(1), `${f(c(2))} >= ${f(c(3))} ? 1 : 0`)); break;
      case K.F64_EQ: emit(W(c(1), `${d(c(2))} === ${d(c(3))} ? 1 : 0`)); break;
      case K.F64_NE: emit(W(c(1), `${d(c(2))} !== ${d(c(3))} ? 1 : 0`)); break;
      case K.F64_LT: emit(W(c(1), `${d(c(2))} < ${d(c(3))} ? 1 : 0`)); break;
      case K.F64_GT: emit(W(c(1), `${d(c(2))} > ${d(c(3))} ? 1 : 0`)); break;
      case K.F64_LE: emit(W(c(1), `${d(c(2))} <= ${d(c(3))} ? 1 : 0`)); break;
      case K.F64_GE: emit(W(c(1), `${d(c(2))} >= ${d(c(3))} ? 1 : 0`)); break;

      case K.F32_ABS: emit(W(c(1), `${s(c(2))} & 0x7fffffff`)); break;
      case K.F32_NEG: emit(W(c(1), `${s(c(2))} ^ -0x80000000`)); break;
      case K.F32_CEIL: emit(WF32(c(1), `Math.ceil(${f(c(2))})`)); break;
      case K.F32_FLOOR: emit(WF32(c(1), `Math.floor(${f(c(2))})`)); break;
      case K.F32_TRUNC: emit(WF32(c(1), `Math.trunc(${f(c(2))})`)); break;
      case K.F32_NEAREST: emit(WF32(c(1), `R.nearest(${f(c(2))})`)); break;
      case K.F32_SQRT: emit(WF32(c(1), `Math.sqrt(${f(c(2))})`)); break;
      case K.F32_ADD: emit(WF32(c(1), `${f(c(2))} + ${f(c(3))}`)); break;
      case K.F32_SUB: emit(WF32(c(1), `${f(c(2))} - ${f(c(3))}`)); break;
      case K.F32_MUL: emit(WF32(c(1), `${f(c(2))} * ${f(c(3))}`)); break;
      case K.F32_DIV: emit(WF32(c(1), `${f(c(2))} / ${f(c(3))}`)); break;
      case K.F32_MIN: emit(WF32(c(1), `Math.min(${f(c(2))}, ${f(c(3))})`)); break;
      case K.F32_MAX: emit(WF32(c(1), `Math.max(${f(c(2))}, ${f(c(3))})`)); break;
      case K.F32_COPYSIGN: emit(W(c(1), `R.copysignHi(${s(c(2))}, ${s(c(3))})`)); break;
      case K.F64_ABS: emit(W64(c(1), s(c(2)), `${s(c(2) + 1)} & 0x7fffffff`)); break;
      case K.F64_NEG: emit(W64(c(1), s(c(2)), `${s(c(2) + 1)} ^ -0x80000000`)); break;
      case K.F64_CEIL: emit(WF64(c(1), `R.quiet(Math.ceil(${d(c(2))}))`)); break;
      case K.F64_FLOOR: emit(WF64(c(1), `R.quiet(Math.floor(${d(c(2))}))`)); break;
      case K.F64_TRUNC: emit(WF64(c(1), `R.quiet(Math.trunc(${d(c(2))}))`)); break;
      case K.F64_NEAREST: emit(WF64(c(1), `R.quiet(R.nearest(${d(c(2))}))`)); break;
      case K.F64_SQRT: emit(WF64(c(1), `Math.sqrt(${d(c(2))})`)); break;
      case K.F64_ADD: emit(WF64(c(1), `${d(c(2))} + ${d(c(3))}`)); break;
      case K.F64_SUB: emit(WF64(c(1), `${d(c(2))} - ${d(c(3))}`)); break;
      case K.F64_MUL: emit(WF64(c(1), `${d(c(2))} * ${d(c(3))}`)); break;
      case K.F64_DIV: emit(WF64(c(1), `${d(c(2))} / ${d(c(3))}`)); break;
      case K.F64_MIN: emit(WF64(c(1), `Math.min(${d(c(2))}, ${d(c(3))})`)); break;
      case K.F64_MAX: emit(WF64(c(1), `Math.max(${d(c(2))}, ${d(c(3))})`)); break;
      case K.F64_COPYSIGN:
        emit(`{ const sgn = ${s(c(3) + 1)}; ${W64(c(1), s(c(2)), `R.copysignHi(${s(c(2) + 1)}, sgn)`)} }`);
        break;

      case K.MOV32: emit(W(c(1), `${s(c(2))}`)); break;
      case K.I32_TRUNC_F32_S:
      case K.I32_TRUNC_F32_U:
      case K.I32_TRUNC_F64_S:
      case K.I32_TRUNC_F64_U:
      case K.I32_TRUNC_SAT_F32_S:
      case K.I32_TRUNC_SAT_F32_U:
      case K.I32_TRUNC_SAT_F64_S:
      case K.I32_TRUNC_SAT_F64_U: {
        const { from, signed, sat } = ISA[op]!.trunc!;
        emit(`{ const r = R.truncToI32(${from === 'f32' ? f(c(2)) : d(c(2))}, ${signed}, ${sat}); if (typeof r === 'string') ${trap(pc, 'r')} ${W(c(1), 'r')} }`);
        break;
      }
      case K.I64_TRUNC_F32_S:
      case K.I64_TRUNC_F32_U:
      case K.I64_TRUNC_F64_S:
      case K.I64_TRUNC_F64_U:
      case K.I64_TRUNC_SAT_F32_S:
      case K.I64_TRUNC_SAT_F32_U:
      case K.I64_TRUNC_SAT_F64_S:
      case K.I64_TRUNC_SAT_F64_U: {
        const { from, signed, sat } = ISA[op]!.trunc!;
        emit(viaScratch(c(1), [], (dd) => `msg = R.truncToI64(${dd}, ${from === 'f32' ? f(c(2)) : d(c(2))}, ${signed}, ${sat}); if (msg !== null) { pc = ${pc}; break sw; }`));
        break;
      }
      case K.I64_EXTEND_I32_S: emit(`{ const v = ${s(c(2))}; ${W64(c(1), 'v', 'v >> 31')} }`); break;
      case K.I64_EXTEND_I32_U: emit(W64(c(1), s(c(2)), '0')); break;
      case K.F32_CONVERT_I32_S: emit(WF32(c(1), `${s(c(2))}`)); break;
      case K.F32_CONVERT_I32_U: emit(WF32(c(1), `${u(c(2))}`)); break;
      case K.F32_CONVERT_I64_S:
      case K.F32_CONVERT_I64_U:
        emit(`SC[2] = ${s(c(2))}; SC[3] = ${s(c(2) + 1)}; ${WF32(c(1), `R.i64ToFloat(SC, 2, ${op === K.F32_CONVERT_I64_S}, true)`)}`);
        break;
      case K.F32_DEMOTE_F64: emit(WF32(c(1), `${d(c(2))}`)); break;
      case K.F64_CONVERT_I32_S: emit(WF64(c(1), `${s(c(2))}`)); break;
      case K.F64_CONVERT_I32_U: emit(WF64(c(1), `${u(c(2))}`)); break;
      case K.F64_CONVERT_I64_S:
      case K.F64_CONVERT_I64_U:
        emit(`SC[2] = ${s(c(2))}; SC[3] = ${s(c(2) + 1)}; ${WF64(c(1), `R.i64ToFloat(SC, 2, ${op === K.F64_CONVERT_I64_S}, false)`)}`);
        break;
      case K.F64_PROMOTE_F32: emit(WF64(c(1), `${f(c(2))}`)); break;
      case K.I32_EXTEND8_S: emit(W(c(1), `(${s(c(2))} << 24) >> 24`)); break;
      case K.I32_EXTEND16_S: emit(W(c(1), `(${s(c(2))} << 16) >> 16`)); break;
      case K.I64_EXTEND8_S:
      case K.I64_EXTEND16_S:
      case K.I64_EXTEND32_S: {
        const expr = op === K.I64_EXTEND8_S ? `(${s(c(2))} << 24) >> 24` : op === K.I64_EXTEND16_S ? `(${s(c(2))} << 16) >> 16` : s(c(2));
        emit(`{ const v = ${expr}; ${W64(c(1), 'v', 'v >> 31')} }`);
        break;
      }

      case K.I32_ADD_I: emit(W(c(1), `(${s(c(2))} + ${c(3)}) | 0`)); break;
      case K.I32_AND_I: emit(W(c(1), `${s(c(2))} & ${c(3)}`)); break;
      case K.I32_OR_I: emit(W(c(1), `${s(c(2))} | ${c(3)}`)); break;
      case K.I32_XOR_I: emit(W(c(1), `${s(c(2))} ^ ${c(3)}`)); break;
      case K.I32_SHL_I: emit(W(c(1), `${s(c(2))} << ${c(3)}`)); break;
      case K.I32_SHR_S_I: emit(W(c(1), `${s(c(2))} >> ${c(3)}`)); break;
      case K.I32_SHR_U_I: emit(W(c(1), `${s(c(2))} >>> ${c(3)}`)); break;
      case K.I32_MUL_I: emit(W(c(1), `Math.imul(${s(c(2))}, ${c(3)})`)); break;
      case K.I32_EQ_I: emit(W(c(1), `${s(c(2))} === ${c(3)} ? 1 : 0`)); break;
      case K.I32_NE_I: emit(W(c(1), `${s(c(2))} !== ${c(3)} ? 1 : 0`)); break;
      case K.I32_LT_S_I: emit(W(c(1), `${s(c(2))} < ${c(3)} ? 1 : 0`)); break;
      case K.I32_LT_U_I: emit(W(c(1), `${u(c(2))} < ${c(3) >>> 0} ? 1 : 0`)); break;
      case K.I32_GT_S_I: emit(W(c(1), `${s(c(2))} > ${c(3)} ? 1 : 0`)); break;
      case K.I32_GT_U_I: emit(W(c(1), `${u(c(2))} > ${c(3) >>> 0} ? 1 : 0`)); break;
      case K.I32_LE_S_I: emit(W(c(1), `${s(c(2))} <= ${c(3)} ? 1 : 0`)); break;
      case K.I32_LE_U_I: emit(W(c(1), `${u(c(2))} <= ${c(3) >>> 0} ? 1 : 0`)); break;
      case K.I32_GE_S_I: emit(W(c(1), `${s(c(2))} >= ${c(3)} ? 1 : 0`)); break;
      case K.I32_GE_U_I: emit(W(c(1), `${u(c(2))} >= ${c(3) >>> 0} ? 1 : 0`)); break;

      case K.BR_IF_EQ: emit(`if (${s(c(1))} === ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_NE: emit(`if (${s(c(1))} !== ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LT_S: emit(`if (${s(c(1))} < ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LT_U: emit(`if (${u(c(1))} < ${u(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GT_S: emit(`if (${s(c(1))} > ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GT_U: emit(`if (${u(c(1))} > ${u(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LE_S: emit(`if (${s(c(1))} <= ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LE_U: emit(`if (${u(c(1))} <= ${u(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GE_S: emit(`if (${s(c(1))} >= ${s(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GE_U: emit(`if (${u(c(1))} >= ${u(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_EQ_I: emit(`if (${s(c(1))} === ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_NE_I: emit(`if (${s(c(1))} !== ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LT_S_I: emit(`if (${s(c(1))} < ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LT_U_I: emit(`if (${u(c(1))} < ${c(2) >>> 0}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GT_S_I: emit(`if (${s(c(1))} > ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GT_U_I: emit(`if (${u(c(1))} > ${c(2) >>> 0}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LE_S_I: emit(`if (${s(c(1))} <= ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_LE_U_I: emit(`if (${u(c(1))} <= ${c(2) >>> 0}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GE_S_I: emit(`if (${s(c(1))} >= ${c(2)}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_GE_U_I: emit(`if (${u(c(1))} >= ${c(2) >>> 0}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_EQ: emit(`if (${d(c(1))} === ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_NE: emit(`if (${d(c(1))} !== ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_LT: emit(`if (${d(c(1))} < ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_GT: emit(`if (${d(c(1))} > ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_LE: emit(`if (${d(c(1))} <= ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_F64_GE: emit(`if (${d(c(1))} >= ${d(c(2))}) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_EQ: emit(`if (!(${d(c(1))} === ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_NE: emit(`if (!(${d(c(1))} !== ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_LT: emit(`if (!(${d(c(1))} < ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_GT: emit(`if (!(${d(c(1))} > ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_LE: emit(`if (!(${d(c(1))} <= ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IFNOT_F64_GE: emit(`if (!(${d(c(1))} >= ${d(c(2))})) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_I64_EQZ: emit(`if ((${s(c(1))} | ${s(c(1) + 1)}) === 0) ${jump(c(3), String(c(4)))}`); break;
      case K.BR_IF_I64_NEZ: emit(`if ((${s(c(1))} | ${s(c(1) + 1)}) !== 0) ${jump(c(3), String(c(4)))}`); break;
      default:
        return `opcode ${op} at ${pc} not compiled`;
    }
  }
  if (tree === null && selfLoops.has(curBlock)) emit(`break; }`);
  blockStart[blockPcs.length] = out.length;
  return { out, brTables };
  };

  // How each operand slot is written, from the types of the instructions' destinations (the ISA table): a
  // scan, not a pass of the generator (which would double the time of compiling). The same scan gathers the
  // words of the frame the code writes (both words of each destination slot), for the calls' SKIP_INIT.
  opWrites.clear();
  constWritten = false;
  for (const pc of pcs) {
    const ops = ISA[code[pc]!]!.operands;
    for (let i = 0; i < ops.length; i++) {
      if (ops[i]!.kind !== 'd') continue;
      const t = ops[i]!.type;
      const o = code[pc + 1 + i]!;
      record(o, t === 'f64' ? OPW_F64 : t === 'any' ? OPW_ANY : OPW_INT, weightAt[pc]);
      writtenWords.add(o).add(o + 1);
    }
  }
  if (constWritten) foldConsts = false;
  const vars = new Map<number, 'w' | 'x' | 'y'>();
  for (const [sl, how] of opWrites) {
    // (Writes weighted by loop depth, weightAt: a slot of integers in an inner loop and f64s outside it is integers.)
    // A slot written with integers (COPY aside), f64s at most a quarter as often, is two int32 variables; one
    // written with f64s more often than with integers a double (the others go through the scratch); the others
    // stay in S, where either kind of write is one store (measured: a slot as the kind it is rarely written as
    // made matmul 5x, nbody 2.5x slower).
    if (ySlots.has(sl)) vars.set(sl, 'y');
    else if (4 * how.f64 <= how.int) vars.set(sl, 'w');
    else if (how.f64 > how.int) vars.set(sl, 'x');
  }
  // As with locals: a frame of very many variables would cost V8 more than S does.
  opVar = NW / 2 + vars.size <= MAX_VARS ? vars : new Map();
  const g = generate();
  if (typeof g === 'string') return { ok: false, reason: g };
  const { out, brTables } = g;
  const decls: string[] = [];
  for (let L = 0; L < NW / 2; L++) decls.push(ySlots.has(L) ? `y${2 * L} = 0, w${2 * L + 1} = 0` : ctx.localTypes[L] === F64 ? `x${L} = 0` : `w${2 * L} = 0, w${2 * L + 1} = 0`);
  for (const [sl, k] of opVar) decls.push(k === 'x' ? `x${sl} = 0` : k === 'y' ? `y${2 * sl} = 0, w${2 * sl + 1} = 0` : `w${2 * sl} = 0, w${2 * sl + 1} = 0`);
  for (const o of rcpCaches) decls.push(`rcp${o}d = 0, rcp${o}i = 0`);
  // The site of the last call (see SKIP_INIT).
  if (out.some((l) => l.includes('li = '))) decls.push('li = 0');

  // The words written at entry: the declared locals' zeros and the constant slots. A declared local in variables
  // that the function writes needs no zero in S: its variable (0 at entry) is written back wherever the frame
  // ends or stops, before anything reads S (those it does not write stay as the entry leaves them in S).
  /** The locals' flush at a return of n result words. */
  const flushReturn0 = (n: number): string => aboveResults(flushParts.join(' '), n);
  const initAt: number[] = [];
  for (let i = 0; i < lw.init.length; i++) {
    const o = 2 * lw.nparams + i;
    if (!(o < NW && wrote.has(ctx.localTypes[o >> 1] === F64 ? o & ~1 : o))) initAt.push(i);
  }
  const initCode =
    initAt.length === 0 ? '' : initAt.length <= 32 ? `  { const q = fp + ${2 * lw.nparams}; ${initAt.map((i) => `S[q + ${i}] = ${lw.init[i]!};`).join(' ')} }` : `  S.set(INIT, fp + ${2 * lw.nparams});`;
  // The structured shape (see structure.ts). Each sequence of items (the function's, a loop's body, a labelled
  // block's) can be entered at any of its blocks (a resume after a pause or a call that stopped, a refuel): `rb`
  // is that block, 0 when none. A sequence opens with a dispatch on it, which breaks out of labelled blocks
  // (e<seq>_<i>, around its first i items) to the item holding that block; the block itself clears it. A branch
  // that finds the fuel spent leaves the whole body (`break sw`) with `b` its target, to be refuelled and resumed.
  // Entering a construct at its first block is entering it: the dispatch outside clears `rb` for it, so that a
  // construct's own dispatch is only for its other blocks (a loop of one block has none: no test per round).
  let seqs = 0;
  const body: string[] = [];
  const emitSeq = (items: readonly Item[], inner: boolean): void => {
    const id = seqs++;
    const n = items.length;
    for (let i = n - 1; i >= 1; i--) body.push(`e${id}_${i}: {`);
    const cases: string[] = [];
    items.forEach((it, i) => {
      const to = i === 0 ? 'break;' : `break e${id}_${i};`;
      const ks = blocksOf(it);
      ks.forEach((k, j) => {
        if (j === 0 && !(i === 0 && inner)) cases.push(`case ${k}: rb = 0; ${to}`);
        else if (j > 0 && i > 0) cases.push(`case ${k}: ${to}`);
      });
    });
    if (cases.length > 0) body.push(`if (rb !== 0) switch (rb) { ${cases.join(' ')} }`);
    items.forEach((it, i) => {
      if (typeof it === 'number') body.push(...out.slice(blockStart[it], blockStart[it + 1]));
      else if (it.kind === 'loop') {
        body.push(`L${it.start}: for (;;) {`);
        emitSeq(it.items, true);
        body.push(`break; }`);
      } else {
        body.push(`B${it.end + 1}: {`);
        emitSeq(it.items, true);
        body.push(`}`);
      }
      if (i < n - 1) body.push(`}`);
    });
  };
  if (tree !== null) emitSeq(tree, false);
  // Both shapes: before block b when the fuel went below zero, the root's return or a refuel (or a pause); after
  // the body, the trap at pc.
  const refuelAt = [
    `    pc = BPC[b];`,
    `    if (again) { ${FLUSH} m.uwPc = pc; m.uwFuel = fuel; m.uw = ${UW_AGAIN}; return -1; }`,
    `    again = root;`,
    `    fuel = R.refuel(m, fuel, CODE, pc, share) | 0;`,
    `    if (fuel < 0) { ${FLUSH} return outOfFuel(m, pc, fp, depth); }`,
  ];
  const trapAtPc = `  return fail(m, fuel, msg === R.OUT_OF_FUEL ? new R.Exhaustion(msg) : new R.Trap(msg === '' ? '${OOB}' : msg), pc, depth);`;
  const cases = tree !== null ? [
    `for (;;) {`,
    `  if (b !== 0) {`,
    ...refuelAt,
    `    rb = b; b = 0;`,
    `  }`,
    `  sw: {`,
    ...body,
    `  msg = 'internal error: compiled code ran off its end'; pc = ${code.length};`,
    `  }`,
    `  if (b === 0) {`,
    `  ${FLUSH}`,
    trapAtPc,
    `  }`,
    `}`,
  ].join('\n') : [
    `L: for (;;) {`,
    `  if (fuel < 0) {`,
    ...refuelAt,
    `  }`,
    `  sw: switch (b) {`,
    ...out,
    `  default: msg = 'internal error: compiled code ran off its end'; pc = ${code.length}; break sw;`,
    `  }`,
    `  ${FLUSH}`,
    trapAtPc,
    `}`,
  ].join('\n');
  const entryCode = [
    `if (entry === 0 || entry === ${SKIP_INIT}) {`,
    initCode === '' ? '' : `  if (entry === 0) {\n${initCode}\n  }`,
    `  ${loadParts.slice(0, lw.nparams).join(' ')} ${opLoad(0)}`,
    tree !== null ? `  fuel = (fuel - ${lw.entry}) | 0; if (fuel < 0) b = 1;` : `  fuel = (fuel - ${lw.entry}) | 0; b = 1;`,
    `} else {`,
    `  ${LOAD}`,
    tree !== null ? `  if (fuel < 0) b = entry < 0 ? -entry : entry; else rb = entry < 0 ? -entry : entry;` : '',
    `}`,
  ].join('\n');
  // Only the views and tables the code uses are read at entry, and again after a call (fewer loads on every
  // call: a leaf function that touches no memory reads S alone).
  // A memory access goes through the view of exactly the memory's bytes (Memory.exact) with no check of its own:
  // past the end, the DataView throws before it reads or writes anything, and this catch traps at the access's pc
  // (set before it). (Measured: 8-15% less time in a loop of accesses than a compare and branch before each.)
  const body1 = accesses
    ? `try {\n${cases}\n} catch (e) {\n  if (!R.isAccessError(e)) throw e;\n  ${FLUSH}\n  return fail(m, fuel, new R.Trap('${OOB}'), pc, depth);\n}`
    : cases;
  let code1 = `${entryCode}\n${body1}`
    .split(FLUSHL)
    .join(flushParts.join(' '))
    .replace(/\/\*FLUSHR(\d+)\*\//g, (_, n: string) => flushReturn0(Number(n)))
    .replace(/\/\*[wx](\d+)\*\/([^;]*;)\/\*\*\//g, (_, o: string, store: string) => (wrote.has(Number(o)) ? store : ''));
  const uses = (name: string): boolean => new RegExp(`(?<![\\w.$])${name}\\b`).test(code1);
  const useD = uses('D');
  const useF = uses('F');
  // (The accesses need the view alone; the size is for memory.size and the bulk instructions.)
  const useDv = uses('dv');
  const useLen = uses('memLen');
  const useMem = useDv || useLen;
  const reloadS = `S = m.S;${useD ? ' D = m.D;' : ''}${useF ? ' F = m.F;' : ''}`;
  code1 = code1.split(RELOAD_S).join(reloadS).split(reload).join(`${reloadS}${useDv ? ' dv = mem.exact;' : ''}${useLen ? ' memLen = mem.byteLength;' : ''}`);
  const useMemObj = useMem || uses('mem');
  const useInst = useMemObj || uses('inst') || uses('LW') || uses('G');
  const header = [
    useInst ? `const inst = m.inst;${uses('LW') ? ' const LW = inst.lowered;' : ''}${uses('G') ? ' const G = inst.globalWords;' : ''}` : '',
    useMemObj ? `const mem = inst.memories[0] ?? R.EMPTY_MEM;` : '',
    `let S = m.S${useD ? ', D = m.D' : ''}${useF ? ', F = m.F' : ''}${useDv ? ', dv = mem.exact' : ''}${useLen ? ', memLen = mem.byteLength' : ''};`,
    // The fuel local is always an int32 (a share is below 2^30, see FUEL_SLICE in interp.ts, and goes below zero by
    // at most one run's cost): `| 0` on each change lets V8 keep it in a register, with no overflow checks.
    tree !== null ? `fuel = fuel | 0; let msg = ''; let pc = 0; let b = 0; let rb = 0;` : `fuel = fuel | 0; let msg = ''; let pc = 0; let b = entry < 0 ? -entry : entry;`,
    // The root of a chain (called by the loop with the whole JS budget) returns when its fuel share is spent, to be
    // called again at the same run (UW_AGAIN, see ROOT_SLICE in interp.ts); called again (entry < 0), it refuels
    // in place first. Its shares are ROOT_SLICE.
    `const root = jsLeft === ${JS_STACK_BUDGET}; const share = root ? ${RUNTIME.ROOT_SLICE} : undefined; let again = root && entry >= 0;`,
    decls.length > 0 ? `let ${decls.join(', ')};` : '',
  ].filter((l) => l !== '').join('\n');
  // The call sites' caches (see K.CALL), shared by every call of this function.
  const caches =
    callSites.length > 0
      ? `let ${callSites.map((pc) => `C${pc} = null, FW${pc} = 0, SK${pc} = false`).join(', ')};\nconst ${callSites.map((pc) => `WR${pc} = [${siteWrites.get(pc)!.join(', ')}]`).join(', ')};\n`
      : '';
  const source = `${caches}return function compiled_${FN}(m, fp, depth, fuel, entry, jsLeft) {\n${header}\n${code1}\n};`;

  // Helpers shared by every compiled function of the module, closed over by this one.
  const R = RUNTIME;
  const CODE = code;
  const scratch = new ArrayBuffer(8);
  const T32 = new Int32Array(scratch);
  const T64 = new Float64Array(scratch);
  const TF = new Float32Array(scratch);
  const SC = new Int32Array(8);
  const BPC = Int32Array.from(blockPcs.map((p) => (p < 0 ? 0 : p)));
  /** A trap at (FN, pc) in the frame at `depth`: unwinds (see the header). */
  const fail = (m: Machine, fuel: number, t: InstanceType<typeof R.Trap>, pc: number, depth: number): number => {
    R.settle(m, fuel);
    m.uw = UW_TRAP;
    m.uwTrap = t;
    m.uwFn = FN;
    m.uwPc = pc;
    m.depth = depth;
    return -1;
  };
  /** Out of fuel before the run at pc: pause there, or trap when this run cannot pause (as the interpreter's outOfFuel). */
  const outOfFuel = (m: Machine, pc: number, fp: number, depth: number): number => {
    if (m.nest === 1 && m.suspendable) {
      R.stop(m, 0, FN, pc, fp, depth);
      m.uw = UW_PAUSE;
      return -1;
    }
    m.uw = UW_TRAP;
    m.uwTrap = new R.Exhaustion('out of fuel');
    m.uwFn = FN;
    m.uwPc = pc;
    m.depth = depth;
    return -1;
  };
  /**
   * A grow, bulk or table instruction at pc, as the interpreter runs it: its
   * size cost paid from the local when it can, else in parts (which may
   * pause inside it). Returns '' or a trap message or PAUSED_INSIDE; the
   * fuel left is in `bfuel`.
   */
  let bfuel = 0;
  const bulk = (m: Machine, pc: number, fp: number, depth: number, fuel: number, table: number, share: number | undefined): string => {
    const cost = R.sizeCost(m, m.S, CODE, pc, fp, false);
    let msg: string;
    if (cost <= fuel) {
      fuel -= cost;
      msg = table === 1 ? R.tableOp(m, CODE, pc, fp) : R.memoryOp(m, CODE, pc, fp);
    } else {
      R.settle(m, fuel);
      msg = R.payInParts(m, CODE, pc, fp, cost, 0);
      fuel = R.take(m, share);
      if (msg === R.PAUSED_INSIDE) R.stop(m, fuel, FN, pc, fp, depth);
    }
    bfuel = fuel;
    return msg;
  };
  let fn: CompiledFn;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('R', 'CODE', 'INIT', 'BPC', 'BT', 'fail', 'outOfFuel', 'bulk', 'getBfuel', 'T32', 'T64', 'TF', 'SC', source.replace(/fuel = bfuel \| 0;/g, 'fuel = getBfuel() | 0;'));
    fn = factory(R, CODE, lw.init, BPC, Int32Array.from(brTables), fail, outOfFuel, bulk, () => bfuel, T32, T64, TF, SC) as CompiledFn;
  } catch (e) {
    // Code generation from strings can be disallowed (--disallow-code-generation-from-strings, CSP): stay interpreted.
    return { ok: false, reason: `cannot make a function: ${e instanceof Error ? e.message : String(e)}` };
  }
  const entries = new Int32Array(code.length);
  for (let k = 1; k < blockPcs.length; k++) entries[blockPcs[k]!] = k;
  const info = fn as CompiledFn & CompiledInfo;
  info.entries = entries;
  // Whether a caller may skip this function's entry words (SKIP_INIT): they are the words [initLo, initHi) of its
  // frame that its code never writes (its locals in variables, no constant slot written), above the words its
  // returns write (its results); a caller that writes none of them itself may call it again without them.
  let maxRet = 0;
  for (const pc of pcs) {
    if (code[pc] === K.RETURN1) maxRet = Math.max(maxRet, 2);
    else if (code[pc] === K.RETURN_N) maxRet = Math.max(maxRet, 2 * code[pc + 2]!);
  }
  const initLo = initAt.length > 0 ? 2 * lw.nparams + initAt[0]! : 0;
  const initHi = initAt.length > 0 ? 2 * lw.nparams + initAt[initAt.length - 1]! + 1 : 0;
  // (Only for 8 words or more: fib's 5 were measured 6% slower skipped, the test of `entry` costing more than they.)
  info.initLo = initLo;
  info.initHi = initHi;
  info.initSafe = initAt.length >= 8 && NW === 2 * lw.nlocals && !constWritten && initLo >= maxRet;
  return { ok: true, fn, source };
}
