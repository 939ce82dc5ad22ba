/**
 * Values at the engine boundary. Floats travel as raw bit patterns so that
 * NaN payloads survive; i64 travels as a BigInt (only at the boundary; the
 * engine itself keeps i64 as two 32-bit halves).
 */

/** A reference to a function, as held in tables and funcref values. Created by the engine. */
export interface FuncRefValue {
  readonly kind: 'funcref';
}

/** A WebAssembly value with its type. */
export type Value =
  | { type: 'i32'; value: number } // as int32 (any number is wrapped modulo 2^32 on input)
  | { type: 'i64'; value: bigint } // as signed 64-bit
  | { type: 'f32'; bits: number } // uint32 bit pattern
  | { type: 'f64'; bits: bigint } // uint64 bit pattern
  | { type: 'funcref'; value: FuncRefValue | null } // null is ref.null func
  | { type: 'externref'; value: unknown }; // null is ref.null extern; anything else is a host value

/** The name of a value's type ('i32', 'f64', 'funcref'...). */
export type ValueTypeName = Value['type'];

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1);
const u64buf = new BigUint64Array(f64buf.buffer);

/** An i32 value (wrapped to 32 bits). */
export const i32 = (value: number): Value => ({ type: 'i32', value: value | 0 });
/** An i64 value (wrapped to 64 bits). */
export const i64 = (value: bigint): Value => ({ type: 'i64', value: BigInt.asIntN(64, value) });
/** An f32 from a JS number (rounded to f32). */
export function f32(value: number): Value {
  f32buf[0] = value;
  return { type: 'f32', bits: u32buf[0]! };
}
/** An f64 from a JS number. */
export function f64(value: number): Value {
  f64buf[0] = value;
  return { type: 'f64', bits: u64buf[0]! };
}
/** An f32 value from its raw bits (NaN payloads kept). */
export const f32bits = (bits: number): Value => ({ type: 'f32', bits: bits >>> 0 });
/** An f64 value from its raw bits (NaN payloads kept). */
export const f64bits = (bits: bigint): Value => ({ type: 'f64', bits: BigInt.asUintN(64, bits) });

/** The JS number of an f32 bit pattern. */
export function f32FromBits(bits: number): number {
  u32buf[0] = bits;
  return f32buf[0]!;
}
/** The JS number of an f64 bit pattern. */
export function f64FromBits(bits: bigint): number {
  u64buf[0] = bits;
  return f64buf[0]!;
}

/** A value as a plain JS value, the way the WebAssembly JS API gives it: i64 as bigint, floats as numbers, references as they are. */
export function toJs(v: Value): unknown {
  switch (v.type) {
    case 'i32':
    case 'i64':
      return v.value;
    case 'f32':
      return f32FromBits(v.bits);
    case 'f64':
      return f64FromBits(v.bits);
    default:
      return v.value;
  }
}

/** A plain JS value as a value of the given type (the WebAssembly JS API's ToWebAssemblyValue). */
export function fromJs(type: ValueTypeName, x: unknown): Value {
  switch (type) {
    case 'i32':
      return { type, value: Number(x) | 0 };
    case 'i64':
      return { type, value: BigInt.asIntN(64, typeof x === 'bigint' ? x : BigInt(x as number)) };
    case 'f32':
      return f32(Number(x));
    case 'f64':
      return f64(Number(x));
    case 'funcref':
      return { type, value: (x ?? null) as FuncRefValue | null };
    case 'externref':
      return { type, value: x === undefined ? null : x };
  }
}

/** Type name from a value type code. */
export function typeName(code: number): ValueTypeName {
  switch (code) {
    case 0x7f: return 'i32';
    case 0x7e: return 'i64';
    case 0x7d: return 'f32';
    case 0x7c: return 'f64';
    case 0x70: return 'funcref';
    case 0x6f: return 'externref';
    default: throw new TypeError(`no boundary representation for value type 0x${code.toString(16)}`);
  }
}

/** Value type code from a type name. */
export function typeCode(name: ValueTypeName | 'v128'): number {
  switch (name) {
    case 'i32': return 0x7f;
    case 'i64': return 0x7e;
    case 'f32': return 0x7d;
    case 'f64': return 0x7c;
    case 'v128': return 0x7b;
    case 'funcref': return 0x70;
    case 'externref': return 0x6f;
  }
}
