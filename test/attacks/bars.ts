/**
 * The assertion every attack test makes: run the attack (harness.ts), print
 * its figures, and expect no bar missed.
 */
import { expect } from 'vitest';
import { HANG_AFTER_MS, JIT_WAIT_MS, P99_BAR_MS, figures, missed, runAttack, type AttackOptions, type AttackRun, type Bars } from './harness.js';

/**
 * Runs of one attack when every miss is the latency bar: this machine is
 * shared and has 2 cores, and p99 near the bar moves by tens of ms from
 * run to run under the same code. Any other miss (a crash, RSS, a lost or
 * forged message, a queue past its limit) fails at once.
 */
const LATENCY_TRIES = 3;

/*
 * The tests gate on the issue's bar itself, p99 under 50 ms (`P99_BAR_MS`,
 * in `missed`). Until 2026-12-07 they gated at 150 ms, waiting for the suite
 * to meet 50 ms in 3 runs of 3 on this shared 2-core machine; on 2026-12-07
 * 09:00-09:07 UTC (load 1.1-1.7) every attack met it in each of 3 runs, the
 * slowest p99 15.9 ms (test/attacks/README.md, "The 50 ms bar, 2026-12-07").
 */

/**
 * Test timeout of one attack: it may wait for another attack to finish (one
 * runs at a time) and run until the harness calls it hung, up to
 * LATENCY_TRIES times.
 */
export const ATTACK_TIMEOUT_MS = 2 * LATENCY_TRIES * (HANG_AFTER_MS + JIT_WAIT_MS + 10_000);

/** Runs an attack and asserts its bars (the figures of every run are printed, and whether it met the 50 ms bar). */
export async function holds(attack: string, bars: Bars, options: AttackOptions = {}): Promise<AttackRun> {
  let run = await runAttack(attack, options);
  const report = (r: AttackRun): void => {
    const p99 = r.result?.latencyMs.p99 ?? null;
    console.log(`${figures(r)}; ${p99 !== null && p99 < P99_BAR_MS ? `meets the ${P99_BAR_MS} ms bar` : `OVER the ${P99_BAR_MS} ms bar`}`);
  };
  report(run);
  for (let i = 1; i < LATENCY_TRIES; i++) {
    const miss = missed(run, bars);
    if (miss.length === 0 || !miss.every((m) => m.startsWith('p99 latency'))) break;
    console.log(`${attack}: p99 over the ${P99_BAR_MS} ms bar (${miss.join('; ')}); run ${i + 1} of at most ${LATENCY_TRIES}`);
    run = await runAttack(attack, options);
    report(run);
  }
  expect(missed(run, bars), figures(run)).toEqual([]);
  return run;
}
