/**
 * Runtime objects: functions, memories, tables and globals, the shape of an
 * instance as the interpreter sees it, and the registry that turns references
 * into the 32-bit ids that operand slots hold.
 */
import { Exhaustion, Trap } from './errors.js';
import { funcTypeKey, ValType, type FuncType, type ValidatedModule } from './types.js';
import { toJs, typeCode, typeName, type FuncRefValue, type Value, type ValueTypeName } from './values.js';
import type { Completion } from './completion.js';
import type { Lowered } from './internal-code.js';

export const PAGE = 65536;
/** 65536 pages: the 4 GiB limit of a 32-bit memory. */
export const MAX_PAGES = 65536;
/**
 * Default host limit on a table's elements, and on all of an instance's own
 * tables together: 1,000,000 (V8 allows 10,000,000 per table, but a table
 * is a JS array, and V8 copies all of one to grow it: tens of ms at 10^6
 * elements, hundreds at 10^7, measured).
 */
export const MAX_TABLE_ELEMENTS = 1_000_000;

// ---------------------------------------------------------------------------
// Canonical function type ids: equal types get equal ids across modules, so
// call_indirect compares one integer.

const typeIds = new Map<string, number>();
/**
 * Ids of frozen type objects (frozen with their params and results, they
 * cannot change): a host that gives the same frozen types to the host
 * functions it makes for every instance (an actor's imports) then builds
 * no string key for each. Types that are not frozen are not kept here: a
 * WeakMap entry for every fresh object cost more than the key (measured).
 */
const frozenTypeIds = new WeakMap<FuncType, number>();

/** The canonical id of a function type. */
export function canonicalTypeId(t: FuncType): number {
  const frozen = Object.isFrozen(t) && Object.isFrozen(t.params) && Object.isFrozen(t.results);
  if (frozen) {
    const known = frozenTypeIds.get(t);
    if (known !== undefined) return known;
  }
  const key = funcTypeKey(t);
  let id = typeIds.get(key);
  if (id === undefined) {
    id = typeIds.size + 1;
    typeIds.set(key, id);
  }
  if (frozen) frozenTypeIds.set(t, id);
  return id;
}

// ---------------------------------------------------------------------------
// References in slots. A slot of reference type holds 0 for null, or an index
// into its instance's table of references (`Inst.refs`). The table is per
// instance, so that a snapshot can carry it, and so that a slot forged in an
// untrusted snapshot can at worst name a reference its instance already held.

/** The slot representation of a reference in `inst` (0 is null); registers the reference on first use. */
export function refToId(inst: Inst, x: unknown): number {
  if (x === null || x === undefined) return 0;
  const ids = (inst.refIds ??= new Map());
  let id = ids.get(x);
  if (id === undefined) {
    id = inst.refs.length;
    inst.refs.push(x);
    ids.set(x, id);
  }
  return id;
}

/** The reference a slot id stands for in `inst`: null for 0, undefined for an id the instance never gave out. */
export function idToRef(inst: Inst, id: number): unknown {
  return id === 0 ? null : inst.refs[id >>> 0];
}

/**
 * The Func of function `idx` of an instance, made on first need and then
 * the same object: most of a module's functions are only ever called by
 * index, and a Func for each of them was a tenth of a small instance's heap.
 */
export function funcAt(inst: Inst, idx: number): Func {
  const known = inst.funcs[idx];
  if (known !== null && known !== undefined) return known;
  const ast = inst.module.ast;
  const t = ast.funcs[idx - ast.numImportedFuncs]!;
  const f = new Func(ast.types[t]!, inst, idx, null, inst.typeIds[t]!);
  inst.funcs[idx] = f;
  return f;
}

/** The Global of global `idx` of an instance, made on first need (a defined numeric global: over its words in `globalWords`) and then the same object. */
export function globalAt(inst: Inst, idx: number): Global {
  const known = inst.globals[idx];
  if (known !== null && known !== undefined) return known;
  const def = inst.module.ast.globals[idx - inst.module.ast.numImportedGlobals]!;
  const g = new Global({ type: typeName(def.type.type), mutable: def.type.mutable }, undefined, { cell: inst.globalWords, idx: 2 * idx });
  inst.globals[idx] = g;
  return g;
}

// ---------------------------------------------------------------------------

/**
 * The execution side of an instance, as the runtime objects see it: a call
 * from outside into one of its functions (Func.invoke, the JS API). The
 * engine (src/vm/interp.ts's Machine, whichever tier runs each function)
 * implements it; nothing here knows how code runs.
 */
export interface InstanceEngine {
  /** Runs wasm function `f` of this instance with `args` (checked); a completion, never a throw. Cannot pause. */
  invoke(f: Func, args: Value[]): Completion;
}

/** What an instance is to the interpreter: plain fields, read in the hot loop. */
export interface Inst extends HostCaller {
  module: ValidatedModule;
  /** Lowered code of defined functions, filled on first call. */
  lowered: (Lowered | undefined)[];
  /**
   * Function index space: imports first. A defined function's Func is made
   * on first need (see `funcAt`): null until then. Imports, and the defined
   * functions the interpreter's loop reads here (those `ref.func` may name,
   * and all of them in a module with tail calls), are made with the instance.
   */
  funcs: (Func | null)[];
  tables: Table[];
  memories: Memory[];
  /**
   * Global index space. The Global of a defined global of a numeric type is
   * made on first need (see `globalAt`; its value lives in `globalWords`):
   * null until then.
   */
  globals: (Global | null)[];
  /** Values of the globals, 2 words each, by global index (imported mutable globals are read through `globals` instead). */
  globalWords: Int32Array;
  /** Canonical type id of each type index. */
  typeIds: Int32Array;
  /** Data segments; null once dropped. */
  datas: (Uint8Array | null)[];
  /** Whether `datas` is the module's shared array (Module.datasAfterInit): copied before a segment is dropped. */
  datasShared: boolean;
  /** Element segments as resolved references; null once dropped. */
  elems: (unknown[] | null)[];
  /** What runs this instance's code (its Machine: the interpreter and the compiled tier over one frame stack; set by Instance). */
  engine: InstanceEngine;
  /** Function names for stack traces. */
  funcName(idx: number): string;
  /** References held in slots, by id (see refToId); entry 0 is null. */
  refs: unknown[];
  /** Ids of the references in `refs`; made with the first one (most instances hold none). */
  refIds: Map<unknown, number> | null;
}

/**
 * What a host function may return to pause its caller instead of returning
 * at once: the call's outcome is then "waiting" (see `Instance.resume`). The
 * data is for the host (for example, what the guest is waiting for).
 */
export class Suspend {
  constructor(readonly data?: unknown) {}
}

/** A host function's answer: its results, a Promise of them, or `Suspend` (the last two pause the guest). */
export type HostResult = Value[] | PromiseLike<Value[]> | Suspend;

/**
 * A host function: takes raw values, returns its results, or pauses the
 * guest by returning a Promise or a `Suspend`. It may throw a Trap to trap
 * the caller; any other exception traps it too.
 */
export type HostFn = (args: Value[], caller: HostCaller) => HostResult;

/**
 * What a host function learns of its caller: the embedder's data of the
 * calling instance (`InstanceOptions.data`; undefined for a call from the
 * host itself, `Func.invoke`). One host function can so serve every
 * instance, each with its own state.
 */
export interface HostCaller {
  readonly data: unknown;
}

/** The caller of a host function the host calls itself (Func.invoke). */
export const HOST_CALLER: HostCaller = Object.freeze({ data: undefined });

/**
 * A host function of i32 parameters (at most five) and at most one i32
 * result, called with its arguments as plain numbers: the interpreter calls
 * it without making `Value` objects (an actor's imports are called millions
 * of times a second). It returns the i32 result as a number, `undefined`
 * when the type has no result, or any `HostResult` (a pause, or results).
 */
export type I32HostFn = (a0: number, a1: number, a2: number, a3: number, a4: number, caller: HostCaller) => number | undefined | HostResult;

/** Whether an i32 host function of `type` can be called with plain numbers (see I32HostFn). */
export function isI32Shape(type: FuncType): boolean {
  return type.params.length <= 5 && type.params.every((t) => t === ValType.i32) && (type.results.length === 0 || (type.results.length === 1 && type.results[0] === ValType.i32));
}

/** Whether a host function's answer pauses the caller. */
export function isPause(r: HostResult): r is PromiseLike<Value[]> | Suspend {
  return r instanceof Suspend || (typeof r === 'object' && r !== null && !Array.isArray(r) && typeof (r as PromiseLike<Value[]>).then === 'function');
}

/** A function: defined in a wasm instance, or provided by the host. */
export class Func implements FuncRefValue {
  readonly kind = 'funcref' as const;
  readonly type: FuncType;
  /** Canonical id of the type, compared by call_indirect. */
  readonly typeId: number;
  /** For a wasm function: its instance and index there. */
  readonly inst: Inst | null;
  readonly index: number;
  /** For a host function. */
  readonly host: HostFn | null;
  /** For a host function made by `hostI32`: the same function, called with plain numbers. */
  fast: I32HostFn | null = null;

  /** `typeId`, when given, must be `canonicalTypeId(type)` (instances pass the id they computed per type). */
  constructor(type: FuncType, inst: Inst | null, index: number, host: HostFn | null, typeId = canonicalTypeId(type)) {
    this.type = type;
    this.typeId = typeId;
    this.inst = inst;
    this.index = index;
    this.host = host;
  }

  /** A host function with an explicit type, taking and returning raw values. */
  static host(type: FuncType, fn: HostFn): Func {
    return new Func(type, null, -1, fn);
  }

  /**
   * A host function of i32 parameters and at most one i32 result (see
   * I32HostFn; throws TypeError for another type), which the interpreter
   * calls with plain numbers.
   */
  static hostI32(type: FuncType, fn: I32HostFn): Func {
    if (!isI32Shape(type)) throw new TypeError('hostI32: the type must have at most five i32 parameters and at most one i32 result');
    const one = type.results.length === 1;
    const general: HostFn = (args, caller) => {
      const a = args as { value: number }[];
      const r = fn(a[0]?.value ?? 0, a[1]?.value ?? 0, a[2]?.value ?? 0, a[3]?.value ?? 0, a[4]?.value ?? 0, caller);
      if (typeof r === 'number') return one ? [{ type: 'i32', value: r | 0 }] : (r as unknown as Value[]);
      if (r === undefined) return one ? (r as unknown as Value[]) : [];
      return r;
    };
    const f = new Func(type, null, -1, general);
    f.fast = fn;
    return f;
  }

  /** Calls the function with raw values. Guest traps come back as an outcome, never as an exception. */
  invoke(args: Value[]): Completion {
    checkArgs(this.type, args);
    if (this.host !== null) {
      try {
        const r = this.host(args, HOST_CALLER);
        if (isPause(r)) return { kind: 'trapped', trap: new Trap('host function paused outside a call that can wait (use Instance.call)') };
        checkResults(this.type, r);
        return { kind: 'done', results: r };
      } catch (e) {
        return { kind: 'trapped', trap: asTrap(e) };
      }
    }
    return this.inst!.engine.invoke(this, args);
  }
}

/** Checks a host function's results against its type; throws a Trap when they do not match. */
export function checkResults(type: FuncType, results: unknown): asserts results is Value[] {
  if (!Array.isArray(results) || results.length !== type.results.length) {
    throw new Trap(`host function returned ${Array.isArray(results) ? results.length : 'no'} results, expected ${type.results.length}`);
  }
  for (let i = 0; i < results.length; i++) {
    if (!isValueOf(results[i], type.results[i]!)) throw new Trap(`host function result ${i}: expected ${typeName(type.results[i]!)}`);
  }
}

/** Whether `v` is a well-formed Value of type `code`: the right tag, and a payload of the right JS type. */
function isValueOf(v: unknown, code: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const x = v as { type?: unknown; value?: unknown; bits?: unknown };
  if (typeof x.type !== 'string') return false;
  switch (code) {
    case 0x7f: return x.type === 'i32' && typeof x.value === 'number';
    case 0x7e: return x.type === 'i64' && typeof x.value === 'bigint';
    case 0x7d: return x.type === 'f32' && typeof x.bits === 'number';
    case 0x7c: return x.type === 'f64' && typeof x.bits === 'bigint';
    case 0x70: return x.type === 'funcref' && (x.value === null || x.value instanceof Func);
    case 0x6f: return x.type === 'externref';
    default: return false;
  }
}

/** Checks arguments against a function type; throws TypeError. */
export function checkArgs(type: FuncType, args: Value[]): void {
  if (args.length !== type.params.length) {
    throw new TypeError(`expected ${type.params.length} arguments, got ${args.length}`);
  }
  for (let i = 0; i < args.length; i++) {
    if (!isValueOf(args[i], type.params[i]!)) {
      const want = typeName(type.params[i]!);
      const t = typeof args[i] === 'object' && args[i] !== null ? (args[i] as { type?: unknown }).type : undefined;
      throw new TypeError(`argument ${i}: expected ${want}, got ${t === want ? `a malformed ${want}` : typeof t === 'string' ? t : typeof args[i]}`);
    }
  }
}

/**
 * Whether a JS exception is V8's stack overflow. Compared as a plain string:
 * this runs with the stack nearly exhausted, where even compiling a regular
 * expression can overflow again.
 */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message === 'Maximum call stack size exceeded';
}

/** A thrown value from host code as a Trap (a Trap stays itself; a JS stack overflow is an Exhaustion). */
export function asTrap(e: unknown): Trap {
  if (e instanceof Trap) return e;
  if (isStackOverflow(e)) return new Exhaustion('call stack exhausted');
  const msg = e instanceof Error ? e.message : String(e);
  const t = new Trap(`host function failed: ${msg}`);
  (t as { cause?: unknown }).cause = e;
  return t;
}

// ---------------------------------------------------------------------------

/** Pages of room a memory of `pages` pages grows into: the next power of two (0 for none). */
function roomPages(pages: number): number {
  let r = 1;
  while (r < pages) r *= 2;
  return pages <= 0 ? 0 : r;
}

/**
 * Largest backing store of a memory, in bytes, held in a SharedArrayBuffer
 * rather than an ArrayBuffer (256 KiB: memories of up to 4 pages, as most
 * actors have). Why: V8 counts the bytes of every ArrayBuffer as external
 * memory and, each time about 64 MiB more of it has been allocated, starts a
 * full garbage collection, which marks the whole heap. N live actors of one
 * page each then cost O(N) collections of an O(N) heap: measured, making
 * 100,000 plain 64 KiB ArrayBuffers and keeping them slowed from 8,800/s to
 * 700/s, and spawning 100,000 actors from 3,500/s in the first 10,000 to
 * 930/s in the last (with shared stores: 3,450/s and 3,750/s). The bytes of a
 * shared store are not counted that way (V8's per-isolate accounting of a
 * shared backing store is zero), so a small memory is freed with the
 * objects that hold it, by the collections those objects cause (an
 * instance holds a few KiB of JS objects and accounted stacks beside it).
 * Larger memories stay ArrayBuffers, so that V8 collects early when large
 * memories are dropped. The stores are never handed to another thread;
 * typed arrays and DataViews over them run as fast (measured: the bench
 * kernels take the same CPU time with all their memories shared).
 */
export const SHARED_STORE_MAX = 4 * 65536;

/** A zeroed backing store of `bytes` bytes (see SHARED_STORE_MAX); throws RangeError when the host cannot allocate it. */
function newStore(bytes: number): ArrayBufferLike {
  return bytes <= SHARED_STORE_MAX && typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/** Bytes of the host's pages, as `zero` checks them. */
const OS_PAGE = 4096;
const ZERO_OS_PAGE = Buffer.alloc(OS_PAGE);

/**
 * Zeroes a region for its next memory, writing only the host pages that are
 * not zero already. Why: a page no one wrote is not resident, and writing
 * zeros makes it so (measured, 100,000 spawns with 10,000 alive: RSS 910 MB
 * zeroing whole regions, 300 MB this way; reading it maps no memory). It
 * runs when a region is taken, not when it is given back: the regions of a
 * slab that goes back to the host are never zeroed (releasing 100,000
 * memories at once took 10 s when each was zeroed).
 */
function zero(region: Uint8Array): void {
  for (let at = 0; at < region.length; at += OS_PAGE) {
    if (ZERO_OS_PAGE.compare(region, at, at + OS_PAGE) !== 0) region.fill(0, at, at + OS_PAGE);
  }
}

/** Views of no bytes: a released memory's (zero length, so every access traps). */
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Default bytes of one slab of a MemoryPool: 64 MiB (1,024 regions of one
 * page). Pages of a slab are only resident once written, but only if the
 * slab is fresh memory from the kernel: glibc's malloc serves requests up to
 * its dynamic mmap threshold (which grows to 32 MiB once a large block is
 * freed) from its heap, zero-filling them, and V8 takes array buffers from
 * malloc. Measured with 4 MiB slabs: in some processes every page of every
 * slab was resident (100,000 spawns: 6.5 GB instead of 1.7 GB, and half
 * the speed). A slab goes back to the host only when none of its regions is
 * lent: one long-lived memory keeps its whole slab's address space (not its
 * untouched pages). docs/architecture.md, "Memory pools".
 */
export const POOL_SLAB_BYTES = 64 * 1024 * 1024;
/** Default largest memory, in pages, that a MemoryPool gives a region: 4 (256 KiB, the memories SHARED_STORE_MAX covers). */
export const POOL_REGION_MAX_PAGES = 4;
/**
 * Default bound on the bytes of slabs a MemoryPool holds: 8 GiB (131,072
 * regions of one page). Past it, memories get stores of their own, as
 * without a pool. Released regions are kept for the next memories (zeroed for them);
 * a slab none of whose regions is lent goes back to the host.
 */
export const POOL_MAX_BYTES = 8 * 1024 * 1024 * 1024;

/** Options of a MemoryPool (each has a documented default). */
export interface MemoryPoolOptions {
  /** Bytes of one slab (default POOL_SLAB_BYTES, 64 MiB): a multiple of the largest region. */
  slabBytes?: number;
  /** Largest memory, in pages, given a region (default POOL_REGION_MAX_PAGES, 4): a power of two. */
  maxRegionPages?: number;
  /** Bytes of slabs the pool may hold in all (default POOL_MAX_BYTES, 8 GiB): past it, memories get stores of their own. */
  maxBytes?: number;
}

/** What a MemoryPool holds, for a host's accounting and for tests. */
export interface MemoryPoolStats {
  /** Slabs cut from the host. */
  slabs: number;
  /** Bytes of those slabs. */
  heldBytes: number;
  /** Regions lent to memories now, and their bytes. */
  lentRegions: number;
  lentBytes: number;
  /** Regions given back, waiting for a memory (zeroed when one takes them). */
  freeRegions: number;
}

/**
 * Backing stores for small memories, cut from large SharedArrayBuffer slabs:
 * making a memory then costs no allocation of its own (V8 zero-fills and
 * touches every page of a fresh store, and each store is an object the
 * collector sweeps). One pool per host (e.g. per hive), given to instances
 * with `InstanceOptions.memoryPool`.
 *
 * Isolation: a memory's `u8` and `dv` are views of exactly its own region
 * (JS bounds-checks every typed-array and DataView access against the view),
 * and `Memory.buffer` moves a pooled memory to a store of its own rather
 * than hand out the slab. A region comes back at `Memory.release`, or
 * when its memory grows past it and moves out; it is zeroed before any other
 * memory has it. Regions of memories never released stay
 * lent (and keep their slab) for as long as the pool lives; a slab none of
 * whose regions is lent, but the one regions are being cut from, is dropped
 * (the host collects it).
 */
export class MemoryPool {
  readonly slabBytes: number;
  readonly maxRegionPages: number;
  readonly maxBytes: number;
  /** The slab new regions are cut from (never dropped while it is), or null before the first. */
  private current: Slab | null = null;
  private slabCount = 0;
  private lentRegions = 0;
  private lentBytes = 0;
  private freeRegions = 0;
  /** By size class (class k: regions of 2^k pages), the slabs that have a free region of that class. */
  private readonly withFree: Slab[][] = [];
  /** The slab of each region's buffer. */
  private readonly slabOf = new Map<ArrayBufferLike, Slab>();

  /** A pool with the given limits; throws RangeError on limits that do not fit together. */
  constructor(options: MemoryPoolOptions = {}) {
    this.slabBytes = options.slabBytes ?? POOL_SLAB_BYTES;
    this.maxRegionPages = options.maxRegionPages ?? POOL_REGION_MAX_PAGES;
    this.maxBytes = options.maxBytes ?? POOL_MAX_BYTES;
    const r = this.maxRegionPages;
    if (!(Number.isSafeInteger(r) && r >= 1 && r <= MAX_PAGES && (r & (r - 1)) === 0)) {
      throw new RangeError(`maxRegionPages must be a power of two from 1 to ${MAX_PAGES}, got ${r}`);
    }
    if (!(Number.isSafeInteger(this.slabBytes) && this.slabBytes > 0 && this.slabBytes % (r * PAGE) === 0)) {
      throw new RangeError(`slabBytes must be a positive multiple of the largest region (${r * PAGE} bytes), got ${this.slabBytes}`);
    }
    if (!(Number.isSafeInteger(this.maxBytes) && this.maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative integer, got ${this.maxBytes}`);
    for (let p = 1; p <= r; p *= 2) this.withFree.push([]);
  }

  /** What the pool holds now. */
  stats(): MemoryPoolStats {
    return {
      slabs: this.slabCount,
      heldBytes: this.slabCount * this.slabBytes,
      lentRegions: this.lentRegions,
      lentBytes: this.lentBytes,
      freeRegions: this.freeRegions,
    };
  }

  /** @internal A zeroed region of `pages` pages (a power of two), as a view of exactly its bytes; null when the pool has none to give. */
  take(pages: number): Uint8Array | null {
    if (pages > this.maxRegionPages || typeof SharedArrayBuffer !== 'function') return null;
    const k = Math.log2(pages);
    let region: Uint8Array;
    const slabs = this.withFree[k]!;
    const reuse = slabs.length > 0 ? slabs[slabs.length - 1]! : null;
    if (reuse !== null) {
      const free = reuse.free[k]!;
      region = free.pop()!;
      this.freeRegions--;
      if (free.length === 0) slabs.pop();
      reuse.lent++;
      zero(region);
    } else {
      const bytes = pages * PAGE;
      let slab = this.current;
      if (slab === null || slab.cut + bytes > this.slabBytes) {
        if ((this.slabCount + 1) * this.slabBytes > this.maxBytes) return null;
        let buf: SharedArrayBuffer;
        try {
          buf = new SharedArrayBuffer(this.slabBytes);
        } catch {
          return null;
        }
        if (slab !== null) this.keepTail(slab);
        slab = { buf, cut: 0, lent: 0, free: this.withFree.map(() => []) };
        this.current = slab;
        this.slabOf.set(buf, slab);
        this.slabCount++;
      }
      region = new Uint8Array(slab.buf, slab.cut, bytes);
      slab.cut += bytes;
      slab.lent++;
    }
    this.lentRegions++;
    this.lentBytes += region.length;
    return region;
  }

  /**
   * @internal Takes back a region `take` gave, for the next memory (which
   * `take` zeroes it for: all of it, as a host may have written past the
   * memory's size); a slab none of whose regions is lent any more (but the
   * one regions are being cut from) goes back to the host.
   */
  give(region: Uint8Array): void {
    const slab = this.slabOf.get(region.buffer)!;
    const k = Math.log2(region.length / PAGE);
    this.lentRegions--;
    this.lentBytes -= region.length;
    slab.lent--;
    if (slab.lent === 0 && slab !== this.current) {
      this.drop(slab);
      return;
    }
    const free = slab.free[k]!;
    if (free.length === 0) this.withFree[k]!.push(slab);
    free.push(region);
    this.freeRegions++;
  }

  /** Forgets a slab with no region lent (its free regions with it), so that the host can collect it. */
  private drop(slab: Slab): void {
    slab.free.forEach((free, k) => {
      if (free.length === 0) return;
      this.freeRegions -= free.length;
      const slabs = this.withFree[k]!;
      slabs.splice(slabs.lastIndexOf(slab), 1);
    });
    this.slabOf.delete(slab.buf);
    this.slabCount--;
  }

  /** Keeps what is left of a slab that regions are no longer cut from (less than the region asked for) as free regions of smaller classes. */
  private keepTail(slab: Slab): void {
    for (let k = slab.free.length - 1; k >= 0; k--) {
      const bytes = PAGE << k;
      while (slab.cut + bytes <= this.slabBytes) {
        if (slab.free[k]!.length === 0) this.withFree[k]!.push(slab);
        slab.free[k]!.push(new Uint8Array(slab.buf, slab.cut, bytes));
        slab.cut += bytes;
        this.freeRegions++;
      }
    }
  }
}

/** A slab of a MemoryPool: its bytes, how much of it is cut into regions, how many are lent, and its free regions by size class. */
interface Slab {
  readonly buf: SharedArrayBuffer;
  cut: number;
  lent: number;
  readonly free: Uint8Array[][];
}

/**
 * A linear memory of 64 KiB pages.
 *
 * The backing store has room to grow: `byteLength` is the memory's
 * size, and the views `u8` and `dv` may cover more (its room). Growing
 * within that room changes only `byteLength`; past it, the memory moves to
 * a store about twice as large. Without this, a program growing page by
 * page to 64 MiB copied its memory a thousand times (22 s measured).
 * Resizable ArrayBuffers would avoid the copy, but DataView access on them
 * is an order of magnitude slower in Node 20. Bytes past `byteLength` are
 * never written, so they are zero when growth reaches them.
 *
 * A memory made with a MemoryPool starts in a region of one of the pool's
 * slabs: `u8` and `dv` are then views of exactly that region, never of the
 * slab. Host code reads and writes the memory through `u8` and `dv` at
 * memory addresses (never through `u8.buffer`, which may be a slab shared
 * with other memories), and keeps no view past the call it runs in: a grow
 * or `release` replaces them.
 */
export class Memory {
  /** The views of the memory's bytes (of its room: at least `byteLength` bytes), replaced by a grow that moves it and by `release`. */
  u8: Uint8Array;
  dv: DataView;
  /**
   * @internal A view of exactly `byteLength` bytes, replaced with it: the compiled tier's accesses go through it
   * and an access past the end throws (a RangeError), which traps, so that they need no check of their own.
   */
  exact: DataView;
  /** The memory's size in bytes (a multiple of 64 KiB). */
  byteLength: number;
  /** Maximum in pages (65536 when the type gives none). */
  readonly max: number;
  /** Whether the type declared a maximum (for import matching). */
  readonly hasMax: boolean;
  /** The host's limit in pages (at most `max`; 0 once released). */
  private lim: number;
  /** The backing store a grow that outgrows the room will move to, being prepared (see prepareGrow), or null. */
  private next: ArrayBufferLike | null = null;
  /** Bytes at the start of `next` already written (so their pages exist). */
  private touched = 0;
  /** The host's budget its growth also draws on, or null. */
  private budget: GrowthBudget | null = null;
  /** The pool whose region `u8` is, or null when the memory has a store of its own. */
  private pool: MemoryPool | null = null;

  /**
   * A memory of `initial` pages. `limit` caps growth below the declared
   * maximum (a host resource limit). With a `pool`, a memory whose initial
   * size rounds up to at most the pool's largest region takes a region of
   * it (else, or when the pool has none to give, a store of its own).
   * Throws Exhaustion when `initial` exceeds the limit or the host cannot allocate it.
   */
  constructor(desc: { initial: number; maximum?: number; limit?: number; pool?: MemoryPool | null }) {
    const max = desc.maximum ?? MAX_PAGES;
    if (!(desc.initial >= 0 && desc.initial <= MAX_PAGES) || !(max >= desc.initial && max <= MAX_PAGES)) {
      throw new RangeError('invalid memory limits');
    }
    this.max = max;
    this.hasMax = desc.maximum !== undefined;
    this.lim = Math.min(max, desc.limit ?? MAX_PAGES);
    if (desc.initial > this.lim) {
      throw new Exhaustion(`memory of ${desc.initial} pages exceeds the limit of ${this.lim} pages`);
    }
    this.byteLength = desc.initial * PAGE;
    const pool = desc.pool ?? null;
    let region = pool !== null && desc.initial > 0 ? pool.take(roomPages(desc.initial)) : null;
    if (region !== null) this.pool = pool;
    else {
      try {
        region = new Uint8Array(newStore(this.byteLength));
      } catch {
        throw new Exhaustion(`out of memory: cannot allocate ${desc.initial} pages`);
      }
    }
    this.u8 = region;
    this.dv = new DataView(region.buffer, region.byteOffset, region.byteLength);
    this.exact = new DataView(region.buffer, region.byteOffset, this.byteLength);
  }

  /** The host's limit in pages (at most `max`): growing past it fails like growing past the maximum. 0 once released. */
  get limit(): number {
    return this.lim;
  }

  /** Current size in pages. */
  get pages(): number {
    return this.byteLength / PAGE;
  }

  /** Whether the memory is in a region of a MemoryPool. */
  get pooled(): boolean {
    return this.pool !== null;
  }

  /**
   * The backing store: at least `byteLength` bytes, the memory's bytes from
   * offset 0 (a SharedArrayBuffer when small, see SHARED_STORE_MAX). A
   * pooled memory first moves to a store of its own (its region goes back
   * to the pool), so that no slab is handed out.
   */
  get buffer(): ArrayBufferLike {
    if (this.pool !== null) this.moveTo(newStore(this.u8.length));
    return this.u8.buffer;
  }

  /** The memory's bytes: a view of exactly `byteLength` bytes (valid until the next grow). */
  bytes(): Uint8Array {
    return this.u8.subarray(0, this.byteLength);
  }

  /**
   * Ends the memory: its region goes back to its pool (zeroed before
   * another memory has it), and the memory is empty for good (size 0, views
   * of no bytes, growth fails), so that any later access by code that still
   * holds it traps rather than reach the region's next owner. For a host
   * done with an instance (see `Instance.dispose`). Idempotent.
   */
  release(): void {
    this.leavePool();
    this.u8 = NO_BYTES;
    this.dv = NO_VIEW;
    this.exact = NO_VIEW;
    this.byteLength = 0;
    this.lim = 0;
    this.next = null;
    this.touched = 0;
  }

  /** Gives the pool's region back, if the memory has one (after its bytes were copied out, or at release). */
  private leavePool(): void {
    const pool = this.pool;
    if (pool === null) return;
    this.pool = null;
    pool.give(this.u8);
  }

  /** Copies the memory's bytes to `store` (at least as large as the room) and makes it the memory's own store. */
  private moveTo(store: ArrayBufferLike): void {
    const u8 = new Uint8Array(store);
    u8.set(this.u8.subarray(0, this.byteLength));
    this.leavePool();
    this.u8 = u8;
    this.dv = new DataView(store);
    this.exact = new DataView(store, 0, this.byteLength);
  }

  /** The backing store a grow by `delta` pages moves to: `roomPages` of the new size, within the limit; 0 when it fits the room or fails. */
  private roomFor(delta: number): number {
    const size = (this.pages + delta) * PAGE;
    if (!(delta > 0 && this.pages + delta <= this.lim) || size <= this.u8.length) return 0;
    return Math.min(this.lim, roomPages(this.pages + delta)) * PAGE;
  }

  /**
   * Bytes a grow by `delta` pages is charged for copying: the whole memory
   * when the grow crosses a power of two of pages (where the backing store,
   * grown to powers of two, must move), else 0. A function of the page
   * counts alone, not of the backing store: a restored memory has a store of
   * exactly its size, and the same grows must cost the same fuel after a
   * restore as without one. (Its one extra move is bounded by the limit.)
   */
  copyBytes(delta: number): number {
    if (!(delta > 0 && this.pages + delta <= this.lim)) return 0;
    return roomPages(this.pages + delta) > roomPages(this.pages) ? this.byteLength : 0;
  }

  /**
   * Prepares a grow by `delta` pages that outgrows the backing store, `bytes`
   * at a time: allocates the new store once, and writes zeros over `bytes`
   * more of the part the grow will copy into. The copy then lands on pages
   * that exist (into fresh pages it measured about ten times slower), so a
   * grow paid in parts (see payInParts in interp.ts) spreads that work over
   * its parts. A no-op when the grow needs no new store or it cannot be had.
   */
  prepareGrow(delta: number, bytes: number): void {
    const room = this.roomFor(delta);
    if (room === 0) return;
    if (this.next === null || this.next.byteLength !== room) {
      try {
        this.next = newStore(room);
      } catch {
        this.next = null;
        return;
      }
      this.touched = 0;
    }
    const end = Math.min(this.byteLength, this.touched + bytes);
    if (end > this.touched) new Uint8Array(this.next, this.touched, end - this.touched).fill(0);
    this.touched = Math.max(this.touched, end);
  }

  /**
   * Makes growth also draw on a host budget (e.g. one shared by a group of
   * instances). A field set once, not a replaced method, so that every memory
   * keeps one shape for the interpreter.
   */
  setBudget(budget: GrowthBudget | null): void {
    this.budget = budget;
  }

  /** Grows by `delta` pages; returns the old size, or -1 when the maximum, the host's budget or the host's memory forbids it (the memory is then unchanged). */
  grow(delta: number): number {
    const old = this.pages;
    if (delta === 0) return old;
    if (delta < 0 || old + delta > this.lim) return -1;
    if (this.budget !== null && !this.budget.allows(delta)) return -1;
    const size = (old + delta) * PAGE;
    if (size > this.u8.length) {
      let next: ArrayBufferLike | null = null;
      // The store prepared for this grow if there is one (zero past what was copied into it), else about twice
      // the room, within the limit; if that much cannot be had, exactly what is needed.
      const room = this.roomFor(delta);
      const prepared = this.next;
      this.next = null;
      if (prepared !== null && prepared.byteLength === room) next = prepared;
      for (const n of next !== null ? [] : room > size ? [room, size] : [size]) {
        try {
          next = newStore(n);
          break;
        } catch {
          next = null;
        }
      }
      if (next === null) return -1;
      // A pooled memory leaves its region here (given back after the copy).
      this.moveTo(next);
    }
    this.byteLength = size;
    this.exact = new DataView(this.u8.buffer, this.u8.byteOffset, size);
    this.budget?.took(delta);
    return old;
  }
}

/**
 * A host's budget that the growth of memories (in pages) or tables (in
 * elements) draws on, for example one shared by a group of instances. Asked
 * before a grow, told after one succeeded; memories and tables never shrink.
 */
export interface GrowthBudget {
  /** Whether `delta` more units may be had now (false: the grow fails as past the maximum, returning -1). */
  allows(delta: number): boolean;
  /** `delta` units were taken by a grow that succeeded. */
  took(delta: number): void;
}

/**
 * Elements that a group of tables may have between them: an instance's own
 * tables share one (see `InstanceOptions.maxTableElements`), so that many
 * tables cannot multiply the limit. Taken when a table is created or grows;
 * tables never shrink, so nothing is given back.
 */
export class ElementQuota {
  private used = 0;

  /** A quota of `limit` elements. */
  constructor(readonly limit: number) {
    if (!(Number.isSafeInteger(limit) && limit >= 0)) throw new RangeError(`an element limit must be a non-negative integer, got ${limit}`);
  }

  /** Elements still available. */
  get left(): number {
    return this.limit - this.used;
  }

  /** Takes `n` elements; false (and nothing taken) when fewer are left. */
  take(n: number): boolean {
    if (n > this.limit - this.used) return false;
    this.used += n;
    return true;
  }
}

/** A table of references (funcref: Func or null; externref: any host value, null for null). */
export class Table {
  readonly elemType: number;
  elements: unknown[];
  readonly max: number;
  readonly hasMax: boolean;

  /** The host's limit on the number of elements (at most `max`). */
  readonly limit: number;
  /** The quota this table shares with its instance's other tables, if any. */
  private readonly quota: ElementQuota | null;
  /** The host's budget its growth also draws on, or null. */
  private budget: GrowthBudget | null = null;

  /**
   * A table of `initial` elements set to `init`. Throws Exhaustion, before
   * allocating anything, when `initial` exceeds `limit` (default 1,000,000)
   * or what is left of `quota`.
   */
  constructor(desc: { element: 'funcref' | 'externref'; initial: number; maximum?: number; limit?: number; quota?: ElementQuota }, init: unknown = null) {
    this.elemType = typeCode(desc.element);
    const max = desc.maximum ?? 0xffffffff;
    if (!(desc.initial >= 0 && desc.initial <= 0xffffffff) || !(max >= desc.initial && max <= 0xffffffff)) {
      throw new RangeError('invalid table limits');
    }
    this.max = max;
    this.hasMax = desc.maximum !== undefined;
    this.limit = Math.min(max, desc.limit ?? MAX_TABLE_ELEMENTS);
    this.quota = desc.quota ?? null;
    if (desc.initial > this.limit) {
      throw new Exhaustion(`table of ${desc.initial} elements exceeds the limit of ${this.limit} elements`);
    }
    if (this.quota !== null && !this.quota.take(desc.initial)) {
      throw new Exhaustion(`table of ${desc.initial} elements exceeds the ${this.quota.left} elements left of the instance's limit of ${this.quota.limit}`);
    }
    this.elements = new Array<unknown>(desc.initial).fill(init);
  }

  get length(): number {
    return this.elements.length;
  }

  get(i: number): Value {
    if (!(i >= 0 && i < this.elements.length)) throw new RangeError('table index out of bounds');
    const v = this.elements[i];
    return this.elemType === 0x70 ? { type: 'funcref', value: (v as Func | null) ?? null } : { type: 'externref', value: v };
  }

  set(i: number, v: Value): void {
    if (!(i >= 0 && i < this.elements.length)) throw new RangeError('table index out of bounds');
    if (typeCode(v.type) !== this.elemType) throw new TypeError('table element type mismatch');
    this.elements[i] = v.type === 'funcref' || v.type === 'externref' ? (v.value ?? null) : null;
  }

  /** Makes growth also draw on a host budget (see `Memory.setBudget`). */
  setBudget(budget: GrowthBudget | null): void {
    this.budget = budget;
  }

  /** Whether the table may grow by `delta` elements (its limit, its quota and the host's budget allow it); checked before any work. */
  canGrow(delta: number): boolean {
    return (
      delta >= 0 &&
      delta <= this.limit - this.elements.length &&
      (this.quota === null || delta <= this.quota.left) &&
      (delta === 0 || this.budget === null || this.budget.allows(delta))
    );
  }

  /** Grows by `delta` elements set to `init`; returns the old length, or -1 (nothing allocated) when the limit, quota or budget forbids it. */
  grow(delta: number, init: unknown = null): number {
    const old = this.elements.length;
    if (!this.canGrow(delta) || (this.quota !== null && !this.quota.take(delta))) return -1;
    if (delta > 0) this.budget?.took(delta);
    // Pushed one by one: setting a much larger length turns the array into a slow dictionary, and
    // growing it by parts that way copies all of it at each part.
    const els = this.elements;
    for (let i = 0; i < delta; i++) els.push(init);
    return old;
  }
}

/**
 * A global variable. A numeric value lives in `cell[idx]` and `cell[idx+1]`
 * (its bit pattern); a reference is kept as the object in `ref`, since slot
 * ids of references belong to one instance and a global may be shared.
 */
export class Global {
  readonly type: number;
  readonly mutable: boolean;
  /** Whether the type is a reference type (the value is in `ref`). */
  readonly isRef: boolean;
  cell: Int32Array;
  idx: number;
  ref: unknown = null;

  /**
   * A global of a type, with its initial value (zero or null when none).
   * `at` is the instance's own: the words it lives in (an instance keeps
   * its globals in one array, so it makes no array for each).
   */
  constructor(desc: { type: ValueTypeName; mutable?: boolean }, init?: Value, at?: { cell: Int32Array; idx: number }) {
    this.type = typeCode(desc.type);
    this.mutable = desc.mutable ?? false;
    this.isRef = this.type === 0x70 || this.type === 0x6f;
    this.cell = at?.cell ?? new Int32Array(2);
    this.idx = at?.idx ?? 0;
    if (init !== undefined) this.setValue(init);
  }

  /** The current value. */
  get(): Value {
    if (this.type === 0x70) return { type: 'funcref', value: this.ref as Func | null };
    if (this.type === 0x6f) return { type: 'externref', value: this.ref };
    return readValue(this.type, this.cell, this.idx, null);
  }

  /** Sets the value (from the host; allowed on immutable globals only through `setValue`). */
  set(v: Value): void {
    if (!this.mutable) throw new TypeError('global is immutable');
    this.setValue(v);
  }

  /** Sets the value regardless of mutability (initialisation). */
  setValue(v: Value): void {
    if (typeCode(v.type) !== this.type) throw new TypeError(`global of type ${typeName(this.type)} given ${v.type}`);
    if (v.type === 'funcref' || v.type === 'externref') this.ref = v.value ?? null;
    else writeValue(v, this.cell, this.idx, null);
  }

  /** The value as a plain JS value. */
  get value(): unknown {
    return toJs(this.get());
  }
}

/** Writes a value's bits into two words (a reference as its id in `inst`). */
export function writeValue(v: Value, w: Int32Array, at: number, inst: Inst | null): void {
  switch (v.type) {
    case 'i32':
      w[at] = v.value;
      w[at + 1] = 0;
      break;
    case 'f32':
      w[at] = v.bits;
      w[at + 1] = 0;
      break;
    case 'i64':
    case 'f64': {
      const x = v.type === 'i64' ? v.value : v.bits;
      w[at] = Number(BigInt.asIntN(32, x));
      w[at + 1] = Number(BigInt.asIntN(32, x >> 32n));
      break;
    }
    case 'funcref':
    case 'externref':
      if (inst === null) throw new TypeError('a reference needs an instance');
      w[at] = refToId(inst, v.value);
      w[at + 1] = 0;
      break;
  }
}

/** Reads a value of a type from two words (a reference from its id in `inst`). */
export function readValue(type: number, w: Int32Array, at: number, inst: Inst | null): Value {
  switch (type) {
    case 0x7f:
      return { type: 'i32', value: w[at]! };
    case 0x7d:
      return { type: 'f32', bits: w[at]! >>> 0 };
    case 0x7e:
      return { type: 'i64', value: (BigInt(w[at + 1]!) << 32n) | BigInt(w[at]! >>> 0) };
    case 0x7c:
      return { type: 'f64', bits: (BigInt(w[at + 1]! >>> 0) << 32n) | BigInt(w[at]! >>> 0) };
    case 0x70: {
      const f = inst === null ? undefined : idToRef(inst, w[at]!);
      if (f !== null && !(f instanceof Func)) throw new Trap('invalid reference');
      return { type: 'funcref', value: f };
    }
    case 0x6f: {
      const x = inst === null ? undefined : idToRef(inst, w[at]!);
      if (x === undefined) throw new Trap('invalid reference');
      return { type: 'externref', value: x };
    }
    default:
      throw new TypeError(`no value of type 0x${type.toString(16)}`);
  }
}
