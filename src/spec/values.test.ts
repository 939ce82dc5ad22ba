/**
 * Tests of the runner's value handling: parsing JSON arguments and
 * expectations, NaN classes by bit pattern, bit-exact comparison of floats,
 * v128 lanes, references, and the readable forms used in failure reports.
 */
import { describe, expect, it } from 'vitest';
import {
  f32InNanClass,
  f64InNanClass,
  formatExpectation,
  formatValue,
  HostRefs,
  matches,
  packLanes,
  parseBits,
  parseExpectation,
  parseValue,
  unpackLanes,
  type JsonValue,
  type SpecValue,
} from './values.js';

const refs = new HostRefs();
const arg = (v: JsonValue): SpecValue => parseValue(v, refs);
const check = (e: JsonValue, actual: SpecValue): boolean => matches(parseExpectation(e), actual, refs);

describe('parsing arguments', () => {
  it('reads i32 as the unsigned bit pattern and gives an int32', () => {
    expect(arg({ type: 'i32', value: '4294967295' })).toEqual({ type: 'i32', value: -1 });
    expect(arg({ type: 'i32', value: '2147483648' })).toEqual({ type: 'i32', value: -2147483648 });
    expect(arg({ type: 'i32', value: '7' })).toEqual({ type: 'i32', value: 7 });
  });

  it('reads i64 as the unsigned bit pattern and gives a signed bigint', () => {
    expect(arg({ type: 'i64', value: '18446744073709551615' })).toEqual({ type: 'i64', value: -1n });
    expect(arg({ type: 'i64', value: '9223372036854775808' })).toEqual({ type: 'i64', value: -(2n ** 63n) });
  });

  it('reads floats as bit patterns, keeping NaN payloads and the sign of zero', () => {
    expect(arg({ type: 'f32', value: '2141192192' })).toEqual({ type: 'f32', bits: 0x7fa00000 }); // sNaN payload
    expect(arg({ type: 'f32', value: '2147483648' })).toEqual({ type: 'f32', bits: 0x80000000 }); // -0
    expect(arg({ type: 'f64', value: '9221120237041090560' })).toEqual({ type: 'f64', bits: 0x7ff8000000000000n });
    expect(arg({ type: 'f64', value: '9223372036854775808' })).toEqual({ type: 'f64', bits: 0x8000000000000000n });
  });

  it('packs v128 lanes with lane 0 in the lowest bits', () => {
    const v = arg({ type: 'v128', lane_type: 'i32', value: ['1', '2', '3', '4294967295'] });
    expect(v).toEqual({ type: 'v128', bits: 0xffffffff_00000003_00000002_00000001n });
    const b = arg({ type: 'v128', lane_type: 'i8', value: Array.from({ length: 16 }, (_, i) => String(i)) });
    expect(b.type === 'v128' && unpackLanes(b.bits, 8)).toEqual(Array.from({ length: 16 }, (_, i) => BigInt(i)));
  });

  it('makes externref numbers into interned host references and "null" into ref.null', () => {
    const a = arg({ type: 'externref', value: '1' });
    const b = arg({ type: 'externref', value: '1' });
    expect(a.type === 'externref' && b.type === 'externref' && a.value === b.value).toBe(true);
    expect(a).not.toEqual(arg({ type: 'externref', value: 'null' }));
    expect(arg({ type: 'externref', value: 'null' })).toEqual({ type: 'externref', value: null });
    expect(arg({ type: 'funcref', value: 'null' })).toEqual({ type: 'funcref', value: null });
  });

  it('rejects malformed numbers, out-of-range bit patterns, wrong lane counts and unknown types', () => {
    expect(() => arg({ type: 'i32', value: '-1' })).toThrow();
    expect(() => arg({ type: 'i32', value: '4294967296' })).toThrow();
    expect(() => arg({ type: 'f32', value: 'nan:canonical' })).toThrow();
    expect(() => arg({ type: 'v128', lane_type: 'i32', value: ['1', '2'] })).toThrow();
    expect(() => arg({ type: 'i128', value: '0' })).toThrow();
    expect(() => parseBits('0x1g', 32)).toThrow();
  });
});

describe('NaN classes', () => {
  it('canonical f32 NaN is exactly the quiet bit, either sign', () => {
    expect(f32InNanClass(0x7fc00000, 'canonical')).toBe(true);
    expect(f32InNanClass(0xffc00000, 'canonical')).toBe(true);
    expect(f32InNanClass(0x7fc00001, 'canonical')).toBe(false);
    expect(f32InNanClass(0x7fa00000, 'canonical')).toBe(false);
    expect(f32InNanClass(0x7f800000, 'canonical')).toBe(false); // infinity
  });

  it('arithmetic f32 NaN needs the quiet bit, any payload', () => {
    expect(f32InNanClass(0x7fc00000, 'arithmetic')).toBe(true);
    expect(f32InNanClass(0xffc00001, 'arithmetic')).toBe(true);
    expect(f32InNanClass(0x7fe00000, 'arithmetic')).toBe(true);
    expect(f32InNanClass(0x7fa00000, 'arithmetic')).toBe(false); // signalling
    expect(f32InNanClass(0x3fc00000, 'arithmetic')).toBe(false); // a number
  });

  it('canonical and arithmetic f64 NaNs follow the same rules on 64 bits', () => {
    expect(f64InNanClass(0x7ff8000000000000n, 'canonical')).toBe(true);
    expect(f64InNanClass(0xfff8000000000000n, 'canonical')).toBe(true);
    expect(f64InNanClass(0x7ff8000000000001n, 'canonical')).toBe(false);
    expect(f64InNanClass(0x7ff8000000000001n, 'arithmetic')).toBe(true);
    expect(f64InNanClass(0x7ff4000000000000n, 'arithmetic')).toBe(false);
    expect(f64InNanClass(0x7ff0000000000000n, 'arithmetic')).toBe(false);
  });

  it('applies NaN classes from the JSON to results', () => {
    expect(check({ type: 'f32', value: 'nan:canonical' }, { type: 'f32', bits: 0xffc00000 })).toBe(true);
    expect(check({ type: 'f32', value: 'nan:canonical' }, { type: 'f32', bits: 0x7fc00001 })).toBe(false);
    expect(check({ type: 'f64', value: 'nan:arithmetic' }, { type: 'f64', bits: 0x7ffc000000000000n })).toBe(true);
    expect(check({ type: 'f64', value: 'nan:arithmetic' }, { type: 'f64', bits: 0x7ff0000000000001n })).toBe(false);
  });
});

describe('comparing results bit-exactly', () => {
  it('tells +0 from -0 and compares NaNs by payload', () => {
    expect(check({ type: 'f32', value: '0' }, { type: 'f32', bits: 0x80000000 })).toBe(false);
    expect(check({ type: 'f32', value: '2147483648' }, { type: 'f32', bits: 0x80000000 })).toBe(true);
    expect(check({ type: 'f64', value: '9221120237041090561' }, { type: 'f64', bits: 0x7ff8000000000001n })).toBe(true);
    expect(check({ type: 'f64', value: '9221120237041090561' }, { type: 'f64', bits: 0x7ff8000000000000n })).toBe(false);
  });

  it('compares integers by bit pattern whatever their signed representation', () => {
    expect(check({ type: 'i32', value: '4294967295' }, { type: 'i32', value: -1 })).toBe(true);
    expect(check({ type: 'i32', value: '4294967294' }, { type: 'i32', value: -1 })).toBe(false);
    expect(check({ type: 'i64', value: '18446744073709551615' }, { type: 'i64', value: -1n })).toBe(true);
  });

  it('requires the same type', () => {
    expect(check({ type: 'i32', value: '0' }, { type: 'f32', bits: 0 })).toBe(false);
    expect(check({ type: 'f64', value: '0' }, { type: 'i64', value: 0n })).toBe(false);
    expect(check({ type: 'externref', value: 'null' }, { type: 'funcref', value: null })).toBe(false);
  });

  it('compares v128 lane by lane, with NaN classes per float lane', () => {
    const bits = packLanes([0x7fc00000n, 0xffc00000n, 0x3f800000n, 0x7fc00001n], 32);
    const exp: JsonValue = { type: 'v128', lane_type: 'f32', value: ['nan:canonical', 'nan:canonical', '1065353216', 'nan:arithmetic'] };
    expect(check(exp, { type: 'v128', bits })).toBe(true);
    const exp2: JsonValue = { type: 'v128', lane_type: 'f32', value: ['nan:canonical', 'nan:canonical', '1065353216', 'nan:canonical'] };
    expect(check(exp2, { type: 'v128', bits })).toBe(false);
    expect(check({ type: 'v128', lane_type: 'i16', value: ['1', '0', '0', '0', '0', '0', '0', '0'] }, { type: 'v128', bits: 1n })).toBe(true);
    expect(check({ type: 'v128', lane_type: 'i16', value: ['1', '0', '0', '0', '0', '0', '0', '0'] }, { type: 'v128', bits: 1n << 16n })).toBe(false);
  });

  it('matches references: null, host references by identity, and valueless funcref as any non-null', () => {
    expect(check({ type: 'externref', value: 'null' }, { type: 'externref', value: null })).toBe(true);
    expect(check({ type: 'externref', value: '3' }, { type: 'externref', value: refs.get(3) })).toBe(true);
    expect(check({ type: 'externref', value: '3' }, { type: 'externref', value: refs.get(4) })).toBe(false);
    expect(check({ type: 'externref', value: '3' }, { type: 'externref', value: { hostref: 3 } })).toBe(false);
    expect(check({ type: 'externref', value: '3' }, { type: 'externref', value: null })).toBe(false);
    expect(check({ type: 'funcref' }, { type: 'funcref', value: { kind: 'funcref' } })).toBe(true);
    expect(check({ type: 'funcref' }, { type: 'funcref', value: null })).toBe(false);
    expect(check({ type: 'funcref', value: 'null' }, { type: 'funcref', value: { kind: 'funcref' } })).toBe(false);
    expect(check({ type: 'externref' }, { type: 'externref', value: refs.get(0) })).toBe(true);
  });
});

describe('readable forms', () => {
  it('shows integers in decimal and hex, floats as bits and numbers', () => {
    expect(formatValue({ type: 'i32', value: -1 })).toBe('i32:4294967295 (0xffffffff)');
    expect(formatValue({ type: 'f32', bits: 0x3f800000 })).toBe('f32:0x3f800000 (1)');
    expect(formatValue({ type: 'f64', bits: 0x7ff8000000000000n })).toBe('f64:0x7ff8000000000000 (NaN)');
    expect(formatValue({ type: 'externref', value: refs.get(5) })).toBe('ref.extern 5');
    expect(formatExpectation(parseExpectation({ type: 'f32', value: 'nan:arithmetic' }))).toBe('f32:nan:arithmetic');
    expect(formatExpectation(parseExpectation({ type: 'i64', value: '255' }))).toBe('i64:255 (0x00000000000000ff)');
  });
});
