/**
 * Smoke test of the benchmark: every kernel module is well formed and
 * import-free, and each one, run once at a small n, gives the same checksum
 * on wasmhive as on V8; the actor part runs at a tiny size and ends the
 * output with its JSON. Correctness tests, not timing ones.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import { ACTOR_PLANS, actorsJsonLine, benchActors, type ActorsPlan } from './actors.js';

import { formatResult, jsTypeOf, sameResult, v8Engine, wasmhiveEngine } from './engines.js';
import { main } from './index.js';
import { KERNELS, kernelsDir, loadKernelBytes, selectKernels } from './kernels.js';
import { median } from './measure.js';

describe('bench kernels', () => {
  it('has a built module for every source and a table entry for every module', () => {
    const files = readdirSync(kernelsDir());
    const sources = files.filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
    const modules = files.filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -5)).sort();
    expect(modules).toEqual(sources);
    expect(KERNELS.map((k) => k.name).sort()).toEqual(modules);
  });

  it.each(KERNELS.map((k) => [k.name, k] as const))('%s imports nothing and exports run', (_name, kernel) => {
    const mod = new WebAssembly.Module(loadKernelBytes(kernel));
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(WebAssembly.Module.exports(mod)).toContainEqual({ name: 'run', kind: 'function' });
  });

  it.each(KERNELS.map((k) => [k.name, k] as const))('%s gives the same result on wasmhive as on V8', async (_name, kernel) => {
    const bytes = loadKernelBytes(kernel);
    const onV8 = await v8Engine.instantiate(bytes);
    const onWasmhive = await wasmhiveEngine.instantiate(bytes);
    const want = onV8(kernel.testN);
    expect(typeof want).toBe(jsTypeOf(kernel.result));
    for (let call = 0; call < 2; call++) {
      const got = onWasmhive(kernel.testN);
      expect(sameResult(got, want), `run(${kernel.testN}) call ${call}: wasmhive ${formatResult(got)}, V8 ${formatResult(want)}`).toBe(true);
    }
  });
});

describe('bench harness', () => {
  it('selects kernels by name or substring', () => {
    expect(selectKernels(undefined)).toHaveLength(KERNELS.length);
    expect(selectKernels('fib').map((k) => k.name)).toEqual(['fib']);
    expect(selectKernels('sort,crc').map((k) => k.name)).toEqual(['crc32', 'sort']);
    expect(selectKernels('nothing-like-this')).toEqual([]);
  });

  it('takes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('compares results bit for bit', () => {
    expect(sameResult(1, 1)).toBe(true);
    expect(sameResult(0, -0)).toBe(false);
    expect(sameResult(NaN, NaN)).toBe(true);
    expect(sameResult(1n, 1)).toBe(false);
    expect(sameResult(-5n, -5n)).toBe(true);
  });

  it('rejects bad options with exit code 2', async () => {
    expect(await main(['--filter', 'nothing-like-this'])).toBe(2);
    expect(await main(['--no-such-option'])).toBe(2);
    expect(await main(['--part', 'everything'])).toBe(2);
  });

  it('runs a quick filtered bench and writes JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmhive-bench-'));
    try {
      const file = join(dir, 'out.json');
      expect(await main(['--quick', '--filter', 'fib', '--part', 'kernels', '--json', file])).toBe(0);
      const report = JSON.parse(readFileSync(file, 'utf8')) as {
        mode: string;
        failures: number;
        kernels: { kernel: string; ok: boolean; ratio: number; v8: { medianMs: number } }[];
      };
      expect(report.mode).toBe('quick');
      expect(report.failures).toBe(0);
      expect(report.kernels.map((k) => k.kernel)).toEqual(['fib']);
      expect(report.kernels[0]!.ok).toBe(true);
      expect(report.kernels[0]!.ratio).toBeGreaterThan(0);
      expect(report.kernels[0]!.v8.medianMs).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('actor bench', () => {
  const tiny: ActorsPlan = {
    ...ACTOR_PLANS.quick,
    samples: 1,
    roundTrips: 50,
    hostCalls: 50,
    speedMs: 10,
    spawnActors: 20,
    idleActors: 50,
    memoryInChild: false,
    spinners: 3,
    latencyCalls: 20,
    latencyCallsSpinning: 5,
    roundTripsSpinning: 5,
    snapshotMiB: [1],
    snapshotSamples: 1,
    scaleActors: 250,
    scaleBlock: 100,
  };

  it('measures every figure the issue asks for, from guests that did the work', async () => {
    const lines: string[] = [];
    const r = await benchActors(tiny, (l) => lines.push(l));
    expect(r.pingPong!.messagesPerSecond).toBeGreaterThan(0);
    // ping's and pong's fuel show the messages really went through the guests.
    expect(r.pingPong!.pingFuelPerRoundTrip).toBeGreaterThan(10);
    expect(r.pingPong!.pongFuelPerRoundTrip).toBeGreaterThan(10);
    expect(r.hostCall!.callsPerSecond).toBeGreaterThan(0);
    expect(r.spawn!.spawnsPerSecond).toBeGreaterThan(0);
    expect(r.memory!.actors).toBe(50);
    expect(r.memory!.wasmMemoryBytes).toBe(65536);
    expect(r.fairness!.spinning.p50).toBeGreaterThan(0);
    expect(r.fairness!.spinning.max).toBeGreaterThanOrEqual(r.fairness!.spinning.p99);
    expect(r.snapshots!.map((s) => s.actor)).toEqual([
      'counter after 100 messages',
      'probe grown to 1 MiB, new pages zero',
      'probe grown to 1 MiB, new pages random',
    ]);
    // Random pages do not compress: the snapshot holds them.
    expect(r.snapshots![2]!.bytes).toBeGreaterThan(900_000);
    expect(lines.some((l) => l.startsWith('ping <-> pong'))).toBe(true);
    const json = JSON.parse(actorsJsonLine(r)) as { actors: { pingPong: { samples?: unknown; messagesPerSecond: number } } };
    expect(json.actors.pingPong.messagesPerSecond).toBe(r.pingPong!.messagesPerSecond);
    expect(json.actors.pingPong.samples).toBeUndefined();
    // The spawn scale figure: every block timed, all of them alive and started.
    const sc = r.spawnScale!;
    expect(sc.actors).toBe(tiny.scaleActors);
    expect(sc.blocksPerSecond).toHaveLength(Math.ceil(tiny.scaleActors / tiny.scaleBlock));
    expect(sc.flatness).toBeCloseTo(sc.lastBlockPerSecond / sc.firstBlockPerSecond, 1);
    expect(sc.maxEventLoopDelayMs).toBeGreaterThanOrEqual(0);
    // Each bar is reported with its figure.
    expect(r.bars.spawnsPerSecond?.value).toBe(sc.perSecond);
    expect(r.bars.spawnFlatness?.value).toBe(sc.flatness);
    expect(r.bars.pingPongMessagesPerSecond?.value).toBe(r.pingPong!.messagesPerSecond);
    expect(r.bars.idleActorBytes?.met).toBe(r.memory!.rssBytes <= 80 * 1024);
  }, 60_000);

  it('runs only the figures asked for', async () => {
    const r = await benchActors(tiny, () => {}, new Set(['scale']));
    expect(r.spawnScale?.actors).toBe(tiny.scaleActors);
    expect(r.pingPong).toBeUndefined();
    expect(r.memory).toBeUndefined();
    expect(Object.keys(r.bars).sort()).toEqual(['spawnFlatness', 'spawnsPerSecond']);
  }, 60_000);



  it('ends the output of `bench --part actors` with one JSON object', async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
    try {
      expect(await main(['--quick', '--part', 'actors', '--actors', 'memory'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const last = JSON.parse(out[out.length - 1]!) as { actors: { memory: { actors: number } } };
    expect(last.actors.memory.actors).toBe(ACTOR_PLANS.quick.idleActors);
  }, 120_000);
});
