/**
 * MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md), as
 * messages are written and read: a complete encoder and decoder whose
 * extensions belong to one `MessagePack` instance. msgpackr's extensions are
 * process-global (its `addExtension`), so registering the pid extension there
 * changed what every other user of msgpackr in the application wrote and read.
 *
 * Encoding writes what msgpackr writes with `useRecords: false` (byte for
 * byte, for the values both accept): integers in [-2^31, 2^32) as the
 * shortest int (-0 as 0), other numbers as float64, bigints as int64/uint64,
 * strings as str (UTF-8, shortest header), `Uint8Array`s and `ArrayBuffer`s as
 * bin, arrays, plain objects as maps of their own enumerable string keys,
 * `Map`s as maps, `Date`s as the timestamp extension (-1), null as nil.
 * Where msgpackr writes something only msgpackr reads, this does not:
 * `undefined` is nil (and an object's property whose value is undefined is
 * left out, as JSON does), a lone surrogate in a string is U+FFFD (valid
 * UTF-8), and a value with no MessagePack form (a function, a symbol, a class
 * instance no extension encodes, an invalid Date, a cycle) is an
 * `MessageEncodeError` naming where it is, not msgpackr's guess at a shape.
 *
 * Decoding reads everything MessagePack defines: ints (64-bit ones as numbers
 * when in [-2^53, 2^53], as bigints otherwise), float32/64, str, bin (a copy),
 * arrays, maps as plain objects (keys: strings, or scalars as their string
 * form; a `__proto__` key is an own property, never the prototype), the
 * timestamp extension as a Date, and the instance's extensions. Anything
 * else (an unknown extension, a truncated or malformed value, bytes left
 * over, invalid UTF-8) is a `MessageDecodeError` with its offset. Lengths are checked
 * against the bytes left before anything is allocated, and arrays and maps
 * nest at most `maxDepth` deep both ways, so no input makes it hang, overflow
 * the stack or allocate more than a small multiple of its size.
 */

/** Default of `MessagePackOptions.maxDepth`. */
export const DEFAULT_MAX_DEPTH = 512;

/** A value that has no MessagePack form; `path` says where it is (`$` is the value itself). */
export class MessageEncodeError extends TypeError {
  override name = 'MessageEncodeError';
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`cannot encode ${what} at ${path}`);
  }
}

/** Bytes that are not one well-formed MessagePack value; `offset` is where reading failed. */
export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError';
  constructor(
    readonly offset: number,
    what: string,
  ) {
    super(`${what} (at byte ${offset})`);
  }
}

/** An application extension type: which values it writes, and how it reads them back. */
export interface Extension {
  /** Its type, 0 to 127 (negative types belong to MessagePack itself). */
  readonly type: number;
  /**
   * The data of a value it encodes, or undefined for values it does not
   * encode. Asked only about objects that are not arrays, plain objects,
   * `Uint8Array`s, `ArrayBuffer`s, `Map`s or `Date`s. A throw becomes an
   * MessageEncodeError.
   */
  encode(value: object): Uint8Array | undefined;
  /** The value of its data (a view valid during the call only). A throw becomes a MessageDecodeError. */
  decode(data: Uint8Array): unknown;
}

/** Options of a MessagePack codec. */
export interface MessagePackOptions {
  /** Arrays and maps nested deeper than this are refused, both ways (default 512). */
  maxDepth?: number;
  /** Application extensions, each with its own type. */
  extensions?: readonly Extension[];
}

/** Encoder buffers larger than this are not kept for the next message. */
const KEEP_BYTES = 64 * 1024;
/** Strings shorter than this are encoded by hand: faster than TextEncoder's call. */
const SHORT_STRING = 64;
/** 2^32, to split 64-bit values into two 32-bit halves. */
const TWO_32 = 0x1_0000_0000;
/** Milliseconds of the largest Date (ECMA-262 time values). */
const MAX_DATE_MS = 8.64e15;
const INT64_MIN = -(2n ** 63n);
const INT64_END = 2n ** 63n;
const UINT64_END = 2n ** 64n;

const utf8Encoder = new TextEncoder();

/**
 * A MessagePack encoder and decoder with its own extensions and depth limit.
 * Between calls it keeps a scratch buffer (never shared with what it
 * returns) and a cache of map keys; neither changes any result.
 */
export class MessagePack {
  /** Deepest nesting of arrays and maps accepted. */
  readonly maxDepth: number;
  private readonly extensions: readonly Extension[];
  /** Extensions by type + 128. */
  private readonly byType: (Extension | undefined)[] = new Array<Extension | undefined>(256).fill(undefined);
  /** A scratch encoder, taken while an encoding runs (so that a getter that encodes gets its own). */
  private spare: Encoder | null = null;
  private readonly decoding: DecoderShared;

  constructor(options: MessagePackOptions = {}) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= 10_000)) throw new RangeError(`maxDepth must be an integer from 1 to 10,000, got ${String(maxDepth)}`);
    this.maxDepth = maxDepth;
    this.extensions = [...(options.extensions ?? [])];
    for (const e of this.extensions) {
      if (!(Number.isInteger(e.type) && e.type >= 0 && e.type <= 127)) throw new RangeError(`extension types are 0 to 127, got ${String(e.type)}`);
      if (this.byType[e.type + 128] !== undefined) throw new RangeError(`extension type ${e.type} is given twice`);
      this.byType[e.type + 128] = e;
    }
    this.decoding = new DecoderShared(this.maxDepth, this.byType);
  }

  /** The MessagePack bytes of a value: a Buffer no later encoding writes to (small ones share Node's pool). Throws MessageEncodeError. */
  encode(value: unknown): Uint8Array {
    const enc = this.spare ?? new Encoder(this.maxDepth, this.extensions);
    this.spare = null;
    enc.pos = 0;
    enc.value(value, 0);
    const out = copyOut(enc.buf, enc.pos);
    // Kept only after a success, emptied: its stack must not hold the caller's objects.
    enc.release();
    if (enc.buf.length <= KEEP_BYTES) this.spare = enc;
    return out;
  }

  /** The value of bytes holding exactly one MessagePack value. Throws MessageDecodeError. */
  decode(bytes: Uint8Array): unknown {
    const d = new Decoder(bytes, this.decoding);
    const v = d.read(0);
    if (d.pos !== bytes.length) throw new MessageDecodeError(d.pos, `${bytes.length - d.pos} bytes left after the value`);
    return v;
  }
}

// ---------------------------------------------------------------------------
// Encoding

/**
 * A copy of the first n bytes of buf, small ones in Node's Buffer pool: an
 * ArrayBuffer per message cost more than the rest of encoding a small one
 * (measured). A kept result keeps its 8 KiB pool slab alive, as any small
 * Buffer does (msgpackr's results did the same with its own slabs).
 */
function copyOut(buf: Uint8Array, n: number): Uint8Array {
  const out = Buffer.allocUnsafe(n);
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[i]!;
  else out.set(buf.subarray(0, n));
  return out;
}

class Encoder {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  pos = 0;
  /** The arrays, objects and maps enclosing the value being written, outermost first (for cycles and paths). */
  readonly stack: (object | undefined)[] = [];
  /** Entries of the stack used since the last release. */
  private used = 0;

  constructor(
    readonly maxDepth: number,
    readonly extensions: readonly Extension[],
  ) {}

  /** Makes room for n more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const size = Math.max(this.buf.length * 2, this.pos + n);
    // Past `pos` it is written before it is read: not zeroed first (a large bin, a snapshot in a record, is copied in).
    const next = size < 65536 ? new Uint8Array(size) : new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes a value enclosed in `depth` arrays and maps. */
  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'number':
        return this.number(v);
      case 'boolean':
        this.room(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object':
        if (v === null) break;
        return this.object(v, depth);
      case 'undefined':
        break;
      case 'bigint':
        return this.bigint(v, depth);
      default:
        throw this.fail(depth, v, `a ${typeof v}`);
    }
    this.room(1);
    this.buf[this.pos++] = 0xc0;
  }

  private number(v: number): void {
    this.room(9);
    const b = this.buf;
    if (v >>> 0 === v) {
      // Also -0, written as 0 as msgpackr does: a guest reading an integer field should not get a float.
      if (v < 0x80) b[this.pos++] = v;
      else if (v < 0x100) (b[this.pos++] = 0xcc), (b[this.pos++] = v);
      else if (v < 0x10000) (b[this.pos++] = 0xcd), (b[this.pos++] = v >>> 8), (b[this.pos++] = v & 0xff);
      else (b[this.pos] = 0xce), this.view.setUint32(this.pos + 1, v), (this.pos += 5);
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.pos++] = v & 0xff;
      else if (v >= -0x80) (b[this.pos++] = 0xd0), (b[this.pos++] = v & 0xff);
      else if (v >= -0x8000) (b[this.pos] = 0xd1), this.view.setInt16(this.pos + 1, v), (this.pos += 3);
      else (b[this.pos] = 0xd2), this.view.setInt32(this.pos + 1, v), (this.pos += 5);
    } else {
      // Integers outside [-2^31, 2^32) too, as msgpackr writes them (they stay exact up to 2^53).
      b[this.pos] = 0xcb;
      this.view.setFloat64(this.pos + 1, v);
      this.pos += 9;
    }
  }

  private bigint(v: bigint, depth: number): void {
    this.room(9);
    if (v >= INT64_MIN && v < INT64_END) {
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, v);
    } else if (v >= 0n && v < UINT64_END) {
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, v);
    } else {
      throw this.fail(depth, v, `the bigint ${v}, outside the 64-bit range`);
    }
    this.pos += 9;
  }

  private string(s: string): void {
    const len = s.length;
    if (len < 32) {
      // Most strings are short ASCII: written under a fixstr header at once, without moving them.
      this.room(1 + len);
      const b = this.buf;
      const p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p + i] = c;
      }
      if (i === len) {
        b[this.pos] = 0xa0 + len;
        this.pos = p + len;
        return;
      }
    }
    // Room for the longest UTF-8 form (3 bytes per UTF-16 unit) under the header it would need.
    const max = len * 3;
    const head = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.room(head + max);
    const start = this.pos + head;
    const n = len < SHORT_STRING ? this.utf8(s, start) : utf8Encoder.encodeInto(s, this.buf.subarray(start)).written;
    const fits = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (fits < head) this.buf.copyWithin(this.pos + fits, start, start + n);
    this.header(fits, n, 0xa0, 0xd9, 0xda, 0xdb);
    this.pos += n;
  }

  /** Writes s as UTF-8 at p (lone surrogates as U+FFFD, as TextEncoder does); returns its byte length. */
  private utf8(s: string, p: number): number {
    const b = this.buf;
    const start = p;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        b[p++] = c;
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
          if (d >= 0xdc00 && d <= 0xdfff) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            b[p++] = 0xf0 | (cp >> 18);
            b[p++] = 0x80 | ((cp >> 12) & 0x3f);
            b[p++] = 0x80 | ((cp >> 6) & 0x3f);
            b[p++] = 0x80 | (cp & 0x3f);
            i++;
            continue;
          }
          c = 0xfffd;
        }
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    return p - start;
  }

  /**
   * Writes a header of `size` bytes at pos for a length or count n: the fix
   * form (`fix` + n), or the 8-, 16- or 32-bit one (`op8` is 0 where the
   * type has no 8-bit form).
   */
  private header(size: number, n: number, fix: number, op8: number, op16: number, op32: number): void {
    const b = this.buf;
    const p = this.pos;
    if (size === 1) b[p] = fix + n;
    else if (size === 2) (b[p] = op8), (b[p + 1] = n);
    else if (size === 3) (b[p] = op16), (b[p + 1] = n >>> 8), (b[p + 2] = n & 0xff);
    else (b[p] = op32), this.view.setUint32(p + 1, n);
    this.pos = p + size;
  }

  private object(v: object, depth: number): void {
    if (Array.isArray(v)) return this.array(v, depth);
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) return this.plain(v as Record<string, unknown>, depth);
    if (v instanceof Uint8Array) return this.bin(v, depth);
    if (v instanceof Map) return this.map(v, depth);
    if (v instanceof Date) return this.date(v, depth);
    if (v instanceof ArrayBuffer) return this.bin(new Uint8Array(v), depth);
    for (const e of this.extensions) {
      let data: Uint8Array | undefined;
      try {
        data = e.encode(v);
      } catch (err) {
        throw this.fail(depth, v, `${describe(v)} (extension ${e.type}: ${err instanceof Error ? err.message : String(err)})`);
      }
      if (data !== undefined) return this.ext(e.type, data);
    }
    throw this.fail(depth, v, `${describe(v)} (no MessagePack form: use plain objects, arrays, Maps, Uint8Arrays, Dates)`);
  }

  /** Enters a container at `depth`, or refuses it: too deep, or a cycle. */
  private enter(v: object, depth: number): void {
    if (depth >= this.maxDepth) throw this.tooDeep(v, depth);
    this.stack[depth] = v;
    if (depth >= this.used) this.used = depth + 1;
  }

  /** Forgets the values of the last encoding (so that a kept encoder holds none of the caller's objects). */
  release(): void {
    for (let i = 0; i < this.used; i++) this.stack[i] = undefined;
    this.used = 0;
  }

  private array(v: unknown[], depth: number): void {
    this.enter(v, depth);
    const n = v.length;
    this.room(5);
    this.header(n < 16 ? 1 : n < 0x10000 ? 3 : 5, n, 0x90, 0, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) this.value(v[i], depth + 1);
  }

  private plain(v: Record<string, unknown>, depth: number): void {
    this.enter(v, depth);
    const keys = Object.keys(v);
    const at = this.begin(keys.length);
    let count = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const x = v[k];
      if (x === undefined) continue;
      this.string(k);
      this.value(x, depth + 1);
      count++;
    }
    this.end(at, keys.length, count);
  }

  private map(v: Map<unknown, unknown>, depth: number): void {
    this.enter(v, depth);
    const at = this.begin(v.size);
    let count = 0;
    for (const [k, x] of v) {
      this.value(k, depth + 1);
      this.value(x, depth + 1);
      count++;
    }
    this.end(at, v.size, count);
  }

  /** Reserves the header of a map of at most `max` entries; returns where it is. */
  private begin(max: number): number {
    const at = this.pos;
    this.room(5);
    this.pos += mapHeaderSize(max);
    return at;
  }

  /** Writes the header reserved at `at` for `count` entries (fewer than reserved when undefined values were left out). */
  private end(at: number, max: number, count: number): void {
    const reserved = mapHeaderSize(max);
    const size = mapHeaderSize(count);
    const end = this.pos;
    if (size < reserved) this.buf.copyWithin(at + size, at + reserved, end);
    this.pos = at;
    this.header(size, count, 0x80, 0, 0xde, 0xdf);
    this.pos = end - (reserved - size);
  }

  private bin(v: Uint8Array, depth: number): void {
    const n = v.byteLength;
    if (n > 0xffffffff) throw this.fail(depth, v, `bytes of length ${n} (the most is 2^32 - 1)`);
    this.room(5 + n);
    this.header(n < 0x100 ? 2 : n < 0x10000 ? 3 : 5, n, 0, 0xc4, 0xc5, 0xc6);
    this.buf.set(v, this.pos);
    this.pos += n;
  }

  /** A Date as the timestamp extension, in the forms msgpackr picks: 32 bits, 64 bits, or 96 bits. */
  private date(v: Date, depth: number): void {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw this.fail(depth, v, 'an invalid Date');
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1e6;
    this.room(15);
    const b = this.buf;
    const p = this.pos;
    if (sec >= 0 && sec < TWO_32) {
      if (nsec === 0) {
        (b[p] = 0xd6), (b[p + 1] = 0xff), this.view.setUint32(p + 2, sec);
        this.pos = p + 6;
      } else {
        // 30 bits of nanoseconds, then 34 bits of seconds (the top two are 0 here).
        (b[p] = 0xd7), (b[p + 1] = 0xff), this.view.setUint32(p + 2, nsec * 4), this.view.setUint32(p + 6, sec);
        this.pos = p + 10;
      }
    } else {
      const hi = Math.floor(sec / TWO_32);
      (b[p] = 0xc7), (b[p + 1] = 12), (b[p + 2] = 0xff), this.view.setUint32(p + 3, nsec);
      this.view.setInt32(p + 7, hi);
      this.view.setUint32(p + 11, sec - hi * TWO_32);
      this.pos = p + 15;
    }
  }

  private ext(type: number, data: Uint8Array): void {
    const n = data.byteLength;
    this.room(6 + n);
    const b = this.buf;
    const fix = n === 1 ? 0xd4 : n === 2 ? 0xd5 : n === 4 ? 0xd6 : n === 8 ? 0xd7 : n === 16 ? 0xd8 : 0;
    if (fix !== 0) b[this.pos++] = fix;
    else this.header(n < 0x100 ? 2 : n < 0x10000 ? 3 : 5, n, 0, 0xc7, 0xc8, 0xc9);
    b[this.pos++] = type & 0xff;
    b.set(data, this.pos);
    this.pos += n;
  }

  /** An MessageEncodeError for x, enclosed in the containers stack[0..depth-1]. */
  private fail(depth: number, x: unknown, what: string): MessageEncodeError {
    return new MessageEncodeError(this.path(depth, x), what);
  }

  /** Refuses a container at the depth limit: a cycle when one of the containers enclosing it repeats, too deep otherwise. */
  private tooDeep(v: object, depth: number): MessageEncodeError {
    this.stack[depth] = v;
    for (let j = 1; j <= depth; j++) {
      const i = this.stack.indexOf(this.stack[j]!);
      if (i < j) return new MessageEncodeError(this.path(j, this.stack[j]), `a cyclic reference (to ${this.path(i, this.stack[i])})`);
    }
    return this.fail(depth, v, `a value nested deeper than ${this.maxDepth} arrays and maps`);
  }

  /**
   * Where x is: found again by identity, since the fast path keeps no keys
   * (a value present twice gets the first place it is found).
   */
  private path(depth: number, x: unknown): string {
    let path = '$';
    for (let i = 0; i < depth; i++) path += segment(this.stack[i]!, i + 1 < depth ? this.stack[i + 1] : x);
    return path;
  }
}

function mapHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** The step from a container to one of its values in a path. */
function segment(parent: object, child: unknown): string {
  if (Array.isArray(parent)) {
    const i = parent.findIndex((x) => Object.is(x, child));
    return i >= 0 ? `[${i}]` : '[?]';
  }
  if (parent instanceof Map) {
    for (const [k, x] of parent) {
      if (Object.is(x, child)) return `.get(${keyText(k)})`;
      if (Object.is(k, child)) return `.key(${keyText(k)})`;
    }
    return '[?]';
  }
  for (const k of Object.keys(parent)) {
    if (Object.is((parent as Record<string, unknown>)[k], child)) return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return '[?]';
}

function keyText(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : typeof k === 'object' && k !== null ? describe(k) : String(k);
}

/** What a value is, for errors. */
function describe(v: unknown): string {
  if (typeof v !== 'object' || v === null) return `a ${typeof v}`;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : 'an object of a class';
}

// ---------------------------------------------------------------------------
// Decoding

/** Entries of the map-key cache (of one MessagePack instance: at most 4,096 strings of up to 16 bytes). */
const KEY_CACHE = 4096;
/** Longest map key (in bytes) the cache holds. */
const MAX_CACHED_KEY = 16;
/** Whether this machine stores numbers little-endian (MessagePack is big-endian). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * What the decodings of one MessagePack instance share. None of it changes
 * what a decoding returns: the key cache makes equal map keys one string
 * (property stores with a string seen before are several times faster than
 * with a fresh one), the scratch turns bytes into floats without a DataView
 * per message.
 */
class DecoderShared {
  readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  readonly keys: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE).fill(undefined);
  readonly keyBytes = new Uint8Array(KEY_CACHE * MAX_CACHED_KEY);
  readonly keyLengths = new Uint8Array(KEY_CACHE);
  readonly f64 = new Float64Array(1);
  readonly f32 = new Float32Array(this.f64.buffer, 0, 1);
  readonly scratch = new Uint8Array(this.f64.buffer);

  constructor(
    readonly maxDepth: number,
    readonly byType: readonly (Extension | undefined)[],
  ) {}
}

class Decoder {
  pos = 0;
  private readonly end: number;

  constructor(
    private readonly src: Uint8Array,
    private readonly t: DecoderShared,
  ) {
    this.end = src.length;
  }

  /** A plain Uint8Array view of n bytes at p (a Buffer's `subarray` would make a slower Buffer). */
  private view(p: number, n: number): Uint8Array {
    return new Uint8Array(this.src.buffer, this.src.byteOffset + p, n);
  }

  /** Fails unless n more bytes are left (before anything of that size is read or allocated). */
  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new MessageDecodeError(this.pos, `truncated: ${what} needs ${n} bytes, ${this.end - this.pos} are left`);
  }

  private u8(what: string): number {
    this.need(1, what);
    return this.src[this.pos++]!;
  }

  private u16(what: string): number {
    this.need(2, what);
    const p = this.pos;
    this.pos = p + 2;
    return (this.src[p]! << 8) | this.src[p + 1]!;
  }

  private u32(what: string): number {
    this.need(4, what);
    const p = this.pos;
    this.pos = p + 4;
    return getU32(this.src, p);
  }

  /** A float of n (4 or 8) bytes. */
  private float(n: 4 | 8): number {
    this.need(n, n === 4 ? 'a float32' : 'a float64');
    const src = this.src;
    const x = this.t.scratch;
    const p = this.pos;
    this.pos = p + n;
    if (LITTLE_ENDIAN) for (let i = 0; i < n; i++) x[n - 1 - i] = src[p + i]!;
    else for (let i = 0; i < n; i++) x[i] = src[p + i]!;
    return n === 4 ? this.t.f32[0]! : this.t.f64[0]!;
  }

  /** Reads a value enclosed in `depth` arrays and maps. */
  read(depth: number): unknown {
    const p = this.pos;
    if (p >= this.end) throw new MessageDecodeError(p, 'truncated: a value was expected');
    const b = this.src[p]!;
    this.pos = p + 1;
    if (b < 0x80) return b;
    if (b < 0x90) return this.map(b & 0x0f, depth, p);
    if (b < 0xa0) return this.array(b & 0x0f, depth, p);
    if (b < 0xc0) return this.str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.u8('a bin8 length'));
      case 0xc5:
        return this.bin(this.u16('a bin16 length'));
      case 0xc6:
        return this.bin(this.u32('a bin32 length'));
      case 0xc7:
        return this.ext(this.u8('an ext8 length'), p);
      case 0xc8:
        return this.ext(this.u16('an ext16 length'), p);
      case 0xc9:
        return this.ext(this.u32('an ext32 length'), p);
      case 0xca:
        return this.float(4);
      case 0xcb:
        return this.float(8);
      case 0xcc:
        return this.u8('a uint8');
      case 0xcd:
        return this.u16('a uint16');
      case 0xce:
        return this.u32('a uint32');
      case 0xcf:
        return this.int64(false);
      case 0xd0:
        return (this.u8('an int8') << 24) >> 24;
      case 0xd1:
        return (this.u16('an int16') << 16) >> 16;
      case 0xd2:
        return this.u32('an int32') | 0;
      case 0xd3:
        return this.int64(true);
      case 0xd4:
        return this.ext(1, p);
      case 0xd5:
        return this.ext(2, p);
      case 0xd6:
        return this.ext(4, p);
      case 0xd7:
        return this.ext(8, p);
      case 0xd8:
        return this.ext(16, p);
      case 0xd9:
        return this.str(this.u8('a str8 length'));
      case 0xda:
        return this.str(this.u16('a str16 length'));
      case 0xdb:
        return this.str(this.u32('a str32 length'));
      case 0xdc:
        return this.array(this.u16('an array16 count'), depth, p);
      case 0xdd:
        return this.array(this.u32('an array32 count'), depth, p);
      case 0xde:
        return this.map(this.u16('a map16 count'), depth, p);
      case 0xdf:
        return this.map(this.u32('a map32 count'), depth, p);
      default:
        throw new MessageDecodeError(p, 'the byte 0xc1 is never used');
    }
  }

  /** A 64-bit integer: a number in [-2^53, 2^53] (exact there, as msgpackr's int64AsType 'auto'), a bigint beyond. */
  private int64(signed: boolean): number | bigint {
    this.need(8, signed ? 'an int64' : 'a uint64');
    const p = this.pos;
    this.pos = p + 8;
    const lo = getU32(this.src, p + 4);
    const hi = getU32(this.src, p);
    if (signed && hi >= 0x8000_0000) {
      const h = hi - TWO_32;
      if (h >= -0x200000) return h * TWO_32 + lo;
      return (BigInt(h) << 32n) + BigInt(lo);
    }
    if (hi < 0x200000 || (hi === 0x200000 && lo === 0)) return hi * TWO_32 + lo;
    return (BigInt(hi) << 32n) + BigInt(lo);
  }

  private array(n: number, depth: number, at: number): unknown[] {
    if (depth >= this.t.maxDepth) throw new MessageDecodeError(at, `arrays and maps nested deeper than ${this.t.maxDepth}`);
    // Each element takes a byte at least: a count beyond the bytes left is refused before allocating.
    this.need(n, `an array of ${n} elements`);
    const a = new Array<unknown>(n);
    for (let i = 0; i < n; i++) a[i] = this.read(depth + 1);
    return a;
  }

  private map(n: number, depth: number, at: number): Record<string, unknown> {
    if (depth >= this.t.maxDepth) throw new MessageDecodeError(at, `arrays and maps nested deeper than ${this.t.maxDepth}`);
    this.need(n * 2, `a map of ${n} entries`);
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.key(depth);
      const v = this.read(depth + 1);
      // An own property: assigned, `__proto__` would set the object's prototype.
      if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
      else o[key] = v;
    }
    return o;
  }

  /** A map key as a property name: a string, or a scalar's string form (as msgpackr's mapsAsObjects). */
  private key(depth: number): string {
    const p = this.pos;
    const b = p < this.end ? this.src[p]! : 0;
    if ((b & 0xe0) === 0xa0) {
      const n = b & 0x1f;
      if (n <= MAX_CACHED_KEY && p + 1 + n <= this.end) return this.cachedKey(p + 1, n);
    }
    const k = this.read(depth + 1);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint' || k === null) return String(k);
    throw new MessageDecodeError(p, `a map key must be a string or a scalar, not ${describe(k)}`);
  }

  /** A short fixstr key at p, from the cache when its bytes were seen. */
  private cachedKey(p: number, n: number): string {
    const src = this.src;
    const t = this.t;
    let h = n;
    for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + src[p + i]!) | 0;
    const slot = h & (KEY_CACHE - 1);
    const at = slot * MAX_CACHED_KEY;
    const cached = t.keys[slot];
    if (cached !== undefined && t.keyLengths[slot] === n) {
      let i = 0;
      while (i < n && t.keyBytes[at + i] === src[p + i]) i++;
      if (i === n) {
        this.pos = p + n;
        return cached;
      }
    }
    this.pos = p;
    const s = this.str(n);
    t.keys[slot] = s;
    t.keyLengths[slot] = n;
    for (let i = 0; i < n; i++) t.keyBytes[at + i] = src[p + i]!;
    return s;
  }

  private str(n: number): string {
    this.need(n, `a string of ${n} bytes`);
    const src = this.src;
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    if (n < SHORT_STRING) {
      // ASCII by hand, four characters a step (a TextDecoder call costs more than short strings).
      let s = '';
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const a = src[i]!, b = src[i + 1]!, c = src[i + 2]!, d = src[i + 3]!;
        if ((a | b | c | d) >= 0x80) break;
        s += String.fromCharCode(a, b, c, d);
      }
      for (; i < end; i++) {
        const a = src[i]!;
        if (a >= 0x80) break;
        s += String.fromCharCode(a);
      }
      if (i === end) return s;
    }
    try {
      return this.t.utf8.decode(this.view(start, n));
    } catch {
      throw new MessageDecodeError(start, 'a string that is not valid UTF-8');
    }
  }

  private bin(n: number): Uint8Array {
    this.need(n, `bytes of length ${n}`);
    // A copy: a view would let the caller change the message (and alias whatever buffer it sits in).
    const out = new Uint8Array(n);
    out.set(this.view(this.pos, n));
    this.pos += n;
    return out;
  }

  private ext(n: number, at: number): unknown {
    this.need(1 + n, `an extension of ${n} bytes`);
    const type = (this.src[this.pos]! << 24) >> 24;
    const data = this.view(this.pos + 1, n);
    this.pos += 1 + n;
    if (type === -1) return timestamp(data, at);
    const e = this.t.byType[type + 128];
    // msgpackr (the codec before this one) wrote `undefined` as ext 0 with one zero byte: messages kept in older snapshots may hold it.
    if (e === undefined && type === 0 && n === 1 && data[0] === 0) return undefined;
    if (e === undefined) throw new MessageDecodeError(at, `unknown extension type ${type}`);
    try {
      return e.decode(data);
    } catch (err) {
      throw new MessageDecodeError(at, `extension ${type}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The big-endian uint32 at p. */
function getU32(b: Uint8Array, p: number): number {
  return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/** The timestamp extension (-1) as a Date: 32-bit seconds; 30-bit nanoseconds and 34-bit seconds; 32-bit nanoseconds and 64-bit signed seconds. */
function timestamp(d: Uint8Array, at: number): Date {
  let sec: number;
  let nsec = 0;
  if (d.length === 4) {
    sec = getU32(d, 0);
  } else if (d.length === 8) {
    const hi = getU32(d, 0);
    nsec = hi >>> 2;
    sec = (hi & 3) * TWO_32 + getU32(d, 4);
  } else if (d.length === 12) {
    nsec = getU32(d, 0);
    sec = (getU32(d, 4) | 0) * TWO_32 + getU32(d, 8);
  } else {
    throw new MessageDecodeError(at, `a timestamp has 4, 8 or 12 bytes, not ${d.length}`);
  }
  if (nsec > 999_999_999) throw new MessageDecodeError(at, `a timestamp with ${nsec} nanoseconds (the most is 999,999,999)`);
  const ms = sec * 1000 + Math.floor(nsec / 1e6);
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new MessageDecodeError(at, 'a timestamp outside the range of Date');
  return new Date(ms);
}
