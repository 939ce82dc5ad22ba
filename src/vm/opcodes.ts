/**
 * The one opcode table. Every stage that reads instructions (the decoder's
 * body check, the validator, the lowering, the disassembler) is driven by it:
 * the encoding, the immediates to read, the text name, and for the many
 * instructions with a fixed type, their stack signature.
 *
 * An opcode's id is its encoding folded into one number: a single-byte opcode
 * is its byte; `0xFC n` is 0x100 + n; `0xFD n` (SIMD) is 0x200 + n.
 */

/** Kinds of immediates that follow an opcode. */
export const Imm = {
  none: 0,
  /** block type (s33): -64 empty, a negative value type code, or a type index. */
  block: 1,
  /** label index. */
  label: 2,
  /** vector of labels, then a default label. */
  brTable: 3,
  /** function index. */
  func: 4,
  /** type index, then table index. */
  callIndirect: 5,
  local: 6,
  global: 7,
  table: 8,
  /** alignment (log2) and offset; a memory index when bit 6 of the alignment is set (multi-memory). */
  memarg: 9,
  /** a memory index (a zero byte in WebAssembly 2.0). */
  mem: 10,
  i32: 11,
  i64: 12,
  f32: 13,
  f64: 14,
  /** a reference type (heap type) byte. */
  refType: 15,
  /** vector of value types (typed select). */
  selectT: 16,
  /** data index, then memory index. */
  memInit: 17,
  dataIdx: 18,
  /** destination memory, then source memory. */
  memCopy: 19,
  /** element index, then table index. */
  tableInit: 20,
  elemIdx: 21,
  /** destination table, then source table. */
  tableCopy: 22,
} as const;
export type Imm = (typeof Imm)[keyof typeof Imm];

/**
 * Signature letters: i=i32 l=i64 f=f32 d=f64 v=v128. `'ii:i'` pops two i32s
 * and pushes one. `null` means the validator types the instruction itself.
 */
type Row = readonly [id: number, name: string, imm: Imm, sig: string | null];

const N = Imm.none;
const FC = 0x100;

// prettier-ignore
const ROWS: readonly Row[] = [
  [0x00, 'unreachable', N, null],
  [0x01, 'nop', N, ':'],
  [0x02, 'block', Imm.block, null],
  [0x03, 'loop', Imm.block, null],
  [0x04, 'if', Imm.block, null],
  [0x05, 'else', N, null],
  [0x0b, 'end', N, null],
  [0x0c, 'br', Imm.label, null],
  [0x0d, 'br_if', Imm.label, null],
  [0x0e, 'br_table', Imm.brTable, null],
  [0x0f, 'return', N, null],
  [0x10, 'call', Imm.func, null],
  [0x11, 'call_indirect', Imm.callIndirect, null],
  [0x12, 'return_call', Imm.func, null],
  [0x13, 'return_call_indirect', Imm.callIndirect, null],
  [0x1a, 'drop', N, null],
  [0x1b, 'select', N, null],
  [0x1c, 'select_t', Imm.selectT, null],
  [0x20, 'local.get', Imm.local, null],
  [0x21, 'local.set', Imm.local, null],
  [0x22, 'local.tee', Imm.local, null],
  [0x23, 'global.get', Imm.global, null],
  [0x24, 'global.set', Imm.global, null],
  [0x25, 'table.get', Imm.table, null],
  [0x26, 'table.set', Imm.table, null],

  [0x28, 'i32.load', Imm.memarg, 'i:i'],
  [0x29, 'i64.load', Imm.memarg, 'i:l'],
  [0x2a, 'f32.load', Imm.memarg, 'i:f'],
  [0x2b, 'f64.load', Imm.memarg, 'i:d'],
  [0x2c, 'i32.load8_s', Imm.memarg, 'i:i'],
  [0x2d, 'i32.load8_u', Imm.memarg, 'i:i'],
  [0x2e, 'i32.load16_s', Imm.memarg, 'i:i'],
  [0x2f, 'i32.load16_u', Imm.memarg, 'i:i'],
  [0x30, 'i64.load8_s', Imm.memarg, 'i:l'],
  [0x31, 'i64.load8_u', Imm.memarg, 'i:l'],
  [0x32, 'i64.load16_s', Imm.memarg, 'i:l'],
  [0x33, 'i64.load16_u', Imm.memarg, 'i:l'],
  [0x34, 'i64.load32_s', Imm.memarg, 'i:l'],
  [0x35, 'i64.load32_u', Imm.memarg, 'i:l'],
  [0x36, 'i32.store', Imm.memarg, 'ii:'],
  [0x37, 'i64.store', Imm.memarg, 'il:'],
  [0x38, 'f32.store', Imm.memarg, 'if:'],
  [0x39, 'f64.store', Imm.memarg, 'id:'],
  [0x3a, 'i32.store8', Imm.memarg, 'ii:'],
  [0x3b, 'i32.store16', Imm.memarg, 'ii:'],
  [0x3c, 'i64.store8', Imm.memarg, 'il:'],
  [0x3d, 'i64.store16', Imm.memarg, 'il:'],
  [0x3e, 'i64.store32', Imm.memarg, 'il:'],
  [0x3f, 'memory.size', Imm.mem, ':i'],
  [0x40, 'memory.grow', Imm.mem, 'i:i'],

  [0x41, 'i32.const', Imm.i32, ':i'],
  [0x42, 'i64.const', Imm.i64, ':l'],
  [0x43, 'f32.const', Imm.f32, ':f'],
  [0x44, 'f64.const', Imm.f64, ':d'],

  [0x45, 'i32.eqz', N, 'i:i'],
  [0x46, 'i32.eq', N, 'ii:i'],
  [0x47, 'i32.ne', N, 'ii:i'],
  [0x48, 'i32.lt_s', N, 'ii:i'],
  [0x49, 'i32.lt_u', N, 'ii:i'],
  [0x4a, 'i32.gt_s', N, 'ii:i'],
  [0x4b, 'i32.gt_u', N, 'ii:i'],
  [0x4c, 'i32.le_s', N, 'ii:i'],
  [0x4d, 'i32.le_u', N, 'ii:i'],
  [0x4e, 'i32.ge_s', N, 'ii:i'],
  [0x4f, 'i32.ge_u', N, 'ii:i'],
  [0x50, 'i64.eqz', N, 'l:i'],
  [0x51, 'i64.eq', N, 'll:i'],
  [0x52, 'i64.ne', N, 'll:i'],
  [0x53, 'i64.lt_s', N, 'll:i'],
  [0x54, 'i64.lt_u', N, 'll:i'],
  [0x55, 'i64.gt_s', N, 'll:i'],
  [0x56, 'i64.gt_u', N, 'll:i'],
  [0x57, 'i64.le_s', N, 'll:i'],
  [0x58, 'i64.le_u', N, 'll:i'],
  [0x59, 'i64.ge_s', N, 'll:i'],
  [0x5a, 'i64.ge_u', N, 'll:i'],
  [0x5b, 'f32.eq', N, 'ff:i'],
  [0x5c, 'f32.ne', N, 'ff:i'],
  [0x5d, 'f32.lt', N, 'ff:i'],
  [0x5e, 'f32.gt', N, 'ff:i'],
  [0x5f, 'f32.le', N, 'ff:i'],
  [0x60, 'f32.ge', N, 'ff:i'],
  [0x61, 'f64.eq', N, 'dd:i'],
  [0x62, 'f64.ne', N, 'dd:i'],
  [0x63, 'f64.lt', N, 'dd:i'],
  [0x64, 'f64.gt', N, 'dd:i'],
  [0x65, 'f64.le', N, 'dd:i'],
  [0x66, 'f64.ge', N, 'dd:i'],

  [0x67, 'i32.clz', N, 'i:i'],
  [0x68, 'i32.ctz', N, 'i:i'],
  [0x69, 'i32.popcnt', N, 'i:i'],
  [0x6a, 'i32.add', N, 'ii:i'],
  [0x6b, 'i32.sub', N, 'ii:i'],
  [0x6c, 'i32.mul', N, 'ii:i'],
  [0x6d, 'i32.div_s', N, 'ii:i'],
  [0x6e, 'i32.div_u', N, 'ii:i'],
  [0x6f, 'i32.rem_s', N, 'ii:i'],
  [0x70, 'i32.rem_u', N, 'ii:i'],
  [0x71, 'i32.and', N, 'ii:i'],
  [0x72, 'i32.or', N, 'ii:i'],
  [0x73, 'i32.xor', N, 'ii:i'],
  [0x74, 'i32.shl', N, 'ii:i'],
  [0x75, 'i32.shr_s', N, 'ii:i'],
  [0x76, 'i32.shr_u', N, 'ii:i'],
  [0x77, 'i32.rotl', N, 'ii:i'],
  [0x78, 'i32.rotr', N, 'ii:i'],
  [0x79, 'i64.clz', N, 'l:l'],
  [0x7a, 'i64.ctz', N, 'l:l'],
  [0x7b, 'i64.popcnt', N, 'l:l'],
  [0x7c, 'i64.add', N, 'll:l'],
  [0x7d, 'i64.sub', N, 'll:l'],
  [0x7e, 'i64.mul', N, 'll:l'],
  [0x7f, 'i64.div_s', N, 'll:l'],
  [0x80, 'i64.div_u', N, 'll:l'],
  [0x81, 'i64.rem_s', N, 'll:l'],
  [0x82, 'i64.rem_u', N, 'll:l'],
  [0x83, 'i64.and', N, 'll:l'],
  [0x84, 'i64.or', N, 'll:l'],
  [0x85, 'i64.xor', N, 'll:l'],
  [0x86, 'i64.shl', N, 'll:l'],
  [0x87, 'i64.shr_s', N, 'll:l'],
  [0x88, 'i64.shr_u', N, 'll:l'],
  [0x89, 'i64.rotl', N, 'll:l'],
  [0x8a, 'i64.rotr', N, 'll:l'],
  [0x8b, 'f32.abs', N, 'f:f'],
  [0x8c, 'f32.neg', N, 'f:f'],
  [0x8d, 'f32.ceil', N, 'f:f'],
  [0x8e, 'f32.floor', N, 'f:f'],
  [0x8f, 'f32.trunc', N, 'f:f'],
  [0x90, 'f32.nearest', N, 'f:f'],
  [0x91, 'f32.sqrt', N, 'f:f'],
  [0x92, 'f32.add', N, 'ff:f'],
  [0x93, 'f32.sub', N, 'ff:f'],
  [0x94, 'f32.mul', N, 'ff:f'],
  [0x95, 'f32.div', N, 'ff:f'],
  [0x96, 'f32.min', N, 'ff:f'],
  [0x97, 'f32.max', N, 'ff:f'],
  [0x98, 'f32.copysign', N, 'ff:f'],
  [0x99, 'f64.abs', N, 'd:d'],
  [0x9a, 'f64.neg', N, 'd:d'],
  [0x9b, 'f64.ceil', N, 'd:d'],
  [0x9c, 'f64.floor', N, 'd:d'],
  [0x9d, 'f64.trunc', N, 'd:d'],
  [0x9e, 'f64.nearest', N, 'd:d'],
  [0x9f, 'f64.sqrt', N, 'd:d'],
  [0xa0, 'f64.add', N, 'dd:d'],
  [0xa1, 'f64.sub', N, 'dd:d'],
  [0xa2, 'f64.mul', N, 'dd:d'],
  [0xa3, 'f64.div', N, 'dd:d'],
  [0xa4, 'f64.min', N, 'dd:d'],
  [0xa5, 'f64.max', N, 'dd:d'],
  [0xa6, 'f64.copysign', N, 'dd:d'],

  [0xa7, 'i32.wrap_i64', N, 'l:i'],
  [0xa8, 'i32.trunc_f32_s', N, 'f:i'],
  [0xa9, 'i32.trunc_f32_u', N, 'f:i'],
  [0xaa, 'i32.trunc_f64_s', N, 'd:i'],
  [0xab, 'i32.trunc_f64_u', N, 'd:i'],
  [0xac, 'i64.extend_i32_s', N, 'i:l'],
  [0xad, 'i64.extend_i32_u', N, 'i:l'],
  [0xae, 'i64.trunc_f32_s', N, 'f:l'],
  [0xaf, 'i64.trunc_f32_u', N, 'f:l'],
  [0xb0, 'i64.trunc_f64_s', N, 'd:l'],
  [0xb1, 'i64.trunc_f64_u', N, 'd:l'],
  [0xb2, 'f32.convert_i32_s', N, 'i:f'],
  [0xb3, 'f32.convert_i32_u', N, 'i:f'],
  [0xb4, 'f32.convert_i64_s', N, 'l:f'],
  [0xb5, 'f32.convert_i64_u', N, 'l:f'],
  [0xb6, 'f32.demote_f64', N, 'd:f'],
  [0xb7, 'f64.convert_i32_s', N, 'i:d'],
  [0xb8, 'f64.convert_i32_u', N, 'i:d'],
  [0xb9, 'f64.convert_i64_s', N, 'l:d'],
  [0xba, 'f64.convert_i64_u', N, 'l:d'],
  [0xbb, 'f64.promote_f32', N, 'f:d'],
  [0xbc, 'i32.reinterpret_f32', N, 'f:i'],
  [0xbd, 'i64.reinterpret_f64', N, 'd:l'],
  [0xbe, 'f32.reinterpret_i32', N, 'i:f'],
  [0xbf, 'f64.reinterpret_i64', N, 'l:d'],
  [0xc0, 'i32.extend8_s', N, 'i:i'],
  [0xc1, 'i32.extend16_s', N, 'i:i'],
  [0xc2, 'i64.extend8_s', N, 'l:l'],
  [0xc3, 'i64.extend16_s', N, 'l:l'],
  [0xc4, 'i64.extend32_s', N, 'l:l'],

  [0xd0, 'ref.null', Imm.refType, null],
  [0xd1, 'ref.is_null', N, null],
  [0xd2, 'ref.func', Imm.func, null],

  [FC + 0, 'i32.trunc_sat_f32_s', N, 'f:i'],
  [FC + 1, 'i32.trunc_sat_f32_u', N, 'f:i'],
  [FC + 2, 'i32.trunc_sat_f64_s', N, 'd:i'],
  [FC + 3, 'i32.trunc_sat_f64_u', N, 'd:i'],
  [FC + 4, 'i64.trunc_sat_f32_s', N, 'f:l'],
  [FC + 5, 'i64.trunc_sat_f32_u', N, 'f:l'],
  [FC + 6, 'i64.trunc_sat_f64_s', N, 'd:l'],
  [FC + 7, 'i64.trunc_sat_f64_u', N, 'd:l'],
  [FC + 8, 'memory.init', Imm.memInit, 'iii:'],
  [FC + 9, 'data.drop', Imm.dataIdx, ':'],
  [FC + 10, 'memory.copy', Imm.memCopy, 'iii:'],
  [FC + 11, 'memory.fill', Imm.mem, 'iii:'],
  [FC + 12, 'table.init', Imm.tableInit, 'iii:'],
  [FC + 13, 'elem.drop', Imm.elemIdx, ':'],
  [FC + 14, 'table.copy', Imm.tableCopy, 'iii:'],
  [FC + 15, 'table.grow', Imm.table, null],
  [FC + 16, 'table.size', Imm.table, ':i'],
  [FC + 17, 'table.fill', Imm.table, null],
];

/** What the table knows of one opcode. */
export interface OpInfo {
  id: number;
  name: string;
  imm: Imm;
  /** Popped value types (value type codes), or null when the validator types it specially. */
  pops: number[] | null;
  pushes: number[] | null;
  /** For memarg ops: the natural alignment (log2) and the access width in bytes. */
  align: number;
}

const LETTER: Record<string, number> = { i: 0x7f, l: 0x7e, f: 0x7d, d: 0x7c, v: 0x7b };

function naturalAlign(name: string): number {
  const w = /(?:load|store)(8|16|32)/.exec(name);
  if (w) return w[1] === '8' ? 0 : w[1] === '16' ? 1 : 2;
  return name.startsWith('i64') || name.startsWith('f64') ? 3 : 2;
}

/** All opcodes, indexed by id. Unknown ids are undefined. */
export const OPS: (OpInfo | undefined)[] = new Array(0x400);
/** Opcode ids by text name. */
export const OP_BY_NAME = new Map<string, number>();

for (const [id, name, imm, sig] of ROWS) {
  let pops: number[] | null = null;
  let pushes: number[] | null = null;
  if (sig !== null) {
    const [p, r] = sig.split(':') as [string, string];
    pops = [...p].map((c) => LETTER[c]!);
    pushes = [...r].map((c) => LETTER[c]!);
  }
  OPS[id] = { id, name, imm, pops, pushes, align: imm === Imm.memarg ? naturalAlign(name) : 0 };
  OP_BY_NAME.set(name, id);
}

/** Opcode id by name; throws on a typo, so a misspelt name fails at load time. */
export function op(name: string): number {
  const id = OP_BY_NAME.get(name);
  if (id === undefined) throw new Error(`no opcode named ${name}`);
  return id;
}

/** Ids of the opcodes with special typing or lowering, named for use in switch statements. */
export const Op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11,
  return_call: 0x12, return_call_indirect: 0x13,
  drop: 0x1a, select: 0x1b, select_t: 0x1c,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  table_get: 0x25, table_set: 0x26,
  memory_size: 0x3f, memory_grow: 0x40,
  i32_const: 0x41, i64_const: 0x42, f32_const: 0x43, f64_const: 0x44,
  ref_null: 0xd0, ref_is_null: 0xd1, ref_func: 0xd2,
  memory_init: FC + 8, data_drop: FC + 9, memory_copy: FC + 10, memory_fill: FC + 11,
  table_init: FC + 12, elem_drop: FC + 13, table_copy: FC + 14, table_grow: FC + 15,
  table_size: FC + 16, table_fill: FC + 17,
} as const;

/** Block type values (read as s33): empty, or a value type's negative code, or a type index >= 0. */
export const BLOCK_EMPTY = -64;

/** Value type of a negative block type, or 0 when it is not a value type. */
export function blockValType(bt: number): number {
  // s7 encoding: 0x7f -> -1, 0x7e -> -2, ..., 0x70 -> -16, 0x6f -> -17
  const code = bt + 0x80;
  switch (code) {
    case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b: case 0x70: case 0x6f:
      return code;
    default:
      return 0;
  }
}
