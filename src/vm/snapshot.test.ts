import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { wat } from '../../test/helpers/wat.js';
import {
  CODE_VERSION,
  Instance,
  Memory,
  Module,
  SnapshotError,
  StateError,
  Suspend,
  i32,
  readSnapshot,
  restore,
  snapshot,
  snapshotAsync,
  type Outcome,
} from './index.js';

/** Loops, direct, indirect and recursive calls, memory, a table, a mutable global, an externref global. */
const PROGRAM = wat(`(module
  (memory (export "memory") 2 100)
  (table 2 funcref)
  (elem (i32.const 0) $sq $cube)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (global $tag (mut externref) (ref.null extern))
  (type $t (func (param i32) (result i32)))
  (func $sq (type $t) (global.set $calls (i32.add (global.get $calls) (i32.const 1))) (i32.mul (local.get 0) (local.get 0)))
  (func $cube (type $t) (i32.mul (local.get 0) (call $sq (local.get 0))))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s)
        (call_indirect (type $t) (local.get $i) (i32.and (local.get $i) (i32.const 1)))))
      (i32.store (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)) (local.get $s))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 63)))
        (then (memory.fill (i32.mul (local.get $i) (i32.const 16)) (local.get $i) (i32.const 300))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $top)))
    (i32.add (local.get $s) (call $fib (i32.const 16)))))`);

function fresh(): Instance {
  return new Instance(new Module(PROGRAM));
}

function mem(i: Instance): Uint8Array {
  return (i.getExport('memory') as Memory).bytes().slice();
}

/** Runs to the end, refilling fuel in slices; returns the outcome. */
function finish(i: Instance, out: Outcome, slice = 5000): Outcome {
  while (out.kind === 'out-of-fuel') out = i.resume({ fuel: slice });
  return out;
}

const N = 700;
const whole = (() => {
  const i = fresh();
  const out = i.call('run', [i32(N)]);
  return { out, used: i.fuelUsed, memory: mem(i), calls: (i.exports.calls as { value: number }).value };
})();

describe('snapshots', () => {
  it('restores a call cut anywhere into a fresh module, and it ends as an uninterrupted run does', () => {
    expect(whole.out.kind).toBe('done');
    fc.assert(
      // Cuts short of the end: a budget within one run of the end may finish the call (its last run overdraws).
      fc.property(fc.integer({ min: 1, max: Math.floor(whole.used * 0.95) }), fc.integer({ min: 500, max: 20_000 }), (cut, slice) => {
        const a = fresh();
        a.fuel = cut;
        expect(a.call('run', [i32(N)]).kind).toBe('out-of-fuel');
        const bytes = snapshot(a);
        const b = restore(new Module(PROGRAM), bytes);
        expect(b.status).toBe('out-of-fuel');
        expect(b.fuelUsed).toBe(a.fuelUsed);
        const out = finish(b, b.resume({ fuel: slice }), slice);
        expect(out).toEqual(whole.out);
        expect(b.fuelUsed).toBe(whole.used);
        expect(mem(b)).toEqual(whole.memory);
        expect((b.exports.calls as { value: number }).value).toBe(whole.calls);
      }),
      { numRuns: 25 },
    );
  });

  it('gives the same bytes for the same program, input and fuel', () => {
    const take = () => {
      const a = fresh();
      a.fuel = 12_345;
      a.call('run', [i32(N)]);
      return snapshot(a);
    };
    expect(take()).toEqual(take());
  });

  it('snapshots a snapshot: restore, run on, snapshot again, restore again', () => {
    const a = fresh();
    a.fuel = 3000;
    a.call('run', [i32(N)]);
    let bytes = snapshot(a);
    for (let k = 0; k < 5; k++) {
      const b = restore(new Module(PROGRAM), bytes);
      expect(b.resume({ fuel: 3000 }).kind).toBe('out-of-fuel');
      bytes = snapshot(b);
    }
    const c = restore(new Module(PROGRAM), bytes);
    expect(finish(c, c.resume({ fuel: 5000 }))).toEqual(whole.out);
    expect(mem(c)).toEqual(whole.memory);
  });

  it('restores an idle instance with its memory, globals and tables, without running the start function again', () => {
    const bytes = wat(`(module (memory (export "m") 1) (global $g (export "g") (mut i32) (i32.const 0))
      (table (export "t") 4 funcref) (func $f (result i32) (i32.const 42))
      (func $start (global.set $g (i32.add (global.get $g) (i32.const 1))) (i32.store (i32.const 8) (i32.const 77)))
      (start $start)
      (func (export "set") (table.set (i32.const 3) (ref.func $f)))
      (func (export "call3") (result i32) (call_indirect (result i32) (i32.const 3)))
      (elem declare func $f))`);
    const a = new Instance(new Module(bytes));
    (a.exports.set as () => void)();
    const b = restore(new Module(bytes), snapshot(a));
    expect((b.exports.g as { value: number }).value).toBe(1);
    expect(new DataView((b.exports.m as Memory).buffer).getInt32(8, true)).toBe(77);
    expect((b.exports.call3 as () => number)()).toBe(42);
    expect(b.status).toBe('idle');
  });

  it('restores a call waiting on the host, which the host answers after the restore', () => {
    const bytes = wat(`(module (import "host" "ask" (func $ask (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) (i32.add (call $ask (local.get 0)) (call $ask (i32.const 1000)))))`);
    const ask = () => new Suspend({ want: 'answer' });
    const a = new Instance(new Module(bytes), { host: { ask } });
    const out = a.call('run', [i32(5)]);
    expect(out.kind).toBe('waiting');
    const snap = snapshot(a);
    const info = readSnapshot(snap);
    expect(info.status).toBe('waiting');
    expect(info.pending).toMatchObject({ module: 'host', name: 'ask', data: { want: 'answer' } });
    const b = restore(new Module(bytes), snap, { host: { ask } });
    expect(b.status).toBe('waiting');
    expect(b.pending!.args).toEqual([i32(5)]);
    expect((b.pending!.answer as Suspend).data).toEqual({ want: 'answer' });
    const next = b.resume({ results: [i32(1)] });
    expect(next.kind).toBe('waiting');
    expect(b.pending!.args).toEqual([i32(1000)]);
    expect(b.resume({ results: [i32(2)] })).toEqual({ kind: 'done', results: [i32(3)] });
  });

  it('restores deep recursion: thousands of frames', () => {
    const bytes = wat(`(module (func $down (export "down") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1))))))))`);
    const a = new Instance(new Module(bytes));
    a.fuel = 150_000;
    expect(a.call('down', [i32(50_000)]).kind).toBe('out-of-fuel');
    const snap = snapshot(a);
    expect(readSnapshot(snap).frames.length).toBeGreaterThan(10_000);
    const b = restore(new Module(bytes), snap);
    expect(finish(b, b.resume({ fuel: 1_000_000 }))).toEqual({ kind: 'done', results: [i32(50_000)] });
  });

  it('leaves out pages that are all zero and compresses the rest', () => {
    const bytes = wat(`(module (memory (export "m") 1024) (func (export "poke") (i32.store (i32.const 33554432) (i32.const 1))))`);
    const a = new Instance(new Module(bytes));
    expect(snapshot(a).length).toBeLessThan(2000);
    (a.exports.poke as () => void)();
    const snap = snapshot(a);
    expect(snap.length).toBeLessThan(2000);
    expect(readSnapshot(snap).memories).toEqual([{ pages: 1024, stored: 1 }]);
  });

  it('takes incremental snapshots with only the changed pages, restored on top of their bases', () => {
    const a = fresh();
    a.fuel = 4000;
    a.call('run', [i32(N)]);
    const full = snapshot(a);
    a.resume({ fuel: 2000 });
    const inc1 = snapshot(a, { incremental: true });
    a.resume({ fuel: 2000 });
    const inc2 = snapshot(a, { incremental: true });
    expect(readSnapshot(inc1).incremental).toBe(true);
    expect(readSnapshot(inc2).memories[0]!.stored).toBeLessThan(readSnapshot(full).memories[0]!.stored + 1);
    expect(() => restore(new Module(PROGRAM), inc2)).toThrow(SnapshotError);
    expect(() => restore(new Module(PROGRAM), inc2, {}, { bases: [full] })).toThrow(/does not build on/);
    const b = restore(new Module(PROGRAM), inc2, {}, { bases: [full, inc1] });
    expect(b.fuelUsed).toBe(a.fuelUsed);
    expect(mem(b)).toEqual(mem(a));
    expect(finish(b, b.resume({ fuel: 5000 }))).toEqual(whole.out);
    expect(mem(b)).toEqual(whole.memory);
  });

  it('with track: false, is no base: the same bytes, and the next incremental snapshot builds on the last tracked one', () => {
    const a = fresh();
    a.fuel = 4000;
    a.call('run', [i32(N)]);
    const full = snapshot(a);
    a.resume({ fuel: 2000 });
    // A snapshot for a move (the instance is dropped after it): not a base.
    const untracked = snapshot(a, { track: false });
    const inc = snapshot(a, { incremental: true });
    expect(readSnapshot(inc).incremental).toBe(true);
    expect(() => restore(new Module(PROGRAM), inc, {}, { bases: [untracked] })).toThrow(/does not build on/);
    const b = restore(new Module(PROGRAM), inc, {}, { bases: [full] });
    expect(mem(b)).toEqual(mem(a));
    // Restored with track: false, an instance has no base: its first incremental snapshot is full.
    const c = restore(new Module(PROGRAM), untracked, {}, { track: false });
    expect(readSnapshot(snapshot(c, { incremental: true })).incremental).toBe(false);
    expect(readSnapshot(snapshot(restore(new Module(PROGRAM), untracked), { incremental: true })).incremental).toBe(true);
    expect(finish(c, c.resume({ fuel: 5000 }))).toEqual(whole.out);
    // Byte for byte what a tracked snapshot of the same state is.
    expect(snapshot(a)).toEqual(untracked);
  });

  it('snapshotAsync gives the bytes snapshot gives, of the state when it was called, though the instance runs on before they come', async () => {
    const a = fresh();
    a.fuel = 4000;
    a.call('run', [i32(N)]);
    const sync = snapshot(a, { track: false });
    const later = snapshotAsync(a);
    // The instance runs on, and changes its memory, stack and globals, while the snapshot is compressed.
    a.resume({ fuel: 2000 });
    expect(await later).toEqual(sync);
    const b = restore(new Module(PROGRAM), await later);
    expect(finish(b, b.resume({ fuel: 5000 }))).toEqual(whole.out);
    expect(mem(b)).toEqual(whole.memory);
    // Not a base: an incremental snapshot after it is as after the sync one with track: false (full here).
    expect(readSnapshot(snapshot(a, { incremental: true })).incremental).toBe(false);
  });

  it('snapshotAsync compresses a large memory off the thread into the bytes snapshot gives, of its state when it was called', async () => {
    // 1 MiB of bytes that do not compress to nothing (an LCG), and a function that changes them all.
    const bytes = wat(`(module (memory (export "m") 16)
      (func (export "fill") (param $seed i32) (local $i i32)
        (loop $l
          (local.set $seed (i32.add (i32.mul (local.get $seed) (i32.const 1103515245)) (i32.const 12345)))
          (i32.store (local.get $i) (local.get $seed))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1048576))))))`);
    const a = new Instance(new Module(bytes));
    const fill = a.exports.fill as (seed: number) => void;
    fill(1);
    const sync = snapshot(a, { track: false });
    const later = snapshotAsync(a);
    fill(2);
    const got = await later;
    // (Compared as Buffers: a deep equality of a megabyte, byte by byte, takes seconds.)
    expect(Buffer.from(got).equals(Buffer.from(sync))).toBe(true);
    const b = restore(new Module(bytes), got);
    const memOf = (i: Instance): Uint8Array => new Uint8Array((i.exports.m as Memory).buffer);
    const c = new Instance(new Module(bytes));
    (c.exports.fill as (seed: number) => void)(1);
    expect(Buffer.from(memOf(b)).equals(Buffer.from(memOf(c)))).toBe(true);
    expect(Buffer.from(memOf(b)).equals(Buffer.from(memOf(a)))).toBe(false);
  });

  it('refuses a snapshot of another module with a clear SnapshotError', () => {
    const a = fresh();
    const other = new Module(wat(`(module (memory 1))`));
    expect(() => restore(other, snapshot(a))).toThrow(SnapshotError);
    expect(() => restore(other, snapshot(a))).toThrow(/another module/);
  });

  it('refuses bytes that are not a snapshot, and snapshots of another code version', () => {
    const m = new Module(PROGRAM);
    expect(() => restore(m, new Uint8Array(10))).toThrow(/bad magic/);
    const snap = snapshot(fresh());
    const bumped = snap.slice();
    new DataView(bumped.buffer).setUint32(8, CODE_VERSION + 1, true);
    expect(() => restore(m, bumped)).toThrow(/code version/);
  });

  it('checks restored memories against the instance limits', () => {
    const a = fresh();
    a.fuel = 1000;
    a.call('run', [i32(N)]);
    const grown = wat(`(module (memory (export "memory") 1 10) (func (export "g") (drop (memory.grow (i32.const 8)))))`);
    const g = new Instance(new Module(grown));
    (g.exports.g as () => void)();
    expect(() => restore(new Module(grown), snapshot(g), {}, { maxMemoryPages: 4 })).toThrow(SnapshotError);
  });

  it('saves externrefs that are plain values, and refuses objects without a codec', () => {
    const bytes = wat(`(module (global $x (mut externref) (ref.null extern))
      (func (export "set") (param externref) (global.set $x (local.get 0)))
      (func (export "get") (result externref) (global.get $x)))`);
    const a = new Instance(new Module(bytes));
    (a.exports.set as (x: unknown) => void)('hello');
    const b = restore(new Module(bytes), snapshot(a));
    expect((b.exports.get as () => unknown)()).toBe('hello');
    (a.exports.set as (x: unknown) => void)({ handle: 7 });
    expect(() => snapshot(a)).toThrow(SnapshotError);
    const codec = { encode: (x: unknown) => JSON.stringify(x), decode: (d: unknown) => JSON.parse(d as string) as unknown };
    const c = restore(new Module(bytes), snapshot(a, { externs: codec }), {}, { externs: codec });
    expect((c.exports.get as () => unknown)()).toEqual({ handle: 7 });
  });

  it('carries host state along', () => {
    const snap = snapshot(fresh(), { host: { wasi: { clock: 5, args: ['a'] } } });
    expect(readSnapshot(snap).host).toEqual({ wasi: { clock: 5, args: ['a'] } });
  });

  it('refuses to snapshot an instance while it runs', () => {
    let inner: Instance | null = null;
    let err: unknown = null;
    const bytes = wat(`(module (import "h" "f" (func $f)) (func (export "run") (call $f)))`);
    inner = new Instance(new Module(bytes), {
      h: {
        f: () => {
          try {
            snapshot(inner!);
          } catch (e) {
            err = e;
          }
        },
      },
    });
    inner.call('run');
    expect(err).toBeInstanceOf(StateError);
  });
});

/** An outcome of running restored state: anything but an engine failure (a JS error caught inside the loop). */
function expectSafe(out: Outcome): void {
  expect(['done', 'trapped', 'out-of-fuel', 'waiting']).toContain(out.kind);
  if (out.kind === 'trapped') expect(out.trap.message).not.toMatch(/internal error/);
}

describe('untrusted snapshots', () => {
  // Snapshots of several states: idle, out of fuel mid-loop, deep in recursion.
  const samples = (() => {
    const out: Uint8Array[] = [snapshot(fresh())];
    for (const cut of [500, 7000, 30_000]) {
      const a = fresh();
      a.fuel = cut;
      a.call('run', [i32(N)]);
      out.push(snapshot(a));
    }
    return out;
  })();

  it('rejects randomly mutated snapshots with a SnapshotError, or restores something that runs safely', () => {
    const module = new Module(PROGRAM);
    let rejected = 0;
    let restored = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 }),
        (which, edits) => {
          const bytes = samples[which]!.slice();
          let buf = bytes;
          for (const [pos, val, kind] of edits) {
            // Most edits land in the body, where the structure is; some truncate or extend.
            const at = 48 + (pos % Math.max(1, buf.length - 48));
            if (kind === 3 && buf.length > 60) buf = buf.subarray(0, at);
            else if (kind === 2) buf[at] = buf[at]! ^ (1 << (val & 7));
            else buf[at] = val;
          }
          let b: Instance;
          try {
            b = restore(module, buf);
          } catch (e) {
            if (!(e instanceof SnapshotError)) throw e;
            rejected++;
            return;
          }
          restored++;
          // Whatever was accepted must run without throwing out of the engine, within its fuel.
          if (b.status !== 'idle') expectSafe(b.resume({ fuel: 200_000 }));
          else {
            b.fuel = 200_000;
            expectSafe(b.call('run', [i32(50)]));
          }
        },
      ),
      { numRuns: 3000 },
    );
    console.log(`mutated snapshots: ${rejected} rejected, ${restored} restored and run`);
    expect(rejected).toBeGreaterThan(100);
    expect(restored + rejected).toBe(3000);
  }, 120_000);

  it('rejects snapshots whose fields were changed at random with a SnapshotError, or restores something that runs safely', () => {
    const module = new Module(PROGRAM);
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
    const strange = [-1, 0, 1, 2, 3, 7, 255, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, -(2 ** 31), 1e15, 0.5, NaN, Infinity, -Infinity, 'x', null, true, [], {}, new Uint8Array(7)];
    let rejected = 0;
    let restored = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: samples.length - 1 }), fc.nat(), fc.nat(), fc.nat(), (which, pick, how, word) => {
        const snap = samples[which]!;
        const body = unpackr.unpack(snap.subarray(48)) as Record<string, unknown>;
        // Every leaf of the body, by path.
        const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
        const walk = (x: unknown): void => {
          if (x instanceof Uint8Array || x === null || typeof x !== 'object') return;
          for (const [k, v] of Object.entries(x)) {
            leaves.push({ parent: x as Record<string, unknown>, key: Array.isArray(x) ? Number(k) : k });
            walk(v);
          }
        };
        walk(body);
        const leaf = leaves[pick % leaves.length]!;
        const old = (leaf.parent as Record<string | number, unknown>)[leaf.key];
        let value: unknown;
        if (old instanceof Uint8Array && how % 3 !== 0) {
          // Change one word of the bytes; inside compressed data, of the decompressed words.
          const key = String(leaf.key);
          const compressed = ['stack', 'data', 'ids'].includes(key);
          const raw = compressed ? new Uint8Array(brotliDecompressSync(old)) : old.slice();
          if (raw.length >= 4) {
            const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
            const at = 4 * (word % (raw.length >> 2));
            const v = strange[how % strange.length];
            dv.setInt32(at, typeof v === 'number' && Number.isFinite(v) ? v : word, true);
          }
          value = compressed ? new Uint8Array(brotliCompressSync(raw)) : raw;
        } else if (typeof old === 'number' && how % 2 === 0) {
          value = old + ((word % 7) - 3);
        } else {
          value = strange[how % strange.length];
        }
        (leaf.parent as Record<string | number, unknown>)[leaf.key] = value;
        const encoded = packr.pack(body);
        const bytes = new Uint8Array(48 + encoded.length);
        bytes.set(snap.subarray(0, 48));
        bytes.set(encoded, 48);
        let b: Instance;
        try {
          b = restore(module, bytes);
        } catch (e) {
          if (!(e instanceof SnapshotError)) throw e;
          rejected++;
          return;
        }
        restored++;
        if (b.status !== 'idle') {
          expectSafe(b.resume({ fuel: 200_000 }));
        } else {
          b.fuel = 200_000;
          expectSafe(b.call('run', [i32(50)]));
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`changed snapshot fields: ${rejected} rejected, ${restored} restored and run`);
    expect(rejected).toBeGreaterThan(300);
    expect(restored).toBeGreaterThan(300);
  }, 120_000);
});

describe('snapshot regressions found in review', () => {
  it('names the pending import by the call instruction when one function is given for two imports', () => {
    const bytes = wat(`(module (import "h" "a" (func $a (result i32))) (import "h" "b" (func $b (result i32)))
      (func (export "run") (result i32) (call $b)))`);
    const f = () => new Suspend();
    const a = new Instance(new Module(bytes), { h: { a: f, b: f } });
    const out = a.call('run');
    expect(out.kind === 'waiting' && `${out.call.module}.${out.call.name}`).toBe('h.b');
    const b = restore(new Module(bytes), snapshot(a), { h: { a: f, b: f } });
    expect(b.resume({ results: [i32(4)] })).toEqual({ kind: 'done', results: [i32(4)] });
  });

  it('taking a snapshot does not change the bytes of a later one', () => {
    const bytes = wat(`(module (table 3 funcref) (elem (i32.const 0) $f $g) (elem declare func $h) (func $f) (func $g) (func $h)
      (func (export "run") (table.set (i32.const 2) (ref.func $h))))`);
    const x = new Instance(new Module(bytes));
    snapshot(x);
    x.call('run');
    const y = new Instance(new Module(bytes));
    y.call('run');
    expect(snapshot(x)).toEqual(snapshot(y));
  });

  it('an instance and its restored copy, continued alike, give the same later snapshots (dead stack words are zero in both)', () => {
    for (const [c1, c2] of [[400, 333], [1234, 50], [77, 5000], [9000, 21]] as const) {
      const a = fresh();
      a.fuel = c1;
      a.call('run', [i32(N)]);
      const b = restore(new Module(PROGRAM), snapshot(a));
      a.resume({ fuel: c2 });
      b.resume({ fuel: c2 });
      expect(snapshot(b)).toEqual(snapshot(a));
    }
  });

  it('restores a call paused at the call depth limit', () => {
    const bytes = wat(`(module (func $r (export "r") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))`);
    const opts = { maxCallDepth: 5 };
    let deepest = 0;
    for (let cut = 1; cut < 200; cut++) {
      const a = new Instance(new Module(bytes), {}, opts);
      a.fuel = cut;
      if (a.call('r', [i32(5)]).kind !== 'out-of-fuel') break;
      deepest = Math.max(deepest, a.machine.depth);
      const b = restore(new Module(bytes), snapshot(a), {}, opts);
      expect(finish(b, b.resume({ fuel: 1000 }))).toEqual({ kind: 'done', results: [i32(5)] });
    }
    expect(deepest).toBe(5);
  });
});
