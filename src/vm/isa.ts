/**
 * The internal instruction set: the code that lowering (lower.ts) writes and
 * the interpreter (interp.ts) runs, defined once, as data. One row per
 * internal opcode, in opcode order: its name, its operands (the words that
 * follow the opcode in the code array) as typed kinds, its flags, and the wasm
 * instructions it implements one to one. Everything else about the
 * instruction set derives from this table (modelled on wasmi's `crates/ir`):
 *
 * - the opcode numbers: `const enum K` in interp.ts, generated from the rows by
 *   `node scripts/gen-isa.mjs` (a test fails when it is stale). It is
 *   generated into interp.ts, the file of the loop, and not into a file of its
 *   own, so that every `case K.X` of the loop is a literal whatever compiles it:
 *   tsc inlines const enums across files, but the per-file transforms of
 *   vitest and tsx do not, and there the loop's switch over imported members
 *   ran 100-400 times slower;
 * - operand counts, run ends, conditional branches, instruction lengths and
 *   run costs (`OPERANDS`, `ENDS_RUN`, `isCondBranch`, `insnLength`,
 *   `runCost`), where branch targets and their fuel words are (`forEachTarget`),
 *   where an operand of a kind is (`operandAt`);
 * - lowering's map from wasm instructions to the internal ones that implement
 *   them one to one (the `wasm` column);
 * - the disassembler of lowered code (`disassembleLowered` in disasm.ts);
 * - later, the compiled tier, which will generate JavaScript from the rows.
 *
 * Adding an instruction:
 * 1. add its row here, at the end of its group (an opcode is its row's index:
 *    the rows after it are renumbered, which is fine, as lowered code is made
 *    by this engine only and never stored; a snapshot stores pcs into lowered
 *    code, though, so bump CODE_VERSION in snapshot.ts when the lowering of a
 *    function changes), and its values to the expectations of isa.test.ts;
 * 2. run `node scripts/gen-isa.mjs` (rewrites the enum in interp.ts);
 * 3. add its `case K.X` to `run` in interp.ts, reading its operands at the
 *    offsets of the row (operand i is at `code[pc + 1 + i]`) and stepping
 *    `pc += 1 + operands`; and to `sizeCost`, `checkBulk`, `doPart` when it is
 *    paid in parts;
 * 4. make lower.ts emit it: nothing more to do when it implements wasm
 *    instructions one to one (the `wasm` column, with `d` the result and
 *    `a`, `b` the operands in stack order, or `d a k offset` / `a b k offset`
 *    for a load / store); else a case of its own in the lowering.
 * 5. warmup.wat (scripts/build-warmup.mjs) should reach it, and the tests in
 *    isa.test.ts check the row against the rest.
 *
 * Operand spec syntax: space-separated kinds, each slot kind with its value
 * type after a colon (`d:i32 a:i32 b:i32`); `targets` ends BR_TABLE's spec:
 * n+1 target words, then their n+1 fuel words (n is its `n` operand).
 */

/**
 * The kinds of operand words.
 *
 * Slots (word offsets from fp of a value's slot, always even: slot i is at 2i):
 * - `d`: the destination, written;
 * - `a`, `b`, `c`: sources, read (`c` is a condition, an index, or the third);
 * - `x`, `y`: MEM_ACCESS_M's slots, whose roles its `wasmOp` gives: for a load
 *   `x` is the destination and `y` the address, for a store `x` the address and
 *   `y` the value;
 * - `base`: a call's first argument slot, where the callee's frame starts and
 *   its results are left.
 *
 * Immediates:
 * - `imm32`: an i32 constant (CONST32: the raw word of an i32, f32 or null ref);
 * - `lo`, `hi`: the low and high words of a 64-bit constant;
 * - `k`: an addend of a memory access's address, mod 2^32 (a folded i32.add);
 * - `offset`: a memory access's offset (unsigned), added without wrapping;
 * - `target`: a pc in the same function;
 * - `fuel`: the fuel a taken branch charges (see chargeRuns in lower.ts): the
 *   cost of the run at its target, less, for a conditional branch, the cost of
 *   the rest of its own run;
 * - `n`: a count (RETURN_N: results; BR_TABLE: targets before the default);
 * - `func`, `type`, `table`, `mem`, `seg` (a data or element segment), `globalIdx`:
 *   indices in the module's index spaces;
 * - `global`: a word offset into the instance's global words (2 x the index);
 * - `wasmOp`: a wasm opcode id (opcodes.ts);
 * - `pad`: an unused word (0).
 */
export type OperandKind =
  | 'd' | 'a' | 'b' | 'c' | 'x' | 'y' | 'base'
  | 'imm32' | 'lo' | 'hi' | 'k' | 'offset' | 'target' | 'fuel' | 'n'
  | 'func' | 'type' | 'table' | 'mem' | 'seg' | 'global' | 'globalIdx' | 'wasmOp' | 'pad';

/**
 * The value a slot holds:
 * - `i32`, `i64`, `f32`, `f64`, `ref` (funcref or externref: one word, 0 for null, else an id);
 * - `w32`: one word of raw bits, an i32, f32 or ref (narrow stores read the low word of an i64);
 * - `w64`: two words of raw bits, an i64 or f64;
 * - `any`: a slot of any value type, moved as raw words.
 */
export type SlotType = 'i32' | 'i64' | 'f32' | 'f64' | 'ref' | 'w32' | 'w64' | 'any';

/** One operand word. */
export interface Operand {
  readonly kind: OperandKind;
  /** For slots: what the slot holds; null when the opcode does not fix it (MEM_ACCESS_M's wasmOp, a call's callee type). */
  readonly type: SlotType | null;
}

/** An internal opcode, as the table gives it. */
export interface Insn {
  /** The opcode: its number in the code array (its row's index). */
  readonly op: number;
  /** Its name in `K`. */
  readonly name: string;
  /** Its name in disassembly: lower case, a leading type prefix dotted (I32_ADD_I: `i32.add_i`). */
  readonly mnemonic: string;
  /** The fixed operand words, in code order. */
  readonly operands: readonly Operand[];
  /** Whether n+1 targets and n+1 fuel words follow the fixed operands (BR_TABLE). */
  readonly targets: boolean;
  /** Whether it may jump (to a `target` operand). */
  readonly branch: boolean;
  /** Whether it is a conditional branch: it may also go on to the next instruction. */
  readonly condBranch: boolean;
  /** Whether it ends a run of fuel: nothing after it in the code runs next (see chargeRuns in lower.ts). */
  readonly endsRun: boolean;
  /** Whether it calls a function (its `base` the callee's frame). */
  readonly call: boolean;
  /** Whether it leaves the function: returns, tail calls. */
  readonly returns: boolean;
  /**
   * Whether it may end in a trap, an Exhaustion included. Some trap only in a
   * state restored from a forged snapshot (an invalid reference in a slot, more
   * paid toward an instruction than it costs): GLOBAL_SET_EXT, the grows.
   */
  readonly mayTrap: boolean;
  /**
   * Whether a pausable invocation may pause at it: `call`, at a call (a host
   * function may pause; resumed, the call's results are written at `base`);
   * `parts`, inside it (grows and bulk instructions, whose size-dependent fuel
   * is paid in parts: see payInParts in interp.ts).
   */
  readonly pauses: 'call' | 'parts' | null;
  /** A memory access on memory 0: `d a k offset` (load) or `a b k offset` (store). */
  readonly load: boolean;
  readonly store: boolean;
  /** The wasm instructions lowered to it one to one (lower.ts's `simple`): `d` their result, `a`, `b` their operands. */
  readonly wasm: readonly string[];
  /**
   * For a superinstruction, the internal instruction it fuses: an immediate
   * form (I32_ADD_I of I32_ADD, `b` an immediate) or a compare-and-branch
   * (BR_IF_LT_S of I32_LT_S), taken when the comparison holds, or when it does
   * not if `when` is false (BR_IFNOT_F64_LT, BR_IF_I64_NEZ).
   */
  readonly of: string | null;
  readonly when: boolean;
  /**
   * For a float-to-int truncation: its source (the `a` slot's type), result
   * (`d`'s), whether it is signed, and whether it saturates (else it traps on
   * NaN and out of range). The interpreter's loop reads it as constants
   * (`const enum TRUNC`, generated), the compiled tier from here.
   */
  readonly trunc: Trunc | null;
}

/** A float-to-int truncation (Insn.trunc). */
export interface Trunc {
  readonly from: 'f32' | 'f64';
  readonly to: 'i32' | 'i64';
  readonly signed: boolean;
  readonly sat: boolean;
}

type Row = readonly [name: string, operands: string, flags?: string, wasm?: string, of?: string];

// Operand specs shared by many rows.
const I32_UN = 'd:i32 a:i32';
const I32_BIN = 'd:i32 a:i32 b:i32';
const I64_UN = 'd:i64 a:i64';
const I64_BIN = 'd:i64 a:i64 b:i64';
const I64_CMP = 'd:i32 a:i64 b:i64';
const F32_UN = 'd:f32 a:f32';
const F32_BIN = 'd:f32 a:f32 b:f32';
const F32_CMP = 'd:i32 a:f32 b:f32';
const F64_UN = 'd:f64 a:f64';
const F64_BIN = 'd:f64 a:f64 b:f64';
const F64_CMP = 'd:i32 a:f64 b:f64';
const I32_IMM = 'd:i32 a:i32 imm32';
const BR_I32 = 'a:i32 b:i32 target fuel';
const BR_I32_IMM = 'a:i32 imm32 target fuel';
const BR_F64 = 'a:f64 b:f64 target fuel';
const load = (t: SlotType): string => `d:${t} a:i32 k offset`;
const store = (t: SlotType): string => `a:i32 b:${t} k offset`;

// Flags: branch, cond (conditional branch), ends-run, call, return, trap (may trap),
// pause (at a call), parts (paid in parts: may pause inside itself); trunc (a float-to-int
// truncation, from its `a` slot's type to its `d` slot's) with signed and sat (saturating).
const CALL = 'call trap pause';
const BULK = 'trap parts';
const BR_COND = 'branch cond';

/** The rows, in opcode order. */
// prettier-ignore
const ROWS: readonly Row[] = [
  // Control
  ['UNREACHABLE', '', 'ends-run trap'],
  ['BR', 'target fuel', 'branch ends-run'],
  ['BR_IF', 'c:i32 target fuel', BR_COND],
  ['BR_UNLESS', 'c:i32 target fuel', BR_COND],
  ['BR_TABLE', 'c:i32 n targets', 'branch ends-run'],
  ['RETURN0', '', 'ends-run return'],
  ['RETURN1', 'a:any', 'ends-run return'],
  ['RETURN_N', 'a:any n', 'ends-run return'],
  ['CALL', 'func base', CALL],
  ['CALL_INDIRECT', 'type table c:i32 base', CALL],
  // Moves, constants, select, globals
  ['COPY', 'd:any a:any'],
  ['CONST32', 'd:w32 imm32'],
  ['CONST64', 'd:w64 lo hi'],
  ['SELECT', 'd:any a:any b:any c:i32'],
  ['GLOBAL_GET', 'd:any global'],
  ['GLOBAL_SET', 'global a:any'],
  ['GLOBAL_GET_EXT', 'd:any globalIdx'],
  ['GLOBAL_SET_EXT', 'globalIdx a:any', 'trap'],

  // Memory 0: address (S[a] + k) mod 2^32, plus offset
  ['LOAD_32', load('w32'), 'trap', 'i32.load f32.load'],
  ['LOAD_64', load('w64'), 'trap', 'i64.load f64.load'],
  ['LOAD_I32_8S', load('i32'), 'trap', 'i32.load8_s'],
  ['LOAD_I32_8U', load('i32'), 'trap', 'i32.load8_u'],
  ['LOAD_I32_16S', load('i32'), 'trap', 'i32.load16_s'],
  ['LOAD_I32_16U', load('i32'), 'trap', 'i32.load16_u'],
  ['LOAD_I64_8S', load('i64'), 'trap', 'i64.load8_s'],
  ['LOAD_I64_8U', load('i64'), 'trap', 'i64.load8_u'],
  ['LOAD_I64_16S', load('i64'), 'trap', 'i64.load16_s'],
  ['LOAD_I64_16U', load('i64'), 'trap', 'i64.load16_u'],
  ['LOAD_I64_32S', load('i64'), 'trap', 'i64.load32_s'],
  ['LOAD_I64_32U', load('i64'), 'trap', 'i64.load32_u'],
  ['STORE_32', store('w32'), 'trap', 'i32.store f32.store i64.store32'],
  ['STORE_64', store('w64'), 'trap', 'i64.store f64.store'],
  ['STORE_8', store('w32'), 'trap', 'i32.store8 i64.store8'],
  ['STORE_16', store('w32'), 'trap', 'i32.store16 i64.store16'],
  ['MEMORY_SIZE', 'd:i32'],
  ['MEMORY_GROW', 'd:i32 a:i32', BULK], // a grow fails (-1) rather than trap; paid in parts, it traps on a forged snapshot's `part`
  // Bulk memory: a destination, b source or value, c length
  ['MEMORY_INIT', 'seg a:i32 b:i32 c:i32 mem', BULK],
  ['DATA_DROP', 'seg'],
  ['MEMORY_COPY', 'a:i32 b:i32 c:i32 mem mem', BULK], // destination memory, then source memory
  ['MEMORY_FILL', 'a:i32 b:i32 c:i32 mem', BULK],
  // Memories other than 0 (multi-memory): a load or store named by wasmOp, then the memory sizes and grows
  ['MEM_ACCESS_M', 'wasmOp mem x y k offset', 'trap'],
  ['MEMORY_SIZE_M', 'd:i32 mem'],
  ['MEMORY_GROW_M', 'd:i32 a:i32 mem', BULK],

  // Tables and references
  ['TABLE_GET', 'd:ref table a:i32', 'trap'],
  ['TABLE_SET', 'table a:i32 b:ref', 'trap'],
  ['TABLE_SIZE', 'd:i32 table'],
  ['TABLE_GROW', 'd:i32 table a:ref b:i32', BULK], // traps only on an invalid reference (a forged snapshot)
  ['TABLE_FILL', 'table a:i32 b:ref c:i32', BULK],
  ['TABLE_COPY', 'table table a:i32 b:i32 c:i32', BULK], // destination table, then source table
  ['TABLE_INIT', 'seg table a:i32 b:i32 c:i32', BULK],
  ['ELEM_DROP', 'seg'],
  ['REF_IS_NULL', 'd:i32 a:ref', '', 'ref.is_null'],
  ['REF_FUNC', 'd:ref func'],

  // i32
  ['I32_EQZ', I32_UN, '', 'i32.eqz'],
  ['I32_EQ', I32_BIN, '', 'i32.eq'],
  ['I32_NE', I32_BIN, '', 'i32.ne'],
  ['I32_LT_S', I32_BIN, '', 'i32.lt_s'],
  ['I32_LT_U', I32_BIN, '', 'i32.lt_u'],
  ['I32_GT_S', I32_BIN, '', 'i32.gt_s'],
  ['I32_GT_U', I32_BIN, '', 'i32.gt_u'],
  ['I32_LE_S', I32_BIN, '', 'i32.le_s'],
  ['I32_LE_U', I32_BIN, '', 'i32.le_u'],
  ['I32_GE_S', I32_BIN, '', 'i32.ge_s'],
  ['I32_GE_U', I32_BIN, '', 'i32.ge_u'],
  ['I32_CLZ', I32_UN, '', 'i32.clz'],
  ['I32_CTZ', I32_UN, '', 'i32.ctz'],
  ['I32_POPCNT', I32_UN, '', 'i32.popcnt'],
  ['I32_ADD', I32_BIN, '', 'i32.add'],
  ['I32_SUB', I32_BIN, '', 'i32.sub'],
  ['I32_MUL', I32_BIN, '', 'i32.mul'],
  ['I32_DIV_S', I32_BIN, 'trap', 'i32.div_s'],
  ['I32_DIV_U', I32_BIN, 'trap', 'i32.div_u'],
  ['I32_REM_S', I32_BIN, 'trap', 'i32.rem_s'],
  ['I32_REM_U', I32_BIN, 'trap', 'i32.rem_u'],
  ['I32_AND', I32_BIN, '', 'i32.and'],
  ['I32_OR', I32_BIN, '', 'i32.or'],
  ['I32_XOR', I32_BIN, '', 'i32.xor'],
  ['I32_SHL', I32_BIN, '', 'i32.shl'],
  ['I32_SHR_S', I32_BIN, '', 'i32.shr_s'],
  ['I32_SHR_U', I32_BIN, '', 'i32.shr_u'],
  ['I32_ROTL', I32_BIN, '', 'i32.rotl'],
  ['I32_ROTR', I32_BIN, '', 'i32.rotr'],

  // i64 (two words: low, high)
  ['I64_EQZ', 'd:i32 a:i64', '', 'i64.eqz'],
  ['I64_EQ', I64_CMP, '', 'i64.eq'],
  ['I64_NE', I64_CMP, '', 'i64.ne'],
  ['I64_LT_S', I64_CMP, '', 'i64.lt_s'],
  ['I64_LT_U', I64_CMP, '', 'i64.lt_u'],
  ['I64_GT_S', I64_CMP, '', 'i64.gt_s'],
  ['I64_GT_U', I64_CMP, '', 'i64.gt_u'],
  ['I64_LE_S', I64_CMP, '', 'i64.le_s'],
  ['I64_LE_U', I64_CMP, '', 'i64.le_u'],
  ['I64_GE_S', I64_CMP, '', 'i64.ge_s'],
  ['I64_GE_U', I64_CMP, '', 'i64.ge_u'],
  ['I64_CLZ', I64_UN, '', 'i64.clz'],
  ['I64_CTZ', I64_UN, '', 'i64.ctz'],
  ['I64_POPCNT', I64_UN, '', 'i64.popcnt'],
  ['I64_ADD', I64_BIN, '', 'i64.add'],
  ['I64_SUB', I64_BIN, '', 'i64.sub'],
  ['I64_MUL', I64_BIN, '', 'i64.mul'],
  ['I64_DIV_S', I64_BIN, 'trap', 'i64.div_s'],
  ['I64_DIV_U', I64_BIN, 'trap', 'i64.div_u'],
  ['I64_REM_S', I64_BIN, 'trap', 'i64.rem_s'],
  ['I64_REM_U', I64_BIN, 'trap', 'i64.rem_u'],
  ['I64_AND', I64_BIN, '', 'i64.and'],
  ['I64_OR', I64_BIN, '', 'i64.or'],
  ['I64_XOR', I64_BIN, '', 'i64.xor'],
  ['I64_SHL', I64_BIN, '', 'i64.shl'],
  ['I64_SHR_S', I64_BIN, '', 'i64.shr_s'],
  ['I64_SHR_U', I64_BIN, '', 'i64.shr_u'],
  ['I64_ROTL', I64_BIN, '', 'i64.rotl'],
  ['I64_ROTR', I64_BIN, '', 'i64.rotr'],

  // f32 / f64 comparisons
  ['F32_EQ', F32_CMP, '', 'f32.eq'],
  ['F32_NE', F32_CMP, '', 'f32.ne'],
  ['F32_LT', F32_CMP, '', 'f32.lt'],
  ['F32_GT', F32_CMP, '', 'f32.gt'],
  ['F32_LE', F32_CMP, '', 'f32.le'],
  ['F32_GE', F32_CMP, '', 'f32.ge'],
  ['F64_EQ', F64_CMP, '', 'f64.eq'],
  ['F64_NE', F64_CMP, '', 'f64.ne'],
  ['F64_LT', F64_CMP, '', 'f64.lt'],
  ['F64_GT', F64_CMP, '', 'f64.gt'],
  ['F64_LE', F64_CMP, '', 'f64.le'],
  ['F64_GE', F64_CMP, '', 'f64.ge'],
  // f32 arithmetic
  ['F32_ABS', F32_UN, '', 'f32.abs'],
  ['F32_NEG', F32_UN, '', 'f32.neg'],
  ['F32_CEIL', F32_UN, '', 'f32.ceil'],
  ['F32_FLOOR', F32_UN, '', 'f32.floor'],
  ['F32_TRUNC', F32_UN, '', 'f32.trunc'],
  ['F32_NEAREST', F32_UN, '', 'f32.nearest'],
  ['F32_SQRT', F32_UN, '', 'f32.sqrt'],
  ['F32_ADD', F32_BIN, '', 'f32.add'],
  ['F32_SUB', F32_BIN, '', 'f32.sub'],
  ['F32_MUL', F32_BIN, '', 'f32.mul'],
  ['F32_DIV', F32_BIN, '', 'f32.div'],
  ['F32_MIN', F32_BIN, '', 'f32.min'],
  ['F32_MAX', F32_BIN, '', 'f32.max'],
  ['F32_COPYSIGN', F32_BIN, '', 'f32.copysign'],
  // f64 arithmetic
  ['F64_ABS', F64_UN, '', 'f64.abs'],
  ['F64_NEG', F64_UN, '', 'f64.neg'],
  ['F64_CEIL', F64_UN, '', 'f64.ceil'],
  ['F64_FLOOR', F64_UN, '', 'f64.floor'],
  ['F64_TRUNC', F64_UN, '', 'f64.trunc'],
  ['F64_NEAREST', F64_UN, '', 'f64.nearest'],
  ['F64_SQRT', F64_UN, '', 'f64.sqrt'],
  ['F64_ADD', F64_BIN, '', 'f64.add'],
  ['F64_SUB', F64_BIN, '', 'f64.sub'],
  ['F64_MUL', F64_BIN, '', 'f64.mul'],
  ['F64_DIV', F64_BIN, '', 'f64.div'],
  ['F64_MIN', F64_BIN, '', 'f64.min'],
  ['F64_MAX', F64_BIN, '', 'f64.max'],
  ['F64_COPYSIGN', F64_BIN, '', 'f64.copysign'],

  // Conversions
  ['MOV32', 'd:w32 a:w32'], // one word (lowering emits none: i32.wrap_i64 and the reinterprets are free)
  ['I32_TRUNC_F32_S', 'd:i32 a:f32', 'trap trunc signed', 'i32.trunc_f32_s'],
  ['I32_TRUNC_F32_U', 'd:i32 a:f32', 'trap trunc', 'i32.trunc_f32_u'],
  ['I32_TRUNC_F64_S', 'd:i32 a:f64', 'trap trunc signed', 'i32.trunc_f64_s'],
  ['I32_TRUNC_F64_U', 'd:i32 a:f64', 'trap trunc', 'i32.trunc_f64_u'],
  ['I64_EXTEND_I32_S', 'd:i64 a:i32', '', 'i64.extend_i32_s'],
  ['I64_EXTEND_I32_U', 'd:i64 a:i32', '', 'i64.extend_i32_u'],
  ['I64_TRUNC_F32_S', 'd:i64 a:f32', 'trap trunc signed', 'i64.trunc_f32_s'],
  ['I64_TRUNC_F32_U', 'd:i64 a:f32', 'trap trunc', 'i64.trunc_f32_u'],
  ['I64_TRUNC_F64_S', 'd:i64 a:f64', 'trap trunc signed', 'i64.trunc_f64_s'],
  ['I64_TRUNC_F64_U', 'd:i64 a:f64', 'trap trunc', 'i64.trunc_f64_u'],
  ['F32_CONVERT_I32_S', 'd:f32 a:i32', '', 'f32.convert_i32_s'],
  ['F32_CONVERT_I32_U', 'd:f32 a:i32', '', 'f32.convert_i32_u'],
  ['F32_CONVERT_I64_S', 'd:f32 a:i64', '', 'f32.convert_i64_s'],
  ['F32_CONVERT_I64_U', 'd:f32 a:i64', '', 'f32.convert_i64_u'],
  ['F32_DEMOTE_F64', 'd:f32 a:f64', '', 'f32.demote_f64'],
  ['F64_CONVERT_I32_S', 'd:f64 a:i32', '', 'f64.convert_i32_s'],
  ['F64_CONVERT_I32_U', 'd:f64 a:i32', '', 'f64.convert_i32_u'],
  ['F64_CONVERT_I64_S', 'd:f64 a:i64', '', 'f64.convert_i64_s'],
  ['F64_CONVERT_I64_U', 'd:f64 a:i64', '', 'f64.convert_i64_u'],
  ['F64_PROMOTE_F32', 'd:f64 a:f32', '', 'f64.promote_f32'],
  ['I32_EXTEND8_S', I32_UN, '', 'i32.extend8_s'],
  ['I32_EXTEND16_S', I32_UN, '', 'i32.extend16_s'],
  ['I64_EXTEND8_S', I64_UN, '', 'i64.extend8_s'],
  ['I64_EXTEND16_S', I64_UN, '', 'i64.extend16_s'],
  ['I64_EXTEND32_S', I64_UN, '', 'i64.extend32_s'],
  ['I32_TRUNC_SAT_F32_S', 'd:i32 a:f32', 'trunc signed sat', 'i32.trunc_sat_f32_s'],
  ['I32_TRUNC_SAT_F32_U', 'd:i32 a:f32', 'trunc sat', 'i32.trunc_sat_f32_u'],
  ['I32_TRUNC_SAT_F64_S', 'd:i32 a:f64', 'trunc signed sat', 'i32.trunc_sat_f64_s'],
  ['I32_TRUNC_SAT_F64_U', 'd:i32 a:f64', 'trunc sat', 'i32.trunc_sat_f64_u'],
  ['I64_TRUNC_SAT_F32_S', 'd:i64 a:f32', 'trunc signed sat', 'i64.trunc_sat_f32_s'],
  ['I64_TRUNC_SAT_F32_U', 'd:i64 a:f32', 'trunc sat', 'i64.trunc_sat_f32_u'],
  ['I64_TRUNC_SAT_F64_S', 'd:i64 a:f64', 'trunc signed sat', 'i64.trunc_sat_f64_s'],
  ['I64_TRUNC_SAT_F64_U', 'd:i64 a:f64', 'trunc sat', 'i64.trunc_sat_f64_u'],

  // Superinstructions (see lower.ts for when they are chosen): i32 operations with an immediate
  ['I32_ADD_I', I32_IMM, '', '', 'I32_ADD'],
  ['I32_AND_I', I32_IMM, '', '', 'I32_AND'],
  ['I32_OR_I', I32_IMM, '', '', 'I32_OR'],
  ['I32_XOR_I', I32_IMM, '', '', 'I32_XOR'],
  ['I32_SHL_I', I32_IMM, '', '', 'I32_SHL'],
  ['I32_SHR_S_I', I32_IMM, '', '', 'I32_SHR_S'],
  ['I32_SHR_U_I', I32_IMM, '', '', 'I32_SHR_U'],
  ['I32_MUL_I', I32_IMM, '', '', 'I32_MUL'],
  ['I32_EQ_I', I32_IMM, '', '', 'I32_EQ'],
  ['I32_NE_I', I32_IMM, '', '', 'I32_NE'],
  ['I32_LT_S_I', I32_IMM, '', '', 'I32_LT_S'],
  ['I32_LT_U_I', I32_IMM, '', '', 'I32_LT_U'],
  ['I32_GT_S_I', I32_IMM, '', '', 'I32_GT_S'],
  ['I32_GT_U_I', I32_IMM, '', '', 'I32_GT_U'],
  ['I32_LE_S_I', I32_IMM, '', '', 'I32_LE_S'],
  ['I32_LE_U_I', I32_IMM, '', '', 'I32_LE_U'],
  ['I32_GE_S_I', I32_IMM, '', '', 'I32_GE_S'],
  ['I32_GE_U_I', I32_IMM, '', '', 'I32_GE_U'],
  // Compare two i32 and branch
  ['BR_IF_EQ', BR_I32, BR_COND, '', 'I32_EQ'],
  ['BR_IF_NE', BR_I32, BR_COND, '', 'I32_NE'],
  ['BR_IF_LT_S', BR_I32, BR_COND, '', 'I32_LT_S'],
  ['BR_IF_LT_U', BR_I32, BR_COND, '', 'I32_LT_U'],
  ['BR_IF_GT_S', BR_I32, BR_COND, '', 'I32_GT_S'],
  ['BR_IF_GT_U', BR_I32, BR_COND, '', 'I32_GT_U'],
  ['BR_IF_LE_S', BR_I32, BR_COND, '', 'I32_LE_S'],
  ['BR_IF_LE_U', BR_I32, BR_COND, '', 'I32_LE_U'],
  ['BR_IF_GE_S', BR_I32, BR_COND, '', 'I32_GE_S'],
  ['BR_IF_GE_U', BR_I32, BR_COND, '', 'I32_GE_U'],
  ['BR_IF_EQ_I', BR_I32_IMM, BR_COND, '', 'I32_EQ_I'],
  ['BR_IF_NE_I', BR_I32_IMM, BR_COND, '', 'I32_NE_I'],
  ['BR_IF_LT_S_I', BR_I32_IMM, BR_COND, '', 'I32_LT_S_I'],
  ['BR_IF_LT_U_I', BR_I32_IMM, BR_COND, '', 'I32_LT_U_I'],
  ['BR_IF_GT_S_I', BR_I32_IMM, BR_COND, '', 'I32_GT_S_I'],
  ['BR_IF_GT_U_I', BR_I32_IMM, BR_COND, '', 'I32_GT_U_I'],
  ['BR_IF_LE_S_I', BR_I32_IMM, BR_COND, '', 'I32_LE_S_I'],
  ['BR_IF_LE_U_I', BR_I32_IMM, BR_COND, '', 'I32_LE_U_I'],
  ['BR_IF_GE_S_I', BR_I32_IMM, BR_COND, '', 'I32_GE_S_I'],
  ['BR_IF_GE_U_I', BR_I32_IMM, BR_COND, '', 'I32_GE_U_I'],
  // Compare two f64 and branch when the comparison holds, or when it does not (not the opposite comparison: NaN)
  ['BR_IF_F64_EQ', BR_F64, BR_COND, '', 'F64_EQ'],
  ['BR_IF_F64_NE', BR_F64, BR_COND, '', 'F64_NE'],
  ['BR_IF_F64_LT', BR_F64, BR_COND, '', 'F64_LT'],
  ['BR_IF_F64_GT', BR_F64, BR_COND, '', 'F64_GT'],
  ['BR_IF_F64_LE', BR_F64, BR_COND, '', 'F64_LE'],
  ['BR_IF_F64_GE', BR_F64, BR_COND, '', 'F64_GE'],
  ['BR_IFNOT_F64_EQ', BR_F64, BR_COND, '', '!F64_EQ'],
  ['BR_IFNOT_F64_NE', BR_F64, BR_COND, '', '!F64_NE'],
  ['BR_IFNOT_F64_LT', BR_F64, BR_COND, '', '!F64_LT'],
  ['BR_IFNOT_F64_GT', BR_F64, BR_COND, '', '!F64_GT'],
  ['BR_IFNOT_F64_LE', BR_F64, BR_COND, '', '!F64_LE'],
  ['BR_IFNOT_F64_GE', BR_F64, BR_COND, '', '!F64_GE'],
  ['BR_IF_I64_EQZ', 'a:i64 pad target fuel', BR_COND, '', 'I64_EQZ'],
  ['BR_IF_I64_NEZ', 'a:i64 pad target fuel', BR_COND, '', '!I64_EQZ'],

  // Tail calls (tail-call proposal)
  ['RETURN_CALL', 'func base', `${CALL} ends-run return`],
  ['RETURN_CALL_INDIRECT', 'type table c:i32 base', `${CALL} ends-run return`],
];

const SLOT_KINDS: ReadonlySet<string> = new Set(['d', 'a', 'b', 'c', 'x', 'y', 'base']);
const KINDS: ReadonlySet<string> = new Set([...SLOT_KINDS, 'imm32', 'lo', 'hi', 'k', 'offset', 'target', 'fuel', 'n', 'func', 'type', 'table', 'mem', 'seg', 'global', 'globalIdx', 'wasmOp', 'pad']);
const TYPES: ReadonlySet<string> = new Set(['i32', 'i64', 'f32', 'f64', 'ref', 'w32', 'w64', 'any']);
const FLAGS: ReadonlySet<string> = new Set(['branch', 'cond', 'ends-run', 'call', 'return', 'trap', 'pause', 'parts', 'trunc', 'signed', 'sat']);

/** `I32_ADD_I` -> `i32.add_i`. */
function mnemonic(name: string): string {
  const s = name.toLowerCase();
  return /^[if](32|64)_/.test(s) ? `${s.slice(0, 3)}.${s.slice(4)}` : s;
}

function insn(op: number, [name, spec, flagText = '', wasm = '', of = '']: Row): Insn {
  const bad = (what: string) => new Error(`isa: ${name}: ${what}`);
  const operands: Operand[] = [];
  let targets = false;
  for (const word of spec.split(' ').filter((w) => w !== '')) {
    if (targets) throw bad('`targets` must come last');
    if (word === 'targets') {
      targets = true;
      continue;
    }
    const [kind, type] = word.split(':') as [string, string | undefined];
    if (!KINDS.has(kind)) throw bad(`unknown operand kind ${kind}`);
    if (type !== undefined && !TYPES.has(type)) throw bad(`unknown slot type ${type}`);
    if (type !== undefined && !SLOT_KINDS.has(kind)) throw bad(`${kind} is not a slot, it has no type`);
    operands.push({ kind: kind as OperandKind, type: (type ?? null) as SlotType | null });
  }
  const flags = new Set(flagText.split(' ').filter((f) => f !== ''));
  for (const f of flags) if (!FLAGS.has(f)) throw bad(`unknown flag ${f}`);
  const kinds = operands.map((o) => o.kind);
  let trunc: Trunc | null = null;
  if (flags.has('trunc')) {
    const from = operands.find((o) => o.kind === 'a')?.type;
    const to = operands.find((o) => o.kind === 'd')?.type;
    if ((from !== 'f32' && from !== 'f64') || (to !== 'i32' && to !== 'i64')) throw bad('a truncation is from an f32 or f64 `a` to an i32 or i64 `d`');
    if (flags.has('sat') === flags.has('trap')) throw bad('a truncation either saturates (sat) or traps (trap)');
    trunc = { from, to, signed: flags.has('signed'), sat: flags.has('sat') };
  } else if (flags.has('signed') || flags.has('sat')) {
    throw bad('signed and sat go with trunc');
  }
  const memAccess = kinds.length === 4 && kinds[2] === 'k' && kinds[3] === 'offset';
  return {
    op,
    name,
    mnemonic: mnemonic(name),
    operands,
    targets,
    branch: flags.has('branch'),
    condBranch: flags.has('cond'),
    endsRun: flags.has('ends-run'),
    call: flags.has('call'),
    returns: flags.has('return'),
    mayTrap: flags.has('trap'),
    pauses: flags.has('pause') ? 'call' : flags.has('parts') ? 'parts' : null,
    load: memAccess && kinds[0] === 'd',
    store: memAccess && kinds[0] === 'a',
    wasm: wasm.split(' ').filter((w) => w !== ''),
    of: of === '' ? null : of.replace(/^!/, ''),
    when: !of.startsWith('!'),
    trunc,
  };
}

/** The instruction set: `ISA[op]` describes internal opcode `op` (`K.COUNT` rows). */
export const ISA: readonly Insn[] = ROWS.map((r, i) => insn(i, r));

const BY_NAME = new Map(ISA.map((i) => [i.name, i.op]));

/** The opcode named `name` (as in `K`); throws on an unknown name. */
export function opcode(name: string): number {
  const op = BY_NAME.get(name);
  if (op === undefined) throw new Error(`isa: no internal opcode named ${name}`);
  return op;
}

/** Number of operand words after each opcode (-1: variable, BR_TABLE). */
export const OPERANDS: Int8Array = Int8Array.from(ISA, (i) => (i.targets ? -1 : i.operands.length));

/** 1 for the instructions that end a run of fuel: unconditional branches, returns, tail calls, unreachable. */
export const ENDS_RUN: Uint8Array = Uint8Array.from(ISA, (i) => (i.endsRun ? 1 : 0));

const COND_BRANCH: Uint8Array = Uint8Array.from(ISA, (i) => (i.condBranch ? 1 : 0));

/** Whether an internal opcode is a conditional branch (`BR_IF`, `BR_UNLESS`, compare-and-branch). */
export function isCondBranch(op: number): boolean {
  return COND_BRANCH[op] === 1;
}

/** For opcodes of variable length (BR_TABLE): where its `n` word is, and where its targets start (offsets from pc). */
const N_AT: Int8Array = Int8Array.from(ISA, (i) => (i.targets ? 1 + i.operands.findIndex((o) => o.kind === 'n') : 0));
const TARGETS_AT: Int8Array = Int8Array.from(ISA, (i) => (i.targets ? 1 + i.operands.length : 0));

/** Words of the instruction at pc (opcode and operands). */
export function insnLength(code: Int32Array, pc: number): number {
  const op = code[pc]!;
  const n = OPERANDS[op]!;
  // BR_TABLE: its fixed operands, then n+1 targets and n+1 fuel words.
  return n >= 0 ? 1 + n : TARGETS_AT[op]! + 2 * (code[pc + N_AT[op]!]! + 1);
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

/**
 * Where operand `kind` of opcode `op` is: its offset from the opcode's pc
 * (operand i is at pc + 1 + i), the `nth` of that kind (0: the first); -1
 * when it has none.
 */
export function operandAt(op: number, kind: OperandKind, nth = 0): number {
  const ops = ISA[op]?.operands ?? [];
  for (let i = 0; i < ops.length; i++) if (ops[i]!.kind === kind && nth-- === 0) return 1 + i;
  return -1;
}

/**
 * Calls `f` with the positions in `code` of each target word of the branch
 * at pc and of the fuel word that goes with it (none for an instruction that
 * is not a branch).
 */
export function forEachTarget(code: Int32Array, pc: number, f: (targetAt: number, fuelAt: number) => void): void {
  const insn = ISA[code[pc]!];
  if (insn === undefined || !insn.branch) return;
  if (insn.targets) {
    const n = code[pc + N_AT[insn.op]!]!;
    const first = pc + TARGETS_AT[insn.op]!;
    for (let k = 0; k <= n; k++) f(first + k, first + n + 1 + k);
    return;
  }
  const t = operandAt(insn.op, 'target');
  f(pc + t, pc + operandAt(insn.op, 'fuel'));
}

/**
 * The source of `const enum K` (the opcode numbers, in row order, then
 * COUNT), as scripts/gen-isa.mjs writes it into interp.ts between the
 * GENERATED_BEGIN and GENERATED_END lines.
 */
export function opcodeEnumSource(): string {
  const lines = [
    GENERATED_BEGIN,
    '/**',
    ' * Internal opcodes, numbered in the order of the rows of the table in isa.ts',
    ' * (`ISA`), with their operands: the words after the opcode in the code array.',
    ' * Generated from that table by scripts/gen-isa.mjs: edit the table, not this.',
    ' */',
    'export const enum K {',
    ...ISA.map((i) => `  ${i.name}, // ${i.op}:${specText(i)}`),
    '  COUNT,',
    '}',
    ...truncEnumSource(),
    GENERATED_END,
  ];
  return lines.join('\n') + '\n';
}

/** The markers of the generated enum in interp.ts. */
export const GENERATED_BEGIN = '// BEGIN GENERATED by scripts/gen-isa.mjs from the table in isa.ts: do not edit';
export const GENERATED_END = '// END GENERATED';

/** The source of `const enum TRUNC`: the `trunc` rows as bit masks, one set per result type (the loop's two cases). */
function truncEnumSource(): string[] {
  const members: string[] = [];
  for (const to of ['i32', 'i64'] as const) {
    const rows = ISA.filter((i) => i.trunc?.to === to);
    const base = Math.min(...rows.map((i) => i.op));
    const mask = (p: (t: Trunc) => boolean): string => {
      let m = 0;
      for (const i of rows) {
        if (i.op - base > 31) throw new Error(`isa: the ${to} truncations span more than 32 opcodes`);
        if (p(i.trunc!)) m |= 1 << (i.op - base);
      }
      return `0x${(m >>> 0).toString(16)}`;
    };
    const T = to.toUpperCase();
    members.push(`  ${T} = ${base},`, `  ${T}_F32 = ${mask((t) => t.from === 'f32')},`, `  ${T}_SIGNED = ${mask((t) => t.signed)},`, `  ${T}_SAT = ${mask((t) => t.sat)},`);
  }
  return [
    '/**',
    ' * The float-to-int truncations (the `trunc` rows of isa.ts) as constants: with',
    ' * `bit = 1 << (op - TRUNC.I32)`, an i32 truncation is from f32 when `bit & TRUNC.I32_F32`,',
    ' * signed when `bit & TRUNC.I32_SIGNED`, saturating when `bit & TRUNC.I32_SAT` (I64: the same).',
    ' */',
    'export const enum TRUNC {',
    ...members,
    '}',
  ];
}

function specText(i: Insn): string {
  const words = i.operands.map((o) => (o.type === null ? o.kind : `${o.kind}:${o.type}`));
  if (i.targets) words.push('target*(n+1) fuel*(n+1)');
  return words.length === 0 ? ' -' : ` ${words.join(' ')}`;
}
