/**
 * The guest side of a `hive` import: reading its memory, its strings, and
 * charging the fuel of the host work an import does. One `GuestCall` serves
 * one actor's imports.
 */
import { Trap, type Memory, type Value } from '../../vm/index.js';
import type { BindingContext, LogLevel } from '../binding.js';
import { HIVE_FUEL } from './abi.js';
import type { HivePort } from './port.js';

const { MESSAGE_BYTES_PER_FUEL, FUEL_PER_TEXT_BYTE } = HIVE_FUEL;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16 = new TextDecoder('utf-16le');

/** Small i32 results, shared (results are read, never kept, by the engine). */
const SMALL: Value[][] = [];
for (let i = -16; i <= 256; i++) SMALL[i + 16] = [{ type: 'i32', value: i }];

/** One i32 result (small ones are shared: an import's results are read, never kept). */
export function i32Result(n: number): Value[] {
  return n >= -16 && n <= 256 ? SMALL[n + 16]! : [{ type: 'i32', value: n | 0 }];
}

/** No results. */
export const NO_RESULTS: Value[] = [];

/** The bytes at (ptr, len) of the guest's memory, as a view; traps when out of bounds. */
export function view(mem: Memory, ptr: number, len: number): Uint8Array {
  const p = ptr >>> 0;
  const n = len >>> 0;
  if (p + n > mem.byteLength) throw new Trap('out of bounds memory access');
  return mem.u8.subarray(p, p + n);
}

/**
 * Copies the first `n` bytes of `from` to `to` at `at` (both checked by the
 * caller). Short copies, as most messages are, go byte by byte: cheaper
 * than the two views `set` needs.
 */
export function copyInto(to: Uint8Array, at: number, from: Uint8Array, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) to[at + i] = from[i]!;
  } else {
    to.set(n === from.length ? from : from.subarray(0, n), at);
  }
}

/** A copy of `n` bytes of `from` at `at` (checked by the caller), as copyInto makes it. */
export function copyOut(from: Uint8Array, at: number, n: number): Uint8Array {
  if (n > 64) return from.slice(at, at + n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = from[at + i]!;
  return out;
}

/** UTF-8 bytes as a string, or null when they are not valid UTF-8. */
export function decode(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The first bytes of UTF-8 text, at most `max`, not cutting a character in two. */
export function head(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let n = max;
  while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  return bytes.subarray(0, n);
}

/** An AssemblyScript string (UTF-16, its byte length in the 4 bytes before it), cut to `max` bytes (marked with …). */
export function asString(mem: Memory, ptr: number, max: number): string {
  const p = ptr >>> 0;
  if (p === 0) return 'null';
  if (p < 4 || p > mem.byteLength) return '<bad string>';
  const len = mem.dv.getUint32(p - 4, true);
  if (p + len > mem.byteLength) return '<bad string>';
  if (len <= max) return utf16.decode(mem.u8.subarray(p, p + len));
  return `${utf16.decode(mem.u8.subarray(p, p + (max & ~1)))}…`;
}

/** pino's level names by number (others are rounded to the nearest). */
export function levelName(n: number): LogLevel {
  if (n < 15) return 'trace';
  if (n < 25) return 'debug';
  if (n < 35) return 'info';
  if (n < 45) return 'warn';
  if (n < 55) return 'error';
  return 'fatal';
}

/** What the imports of one actor share: its port, its context, and the fuel the running import charged. */
export class GuestCall {
  /** Whether the import running now charged fuel. */
  charged = false;

  constructor(
    readonly port: HivePort,
    readonly ctx: BindingContext,
  ) {}

  /** The caller's memory. */
  mem(): Memory {
    return this.ctx.memory();
  }

  /** Charges whole units of fuel for host work (fractions are dropped, as the engine's bulk instructions do). */
  charge(units: number): void {
    const n = Math.floor(units);
    if (n <= 0) return;
    this.ctx.charge(n);
    this.charged = true;
  }

  /** A string argument, paid for: null when longer than `max` bytes or not UTF-8 (BAD_ARGUMENT); traps when out of bounds. */
  textArg(ptr: number, len: number, max: number): string | null {
    const bytes = view(this.mem(), ptr, len);
    if (bytes.length > max) return null;
    this.charge(bytes.length * FUEL_PER_TEXT_BYTE);
    return decode(bytes);
  }

  /**
   * Whether (ptr, len) of the caller's memory is a message argument: false
   * when larger than the hive's maxMessageBytes (TOO_LARGE); traps when out
   * of bounds. Nothing is copied yet (see messageCopy).
   */
  messageArg(ptr: number, len: number): boolean {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > this.mem().byteLength) throw new Trap('out of bounds memory access');
    return n <= this.port.maxMessageBytes;
  }

  /** A copy of the message argument at (ptr, len) (checked by messageArg), paid for. */
  messageCopy(ptr: number, len: number): Uint8Array {
    const n = len >>> 0;
    this.charge(n / MESSAGE_BYTES_PER_FUEL);
    return copyOut(this.mem().u8, ptr >>> 0, n);
  }
}
