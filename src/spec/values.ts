/**
 * Values of the spec testsuite's JSON scripts: parsing arguments into engine
 * values, parsing expectations (exact bit patterns, NaN classes, reference
 * classes, v128 lanes) and comparing an engine's results against them
 * bit-exactly. Nothing here depends on a particular engine.
 */
import type { Value } from '../vm/values.js';

/** A 128-bit vector value as its unsigned bit pattern, lane 0 in the lowest bits. */
export interface V128Value {
  type: 'v128';
  bits: bigint;
}

/** A value crossing the runner/engine boundary: an engine value, or a v128 (which the engine's `Value` lacks for now). */
export type SpecValue = Value | V128Value;

/** Type names of spec values. */
export type SpecTypeName = SpecValue['type'];

/** A value as written in the JSON: `value` is a decimal string of the bit pattern, a NaN class, `"null"`, or (v128) a list of lanes. */
export interface JsonValue {
  type: string;
  value?: string | string[];
  lane_type?: string;
}

/** A host reference (`ref.extern N` in the scripts). Interned per script run, so equal numbers are the same object. */
export interface HostRef {
  readonly hostref: number;
}

/** Interns host references by number, so that identity comparison works across calls of one script. */
export class HostRefs {
  private readonly refs = new Map<number, HostRef>();
  /** The host reference numbered `n`, always the same object for the same `n`. */
  get(n: number): HostRef {
    let r = this.refs.get(n);
    if (r === undefined) {
      r = Object.freeze({ hostref: n });
      this.refs.set(n, r);
    }
    return r;
  }
}

/** Whether `x` is a host reference made by {@link HostRefs}. */
export function isHostRef(x: unknown): x is HostRef {
  return typeof x === 'object' && x !== null && typeof (x as { hostref?: unknown }).hostref === 'number';
}

/** NaN classes of assert_return: any NaN with the canonical payload, or any NaN with the quiet bit set. */
export type NanClass = 'canonical' | 'arithmetic';

/** Lane shapes of v128 values: lane type, lane width in bits, lane count. */
export const LANES: Record<string, { width: number; count: number; float: boolean }> = {
  i8: { width: 8, count: 16, float: false },
  i16: { width: 16, count: 8, float: false },
  i32: { width: 32, count: 4, float: false },
  i64: { width: 64, count: 2, float: false },
  f32: { width: 32, count: 4, float: true },
  f64: { width: 64, count: 2, float: true },
};

/** One expected v128 lane: an exact bit pattern or (float lanes) a NaN class. */
export type LaneExpectation = { bits: bigint } | { nan: NanClass };

/** What assert_return expects of one result. */
export type Expectation =
  | { type: 'i32' | 'i64' | 'f32' | 'f64'; bits: bigint }
  | { type: 'f32' | 'f64'; nan: NanClass }
  | { type: 'v128'; laneType: string; lanes: LaneExpectation[] }
  | { type: 'funcref' | 'externref'; ref: 'null' | 'nonnull' }
  | { type: 'externref'; ref: 'host'; host: number };

/** Parses a decimal (or 0x-prefixed) string as an unsigned bit pattern of `width` bits. Throws on anything else. */
export function parseBits(s: string, width: number): bigint {
  if (!/^(?:\d+|0x[0-9a-fA-F]+)$/.test(s)) throw new SyntaxError(`not an unsigned integer: ${JSON.stringify(s)}`);
  const n = BigInt(s);
  if (n >= 1n << BigInt(width)) throw new RangeError(`${s} does not fit in ${width} bits`);
  return n;
}

/** Parses a NaN class string (`nan:canonical`, `nan:arithmetic`), or returns undefined for anything else. */
export function parseNanClass(s: string): NanClass | undefined {
  if (s === 'nan:canonical') return 'canonical';
  if (s === 'nan:arithmetic') return 'arithmetic';
  return undefined;
}

function scalarString(v: JsonValue): string {
  if (typeof v.value !== 'string') throw new SyntaxError(`${v.type} value must be a string, got ${JSON.stringify(v.value)}`);
  return v.value;
}

/** Packs lane bit patterns (lane 0 first) into a 128-bit pattern. */
export function packLanes(lanes: bigint[], width: number): bigint {
  let bits = 0n;
  const mask = (1n << BigInt(width)) - 1n;
  for (let i = lanes.length - 1; i >= 0; i--) bits = (bits << BigInt(width)) | (lanes[i]! & mask);
  return bits;
}

/** Splits a 128-bit pattern into lanes of `width` bits, lane 0 first. */
export function unpackLanes(bits: bigint, width: number): bigint[] {
  const out: bigint[] = [];
  const mask = (1n << BigInt(width)) - 1n;
  for (let i = 0; i < 128 / width; i++) out.push((bits >> BigInt(i * width)) & mask);
  return out;
}

function laneShape(v: JsonValue): { width: number; count: number; float: boolean } {
  const shape = v.lane_type === undefined ? undefined : LANES[v.lane_type];
  if (shape === undefined) throw new SyntaxError(`v128 value with unknown lane_type ${JSON.stringify(v.lane_type)}`);
  if (!Array.isArray(v.value) || v.value.length !== shape.count) {
    throw new SyntaxError(`v128 ${v.lane_type} value must have ${shape.count} lanes`);
  }
  return shape;
}

/**
 * Parses an argument of an action into a value. `hostRefs` supplies the
 * objects for `externref` numbers. Throws on values the JSON cannot hold as
 * arguments (NaN classes, malformed numbers).
 */
export function parseValue(v: JsonValue, hostRefs: HostRefs): SpecValue {
  switch (v.type) {
    case 'i32':
      return { type: 'i32', value: Number(parseBits(scalarString(v), 32)) | 0 };
    case 'i64':
      return { type: 'i64', value: BigInt.asIntN(64, parseBits(scalarString(v), 64)) };
    case 'f32':
      return { type: 'f32', bits: Number(parseBits(scalarString(v), 32)) };
    case 'f64':
      return { type: 'f64', bits: parseBits(scalarString(v), 64) };
    case 'v128': {
      const shape = laneShape(v);
      const lanes = (v.value as string[]).map((s) => parseBits(s, shape.width));
      return { type: 'v128', bits: packLanes(lanes, shape.width) };
    }
    case 'externref': {
      const s = scalarString(v);
      return { type: 'externref', value: s === 'null' ? null : hostRefs.get(Number(parseBits(s, 32))) };
    }
    case 'funcref': {
      const s = scalarString(v);
      if (s !== 'null') throw new SyntaxError(`funcref arguments other than null are not expressible: ${s}`);
      return { type: 'funcref', value: null };
    }
    default:
      throw new SyntaxError(`unknown value type ${JSON.stringify(v.type)}`);
  }
}

/** Parses one expected result of assert_return. */
export function parseExpectation(v: JsonValue): Expectation {
  switch (v.type) {
    case 'i32':
    case 'i64':
      return { type: v.type, bits: parseBits(scalarString(v), v.type === 'i32' ? 32 : 64) };
    case 'f32':
    case 'f64': {
      const s = scalarString(v);
      const nan = parseNanClass(s);
      if (nan !== undefined) return { type: v.type, nan };
      return { type: v.type, bits: parseBits(s, v.type === 'f32' ? 32 : 64) };
    }
    case 'v128': {
      const shape = laneShape(v);
      const lanes = (v.value as string[]).map((s): LaneExpectation => {
        const nan = parseNanClass(s);
        if (nan !== undefined) {
          if (!shape.float) throw new SyntaxError(`NaN class in an integer lane: ${s}`);
          return { nan };
        }
        return { bits: parseBits(s, shape.width) };
      });
      return { type: 'v128', laneType: v.lane_type!, lanes };
    }
    case 'funcref':
      // Only ref.null can be named; any other expectation means "some function".
      return { type: 'funcref', ref: v.value === 'null' ? 'null' : 'nonnull' };
    case 'externref': {
      if (v.value === undefined) return { type: 'externref', ref: 'nonnull' };
      const s = scalarString(v);
      if (s === 'null') return { type: 'externref', ref: 'null' };
      return { type: 'externref', ref: 'host', host: Number(parseBits(s, 32)) };
    }
    default:
      throw new SyntaxError(`unknown value type ${JSON.stringify(v.type)}`);
  }
}

/** Whether an f32 bit pattern is in the NaN class. */
export function f32InNanClass(bits: number, cls: NanClass): boolean {
  const b = bits >>> 0;
  // canonical: exponent all ones, only the quiet bit set in the payload, either sign.
  if (cls === 'canonical') return (b & 0x7fffffff) === 0x7fc00000;
  // arithmetic: exponent all ones and the quiet bit set (payload otherwise arbitrary).
  return (b & 0x7fc00000) === 0x7fc00000;
}

/** Whether an f64 bit pattern is in the NaN class. */
export function f64InNanClass(bits: bigint, cls: NanClass): boolean {
  if (cls === 'canonical') return (bits & 0x7fffffffffffffffn) === 0x7ff8000000000000n;
  return (bits & 0x7ff8000000000000n) === 0x7ff8000000000000n;
}

function laneMatches(lane: LaneExpectation, bits: bigint, width: number): boolean {
  if ('bits' in lane) return lane.bits === bits;
  return width === 32 ? f32InNanClass(Number(bits), lane.nan) : f64InNanClass(bits, lane.nan);
}

/** Whether an actual result satisfies an expectation, bit-exactly (NaN classes by bits, references by identity). */
export function matches(expected: Expectation, actual: SpecValue, hostRefs: HostRefs): boolean {
  if (expected.type !== actual.type) return false;
  switch (actual.type) {
    case 'i32':
      return 'bits' in expected && BigInt(actual.value >>> 0) === expected.bits;
    case 'i64':
      return 'bits' in expected && BigInt.asUintN(64, actual.value) === expected.bits;
    case 'f32':
      if ('nan' in expected) return f32InNanClass(actual.bits, expected.nan);
      return 'bits' in expected && BigInt(actual.bits >>> 0) === expected.bits;
    case 'f64':
      if ('nan' in expected) return f64InNanClass(actual.bits, expected.nan);
      return 'bits' in expected && BigInt.asUintN(64, actual.bits) === expected.bits;
    case 'v128': {
      if (!('lanes' in expected)) return false;
      const width = LANES[expected.laneType]!.width;
      const lanes = unpackLanes(BigInt.asUintN(128, actual.bits), width);
      return expected.lanes.every((lane, i) => laneMatches(lane, lanes[i]!, width));
    }
    case 'funcref':
    case 'externref': {
      if (!('ref' in expected)) return false;
      if (expected.ref === 'null') return actual.value === null;
      if (expected.ref === 'nonnull') return actual.value !== null && actual.value !== undefined;
      return 'host' in expected && actual.value === hostRefs.get(expected.host);
    }
  }
}

const hex = (n: bigint, width: number): string => '0x' + n.toString(16).padStart(width / 4, '0');

function floatOf(bits: bigint, width: 32 | 64): number {
  const view = new DataView(new ArrayBuffer(8));
  if (width === 32) {
    view.setUint32(0, Number(bits));
    return view.getFloat32(0);
  }
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/** A readable form of a value for failure reports, e.g. `i32:4294967295 (0xffffffff)` or `f32:0x7fc00000 (NaN)`. */
export function formatValue(v: SpecValue): string {
  switch (v.type) {
    case 'i32': {
      const u = BigInt(v.value >>> 0);
      return `i32:${u} (${hex(u, 32)})`;
    }
    case 'i64': {
      const u = BigInt.asUintN(64, v.value);
      return `i64:${u} (${hex(u, 64)})`;
    }
    case 'f32': {
      const u = BigInt(v.bits >>> 0);
      return `f32:${hex(u, 32)} (${floatOf(u, 32)})`;
    }
    case 'f64': {
      const u = BigInt.asUintN(64, v.bits);
      return `f64:${hex(u, 64)} (${floatOf(u, 64)})`;
    }
    case 'v128':
      return `v128:${hex(BigInt.asUintN(128, v.bits), 128)}`;
    case 'funcref':
      return v.value === null ? 'ref.null func' : 'ref.func';
    case 'externref':
      if (v.value === null) return 'ref.null extern';
      return isHostRef(v.value) ? `ref.extern ${v.value.hostref}` : `ref.extern <${typeof v.value}>`;
  }
}

/** A readable form of an expectation for failure reports. */
export function formatExpectation(e: Expectation): string {
  if ('nan' in e) return `${e.type}:nan:${e.nan}`;
  if ('lanes' in e) {
    const width = LANES[e.laneType]!.width;
    const lanes = e.lanes.map((l) => ('nan' in l ? `nan:${l.nan}` : hex(l.bits, width)));
    return `v128:${e.laneType}x${lanes.length}[${lanes.join(' ')}]`;
  }
  if ('ref' in e) {
    if (e.ref === 'null') return `ref.null ${e.type === 'funcref' ? 'func' : 'extern'}`;
    if ('host' in e) return `ref.extern ${e.host}`;
    return e.type === 'funcref' ? 'ref.func (any)' : 'ref.extern (any)';
  }
  const width = e.type === 'i32' || e.type === 'f32' ? 32 : 64;
  if (e.type === 'i32' || e.type === 'i64') return `${e.type}:${e.bits} (${hex(e.bits, width)})`;
  return `${e.type}:${hex(e.bits, width)} (${floatOf(e.bits, width as 32 | 64)})`;
}
