/**
 * Native services' figures (issue 13), part of the actors benchmark: under
 * `actors.services` in the JSON report.
 *   - callsPerSecond: one wasm actor (test/guests/svc.ts) calling a trivial
 *     async service (`id: async (n) => n`) in a loop, inline (one thread);
 *   - workerCallsPerSecond: the same actor on a worker thread, the service
 *     on the main thread;
 *   - workerLocalCallsPerSecond: the same actor on a worker, the service
 *     declared to run in each worker (`Hive.workerService`, echo-service.ts).
 * Each is the median of `samples` runs of `calls` calls after one of warm-up;
 * a run's time is from the spawn to the actor's report (its lookup included).
 */
import { pino } from 'pino';
import type { Module } from '../vm/index.js';
import { Hive, WorkerPool } from '../actors/index.js';
import { median } from './measure.js';

/** Sizes of the services' figures. */
export interface ServicesPlan {
  readonly samples: number;
  readonly calls: number;
}

/** The services' figures. */
export interface ServicesResult {
  /** Calls per second of one actor to a trivial async service, inline. */
  callsPerSecond: number;
  /** The same, the actor on a worker thread. */
  workerCallsPerSecond: number;
  /** The same, the service running in the actor's worker too. */
  workerLocalCallsPerSecond: number;
  calls: number;
  bars: Record<string, { value: number; bar: number; met: boolean }>;
}

/** Issue 13's bar. */
export const SERVICES_BARS = { callsPerSecond: 100_000 } as const;

const now = (): number => performance.now();

/** One run: `calls` calls of the svc guest to the hive's `bench` service; calls per second. */
async function runOnce(hive: Hive, calls: number, worker: number | undefined, service = 'bench'): Promise<number> {
  const box = hive.inbox<{ lookup: number; ok?: number; sum?: number; last?: number; error?: string }>();
  const t0 = now();
  hive.spawn('svc', { services: [service], init: { service, method: 'id', n: calls, report: box.ref }, ...(worker !== undefined ? { worker } : {}) });
  const r = await box.next();
  const ms = now() - t0;
  box.close();
  // Every call answered, with its own number: the sum of 0 .. calls-1.
  if (r.lookup !== 0 || r.ok !== calls || Number(r.sum) !== (calls * (calls - 1)) / 2) throw new Error(`services bench: the guest reported ${JSON.stringify(r)}`);
  return calls / (ms / 1000);
}

/** A hive with the svc guest and the trivial service. */
function hiveFor(svc: Module, workers?: WorkerPool): Hive {
  const hive = new Hive({ logger: pino({ level: 'silent' }), ...(workers !== undefined ? { workers, rebalance: false } : {}) });
  hive.define('svc', svc);
  hive.service('bench', { id: async (n: number) => n });
  return hive;
}

/** Runs the services' figures. */
export async function benchServices(plan: ServicesPlan, svc: Module, print: (line: string) => void): Promise<ServicesResult> {
  const inline = hiveFor(svc);
  const inlineSamples: number[] = [];
  try {
    await runOnce(inline, plan.calls, undefined);
    for (let i = 0; i < plan.samples; i++) inlineSamples.push(await runOnce(inline, plan.calls, undefined));
  } finally {
    inline.close();
  }
  const threads = new WorkerPool({ threads: 1 });
  const workerSamples: number[] = [];
  const localSamples: number[] = [];
  try {
    await threads.ready();
    const pooled = hiveFor(svc, threads);
    try {
      await pooled.workerService('local', { module: new URL('./echo-service.js', import.meta.url) });
      await runOnce(pooled, plan.calls, 0);
      await runOnce(pooled, plan.calls, 0, 'local');
      for (let i = 0; i < plan.samples; i++) {
        workerSamples.push(await runOnce(pooled, plan.calls, 0));
        localSamples.push(await runOnce(pooled, plan.calls, 0, 'local'));
      }
    } finally {
      pooled.close();
    }
  } finally {
    await threads.close();
  }
  const callsPerSecond = Math.round(median(inlineSamples));
  const workerCallsPerSecond = Math.round(median(workerSamples));
  const workerLocalCallsPerSecond = Math.round(median(localSamples));
  print(`services: a wasm actor calling a trivial async service ${callsPerSecond} calls/s inline, ${workerCallsPerSecond} calls/s from a worker, ${workerLocalCallsPerSecond} calls/s from a worker to a service running in it (${plan.calls} calls, median of ${plan.samples})`);
  return {
    callsPerSecond,
    workerCallsPerSecond,
    workerLocalCallsPerSecond,
    calls: plan.calls,
    bars: { callsPerSecond: { value: callsPerSecond, bar: SERVICES_BARS.callsPerSecond, met: callsPerSecond >= SERVICES_BARS.callsPerSecond } },
  };
}
