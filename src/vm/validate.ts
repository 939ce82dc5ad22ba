/**
 * The validator: checks a decoded module against the typing rules of
 * WebAssembly 2.0 (MVP, multi-value, sign extension, saturating truncation,
 * bulk memory, reference types), plus the optional multi-memory, tail-call
 * and extended-const features.
 *
 * Module fields are checked in the order of the reference interpreter
 * (imports, globals, tables, memories, elems, datas, code, start, exports),
 * with its error texts ("type mismatch", "unknown memory 0", ...).
 *
 * Function bodies are checked with the algorithm of the specification's
 * appendix "Validation Algorithm": an operand stack of value types (with an
 * Unknown type for the stack-polymorphic code after `unreachable`, `br`, ...)
 * and a control stack of frames with their height and `unreachable` flag.
 * It runs as one flat loop over the instructions, never recursing on nesting
 * depth, and keeps both stacks in typed arrays reused across functions, so it
 * allocates nothing per instruction. While it runs it measures each
 * function's maximum operand stack height for the executor.
 */
import type { Features } from './api.js';
import { ValidationError } from './errors.js';
import { BLOCK_EMPTY, Imm, Op, blockValType, type OpInfo } from './opcodes.js';
import { CodeReader } from './reader.js';
import {
  ValType,
  isNumType,
  valTypeName,
  type ConstExpr,
  type FuncBody,
  type FuncInfo,
  type FuncType,
  type GlobalType,
  type Limits,
  type ModuleAst,
  type TableType,
  type ValidatedModule,
} from './types.js';

/** The type of a stack slot whose type the stack-polymorphic code leaves open. */
const UNKNOWN = 0;
/** Control frame "opcode" of the function body itself. */
const FUNC_FRAME = 0xff;
/** Functions with at most this many locals get a flat local-type table; beyond it, lookups search the declarations. */
const FLAT_LOCALS_LIMIT = 1 << 16;
const MAX_MEMORY_PAGES = 65536;
const MAX_TABLE_SIZE = 0xffff_ffff;

const EMPTY: readonly number[] = [];
/** One-element type lists for single-value block types, by value type code, so block types never allocate. */
const SINGLE: (readonly number[])[] = [];
for (const t of Object.values(ValType)) SINGLE[t] = [t];

/** What every check needs to know of the module: the index spaces, imports first. */
interface Context {
  m: ModuleAst;
  features: Features;
  /** Type index of every function. */
  funcTypes: number[];
  tables: TableType[];
  numMemories: number;
  globals: GlobalType[];
  numImportedGlobals: number;
  /** Function indices that `ref.func` may name inside function bodies. */
  refs: Set<number>;
  /** Reader for const expressions and bodies. */
  reader: CodeReader;
}

/**
 * Validates a decoded module. Throws a ValidationError with the reference
 * interpreter's message on the first rule broken; otherwise returns what the
 * executor needs (per-function stack bounds, the declared function references).
 */
export function validateModule(ast: ModuleAst, features: Features = {}): ValidatedModule {
  const ctx = checkImportsAndSpaces(ast, features);
  checkGlobals(ctx);
  for (const t of ast.tables) checkLimits(t.limits, MAX_TABLE_SIZE, 'table size must be at most 2^32-1');
  for (const mt of ast.memories) checkLimits(mt.limits, MAX_MEMORY_PAGES, 'memory size must be at most 65536 pages (4GiB)');
  checkElems(ctx);
  checkDatas(ctx);
  // Exports declare function references too; bodies are checked after every declaration is known.
  for (const e of ast.exports) if (e.kind === 'func') ctx.refs.add(e.index);

  // The decoder checks this ("function and code section have inconsistent lengths"); bodies rely on it.
  if (ast.codes.length !== ast.funcs.length) fail('function and code section have inconsistent lengths');
  const funcInfo: FuncInfo[] = new Array(ast.codes.length);
  const bodies = new BodyValidator(ctx);
  for (let i = 0; i < ast.codes.length; i++) funcInfo[i] = { maxStack: bodies.validate(i) };

  checkStart(ctx);
  checkExports(ctx);
  if (!features.multiMemory && ctx.numMemories > 1) fail('multiple memories');
  return { ast, funcInfo, declaredFuncRefs: ctx.refs };
}

function fail(message: string, func = -1, offset = -1): never {
  throw new ValidationError(message, func, offset);
}

// ---------------------------------------------------------------------------
// Module fields

function checkLimits(l: Limits, range: number, rangeMessage: string): void {
  if (l.min > range) fail(rangeMessage);
  if (l.max !== undefined) {
    if (l.max > range) fail(rangeMessage);
    if (l.min > l.max) fail('size minimum must not be greater than maximum');
  }
}

function checkTypeIndex(m: ModuleAst, idx: number): void {
  if (idx >= m.types.length) fail(`unknown type ${idx}`);
}

/** Checks the imports and the defined functions' type indices, and builds the index spaces. */
function checkImportsAndSpaces(m: ModuleAst, features: Features): Context {
  const funcTypes: number[] = [];
  const tables: TableType[] = [];
  const globals: GlobalType[] = [];
  let numMemories = 0;
  for (const imp of m.imports) {
    const d = imp.desc;
    switch (d.kind) {
      case 'func':
        checkTypeIndex(m, d.type);
        funcTypes.push(d.type);
        break;
      case 'table':
        checkLimits(d.type.limits, MAX_TABLE_SIZE, 'table size must be at most 2^32-1');
        tables.push(d.type);
        break;
      case 'memory':
        checkLimits(d.type.limits, MAX_MEMORY_PAGES, 'memory size must be at most 65536 pages (4GiB)');
        numMemories++;
        break;
      case 'global':
        globals.push(d.type);
        break;
    }
  }
  const numImportedGlobals = globals.length;
  for (const t of m.funcs) {
    checkTypeIndex(m, t);
    funcTypes.push(t);
  }
  for (const t of m.tables) tables.push(t);
  numMemories += m.memories.length;
  for (const g of m.globals) globals.push(g.type);
  const reader = new CodeReader(m.bytes);
  reader.multiMemory = features.multiMemory === true;
  return { m, features, funcTypes, tables, numMemories, globals, numImportedGlobals, refs: new Set(), reader };
}

function checkGlobals(ctx: Context): void {
  for (const g of ctx.m.globals) checkConst(ctx, g.init, g.type.type);
}

function checkElems(ctx: Context): void {
  const numFuncs = ctx.funcTypes.length;
  for (const seg of ctx.m.elems) {
    if (seg.funcs !== null) {
      for (const f of seg.funcs) {
        if (f >= numFuncs) fail(`unknown function ${f}`);
        ctx.refs.add(f);
      }
    } else {
      for (const e of seg.init) checkConst(ctx, e, seg.type);
    }
    if (seg.mode === 'active') {
      const table = ctx.tables[seg.table];
      if (table === undefined) fail(`unknown table ${seg.table}`);
      if (table.elem !== seg.type) {
        fail(`type mismatch: elem segment of ${valTypeName(seg.type)} for table of ${valTypeName(table.elem)}`);
      }
      checkConst(ctx, seg.offset!, ValType.i32);
    }
  }
}

function checkDatas(ctx: Context): void {
  for (const seg of ctx.m.datas) {
    if (seg.mode !== 'active') continue;
    if (seg.memory >= ctx.numMemories) fail(`unknown memory ${seg.memory}`);
    checkConst(ctx, seg.offset!, ValType.i32);
  }
}

function checkStart(ctx: Context): void {
  const s = ctx.m.start;
  if (s === null) return;
  if (s >= ctx.funcTypes.length) fail(`unknown function ${s}`);
  const ft = ctx.m.types[ctx.funcTypes[s]!]!;
  if (ft.params.length !== 0 || ft.results.length !== 0) fail('start function must not have parameters or results');
}

function checkExports(ctx: Context): void {
  const names = new Set<string>();
  for (const e of ctx.m.exports) {
    const [count, what] =
      e.kind === 'func' ? [ctx.funcTypes.length, 'function']
      : e.kind === 'table' ? [ctx.tables.length, 'table']
      : e.kind === 'memory' ? [ctx.numMemories, 'memory']
      : [ctx.globals.length, 'global'];
    if (e.index >= count) fail(`unknown ${what} ${e.index}`);
    if (names.has(e.name)) fail('duplicate export name');
    names.add(e.name);
  }
}

/**
 * Checks a constant expression yields one value of type `expected`. In 2.0
 * it may read only imported, immutable globals; extended-const adds integer
 * add/sub/mul. Like the reference interpreter, which checks that every
 * instruction is constant before typing any, a non-constant instruction is
 * reported before the first typing error. `ref.func` here declares its function.
 */
function checkConst(ctx: Context, expr: ConstExpr, expected: number): void {
  const r = ctx.reader;
  r.pos = expr.start;
  r.end = expr.end;
  const stack: number[] = [];
  /** The first typing error, thrown once the whole expression is known to be constant. */
  let typeError: string | null = null;
  for (;;) {
    const info = r.next();
    switch (info.id) {
      case Op.i32_const: stack.push(ValType.i32); break;
      case Op.i64_const: stack.push(ValType.i64); break;
      case Op.f32_const: stack.push(ValType.f32); break;
      case Op.f64_const: stack.push(ValType.f64); break;
      case Op.ref_null: stack.push(r.a); break;
      case Op.ref_func:
        if (r.a >= ctx.funcTypes.length) typeError ??= `unknown function ${r.a}`;
        ctx.refs.add(r.a);
        stack.push(ValType.funcref);
        break;
      case Op.global_get: {
        // Only imported globals are visible: the others are not initialised yet.
        if (r.a >= ctx.numImportedGlobals) fail(`unknown global ${r.a}`, -1, r.opPos);
        const g = ctx.globals[r.a]!;
        if (g.mutable) fail('constant expression required', -1, r.opPos);
        stack.push(g.type);
        break;
      }
      case 0x6a: case 0x6b: case 0x6c: // i32.add, i32.sub, i32.mul
      case 0x7c: case 0x7d: case 0x7e: { // i64.add, i64.sub, i64.mul
        if (!ctx.features.extendedConst) fail('constant expression required', -1, r.opPos);
        const t = info.id < 0x70 ? ValType.i32 : ValType.i64;
        if (stack.pop() !== t || stack.pop() !== t) typeError ??= `type mismatch in ${info.name}: expected two ${valTypeName(t)} operands`;
        stack.push(t);
        break;
      }
      case Op.end:
        if (typeError !== null) fail(typeError, -1, expr.start);
        if (stack.length !== 1 || stack[0] !== expected) {
          fail(`type mismatch: constant expression must give one ${valTypeName(expected)}`, -1, expr.start);
        }
        return;
      default:
        fail('constant expression required', -1, r.opPos);
    }
  }
}

// ---------------------------------------------------------------------------
// Function bodies

/** Validates function bodies one after another, reusing its stacks. */
class BodyValidator {
  private readonly ctx: Context;
  private readonly types: FuncType[];
  private readonly r: CodeReader;

  /** Operand stack: value type codes, UNKNOWN for the polymorphic ones. */
  private vals = new Uint8Array(1024);
  private sp = 0;
  private maxSp = 0;

  /** Control stack, one array per field. `bt` is the block type (the function's type index for its own frame). */
  private cOp = new Uint8Array(64);
  private cBt = new Int32Array(64);
  private cHeight = new Int32Array(64);
  private cUnreachable = new Uint8Array(64);
  private csp = 0;

  /** Local types: flat table, or (for huge local counts) run ends and types searched by index. */
  private locals = new Uint8Array(256);
  private numLocals = 0;
  private flatLocals = true;
  private params: readonly number[] = EMPTY;
  private runEnds: Float64Array = new Float64Array(0);
  private runTypes: Uint8Array = new Uint8Array(0);

  /** Defined-function index and instruction under check, for error reports. */
  private func = -1;
  private cur: OpInfo | null = null;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.types = ctx.m.types;
    this.r = ctx.reader;
  }

  /** Validates defined function `idx`; returns its maximum operand stack height. */
  validate(idx: number): number {
    const m = this.ctx.m;
    const body = m.codes[idx]!;
    const typeIdx = m.funcs[idx]!;
    this.func = idx;
    this.setupLocals(this.types[typeIdx]!, body);
    this.sp = 0;
    this.maxSp = 0;
    this.csp = 0;
    this.pushFrame(FUNC_FRAME, typeIdx);
    this.r.pos = body.start;
    this.r.end = body.end;
    this.run();
    if (this.r.pos !== body.end) this.fail('operators remaining after the end of the function');
    return this.maxSp;
  }

  /** The instruction loop; returns after the `end` that closes the function. */
  private run(): void {
    const r = this.r;
    const ctx = this.ctx;
    for (;;) {
      const info = r.next();
      this.cur = info;
      switch (info.id) {
        case Op.unreachable:
          this.setUnreachable();
          break;
        case Op.block:
        case Op.loop: {
          const bt = this.blockType(r.a);
          this.popVals(this.blockParams(bt));
          this.pushFrame(info.id, bt);
          break;
        }
        case Op.if: {
          const bt = this.blockType(r.a);
          this.pop(ValType.i32);
          this.popVals(this.blockParams(bt));
          this.pushFrame(Op.if, bt);
          break;
        }
        case Op.else: {
          const f = this.csp - 1;
          if (this.cOp[f] !== Op.if) this.fail('else without matching if');
          this.closeFrame(f);
          this.cOp[f] = Op.else;
          this.cUnreachable[f] = 0;
          this.pushVals(this.blockParams(this.cBt[f]!));
          break;
        }
        case Op.end: {
          const f = this.csp - 1;
          const bt = this.cBt[f]!;
          this.closeFrame(f);
          // An `if` without `else` has an implicit empty else, which must turn the params into the results.
          if (this.cOp[f] === Op.if && !sameTypes(this.blockParams(bt), this.blockResults(bt))) {
            this.fail('type mismatch: if without else must leave its parameters as results');
          }
          this.csp = f;
          if (f === 0) return;
          this.pushVals(this.blockResults(bt));
          break;
        }
        case Op.br:
          this.popVals(this.labelTypes(this.label(r.a)));
          this.setUnreachable();
          break;
        case Op.br_if: {
          const types = this.labelTypes(this.label(r.a));
          this.pop(ValType.i32);
          // Per the algorithm, the values left are the label's types, even where the popped ones were Unknown.
          this.popVals(types);
          this.pushVals(types);
          break;
        }
        case Op.br_table:
          this.brTable();
          break;
        case Op.return:
          this.popVals(this.blockResults(this.cBt[0]!));
          this.setUnreachable();
          break;
        case Op.call: {
          const ft = this.funcType(r.a);
          this.popVals(ft.params);
          this.pushVals(ft.results);
          break;
        }
        case Op.call_indirect: {
          const ft = this.indirectType(r.b, r.a);
          this.pop(ValType.i32);
          this.popVals(ft.params);
          this.pushVals(ft.results);
          break;
        }
        case Op.return_call: {
          if (!ctx.features.tailCall) this.fail('illegal opcode return_call (tail calls are not enabled)');
          const ft = this.funcType(r.a);
          this.checkTailResults(ft);
          this.popVals(ft.params);
          this.setUnreachable();
          break;
        }
        case Op.return_call_indirect: {
          if (!ctx.features.tailCall) this.fail('illegal opcode return_call_indirect (tail calls are not enabled)');
          const ft = this.indirectType(r.b, r.a);
          this.checkTailResults(ft);
          this.pop(ValType.i32);
          this.popVals(ft.params);
          this.setUnreachable();
          break;
        }
        case Op.drop:
          this.pop(UNKNOWN);
          break;
        case Op.select:
          this.select();
          break;
        case Op.select_t: {
          if (r.types.length !== 1) this.fail('invalid result arity');
          const t = r.types[0]!;
          this.pop(ValType.i32);
          this.pop(t);
          this.pop(t);
          this.push(t);
          break;
        }
        case Op.local_get:
          this.push(this.localType(r.a));
          break;
        case Op.local_set:
          this.pop(this.localType(r.a));
          break;
        case Op.local_tee: {
          const t = this.localType(r.a);
          this.pop(t);
          this.push(t);
          break;
        }
        case Op.global_get:
          this.push(this.global(r.a).type);
          break;
        case Op.global_set: {
          const g = this.global(r.a);
          if (!g.mutable) this.fail('global is immutable');
          this.pop(g.type);
          break;
        }
        case Op.table_get: {
          const t = this.table(r.a).elem;
          this.pop(ValType.i32);
          this.push(t);
          break;
        }
        case Op.table_set: {
          const t = this.table(r.a).elem;
          this.pop(t);
          this.pop(ValType.i32);
          break;
        }
        case Op.table_grow: {
          const t = this.table(r.a).elem;
          this.pop(ValType.i32);
          this.pop(t);
          this.push(ValType.i32);
          break;
        }
        case Op.table_fill: {
          const t = this.table(r.a).elem;
          this.pop(ValType.i32);
          this.pop(t);
          this.pop(ValType.i32);
          break;
        }
        case Op.ref_null:
          this.push(r.a);
          break;
        case Op.ref_is_null: {
          const t = this.pop(UNKNOWN);
          if (t !== UNKNOWN && (isNumType(t) || t === ValType.v128)) this.mismatchMessage(`expected a reference, got ${valTypeName(t)}`);
          this.push(ValType.i32);
          break;
        }
        case Op.ref_func:
          if (r.a >= ctx.funcTypes.length) this.fail(`unknown function ${r.a}`);
          if (!ctx.refs.has(r.a)) this.fail(`undeclared function reference ${r.a}`);
          this.push(ValType.funcref);
          break;
        default: {
          // Everything else has a fixed signature in the opcode table.
          const pops = info.pops;
          const pushes = info.pushes;
          if (pops === null || pushes === null) this.fail(`unsupported instruction ${info.name}`);
          if (info.imm !== Imm.none) this.checkImmediates(info);
          for (let i = pops.length - 1; i >= 0; i--) this.pop(pops[i]!);
          for (let i = 0; i < pushes.length; i++) this.push(pushes[i]!);
        }
      }
    }
  }

  /** Index checks for the fixed-signature instructions that have index or memarg immediates. */
  private checkImmediates(info: OpInfo): void {
    const r = this.r;
    switch (info.imm) {
      case Imm.memarg:
        this.memory(r.c);
        // The alignment is a log2; it may not exceed the access width.
        if (r.a > info.align) this.fail('alignment must not be larger than natural');
        break;
      case Imm.mem:
        this.memory(r.a);
        break;
      case Imm.memInit:
        this.memory(r.b);
        if (r.a >= this.ctx.m.datas.length) this.fail(`unknown data segment ${r.a}`);
        break;
      case Imm.dataIdx:
        if (r.a >= this.ctx.m.datas.length) this.fail(`unknown data segment ${r.a}`);
        break;
      case Imm.memCopy:
        this.memory(r.a);
        this.memory(r.b);
        break;
      case Imm.table:
        this.table(r.a);
        break;
      case Imm.tableInit: {
        const t = this.table(r.b).elem;
        const e = this.elemType(r.a);
        if (t !== e) this.mismatchMessage(`table of ${valTypeName(t)} initialised from elem segment of ${valTypeName(e)}`);
        break;
      }
      case Imm.elemIdx:
        this.elemType(r.a);
        break;
      case Imm.tableCopy: {
        const dst = this.table(r.a).elem;
        const src = this.table(r.b).elem;
        if (dst !== src) this.mismatchMessage(`table.copy from ${valTypeName(src)} to ${valTypeName(dst)}`);
        break;
      }
      default:
        break; // constants
    }
  }

  private brTable(): void {
    const r = this.r;
    this.pop(ValType.i32);
    const dflt = this.labelTypes(this.label(r.a));
    const arity = dflt.length;
    const targets = r.targets;
    for (let i = 0; i < targets.length; i++) {
      const types = this.labelTypes(this.label(targets[i]!));
      if (types.length !== arity) this.mismatchMessage('br_table labels have different arities');
      this.checkTop(types);
    }
    this.popVals(dflt);
    this.setUnreachable();
  }

  /** Untyped select: both operands numeric (or both vectors), equal unless one is Unknown. */
  private select(): void {
    this.pop(ValType.i32);
    const t1 = this.pop(UNKNOWN);
    const t2 = this.pop(UNKNOWN);
    const num = (isNumType(t1) || t1 === UNKNOWN) && (isNumType(t2) || t2 === UNKNOWN);
    const vec = (t1 === ValType.v128 || t1 === UNKNOWN) && (t2 === ValType.v128 || t2 === UNKNOWN);
    if (!num && !vec) this.mismatchMessage('select without type needs numeric operands');
    if (t1 !== t2 && t1 !== UNKNOWN && t2 !== UNKNOWN) this.mismatchMessage(`select of ${valTypeName(t2)} and ${valTypeName(t1)}`);
    this.push(t1 === UNKNOWN ? t2 : t1);
  }

  /** A tail call's callee must return exactly what the caller returns. */
  private checkTailResults(ft: FuncType): void {
    if (!sameTypes(ft.results, this.blockResults(this.cBt[0]!))) this.mismatchMessage('tail call results differ from the function results');
  }

  // --- operand stack -------------------------------------------------------

  private push(t: number): void {
    if (this.sp === this.vals.length) this.vals = grow(this.vals);
    this.vals[this.sp++] = t;
    if (this.sp > this.maxSp) this.maxSp = this.sp;
  }

  /** Pops one value that must match `expect` (UNKNOWN accepts any); returns its type. */
  private pop(expect: number): number {
    const f = this.csp - 1;
    if (this.sp === this.cHeight[f]) {
      if (this.cUnreachable[f] === 1) return UNKNOWN;
      this.mismatch(expect, -1);
    }
    const actual = this.vals[--this.sp]!;
    if (actual !== expect && actual !== UNKNOWN && expect !== UNKNOWN) this.mismatch(expect, actual);
    return actual;
  }

  private popVals(types: readonly number[]): void {
    for (let i = types.length - 1; i >= 0; i--) this.pop(types[i]!);
  }

  private pushVals(types: readonly number[]): void {
    for (let i = 0; i < types.length; i++) this.push(types[i]!);
  }

  /** Checks the top of the stack matches `types` without popping (br_table's non-default targets). */
  private checkTop(types: readonly number[]): void {
    const f = this.csp - 1;
    const height = this.cHeight[f]!;
    for (let i = types.length - 1, p = this.sp - 1; i >= 0; i--, p--) {
      const expect = types[i]!;
      if (p < height) {
        if (this.cUnreachable[f] === 1) return; // the rest is Unknown
        this.mismatch(expect, -1);
      }
      const actual = this.vals[p]!;
      if (actual !== expect && actual !== UNKNOWN) this.mismatch(expect, actual);
    }
  }

  private setUnreachable(): void {
    const f = this.csp - 1;
    this.sp = this.cHeight[f]!;
    this.cUnreachable[f] = 1;
  }

  // --- control stack -------------------------------------------------------

  private pushFrame(op: number, bt: number): void {
    if (this.csp === this.cOp.length) {
      this.cOp = grow(this.cOp);
      this.cBt = grow(this.cBt);
      this.cHeight = grow(this.cHeight);
      this.cUnreachable = grow(this.cUnreachable);
    }
    const f = this.csp++;
    this.cOp[f] = op;
    this.cBt[f] = bt;
    this.cHeight[f] = this.sp;
    this.cUnreachable[f] = 0;
    if (op !== FUNC_FRAME) this.pushVals(this.blockParams(bt));
  }

  /** Pops frame `f`'s results and checks nothing else is left above its height. */
  private closeFrame(f: number): void {
    this.popVals(this.blockResults(this.cBt[f]!));
    if (this.sp !== this.cHeight[f]) this.mismatchMessage(`${this.sp - this.cHeight[f]!} values left on the stack at the end of the block`);
  }

  /** Frame index of label `l`. */
  private label(l: number): number {
    if (l >= this.csp) this.fail(`unknown label ${l}`);
    return this.csp - 1 - l;
  }

  /** The types a branch to frame `f` carries: a loop's params, any other block's results. */
  private labelTypes(f: number): readonly number[] {
    const bt = this.cBt[f]!;
    return this.cOp[f] === Op.loop ? this.blockParams(bt) : this.blockResults(bt);
  }

  private blockType(bt: number): number {
    if (bt >= 0) {
      if (bt >= this.types.length) this.fail(`unknown type ${bt}`);
    } else if (bt !== BLOCK_EMPTY && blockValType(bt) === 0) {
      this.fail(`malformed block type ${bt}`);
    }
    return bt;
  }

  private blockParams(bt: number): readonly number[] {
    return bt >= 0 ? this.types[bt]!.params : EMPTY;
  }

  private blockResults(bt: number): readonly number[] {
    if (bt >= 0) return this.types[bt]!.results;
    return bt === BLOCK_EMPTY ? EMPTY : SINGLE[bt + 0x80]!;
  }

  // --- index spaces --------------------------------------------------------

  private funcType(idx: number): FuncType {
    if (idx >= this.ctx.funcTypes.length) this.fail(`unknown function ${idx}`);
    return this.types[this.ctx.funcTypes[idx]!]!;
  }

  /** Type of a call_indirect through table `tableIdx` with type index `typeIdx`; the table must hold funcrefs. */
  private indirectType(tableIdx: number, typeIdx: number): FuncType {
    const t = this.table(tableIdx);
    if (typeIdx >= this.types.length) this.fail(`unknown type ${typeIdx}`);
    if (t.elem !== ValType.funcref) this.mismatchMessage(`call_indirect through a table of ${valTypeName(t.elem)}`);
    return this.types[typeIdx]!;
  }

  private table(idx: number): TableType {
    const t = this.ctx.tables[idx];
    if (t === undefined) this.fail(`unknown table ${idx}`);
    return t;
  }

  private memory(idx: number): void {
    if (idx >= this.ctx.numMemories) this.fail(`unknown memory ${idx}`);
  }

  private global(idx: number): GlobalType {
    const g = this.ctx.globals[idx];
    if (g === undefined) this.fail(`unknown global ${idx}`);
    return g;
  }

  private elemType(idx: number): number {
    const e = this.ctx.m.elems[idx];
    if (e === undefined) this.fail(`unknown elem segment ${idx}`);
    return e.type;
  }

  // --- locals --------------------------------------------------------------

  private setupLocals(ft: FuncType, body: FuncBody): void {
    const params = ft.params;
    let total = params.length;
    for (const run of body.locals) total += run.count;
    this.numLocals = total;
    this.params = params;
    this.flatLocals = total <= FLAT_LOCALS_LIMIT;
    if (this.flatLocals) {
      if (this.locals.length < total) this.locals = new Uint8Array(Math.max(total, this.locals.length * 2));
      const l = this.locals;
      let n = 0;
      for (let i = 0; i < params.length; i++) l[n++] = params[i]!;
      for (const run of body.locals) {
        l.fill(run.type, n, n + run.count);
        n += run.count;
      }
    } else {
      // Too many to tabulate (counts are cheap to declare): keep the run ends and search them.
      const runs = body.locals;
      this.runEnds = new Float64Array(runs.length);
      this.runTypes = new Uint8Array(runs.length);
      let end = params.length;
      for (let i = 0; i < runs.length; i++) {
        end += runs[i]!.count;
        this.runEnds[i] = end;
        this.runTypes[i] = runs[i]!.type;
      }
    }
  }

  private localType(idx: number): number {
    if (idx >= this.numLocals) this.fail(`unknown local ${idx}`);
    if (this.flatLocals) return this.locals[idx]!;
    if (idx < this.params.length) return this.params[idx]!;
    // First run whose end is past idx.
    const ends = this.runEnds;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! > idx) hi = mid;
      else lo = mid + 1;
    }
    return this.runTypes[lo]!;
  }

  // --- errors --------------------------------------------------------------

  private fail(message: string): never {
    throw new ValidationError(message, this.func, this.r.opPos);
  }

  private mismatch(expected: number, actual: number): never {
    const want = expected === UNKNOWN ? 'a value' : valTypeName(expected);
    const got = actual < 0 ? 'an empty stack' : valTypeName(actual);
    this.mismatchMessage(`expected ${want}, got ${got}`);
  }

  private mismatchMessage(detail: string): never {
    const where = this.cur === null ? '' : ` in ${this.cur.name}`;
    this.fail(`type mismatch${where}: ${detail}`);
  }
}

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A typed array twice the size with the same contents. */
function grow<T extends Uint8Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
