/**
 * Instantiation: links a module's imports, creates its memories, tables,
 * globals and functions, applies active segments, runs the start function,
 * and presents the exports (both as raw handles and in the shape of the
 * WebAssembly JS API).
 */
import { Exhaustion, LinkError, StateError, Trap } from './errors.js';
import { Machine, Paused, readResults, type RunResult } from './interp.js';
import { operandAt } from './isa.js';
import { CodeReader } from './reader.js';
import { Op } from './opcodes.js';
import { ElementQuota, Func, Global, MAX_TABLE_ELEMENTS, Memory, Suspend, Table, asTrap, checkArgs, checkResults, funcAt, globalAt, idToRef, readValue, refToId, writeValue, type Inst, type InstanceEngine, type MemoryPool } from './runtime.js';
import { funcTypeKey, type ConstExpr, type FuncType, type ModuleAst } from './types.js';
import { fromJs, toJs, typeName, type Value } from './values.js';
import { Module, type CompileOptions } from './module.js';
import type { Completion, HostCall, Outcome } from './api.js';
import { tierUpPolicy } from './compiled/index.js';

/** What can be given for an import. A plain JS function gets the type the import declares. */
export type ImportValue = Func | Memory | Table | Global | ((...args: any[]) => unknown) | number | bigint;
/** Imports by module name, then field name. */
export type Imports = Record<string, Record<string, ImportValue | undefined> | undefined>;
/** An export's raw handle. */
export type ExportValue = Func | Memory | Table | Global;

/** Limits of one instance's execution. */
export interface InstanceOptions {
  /** The embedder's data for this instance, which its host functions are given as `caller.data` (see HostCaller). */
  data?: unknown;
  /** Maximum nested wasm calls before "call stack exhausted" (default 200,000). */
  maxCallDepth?: number;
  /** Maximum bytes of the value stack (default 128 MiB). */
  maxStackBytes?: number;
  /** Pages the instance's own memories may have, initially or by growing (default 65536, the 4 GiB maximum). */
  maxMemoryPages?: number;
  /**
   * Elements the instance's own tables may have, all together, initially or
   * by growing (default 1,000,000): declared tables over it fail the
   * instantiation with Exhaustion before anything is allocated, and a
   * `table.grow` past it returns -1.
   */
  maxTableElements?: number;
  /**
   * Fuel the instance starts with (default Infinity). It meters the start
   * function too: a start function that runs out ends the construction with
   * `Exhaustion("out of fuel")`.
   */
  fuel?: number;
  /**
   * Told the fuel the start function used, when there is one, also when it
   * trapped or ran out (the instance is then lost with the exception): for
   * a host that charges someone for the instantiation.
   */
  onStartFuel?: (used: number) => void;
  /**
   * Whether construction runs the start function (default true). False: it
   * is left to the host, which calls `startFunction` itself, e.g. as a
   * pausable `call` in fuel slices (the actor runtime does, so a spawned
   * actor's start function runs in its own slices).
   */
  runStart?: boolean;
  /**
   * Where the instance's own small memories take their bytes (default none:
   * each memory gets a store of its own). A host making many instances
   * gives them one pool, and calls `dispose` on each when done with it, so
   * that its regions go to the next instances. A construction that throws
   * gives its pooled memories back itself.
   */
  memoryPool?: MemoryPool;
}

/**
 * @internal An instance option set by `restore`: create the instance's
 * objects but do not initialise them (no segments, no start function); the
 * snapshot gives their state.
 */
export const RESTORING: unique symbol = Symbol('restoring');

/** The global words of an instance before its Machine gives them their place. */
const NO_WORDS = new Int32Array(0);

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

/**
 * Wraps a plain JS function as a host function of the given type (JS values
 * in and out). A Promise it returns pauses the guest until it settles (in a
 * call that can wait), and a Suspend pauses it until the host resumes it.
 */
function hostFromJs(type: FuncType, fn: (...args: any[]) => unknown): Func {
  const convert = (r: unknown): Value[] => {
    if (type.results.length === 0) return [];
    if (type.results.length === 1) return [fromJs(typeName(type.results[0]!), r)];
    const arr = Array.from(r as Iterable<unknown>);
    return type.results.map((t, i) => fromJs(typeName(t), arr[i]));
  };
  return Func.host(type, (args) => {
    const r = fn(...args.map(toJs));
    if (r instanceof Suspend) return r;
    if (typeof r === 'object' && r !== null && typeof (r as PromiseLike<unknown>).then === 'function') {
      return (r as PromiseLike<unknown>).then(convert);
    }
    return convert(r);
  });
}

/** What an Inst runs with until its Machine is made (never called: the Machine is made in the same constructor). */
const NO_ENGINE: InstanceEngine = {
  invoke: () => ({ kind: 'trapped', trap: new Trap('internal error: the instance has no engine yet') }),
};

/** What `Instance.resume` is given: the results of the host call the guest waits on, or an error that traps it; and optionally new fuel. */
export interface ResumeInput {
  results?: Value[];
  error?: unknown;
  /** Sets the fuel left before continuing (as `instance.fuel = n`). */
  fuel?: number;
}

/** An instance of a module. Construction throws LinkError, or a Trap when initialisation or the start function traps. */
export class Instance {
  readonly module: Module;
  /** The exports object, made on first use (see `exports`). */
  private exportsObject: Record<string, unknown> | null = null;
  /** The engine's view of this instance. */
  readonly inst: Inst;
  /** The interpreter state of this instance. */
  readonly machine: Machine;
  /** @internal The function of the pausable call in progress or paused (see `call`), or null. */
  entry: Func | null = null;

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
      globalWords: NO_WORDS, // set by the Machine, which keeps them in the buffer of its stack
      // Read only, shared by the module's instances.
      typeIds: module.typeIds,
      datas: [],
      elems: [],
      engine: NO_ENGINE,
      funcName: module.funcNameOf,
      refs: [null],
      refIds: null,
      datasShared: false,
      data: options.data,
    };
    this.inst = inst;
    this.machine = new Machine(inst, (_inst, idx) => module.lower(idx), options, 2 * (ast.numImportedGlobals + ast.globals.length));
    inst.engine = this.machine;
    if (module.tier !== 'interpreter') this.machine.tierUp = tierUpPolicy(module.tier);
    if (options.fuel !== undefined) this.fuel = options.fuel;

    this.link(ast, imports);

    // Defined functions, then globals (their initialisers may use ref.func), tables and memories. A defined
    // function's Func is made on first need (funcAt), except those the interpreter's loop reads from `funcs`
    // itself: the targets of ref.func (declared references) and, in a module with tail calls, of return_call.
    const nImp = ast.numImportedFuncs;
    for (let i = 0; i < ast.funcs.length; i++) inst.funcs.push(null);
    if (module.features.tailCall === true) for (let i = 0; i < ast.funcs.length; i++) funcAt(inst, nImp + i);
    else for (const i of module.validated.declaredFuncRefs) if (i >= nImp) funcAt(inst, i);
    for (const g of ast.globals) {
      const idx = inst.globals.length;
      if (g.type.type === 0x70 || g.type.type === 0x6f) {
        // A reference lives in its Global (see Module.extGlobals).
        const glob = new Global({ type: typeName(g.type.type), mutable: g.type.mutable }, undefined, { cell: inst.globalWords, idx: 2 * idx });
        glob.setValue(this.evalConst(g.init, g.type.type));
        inst.globals.push(glob);
      } else {
        // A number lives in its words (its Global is made on first need, see globalAt), as they are: what reading
        // them as a Value and writing it back would give.
        const w = this.evalWords(g.init);
        inst.globalWords[2 * idx] = w[0]!;
        inst.globalWords[2 * idx + 1] = w[1]!;
        inst.globals.push(null);
      }
    }
    // The instance's own tables share one limit, checked on the declared sizes before any table is allocated.
    const quota = new ElementQuota(options.maxTableElements ?? MAX_TABLE_ELEMENTS);
    const declared = ast.tables.reduce((n, t) => n + t.limits.min, 0);
    if (declared > quota.limit) throw new Exhaustion(`tables of ${declared} elements in all exceed the instance's limit of ${quota.limit} elements`);
    for (const t of ast.tables) {
      const el = t.elem === 0x70 ? 'funcref' : 'externref';
      inst.tables.push(new Table({ element: el, initial: t.limits.min, maximum: t.limits.max, limit: quota.limit, quota }));
    }
    try {
      this.initialise(options);
    } catch (e) {
      // A failed instantiation gives back the regions its memories took, or they would stay lent for as long as the
      // pool lives (a guest spawning failing children could take them all). Unpooled memories are left as the spec
      // has them: a function that escaped into an imported table still uses its memory.
      for (let i = ast.numImportedMemories; i < inst.memories.length; i++) if (inst.memories[i]!.pooled) inst.memories[i]!.release();
      throw e;
    }
  }

  /** Creates the instance's memories, applies its segments and runs its start function (see the constructor). */
  private initialise(options: InstanceOptions): void {
    const inst = this.inst;
    const ast = this.module.ast;
    for (const m of ast.memories) {
      inst.memories.push(new Memory({ initial: m.limits.min, maximum: m.limits.max, limit: options.maxMemoryPages, pool: options.memoryPool }));
    }

    // Segments as the instance keeps them (for table.init / memory.init).
    for (const seg of ast.elems) {
      inst.elems.push(seg.funcs !== null ? seg.funcs.map((i) => funcAt(inst, i)) : seg.init.map((x) => this.evalRef(x)));
    }
    const restoring = (options as { [RESTORING]?: boolean })[RESTORING] === true;
    // A restored instance's dropped segments come from the snapshot; a new one's are the module's (see below).
    if (restoring) for (const d of ast.datas) inst.datas.push(d.bytes);
    if (restoring) return;

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
    this.initData(ast, inst);
    // Every active segment is dropped now, every passive one kept: the module's array, shared until a data.drop.
    inst.datas = this.module.datasAfterInit();
    inst.datasShared = true;

    if (ast.start !== null && options.runStart !== false) {
      const before = this.machine.used;
      let out: Completion;
      try {
        out = funcAt(inst, ast.start).invoke([]);
      } finally {
        options.onStartFuel?.(this.machine.used - before);
      }
      if (out.kind === 'trapped') throw out.trap;
    }
  }

  /**
   * Exports as the WebAssembly JS API gives them: functions are callable,
   * the rest are Memory, Table, Global. Made on first use, and the same
   * object after: a host that only calls through `getExport` (the actor
   * runtime) makes no JS function per export per instance.
   */
  get exports(): Record<string, unknown> {
    if (this.exportsObject === null) {
      const exps: Record<string, unknown> = Object.create(null);
      for (const name of this.module.exportIndex.keys()) {
        const h = this.getExport(name)!;
        exps[name] = h instanceof Func ? jsFunction(h) : h;
      }
      this.exportsObject = Object.freeze(exps);
    }
    return this.exportsObject;
  }

  /** The module's start function (run by construction unless `runStart: false`), or null when it has none. */
  get startFunction(): Func | null {
    const start = this.module.ast.start;
    return start === null ? null : funcAt(this.inst, start);
  }

  /**
   * Calls a function of this instance in a way that can pause: the outcome
   * is "done", "trapped", "out-of-fuel" (the fuel set with `fuel` ran out)
   * or "waiting" (a host function returned a Promise or a Suspend). A paused
   * call keeps all its state, can be snapshotted, and continues with
   * `resume`. Throws StateError while another call is paused or running.
   */
  call(target: string | Func, args: Value[] = []): Outcome {
    const f = typeof target === 'string' ? this.func(target) : target;
    if (f.inst !== this.inst) throw new TypeError('the function is not defined by this instance');
    const m = this.machine;
    if (m.paused) throw new StateError('a call is paused in this instance: resume or abort it first');
    if (m.nest > 0) throw new StateError('the instance is running: a host function cannot start a pausable call into it');
    checkArgs(f.type, args);
    const n = Math.max(f.type.params.length, f.type.results.length);
    if (!m.ensureStack(2 * n)) return { kind: 'trapped', trap: new Exhaustion('call stack exhausted') };
    m.depth = 0;
    m.top = 0;
    for (let i = 0; i < args.length; i++) writeValue(args[i]!, m.S, 2 * i, this.inst);
    this.entry = f;
    m.suspendable = true;
    let r: RunResult;
    try {
      r = m.call(f.index, 0);
    } finally {
      m.suspendable = false;
    }
    return this.outcome(r);
  }

  /**
   * Continues the paused call. After "out-of-fuel", give more fuel (here or
   * with `fuel`). After "waiting", give the host call's `results` (checked
   * against its type), or an `error` that traps the guest at the call.
   */
  resume(input: ResumeInput = {}): Outcome {
    const m = this.machine;
    if (!m.paused) throw new StateError('no call is paused in this instance');
    if (m.nest > 0) throw new StateError('the instance is running');
    if (input.fuel !== undefined) this.fuel = input.fuel;
    let results: Value[] | null = null;
    let error: Trap | null = null;
    const pending = m.pending;
    if (pending !== null) {
      if (input.error !== undefined) error = asTrap(input.error);
      else {
        try {
          checkResults(pending.func.type, input.results);
          results = input.results;
        } catch (e) {
          error = asTrap(e);
        }
      }
    } else if (input.results !== undefined || input.error !== undefined) {
      throw new StateError('the paused call is out of fuel, not waiting on the host: resume it without results');
    }
    m.suspendable = true;
    let r: RunResult;
    try {
      r = m.resume(results, error);
    } finally {
      m.suspendable = false;
    }
    return this.outcome(r);
  }

  /**
   * Runs `call` to its end, asynchronously: awaits the Promises that host
   * functions return, and runs in slices of `slice` units of fuel, yielding
   * to the event loop between them. Ends with "done", "trapped", or
   * "waiting" on a Suspend (which only the host can answer).
   */
  async callAsync(target: string | Func, args: Value[] = [], options: { slice?: number } = {}): Promise<Outcome> {
    const slice = options.slice ?? 10_000_000;
    if (!(Number.isSafeInteger(slice) && slice > 0)) throw new RangeError(`slice must be a positive integer, got ${slice}`);
    const m = this.machine;
    const metered = m.reserve !== Infinity;
    // Fuel not yet handed out in slices; the machine holds at most one slice (plus any debt) at a time.
    let budget = metered ? Math.max(m.reserve, 0) : Infinity;
    const debt = metered ? Math.min(m.reserve, 0) : 0;
    const give = (): void => {
      const n = Math.min(slice, budget);
      budget -= n;
      m.reserve = n + Math.min(m.reserve, 0);
    };
    // Whatever the end, the instance keeps the fuel it did not use.
    const settleBudget = (): void => {
      m.reserve = metered ? m.reserve + budget : Infinity;
    };
    m.reserve = debt;
    give();
    let out: Outcome;
    try {
      out = this.call(target, args);
    } catch (e) {
      settleBudget();
      throw e;
    }
    for (;;) {
      if (out.kind === 'out-of-fuel') {
        if (budget <= 0) {
          settleBudget();
          return out;
        }
        await new Promise((r) => setImmediate(r));
        give();
        out = this.resume();
      } else if (out.kind === 'waiting' && !(out.call.answer instanceof Suspend)) {
        let input: ResumeInput;
        try {
          input = { results: await out.call.answer };
        } catch (e) {
          input = { error: e };
        }
        out = this.resume(input);
      } else {
        settleBudget();
        return out;
      }
    }
  }

  /** Ends the paused call, if any, without running it further. */
  abort(): void {
    const m = this.machine;
    if (m.nest > 0) throw new StateError('the instance is running');
    m.pFn = -1;
    m.pending = null;
    m.depth = 0;
    m.top = 0;
    this.entry = null;
  }

  /**
   * Ends the instance for a host done with it: releases its own memories
   * (see `Memory.release`: a pooled memory's region goes back to its pool,
   * zeroed), so that they are empty for good and any later access to them
   * traps. A call in progress or paused can go on only to trap at its next
   * memory access; the host should drop the instance. Imported memories are
   * the exporter's, and are left alone. Idempotent.
   */
  dispose(): void {
    const own = this.inst.memories;
    for (let i = this.module.ast.numImportedMemories; i < own.length; i++) own[i]!.release();
  }

  /** Whether a call is paused, and why. */
  get status(): 'idle' | 'out-of-fuel' | 'waiting' {
    const m = this.machine;
    return !m.paused ? 'idle' : m.pending === null ? 'out-of-fuel' : 'waiting';
  }

  /** The host call a paused call waits on, or null. */
  get pending(): HostCall | null {
    const m = this.machine;
    const p = m.pending;
    if (p === null) return null;
    // A direct call names its import (the same Func may be given for two imports); an indirect one only its target.
    const code = m.code(m.pFn).code;
    const calleeAt = operandAt(code[m.pPc]!, 'func');
    const index = calleeAt > 0 ? code[m.pPc + calleeAt]! : this.inst.funcs.indexOf(p.func);
    const imp = index >= 0 && index < this.module.ast.numImportedFuncs ? this.module.funcImports[index] : undefined;
    return { module: imp?.module ?? '', name: imp?.name ?? '', index, func: p.func, args: p.args, answer: p.answer };
  }

  /** The function of the paused call, or null. */
  get pausedFunc(): Func | null {
    return this.machine.paused ? this.entry : null;
  }

  /**
   * Fuel left: units the instance may still execute (Infinity, the default,
   * means unmetered). One unit per instruction of the engine's internal code,
   * plus the size of grows and bulk instructions (docs/architecture.md,
   * "Fuel"), paid before their work and in parts when the fuel left cannot
   * pay it all. A run may leave it negative (a debt paid from the next fuel
   * added with `addFuel`).
   */
  get fuel(): number {
    return this.machine.reserve;
  }

  set fuel(n: number) {
    if (!(n === Infinity || (Number.isSafeInteger(n) && n >= 0))) throw new RangeError(`fuel must be a non-negative integer or Infinity, got ${n}`);
    if (this.machine.nest > 0) throw new StateError('the instance is running');
    this.machine.reserve = n;
  }

  /** Adds fuel to what is left (keeping a debt). */
  addFuel(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`fuel must be a non-negative integer, got ${n}`);
    if (this.machine.nest > 0) throw new StateError('the instance is running');
    this.machine.reserve += n;
  }

  /**
   * From inside a host call: charges fuel for work the host function did for
   * the guest (a copy, random bytes), counted as used. It may leave a debt.
   * No effect on an unmetered instance.
   */
  charge(units: number): void {
    if (!(Number.isSafeInteger(units) && units >= 0)) throw new RangeError(`units must be a non-negative integer, got ${units}`);
    const m = this.machine;
    if (m.reserve === Infinity) return;
    m.reserve -= units;
    m.used += units;
  }

  /**
   * From inside a host call: drops the fuel left (not counted as used), so
   * the run stops at its next branch or call with "out of fuel". A debt is kept.
   */
  dropFuel(): void {
    const m = this.machine;
    if (m.reserve !== Infinity && m.reserve > 0) m.reserve = 0;
  }

  /** From inside a host call: whether the call can pause here (returning a Suspend), i.e. it came from `callAsync`-style resumable execution, not a nested call. */
  get canSuspend(): boolean {
    return this.machine.nest === 1 && this.machine.suspendable;
  }

  /** Bytes of value stack the instance holds now (it grows with deep calls up to `maxStackBytes`, and is kept): for a host accounting memory. */
  get stackBytes(): number {
    return this.machine.S.byteLength;
  }

  /** Units of fuel used since the instance was made (restored from its snapshot, when restored): deterministic. */
  get fuelUsed(): number {
    return this.machine.used;
  }

  private outcome(r: RunResult): Outcome {
    const m = this.machine;
    if (r instanceof Paused) {
      const call = this.pending;
      return call === null ? { kind: 'out-of-fuel' } : { kind: 'waiting', call };
    }
    const f = this.entry!;
    this.entry = null;
    if (r !== null) return { kind: 'trapped', trap: r };
    return readResults(m, f.type.results, 0);
  }

  /** The raw handle of an export (a Func for functions), or undefined. */
  getExport(name: string): ExportValue | undefined {
    const e = this.module.exportIndex.get(name);
    if (e === undefined) return undefined;
    const inst = this.inst;
    switch (e.kind) {
      case 'func': return funcAt(inst, e.index);
      case 'table': return inst.tables[e.index];
      case 'memory': return inst.memories[e.index];
      default: return globalAt(inst, e.index);
    }
  }

  /** Names of the exports, in order. */
  exportNames(): string[] {
    return [...this.module.exportIndex.keys()];
  }

  /** The exported function `name`, or a TypeError. */
  func(name: string): Func {
    const f = this.getExport(name);
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
          if (!sameFuncType(f.type, want)) throw bad(`expected ${funcTypeKey(want)}, got ${funcTypeKey(f.type)}`);
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
          // Immutable numeric imports are copied; the rest are read through the Global (see Module.extGlobals).
          if (!g.isRef) {
            inst.globalWords[2 * idx] = g.cell[g.idx]!;
            inst.globalWords[2 * idx + 1] = g.cell[g.idx + 1]!;
          }
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
    return readValue(type, w, 0, this.inst);
  }

  /**
   * Applies the active data segments in order (a segment out of bounds traps,
   * those before it stay written). When the module's data image fits (see
   * Module.dataImage) it is one copy: a module of many small segments (an
   * AssemblyScript guest has dozens) spent much of a spawn in them.
   */
  private initData(ast: ModuleAst, inst: Inst): void {
    const datas = ast.datas;
    const n = datas.length;
    if (n === 0) return;
    const own = ast.numImportedMemories === 0 && inst.memories.length > 0;
    let image = this.module.dataImage;
    // Offsets that read nothing of an instance are the image's own: not evaluated again.
    let offsets: Int32Array | null = null;
    if (!(own && image != null && image.constant)) {
      offsets = new Int32Array(n).fill(-1);
      for (let i = 0; i < n; i++) {
        const seg = datas[i]!;
        if (seg.mode === 'active') offsets[i] = this.evalI32(seg.offset!);
      }
    }
    if (own && image === undefined) {
      const constant = datas.every((seg) => seg.mode !== 'active' || this.module.constantWords(seg.offset!) !== undefined);
      image = this.module.dataImage = makeDataImage(datas, offsets!, constant);
    }
    if (own && image != null && image.start + image.bytes.length <= inst.memories[0]!.byteLength && (offsets === null || sameWords(image.offsets, offsets))) {
      inst.memories[0]!.u8.set(image.bytes, image.start);
      return;
    }
    offsets ??= image!.offsets;
    for (let i = 0; i < n; i++) {
      const seg = datas[i]!;
      if (seg.mode !== 'active') continue;
      const mem = inst.memories[seg.memory]!;
      const off = offsets[i]! >>> 0;
      if (off + seg.bytes.length > mem.byteLength) throw new Trap('out of bounds memory access');
      mem.u8.set(seg.bytes, off);
    }
  }

  private evalI32(e: ConstExpr): number {
    return this.evalWords(e)[0]! >>> 0;
  }

  /** A reference-typed constant expression's value (a Func, a host value, or null). */
  private evalRef(e: ConstExpr): unknown {
    return idToRef(this.inst, this.evalWords(e)[0]!);
  }

  /**
   * Runs a constant expression on a tiny stack of word pairs. Covers the
   * instructions validation allows: constants, ref.null, ref.func,
   * global.get, and with extended-const the i32/i64 add, sub and mul.
   */
  private evalWords(e: ConstExpr): readonly number[] {
    const known = this.module.constantWords(e);
    if (known !== undefined) return known;
    const inst = this.inst;
    const r = new CodeReader(this.module.ast.bytes, e.start, e.end);
    r.multiMemory = true; // validated: a u32 memory index reads every encoding it can hold
    const st: number[] = [];
    // Whether it read the instance (a global, a function reference): then its words are this instance's alone.
    let own = false;
    for (;;) {
      const info = r.next();
      switch (info.id) {
        case Op.end: {
          const words = st.slice(st.length - 2);
          if (!own) this.module.keepConstantWords(e, words);
          return words;
        }
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
        case Op.ref_func:
          own = true;
          st.push(refToId(inst, funcAt(inst, r.a)), 0);
          break;
        case Op.global_get: {
          own = true;
          const g = globalAt(inst, r.a);
          if (g.isRef) st.push(refToId(inst, g.ref), 0);
          else st.push(g.cell[g.idx]!, g.cell[g.idx + 1]!);
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

/** Whether two function types are equal (as their `funcTypeKey`s would be), without making strings. */
function sameFuncType(a: FuncType, b: FuncType): boolean {
  if (a === b) return true;
  if (a.params.length !== b.params.length || a.results.length !== b.results.length) return false;
  for (let i = 0; i < a.params.length; i++) if (a.params[i] !== b.params[i]) return false;
  for (let i = 0; i < a.results.length; i++) if (a.results[i] !== b.results[i]) return false;
  return true;
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

/** Whether two word arrays are equal. */
function sameWords(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The data image of a module (see Module.dataImage) from its segments and
 * their offsets, or null: when a segment is of another memory, when its
 * offset is past 2^31 (an offset over that is unusual, and -1 marks "not
 * active"), or when the image would hold much more of gaps than of data.
 */
function makeDataImage(datas: ModuleAst['datas'], offsets: Int32Array, constant: boolean): { offsets: Int32Array; start: number; bytes: Uint8Array; constant: boolean } | null {
  let start = Infinity;
  let end = 0;
  let data = 0;
  for (let i = 0; i < datas.length; i++) {
    const seg = datas[i]!;
    if (seg.mode !== 'active') continue;
    if (seg.memory !== 0 || offsets[i]! < 0) return null;
    start = Math.min(start, offsets[i]!);
    end = Math.max(end, offsets[i]! + seg.bytes.length);
    data += seg.bytes.length;
  }
  if (start === Infinity || end - start > 2 * data + 65536) return null;
  const bytes = new Uint8Array(end - start);
  for (let i = 0; i < datas.length; i++) {
    const seg = datas[i]!;
    if (seg.mode === 'active') bytes.set(seg.bytes, offsets[i]! - start);
  }
  return { offsets: Int32Array.from(offsets), start, bytes, constant };
}
