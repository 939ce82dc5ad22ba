/**
 * From a signature table and implementations to engine host functions. An
 * implementation takes its caller, then its parameters as JS values (i32 and f64 as numbers,
 * i64 as a bigint) and returns its result the same way (nothing for no
 * results), or a Suspend that pauses the guest; its type follows from its
 * row of the table, so a table and its implementations cannot disagree.
 */
import { Func, Trap, type HostCaller, type HostResult, type I32HostFn, type Suspend, type Value } from '../../vm/index.js';
import { funcType, type AbiSignature, type AbiType, type ASSEMBLYSCRIPT_ENV_SIGNATURES, type HIVE_V1_SIGNATURES } from './signatures.js';
import { GuestCall, i32Result, NO_RESULTS } from './guest.js';

type JsOf<T extends AbiType> = T extends 'i64' ? bigint : number;
type ParamsOf<P extends readonly AbiType[]> = { -readonly [I in keyof P]: JsOf<P[I]> };
type ResultOf<R extends readonly AbiType[]> = R extends readonly [] ? void : R extends readonly [infer T extends AbiType] ? JsOf<T> : never;

/**
 * The implementation of one signature: the calling actor's GuestCall, then
 * the parameters. One implementation serves every actor (it is a plain
 * function of its caller; see buildModule).
 */
export type Implementation<S extends AbiSignature> = (g: GuestCall, ...args: ParamsOf<S['params']>) => ResultOf<S['results']> | Suspend;

/** Implementations for every row of a table. */
export type Implementations<T extends Record<string, AbiSignature>> = { [K in keyof T]: Implementation<T[K]> };

/** The implementations of the `hive` module. */
export type HiveFunctions = Implementations<typeof HIVE_V1_SIGNATURES>;
/** The implementations of AssemblyScript's `env` helpers. */
export type EnvFunctions = Implementations<typeof ASSEMBLYSCRIPT_ENV_SIGNATURES>;

/** An implementation called with its caller and JS values (see Implementation), before its answer is made results. */
export type RawImpl = (g: GuestCall, ...args: (number | bigint)[]) => unknown;

/**
 * Wraps an implementation (the binding's rules around each import): `name`
 * is `module.field`. The wrapper takes and returns what the implementation
 * does (`resultsOf` makes an answer the engine's results, for a wrapper that
 * must keep them, e.g. to resume with them later).
 */
export type Wrap = (name: string, sig: AbiSignature, run: RawImpl) => RawImpl;

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

/** The engine's results of an implementation's answer `out`, by its signature (a Suspend passes through). */
export function resultsOf(sig: AbiSignature, out: unknown): HostResult {
  return toResults(sig.results[0], out);
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

/** Whether a row is called with plain numbers (Func.hostI32): at most five i32 parameters, at most one i32 result. */
function i32Shaped(sig: AbiSignature): boolean {
  return sig.params.length <= 5 && sig.params.every((t) => t === 'i32') && sig.results.length <= 1 && sig.results.every((t) => t === 'i32');
}

/** The calling actor's GuestCall: the data of its instance (traps for an instance that is not an actor's). */
function guestOf(caller: HostCaller): GuestCall {
  const g = caller.data;
  if (!(g instanceof GuestCall)) throw new Trap('a hive import was called by an instance that is not an actor');
  return g;
}

/**
 * The host functions of a table: each implementation behind `wrap`, with
 * the type of its row. They are made once and shared by every actor: each
 * call finds its actor from its caller (the instance's data is the actor's
 * GuestCall). Rows of i32 parameters and at most one i32 result (most of
 * them) are called by the engine with plain numbers (Func.hostI32).
 */
export function buildModule<T extends Record<string, AbiSignature>>(module: string, table: T, impls: Implementations<T>, wrap: Wrap): Record<string, Func> {
  const out: Record<string, Func> = {};
  for (const name of Object.keys(table)) {
    const sig = table[name]!;
    const type = funcType(sig);
    const run = wrap(`${module}.${name}`, sig, impls[name] as unknown as RawImpl);
    if (i32Shaped(sig)) {
      // A number or nothing is the result itself; anything else (a pause) passes as it is.
      out[name] = Func.hostI32(type, (a0, a1, a2, a3, a4, caller) => run(guestOf(caller), a0, a1, a2, a3, a4) as ReturnType<I32HostFn>);
    } else {
      const result = sig.results[0];
      out[name] = Func.host(type, (a, caller) => toResults(result, run(guestOf(caller), ...a.map(fromValue))));
    }
  }
  return out;
}
