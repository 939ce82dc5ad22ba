/**
 * Crash tests of durable actors (issue 14): a child process sends "up" to
 * durable counters, awaiting each acknowledgement, and is killed with
 * SIGKILL at a random point, once or twice in a row (the second life
 * recovers, then sends on); then this process recovers the store and checks
 * that every acknowledged increment took effect exactly once: each
 * counter's value is at least the increments acknowledged to it and at most
 * those sent to it (an increment sent but not acknowledged may or may not
 * have been journaled). Kill points, keys, concurrency and checkpoint and
 * passivation policies vary by run, from a seed printed with any failure
 * (set WASMHIVE_CRASH_SEED to replay one; WASMHIVE_CRASH_RUNS for the count).
 * The child runs the built package (dist/): `npm run build` after changing src.
 * Run: `npx vitest run --project crash` (the project runs after every other test, alone).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Hive } from '../../src/actors/index.js';
import * as stores from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { startNatsServer } from '../../src/store/nats-server.test-helper.js';

const RUNS = Number(process.env['WASMHIVE_CRASH_RUNS'] ?? 100);
const BASE_SEED = Number(process.env['WASMHIVE_CRASH_SEED'] ?? Date.now() % 1_000_000);
const child = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const counter = readFileSync(new URL('../guests/counter.wasm', import.meta.url));

/** xorshift32: the run's choices from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0));
}

interface Life {
  sent: number[];
  acked: number[];
  lines: string[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One life of the child: killed once `acks` acknowledgements were seen (or `ms` after it started, when acks < 0). */
function life(kind: 'file' | 'nats', where: string, bucket: string, options: Record<string, number>, acks: number, ms: number, keys: number): Promise<Life> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, kind, where, bucket, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Life = { sent: new Array(keys).fill(0), acked: new Array(keys).fill(0), lines: [], stderr: '', code: null, signal: null };
    let seen = 0;
    let buffered = '';
    const kill = (): void => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    };
    const guard = setTimeout(kill, 20_000);
    if (acks < 0) setTimeout(kill, ms);
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const l of parts) {
        out.lines.push(l);
        if (l.startsWith('s ')) out.sent[Number(l.slice(2))]!++;
        else if (l.startsWith('a ')) {
          out.acked[Number(l.slice(2))]!++;
          if (++seen >= acks && acks >= 0) kill();
        } else if (l === 'ready' && acks === 0) kill();
      }
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

async function crashRuns(kind: 'file' | 'nats', open: (at: { where: string; bucket: string }) => Promise<Store>, place: (run: number) => { where: string; bucket: string; dispose(): void }): Promise<void> {
  for (let run = 0; run < RUNS; run++) {
    const seed = BASE_SEED + run;
    const r = rng(seed);
    const keys = 1 + (r() % 6);
    const at = place(run);
    const sent = new Array(keys).fill(0);
    const acked = new Array(keys).fill(0);
    const story: string[] = [];
    try {
      const lives = 1 + (r() % 2);
      for (let l = 0; l < lives; l++) {
        const options = { keys, concurrency: 1 + (r() % 12), checkpointEvery: [1, 4, 1e6][r() % 3]!, passivateAfterMs: [5, 40, 1e9][r() % 3]!, seed: r() };
        // Mostly after some acknowledgements; sometimes at a random time from the start (before any, or in the recovery).
        const acks = r() % 5 === 0 ? -1 : r() % 400;
        const ms = r() % 1_200;
        const got = await life(kind, at.where, at.bucket, options, acks, ms, keys);
        story.push(`life ${l}: ${JSON.stringify(options)} kill ${acks >= 0 ? `after ${acks} acks` : `at ${ms} ms`}: ${got.lines.filter((x) => x.startsWith('a ')).length} acked, ${got.signal ?? `exit ${got.code}`}`);
        // It must die by the kill, not by itself.
        expect(got.signal, `seed ${seed}: ${story.join('; ')}\n${got.stderr}`).toBe('SIGKILL');
        for (let k = 0; k < keys; k++) {
          sent[k] += got.sent[k]!;
          acked[k] += got.acked[k]!;
        }
      }
      const store = await open(at);
      const hive = new Hive({ logger: pino({ level: 'silent' }), durable: { store } });
      try {
        hive.define('counter', counter);
        await hive.recover();
        for (let k = 0; k < keys; k++) {
          const c = await hive.durable(`counter-${k}`, 'counter');
          const value = Number(String(await c.call('up')).slice('value='.length)) - 1;
          const msg = `seed ${seed}, counter ${k}: value ${value}, acknowledged ${acked[k]}, sent ${sent[k]} (${story.join('; ')})`;
          expect(value, msg).toBeGreaterThanOrEqual(acked[k]);
          expect(value, msg).toBeLessThanOrEqual(sent[k]);
        }
      } finally {
        hive.close();
        await store.close();
      }
    } finally {
      at.dispose();
    }
  }
}

/** The child runs dist/: refuse to test a build older than the sources it is built from. */
function assertBuilt(): void {
  const built = statSync(new URL('../../dist/actors/durable.js', import.meta.url)).mtimeMs;
  for (const f of ['src/actors/durable.ts', 'src/actors/system.ts', 'src/store/file.ts', 'src/store/nats.ts']) {
    const src = statSync(new URL(`../../${f}`, import.meta.url)).mtimeMs;
    if (src > built) throw new Error(`dist/ is older than ${f}: run npm run build (the crash test's child runs the built package)`);
  }
}

describe('durable counters killed with SIGKILL at random points', () => {
  it(`count every acknowledged increment exactly once, with the filesystem store (${RUNS} runs)`, async () => {
    assertBuilt();
    await crashRuns('file', (at) => stores.FileStore.open(at.where), () => {
      const dir = mkdtempSync(join(tmpdir(), 'wasmhive-crash-'));
      return { where: dir, bucket: '', dispose: () => rmSync(dir, { recursive: true, force: true }) };
    });
  }, 30 * 60_000);

  it(`count every acknowledged increment exactly once, with NATS JetStream (${RUNS} runs)`, async (ctx) => {
    const server = await startNatsServer();
    if (server === null) {
      ctx.skip('no NATS server: set NATS_URL or put nats-server on the PATH (.ci/run starts one)');
      return;
    }
    try {
      assertBuilt();
      await crashRuns('nats', (at) => stores.NatsStore.connect({ servers: server.url, bucket: at.bucket }), (run) => ({ where: server.url, bucket: `crash${BASE_SEED}x${run}`, dispose: () => {} }));
    } finally {
      await server.stop();
    }
  }, 30 * 60_000);
});
