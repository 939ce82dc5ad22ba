/**
 * `wasmhive bench`: run the compute kernels of `bench/kernels` on V8's own
 * WebAssembly and on the wasmhive interpreter in the same process, check that
 * both compute the same checksums, and print a table of median times and the
 * ratio wasmhive / V8 for the same work. Then CoreMark (`./coremark.ts`,
 * `bench/coremark`): the same, for EEMBC's benchmark, checked against
 * CoreMark's own validation.
 *
 * Then, on the same machine in the same run: the cost of fuel metering (the
 * kernels on the engine with and without its metering statements), and the
 * time and size of snapshots and restores for memories of 1, 16 and 64 MiB,
 * and cold starts (`./cold.ts`: each kernel in a fresh process, its first run
 * over its warm runs: `coldOverWarm`).
 * Last, the actor runtime (`./actors.ts`): ping-pong, spawning, memory per
 * idle actor, fairness with spinning actors and one actor's snapshot; this
 * part ends the output with one line of JSON holding its figures.
 *
 * Usage: wasmhive bench [--quick] [--filter NAME[,NAME...]] [--part PARTS] [--actors FIGURES] [--json FILE]
 * Also runnable directly: `node dist/bench/index.js [options]`.
 *
 * Exit code: 0 when every kernel ran on both engines with equal results,
 * 1 when any kernel failed (mismatch, error or trap), 2 on a usage error.
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { parseArgs } from 'node:util';

import { formatResult, jsTypeOf, sameResult, v8Engine, wasmhiveEngine, type Engine, type RunFn } from './engines.js';
import { KERNELS, kernelsDir, loadKernelBytes, selectKernels, type Kernel } from './kernels.js';
import { benchCoreMark, type CoreMarkResult } from './coremark.js';
import { measurePair, type MeasureOptions, type Timing } from './measure.js';
import { benchMetering, type MeteringResult } from './metering.js';
import { benchSnapshots, type SnapshotResult } from './snapshots.js';
import { ACTOR_FIGURES, ACTOR_PLANS, actorsJsonLine, benchActors, type ActorFigure, type ActorsResult } from './actors.js';
import { benchCold, COLD_PLANS, type ColdReport } from './cold.js';
import { isMainModule, runMain } from './cli.js';

export { KERNELS, type Kernel } from './kernels.js';

/** Timing options per engine, for full and quick runs. */
const PLANS: Record<'full' | 'quick', Record<Engine['name'], MeasureOptions>> = {
  full: {
    v8: { warmupCalls: 3, warmupMs: 300, samples: 11, minSampleMs: 40, budgetMs: 2_000 },
    // Both engines are timed warm: wasmhive's first calls run in the interpreter, then compile the kernel's
    // functions to JavaScript, which V8 in turn has to optimize (its own warm-up, as for V8's wasm tiers).
    // A fresh guest's first run is measured on its own, as `coldOverWarm` (the cold part).
    wasmhive: { warmupCalls: 2, warmupMs: 300, samples: 5, minSampleMs: 50, budgetMs: 6_000 },
  },
  quick: {
    v8: { warmupCalls: 2, warmupMs: 100, samples: 5, minSampleMs: 20, budgetMs: 500 },
    wasmhive: { warmupCalls: 1, warmupMs: 100, samples: 3, minSampleMs: 20, budgetMs: 1_500 },
  },
};

/** One row of the results: a kernel and how each engine did. */
export interface KernelResult {
  readonly kernel: string;
  readonly stresses: string;
  readonly n: number;
  /** Whether both engines ran and returned the same checksum. */
  ok: boolean;
  /** Why not, when `ok` is false. */
  error?: string;
  /** The checksum both returned (as text: i64 as a decimal with an `n` suffix). */
  result?: string;
  v8?: Timing;
  wasmhive?: Timing;
  /** wasmhive median / V8 median, for the same n. */
  ratio?: number;
}

/** Everything `--json` writes. */
export interface BenchReport {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
  readonly kernels: KernelResult[];
  /** Geometric mean of the ratios of the kernels that succeeded. */
  geomeanRatio?: number;
  /** CoreMark (bench/coremark): wasmhive median / V8 median for the same iterations (issue 16's bar: <= 3). */
  coremarkRatio?: number;
  /** CoreMark's iterations, times on both engines and its validation. */
  coremark?: CoreMarkResult;
  /** Per kernel: time with and without fuel metering. */
  metering?: MeteringResult[];
  /** Geometric mean of metered / unmetered time, minus 1. */
  meteringCost?: number;
  /** The same in the compiled tier (tier 'auto'). */
  meteringCompiled?: MeteringResult[];
  meteringCostCompiled?: number;
  snapshots?: SnapshotResult[];
  /** Cold starts (./cold.ts): a fresh process's guest, its first run over its warm runs, geometric mean (issue 16's bar: <= 1.3). */
  coldOverWarm?: number;
  /** Per kernel: first and warm times, and the interpreter loop's deoptimizations and compiles. */
  cold?: ColdReport;
  /** The actor runtime's figures. */
  actors?: ActorsResult;
  failures: number;
}

const PARTS = ['kernels', 'coremark', 'metering', 'snapshots', 'cold', 'actors'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: wasmhive bench [--quick] [--filter NAME[,NAME...]] [--part PARTS] [--actors FIGURES] [--json FILE]

Runs each compute kernel of bench/kernels on V8's WebAssembly and on the
wasmhive interpreter, checks both give the same result, and prints the median
time per run and the ratio wasmhive / V8 for the same work; the same for
CoreMark (bench/coremark), checked by CoreMark's own validation. Then measures the
cost of fuel metering (the kernels with and without the interpreter's metering
statements), the time and size of snapshots of 1, 16 and 64 MiB memories,
and cold starts (each kernel in a fresh process: its first run over its warm
runs, and the interpreter loop's deoptimizations). Last, the actor runtime: ping-pong messages per second, spawns per second,
memory per idle actor, call latency with spinning actors, one actor's
snapshot, 100,000 spawns into one hive; its figures end the output as one
line of JSON (issue 11's bars under "bars").

  --quick          smaller inputs and fewer repetitions (a smoke run)
  --filter NAMES   only kernels whose name contains one of NAMES (comma-separated)
  --part PARTS     only these parts: kernels, coremark, metering, snapshots, cold, actors (comma-separated; default all)
  --actors FIGURES only these figures of the actors part: ${ACTOR_FIGURES.join(', ')} (comma-separated; default all)
  --json FILE      also write the results as JSON to FILE
  -h, --help       show this help

kernels: ${KERNELS.map((k) => k.name).join(', ')}`;

function cpuModel(): { model: string; cores: number } {
  const list = cpus();
  const model = list[0]?.model.trim() || 'unknown CPU';
  return { model, cores: list.length };
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function fmtPct(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
}

function fmtRatio(r: number | undefined): string {
  if (r === undefined) return '-';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

const COLUMNS = [
  { title: 'kernel', width: 12, left: true },
  { title: 'stresses', width: 28, left: true },
  { title: 'n', width: 9, left: false },
  { title: 'V8 ms', width: 9, left: false },
  { title: 'wasmhive ms', width: 12, left: false },
  { title: 'ratio', width: 8, left: false },
] as const;

function tableLine(cells: readonly string[]): string {
  return cells
    .map((c, i) => {
      const col = COLUMNS[i]!;
      return col.left ? c.padEnd(col.width) : c.padStart(col.width);
    })
    .join('  ')
    .trimEnd();
}

function rowOf(r: KernelResult): string {
  return tableLine([
    r.kernel,
    r.stresses,
    String(r.n),
    fmtMs(r.v8?.medianMs),
    fmtMs(r.wasmhive?.medianMs),
    r.ok ? fmtRatio(r.ratio) : 'FAILED',
  ]);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Instantiate and make the first call (the correctness check), timing the call. */
async function firstRun(
  engine: Engine,
  bytes: Uint8Array,
  n: number,
): Promise<{ run: RunFn; result: number | bigint; callMs: number }> {
  const run = await engine.instantiate(bytes);
  const t0 = process.hrtime.bigint();
  const result = run(n);
  const callMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { run, result, callMs };
}

/** Run one kernel on both engines: check, then time. Never throws; failures are in the result. */
async function benchKernel(kernel: Kernel, dir: string, mode: 'full' | 'quick'): Promise<KernelResult> {
  const n = mode === 'quick' ? kernel.quickN : kernel.n;
  const row: KernelResult = { kernel: kernel.name, stresses: kernel.stresses, n, ok: false };
  let bytes: Uint8Array;
  try {
    bytes = loadKernelBytes(kernel, dir);
  } catch (e) {
    row.error = errorText(e);
    return row;
  }

  const first: Partial<Record<Engine['name'], Awaited<ReturnType<typeof firstRun>>>> = {};
  for (const engine of [v8Engine, wasmhiveEngine]) {
    try {
      first[engine.name] = await firstRun(engine, bytes, n);
    } catch (e) {
      row.error = `${engine.name} failed on run(${n}): ${errorText(e)}`;
      return row;
    }
  }
  const v8 = first.v8!;
  const wh = first.wasmhive!;
  const want = jsTypeOf(kernel.result);
  if (typeof v8.result !== want) {
    row.error = `V8 returned a ${typeof v8.result} for an ${kernel.result} result (is the kernel table out of date?)`;
    return row;
  }
  if (!sameResult(v8.result, wh.result)) {
    row.error =
      `MISMATCH: run(${n}) returned ${formatResult(v8.result)} on V8 ` +
      `but ${formatResult(wh.result)} (${typeof wh.result}) on wasmhive`;
    return row;
  }
  row.result = formatResult(v8.result);

  const plan = PLANS[mode];
  try {
    [row.v8, row.wasmhive] = measurePair(
      n,
      { run: v8.run, expected: v8.result, opts: plan.v8, label: `${kernel.name} on v8`, priorCallMs: v8.callMs },
      { run: wh.run, expected: wh.result, opts: plan.wasmhive, label: `${kernel.name} on wasmhive`, priorCallMs: wh.callMs },
    );
  } catch (e) {
    row.error = errorText(e);
    return row;
  }
  row.ratio = row.wasmhive.medianMs / row.v8.medianMs;
  row.ok = true;
  return row;
}

/**
 * The `bench` command. `argv` is the arguments after `bench`. Prints the
 * table to stdout and failures to stderr; resolves to the exit code.
 */
export async function main(argv: string[]): Promise<number> {
  let values: { quick?: boolean; filter?: string; part?: string; actors?: string; json?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        filter: { type: 'string' },
        part: { type: 'string' },
        actors: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`wasmhive bench: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parts = new Set((values.part ?? PARTS.join(',')).split(',').map((p) => p.trim()));
  for (const p of parts) {
    if (!PARTS.includes(p as Part)) {
      console.error(`wasmhive bench: unknown part ${JSON.stringify(p)}\n\n${USAGE}`);
      return 2;
    }
  }
  const figures = new Set((values.actors ?? ACTOR_FIGURES.join(',')).split(',').map((p) => p.trim()));
  for (const f of figures) {
    if (!ACTOR_FIGURES.includes(f as ActorFigure)) {
      console.error(`wasmhive bench: unknown actors figure ${JSON.stringify(f)}\n\n${USAGE}`);
      return 2;
    }
  }
  const kernels = selectKernels(values.filter);
  if (kernels.length === 0) {
    console.error(`wasmhive bench: no kernel matches --filter ${values.filter}\n\n${USAGE}`);
    return 2;
  }
  let dir: string;
  try {
    dir = kernelsDir();
  } catch (e) {
    console.error(`wasmhive bench: ${errorText(e)}`);
    return 1;
  }

  const mode = values.quick ? 'quick' : 'full';
  const { model, cores } = cpuModel();
  const report: BenchReport = {
    date: new Date().toISOString(),
    mode,
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${arch()}`,
    cpu: model,
    cores,
    kernels: [],
    failures: 0,
  };

  console.log(`wasmhive bench (${mode}): ${kernels.length} kernel${kernels.length === 1 ? '' : 's'} from ${dir}`);
  console.log(`Node ${report.node}, V8 ${report.v8}, ${report.platform}`);
  console.log(`CPU: ${model} (${cores} logical core${cores === 1 ? '' : 's'})`);
  if (parts.has('kernels')) {
    console.log('times are the median ms of one run(n); ratio = wasmhive / V8 for the same n');
    console.log('');
    console.log(tableLine(COLUMNS.map((c) => c.title)));
    console.log(tableLine(COLUMNS.map((c) => '-'.repeat(c.width))));

    for (const kernel of kernels) {
      const r = await benchKernel(kernel, dir, mode);
      report.kernels.push(r);
      console.log(rowOf(r));
      if (!r.ok) {
        report.failures++;
        console.error(`\n!!! ${kernel.name} FAILED: ${r.error}\n`);
      }
    }

    const ratios = report.kernels.flatMap((r) => (r.ok && r.ratio !== undefined ? [r.ratio] : []));
    if (ratios.length > 0) {
      report.geomeanRatio = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
    }
    console.log('');
    if (report.geomeanRatio !== undefined) {
      console.log(`geometric mean ratio: ${fmtRatio(report.geomeanRatio)} over ${ratios.length} kernel${ratios.length === 1 ? '' : 's'}`);
    }
  }

  if (parts.has('coremark')) {
    console.log('');
    const r = await benchCoreMark(mode);
    report.coremark = r;
    if (r.ok) {
      report.coremarkRatio = r.ratio;
    } else {
      report.failures++;
      console.error(`\n!!! coremark FAILED: ${r.error}\n`);
    }
  }

  if (parts.has('metering')) {
    console.log('');
    console.log('fuel metering: median ms of one run(n) on the engine as built and with its metering statements taken out');
    try {
      const rows = await benchMetering(kernels, dir, (k) => (mode === 'quick' ? k.quickN : k.n), mode === 'quick' ? 3 : 7);
      report.metering = rows;
      console.log(`${'kernel'.padEnd(12)}  ${'metered ms'.padStart(11)}  ${'unmetered ms'.padStart(13)}  ${'cost'.padStart(7)}`);
      for (const r of rows) {
        console.log(`${r.kernel.padEnd(12)}  ${fmtMs(r.meteredMs).padStart(11)}  ${fmtMs(r.unmeteredMs).padStart(13)}  ${fmtPct(r.cost).padStart(7)}`);
      }
      report.meteringCost = Math.exp(rows.reduce((s, r) => s + Math.log(r.meteredMs / r.unmeteredMs), 0) / rows.length) - 1;
      console.log(`geometric mean cost of metering: ${fmtPct(report.meteringCost)}`);
      console.log('');
      console.log("the same in the compiled tier (tier 'auto': every kernel compiled after its warm-up call)");
      const compiled = await benchMetering(kernels, dir, (k) => (mode === 'quick' ? k.quickN : k.n), mode === 'quick' ? 3 : 7, 'auto');
      report.meteringCompiled = compiled;
      console.log(`${'kernel'.padEnd(12)}  ${'metered ms'.padStart(11)}  ${'unmetered ms'.padStart(13)}  ${'cost'.padStart(7)}`);
      for (const r of compiled) {
        console.log(`${r.kernel.padEnd(12)}  ${fmtMs(r.meteredMs).padStart(11)}  ${fmtMs(r.unmeteredMs).padStart(13)}  ${fmtPct(r.cost).padStart(7)}`);
      }
      report.meteringCostCompiled = Math.exp(compiled.reduce((s, r) => s + Math.log(r.meteredMs / r.unmeteredMs), 0) / compiled.length) - 1;
      console.log(`geometric mean cost of metering in the compiled tier: ${fmtPct(report.meteringCostCompiled)}`);
    } catch (e) {
      report.failures++;
      console.error(`\n!!! metering FAILED: ${errorText(e)}\n`);
    }
  }

  if (parts.has('snapshots')) {
    console.log('');
    console.log('snapshots of a paused instance: median ms, and bytes; "little" = 1 page in 64 touched; random words unless compressible');
    try {
      const rows = benchSnapshots(mode === 'quick' ? [1, 16] : [1, 16, 64], mode === 'quick' ? 3 : 5);
      report.snapshots = rows;
      console.log(
        `${'memory'.padEnd(7)}  ${'touched'.padEnd(17)}  ${'snapshot ms'.padStart(11)}  ${'bytes'.padStart(10)}  ${'restore ms'.padStart(10)}  ${'incr. ms'.padStart(8)}  ${'incr. bytes'.padStart(11)}`,
      );
      for (const r of rows) {
        console.log(
          `${(r.memoryMiB + ' MiB').padEnd(7)}  ${r.touched.padEnd(17)}  ${fmtMs(r.snapshotMs).padStart(11)}  ${String(r.bytes).padStart(10)}  ${fmtMs(r.restoreMs).padStart(10)}  ${fmtMs(r.incrementalMs).padStart(8)}  ${String(r.incrementalBytes).padStart(11)}`,
        );
      }
    } catch (e) {
      report.failures++;
      console.error(`\n!!! snapshots FAILED: ${errorText(e)}\n`);
    }
  }

  if (parts.has('cold')) {
    console.log('');
    try {
      report.cold = await benchCold(kernels, COLD_PLANS[mode], console.log);
      if (report.cold.coldOverWarm !== undefined) report.coldOverWarm = report.cold.coldOverWarm;
      for (const r of report.cold.kernels) {
        if (r.ok) continue;
        report.failures++;
        console.error(`\n!!! cold ${r.kernel} FAILED: ${r.error}\n`);
      }
    } catch (e) {
      report.failures++;
      console.error(`\n!!! cold FAILED: ${errorText(e)}\n`);
    }
  }

  let actorsLine: string | undefined;
  if (parts.has('actors')) {
    console.log('');
    try {
      report.actors = await benchActors(ACTOR_PLANS[mode], console.log, figures as Set<ActorFigure>);
      actorsLine = actorsJsonLine(report.actors);
    } catch (e) {
      report.failures++;
      console.error(`\n!!! actors FAILED: ${errorText(e)}\n`);
    }
  }

  if (values.json !== undefined) {
    try {
      writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
      console.log(`results written to ${values.json}`);
    } catch (e) {
      console.error(`wasmhive bench: cannot write ${values.json}: ${errorText(e)}`);
      return 1;
    }
  }

  // The actor figures as one JSON object, the last line of stdout (failures go to stderr).
  if (actorsLine !== undefined) {
    console.log('');
    console.log(actorsLine);
  }

  if (report.failures > 0) {
    const names = report.kernels.filter((r) => !r.ok).map((r) => r.kernel);
    console.error(`\n!!! BENCH FAILED: ${report.failures} failure${report.failures === 1 ? '' : 's'}${names.length > 0 ? `; kernels: ${names.join(', ')}` : ''}`);
    return 1;
  }
  return 0;
}

if (isMainModule(import.meta.url)) runMain(() => main(process.argv.slice(2)));
