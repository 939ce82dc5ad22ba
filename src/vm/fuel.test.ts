import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { wat } from '../../test/helpers/wat.js';
import { Exhaustion, Func, Instance, Module, StateError, Suspend, Trap, ValType, i32, type Outcome, type Value } from './index.js';
import { GROW_PAGE_COST } from './interp.js';

function inst(text: string, imports = {}, options = {}): Instance {
  return new Instance(new Module(wat(text)), imports, options);
}

const I32 = ValType.i32;

/** A program with loops, calls, an indirect call and memory: sum over i of f(i), f through a table. */
const PROGRAM = `(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $sq $cube)
  (type $t (func (param i32) (result i32)))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
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
      (i32.store (i32.shl (i32.and (local.get $i) (i32.const 255)) (i32.const 2)) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $top)))
    (i32.add (local.get $s) (call $fib (i32.const 15)))))`;

/** Runs `run(n)` to the end in slices of the given sizes (cycled); returns the outcome and the fuel used. */
function sliced(slices: number[], n: number): { out: Outcome; used: number; stops: number; memory: Uint8Array } {
  const i = inst(PROGRAM);
  let k = 0;
  i.fuel = slices[k++ % slices.length]!;
  let out = i.call('run', [i32(n)]);
  let stops = 0;
  while (out.kind === 'out-of-fuel') {
    stops++;
    out = i.resume({ fuel: slices[k++ % slices.length]! });
  }
  const mem = i.getExport('memory');
  return { out, used: i.fuelUsed, stops, memory: mem === undefined ? new Uint8Array() : (mem as { bytes(): Uint8Array }).bytes().slice() };
}

describe('fuel', () => {
  it('stops an endless loop and resumes it where it stopped', () => {
    const i = inst(`(module (global $g (export "g") (mut i32) (i32.const 0))
      (func (export "spin") (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l))))`);
    i.fuel = 10_000;
    expect(i.call('spin')).toEqual({ kind: 'out-of-fuel' });
    expect(i.status).toBe('out-of-fuel');
    const g = (i.exports.g as { value: number }).value;
    expect(g).toBeGreaterThan(1000);
    expect(i.fuelUsed).toBeLessThanOrEqual(10_000);
    expect(i.resume({ fuel: 10_000 }).kind).toBe('out-of-fuel');
    expect((i.exports.g as { value: number }).value).toBeGreaterThan(g);
    i.abort();
    expect(i.status).toBe('idle');
  });

  it('stops at the same point for the same budget, every time', () => {
    const a = sliced([777], 300);
    const b = sliced([777], 300);
    expect(a.stops).toBeGreaterThan(3);
    expect(b).toEqual(a);
  });

  it('counts the same fuel and computes the same results however the run is sliced', () => {
    const whole = sliced([Number.MAX_SAFE_INTEGER], 200);
    expect(whole.out.kind).toBe('done');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }), (slices) => {
        const r = sliced(slices, 200);
        expect(r.out).toEqual(whole.out);
        expect(r.used).toBe(whole.used);
        expect(r.memory).toEqual(whole.memory);
      }),
      { numRuns: 60 },
    );
  });

  it('pays for a finished call exactly what an unmetered run reports as used', () => {
    const i = inst(PROGRAM);
    expect(i.call('run', [i32(50)]).kind).toBe('done');
    const used = i.fuelUsed;
    const j = inst(PROGRAM);
    j.fuel = used;
    expect(j.call('run', [i32(50)]).kind).toBe('done');
    expect(j.fuel).toBe(0);
    const k = inst(PROGRAM);
    k.fuel = used - 1;
    expect(k.call('run', [i32(50)]).kind).toBe('out-of-fuel');
  });

  it('pays for bulk instructions before the work, in parts: one larger than the slice pauses inside itself and ends alike however sliced', () => {
    // Each bulk instruction of a size well above the slices below, with overlaps both ways, on memory and tables.
    const BULK = `(module (memory 64) (table $t 4000 funcref) (table $u 4000 funcref)
      (data $d "0123456789abcdefghijklmnopqrstuvwxyz")
      (elem $e func $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f)
      (func $f)
      (func (export "run") (result i32) (local $i i32)
        (memory.fill (i32.const 100) (i32.const 7) (i32.const 1000000))
        (loop $l
          (memory.init $d (i32.mul (local.get $i) (i32.const 36)) (i32.const 0) (i32.const 36))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 2000))))
        (memory.copy (i32.const 1000) (i32.const 0) (i32.const 2000000))
        (memory.copy (i32.const 0) (i32.const 3000) (i32.const 2000000))
        (table.fill $t (i32.const 0) (ref.func $f) (i32.const 3000))
        (table.init $u $e (i32.const 10) (i32.const 0) (i32.const 40))
        (table.copy $u $t (i32.const 100) (i32.const 0) (i32.const 3000))
        (table.copy $u $u (i32.const 50) (i32.const 0) (i32.const 3900))
        (drop (table.grow $t (ref.func $f) (i32.const 50000)))
        (i32.add (memory.grow (i32.const 100)) (table.size $t))))`;
    const m = new Module(wat(BULK));
    const runIn = (slices: number[]) => {
      const i = new Instance(m);
      let k = 0;
      i.fuel = slices[k++ % slices.length]!;
      let out = i.call('run');
      let stops = 0;
      while (out.kind === 'out-of-fuel') {
        stops++;
        out = i.resume({ fuel: slices[k++ % slices.length]! });
      }
      const tables = ['$t', '$u'].map((_, n) => (i.inst.tables[n]!.elements as unknown[]).map((x) => (x === null ? 0 : 1)).join(''));
      // Compared by hash: toEqual on 10 MiB of bytes is far too slow.
      const memory = createHash('sha256').update(i.inst.memories[0]!.bytes()).digest('hex');
      return { out, used: i.fuelUsed, stops, memory, tables, pages: i.inst.memories[0]!.pages };
    };
    const whole = runIn([Number.MAX_SAFE_INTEGER]);
    expect(whole.out).toEqual({ kind: 'done', results: [i32(64 + 54000)] });
    expect(whole.pages).toBe(164);
    // The size part alone: 1,000,000/64 + 2,000,000/64 twice + 3,000/8 + 40/8 + 3,000/8 + 3,900/8 + 50,000 + 100 pages.
    expect(whole.used).toBeGreaterThan(15_625 + 2 * 31_250 + 375 + 5 + 375 + 487 + 50_000 + 100 * GROW_PAGE_COST);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 4 }), (slices) => {
        const r = runIn(slices);
        expect(r.out).toEqual(whole.out);
        expect(r.used).toBe(whole.used);
        expect(r.memory).toEqual(whole.memory);
        expect(r.tables).toEqual(whole.tables);
      }),
      { numRuns: 15 },
    );
  });

  it('does no more bulk work in one slice than the slice pays for', () => {
    const i = inst(`(module (memory 16)
      (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 1048576))))`);
    i.fuel = 100;
    expect(i.call('fill').kind).toBe('out-of-fuel');
    const bytes = i.inst.memories[0]!.bytes();
    // 100 units, less the instructions before the fill, each paying for 64 bytes.
    const filled = bytes.indexOf(0);
    expect(filled).toBeGreaterThan(0);
    expect(filled).toBeLessThanOrEqual(100 * 64);
    expect(filled % 64).toBe(0);
    expect(i.fuel).toBe(0);
    let out = i.resume({ fuel: 100 });
    expect(bytes.indexOf(0)).toBe(filled + 100 * 64);
    let stops = 1;
    while (out.kind === 'out-of-fuel') {
      out = i.resume({ fuel: 100_000 });
      stops++;
    }
    expect(out.kind).toBe('done');
    expect(bytes.indexOf(0)).toBe(-1);
    expect(stops).toBe(2);
  });

  it('a paused instruction paid in parts keeps its progress while the host calls other exports that run bulk instructions', () => {
    const i = inst(`(module (memory 4)
      (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 100000)))
      (func (export "other") (memory.fill (i32.const 200000) (i32.const 9) (i32.const 10000))))`);
    const whole = inst(`(module (memory 4) (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 100000))))`);
    expect(whole.call('fill').kind).toBe('done');
    i.fuel = 500;
    expect(i.call('fill').kind).toBe('out-of-fuel');
    const used = i.fuelUsed;
    i.fuel = 1000;
    (i.exports.other as () => void)();
    const otherUsed = i.fuelUsed - used;
    let out = i.resume({ fuel: 500 });
    while (out.kind === 'out-of-fuel') out = i.resume({ fuel: 500 });
    expect(out.kind).toBe('done');
    expect(i.fuelUsed - otherUsed).toBe(whole.fuelUsed);
    const bytes = i.inst.memories[0]!.bytes();
    expect(bytes.subarray(0, 100000).every((b) => b === 7)).toBe(true);
    expect(bytes[100000]).toBe(0);
    expect(bytes.subarray(200000, 210000).every((b) => b === 9)).toBe(true);
  });

  it('charges memory.grow per page before growing; a grow past the limit costs nothing more and fails at once', () => {
    const i = inst(`(module (memory 1 10)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);
    expect(i.call('grow', [i32(2)])).toEqual({ kind: 'done', results: [i32(1)] });
    const per2 = i.fuelUsed;
    expect(per2).toBeGreaterThanOrEqual(2 * GROW_PAGE_COST);
    expect(i.call('grow', [i32(100)])).toEqual({ kind: 'done', results: [i32(-1)] });
    expect(i.fuelUsed - per2).toBeLessThan(GROW_PAGE_COST);
    // A grow paid over three slices: nothing grows until the last one.
    i.fuel = GROW_PAGE_COST;
    let out = i.call('grow', [i32(3)]);
    expect(out.kind).toBe('out-of-fuel');
    expect(i.inst.memories[0]!.pages).toBe(3);
    out = i.resume({ fuel: GROW_PAGE_COST });
    expect(out.kind).toBe('out-of-fuel');
    expect(i.inst.memories[0]!.pages).toBe(3);
    out = i.resume({ fuel: 10 * GROW_PAGE_COST });
    expect(out).toEqual({ kind: 'done', results: [i32(3)] });
    expect(i.inst.memories[0]!.pages).toBe(6);
  });

  it('a call that cannot pause fails a grow it cannot pay (-1) and traps with Exhaustion before a bulk instruction it cannot pay', () => {
    const i = inst(`(module (memory 1) (table 1 funcref)
      (func (export "grow") (result i32) (memory.grow (i32.const 5)))
      (func (export "tgrow") (result i32) (table.grow (ref.null func) (i32.const 100000)))
      (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 65536))))`);
    i.fuel = 500;
    expect((i.exports.grow as () => number)()).toBe(-1);
    expect((i.exports.tgrow as () => number)()).toBe(-1);
    expect(i.inst.memories[0]!.pages).toBe(1);
    expect(i.inst.tables[0]!.length).toBe(1);
    expect(() => (i.exports.fill as () => void)()).toThrow(Exhaustion);
    expect(i.inst.memories[0]!.bytes().every((b) => b === 0)).toBe(true);
  });

  it('traps with Exhaustion when a call that cannot pause runs out of fuel', () => {
    const i = inst(`(module (func (export "spin") (loop $l (br $l))))`);
    i.fuel = 1000;
    expect(() => (i.exports.spin as () => void)()).toThrow(Exhaustion);
    expect(() => (i.exports.spin as () => void)()).toThrow(/out of fuel/);
  });

  it('refuses fuel that is not a non-negative integer', () => {
    const i = inst(`(module)`);
    expect(() => (i.fuel = -1)).toThrow(RangeError);
    expect(() => (i.fuel = 1.5)).toThrow(RangeError);
    expect(() => (i.fuel = NaN)).toThrow(RangeError);
  });
});

describe('host calls that pause', () => {
  const HOST = `(module
    (import "host" "get" (func $get (param i32) (result i32)))
    (global $acc (export "acc") (mut i32) (i32.const 0))
    (func (export "peek") (result i32) (global.get $acc))
    (func (export "run") (param $n i32) (result i32) (local $i i32)
      (block $done (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (global.set $acc (i32.add (global.get $acc) (call $get (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
      (global.get $acc))
    (func (export "tail") (param i32) (result i32) (return_call $get (local.get 0))))`;

  it('pauses the guest inside the call when the host returns a Promise, and resumes it with the results', async () => {
    const seen: number[] = [];
    const get = (x: number) => {
      seen.push(x);
      return Promise.resolve(x * 10);
    };
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get } });
    let out = i.call('run', [i32(3)]);
    let waits = 0;
    while (out.kind === 'waiting') {
      waits++;
      expect(out.call.module).toBe('host');
      expect(out.call.name).toBe('get');
      const results = await out.call.answer;
      out = i.resume({ results: results as Value[] });
    }
    expect(waits).toBe(3);
    expect(out).toEqual({ kind: 'done', results: [i32(30)] });
    expect(seen).toEqual([0, 1, 2]);
  });

  it('pauses on a Suspend until the host resumes, and lets the host call other exports meanwhile', () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: () => new Suspend('wait') } });
    const out = i.call('run', [i32(2)]);
    expect(out.kind).toBe('waiting');
    if (out.kind !== 'waiting') return;
    expect(out.call.answer).toBeInstanceOf(Suspend);
    expect((out.call.answer as Suspend).data).toBe('wait');
    expect(out.call.args).toEqual([i32(0)]);
    expect((i.exports.peek as () => number)()).toBe(0);
    expect(() => i.call('run', [i32(1)])).toThrow(StateError);
    const next = i.resume({ results: [i32(5)] });
    expect(next.kind).toBe('waiting');
    expect(i.resume({ results: [i32(7)] })).toEqual({ kind: 'done', results: [i32(12)] });
    expect(() => i.resume()).toThrow(StateError);
  });

  it('traps the guest at the call when resumed with an error', () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: () => new Suspend() } });
    expect(i.call('run', [i32(2)]).kind).toBe('waiting');
    const out = i.resume({ error: new Error('disk on fire') });
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') {
      expect(out.trap).toBeInstanceOf(Trap);
      expect(out.trap.message).toMatch(/disk on fire/);
      expect(out.trap.wasmStack[0]!.name).toBe('run');
    }
    expect(i.status).toBe('idle');
  });

  it('traps when resumed with results of the wrong type', () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: () => new Suspend() } });
    i.call('run', [i32(1)]);
    const out = i.resume({ results: [] });
    expect(out.kind).toBe('trapped');
  });

  it('pauses in a tail call of a host function and returns its results', () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: () => new Suspend() } });
    expect(i.call('tail', [i32(4)]).kind).toBe('waiting');
    expect(i.resume({ results: [i32(99)] })).toEqual({ kind: 'done', results: [i32(99)] });
  });

  it('traps instead of pausing where it cannot: through the JS API, or with a host function on the stack', () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: () => Promise.resolve(1) } });
    expect(() => (i.exports.run as (n: number) => number)(1)).toThrow(/paused outside a call that can wait/);

    // The outer host function calls back into the instance, whose callee pauses: not allowed.
    let inner: Instance | null = null;
    const j = new Instance(
      new Module(wat(`(module (import "h" "outer" (func $o (result i32))) (import "h" "inner" (func $i (result i32)))
        (func (export "a") (result i32) (call $o)) (func (export "b") (result i32) (call $i)))`)),
      { h: { outer: () => (inner!.exports.b as () => number)(), inner: () => new Suspend() } },
    );
    inner = j;
    const out = j.call('a');
    expect(out.kind).toBe('trapped');
  });

  it('runs to the end with callAsync, awaiting Promises and slicing fuel', async () => {
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), {
      host: { get: (x: number) => new Promise((r) => setTimeout(() => r(x + 1), 1)) },
    });
    const out = await i.callAsync('run', [i32(4)], { slice: 5 });
    expect(out).toEqual({ kind: 'done', results: [i32(10)] });
  });

  it('rejects raw host functions that return malformed results with a trap', () => {
    const bad = Func.host({ params: [I32], results: [I32] }, () => [{ type: 'i64', value: 1n }]);
    const i = new Instance(new Module(wat(HOST), { features: { tailCall: true } }), { host: { get: bad } });
    const out = i.call('run', [i32(1)]);
    expect(out.kind).toBe('trapped');
  });
});

describe('fuel from inside host calls', () => {
  const LOOP = `(module
    (import "host" "work" (func $work (param i32)))
    (func (export "run") (param $n i32) (local $i i32)
      (block $done (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $work (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))))`;

  it('charges host work as used fuel, running into debt', () => {
    let self: Instance | null = null;
    const i = inst(LOOP, { host: { work: () => self!.charge(1000) } });
    self = i;
    i.fuel = 100_000;
    const plain = inst(LOOP, { host: { work: () => undefined } });
    plain.fuel = 100_000;
    expect(i.call('run', [i32(10)]).kind).toBe('done');
    expect(plain.call('run', [i32(10)]).kind).toBe('done');
    expect(i.fuelUsed - plain.fuelUsed).toBe(10_000);
    // A charge larger than what is left leaves a debt: the run stops at its next branch.
    i.fuel = 500;
    expect(i.call('run', [i32(1)]).kind).toBe('out-of-fuel');
    expect(i.fuel).toBeLessThan(0);
    i.addFuel(1_000);
    expect(i.resume().kind).toBe('done');
    expect(() => i.charge(-1)).toThrow(RangeError);
  });

  it('drops the fuel left so the run stops at its next branch, not counted as used', () => {
    let self: Instance | null = null;
    let calls = 0;
    const i = inst(LOOP, {
      host: {
        work: () => {
          if (++calls === 3) self!.dropFuel();
        },
      },
    });
    self = i;
    i.fuel = 1_000_000;
    const out = i.call('run', [i32(100)]);
    expect(out.kind).toBe('out-of-fuel');
    expect(calls).toBe(3);
    expect(i.fuelUsed).toBeLessThan(100);
  });

  it('says whether a host call can pause where it is', () => {
    let self: Instance | null = null;
    const seen: boolean[] = [];
    const i = inst(LOOP, { host: { work: () => void seen.push(self!.canSuspend) } });
    self = i;
    i.call('run', [i32(1)]); // resumable
    (i.exports.run as (n: number) => void)(1); // through the JS API: cannot pause
    expect(seen).toEqual([true, false]);
  });

  it('reports the fuel of the start function, also when it runs out', () => {
    const used: number[] = [];
    const ok = inst('(module (func $s (local i32) (loop (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if 0 (i32.lt_u (local.get 0) (i32.const 100))))) (start $s))', {}, { fuel: 1_000_000, onStartFuel: (u: number) => used.push(u) });
    expect(used).toHaveLength(1);
    expect(used[0]).toBe(ok.fuelUsed);
    expect(() => inst('(module (func $s (loop (br 0))) (start $s))', {}, { fuel: 5_000, onStartFuel: (u: number) => used.push(u) })).toThrow(Exhaustion);
    expect(used[1]).toBeGreaterThanOrEqual(5_000);
  });
});

describe('regressions found in review', () => {
  it('a resume with results of the wrong JS type traps the call, and the instance cannot pause from the JS API afterwards', () => {
    const i = new Instance(
      new Module(wat(`(module (import "h" "get" (func $get (result i64))) (import "h" "cb" (func $cb (result i32)))
        (func (export "run") (result i64) (call $get)) (func (export "other") (result i32) (call $cb)))`)),
      { h: { get: Func.host({ params: [], results: [ValType.i64] }, () => new Suspend()), cb: Func.host({ params: [], results: [I32] }, () => new Suspend()) } },
    );
    expect(i.call('run').kind).toBe('waiting');
    const out = i.resume({ results: [{ type: 'i64', value: 5 } as unknown as Value] });
    expect(out.kind).toBe('trapped');
    expect(i.status).toBe('idle');
    expect(() => (i.exports.other as () => number)()).toThrow(/paused outside a call that can wait/);
    expect(i.status).toBe('idle');
  });

  it('callAsync through calls into another instance ends alike whatever the slice (nested runs overdraw instead of trapping)', async () => {
    const b = new Instance(new Module(wat(`(module (func (export "work") (param i32) (result i32) (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get 0)))) (local.get $i)))`)));
    const a = new Instance(
      new Module(wat(`(module (import "b" "work" (func $w (param i32) (result i32)))
        (func (export "run") (result i32) (local $i i32) (local $s i32)
          (loop $l (local.set $s (i32.add (local.get $s) (call $w (i32.const 100))))
            (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50)))) (local.get $s)))`)),
      { b: { work: b.exports.work as (n: number) => number } },
    );
    for (const slice of [1_000_000, 1000, 7]) expect(await a.callAsync('run', [], { slice })).toEqual({ kind: 'done', results: [i32(5000)] });
  });

  it('a nested run that never ends still stops, with Exhaustion', () => {
    let outer: Instance | null = null;
    outer = new Instance(new Module(wat(`(module (import "h" "f" (func $f)) (func (export "run") (call $f)) (func (export "spin") (loop $l (br $l))))`)), {
      h: { f: () => (outer!.exports.spin as () => void)() },
    });
    outer.fuel = 1000;
    const out = outer.call('run');
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') expect(out.trap.message).toMatch(/out of fuel/);
  });

  it('callAsync gives back the fuel it did not use', async () => {
    const i = inst(`(module (func (export "f") (result i32) (i32.const 7)))`);
    i.fuel = 1_000_000_000;
    expect((await i.callAsync('f', [], { slice: 1000 })).kind).toBe('done');
    expect(i.fuel + i.fuelUsed).toBe(1_000_000_000);
  });
});
