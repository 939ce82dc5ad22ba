/**
 * Cold starts (issue 16, point 1): what a new guest still pays, in a fresh
 * process, for the interpreter's loop not being compiled for it yet.
 *
 * All guests run in one JS function, the loop (`run` in src/vm/interp.ts).
 * V8 compiles it (TurboFan, in the background: 0.3-2.5 s on a 2-core machine)
 * with the type feedback it has when the loop becomes hot; a path that had
 * not run by then has no feedback, and when a guest reaches it the compiled
 * loop is thrown away ("Insufficient type feedback ...") and compiled again,
 * while every guest runs in the baseline tier, many times slower. warmUp()
 * (src/vm/warmup.ts, called by every Hive) runs all the paths it can once per
 * process so that the first compile covers them. This part measures what is
 * left:
 *
 *   coldOverWarm = geometric mean over the kernels of
 *                  (time of a fresh guest's first run(n)) / (median time of its warm runs)
 *
 * How, and why so:
 * - Each kernel is measured in a process of its own (`process.execPath` on
 *   this file with `--child`): V8 must start cold, as a new hive's process
 *   does. Measured in the bench's own process, the loop would already be
 *   compiled for every kernel the other parts ran, and the figure would say
 *   nothing. One child at a time: the background compile needs a core, and
 *   two children would take each other's.
 * - In the child, as a host would: the public `warmUp()` first (as `new Hive()`
 *   does), then a few *other* guests (the next kernels of the table at their
 *   `quickN`: a hive where other guests already ran, so that the loop is hot
 *   and compiled with their feedback, not only the warm-up's), then the measured
 *   kernel, a new Module and Instance, and its first `run(n)`, timed; then
 *   `reps` more calls of the same instance, and the median of those is the
 *   warm time. The first call starts right after the others: a host does not
 *   wait for V8's background compile, so neither does this.
 * - The sizes make one warm run last ~100-300 ms: long enough that timer and
 *   call overheads vanish, short enough that the first run is not mostly warm
 *   (a 3 s run would hide a 1 s recompile in a ratio of 1.3).
 * - No V8 WebAssembly in the child (no correctness check against it there):
 *   its tiering compiles in background threads too and would compete with
 *   the compile being measured. The kernels part checks the results; the
 *   child only checks that every call of the kernel returned the same value.
 * - The child runs with `--trace-opt --trace-deopt-verbose --trace-file-names`
 *   and prints a marker line at each phase, so each deoptimization and
 *   compile is attributed to a phase. Other functions are called `run` too
 *   (Lowerer.run, Validator.run), so the loop is told by its script (file
 *   names in the trace: `<JSFunction run <file:///.../vm/interp.js> ...>`)
 *   and, for deoptimizations, by the position the verbose trace gives
 *   (`;;; deoptimize at <interp.js:L:C> [inlined at ...]`), mapped to
 *   interp.ts through the source map, with the `case K.X` of the loop it is
 *   in. Printing the traces costs a few ms per deoptimization (a verbose
 *   trace is ~30 KB), small beside the seconds a deoptimization costs.
 * - The compile times are V8's own ("took a, b, c ms": preparing on the main
 *   thread, compiling in the background, finalizing on the main thread) of
 *   each TurboFan compile of the loop (normal and on-stack replacement).
 * - warmUp() returns before V8 has compiled the loop, so the first guests
 *   after it run unoptimized until the compile lands. The others' first runs
 *   pay that; the first of them is timed once more at the end, warm, and
 *   `firstGuestOverWarm` reports what the first guest of a process pays.
 *
 * The issue's bar is coldOverWarm <= 1.3 (a new guest's first run at most
 * 30% slower than its warm runs). The ratio is noisy on a loaded machine:
 * the background compile competes with everything else for the cores (the
 * report has the load average).
 *
 * `wasmhive bench --part cold` runs it; also standalone after a build:
 * `node dist/bench/cold.js [--quick] [--filter NAMES] [--no-warmup] [--json FILE]`
 * (`--no-warmup`: the children do not call warmUp(), to see what it buys).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { formatResult, sameResult } from './engines.js';
import { KERNELS, loadKernelBytes, packageRoot, selectKernels, type Kernel } from './kernels.js';
import { median } from './measure.js';
import { Instance, Module, warmUp } from '../vm/index.js';
import { isMainModule, runMain } from './cli.js';

/** The issue's bar: a fresh guest's first run at most this many times its warm run (geometric mean). */
export const COLD_BAR = 1.3;

/**
 * `n` per kernel for a warm run of ~100-300 ms on the interpreter (measured
 * on a 2-core EPYC at load 2-3: 130-210 ms; the kernels table's full `n`
 * takes 0.25-0.9 s). A kernel missing here runs at its full `n`.
 */
export const COLD_N: Readonly<Record<string, number>> = {
  crc32: 800_000,
  sieve: 2_400_000,
  hash64: 400_000,
  millerrabin: 28_000,
  mandelbrot: 300,
  nbody: 15_000,
  matmul: 160,
  sort: 180_000,
  memops: 96,
  fib: 31,
  indirect: 1_500_000,
};

/** How to run the part. */
export interface ColdPlan {
  /** The size of the measured kernel's runs. */
  readonly size: (k: Kernel) => number;
  /** The size of the other guests' runs before it. */
  readonly othersSize: (k: Kernel) => number;
  /** How many other kernels run before the measured one. */
  readonly others: number;
  /** Warm runs after the first (their median is the warm time). */
  readonly reps: number;
  /** Whether the child calls warmUp() first, as a Hive does. */
  readonly warmUp: boolean;
  /** A child taking longer is killed (and its kernel failed). */
  readonly timeoutMs: number;
}

export const COLD_PLANS: Record<'full' | 'quick', ColdPlan> = {
  full: { size: (k) => COLD_N[k.name] ?? k.n, othersSize: (k) => k.quickN, others: 3, reps: 5, warmUp: true, timeoutMs: 180_000 },
  // The same scenario, smaller: the measured runs at quickN (tens of ms, so noisier ratios). The others keep their size:
  // smaller ones would end before V8's compile of the loop does, and the measured kernel would be the first guest.
  quick: { size: (k) => k.quickN, othersSize: (k) => k.quickN, others: 3, reps: 3, warmUp: true, timeoutMs: 120_000 },
};

/** The phases of a child, in order; trace lines are attributed to the phase they appear in. */
export const PHASES = ['startup', 'warmup', 'others', 'first', 'warm', 'end'] as const;
export type Phase = (typeof PHASES)[number];

/** A place in a script, 1-based as V8 prints it. */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One deoptimization of the interpreter's loop. */
export interface DeoptEvent {
  readonly phase: Phase;
  /** deopt-eager, deopt-lazy, deopt-soft... */
  readonly kind: string;
  /** V8's reason, e.g. "Insufficient type feedback for binary operation", "wrong map". */
  readonly reason: string;
  readonly bytecodeOffset: number;
  /** Where (innermost first: a function inlined into the loop, then the loop), as `file:line:column` of the script run. */
  readonly at: string[];
  /** The place in the loop, in the TypeScript source when a source map is there (as built): `interp.ts:line`. */
  readonly source?: string;
  /** The `case K.X` of the loop's dispatch switch that place is in (or before or after the switch). */
  readonly case?: string;
  /** The line of the script that ran. */
  readonly code?: string;
}

/** One TurboFan (or Maglev) compile of the loop. */
export interface CompileEvent {
  /** The phase it finished in. */
  readonly phase: Phase;
  readonly target: string;
  /** An on-stack-replacement compile (entered from inside the running loop). */
  readonly osr: boolean;
  /** V8's times: prepare (main thread), execute (background), finalize (main thread). */
  readonly prepareMs: number;
  readonly executeMs: number;
  readonly finalizeMs: number;
}

/** A deoptimization of another function of the engine (src/vm), for the record. */
export interface OtherDeopt {
  readonly phase: Phase;
  readonly function: string;
  readonly file: string;
  readonly reason: string;
}

/** A compile of another function of the engine (src/vm): helpers the loop calls (i64mul, divU64...) are compiled when they get hot. */
export interface OtherCompile {
  readonly phase: Phase;
  readonly function: string;
  readonly file: string;
  readonly osr: boolean;
  readonly executeMs: number;
}

/** What the trace of one child says about the loop. */
export interface TraceSummary {
  readonly deopts: DeoptEvent[];
  readonly compiles: CompileEvent[];
  /** Compiles of the loop started but not finished when warmUp() returned (the next guests begin on unoptimized code). */
  readonly compilingAfterWarmUp: number;
  /** The same when the measured guest started. */
  readonly compilingAtFirst: number;
  /** Compiles of the loop abandoned, with V8's reason. */
  readonly aborted: string[];
  readonly otherDeopts: OtherDeopt[];
  /** Compiles of other engine functions that finished while the measured kernel ran (phases first and warm). */
  readonly otherCompiles: OtherCompile[];
  /** The loop's SharedFunctionInfo addresses seen (one, unless a GC moved it). */
  readonly sfis: string[];
}

/** One kernel's cold start. */
export interface ColdKernelResult {
  readonly kernel: string;
  readonly n: number;
  ok: boolean;
  error?: string;
  /** The guests run before it: the time of their first run, and of one more at the end (warm). */
  others?: { kernel: string; n: number; ms: number; warmMs: number }[];
  /** The first of them (the first guest after warmUp()): its first run over its warm run. */
  firstGuestRatio?: number;
  /** The time warmUp() took (absent without it). */
  warmUpMs?: number;
  /** new Module + new Instance of the measured kernel. */
  instantiateMs?: number;
  /** Its first run(n). */
  firstMs?: number;
  /** Median of its warm runs. */
  warmMs?: number;
  warmSamplesMs?: number[];
  /** firstMs / warmMs. */
  ratio?: number;
  result?: string;
  /** The 1-minute load average when the child started (the machine's noise). */
  load?: number;
  /** Deoptimizations of the loop: per phase, and after the warm-up (others + first + warm). */
  deoptsByPhase?: Partial<Record<Phase, number>>;
  deoptsAfterWarmUp?: number;
  /** Ms of V8's background compiles of the loop that finished during the measured runs (first + warm). */
  compileMsMeasured?: number;
  trace?: TraceSummary;
}

/** The part's figures. */
export interface ColdReport {
  /** Whether the children called warmUp() first. */
  readonly warmUp: boolean;
  readonly v8Flags: string[];
  readonly kernels: ColdKernelResult[];
  /** Geometric mean of the kernels' first / warm ratios. */
  coldOverWarm?: number;
  maxRatio?: { kernel: string; ratio: number };
  /**
   * Geometric mean, over the children, of the first guest after warmUp() (the first of the others, at their
   * small n): its first run over a warm run. What a hive's first guests pay while V8 still compiles the loop.
   */
  firstGuestOverWarm?: number;
  /** Children in which a compile of the loop was still running when warmUp() returned. */
  compilingAfterWarmUp: number;
  bar: { value: number; met?: boolean };
  /** Deoptimizations of the loop after the warm-up, over all kernels, and by reason. */
  deoptsAfterWarmUp: number;
  deoptReasons: Record<string, number>;
  /** By place in the loop (`case`, source line, reason), after the warm-up. */
  deoptPlaces: { place: string; reason: string; count: number }[];
  /** Other engine functions compiled while the measured kernels ran (they were not hot before), with the kernels. */
  otherCompiles: Record<string, string[]>;
  /** Every compile of the loop, over all children: count and total and largest background ms. */
  compiles: { count: number; totalExecuteMs: number; maxExecuteMs: number };
  failures: number;
}

// ---------------------------------------------------------------------------
// The child

/** What the parent asks a child to do. */
export interface ChildSpec {
  readonly kernel: string;
  readonly n: number;
  readonly reps: number;
  readonly others: { kernel: string; n: number }[];
  readonly warmUp: boolean;
}

const MARK = '@@cold ';

function now(): bigint {
  return process.hrtime.bigint();
}

function msSince(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function mark(phase: Phase): void {
  // Synchronous on a pipe (Linux): it lands between V8's trace lines in the order things happened.
  process.stdout.write(`${MARK}phase ${phase}\n`);
}

function kernelNamed(name: string): Kernel {
  const k = KERNELS.find((x) => x.name === name);
  if (k === undefined) throw new Error(`cold: no kernel ${name}`);
  return k;
}

type Run = (n: number) => number | bigint;

function instantiate(bytes: Uint8Array): Run {
  const inst = new Instance(new Module(bytes), {});
  return inst.exports['run'] as Run;
}

/** The child's work (see the header); prints its figures as one `@@cold result {...}` line. */
export function runChild(spec: ChildSpec): void {
  // Read every module first: file reads are not what is measured.
  const measuredBytes = loadKernelBytes(kernelNamed(spec.kernel));
  const otherBytes = spec.others.map((o) => loadKernelBytes(kernelNamed(o.kernel)));
  mark('warmup');
  let warmUpMs: number | undefined;
  if (spec.warmUp) {
    const t = now();
    warmUp();
    warmUpMs = msSince(t);
  }
  mark('others');
  const otherRuns: Run[] = [];
  const others = spec.others.map((o, i) => {
    const t = now();
    const run = instantiate(otherBytes[i]!);
    run(o.n);
    otherRuns.push(run);
    return { kernel: o.kernel, n: o.n, ms: msSince(t), warmMs: 0 };
  });
  mark('first');
  let t = now();
  const run = instantiate(measuredBytes);
  const instantiateMs = msSince(t);
  t = now();
  const result = run(spec.n);
  const firstMs = msSince(t);
  mark('warm');
  const warmSamplesMs: number[] = [];
  for (let i = 0; i < spec.reps; i++) {
    t = now();
    const r = run(spec.n);
    warmSamplesMs.push(msSince(t));
    if (!sameResult(r, result)) throw new Error(`cold: ${spec.kernel} run(${spec.n}) returned ${formatResult(r)}, then ${formatResult(result)}`);
  }
  mark('end');
  // Last, the measured figures taken: one more run of each other guest, warm, to set their first runs against
  // (the first of them is the first guest after warmUp(): see firstGuestOverWarm).
  spec.others.forEach((o, i) => {
    t = now();
    otherRuns[i]!(o.n);
    others[i]!.warmMs = msSince(t);
  });
  process.stdout.write(`${MARK}result ${JSON.stringify({ warmUpMs, others, instantiateMs, firstMs, warmSamplesMs, result: formatResult(result) })}\n`);
}

// ---------------------------------------------------------------------------
// Reading V8's traces

/** The loop: a function named `run` in the engine's interp.js (or interp.ts, run from source). */
const LOOP_SCRIPT = /\/vm\/interp\.[jt]s$/;
/** Other engine code whose deoptimizations are worth recording. */
const ENGINE_SCRIPT = /\/vm\/[^/]+\.[jt]s$/;

const BAILOUT = /^\[bailout \(kind: ([^,]+), reason: (.*)\): begin\. deoptimizing \S+ <JSFunction ([^ <(]*) ?(?:<([^>]*)> )?\(sfi = (0x[0-9a-f]+)\)>.*?bytecode offset (-?\d+)/;
const DEOPT_AT = /^\s*;;; deoptimize at (.*)$/;
const POSITION = /<([^<>]*):(\d+):(\d+)>/g;
const FUNC = /<JSFunction ([^ <(]*) ?(?:<([^>]*)> )?\(sfi = (0x[0-9a-f]+)\)>/;
const COMPILING = /^\[compiling method .*? \(target (\w+)\)( OSR)?, mode:/;
const COMPLETED = /^\[completed compiling .*? \(target (\w+)\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/;
const ABORTED = /^\[aborted optimizing .*? because: (.*)\]$/;

/** Reads files (scripts, source maps, sources) once per parse. */
class SourceLookup {
  private readonly texts = new Map<string, string[] | null>();
  private readonly maps = new Map<string, { map: SourceMap; dir: string } | null>();

  lines(file: string): string[] | null {
    let t = this.texts.get(file);
    if (t === undefined) {
      try {
        t = readFileSync(file, 'utf8').split('\n');
      } catch {
        t = null;
      }
      this.texts.set(file, t);
    }
    return t;
  }

  private sourceMap(file: string): { map: SourceMap; dir: string } | null {
    let m = this.maps.get(file);
    if (m === undefined) {
      m = null;
      const mapFile = `${file}.map`;
      if (file.endsWith('.js') && existsSync(mapFile)) {
        try {
          m = { map: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]), dir: pathToFileURL(mapFile).href };
        } catch {
          m = null;
        }
      }
      this.maps.set(file, m);
    }
    return m;
  }

  /** The original (TypeScript) place of a place in a built script, or the place itself. */
  original(p: Position): { file: string; line: number } {
    const path = p.file.startsWith('file://') ? fileURLToPath(p.file) : p.file;
    const sm = this.sourceMap(path);
    if (sm !== null) {
      const e = sm.map.findEntry(p.line - 1, p.column - 1) as { originalSource?: string; originalLine?: number };
      if (e.originalSource !== undefined && e.originalLine !== undefined) {
        const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : fileURLToPath(new URL(e.originalSource, sm.dir));
        return { file: src, line: e.originalLine + 1 };
      }
    }
    return { file: path, line: p.line };
  }
}

function positions(text: string): Position[] {
  return [...text.matchAll(POSITION)].map((m) => ({ file: m[1]!, line: Number(m[2]), column: Number(m[3]) }));
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

function indentOf(l: string): number {
  return l.length - l.trimStart().length;
}

/**
 * Where in the loop a line (1-based) of its source is, TypeScript or built:
 * the `case K.X` of the dispatch switch (`switch (code[pc])`) it is in, or
 * before or after that switch; undefined when not in `function run(`.
 */
export function placeInLoop(lines: readonly string[], line: number): string | undefined {
  const at = Math.min(line, lines.length) - 1;
  let start = -1;
  for (let i = at; i >= 0; i--) {
    if (/^\s*function run\(/.test(lines[i]!)) {
      start = i;
      break;
    }
    if (i < at && /^(export )?(async )?function /.test(lines[i]!)) return undefined;
  }
  if (start < 0) return undefined;
  let sw = -1;
  for (let i = start + 1; i < lines.length && sw < 0; i++) if (/switch \(code\[pc\]\)/.test(lines[i]!)) sw = i;
  if (sw < 0 || at <= sw) return 'before the dispatch switch';
  const swIndent = indentOf(lines[sw]!);
  let end = lines.length;
  for (let i = sw + 1; i < lines.length; i++) {
    if (indentOf(lines[i]!) === swIndent && lines[i]!.trim().startsWith('}')) {
      end = i;
      break;
    }
  }
  if (at >= end) return 'after the dispatch switch (return, trap)';
  let labelIndent = -1;
  for (let i = sw + 1; i < end && labelIndent < 0; i++) if (/^\s*(case |default:)/.test(lines[i]!)) labelIndent = indentOf(lines[i]!);
  const label = (l: string): string | null => {
    if (indentOf(l) !== labelIndent) return null;
    const m = /^\s*case K\.(\w+)\s*:/.exec(l) ?? /^\s*case \d+ \/\* K\.(\w+) \*\/\s*:/.exec(l);
    if (m !== null) return `K.${m[1]}`;
    return /^\s*default:/.test(l) ? 'default' : null;
  };
  for (let i = at; i > sw; i--) {
    const last = label(lines[i]!);
    if (last === null) continue;
    // Labels stacked above it share its code: name the group by its first and last.
    let first = last;
    for (let j = i - 1; j > sw; j--) {
      const l = label(lines[j]!);
      if (l === null) break;
      first = l;
    }
    return first === last ? last : `${first}..${last}`;
  }
  return undefined;
}

/**
 * Reads one child's stdout: the phase markers, the loop's deoptimizations
 * (with `--trace-deopt-verbose`: where, mapped to interp.ts) and compiles
 * (with `--trace-opt`), other engine functions' deoptimizations, and the
 * result line. Exported for the tests.
 */
export function parseChildOutput(stdout: string): { trace: TraceSummary; result: unknown; phasesSeen: Phase[] } {
  const lookup = new SourceLookup();
  const deopts: DeoptEvent[] = [];
  const compiles: CompileEvent[] = [];
  const aborted: string[] = [];
  const otherDeopts: OtherDeopt[] = [];
  const otherCompiles: OtherCompile[] = [];
  const sfis = new Set<string>();
  const phasesSeen: Phase[] = [];
  let phase: Phase = 'startup';
  let inFlight = 0;
  let compilingAtFirst = 0;
  let compilingAfterWarmUp = 0;
  let result: unknown;
  /** The last bailout line was the loop's: the verbose `;;; deoptimize at` line that follows is its place. */
  let pending: { phase: Phase; kind: string; reason: string; bytecodeOffset: number } | null = null;

  const flush = (at: Position[]): void => {
    if (pending === null) return;
    let extra: Pick<DeoptEvent, 'source' | 'case' | 'code'> = {};
    const outer = at[at.length - 1];
    if (outer !== undefined) {
      // The case and the code from the script that ran (the built interp.js: its `case 230 /* K.X */` labels); the
      // TypeScript line through its source map (as the source was when built).
      const path = outer.file.startsWith('file://') ? fileURLToPath(outer.file) : outer.file;
      const o = lookup.original(outer);
      const lines = lookup.lines(path);
      extra = { source: `${baseName(o.file)}:${o.line}` };
      if (lines !== null) extra = { ...extra, case: placeInLoop(lines, outer.line), code: lines[outer.line - 1]?.trim() };
    }
    deopts.push({ ...pending, at: at.map((p) => `${baseName(p.file)}:${p.line}:${p.column}`), ...extra });
    pending = null;
  };

  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      flush([]);
      const rest = line.slice(MARK.length);
      if (rest.startsWith('phase ')) {
        const p = rest.slice(6).trim() as Phase;
        if (PHASES.includes(p)) {
          phase = p;
          phasesSeen.push(p);
          if (p === 'others') compilingAfterWarmUp = inFlight;
          if (p === 'first') compilingAtFirst = inFlight;
        }
      } else if (rest.startsWith('result ')) {
        result = JSON.parse(rest.slice(7));
      }
      continue;
    }
    const at = DEOPT_AT.exec(line);
    if (at !== null) {
      flush(positions(at[1]!));
      continue;
    }
    const b = BAILOUT.exec(line);
    if (b !== null) {
      flush([]);
      const [, kind, reason, name, file, sfi, offset] = b;
      if (name === 'run' && file !== undefined && LOOP_SCRIPT.test(file)) {
        sfis.add(sfi!);
        pending = { phase, kind: kind!, reason: reason!, bytecodeOffset: Number(offset) };
      } else if (file !== undefined && ENGINE_SCRIPT.test(file)) {
        otherDeopts.push({ phase, function: name || '(anonymous)', file: baseName(file), reason: reason! });
      }
      continue;
    }
    if (!line.startsWith('[')) continue;
    const f = FUNC.exec(line);
    if (f === null || f[2] === undefined) continue;
    const c = COMPLETED.exec(line);
    if (f[1] !== 'run' || !LOOP_SCRIPT.test(f[2])) {
      if (c !== null && (phase === 'first' || phase === 'warm') && ENGINE_SCRIPT.test(f[2])) {
        otherCompiles.push({ phase, function: f[1] || '(anonymous)', file: baseName(f[2]), osr: c[2] !== undefined, executeMs: Number(c[4]) });
      }
      continue;
    }
    sfis.add(f[3]!);
    if (c !== null) {
      inFlight = Math.max(0, inFlight - 1);
      compiles.push({ phase, target: c[1]!, osr: c[2] !== undefined, prepareMs: Number(c[3]), executeMs: Number(c[4]), finalizeMs: Number(c[5]) });
      continue;
    }
    if (COMPILING.test(line)) {
      inFlight++;
      continue;
    }
    const a = ABORTED.exec(line);
    if (a !== null) {
      inFlight = Math.max(0, inFlight - 1);
      aborted.push(a[1]!);
    }
  }
  flush([]);
  return { trace: { deopts, compiles, compilingAfterWarmUp, compilingAtFirst, aborted, otherDeopts, otherCompiles, sfis: [...sfis] }, result, phasesSeen };
}

// ---------------------------------------------------------------------------
// The parent

/** V8 flags of the children: the traces this part reads. */
export const CHILD_V8_FLAGS = ['--trace-opt', '--trace-deopt-verbose', '--trace-file-names'];

/** How to start this file as a child: the built .js directly, or the .ts source through tsx (the tests). */
function childCommand(): string[] {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return [self];
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href, self];
}

/** Runs one child; resolves to its stdout, rejects when it fails or times out. */
function runChildProcess(spec: ChildSpec, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_V8_FLAGS, ...childCommand(), '--child', JSON.stringify(spec)], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (timedOut) return reject(new Error(`the child timed out after ${timeoutMs} ms`));
      if (code !== 0) {
        const stderr = Buffer.concat(err).toString('utf8').trim();
        return reject(new Error(`the child exited with ${code ?? signal}${stderr ? `: ${stderr.slice(-2000)}` : ''}`));
      }
      resolve(stdout);
    });
  });
}

/** The kernels run before `k`: the next ones in the table, cyclically, never `k` itself. */
export function othersFor(k: Kernel, count: number): Kernel[] {
  const i = KERNELS.findIndex((x) => x.name === k.name);
  const out: Kernel[] = [];
  for (let j = 1; j < KERNELS.length && out.length < count; j++) out.push(KERNELS[(i + j) % KERNELS.length]!);
  return out;
}

interface ChildResult {
  warmUpMs?: number;
  others: { kernel: string; n: number; ms: number; warmMs: number }[];
  instantiateMs: number;
  firstMs: number;
  warmSamplesMs: number[];
  result: string;
}

/** Measures one kernel's cold start in a child. Never throws: failures are in the result. */
export async function coldKernel(k: Kernel, plan: ColdPlan): Promise<ColdKernelResult> {
  const n = plan.size(k);
  const row: ColdKernelResult = { kernel: k.name, n, ok: false, load: Math.round(loadavg()[0]! * 100) / 100 };
  const spec: ChildSpec = {
    kernel: k.name,
    n,
    reps: plan.reps,
    others: othersFor(k, plan.others).map((o) => ({ kernel: o.name, n: plan.othersSize(o) })),
    warmUp: plan.warmUp,
  };
  try {
    const stdout = await runChildProcess(spec, plan.timeoutMs);
    const { trace, result } = parseChildOutput(stdout);
    if (result === undefined) throw new Error('the child printed no result');
    const r = result as ChildResult;
    row.others = r.others;
    const g = r.others[0];
    if (g !== undefined && g.warmMs > 0) row.firstGuestRatio = g.ms / g.warmMs;
    if (r.warmUpMs !== undefined) row.warmUpMs = r.warmUpMs;
    row.instantiateMs = r.instantiateMs;
    row.firstMs = r.firstMs;
    row.warmSamplesMs = r.warmSamplesMs;
    row.warmMs = median(r.warmSamplesMs);
    row.ratio = r.firstMs / row.warmMs;
    row.result = r.result;
    const byPhase: Partial<Record<Phase, number>> = {};
    for (const d of trace.deopts) byPhase[d.phase] = (byPhase[d.phase] ?? 0) + 1;
    row.deoptsByPhase = byPhase;
    row.deoptsAfterWarmUp = trace.deopts.filter((d) => d.phase === 'others' || d.phase === 'first' || d.phase === 'warm').length;
    row.compileMsMeasured = trace.compiles.filter((c) => c.phase === 'first' || c.phase === 'warm').reduce((s, c) => s + c.executeMs, 0);
    row.trace = trace;
    row.ok = Number.isFinite(row.ratio) && row.ratio > 0;
    if (!row.ok) row.error = `no finite ratio (first ${r.firstMs} ms, warm ${row.warmMs} ms)`;
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
  }
  return row;
}

function fmt(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * The part: every kernel's cold start, one child after another; prints a
 * table and the summary with `log`, and returns the figures.
 */
export async function benchCold(kernels: readonly Kernel[], plan: ColdPlan, log: (line: string) => void = console.log): Promise<ColdReport> {
  log(
    `cold starts: each kernel in a fresh node (${CHILD_V8_FLAGS.join(' ')}): ${plan.warmUp ? 'warmUp(), ' : 'NO warmUp(), '}` +
      `${plan.others} other kernels, then the kernel's first run(n) over the median of ${plan.reps} warm runs`,
  );
  const cols =
    `${'kernel'.padEnd(12)}  ${'n'.padStart(9)}  ${'first ms'.padStart(9)}  ${'warm ms'.padStart(8)}  ${'first/warm'.padStart(10)}  ` +
    `${'deopts (others/first/warm)'.padStart(26)}  ${'compile ms'.padStart(10)}  ${'1st guest after warm-up'.padStart(24)}  ${'load'.padStart(5)}`;
  log(cols);
  log('-'.repeat(cols.length));
  const rows: ColdKernelResult[] = [];
  for (const k of kernels) {
    const r = await coldKernel(k, plan);
    rows.push(r);
    if (!r.ok) {
      log(`${k.name.padEnd(12)}  ${String(r.n).padStart(9)}  FAILED: ${r.error}`);
      continue;
    }
    const d = r.deoptsByPhase!;
    const deopts = `${r.deoptsAfterWarmUp} (${d.others ?? 0}/${d.first ?? 0}/${d.warm ?? 0})`;
    const g = r.others?.[0];
    const guest = g !== undefined && r.firstGuestRatio !== undefined ? `${g.kernel} ${fmt(g.ms)}/${fmt(g.warmMs)} ms ${r.firstGuestRatio.toFixed(1)}x` : '-';
    log(
      `${k.name.padEnd(12)}  ${String(r.n).padStart(9)}  ${fmt(r.firstMs).padStart(9)}  ${fmt(r.warmMs).padStart(8)}  ${(r.ratio!.toFixed(2) + 'x').padStart(10)}  ` +
        `${deopts.padStart(26)}  ${fmt(r.compileMsMeasured).padStart(10)}  ${guest.padStart(24)}  ${String(r.load).padStart(5)}`,
    );
  }
  return summarize(rows, plan, log);
}

/** The report of the rows: geometric mean, maximum, the bar, deoptimizations by reason and place, compiles. */
export function summarize(rows: ColdKernelResult[], plan: ColdPlan, log: (line: string) => void = () => {}): ColdReport {
  const ok = rows.filter((r) => r.ok);
  const report: ColdReport = {
    warmUp: plan.warmUp,
    v8Flags: CHILD_V8_FLAGS,
    kernels: rows,
    bar: { value: COLD_BAR },
    deoptsAfterWarmUp: 0,
    deoptReasons: {},
    deoptPlaces: [],
    otherCompiles: {},
    compiles: { count: 0, totalExecuteMs: 0, maxExecuteMs: 0 },
    compilingAfterWarmUp: ok.filter((r) => r.trace!.compilingAfterWarmUp > 0).length,
    failures: rows.length - ok.length,
  };
  const guests = ok.flatMap((r) => (r.firstGuestRatio !== undefined ? [r.firstGuestRatio] : []));
  if (guests.length > 0) report.firstGuestOverWarm = Math.exp(guests.reduce((s, x) => s + Math.log(x), 0) / guests.length);
  const places = new Map<string, { place: string; reason: string; count: number }>();
  for (const r of ok) {
    const t = r.trace!;
    for (const d of t.deopts) {
      if (d.phase !== 'others' && d.phase !== 'first' && d.phase !== 'warm') continue;
      report.deoptsAfterWarmUp++;
      report.deoptReasons[d.reason] = (report.deoptReasons[d.reason] ?? 0) + 1;
      const place = `${d.case ?? '?'} at ${d.source ?? d.at[d.at.length - 1] ?? '?'}${d.at.length > 1 ? ` (inlined ${d.at[0]})` : ''}`;
      const key = `${place}|${d.reason}`;
      const p = places.get(key) ?? { place, reason: d.reason, count: 0 };
      p.count++;
      places.set(key, p);
    }
    for (const c of t.otherCompiles) {
      const key = `${c.function} (${c.file})`;
      const list = (report.otherCompiles[key] ??= []);
      if (!list.includes(r.kernel)) list.push(r.kernel);
    }
    for (const c of t.compiles) {
      report.compiles.count++;
      report.compiles.totalExecuteMs += c.executeMs;
      report.compiles.maxExecuteMs = Math.max(report.compiles.maxExecuteMs, c.executeMs);
    }
  }
  report.deoptPlaces = [...places.values()].sort((a, b) => b.count - a.count);
  if (ok.length > 0) {
    report.coldOverWarm = Math.exp(ok.reduce((s, r) => s + Math.log(r.ratio!), 0) / ok.length);
    const max = ok.reduce((m, r) => (r.ratio! > m.ratio! ? r : m));
    report.maxRatio = { kernel: max.kernel, ratio: max.ratio! };
    report.bar.met = report.coldOverWarm <= COLD_BAR;
    log('');
    log(
      `coldOverWarm (geometric mean of first/warm over ${ok.length} kernel${ok.length === 1 ? '' : 's'}): ${report.coldOverWarm.toFixed(2)}x, ` +
        `max ${report.maxRatio.ratio.toFixed(2)}x (${report.maxRatio.kernel}); bar <= ${COLD_BAR}: ${report.bar.met ? 'met' : 'NOT met'}`,
    );
  }
  if (report.firstGuestOverWarm !== undefined) {
    log(
      `first guest after ${plan.warmUp ? 'warmUp()' : 'start'} (geometric mean of its first/warm): ${report.firstGuestOverWarm.toFixed(1)}x; ` +
        `a compile of the loop still running when ${plan.warmUp ? 'warmUp() returned' : 'the guests started'}: in ${report.compilingAfterWarmUp} of ${ok.length} children`,
    );
  }
  log(`deoptimizations of the loop after the warm-up: ${report.deoptsAfterWarmUp}`);
  for (const p of report.deoptPlaces) log(`  ${String(p.count).padStart(3)}  ${p.place}: ${p.reason}`);
  const oc = Object.entries(report.otherCompiles);
  if (oc.length > 0) log(`other engine functions compiled during the measured runs: ${oc.map(([f, ks]) => `${f} [${ks.join(', ')}]`).join('; ')}`);
  const c = report.compiles;
  log(`TurboFan compiles of the loop: ${c.count} in ${ok.length} children, ${fmt(c.totalExecuteMs)} ms in the background in all (at most ${fmt(c.maxExecuteMs)} ms)`);
  return report;
}

// ---------------------------------------------------------------------------
// Entry points: `--child SPEC` (the child), or the part standalone.

async function standalone(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      filter: { type: 'string' },
      'no-warmup': { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const kernels = selectKernels(values.filter);
  if (kernels.length === 0) {
    console.error(`cold: no kernel matches --filter ${values.filter}`);
    return 2;
  }
  const plan = { ...COLD_PLANS[values.quick ? 'quick' : 'full'], warmUp: values['no-warmup'] !== true };
  const report = await benchCold(kernels, plan);
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, coldOverWarm: report.coldOverWarm, cold: report }, null, 2) + '\n');
    console.log(`results written to ${values.json}`);
  }
  return report.failures > 0 ? 1 : 0;
}

if (isMainModule(import.meta.url)) {
  if (process.argv[2] === '--child') runChild(JSON.parse(process.argv[3]!) as ChildSpec);
  else runMain(() => standalone(process.argv.slice(2)));
}
