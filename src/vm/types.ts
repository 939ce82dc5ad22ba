/**
 * The shapes shared by every stage of the engine: value types, the decoded
 * module, and values at the engine boundary. Stages (decode, validate, lower,
 * run) exchange these and nothing else.
 */

/** Value types, numbered by their binary encoding. */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
} as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Text name of a value type. */
export function valTypeName(t: number): string {
  switch (t) {
    case 0x7f: return 'i32';
    case 0x7e: return 'i64';
    case 0x7d: return 'f32';
    case 0x7c: return 'f64';
    case 0x7b: return 'v128';
    case 0x70: return 'funcref';
    case 0x6f: return 'externref';
    default: return `type(0x${t.toString(16)})`;
  }
}

/** Whether a value type is one of the four number types. */
export function isNumType(t: number): boolean {
  return t === ValType.i32 || t === ValType.i64 || t === ValType.f32 || t === ValType.f64;
}

/** A function's type: its parameter and result types. */
export interface FuncType {
  params: ValType[];
  results: ValType[];
}

/** A canonical string for a function type; equal strings mean equal types. */
export function funcTypeKey(t: FuncType): string {
  // A loop, not map and join: host functions are typed (so keyed) for every instance that imports them.
  let k = '';
  for (let i = 0; i < t.params.length; i++) k += (i > 0 ? ',' : '') + valTypeName(t.params[i]!);
  k += '->';
  for (let i = 0; i < t.results.length; i++) k += (i > 0 ? ',' : '') + valTypeName(t.results[i]!);
  return k;
}

export interface Limits {
  min: number;
  /** Absent when the limits have no maximum. */
  max?: number;
}

export interface TableType {
  elem: ValType; // funcref or externref
  limits: Limits;
}

export interface MemoryType {
  /** In 64 KiB pages. */
  limits: Limits;
}

export interface GlobalType {
  type: ValType;
  mutable: boolean;
}

export type ExternKind = 'func' | 'table' | 'memory' | 'global';

export type ImportDesc =
  | { kind: 'func'; type: number /* type index */ }
  | { kind: 'table'; type: TableType }
  | { kind: 'memory'; type: MemoryType }
  | { kind: 'global'; type: GlobalType };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

/**
 * A constant expression, kept as the byte range of its instructions
 * (including the final `end`) in the module's bytes. Read it with CodeReader.
 */
export interface ConstExpr {
  start: number;
  end: number;
}

export interface Global {
  type: GlobalType;
  init: ConstExpr;
}

export type SegmentMode = 'active' | 'passive' | 'declarative';

export interface ElemSegment {
  mode: SegmentMode;
  /** Table index, for active segments. */
  table: number;
  /** Offset expression, for active segments. */
  offset: ConstExpr | null;
  /** funcref or externref. */
  type: ValType;
  /** One constant expression per element (function indices are stored as `ref.func` expressions' ranges too, see `funcs`). */
  init: ConstExpr[];
  /**
   * When the segment was encoded as a vector of function indices (flags 0-3),
   * the indices themselves; `init` is then empty. Otherwise null.
   */
  funcs: number[] | null;
}

export interface DataSegment {
  mode: 'active' | 'passive';
  memory: number;
  offset: ConstExpr | null;
  /** The segment's bytes (a view into the module bytes). */
  bytes: Uint8Array;
}

export interface FuncBody {
  /** Local declarations as run-length pairs, as in the binary. */
  locals: { count: number; type: ValType }[];
  /** Total number of declared locals (not counting parameters). */
  localCount: number;
  /** Byte range of the instructions, up to and including the final `end`. */
  start: number;
  end: number;
}

export interface CustomSection {
  name: string;
  /** Payload after the name (a view into the module bytes). */
  data: Uint8Array;
}

export interface NameSection {
  module?: string;
  /** Function index -> name. */
  functions: Map<number, string>;
  /** Function index -> local index -> name. */
  locals: Map<number, Map<number, string>>;
}

/** A decoded module. Indices follow the spec's index spaces (imports first). */
export interface ModuleAst {
  /** The module's bytes; ranges in ConstExpr and FuncBody point here. */
  bytes: Uint8Array;
  types: FuncType[];
  imports: Import[];
  /** Type index of each defined function (not imports). */
  funcs: number[];
  tables: TableType[];
  memories: MemoryType[];
  globals: Global[];
  exports: Export[];
  start: number | null;
  elems: ElemSegment[];
  datas: DataSegment[];
  /** Count from the data count section, or null when it is absent. */
  dataCount: number | null;
  codes: FuncBody[];
  customs: CustomSection[];
  names: NameSection | null;
  /** Derived: number of imported functions, tables, memories, globals. */
  numImportedFuncs: number;
  numImportedTables: number;
  numImportedMemories: number;
  numImportedGlobals: number;
}

/** What the validator records for execution. */
export interface FuncInfo {
  /** Maximum operand stack height in slots (not counting locals). */
  maxStack: number;
}

export interface ValidatedModule {
  ast: ModuleAst;
  /** One per defined function. */
  funcInfo: FuncInfo[];
  /** Function indices that may be referenced by ref.func (declared in elems, exports, or globals). */
  declaredFuncRefs: Set<number>;
}

/** Type of a function in the module's function index space. */
export function funcTypeOf(m: ModuleAst, funcIdx: number): FuncType {
  if (funcIdx < m.numImportedFuncs) {
    let n = 0;
    for (const imp of m.imports) {
      if (imp.desc.kind === 'func') {
        if (n === funcIdx) return m.types[imp.desc.type]!;
        n++;
      }
    }
  }
  return m.types[m.funcs[funcIdx - m.numImportedFuncs]!]!;
}
