/**
 * FileStore: the embedded default Store, kept in one directory as a log of
 * append-only segment files (format in docs/store-format.md).
 *
 * On disk:
 *
 *   LOCK            "<pid> <process start time>\n" of the process that has the store open
 *   00000001.seg    segments: a 16-byte header, then frames, nothing else
 *   00000007.seg    ...
 *   00000009.seg.tmp  a compaction's output being written (deleted on open)
 *
 * Segment header (16 bytes): magic "WHSEGMNT", u16 LE version (1), u8 kind
 * (1 log: appended to by writes; 2 compacted: written whole by compaction,
 * renamed into place only once synced), u8 0, u32 LE CRC-32 of bytes 0..12.
 *
 * Frame (all integers little-endian):
 *
 *   0   u32  CRC-32 of bytes 4 .. end of the frame
 *   4   u8   type: 1 put, 2 delete, 3 append, 4 trim
 *   5   u8   0 (reserved)
 *   6   u16  K, key length in bytes (1..1024; the record key or the journal name, UTF-8)
 *   8   u32  V, value length (put: the record; append: the entry; delete, trim: 0)
 *   12  u64  lsn: a number one higher for every frame written, over the store's life
 *   20  u64  seq: append: the entry's seq; trim: the seq it trims up to; else 0
 *   28  K bytes of key, then V bytes of value
 *
 * The state is what replaying every frame of every segment gives, in any
 * order: a record is its put or delete with the highest lsn; a journal's
 * entries are the distinct seqs appended above its highest trim, and its
 * last seq the highest of its entries and trims (a trim is written clamped to
 * the journal's last seq, so that an entry appended after it is never under
 * it). Because order does not matter, compaction can copy live frames from
 * any closed segments into a new one (keeping their lsn) and delete the old
 * ones afterwards; a crash in between leaves duplicates, which replay
 * resolves the same way.
 *
 * In memory there is only an index (key -> segment, offset, length, lsn in
 * typed-array columns; journal -> the locations of its entries); values are
 * read from disk on `get` and `read`, and checked against their CRC.
 *
 * Writes are group-committed: the calls made while the previous write is in
 * flight (or in the same tick) go out in one `writev` and one `fdatasync`,
 * and resolve together after it. There is one log, written in call order, so
 * a write that resolved is durable with everything called before it.
 *
 * Recovery: on open every segment is scanned and every frame's CRC checked.
 * A bad frame in the newest log segment with no whole frame after it is the
 * torn tail of a crash: the segment is cut there. Anything else bad is
 * StoreError 'corrupt'.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { checkEntries, checkKey, checkValue, MAX_KEY_LENGTH, MAX_VALUE_BYTES, StoreError, type JournalEntry, type Store } from './store.js';

/** How a FileStore is opened. */
export interface FileStoreOptions {
  /**
   * 'fsync' (default): a write resolves once `fdatasync` has put it on the
   * disk, so it survives a power cut. 'none': once the operating system has
   * it, so it survives a crash of this process but not of the machine.
   */
  durability?: 'fsync' | 'none';
  /** A log segment is closed and the next one started when a write would take it past this size (default 64 MiB; 1 KiB to 1 GiB). */
  segmentBytes?: number;
  /** A closed segment is compacted once this fraction of its bytes is dead: overwritten, deleted or trimmed (default 0.5; above 0, at most 1). */
  compactRatio?: number;
  /** Whether compaction starts by itself after writes (default true). `compact()` runs it either way. */
  autoCompact?: boolean;
  /**
   * @internal Test hook: awaited at each step of a compaction. A throw there
   * stops the compaction as a crash would (files are left as they are) and
   * stops the store.
   */
  compactionStep?: (step: CompactionStep) => void | Promise<void>;
}

/**
 * @internal The steps of a compaction, in order: 'chunk' after each piece of
 * the output is written, 'synced' once it is on disk (still a .tmp), 'renamed'
 * once it is a segment, 'repointed' once the index uses it, 'unlinked' after
 * each old segment is deleted.
 */
export type CompactionStep = 'chunk' | 'synced' | 'renamed' | 'repointed' | 'unlinked';

/** What a FileStore holds and has done, for tests and monitoring. */
export interface FileStoreStats {
  /** Segment files. */
  segments: number;
  /** Bytes in them. */
  bytes: number;
  /** Bytes of frames that are still needed (the rest is left for compaction). */
  liveBytes: number;
  records: number;
  /** Journals that hold at least one entry. */
  journals: number;
  /** Group commits: each one `writev` (per segment touched) and, with durability 'fsync', one `fdatasync`. */
  batches: number;
  /** `fdatasync` calls on segments. */
  syncs: number;
  compactions: number;
  /** Bytes cut from a torn tail when the store was opened. */
  truncatedBytes: number;
}

const MiB = 1024 * 1024;
const SEG_HEAD = 16;
const FRAME_HEAD = 28;
const SEG_MAGIC = Buffer.from('WHSEGMNT', 'latin1');
const FORMAT_VERSION = 1;
const KIND_LOG = 1;
const KIND_COMPACTED = 2;
const PUT = 1;
const DELETE = 2;
const APPEND = 3;
const TRIM = 4;
/** Segments are read in pieces of this size when scanned or compacted. */
const CHUNK = 4 * MiB;
/** Contiguous frames of a journal are read together up to this size. */
const MAX_RUN = 8 * MiB;
const TWO32 = 2 ** 32;

type Crc32 = (data: Uint8Array, value?: number) => number;

/** node:zlib's crc32 (Node >= 20.15), else the same function in JavaScript. */
const crc32: Crc32 = (zlib as { crc32?: Crc32 }).crc32 ?? makeCrc32();

function makeCrc32(): Crc32 {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (data, value = 0) => {
    let c = ~value >>> 0;
    for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    return ~c >>> 0;
  };
}

function segmentName(num: number): string {
  return `${String(num).padStart(8, '0')}.seg`;
}

function segmentHeader(kind: number): Buffer {
  const h = Buffer.alloc(SEG_HEAD);
  SEG_MAGIC.copy(h, 0);
  h.writeUInt16LE(FORMAT_VERSION, 8);
  h[10] = kind;
  h.writeUInt32LE(crc32(h.subarray(0, 12)), 12);
  return h;
}

/** The kind of a segment from its header, or null if the header is not one. */
function parseSegmentHeader(h: Uint8Array): number | null {
  const b = Buffer.from(h.buffer, h.byteOffset, h.length);
  if (b.length < SEG_HEAD || !b.subarray(0, 8).equals(SEG_MAGIC)) return null;
  if (b.readUInt32LE(12) !== crc32(b.subarray(0, 12))) return null;
  if (b.readUInt16LE(8) !== FORMAT_VERSION || b[11] !== 0) return null;
  return b[10] === KIND_LOG || b[10] === KIND_COMPACTED ? b[10] : null;
}

function writeU64(b: Buffer, at: number, v: number): void {
  b.writeUInt32LE(v % TWO32, at);
  b.writeUInt32LE(Math.floor(v / TWO32), at + 4);
}

function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * TWO32;
}

function encodeFrame(type: number, key: string, keyBytes: number, lsn: number, seq: number, value?: Uint8Array): Buffer {
  const vlen = value === undefined ? 0 : value.length;
  const f = Buffer.allocUnsafe(FRAME_HEAD + keyBytes + vlen);
  f[4] = type;
  f[5] = 0;
  f.writeUInt16LE(keyBytes, 6);
  f.writeUInt32LE(vlen, 8);
  writeU64(f, 12, lsn);
  writeU64(f, 20, seq);
  f.write(key, FRAME_HEAD, keyBytes, 'utf8');
  if (value !== undefined) f.set(value, FRAME_HEAD + keyBytes);
  f.writeUInt32LE(crc32(f.subarray(4)), 0);
  return f;
}

/**
 * The length of the frame whose header is at `p` (28 bytes must be there),
 * or -1 if those bytes cannot be a frame header.
 */
function frameLength(b: Buffer, p: number): number {
  const type = b[p + 4]!;
  if (type < PUT || type > TRIM || b[p + 5] !== 0) return -1;
  const klen = b.readUInt16LE(p + 6);
  const vlen = b.readUInt32LE(p + 8);
  if (klen < 1 || klen > MAX_KEY_LENGTH || vlen > MAX_VALUE_BYTES) return -1;
  if ((type === DELETE || type === TRIM) && vlen !== 0) return -1;
  // lsn and seq are safe integers
  if (b.readUInt32LE(p + 16) >= 2 ** 21 || b.readUInt32LE(p + 24) >= 2 ** 21) return -1;
  return FRAME_HEAD + klen + vlen;
}

function frameIntact(b: Buffer, p: number, len: number): boolean {
  return b.readUInt32LE(p) === crc32(b.subarray(p + 4, p + len));
}

/** One frame seen in a segment. */
interface FrameInfo {
  type: number;
  key: string;
  lsn: number;
  seq: number;
  /** Where it starts in its file, and where in `buf`. */
  off: number;
  at: number;
  len: number;
}

function frameInfo(b: Buffer, at: number, off: number, len: number): FrameInfo {
  const klen = b.readUInt16LE(at + 6);
  return {
    type: b[at + 4]!,
    key: b.toString('utf8', at + FRAME_HEAD, at + FRAME_HEAD + klen),
    lsn: readU64(b, at + 12),
    seq: readU64(b, at + 20),
    off,
    at,
    len,
  };
}

async function readFull(h: FileHandle, buf: Uint8Array, pos: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await h.read(buf, done, buf.length - done, pos + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${pos + done}`);
    done += bytesRead;
  }
}

async function writeAll(h: FileHandle, bufs: Buffer[], pos: number): Promise<void> {
  let total = 0;
  for (const b of bufs) total += b.length;
  const { bytesWritten } = await h.writev(bufs, pos);
  if (bytesWritten === total) return;
  // A short write (libuv loops over them for files, so this is a safety net).
  const rest = Buffer.concat(bufs).subarray(bytesWritten);
  let done = 0;
  while (done < rest.length) {
    const r = await h.write(rest, done, rest.length - done, pos + bytesWritten + done);
    done += r.bytesWritten;
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** One segment file: where its frames are, and who is reading it. */
class Segment {
  handle: FileHandle | null = null;
  /** Where the next frame goes (the file's size once the writes in flight are done). */
  tail = SEG_HEAD;
  /** Bytes of frames the index still points to (or, for tombstones and trims, that are still needed). */
  live = 0;
  minLsn = Infinity;
  maxLsn = 0;
  /** Closed for writes and synced: compaction may take it. */
  sealed = false;
  compacting = false;
  /** Frames accepted but not yet written, by offset: reads take them from here. */
  readonly unwritten = new Map<number, Buffer>();
  #readers = 0;
  #retired = false;
  readonly #closed = deferred();

  constructor(readonly num: number, readonly kind: number, readonly path: string) {}

  /** Keeps the file open until `release` (call before the first await of a read). */
  acquire(): FileHandle {
    this.#readers++;
    return this.handle!;
  }

  release(): void {
    if (--this.#readers === 0 && this.#retired) this.#shut();
  }

  /** Closes the file once no read holds it; resolves then. */
  retire(): Promise<void> {
    if (!this.#retired) {
      this.#retired = true;
      if (this.#readers === 0) this.#shut();
    }
    return this.#closed.promise;
  }

  #shut(): void {
    const h = this.handle;
    if (h === null) this.#closed.resolve();
    else h.close().then(this.#closed.resolve, this.#closed.resolve);
  }
}

/**
 * Where records are: four columns of numbers (segment, offset, length, lsn)
 * indexed by a slot number, so that a key costs its Map entry, its string
 * and 20 bytes here, and no object.
 */
class Slots {
  #seg = new Uint32Array(1024);
  #off = new Uint32Array(1024);
  #len = new Uint32Array(1024);
  #lsn = new Float64Array(1024);
  #next = 0;
  readonly #free: number[] = [];

  alloc(): number {
    const s = this.#free.pop();
    if (s !== undefined) return s;
    if (this.#next === this.#seg.length) this.#grow();
    return this.#next++;
  }

  free(slot: number): void {
    this.#free.push(slot);
  }

  set(slot: number, seg: number, off: number, len: number, lsn: number): void {
    this.#seg[slot] = seg;
    this.#off[slot] = off;
    this.#len[slot] = len;
    this.#lsn[slot] = lsn;
  }

  move(slot: number, seg: number, off: number): void {
    this.#seg[slot] = seg;
    this.#off[slot] = off;
  }

  seg(slot: number): number {
    return this.#seg[slot]!;
  }

  off(slot: number): number {
    return this.#off[slot]!;
  }

  len(slot: number): number {
    return this.#len[slot]!;
  }

  lsn(slot: number): number {
    return this.#lsn[slot]!;
  }

  #grow(): void {
    const n = this.#seg.length * 2;
    const grow = <T extends Uint32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
    this.#seg = grow(this.#seg, new Uint32Array(n));
    this.#off = grow(this.#off, new Uint32Array(n));
    this.#len = grow(this.#len, new Uint32Array(n));
    this.#lsn = grow(this.#lsn, new Float64Array(n));
  }
}

/**
 * A journal in the index. Small, because there is one per actor, most of
 * them trimmed empty: four fields, no array while it holds no entry.
 */
class Journal {
  /** The highest seq it holds or held. */
  last = 0;
  /** Entries with seq <= this are gone. */
  trimmed = 0;
  /** The slot (in the store's Slots) of where its latest trim frame is, or -1. */
  trim = -1;
  /** Its entries in ascending seq, four numbers each: seq, segment, offset, length; null for none. */
  e: number[] | null = null;
}

function addEntry(j: Journal, seq: number, seg: number, off: number, len: number): void {
  // A literal for the first: push onto [] would reserve room for 17 numbers, mostly unused as most journals are short.
  if (j.e === null) j.e = [seq, seg, off, len];
  else j.e.push(seq, seg, off, len);
}

/** Index of the first entry of `e` (stride 4) with seq > after (e.length if none). */
function firstAfter(e: number[], after: number): number {
  let lo = 0;
  let hi = e.length / 4;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e[mid * 4]! > after) hi = mid;
    else lo = mid + 1;
  }
  return lo * 4;
}

/** Index of the entry with this seq, or -1. */
function entryIndex(e: number[], seq: number): number {
  const i = firstAfter(e, seq - 1);
  return i < e.length && e[i] === seq ? i : -1;
}

/** The writes accepted together: one writev per segment, one sync, one promise. */
class Batch {
  readonly items: Array<{ seg: Segment; off: number; buf: Buffer } | { roll: true; from: Segment | null; to: Segment | null }> = [];
  #promise: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;
  #outcome: { error: unknown } | null = null;

  /** Settles when the batch is durable (or failed). */
  get promise(): Promise<void> {
    if (this.#promise === null) {
      if (this.#outcome !== null) {
        this.#promise = this.#outcome.error === undefined ? Promise.resolve() : Promise.reject(this.#outcome.error);
      } else {
        this.#promise = new Promise<void>((res, rej) => {
          this.#resolve = res;
          this.#reject = rej;
        });
      }
      this.#promise.catch(() => {}); // the callers see the failure; this one copy must not count as unhandled
    }
    return this.#promise;
  }

  settle(error?: unknown): void {
    this.#outcome = { error };
    if (error === undefined) this.#resolve?.();
    else this.#reject?.(error);
  }
}

/** Thrown inside a compaction when the store begins to close: the compaction is abandoned and cleaned up. */
class CompactionAbandoned extends Error {}

/** The process holding a lock, as written in the lock file. */
interface LockHolder {
  pid: number;
  start: string;
}

/** When process `pid` started (clock ticks since boot, from /proc), to tell a reused pid from the one that wrote a lock; '-' where unknown. */
async function processStart(pid: number): Promise<string> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '-';
  } catch {
    return '-';
  }
}

function parseLock(text: string): LockHolder | null {
  const m = /^(\d+) (\S+)\n$/.exec(text);
  return m === null ? null : { pid: Number(m[1]), start: m[2]! };
}

async function isAlive(h: LockHolder): Promise<boolean> {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists (another user's)
  }
  if (h.start === '-') return true;
  const now = await processStart(h.pid);
  return now === '-' || now === h.start;
}

/** Deletes the lock's temporary files (LOCK.<pid>.<random>) left by processes that died making one. */
async function removeLeftTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^LOCK\.(\d+)\.[0-9a-f]{12}$/.exec(name);
    if (m !== null && Number(m[1]) !== process.pid && !(await isAlive({ pid: Number(m[1]), start: '-' }))) await unlink(join(dir, name)).catch(() => {});
  }
}

/**
 * Takes the directory's lock file, made whole in a temporary file and put in
 * place with link() (which fails if the lock exists), so that nobody ever
 * reads a half-written lock. A lock whose process is gone is taken over.
 */
async function acquireLock(dir: string): Promise<string> {
  const path = join(dir, 'LOCK');
  const me = `${process.pid} ${await processStart(process.pid)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = join(dir, `LOCK.${process.pid}.${randomBytes(6).toString('hex')}`);
    let taken = false;
    try {
      await writeFile(tmp, me, { flag: 'wx' });
      await link(tmp, path);
      taken = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StoreError('io', `file store ${dir}: cannot take the lock ${path}: ${errorMessage(e)}`, { cause: e });
    } finally {
      await unlink(tmp).catch(() => {});
    }
    if (taken) {
      await removeLeftTemps(dir);
      return path;
    }
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw new StoreError('io', `file store ${dir}: cannot read the lock ${path}: ${errorMessage(e)}`, { cause: e });
    }
    const holder = parseLock(text);
    if (holder !== null && (await isAlive(holder))) {
      const who = holder.pid === process.pid ? 'this process (another FileStore over it is open)' : `process ${holder.pid}`;
      throw new StoreError('io', `file store ${dir} is in use by ${who}: the lock ${path} is held`);
    }
    if (holder === null) {
      // Not written by us (we write it whole): someone else's file, unless it is old.
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < 10_000) throw new StoreError('io', `file store ${dir}: the lock ${path} holds no pid; remove it if no process uses the store`);
    }
    // Stale: its process is gone. (Two processes taking over the same stale
    // lock at the same moment could both succeed; opening a store is not
    // expected to race like that.)
    await unlink(path).catch(() => {});
  }
  throw new StoreError('io', `file store ${dir}: cannot take the lock ${path}`);
}

/** A Store in a directory of append-only segment files. Open it with `FileStore.open(dir)`. */
export class FileStore implements Store {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #segmentBytes: number;
  readonly #compactRatio: number;
  readonly #autoCompact: boolean;
  readonly #step: ((step: CompactionStep) => void | Promise<void>) | undefined;
  readonly #lockPath: string;

  readonly #segs = new Map<number, Segment>();
  /** Record key -> slot in #slots. */
  readonly #records = new Map<string, number>();
  /** Deleted key -> slot of its tombstone frame, while that frame is kept. */
  readonly #tombs = new Map<string, number>();
  readonly #slots = new Slots();
  readonly #journals = new Map<string, Journal>();
  /** Opening only: journals whose entries came out of order (from a compacted segment). */
  readonly #unsorted = new Set<Journal>();
  /** The log segment that writes go to (null: the next write starts one). */
  #active: Segment | null = null;
  #nextSeg = 1;
  #nextLsn = 1;

  #batch = new Batch();
  #inflight: Batch | null = null;
  #draining = false;
  #scheduled = false;
  #compaction: Promise<void> | null = null;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | null = null;
  #failure: StoreError | null = null;
  readonly #counts = { batches: 0, syncs: 0, compactions: 0, truncatedBytes: 0 };

  private constructor(dir: string, options: FileStoreOptions, lockPath: string) {
    this.#dir = dir;
    this.#fsync = (options.durability ?? 'fsync') === 'fsync';
    this.#segmentBytes = options.segmentBytes ?? 64 * MiB;
    this.#compactRatio = options.compactRatio ?? 0.5;
    this.#autoCompact = options.autoCompact ?? true;
    this.#step = options.compactionStep;
    this.#lockPath = lockPath;
  }

  /** Opens (creating it if needed) the store in `dir`, recovering what a crash left. */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const { durability, segmentBytes, compactRatio } = options;
    if (durability !== undefined && durability !== 'fsync' && durability !== 'none') throw new TypeError(`FileStore: durability must be 'fsync' or 'none'`);
    if (segmentBytes !== undefined && !(Number.isSafeInteger(segmentBytes) && segmentBytes >= 1024 && segmentBytes <= 1024 * MiB)) {
      throw new RangeError('FileStore: segmentBytes must be an integer from 1 KiB to 1 GiB');
    }
    if (compactRatio !== undefined && !(compactRatio > 0 && compactRatio <= 1)) throw new RangeError('FileStore: compactRatio must be above 0 and at most 1');
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new StoreError('io', `file store ${dir}: cannot make the directory: ${errorMessage(e)}`, { cause: e });
    }
    const lock = await acquireLock(dir);
    const store = new FileStore(dir, options, lock);
    try {
      await store.#load();
    } catch (e) {
      await Promise.all([...store.#segs.values()].map((s) => s.retire()));
      await unlink(lock).catch(() => {});
      if (e instanceof StoreError) throw e;
      throw new StoreError('io', `file store ${dir}: cannot open: ${errorMessage(e)}`, { cause: e });
    }
    store.#maybeCompact();
    return store;
  }

  // ---- the Store contract -------------------------------------------------

  async get(key: string): Promise<Uint8Array | null> {
    this.#usable();
    checkKey(key);
    const slot = this.#records.get(key);
    if (slot === undefined) return null;
    const seg = this.#segs.get(this.#slots.seg(slot))!;
    const off = this.#slots.off(slot);
    const frame = await this.#readFrame(seg, off, this.#slots.len(slot));
    return this.#payload(frame, 0, frame.length, seg, off, PUT, key, 0);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#usable();
    checkKey(key);
    checkValue(value);
    const lsn = this.#nextLsn++;
    const frame = encodeFrame(PUT, key, Buffer.byteLength(key), lsn, 0, value);
    const off = this.#accept(frame, lsn);
    const seg = this.#active!;
    let slot = this.#records.get(key);
    if (slot !== undefined) {
      this.#deadSlot(slot);
    } else {
      slot = this.#tombs.get(key);
      if (slot !== undefined) {
        this.#deadSlot(slot);
        this.#tombs.delete(key);
      } else {
        slot = this.#slots.alloc();
      }
      this.#records.set(key, slot);
    }
    this.#slots.set(slot, seg.num, off, frame.length, lsn);
    seg.live += frame.length;
    return this.#batch.promise;
  }

  async delete(key: string): Promise<void> {
    this.#usable();
    checkKey(key);
    const slot = this.#records.get(key);
    if (slot === undefined) return this.#barrier(); // (maybe deleted by a write still in flight: wait for it)
    const lsn = this.#nextLsn++;
    const frame = encodeFrame(DELETE, key, Buffer.byteLength(key), lsn, 0);
    const off = this.#accept(frame, lsn);
    const seg = this.#active!;
    this.#deadSlot(slot);
    this.#records.delete(key);
    this.#tombs.set(key, slot);
    this.#slots.set(slot, seg.num, off, frame.length, lsn);
    seg.live += frame.length;
    return this.#batch.promise;
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    this.#usable();
    const out: string[] = [];
    for (const k of this.#records.keys()) if (k.startsWith(prefix)) out.push(k);
    yield* out.sort();
  }

  async append(journal: string, entries: readonly JournalEntry[]): Promise<void> {
    this.#usable();
    checkKey(journal, 'journal');
    let j = this.#journals.get(journal);
    checkEntries(journal, entries, j?.last ?? 0);
    if (entries.length === 0) return this.#barrier();
    if (j === undefined) {
      j = new Journal();
      this.#journals.set(journal, j);
    }
    const keyBytes = Buffer.byteLength(journal);
    for (const entry of entries) {
      const lsn = this.#nextLsn++;
      const frame = encodeFrame(APPEND, journal, keyBytes, lsn, entry.seq, entry.bytes);
      const off = this.#accept(frame, lsn);
      const seg = this.#active!;
      addEntry(j, entry.seq, seg.num, off, frame.length);
      seg.live += frame.length;
    }
    j.last = entries[entries.length - 1]!.seq;
    return this.#batch.promise;
  }

  async read(journal: string, after = 0): Promise<JournalEntry[]> {
    this.#usable();
    checkKey(journal, 'journal');
    const j = this.#journals.get(journal);
    const e = j?.e;
    if (e == null) return [];
    const locs: Array<{ seg: Segment; off: number; len: number; seq: number }> = [];
    for (let i = firstAfter(e, after); i < e.length; i += 4) locs.push({ seq: e[i]!, seg: this.#segs.get(e[i + 1]!)!, off: e[i + 2]!, len: e[i + 3]! });
    if (locs.length === 0) return [];
    // Entries written together lie together: read each run of them with one read.
    const runs: Array<typeof locs> = [];
    for (const l of locs) {
      const run = runs[runs.length - 1];
      const prev = run?.[run.length - 1];
      if (prev !== undefined && prev.seg === l.seg && prev.off + prev.len === l.off && !l.seg.unwritten.has(l.off) && !prev.seg.unwritten.has(prev.off) && l.off + l.len - run![0]!.off <= MAX_RUN) run!.push(l);
      else runs.push([l]);
    }
    const parts = await Promise.all(
      runs.map(async (run) => {
        const first = run[0]!;
        const last = run[run.length - 1]!;
        const buf = await this.#readFrame(first.seg, first.off, last.off + last.len - first.off);
        return run.map((l) => ({ seq: l.seq, bytes: this.#payload(buf, l.off - first.off, l.len, l.seg, l.off, APPEND, journal, l.seq).slice() }));
      }),
    );
    return parts.flat();
  }

  async trim(journal: string, upTo: number): Promise<void> {
    this.#usable();
    checkKey(journal, 'journal');
    if (typeof upTo !== 'number' || Number.isNaN(upTo)) throw new TypeError(`trim: upTo must be a number, not ${String(upTo)}`);
    const j = this.#journals.get(journal);
    // Clamped to the last seq, so that replay can apply trims and appends in any order (see the header).
    const to = j === undefined ? 0 : Math.floor(Math.min(upTo, j.last));
    if (j === undefined || to <= j.trimmed) return this.#barrier();
    const lsn = this.#nextLsn++;
    const frame = encodeFrame(TRIM, journal, Buffer.byteLength(journal), lsn, to);
    const off = this.#accept(frame, lsn);
    const seg = this.#active!;
    if (j.trim >= 0) this.#deadSlot(j.trim);
    else j.trim = this.#slots.alloc();
    this.#slots.set(j.trim, seg.num, off, frame.length, lsn);
    j.trimmed = to;
    seg.live += frame.length;
    const e = j.e;
    if (e !== null) {
      let n = 0;
      while (n < e.length && e[n]! <= to) {
        this.#dead(e[n + 1]!, e[n + 3]!);
        n += 4;
      }
      if (n === e.length) j.e = null;
      else e.splice(0, n);
    }
    return this.#batch.promise;
  }

  async *journals(prefix = ''): AsyncIterable<string> {
    this.#usable();
    const out: string[] = [];
    for (const [name, j] of this.#journals) if (j.e !== null && name.startsWith(prefix)) out.push(name);
    yield* out.sort();
  }

  /** Finishes the writes in progress (and stops a compaction), closes the files and releases the lock. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#state = 'closing';
    this.#closing = (async () => {
      if (this.#compaction !== null) await this.#compaction.catch(() => {});
      await this.#barrier().catch(() => {});
      await Promise.all([...this.#segs.values()].map((s) => s.retire()));
      try {
        if (parseLock(await readFile(this.#lockPath, 'utf8'))?.pid === process.pid) await unlink(this.#lockPath);
      } catch {
        // gone already
      }
      this.#state = 'closed';
    })();
    return this.#closing;
  }

  // ---- beyond the contract --------------------------------------------------

  /**
   * Compacts now: closes the current log segment, then rewrites every closed
   * segment that has dead bytes, and merges small ones, until none is left
   * to do. Resolves when done; rejects (and stops the store) if it fails.
   */
  async compact(): Promise<void> {
    this.#usable();
    await this.#compactionIdle();
    this.#usable();
    const active = this.#active;
    if (active !== null && active.tail > SEG_HEAD) {
      this.#batch.items.push({ roll: true, from: active, to: null });
      this.#active = null;
      this.#schedule();
    }
    await this.#barrier();
    const done = new Set<number>();
    for (;;) {
      await this.#compactionIdle();
      this.#usable();
      const victims = this.#pickVictims(0, 2, done);
      if (victims.length === 0) return;
      for (const v of victims) done.add(v.num);
      await this.#startCompaction(victims, done);
    }
  }

  /** Resolves when no compaction runs (an automatic one may start right after). */
  async #compactionIdle(): Promise<void> {
    while (this.#compaction !== null) await this.#compaction.catch(() => {});
  }

  /** Counts of what the store holds and has done. */
  stats(): FileStoreStats {
    let bytes = 0;
    let live = 0;
    for (const s of this.#segs.values()) {
      bytes += s.tail;
      live += s.live;
    }
    let journals = 0;
    for (const j of this.#journals.values()) if (j.e !== null) journals++;
    return { segments: this.#segs.size, bytes, liveBytes: live, records: this.#records.size, journals, ...this.#counts };
  }

  // ---- writing ------------------------------------------------------------

  #usable(): void {
    if (this.#state !== 'open') throw new StoreError('closed', `file store ${this.#dir} is closed`);
    if (this.#failure !== null) throw this.#failure;
  }

  /** Stops the store after a failed write or compaction: what is in memory may no longer match the disk. */
  #fail(e: unknown): StoreError {
    this.#failure ??= e instanceof StoreError ? e : new StoreError('io', `file store ${this.#dir} stopped after a failure (${errorMessage(e)}); reopen it`, { cause: e });
    return this.#failure;
  }

  /** Queues a frame at the end of the log; returns its offset in the active segment (after a roll if it did not fit). */
  #accept(frame: Buffer, lsn: number): number {
    let seg = this.#active;
    if (seg === null || (seg.tail > SEG_HEAD && seg.tail + frame.length > this.#segmentBytes)) seg = this.#roll();
    const off = seg.tail;
    seg.tail += frame.length;
    if (lsn < seg.minLsn) seg.minLsn = lsn;
    if (lsn > seg.maxLsn) seg.maxLsn = lsn;
    seg.unwritten.set(off, frame);
    this.#batch.items.push({ seg, off, buf: frame });
    this.#schedule();
    return off;
  }

  #roll(): Segment {
    const from = this.#active;
    const num = this.#nextSeg++;
    const to = new Segment(num, KIND_LOG, join(this.#dir, segmentName(num)));
    this.#segs.set(num, to);
    this.#active = to;
    this.#batch.items.push({ roll: true, from, to });
    return to;
  }

  #schedule(): void {
    if (this.#scheduled || this.#draining) return;
    this.#scheduled = true;
    // The next macrotask, so that every call made in this tick shares the write.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  /** Resolves once everything accepted so far is durable. */
  #barrier(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#batch.items.length > 0) {
      this.#schedule();
      return this.#batch.promise;
    }
    if (this.#inflight !== null) return this.#inflight.promise;
    return Promise.resolve();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#batch.items.length > 0) {
        const batch = this.#batch;
        this.#batch = new Batch();
        this.#inflight = batch;
        if (this.#failure !== null) {
          batch.settle(this.#failure);
          continue;
        }
        try {
          await this.#write(batch);
          batch.settle();
        } catch (e) {
          batch.settle(this.#fail(e));
        }
      }
    } finally {
      this.#inflight = null;
      this.#draining = false;
    }
    this.#maybeCompact();
  }

  async #write(batch: Batch): Promise<void> {
    const items = batch.items;
    const touched = new Set<Segment>();
    let i = 0;
    while (i < items.length) {
      const it = items[i]!;
      if ('roll' in it) {
        // A segment is synced before the next one gets a byte: a crash never leaves a later segment
        // holding writes that an earlier one lost, and only the newest log segment can be torn.
        if (it.from !== null) {
          await it.from.handle!.datasync();
          this.#counts.syncs++;
          it.from.sealed = true;
          touched.delete(it.from);
        }
        if (it.to !== null) {
          it.to.handle = await open(it.to.path, 'wx+');
          await writeAll(it.to.handle, [segmentHeader(KIND_LOG)], 0);
          await this.#syncDir();
        }
        i++;
        continue;
      }
      const seg = it.seg;
      const bufs: Buffer[] = [];
      let j = i;
      for (; j < items.length; j++) {
        const x = items[j]!;
        if ('roll' in x || x.seg !== seg) break;
        bufs.push(x.buf);
      }
      await writeAll(seg.handle!, bufs, it.off);
      for (let k = i; k < j; k++) seg.unwritten.delete((items[k] as { off: number }).off);
      touched.add(seg);
      i = j;
    }
    if (this.#fsync) {
      for (const s of touched) {
        await s.handle!.datasync();
        this.#counts.syncs++;
      }
    }
    this.#counts.batches++;
  }

  async #syncDir(): Promise<void> {
    if (process.platform === 'win32') return; // directories cannot be opened there; NTFS journals renames
    const h = await open(this.#dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }

  // ---- reading ------------------------------------------------------------

  /** The bytes at `off` of `seg`: from memory if not written yet, else from the file. */
  async #readFrame(seg: Segment, off: number, len: number): Promise<Uint8Array> {
    const pending = seg.unwritten.get(off);
    if (pending !== undefined && pending.length === len) return new Uint8Array(pending);
    const buf = new Uint8Array(len);
    const h = seg.acquire();
    try {
      await readFull(h, buf, off);
    } catch (e) {
      throw new StoreError('io', `file store ${this.#dir}: cannot read ${segmentName(seg.num)} at ${off}: ${errorMessage(e)}`, { cause: e });
    } finally {
      seg.release();
    }
    return buf;
  }

  /** The value of the frame at `at` in `buf`, after checking it is whole and is the one expected. */
  #payload(bytes: Uint8Array, at: number, len: number, seg: Segment, off: number, type: number, key: string, seq: number): Uint8Array {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const bad = (why: string): StoreError => new StoreError('corrupt', `file store ${this.#dir}: ${segmentName(seg.num)} at ${off}: ${why}`);
    if (frameLength(b, at) !== len) throw bad('not the frame the index expects');
    if (!frameIntact(b, at, len)) throw bad('checksum mismatch');
    const klen = b.readUInt16LE(at + 6);
    if (b[at + 4] !== type || readU64(b, at + 20) !== seq || b.toString('utf8', at + FRAME_HEAD, at + FRAME_HEAD + klen) !== key) throw bad('a different frame than the index expects');
    return bytes.subarray(at + FRAME_HEAD + klen, at + len);
  }

  #deadSlot(slot: number): void {
    this.#dead(this.#slots.seg(slot), this.#slots.len(slot));
  }

  #dead(segNum: number, len: number): void {
    const s = this.#segs.get(segNum);
    if (s !== undefined) s.live -= len;
  }

  // ---- opening ------------------------------------------------------------

  async #load(): Promise<void> {
    const files: Array<{ num: number; path: string }> = [];
    for (const name of await readdir(this.#dir)) {
      const m = /^(\d{8,})\.seg(\.tmp)?$/.exec(name);
      if (m === null) continue;
      const num = Number(m[1]);
      this.#nextSeg = Math.max(this.#nextSeg, num + 1);
      if (m[2] !== undefined) await unlink(join(this.#dir, name)); // a compaction that did not finish
      else files.push({ num, path: join(this.#dir, name) });
    }
    files.sort((a, b) => a.num - b.num);
    const opened: Array<{ seg: Segment; size: number; good: boolean }> = [];
    for (const f of files) {
      const h = await open(f.path, 'r+');
      let size: number;
      let kind: number | null = null;
      try {
        size = (await h.stat()).size;
        if (size >= SEG_HEAD) {
          const head = new Uint8Array(SEG_HEAD);
          await readFull(h, head, 0);
          kind = parseSegmentHeader(head);
        }
      } catch (e) {
        await h.close();
        throw e;
      }
      const seg = new Segment(f.num, kind ?? KIND_LOG, f.path);
      seg.handle = h;
      this.#segs.set(f.num, seg);
      opened.push({ seg, size, good: kind !== null });
    }
    // The newest log segment is the only one a crash can have torn (each is synced before the next
    // is started; compacted ones are renamed into place only once whole). A segment whose header is
    // bad can be it, if it was being started.
    let newest: { seg: Segment; size: number; good: boolean } | null = null;
    for (const o of opened) if (o.seg.kind === KIND_LOG) newest = o;
    for (const o of opened) {
      if (!o.good && o !== newest) throw this.#corrupt(o.seg, 0, 'not a segment header');
    }
    if (newest !== null && !newest.good) {
      if (await this.#anyFrameFrom(newest.seg.handle!, 0, newest.size)) throw this.#corrupt(newest.seg, 0, 'not a segment header');
      await newest.seg.handle!.truncate(0);
      await writeAll(newest.seg.handle!, [segmentHeader(KIND_LOG)], 0);
      await newest.seg.handle!.datasync();
      this.#counts.truncatedBytes += Math.max(0, newest.size - SEG_HEAD);
      newest.size = SEG_HEAD;
    }
    const scratch = Buffer.allocUnsafe(CHUNK);
    for (const o of opened) await this.#scan(o.seg, o.size, o === newest, scratch);
    this.#settleJournals();
    for (const o of opened) o.seg.sealed = o !== newest;
    if (newest !== null) {
      if (newest.seg.tail < this.#segmentBytes) this.#active = newest.seg;
      else {
        await newest.seg.handle!.datasync();
        newest.seg.sealed = true;
      }
    }
  }

  #corrupt(seg: Segment, off: number, why: string): StoreError {
    return new StoreError('corrupt', `file store ${this.#dir}: ${segmentName(seg.num)} at ${off}: ${why}`);
  }

  /** Reads every frame of a segment into the index; cuts a torn tail if `tolerant`, else a bad frame is 'corrupt'. */
  async #scan(seg: Segment, size: number, tolerant: boolean, scratch: Buffer): Promise<void> {
    const h = seg.handle!;
    let buf = scratch;
    let base = 0;
    let have = 0; // bytes of buf that hold the file from base
    let pos = SEG_HEAD;
    let why = '';
    const fill = async (need: number): Promise<void> => {
      const n = Math.min(Math.max(need, CHUNK), size - pos);
      buf = n <= scratch.length ? scratch : Buffer.allocUnsafe(n);
      await readFull(h, buf.subarray(0, n), pos);
      base = pos;
      have = n;
    };
    while (pos < size) {
      if (pos + FRAME_HEAD > size) {
        why = 'a frame header cut short';
        break;
      }
      if (pos + FRAME_HEAD > base + have) await fill(FRAME_HEAD);
      const len = frameLength(buf, pos - base);
      if (len < 0) {
        why = 'not a frame header';
        break;
      }
      if (pos + len > size) {
        why = 'a frame cut short';
        break;
      }
      if (pos + len > base + have) await fill(len);
      const at = pos - base;
      if (!frameIntact(buf, at, len)) {
        why = 'checksum mismatch';
        break;
      }
      this.#replay(seg, frameInfo(buf, at, pos, len));
      pos += len;
    }
    seg.tail = pos;
    if (pos === size) return;
    if (!tolerant) throw this.#corrupt(seg, pos, why);
    // A bad frame followed by a whole one is damage, not a write the crash cut short.
    if (await this.#anyFrameFrom(h, pos + 1, size)) throw this.#corrupt(seg, pos, `${why}, with whole frames after it`);
    await h.truncate(pos);
    await h.datasync();
    this.#counts.truncatedBytes += size - pos;
  }

  /** Whether a whole frame starts anywhere in [from, size) of the file. */
  async #anyFrameFrom(h: FileHandle, from: number, size: number): Promise<boolean> {
    for (let start = from; start + FRAME_HEAD <= size; start += CHUNK) {
      const n = Math.min(CHUNK + FRAME_HEAD, size - start);
      const buf = Buffer.allocUnsafe(n);
      await readFull(h, buf, start);
      for (let p = 0; p + FRAME_HEAD <= n && p < CHUNK; p++) {
        const len = frameLength(buf, p);
        if (len < 0 || start + p + len > size) continue;
        let frame = buf;
        let at = p;
        if (p + len > n) {
          frame = Buffer.allocUnsafe(len);
          await readFull(h, frame, start + p);
          at = 0;
        }
        if (frameIntact(frame, at, len)) return true;
      }
    }
    return false;
  }

  /** Applies one frame found on open (frames come in any order: see the header). */
  #replay(seg: Segment, f: FrameInfo): void {
    if (f.lsn < seg.minLsn) seg.minLsn = f.lsn;
    if (f.lsn > seg.maxLsn) seg.maxLsn = f.lsn;
    if (f.lsn >= this.#nextLsn) this.#nextLsn = f.lsn + 1;
    if (f.type === PUT || f.type === DELETE) {
      let slot = this.#records.get(f.key);
      const wasPut = slot !== undefined;
      slot ??= this.#tombs.get(f.key);
      if (slot !== undefined) {
        if (this.#slots.lsn(slot) >= f.lsn) return; // an older write, or a copy of the same one
        this.#deadSlot(slot);
        if (wasPut !== (f.type === PUT)) {
          (wasPut ? this.#records : this.#tombs).delete(f.key);
          (wasPut ? this.#tombs : this.#records).set(f.key, slot);
        }
      } else {
        slot = this.#slots.alloc();
        (f.type === PUT ? this.#records : this.#tombs).set(f.key, slot);
      }
      this.#slots.set(slot, seg.num, f.off, f.len, f.lsn);
      seg.live += f.len;
      return;
    }
    let j = this.#journals.get(f.key);
    if (j === undefined) {
      j = new Journal();
      this.#journals.set(f.key, j);
    }
    if (f.seq > j.last) j.last = f.seq;
    if (f.type === APPEND) {
      if (f.seq <= j.trimmed) return;
      if (j.e !== null && f.seq <= j.e[j.e.length - 4]!) this.#unsorted.add(j);
      addEntry(j, f.seq, seg.num, f.off, f.len);
    } else {
      if (f.seq <= j.trimmed) return;
      if (j.trim >= 0) this.#deadSlot(j.trim);
      else j.trim = this.#slots.alloc();
      this.#slots.set(j.trim, seg.num, f.off, f.len, f.lsn);
      j.trimmed = f.seq;
    }
    seg.live += f.len;
  }

  /** After a scan: each journal's entries in order, once each, above its trim. */
  #settleJournals(): void {
    for (const j of this.#journals.values()) {
      let e = j.e;
      if (e === null) continue;
      if (this.#unsorted.has(j)) {
        const rows: number[][] = [];
        for (let i = 0; i < e.length; i += 4) rows.push(e.slice(i, i + 4));
        rows.sort((a, b) => a[0]! - b[0]!);
        e = [];
        for (const r of rows) {
          if (e.length > 0 && e[e.length - 4] === r[0]) this.#dead(r[1]!, r[3]!); // a copy left by a compaction
          else e.push(...r);
        }
      }
      let n = 0;
      while (n < e.length && e[n]! <= j.trimmed) {
        this.#dead(e[n + 1]!, e[n + 3]!);
        n += 4;
      }
      j.e = n === e.length ? null : n > 0 ? e.slice(n) : e;
    }
    this.#unsorted.clear();
  }

  // ---- compaction ---------------------------------------------------------

  #maybeCompact(): void {
    if (!this.#autoCompact || this.#compaction !== null || this.#state !== 'open' || this.#failure !== null) return;
    const victims = this.#pickVictims(this.#compactRatio, 4);
    if (victims.length === 0) return;
    this.#startCompaction(victims).then(
      () => this.#maybeCompact(),
      () => {}, // the store is stopped; its next call says why
    );
  }

  #startCompaction(victims: Segment[], outputs?: Set<number>): Promise<void> {
    const run = this.#compactOnce(victims, outputs).catch((e) => {
      throw this.#fail(e);
    });
    const tracked = run.finally(() => {
      if (this.#compaction === tracked) this.#compaction = null;
    });
    tracked.catch(() => {});
    this.#compaction = tracked;
    return tracked;
  }

  /**
   * The closed segments to compact: those whose dead fraction is at least
   * `ratio`, most dead first, plus small ones (under a quarter of a segment)
   * to merge if there are any such or at least `minSmall` small ones; as many
   * as fit in one new segment.
   */
  #pickVictims(ratio: number, minSmall: number, exclude?: Set<number>): Segment[] {
    const dirty: Segment[] = [];
    const small: Segment[] = [];
    for (const s of this.#segs.values()) {
      if (!s.sealed || s.compacting || s === this.#active || exclude?.has(s.num)) continue;
      const body = s.tail - SEG_HEAD;
      const dead = body - s.live;
      if (dead > 0 && dead >= ratio * body) dirty.push(s);
      else if (s.tail < this.#segmentBytes / 4) small.push(s);
    }
    if (dirty.length === 0 && small.length < minSmall) return [];
    const deadFraction = (s: Segment): number => (s.tail - SEG_HEAD - s.live) / Math.max(1, s.tail - SEG_HEAD);
    dirty.sort((a, b) => deadFraction(b) - deadFraction(a));
    small.sort((a, b) => a.tail - b.tail);
    const out: Segment[] = [];
    let live = 0;
    for (const s of [...dirty, ...small]) {
      if (out.length > 0 && live + s.live > this.#segmentBytes) continue;
      out.push(s);
      live += s.live;
    }
    return out.length === 1 && dirty.length === 0 ? [] : out;
  }

  /**
   * Copies the live frames of `victims` into a new segment, then deletes
   * them. Crash-safe at every step: the output is a .tmp (ignored on open)
   * until synced and renamed; the victims are deleted only after that, and
   * after every write that made one of their frames dead is durable; between
   * the two, replay resolves the duplicates. Memory: a chunk at a time (the
   * index is pointed at the copies by reading the output back, not from a
   * list of what moved).
   */
  async #compactOnce(victims: Segment[], outputs?: Set<number>): Promise<void> {
    for (const v of victims) v.compacting = true;
    const num = this.#nextSeg++;
    outputs?.add(num);
    const path = join(this.#dir, segmentName(num));
    const tmp = `${path}.tmp`;
    // A tombstone can be dropped when no segment left holds a frame older than it (so no put it hides).
    let othersMin = Infinity;
    for (const s of this.#segs.values()) if (!victims.includes(s) && s.minLsn < othersMin) othersMin = s.minLsn;
    const step = async (s: CompactionStep): Promise<void> => {
      await this.#step?.(s);
    };
    const out = await open(tmp, 'wx+');
    let handedOver = false;
    try {
      await writeAll(out, [segmentHeader(KIND_COMPACTED)], 0);
      let outOff = SEG_HEAD;
      let minLsn = Infinity;
      let maxLsn = 0;
      const dropped: Array<{ key: string; lsn: number }> = [];
      for (const v of victims) {
        for await (const { buf, frames } of this.#frames(v)) {
          const keep: Buffer[] = [];
          const at = outOff;
          for (const f of frames) {
            if (!this.#liveIn(v, f)) continue;
            if (f.type === DELETE && f.lsn < othersMin) {
              dropped.push({ key: f.key, lsn: f.lsn });
              continue;
            }
            keep.push(buf.subarray(f.at, f.at + f.len));
            outOff += f.len;
            if (f.lsn < minLsn) minLsn = f.lsn;
            if (f.lsn > maxLsn) maxLsn = f.lsn;
          }
          if (keep.length > 0) await writeAll(out, keep, at);
          await step('chunk');
          if (this.#state !== 'open') throw new CompactionAbandoned();
        }
      }
      await out.datasync();
      await step('synced');
      const empty = outOff === SEG_HEAD;
      if (!empty) {
        await rename(tmp, path);
        await this.#syncDir();
        await step('renamed');
      }
      // The frames left out are dead because of later writes; those must be on disk before the only
      // copies of the older ones go.
      await this.#barrier();
      if (!this.#fsync && this.#active?.handle) await this.#active.handle.datasync();
      const seg = new Segment(num, KIND_COMPACTED, path);
      seg.handle = out;
      seg.tail = outOff;
      seg.minLsn = minLsn;
      seg.maxLsn = maxLsn;
      seg.sealed = true;
      handedOver = true;
      // Every frame the index points at in a victim was live when copied (nothing is written to a
      // victim, and only this compaction moves entries), so it has a copy: point the index at it.
      // Meanwhile reads find either copy, and a write that supersedes a frame just leaves it.
      const from = new Set(victims.map((v) => v.num));
      if (!empty) {
        this.#segs.set(num, seg);
        for await (const { frames } of this.#frames(seg)) for (const f of frames) this.#repoint(f, seg, from);
      } else {
        void seg.retire();
      }
      for (const d of dropped) {
        const slot = this.#tombs.get(d.key);
        if (slot !== undefined && this.#slots.lsn(slot) === d.lsn && from.has(this.#slots.seg(slot))) {
          this.#tombs.delete(d.key);
          this.#slots.free(slot);
        }
      }
      for (const v of victims) {
        this.#segs.delete(v.num);
        void v.retire();
      }
      this.#counts.compactions++;
      await step('repointed');
      if (empty) await unlink(tmp);
      for (const v of victims) {
        await unlink(v.path);
        await step('unlinked');
      }
      await this.#syncDir();
    } catch (e) {
      if (!handedOver) {
        await out.close().catch(() => {});
        for (const v of victims) v.compacting = false;
      }
      if (e instanceof CompactionAbandoned) {
        await unlink(tmp).catch(() => {});
        return;
      }
      throw e;
    }
  }

  /** The frames of a closed segment, a chunk at a time (each checked against its CRC). */
  async *#frames(seg: Segment): AsyncGenerator<{ buf: Buffer; frames: FrameInfo[] }> {
    const h = seg.acquire();
    try {
      let pos = SEG_HEAD;
      while (pos < seg.tail) {
        const n = Math.min(CHUNK, seg.tail - pos);
        if (n < FRAME_HEAD) throw this.#corrupt(seg, pos, 'a frame header cut short');
        let buf = Buffer.allocUnsafe(n);
        await readFull(h, buf, pos);
        const first = frameLength(buf, 0);
        if (first > n) {
          buf = Buffer.allocUnsafe(first);
          await readFull(h, buf, pos);
        }
        const frames: FrameInfo[] = [];
        let at = 0;
        while (at + FRAME_HEAD <= buf.length) {
          const len = frameLength(buf, at);
          if (len < 0 || pos + at + len > seg.tail) throw this.#corrupt(seg, pos + at, 'not a frame header');
          if (at + len > buf.length) break;
          if (!frameIntact(buf, at, len)) throw this.#corrupt(seg, pos + at, 'checksum mismatch');
          frames.push(frameInfo(buf, at, pos + at, len));
          at += len;
        }
        if (at === 0) throw this.#corrupt(seg, pos, 'a frame cut short');
        pos += at;
        yield { buf, frames };
      }
    } finally {
      seg.release();
    }
  }

  /** Whether the index still needs the frame `f` of segment `v`. */
  #liveIn(v: Segment, f: FrameInfo): boolean {
    switch (f.type) {
      case PUT:
      case DELETE: {
        const slot = (f.type === PUT ? this.#records : this.#tombs).get(f.key);
        return slot !== undefined && this.#slots.seg(slot) === v.num && this.#slots.off(slot) === f.off;
      }
      case APPEND: {
        const e = this.#journals.get(f.key)?.e;
        if (e == null) return false;
        const i = entryIndex(e, f.seq);
        return i >= 0 && e[i + 1] === v.num && e[i + 2] === f.off;
      }
      default: {
        const j = this.#journals.get(f.key);
        return j !== undefined && j.trim >= 0 && this.#slots.seg(j.trim) === v.num && this.#slots.off(j.trim) === f.off;
      }
    }
  }

  /** Points the index at `f`, a frame of `seg` copied from one of the segments `from`, if it still points at the original. */
  #repoint(f: FrameInfo, seg: Segment, from: Set<number>): void {
    // A frame is known by its lsn (copies keep it), a journal entry by its seq.
    const moveSlot = (slot: number | undefined): void => {
      if (slot === undefined || slot < 0 || this.#slots.lsn(slot) !== f.lsn || !from.has(this.#slots.seg(slot))) return;
      this.#slots.move(slot, seg.num, f.off);
      seg.live += f.len;
    };
    switch (f.type) {
      case PUT:
        moveSlot(this.#records.get(f.key));
        break;
      case DELETE:
        moveSlot(this.#tombs.get(f.key));
        break;
      case APPEND: {
        const e = this.#journals.get(f.key)?.e;
        const i = e == null ? -1 : entryIndex(e, f.seq);
        if (i < 0 || !from.has(e![i + 1]!)) return;
        e![i + 1] = seg.num;
        e![i + 2] = f.off;
        seg.live += f.len;
        break;
      }
      default:
        moveSlot(this.#journals.get(f.key)?.trim);
    }
  }
}
