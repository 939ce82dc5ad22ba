/**
 * Runs one attack (attacks.ts) in a child process with a small heap
 * (`--max-old-space-size=256`) and the hive's default configuration, and
 * checks the bars of issue 10: the host survives (exits by itself, code 0,
 * no crash, no OOM, no hang), the unrelated counter keeps answering (p99 of
 * host calls under 50 ms), RSS stays within the attack's bound, and no
 * acknowledged message is lost.
 *
 * The harness also watches the child from outside: it reads its peak RSS
 * (VmHWM) from /proc every 100 ms, kills it past RSS_CAP_MB (this machine is
 * shared) or when it runs far past its time (a hang), and drains its stdout
 * and stderr (the default logger's output) counting bytes.
 *
 * ATTACK_SECONDS sets how long each attack runs (default 2); ATTACK_REPORT
 * names a file each result is appended to (JSON lines, for the README);
 * ATTACK_NICE the child's niceness (default -10; 0 for none); ATTACK_TIER the
 * engine's tier of the attacks' guests ('interpreter', 'auto', 'compiled';
 * default the hive's; a test may ask for one); ATTACK_PREWARM=1
 * (a diagnostic) runs each attack once in a scratch hive before the measured run.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The child's heap. */
export const HEAP_MB = 256;
/** p99 latency bar of the counter's calls (ms). */
export const P99_BAR_MS = 50;
/** How long past its startup and attack the harness lets a child run before it calls it hung and kills it (ms). */
export const HANG_AFTER_MS = 20_000;
/**
 * How long the child's warm-up may wait past its first second for V8 to have compiled the
 * interpreter's loop (`ATTACK_JIT_WAIT_MS`, default 10 s; 0: no wait; see child.ts). The hang
 * deadline allows for it.
 */
export const JIT_WAIT_MS = Number(process.env['ATTACK_JIT_WAIT_MS'] ?? 10_000);
/**
 * The temp dirs of the durable attacks' stores (durable-attacks.ts): this,
 * the child's pid, '-', a random suffix. The child removes its own; the
 * harness what a child that died left.
 */
export const STORE_DIR_PREFIX = 'wasmhive-attack-durable-';
/** RSS past which the harness kills the child (MiB): a failure, and a guard for the shared machine. */
export const RSS_CAP_MB = 2048;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** The child's result line (see child.ts). */
export interface ChildResult {
  attack: string;
  seconds: number;
  setupMs: number;
  calls: { planned: number; answered: number; failed: number; wrongAnswers: number; outstandingAtEnd: number; errors: Record<string, number> };
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  acked: number;
  counted: number;
  sendsRefused: number;
  memoryMB: { rssBase: number; rssMax: number; heapMax: number; externalMax: number };
  events: Record<string, unknown>;
  closeMs: number;
  load: number[];
  nice: number;
  prewarmed: boolean;
  /** The engine's tier of the attack's guests (ATTACK_TIER), null for the default (absent in older runs). */
  tier?: string | null;
  /** The warm-up's wait for the interpreter's loop to be compiled (child.ts; absent in runs before it existed). */
  jit?: { waitMs: number; ready: boolean; coldSliceMs: number; sliceMs: number };
  /** Where the attack's time went besides the host's work: CPU, run-queue waits, helper threads, GC (child.ts; null off Linux, absent in older runs). */
  sched?: { mainCpuMs: number; waitedMs: number; waitedMaxMs: number; helpersCpuMs: number; gcMs: number; gcMaxMs: number } | null;
  counters: Record<string, number | string>;
}

/** What the harness saw of one run. */
export interface AttackRun {
  attack: string;
  /** The child's line, or null when it died before writing it. */
  result: ChildResult | null;
  exitCode: number | null;
  signal: string | null;
  /** Why the harness killed the child, if it did. */
  killed: 'rss cap' | 'hang' | null;
  /** Peak RSS seen from outside (VmHWM), MiB. */
  peakRssMB: number;
  /** Bytes the child wrote to stdout and stderr (its logs). */
  logBytes: number;
  wallMs: number;
  /** V8's fatal error line, if it died of one (e.g. "Reached heap limit Allocation failed - JavaScript heap out of memory"). */
  fatal: string | null;
  stderrTail: string;
}

function readHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0; // gone
  }
}

/**
 * One attack at a time on this machine, whichever vitest worker runs it: a
 * lock directory holding the owner's pid (taken over when that process is
 * gone). Two attacks at once would measure each other.
 */
const LOCK = join(tmpdir(), `wasmhive-attacks-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);

async function lock(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {
        // being written or removed: look again
      }
      if (Number.isInteger(owner) && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How an attack is run: its length (default ATTACK_SECONDS or 2 s), and the engine's tier for its guests (default: the hive's). */
export interface AttackOptions {
  seconds?: number;
  tier?: 'interpreter' | 'auto' | 'compiled';
}

/** Runs an attack in a child (one at a time) and resolves with what happened (it never rejects for the child's failures). */
export async function runAttack(attack: string, options: AttackOptions = {}): Promise<AttackRun> {
  const unlock = await lock();
  try {
    return await runChild(attack, options);
  } finally {
    unlock();
  }
}

function runChild(attack: string, options: AttackOptions): Promise<AttackRun> {
  const seconds = options.seconds ?? Number(process.env['ATTACK_SECONDS'] ?? 2);
  const t0 = performance.now();
  // The default configuration: the log level too.
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACK_SECONDS: String(seconds) };
  delete env['WASMHIVE_LOG_LEVEL'];
  // The guests' tier: the test's, else ATTACK_TIER as the runner set it (unset: the hive's default).
  if (options.tier !== undefined) env['ATTACK_TIER'] = options.tier;
  // The child runs at a higher priority (niceness ATTACK_NICE, default -10,
  // where the user may; GNU nice runs it anyway where not): on a machine
  // shared with other work, that measures the host as on its own machine.
  // The child reports the niceness it got.
  const nice = process.env['ATTACK_NICE'] ?? '-10';
  const argv = [process.execPath, `--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', CHILD, attack];
  const [cmd, ...args] = nice === '' || nice === '0' ? argv : ['nice', '-n', nice, ...argv];
  const child = spawn(cmd!, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env,
  });
  let logBytes = 0;
  child.stdout!.on('data', (b: Buffer) => (logBytes += b.length));
  let stderr = '';
  let fatal: string | null = null;
  child.stderr!.on('data', (b: Buffer) => {
    logBytes += b.length; // the default logger may write to either stream
    stderr = (stderr + b.toString()).slice(-4000);
    fatal ??= /FATAL ERROR:.*/.exec(stderr)?.[0] ?? null; // V8's last words (heap OOM), before its stack dump
  });
  let line = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => (line += b.toString()));
  let peak = 0;
  let killed: AttackRun['killed'] = null;
  // Startup (tsx, the hive's warm-up) plus the attack, plus time to finish calls and exit.
  const deadline = t0 + seconds * 1000 + JIT_WAIT_MS + HANG_AFTER_MS;
  const watch = setInterval(() => {
    if (child.pid === undefined) return;
    peak = Math.max(peak, readHwm(child.pid));
    if (killed !== null) return;
    if (peak > RSS_CAP_MB) killed = 'rss cap';
    else if (performance.now() > deadline) killed = 'hang';
    if (killed !== null) child.kill('SIGKILL');
  }, 100);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watch);
      // A child that died (or was killed) before it closed its durable store leaves its files: removed here.
      removeStoreDirs(child.pid);
      let result: ChildResult | null = null;
      try {
        if (line.trim() !== '') result = JSON.parse(line.trim().split('\n')[0]!) as ChildResult;
      } catch {
        result = null;
      }
      const run: AttackRun = {
        attack,
        result,
        exitCode: code,
        signal,
        killed,
        peakRssMB: Math.round(peak),
        logBytes,
        wallMs: Math.round(performance.now() - t0),
        fatal,
        stderrTail: stderr.slice(-1500),
      };
      const report = process.env['ATTACK_REPORT'];
      if (report !== undefined && report !== '') appendFileSync(report, JSON.stringify({ ...run, stderrTail: stderr.slice(-300) }) + '\n');
      resolve(run);
    });
  });
}

/** Removes the temp dirs of the durable attacks' stores that the child `pid` left (durable-attacks.ts names them after it). */
function removeStoreDirs(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    for (const d of readdirSync(tmpdir())) if (d.startsWith(`${STORE_DIR_PREFIX}${pid}-`)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  } catch {
    // nothing to remove
  }
}

/** The bars an attack is held to. */
export interface Bars {
  /** Largest RSS allowed (MiB), stated per attack: the peak seen from outside and from inside must stay under it. */
  rssMB: number;
  /** What else must hold, from the attack's counters: the bars missed, in words. */
  check?(counters: ChildResult['counters']): string[];
}

/** The bars that an attack run missed, in words (empty when it held). */
export function missed(run: AttackRun, bars: Bars): string[] {
  const out: string[] = [];
  const r = run.result;
  if (run.killed !== null) out.push(`killed by the harness (${run.killed})`);
  if (r === null) out.push(`no result line (exit ${run.exitCode ?? run.signal}): ${run.fatal ?? run.stderrTail.split('\n').slice(-6).join(' | ')}`);
  else {
    if (run.exitCode !== 0) out.push(`exit code ${run.exitCode ?? run.signal} after the result`);
    if (r.calls.answered !== r.calls.planned) out.push(`${r.calls.planned - r.calls.answered} of ${r.calls.planned} calls not answered (${JSON.stringify(r.calls.errors)})`);
    if (r.calls.wrongAnswers !== 0) out.push(`${r.calls.wrongAnswers} calls answered with something the counter did not say`);
    if (r.latencyMs.p99 === null || r.latencyMs.p99 >= P99_BAR_MS) out.push(`p99 latency ${r.latencyMs.p99 ?? 'unanswered'} ms >= ${P99_BAR_MS} ms`);
    if (r.counted < r.acked) out.push(`acknowledged messages lost: counted ${r.counted} < acked ${r.acked}`);
    if (r.memoryMB.rssMax > bars.rssMB) out.push(`RSS ${r.memoryMB.rssMax} MiB > ${bars.rssMB} MiB`);
    if (r.counters['setupError'] !== undefined) out.push(`the attack could not be set up: ${r.counters['setupError']}`);
    out.push(...(bars.check?.(r.counters) ?? []));
  }
  if (run.peakRssMB > bars.rssMB) out.push(`peak RSS seen from outside ${run.peakRssMB} MiB > ${bars.rssMB} MiB`);
  return out;
}

/** One line of figures for the test output. */
export function figures(run: AttackRun): string {
  const r = run.result;
  const base = `${run.attack}${r?.tier != null ? ` (tier ${r.tier})` : ''}: exit ${run.exitCode ?? run.signal}${run.killed ? ` killed (${run.killed})` : ''}, peak RSS ${run.peakRssMB} MiB, logs ${Math.round(run.logBytes / 1024)} KiB, ${run.wallMs} ms`;
  if (r === null) return base;
  const jit = r.jit === undefined ? '' : `, jit ${r.jit.ready ? 'ready' : 'NOT READY'} +${r.jit.waitMs} ms (slice ${r.jit.coldSliceMs} -> ${r.jit.sliceMs} ms)`;
  const s = r.sched;
  const sched = s == null ? '' : `; main thread cpu ${s.mainCpuMs} ms, waited for a cpu ${s.waitedMs} (longest ${s.waitedMaxMs}), helpers cpu ${s.helpersCpuMs}, gc ${s.gcMs} (longest ${s.gcMaxMs})`;
  return `${base}; load ${r.load.join('->')}, nice ${r.nice}${jit}; calls ${r.calls.answered}/${r.calls.planned}, p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms${sched}; heap ${r.memoryMB.heapMax} MiB; acked ${r.acked} counted ${r.counted}; ${JSON.stringify(r.counters)}`;
}

/**
 * Counters that must stay at or under a bound: queues the hive's documented
 * defaults bound (1,000 signals or monitors per actor; 64 MiB of queued
 * messages per spawn tree), so that growth shows even in a short run.
 */
export function atMost(c: ChildResult['counters'], bounds: Record<string, number>): string[] {
  return Object.entries(bounds)
    .filter(([k, max]) => typeof c[k] === 'number' && (c[k] as number) > max)
    .map(([k, max]) => `${k} reached ${String(c[k])}, more than ${max}`);
}

/** Counters that must reach a bound (the attack did what it says). */
export function atLeast(c: ChildResult['counters'], bounds: Record<string, number>): string[] {
  return Object.entries(bounds)
    .filter(([k, min]) => !(typeof c[k] === 'number' && (c[k] as number) >= min))
    .map(([k, min]) => `${k} is ${String(c[k])}, not at least ${min}`);
}

/** RSS of the child under no attack, rounded up (MiB): Node, tsx, the engine's warm-up, the counter, the probe (measured 210-280). */
export const BASE_RSS_MB = 320;
