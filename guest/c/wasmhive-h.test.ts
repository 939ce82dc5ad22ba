// Tests of guest/c/wasmhive.h's MessagePack reader and writer, through the
// test guest echo.c (built by scripts/build-c-guests.sh), run with Node's
// WebAssembly and a fake `hive` import object: each request is read value
// by value and written again; the answers are compared with what msgpackr
// (the host's codec) decodes.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });
const pack = (v: unknown): Uint8Array => new Uint8Array(packr.pack(v));
const unpack = (b: Uint8Array): unknown => packr.unpack(b);
// Random bytes may hold maps keyed by maps or arrays, which the echo answers with as they are: read as Maps.
const anyKeys = new Packr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint' });
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const echoModule = new WebAssembly.Module(readFileSync(new URL('./echo.wasm', import.meta.url)));

/** Thrown by receive(-1) once the requests are used up: ends the run. */
class Stop extends Error {}

/** Runs the echo guest on the requests (raw bytes) and returns its replies, one per request. */
function echo(requests: Uint8Array[]): Uint8Array[] {
  const queue = [...requests];
  let current: Uint8Array | null = null;
  const replies: Uint8Array[] = [];
  let memory: WebAssembly.Memory | null = null;
  const mem = (): Uint8Array => new Uint8Array(memory!.buffer);
  const hive = {
    receive(timeout: number): number {
      const next = queue.shift();
      if (next === undefined) {
        if (timeout === -1) throw new Stop();
        return -1;
      }
      current = next;
      return next.length;
    },
    read(ptr: number, len: number): number {
      if (current === null) return -2;
      const n = Math.min(len, current.length);
      mem().set(current.subarray(0, n), ptr);
      return n;
    },
    reply(ptr: number, len: number): number {
      replies.push(mem().slice(ptr, ptr + len));
      return 0;
    },
  };
  const instance = new WebAssembly.Instance(echoModule, { hive });
  memory = instance.exports.memory as WebAssembly.Memory;
  try {
    (instance.exports.main as () => void)();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  expect(replies).toHaveLength(requests.length);
  return replies;
}

/** Integers as BigInt (msgpackr gives number or bigint by size; the guest writes the smallest form). */
function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Values msgpackr writes with the types the header handles: nil, bool, ints, floats, str, bin, arrays, maps. */
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: INT64_MIN, max: UINT64_MAX }),
    fc.double().map((d) => (Object.is(d, -0) ? 0 : d)), // msgpackr writes -0 as the integer 0
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ minLength: 200, maxLength: 300 }), // str8 and str16 headers
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 20 }),
  ),
})).value;

describe('wasmhive.h MessagePack', () => {
  it('reads and writes back every value msgpackr writes (nil, bool, ints, floats, str, bin, arrays, maps)', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 10 }), (values) => {
        const replies = echo(values.map(pack));
        replies.forEach((reply, i) => {
          const [status, back] = unpack(reply) as [string, unknown];
          expect(status).toBe('ok');
          expect(normalize(back)).toEqual(normalize(values[i]));
        });
      }),
      { numRuns: 150 },
    );
  });

  it('writes integers in their smallest form, at every boundary', () => {
    const cases: [bigint, string][] = [
      [0n, '00'], [127n, '7f'], [128n, 'cc80'], [255n, 'ccff'], [256n, 'cd0100'], [65535n, 'cdffff'],
      [65536n, 'ce00010000'], [4294967295n, 'ceffffffff'], [4294967296n, 'cf0000000100000000'],
      [UINT64_MAX, 'cfffffffffffffffff'], [-1n, 'ff'], [-32n, 'e0'], [-33n, 'd0df'], [-128n, 'd080'],
      [-129n, 'd1ff7f'], [-32768n, 'd18000'], [-32769n, 'd2ffff7fff'], [-(2n ** 31n), 'd280000000'],
      [-(2n ** 31n) - 1n, 'd3ffffffff7fffffff'], [INT64_MIN, 'd38000000000000000'],
    ];
    const replies = echo(cases.map(([n]) => pack(n)));
    replies.forEach((reply, i) => {
      // ["ok", n]: 92 a2 6f 6b, then the integer
      expect(Buffer.from(reply).toString('hex'), String(cases[i]![0])).toBe(`92a26f6b${cases[i]![1]}`);
    });
  });

  it('reads an int8/16/32/64 and uint8/16/32/64 of any width, and float32 as a double', () => {
    const requests = ['d0ff', 'd1fffe', 'd2fffffffd', 'd3fffffffffffffffc', 'cc05', 'cd0006', 'ce00000007', 'cf0000000000000008', 'ca3fc00000'];
    const back = echo(requests.map(fromHex)).map((r) => (unpack(r) as unknown[])[1]);
    expect(back).toEqual([-1, -2, -3, -4, 5, 6, 7, 8, 1.5]);
  });

  it('keeps pids (extension type 1, 4 bytes big-endian) and refuses other extensions', () => {
    const [pid, other] = echo([fromHex('92 d6 01 0000002a c0'), fromHex('d6 02 00000001')]);
    expect(Buffer.from(pid!).toString('hex')).toBe('92a26f6b' + '92d6010000002ac0');
    expect(unpack(other!)).toEqual(['error', 'an extension other than a pid']);
  });

  it('refuses truncated and malformed messages with an answer, never a trap or a read past the end', () => {
    fc.assert(
      fc.property(value, fc.nat(), (v, cut) => {
        const bytes = pack(v);
        if (bytes.length < 2) return;
        const truncated = bytes.subarray(0, cut % bytes.length);
        const [reply] = echo([truncated]);
        const [status, why] = unpack(reply!) as [string, string];
        expect(status).toBe('error');
        expect(why).toBe('malformed');
      }),
      { numRuns: 150 },
    );
    const bad = [
      'c1', // never used
      'dd ffffffff 00', // an array claiming 4 billion items
      'df ffffffff', // a map claiming 4 billion pairs
      'db ffffffff 61', // a str32 claiming 4 GiB
      'c6 7fffffff', // a bin32 claiming 2 GiB
      'c9 ffffffff 01', // an ext32 claiming 4 GiB
      'd6 01 0000', // a pid cut short
    ];
    for (const [i, reply] of echo(bad.map(fromHex)).entries()) {
      expect(unpack(reply), bad[i]).toEqual(['error', 'malformed']);
    }
  });

  it('refuses trailing bytes after a whole value', () => {
    expect(unpack(echo([fromHex('01 02')])[0]!)).toEqual(['error', 'trailing bytes']);
  });

  it('answers random bytes without trapping: either a value that msgpackr reads back, or an error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const [status] = anyKeys.unpack(echo([bytes])[0]!) as [string];
        expect(['ok', 'error']).toContain(status);
      }),
      { numRuns: 300 },
    );
  });

  it('skips nested values of any depth without recursion, and refuses counts larger than what is left', () => {
    const request = (x: Uint8Array): Uint8Array =>
      new Uint8Array([0x93, 0xa4, ...Buffer.from('skip'), ...x, ...pack('after')]);
    const small = new Uint8Array([0x92, 0x01, 0x92, 0xc0, 0xa1, 0x78]); // [1, [nil, "x"]]
    const [a, b, c] = echo([request(small), request(fromHex('dc ffff 00 00')), request(fromHex('de ffff 01 02'))]);
    expect(unpack(a!)).toEqual(['ok', 'after']);
    expect(unpack(b!)).toEqual(['error', 'skip failed']);
    expect(unpack(c!)).toEqual(['error', 'skip failed']);
    // 60,000 nested one-item arrays, then nil: a recursive skip would need far more than the guest's 64 KiB stack.
    const deep = new Uint8Array(60_001).fill(0x91);
    deep[60_000] = 0xc0;
    expect(unpack(echo([request(deep)])[0]!)).toEqual(['ok', 'after']);
  });

  it('copies of nesting deeper than the guest allows are refused by the guest, not the stack', () => {
    const deep = new Uint8Array(101).fill(0x91);
    deep[100] = 0xc0;
    expect(unpack(echo([deep])[0]!)).toEqual(['error', 'too deep']);
  });

  it('the writer stops at the end of its buffer and says so (a value that fits exactly is written)', () => {
    const s = 'hello, world'; // fixstr: 13 bytes
    const capped = (n: number): Uint8Array => new Uint8Array([0x93, 0xa3, ...Buffer.from('cap'), n, ...pack(s)]);
    const [exact, short] = echo([capped(13), capped(12)]);
    expect(unpack(exact!)).toEqual(['ok', s]);
    expect(unpack(short!)).toEqual(['error', 'overflow']);
  });
});
