/**
 * Calls between compiled functions agree with the interpreter: results,
 * traps, fuel used and the snapshot bytes at every cut, with values of
 * every kind live across calls, callees that pause (out of fuel, or waiting
 * on the host) at any point, call_indirect through a table the guest
 * changes, and recursion to the depth limit. (The compiled tier caches a
 * callee's code at each call site, skips the locals' zeros at entry and
 * makes room for a frame record only when a callee stops: what these tests
 * check it may do.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Instance, Module, Suspend, f64, i32, i64, restore, snapshot, toJs, type Outcome, type Value } from '../index.js';
import { wat } from '../../../test/helpers/wat.js';
import type { Tier } from './index.js';

interface Ending {
  /** The outcome at the end: results, or a trap's message and wasm stack. */
  end: unknown;
  used: number;
  /** Snapshot bytes at each stop (out of fuel or waiting), in order. */
  snaps: Buffer[];
}

type Imports = Record<string, Record<string, unknown>>;

/**
 * Calls `name` with `args` in a fresh instance of `tier`; at each stop
 * (out of fuel: the next of `cuts`, then plenty; waiting on the host:
 * `answer`) it snapshots, and goes on either in the same instance or,
 * with `moveTo`, in one restored from the snapshot into that tier.
 */
function runTier(bytes: Uint8Array, tier: Tier, name: string, args: Value[], cuts: readonly number[], imports: Imports = {}, opts: { moveTo?: Tier; maxCallDepth?: number; maxStackBytes?: number; answer?: (n: number) => Value[] } = {}): Ending {
  const modOpts = (t: Tier) => ({ tier: t, features: { tailCall: true } });
  const limits = { ...(opts.maxCallDepth !== undefined ? { maxCallDepth: opts.maxCallDepth } : {}), ...(opts.maxStackBytes !== undefined ? { maxStackBytes: opts.maxStackBytes } : {}) };
  let inst = new Instance(new Module(bytes, modOpts(tier)), imports as never, limits);
  const left = [...cuts];
  const snaps: Buffer[] = [];
  inst.fuel = left.length > 0 ? left.shift()! : 1e12;
  let o: Outcome = inst.call(name, args);
  let waits = 0;
  while (o.kind === 'out-of-fuel' || o.kind === 'waiting') {
    const snap = snapshot(inst);
    snaps.push(Buffer.from(snap));
    if (opts.moveTo !== undefined) inst = restore(new Module(bytes, modOpts(opts.moveTo)), snap, imports as never);
    const fuel = left.length > 0 ? left.shift()! : 1e12;
    o = o.kind === 'waiting' ? inst.resume({ results: opts.answer!(waits++), fuel }) : inst.resume({ fuel });
  }
  const last = o as Outcome;
  const end = last.kind === 'done' ? last.results.map(toJs) : last.kind === 'trapped' ? { message: last.trap.message, stack: last.trap.wasmStack } : last.kind;
  return { end, used: inst.fuelUsed, snaps };
}

/** The same run in both tiers (and, with `move`, moved to the other tier at each stop): equal endings. */
function expectSame(bytes: Uint8Array, name: string, args: Value[], cuts: readonly number[], imports: Imports = {}, opts: { move?: boolean; maxCallDepth?: number; maxStackBytes?: number; answer?: (n: number) => Value[] } = {}): Ending {
  const a = runTier(bytes, 'interpreter', name, args, cuts, imports, { ...opts, moveTo: opts.move === true ? 'compiled' : undefined });
  const b = runTier(bytes, 'compiled', name, args, cuts, imports, { ...opts, moveTo: opts.move === true ? 'interpreter' : undefined });
  expect(b.end).toEqual(a.end);
  expect(b.used).toBe(a.used);
  expect(b.snaps.length).toBe(a.snaps.length);
  for (let i = 0; i < a.snaps.length; i++) expect(b.snaps[i]!.equals(a.snaps[i]!), `snapshot ${i}`).toBe(true);
  return a;
}

/** Fuel a whole run takes (in the interpreter). */
function fuelOf(bytes: Uint8Array, name: string, args: Value[], imports: Imports = {}): number {
  const inst = new Instance(new Module(bytes, { tier: 'interpreter', features: { tailCall: true } }), imports as never);
  inst.fuel = 1e12;
  const o = inst.call(name, args);
  expect(o.kind).not.toBe('out-of-fuel');
  return inst.fuelUsed;
}

// Recursion with operand slots of every kind live across its calls: an i64 and an f64 computed before each
// call and used after it, and i32s at and above the call's base.
const recursive = wat(`(module
  (func $f (export "f") (param $n i32) (param $x i64) (param $y f64) (result i64)
    (local $t i64) (local $d f64)
    (if (result i64) (i32.lt_s (local.get $n) (i32.const 2))
      (then (i64.add (local.get $x) (i64.trunc_f64_s (local.get $y))))
      (else
        (local.set $d (f64.mul (local.get $y) (f64.const 0.75)))
        (local.set $t
          (i64.add
            (i64.mul (local.get $x) (i64.const 0x100000003))
            (i64.xor
              (call $f (i32.sub (local.get $n) (i32.const 1)) (i64.rotl (local.get $x) (i64.const 13)) (f64.add (local.get $d) (f64.const 1.25)))
              (i64.extend_i32_s
                (i32.add (i32.mul (local.get $n) (i32.const 7))
                  (i32.trunc_f64_s (f64.add (local.get $d)
                    (f64.convert_i64_s (i64.shr_s (call $f (i32.sub (local.get $n) (i32.const 2)) (i64.sub (local.get $x) (i64.const 0x7fffffff)) (f64.neg (local.get $d))) (i64.const 40))))))))))
        (i64.add (local.get $t) (i64.trunc_f64_s (f64.floor (local.get $d))))))))`);

// Mutual recursion: each keeps a sum in an operand slot and an f64 in a local across the call into the other,
// and runs a loop of its own between calls.
const mutual = wat(`(module
  (func $even (export "even") (param $n i32) (param $acc i64) (result i64) (local $k i32) (local $z f64)
    (if (result i64) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else
        (local.set $z (f64.convert_i32_u (local.get $n)))
        (loop $l
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $k) (i32.and (local.get $n) (i32.const 3)))))
        (i64.add
          (i64.add (local.get $acc) (i64.const 0x500000000))
          (i64.add (call $odd (i32.sub (local.get $n) (i32.const 1)) (i64.shl (local.get $acc) (i64.const 1)))
            (i64.trunc_f64_s (f64.sqrt (local.get $z))))))))
  (func $odd (param $n i32) (param $acc i64) (result i64) (local $w f64)
    (local.set $w (f64.div (f64.convert_i64_s (local.get $acc)) (f64.const 3)))
    (if (result i64) (i32.eqz (local.get $n))
      (then (i64.trunc_sat_f64_s (local.get $w)))
      (else
        (i64.sub
          (i64.mul (local.get $acc) (i64.const -3))
          (i64.sub (call $even (i32.sub (local.get $n) (i32.const 1)) (i64.rotr (local.get $acc) (i64.const 3)))
            (i64.trunc_sat_f64_s (local.get $w))))))))`);

describe('calls between compiled functions agree with the interpreter', () => {
  it('recursion with i64, f64 and i32 values live across its calls: same result and fuel', () => {
    for (const n of [0, 1, 2, 5, 12]) expectSame(recursive, 'f', [i32(n), i64(0x123456789abn), f64(2.5)], []);
    for (const n of [0, 1, 7, 40]) expectSame(mutual, 'even', [i32(n), i64(5n)], []);
  });

  it('a callee out of fuel at every fuel count of a small run pauses where the interpreter does, with the same snapshot bytes', () => {
    const args = [i32(6), i64(77n), f64(-3.5)];
    const total = fuelOf(recursive, 'f', args);
    expect(total).toBeLessThan(3_000);
    for (let cut = 1; cut < total; cut++) expectSame(recursive, 'f', args, [cut]);
    const margs = [i32(9), i64(3n)];
    const mtotal = fuelOf(mutual, 'even', margs);
    for (let cut = 1; cut < mtotal; cut++) expectSame(mutual, 'even', margs, [cut]);
  }, 120_000);

  it('property: cut at any fuel counts, and moved to the other tier at each cut, a recursive run ends as the interpreter\'s', () => {
    const args = [i32(10), i64(-9n), f64(1e6)];
    const total = fuelOf(recursive, 'f', args);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: total }), { minLength: 1, maxLength: 6 }), fc.boolean(), (cuts, move) => {
        expectSame(recursive, 'f', args, cuts, {}, { move });
      }),
      { numRuns: 40 },
    );
    const margs = [i32(30), i64(11n)];
    const mtotal = fuelOf(mutual, 'even', margs);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: mtotal }), { minLength: 1, maxLength: 6 }), fc.boolean(), (cuts, move) => {
        expectSame(mutual, 'even', margs, cuts, {}, { move });
      }),
      { numRuns: 40 },
    );
  });

  it('a host import that suspends deep in a recursion: same snapshots at the wait and after it, in either tier', () => {
    // Every level keeps an i64 and an f64 in operand slots across its call; the host waits at levels 0 and 3.
    const bytes = wat(`(module (import "host" "wait" (func $wait (param i32) (result i32)))
      (func $r (export "r") (param $n i32) (result i64)
        (if (result i64) (i32.le_s (local.get $n) (i32.const 0))
          (then (i64.extend_i32_s (call $wait (local.get $n))))
          (else
            (i64.add
              (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 0x300000001))
              (i64.add
                (i64.reinterpret_f64 (f64.mul (f64.convert_i32_s (local.get $n)) (f64.const 0.5)))
                (i64.add (call $r (i32.sub (local.get $n) (i32.const 1)))
                  (if (result i64) (i32.eq (local.get $n) (i32.const 3))
                    (then (i64.extend_i32_s (call $wait (local.get $n))))
                    (else (i64.const 0))))))))))`);
    const imports = { host: { wait: (n: number) => (n === 0 || n === 3 ? new Suspend(`at ${n}`) : n) } };
    const answer = (k: number): Value[] => [i32(1000 + k)];
    for (const move of [false, true]) {
      const a = expectSame(bytes, 'r', [i32(8)], [], imports, { move, answer });
      expect(a.snaps.length).toBe(2);
    }
    const total = fuelOf(bytes, 'r', [i32(8)], { host: { wait: (n: number) => n } });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: total }), { minLength: 1, maxLength: 4 }), fc.boolean(), (cuts, move) => {
        expectSame(bytes, 'r', [i32(8)], cuts, imports, { move, answer });
      }),
      { numRuns: 30 },
    );
  });

  it('call_indirect through a table the guest changes: the same callees, traps and fuel', () => {
    // $step sets table slot (i mod 4) to one of three functions (or null, or one of another type) and calls
    // through the table; $rec recurses through the table too, with values live across the indirect calls.
    const bytes = wat(`(module
      (type $t (func (param i32 i64) (result i64)))
      (type $u (func (param i32) (result i32)))
      (table $tab 4 funcref)
      (elem declare func $a $b $c $bad $rec)
      (func $a (type $t) (i64.add (local.get 1) (i64.extend_i32_s (local.get 0))))
      (func $b (type $t) (i64.mul (local.get 1) (i64.const 3)))
      (func $c (type $t) (i64.xor (local.get 1) (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 33))))
      (func $bad (type $u) (local.get 0))
      (func $rec (type $t)
        (if (result i64) (i32.le_s (local.get 0) (i32.const 0))
          (then (local.get 1))
          (else (i64.add (i64.mul (local.get 1) (i64.const 5))
            (call_indirect $tab (type $t) (i32.sub (local.get 0) (i32.const 1)) (i64.add (local.get 1) (i64.const 1)) (i32.const 3))))))
      (func (export "run") (param $n i32) (param $mode i32) (result i64) (local $i i32) (local $acc i64)
        (table.set $tab (i32.const 3) (ref.func $rec))
        (loop $l
          (table.set $tab (i32.and (local.get $i) (i32.const 1))
            (select (result funcref) (ref.func $a) (ref.func $b) (i32.and (local.get $i) (i32.const 2))))
          (table.set $tab (i32.const 2) (ref.func $c))
          (if (i32.and (i32.eq (local.get $i) (i32.const 18)) (i32.eq (local.get $mode) (i32.const 1)))
            (then (table.set $tab (i32.const 2) (ref.null func))))
          (if (i32.and (i32.eq (local.get $i) (i32.const 22)) (i32.eq (local.get $mode) (i32.const 2)))
            (then (table.set $tab (i32.const 2) (ref.func $bad))))
          (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 7))
            (call_indirect $tab (type $t) (local.get $i) (local.get $acc) (i32.rem_u (local.get $i) (i32.const 4)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i64.add (local.get $acc)
          (call_indirect $tab (type $t) (i32.const 4) (local.get $acc) (select (i32.const 3) (i32.const 9) (i32.ne (local.get $mode) (i32.const 3)))))))`);
    const ends = [0, 1, 2, 3].map((mode) => expectSame(bytes, 'run', [i32(40), i32(mode)], []).end);
    expect(typeof (ends[0] as unknown[])[0]).toBe('bigint');
    expect((ends[1] as { message: string }).message).toMatch(/uninitialized element/);
    expect((ends[2] as { message: string }).message).toBe('indirect call type mismatch');
    expect((ends[3] as { message: string }).message).toBe('undefined element');
    const total = fuelOf(bytes, 'run', [i32(40), i32(0)]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: total }), { minLength: 1, maxLength: 5 }), fc.boolean(), (cuts, move) => {
        expectSame(bytes, 'run', [i32(40), i32(0)], cuts, {}, { move });
      }),
      { numRuns: 30 },
    );
  });

  it('recursion to the depth limit: exactly as deep as the interpreter goes, the same trap, stack and fuel; cuts near the limit', () => {
    const bytes = wat(`(module
      (func $d (export "d") (param $n i32) (param $x i64) (result i64)
        (if (result i64) (i32.eqz (local.get $n))
          (then (local.get $x))
          (else (i64.add (i64.mul (local.get $x) (i64.const 3))
            (call $d (i32.sub (local.get $n) (i32.const 1)) (i64.add (local.get $x) (i64.const 0x100000001))))))))`);
    const limit = 700;
    // The deepest run that fits (the outside call at depth 0, a call from depth maxCallDepth - 1 to
    // maxCallDepth the last allowed), and the first that does not.
    const fits = expectSame(bytes, 'd', [i32(limit), i64(1n)], [], {}, { maxCallDepth: limit });
    expect(Array.isArray(fits.end)).toBe(true);
    const over = expectSame(bytes, 'd', [i32(limit + 1), i64(1n)], [], {}, { maxCallDepth: limit });
    expect((over.end as { message: string }).message).toBe('call stack exhausted');
    expect((over.end as { stack: unknown[] }).stack.length).toBe(64);
    // The stack limit instead (each frame takes a few dozen bytes): the same trap where the stack cannot grow.
    const stackOver = expectSame(bytes, 'd', [i32(limit), i64(1n)], [], {}, { maxStackBytes: 16 * 1024 });
    expect((stackOver.end as { message: string }).message).toBe('call stack exhausted');
    const total = fuelOf(bytes, 'd', [i32(limit), i64(1n)]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: Math.floor(total / 2), max: total }), { minLength: 1, maxLength: 3 }), fc.boolean(), (cuts, move) => {
        expectSame(bytes, 'd', [i32(limit), i64(1n)], cuts, {}, { move, maxCallDepth: limit });
        expectSame(bytes, 'd', [i32(limit + 5), i64(1n)], cuts, {}, { move, maxCallDepth: limit });
      }),
      { numRuns: 15 },
    );
  });

  it('a callee left to the interpreter (a tail call) is called from compiled code as often as it is, and two instances share the compiled callers', () => {
    const bytes = wat(`(module
      (func $tail (param i32) (param i64) (result i64)
        (if (result i64) (i32.eqz (local.get 0)) (then (local.get 1))
          (else (return_call $tail (i32.sub (local.get 0) (i32.const 1)) (i64.add (local.get 1) (i64.const 0x10000000f))))))
      (func $plain (param i32) (result i64) (i64.extend_i32_u (i32.mul (local.get 0) (local.get 0))))
      (func (export "go") (param $n i32) (result i64) (local $acc i64)
        (loop $l
          (local.set $acc (i64.add (local.get $acc)
            (i64.xor (call $tail (i32.and (local.get $n) (i32.const 7)) (local.get $acc)) (call $plain (local.get $n)))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (local.get $n)))
        (local.get $acc)))`);
    const want = expectSame(bytes, 'go', [i32(50)], []).end;
    const mod = new Module(bytes, { tier: 'compiled', features: { tailCall: true } });
    for (let k = 0; k < 3; k++) {
      const o = new Instance(mod, {}).call('go', [i32(50)]);
      if (o.kind !== 'done') throw new Error(o.kind);
      expect(o.results.map(toJs)).toEqual(want);
    }
    const total = fuelOf(bytes, 'go', [i32(50)]);
    for (let cut = 1; cut < total; cut += 7) expectSame(bytes, 'go', [i32(50)], [cut, 13]);
  }, 60_000);
});
