/**
 * Bounds-checked access to a guest's linear memory for one host call.
 *
 * The engine's `Memory` may have a backing buffer larger than the memory
 * (room to grow), and replaces the buffer when it grows past that room. So
 * the views are read again at the start of every call (a `GuestMemory` lives
 * for one call only; the guest cannot run, and so cannot grow its memory,
 * while the host call is in progress), and every access is checked against
 * `byteLength`, not the buffer's length.
 */
import { Errno } from './abi.js';
import type { Memory } from '../../vm/index.js';

/**
 * A syscall failed with a WASI errno. Thrown by the helpers deep inside a
 * syscall and turned into the call's result at the boundary, so that the
 * common path stays a straight line of checks.
 */
export class SyscallError extends Error {
  readonly errno: number;
  constructor(errno: number) {
    super(`errno ${errno}`);
    this.errno = errno;
  }
}

/** Throws a SyscallError with `errno`. */
export function fail(errno: number): never {
  throw new SyscallError(errno);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** A (pointer, length) pair from an iovec array. */
export interface Iovec {
  ptr: number;
  len: number;
}

/** POSIX IOV_MAX: more iovecs than this in one call is EINVAL, which also bounds the host's work per call. */
export const IOV_MAX = 1024;

/** Paths longer than this are ENAMETOOLONG (POSIX PATH_MAX). */
export const PATH_MAX = 4096;

/** The guest's memory during one host call. Every method throws SyscallError(EFAULT) on an out-of-bounds range. */
export class GuestMemory {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly size: number;

  constructor(memory: Memory) {
    this.u8 = memory.u8;
    this.dv = memory.dv;
    this.size = memory.byteLength;
  }

  /** Checks that [ptr, ptr + len) lies inside the memory. Pointers and lengths are u32 (the caller passes `x >>> 0`). */
  check(ptr: number, len: number): void {
    if (ptr + len > this.size) fail(Errno.FAULT);
  }

  u8At(ptr: number): number {
    this.check(ptr, 1);
    return this.u8[ptr]!;
  }
  u16At(ptr: number): number {
    this.check(ptr, 2);
    return this.dv.getUint16(ptr, true);
  }
  u32At(ptr: number): number {
    this.check(ptr, 4);
    return this.dv.getUint32(ptr, true);
  }
  u64At(ptr: number): bigint {
    this.check(ptr, 8);
    return this.dv.getBigUint64(ptr, true);
  }

  setU8(ptr: number, v: number): void {
    this.check(ptr, 1);
    this.u8[ptr] = v;
  }
  setU16(ptr: number, v: number): void {
    this.check(ptr, 2);
    this.dv.setUint16(ptr, v, true);
  }
  setU32(ptr: number, v: number): void {
    this.check(ptr, 4);
    this.dv.setUint32(ptr, v, true);
  }
  /** Writes a u64; values past 2^64-1 saturate (a clock pushed that far by sleeps stays at the top). */
  setU64(ptr: number, v: bigint | number): void {
    this.check(ptr, 8);
    const b = typeof v === 'bigint' ? v : BigInt(v);
    this.dv.setBigUint64(ptr, b > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : b < 0n ? 0n : b, true);
  }

  /** A view of guest bytes [ptr, ptr + len), valid for this call only. */
  bytes(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.u8.subarray(ptr, ptr + len);
  }

  /** Copies `data` to `ptr`. */
  write(ptr: number, data: Uint8Array): void {
    this.check(ptr, data.length);
    this.u8.set(data, ptr);
  }

  /** A path argument: UTF-8 (EILSEQ otherwise), no NUL byte (EINVAL), at most PATH_MAX bytes (ENAMETOOLONG). */
  path(ptr: number, len: number): string {
    if (len > PATH_MAX) fail(Errno.NAMETOOLONG);
    const b = this.bytes(ptr, len);
    if (b.includes(0)) fail(Errno.INVAL);
    try {
      return utf8.decode(b);
    } catch {
      return fail(Errno.ILSEQ);
    }
  }

  /** The iovec array at `ptr` with `count` entries, each range checked. */
  iovecs(ptr: number, count: number): Iovec[] {
    if (count > IOV_MAX) fail(Errno.INVAL);
    this.check(ptr, count * 8);
    const out: Iovec[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const p = this.dv.getUint32(ptr + 8 * i, true);
      const len = this.dv.getUint32(ptr + 8 * i + 4, true);
      this.check(p, len);
      out[i] = { ptr: p, len };
    }
    return out;
  }
}
