/**
 * The worker pool's figures (issue 12), part of the actors benchmark: under
 * `actors.pool` in the JSON report.
 *   - scaling: fuel per second of CPU-bound actors (spinners) on two workers
 *     over one worker, in the same run (the median of the ratios of samples
 *     taken in turn);
 *   - crossWorkerMessagesPerSecond: ping-pong between actors on different
 *     workers (`pairs` pairs at once; single pair reported beside it);
 *   - sameWorkerMessagesPerSecond: one ping-pong pair on one worker, and its
 *     ratio to the inline executor's (the median of the ratios of samples
 *     taken in turn);
 *   - migrationMs: p50 of moving an idle counter to the other worker (after as
 *     many moves of warm-up);
 *   - hostCallsPerSecond: host calls to an actor on a worker, awaited in turn.
 */
import { pino } from 'pino';
import type { Module } from '../vm/index.js';
import { Hive, WorkerPool, type ActorRef } from '../actors/index.js';
import { median } from './measure.js';

/** Sizes of the pool figures. */
export interface PoolPlan {
  readonly samples: number;
  readonly roundTrips: number;
  readonly pairs: number;
  readonly spinners: number;
  readonly spinMs: number;
  readonly migrations: number;
  readonly hostCalls: number;
  /** Milliseconds of ping-pong on each worker before the same-worker samples. */
  readonly warmMs: number;
}

/** The pool's figures. */
export interface PoolResult {
  /** workers: 2 over workers: 1, fuel per second of `spinners` spinning actors: the median of the ratios of samples taken in turn. */
  scaling: number;
  fuelPerSecondOneWorker: number;
  fuelPerSecondTwoWorkers: number;
  /** Messages per second of `pairs` ping-pong pairs at once, each pair's actors on different workers. */
  crossWorkerMessagesPerSecond: number;
  crossWorkerPairs: number;
  /** The same with one pair. */
  crossWorkerOnePairMessagesPerSecond: number;
  /** One pair on one worker. */
  sameWorkerMessagesPerSecond: number;
  /** One pair on one worker over the inline executor's one pair, sampled in turn: the median of the ratios of the pairs of samples. */
  sameWorkerOverInline: number;
  /** The inline executor's one-pair ping-pong, sampled in turn with the same-worker one. */
  inlineMessagesPerSecond: number;
  /** p50 and p90 ms of moving an idle counter between the workers. */
  migrationMs: number;
  migrationP90Ms: number;
  /** Host calls to pong on a worker, awaited in turn. */
  hostCallsPerSecond: number;
  bars: Record<string, { value: number | null; bar: number; met: boolean }>;
}

/** Issue 12's bars. */
export const POOL_BARS = { scaling: 1.7, crossWorkerMessagesPerSecond: 100_000, sameWorkerOverInline: 0.9, migrationMs: 2 } as const;

type Guests = Record<'ping-raw' | 'pong' | 'counter' | 'spinner', Module>;

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pooledHive(threads: WorkerPool, guests: Guests): Hive {
  const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }) });
  for (const [name, m] of Object.entries(guests)) hive.define(name, m);
  return hive;
}

/** `pairs` ping-pong pairs at once, ping on worker `pingOn`, pong on `pongOn`: messages per second. */
async function pingPong(hive: Hive, pairs: number, roundTrips: number, pingOn: number, pongOn: number): Promise<number> {
  const inbox = hive.inbox<number>();
  const pongs = Array.from({ length: pairs }, () => hive.spawn('pong', { worker: pongOn }));
  await hive.idle();
  const t0 = now();
  const pings = pongs.map((pong) => hive.spawn('ping-raw', { worker: pingOn, init: { peer: pong, n: roundTrips, report: inbox.ref } }));
  for (let i = 0; i < pairs; i++) {
    const got = await inbox.next();
    if (got !== roundTrips) throw new Error(`pool bench: ping reported ${String(got)}, expected ${roundTrips}`);
  }
  const ms = now() - t0;
  await Promise.all(pings.map((p) => p.exited));
  for (const p of pongs) p.kill();
  inbox.close();
  return (2 * roundTrips * pairs) / (ms / 1000);
}

/** Fuel per second of `n` spinners on a hive with `threads`. */
async function spinFuel(threads: WorkerPool, guests: Guests, n: number, ms: number): Promise<number> {
  const hive = pooledHive(threads, guests);
  try {
    const spinners = Array.from({ length: n }, (_, i) => hive.spawn('spinner', { worker: i % threads.threads }));
    await sleep(Math.max(200, ms / 2)); // warm-up: V8 compiles the loop in each thread
    const fuel = (): number => spinners.reduce((s, a) => s + a.info()!.fuelUsed, 0);
    const f0 = fuel();
    const t0 = now();
    await sleep(ms);
    const f1 = fuel();
    const t1 = now();
    return (f1 - f0) / ((t1 - t0) / 1000);
  } finally {
    hive.close();
  }
}

async function hostCalls(pong: ActorRef, n: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i++) if ((await pong.call(i)) !== i) throw new Error('pool bench: pong answered something else');
  return n / ((now() - t0) / 1000);
}

/**
 * Waits until this process uses less than a tenth of a core (at most 10 s):
 * after a thread's warm-up V8 compiles the interpreter's loop in the
 * background, about a second of CPU per thread, which would fall into the
 * first samples. Returns the ms waited.
 */
async function quiet(): Promise<number> {
  const t0 = now();
  for (;;) {
    const c0 = process.cpuUsage();
    const s = now();
    await sleep(100);
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 / (now() - s) < 0.1 || now() - t0 > 10_000) return now() - t0;
  }
}

/** Runs the pool's figures. */
export async function benchPool(plan: PoolPlan, guests: Guests, print: (line: string) => void): Promise<PoolResult> {
  const one = new WorkerPool({ threads: 1 });
  const two = new WorkerPool({ threads: 2 });
  try {
    await Promise.all([one.ready(), two.ready()]);
    print(`pool: threads up and warmed; the process was quiet after ${Math.round(await quiet())} ms`);
    // 1. Scaling: the same spinners on one worker, then on two (samples alternate).
    const f1s: number[] = [];
    const f2s: number[] = [];
    for (let s = 0; s < plan.samples; s++) {
      f1s.push(await spinFuel(one, guests, plan.spinners, plan.spinMs));
      f2s.push(await spinFuel(two, guests, plan.spinners, plan.spinMs));
    }
    const f1 = median(f1s);
    const f2 = median(f2s);
    // The median of the ratios of the pairs of samples, taken one after the other: the machine's speed moves
    // between pairs more than within one (a one-worker sample on a quiet moment made the ratio of medians 1.46).
    const scaling = median(f2s.map((f, i) => f / f1s[i]!));
    print(`pool: ${plan.spinners} spinners, 1 worker ${(f1 / 1e6).toFixed(0)}M fuel/s, 2 workers ${(f2 / 1e6).toFixed(0)}M fuel/s: scaling ${scaling.toFixed(2)}`);

    const hive = pooledHive(two, guests);
    try {
      // 2. Ping-pong across the workers, and on one worker (warm-ups first).
      // The pairs share a sample of 4 x roundTrips round trips.
      const perPair = Math.max(100, Math.round((4 * plan.roundTrips) / plan.pairs));
      await pingPong(hive, plan.pairs, perPair >> 1, 0, 1);
      const cross: number[] = [];
      for (let s = 0; s < plan.samples; s++) cross.push(await pingPong(hive, plan.pairs, perPair, s % 2, 1 - (s % 2)));
      const crossOne: number[] = [];
      for (let s = 0; s < plan.samples; s++) crossOne.push(await pingPong(hive, 1, plan.roundTrips, s % 2, 1 - (s % 2)));
      // Each worker's V8 compiles the interpreter loop for these guests in the background: at least
      // warmMs of ping-pong on each, as the inline figure does (a short warm-up left it at half speed).
      // (And at least three runs: measured, the first runs of a fresh thread go at 12% and 31% of its speed.)
      for (const w of [0, 1]) {
        const until = now() + plan.warmMs;
        let runs = 0;
        do await pingPong(hive, 1, plan.roundTrips >> 1, w, w);
        while (++runs < 3 || now() < until);
      }
      // The inline executor's figure, sampled in turn with it (the machine's speed changes over a run).
      const inline = new Hive({ logger: pino({ level: 'silent' }) });
      for (const [name, m] of Object.entries(guests)) inline.define(name, m);
      const same: number[] = [];
      const inlineSame: number[] = [];
      try {
        const until = now() + plan.warmMs;
        let runs = 0;
        do await pingPong(inline, 1, plan.roundTrips >> 1, 0, 0);
        while (++runs < 3 || now() < until);
        // Pairs of samples, one of each in turn: the machine's speed moves between pairs more than within one, so
        // the figure is the median of the pairs' ratios (twice the samples: each is short).
        for (let s = 0; s < 2 * plan.samples - 1; s++) {
          same.push(await pingPong(hive, 1, plan.roundTrips, s % 2, s % 2));
          inlineSame.push(await pingPong(inline, 1, plan.roundTrips, 0, 0));
        }
      } finally {
        inline.close();
      }
      const crossMps = median(cross);
      const sameMps = median(same);
      const inlineMps = median(inlineSame);
      print(`pool: ping-pong across workers ${Math.round(crossMps)} msg/s (${plan.pairs} pairs), ${Math.round(median(crossOne))} msg/s (1 pair); on one worker ${Math.round(sameMps)} msg/s, inline in turn ${Math.round(inlineMps)} msg/s`);

      // 3. Moving an idle counter back and forth.
      const counter = hive.spawn('counter', { worker: 0 });
      await counter.call('up');
      // A warm-up of as many moves first: each worker's V8 compiles the snapshot and restore paths (measured: the
      // first 200 moves of a fresh pair of threads run at about 1.3-1.7x the time of the next 200).
      for (let i = 0; i < plan.migrations; i++) await hive.migrate(counter, (i + 1) % 2);
      const moves: number[] = [];
      for (let i = 0; i < plan.migrations; i++) {
        const t0 = now();
        await hive.migrate(counter, (i + 1) % 2);
        moves.push(now() - t0);
      }
      if ((await counter.call('up')) !== 'value=2') throw new Error('pool bench: the counter lost its count moving');
      moves.sort((a, b) => a - b);
      const p50 = moves[Math.floor(moves.length * 0.5)]!;
      const p90 = moves[Math.floor(moves.length * 0.9)]!;
      print(`pool: moving an idle counter between workers p50 ${p50.toFixed(3)} ms, p90 ${p90.toFixed(3)} ms (${plan.migrations} moves)`);

      // 4. Host calls to an actor on a worker.
      const pong = hive.spawn('pong', { worker: 0 });
      await hostCalls(pong, plan.hostCalls >> 1);
      const calls: number[] = [];
      for (let s = 0; s < plan.samples; s++) calls.push(await hostCalls(pong, plan.hostCalls));
      const cps = median(calls);
      print(`pool: host calls to an actor on a worker ${Math.round(cps)} calls/s`);

      const sameOverInline = median(same.map((v, i) => v / inlineSame[i]!));
      const bar = (value: number | null, b: number, higher = true) => ({ value: value === null ? null : Math.round(value * 1000) / 1000, bar: b, met: value !== null && (higher ? value >= b : value <= b) });
      return {
        scaling: Math.round(scaling * 1000) / 1000,
        fuelPerSecondOneWorker: Math.round(f1),
        fuelPerSecondTwoWorkers: Math.round(f2),
        crossWorkerMessagesPerSecond: Math.round(crossMps),
        crossWorkerPairs: plan.pairs,
        crossWorkerOnePairMessagesPerSecond: Math.round(median(crossOne)),
        sameWorkerMessagesPerSecond: Math.round(sameMps),
        sameWorkerOverInline: Math.round(sameOverInline * 1000) / 1000,
        inlineMessagesPerSecond: Math.round(inlineMps),
        migrationMs: Math.round(p50 * 1000) / 1000,
        migrationP90Ms: Math.round(p90 * 1000) / 1000,
        hostCallsPerSecond: Math.round(cps),
        bars: {
          scaling: bar(scaling, POOL_BARS.scaling),
          crossWorkerMessagesPerSecond: bar(crossMps, POOL_BARS.crossWorkerMessagesPerSecond),
          sameWorkerOverInline: bar(sameOverInline, POOL_BARS.sameWorkerOverInline),
          migrationMs: bar(p50, POOL_BARS.migrationMs, false),
        },
      };
    } finally {
      hive.close();
    }
  } finally {
    await one.close();
    await two.close();
  }
}
