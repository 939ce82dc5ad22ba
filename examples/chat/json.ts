// JSON text for the chat's actors: they build the frames the server writes
// to the WebSockets as they are (the server parses only what clients send).

/** `s` as a JSON string literal, quotes included. */
export function quote(s: string): string {
  let clean = true;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c == 0x22 || c == 0x5c) {
      clean = false;
      break;
    }
  }
  if (clean) return '"' + s + '"';
  const parts = new Array<string>();
  let start = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > start) parts.push(s.substring(start, i));
    if (c == 0x22) parts.push('\\"');
    else if (c == 0x5c) parts.push("\\\\");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else parts.push("\\u00" + (c < 0x10 ? "0" : "1") + "0123456789abcdef".charAt(c & 15));
    start = i + 1;
  }
  if (start < s.length) parts.push(s.substring(start));
  return '"' + parts.join("") + '"';
}

/** `,"ref":"..."` when the request had a ref, else nothing. */
export function refField(ref: string): string {
  return ref.length == 0 ? "" : ',"ref":' + quote(ref);
}

/** An error frame for one client. */
export function errorFrame(code: string, message: string, room: string, ref: string): string {
  let s = '{"type":"error","code":' + quote(code) + ',"message":' + quote(message);
  if (room.length > 0) s += ',"room":' + quote(room);
  return s + refField(ref) + "}";
}

/** A JSON array of strings. */
export function stringArray(items: Array<string>): string {
  const parts = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) parts[i] = quote(items[i]);
  return "[" + parts.join(",") + "]";
}

/** UTF-8 bytes of a frame (what the actors send the server). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/**
 * JSON text written as UTF-8 bytes into a buffer that grows (a room builds
 * each message's frame so, without strings: its hot path).
 */
export class JsonBytes {
  buf: Uint8Array;
  len: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): JsonBytes {
    this.len = 0;
    return this;
  }

  get ptr(): usize {
    return this.buf.dataStart;
  }

  private room(n: i32): usize {
    const need = this.len + n;
    if (need > this.buf.length) {
      let cap = this.buf.length << 1;
      while (cap < need) cap <<= 1;
      const b = new Uint8Array(cap);
      memory.copy(b.dataStart, this.buf.dataStart, <usize>this.len);
      this.buf = b;
    }
    return this.buf.dataStart + <usize>this.len;
  }

  /** Bytes as they are (JSON text already). */
  raw(p: usize, n: i32): JsonBytes {
    memory.copy(this.room(n), p, <usize>n);
    this.len += n;
    return this;
  }

  bytes(b: Uint8Array): JsonBytes {
    return this.raw(b.dataStart, b.length);
  }

  byte(c: u8): JsonBytes {
    store<u8>(this.room(1), c);
    this.len++;
    return this;
  }

  /** A non-negative integer, in decimal. */
  int(v: i64): JsonBytes {
    if (v < 0) v = 0;
    let digits = 1;
    for (let x = v; x >= 10; x /= 10) digits++;
    const q = this.room(digits);
    for (let i = digits - 1; i >= 0; i--) {
      store<u8>(q + <usize>i, <u8>(0x30 + <i32>(v % 10)));
      v /= 10;
    }
    this.len += digits;
    return this;
  }

  /** The `n` bytes of UTF-8 at `p` as a JSON string, quotes included. */
  str(p: usize, n: i32): JsonBytes {
    this.byte(0x22);
    let start: i32 = 0;
    for (let i: i32 = 0; i < n; i++) {
      const c = load<u8>(p + <usize>i);
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      if (i > start) this.raw(p + <usize>start, i - start);
      this.byte(0x5c);
      if (c == 0x22 || c == 0x5c) this.byte(c);
      else if (c == 0x0a) this.byte(0x6e);
      else if (c == 0x0d) this.byte(0x72);
      else if (c == 0x09) this.byte(0x74);
      else this.byte(0x75).byte(0x30).byte(0x30).byte(c < 0x10 ? 0x30 : 0x31).byte(load<u8>(HEX + <usize>(c & 15)));
      start = i + 1;
    }
    if (n > start) this.raw(p + <usize>start, n - start);
    return this.byte(0x22);
  }

  /** A copy of what was written. */
  copy(): Uint8Array {
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, this.buf.dataStart, <usize>this.len);
    return out;
  }
}

const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
