/**
 * Snapshots from anywhere are read within a memory budget: restoring within
 * the instance's limits, `readSnapshot` within its frame budget, every
 * decompression bounded before it allocates. Regressions of issue 10 (a
 * Brotli bomb, a crafted snapshot that made `inspect` die) and fuzzing of
 * `readSnapshot`, which must give a SnapshotError and nothing else.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { wat } from '../../test/helpers/wat.js';
import { Instance, Module, SnapshotError, Trap, i32, readSnapshot, restore, snapshot } from './index.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** The body of a snapshot, to edit. */
function body(snap: Uint8Array): Record<string, unknown> {
  return unpackr.unpack(snap.subarray(48)) as Record<string, unknown>;
}

/** A snapshot with the header of `snap` and the body `b`. */
function withBody(snap: Uint8Array, b: Record<string, unknown>): Uint8Array {
  const encoded = packr.pack(b);
  const out = new Uint8Array(48 + encoded.length);
  out.set(snap.subarray(0, 48));
  out.set(encoded, 48);
  return out;
}

/** `n` zero bytes compressed: a few hundred bytes that expand to n. */
function bomb(n: number): Uint8Array {
  return new Uint8Array(brotliCompressSync(new Uint8Array(n), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }));
}

const RECURSE = new Module(wat(`(module (memory (export "memory") 1) (table 4 funcref)
  (func $f (export "f") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 1) (i32.const 60000))))`));

/** A snapshot paused 5 frames deep, and one paused inside a memory.fill. */
function samples(): Uint8Array[] {
  const a = new Instance(RECURSE);
  a.fuel = 20;
  expect(a.call('f', [i32(1000)]).kind).toBe('out-of-fuel');
  const b = new Instance(RECURSE);
  b.fuel = 100;
  expect(b.call('fill').kind).toBe('out-of-fuel');
  expect(b.machine.part).toBeGreaterThan(0);
  return [snapshot(a), snapshot(b), snapshot(new Instance(RECURSE))];
}

describe('snapshots within a memory budget', () => {
  it('Brotli bomb (133 KB expanded to 6.4 GB): memory over the instance limit is refused before decompressing, and data larger than its pages stops at their size', () => {
    const [snap] = samples();
    const b = body(snap!);
    const mem = (b['memories'] as Record<string, unknown>[])[0]!;
    // 65,536 pages all stored, 4 GiB of zeros claimed: refused on the page count, nothing decompressed.
    mem['pages'] = 65536;
    mem['index'] = new Uint8Array(new Uint32Array(Array.from({ length: 65536 }, (_, i) => i)).buffer);
    mem['data'] = bomb(64 << 20);
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    let err: unknown;
    try {
      restore(RECURSE, withBody(snap!, b), {}, { maxMemoryPages: 256 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).budget).toBe('maxMemoryPages');
    expect((err as Error).message).toMatch(/memory 0 has 65536 pages, more than the limit of 256 pages/);
    // Within the limit, 16 pages stored whose data expands to 64 MiB: decompression stops past 1 MiB.
    mem['pages'] = 16;
    mem['index'] = new Uint8Array(new Uint32Array(Array.from({ length: 16 }, (_, i) => i)).buffer);
    expect(() => restore(RECURSE, withBody(snap!, b), {}, { maxMemoryPages: 256 })).toThrow(/memory 0 data decompresses to more than 1048576 bytes/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
  });

  it('crafted snapshot for inspect (2.4 KB used 2-3.4 GB and died with a RangeError): frames past the budget are a SnapshotError naming it', () => {
    const [snap] = samples();
    const b = body(snap!);
    b['frames'] = bomb(128 << 20); // 16M frames of zeros
    const crafted = withBody(snap!, b);
    expect(crafted.length).toBeLessThan(3000);
    const rss = process.memoryUsage().rss;
    let err: unknown;
    try {
      readSnapshot(crafted);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).budget).toBe('maxFrames');
    expect((err as Error).message).toMatch(/the frames \(at most 200001\) decompress to more than 1600008 bytes/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    // A budget of its own, and a restore with its call depth limit, say which limit it was.
    expect(() => readSnapshot(snap!, { maxFrames: 4 })).toThrow(/limit maxFrames/);
    expect(readSnapshot(snap!, { maxFrames: 5 }).frames).toHaveLength(5);
    expect(() => restore(RECURSE, crafted, {}, { maxCallDepth: 1000 })).toThrow(/limit maxCallDepth/);
  });

  it('refuses stacks and tables over the instance limits, naming the limit', () => {
    const [snap] = samples();
    const b = body(snap!);
    b['stackWords'] = 1 << 28;
    expect(() => restore(RECURSE, withBody(snap!, b))).toThrow(/limit maxStackBytes/);
    const c = body(snap!);
    (c['tables'] as Record<string, unknown>[])[0]!['size'] = 2_000_000;
    expect(() => restore(RECURSE, withBody(snap!, c))).toThrow(/table 0 has 2000000 elements.*limit maxTableElements/);
  });

  it('checks where a call stopped inside an instruction: only at a grow or bulk instruction, never paid more than it costs', () => {
    const [deep, inside] = samples();
    // Inside a call instruction: refused.
    const b = body(deep!);
    b['part'] = 3;
    expect(() => restore(RECURSE, withBody(deep!, b))).toThrow(/not a grow or bulk instruction/);
    // An idle snapshot inside an instruction: refused.
    const idle = snapshot(new Instance(RECURSE));
    const c = body(idle);
    c['part'] = 3;
    expect(() => restore(RECURSE, withBody(idle, c))).toThrow(/idle snapshot inside an instruction/);
    // Paid more than the fill costs: the call traps when resumed, a typed trap.
    const d = body(inside!);
    d['part'] = 1_000_000;
    const r = restore(RECURSE, withBody(inside!, d));
    const out = r.resume({ fuel: 1000 });
    expect(out.kind).toBe('trapped');
    expect(out.kind === 'trapped' && out.trap).toBeInstanceOf(Trap);
    // The honest one finishes the fill.
    const ok = restore(RECURSE, inside!);
    expect(ok.resume({ fuel: 10_000 }).kind).toBe('done');
    expect(ok.inst.memories[0]!.bytes().subarray(0, 60000).every((x) => x === 1)).toBe(true);
  });

  it('readSnapshot gives a SnapshotError and nothing else for mutated and crafted snapshots', () => {
    const base = samples();
    const big = bomb(1 << 26);
    const strange: unknown[] = [-1, 0, 2 ** 31, 2 ** 32, 1e300, NaN, -Infinity, 'x'.repeat(1000), null, true, [], {}, new Uint8Array(7), big, [[[[[]]]]], { 0: 1 }, Array(10_000).fill(0)];
    let rejected = 0;
    let read = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (which, pick, how, flips) => {
        const snap = base[which % base.length]!;
        let bytes: Uint8Array;
        if (how % 2 === 0) {
          // A field set to a strange value, at any depth.
          const b = body(snap);
          const leaves: { parent: Record<string, unknown>; key: string }[] = [];
          const walk = (x: unknown): void => {
            if (x instanceof Uint8Array || x === null || typeof x !== 'object') return;
            for (const [k, v] of Object.entries(x)) {
              leaves.push({ parent: x as Record<string, unknown>, key: k });
              walk(v);
            }
          };
          walk(b);
          const leaf = leaves[pick % leaves.length]!;
          leaf.parent[leaf.key] = strange[(how >> 1) % strange.length];
          bytes = withBody(snap, b);
        } else {
          bytes = snap.slice();
          for (const [pos, val] of flips) bytes[pos % bytes.length] = val;
          if (pick % 5 === 0) bytes = bytes.subarray(0, pick % bytes.length);
        }
        try {
          readSnapshot(bytes);
          read++;
        } catch (e) {
          if (!(e instanceof SnapshotError)) throw e;
          rejected++;
        }
      }),
      { numRuns: 2000 },
    );
    expect(rejected).toBeGreaterThan(200);
    expect(read).toBeGreaterThan(200);
  }, 120_000);
});
