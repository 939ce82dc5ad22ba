/**
 * Smoke test of the benchmark: every kernel module is well formed and
 * import-free, and each one, run once at a small n, gives the same checksum
 * on wasmhive as on V8. A correctness test, not a timing one.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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
