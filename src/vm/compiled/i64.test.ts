/**
 * The compiled tier's inline i64 arithmetic (mul, div_s, div_u, rem_s,
 * rem_u) is exact: the two's-complement result BigInt gives, on operands
 * biased to the edges of its fast paths (0, +-1, 2^21, 2^31, 2^32, 2^53,
 * 2^63 and their neighbours, powers of two, products of two uint32s, and
 * dividends q * d + r with r at 0, 1 and d - 1, where a quotient's estimate
 * is most likely off by one), with the operands in variables and as constants
 * (which the generator folds into literals), in calls and in a hot loop (so
 * in V8's optimized code too), and with the same traps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Instance, Module, i32, i64, toJs, type Memory, type Outcome } from '../index.js';
import { compileFunction } from './compile.js';
import { funcTypeOf } from '../types.js';
import { wat } from '../../../test/helpers/wat.js';

const M64 = (1n << 64n) - 1n;
const MIN = -(1n << 63n);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

type Op = 'mul' | 'div_s' | 'div_u' | 'rem_s' | 'rem_u';
const OPS: readonly Op[] = ['mul', 'div_s', 'div_u', 'rem_s', 'rem_u'];

/** What wasm gives for `a op b`: the result (as a signed i64) or the trap's message. */
function reference(op: Op, a: bigint, b: bigint): bigint | string {
  if (op === 'mul') return s64(a * b);
  if (b === 0n) return 'integer divide by zero';
  switch (op) {
    case 'div_s':
      return a === MIN && b === -1n ? 'integer overflow' : s64(a / b);
    case 'rem_s':
      return s64(a % b);
    case 'div_u':
      return s64(u64(a) / u64(b));
    default:
      return s64(u64(a) % u64(b));
  }
}

/** The result of a call, as `reference` gives it. */
function outcome(o: Outcome): unknown {
  if (o.kind === 'done') return toJs(o.results[0]!);
  if (o.kind === 'trapped') return o.trap.message;
  return o.kind;
}

// Edges of the fast paths: doubles are exact below 2^53, a partial product of 21-bit limbs stays below 2^53,
// int32 and uint32 limits, the signed extremes.
const EDGES: readonly bigint[] = [0n, 1n, 2n, 3n, 7n, 10n, 1n << 16n, 1n << 21n, 1n << 31n, 1n << 32n, 1n << 53n, 1n << 63n, 3_000_000_001n, 0xffff_fffen * 0xffff_fffen];
const edge = fc.tuple(fc.constantFrom(...EDGES), fc.integer({ min: -2, max: 2 }), fc.boolean()).map(([e, d, neg]) => s64(neg ? -(e + BigInt(d)) : e + BigInt(d)));
const power = fc.tuple(fc.integer({ min: 0, max: 63 }), fc.boolean()).map(([k, neg]) => s64(neg ? -(1n << BigInt(k)) : 1n << BigInt(k)));
const u32 = fc.bigInt({ min: 0n, max: 0xffff_ffffn });
/** Any i64, biased to the edges (as a signed value). */
const anyI64 = fc.oneof(
  edge,
  power,
  fc.bigInt({ min: MIN, max: -MIN - 1n }),
  u32,
  fc.tuple(u32, u32).map(([x, y]) => s64(x * y)),
  fc.integer({ min: 0, max: 64 }).chain((bits) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n })).map(s64),
);
/** A divisor, biased to those below 2^32 (the inline path) and near 2^21, 2^31 and 2^32. */
const divisor = fc.oneof(
  anyI64,
  fc.tuple(fc.constantFrom(1n << 21n, 1n << 31n, 1n << 32n, 3_000_000_001n, 10n), fc.integer({ min: -3, max: 3 })).map(([e, d]) => e + BigInt(d)),
  u32,
  fc.tuple(u32, fc.boolean()).map(([x, neg]) => (neg ? -x : x)),
);
/** An operand pair: any two, or a dividend q * d + r with r at the edges of [0, d) (as uint64s). */
const pair: fc.Arbitrary<[bigint, bigint]> = fc.oneof(
  fc.tuple(anyI64, divisor),
  fc.tuple(fc.oneof(u32, anyI64), divisor.filter((d) => d !== 0n), fc.constantFrom('0', '1', 'd-1')).map(([q, d, r]): [bigint, bigint] => {
    const du = u64(d);
    return [s64(u64(q) * du + (r === '0' ? 0n : r === '1' ? 1n % du : du - 1n)), d];
  }),
);

/** The inverse of odd `b` modulo 2^32 (Newton's iteration doubles the correct low bits each step). */
function inverse32(b: bigint): bigint {
  let x = b;
  for (let i = 0; i < 5; i++) x = BigInt.asUintN(32, x * (2n - b * x));
  return x;
}
/**
 * A multiplicand for `b` whose low word times b's low word is, mod 2^32, c * 2^t
 * (2^t the power of two in b's low word) for c in -2..2: the low half of the
 * product just above 0 or just below 2^32, where an estimate of the high half is
 * most likely off by one. Its high word is `high`.
 */
function nearCarry(b: bigint, c: bigint, high: bigint): bigint {
  let odd = BigInt.asUintN(32, b);
  if (odd === 0n) odd = 1n;
  while ((odd & 1n) === 0n) odd >>= 1n;
  return s64((high << 32n) | BigInt.asUintN(32, c * inverse32(odd)));
}
const carry = fc.tuple(fc.constantFrom(-2n, -1n, 0n, 1n, 2n), fc.oneof(u32, fc.constant(0n)));
/** Operands of a product, some with the low half of the low words' product at the edges of a carry. */
const mulPair: fc.Arbitrary<[bigint, bigint]> = fc.oneof(
  pair,
  fc.tuple(anyI64, carry).map(([b, [c, h]]): [bigint, bigint] => [nearCarry(b, c, h), b]),
);

/** i64 literal text for WAT. */
const lit = (v: bigint): string => String(s64(v));

/** A function that applies `op` to its two parameters, and one that applies it over memory (a hot loop). */
function opFuncs(op: Op): string {
  return `(func (export "${op}") (param i64 i64) (result i64) (i64.${op} (local.get 0) (local.get 1)))
  (func (export "loop_${op}") (param $n i32) (local $p i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (i32.shl (local.get $n) (i32.const 4))))
      (i64.store offset=${OUT} (i32.shr_u (local.get $p) (i32.const 1)) (i64.${op} (i64.load (local.get $p)) (i64.load offset=8 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $l))))`;
}

/** Where the loops write their results (after at most OUT / 16 operand pairs). */
const OUT = 65536;
const LOOP_PAIRS = 4096;
const VARS = wat(`(module (memory (export "memory") 2) ${OPS.map(opFuncs).join('\n')})`);

/** Whether `a op b` traps. */
const traps = (op: Op, a: bigint, b: bigint): boolean => typeof reference(op, a, b) === 'string';

/** Runs loop_<op> over `pairs` (none of which traps) `times` times; the results of the last run. */
function runLoop(inst: Instance, op: Op, pairs: readonly [bigint, bigint][], times: number): bigint[] {
  const mem = inst.getExport('memory') as Memory;
  const dv = new DataView(mem.bytes().buffer, mem.bytes().byteOffset);
  pairs.forEach(([a, b], i) => {
    dv.setBigInt64(16 * i, a, true);
    dv.setBigInt64(16 * i + 8, b, true);
  });
  for (let t = 0; t < times; t++) {
    const o = inst.call(`loop_${op}`, [i32(pairs.length)]);
    expect(o.kind).toBe('done');
  }
  const view = new DataView(mem.bytes().buffer, mem.bytes().byteOffset);
  return pairs.map((_, i) => view.getBigInt64(OUT + 8 * i, true));
}

describe('the compiled tier computes i64 mul, div and rem exactly', () => {
  it.each(OPS)('%s of two variables: as BigInt, traps included', (op) => {
    const inst = new Instance(new Module(VARS, { tier: 'compiled' }), {});
    fc.assert(
      fc.property(op === 'mul' ? mulPair : pair, ([a, b]) => {
        expect(outcome(inst.call(op, [i64(a), i64(b)]))).toBe(reference(op, a, b));
      }),
      { numRuns: 4000 },
    );
  });

  it.each(OPS)('%s in a hot loop (V8-optimized code): as BigInt', (op) => {
    const pairs = fc.sample((op === 'mul' ? mulPair : pair).filter(([a, b]) => !traps(op, a, b)), { numRuns: LOOP_PAIRS, seed: 64 });
    const inst = new Instance(new Module(VARS, { tier: 'compiled' }), {});
    const got = runLoop(inst, op, pairs, 8);
    pairs.forEach(([a, b], i) => {
      if (got[i] !== reference(op, a, b)) expect([op, a, b, got[i]]).toEqual([op, a, b, reference(op, a, b)]);
    });
  });

  // Constants: the edges, words with many bits set (hash multipliers), and fixed samples of any and of uint32s.
  const DENSE = [0x3fff_ffffn, 0x5555_5555n, 0xdead_beefn, 0x0020_0003n, 0x100_0000_01b3n, 0x2545_f491_4f6c_dd1dn, 0x9e37_79b9_7f4a_7c15n];
  const CONSTS = [
    ...new Set([...EDGES.flatMap((e) => [e - 1n, e, e + 1n, -e]), -1n, MIN, ...DENSE, ...DENSE.map((k) => -k), ...fc.sample(divisor, { numRuns: 40, seed: 7 }), ...fc.sample(u32, { numRuns: 12, seed: 9 })].map(s64)),
  ];
  // (A function with a loop keeps its constants in constant slots, which the generator reads as literals.)
  const constFuncs = CONSTS.map((k, i) =>
    OPS.map((op) => `(func (export "${op}_k${i}") (param i64) (result i64) (loop) (i64.${op} (local.get 0) (i64.const ${lit(k)})))
      (func (export "k${i}_${op}") (param i64) (result i64) (loop) (i64.${op} (i64.const ${lit(k)}) (local.get 0)))`).join('\n'),
  );
  const KMOD = wat(`(module ${constFuncs.join('\n')})`);

  it('with one operand a constant (folded into the code as literals): as BigInt, traps included', () => {
    const inst = new Instance(new Module(KMOD, { tier: 'compiled' }), {});
    fc.assert(
      fc.property(fc.nat({ max: CONSTS.length - 1 }), fc.constantFrom(...OPS), fc.oneof(anyI64, divisor), carry, (i, op, y, [c, h]) => {
        const k = CONSTS[i]!;
        const x = op === 'mul' && c !== 0n ? nearCarry(k, c, h) : y;
        expect(outcome(inst.call(`${op}_k${i}`, [i64(x)])), `${x} ${op} ${k}`).toBe(reference(op, x, k));
        expect(outcome(inst.call(`k${i}_${op}`, [i64(x)])), `${k} ${op} ${x}`).toBe(reference(op, k, x));
      }),
      { numRuns: 6000 },
    );
    // Every constant against the edges and their products.
    for (const [i, k] of CONSTS.entries()) {
      for (const x of [...CONSTS, 0xffff_fffen * 0xffff_fffdn, M64, 3_000_000_000n * 2_999_999_999n].map(s64)) {
        for (const op of OPS) {
          if (outcome(inst.call(`${op}_k${i}`, [i64(x)])) !== reference(op, x, k)) expect([x, op, k]).toBe(reference(op, x, k));
        }
      }
      for (const c of [-2n, -1n, 1n, 2n]) {
        for (const h of [0n, 1n, 0xffff_ffffn, 0x8000_0000n]) {
          const x = nearCarry(k, c, h);
          if (outcome(inst.call(`mul_k${i}`, [i64(x)])) !== reference('mul', x, k)) expect([x, 'mul', k]).toBe(reference('mul', x, k));
          if (outcome(inst.call(`k${i}_mul`, [i64(x)])) !== reference('mul', k, x)) expect([k, 'mul', x]).toBe(reference('mul', k, x));
        }
      }
    }
  });

  it('folds a constant multiplier or divisor below 2^32 into literals (the paths the tests above run)', () => {
    const mod = new Module(wat(`(module
      (func (param i64) (result i64) (loop) (i64.mul (local.get 0) (i64.const 0x100000001b3)))
      (func (param i64) (result i64) (loop) (i64.rem_u (local.get 0) (i64.const 3000000001))))`));
    const source = (fn: number): string => {
      const r = compileFunction(mod.lower(fn), { fn, numImportedFuncs: 0, localTypes: [...funcTypeOf(mod.ast, fn).params] });
      if (!r.ok) throw new Error(r.reason);
      return r.source;
    };
    expect(source(0)).toContain('Math.imul(al, 435)');
    expect(source(0)).toContain('Math.imul(al, 256)');
    expect(source(1)).toContain(`x * ${1 / 3_000_000_001}`);
    expect(source(1)).not.toContain('divide by zero');
  });

  const CMPS = ['lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'] as const;
  const compare = (op: (typeof CMPS)[number], a: bigint, b: bigint): number => {
    const [x, y] = op.endsWith('_u') ? [u64(a), u64(b)] : [a, b];
    const r = op.startsWith('lt') ? x < y : op.startsWith('gt') ? x > y : op.startsWith('le') ? x <= y : x >= y;
    return r ? 1 : 0;
  };

  it('compares i64s (signed and unsigned) as BigInt, the high words equal or not', () => {
    const K = [0n, 1n, -1n, 1n << 32n, MIN, -MIN - 1n, 0xffff_ffffn];
    const bytes = wat(`(module ${CMPS.map((op) => `(func (export "${op}") (param i64 i64) (result i32) (i64.${op} (local.get 0) (local.get 1)))
      ${K.map((k, i) => `(func (export "${op}_k${i}") (param i64) (result i32) (loop) (i64.${op} (local.get 0) (i64.const ${lit(k)})))`).join(' ')}`).join('\n')})`);
    const inst = new Instance(new Module(bytes, { tier: 'compiled' }), {});
    // Half the pairs share the high word.
    const cmpPair = fc.oneof(fc.tuple(anyI64, anyI64), fc.tuple(anyI64, u32).map(([a, l]): [bigint, bigint] => [a, s64(((a >> 32n) << 32n) | l)]));
    fc.assert(
      fc.property(cmpPair, fc.constantFrom(...CMPS), fc.nat({ max: K.length - 1 }), ([a, b], op, i) => {
        expect(outcome(inst.call(op, [i64(a), i64(b)])), `${a} ${op} ${b}`).toBe(compare(op, a, b));
        expect(outcome(inst.call(`${op}_k${i}`, [i64(a)])), `${a} ${op} ${K[i]}`).toBe(compare(op, a, K[i]!));
      }),
      { numRuns: 3000 },
    );
  });

  it('traps on a constant zero divisor and on MIN / -1 as the interpreter does', () => {
    const bytes = wat(`(module
      (func (export "divz") (param i64) (result i64) (loop) (i64.div_u (local.get 0) (i64.const 0)))
      (func (export "remz") (param i64) (result i64) (loop) (i64.rem_s (local.get 0) (i64.const 0)))
      (func (export "ovf") (param i64) (result i64) (loop) (i64.div_s (local.get 0) (i64.const -1))))`);
    for (const tier of ['interpreter', 'compiled'] as const) {
      const inst = new Instance(new Module(bytes, { tier }), {});
      expect(outcome(inst.call('divz', [i64(5n)])), tier).toBe('integer divide by zero');
      expect(outcome(inst.call('remz', [i64(5n)])), tier).toBe('integer divide by zero');
      expect(outcome(inst.call('ovf', [i64(MIN)])), tier).toBe('integer overflow');
      expect(outcome(inst.call('ovf', [i64(MIN + 1n)])), tier).toBe(-MIN - 1n);
    }
  });
});
