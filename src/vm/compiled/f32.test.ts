/**
 * f32 values in the compiled tier: kept as numbers in variables (the 'y'
 * slots of compile.ts), they must still leave S, memory and results bit for
 * bit as the interpreter does. The hard cases are NaNs: a signalling NaN read
 * as a number is quieted, so a load, store, copy, select, reinterpret or call
 * that moves one must move its bits, and an arithmetic result that is a NaN
 * must have the bits the interpreter's Float32Array store gives it.
 *
 * The programs give binary arithmetic one NaN operand at most: with two, which
 * payload the result keeps is the choice of V8's code (x64's addss keeps its
 * first source operand's, and V8 may commute the operands), and the
 * interpreter itself was seen to give either, by how V8 had optimized it
 * (a run restored into the interpreter from the same snapshot bytes, once
 * ending with another result).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Instance, Module, i32, restore, snapshot, toJs, type Memory } from '../index.js';
import { compileFunction } from './compile.js';
import { funcTypeOf } from '../types.js';
import { wat } from '../../../test/helpers/wat.js';

/**
 * `go(p0, p1, p2, p3, n)`: the four words are stored as the f32 inputs at 0..15; then a loop of n rounds moves
 * them through locals, operand slots, loads and stores, arithmetic, select, reinterpret, calls (an f32 held in an
 * operand slot across a call, f32 arguments and results), a global and f32 constants (a NaN with a payload
 * among them), storing what it makes at 64 + 4 * (16 * (round mod 256) + k); it returns a fold of the bits it saw.
 */
const PROGRAM = wat(`(module
  (memory (export "memory") 1)
  (global $g (mut f32) (f32.const nan:0x200001))
  (func $id (param f32) (result f32) (local.get 0))
  (func $pick (param $a f32) (param $b f32) (param $c i32) (result f32)
    (select (local.get $a) (local.get $b) (local.get $c)))
  (func $add (param $a f32) (param $b f32) (result f32) (f32.add (local.get $a) (local.get $b)))
  (func $two (param $a f32) (result f32 f32) (local.get $a) (f32.neg (local.get $a)))
  (func (export "go") (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $n i32) (result i32)
    (local $i i32) (local $o i32) (local $x f32) (local $y f32) (local $acc f32) (local $bits i32) (local $z f32) (local $w f32)
    (i32.store (i32.const 0) (local.get $p0))
    (i32.store (i32.const 4) (local.get $p1))
    (i32.store (i32.const 8) (local.get $p2))
    (i32.store (i32.const 12) (local.get $p3))
    (local.set $z (f32.const nan:0x7fff))
    (f32.store (i32.const 16) (local.get $z))
    (loop $l
      (local.set $o (i32.add (i32.const 64) (i32.shl (i32.and (local.get $i) (i32.const 255)) (i32.const 6))))
      (local.set $x (f32.load (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 15))))
      (local.set $y (f32.load (i32.and (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)) (i32.const 15))))
      ;; moves: a local, a copy, a reinterpret both ways, a global, a call's argument and result
      (f32.store (local.get $o) (local.get $x))
      (local.set $z (local.get $y))
      (f32.store offset=4 (local.get $o) (local.get $z))
      (f32.store offset=8 (local.get $o) (f32.reinterpret_i32 (i32.reinterpret_f32 (local.get $x))))
      (global.set $g (local.get $y))
      (f32.store offset=12 (local.get $o) (global.get $g))
      (f32.store offset=16 (local.get $o) (call $id (local.get $x)))
      ;; an operand slot holding an f32 across a call
      (f32.store offset=20 (local.get $o) (f32.add (local.get $y) (call $id (f32.const 2.5))))
      (f32.store offset=24 (local.get $o) (select (local.get $x) (local.get $y) (i32.and (local.get $i) (i32.const 1))))
      (f32.store offset=28 (local.get $o) (call $pick (local.get $y) (local.get $x) (i32.and (local.get $i) (i32.const 2))))
      ;; arithmetic, with NaN operands of any payload (one at most: see the header)
      (local.set $acc (f32.add (f32.mul (local.get $x) (f32.const 1.5)) (f32.const 0.25)))
      (f32.store offset=32 (local.get $o) (local.get $acc))
      (f32.store offset=36 (local.get $o) (f32.sub (f32.const nan:0x31) (f32.div (f32.convert_i32_s (local.get $i)) (f32.const 3))))
      (f32.store offset=40 (local.get $o) (f32.max (f32.sqrt (local.get $y)) (f32.min (f32.convert_i32_u (local.get $i)) (f32.const 2))))
      (f32.store offset=44 (local.get $o) (f32.copysign (f32.abs (local.get $x)) (f32.neg (local.get $y))))
      (f32.store offset=48 (local.get $o) (f32.demote_f64 (f64.promote_f32 (f32.ceil (local.get $y)))))
      (f32.store offset=52 (local.get $o) (call $add (f32.nearest (local.get $x)) (f32.convert_i32_s (local.get $i))))
      (call $two (local.get $x))
      (local.set $z)
      (local.set $w)
      (f32.store offset=56 (local.get $o) (local.get $w))
      (f32.store offset=60 (local.get $o) (local.get $z))
      ;; the bits, as integers
      (local.set $bits (i32.add (i32.rotl (local.get $bits) (i32.const 5))
        (i32.xor (i32.reinterpret_f32 (local.get $acc)) (i32.reinterpret_f32 (local.get $z)))))
      (local.set $bits (i32.add (local.get $bits) (i32.add (f32.eq (local.get $x) (local.get $x)) (f32.lt (local.get $x) (local.get $y)))))
      (local.set $bits (i32.xor (local.get $bits) (i32.trunc_sat_f32_s (local.get $y))))
      (local.set $bits (i32.sub (local.get $bits) (i32.reinterpret_f32 (f32.min (local.get $x) (f32.const 2)))))
      ;; a NaN constant's payload goes on through arithmetic
      (local.set $w (f32.const nan:0x12345))
      (local.set $bits (i32.xor (local.get $bits) (i32.reinterpret_f32 (f32.mul (local.get $w) (f32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.xor (local.get $bits) (i32.reinterpret_f32 (local.get $acc)))))`);

/** Bit patterns of the interesting kinds: signalling and quiet NaNs with payloads, both signs, zeros, infinities, numbers. */
const SAMPLES = [0x7fa00001, 0xffc12345, 0x7f800001, 0xff800002 | 0, 0x7fc00000, 0x80000000 | 0, 0x7f800000, 0x3fc00000, 0xc0490fdb | 0, 1, 0x00400000].map((x) => x | 0);

/** The bytes the program writes. */
const WRITTEN = 64 + 64 * 256;

interface Run {
  result: unknown;
  used: number;
  memory: Buffer;
  /** The snapshot at the cut, if the run was cut. */
  snap: Buffer | null;
}

/** Runs go(args) in `tier`, cut once at `cut` (fuel) if given, snapshotting there, then to its end. */
function run(tier: 'interpreter' | 'compiled', args: readonly number[], cut?: number, resumeTier?: 'interpreter' | 'compiled'): Run {
  let inst = new Instance(new Module(PROGRAM, { tier }), {});
  inst.fuel = cut ?? Infinity;
  let o = inst.call('go', args.map((a) => i32(a)));
  let snap: Buffer | null = null;
  if (o.kind === 'out-of-fuel') {
    const s = snapshot(inst);
    snap = Buffer.from(s);
    inst = restore(new Module(PROGRAM, { tier: resumeTier ?? tier }), s, {});
    o = inst.resume({ fuel: Infinity });
  }
  if (o.kind !== 'done') throw new Error(`${tier}: ${o.kind}`);
  return { result: toJs(o.results[0]!), used: inst.fuelUsed, memory: Buffer.from((inst.getExport('memory') as Memory).bytes().subarray(0, WRITTEN)), snap };
}

/** Whether two runs ended the same: result, fuel used and memory (a deep toEqual of the memory is slow). */
function same(a: Run, b: Run): boolean {
  return a.result === b.result && a.used === b.used && a.memory.equals(b.memory);
}

describe('f32 values in the compiled tier', () => {
  it("the program's f32 slots are numbers in compiled code (else these tests test nothing new)", () => {
    const mod = new Module(PROGRAM);
    const ast = mod.ast;
    const fn = ast.numImportedFuncs + ast.funcs.length - 1;
    const types = [...funcTypeOf(ast, fn).params];
    for (const l of ast.codes[fn - ast.numImportedFuncs]!.locals) for (let i = 0; i < l.count; i++) types.push(l.type);
    const r = compileFunction(mod.lower(fn), { fn, numImportedFuncs: ast.numImportedFuncs, localTypes: types });
    if (!r.ok) throw new Error(r.reason);
    expect(r.source).toMatch(/y\d+ = dv\.getFloat32/);
    expect(r.source).toMatch(/y\d+ = Math\.fround/);
  });

  it('signalling and quiet NaNs with payloads move through loads, stores, locals, copies, arithmetic, reinterpret, select and calls bit for bit', () => {
    const args = [SAMPLES[0]!, SAMPLES[1]!, SAMPLES[2]!, SAMPLES[7]!, 6];
    const w = run('interpreter', args);
    const c = run('compiled', args);
    expect(c.result).toEqual(w.result);
    expect(c.used).toBe(w.used);
    expect(c.memory.equals(w.memory)).toBe(true);
    // The signalling NaN stored as it was loaded (else the test would not see a quieting).
    expect(c.memory.readUInt32LE(64)).toBe(0x7fa00001);
  });

  it("run hot, so that V8 optimizes the generated code, it still leaves the interpreter's bits", () => {
    for (const ps of [SAMPLES.slice(0, 4), SAMPLES.slice(4, 8), [SAMPLES[8]!, SAMPLES[0]!, SAMPLES[9]!, SAMPLES[3]!]]) {
      const args = [...ps, 40_000];
      const w = run('interpreter', args);
      const c = run('compiled', args);
      expect(same(c, w)).toBe(true);
    }
  }, 120_000);

  it('cut at every fuel count, the compiled run leaves the snapshot bytes of the interpreted run, and either resumed in the other tier ends the same', () => {
    const args = [SAMPLES[3]!, SAMPLES[0]!, SAMPLES[6]!, SAMPLES[5]!, 3];
    const w = run('interpreter', args);
    expect(w.used).toBeLessThan(3_000);
    let cuts = 0;
    for (let cut = 1; cut < w.used; cut++) {
      const a = run('interpreter', args, cut, 'compiled');
      const b = run('compiled', args, cut, 'interpreter');
      // (The last runs are paid for in one go: a cut there is no cut.)
      expect(b.snap === null, `cut ${cut}`).toBe(a.snap === null);
      if (a.snap !== null) expect(b.snap!.equals(a.snap), `snapshot at ${cut}`).toBe(true);
      if (a.snap !== null) cuts++;
      for (const x of [a, b]) expect(same(x, w), `cut ${cut}`).toBe(true);
    }
    expect(cuts).toBeGreaterThan(w.used / 2);
  }, 120_000);

  it('any f32 bit patterns: the same results, fuel, memory and snapshot bytes in both tiers', () => {
    const nan = fc.tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 0x3fffff })).map(([neg, quiet, payload]) => (neg ? 0x80000000 : 0) | 0x7f800000 | (quiet ? 0x400000 : 0) | payload);
    const bits = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), nan, fc.constantFrom(...SAMPLES)).map((x) => x | 0);
    fc.assert(
      fc.property(fc.array(bits, { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 400 }), (ps, cut) => {
        const args = [...ps, 4];
        const w = run('interpreter', args, cut);
        const c = run('compiled', args, cut);
        expect(c.result).toEqual(w.result);
        expect(c.used).toBe(w.used);
        expect(c.memory.equals(w.memory)).toBe(true);
        expect(c.snap === null ? null : c.snap.equals(w.snap!)).toBe(w.snap === null ? null : true);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
