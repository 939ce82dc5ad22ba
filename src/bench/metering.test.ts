/**
 * The metering comparison's second engine (bench --part metering): with its
 * fuel statements taken out, in the interpreter and in the code the compiled
 * tier writes, it computes the same and pays next to no fuel. Runs the built
 * engine (dist/, made by `npm install`), as the benchmark does.
 */
import { describe, expect, it } from 'vitest';
import { loadUnmetered } from '../../dist/bench/metering.js';
import * as metered from '../../dist/vm/index.js';
import { wat } from '../../test/helpers/wat.js';

// A loop of n iterations: 3 * n.
const LOOP = wat(`(module
  (func (export "run") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1)))`);

describe('metering comparison', () => {
  for (const tier of ['interpreter', 'compiled'] as const) {
    it(`takes the fuel out of the ${tier} tier and nothing else`, async () => {
      const unmetered = await loadUnmetered();
      const run = (vm: typeof metered): { result: unknown; fuel: number } => {
        const inst = new vm.Instance(new vm.Module(LOOP, { tier }), {});
        const result = (inst.exports['run'] as (n: number) => unknown)(100_000);
        return { result, fuel: inst.fuelUsed };
      };
      const a = run(metered);
      const b = run(unmetered as unknown as typeof metered);
      expect(a.result).toBe(300_000);
      expect(b.result).toBe(300_000);
      expect(a.fuel).toBeGreaterThan(100_000);
      expect(b.fuel).toBeLessThan(100);
    });
  }
});
