/**
 * The actor runtime's own costs (`wasmhive bench --part actors`), on the
 * guests of test/guests (AssemblyScript, built and committed) and the
 * default inline executor (one thread):
 *
 * - ping-pong: messages per second between two wasm actors (ping <-> pong),
 *   the fuel each side spends per round trip (guest work) against the
 *   interpreter's speed (so: how much of a message is runtime overhead), and
 *   host <-> actor calls per second;
 * - spawning: counters spawned per second, started (run to their first
 *   receive) per second, and the time to kill them all;
 * - memory per idle actor: 10,000 counters waiting in receive, measured in a
 *   child process run with --expose-gc (in this process when that cannot be);
 * - fairness: latency percentiles of host calls to a pong actor, and the
 *   wasm ping-pong round trip, with and without 10 actors spinning forever;
 * - snapshots of one actor: a counter, and a probe grown to 1 and 16 MiB
 *   (pages left zero, or filled with random words), restored into a second hive;
 * - spawn scale: 100,000 counters spawned one after another through
 *   `hive.spawn` in one hive, timed per block of 10,000 (a cost that grows
 *   with the number of live actors shows as later blocks slower than the
 *   first), then started (run to their first receive) while a probe
 *   measures how long the event loop is held at once.
 *
 * `benchActors` prints a table as it goes and returns the figures;
 * `actorsJsonLine` makes the one-line JSON summary the bench prints last.
 * `--actors NAMES` (see ACTOR_FIGURES) runs only some figures.
 *
 * The keys of issue 11's bars in that JSON (`actors.bars` repeats them,
 * each with its bar and whether it was met):
 * - `spawnScale.perSecond`: spawns per second over all 100,000 (bar 30,000);
 * - `spawnScale.firstBlockPerSecond`, `spawnScale.lastBlockPerSecond`: the
 *   rate of the first and of the last 10,000, and `spawnScale.flatness`,
 *   last / first (bar 0.8); `spawnScale.maxEventLoopDelayMs`: the longest
 *   the event loop waited while the executor started them;
 * - `pingPong.messagesPerSecond`: messages per second between two wasm
 *   actors on one thread (bar 500,000), both over the raw ABI
 *   (test/guests/ping-raw.ts and pong.ts), so that it is the runtime's cost
 *   of a message; `pingPongSdk.messagesPerSecond` is the same with ping
 *   written with the AssemblyScript SDK's `send<i32>` and `receive<i32>`
 *   (test/guests/ping.ts);
 * - `memory.rssBytes`: resident memory per idle counter (bar 80 KiB), with
 *   its parts (JS heap, external memory, the wasm memory of one counter).
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

import { Hive, type ActorRef } from '../actors/index.js';
import { systemOf } from '../actors/hive.js';
import { Module } from '../vm/index.js';
import { packageRoot } from './kernels.js';
import { gcFunction, median } from './measure.js';
import { benchPool, type PoolPlan, type PoolResult } from './pool.js';
import { benchServices, type ServicesPlan, type ServicesResult } from './services.js';
import { benchDurable, type DurablePlan, type DurableResult } from './durable.js';
import { isMainModule, runMain } from './cli.js';

/** Sizes of one run of the actor benchmark. */
export interface ActorsPlan {
  /** Timed samples of each throughput figure (the median is reported), after one warm-up sample. */
  readonly samples: number;
  /** Round trips ping <-> pong per sample (each is two messages). */
  readonly roundTrips: number;
  /** Host calls to pong per sample. */
  readonly hostCalls: number;
  /** Milliseconds a lone spinner runs to measure the interpreter's fuel per second. */
  readonly speedMs: number;
  /** Counters spawned (then killed) per sample. */
  readonly spawnActors: number;
  /** Idle counters for the memory figure. */
  readonly idleActors: number;
  /** Measure memory in a child process run with --expose-gc (falls back to this process when it cannot start one). */
  readonly memoryInChild: boolean;
  /** Spinning actors of the fairness figure, and the fuel slice of every actor. */
  readonly spinners: number;
  readonly fuelPerSlice: number;
  /** Timed host calls without spinners, and with them. */
  readonly latencyCalls: number;
  readonly latencyCallsSpinning: number;
  /** Wasm ping-pong round trips with the spinners running. */
  readonly roundTripsSpinning: number;
  /** Memory sizes (MiB) of the probe snapshots, and samples of each snapshot and restore. */
  readonly snapshotMiB: readonly number[];
  readonly snapshotSamples: number;
  /** Counters of the spawn scale figure, all alive at the end, and the block they are timed by. */
  readonly scaleActors: number;
  readonly scaleBlock: number;
  /** The worker pool's figures (pool.ts). */
  readonly pool: PoolPlan;
  /** Native services' figures (services.ts). */
  readonly services: ServicesPlan;
  /** Durable actors' figures (durable.ts). */
  readonly durable: DurablePlan;
}

/** The figures of the actor benchmark, by the names `--actors` takes. */
export const ACTOR_FIGURES = ['pingpong', 'spawn', 'memory', 'fairness', 'snapshots', 'scale', 'pool', 'services', 'durable'] as const;
/** One figure of the actor benchmark. */
export type ActorFigure = (typeof ACTOR_FIGURES)[number];

/** Issue 11's bars on the actor figures. */
export const ACTOR_BARS = {
  spawnsPerSecond: 30_000,
  spawnFlatness: 0.8,
  pingPongMessagesPerSecond: 500_000,
  idleActorBytes: 80 * 1024,
} as const;

/** Plans of a full and a quick (`--quick`) run. */
export const ACTOR_PLANS: Record<'full' | 'quick', ActorsPlan> = {
  full: {
    samples: 7,
    roundTrips: 20_000,
    hostCalls: 20_000,
    speedMs: 300,
    spawnActors: 2_000,
    idleActors: 10_000,
    memoryInChild: true,
    spinners: 10,
    fuelPerSlice: 20_000,
    latencyCalls: 2_000,
    latencyCallsSpinning: 500,
    roundTripsSpinning: 500,
    snapshotMiB: [1, 16],
    snapshotSamples: 5,
    scaleActors: 100_000,
    scaleBlock: 10_000,
    pool: { samples: 5, roundTrips: 20_000, pairs: 64, spinners: 4, spinMs: 400, migrations: 200, hostCalls: 5_000, warmMs: 300 },
    services: { samples: 5, calls: 50_000 },
    durable: { actors: 1_000_000, concurrency: 256, messages: 20_000, counters: 64, sendsInFlight: 256, checkpoints: 300, reactivations: 1_000 },
  },
  quick: {
    samples: 3,
    roundTrips: 2_000,
    hostCalls: 2_000,
    speedMs: 60,
    spawnActors: 200,
    idleActors: 1_000,
    memoryInChild: true,
    spinners: 10,
    fuelPerSlice: 20_000,
    latencyCalls: 300,
    latencyCallsSpinning: 50,
    roundTripsSpinning: 50,
    snapshotMiB: [1, 16],
    snapshotSamples: 3,
    scaleActors: 10_000,
    scaleBlock: 1_000,
    pool: { samples: 3, roundTrips: 2_000, pairs: 16, spinners: 4, spinMs: 150, migrations: 50, hostCalls: 500, warmMs: 60 },
    services: { samples: 3, calls: 5_000 },
    durable: { actors: 10_000, concurrency: 128, messages: 2_000, counters: 16, sendsInFlight: 64, checkpoints: 50, reactivations: 200 },
  },
};

/** Latency percentiles, in milliseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One actor snapshot figure. */
export interface ActorSnapshotResult {
  /** What was snapshotted. */
  readonly actor: string;
  /** Its wasm memory, in bytes. */
  readonly memoryBytes: number;
  /** Median ms of `hive.snapshot(ref)`, and the snapshot's size. */
  readonly snapshotMs: number;
  readonly bytes: number;
  /** Median ms of `hive.restore(bytes)` into a second hive. */
  readonly restoreMs: number;
}

/** Memory of idle actors, per actor. */
export interface IdleMemoryResult {
  readonly actors: number;
  /** 'child process' (node --expose-gc) or 'in process'. */
  readonly measuredIn: string;
  /** Whether a full garbage collection ran before each reading. */
  readonly gc: boolean;
  /** Deltas of process.memoryUsage() divided by the number of actors, in bytes. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Memory outside the JS heap as V8 counts it: ArrayBuffers (value stacks, large wasm memories), not SharedArrayBuffers (small wasm memories). */
  readonly externalBytes: number;
  /** Bytes of ArrayBuffers and SharedArrayBuffers (Node's count): wasm memories and value stacks. */
  readonly arrayBuffersBytes: number;
  /** heapUsed + external, or + arrayBuffers when larger (V8's external memory leaves SharedArrayBuffers out). */
  readonly totalBytes: number;
  /** Wasm memory of one counter, in bytes. */
  readonly wasmMemoryBytes: number;
}

/** Spawning many actors into one hive, all kept alive. */
export interface SpawnScaleResult {
  readonly actors: number;
  /** Spawns per timed block. */
  readonly block: number;
  /** `hive.spawn` calls per second over all of them (instantiation included; their start functions run later). */
  readonly perSecond: number;
  /** Spawns per second in each block, in order. */
  readonly blocksPerSecond: number[];
  readonly firstBlockPerSecond: number;
  readonly lastBlockPerSecond: number;
  /** lastBlockPerSecond / firstBlockPerSecond: 1 when spawning stays as fast with many actors alive. */
  readonly flatness: number;
  /** Ms from the last spawn until all of them waited in receive (`await hive.idle()`). */
  readonly startMs: number;
  /** The longest the event loop was held at once while they started, ms (a 1 ms probe). */
  readonly maxEventLoopDelayMs: number;
  /** Resident memory after all were started, per actor (the process's, including what it held before). */
  readonly rssBytesPerActor: number;
}

/** A bar of issue 11: the figure, the bar, and whether the figure met it. */
export interface Bar {
  readonly value: number;
  readonly bar: number;
  readonly met: boolean;
}

/** Everything the actor benchmark measures; a figure left out by `--actors` is absent. */
export interface ActorsResult {
  readonly samples: number;
  /** The worker pool's figures (issue 12): scaling, crossWorkerMessagesPerSecond, sameWorkerMessagesPerSecond, migrationMs, hostCallsPerSecond, and their bars. */
  readonly pool?: PoolResult;
  /** Native services' figures (issue 13): callsPerSecond (inline), workerCallsPerSecond, and the bar. */
  readonly services?: ServicesResult;
  /** Durable actors' figures (issue 14, durable.ts): passivatedActors, rssBytesPerPassivatedActor, reactivateUsP50, checkpointUsP50, recoverActorsPerSecond, journaledMessagesPerSecond, and the bars. */
  readonly durable?: DurableResult;
  readonly pingPong?: {
    readonly roundTrips: number;
    /** Median messages per second, counting both directions. */
    readonly messagesPerSecond: number;
    /** Median wall time of one round trip, in microseconds. */
    readonly roundTripUs: number;
    /** Fuel (wasm instructions, roughly) per round trip on each side: each sends one message and receives one. */
    readonly pingFuelPerRoundTrip: number;
    readonly pongFuelPerRoundTrip: number;
    /** The interpreter's speed on a spinning guest, fuel per second. */
    readonly fuelPerSecond: number;
    /** Share of a round trip's time that is guest work: (ping + pong fuel) / fuelPerSecond / round trip time. */
    readonly guestShare: number;
    /** Messages per second of each timed sample. */
    readonly samples: number[];
  };
  /** Ping-pong with ping written with the AssemblyScript SDK (test/guests/ping.ts): what a typical guest gets. */
  readonly pingPongSdk?: {
    readonly messagesPerSecond: number;
    readonly pingFuelPerRoundTrip: number;
    readonly samples: number[];
  };
  readonly hostCall?: {
    readonly calls: number;
    /** Median host `call`s per second to the pong actor (awaited one after the other). */
    readonly callsPerSecond: number;
    readonly callUs: number;
    readonly samples: number[];
  };
  readonly spawn?: {
    readonly actors: number;
    /** Median `hive.spawn` calls per second (instantiation and start function included). */
    readonly spawnsPerSecond: number;
    /** Median actors per second spawned and run to their first receive (`await hive.idle()`). */
    readonly startedPerSecond: number;
    /** Median ms to kill them all, and kills per second. */
    readonly killMs: number;
    readonly killsPerSecond: number;
  };
  readonly memory?: IdleMemoryResult;
  readonly fairness?: {
    readonly spinners: number;
    readonly fuelPerSlice: number;
    /** Host call latency to pong, ms. */
    readonly idle: Percentiles;
    readonly spinning: Percentiles;
    readonly calls: number;
    readonly callsSpinning: number;
    /** Mean wasm ping-pong round trip, ms, without and with the spinners. */
    readonly roundTripMs: number | null;
    readonly roundTripMsSpinning: number;
    /** Wall ms of one slice of a spinner (fuelPerSlice at the spinners' measured speed). */
    readonly sliceMs: number;
  };
  readonly snapshots?: ActorSnapshotResult[];
  readonly spawnScale?: SpawnScaleResult;
  /** The figures of issue 11's bars that were measured (ACTOR_BARS). */
  readonly bars: {
    spawnsPerSecond?: Bar;
    spawnFlatness?: Bar;
    pingPongMessagesPerSecond?: Bar;
    idleActorBytes?: Bar;
  };
}

const GUESTS = ['ping', 'ping-raw', 'pong', 'counter', 'spinner', 'probe', 'svc'] as const;
type GuestName = (typeof GUESTS)[number];

/** The guest modules of test/guests, compiled once. */
function loadGuests(): Record<GuestName, Module> {
  const dir = join(packageRoot(), 'test', 'guests');
  const out = {} as Record<GuestName, Module>;
  for (const g of GUESTS) out[g] = new Module(new Uint8Array(readFileSync(join(dir, `${g}.wasm`))));
  return out;
}

function newHive(guests: Record<GuestName, Module>, fuelPerSlice?: number, maxActors?: number): Hive {
  const hive = new Hive({
    logger: pino({ level: 'silent' }),
    ...(fuelPerSlice !== undefined ? { limits: { fuelPerSlice } } : {}),
    ...(maxActors !== undefined ? { hiveLimits: { maxActors } } : {}),
  });
  for (const g of GUESTS) hive.define(g, guests[g]);
  return hive;
}

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentiles of a list of ms. */
function percentiles(xs: readonly number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: round(at(0.5), 3), p90: round(at(0.9), 3), p99: round(at(0.99), 3), max: round(s[s.length - 1]!, 3) };
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------------------
// Ping-pong

/** One ping <-> pong run of n round trips: wall ms and each side's fuel. */
async function pingPongOnce(hive: Hive, n: number, pinger: GuestName = 'ping-raw'): Promise<{ ms: number; pingFuel: number; pongFuel: number }> {
  const inbox = hive.inbox<number>();
  const pong = hive.spawn('pong');
  await hive.idle();
  const pongFuel0 = pong.info()!.fuelUsed;
  let pingFuel = -1;
  const onExit = (e: { id: number; fuelUsed: number }): void => {
    if (e.id === ping.id) pingFuel = e.fuelUsed;
  };
  hive.on('exited', onExit);
  const t0 = now();
  const ping: ActorRef = hive.spawn(pinger, { init: { peer: pong, n, report: inbox.ref } });
  const got = await inbox.next();
  const ms = now() - t0;
  const reason = await ping.exited;
  hive.off('exited', onExit);
  if (got !== n || reason !== 'normal') throw new Error(`actors bench: ping reported ${String(got)} and exited with ${reason}, expected ${n} and normal`);
  const pongFuel = pong.info()!.fuelUsed - pongFuel0;
  pong.kill();
  inbox.close();
  return { ms, pingFuel, pongFuel };
}

/**
 * Runs ping-pong for at least `plan.speedMs` (and one run of half a sample):
 * V8 compiles the interpreter loop in the background, for the guests it has
 * seen, and a warm-up of one short run (30 ms) sometimes ended before that,
 * leaving the first samples at half speed (median 383,000 msg/s in a run
 * whose SDK figure, measured after it, was 537,000).
 */
async function warmPingPong(hive: Hive, plan: ActorsPlan, pinger: GuestName): Promise<void> {
  const until = now() + plan.speedMs;
  do await pingPongOnce(hive, Math.max(1, plan.roundTrips >> 1), pinger);
  while (now() < until);
}

/**
 * Fuel per second of the interpreter: one spinner alone for `ms`, after as
 * long a warm-up. (Right after another guest ran, V8 re-optimizes the
 * interpreter loop for this one: measured, the first 100-150 ms run at a few
 * percent of the steady speed.)
 */
async function fuelPerSecond(hive: Hive, ms: number): Promise<number> {
  const spinner = hive.spawn('spinner');
  await sleep(Math.max(200, ms));
  const f0 = spinner.info()!.fuelUsed;
  const t0 = now();
  await sleep(ms);
  const f1 = spinner.info()!.fuelUsed;
  const t1 = now();
  spinner.kill();
  return (f1 - f0) / ((t1 - t0) / 1000);
}

async function hostCallsOnce(pong: ActorRef, n: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i++) {
    if ((await pong.call(i)) !== i) throw new Error('actors bench: pong answered something else');
  }
  return now() - t0;
}

// ---------------------------------------------------------------------------
// Spawning

async function spawnOnce(guests: Record<GuestName, Module>, n: number): Promise<{ spawnMs: number; startMs: number; killMs: number }> {
  const hive = newHive(guests);
  try {
    const refs: ActorRef[] = new Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) refs[i] = hive.spawn('counter');
    const t1 = now();
    await hive.idle();
    const t2 = now();
    for (const r of refs) r.kill();
    const t3 = now();
    if (hive.actorIds().length !== 0) throw new Error('actors bench: counters left alive after kill');
    return { spawnMs: t1 - t0, startMs: t2 - t0, killMs: t3 - t2 };
  } finally {
    hive.close();
  }
}

/**
 * Spawns `n` counters into one hive in one synchronous loop (as a host
 * script would), timing each block of `block`, then lets the executor start
 * them all while a probe records the event loop's longest delay.
 */
async function spawnScale(guests: Record<GuestName, Module>, n: number, block: number): Promise<SpawnScaleResult> {
  // A warm-up of one block in a hive of its own, so that the first block timed is not the JIT's
  // (run alone, it was half the speed of the next: a last/first ratio over 2 that says nothing).
  const warm = newHive(guests, undefined, block + 16);
  for (let i = 0; i < block; i++) warm.spawn('counter');
  await warm.idle();
  warm.close();
  const hive = newHive(guests, undefined, n + 16);
  const gc = gcFunction();
  try {
    gc?.();
    const rss0 = process.memoryUsage().rss;
    const refs: ActorRef[] = new Array(n);
    const blocks: number[] = [];
    const t0 = now();
    let tb = t0;
    for (let i = 0; i < n; i++) {
      refs[i] = hive.spawn('counter');
      if ((i + 1) % block === 0 || i === n - 1) {
        const t = now();
        blocks.push(((i % block) + 1) / ((t - tb) / 1000));
        tb = t;
      }
    }
    const t1 = now();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await hive.idle();
    delay.disable();
    const t2 = now();
    for (const r of [refs[0]!, refs[n - 1]!]) {
      if (r.info()?.waiting !== 'receive') throw new Error(`actors bench: counter ${r.id} is not waiting in receive`);
    }
    const first = blocks[0]!;
    const last = blocks[blocks.length - 1]!;
    return {
      actors: n,
      block,
      perSecond: round(n / ((t1 - t0) / 1000)),
      blocksPerSecond: blocks.map((b) => round(b)),
      firstBlockPerSecond: round(first),
      lastBlockPerSecond: round(last),
      flatness: round(last / first, 3),
      startMs: round(t2 - t1, 1),
      maxEventLoopDelayMs: round(delay.max / 1e6, 1),
      rssBytesPerActor: round((process.memoryUsage().rss - rss0) / n),
    };
  } finally {
    hive.close();
  }
}

// ---------------------------------------------------------------------------
// Memory per idle actor


/** Spawns n idle counters in a fresh hive and measures what they add to the process. */
export async function measureIdleMemory(n: number, measuredIn: string): Promise<IdleMemoryResult> {
  const gc = gcFunction();
  const guests = loadGuests();
  const hive = newHive(guests);
  const usage = async (): Promise<NodeJS.MemoryUsage> => {
    await new Promise((r) => setImmediate(r));
    if (gc !== null) {
      gc();
      gc();
    }
    return process.memoryUsage();
  };
  try {
    // Warm up the code paths (and let their garbage go) before the baseline.
    const warm = Array.from({ length: Math.min(100, n) }, () => hive.spawn('counter'));
    await hive.idle();
    for (const r of warm) r.kill();
    const before = await usage();
    const refs: ActorRef[] = new Array(n);
    for (let i = 0; i < n; i++) refs[i] = hive.spawn('counter');
    await hive.idle();
    const after = await usage();
    for (const r of refs) {
      if (r.info()?.waiting !== 'receive') throw new Error(`actors bench: counter ${r.id} is not waiting in receive`);
    }
    const per = (k: 'rss' | 'heapUsed' | 'external' | 'arrayBuffers'): number => round((after[k] - before[k]) / n);
    return {
      actors: n,
      measuredIn,
      gc: gc !== null,
      rssBytes: per('rss'),
      heapUsedBytes: per('heapUsed'),
      externalBytes: per('external'),
      arrayBuffersBytes: per('arrayBuffers'),
      // V8's external memory leaves out SharedArrayBuffers (small wasm memories, see vm/runtime.ts), Node's arrayBuffers has them.
      totalBytes: round((after.heapUsed + Math.max(after.external, after.arrayBuffers) - before.heapUsed - Math.max(before.external, before.arrayBuffers)) / n),
      wasmMemoryBytes: refs[0]!.info()!.memoryPages * 65536,
    };
  } finally {
    hive.close();
  }
}

/** Runs `measureIdleMemory` in `node --expose-gc` on this file, when it is built JavaScript. */
function idleMemoryInChild(n: number): Promise<IdleMemoryResult> | null {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.js')) return null; // run from source (tests): no child
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', self, '--idle-memory', String(n)], { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`the memory child process failed: ${err.message}${stderr ? `\n${stderr}` : ''}`));
      try {
        const lines = stdout.trim().split('\n');
        resolve(JSON.parse(lines[lines.length - 1]!) as IdleMemoryResult);
      } catch (e) {
        reject(new Error(`the memory child process printed no result: ${(e as Error).message}\n${stdout}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Fairness

async function callLatencies(pong: ActorRef, n: number): Promise<number[]> {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await pong.call(i, { timeout: 60_000 });
    out[i] = now() - t0;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Snapshots

/** Pseudo-random words (a 32-bit LCG) into bytes [from, to) of a memory. */
function scribble(bytes: Uint8Array, from: number, to: number, seed: number): void {
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + from, (to - from) >> 2);
  let x = seed | 0;
  for (let i = 0; i < words.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    words[i] = x;
  }
}

/** Times snapshot and restore of one actor; `check` verifies one restored copy. */
async function snapshotActor(
  hive: Hive,
  other: Hive,
  ref: ActorRef,
  actor: string,
  samples: number,
  check: (restored: ActorRef) => Promise<void>,
): Promise<ActorSnapshotResult> {
  await hive.idle();
  let bytes: Uint8Array = new Uint8Array();
  const snapTimes: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    bytes = hive.snapshot(ref);
    snapTimes.push(now() - t0);
  }
  const restoreTimes: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    const back = other.restore(bytes, { id: 'new', name: null });
    restoreTimes.push(now() - t0);
    if (s === 0) await check(back);
    back.kill();
  }
  return {
    actor,
    memoryBytes: ref.info()!.memoryPages * 65536,
    snapshotMs: round(median(snapTimes), 3),
    bytes: bytes.length,
    restoreMs: round(median(restoreTimes), 3),
  };
}

// ---------------------------------------------------------------------------
// Printing

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en');
}

function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function fmtKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function fmtSize(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(0)} MiB` : fmtKiB(bytes);
}

/** A row of label + value + detail, aligned. */
function row(label: string, value: string, detail = ''): string {
  return `${label.padEnd(34)}  ${value.padStart(14)}  ${detail}`.trimEnd();
}

// ---------------------------------------------------------------------------
// The benchmark

/**
 * Runs the actor benchmark with a plan, printing a table through `print` as
 * it goes; resolves with the figures. Throws when a guest misbehaves.
 */
export async function benchActors(
  plan: ActorsPlan,
  print: (line: string) => void = console.log,
  figures: ReadonlySet<ActorFigure> = new Set(ACTOR_FIGURES),
): Promise<ActorsResult> {
  const guests = loadGuests();
  const { samples } = plan;
  print(`actors: test/guests on the inline executor (one thread); throughputs are medians of ${samples} samples after a warm-up`);
  print('');

  // 1. Ping-pong between two wasm actors, and host calls.
  let ping: ActorsResult['pingPong'];
  let pingSdk: ActorsResult['pingPongSdk'];
  let hostCall: ActorsResult['hostCall'];
  let rtFairMs: number | null = null;
  if (figures.has('pingpong')) {
    const hive = newHive(guests, plan.fuelPerSlice);
    try {
      await warmPingPong(hive, plan, 'ping-raw');
      const runs: { ms: number; pingFuel: number; pongFuel: number }[] = [];
      for (let s = 0; s < samples; s++) runs.push(await pingPongOnce(hive, plan.roundTrips));
      const rates = runs.map((r) => (2 * plan.roundTrips) / (r.ms / 1000));
      const msgs = median(rates);
      const rtUs = (2 / msgs) * 1e6;
      const fps = await fuelPerSecond(hive, plan.speedMs);
      const pingF = median(runs.map((r) => r.pingFuel)) / plan.roundTrips;
      const pongF = median(runs.map((r) => r.pongFuel)) / plan.roundTrips;
      ping = {
        roundTrips: plan.roundTrips,
        messagesPerSecond: round(msgs),
        roundTripUs: round(rtUs, 2),
        pingFuelPerRoundTrip: round(pingF, 1),
        pongFuelPerRoundTrip: round(pongF, 1),
        fuelPerSecond: round(fps),
        guestShare: round(((pingF + pongF) / fps) * 1e6 / rtUs, 3),
        samples: rates.map((r) => round(r)),
      };
      rtFairMs = rtUs / 1000;
      print(row('ping <-> pong, wasm to wasm (raw ABI)', `${fmtInt(msgs)} msg/s`, `${fmtInt(plan.roundTrips)} round trips a sample, ${rtUs.toFixed(1)} us per round trip`));
      print(
        row(
          '  guest fuel per round trip',
          `${fmtInt(pingF + pongF)}`,
          `ping ${pingF.toFixed(0)}, pong ${pongF.toFixed(0)}; at ${(fps / 1e6).toFixed(0)}M fuel/s that is ${(100 * ping.guestShare).toFixed(0)}% of the time, the rest is the runtime`,
        ),
      );

      await warmPingPong(hive, plan, 'ping');
      const sdkRuns: { ms: number; pingFuel: number }[] = [];
      for (let s = 0; s < samples; s++) sdkRuns.push(await pingPongOnce(hive, plan.roundTrips, 'ping'));
      const sdkRates = sdkRuns.map((r) => (2 * plan.roundTrips) / (r.ms / 1000));
      const sdkPingF = median(sdkRuns.map((r) => r.pingFuel)) / plan.roundTrips;
      pingSdk = { messagesPerSecond: round(median(sdkRates)), pingFuelPerRoundTrip: round(sdkPingF, 1), samples: sdkRates.map((r) => round(r)) };
      print(row('  the same, ping with the AS SDK', `${fmtInt(pingSdk.messagesPerSecond)} msg/s`, `send<i32> and receive<i32>: ping ${sdkPingF.toFixed(0)} fuel per round trip`));

      const pong = hive.spawn('pong');
      await hostCallsOnce(pong, Math.max(1, plan.hostCalls >> 1));
      const callRates: number[] = [];
      for (let s = 0; s < samples; s++) callRates.push(plan.hostCalls / ((await hostCallsOnce(pong, plan.hostCalls)) / 1000));
      const cps = median(callRates);
      hostCall = { calls: plan.hostCalls, callsPerSecond: round(cps), callUs: round(1e6 / cps, 2), samples: callRates.map((r) => round(r)) };
      print(row('host call -> pong, awaited in turn', `${fmtInt(cps)} calls/s`, `${fmtInt(plan.hostCalls)} calls a sample, ${(1e6 / cps).toFixed(1)} us per call`));
      pong.kill();
    } finally {
      hive.close();
    }
  }

  // 2. Spawning and killing.
  let spawn: ActorsResult['spawn'];
  if (figures.has('spawn')) {
    await spawnOnce(guests, Math.max(1, plan.spawnActors >> 2));
    const spawns: { spawnMs: number; startMs: number; killMs: number }[] = [];
    for (let s = 0; s < samples; s++) spawns.push(await spawnOnce(guests, plan.spawnActors));
    const n = plan.spawnActors;
    const spawnMs = median(spawns.map((x) => x.spawnMs));
    const startMs = median(spawns.map((x) => x.startMs));
    const killMs = median(spawns.map((x) => x.killMs));
    spawn = {
      actors: n,
      spawnsPerSecond: round(n / (spawnMs / 1000)),
      startedPerSecond: round(n / (startMs / 1000)),
      killMs: round(killMs, 3),
      killsPerSecond: round(n / (killMs / 1000)),
    };
    print(row('spawn counters', `${fmtInt(spawn.spawnsPerSecond)} /s`, `${fmtInt(n)} hive.spawn() calls (instantiation + start function), ${fmtMs(spawnMs)} ms`));
    print(row('  ...and run to their first receive', `${fmtInt(spawn.startedPerSecond)} /s`, `${fmtMs(startMs)} ms until hive.idle()`));
    print(row('kill them', `${fmtInt(spawn.killsPerSecond)} /s`, `${fmtMs(killMs)} ms for ${fmtInt(n)} ref.kill()`));
  }

  // 3. Memory per idle actor.
  let memory: IdleMemoryResult | undefined;
  if (figures.has('memory')) {
    if (plan.memoryInChild) {
      const child = idleMemoryInChild(plan.idleActors);
      if (child !== null) memory = await child;
    }
    memory ??= await measureIdleMemory(plan.idleActors, 'in process');
    print(
      row(
        'memory per idle counter',
        fmtKiB(memory.rssBytes) + ' rss',
        `${fmtInt(memory.actors)} counters waiting in receive (${memory.measuredIn}${memory.gc ? ', after gc' : ', no gc'}): ` +
          `JS heap ${fmtKiB(memory.heapUsedBytes)} + external ${fmtKiB(memory.externalBytes)} (array buffers ${fmtKiB(memory.arrayBuffersBytes)}; wasm memory ${fmtKiB(memory.wasmMemoryBytes)})`,
      ),
    );
  }

  // 4. Fairness: latency with spinners.
  let fairness: ActorsResult['fairness'];
  if (figures.has('fairness')) {
    const fhive = newHive(guests, plan.fuelPerSlice);
    try {
      const pong = fhive.spawn('pong');
      await callLatencies(pong, Math.min(200, plan.latencyCalls));
      const idle = percentiles(await callLatencies(pong, plan.latencyCalls));
      const spinners = Array.from({ length: plan.spinners }, () => fhive.spawn('spinner'));
      await sleep(Math.max(200, plan.speedMs)); // let V8 re-optimize the interpreter for the spinners
      const spun0 = spinners.reduce((s, r) => s + r.info()!.fuelUsed, 0);
      const t0 = now();
      const spinning = percentiles(await callLatencies(pong, plan.latencyCallsSpinning));
      const spinFps = (spinners.reduce((s, r) => s + r.info()!.fuelUsed, 0) - spun0) / ((now() - t0) / 1000);
      const inbox = fhive.inbox<number>();
      const t1 = now();
      fhive.spawn('ping', { init: { peer: pong, n: plan.roundTripsSpinning, report: inbox.ref } });
      if ((await inbox.next({ timeout: 600_000 })) !== plan.roundTripsSpinning) throw new Error('actors bench: ping reported a wrong count');
      const rtSpin = (now() - t1) / plan.roundTripsSpinning;
      for (const s of spinners) {
        if (!s.alive) throw new Error('actors bench: a spinner exited');
        s.kill();
      }
      fairness = {
        spinners: plan.spinners,
        fuelPerSlice: plan.fuelPerSlice,
        idle,
        spinning,
        calls: plan.latencyCalls,
        callsSpinning: plan.latencyCallsSpinning,
        roundTripMs: rtFairMs === null ? null : round(rtFairMs, 4),
        roundTripMsSpinning: round(rtSpin, 3),
        sliceMs: round((plan.fuelPerSlice / spinFps) * 1000, 4),
      };
    } finally {
      fhive.close();
    }
    print('');
    print(`fairness: host call -> pong latency, ms, with ${fairness.spinners} actors spinning forever (fuel slice ${fmtInt(fairness.fuelPerSlice)} for every actor)`);
    const lat = (label: string, p: Percentiles, calls: number): string =>
      `${label.padEnd(22)}  ${[p.p50, p.p90, p.p99, p.max].map((x) => fmtMs(x).padStart(8)).join('  ')}  ${fmtInt(calls).padStart(7)}`;
    print(`${''.padEnd(22)}  ${['p50', 'p90', 'p99', 'max'].map((x) => x.padStart(8)).join('  ')}  ${'calls'.padStart(7)}`);
    print(lat('no spinners', fairness.idle, fairness.calls));
    print(lat(`${fairness.spinners} spinners`, fairness.spinning, fairness.callsSpinning));
    print(
      `wasm ping-pong round trip: ${fairness.roundTripMs === null ? '-' : fmtMs(fairness.roundTripMs)} ms alone, ${fmtMs(fairness.roundTripMsSpinning)} ms with the spinners ` +
        `(one spinner slice = ${fmtMs(fairness.sliceMs)} ms, a round of ${fairness.spinners} = ${fmtMs(fairness.sliceMs * fairness.spinners)} ms)`,
    );
  }

  // 5. Snapshots of one actor.
  let snapshots: ActorSnapshotResult[] | undefined;
  if (figures.has('snapshots')) {
    print('');
    print(`snapshot of one actor (hive.snapshot) and restore into a second hive: median ms of ${plan.snapshotSamples}`);
    print(`${'actor'.padEnd(40)}  ${'memory'.padStart(8)}  ${'snapshot ms'.padStart(11)}  ${'bytes'.padStart(10)}  ${'restore ms'.padStart(10)}`);
    const shive = newHive(guests);
    const other = newHive(guests);
    const snaps: ActorSnapshotResult[] = [];
    snapshots = snaps;
    const printSnap = (r: ActorSnapshotResult): void => {
      snaps.push(r);
      print(`${r.actor.padEnd(40)}  ${fmtSize(r.memoryBytes).padStart(8)}  ${fmtMs(r.snapshotMs).padStart(11)}  ${String(r.bytes).padStart(10)}  ${fmtMs(r.restoreMs).padStart(10)}`);
    };
    try {
      const counter = shive.spawn<string, string>('counter');
      for (let i = 0; i < 100; i++) await counter.call('up');
      printSnap(
        await snapshotActor(shive, other, counter, 'counter after 100 messages', Math.max(plan.snapshotSamples, 9), async (back) => {
          const v = await back.call('up');
          if (v !== 'value=101') throw new Error(`actors bench: the restored counter answered ${String(v)}, expected value=101`);
        }),
      );
      for (const mib of plan.snapshotMiB) {
        for (const fill of ['zero', 'random'] as const) {
          const probe = shive.spawn('probe', { limits: { maxMemoryPages: Math.max(256, mib * 16) } });
          for (let i = 0; i < 3; i++) await probe.call(['inc']);
          const pages0 = probe.info()!.memoryPages;
          const want = mib * 16;
          if (want > pages0 && (await probe.call(['grow', want - pages0])) !== pages0) throw new Error(`actors bench: the probe could not grow to ${mib} MiB`);
          if (fill === 'random') {
            const mem = systemOf(shive).actor(probe.id)?.mem;
            if (mem == null) throw new Error('actors bench: the probe has no memory');
            // Only the grown pages: the guest never uses them (its allocator grows memory on its own).
            scribble(mem.bytes(), pages0 * 65536, want * 65536, mib);
          }
          const label = `probe grown to ${mib} MiB, ${fill === 'zero' ? 'new pages zero' : 'new pages random'}`;
          printSnap(
            await snapshotActor(shive, other, probe, label, plan.snapshotSamples, async (back) => {
              if ((await back.call(['get'])) !== 3) throw new Error('actors bench: the restored probe lost its counter');
              if (fill === 'random') {
                // The scribbled pages (the rest changed when the copy answered).
                const a = systemOf(shive).actor(probe.id)!.mem!.bytes().subarray(pages0 * 65536, want * 65536);
                const b = systemOf(other).actor(back.id)!.mem!.bytes().subarray(pages0 * 65536, want * 65536);
                if (!Buffer.from(a).equals(Buffer.from(b))) throw new Error(`actors bench: the restored probe's memory of ${mib} MiB differs`);
              }
            }),
          );
          probe.kill();
        }
      }
    } finally {
      shive.close();
      other.close();
    }
  }

  // 6. Spawn scale (last: it leaves the process holding the most memory).
  let spawnScaleResult: SpawnScaleResult | undefined;
  if (figures.has('scale')) {
    const r = await spawnScale(guests, plan.scaleActors, plan.scaleBlock);
    spawnScaleResult = r;
    print('');
    print(
      row(
        `spawn ${fmtInt(r.actors)} counters, kept alive`,
        `${fmtInt(r.perSecond)} /s`,
        `per ${fmtInt(r.block)}: first ${fmtInt(r.firstBlockPerSecond)} /s, last ${fmtInt(r.lastBlockPerSecond)} /s (last/first ${r.flatness.toFixed(2)})`,
      ),
    );
    print(row('  every block', '', r.blocksPerSecond.map(fmtInt).join(' ')));
    print(row('  ...and run to their first receive', `${fmtMs(r.startMs)} ms`, `event loop held at most ${fmtMs(r.maxEventLoopDelayMs)} ms at once; rss ${fmtKiB(r.rssBytesPerActor)} per actor`));
  }

  // 7. The worker pool (issue 12).
  let pool: PoolResult | undefined;
  if (figures.has('pool')) {
    print('');
    pool = await benchPool(plan.pool, { 'ping-raw': guests['ping-raw'], pong: guests.pong, counter: guests.counter, spinner: guests.spinner }, print);
    const b = pool.bars;
    print(`issue 12's bars: ${Object.entries(b).map(([k, v]) => `${k} ${v.value} (bar ${v.bar}) ${v.met ? 'met' : 'NOT met'}`).join('; ')}`);
  }

  // 8. Native services (issue 13).
  let services: ServicesResult | undefined;
  if (figures.has('services')) {
    print('');
    services = await benchServices(plan.services, guests.svc, print);
    print(`issue 13's bar: callsPerSecond ${services.callsPerSecond} (bar ${services.bars['callsPerSecond']!.bar}) ${services.bars['callsPerSecond']!.met ? 'met' : 'NOT met'}`);
  }

  // 9. Durable actors (issue 14): last, it leaves the most behind (a million passivated actors in the full run).
  let durable: DurableResult | undefined;
  if (figures.has('durable')) {
    print('');
    durable = await benchDurable(plan.durable, guests.counter, print);
    print(`issue 14's bars: ${Object.entries(durable.bars).map(([k, v]) => `${k} ${v.value} (bar ${v.bar}) ${v.met ? 'met' : 'NOT met'}`).join('; ')}`);
  }

  const bar = (value: number, want: number, atMost = false): Bar => ({ value, bar: want, met: atMost ? value <= want : value >= want });
  const bars: ActorsResult['bars'] = {};
  if (spawnScaleResult !== undefined) {
    bars.spawnsPerSecond = bar(spawnScaleResult.perSecond, ACTOR_BARS.spawnsPerSecond);
    bars.spawnFlatness = bar(spawnScaleResult.flatness, ACTOR_BARS.spawnFlatness);
  }
  if (ping !== undefined) bars.pingPongMessagesPerSecond = bar(ping.messagesPerSecond, ACTOR_BARS.pingPongMessagesPerSecond);
  if (memory !== undefined) bars.idleActorBytes = bar(memory.rssBytes, ACTOR_BARS.idleActorBytes, true);
  const names = Object.keys(bars) as (keyof typeof bars)[];
  if (names.length > 0) {
    print('');
    print(`issue 11's bars: ${names.map((k) => `${k} ${fmtInt(bars[k]!.value * (k === 'spawnFlatness' ? 100 : 1))}${k === 'spawnFlatness' ? '%' : ''} ${bars[k]!.met ? 'met' : 'NOT met'}`).join('; ')}`);
  }

  return {
    samples,
    ...(ping !== undefined ? { pingPong: ping } : {}),
    ...(pingSdk !== undefined ? { pingPongSdk: pingSdk } : {}),
    ...(hostCall !== undefined ? { hostCall } : {}),
    ...(spawn !== undefined ? { spawn } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(fairness !== undefined ? { fairness } : {}),
    ...(snapshots !== undefined ? { snapshots } : {}),
    ...(spawnScaleResult !== undefined ? { spawnScale: spawnScaleResult } : {}),
    ...(pool !== undefined ? { pool } : {}),
    ...(services !== undefined ? { services } : {}),
    ...(durable !== undefined ? { durable } : {}),
    bars,
  };
}

/** The one-line JSON summary of the actor figures (without per-sample lists). */
export function actorsJsonLine(r: ActorsResult): string {
  return JSON.stringify({ actors: r }, (key, value: unknown) => (key === 'samples' && Array.isArray(value) ? undefined : value));
}

// The memory child process: `node --expose-gc actors.js --idle-memory N` prints one JSON line.
if (isMainModule(import.meta.url) && process.argv[2] === '--idle-memory') {
  const n = Number(process.argv[3]);
  runMain(async () => {
    const r = await measureIdleMemory(Number.isInteger(n) && n > 0 ? n : 10_000, 'child process');
    process.stdout.write(JSON.stringify(r) + '\n');
  });
}
