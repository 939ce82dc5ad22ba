/**
 * What the built-in services count of the values they hold: the size of a
 * decoded value's MessagePack form, without encoding it.
 */

/** Bytes of a MessagePack header for a length: 1 (a fix type) below `fix`, then 1 (when the type has an 8-bit form), 2 or 4 bytes of length after the type byte. */
function header(n: number, fix: number, has8: boolean): number {
  if (n < fix) return 1;
  if (has8 && n < 0x100) return 2;
  return n < 0x10000 ? 3 : 5;
}

/**
 * The size of a decoded value's MessagePack form, as the hive encodes it
 * (Dates counted at their largest, 15 bytes; other objects, such as pids, as
 * a 4-byte extension); stops counting once past `limit`.
 */
export function encodedSize(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (v === null || v === undefined || typeof v === 'boolean') total += 1;
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -0x8000_0000 && v < 0x1_0000_0000) {
        total += v >= -32 && v < 128 ? 1 : v >= -128 && v < 256 ? 2 : v >= -32768 && v < 65536 ? 3 : 5;
      } else total += 9;
    } else if (typeof v === 'bigint') total += 9;
    else if (typeof v === 'string') {
      const n = Buffer.byteLength(v, 'utf8');
      total += header(n, 32, true) + n;
    } else if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
      const n = v.byteLength;
      total += (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n;
    } else if (Array.isArray(v)) {
      total += header(v.length, 16, false);
      for (const x of v) stack.push(x);
    } else if (v instanceof Map) {
      total += header(v.size, 16, false);
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Date) total += 15;
    else if (typeof v === 'object') {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        total += 6;
        continue;
      }
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      total += header(entries.length, 16, false);
      for (const [k, x] of entries) stack.push(k, x);
    } else total += 9;
  }
  return total;
}
