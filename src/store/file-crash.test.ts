/**
 * FileStore killed with SIGKILL: a child process (file-child.test-helper.ts,
 * mode workload) writes from 6 workers over segments of 32 KiB, so that it
 * rolls and compacts all the time, and says before and after each call what
 * it does. It is killed at a random moment, or while a compaction waits at
 * a given step, then the store is opened here and must hold every write that
 * resolved before the kill, with at most the one call each worker had in
 * flight added (of an append, a prefix of its entries), every value whole.
 * The runs go on over the same directory (taking over the dead process's lock).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompactionStep } from './file.js';
import { FileStore } from './file.js';
import { journalName, keyName, KEYS_PER_WORKER, versionOf, WORKERS, type Op } from './file-child.test-helper.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./file-child.test-helper.ts', import.meta.url));

interface Run {
  durability: 'fsync' | 'none';
  /** Kill this long after the child is ready, or once a compaction waits at this step (its n-th). */
  killAfterMs?: number;
  pause?: [CompactionStep, number];
}

/** What is acknowledged: each key's version (null: none), each journal's entries first..last (empty if first > last). */
interface Acked {
  records: Map<string, number | null>;
  journals: Map<string, { first: number; last: number }>;
}

interface Outcome {
  acked: Acked;
  inflight: Map<number, Op>;
  paused: string | null;
  compactions: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child until it is killed; applies what it acknowledged to `acked`. */
async function runChild(dir: string, seed: number, run: Run, acked: Acked): Promise<Outcome> {
  const args = ['--import', 'tsx', child, 'workload', dir, run.durability, String(seed), ...(run.pause ? [run.pause[0], String(run.pause[1])] : [])];
  const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const inflight = new Map<number, Op>();
  let paused: string | null = null;
  let compactions = 0;
  let stderr = '';
  let pending = '';
  const kill = (): void => {
    p.kill('SIGKILL');
  };
  const safety = setTimeout(kill, 20_000);
  const line = (l: string): void => {
    const [tag, w, ...rest] = l.split(' ');
    if (tag === 'R') {
      if (run.killAfterMs !== undefined) setTimeout(kill, run.killAfterMs);
    } else if (tag === 'P') {
      paused = w!;
      setTimeout(kill, Math.floor(Math.random() * 30)); // the workers go on writing meanwhile
    } else if (tag === 'S') {
      compactions = Number(w);
    } else if (tag === 'B') {
      inflight.set(Number(w), JSON.parse(rest.join(' ')) as Op);
    } else if (tag === 'A') {
      const op = inflight.get(Number(w))!;
      inflight.delete(Number(w));
      if (op.t === 'put') acked.records.set(op.key, op.version);
      else if (op.t === 'delete') acked.records.set(op.key, null);
      else if (op.t === 'append') acked.journals.get(op.journal)!.last = op.from + op.n - 1;
      else {
        const j = acked.journals.get(op.journal)!;
        j.first = Math.max(j.first, op.upTo + 1);
      }
    }
  };
  p.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!; // a line the kill cut is not counted
    for (const l of lines) line(l);
  });
  p.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => p.on('exit', (_code, sig) => resolve(sig)));
  clearTimeout(safety);
  return { acked, inflight, paused, compactions, signal, stderr };
}

/** Checks the reopened store against what was acknowledged and in flight; returns what it holds, as the next run's acknowledged state. */
async function verify(store: FileStore, o: Outcome, where: string): Promise<Acked> {
  const next: Acked = { records: new Map(), journals: new Map() };
  for (let w = 0; w < WORKERS; w++) {
    const op = o.inflight.get(w);
    for (let i = 0; i < KEYS_PER_WORKER; i++) {
      const key = keyName(w, i);
      const bytes = await store.get(key);
      const actual = bytes === null ? null : versionOf(key, bytes); // throws unless whole
      const allowed = [o.acked.records.get(key) ?? null];
      if (op?.t === 'put' && op.key === key) allowed.push(op.version);
      if (op?.t === 'delete' && op.key === key) allowed.push(null);
      expect(allowed, `${where}: ${key} (in flight: ${JSON.stringify(op)})`).toContain(actual);
      next.records.set(key, actual);
    }
    const j = journalName(w);
    const entries = await store.read(j);
    entries.forEach((e, k) => {
      expect(versionOf(j, e.bytes), `${where}: ${j} entry ${e.seq}`).toBe(e.seq);
      if (k > 0) expect(e.seq, `${where}: ${j} has a gap`).toBe(entries[k - 1]!.seq + 1);
    });
    const was = o.acked.journals.get(j)!;
    const first = entries.length === 0 ? was.first : entries[0]!.seq;
    const last = entries.length === 0 ? was.first - 1 : entries[entries.length - 1]!.seq;
    const candidates = [[was.first, was.last]];
    if (op?.t === 'append' && op.journal === j) for (let k = 1; k <= op.n; k++) candidates.push([was.first, was.last + k]);
    if (op?.t === 'trim' && op.journal === j) candidates.push([Math.max(was.first, op.upTo + 1), was.last]);
    const same = (a: number[], b: number[]): boolean => (a[0]! > a[1]! && b[0]! > b[1]!) || (a[0] === b[0] && a[1] === b[1]);
    expect(
      candidates.some((c) => same(c, [first, last])),
      `${where}: ${j} holds ${first}..${last}, acknowledged ${was.first}..${was.last}, in flight ${JSON.stringify(op)}`,
    ).toBe(true);
    next.journals.set(j, entries.length === 0 ? { ...was } : { first, last });
  }
  return next;
}

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

describe('FileStore killed with SIGKILL', () => {
  it('keeps every write that resolved before the kill, whether it came mid-write or mid-compaction', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmhive-file-crash-'));
    made.push(dir);
    const runs: Run[] = [
      { durability: 'none', killAfterMs: 700 },
      { durability: 'fsync', killAfterMs: 500 },
      { durability: 'none', pause: ['chunk', 8] },
      { durability: 'none', pause: ['synced', 4] },
      { durability: 'fsync', pause: ['renamed', 3] },
      { durability: 'none', pause: ['repointed', 5] },
      { durability: 'none', pause: ['unlinked', 6] },
      { durability: 'none', killAfterMs: 150 + Math.floor(Math.random() * 1000) },
      { durability: 'fsync', killAfterMs: 150 + Math.floor(Math.random() * 1000) },
    ];
    let acked: Acked = { records: new Map(), journals: new Map(Array.from({ length: WORKERS }, (_, w) => [journalName(w), { first: 1, last: 0 }])) };
    let compactions = 0;
    let pausedRuns = 0;
    let acknowledged = 0;
    for (const [n, run] of runs.entries()) {
      const where = `run ${n} (${JSON.stringify(run)})`;
      const o = await runChild(dir, n + 1, run, acked);
      expect(o.stderr, where).toBe('');
      expect(o.signal, `${where}: the child ended by itself`).toBe('SIGKILL');
      if (run.pause !== undefined && o.paused === run.pause[0]) pausedRuns++;
      compactions += o.compactions;
      acknowledged += [...o.acked.records.values()].filter((v) => v !== null).length;
      const store = await FileStore.open(dir, { segmentBytes: 32 * 1024, autoCompact: false });
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp')), where).toEqual([]);
      acked = await verify(store, o, where);
      await store.close();
    }
    // The kills came mid-compaction (most runs waited at their step), and there was something to lose.
    expect(pausedRuns).toBeGreaterThanOrEqual(4);
    expect(compactions).toBeGreaterThan(5);
    expect(acknowledged).toBeGreaterThan(0);
    // A last compaction of everything changes nothing.
    const store = await FileStore.open(dir, { segmentBytes: 32 * 1024 });
    await store.compact();
    const none = new Map<number, Op>();
    await verify(store, { acked, inflight: none, paused: null, compactions: 0, signal: null, stderr: '' }, 'after compaction');
    await store.close();
  }, 120_000);
});
