/**
 * From a signature table and implementations to engine host functions. An
 * implementation takes its parameters as JS values (i32 and f64 as numbers,
 * i64 as a bigint) and returns its result the same way (nothing for no
 * results), or a Suspend that pauses the guest; its type follows from its
 * row of the table, so a table and its implementations cannot disagree.
 */
import { Func, type HostFn, type HostResult, type Suspend, type Value } from '../../vm/index.js';
import { funcType, type AbiSignature, type AbiType, type ASSEMBLYSCRIPT_ENV_SIGNATURES, type HIVE_V1_SIGNATURES } from './signatures.js';
import { i32Result, NO_RESULTS } from './guest.js';

type JsOf<T extends AbiType> = T extends 'i64' ? bigint : number;
type ParamsOf<P extends readonly AbiType[]> = { -readonly [I in keyof P]: JsOf<P[I]> };
type ResultOf<R extends readonly AbiType[]> = R extends readonly [] ? void : R extends readonly [infer T extends AbiType] ? JsOf<T> : never;

/** The implementation of one signature. */
export type Implementation<S extends AbiSignature> = (...args: ParamsOf<S['params']>) => ResultOf<S['results']> | Suspend;

/** Implementations for every row of a table. */
export type Implementations<T extends Record<string, AbiSignature>> = { [K in keyof T]: Implementation<T[K]> };

/** The implementations of the `hive` module. */
export type HiveFunctions = Implementations<typeof HIVE_V1_SIGNATURES>;
/** The implementations of AssemblyScript's `env` helpers. */
export type EnvFunctions = Implementations<typeof ASSEMBLYSCRIPT_ENV_SIGNATURES>;

/** Wraps a host function (the binding's rules around each import): `name` is `module.field`. */
export type Wrap = (name: string, sig: AbiSignature, run: HostFn) => HostFn;

const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** A JS value of an argument. */
function fromValue(v: Value): number | bigint {
  if (v.type === 'f64') {
    f64Bits[0] = v.bits;
    return f64[0]!;
  }
  return (v as { value: number | bigint }).value;
}

/** The results of an implementation's answer, by the signature's result type (a Suspend passes through). */
function toResults(type: AbiType | undefined, out: unknown): HostResult {
  switch (type) {
    case undefined: return out === undefined ? NO_RESULTS : (out as Suspend);
    case 'i32': return typeof out === 'number' ? i32Result(out) : (out as Suspend);
    case 'i64': return typeof out === 'bigint' ? [{ type: 'i64', value: out }] : (out as Suspend);
    case 'f64':
      if (typeof out !== 'number') return out as Suspend;
      f64[0] = out;
      return [{ type: 'f64', bits: f64Bits[0]! }];
  }
}

type Fn = (...args: (number | bigint)[]) => unknown;

/** Calls an implementation with the raw arguments, as JS values. The common shapes (up to five i32) read them directly. */
function caller(sig: AbiSignature, impl: Fn): HostFn {
  const result = sig.results[0];
  const v = (a: Value[], i: number): number => (a[i] as { value: number }).value;
  if (sig.params.every((t) => t === 'i32')) {
    switch (sig.params.length) {
      case 0: return () => toResults(result, impl());
      case 1: return (a) => toResults(result, impl(v(a, 0)));
      case 2: return (a) => toResults(result, impl(v(a, 0), v(a, 1)));
      case 3: return (a) => toResults(result, impl(v(a, 0), v(a, 1), v(a, 2)));
      case 4: return (a) => toResults(result, impl(v(a, 0), v(a, 1), v(a, 2), v(a, 3)));
      case 5: return (a) => toResults(result, impl(v(a, 0), v(a, 1), v(a, 2), v(a, 3), v(a, 4)));
    }
  }
  return (a) => toResults(result, impl(...a.map(fromValue)));
}

/** The host functions of a table: each implementation behind `wrap`, with the type of its row. */
export function buildModule<T extends Record<string, AbiSignature>>(module: string, table: T, impls: Implementations<T>, wrap: Wrap): Record<string, Func> {
  const out: Record<string, Func> = {};
  for (const name of Object.keys(table)) {
    const sig = table[name]!;
    out[name] = Func.host(funcType(sig), wrap(`${module}.${name}`, sig, caller(sig, impls[name] as Fn)));
  }
  return out;
}
