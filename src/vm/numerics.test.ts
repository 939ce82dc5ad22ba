/**
 * Law: every numeric instruction computes what V8's WebAssembly computes.
 * One exported function per fixed-type instruction of the opcode table (and
 * immediate-operand variants for i32 binary ops), called on both engines with
 * random arguments biased towards edge values; results must have the same
 * bits, except that where both are NaN from arithmetic any NaN matches (the
 * spec lets NaN payloads differ there).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Instance, Module, f32bits, f64bits, type Func, type Value } from './index.js';
import { OPS } from './opcodes.js';

const NAME: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

// Bit-exact ops: NaN payloads must be kept, not just NaN-ness.
const BITWISE = /\.(neg|abs|copysign|reinterpret_\w+)$/;

const numericOps = OPS.filter(
  (o): o is NonNullable<typeof o> =>
    o !== undefined && o.pops !== null && o.pushes !== null && o.imm === 0 && o.pops.length > 0 && o.pushes.length === 1,
);

const I32_IMM_OPS = ['i32.add', 'i32.sub', 'i32.and', 'i32.or', 'i32.xor', 'i32.shl', 'i32.shr_s', 'i32.shr_u', 'i32.mul',
  'i32.eq', 'i32.ne', 'i32.lt_s', 'i32.lt_u', 'i32.gt_s', 'i32.gt_u', 'i32.le_s', 'i32.le_u', 'i32.ge_s', 'i32.ge_u'];
const IMMS = [0, 1, -1, 31, 32, 0x7fffffff, -0x80000000, 12345];

function buildModule(): Uint8Array {
  const funcs: string[] = [];
  for (const o of numericOps) {
    const params = o.pops!.map((t) => NAME[t]).join(' ');
    const gets = o.pops!.map((_, i) => `local.get ${i}`).join(' ');
    funcs.push(`(func (export "${o.name}") (param ${params}) (result ${NAME[o.pushes![0]!]}) ${gets} ${o.name})`);
  }
  I32_IMM_OPS.forEach((name) =>
    IMMS.forEach((k, j) => {
      funcs.push(`(func (export "${name}/imm${j}") (param i32) (result i32) local.get 0 i32.const ${k} ${name})`);
      funcs.push(`(func (export "${name}/immL${j}") (param i32) (result i32) i32.const ${k} local.get 0 ${name})`);
    }),
  );
  return wat(`(module ${funcs.join('\n')})`);
}

const bytes = buildModule();
const ours = new Instance(new Module(bytes));
const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Record<string, (...a: unknown[]) => unknown>;

// Arbitraries for raw bit patterns, biased towards edge values.
const i32Edge = fc.constantFrom(0, 1, -1, 2, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0x80, 0xff, 0x8000, 0xffff);
const arbI32 = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), i32Edge);
const i64Edge = fc.constantFrom(0n, 1n, -1n, 63n, 64n, 0x7fffffffffffffffn, -0x8000000000000000n, 0xffffffffn, 0x100000000n, -0x100000000n, 1n << 53n, (1n << 53n) + 1n);
const arbI64 = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), i64Edge, fc.integer().map(BigInt));
const f32Edge = fc.constantFrom(0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x7f800001, 0x1, 0x807fffff, 0x3f800000, 0xbf800000, 0x3f000000, 0x4f000000, 0x4f800000, 0xcf000000, 0x5f000000, 0xdf000000, 0x3fc00000, 0x40200000);
const arbF32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), f32Edge, fc.float().map((x) => new Uint32Array(new Float32Array([x]).buffer)[0]!));
const f64Edge = fc.constantFrom(0n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff4000000000000n, 0x7ff0000000000001n, 1n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3fe0000000000000n, 0x41e0000000000000n, 0x41f0000000000000n, 0xc1e0000000000000n, 0x43e0000000000000n, 0x43f0000000000000n, 0xc3e0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0x41dfffffffc00000n);
const arbF64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), f64Edge, fc.double().map((x) => new BigUint64Array(new Float64Array([x]).buffer)[0]!));

const arbOf: Record<number, fc.Arbitrary<number | bigint>> = { 0x7f: arbI32, 0x7e: arbI64, 0x7d: arbF32, 0x7c: arbF64 };

function toValue(t: number, x: number | bigint): Value {
  switch (t) {
    case 0x7f: return { type: 'i32', value: Number(x) | 0 };
    case 0x7e: return { type: 'i64', value: BigInt.asIntN(64, BigInt(x)) };
    case 0x7d: return f32bits(Number(x));
    default: return f64bits(BigInt(x));
  }
}

// V8's JS API turns f32/f64 into JS numbers (losing NaN payloads), so V8 is called
// through reinterpreting wrappers that keep floats as raw bits.
function wrapperModule(): Uint8Array {
  const funcs: string[] = [];
  const exportsWanted = [...numericOps.map((o) => ({ name: o.name, pops: o.pops!, push: o.pushes![0]! }))];
  for (const { name, pops, push } of exportsWanted) {
    const params = pops.map((t) => (t === 0x7d ? 'i32' : t === 0x7c ? 'i64' : NAME[t])).join(' ');
    const conv = pops.map((t, i) => `local.get ${i}` + (t === 0x7d ? ' f32.reinterpret_i32' : t === 0x7c ? ' f64.reinterpret_i64' : '')).join(' ');
    const res = push === 0x7d ? 'i32' : push === 0x7c ? 'i64' : NAME[push];
    const back = push === 0x7d ? 'i32.reinterpret_f32' : push === 0x7c ? 'i64.reinterpret_f64' : '';
    funcs.push(`(func (export "${name}") (param ${params}) (result ${res}) ${conv} ${name} ${back})`);
  }
  return wat(`(module ${funcs.join('\n')})`);
}
const v8raw = new WebAssembly.Instance(new WebAssembly.Module(wrapperModule())).exports as Record<string, (...a: unknown[]) => unknown>;

type Result = { trap: true } | { trap: false; bits: bigint; nan: boolean };

function runV8(name: string, pops: number[], push: number, args: (number | bigint)[]): Result {
  const conv = args.map((x, i) => (pops[i] === 0x7e || pops[i] === 0x7c ? BigInt.asIntN(64, BigInt(x)) : Number(x) | 0));
  try {
    const r = v8raw[name]!(...conv) as number | bigint;
    return bitsResult(push, r);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return { trap: true };
    throw e;
  }
}

function bitsResult(push: number, r: number | bigint): Result {
  if (push === 0x7d) {
    const b = BigInt(Number(r) >>> 0);
    return { trap: false, bits: b, nan: (b & 0x7f800000n) === 0x7f800000n && (b & 0x7fffffn) !== 0n };
  }
  if (push === 0x7c) {
    const b = BigInt.asUintN(64, BigInt(r));
    return { trap: false, bits: b, nan: (b & 0x7ff0000000000000n) === 0x7ff0000000000000n && (b & 0xfffffffffffffn) !== 0n };
  }
  return { trap: false, bits: BigInt.asUintN(64, BigInt(r)), nan: false };
}

function runOurs(f: Func, pops: number[], push: number, args: (number | bigint)[]): Result {
  const out = f.invoke(args.map((x, i) => toValue(pops[i]!, x)));
  if (out.kind === 'trapped') return { trap: true };
  const v = out.results[0]!;
  const raw = v.type === 'f32' || v.type === 'f64' ? v.bits : v.type === 'i32' || v.type === 'i64' ? v.value : 0;
  return bitsResult(push, raw);
}

function same(name: string, a: Result, b: Result): boolean {
  if (a.trap || b.trap) return a.trap === b.trap;
  if (a.nan && b.nan && !BITWISE.test(name)) return true;
  return a.bits === b.bits;
}

describe('numeric instructions agree with V8', () => {
  it('covers every fixed-type numeric instruction of the opcode table', () => {
    expect(numericOps.length).toBeGreaterThan(120);
  });

  it('notices a difference (the comparison is not vacuous)', () => {
    const add = runOurs(ours.func('i32.add'), [0x7f, 0x7f], 0x7f, [1, 1]);
    const sub = runV8('i32.sub', [0x7f, 0x7f], 0x7f, [1, 1]);
    expect(same('i32.add', add, sub)).toBe(false);
    const negNaN = runOurs(ours.func('f32.neg'), [0x7d], 0x7d, [0x7fa00000]);
    const canon = bitsResult(0x7d, 0x7fc00000);
    expect(same('f32.neg', negNaN, canon)).toBe(false);
  });

  for (const o of numericOps) {
    it(o.name, () => {
      const f = ours.func(o.name);
      fc.assert(
        fc.property(fc.tuple(...o.pops!.map((t) => arbOf[t]!)), (args) => {
          const a = runOurs(f, o.pops!, o.pushes![0]!, args);
          const b = runV8(o.name, o.pops!, o.pushes![0]!, args);
          if (!same(o.name, a, b)) {
            throw new Error(`${o.name}(${args.join(', ')}): wasmhive ${JSON.stringify(a, big)} V8 ${JSON.stringify(b, big)}`);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('i64 division and remainder match BigInt arithmetic over the whole range', () => {
    const ops = ['i64.div_s', 'i64.div_u', 'i64.rem_s', 'i64.rem_u'] as const;
    // Operands of every magnitude: mostly small, some near 2^32 and 2^53, some full width.
    const mag = fc.oneof(
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      fc.integer({ min: 0, max: 64 }).chain((bits) => fc.bigInt({ min: -(1n << BigInt(bits)), max: (1n << BigInt(bits)) })),
      i64Edge,
    );
    fc.assert(
      fc.property(fc.constantFrom(...ops), mag, mag, (name, x, y) => {
        x = BigInt.asIntN(64, x);
        y = BigInt.asIntN(64, y);
        const out = ours.func(name).invoke([{ type: 'i64', value: x }, { type: 'i64', value: y }]);
        const unsigned = name.endsWith('_u');
        const ux = unsigned ? BigInt.asUintN(64, x) : x;
        const uy = unsigned ? BigInt.asUintN(64, y) : y;
        if (uy === 0n) return out.kind === 'trapped';
        if (name === 'i64.div_s' && x === -(1n << 63n) && y === -1n) return out.kind === 'trapped';
        const want = BigInt.asIntN(64, name.includes('div') ? ux / uy : ux % uy);
        expect(out).toEqual({ kind: 'done', results: [{ type: 'i64', value: want }] });
        return true;
      }),
      { numRuns: 20000 },
    );
  });

  it('i32 binary ops with an immediate operand, on either side', () => {
    fc.assert(
      fc.property(fc.constantFrom(...I32_IMM_OPS), fc.integer({ min: 0, max: IMMS.length - 1 }), fc.boolean(), arbI32, (name, j, left, x) => {
        const exp = `${name}/imm${left ? 'L' : ''}${j}`;
        const a = ours.func(exp).invoke([{ type: 'i32', value: x }]);
        const b = v8[exp]!(x);
        expect(a).toEqual({ kind: 'done', results: [{ type: 'i32', value: b }] });
      }),
      { numRuns: 2000 },
    );
  });
});

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}
