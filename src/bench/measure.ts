/**
 * Timing of one kernel on two engines: warm up each, then take samples of
 * both in turn with `process.hrtime.bigint()` and report each one's median
 * time of one call (measurePair).
 *
 * A sample may batch several calls when one call is too short to time well
 * (V8 on a size picked for the interpreter); the sample's time is then
 * divided by the number of calls, so every figure is "ms per run(n)" and the
 * two engines' figures compare the same work.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { formatResult, sameResult, type RunFn } from './engines.js';

/** How to time one engine. */
export interface MeasureOptions {
  /** Keep warming up until at least this many calls were made... */
  readonly warmupCalls: number;
  /** ...and at least this much time spent (V8 tiers up from Liftoff to TurboFan in the background). */
  readonly warmupMs: number;
  /** Number of samples wanted. */
  readonly samples: number;
  /** Batch calls so that one sample lasts at least this long. */
  readonly minSampleMs: number;
  /** Stop taking samples (after the first) once this much time was spent on them. */
  readonly budgetMs: number;
}

/** What timing one kernel on one engine found. */
export interface Timing {
  /** Median time of one call, in milliseconds. */
  readonly medianMs: number;
  /** Fastest sample's time per call, in milliseconds (less sensitive to a noisy machine). */
  readonly minMs: number;
  /** Every sample's time per call, in milliseconds, in the order taken. */
  readonly samplesMs: number[];
  /** Calls per sample. */
  readonly callsPerSample: number;
  /** Calls made to warm up. */
  readonly warmupCalls: number;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** One engine's side of a paired measurement (see measurePair). */
export interface PairSide {
  readonly run: RunFn;
  readonly expected: unknown;
  readonly opts: MeasureOptions;
  readonly label: string;
  readonly priorCallMs?: number;
}

/**
 * Times two engines on the same `run(n)` with their samples interleaved
 * (a, b, a, b, ...), after each one's warm-up: a machine that is slower for
 * a while (shared, noisy) slows both engines' samples alike, so the ratio of
 * their medians holds better than when one engine is timed after the other.
 * Takes as many rounds as the larger `samples` asks, fewer when the two
 * budgets together are spent (at least the smaller `samples`).
 */
export function measurePair(n: number, a: PairSide, b: PairSide): [Timing, Timing] {
  const sides = [a, b].map((x) => {
    const check = (got: unknown): void => {
      if (!sameResult(got, x.expected)) {
        throw new Error(`${x.label}: run(${n}) returned ${formatResult(got)} on a later call, ${formatResult(x.expected)} before`);
      }
    };
    return { ...x, check, warmupCalls: 0, callsPerSample: 1, samplesMs: [] as number[] };
  });
  for (const x of sides) {
    let lastCallMs = x.priorCallMs ?? Infinity;
    const warmStart = process.hrtime.bigint();
    while (x.warmupCalls < x.opts.warmupCalls || elapsedMs(warmStart) < x.opts.warmupMs) {
      const t0 = process.hrtime.bigint();
      x.check(x.run(n));
      lastCallMs = elapsedMs(t0);
      x.warmupCalls++;
    }
    if (!Number.isFinite(lastCallMs)) {
      const t0 = process.hrtime.bigint();
      x.check(x.run(n));
      lastCallMs = elapsedMs(t0);
    }
    x.callsPerSample = Math.max(1, Math.ceil(x.opts.minSampleMs / Math.max(lastCallMs, 1e-3)));
  }
  const rounds = Math.max(a.opts.samples, b.opts.samples);
  const least = Math.min(a.opts.samples, b.opts.samples);
  const budget = a.opts.budgetMs + b.opts.budgetMs;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    if (r >= least) {
      const spent = elapsedMs(start);
      if (spent + spent / r > budget) break;
    }
    for (const x of sides) {
      let result: unknown;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < x.callsPerSample; i++) result = x.run(n);
      const ms = elapsedMs(t0);
      x.check(result);
      x.samplesMs.push(ms / x.callsPerSample);
    }
  }
  const timing = (x: (typeof sides)[number]): Timing => ({
    medianMs: median(x.samplesMs),
    minMs: Math.min(...x.samplesMs),
    samplesMs: x.samplesMs,
    callsPerSample: x.callsPerSample,
    warmupCalls: x.warmupCalls,
  });
  return [timing(sides[0]!), timing(sides[1]!)];
}

/** A function running a full garbage collection, if one can be had (memory figures measure after it). */
export function gcFunction(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('gc') as unknown;
    return typeof f === 'function' ? (f as () => void) : null;
  } catch {
    return null;
  }
}
