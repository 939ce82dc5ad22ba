/**
 * A child process for the FileStore tests and measurements (run with
 * `node --import tsx src/store/file-child.test-helper.ts <mode> ...`):
 *
 *   workload <dir> <fsync|none> <seed> [<step> <n>]
 *       writes forever from 6 sequential workers, printing "B <w> <op>" before
 *       each call and "A <w>" once it resolved, so that a parent that kills it
 *       knows what was acknowledged and what was in flight. With <step>, the
 *       n-th compaction step of that name prints "P <step>" and waits forever
 *       there (the parent kills it mid-compaction). file-crash.test.ts.
 *   index <dir> <keys> [<valueBytes>]   (needs --expose-gc)
 *       fills the store with <keys> keys of 30 bytes if it is empty, then opens
 *       it again and prints the memory its index takes and how long the open took.
 *   bench <dir> <fsync|none> <puts> <concurrency> [<valueBytes>]
 *       prints puts per second, <concurrency> calls in flight at a time.
 */
import { pathToFileURL } from 'node:url';
import { FileStore, type CompactionStep, type FileStoreStats } from './file.js';

/** The deterministic contents of version `version` of `name`, `size` bytes (at least 8). */
export function bytesFor(name: string, version: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, version);
  view.setUint32(4, size);
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  for (let i = 8; i < size; i++) out[i] = (h + i * 31 + version * 7) & 255;
  return out;
}

/** The version `bytes` are of `name`, or throws if they are not exactly bytesFor(name, version, size). */
export function versionOf(name: string, bytes: Uint8Array): number {
  if (bytes.length < 8) throw new Error(`${name}: ${bytes.length} bytes, a torn value`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint32(0);
  const size = view.getUint32(4);
  const expected = bytesFor(name, version, size);
  if (size !== bytes.length || !expected.every((b, i) => b === bytes[i])) throw new Error(`${name}: the bytes are not version ${version} whole`);
  return version;
}

export const WORKERS = 6;
export const KEYS_PER_WORKER = 6;
export const keyName = (w: number, i: number): string => `w${w}/k${i}`;
export const journalName = (w: number): string => `w${w}/journal`;

/** What a worker asks, as printed. */
export type Op =
  | { t: 'put'; key: string; version: number }
  | { t: 'delete'; key: string }
  | { t: 'append'; journal: string; from: number; n: number }
  | { t: 'trim'; journal: string; upTo: number };

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

async function workload(dir: string, durability: 'fsync' | 'none', seed: number, pauseStep?: CompactionStep, pauseAt?: number): Promise<void> {
  let seen = 0;
  const store = await FileStore.open(dir, {
    durability,
    segmentBytes: 32 * 1024,
    compactRatio: 0.3,
    compactionStep: async (step) => {
      if (step !== pauseStep || ++seen !== pauseAt) return;
      process.stdout.write(`P ${step}\n`);
      // Until killed. (A timer holds the promise: a promise nothing refers to would let the paused
      // compaction, and the file it has open, be garbage-collected.)
      await new Promise((resolve) => setTimeout(resolve, 2 ** 31 - 1));
    },
  });
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  setInterval(() => say(`S ${store.stats().compactions}`), 100);
  say('R');
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const rnd = random(seed * 7919 + w + 1);
      // Versions are unique over the runs of a test (seeds differ), so a stale value cannot pass for a new one.
      const versions: number[] = Array.from({ length: KEYS_PER_WORKER }, () => seed * 1_000_000);
      const j = journalName(w);
      const entries = await store.read(j);
      let last = entries.length === 0 ? 0 : entries[entries.length - 1]!.seq;
      let first = entries.length === 0 ? 1 : entries[0]!.seq;
      for (;;) {
        const r = rnd();
        const i = Math.floor(rnd() * KEYS_PER_WORKER);
        const key = keyName(w, i);
        let op: Op;
        let call: () => Promise<void>;
        if (r < 0.6) {
          const version = ++versions[i]!;
          const size = 8 + Math.floor(rnd() * 2000);
          op = { t: 'put', key, version };
          call = () => store.put(key, bytesFor(key, version, size));
        } else if (r < 0.65) {
          op = { t: 'delete', key };
          call = () => store.delete(key);
        } else if (r < 0.9 || last - first < 2) {
          const n = 1 + Math.floor(rnd() * 3);
          const from = last + 1;
          op = { t: 'append', journal: j, from, n };
          call = () => store.append(j, Array.from({ length: n }, (_, k) => ({ seq: from + k, bytes: bytesFor(j, from + k, 8 + Math.floor(rnd() * 1000)) })));
          last += n;
        } else {
          // Never the last entry: the next append's seq is read back from it.
          const upTo = first + Math.floor(rnd() * (last - first));
          op = { t: 'trim', journal: j, upTo };
          call = () => store.trim(j, upTo);
          first = upTo + 1;
        }
        say(`B ${w} ${JSON.stringify(op)}`);
        await call();
        say(`A ${w}`);
      }
    }),
  );
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with --expose-gc');
  g();
  g();
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function index(dir: string, keys: number, valueBytes: number): Promise<void> {
  const key = (i: number): string => `actor/${String(i).padStart(24, '0')}`;
  // Filled by a store that is closed and gone before the measurement starts.
  const fill = async (): Promise<number> => {
    const store = await FileStore.open(dir, { durability: 'none' });
    const t0 = performance.now();
    if (store.stats().records === 0) {
      const value = new Uint8Array(valueBytes).fill(7);
      for (let i = 0; i < keys; i += 1000) {
        const calls: Promise<void>[] = [];
        for (let k = i; k < Math.min(keys, i + 1000); k++) calls.push(store.put(key(k), value));
        await Promise.all(calls);
      }
    }
    const ms = performance.now() - t0;
    await store.close();
    return ms;
  };
  await reopenMeasured(dir, await fill(), (st, bytes, openMs, fillMs) => ({ keys: st.records, segments: st.segments, bytes: st.bytes, fillMs, openMs, bytesPerKey: Math.round(bytes / st.records) }));
}

/** Like `index`, for actors as src/actors keeps them: a checkpoint record and a journal trimmed up to it (keeping `keep` entries). */
async function actors(dir: string, n: number, keep: number): Promise<void> {
  const fill = async (): Promise<number> => {
    const store = await FileStore.open(dir, { durability: 'none' });
    const t0 = performance.now();
    if (store.stats().records === 0) {
      const value = new Uint8Array(200).fill(7);
      for (let i = 0; i < n; i += 1000) {
        const calls: Promise<void>[] = [];
        for (let k = i; k < Math.min(n, i + 1000); k++) {
          const id = `actor/${String(k).padStart(12, '0')}`;
          calls.push(store.append(`${id}/journal`, [1, 2, 3].map((seq) => ({ seq, bytes: value.subarray(0, 50) }))));
          calls.push(store.put(`${id}/checkpoint`, value));
          calls.push(store.trim(`${id}/journal`, 3 - keep));
        }
        await Promise.all(calls);
      }
    }
    const ms = performance.now() - t0;
    await store.close();
    return ms;
  };
  await reopenMeasured(dir, await fill(), (st, bytes, openMs, fillMs) => ({ actors: n, keep, records: st.records, journals: st.journals, segments: st.segments, bytes: st.bytes, fillMs, openMs, bytesPerActor: Math.round(bytes / n) }));
}

/** Opens the store at `dir` again, timing it and measuring the memory its index takes (after GCs), and prints `report`'s line. */
async function reopenMeasured(dir: string, fillMs: number, report: (s: FileStoreStats, indexBytes: number, openMs: number, fillMs: number) => object): Promise<void> {
  gc();
  const before = used();
  const t0 = performance.now();
  const store = await FileStore.open(dir, { durability: 'none', autoCompact: false });
  const openMs = performance.now() - t0;
  gc();
  const after = used();
  process.stdout.write(`${JSON.stringify(report(store.stats(), after - before, Math.round(openMs), Math.round(fillMs)))}\n`);
  await store.close();
}

async function bench(dir: string, durability: 'fsync' | 'none', puts: number, concurrency: number, valueBytes: number): Promise<void> {
  const store = await FileStore.open(dir, { durability });
  const value = new Uint8Array(valueBytes).fill(1);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < puts) {
        const i = next++;
        await store.put(`bench/${i % 10_000}`, value);
      }
    }),
  );
  const ms = performance.now() - t0;
  const s = store.stats();
  process.stdout.write(`${JSON.stringify({ durability, concurrency, valueBytes, puts, ms: Math.round(ms), putsPerSecond: Math.round((puts / ms) * 1000), batches: s.batches, syncs: s.syncs })}\n`);
  await store.close();
}

async function main(): Promise<void> {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: file-child.test-helper.ts <workload|index|bench> <dir> ...');
  if (mode === 'workload') await workload(dir, rest[0] as 'fsync' | 'none', Number(rest[1]), rest[2] as CompactionStep | undefined, rest[3] === undefined ? undefined : Number(rest[3]));
  else if (mode === 'index') await index(dir, Number(rest[0]), Number(rest[1] ?? 100));
  else if (mode === 'actors') await actors(dir, Number(rest[0]), Number(rest[1] ?? 0));
  else if (mode === 'bench') await bench(dir, rest[0] as 'fsync' | 'none', Number(rest[1]), Number(rest[2]), Number(rest[3] ?? 1024));
  else throw new Error(`unknown mode ${mode}`);
}

// Run only as a script (the crash test imports bytesFor and versionOf from here).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
