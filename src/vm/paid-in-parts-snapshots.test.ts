/**
 * Determinism of instructions paid in parts (issue 10, second pass): a call
 * paused inside a bulk instruction, memory.grow or table.grow, snapshotted
 * and restored into a fresh instance, gives the same snapshot bytes as the
 * original, uses the same fuel, and ends with the same results, memory and
 * tables as an uninterrupted run, however it is sliced afterwards.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { wat } from '../../test/helpers/wat.js';
import { Instance, Module, restore, snapshot, type Outcome } from './index.js';

/** Every instruction that is paid in parts, each large against the slices below. */
const BULK = wat(`(module (memory 16 64) (table $t 2000 funcref) (table $u 2000 funcref)
  (data $d "0123456789abcdefghijklmnopqrstuvwxyz")
  (elem $e func $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f $f)
  (func $f)
  (func (export "run") (result i32)
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 600000))
    (memory.init $d (i32.const 700000) (i32.const 0) (i32.const 36))
    (memory.copy (i32.const 1000) (i32.const 0) (i32.const 500000))
    (memory.copy (i32.const 0) (i32.const 3000) (i32.const 500000))
    (table.fill $t (i32.const 0) (ref.func $f) (i32.const 1500))
    (table.init $u $e (i32.const 10) (i32.const 0) (i32.const 20))
    (table.copy $u $t (i32.const 100) (i32.const 0) (i32.const 1500))
    (drop (table.grow $t (ref.func $f) (i32.const 20000)))
    (i32.add (memory.grow (i32.const 30)) (table.size $t))))`);

/** What a finished run leaves behind. */
function state(i: Instance, out: Outcome): { out: Outcome; used: number; memory: string; tables: string[] } {
  return {
    out,
    used: i.fuelUsed,
    memory: createHash('sha256').update(i.inst.memories[0]!.bytes()).digest('hex'),
    tables: i.inst.tables.map((t) => (t.elements as unknown[]).map((x) => (x === null ? 0 : 1)).join('')),
  };
}

function finish(i: Instance, out: Outcome, slice: number): Outcome {
  while (out.kind === 'out-of-fuel') out = i.resume({ fuel: slice });
  return out;
}

describe('snapshots of calls paused inside an instruction paid in parts', () => {
  const module = new Module(BULK);
  const whole = (() => {
    const i = new Instance(module);
    return state(i, i.call('run'));
  })();

  it('restore the same progress: same snapshot bytes, same fuel, same end as an uninterrupted run', () => {
    expect(whole.out.kind).toBe('done');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Math.floor(whole.used * 0.95) }), fc.integer({ min: 100, max: 30_000 }), (cut, slice) => {
        const a = new Instance(module);
        a.fuel = cut;
        expect(a.call('run').kind).toBe('out-of-fuel');
        const bytes = snapshot(a);
        const b = restore(new Module(BULK), bytes);
        expect(b.fuelUsed).toBe(a.fuelUsed);
        // The copy is the original: its snapshot is byte for byte the same.
        expect(snapshot(b)).toEqual(bytes);
        const out = finish(b, b.resume({ fuel: slice }), slice);
        expect(state(b, out)).toEqual(whole);
        // And the original, continued with other slices, ends alike.
        expect(state(a, finish(a, a.resume({ fuel: 7919 }), 7919))).toEqual(whole);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});
