/**
 * The `coremark` part of `wasmhive bench` (issue 16): EEMBC's CoreMark, built
 * from its public sources (`bench/coremark`, vendored unchanged, plus our
 * freestanding wasm32 port `core_portme.c`), run on V8's WebAssembly and on
 * the wasmhive interpreter for the same number of iterations.
 *
 * The module imports nothing and exports `run(n)`: CoreMark's own main() with
 * n iterations and the performance-run seeds 0x0, 0x0, 0x66 at
 * TOTAL_DATA_SIZE 2000 (666 bytes per algorithm: CoreMark's "2K performance
 * run", seedcrc 0xe9f5). It returns `crcfinal | failures << 16`, where
 * `failures` is 0 when CoreMark's self-validation passed (the seeds matched a
 * known parameter set, and the list, matrix and state CRCs equal the known
 * ones: core_main.c checks them and reports through ee_printf, which the port
 * reads). `report(i)` gives the figures of the last run's report.
 *
 * The bench checks that both engines return the same value, that it carries
 * no failure bit, and that crcfinal is CoreMark's value for the iteration
 * count (`KNOWN_CRCFINAL`, from the upstream sources built natively), then
 * times `run(n)` on both with `measure` as the kernels part does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { formatResult, sameResult, v8Engine, wasmhiveEngine, type Engine, type RunFn } from './engines.js';
import { packageRoot } from './kernels.js';
import { measurePair, type MeasureOptions, type Timing } from './measure.js';

/** Iterations: a full run (one wasmhive call ~1-3 s), `--quick`, and the unit test. */
export const COREMARK_ITERATIONS = { n: 1000, quickN: 100, testN: 10 } as const;

/** Timing options per engine, for full and quick runs. */
export const COREMARK_PLANS: Record<'full' | 'quick', Record<Engine['name'], MeasureOptions>> = {
  full: {
    v8: { warmupCalls: 3, warmupMs: 500, samples: 11, minSampleMs: 100, budgetMs: 3_000 },
    // Timed warm, as the kernels (see PLANS in index.ts).
    wasmhive: { warmupCalls: 2, warmupMs: 500, samples: 5, minSampleMs: 50, budgetMs: 10_000 },
  },
  quick: {
    v8: { warmupCalls: 2, warmupMs: 100, samples: 5, minSampleMs: 20, budgetMs: 500 },
    wasmhive: { warmupCalls: 1, warmupMs: 100, samples: 3, minSampleMs: 20, budgetMs: 1_500 },
  },
};

/**
 * The values CoreMark knows for the 2K performance run (core_main.c: the
 * seedcrc case giving `known_id` 3, and entry 3 of `list_known_crc`,
 * `matrix_known_crc` and `state_known_crc`). They do not depend on the
 * iteration count.
 */
export const COREMARK_KNOWN = {
  seedcrc: 0xe9f5,
  crclist: 0xe714,
  crcmatrix: 0x1fd7,
  crcstate: 0x8e3a,
} as const;

/**
 * crcfinal for the 2K performance run by iteration count. CoreMark has no
 * table of these (it depends on n); these are what the upstream sources print
 * built natively (gcc 12 -O2, x86-64, the posix port, `coremark.exe 0x0 0x0
 * 0x66 N 7 1 2000`), and the wasm build gives the same.
 */
export const KNOWN_CRCFINAL: ReadonlyMap<number, number> = new Map([
  [1, 0xe714],
  [2, 0x72be],
  [5, 0xf24c],
  [10, 0xfcaf],
  [20, 0x4983],
  [40, 0x65c5],
  [50, 0x0158],
  [100, 0x988c],
  [200, 0x382f],
  [400, 0x25b5],
  [500, 0xa14c],
  [1000, 0xd340],
  [2000, 0x4983],
]);

/** The failure bits of `run`'s result (`FAIL_*` in bench/coremark/core_portme.c), by name. */
export const COREMARK_FAILURES: readonly (readonly [bit: number, what: string])[] = [
  [0x01, 'not the 2K performance run parameters (seedcrc)'],
  [0x02, 'CoreMark reported a wrong list CRC'],
  [0x04, 'CoreMark reported a wrong matrix CRC'],
  [0x08, 'CoreMark reported a wrong state CRC'],
  [0x10, 'CoreMark reported another error (data types)'],
  [0x20, "CoreMark's report lacks a CRC line"],
  [0x40, 'n < 1: not run'],
];

/** The fields of `report(i)`, in order (`REPORT_*` in core_portme.c). */
export const REPORT_FIELDS = [
  'failures',
  'knownId',
  'seedcrc',
  'crclist',
  'crcmatrix',
  'crcstate',
  'crcfinal',
  'size',
  'iterations',
  'errors',
] as const;
export type CoreMarkReport = Record<(typeof REPORT_FIELDS)[number], number>;

/** The directory of CoreMark's sources, port, build script and module. */
export function coremarkDir(): string {
  return join(packageRoot(), 'bench', 'coremark');
}

/** The bytes of the built module. Throws with a hint if it has not been built. */
export function loadCoreMarkBytes(dir: string = coremarkDir()): Uint8Array {
  const file = join(dir, 'coremark.wasm');
  if (!existsSync(file)) throw new Error(`bench: ${file} is missing; build it with bench/coremark/build.sh`);
  return new Uint8Array(readFileSync(file));
}

/** A result of `run(n)` taken apart: crcfinal and the names of the failure bits set. */
export function decodeCoreMarkResult(result: unknown): { crcfinal: number; failures: string[] } {
  if (typeof result !== 'number' || !Number.isInteger(result)) {
    return { crcfinal: -1, failures: [`run returned ${formatResult(result)}, not an i32`] };
  }
  const bits = (result >>> 16) & 0xffff;
  const failures = COREMARK_FAILURES.filter(([bit]) => (bits & bit) !== 0).map(([, what]) => what);
  const known = COREMARK_FAILURES.reduce((m, [bit]) => m | bit, 0);
  if ((bits & ~known) !== 0) failures.push(`unknown failure bits 0x${(bits & ~known).toString(16)}`);
  return { crcfinal: result & 0xffff, failures };
}

/**
 * Why a result of `run(n)` is not CoreMark's validated answer for n
 * iterations, or undefined when it is: no failure bit, and crcfinal equal to
 * the known value when `KNOWN_CRCFINAL` has one for n.
 */
export function coremarkProblem(result: unknown, n: number): string | undefined {
  const { crcfinal, failures } = decodeCoreMarkResult(result);
  if (failures.length > 0) return `CoreMark's self-validation failed: ${failures.join('; ')}`;
  const want = KNOWN_CRCFINAL.get(n);
  if (want !== undefined && crcfinal !== want) return `crcfinal ${hex4(crcfinal)} for ${n} iterations, CoreMark's is ${hex4(want)}`;
  return undefined;
}

/** A 16-bit CRC as CoreMark prints it: 0x%04x. */
export function hex4(x: number): string {
  return `0x${x.toString(16).padStart(4, '0')}`;
}

/**
 * Instantiate the module on V8 with its `report` export as well, run it for n
 * iterations and read CoreMark's report (the bench's record of the
 * validation; the timed calls go through `Engine.instantiate`).
 */
export async function coremarkReportOnV8(bytes: Uint8Array, n: number): Promise<{ result: number; report: CoreMarkReport }> {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return runAndReport(instance.exports, n);
}

/** Run `run(n)` through a module's exports and read every field of `report`. */
export function runAndReport(exports: Record<string, unknown>, n: number): { result: number; report: CoreMarkReport } {
  const run = exports['run'];
  const report = exports['report'];
  if (typeof run !== 'function' || typeof report !== 'function') throw new Error('coremark: the module lacks the run or report export');
  const result = (run as (n: number) => number)(n);
  const fields = Object.fromEntries(REPORT_FIELDS.map((f, i) => [f, (report as (i: number) => number)(i)])) as CoreMarkReport;
  return { result, report: fields };
}

/** What the coremark part found (the `coremark` key of the JSON report). */
export interface CoreMarkResult {
  readonly benchmark: 'CoreMark 1.0 (EEMBC), 2K performance run: seeds 0x0 0x0 0x66, TOTAL_DATA_SIZE 2000';
  /** Iterations per `run(n)` call, the same on both engines. */
  readonly iterations: number;
  /** Both engines ran, returned the same value, and CoreMark's validation passed. */
  ok: boolean;
  error?: string;
  /** `run(n)`'s value on both engines (crcfinal when validated). */
  result?: number;
  /** CoreMark's validation. */
  validation?: {
    /** No failure bit, on both engines (they returned the same value). */
    selfValidated: boolean;
    /** The report of a V8 run: seedcrc, crclist, crcmatrix, crcstate, crcfinal, ... */
    report: CoreMarkReport;
    /** The values CoreMark knows for these parameters. */
    known: typeof COREMARK_KNOWN & { crcfinal: number | null };
    /** Whether crcfinal was checked against `known.crcfinal` (known for this n). */
    crcfinalChecked: boolean;
  };
  v8?: Timing;
  wasmhive?: Timing;
  /** Iterations per second, from the medians. */
  v8IterationsPerSecond?: number;
  wasmhiveIterationsPerSecond?: number;
  /** wasmhive median / V8 median, for the same iterations. */
  ratio?: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Instantiate on one engine and make the check call, timed. */
async function firstRun(engine: Engine, bytes: Uint8Array, n: number): Promise<{ run: RunFn; result: number | bigint; callMs: number }> {
  const run = await engine.instantiate(bytes);
  const t0 = process.hrtime.bigint();
  const result = run(n);
  return { run, result, callMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/**
 * The coremark part: check, then time `run(n)` on both engines. Never throws;
 * a failure is in the result (`ok` false, `error`). `log` prints the lines.
 */
export async function benchCoreMark(
  mode: 'full' | 'quick',
  log: (line: string) => void = console.log,
  n: number = mode === 'quick' ? COREMARK_ITERATIONS.quickN : COREMARK_ITERATIONS.n,
  plans: Record<Engine['name'], MeasureOptions> = COREMARK_PLANS[mode],
): Promise<CoreMarkResult> {
  const out: CoreMarkResult = {
    benchmark: 'CoreMark 1.0 (EEMBC), 2K performance run: seeds 0x0 0x0 0x66, TOTAL_DATA_SIZE 2000',
    iterations: n,
    ok: false,
  };
  log(`coremark: ${out.benchmark}; ${n} iterations a run(n), median ms of one run(n)`);
  let bytes: Uint8Array;
  try {
    bytes = loadCoreMarkBytes();
  } catch (e) {
    out.error = errorText(e);
    return out;
  }

  const first: Partial<Record<Engine['name'], Awaited<ReturnType<typeof firstRun>>>> = {};
  for (const engine of [v8Engine, wasmhiveEngine]) {
    try {
      first[engine.name] = await firstRun(engine, bytes, n);
    } catch (e) {
      out.error = `${engine.name} failed on run(${n}): ${errorText(e)}`;
      return out;
    }
  }
  const v8 = first.v8!;
  const wh = first.wasmhive!;
  if (!sameResult(v8.result, wh.result)) {
    const what = (r: unknown): string => {
      const d = decodeCoreMarkResult(r);
      return `${formatResult(r)} (crcfinal ${hex4(d.crcfinal)}${d.failures.length > 0 ? `; ${d.failures.join('; ')}` : ''})`;
    };
    out.error = `MISMATCH: run(${n}) returned ${what(v8.result)} on V8 but ${what(wh.result)} on wasmhive`;
    return out;
  }
  const problem = coremarkProblem(v8.result, n);
  let report: CoreMarkReport | undefined;
  let reportError: unknown;
  try {
    ({ report } = await coremarkReportOnV8(bytes, n));
  } catch (e) {
    reportError = e;
  }
  const knownFinal = KNOWN_CRCFINAL.get(n) ?? null;
  out.result = v8.result as number;
  if (report !== undefined) {
    out.validation = {
      selfValidated: decodeCoreMarkResult(v8.result).failures.length === 0,
      report,
      known: { ...COREMARK_KNOWN, crcfinal: knownFinal },
      crcfinalChecked: knownFinal !== null,
    };
  }
  if (problem !== undefined) {
    out.error = `on both engines: ${problem}`;
    return out;
  }
  if (report === undefined) {
    out.error = `cannot read CoreMark's report on V8: ${errorText(reportError)}`;
    return out;
  }
  const r = report;
  log(
    `validation: seedcrc ${hex4(r.seedcrc)}, crclist ${hex4(r.crclist)}, crcmatrix ${hex4(r.crcmatrix)}, ` +
      `crcstate ${hex4(r.crcstate)} (CoreMark's known values), crcfinal ${hex4(r.crcfinal)} ` +
      (knownFinal !== null ? `(CoreMark's for ${n} iterations)` : `(not checked: no known value for ${n} iterations)`) +
      `; same value on V8 and wasmhive`,
  );

  try {
    [out.v8, out.wasmhive] = measurePair(
      n,
      { run: v8.run, expected: v8.result, opts: plans.v8, label: 'coremark on v8', priorCallMs: v8.callMs },
      { run: wh.run, expected: wh.result, opts: plans.wasmhive, label: 'coremark on wasmhive', priorCallMs: wh.callMs },
    );
  } catch (e) {
    out.error = errorText(e);
    return out;
  }
  out.v8IterationsPerSecond = (1000 * n) / out.v8.medianMs;
  out.wasmhiveIterationsPerSecond = (1000 * n) / out.wasmhive.medianMs;
  out.ratio = out.wasmhive.medianMs / out.v8.medianMs;
  out.ok = true;

  const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  log(`${'engine'.padEnd(10)}  ${'ms'.padStart(9)}  ${'iterations/s'.padStart(12)}`);
  log(`${'V8'.padEnd(10)}  ${ms(out.v8.medianMs).padStart(9)}  ${out.v8IterationsPerSecond.toFixed(0).padStart(12)}`);
  log(`${'wasmhive'.padEnd(10)}  ${ms(out.wasmhive.medianMs).padStart(9)}  ${out.wasmhiveIterationsPerSecond.toFixed(0).padStart(12)}`);
  log(`coremark ratio wasmhive / V8: ${out.ratio >= 10 ? out.ratio.toFixed(1) : out.ratio.toFixed(2)}x (issue 16's bar: <= 3x)`);
  return out;
}
