/**
 * Timing of one kernel on one engine: warm up, then take several samples
 * with `process.hrtime.bigint()` and report the median time of one call.
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

/**
 * Time `run(n)`. Every call's result must equal `expected` (a kernel is
 * deterministic for a given n); a differing one throws. `priorCallMs` is the
 * time of a call already made (the correctness check), which sizes the
 * batches when the options ask for no warm-up.
 */
export function measure(
  run: RunFn,
  n: number,
  expected: unknown,
  opts: MeasureOptions,
  label: string,
  priorCallMs?: number,
): Timing {
  const check = (got: unknown): void => {
    if (!sameResult(got, expected)) {
      throw new Error(`${label}: run(${n}) returned ${formatResult(got)} on a later call, ${formatResult(expected)} before`);
    }
  };

  // Warm-up.
  let warmupCalls = 0;
  let lastCallMs = priorCallMs ?? Infinity;
  const warmStart = process.hrtime.bigint();
  while (warmupCalls < opts.warmupCalls || elapsedMs(warmStart) < opts.warmupMs) {
    const t0 = process.hrtime.bigint();
    check(run(n));
    lastCallMs = elapsedMs(t0);
    warmupCalls++;
  }

  // Size the batches from the last call made, or from one extra call if none was.
  if (!Number.isFinite(lastCallMs)) {
    const t0 = process.hrtime.bigint();
    check(run(n));
    lastCallMs = elapsedMs(t0);
  }
  const callsPerSample = Math.max(1, Math.ceil(opts.minSampleMs / Math.max(lastCallMs, 1e-3)));

  // Samples.
  const samplesMs: number[] = [];
  const sampleStart = process.hrtime.bigint();
  while (samplesMs.length < opts.samples) {
    if (samplesMs.length > 0) {
      const spent = elapsedMs(sampleStart);
      const perSample = spent / samplesMs.length;
      if (spent + perSample > opts.budgetMs) break;
    }
    let result: unknown;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < callsPerSample; i++) result = run(n);
    const ms = elapsedMs(t0);
    check(result);
    samplesMs.push(ms / callsPerSample);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs, callsPerSample, warmupCalls };
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
