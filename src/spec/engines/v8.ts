/**
 * A {@link SpecEngine} over V8's own `WebAssembly`, used to check the runner
 * itself (`wasmhive spec --engine v8`): a correct runner lets V8 pass nearly
 * the whole suite.
 *
 * JS numbers cannot carry NaN payloads faithfully, and JS cannot hold v128 at
 * all, so calls go through a small generated wrapper module per signature
 * that takes and returns floats as integer bit patterns and v128 as two i64
 * halves, and calls the export wasm-to-wasm. V8 reports decode and validation
 * errors alike as CompileError, which classifies as `compile`.
 */
import { setFlagsFromString } from 'node:v8';
import type { ClassifiedError, EngineInstance, EngineModule, SpecEngine, SpecFeatures } from '../engine.js';
import type { SpecTypeName, SpecValue } from '../values.js';

/** V8's WebAssembly (typed by src/webassembly.d.ts). */
const WA = WebAssembly;

const TYPE_CODE: Record<SpecTypeName, number> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
};

/** How a value of each type crosses into JS through the wrapper. */
const BOUNDARY: Record<SpecTypeName, SpecTypeName[]> = {
  i32: ['i32'],
  i64: ['i64'],
  f32: ['i32'],
  f64: ['i64'],
  v128: ['i64', 'i64'],
  funcref: ['funcref'],
  externref: ['externref'],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];
const funcType = (params: SpecTypeName[], results: SpecTypeName[]): number[] => [
  0x60,
  ...vec(params.map((t) => [TYPE_CODE[t]])),
  ...vec(results.map((t) => [TYPE_CODE[t]])),
];

/**
 * Encodes a module importing `m.f : params -> results` and exporting `f`, which
 * calls it with floats as integer bits and v128 as (low, high) i64 pairs.
 */
export function encodeWrapper(params: SpecTypeName[], results: SpecTypeName[]): Uint8Array {
  const outerParams = params.flatMap((t) => BOUNDARY[t]);
  const outerResults = results.flatMap((t) => BOUNDARY[t]);
  const code: number[] = [];
  let w = 0;
  for (const t of params) {
    switch (t) {
      case 'f32':
        code.push(0x20, ...uleb(w), 0xbe); // local.get; f32.reinterpret_i32
        break;
      case 'f64':
        code.push(0x20, ...uleb(w), 0xbf); // local.get; f64.reinterpret_i64
        break;
      case 'v128':
        code.push(0x20, ...uleb(w), 0xfd, 0x12, 0x20, ...uleb(w + 1), 0xfd, 0x1e, 1); // i64x2.splat lo; replace_lane 1 hi
        break;
      default:
        code.push(0x20, ...uleb(w));
    }
    w += BOUNDARY[t].length;
  }
  code.push(0x10, 0); // call the import
  const firstLocal = outerParams.length;
  for (let i = results.length - 1; i >= 0; i--) code.push(0x21, ...uleb(firstLocal + i)); // local.set, last result first
  results.forEach((t, i) => {
    const get = [0x20, ...uleb(firstLocal + i)];
    switch (t) {
      case 'f32':
        code.push(...get, 0xbc); // i32.reinterpret_f32
        break;
      case 'f64':
        code.push(...get, 0xbd); // i64.reinterpret_f64
        break;
      case 'v128':
        code.push(...get, 0xfd, 0x1d, 0, ...get, 0xfd, 0x1d, 1); // i64x2.extract_lane 0, 1
        break;
      default:
        code.push(...get);
    }
  });
  code.push(0x0b);
  const locals = vec(results.map((t) => [1, TYPE_CODE[t]]));
  const body = [...locals, ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([funcType(outerParams, outerResults), funcType(params, results)])),
    ...section(2, vec([[...name('m'), ...name('f'), 0x00, 1]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('f'), 0x00, 1]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

const f32b = new Float32Array(1);
const u32b = new Uint32Array(f32b.buffer);
const f64b = new Float64Array(1);
const u64b = new BigUint64Array(f64b.buffer);
const MASK64 = (1n << 64n) - 1n;

function toBoundary(v: SpecValue): unknown[] {
  switch (v.type) {
    case 'i32':
      return [v.value | 0];
    case 'i64':
      return [BigInt.asIntN(64, v.value)];
    case 'f32':
      return [v.bits | 0];
    case 'f64':
      return [BigInt.asIntN(64, v.bits)];
    case 'v128':
      return [BigInt.asIntN(64, v.bits & MASK64), BigInt.asIntN(64, (v.bits >> 64n) & MASK64)];
    default:
      return [v.value];
  }
}

function fromBoundary(t: SpecTypeName, xs: unknown[]): SpecValue {
  switch (t) {
    case 'i32':
      return { type: 'i32', value: Number(xs[0]) | 0 };
    case 'i64':
      return { type: 'i64', value: BigInt.asIntN(64, xs[0] as bigint) };
    case 'f32':
      return { type: 'f32', bits: Number(xs[0]) >>> 0 };
    case 'f64':
      return { type: 'f64', bits: BigInt.asUintN(64, xs[0] as bigint) };
    case 'v128':
      return { type: 'v128', bits: BigInt.asUintN(64, xs[0] as bigint) | (BigInt.asUintN(64, xs[1] as bigint) << 64n) };
    case 'funcref':
      return { type: 'funcref', value: (xs[0] ?? null) as never };
    case 'externref':
      return { type: 'externref', value: xs[0] ?? null };
  }
}

/** A JS value as read from a `WebAssembly.Global` of type `t`. */
function fromJs(t: SpecTypeName, x: unknown): SpecValue {
  switch (t) {
    case 'f32':
      f32b[0] = Number(x);
      return { type: 'f32', bits: u32b[0]! };
    case 'f64':
      f64b[0] = Number(x);
      return { type: 'f64', bits: u64b[0]! };
    default:
      return fromBoundary(t, [x]);
  }
}

const wrapperModules = new Map<string, WebAssembly.Module>();

class V8Instance implements EngineInstance {
  private readonly wrappers = new Map<string, (...args: unknown[]) => unknown>();
  constructor(private readonly instance: WebAssembly.Instance) {}

  invoke(field: string, args: SpecValue[], resultTypes?: SpecTypeName[]): SpecValue[] {
    const f = this.instance.exports[field];
    if (typeof f !== 'function') throw new Error(`no exported function ${JSON.stringify(field)}`);
    if (resultTypes === undefined) throw new Error('the V8 adapter needs the result types of a call');
    const params = args.map((a) => a.type);
    const key = `${field}:${params.join(',')}->${resultTypes.join(',')}`;
    let wrapper = this.wrappers.get(key);
    if (wrapper === undefined) {
      const sig = `${params.join(',')}->${resultTypes.join(',')}`;
      let mod = wrapperModules.get(sig);
      if (mod === undefined) {
        mod = new WA.Module(encodeWrapper(params, resultTypes));
        wrapperModules.set(sig, mod);
      }
      let inst;
      try {
        inst = new WA.Instance(mod, { m: { f } });
      } catch (e) {
        throw new Error(`the V8 adapter's wrapper for ${field} (${sig}) does not link: ${(e as Error).message}`);
      }
      wrapper = inst.exports['f'] as (...args: unknown[]) => unknown;
      this.wrappers.set(key, wrapper);
    }
    const raw = wrapper(...args.flatMap(toBoundary));
    const width = resultTypes.reduce((n, t) => n + BOUNDARY[t].length, 0);
    const flat = width === 0 ? [] : width === 1 ? [raw] : (raw as unknown[]);
    const out: SpecValue[] = [];
    let i = 0;
    for (const t of resultTypes) {
      const n = BOUNDARY[t].length;
      out.push(fromBoundary(t, flat.slice(i, i + n)));
      i += n;
    }
    return out;
  }

  get(field: string, type?: SpecTypeName): SpecValue {
    const g = this.instance.exports[field] as { value?: unknown } | undefined;
    if (g === undefined || typeof g !== 'object' || !('value' in g)) throw new Error(`no exported global ${JSON.stringify(field)}`);
    if (type === undefined) throw new Error('the V8 adapter needs the type of a global');
    return fromJs(type, g.value);
  }

  exports(): Record<string, unknown> {
    return this.instance.exports;
  }
}

let flagsSet = false;

/**
 * The V8 adapter. Proposal features are switched on through V8 flags the first
 * time a script needs them (multi-memory is unavailable in Node 20's V8).
 */
export class V8Engine implements SpecEngine {
  readonly name = 'v8';

  compile(bytes: Uint8Array, features: SpecFeatures): EngineModule {
    if (!flagsSet && (features.multiMemory || features.tailCall || features.extendedConst)) {
      flagsSet = true;
      // Node 20's V8 ships tail calls and has extended-const behind a flag; it has no multi-memory at all.
      setFlagsFromString('--experimental-wasm-return-call');
      setFlagsFromString('--experimental-wasm-extended-const');
    }
    const module = new WA.Module(bytes);
    return { instantiate: (imports) => new V8Instance(new WA.Instance(module, imports)) };
  }

  spectest(): Record<string, unknown> {
    const print = (): void => {};
    return {
      print,
      print_i32: print,
      print_i64: print,
      print_f32: print,
      print_f64: print,
      print_i32_f32: print,
      print_f64_f64: print,
      global_i32: new WA.Global({ value: 'i32' }, 666),
      global_i64: new WA.Global({ value: 'i64' }, 666n),
      global_f32: new WA.Global({ value: 'f32' }, 666.6),
      global_f64: new WA.Global({ value: 'f64' }, 666.6),
      table: new WA.Table({ element: 'anyfunc', initial: 10, maximum: 20 }),
      memory: new WA.Memory({ initial: 1, maximum: 2 }),
    };
  }

  classify(error: unknown): ClassifiedError | undefined {
    if (!(error instanceof Error)) return undefined;
    if (error instanceof WA.CompileError) return { kind: 'compile', message: error.message };
    if (error instanceof WA.LinkError) return { kind: 'link', message: error.message };
    if (error instanceof WA.RuntimeError) return { kind: 'trap', message: error.message };
    if (error instanceof RangeError && /call stack/i.test(error.message)) return { kind: 'exhaustion', message: error.message };
    return undefined;
  }
}
