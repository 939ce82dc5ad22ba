// MessagePack for AssemblyScript: an Encoder, a Decoder, a dynamic Value, and
// typed generic helpers (`encode<T>`, `decode<T>`).
//
// Wire conventions follow msgpackr as the host uses it: integers in their
// smallest form, floats as float32/float64 (the host sends every non-integer
// number, and integers outside the 32-bit range, as float64), strings as str
// (UTF-8), byte arrays as bin, objects as maps with string keys, and a pid as
// extension type 1 with 4 bytes of big-endian i32.
//
// Errors: the Decoder never traps on bad input. A read that finds a value of
// another type, a truncated value, or an integer out of range leaves the
// position unchanged, sets `error` (sticky: every later read also fails and
// returns a default: 0, false, "", an empty Uint8Array, -1 for headers, a nil
// Value). Check `decoder.ok` after reading.

/** Extension type of a pid. */
export const EXT_PID: i8 = 1;

/** Nesting depth beyond which `readValue` gives up (sets `error`). */
export const MAX_DEPTH: i32 = 128;

/** What the next value in a Decoder is (`Decoder.peekType`). */
export enum MsgType {
  NIL = 0,
  BOOL = 1,
  INT = 2,
  FLOAT = 3,
  STR = 4,
  BIN = 5,
  ARRAY = 6,
  MAP = 7,
  EXT = 8,
  /** No more bytes. */
  END = 9,
  /** The reserved byte 0xc1. */
  INVALID = 10,
}

/** The kind of a dynamic `Value`. */
export enum ValueKind {
  NIL = 0,
  BOOL = 1,
  /** An integer that fits i64 (positive or negative). */
  INT = 2,
  /** An unsigned integer above i64.MAX_VALUE (bits in `Value.i`). */
  UINT = 3,
  F32 = 4,
  F64 = 5,
  STR = 6,
  BIN = 7,
  ARRAY = 8,
  MAP = 9,
  /** Extension type 1 with 4 data bytes. */
  PID = 10,
  /** Any other extension (type in `Value.i`, data in `Value.b`). */
  EXT = 11,
}

// ---------------------------------------------------------------------------
// Raw readers and writers (SDK internal; index.ts does not re-export them)
// ---------------------------------------------------------------------------
//
// Free functions over a pointer: the Encoder and Decoder use them, and so do
// the SDK's allocation-free paths for scalars (send<i32>, receive<i32>), so
// both write and accept exactly the same bytes. They take no managed
// reference, so the incremental runtime gives them no shadow-stack frame: a
// method call on an Encoder or Decoder costs ~15 instructions of prologue and
// epilogue before it does anything.

/** Bytes taken by the last `readScalarAt` / `numberAt` (0: there was no such value). */
export let rawLen: i32 = 0;
// Results of `numberAt`.
let numI: i64 = 0;
let numF: f64 = 0;

/** Writes an unsigned integer in its smallest form at p (up to 9 bytes); returns its size. */
// @ts-ignore: decorator
@inline export function putUint(p: usize, v: u64): i32 {
  if (v < 128) {
    store<u8>(p, <u8>v);
    return 1;
  }
  if (v < 256) {
    store<u16>(p, <u16>0xcc | <u16>(<u16>v << 8));
    return 2;
  }
  if (v < 65536) {
    store<u8>(p, 0xcd);
    store<u16>(p, bswap<u16>(<u16>v), 1);
    return 3;
  }
  if (v < 4294967296) {
    store<u8>(p, 0xce);
    store<u32>(p, bswap<u32>(<u32>v), 1);
    return 5;
  }
  store<u8>(p, 0xcf);
  store<u64>(p, bswap<u64>(v), 1);
  return 9;
}

/** Writes a signed integer in its smallest form at p (non-negative ones as unsigned); returns its size. */
// @ts-ignore: decorator
@inline export function putInt(p: usize, v: i64): i32 {
  if (v >= 0) return putUint(p, <u64>v);
  if (v >= -32) {
    store<u8>(p, <u8>v);
    return 1;
  }
  if (v >= -128) {
    store<u16>(p, <u16>0xd0 | <u16>(<u16><u8>v << 8));
    return 2;
  }
  if (v >= -32768) {
    store<u8>(p, 0xd1);
    store<u16>(p, bswap<u16>(<u16>v), 1);
    return 3;
  }
  if (v >= -2147483648) {
    store<u8>(p, 0xd2);
    store<u32>(p, bswap<u32>(<u32>v), 1);
    return 5;
  }
  store<u8>(p, 0xd3);
  store<u64>(p, bswap<u64>(<u64>v), 1);
  return 9;
}

/** Writes a scalar (bool, integer or float type) as `encodeInto<T>` does, at p (up to 9 bytes); returns its size. */
// @ts-ignore: decorator
@inline export function putScalar<T>(p: usize, v: T): i32 {
  if (isBoolean<T>()) {
    store<u8>(p, v ? 0xc3 : 0xc2);
    return 1;
  } else if (isInteger<T>()) {
    if (isSigned<T>()) return putInt(p, <i64>v);
    return putUint(p, <u64>v);
  } else if (isFloat<T>()) {
    if (sizeof<T>() == 4) {
      store<u8>(p, 0xca);
      store<u32>(p, bswap<u32>(reinterpret<u32>(<f32>v)), 1);
      return 5;
    }
    store<u8>(p, 0xcb);
    store<u64>(p, bswap<u64>(reinterpret<u64>(<f64>v)), 1);
    return 9;
  } else {
    ERROR("msgpack: putScalar<T> takes bool, integer and float types");
  }
}

/** Writes the header of a str of n bytes at p (up to 5 bytes); returns its size. */
// @ts-ignore: decorator
@inline function putStrHeader(p: usize, n: i32): i32 {
  if (n < 32) {
    store<u8>(p, 0xa0 | <u8>n);
    return 1;
  }
  if (n < 256) {
    store<u16>(p, <u16>0xd9 | <u16>(<u16>n << 8));
    return 2;
  }
  if (n < 65536) {
    store<u8>(p, 0xda);
    store<u16>(p, bswap<u16>(<u16>n), 1);
    return 3;
  }
  store<u8>(p, 0xdb);
  store<u32>(p, bswap<u32>(<u32>n), 1);
  return 5;
}

// Size of the str header for a body of n bytes.
// @ts-ignore: decorator
@inline function strHeaderSize(n: i32): i32 {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/** Longest string (in UTF-16 units) `putStr` takes: its UTF-8 is at most 3 bytes a unit. */
export const PUT_STR_MAX_UNITS: i32 = 0x5555;

/** Room `putStr` needs for a string of `units` UTF-16 units (at most PUT_STR_MAX_UNITS). */
// @ts-ignore: decorator
@inline export function putStrRoom(units: i32): i32 {
  return strHeaderSize(units * 3) + units * 3;
}

/**
 * Writes s as a str (UTF-8, unpaired surrogates as U+FFFD) at p, in one pass;
 * returns its size. s has at most PUT_STR_MAX_UNITS units and p has
 * `putStrRoom(s.length)` bytes of room.
 */
export function putStr(p: usize, s: string): i32 {
  const len = s.length;
  // The body goes after the largest header it could need, and moves back
  // when the header is shorter.
  const hmax = strHeaderSize(len * 3);
  const n = <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), len, p + <usize>hmax, false, String.UTF8.ErrorMode.REPLACE);
  const h = putStrHeader(p, n);
  if (h < hmax && n > 0) memory.copy(p + <usize>h, p + <usize>hmax, <usize>n);
  return h + n;
}

/**
 * Reads a str at p (`avail` bytes there) as a string; sets rawLen to the
 * bytes taken, or to 0 (and returns "") when there is no whole str there.
 * Invalid UTF-8 is decoded as String.UTF8.decodeUnsafe does.
 */
// Decoder.readStringPtr's length (a global, not a field: a field would change every Decoder's layout, and so every guest).
let lastStringLength: i32 = 0;

export function strAt(p: usize, avail: i32): string {
  rawLen = 0;
  if (avail < 1) return "";
  const b = <u32>load<u8>(p);
  let len: i64;
  let h: i32;
  if ((b & 0xe0) == 0xa0) {
    len = <i64>(b & 0x1f);
    h = 1;
  } else if (b == 0xd9 && avail >= 2) {
    len = <i64>load<u8>(p, 1);
    h = 2;
  } else if (b == 0xda && avail >= 3) {
    len = <i64>bswap<u16>(load<u16>(p, 1));
    h = 3;
  } else if (b == 0xdb && avail >= 5) {
    len = <i64>bswap<u32>(load<u32>(p, 1));
    h = 5;
  } else {
    return "";
  }
  if (<i64>h + len > <i64>avail) return "";
  const s = utf8At(p + <usize>h, <i32>len);
  rawLen = h + <i32>len;
  return s;
}

// The string of the n bytes of UTF-8 at p. ASCII (most strings in messages)
// is widened into a string of the exact size; decodeUnsafe allocates the
// most it could need, then trims it.
function utf8At(p: usize, n: i32): string {
  const end = p + <usize>n;
  let q = p;
  while (q < end && load<u8>(q) < 0x80) q++;
  if (q < end) return String.UTF8.decodeUnsafe(p, <usize>n);
  const s = __new(<usize>n << 1, idof<String>());
  for (let i: usize = 0; i < <usize>n; i++) store<u16>(s + (i << 1), <u16>load<u8>(p + i));
  return changetype<string>(s);
}

/**
 * Reads a number at p (`avail` bytes there, may be <= 0): returns 1 (an
 * integer, in numI), 2 (an unsigned integer above i64.MAX_VALUE, bits in
 * numI), 3 (a float, in numF) or 0 (not a number, or truncated), and sets
 * rawLen to the bytes it takes (0 with 0).
 */
export function numberAt(p: usize, avail: i32): i32 {
  rawLen = 0;
  if (avail < 1) return 0;
  const b = <u32>load<u8>(p);
  if (b <= 0x7f) {
    numI = <i64>b;
    rawLen = 1;
    return 1;
  }
  if (b >= 0xe0) {
    numI = <i64><i8>b;
    rawLen = 1;
    return 1;
  }
  let n = 0;
  let r = 1;
  switch (b) {
    case 0xcc: if (avail >= 2) { numI = <i64>load<u8>(p, 1); n = 2; } break;
    case 0xcd: if (avail >= 3) { numI = <i64>bswap<u16>(load<u16>(p, 1)); n = 3; } break;
    case 0xce: if (avail >= 5) { numI = <i64>bswap<u32>(load<u32>(p, 1)); n = 5; } break;
    case 0xcf: if (avail >= 9) {
      const u = bswap<u64>(load<u64>(p, 1));
      numI = <i64>u;
      if (u > <u64>i64.MAX_VALUE) r = 2;
      n = 9;
    } break;
    case 0xd0: if (avail >= 2) { numI = <i64>load<i8>(p, 1); n = 2; } break;
    case 0xd1: if (avail >= 3) { numI = <i64><i16>bswap<u16>(load<u16>(p, 1)); n = 3; } break;
    case 0xd2: if (avail >= 5) { numI = <i64><i32>bswap<u32>(load<u32>(p, 1)); n = 5; } break;
    case 0xd3: if (avail >= 9) { numI = <i64>bswap<u64>(load<u64>(p, 1)); n = 9; } break;
    case 0xca: if (avail >= 5) { numF = <f64>reinterpret<f32>(bswap<u32>(load<u32>(p, 1))); n = 5; r = 3; } break;
    case 0xcb: if (avail >= 9) { numF = reinterpret<f64>(bswap<u64>(load<u64>(p, 1))); n = 9; r = 3; } break;
  }
  rawLen = n;
  return n == 0 ? 0 : r;
}

/**
 * Reads a T (bool, integer or float type) at p (`avail` bytes there) with the rules of
 * `decodeFrom<T>`: integers range checked for T (floats with an integral
 * value in range accepted), floats from any number. Sets rawLen to the bytes
 * taken; 0 (and the result 0/false) when there is no T there.
 */
// @ts-ignore: decorator
@inline export function readScalarAt<T>(p: usize, avail: i32): T {
  if (isBoolean<T>()) {
    if (avail >= 1) {
      const b = load<u8>(p);
      if ((b | 1) == 0xc3) {
        rawLen = 1;
        return <T>(b == 0xc3);
      }
    }
    rawLen = 0;
    return <T>false;
  } else if (isInteger<T>() || isFloat<T>()) {
    // A positive fixint (the commonest number) fits every number type.
    if (avail >= 1) {
      const b = load<u8>(p);
      if (b < 0x80) {
        rawLen = 1;
        return <T>b;
      }
    }
    return readNumberAt<T>(p, avail);
  } else {
    ERROR("msgpack: readScalarAt<T> takes bool, integer and float types");
  }
}

// The rest of readScalarAt for numbers (not inlined: it is the less common case).
function readNumberAt<T>(p: usize, avail: i32): T {
  const r = numberAt(p, avail);
  if (isFloat<T>()) {
    // Through f64 as Decoder.readF64 does (an i64 rounds once, to f64, then to T).
    if (r == 1) return <T><f64>numI;
    if (r == 2) return <T><f64><u64>numI;
    if (r == 3) return <T>numF;
    return <T>0;
  } else if (sizeof<T>() == 8 && !isSigned<T>()) {
    if (r == 1 && numI >= 0) return <T>numI;
    if (r == 2) return <T>numI;
    if (r == 3) {
      const f = numF;
      if (f == Math.floor(f) && f >= 0 && f < 18446744073709551616.0) return <T><u64>f;
    }
  } else {
    let v: i64 = 0;
    let ok = false;
    if (r == 1) {
      v = numI;
      ok = true;
    } else if (r == 3) {
      const f = numF;
      if (f == Math.floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
        v = <i64>f;
        ok = true;
      }
    }
    if (ok) {
      if (sizeof<T>() == 8) return <T>v;
      const bits = <i64>(sizeof<T>() * 8);
      if (isSigned<T>()) {
        if (v >= -(<i64>1 << (bits - 1)) && v <= (<i64>1 << (bits - 1)) - 1) return <T>v;
      } else {
        if (v >= 0 && v <= (<i64>1 << bits) - 1) return <T>v;
      }
    }
  }
  rawLen = 0;
  return <T>0;
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

/**
 * Writes MessagePack into a growable buffer. Methods chain:
 * `new Encoder().mapHeader(1).str("next").pid(p).finish()`.
 * Headers only write the count: the caller writes that many items
 * (arrays) or key/value pairs (maps) after them.
 */
export class Encoder {
  private buf: Uint8Array;
  // buf's address and length, kept as plain fields: the hot paths read no managed reference.
  private base: usize;
  private cap: i32;
  private pos: i32 = 0;

  constructor(capacity: i32 = 64) {
    const buf = new Uint8Array(capacity > 8 ? capacity : 8);
    this.buf = buf;
    this.base = buf.dataStart;
    this.cap = buf.length;
  }

  /** Number of bytes written so far. */
  // @ts-ignore: decorator
  @inline get length(): i32 {
    return this.pos;
  }

  /** Address of the first byte written (valid until the next write). */
  // @ts-ignore: decorator
  @inline get ptr(): usize {
    return this.base;
  }

  /** Forgets what was written; drops a buffer that grew past 64 KiB. */
  reset(): Encoder {
    this.pos = 0;
    if (this.cap > 65536) this.use(new Uint8Array(256));
    return this;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.pos);
    memory.copy(out.dataStart, this.base, <usize>this.pos);
    return out;
  }

  private use(buf: Uint8Array): void {
    this.buf = buf;
    this.base = buf.dataStart;
    this.cap = buf.length;
  }

  // The address of the next byte, with room for n more (the caller advances pos).
  // @ts-ignore: decorator
  @inline private room(n: i32): usize {
    if (n > this.cap - this.pos) this.grow(n);
    return this.base + <usize>this.pos;
  }

  private grow(n: i32): void {
    const need = this.pos + n;
    let cap = this.cap;
    while (cap < need) cap = cap < 0x40000000 ? cap << 1 : need;
    const grown = new Uint8Array(cap);
    memory.copy(grown.dataStart, this.base, <usize>this.pos);
    this.use(grown);
  }

  // @ts-ignore: decorator
  @inline private byte(b: u32): void {
    store<u8>(this.room(1), <u8>b);
    this.pos += 1;
  }

  private byteU16(b: u32, v: u32): void {
    const p = this.room(3);
    store<u8>(p, <u8>b);
    store<u16>(p + 1, bswap<u16>(<u16>v));
    this.pos += 3;
  }

  private byteU32(b: u32, v: u32): void {
    const p = this.room(5);
    store<u8>(p, <u8>b);
    store<u32>(p + 1, bswap<u32>(v));
    this.pos += 5;
  }

  private copyIn(src: usize, n: i32): void {
    if (n > 0) {
      memory.copy(this.room(n), src, <usize>n);
      this.pos += n;
    }
  }

  nil(): Encoder {
    this.byte(0xc0);
    return this;
  }

  bool(v: bool): Encoder {
    this.byte(v ? 0xc3 : 0xc2);
    return this;
  }

  /** A signed integer in its smallest form (non-negative ones as unsigned). */
  int(v: i64): Encoder {
    this.pos += putInt(this.room(9), v);
    return this;
  }

  /** An unsigned integer in its smallest form. */
  uint(v: u64): Encoder {
    this.pos += putUint(this.room(9), v);
    return this;
  }

  f32(v: f32): Encoder {
    this.pos += putScalar<f32>(this.room(5), v);
    return this;
  }

  f64(v: f64): Encoder {
    this.pos += putScalar<f64>(this.room(9), v);
    return this;
  }

  /** A string, as UTF-8 (unpaired surrogates become U+FFFD). */
  str(s: string): Encoder {
    const len = s.length;
    if (len <= PUT_STR_MAX_UNITS) {
      this.pos += putStr(this.room(putStrRoom(len)), s);
      return this;
    }
    const n = String.UTF8.byteLength(s);
    const p = this.room(5 + n);
    const h = putStrHeader(p, n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), len, p + <usize>h, false, String.UTF8.ErrorMode.REPLACE);
    this.pos += h + n;
    return this;
  }

  /** The header of a str of `n` bytes; write the bytes with `raw`. */
  strHeader(n: i32): Encoder {
    this.pos += putStrHeader(this.room(5), n);
    return this;
  }

  bin(b: Uint8Array): Encoder {
    const n = b.length;
    this.binHeader(n);
    this.copyIn(b.dataStart, n);
    return this;
  }

  /** The header of a bin of `n` bytes; write the bytes with `raw`. */
  binHeader(n: i32): Encoder {
    if (n < 256) {
      store<u16>(this.room(2), <u16>0xc4 | <u16>(<u16>n << 8));
      this.pos += 2;
    } else if (n < 65536) this.byteU16(0xc5, <u32>n);
    else this.byteU32(0xc6, <u32>n);
    return this;
  }

  /** Starts an array of `n` items. */
  arrayHeader(n: i32): Encoder {
    if (n < 16) this.byte(0x90 | <u32>n);
    else if (n < 65536) this.byteU16(0xdc, <u32>n);
    else this.byteU32(0xdd, <u32>n);
    return this;
  }

  /** Starts a map of `n` key/value pairs. */
  mapHeader(n: i32): Encoder {
    if (n < 16) this.byte(0x80 | <u32>n);
    else if (n < 65536) this.byteU16(0xde, <u32>n);
    else this.byteU32(0xdf, <u32>n);
    return this;
  }

  /** A pid: extension type 1, 4 bytes big-endian. */
  pid(p: i32): Encoder {
    const at = this.room(6);
    store<u16>(at, <u16>0xd6 | <u16>(<u16><u8>EXT_PID << 8));
    store<u32>(at + 2, bswap<u32>(<u32>p));
    this.pos += 6;
    return this;
  }

  /** An extension value of any type. */
  ext(type: i8, data: Uint8Array): Encoder {
    const n = data.length;
    if (n == 1) this.byte(0xd4);
    else if (n == 2) this.byte(0xd5);
    else if (n == 4) this.byte(0xd6);
    else if (n == 8) this.byte(0xd7);
    else if (n == 16) this.byte(0xd8);
    else if (n < 256) {
      store<u16>(this.room(2), <u16>0xc7 | <u16>(<u16>n << 8));
      this.pos += 2;
    } else if (n < 65536) this.byteU16(0xc8, <u32>n);
    else this.byteU32(0xc9, <u32>n);
    this.byte(<u32><u8>type);
    this.copyIn(data.dataStart, n);
    return this;
  }

  /** Bytes copied as they are: an already encoded value, or a str/bin body. */
  raw(bytes: Uint8Array): Encoder {
    this.copyIn(bytes.dataStart, bytes.length);
    return this;
  }

  /** Bytes already encoded, the `n` at address `ptr` (unsafe: they must be allocated memory). */
  rawAt(ptr: usize, n: i32): Encoder {
    this.copyIn(ptr, n);
    return this;
  }

  /** A dynamic value, recursively. */
  value(v: Value): Encoder {
    switch (v.kind) {
      case ValueKind.NIL: return this.nil();
      case ValueKind.BOOL: return this.bool(v.i != 0);
      case ValueKind.INT: return this.int(v.i);
      case ValueKind.UINT: return this.uint(<u64>v.i);
      case ValueKind.F32: return this.f32(<f32>v.f);
      case ValueKind.F64: return this.f64(v.f);
      case ValueKind.STR: return this.str(v.s);
      case ValueKind.BIN: return this.bin(v.bytes());
      case ValueKind.PID: return this.pid(<i32>v.i);
      case ValueKind.EXT: return this.ext(<i8>v.i, v.bytes());
      case ValueKind.ARRAY: {
        const items = v.list();
        const n = items.length;
        this.arrayHeader(n);
        for (let i = 0; i < n; i++) this.value(unchecked(items[i]));
        return this;
      }
      case ValueKind.MAP: {
        const keys = v.keyList();
        const vals = v.list();
        const n = keys.length;
        this.mapHeader(n);
        for (let i = 0; i < n; i++) {
          this.value(unchecked(keys[i]));
          this.value(unchecked(vals[i]));
        }
        return this;
      }
    }
    return this.nil();
  }
}

// ---------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------

/**
 * Reads MessagePack from bytes. Reads consume one value each; on a type
 * mismatch or malformed input they consume nothing, set `error` and return a
 * default (see the top of this file).
 */
export class Decoder {
  private buf: Uint8Array;
  private base: usize;
  /** Offset of the next value. */
  pos: i32;
  /** End offset (exclusive). */
  end: i32;
  /** Set by the first failed read; reads fail from then on. */
  error: bool = false;

  // Results of `number()`.
  private ival: i64 = 0;
  private fval: f64 = 0;
  // Result of `header(MsgType.EXT)`.
  private extType: i8 = 0;

  /** Reads `bytes[0 .. len)` (`len` -1: all of them). */
  constructor(bytes: Uint8Array, len: i32 = -1) {
    this.buf = bytes;
    this.base = bytes.dataStart;
    this.pos = 0;
    this.end = len < 0 || len > bytes.length ? bytes.length : len;
  }

  /** Starts over on other bytes (for reusing one Decoder). */
  reset(bytes: Uint8Array, len: i32 = -1): Decoder {
    this.buf = bytes;
    this.base = bytes.dataStart;
    this.pos = 0;
    this.end = len < 0 || len > bytes.length ? bytes.length : len;
    this.error = false;
    return this;
  }

  /**
   * Starts over on the `len` bytes at address `ptr`, without a copy. Unsafe:
   * the memory must stay allocated and unchanged while this Decoder reads it
   * (static data, `heap.alloc` memory, or a buffer the caller keeps alive).
   */
  resetPtr(ptr: usize, len: i32): Decoder {
    this.base = ptr;
    this.pos = 0;
    this.end = len < 0 ? 0 : len;
    this.error = false;
    return this;
  }

  /** No read has failed. */
  // @ts-ignore: decorator
  @inline get ok(): bool {
    return !this.error;
  }

  /** Bytes left. */
  // @ts-ignore: decorator
  @inline get remaining(): i32 {
    return this.end - this.pos;
  }

  /** All bytes consumed (and no error). */
  // @ts-ignore: decorator
  @inline get done(): bool {
    return !this.error && this.pos == this.end;
  }

  /** Marks the decoder as failed (e.g. when a value is of the wrong shape). */
  // @ts-ignore: decorator
  @inline fail(): void {
    this.error = true;
  }

  // @ts-ignore: decorator
  @inline private has(n: i64): bool {
    if (this.error) return false;
    if (n > <i64>(this.end - this.pos)) {
      this.error = true;
      return false;
    }
    return true;
  }

  // @ts-ignore: decorator
  @inline private at(off: i32): usize {
    return this.base + <usize>(this.pos + off);
  }

  // @ts-ignore: decorator
  @inline private u8(off: i32): u32 {
    return <u32>load<u8>(this.at(off));
  }

  // @ts-ignore: decorator
  @inline private u16(off: i32): u32 {
    return <u32>bswap<u16>(load<u16>(this.at(off)));
  }

  // @ts-ignore: decorator
  @inline private u32(off: i32): u32 {
    return bswap<u32>(load<u32>(this.at(off)));
  }

  // @ts-ignore: decorator
  @inline private u64(off: i32): u64 {
    return bswap<u64>(load<u64>(this.at(off)));
  }

  /**
   * A bool, integer or float read as `decodeFrom<T>` reads it (integers range
   * checked for T); on a mismatch: error set, nothing consumed, 0 or false.
   */
  // @ts-ignore: decorator
  @inline readScalar<T>(): T {
    if (this.error) return <T>0;
    const v = readScalarAt<T>(this.base + <usize>this.pos, this.end - this.pos);
    if (rawLen == 0) {
      this.error = true;
      return <T>0;
    }
    this.pos += rawLen;
    return v;
  }

  /** The type of the next value, without consuming it. */
  peekType(): MsgType {
    if (this.error || this.pos >= this.end) return MsgType.END;
    const b = this.u8(0);
    if (b <= 0x7f || b >= 0xe0) return MsgType.INT;
    if (b <= 0x8f) return MsgType.MAP;
    if (b <= 0x9f) return MsgType.ARRAY;
    if (b <= 0xbf) return MsgType.STR;
    switch (b) {
      case 0xc0: return MsgType.NIL;
      case 0xc2: case 0xc3: return MsgType.BOOL;
      case 0xc4: case 0xc5: case 0xc6: return MsgType.BIN;
      case 0xc7: case 0xc8: case 0xc9: return MsgType.EXT;
      case 0xca: case 0xcb: return MsgType.FLOAT;
      case 0xcc: case 0xcd: case 0xce: case 0xcf:
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: return MsgType.INT;
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return MsgType.EXT;
      case 0xd9: case 0xda: case 0xdb: return MsgType.STR;
      case 0xdc: case 0xdd: return MsgType.ARRAY;
      case 0xde: case 0xdf: return MsgType.MAP;
    }
    return MsgType.INVALID;
  }

  /** The next value is nil (nothing is consumed). */
  isNil(): bool {
    return !this.error && this.pos < this.end && this.u8(0) == 0xc0;
  }

  /** The next value is a pid (nothing is consumed). */
  isPid(): bool {
    if (this.error || this.end - this.pos < 6) return false;
    const b = this.u8(0);
    if (b == 0xd6) return <i8>this.u8(1) == EXT_PID;
    return b == 0xc7 && this.u8(1) == 4 && <i8>this.u8(2) == EXT_PID && this.end - this.pos >= 7;
  }

  /** Consumes a nil and returns true; anything else: false, nothing consumed, no error. */
  readNil(): bool {
    if (this.isNil()) {
      this.pos++;
      return true;
    }
    return false;
  }

  readBool(): bool {
    return this.readScalar<bool>();
  }

  // Reads a number: 1 = integer in ival, 2 = unsigned above i64.MAX (bits in
  // ival), 3 = float in fval, 0 = not a number (error set, nothing consumed).
  private number(): i32 {
    if (this.error) return 0;
    const r = numberAt(this.base + <usize>this.pos, this.end - this.pos);
    if (r == 0) {
      this.error = true;
      return 0;
    }
    this.ival = numI;
    this.fval = numF;
    this.pos += rawLen;
    return r;
  }

  /**
   * A signed integer. Accepts every integer format, and floats with an
   * integral value in range (the host sends integers beyond 32 bits as
   * float64).
   */
  readI64(): i64 {
    return this.readScalar<i64>();
  }

  /** An unsigned integer (also integral non-negative floats in range). */
  readU64(): u64 {
    return this.readScalar<u64>();
  }

  /** An integer in i32 range (also an integral float in range). */
  readI32(): i32 {
    return this.readScalar<i32>();
  }

  /** An integer in u32 range. */
  readU32(): u32 {
    return this.readScalar<u32>();
  }

  /** An integer in [lo, hi]; out of range: error. */
  readIntIn(lo: i64, hi: i64): i64 {
    const start = this.pos;
    const v = this.readI64();
    if (this.error) return 0;
    if (v < lo || v > hi) {
      this.pos = start;
      this.error = true;
      return 0;
    }
    return v;
  }

  /** Any number, as f64 (integers are converted). */
  readF64(): f64 {
    return this.readScalar<f64>();
  }

  readF32(): f32 {
    return this.readScalar<f32>();
  }

  // Length of a str/bin/array/map/ext header at pos: sets `n` via return
  // (-1: not that type or truncated; error set), advances past the header.
  private header(kind: MsgType): i64 {
    if (this.error) return -1;
    // Bytes left. A header cut short leaves len at -1: an error below.
    const avail = this.end - this.pos;
    if (avail < 1) {
      this.error = true;
      return -1;
    }
    const b = this.u8(0);
    let len: i64 = -1;
    let h = 1;
    if (kind == MsgType.STR) {
      if (b >= 0xa0 && b <= 0xbf) len = <i64>(b & 0x1f);
      else if (b == 0xd9 && avail >= 2) { len = <i64>this.u8(1); h = 2; }
      else if (b == 0xda && avail >= 3) { len = <i64>this.u16(1); h = 3; }
      else if (b == 0xdb && avail >= 5) { len = <i64>this.u32(1); h = 5; }
    } else if (kind == MsgType.BIN) {
      if (b == 0xc4 && avail >= 2) { len = <i64>this.u8(1); h = 2; }
      else if (b == 0xc5 && avail >= 3) { len = <i64>this.u16(1); h = 3; }
      else if (b == 0xc6 && avail >= 5) { len = <i64>this.u32(1); h = 5; }
    } else if (kind == MsgType.ARRAY) {
      if (b >= 0x90 && b <= 0x9f) len = <i64>(b & 0x0f);
      else if (b == 0xdc && avail >= 3) { len = <i64>this.u16(1); h = 3; }
      else if (b == 0xdd && avail >= 5) { len = <i64>this.u32(1); h = 5; }
    } else if (kind == MsgType.MAP) {
      if (b >= 0x80 && b <= 0x8f) len = <i64>(b & 0x0f);
      else if (b == 0xde && avail >= 3) { len = <i64>this.u16(1); h = 3; }
      else if (b == 0xdf && avail >= 5) { len = <i64>this.u32(1); h = 5; }
    } else if (kind == MsgType.EXT) {
      if (b >= 0xd4 && b <= 0xd8) {
        if (avail >= 2) { len = <i64>1 << <i64>(b - 0xd4); this.extType = <i8>this.u8(1); h = 2; }
      }
      else if (b == 0xc7 && avail >= 3) { len = <i64>this.u8(1); this.extType = <i8>this.u8(2); h = 3; }
      else if (b == 0xc8 && avail >= 4) { len = <i64>this.u16(1); this.extType = <i8>this.u8(3); h = 4; }
      else if (b == 0xc9 && avail >= 6) { len = <i64>this.u32(1); this.extType = <i8>this.u8(5); h = 6; }
    }
    if (len < 0) {
      this.error = true;
      return -1;
    }
    // The body must be there: bytes for str/bin/ext, at least one byte per
    // item for arrays and maps.
    let body = len;
    if (kind == MsgType.MAP) body = len * 2;
    if (<i64>h + body > <i64>avail) {
      this.error = true;
      return -1;
    }
    this.pos += h;
    return len;
  }

  /** A str. */
  readString(): string {
    if (this.error) return "";
    const s = strAt(this.at(0), this.end - this.pos);
    if (rawLen == 0) {
      this.error = true;
      return "";
    }
    this.pos += rawLen;
    return s;
  }

  /**
   * The UTF-8 bytes of a str, in place (no copy, no decode): their address,
   * their length in `lastLength`. 0 (and `error`) when the next value is not
   * a str. The address is valid while the bytes read are.
   */
  readStringPtr(): usize {
    lastStringLength = 0;
    if (this.error) return 0;
    const n = <i32>this.header(MsgType.STR);
    if (n < 0 || n > this.end - this.pos) {
      this.error = true;
      return 0;
    }
    const p = this.at(0);
    this.pos += n;
    lastStringLength = n;
    return p;
  }

  /** The length of what `readStringPtr` read last (of any Decoder). */
  get lastLength(): i32 {
    return lastStringLength;
  }

  /** The next value is a str equal to `s` (nothing is consumed). */
  isString(s: string): bool {
    if (this.peekType() != MsgType.STR) return false;
    const start = this.pos;
    const got = this.readString();
    this.pos = start;
    return !this.error && got == s;
  }

  /** A bin, copied. */
  readBin(): Uint8Array {
    const n = <i32>this.header(MsgType.BIN);
    if (n < 0) return new Uint8Array(0);
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.at(0), <usize>n);
    this.pos += n;
    return out;
  }

  /** The header of an array: its number of items, or -1. */
  readArrayHeader(): i32 {
    return <i32>this.header(MsgType.ARRAY);
  }

  /** The header of a map: its number of key/value pairs, or -1. */
  readMapHeader(): i32 {
    return <i32>this.header(MsgType.MAP);
  }

  /** The header of an extension value: its data length (read the type with `lastExtType`), or -1. */
  readExtHeader(): i32 {
    return <i32>this.header(MsgType.EXT);
  }

  /** The type of the extension whose header was read last. */
  get lastExtType(): i8 {
    return this.extType;
  }

  /** `n` bytes as they are (e.g. the body after `readExtHeader`). */
  readRawBytes(n: i32): Uint8Array {
    if (n < 0 || !this.has(n)) {
      this.error = true;
      return new Uint8Array(0);
    }
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.at(0), <usize>n);
    this.pos += n;
    return out;
  }

  /** A pid: extension type 1 with 4 bytes, or (leniently) an integer in 0..i32.MAX. */
  readPid(): i32 {
    if (this.isPid()) {
      const h = this.u8(0) == 0xd6 ? 2 : 3;
      const p = <i32>this.u32(h);
      this.pos += h + 4;
      return p;
    }
    if (this.peekType() == MsgType.INT) return <i32>this.readIntIn(0, i32.MAX_VALUE);
    this.error = true;
    return 0;
  }

  /** Skips one value (however nested). */
  skip(): void {
    const start = this.pos;
    let pending: i64 = 1;
    while (pending > 0 && !this.error) {
      pending--;
      const t = this.peekType();
      switch (t) {
        case MsgType.NIL: case MsgType.BOOL: this.pos++; break;
        case MsgType.INT: case MsgType.FLOAT: this.number(); break;
        case MsgType.STR: { const n = this.header(MsgType.STR); if (n >= 0) this.pos += <i32>n; break; }
        case MsgType.BIN: { const n = this.header(MsgType.BIN); if (n >= 0) this.pos += <i32>n; break; }
        case MsgType.EXT: { const n = this.header(MsgType.EXT); if (n >= 0) this.pos += <i32>n; break; }
        case MsgType.ARRAY: { const n = this.header(MsgType.ARRAY); if (n >= 0) pending += n; break; }
        case MsgType.MAP: { const n = this.header(MsgType.MAP); if (n >= 0) pending += n * 2; break; }
        default: this.error = true;
      }
    }
    if (this.error) this.pos = start;
  }

  /** The encoded bytes of the next value, copied (skips it). */
  readRaw(): Uint8Array {
    const start = this.pos;
    this.skip();
    if (this.error) return new Uint8Array(0);
    const n = this.pos - start;
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.base + <usize>start, <usize>n);
    return out;
  }

  /** The next value as a dynamic Value (a nil Value on error). */
  readValue(): Value {
    return this.valueAt(0);
  }

  private valueAt(depth: i32): Value {
    if (depth > MAX_DEPTH) {
      this.error = true;
      return new Value(ValueKind.NIL);
    }
    const t = this.peekType();
    switch (t) {
      case MsgType.NIL: this.pos++; return new Value(ValueKind.NIL);
      case MsgType.BOOL: return Value.bool(this.readBool());
      case MsgType.INT: {
        const r = this.number();
        const v = new Value(r == 2 ? ValueKind.UINT : ValueKind.INT);
        v.i = this.ival;
        return v;
      }
      case MsgType.FLOAT: {
        const isF32 = this.u8(0) == 0xca;
        const f = this.readF64();
        return isF32 ? Value.f32(<f32>f) : Value.f64(f);
      }
      case MsgType.STR: return Value.str(this.readString());
      case MsgType.BIN: return Value.bin(this.readBin());
      case MsgType.EXT: {
        if (this.isPid()) return Value.pid(this.readPid());
        const n = this.readExtHeader();
        if (n < 0) break;
        return Value.ext(this.extType, this.readRawBytes(n));
      }
      case MsgType.ARRAY: {
        const n = this.readArrayHeader();
        if (n < 0) break;
        const v = Value.array();
        const items = v.list();
        for (let i = 0; i < n && !this.error; i++) items.push(this.valueAt(depth + 1));
        return v;
      }
      case MsgType.MAP: {
        const n = this.readMapHeader();
        if (n < 0) break;
        const v = Value.map();
        const keys = v.keyList();
        const vals = v.list();
        for (let i = 0; i < n && !this.error; i++) {
          keys.push(this.valueAt(depth + 1));
          vals.push(this.valueAt(depth + 1));
        }
        return v;
      }
      default: this.error = true;
    }
    return new Value(ValueKind.NIL);
  }
}

// ---------------------------------------------------------------------------
// Value
// ---------------------------------------------------------------------------

/**
 * A dynamic MessagePack value. Build with the static constructors
 * (`Value.map().set("n", Value.int(3))`), read with `get`/`at` and the `as*`
 * accessors. Accessors of the wrong kind return a default (0, false, "",
 * empty bytes, a nil Value) rather than trapping; check `kind` when it matters.
 */
export class Value {
  kind: ValueKind;
  /** BOOL (0/1), INT, UINT (bits), PID, EXT (its type). */
  i: i64 = 0;
  /** F32, F64. */
  f: f64 = 0;
  /** STR. */
  s: string = "";
  /** BIN and EXT data. */
  b: Uint8Array | null = null;
  /** ARRAY items; MAP values. */
  items: Array<Value> | null = null;
  /** MAP keys (same order as `items`). */
  keys: Array<Value> | null = null;

  constructor(kind: ValueKind) {
    this.kind = kind;
  }

  static nil(): Value {
    return new Value(ValueKind.NIL);
  }
  static bool(b: bool): Value {
    const v = new Value(ValueKind.BOOL);
    v.i = b ? 1 : 0;
    return v;
  }
  static int(n: i64): Value {
    const v = new Value(ValueKind.INT);
    v.i = n;
    return v;
  }
  static uint(n: u64): Value {
    const v = new Value(n > <u64>i64.MAX_VALUE ? ValueKind.UINT : ValueKind.INT);
    v.i = <i64>n;
    return v;
  }
  static f32(x: f32): Value {
    const v = new Value(ValueKind.F32);
    v.f = <f64>x;
    return v;
  }
  static f64(x: f64): Value {
    const v = new Value(ValueKind.F64);
    v.f = x;
    return v;
  }
  static str(s: string): Value {
    const v = new Value(ValueKind.STR);
    v.s = s;
    return v;
  }
  static bin(b: Uint8Array): Value {
    const v = new Value(ValueKind.BIN);
    v.b = b;
    return v;
  }
  static pid(p: i32): Value {
    const v = new Value(ValueKind.PID);
    v.i = <i64>p;
    return v;
  }
  static ext(type: i8, data: Uint8Array): Value {
    const v = new Value(ValueKind.EXT);
    v.i = <i64>type;
    v.b = data;
    return v;
  }
  static array(): Value {
    const v = new Value(ValueKind.ARRAY);
    v.items = new Array<Value>();
    return v;
  }
  static map(): Value {
    const v = new Value(ValueKind.MAP);
    v.items = new Array<Value>();
    v.keys = new Array<Value>();
    return v;
  }

  get isNil(): bool { return this.kind == ValueKind.NIL; }
  get isBool(): bool { return this.kind == ValueKind.BOOL; }
  /** INT or UINT. */
  get isInt(): bool { return this.kind == ValueKind.INT || this.kind == ValueKind.UINT; }
  /** F32 or F64. */
  get isFloat(): bool { return this.kind == ValueKind.F32 || this.kind == ValueKind.F64; }
  get isString(): bool { return this.kind == ValueKind.STR; }
  get isBin(): bool { return this.kind == ValueKind.BIN; }
  get isArray(): bool { return this.kind == ValueKind.ARRAY; }
  get isMap(): bool { return this.kind == ValueKind.MAP; }
  get isPid(): bool { return this.kind == ValueKind.PID; }

  /** Array items or map values (an empty list for other kinds). */
  list(): Array<Value> {
    const items = this.items;
    if (items == null) return new Array<Value>();
    return items;
  }

  /** Map keys (an empty list for other kinds). */
  keyList(): Array<Value> {
    const keys = this.keys;
    if (keys == null) return new Array<Value>();
    return keys;
  }

  /** Items of an array, pairs of a map, bytes of a str/bin; 0 otherwise. */
  get length(): i32 {
    if (this.kind == ValueKind.ARRAY || this.kind == ValueKind.MAP) return this.list().length;
    if (this.kind == ValueKind.BIN) return this.bytes().length;
    if (this.kind == ValueKind.STR) return String.UTF8.byteLength(this.s);
    return 0;
  }

  /** Integer value: INT, UINT (bits), PID, BOOL; floats truncated; 0 otherwise. */
  asI64(): i64 {
    switch (this.kind) {
      case ValueKind.INT: case ValueKind.UINT: case ValueKind.PID: case ValueKind.BOOL: return this.i;
      case ValueKind.F32: case ValueKind.F64: return <i64>this.f;
    }
    return 0;
  }

  asI32(): i32 {
    return <i32>this.asI64();
  }

  asU64(): u64 {
    return <u64>this.asI64();
  }

  asF64(): f64 {
    switch (this.kind) {
      case ValueKind.INT: case ValueKind.PID: return <f64>this.i;
      case ValueKind.UINT: return <f64><u64>this.i;
      case ValueKind.F32: case ValueKind.F64: return this.f;
    }
    return 0;
  }

  asBool(): bool {
    return this.kind == ValueKind.BOOL && this.i != 0;
  }

  asString(): string {
    return this.kind == ValueKind.STR ? this.s : "";
  }

  /** BIN or EXT data (the same array, not a copy); empty otherwise. */
  bytes(): Uint8Array {
    const b = this.b;
    if (b == null) return new Uint8Array(0);
    return b;
  }

  /** A pid (also a plain non-negative integer); 0 otherwise. */
  asPid(): i32 {
    if (this.kind == ValueKind.PID) return <i32>this.i;
    if (this.kind == ValueKind.INT && this.i >= 0 && this.i <= <i64>i32.MAX_VALUE) return <i32>this.i;
    return 0;
  }

  /** Array item `i` (a nil Value when out of range or not an array). */
  at(i: i32): Value {
    if (this.kind != ValueKind.ARRAY) return new Value(ValueKind.NIL);
    const items = this.list();
    if (i < 0 || i >= items.length) return new Value(ValueKind.NIL);
    return unchecked(items[i]);
  }

  private indexOf(key: string): i32 {
    if (this.kind != ValueKind.MAP) return -1;
    const keys = this.keyList();
    for (let i = 0, n = keys.length; i < n; i++) {
      const k = unchecked(keys[i]);
      if (k.kind == ValueKind.STR && k.s == key) return i;
    }
    return -1;
  }

  /** The map has a string key `key`. */
  has(key: string): bool {
    return this.indexOf(key) >= 0;
  }

  /** Map value under the string key `key` (a nil Value when missing). */
  get(key: string): Value {
    const i = this.indexOf(key);
    if (i < 0) return new Value(ValueKind.NIL);
    return unchecked(this.list()[i]);
  }

  /** Sets a string key of a map (replacing it if present); returns this. No-op on other kinds. */
  set(key: string, v: Value): Value {
    if (this.kind != ValueKind.MAP) return this;
    const i = this.indexOf(key);
    if (i >= 0) this.list()[i] = v;
    else {
      this.keyList().push(Value.str(key));
      this.list().push(v);
    }
    return this;
  }

  /** Appends to an array; returns this. No-op on other kinds. */
  push(v: Value): Value {
    if (this.kind == ValueKind.ARRAY) this.list().push(v);
    return this;
  }

  /** The MessagePack encoding of this value. */
  encode(): Uint8Array {
    return new Encoder().value(this).finish();
  }
}

// ---------------------------------------------------------------------------
// Typed helpers
// ---------------------------------------------------------------------------

/**
 * Writes `value` with the encoding its static type calls for:
 * bool -> bool; signed integers -> int; unsigned -> uint; f32 -> float32;
 * f64 -> float64; string -> str; Uint8Array -> bin; Value -> as it is;
 * Array<X> -> array of X; null (nullable types) -> nil.
 * Pids are plain i32 here: encode them with `Encoder.pid` or `Value.pid`.
 */
export function encodeInto<T>(e: Encoder, value: T): void {
  if (isBoolean<T>()) {
    e.bool(<bool>value);
  } else if (isInteger<T>()) {
    if (isSigned<T>()) e.int(<i64>value);
    else e.uint(<u64>value);
  } else if (isFloat<T>()) {
    if (sizeof<T>() == 4) e.f32(<f32>value);
    else e.f64(<f64>value);
  } else if (isString<T>()) {
    if (isNullable<T>()) {
      if (changetype<usize>(value) == 0) {
        e.nil();
        return;
      }
    }
    e.str(changetype<string>(value));
  } else if (isReference<T>()) {
    if (isNullable<T>()) {
      if (changetype<usize>(value) == 0) {
        e.nil();
        return;
      }
    }
    if (idof<NonNullable<T>>() == idof<Uint8Array>()) {
      e.bin(changetype<Uint8Array>(value));
    } else if (idof<NonNullable<T>>() == idof<Value>()) {
      e.value(changetype<Value>(value));
    } else if (isArray<T>()) {
      const arr = changetype<NonNullable<T>>(value);
      const n = arr.length;
      e.arrayHeader(n);
      for (let i = 0; i < n; i++) encodeInto<valueof<NonNullable<T>>>(e, unchecked(arr[i]));
    } else {
      ERROR("msgpack: unsupported type for encode<T> (use Encoder or Value)");
    }
  } else {
    ERROR("msgpack: unsupported type for encode<T>");
  }
}

/** The MessagePack encoding of `value` (see `encodeInto`). */
export function encode<T>(value: T): Uint8Array {
  const e = new Encoder();
  encodeInto<T>(e, value);
  return e.finish();
}

/**
 * Reads a value of type T (the reverse of `encodeInto`). Integers are range
 * checked for T; floats accept any number. On a mismatch `d.error` is set and
 * a default is returned (0, false, "", an empty Uint8Array or Array, a nil
 * Value, or null for nullable types).
 */
export function decodeFrom<T>(d: Decoder): T {
  if (isBoolean<T>() || isInteger<T>() || isFloat<T>()) {
    return d.readScalar<T>();
  } else if (isString<T>()) {
    if (isNullable<T>()) {
      if (d.readNil()) return changetype<T>(0);
      const s = d.readString();
      if (d.error) return changetype<T>(0);
      return changetype<T>(s);
    }
    return changetype<T>(d.readString());
  } else if (isReference<T>()) {
    if (isNullable<T>()) {
      if (d.readNil()) return changetype<T>(0);
    }
    if (idof<NonNullable<T>>() == idof<Uint8Array>()) {
      const b = d.readBin();
      if (isNullable<T>()) {
        if (d.error) return changetype<T>(0);
      }
      return changetype<T>(b);
    } else if (idof<NonNullable<T>>() == idof<Value>()) {
      return changetype<T>(d.readValue());
    } else if (isArray<T>()) {
      const arr = instantiate<NonNullable<T>>();
      const n = d.readArrayHeader();
      for (let i = 0; i < n && !d.error; i++) arr.push(decodeFrom<valueof<NonNullable<T>>>(d));
      if (isNullable<T>()) {
        if (d.error) return changetype<T>(0);
      }
      return changetype<T>(arr);
    } else {
      ERROR("msgpack: unsupported type for decode<T> (use Decoder or Value)");
    }
  } else {
    ERROR("msgpack: unsupported type for decode<T>");
  }
}

/**
 * Decodes all of `bytes` as a T. Returns the default of `decodeFrom` when the
 * bytes are not a T or have trailing bytes; `decodeOk()` tells which.
 */
export function decode<T>(bytes: Uint8Array): T {
  const d = new Decoder(bytes);
  const v = decodeFrom<T>(d);
  if (!d.error && d.pos != d.end) d.fail();
  lastDecodeOk = !d.error;
  return v;
}

let lastDecodeOk: bool = true;

/** Whether the last `decode<T>` succeeded. */
export function decodeOk(): bool {
  return lastDecodeOk;
}
