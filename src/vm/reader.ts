/**
 * Byte readers for the binary format: LEB128 integers, raw floats, names,
 * and instructions (driven by the opcode table). Every stage that reads
 * bytes uses these, so malformed input gets the same error everywhere.
 */
import { DecodeError } from './errors.js';
import { BLOCK_EMPTY, Imm, OPS, blockValType, type OpInfo } from './opcodes.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads a window [pos, end) of a byte array. */
export class Reader {
  bytes: Uint8Array;
  pos: number;
  end: number;
  /**
   * Set while reading a section's contents: running out of input there is
   * "unexpected end of section or function" even when the section is the last
   * thing in the input, as in the reference interpreter.
   */
  withinSection = false;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  /**
   * The error for reading past `end`: "unexpected end" at the end of the whole
   * input outside any section (header, section headers), otherwise
   * "unexpected end of section or function".
   */
  eof(): DecodeError {
    const whole = this.end >= this.bytes.length && !this.withinSection;
    return new DecodeError(whole ? 'unexpected end' : 'unexpected end of section or function', this.pos);
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw this.eof();
    return this.bytes[this.pos++]!;
  }

  /** Takes `n` bytes as a view. */
  take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw this.eof();
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      if (i === 4) {
        // The last byte holds bits 28..31: unused bits set is "too large", checked before a continuation bit ("too long").
        if (b & 0x70) throw new DecodeError('integer too large', this.pos - 1);
        if (b & 0x80) throw new DecodeError('integer representation too long', this.pos - 1);
      }
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
    /* c8 ignore next */
    throw new DecodeError('integer representation too long', this.pos);
  }

  s32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      if (i === 4) {
        // Bits 28..31 are the low 4 bits of this byte; the 3 unused bits above must repeat bit 31.
        const high = b & 0x70;
        if ((b & 0x08 ? high !== 0x70 : high !== 0)) throw new DecodeError('integer too large', this.pos - 1);
        if (b & 0x80) throw new DecodeError('integer representation too long', this.pos - 1);
        return result | (b << 28);
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) {
        if (shift < 32 && b & 0x40) result |= -1 << shift;
        return result;
      }
    }
    /* c8 ignore next */
    throw new DecodeError('integer representation too long', this.pos);
  }

  /** A signed 33-bit LEB128 (block types). Returns a JS number in [-2^32, 2^32). */
  s33(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      if (i === 4) {
        // 33 bits = 28 + 5: the top 2 bits of the 7 must repeat bit 4.
        const high = b & 0x60;
        const sign = (b & 0x10) !== 0;
        if ((high !== 0 && high !== 0x60) || (high === 0x60) !== sign) throw new DecodeError('integer too large', this.pos - 1);
        if (b & 0x80) throw new DecodeError('integer representation too long', this.pos - 1);
        result += (b & 0x1f) * mul;
        return sign ? result - 2 ** 33 : result;
      }
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) {
        if (b & 0x40) result -= mul;
        return result;
      }
    }
    /* c8 ignore next */
    throw new DecodeError('integer representation too long', this.pos);
  }

  /** The low half of the last s64() read. */
  lo = 0;
  /** The high half of the last s64() read. */
  hi = 0;

  /** A signed 64-bit LEB128 into `lo` and `hi` (two's complement halves), without BigInt. */
  s64(): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      const v = b & 0x7f;
      if (i === 9) {
        // 9*7 = 63 bits read so far; this byte carries bit 63 and its unused bits must repeat it.
        if (v !== 0 && v !== 0x7f) throw new DecodeError('integer too large', this.pos - 1);
        if (b & 0x80) throw new DecodeError('integer representation too long', this.pos - 1);
        hi |= (v & 1) << 31;
        break;
      }
      if (i < 4) lo |= v << (7 * i);
      else if (i === 4) {
        lo |= v << 28;
        hi |= v >>> 4;
      } else hi |= v << (7 * i - 32);
      if (!(b & 0x80)) {
        const bits = 7 * (i + 1);
        if (v & 0x40) {
          if (bits < 32) {
            lo |= -1 << bits;
            hi = -1;
          } else if (bits < 64) {
            hi |= -1 << (bits - 32);
          }
        }
        break;
      }
    }
    this.lo = lo | 0;
    this.hi = hi | 0;
  }

  /** Raw 32 bits, little-endian, as a signed int32 (float bit patterns). */
  i32raw(): number {
    if (this.end - this.pos < 4) {
      this.pos = this.end;
      throw this.eof();
    }
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  /**
   * A vector length or byte count (u32). A count larger than the bytes left,
   * counted from the count itself as the reference interpreter does, is
   * "length out of bounds": every element takes at least one byte, so a
   * count that passes can safely size an allocation.
   */
  count(): number {
    const start = this.pos;
    const n = this.u32();
    if (n > this.end - start) throw new DecodeError('length out of bounds', start);
    return n;
  }

  /** A name: a length-prefixed UTF-8 string. */
  name(): string {
    const n = this.count();
    const bytes = this.take(n);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new DecodeError('malformed UTF-8 encoding', this.pos - n);
    }
  }
}

/**
 * Reads instructions. `next()` returns the opcode's info and leaves its
 * immediates in fields: `a`, `b`, `c` for integer immediates (in the order
 * the binary has them), `lo`/`hi` for i64 and f64 constants, `targets` for
 * br_table (the default label in `a`), `types` for typed select.
 * Allocates nothing per instruction.
 */
export class CodeReader extends Reader {
  /** Accept multi-memory encodings (a memory index in memargs and memory instructions). */
  multiMemory = false;
  a = 0;
  b = 0;
  c = 0;
  /** br_table targets (reused between calls). */
  targets: number[] = [];
  /** typed select's value types (reused between calls). */
  types: number[] = [];
  /** Offset of the last opcode read. */
  opPos = 0;

  next(): OpInfo {
    this.opPos = this.pos;
    let id = this.byte();
    if (id === 0xfc) {
      const sub = this.u32();
      id = sub < 0x100 ? 0x100 + sub : -1;
    } else if (id === 0xfd) {
      const sub = this.u32();
      id = sub < 0x200 ? 0x200 + sub : -1;
    }
    const info = id >= 0 ? OPS[id] : undefined;
    if (info === undefined) throw new DecodeError('illegal opcode', this.opPos);
    switch (info.imm) {
      case Imm.none:
        break;
      case Imm.block:
        this.a = this.blockType();
        break;
      case Imm.label:
      case Imm.func:
      case Imm.local:
      case Imm.global:
      case Imm.table:
      case Imm.dataIdx:
      case Imm.elemIdx:
        this.a = this.u32();
        break;
      case Imm.callIndirect:
        this.a = this.u32();
        this.b = this.u32();
        break;
      case Imm.brTable: {
        const n = this.count();
        const t = this.targets;
        t.length = 0;
        for (let i = 0; i < n; i++) t.push(this.u32());
        this.a = this.u32();
        break;
      }
      case Imm.memarg: {
        const flagsPos = this.pos;
        let align = this.u32();
        let mem = 0;
        if (this.multiMemory && align >= 0x40 && align < 0x80) {
          align -= 0x40;
          mem = this.u32();
        }
        // The reference interpreter takes an alignment exponent of 32 or more (so also bit 6
        // without multi-memory) as malformed; smaller ones above natural are the validator's job.
        if (align >= 32) throw new DecodeError('malformed memop flags', flagsPos);
        this.a = align;
        this.b = this.u32(); // offset
        this.c = mem;
        break;
      }
      case Imm.mem:
        this.a = this.memIndex();
        break;
      case Imm.i32:
        this.a = this.s32();
        break;
      case Imm.i64:
        this.s64();
        break;
      case Imm.f32:
        this.a = this.i32raw();
        break;
      case Imm.f64:
        this.lo = this.i32raw();
        this.hi = this.i32raw();
        break;
      case Imm.refType: {
        const t = this.typeCode();
        if (t !== 0x70 && t !== 0x6f) throw new DecodeError('malformed reference type', this.pos - 1);
        this.a = t;
        break;
      }
      case Imm.selectT: {
        const n = this.count();
        const ts = this.types;
        ts.length = 0;
        for (let i = 0; i < n; i++) ts.push(this.valType());
        break;
      }
      case Imm.memInit:
        this.a = this.u32();
        this.b = this.memIndex();
        break;
      case Imm.memCopy:
        this.a = this.memIndex();
        this.b = this.memIndex();
        break;
      case Imm.tableInit:
      case Imm.tableCopy:
        this.a = this.u32();
        this.b = this.u32();
        break;
    }
    return info;
  }

  /**
   * A block type (s33): BLOCK_EMPTY, a value type's negative code, or a type
   * index >= 0. A negative value must be the one-byte code of empty or of a
   * value type ("malformed value type" otherwise), so that `a` never holds a
   * negative number that means neither.
   */
  blockType(): number {
    const start = this.pos;
    const bt = this.s33();
    if (bt < 0 && (this.pos - start !== 1 || (bt !== BLOCK_EMPTY && blockValType(bt) === 0))) {
      throw new DecodeError('malformed value type', start);
    }
    return bt;
  }

  /** A memory index: a single zero byte in WebAssembly 2.0, a u32 with multi-memory. */
  memIndex(): number {
    if (this.multiMemory) return this.u32();
    const b = this.byte();
    if (b !== 0) throw new DecodeError('zero byte expected', this.pos - 1);
    return 0;
  }

  /**
   * A one-byte type code. The spec reads type codes as 7-bit signed LEB128,
   * so a byte with the continuation bit is "integer representation too long".
   */
  typeCode(): number {
    const b = this.byte();
    if (b & 0x80) throw new DecodeError('integer representation too long', this.pos - 1);
    return b;
  }

  /** A value type byte. */
  valType(): number {
    const t = this.typeCode();
    switch (t) {
      case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b: case 0x70: case 0x6f:
        return t;
      default:
        throw new DecodeError('malformed value type', this.pos - 1);
    }
  }
}
