/**
 * Durable actors' figures (issue 14), part of the actors benchmark: under
 * `actors.durable` in the JSON report, all with the filesystem store
 * (FileStore, fsync on) in a temporary directory.
 *   - journaledMessagesPerSecond: `sendWait` to `counters` durable counters,
 *     `concurrency` sends in flight: each is journaled (appended and
 *     fsynced) before it is acknowledged; checkpoints every 100 messages;
 *   - checkpointUsP50: `hive.checkpoint` of one counter (its snapshot, put
 *     and fsynced), p50;
 *   - passivatedActors, rssBytesPerPassivatedActor: `actors` counters, each
 *     opened, sent one message (acknowledged), checkpointed and passivated;
 *     what they add to the process's RSS (after a full GC when one can be
 *     had), divided by their number: the directory's entries and the store's
 *     index;
 *   - reactivateUsP50: bringing a passivated counter back: `hive.durable` of
 *     its key, until it is restored and ready (its record and journal read
 *     from the store, its snapshot restored), p50 of `reactivations`, one
 *     at a time with nothing else going on;
 *     beside it, callPassivatedUsP50, a call to a passivated counter until
 *     answered (the reactivation, and the journal append of the call with
 *     its fsync, at once), and callLiveUsP50, the same call once it is live
 *     (append and fsync, the counter's turn, its checkpoint);
 *   - recoverActorsPerSecond: a new hive and store on the same directory:
 *     `hive.recover()` of them all, per second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Module } from '../vm/index.js';
import { Hive, type ActorRef } from '../actors/index.js';
import { FileStore } from '../store/index.js';
import { gcFunction } from './measure.js';

/** Sizes of the durable figures. */
export interface DurablePlan {
  /** Counters passivated for the scale figures. */
  readonly actors: number;
  /** Opens, sends and passivations in flight while they are made. */
  readonly concurrency: number;
  /** Messages, counters and sends in flight of the journal figure. */
  readonly messages: number;
  readonly counters: number;
  readonly sendsInFlight: number;
  readonly checkpoints: number;
  readonly reactivations: number;
}

/** The durable figures. */
export interface DurableResult {
  passivatedActors: number;
  rssBytesPerPassivatedActor: number;
  heapBytesPerPassivatedActor: number;
  reactivateUsP50: number;
  reactivateUsP90: number;
  callPassivatedUsP50: number;
  callLiveUsP50: number;
  checkpointUsP50: number;
  recoverActorsPerSecond: number;
  journaledMessagesPerSecond: number;
  /** Seconds to make the passivated actors (open, one message, checkpoint, passivation each). */
  makeSeconds: number;
  /** Bytes of the store's files at the end. */
  storeBytes: number;
  gc: boolean;
  bars: Record<string, { value: number; bar: number; met: boolean }>;
}

/** Issue 14's bars. */
export const DURABLE_BARS = { passivatedActors: 1_000_000, rssBytesPerPassivatedActor: 1_024, reactivateUsP50: 500 } as const;

const now = (): number => performance.now();


function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

function hiveOn(store: FileStore, counter: Module, more: { checkpointEvery?: number } = {}): Hive {
  const hive = new Hive({ logger: pino({ level: 'silent' }), durable: { store, passivateAfterMs: Infinity, ...more } });
  hive.define('counter', counter);
  return hive;
}

/** Runs `work(i)` for i in [0, n) with `width` in flight. */
async function inFlight(n: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      for (let i = next++; i < n; i = next++) await work(i);
    }),
  );
}

/** Runs the durable figures in a temporary directory (removed after). */
export async function benchDurable(plan: DurablePlan, counter: Module, print: (line: string) => void): Promise<DurableResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmhive-bench-durable-'));
  const gc = gcFunction();
  const usage = async (): Promise<NodeJS.MemoryUsage> => {
    await new Promise((r) => setImmediate(r));
    gc?.();
    gc?.();
    return process.memoryUsage();
  };
  try {
    // 1. Journaled messages per second.
    let journaledMessagesPerSecond: number;
    {
      const store = await FileStore.open(join(dir, 'journal'));
      const hive = hiveOn(store, counter, { checkpointEvery: 100 });
      try {
        const refs: ActorRef[] = [];
        for (let i = 0; i < plan.counters; i++) refs.push(await hive.durable(`j${i}`, 'counter'));
        await inFlight(Math.min(1_000, plan.messages), plan.sendsInFlight, (i) => refs[i % refs.length]!.sendWait('up'));
        const t0 = now();
        await inFlight(plan.messages, plan.sendsInFlight, (i) => refs[i % refs.length]!.sendWait('up'));
        journaledMessagesPerSecond = Math.round(plan.messages / ((now() - t0) / 1000));
      } finally {
        hive.close();
        await store.close();
      }
      print(`durable: ${journaledMessagesPerSecond} journaled messages/s (${plan.counters} counters, ${plan.sendsInFlight} sends in flight, fsync)`);
    }

    // 2. Checkpoints of a small actor.
    let checkpointUsP50: number;
    {
      const store = await FileStore.open(join(dir, 'checkpoint'));
      const hive = hiveOn(store, counter);
      try {
        const ref = await hive.durable('c', 'counter');
        await ref.call('up');
        const times: number[] = [];
        for (let i = 0; i < plan.checkpoints; i++) {
          const t0 = now();
          await hive.checkpoint(ref);
          times.push((now() - t0) * 1000);
        }
        checkpointUsP50 = Math.round(quantile(times, 0.5));
      } finally {
        hive.close();
        await store.close();
      }
      print(`durable: checkpoint of a counter p50 ${checkpointUsP50} us (snapshot, put, fsync)`);
    }

    // 3. Passivated actors: what each costs the process.
    const scaleDir = join(dir, 'scale');
    let store = await FileStore.open(scaleDir);
    let hive = hiveOn(store, counter);
    let rssBytesPerPassivatedActor: number;
    let heapBytesPerPassivatedActor: number;
    let makeSeconds: number;
    let reactivate: number[];
    const callPassivated: number[] = [];
    const callLive: number[] = [];
    try {
      // Warm-up: the code paths, and their garbage, before the baseline.
      await inFlight(200, 50, async (i) => {
        const r = await hive.durable(`warm${i}`, 'counter');
        await r.sendWait('up');
        await hive.idle();
        await hive.passivate(r);
      });
      const before = await usage();
      const t0 = now();
      let done = 0;
      await inFlight(plan.actors, plan.concurrency, async (i) => {
        const r = await hive.durable(`k${i}`, 'counter');
        await r.sendWait('up');
        // Handled and checkpointed once it waits again; passivated then (false: not yet idle, tried again).
        while (!(await hive.passivate(r))) await new Promise((res) => setImmediate(res));
        if (++done % 100_000 === 0) print(`durable: ${done} passivated (${((now() - t0) / 1000).toFixed(0)} s)`);
      });
      makeSeconds = (now() - t0) / 1000;
      const after = await usage();
      const live = hive.actorIds().length;
      if (live !== 0) throw new Error(`durable bench: ${live} actors still live after passivation`);
      rssBytesPerPassivatedActor = Math.round((after.rss - before.rss) / plan.actors);
      heapBytesPerPassivatedActor = Math.round((after.heapUsed - before.heapUsed) / plan.actors);
      print(`durable: ${plan.actors} counters passivated in ${makeSeconds.toFixed(1)} s: ${rssBytesPerPassivatedActor} bytes of RSS each (${heapBytesPerPassivatedActor} of JS heap)${gc === null ? ' (no GC available)' : ''}`);

      // 4. Reactivation: `durable` of a passivated counter's key, one at a time, with nothing else going on (each
      // passivated again at once: at rest, without writing anything); then calls to each, passivated and live.
      reactivate = [];
      const keys: string[] = [];
      let x = 12345;
      for (let i = 0; i < plan.reactivations; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        keys.push(`k${x % plan.actors}`);
      }
      await new Promise((r) => setTimeout(r, 100));
      for (const key of keys) {
        const t1 = now();
        const r = await hive.durable<string, string>(key, 'counter');
        reactivate.push((now() - t1) * 1000);
        if (!(await hive.passivate(r))) throw new Error(`durable bench: counter ${key} did not passivate again at once`);
      }
      for (const key of keys) {
        const r = hive.ref<string, string>((await hive.durable(key, 'counter')).id);
        await hive.idle();
        while (!(await hive.passivate(r))) await new Promise((res) => setImmediate(res));
        const t2 = now();
        const answer = await r.call('up');
        callPassivated.push((now() - t2) * 1000);
        if (!String(answer).startsWith('value=')) throw new Error(`durable bench: a reactivated counter answered ${String(answer)}`);
        const t3 = now();
        await r.call('up');
        callLive.push((now() - t3) * 1000);
        await hive.idle();
        while (!(await hive.passivate(r))) await new Promise((res) => setImmediate(res));
      }
    } finally {
      hive.close();
      await store.close();
    }
    const reactivateUsP50 = Math.round(quantile(reactivate, 0.5));
    const reactivateUsP90 = Math.round(quantile(reactivate, 0.9));
    const callPassivatedUsP50 = Math.round(quantile(callPassivated, 0.5));
    const callLiveUsP50 = Math.round(quantile(callLive, 0.5));
    print(`durable: reactivation (durable() of a passivated counter's key, restored) p50 ${reactivateUsP50} us, p90 ${reactivateUsP90} us; a call to a passivated counter p50 ${callPassivatedUsP50} us, to a live one ${callLiveUsP50} us (each journaled and fsynced)`);

    // 5. Recovery of them all in a new hive.
    store = await FileStore.open(scaleDir);
    hive = hiveOn(store, counter);
    let recoverActorsPerSecond: number;
    let storeBytes = 0;
    try {
      const t0 = now();
      const r = await hive.recover();
      recoverActorsPerSecond = Math.round(r.actors / ((now() - t0) / 1000));
      print(`durable: recovered ${r.actors} actors (${r.restored} restored with journals to replay) at ${recoverActorsPerSecond}/s`);
      storeBytes = await dirBytes(scaleDir);
    } finally {
      hive.close();
      await store.close();
    }

    const bar = (value: number, b: number, higher: boolean) => ({ value, bar: b, met: higher ? value >= b : value <= b });
    return {
      passivatedActors: plan.actors,
      rssBytesPerPassivatedActor,
      heapBytesPerPassivatedActor,
      reactivateUsP50,
      reactivateUsP90,
      callPassivatedUsP50,
      callLiveUsP50,
      checkpointUsP50,
      recoverActorsPerSecond,
      journaledMessagesPerSecond,
      makeSeconds: Math.round(makeSeconds * 10) / 10,
      storeBytes,
      gc: gc !== null,
      bars: {
        passivatedActors: bar(plan.actors, DURABLE_BARS.passivatedActors, true),
        rssBytesPerPassivatedActor: bar(rssBytesPerPassivatedActor, DURABLE_BARS.rssBytesPerPassivatedActor, false),
        reactivateUsP50: bar(reactivateUsP50, DURABLE_BARS.reactivateUsP50, false),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dirBytes(dir: string): Promise<number> {
  const { readdir, stat } = await import('node:fs/promises');
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}
