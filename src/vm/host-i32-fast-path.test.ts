/**
 * The fast i32 host path (Func.hostI32, interp.ts callFast) under attack:
 * answers that are not int32, answers of the wrong shape, pauses, throws,
 * and every arity: it must give what the general path (Func.invoke) gives,
 * and never throw through `Instance.call`.
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Func, Instance, Module, Suspend, Trap, i32, type HostCaller } from './index.js';

const I32_1 = { params: [0x7f], results: [0x7f] } as const;

/** An instance calling `h.f` (i32) -> i32 directly and through a table. */
function callerOf(f: Func): Instance {
  const m = new Module(wat(`(module
    (import "h" "f" (func $f (param i32) (result i32)))
    (type $t (func (param i32) (result i32)))
    (table 1 funcref) (elem (i32.const 0) $f)
    (func (export "direct") (param i32) (result i32) (call $f (local.get 0)))
    (func (export "indirect") (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0))))`));
  return new Instance(m, { h: { f } });
}

describe('host functions of i32 parameters called with plain numbers', () => {
  it('give the same i32 as the general path for answers that are not int32 (fractions, 2^32, NaN, -0, huge, negative)', () => {
    for (const v of [3.7, -3.7, 2 ** 32 + 5, 2 ** 31, -(2 ** 31) - 1, NaN, -0, 1e300, Infinity, -Infinity, 0xffffffff]) {
      const f = Func.hostI32(I32_1 as never, () => v);
      const general = f.invoke([i32(0)]);
      const inst = callerOf(f);
      for (const how of ['direct', 'indirect']) {
        const out = inst.call(how, [i32(0)]);
        expect(out).toEqual(general);
        expect(out).toEqual({ kind: 'done', results: [i32(v | 0)] });
      }
    }
  });

  it('trap (never throw through call) on answers of the wrong shape: a number for no result, nothing for one, strings, bigints, wrong Values', () => {
    const cases: [params: number[], results: number[], answer: unknown][] = [
      [[], [], 5],
      [[], [0x7f], undefined],
      [[], [0x7f], '5'],
      [[], [0x7f], 5n],
      [[], [0x7f], null],
      [[], [0x7f], [{ type: 'i64', value: 5n }]],
      [[], [0x7f], [i32(1), i32(2)]],
      [[], [0x7f], {}],
    ];
    for (const [params, results, answer] of cases) {
      const f = Func.hostI32({ params, results } as never, () => answer as never);
      const res = results.length === 1 ? '(result i32)' : '';
      const m = new Module(wat(`(module (import "h" "f" (func $f ${res}))
        (func (export "go") ${res} (call $f)))`));
      const out = new Instance(m, { h: { f } }).call('go', []);
      expect(out.kind, `answer ${String(answer)}`).toBe('trapped');
      expect(f.invoke([]).kind).toBe('trapped');
    }
  });

  it('pass all five arguments in order, and give each caller its own data', () => {
    const seen: unknown[] = [];
    const f = Func.hostI32({ params: [0x7f, 0x7f, 0x7f, 0x7f, 0x7f], results: [0x7f] } as never, (a, b, c, d, e, caller: HostCaller) => {
      seen.push([a, b, c, d, e, caller.data]);
      return a + b + c + d + e;
    });
    const m = new Module(wat(`(module (import "h" "f" (func $f (param i32 i32 i32 i32 i32) (result i32)))
      (func (export "go") (result i32) (call $f (i32.const 1) (i32.const -2) (i32.const 3) (i32.const 2147483647) (i32.const 5))))`));
    const x = new Instance(m, { h: { f } }, { data: 'x' });
    const y = new Instance(m, { h: { f } }, { data: 'y' });
    expect(x.call('go', [])).toEqual({ kind: 'done', results: [i32((1 - 2 + 3 + 2147483647 + 5) | 0)] });
    expect(y.call('go', []).kind).toBe('done');
    expect(seen).toEqual([[1, -2, 3, 2147483647, 5, 'x'], [1, -2, 3, 2147483647, 5, 'y']]);
  });

  it('turn a throw inside (Trap, Error, non-Error) into a trapped outcome, and leave the instance usable', () => {
    for (const thrown of [new Trap('nope'), new TypeError('bug'), 'a string', undefined]) {
      let fail = true;
      const f = Func.hostI32(I32_1 as never, (a) => {
        if (fail) throw thrown;
        return a + 1;
      });
      const inst = callerOf(f);
      expect(inst.call('direct', [i32(1)]).kind).toBe('trapped');
      fail = false;
      expect(inst.call('direct', [i32(1)])).toEqual({ kind: 'done', results: [i32(2)] });
    }
  });

  it('pause on a Suspend with the call\'s arguments, resume with results, and trap a pause outside a call that can wait', () => {
    const f = Func.hostI32(I32_1 as never, () => new Suspend('wait'));
    const inst = callerOf(f);
    const out = inst.call('indirect', [i32(41)]);
    expect(out.kind).toBe('waiting');
    if (out.kind !== 'waiting') return;
    expect(out.call.args).toEqual([i32(41)]);
    expect(inst.resume({ results: [i32(7)] })).toEqual({ kind: 'done', results: [i32(7)] });
    // From the host (Func.invoke) a pause cannot wait.
    expect(f.invoke([i32(1)]).kind).toBe('trapped');
  });

  it('trap a pause from a nested call (host -> guest -> host I32 pause) rather than lose the outer frame', () => {
    let inner: Instance | null = null;
    const pauses = Func.hostI32({ params: [], results: [0x7f] } as never, () => new Suspend());
    const reenter = Func.host({ params: [], results: [0x7f] } as never, () => {
      const o = (inner!.getExport('p') as Func).invoke([]);
      return [i32(o.kind === 'trapped' ? 1 : 0)];
    });
    const m = new Module(wat(`(module (import "h" "pauses" (func $p (result i32))) (import "h" "reenter" (func $r (result i32)))
      (func (export "p") (result i32) (call $p))
      (func (export "go") (result i32) (call $r)))`));
    inner = new Instance(m, { h: { pauses, reenter } });
    expect(inner.call('go', [])).toEqual({ kind: 'done', results: [i32(1)] });
  });

  it('keep the caller\'s frame when the host function calls back into the instance (deep recursion that grows the stack)', () => {
    let inst: Instance | null = null;
    const back = Func.hostI32(I32_1 as never, (n) => {
      const o = (inst!.getExport('deep') as Func).invoke([i32(n)]);
      return o.kind === 'done' ? (o.results[0] as { value: number }).value : -1;
    });
    const m = new Module(wat(`(module (import "h" "back" (func $back (param i32) (result i32)))
      (type $t (func (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $back)
      (func $deep (export "deep") (param i32) (result i32) (local i64 i64 i64)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))))
      (func (export "go") (param i32) (result i32) (local $a i32) (local $b i32)
        (local.set $a (i32.const 1000))
        (local.set $b (call_indirect (type $t) (local.get 0) (i32.const 0)))
        (i32.add (local.get $a) (local.get $b))))`));
    inst = new Instance(m, { h: { back } });
    expect(inst.call('go', [i32(5000)])).toEqual({ kind: 'done', results: [i32(6000)] });
  });
});
