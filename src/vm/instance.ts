/**
 * Instantiation: links a module's imports, creates its memories, tables,
 * globals and functions, applies active segments, runs the start function,
 * and presents the exports (both as raw handles and in the shape of the
 * WebAssembly JS API).
 */
import { Exhaustion, LinkError, Trap } from './errors.js';
import { Machine } from './interp.js';
import { CodeReader } from './reader.js';
import { Op } from './opcodes.js';
import { Func, Global, Memory, Table, canonicalTypeId, idToRef, readValue, writeValue, type Inst } from './runtime.js';
import { funcTypeKey, type ConstExpr, type FuncType, type ModuleAst } from './types.js';
import { fromJs, toJs, typeName, type Value } from './values.js';
import { Module, type CompileOptions } from './module.js';
import type { Outcome } from './api.js';

/** What can be given for an import. A plain JS function gets the type the import declares. */
export type ImportValue = Func | Memory | Table | Global | ((...args: any[]) => unknown) | number | bigint;
/** Imports by module name, then field name. */
export type Imports = Record<string, Record<string, ImportValue | undefined> | undefined>;
/** An export's raw handle. */
export type ExportValue = Func | Memory | Table | Global;

/** Limits of one instance's execution. */
export interface InstanceOptions {
  /** Maximum nested wasm calls before "call stack exhausted" (default 200,000). */
  maxCallDepth?: number;
  /** Maximum bytes of the value stack (default 128 MiB). */
  maxStackBytes?: number;
  /** Pages the instance's own memories may have, initially or by growing (default 65536, the 4 GiB maximum). */
  maxMemoryPages?: number;
  /** Elements the instance's own tables may have (default 10,000,000). */
  maxTableElements?: number;
}

/** JS functions made for exported wasm functions, mapped back to their Func so that re-importing keeps identity. */
const jsFuncs = new WeakMap<object, Func>();

/** The Func behind a JS function made by `Instance.exports`, if it is one. */
export function funcOfJs(f: unknown): Func | undefined {
  return typeof f === 'function' ? jsFuncs.get(f) : undefined;
}

/** Makes a JS-callable function from a Func, as the WebAssembly JS API does for exports. Traps are thrown. */
export function jsFunction(f: Func): (...args: unknown[]) => unknown {
  const { params, results } = f.type;
  const fn = (...args: unknown[]): unknown => {
    const vals = params.map((t, i) => fromJs(typeName(t), args[i]));
    const out = f.invoke(vals);
    if (out.kind === 'trapped') throw out.trap;
    if (results.length === 0) return undefined;
    if (results.length === 1) return toJs(out.results[0]!);
    return out.results.map(toJs);
  };
  jsFuncs.set(fn, f);
  return fn;
}

/** Wraps a plain JS function as a host function of the given type (JS values in and out). */
function hostFromJs(type: FuncType, fn: (...args: any[]) => unknown): Func {
  return Func.host(type, (args) => {
    const r = fn(...args.map(toJs));
    if (type.results.length === 0) return [];
    if (type.results.length === 1) return [fromJs(typeName(type.results[0]!), r)];
    const arr = Array.from(r as Iterable<unknown>);
    return type.results.map((t, i) => fromJs(typeName(t), arr[i]));
  });
}

// Calls of wasm functions from outside: arguments into the machine's stack, run, results out.
Func.invoker = (f: Func, args: Value[]): Outcome => {
  const m = f.inst!.machine as Machine;
  const { params, results } = f.type;
  const base = m.top;
  const words = 2 * Math.max(params.length, results.length);
  if (!m.ensureStack(base + words)) return { kind: 'trapped', trap: new Exhaustion('call stack exhausted') };
  for (let i = 0; i < args.length; i++) writeValue(args[i]!, m.S, base + 2 * i);
  const t = m.call(f.index, base);
  if (t !== null) return { kind: 'trapped', trap: t };
  const out: Value[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) out[i] = readValue(results[i]!, m.S, base + 2 * i);
  return { kind: 'done', results: out };
};

/** An instance of a module. Construction throws LinkError, or a Trap when initialisation or the start function traps. */
export class Instance {
  readonly module: Module;
  /** Exports as the WebAssembly JS API gives them: functions are callable, the rest are Memory, Table, Global. */
  readonly exports: Record<string, unknown>;
  private readonly handles = new Map<string, ExportValue>();
  /** The engine's view of this instance. */
  readonly inst: Inst;

  constructor(module: Module, imports: Imports = {}, options: InstanceOptions = {}) {
    this.module = module;
    const ast = module.ast;
    const inst: Inst = {
      module: module.validated,
      lowered: module.lowered,
      funcs: [],
      tables: [],
      memories: [],
      globals: [],
      globalWords: new Int32Array(2 * (ast.numImportedGlobals + ast.globals.length)),
      typeIds: new Int32Array(ast.types.length),
      datas: [],
      elems: [],
      machine: null,
      funcName: (i) => module.funcName(i),
    };
    this.inst = inst;
    ast.types.forEach((t, i) => (inst.typeIds[i] = canonicalTypeId(t)));
    inst.machine = new Machine(inst, (_inst, idx) => module.lower(idx), options);

    this.link(ast, imports);

    // Defined functions, then globals (their initialisers may use ref.func), tables and memories.
    ast.funcs.forEach((t, i) => inst.funcs.push(new Func(ast.types[t]!, inst, ast.numImportedFuncs + i, null, inst.typeIds[t]!)));
    for (const g of ast.globals) {
      const idx = inst.globals.length;
      const glob = new Global({ type: typeName(g.type.type), mutable: g.type.mutable });
      glob.cell = inst.globalWords;
      glob.idx = 2 * idx;
      glob.setValue(this.evalConst(g.init, g.type.type));
      inst.globals.push(glob);
    }
    for (const t of ast.tables) {
      const el = t.elem === 0x70 ? 'funcref' : 'externref';
      inst.tables.push(new Table({ element: el, initial: t.limits.min, maximum: t.limits.max, limit: options.maxTableElements }));
    }
    for (const m of ast.memories) {
      inst.memories.push(new Memory({ initial: m.limits.min, maximum: m.limits.max, limit: options.maxMemoryPages }));
    }

    for (const e of ast.exports) {
      let h: ExportValue;
      switch (e.kind) {
        case 'func': h = inst.funcs[e.index]!; break;
        case 'table': h = inst.tables[e.index]!; break;
        case 'memory': h = inst.memories[e.index]!; break;
        default: h = inst.globals[e.index]!; break;
      }
      this.handles.set(e.name, h);
    }
    const exps: Record<string, unknown> = Object.create(null);
    for (const [name, h] of this.handles) exps[name] = h instanceof Func ? jsFunction(h) : h;
    this.exports = Object.freeze(exps);

    // Segments as the instance keeps them (for table.init / memory.init).
    for (const seg of ast.elems) {
      inst.elems.push(seg.funcs !== null ? seg.funcs.map((i) => inst.funcs[i]!) : seg.init.map((x) => this.evalRef(x)));
    }
    for (const d of ast.datas) inst.datas.push(d.bytes);

    // Active and declarative element segments, then active data segments, in order; a trap stops here.
    ast.elems.forEach((seg, i) => {
      if (seg.mode === 'active') {
        const table = inst.tables[seg.table]!;
        const off = this.evalI32(seg.offset!);
        const items = inst.elems[i]!;
        if (off + items.length > table.elements.length) throw new Trap('out of bounds table access');
        for (let k = 0; k < items.length; k++) table.elements[off + k] = items[k];
      }
      if (seg.mode !== 'passive') inst.elems[i] = null;
    });
    ast.datas.forEach((seg, i) => {
      if (seg.mode === 'active') {
        const mem = inst.memories[seg.memory]!;
        const off = this.evalI32(seg.offset!);
        if (off + seg.bytes.length > mem.byteLength) throw new Trap('out of bounds memory access');
        mem.u8.set(seg.bytes, off);
        inst.datas[i] = null;
      }
    });

    if (ast.start !== null) {
      const out = inst.funcs[ast.start]!.invoke([]);
      if (out.kind === 'trapped') throw out.trap;
    }
  }

  /** The raw handle of an export (a Func for functions), or undefined. */
  getExport(name: string): ExportValue | undefined {
    return this.handles.get(name);
  }

  /** Names of the exports, in order. */
  exportNames(): string[] {
    return [...this.handles.keys()];
  }

  /** The exported function `name`, or a TypeError. */
  func(name: string): Func {
    const f = this.handles.get(name);
    if (!(f instanceof Func)) throw new TypeError(`no exported function named ${JSON.stringify(name)}`);
    return f;
  }

  private link(ast: ModuleAst, imports: Imports): void {
    const inst = this.inst;
    for (const imp of ast.imports) {
      const v = imports[imp.module]?.[imp.name];
      if (v === undefined) throw new LinkError(`unknown import: ${imp.module}.${imp.name}`);
      const bad = (why: string) => new LinkError(`incompatible import type: ${imp.module}.${imp.name}: ${why}`);
      switch (imp.desc.kind) {
        case 'func': {
          const want = ast.types[imp.desc.type]!;
          let f: Func | undefined = v instanceof Func ? v : funcOfJs(v);
          if (f === undefined && typeof v === 'function') f = hostFromJs(want, v as (...a: unknown[]) => unknown);
          if (f === undefined) throw bad('expected a function');
          if (funcTypeKey(f.type) !== funcTypeKey(want)) throw bad(`expected ${funcTypeKey(want)}, got ${funcTypeKey(f.type)}`);
          inst.funcs.push(f);
          break;
        }
        case 'table': {
          if (!(v instanceof Table)) throw bad('expected a table');
          const t = imp.desc.type;
          if (v.elemType !== t.elem) throw bad('element type');
          if (!limitsMatch(v.elements.length, v.hasMax ? v.max : undefined, t.limits.min, t.limits.max)) throw bad('limits');
          inst.tables.push(v);
          break;
        }
        case 'memory': {
          if (!(v instanceof Memory)) throw bad('expected a memory');
          const l = imp.desc.type.limits;
          if (!limitsMatch(v.pages, v.hasMax ? v.max : undefined, l.min, l.max)) throw bad('limits');
          inst.memories.push(v);
          break;
        }
        case 'global': {
          const gt = imp.desc.type;
          let g: Global;
          if (v instanceof Global) g = v;
          else if ((typeof v === 'number' || typeof v === 'bigint') && !gt.mutable && gt.type !== 0x70 && gt.type !== 0x6f) {
            g = new Global({ type: typeName(gt.type) }, fromJs(typeName(gt.type), v));
          } else throw bad('expected a global');
          if (g.type !== gt.type || g.mutable !== gt.mutable) throw bad('global type');
          const idx = inst.globals.length;
          inst.globals.push(g);
          // Immutable imports are copied; mutable ones are read through the Global (see Module.extGlobals).
          inst.globalWords[2 * idx] = g.cell[g.idx]!;
          inst.globalWords[2 * idx + 1] = g.cell[g.idx + 1]!;
          break;
        }
      }
    }
  }

  /** Evaluates a constant expression of a numeric or reference type. */
  private evalConst(e: ConstExpr, type: number): Value {
    const stack = this.evalWords(e);
    const w = new Int32Array(2);
    w[0] = stack[0]!;
    w[1] = stack[1]!;
    return readValue(type, w, 0);
  }

  private evalI32(e: ConstExpr): number {
    return this.evalWords(e)[0]! >>> 0;
  }

  /** A reference-typed constant expression's value (a Func, a host value, or null). */
  private evalRef(e: ConstExpr): unknown {
    return idToRef(this.evalWords(e)[0]!);
  }

  /**
   * Runs a constant expression on a tiny stack of word pairs. Covers the
   * instructions validation allows: constants, ref.null, ref.func,
   * global.get, and with extended-const the i32/i64 add, sub and mul.
   */
  private evalWords(e: ConstExpr): number[] {
    const inst = this.inst;
    const r = new CodeReader(this.module.ast.bytes, e.start, e.end);
    r.multiMemory = true; // validated: a u32 memory index reads every encoding it can hold
    const st: number[] = [];
    for (;;) {
      const info = r.next();
      switch (info.id) {
        case Op.end:
          return st.slice(st.length - 2);
        case Op.i32_const:
        case Op.f32_const:
          st.push(r.a, 0);
          break;
        case Op.i64_const:
        case Op.f64_const:
          st.push(r.lo, r.hi);
          break;
        case Op.ref_null:
          st.push(0, 0);
          break;
        case Op.ref_func: {
          const w = new Int32Array(2);
          writeValue({ type: 'funcref', value: inst.funcs[r.a]! }, w, 0);
          st.push(w[0]!, 0);
          break;
        }
        case Op.global_get: {
          const g = inst.globals[r.a]!;
          st.push(g.cell[g.idx]!, g.cell[g.idx + 1]!);
          break;
        }
        default: {
          // extended-const arithmetic: i32/i64 add, sub, mul
          const bh = st.pop()!, bl = st.pop()!, ah = st.pop()!, al = st.pop()!;
          const name = info.name;
          if (name.startsWith('i32.')) {
            const v = name === 'i32.add' ? (al + bl) | 0 : name === 'i32.sub' ? (al - bl) | 0 : Math.imul(al, bl);
            st.push(v, 0);
          } else {
            const a = (BigInt(ah) << 32n) | BigInt(al >>> 0);
            const b = (BigInt(bh) << 32n) | BigInt(bl >>> 0);
            const v = BigInt.asIntN(64, name === 'i64.add' ? a + b : name === 'i64.sub' ? a - b : a * b);
            st.push(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
          }
        }
      }
    }
  }
}

function limitsMatch(actualMin: number, actualMax: number | undefined, min: number, max: number | undefined): boolean {
  if (actualMin < min) return false;
  if (max === undefined) return true;
  return actualMax !== undefined && actualMax <= max;
}

/** Instantiates a module, or compiles and instantiates bytes in one step (synchronously, unlike WebAssembly.instantiate). */
export function instantiate(source: Module | Uint8Array | ArrayBuffer, imports?: Imports, options?: InstanceOptions & CompileOptions): Instance {
  const module = source instanceof Module ? source : new Module(source, options);
  return new Instance(module, imports, options);
}
