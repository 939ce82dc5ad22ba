/**
 * The two engines the benchmark compares, behind one shape: instantiate a
 * kernel module, get its `run(n)` export as a JS function. V8 is Node's own
 * `WebAssembly`; wasmhive is our engine in `src/vm` with tier 'auto' (the
 * interpreter, hot functions compiled to JavaScript; not yet the default tier,
 * see CompileOptions.tier), whose
 * JS-API-like exports return i64 as bigint exactly as V8 does, so results
 * compare directly.
 */
import type { ResultType } from './kernels.js';

/** A kernel's `run` export. i32 and f64 results are numbers, i64 results bigints. */
export type RunFn = (n: number) => number | bigint;

/** An engine under benchmark. */
export interface Engine {
  /** Short name for tables and JSON. */
  readonly name: 'v8' | 'wasmhive';
  /** Decode, validate and instantiate `bytes` with no imports, and return its `run` export. */
  instantiate(bytes: Uint8Array): Promise<RunFn>;
}

function runExport(exports: Record<string, unknown>, engine: string): RunFn {
  const run = exports['run'];
  if (typeof run !== 'function') throw new Error(`${engine}: the module has no exported function "run"`);
  return run as RunFn;
}

/** V8's WebAssembly, through the standard JS API (typed by src/webassembly.d.ts). */
export const v8Engine: Engine = {
  name: 'v8',
  async instantiate(bytes) {
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return runExport(instance.exports, 'v8');
  },
};

/** Our engine (tier 'auto'), loaded on first use so a broken engine fails the kernels loudly instead of the import. */
export const wasmhiveEngine: Engine = {
  name: 'wasmhive',
  async instantiate(bytes) {
    const vm = await import('../vm/index.js');
    const mod = new vm.Module(bytes, { tier: 'auto' });
    const inst = new vm.Instance(mod, {});
    return runExport(inst.exports as Record<string, unknown>, 'wasmhive');
  },
};

/** The JS type a result of `type` must come back as. */
export function jsTypeOf(type: ResultType): 'number' | 'bigint' {
  return type === 'i64' ? 'bigint' : 'number';
}

/**
 * Whether two results are the same value, bit for bit: same JS type, and for
 * numbers `Object.is` (so +0 and -0 differ, NaN equals NaN).
 */
export function sameResult(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'bigint') return a === b;
  if (typeof a === 'number') return Object.is(a, b);
  return false;
}

/** A result as text: bigints with an `n` suffix, floats with every digit JS keeps. */
export function formatResult(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  return `${typeof x} ${String(x)}`;
}
