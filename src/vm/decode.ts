/**
 * The binary decoder: WebAssembly 2.0 module bytes to a ModuleAst.
 *
 * It covers the whole 2.0 binary format (MVP, multi-value, sign extension,
 * saturating truncation, bulk memory, reference types): every section with its
 * order enforced, custom sections anywhere (kept in `customs`, the `name`
 * section parsed into `names`), the 8 element-segment and 3 data-segment
 * encodings, the data count section. Function bodies and constant expressions
 * are kept as byte ranges, but every one is scanned here, instruction by
 * instruction, so that a malformed body is a decode error and later stages can
 * read the ranges without checking well-formedness again.
 *
 * Error texts are those of the spec's reference interpreter, and so is the way
 * sections are read: a section's contents are read from the input as a whole
 * and only then compared with the declared size ("section size mismatch"),
 * rather than inside a window of that size. The spec testsuite depends on it:
 * a function body missing its `end` reports "END opcode expected", "section
 * size mismatch" or "unexpected end of section or function" depending on what
 * follows it, and a vector running past its section can be "length out of
 * bounds". Function bodies are read the same way and compared with their size.
 *
 * Hostile input: every count is checked against the bytes left before it sizes
 * anything (Reader.count), nothing recurses on the input's structure (block
 * nesting is a byte stack), and every failure is a DecodeError. Decoding is
 * linear in the input's size.
 */
import type { Features } from './api.js';
import { DecodeError } from './errors.js';
import { Op } from './opcodes.js';
import { CodeReader, Reader } from './reader.js';
import type {
  ConstExpr,
  CustomSection,
  DataSegment,
  ElemSegment,
  Export,
  ExternKind,
  FuncBody,
  FuncType,
  Global,
  GlobalType,
  Import,
  Limits,
  MemoryType,
  ModuleAst,
  NameSection,
  TableType,
  ValType,
} from './types.js';

/**
 * Most locals one function may declare. The spec's limit is 2^32-1; like V8
 * we stop at 50,000 ("too many locals"), far above what compilers emit, so
 * that later stages can allocate a frame per call without a second thought.
 */
export const MAX_LOCALS = 50_000;

/**
 * Most params, and most results, of one function type: the WebAssembly JS
 * API's implementation limit (V8's too). Validating or lowering a call or a
 * block costs time in its type's arity, so without a bound a small module
 * (one type of 100,000 params, 100,000 calls) would cost 10^10 steps.
 */
export const MAX_FUNC_ARITY = 1000;

const MAGIC = 0x6d736100; // "\0asm", little-endian
const VERSION = 1;

/** Section ids. */
const Sec = {
  custom: 0, type: 1, import: 2, func: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, elem: 9, code: 10, data: 11, dataCount: 12,
} as const;

/** Position of each non-custom section id in the required order (the data count section comes before code). */
const SECTION_RANK = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10];

const EXTERN_KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global'];

/** Kinds of open blocks while scanning an expression. */
const FRAME_BLOCK = 0; // the function or const expression itself, block, loop, or an if after its else
const FRAME_IF = 1; // an if that may still take an else

/**
 * Decodes a binary module. Throws DecodeError, with the spec's message text,
 * when the bytes are not a well-formed module. Type rules (indices in range,
 * operand types...) are left to the validator.
 */
export function decodeModule(bytes: Uint8Array, features: Features = {}): ModuleAst {
  return new ModuleDecoder(bytes, features).decode();
}

class ModuleDecoder {
  private readonly bytes: Uint8Array;
  private readonly features: Features;
  /** Reads the whole input; sections are read through it (see the header comment). */
  private readonly r: CodeReader;
  private readonly m: ModuleAst;
  /** Offset of the first memory.init or data.drop in a body, if any: they need a data count section. */
  private dataIndexUseAt = -1;
  private hasDataSection = false;
  /** Open blocks while scanning an expression, one byte each; reused and grown by doubling. */
  private frames: Uint8Array = new Uint8Array(64);

  constructor(bytes: Uint8Array, features: Features) {
    this.bytes = bytes;
    this.features = features;
    this.r = new CodeReader(bytes);
    this.r.multiMemory = features.multiMemory === true;
    this.m = {
      bytes,
      types: [],
      imports: [],
      funcs: [],
      tables: [],
      memories: [],
      globals: [],
      exports: [],
      start: null,
      elems: [],
      datas: [],
      dataCount: null,
      codes: [],
      customs: [],
      names: null,
      numImportedFuncs: 0,
      numImportedTables: 0,
      numImportedMemories: 0,
      numImportedGlobals: 0,
    };
  }

  decode(): ModuleAst {
    this.header();
    this.sections();
    this.checkModule();
    this.countImports();
    return this.m;
  }

  // ---- Module structure ----

  private header(): void {
    const r = this.r;
    if (this.bytes.length < 4) throw new DecodeError('unexpected end', this.bytes.length);
    if (r.i32raw() !== MAGIC) throw new DecodeError('magic header not detected', 0);
    if (this.bytes.length < 8) throw new DecodeError('unexpected end', this.bytes.length);
    if (r.i32raw() !== VERSION) throw new DecodeError('unknown binary version', 4);
  }

  private sections(): void {
    const r = this.r;
    let lastRank = 0;
    while (!r.atEnd()) {
      const idPos = r.pos;
      const id = r.byte();
      if (id > Sec.dataCount) throw new DecodeError('malformed section id', idPos);
      if (id !== Sec.custom) {
        // A section out of order (or repeated) ends the module as far as the spec's grammar goes.
        const rank = SECTION_RANK[id]!;
        if (rank <= lastRank) throw new DecodeError('unexpected content after last section', idPos);
        lastRank = rank;
      }
      const size = r.count();
      const start = r.pos;
      const end = start + size;
      r.withinSection = true;
      this.section(id, end);
      r.withinSection = false;
      if (r.pos !== end) throw new DecodeError('section size mismatch', start);
    }
  }

  private section(id: number, end: number): void {
    const m = this.m;
    switch (id) {
      case Sec.custom: this.customSection(end); break;
      case Sec.type: this.vec(() => m.types.push(this.funcType())); break;
      case Sec.import: this.vec(() => m.imports.push(this.import())); break;
      case Sec.func: this.vec(() => m.funcs.push(this.r.u32())); break;
      case Sec.table: this.vec(() => m.tables.push(this.tableType())); break;
      case Sec.memory: this.vec(() => m.memories.push(this.memoryType())); break;
      case Sec.global: this.vec(() => m.globals.push(this.global())); break;
      case Sec.export: this.vec(() => m.exports.push(this.export())); break;
      case Sec.start: m.start = this.r.u32(); break;
      case Sec.elem: this.vec(() => m.elems.push(this.elemSegment())); break;
      case Sec.dataCount: m.dataCount = this.r.u32(); break;
      case Sec.code: this.vec(() => m.codes.push(this.funcBody())); break;
      case Sec.data:
        this.hasDataSection = true;
        this.vec(() => m.datas.push(this.dataSegment()));
        break;
    }
  }

  /** Checks that span sections, in the reference interpreter's order. */
  private checkModule(): void {
    const m = this.m;
    const end = this.bytes.length;
    if (m.funcs.length !== m.codes.length) {
      throw new DecodeError('function and code section have inconsistent lengths', end);
    }
    if (m.dataCount !== null && m.dataCount !== m.datas.length) {
      throw new DecodeError('data count and data section have inconsistent lengths', end);
    }
    // The spec requires a data count section for any memory.init or data.drop. We require it only
    // when there is a data section too: without one there are no segments to count, an index is
    // simply unknown, and the validator says so ("unknown data segment"), as the converted
    // testsuite expects of such modules (wast2json emits no data count section for them).
    if (m.dataCount === null && this.hasDataSection && this.dataIndexUseAt >= 0) {
      throw new DecodeError('data count section required', this.dataIndexUseAt);
    }
  }

  private countImports(): void {
    const m = this.m;
    for (const imp of m.imports) {
      switch (imp.desc.kind) {
        case 'func': m.numImportedFuncs++; break;
        case 'table': m.numImportedTables++; break;
        case 'memory': m.numImportedMemories++; break;
        case 'global': m.numImportedGlobals++; break;
      }
    }
  }

  /** Reads a vector: a checked count, then that many elements. */
  private vec(element: () => void): void {
    const n = this.r.count();
    for (let i = 0; i < n; i++) element();
  }

  // ---- Custom sections ----

  private customSection(end: number): void {
    const r = this.r;
    const name = r.name();
    // The name is read like any other content. A name running past the section, or a section
    // running past the input (its size passed Reader.count, which counts the size's own bytes),
    // leaves the reference interpreter skipping a negative or too long distance: its EOS.
    if (r.pos > end || end > this.bytes.length) {
      throw new DecodeError('unexpected end of section or function', Math.min(end, this.bytes.length));
    }
    const data = this.bytes.subarray(r.pos, end);
    if (name === 'name' && this.m.names === null) this.m.names = parseNameSection(this.bytes, r.pos, end);
    this.m.customs.push({ name, data } satisfies CustomSection);
    r.pos = end;
  }

  // ---- Types ----

  private funcType(): FuncType {
    const r = this.r;
    const form = r.typeCode();
    if (form !== 0x60) throw new DecodeError('malformed function type', r.pos - 1);
    const at = r.pos;
    const params = this.valTypes();
    const results = this.valTypes();
    if (params.length > MAX_FUNC_ARITY || results.length > MAX_FUNC_ARITY) {
      throw new DecodeError(`function type with ${params.length} params and ${results.length} results: more than the limit of ${MAX_FUNC_ARITY}`, at);
    }
    return { params, results };
  }

  private valTypes(): ValType[] {
    const ts: ValType[] = [];
    this.vec(() => ts.push(this.r.valType() as ValType));
    return ts;
  }

  private refType(): ValType {
    const t = this.r.typeCode();
    if (t !== 0x70 && t !== 0x6f) throw new DecodeError('malformed reference type', this.r.pos - 1);
    return t;
  }

  /** Limits: a flag (read as the spec's u1, hence its LEB128 errors), a minimum, and a maximum when the flag is 1. */
  private limits(): Limits {
    const r = this.r;
    const flag = r.byte();
    if ((flag & 0x7f) > 1) throw new DecodeError('integer too large', r.pos - 1);
    if (flag & 0x80) throw new DecodeError('integer representation too long', r.pos - 1);
    const min = r.u32();
    return flag === 1 ? { min, max: r.u32() } : { min };
  }

  private tableType(): TableType {
    const elem = this.refType();
    return { elem, limits: this.limits() };
  }

  private memoryType(): MemoryType {
    return { limits: this.limits() };
  }

  private globalType(): GlobalType {
    const r = this.r;
    const type = r.valType() as ValType;
    const mut = r.byte();
    if (mut > 1) throw new DecodeError('malformed mutability', r.pos - 1);
    return { type, mutable: mut === 1 };
  }

  // ---- Imports, globals, exports ----

  private import(): Import {
    const r = this.r;
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    switch (kind) {
      case 0: return { module, name, desc: { kind: 'func', type: r.u32() } };
      case 1: return { module, name, desc: { kind: 'table', type: this.tableType() } };
      case 2: return { module, name, desc: { kind: 'memory', type: this.memoryType() } };
      case 3: return { module, name, desc: { kind: 'global', type: this.globalType() } };
      default: throw new DecodeError('malformed import kind', r.pos - 1);
    }
  }

  private global(): Global {
    const type = this.globalType();
    return { type, init: this.constExpr() };
  }

  private export(): Export {
    const r = this.r;
    const name = r.name();
    const kind = EXTERN_KINDS[r.byte()];
    if (kind === undefined) throw new DecodeError('malformed export kind', r.pos - 1);
    return { name, kind, index: r.u32() };
  }

  // ---- Segments ----

  /**
   * An element segment. Flag bits: 1 = not active (with 2: declarative, else
   * passive); 2 = explicit table index (active) or an element type; 4 = the
   * elements are expressions instead of function indices.
   */
  private elemSegment(): ElemSegment {
    const r = this.r;
    const flagsPos = r.pos;
    const flags = r.u32();
    if (flags > 7) throw new DecodeError('malformed elements segment kind', flagsPos);
    const active = (flags & 1) === 0;
    const mode = active ? 'active' : flags & 2 ? 'declarative' : 'passive';
    const table = active && flags & 2 ? r.u32() : 0;
    const offset = active ? this.constExpr() : null;
    const exprs = (flags & 4) !== 0;
    // Flags 0 and 4 imply funcref; the others spell out a reference type (expressions) or an element kind (indices).
    let type: ValType = 0x70;
    if ((flags & 3) !== 0) {
      if (exprs) type = this.refType();
      else if (r.byte() !== 0x00) throw new DecodeError('malformed element kind', r.pos - 1);
    }
    const init: ConstExpr[] = [];
    let funcs: number[] | null = null;
    if (exprs) {
      this.vec(() => init.push(this.constExpr()));
    } else {
      const fs: number[] = [];
      this.vec(() => fs.push(r.u32()));
      funcs = fs;
    }
    return { mode, table, offset, type, init, funcs };
  }

  /** A data segment: flags 0 (active, memory 0), 1 (passive), 2 (active, explicit memory). */
  private dataSegment(): DataSegment {
    const r = this.r;
    const flagsPos = r.pos;
    const flags = r.u32();
    if (flags > 2) throw new DecodeError('malformed data segment kind', flagsPos);
    const memory = flags === 2 ? r.u32() : 0;
    const offset = flags === 1 ? null : this.constExpr();
    const bytes = r.take(r.count());
    return { mode: flags === 1 ? 'passive' : 'active', memory, offset, bytes };
  }

  // ---- Code ----

  private funcBody(): FuncBody {
    const r = this.r;
    const size = r.count();
    const start = r.pos;
    const end = start + size;
    const locals: FuncBody['locals'] = [];
    let localCount = 0; // a double: exact far beyond any count that passes the check below
    this.vec(() => {
      const count = r.u32();
      const type = r.valType() as ValType;
      locals.push({ count, type });
      localCount += count;
    });
    if (localCount > MAX_LOCALS) throw new DecodeError('too many locals', start);
    const codeStart = r.pos;
    this.scanExpr(true);
    if (r.pos !== end) throw new DecodeError('section size mismatch', start);
    return { locals, localCount, start: codeStart, end };
  }

  /** A constant expression's range, including its final `end`. */
  private constExpr(): ConstExpr {
    const start = this.r.pos;
    this.scanExpr(false);
    return { start, end: this.r.pos };
  }

  /**
   * Reads instructions up to the `end` that closes the expression, checking
   * each is well-formed. Blocks are tracked on a byte stack, not by recursion.
   * Like the reference interpreter, an `else` where no `if` can take one is
   * where an `end` was expected.
   */
  private scanExpr(isBody: boolean): void {
    const r = this.r;
    let frames = this.frames;
    let depth = 1;
    frames[0] = FRAME_BLOCK;
    for (;;) {
      const op = r.next();
      switch (op.id) {
        case Op.block:
        case Op.loop:
        case Op.if:
          if (depth === frames.length) frames = this.growFrames();
          frames[depth++] = op.id === Op.if ? FRAME_IF : FRAME_BLOCK;
          break;
        case Op.else:
          if (frames[depth - 1] !== FRAME_IF) throw new DecodeError('END opcode expected', r.opPos);
          frames[depth - 1] = FRAME_BLOCK;
          break;
        case Op.end:
          if (--depth === 0) return;
          break;
        case Op.return_call:
        case Op.return_call_indirect:
          if (!this.features.tailCall) throw new DecodeError('illegal opcode', r.opPos);
          break;
        case Op.memory_init:
        case Op.data_drop:
          if (isBody && this.dataIndexUseAt < 0) this.dataIndexUseAt = r.opPos;
          break;
      }
    }
  }

  private growFrames(): Uint8Array {
    const bigger = new Uint8Array(this.frames.length * 2);
    bigger.set(this.frames);
    this.frames = bigger;
    return bigger;
  }
}

// ---- The name section ----

/**
 * Parses the `name` custom section's payload, [start, end) of `bytes`:
 * subsection 0 (module name), 1 (function names), 2 (local names); others are
 * skipped. Custom sections are not validated by the spec, so a malformed one
 * must not fail the module: parsing stops at the first error and keeps what
 * it had read.
 */
function parseNameSection(bytes: Uint8Array, start: number, end: number): NameSection {
  const names: NameSection = { functions: new Map(), locals: new Map() };
  const r = new Reader(bytes, start, end);
  try {
    while (!r.atEnd()) {
      const id = r.byte();
      const size = r.count();
      // count() admits a size up to the bytes left from the size's own first byte: refuse the few more.
      if (size > r.end - r.pos) break;
      const sub = new Reader(bytes, r.pos, r.pos + size);
      r.pos += size;
      if (id === 0) names.module = sub.name();
      else if (id === 1) readNameMap(sub, names.functions);
      else if (id === 2) readIndirectNameMap(sub, names.locals);
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  return names;
}

function readNameMap(r: Reader, into: Map<number, string>): void {
  const n = r.count();
  for (let i = 0; i < n; i++) {
    const index = r.u32();
    into.set(index, r.name());
  }
}

function readIndirectNameMap(r: Reader, into: Map<number, Map<number, string>>): void {
  const n = r.count();
  for (let i = 0; i < n; i++) {
    const index = r.u32();
    const inner = new Map<number, string>();
    into.set(index, inner);
    readNameMap(r, inner);
  }
}
