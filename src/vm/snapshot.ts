/**
 * Snapshots: the complete state of an instance that is idle or paused (out
 * of fuel, or waiting on a host call) as bytes, and an instance made from
 * them that continues exactly where the original stopped: in another
 * thread, another process, or after a restart.
 *
 * Layout (docs/snapshot-format.md): a 48-byte header (magic, format
 * version, code version, flags, SHA-256 of the module bytes), then one
 * msgpack map. Memory pages that are all zero are left out; memory, stack
 * and tables are compressed (Brotli). An incremental snapshot carries only the pages
 * that changed since the last snapshot of the same instance.
 *
 * Snapshot bytes may come from anywhere, so `restore` checks every field
 * against the module and the instance's limits before it uses it: a bad
 * snapshot is refused with a SnapshotError. The operand slots are raw bits
 * and need no check, except references, which name entries of the
 * snapshot's own reference table and are checked where they are used (a
 * forged one traps the call with "invalid reference").
 */
import { kMaxLength } from 'node:buffer';
import { createHash } from 'node:crypto';
import { brotliCompress, brotliCompressSync, brotliDecompressSync, constants as zlib, type BrotliOptions } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { SnapshotError, StateError, WasmError } from './errors.js';
import { Instance, RESTORING, type Imports, type InstanceOptions } from './instance.js';
import { ISA, forEachTarget, insnLength, operandAt } from './isa.js';
import { Func, PAGE, Suspend, canonicalTypeId, funcAt, readValue, refToId, type Inst } from './runtime.js';
import { funcTypeOf, type FuncType, type ModuleAst } from './types.js';
import type { Lowered } from './internal-code.js';
import type { Module } from './module.js';
import type { Value } from './values.js';

const MAGIC = [0x57, 0x48, 0x53, 0x4e, 0x41, 0x50]; // "WHSNAP"
/** Version of the snapshot layout. */
export const SNAPSHOT_FORMAT = 1;
/**
 * Version of what a snapshot's program counters and fuel counts mean: the
 * lowering, the fuel costs and the frame layout. A snapshot only restores
 * into an engine with the same code version. 2: memory.grow costs fuel per
 * page, and a grow or bulk instruction may pause inside itself (`part`).
 */
export const CODE_VERSION = 2;
const HEADER_BYTES = 48;
const FLAG_INCREMENTAL = 1;

const STATUS = ['idle', 'out-of-fuel', 'waiting'] as const;

/** Instructions a call may stop inside of (paid in parts: see payInParts in interp.ts). */
const PAID_IN_PARTS = new Set<number>(ISA.filter((i) => i.pauses === 'parts').map((i) => i.op));
/** Whether op is a call (direct or indirect, tail call or not): where a call waiting on the host can be. */
const isCall = (op: number | undefined): boolean => op !== undefined && ISA[op]?.call === true;
type Status = (typeof STATUS)[number];

/** Saves and loads externref values that are not null, booleans, numbers or strings. */
export interface ExternCodec {
  encode(x: unknown): unknown;
  decode(data: unknown): unknown;
}

/** Options of `snapshot`. */
export interface SnapshotOptions {
  /** State of the host to carry along (for example the WASI state): msgpack-encodable values. */
  host?: Record<string, unknown>;
  /**
   * Only the memory pages changed since the last snapshot of this instance
   * (taken, or restored from, in this process); restoring needs that
   * snapshot and its own bases. Without a previous snapshot it is full.
   */
  incremental?: boolean;
  /** Brotli quality for memory, stack and tables, 0-11 (default 1: fast). */
  level?: number;
  externs?: ExternCodec;
  /**
   * Whether this snapshot is the base of the instance's next incremental one
   * (default true: its pages are hashed). False for an instance about to be
   * dropped (an actor moving to another thread): no hashes.
   */
  track?: boolean;
}

/**
 * Options of `restore`: the instance's limits, and what restoring needs
 * besides the snapshot. The limits are the memory budget of restoring too:
 * memory pages, table elements, stack bytes and frames are checked against
 * them before anything is decompressed or allocated, and a snapshot over
 * one is refused with a SnapshotError naming it (`budget`).
 */
export interface RestoreOptions extends InstanceOptions {
  /** For an incremental snapshot: the snapshots it builds on, the full one first. */
  bases?: Uint8Array[];
  externs?: ExternCodec;
  /**
   * Whether the snapshot restored is the base of the instance's next
   * incremental one (default true: its pages are hashed). False where no
   * one holds that snapshot (an actor moved from another thread).
   */
  track?: boolean;
}

/** Options of `readSnapshot`: its memory budget. */
export interface ReadSnapshotOptions {
  /**
   * The most frames it reads (default 200,001: a call at the engine's
   * default depth limit). Frames are the only part it decompresses; a
   * snapshot with more is refused with a SnapshotError (budget "maxFrames").
   */
  maxFrames?: number;
}

/** What `readSnapshot` finds in a snapshot, without the module. */
export interface SnapshotInfo {
  format: number;
  codeVersion: number;
  /** SHA-256 of the module bytes, hex. */
  moduleHash: string;
  incremental: boolean;
  /** SHA-256 of the snapshot this one builds on, hex (incremental only). */
  base: string | null;
  status: Status;
  /** Fuel left (Infinity: unmetered) and used. */
  fuel: number;
  fuelUsed: number;
  /** The function of the paused call (index), or -1. */
  entry: number;
  /** Frames of the paused call, outermost first. `name` is as recorded by the snapshot (for display only). */
  frames: { func: number; name: string; pc: number }[];
  /** The host call a waiting snapshot waits on. */
  pending: { func: number; module: string; name: string; data: unknown } | null;
  /** Defined memories: size in pages and pages stored in this snapshot. */
  memories: { pages: number; stored: number }[];
  tables: { size: number }[];
  globals: number;
  stackBytes: number;
  refs: number;
  host: Record<string, unknown>;
  /** Bytes of the whole snapshot. */
  bytes: number;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

// ---------------------------------------------------------------------------
// Hashes

const moduleHashes = new WeakMap<Module, Uint8Array>();

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function moduleHash(module: Module): Uint8Array {
  let h = moduleHashes.get(module);
  if (h === undefined) {
    h = sha256(module.ast.bytes);
    moduleHashes.set(module, h);
  }
  return h;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** What the last snapshot of an instance held: its hash, and a hash per memory page (null: all zero). */
interface Tracked {
  id: Uint8Array;
  pages: (Uint8Array | null)[][];
}
const tracked = new WeakMap<Instance, Tracked>();

const ZERO_PAGE = Buffer.alloc(PAGE);

/** Whether page `p` is all zero. */
function isZeroPage(u8: Uint8Array, p: number): boolean {
  return Buffer.from(u8.buffer, u8.byteOffset + p * PAGE, PAGE).equals(ZERO_PAGE);
}

/** Hash of one page, or null when it is all zero. */
function pageHash(u8: Uint8Array, p: number): Uint8Array | null {
  const page = Buffer.from(u8.buffer, u8.byteOffset + p * PAGE, PAGE);
  if (page.equals(ZERO_PAGE)) return null;
  return new Uint8Array(createHash('sha256').update(page).digest());
}

// ---------------------------------------------------------------------------
// Compression: Brotli at a low quality, which in Node compresses typical
// memory several times smaller than deflate, and about ten times faster
// (and passes incompressible pages at hundreds of MB/s).

// The window fits the data (2^16 to Brotli's default 2^22 bytes): a smaller
// window is all a small input can use, and the encoder sets it up in less
// than half the time (a 64 KiB memory: 25 us instead of 57). Decoders read
// the window from the stream.
function compress(data: Uint8Array, quality: number): Uint8Array {
  return new Uint8Array(brotliCompressSync(data, brotliOptions(data, quality)));
}

/** The encoder's options for `data`: the quality, and a window that fits the data. */
function brotliOptions(data: Uint8Array, quality: number): BrotliOptions {
  const window = Math.min(22, Math.max(16, Math.ceil(Math.log2(data.length + 1))));
  return { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length, [zlib.BROTLI_PARAM_LGWIN]: window } };
}

/** Data from this size on is compressed on the thread pool by snapshotAsync (256 KiB: about a millisecond here). */
const ASYNC_COMPRESS_BYTES = 256 << 10;

/** `compress` on libuv's thread pool: the same bytes, without blocking the thread (snapshotAsync). */
function compressAsync(data: Uint8Array, quality: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    brotliCompress(data, brotliOptions(data, quality), (err, out) => (err !== null ? reject(err) : resolve(new Uint8Array(out))));
  });
}

// ---------------------------------------------------------------------------
// Words as bytes (little-endian, whatever the host)

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function wordsToBytes(w: Int32Array | Uint32Array): Uint8Array {
  if (LE) return new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
  const out = new Uint8Array(w.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < w.length; i++) dv.setInt32(4 * i, w[i]!, true);
  return out;
}

function bytesToWords(b: Uint8Array, what: string): Int32Array {
  if (b.length % 4 !== 0) throw bad(`${what}: ${b.length} bytes is not a whole number of words`);
  const out = new Int32Array(b.length / 4);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
  return out;
}

// ---------------------------------------------------------------------------
// Taking a snapshot

/**
 * The state of an instance that is idle or paused, as bytes. Throws
 * StateError while the instance is running (from inside a host function),
 * and SnapshotError when some state cannot be saved (a reference to a
 * function of another instance, or an externref the codec cannot encode).
 */
export function snapshot(instance: Instance, options: SnapshotOptions = {}): Uint8Array {
  const level = options.level ?? 1;
  return finish(capture(instance, options, (data) => compress(data, level)));
}

/**
 * `snapshot`, with the compression on libuv's thread pool: the state is
 * taken now (copied: the instance may run on at once), and the bytes, the
 * same `snapshot` would give, come when compressed. Never incremental, and
 * not a base for an incremental snapshot (no page hashes).
 */
export async function snapshotAsync(instance: Instance, options: Omit<SnapshotOptions, 'incremental' | 'track'> = {}): Promise<Uint8Array> {
  const level = options.level ?? 1;
  const raw = new Map<Uint8Array, Uint8Array>();
  const taken = capture(instance, { ...options, incremental: false, track: false }, (data) => {
    // Small data at once (a trip to the thread pool costs more, and waits behind the file system's work there).
    if (data.length < ASYNC_COMPRESS_BYTES) return compress(data, level);
    // A placeholder, replaced by the compressed bytes below.
    const slot = new Uint8Array(0);
    raw.set(slot, data);
    return slot;
  });
  const squeezed = new Map(await Promise.all([...raw].map(async ([slot, data]) => [slot, await compressAsync(data, level)] as const)));
  // Encoded, then copied after its header, each in a turn of the event loop of its own, after its timers and I/O
  // (a large memory takes a while to copy).
  await nextTurn();
  const fill = (x: Uint8Array): Uint8Array => squeezed.get(x) ?? x;
  const body = taken.body;
  body['frames'] = fill(body['frames'] as Uint8Array);
  body['stack'] = fill(body['stack'] as Uint8Array);
  for (const mem of body['memories'] as { data: Uint8Array }[]) mem.data = fill(mem.data);
  for (const t of body['tables'] as { ids: Uint8Array }[]) t.ids = fill(t.ids);
  const encoded = encodeBody(taken.body);
  await nextTurn();
  return withHeader(taken, encoded);
}

/** The next turn of the event loop, after its timers and I/O (one setImmediate set from an I/O callback runs before any). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** What `capture` took: the body to encode, and what `finish` needs. */
interface Taken {
  instance: Instance;
  body: Record<string, unknown>;
  incremental: boolean;
  track: boolean;
  hashes: (Uint8Array | null)[][];
}

/** Encodes what `capture` took (the header, then the body), and keeps the page hashes of a tracked snapshot. */
function finish(t: Taken): Uint8Array {
  return withHeader(t, encodeBody(t.body));
}

function encodeBody(body: Record<string, unknown>): Uint8Array {
  try {
    return packr.pack(body);
  } catch (e) {
    throw new SnapshotError(`cannot encode the snapshot: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The snapshot: its header, then the encoded body. */
function withHeader(t: Taken, encoded: Uint8Array): Uint8Array {
  // Not zeroed first (every byte is written below): a snapshot of a large memory is large.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(HEADER_BYTES + encoded.length).buffer, 0, HEADER_BYTES + encoded.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint16(6, SNAPSHOT_FORMAT, true);
  dv.setUint32(8, CODE_VERSION, true);
  dv.setUint32(12, t.incremental ? FLAG_INCREMENTAL : 0, true);
  out.set(moduleHash(t.instance.module), 16);
  out.set(encoded, HEADER_BYTES);
  if (t.track) tracked.set(t.instance, { id: sha256(out), pages: t.hashes });
  return out;
}

/**
 * Takes the instance's state into a snapshot's body, every value copied;
 * `squeeze` compresses (now, or into a placeholder snapshotAsync fills).
 */
function capture(instance: Instance, options: SnapshotOptions, squeeze: (data: Uint8Array) => Uint8Array): Taken {
  const m = instance.machine;
  if (m.nest > 0) throw new StateError('cannot snapshot an instance while it runs');
  const module = instance.module;
  const ast = module.ast;
  const inst = instance.inst;
  const prev = options.incremental === true ? tracked.get(instance) : undefined;
  const track = options.track !== false || prev !== undefined;
  const status: Status = instance.status;

  // Frames, outermost first: (function, pc) pairs; fps follow from the code.
  const frames = new Int32Array(status === 'idle' ? 0 : 2 * (m.depth + 1));
  // Names of the frames' functions, by function index (for display only).
  const names: Record<number, string> = {};
  if (status !== 'idle') {
    for (let i = 0; i < m.depth; i++) {
      frames[2 * i] = m.frames[3 * i + 2]!;
      frames[2 * i + 1] = m.frames[3 * i]!;
    }
    frames[2 * m.depth] = m.pFn;
    frames[2 * m.depth + 1] = m.pPc;
    for (let i = 0; i <= m.depth; i++) names[frames[2 * i]!] ??= inst.funcName(frames[2 * i]!);
  }
  // Words the frames cover (a caller's frame may reach above its callee's).
  let stackWords = 0;
  if (status !== 'idle') {
    for (let i = 0; i <= m.depth; i++) {
      const fp = i < m.depth ? m.frames[3 * i + 1]! : m.pFp;
      stackWords = Math.max(stackWords, fp + m.code(frames[2 * i]!).frameWords);
    }
  }
  // Words above the frames are dead; a restored instance has zeros there, and so must this one, or later
  // snapshots of the two (which may cover more words) would differ in dead slots.
  m.S.fill(0, stackWords);

  // Tables and globals hold references as ids into the reference table, which is saved last (they may add to
  // it). The ids are given in a copy, so that taking a snapshot changes nothing a later snapshot would see.
  const refs = { refs: inst.refs.slice(), refIds: new Map(inst.refIds ?? []) } as Inst;
  const tables = inst.tables.slice(ast.numImportedTables).map((t) => {
    const ids = new Int32Array(t.elements.length);
    for (let i = 0; i < ids.length; i++) ids[i] = refToId(refs, t.elements[i]);
    return { size: ids.length, ids: squeeze(wordsToBytes(ids)) };
  });
  const g0 = ast.numImportedGlobals;
  const gw = new Int32Array(2 * ast.globals.length);
  for (let i = 0; i < ast.globals.length; i++) {
    // A number lives in the instance's words (its Global is made only on need, over the same words).
    const g = inst.globals[g0 + i];
    if (g?.isRef === true) gw[2 * i] = refToId(refs, g.ref);
    else {
      gw[2 * i] = inst.globalWords[2 * (g0 + i)]!;
      gw[2 * i + 1] = inst.globalWords[2 * (g0 + i) + 1]!;
    }
  }

  let pending: { func: number; data?: unknown } | null = null;
  if (m.pending !== null) {
    const idx = instance.pending!.index;
    if (idx < 0) throw new SnapshotError('the paused call waits on a host function that is not in the instance\'s function index space');
    pending = { func: idx };
    if (m.pending.answer instanceof Suspend && m.pending.answer.data !== undefined) pending.data = m.pending.answer.data;
  }

  // Memories: the pages that are not all zero (or, incrementally, that changed).
  const hashes: (Uint8Array | null)[][] = [];
  const memories = inst.memories.slice(ast.numImportedMemories).map((mem, k) => {
    const pages = mem.pages;
    const u8 = mem.u8;
    const hs: (Uint8Array | null)[] = new Array(pages);
    const keep: number[] = [];
    const before = prev?.pages[k];
    for (let p = 0; p < pages; p++) {
      if (!track) {
        if (!isZeroPage(u8, p)) keep.push(p);
        continue;
      }
      const h = pageHash(u8, p);
      hs[p] = h;
      if (before === undefined) {
        if (h !== null) keep.push(p);
      } else {
        const was = p < before.length ? before[p]! : null;
        if (!(h === null ? was === null : was !== null && sameBytes(h, was))) keep.push(p);
      }
    }
    hashes.push(hs);
    // Not zeroed first: every byte is copied in below.
    const raw = new Uint8Array(Buffer.allocUnsafeSlow(keep.length * PAGE).buffer, 0, keep.length * PAGE);
    keep.forEach((p, i) => raw.set(u8.subarray(p * PAGE, (p + 1) * PAGE), i * PAGE));
    return { pages, index: wordsToBytes(Uint32Array.from(keep)), data: squeeze(raw) };
  });

  const refList: unknown[] = [];
  for (let id = 1; id < refs.refs.length; id++) refList.push(encodeRef(refs.refs[id], inst.funcs, options.externs));

  const body: Record<string, unknown> = {
    status: STATUS.indexOf(status),
    entry: status === 'idle' || instance.entry === null ? -1 : instance.entry.index,
    fuel: m.reserve,
    used: m.used,
    // Units paid toward the instruction the call stopped inside (see payInParts in interp.ts), or -1.
    part: status === 'out-of-fuel' ? m.part : -1,
    frames: squeeze(wordsToBytes(frames)),
    names,
    stackWords,
    stack: squeeze(wordsToBytes(m.S.subarray(0, stackWords))),
    pending,
    globals: wordsToBytes(gw),
    memories,
    tables,
    refs: refList,
    datas: Uint8Array.from(inst.datas, (d) => (d === null ? 1 : 0)),
    elems: Uint8Array.from(inst.elems, (e) => (e === null ? 1 : 0)),
    host: options.host ?? {},
  };
  if (pending !== null) {
    const call = instance.pending!;
    body['pendingName'] = { module: call.module, name: call.name };
  } else body['pendingName'] = null;
  if (prev !== undefined) body['base'] = prev.id;
  return { instance, body, incremental: prev !== undefined, track, hashes };
}

/** A reference as saved: a function by its index in the instance, an extern value as itself or through the codec. */
function encodeRef(x: unknown, funcs: readonly (Func | null)[], codec: ExternCodec | undefined): unknown {
  if (x instanceof Func) {
    const i = funcs.indexOf(x);
    if (i < 0) throw new SnapshotError('cannot snapshot a reference to a function of another instance');
    return { f: i };
  }
  if (codec !== undefined) return { x: codec.encode(x) };
  if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string') return { x };
  throw new SnapshotError(`cannot snapshot an externref holding a ${typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x} (give an ExternCodec)`);
}

// ---------------------------------------------------------------------------
// Reading

function bad(msg: string): SnapshotError {
  return new SnapshotError(`malformed snapshot: ${msg}`);
}

interface Parsed {
  bytes: Uint8Array;
  incremental: boolean;
  hash: Uint8Array;
  codeVersion: number;
  format: number;
  body: Record<string, unknown>;
}

function parse(bytes: Uint8Array): Parsed {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('a snapshot must be a Uint8Array');
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) throw new SnapshotError('not a wasmhive snapshot (bad magic)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = dv.getUint16(6, true);
  if (format !== SNAPSHOT_FORMAT) throw new SnapshotError(`unsupported snapshot format ${format} (this engine reads format ${SNAPSHOT_FORMAT})`);
  const codeVersion = dv.getUint32(8, true);
  const flags = dv.getUint32(12, true);
  if ((flags & ~FLAG_INCREMENTAL) !== 0) throw bad(`unknown flags ${flags}`);
  let body: unknown;
  try {
    body = unpackr.unpack(bytes.subarray(HEADER_BYTES));
  } catch (e) {
    throw bad(`body does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { bytes, incremental: (flags & FLAG_INCREMENTAL) !== 0, hash: bytes.slice(16, 48), codeVersion, format, body: obj(body, 'body') };
}

function obj(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) throw bad(`${what} is not a map`);
  return x as Record<string, unknown>;
}

function arr(x: unknown, what: string, max = Infinity): unknown[] {
  if (!Array.isArray(x)) throw bad(`${what} is not an array`);
  if (x.length > max) throw bad(`${what} has ${x.length} entries, at most ${max} allowed`);
  return x;
}

function int(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw bad(`${what} is ${describe(x)}, not an integer in [${min}, ${max}]`);
  return x;
}

function bin(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array)) throw bad(`${what} is not bytes`);
  return x;
}

function describe(x: unknown): string {
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (typeof x === 'string') return JSON.stringify(x.slice(0, 40));
  return x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
}

/** Decompresses exactly `size` bytes (a larger or smaller result is an error; a bomb cannot allocate more). */
function inflate(data: Uint8Array, size: number, what: string): Uint8Array {
  const out = inflateUpTo(data, size, what, null);
  if (out.length !== size) throw bad(`${what} decompresses to ${out.length} bytes, expected ${size}`);
  return out;
}

/**
 * Decompresses at most `max` bytes: Brotli stops there, so a bomb allocates
 * no more. Going over is a budget error when `budget` names the limit that set `max`.
 */
function inflateUpTo(data: Uint8Array, max: number, what: string, budget: string | null): Uint8Array {
  const over = (): SnapshotError =>
    budget !== null
      ? new SnapshotError(`snapshot over budget: ${what} decompress to more than ${max} bytes (limit ${budget})`, budget)
      : bad(`${what} decompresses to more than ${max} bytes`);
  let out: Uint8Array;
  try {
    // One byte more than allowed, so that "exactly max" and "more than max" can be told apart.
    out = brotliDecompressSync(data, { maxOutputLength: Math.min(max + 1, kMaxLength) });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw over();
    throw bad(`${what} does not decompress: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (out.length > max) throw over();
  return out;
}

/** The frames' (function, pc) words, for at most `maxFrames` frames (more is over the budget named `budget`). */
function frameWords(b: Record<string, unknown>, maxFrames: number, budget: string): Int32Array {
  return bytesToWords(inflateUpTo(bin(b['frames'], 'frames'), 8 * maxFrames, `the frames (at most ${maxFrames})`, budget), 'frames');
}

function fuelValue(x: unknown): number {
  if (x === Infinity) return Infinity;
  return int(x, 'fuel', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** The most frames `readSnapshot` reads by default (it has no instance limits to go by): the engine's default call depth, plus the innermost frame. */
const READ_MAX_FRAMES = 200_001;

/**
 * What a snapshot holds, read without the module (for `wasmhive inspect`),
 * within a memory budget (see ReadSnapshotOptions). Throws SnapshotError,
 * and nothing else, whatever the bytes.
 */
export function readSnapshot(bytes: Uint8Array, options: ReadSnapshotOptions = {}): SnapshotInfo {
  const maxFrames = options.maxFrames ?? READ_MAX_FRAMES;
  if (!(Number.isSafeInteger(maxFrames) && maxFrames >= 0)) throw new RangeError(`maxFrames must be a non-negative integer, got ${maxFrames}`);
  try {
    return readInfo(bytes, maxFrames);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    // The body's shapes are checked field by field; anything they missed is still the snapshot's fault.
    throw bad(e instanceof Error ? e.message : String(e));
  }
}

function readInfo(bytes: Uint8Array, maxFrames: number): SnapshotInfo {
  const p = parse(bytes);
  const b = p.body;
  const status = STATUS[int(b['status'], 'status', 0, 2)]!;
  const fr = frameWords(b, maxFrames, 'maxFrames');
  const names = b['names'] === undefined ? {} : obj(b['names'], 'names');
  const frames: SnapshotInfo['frames'] = [];
  for (let i = 0; i + 1 < fr.length; i += 2) {
    const name = Object.hasOwn(names, String(fr[i])) ? names[String(fr[i])] : undefined;
    frames.push({ func: fr[i]!, name: typeof name === 'string' ? name : `func[${fr[i]}]`, pc: fr[i + 1]! });
  }
  let pending: SnapshotInfo['pending'] = null;
  if (b['pending'] !== null && b['pending'] !== undefined) {
    const pd = obj(b['pending'], 'pending');
    const pn = b['pendingName'] === null || b['pendingName'] === undefined ? {} : obj(b['pendingName'], 'pendingName');
    const text = (x: unknown): string => (typeof x === 'string' ? x : '');
    pending = { func: int(pd['func'], 'pending.func', 0, 0xffffffff), module: text(pn['module']), name: text(pn['name']), data: pd['data'] };
  }
  return {
    format: p.format,
    codeVersion: p.codeVersion,
    moduleHash: hex(p.hash),
    incremental: p.incremental,
    base: b['base'] instanceof Uint8Array ? hex(b['base']) : null,
    status,
    fuel: fuelValue(b['fuel']),
    fuelUsed: int(b['used'], 'used', 0, Number.MAX_SAFE_INTEGER),
    entry: int(b['entry'], 'entry', -1, 0xffffffff),
    frames,
    pending,
    memories: arr(b['memories'], 'memories').map((x, i) => {
      const mm = obj(x, `memory ${i}`);
      return { pages: int(mm['pages'], `memory ${i} pages`, 0, 65536), stored: bin(mm['index'], `memory ${i} index`).length / 4 };
    }),
    tables: arr(b['tables'], 'tables').map((x, i) => ({ size: int(obj(x, `table ${i}`)['size'], `table ${i} size`, 0, 0xffffffff) })),
    globals: bin(b['globals'], 'globals').length / 8,
    stackBytes: 4 * int(b['stackWords'], 'stackWords', 0, 2 ** 31),
    refs: arr(b['refs'], 'refs').length,
    host: b['host'] === undefined ? {} : obj(b['host'], 'host'),
    bytes: bytes.length,
  };
}

/** The host state saved with a snapshot (see SnapshotOptions.host), read without restoring it. Throws SnapshotError. */
export function snapshotHostState(bytes: Uint8Array): Record<string, unknown> {
  const b = parse(bytes).body;
  return b['host'] === undefined ? {} : obj(b['host'], 'host');
}

// ---------------------------------------------------------------------------
// Restoring

/** Facts about a function's lowered code that restoring checks pcs against. */
interface CodeFacts {
  /** Instruction starts. */
  starts: Set<number>;
  /** Where a run of fuel starts: where an out-of-fuel pause can be. */
  runStarts: Set<number>;
  /** Return address (pc after the call) -> pc of the call, for CALL and CALL_INDIRECT. */
  callAt: Map<number, number>;
}
const facts = new WeakMap<Lowered, CodeFacts>();

function codeFacts(lw: Lowered): CodeFacts {
  let f = facts.get(lw);
  if (f !== undefined) return f;
  const code = lw.code;
  const starts = new Set<number>();
  const runStarts = new Set<number>([0]);
  const callAt = new Map<number, number>();
  for (let pc = 0; pc < code.length; ) {
    starts.add(pc);
    const insn = ISA[code[pc]!]!;
    const len = insnLength(code, pc);
    // A call that returns here (not a tail call): its caller's frame records the pc after it.
    if (insn.call && !insn.returns) callAt.set(pc + len, pc);
    forEachTarget(code, pc, (target) => runStarts.add(code[target]!));
    pc += len;
  }
  f = { starts, runStarts, callAt };
  facts.set(lw, f);
  return f;
}

function sameResults(a: FuncType, b: FuncType): boolean {
  return a.results.length === b.results.length && a.results.every((t, i) => t === b.results[i]);
}

/**
 * Makes an instance of `module` from a snapshot, linked to `imports`, in
 * the state the snapshot recorded: a paused call continues with
 * `instance.resume()`. Throws SnapshotError when the bytes are not a
 * snapshot of this module or break any rule (LinkError when the imports do
 * not fit the module). The start function does not run again.
 */
export function restore(module: Module, bytes: Uint8Array, imports: Imports = {}, options: RestoreOptions = {}): Instance {
  const chain = [...(options.bases ?? []), bytes].map(parse);
  const want = moduleHash(module);
  chain.forEach((p, i) => {
    if (!sameBytes(p.hash, want)) {
      throw new SnapshotError(`the snapshot is of another module (module SHA-256 ${hex(p.hash)}, this module ${hex(want)})`);
    }
    if (p.codeVersion !== CODE_VERSION) {
      throw new SnapshotError(`the snapshot was taken by an engine with code version ${p.codeVersion} (this engine: ${CODE_VERSION})`);
    }
    if (i === 0 && p.incremental) throw new SnapshotError('an incremental snapshot needs its base snapshots (RestoreOptions.bases)');
    if (i > 0) {
      if (!p.incremental) throw new SnapshotError(`snapshot ${i} of the chain is not incremental`);
      const base = p.body['base'];
      if (!(base instanceof Uint8Array) || !sameBytes(base, sha256(chain[i - 1]!.bytes))) {
        throw new SnapshotError(`snapshot ${i} of the chain does not build on the snapshot before it`);
      }
    }
  });

  const instance = new Instance(module, imports, { ...options, [RESTORING]: true } as InstanceOptions);
  try {
    load(instance, chain, options.externs);
  } catch (e) {
    // Refused: its memories' regions go back to their pool (regression: they stayed lent, with their slab).
    instance.dispose();
    if (e instanceof SnapshotError) throw e;
    const msg = e instanceof WasmError || e instanceof Error ? e.message : String(e);
    throw bad(msg);
  }
  if (options.track !== false) trackRestored(instance, bytes);
  return instance;
}

function load(instance: Instance, chain: Parsed[], codec: ExternCodec | undefined): void {
  const module = instance.module;
  const ast = module.ast;
  const inst = instance.inst;
  const m = instance.machine;
  const last = chain[chain.length - 1]!;
  const b = last.body;

  // References first: tables, globals and slots name them.
  const refList = arr(b['refs'], 'refs', 1 << 26);
  inst.refs.length = 1;
  const refIds = (inst.refIds = new Map<unknown, number>());
  refList.forEach((r, i) => {
    const e = obj(r, `ref ${i + 1}`);
    let x: unknown;
    if ('f' in e) x = funcAt(inst, int(e['f'], `ref ${i + 1}`, 0, inst.funcs.length - 1));
    else if ('x' in e) x = codec !== undefined ? codec.decode(e['x']) : e['x'];
    else throw bad(`ref ${i + 1} is neither a function nor an extern value`);
    if (codec === undefined && !('f' in e) && !(x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string')) {
      throw bad(`ref ${i + 1} is not a plain value`);
    }
    inst.refs.push(x);
    if (!refIds.has(x)) refIds.set(x, i + 1);
  });
  const ref = (id: number, funcref: boolean, what: string): unknown => {
    if (!Number.isInteger(id) || id < 0 || id >= inst.refs.length) throw bad(`${what}: reference ${id} is not in the reference table`);
    const x = inst.refs[id];
    if (funcref && x !== null && !(x instanceof Func)) throw bad(`${what}: reference ${id} is not a function`);
    return x;
  };

  // Globals.
  const gw = bytesToWords(bin(b['globals'], 'globals'), 'globals');
  if (gw.length !== 2 * ast.globals.length) throw bad(`${gw.length / 2} globals, the module defines ${ast.globals.length}`);
  ast.globals.forEach((def, i) => {
    const idx = ast.numImportedGlobals + i;
    const g = inst.globals[idx];
    if (g?.isRef === true) g.ref = ref(gw[2 * i]!, def.type.type === 0x70, `global ${i}`);
    else {
      inst.globalWords[2 * idx] = gw[2 * i]!;
      inst.globalWords[2 * idx + 1] = gw[2 * i + 1]!;
    }
  });

  // Tables.
  const tables = arr(b['tables'], 'tables');
  const ownTables = inst.tables.slice(ast.numImportedTables);
  if (tables.length !== ownTables.length) throw bad(`${tables.length} tables, the module defines ${ownTables.length}`);
  tables.forEach((x, i) => {
    const t = ownTables[i]!;
    const e = obj(x, `table ${i}`);
    const size = int(e['size'], `table ${i} size`, t.elements.length, 0xffffffff);
    if (t.grow(size - t.elements.length) < 0) {
      throw new SnapshotError(`snapshot over budget: table ${i} has ${size} elements, more than the instance's tables may have (limit maxTableElements)`, 'maxTableElements');
    }
    const ids = bytesToWords(inflate(bin(e['ids'], `table ${i}`), 4 * size, `table ${i}`), `table ${i}`);
    for (let k = 0; k < size; k++) t.elements[k] = ref(ids[k]!, t.elemType === 0x70, `table ${i} element ${k}`);
  });

  // Memories: the first snapshot of the chain, then each one's changed pages.
  const own = inst.memories.slice(ast.numImportedMemories);
  for (const snap of chain) {
    const mems = arr(snap.body['memories'], 'memories');
    if (mems.length !== own.length) throw bad(`${mems.length} memories, the module defines ${own.length}`);
    mems.forEach((x, i) => {
      const mem = own[i]!;
      const e = obj(x, `memory ${i}`);
      const pages = int(e['pages'], `memory ${i} pages`, mem.pages, 65536);
      if (pages > mem.limit) {
        throw new SnapshotError(`snapshot over budget: memory ${i} has ${pages} pages, more than the limit of ${mem.limit} pages (limit maxMemoryPages)`, 'maxMemoryPages');
      }
      if (mem.grow(pages - mem.pages) < 0) throw new SnapshotError(`memory ${i} of ${pages} pages cannot be allocated`, 'maxMemoryPages');
      const index = new Uint32Array(bytesToWords(bin(e['index'], `memory ${i} index`), `memory ${i} index`).buffer);
      for (let k = 0; k < index.length; k++) {
        if (index[k]! >= pages || (k > 0 && index[k]! <= index[k - 1]!)) throw bad(`memory ${i}: page list is not increasing page numbers below ${pages}`);
      }
      const data = inflate(bin(e['data'], `memory ${i} data`), index.length * PAGE, `memory ${i} data`);
      const u8 = mem.u8;
      for (let k = 0; k < index.length; k++) u8.set(data.subarray(k * PAGE, (k + 1) * PAGE), index[k]! * PAGE);
    });
  }

  // Dropped segments.
  const datas = bin(b['datas'], 'datas');
  const elems = bin(b['elems'], 'elems');
  if (datas.length !== inst.datas.length || elems.length !== inst.elems.length) throw bad('segment counts do not match the module');
  datas.forEach((d, i) => {
    if (d > 1) throw bad(`data segment ${i}: dropped flag ${d}`);
    if (d === 1) inst.datas[i] = null;
  });
  elems.forEach((d, i) => {
    if (d > 1) throw bad(`element segment ${i}: dropped flag ${d}`);
    if (d === 1) inst.elems[i] = null;
  });

  // Fuel.
  m.reserve = fuelValue(b['fuel']);
  m.used = int(b['used'], 'used', 0, Number.MAX_SAFE_INTEGER);

  // The paused call: frames, stack, pending host call.
  const status = STATUS[int(b['status'], 'status', 0, 2)]!;
  const stackWords = int(b['stackWords'], 'stackWords', 0, 2 ** 31);
  if (stackWords > m.maxWords) {
    throw new SnapshotError(`snapshot over budget: a stack of ${4 * stackWords} bytes, more than the limit of ${4 * m.maxWords} (limit maxStackBytes)`, 'maxStackBytes');
  }
  const fr = frameWords(b, m.maxDepth + 1, 'maxCallDepth');
  const part = b['part'] === undefined ? -1 : int(b['part'], 'part', -1, Number.MAX_SAFE_INTEGER);
  if (status === 'idle') {
    if (fr.length !== 0 || stackWords !== 0) throw bad('an idle snapshot with frames');
    if (b['pending'] !== null && b['pending'] !== undefined) throw bad('an idle snapshot with a pending call');
    if (part !== -1) throw bad('an idle snapshot inside an instruction');
    return;
  }
  const nframes = fr.length / 2;
  if (nframes < 1 || !Number.isInteger(nframes)) throw bad('a paused snapshot without frames');
  const depth = nframes - 1;
  // Frame records 0 .. depth-1 hold the callers; a call may run at depth maxDepth (as the interpreter allows).
  if (depth > m.maxDepth) throw bad(`${nframes} frames exceed the call depth limit of ${m.maxDepth}`);
  const nImp = ast.numImportedFuncs;
  const nFuncs = nImp + ast.funcs.length;
  const entry = int(b['entry'], 'entry', nImp, nFuncs - 1);

  if (depth > 0 && !m.ensureFrames(depth - 1)) throw bad('frames exceed the call depth limit');
  let fp = 0;
  let fn = -1;
  let lw: Lowered | undefined;
  // Words the frames cover (a caller's frame may reach above its callee's).
  let extent = 0;
  for (let i = 0; i < nframes; i++) {
    fn = int(fr[2 * i], `frame ${i} function`, nImp, nFuncs - 1);
    const pc = fr[2 * i + 1]!;
    lw = m.code(fn);
    extent = Math.max(extent, fp + lw.frameWords);
    const type = funcTypeOf(ast, fn);
    if (i === 0 && !sameResults(type, funcTypeOf(ast, entry))) throw bad('the outermost frame does not return what the paused call does');
    const cf = codeFacts(lw);
    if (i < depth) {
      // A caller: pc is the return address after a call.
      const callPc = cf.callAt.get(pc);
      if (callPc === undefined) throw bad(`frame ${i}: pc ${pc} is not a return address in ${inst.funcName(fn)}`);
      const code = lw.code;
      const op = code[callPc]!;
      const calleeAt = operandAt(op, 'func'); // a direct call names its callee, an indirect one its type
      const calleeType = calleeAt > 0 ? funcTypeOf(ast, code[callPc + calleeAt]!) : ast.types[code[callPc + operandAt(op, 'type')]!]!;
      const next = int(fr[2 * (i + 1)], `frame ${i + 1} function`, nImp, nFuncs - 1);
      // The callee may have been replaced by a tail call; its results are the same.
      if (!sameResults(calleeType, funcTypeOf(ast, next))) throw bad(`frame ${i + 1} does not return what the call in frame ${i} expects`);
      m.frames[3 * i] = pc;
      m.frames[3 * i + 1] = fp;
      m.frames[3 * i + 2] = fn;
      fp += code[callPc + operandAt(op, 'base')]!;
    } else if (status === 'out-of-fuel' && part >= 0) {
      // Stopped inside a grow or bulk instruction paid in parts.
      if (!cf.starts.has(pc) || !PAID_IN_PARTS.has(lw.code[pc]!)) throw bad(`top frame: pc ${pc} is not a grow or bulk instruction in ${inst.funcName(fn)}`);
    } else if (status === 'out-of-fuel') {
      if (!cf.runStarts.has(pc)) throw bad(`top frame: pc ${pc} is not where a run of ${inst.funcName(fn)} starts`);
    } else {
      if (!cf.starts.has(pc) || !isCall(lw.code[pc])) {
        throw bad(`top frame: pc ${pc} is not a call in ${inst.funcName(fn)}`);
      }
    }
  }
  m.pPc = fr[2 * depth + 1]!;
  if (stackWords !== extent) throw bad(`the stack has ${stackWords} words, the frames cover ${extent}`);
  if (!m.ensureStack(stackWords)) throw bad('the stack exceeds the stack limit');
  const words = bytesToWords(inflate(bin(b['stack'], 'stack'), 4 * stackWords, 'stack'), 'stack');
  m.S.set(words, 0);
  m.S.fill(0, stackWords);
  m.depth = depth;
  m.top = fp + lw!.frameWords;
  m.pFn = fn;
  m.pFp = fp;
  if (part >= 0 && status !== 'out-of-fuel') throw bad('a waiting snapshot inside an instruction');
  m.part = part;

  if (status === 'waiting') {
    const pd = obj(b['pending'], 'pending');
    const idx = int(pd['func'], 'pending function', 0, nImp - 1);
    const f = inst.funcs[idx]!;
    if (f.host === null) throw bad('the pending call is not a host function');
    const code = lw!.code;
    const pc = m.pPc;
    const op = code[pc]!;
    const calleeAt = operandAt(op, 'func');
    if (calleeAt > 0) {
      if (code[pc + calleeAt] !== idx) throw bad('the pending call is not the function the code calls');
    } else if (canonicalTypeId(f.type) !== inst.typeIds[code[pc + operandAt(op, 'type')]!]) {
      throw bad('the pending call does not have the type of the indirect call');
    }
    const base = fp + code[pc + operandAt(op, 'base')]!;
    const args: Value[] = f.type.params.map((t, i) => readValue(t, m.S, base + 2 * i, inst));
    m.pending = { func: f, args, answer: new Suspend(pd['data']) };
  } else if (b['pending'] !== null && b['pending'] !== undefined) {
    throw bad('an out-of-fuel snapshot with a pending call');
  }
  instance.entry = funcAt(inst, entry);
}

/** Records the restored instance's memory as the base of its later incremental snapshots. */
function trackRestored(instance: Instance, bytes: Uint8Array): void {
  const ast: ModuleAst = instance.module.ast;
  const pages = instance.inst.memories.slice(ast.numImportedMemories).map((mem) => {
    const hs: (Uint8Array | null)[] = [];
    for (let p = 0; p < mem.pages; p++) hs.push(pageHash(mem.u8, p));
    return hs;
  });
  tracked.set(instance, { id: sha256(bytes), pages });
}

