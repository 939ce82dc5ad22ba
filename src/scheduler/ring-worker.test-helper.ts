/**
 * The worker side of the ring's two-thread tests and of bench/ring.mjs (not a
 * test file: vitest collects only `*.test.ts`). Started by `startRingWorker`
 * with `{ mode, ... }` as workerData; posts one result message and ends.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createRing, Doorbell, RingReader, RingWriter } from './ring.js';

/**
 * Starts this helper in a worker thread in `mode`. Workers run the TypeScript through tsx's loader
 * (a devDependency, given as the URL of its `tsx/esm/api` module), so they use the same ring.ts as
 * the test, not a possibly stale dist/.
 */
export function startRingWorker(tsxApi: string, data: Record<string, unknown>): Worker {
  const helper = fileURLToPath(import.meta.url);
  const boot = `const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then(({ tsImport }) => tsImport(workerData.helper, workerData.helper));`;
  return new Worker(boot, { eval: true, workerData: { ...data, tsxApi, helper } });
}

/**
 * Run as a process (`node --import tsx ring-worker.test-helper.ts idle <tsxApi>`): parks a reader
 * in a worker and one on the main thread, then prints the whole process's CPU time over 1 s. A
 * process of its own, so that no other test's threads or garbage count.
 */
async function idleProcess(tsxApi: string): Promise<void> {
  const a = createRing(1024);
  const b = createRing(1024);
  const worker = startRingWorker(tsxApi, { mode: 'park', a });
  await new Promise((resolve) => worker.once('message', resolve));
  const mainReader = new RingReader(b);
  const mainWait = mainReader.waitReadable();
  await new Promise((resolve) => setTimeout(resolve, 300)); // both past their spins and first-park setup
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const used = process.cpuUsage(before);
  new RingWriter(a).write(new Uint8Array(1));
  new RingWriter(b).write(new Uint8Array(1));
  const woke = await new Promise((resolve) => worker.once('message', resolve));
  process.stdout.write(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, worker: woke, main: await mainWait }) + '\n');
  await worker.terminate();
}

/** The deterministic record number `seq` of a stream: its length is pseudo-random in [0, maxLen]. */
export function record(seq: number, maxLen: number): Uint8Array {
  let x = (seq + 1) * 0x9e3779b1;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  const length = (x >>> 0) % (maxLen + 1);
  const r = new Uint8Array(length);
  for (let i = 0; i < length; i++) r[i] = (seq + i * 7) & 255;
  return r;
}

/** True when `got` is exactly record `seq`. */
export function isRecord(got: Uint8Array, seq: number, maxLen: number): boolean {
  const want = record(seq, maxLen);
  if (got.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return false;
  return true;
}

/** Writes records 0..count-1 of the stream, waiting for room when full; closes the ring after. */
export async function produce(w: RingWriter, count: number, maxLen: number, batch: number): Promise<void> {
  const pending: Uint8Array[] = [];
  let seq = 0;
  while (seq < count || pending.length > 0) {
    while (pending.length < batch && seq < count) pending.push(record(seq++, maxLen));
    const n = w.writeMany(pending);
    pending.splice(0, n);
    if (pending.length > 0) await w.waitWritable(pending[0]!.length);
  }
}

/** Reads records until the ring is closed and empty; returns how many and the first wrong sequence number (or -1). */
export async function consume(r: RingReader, maxLen: number): Promise<{ count: number; firstBad: number }> {
  let count = 0;
  let firstBad = -1;
  for (;;) {
    const got = r.readMany(1024);
    for (const g of got) {
      if (firstBad < 0 && !isRecord(g, count, maxLen)) firstBad = count;
      count++;
    }
    if (got.length === 0 && (await r.waitReadable()) === 'closed' && r.used === 0) return { count, firstBad };
  }
}

async function main(): Promise<void> {
  const d = workerData as { mode: string; a: SharedArrayBuffer; b?: SharedArrayBuffer; count: number; maxLen: number; batch?: number; spin?: number; sync?: boolean };
  const opts = d.spin === undefined ? {} : { spin: d.spin };
  switch (d.mode) {
    case 'consume':
      parentPort!.postMessage(await consume(new RingReader(d.a, opts), d.maxLen));
      return;
    case 'produce': {
      const w = new RingWriter(d.a, opts);
      await produce(w, d.count, d.maxLen, d.batch ?? 1);
      w.close();
      parentPort!.postMessage({ done: true });
      return;
    }
    case 'echo': {
      // Reads a record from ring a and writes it back on ring b, until a is closed.
      const r = new RingReader(d.a, opts);
      const w = new RingWriter(d.b!, opts);
      let hops = 0;
      for (;;) {
        const m = r.read();
        if (m !== null) {
          while (!w.write(m)) await w.waitWritable(m.length);
          hops++;
          continue;
        }
        const s = d.sync ? r.waitReadableSync() : await r.waitReadable();
        if (s === 'closed' && r.used === 0) break;
      }
      parentPort!.postMessage({ hops });
      return;
    }
    case 'park': {
      // Waits once for a record (or close), after telling the main thread it is about to.
      const r = new RingReader(d.a, opts);
      parentPort!.postMessage({ parking: true });
      const s = await r.waitReadable();
      const got = r.read();
      parentPort!.postMessage({ woke: s, record: got === null ? null : Array.from(got) });
      return;
    }
    case 'race': {
      // Wake-up race: for each round the main thread writes one record while this side parks with spin 0.
      const r = new RingReader(d.a, { spin: 0 });
      const w = new RingWriter(d.b!, { spin: 0 });
      let rounds = 0;
      for (;;) {
        const s = d.sync ? r.waitReadableSync(5_000) : await r.waitReadable(5_000);
        if (s === 'timed-out') {
          parentPort!.postMessage({ rounds, lost: true });
          return;
        }
        const m = r.read();
        if (m === null) {
          if (s === 'closed') break;
          continue;
        }
        rounds++;
        while (!w.write(m)) await w.waitWritable(m.length);
      }
      parentPort!.postMessage({ rounds, lost: false });
      return;
    }
    case 'bell-race': {
      // The same race with a doorbell: records come on ring a or ring a2, whose writers ring `bell`; echoed on b.
      const d2 = workerData as { a2: SharedArrayBuffer; bell: SharedArrayBuffer };
      const readers = [new RingReader(d.a), new RingReader(d2.a2)];
      const bell = new Doorbell(d2.bell, { spin: 0 });
      const w = new RingWriter(d.b!, { spin: 0 });
      const ready = (): boolean => readers.some((r) => r.used > 0);
      const closed = (): boolean => readers.every((r) => r.closed);
      let rounds = 0;
      for (;;) {
        let got = false;
        for (const r of readers) {
          for (let m = r.read(); m !== null; m = r.read()) {
            got = true;
            rounds++;
            while (!w.write(m)) await w.waitWritable(m.length);
          }
        }
        if (got) continue;
        const s = await bell.wait(ready, closed, true, 5_000);
        if (s === 'timed-out') {
          parentPort!.postMessage({ rounds, lost: true });
          return;
        }
        if (s === 'closed') break;
      }
      parentPort!.postMessage({ rounds, lost: false });
      return;
    }
    default:
      throw new Error(`unknown mode ${d.mode}`);
  }
}

if (parentPort !== null && (workerData as { mode?: string } | null)?.mode !== undefined) void main();
else if (isMainThread && process.argv[2] === 'idle' && process.argv[3] !== undefined) void idleProcess(process.argv[3]);
