/**
 * One attack in its own process (started by harness.ts with a small heap):
 * a hive with the default configuration (clock, executor, limits, and the
 * default logger writing to its stream, a pipe the harness drains), the
 * unrelated counter (test/guests/counter.wasm), the attack, and a probe that
 * for `ATTACK_SECONDS` (default 2) calls the counter and sends to it at a
 * steady rate while it samples memory. It prints one JSON line to fd 3.
 *
 * Usage: node --max-old-space-size=256 --import tsx test/attacks/child.ts <attack> 3>result
 */
import { readFileSync, readdirSync, writeSync } from 'node:fs';
import { getPriority, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
// The built package (dist/, made by `npm install`'s prepare step), as users run it: the hive under
// attack is tsc's output, not a test-time transpilation of src/ (tsx's output of the interpreter
// measured several times slower in its first seconds).
// (Typed as src/ for the type checker: the two are the same API.)
const { Hive } = (await import('../../dist/actors/index.js' as string)) as typeof import('../../src/actors/index.js');
const { Instance, Module } = (await import('../../dist/vm/index.js' as string)) as typeof import('../../src/vm/index.js');
import { ATTACKS, HIVES, setGuestCompiler, type AttackContext, type Running } from './attacks.js';
import { wat } from '../helpers/wat.js';
import { JIT_WAIT_MS } from './harness.js';

/** Calls (and sends) per second to the counter. */
const RATE = 100;
/** How often memory and the attack's counters are sampled (ms). */
const SAMPLE_MS = 50;
/** The host call timeout of the probe (ms): a call not answered by then counts as lost. */
const CALL_TIMEOUT = 5000;

const name = process.argv[2] ?? '';
const attack = ATTACKS[name];
if (attack === undefined) {
  process.stderr.write(`no attack named '${name}'; attacks: ${Object.keys(ATTACKS).join(', ')}\n`);
  process.exit(2);
}
const seconds = Number(process.env['ATTACK_SECONDS'] ?? 2);
/**
 * The engine's tier for the attack's guests (ATTACK_TIER: 'interpreter', 'auto' or 'compiled';
 * unset: the hive's default). Applies to the guests of attacks.ts (the counter keeps the default).
 */
const tier = process.env['ATTACK_TIER'] || undefined;
if (tier !== undefined) setGuestCompiler((bytes) => new Module(bytes, { tier: tier as 'interpreter' | 'auto' | 'compiled' }));
const WARM_MS = Number(process.env['ATTACK_WARM_MS'] ?? 1000);

/**
 * Diagnostic (ATTACK_MARKS=1): lines "### <what> @<ms since start>" on stdout, to read beside V8's
 * `--trace-deopt` / `--trace-opt` output there (run with `stdbuf -oL` so that V8's lines are not held back).
 */
const MARKS = process.env['ATTACK_MARKS'] === '1';
function mark(what: string): void {
  if (MARKS) writeSync(1, `### ${what} @${Math.round(performance.now())}\n`);
}
mark('start');

// The default configuration; an attack of HIVES gets what it needs besides (the durable attacks: a store).
const setup = await HIVES[name]?.();
const hive = new Hive(setup?.options);
mark('hive made');

/**
 * The JIT. The hive's warm-up (src/vm/warmup.ts) makes V8 compile the interpreter's loop (`run` in
 * src/vm/interp.ts, one large function) in the background. On this shared 2-core machine that
 * compile took 0.3 s with the machine idle and 2-8 s under a load average of 8-11 (other
 * engineers' runs), and until it is done every guest runs ~100 times slower (a slice of 20,000
 * units of fuel: ~20-300 ms instead of 0.2-3): the probe would measure the JIT's start, not the
 * attack. So the warm-up phase lasts WARM_MS and then until a slice of a small guest loop, timed
 * now and again, takes at most JIT_RATIO times as long as the same number of steps of a small
 * dispatch loop in plain JavaScript (which V8 compiles at once): about 4 with the loop compiled,
 * 20-30 in V8's baseline tier, 200 interpreted. It waits at most JIT_WAIT_MS; the result line says
 * how long it waited and the slice's time (`jit`). A host's first guests in a fresh process meet
 * that slow start; see the README.
 */
const JIT_RATIO = 10;
const calibration = new Instance(
  new Module(wat(`(module (func (export "spin") (local i32)
    (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.ne (local.get 0) (i32.const -1))))))`)),
  {},
);
/** Milliseconds to run one default slice (20,000 units of fuel) of the calibration loop. */
function sliceMs(): number {
  calibration.fuel = 20_000;
  const t = performance.now();
  calibration.func('spin').invoke([]); // ends out of fuel
  return performance.now() - t;
}
sliceMs(); // its first call lowers the function
const coldSliceMs = sliceMs();
const refCode = new Int32Array([0, 1, 2]);
const refStack = new Int32Array(4);
/** The reference: a three-instruction dispatch loop (add, compare, branch) over typed arrays, `n` steps. */
function refLoop(n: number): number {
  let pc = 0;
  for (let f = n; f > 0; f--) {
    switch (refCode[pc]) {
      case 0:
        refStack[1] = (refStack[1]! + 1) | 0;
        pc = 1;
        break;
      case 1:
        refStack[2] = refStack[1] !== -1 ? 1 : 0;
        pc = 2;
        break;
      default:
        pc = refStack[2] !== 0 ? 0 : 3;
    }
  }
  return refStack[1]!;
}
function refMs(): number {
  const t = performance.now();
  refLoop(20_000);
  return performance.now() - t;
}
// The reference must be compiled itself before it measures anything (a small function: V8 does
// that within its first calls).
for (let i = 0; i < 50; i++) refLoop(20_000);
/** Whether a slice of the calibration loop is as fast as compiled code (see above). */
function jitReady(): { ready: boolean; ms: number } {
  const ms = Math.min(sliceMs(), sliceMs(), sliceMs());
  const ref = Math.min(refMs(), refMs(), refMs());
  return { ready: ms <= JIT_RATIO * ref, ms };
}
hive.define('counter', readFileSync(new URL('../guests/counter.wasm', import.meta.url)));
const counter = hive.spawn('counter');
const events = { spawned: 0, exited: 0, crashed: 0, deadLetters: 0 };
const reasons = new Map<string, number>();
hive.on('spawned', () => events.spawned++);
hive.on('exited', (e) => {
  events.exited++;
  const r = e.reason.slice(0, 60);
  reasons.set(r, (reasons.get(r) ?? 0) + 1);
});
hive.on('crashed', () => events.crashed++);
hive.on('deadLetter', () => events.deadLetters++);

const mem = { rssBase: process.memoryUsage.rss(), rssMax: 0, heapMax: 0, externalMax: 0 };
function sampleMemory(): void {
  const m = process.memoryUsage();
  mem.rssMax = Math.max(mem.rssMax, m.rss);
  mem.heapMax = Math.max(mem.heapMax, m.heapUsed);
  mem.externalMax = Math.max(mem.externalMax, m.external); // array buffers (wasm memories, messages) included
}

const ctx: AttackContext = {
  hive,
  counter,
  counters: {},
  caught(key, e) {
    ctx.counters[key] = e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 120)}` : String(e);
  },
};

/**
 * Where the probe's time went besides the host's own work (diagnostic; no bar uses it): on this
 * shared 2-core machine a late call may be the host holding its event loop, or the main thread
 * runnable but not given a CPU (other engineers' processes, and this process's own V8 helper
 * threads, which compile and mark concurrently at the same niceness), or a GC pause. Linux's
 * /proc/self/schedstat gives the main thread's CPU time and its time waiting in the run queue;
 * V8's `gc` performance entries give the pauses. Null where /proc is missing.
 */
function mainThreadSched(): { cpu: number; waited: number } | null {
  try {
    const [cpu, waited] = readFileSync('/proc/self/schedstat', 'utf8').split(' ').map(Number);
    return { cpu: cpu! / 1e6, waited: waited! / 1e6 };
  } catch {
    return null;
  }
}
/** CPU time (ms) of this process's threads other than the main one (V8's compiler and GC helpers, libuv's pool). */
function helperThreadsCpu(): number | null {
  let sum = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      if (Number(tid) === process.pid) continue;
      try {
        sum += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      } catch {
        // the thread ended
      }
    }
  } catch {
    return null;
  }
  return sum;
}
/**
 * Main-thread run-queue waits between two probe ticks (the longest) while `watching`, and GC pauses
 * that start in [from, to) (the observer hears of them later, in a callback).
 */
const sched = { watching: false, from: Infinity, to: Infinity, last: null as { cpu: number; waited: number } | null, waitedMax: 0, gcMs: 0, gcMax: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.startTime < sched.from || e.startTime >= sched.to) continue;
    sched.gcMs += e.duration;
    sched.gcMax = Math.max(sched.gcMax, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
function watchSched(): void {
  if (!sched.watching) return;
  const s = mainThreadSched();
  if (s !== null && sched.last !== null) sched.waitedMax = Math.max(sched.waitedMax, s.waited - sched.last.waited);
  sched.last = s;
}

// The probe. Calls are due at fixed times; each one's latency counts from
// when it was due, so an event loop that stalls is measured (no coordinated
// omission). A call not answered within CALL_TIMEOUT counts as Infinity.
const latencies: number[] = [];
/** The first 5 calls slower than 20 ms: [ms after the attack started that the call was due, latency]. */
const slowest: [number, number][] = [];
let planned = 0;
let answered = 0;
let failedCalls = 0;
let wrongAnswers = 0;
let sendsAcked = 0;
let sendsRefused = 0;
const callErrors = new Map<string, number>();
const outstanding = new Set<Promise<void>>();
const answers = new Set<string>();

function probeCall(due: number): void {
  planned++;
  const p = counter
    .call('up', { timeout: CALL_TIMEOUT })
    .then(
      (v) => {
        const ms = performance.now() - due;
        latencies.push(ms);
        if (ms > 20 && slowest.length < 5) slowest.push([Math.round(due - t0), Math.round(ms)]);
        if (ms > 20) mark(`slow call due @${Math.round(due)}: ${Math.round(ms)} ms`);
        // The counter answers "value=<n>", each n once: anything else was forged.
        if (typeof v !== 'string' || !/^value=\d+$/.test(v) || answers.has(v)) wrongAnswers++;
        else answers.add(v);
        answered++;
      },
      (e: Error) => {
        latencies.push(Infinity);
        failedCalls++;
        callErrors.set(e.name, (callErrors.get(e.name) ?? 0) + 1);
      },
    )
    .finally(() => outstanding.delete(p));
  outstanding.add(p);
}

function probeSend(): void {
  try {
    counter.send('up');
    sendsAcked++;
  } catch (e) {
    sendsRefused++;
    callErrors.set(`send ${(e as Error).name}`, (callErrors.get(`send ${(e as Error).name}`) ?? 0) + 1);
  }
}

let running: Running | void = undefined;
let t0 = 0;

/** Runs the probe for `ms`: calls and sends due every 1000/RATE ms, memory and the attack sampled every SAMPLE_MS. */
function probe(ms: number): Promise<void> {
  const start = performance.now();
  const end = start + ms;
  let next = start;
  let lastSample = 0;
  return new Promise<void>((done) => {
    const tick = (): void => {
      watchSched();
      const now = performance.now();
      while (next <= now && next < end) {
        probeCall(next);
        probeSend();
        next += 1000 / RATE;
      }
      if (now - lastSample >= SAMPLE_MS) {
        lastSample = now;
        sampleMemory();
        running?.sample?.();
      }
      if (now >= end) done();
      else setTimeout(tick, 2);
    };
    tick();
  });
}

/** The counter's count (the call itself adds one). */
async function count(): Promise<number> {
  return Number(String(await counter.call('up', { timeout: CALL_TIMEOUT })).replace('value=', ''));
}

// Warm-up: the probe's own traffic for WARM_MS, not measured (V8 compiles
// and optimizes the interpreter and the runtime in the first second: the
// probe measures the attack, not that).
mark('warm-up phase');
await probe(WARM_MS);
const jitWaitStart = performance.now();
let jit = jitReady();
while (!jit.ready && performance.now() - jitWaitStart < JIT_WAIT_MS) {
  await probe(100);
  jit = jitReady();
}
const jitWaitMs = Math.round(performance.now() - jitWaitStart);
mark(`jit ${jit.ready ? 'ready' : 'NOT ready'} after ${jitWaitMs} ms more (slice ${coldSliceMs.toFixed(2)} -> ${jit.ms.toFixed(2)} ms)`);
if (process.env['ATTACK_PREWARM'] === '1') {
  // Diagnostic only (the bars are measured without it): the same attack for
  // WARM_MS in a scratch hive first, so that V8 has compiled the attacker's
  // code paths; the measured run then shows what the attack costs once the
  // JIT has seen it, apart from the stall of its first run.
  const scratchSetup = await HIVES[name]?.();
  const scratch = new Hive(scratchSetup?.options);
  scratch.define('counter', readFileSync(new URL('../guests/counter.wasm', import.meta.url)));
  const scratchCtx: AttackContext = { hive: scratch, counter: scratch.spawn('counter'), counters: {}, caught: () => undefined };
  const r = await attack(scratchCtx);
  await new Promise((res) => setTimeout(res, WARM_MS));
  r?.stop?.();
  scratch.close();
  await scratchSetup?.close();
}
await Promise.all([...outstanding]);
latencies.length = 0;
slowest.length = 0;
planned = answered = failedCalls = wrongAnswers = sendsAcked = sendsRefused = 0;
callErrors.clear();
events.spawned = events.exited = events.crashed = events.deadLetters = 0;
reasons.clear();
const countBefore = await count();
mem.rssBase = process.memoryUsage.rss();
mem.rssMax = mem.heapMax = mem.externalMax = 0;

const loadBefore = loadavg()[0]!;
const schedBefore = mainThreadSched();
const helpersBefore = helperThreadsCpu();
sched.watching = true;
sched.last = schedBefore;
const started = performance.now();
sched.from = started;
mark('attack');
try {
  running = await attack(ctx);
} catch (e) {
  ctx.caught('setupError', e);
}
const setupMs = performance.now() - started;
t0 = performance.now();
await probe(seconds * 1000);
running?.stop?.();
sched.watching = false;
sched.to = performance.now();
const schedAfter = mainThreadSched();
const helpersAfter = helperThreadsCpu();
mark('attack over');
const stillOut = outstanding.size;
await Promise.all([...outstanding]);
sampleMemory();
running?.sample?.();

// Every send the hive acknowledged, and every call answered, was one "up":
// the counter must have counted at least that many (calls that failed may
// or may not have been counted).
let counted = -1;
try {
  counted = (await count()) - countBefore - 1;
} catch (e) {
  ctx.caught('finalCallError', e);
}
const actorsAlive = hive.actorIds().length;
const closeStart = performance.now();
hive.close();
const closeMs = performance.now() - closeStart;
// What the hive's options held (a store): closed after the hive, its files removed.
try {
  await setup?.close();
} catch (e) {
  ctx.caught('setupCloseError', e);
}

const sorted = latencies.slice().sort((a, b) => a - b);
const pct = (q: number): number | null => {
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return Number.isFinite(v) ? Math.round(v * 100) / 100 : null; // null: not answered
};
const mb = (b: number): number => Math.round(b / 1048576);
const result = {
  attack: name,
  seconds,
  setupMs: Math.round(setupMs),
  calls: { planned, answered, failed: failedCalls, wrongAnswers, outstandingAtEnd: stillOut, errors: Object.fromEntries(callErrors) },
  latencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1), firstSlow: slowest },
  acked: sendsAcked + answered,
  counted,
  sendsRefused,
  memoryMB: { rssBase: mb(mem.rssBase), rssMax: mb(mem.rssMax), heapMax: mb(mem.heapMax), externalMax: mb(mem.externalMax) },
  events: { ...events, actorsAliveAtEnd: actorsAlive, topReasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 4)) },
  closeMs: Math.round(closeMs),
  /** The machine's 1-minute load average before and after (latency figures on a loaded machine say less). */
  load: [loadBefore, loadavg()[0]!].map((l) => Math.round(l * 100) / 100),
  prewarmed: process.env['ATTACK_PREWARM'] === '1',
  /** How long the warm-up waited past WARM_MS for the interpreter's loop to be compiled, and a calibration slice's time cold and then (ms). */
  jit: { waitMs: jitWaitMs, ready: jit.ready, coldSliceMs: Math.round(coldSliceMs * 100) / 100, sliceMs: Math.round(jit.ms * 100) / 100 },
  /**
   * Over the attack (set-up and probe), ms: the main thread's CPU time, its time runnable but
   * waiting for a CPU (in all, and the longest between two probe ticks), the other threads' CPU
   * time, and GC pauses (in all, and the longest). Null off Linux.
   */
  sched:
    schedBefore === null || schedAfter === null || helpersBefore === null || helpersAfter === null
      ? null
      : {
          mainCpuMs: Math.round(schedAfter.cpu - schedBefore.cpu),
          waitedMs: Math.round(schedAfter.waited - schedBefore.waited),
          waitedMaxMs: Math.round(sched.waitedMax),
          helpersCpuMs: Math.round(helpersAfter - helpersBefore),
          gcMs: Math.round(sched.gcMs),
          gcMaxMs: Math.round(sched.gcMax * 10) / 10,
        },
  /** The niceness the process ran at (the harness asks for -10). */
  nice: getPriority(),
  /** The tier of the attack's guests (ATTACK_TIER), null for the default. */
  tier: tier ?? null,
  counters: ctx.counters,
};
writeSync(3, JSON.stringify(result) + '\n');
// The process now ends by itself when nothing is left to run: the harness
// checks that it does (a hive that leaves timers or work behind would hang).
