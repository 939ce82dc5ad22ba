/**
 * CoreMark in the benchmark set (issue 16): the committed module is
 * import-free, both engines return the same value for a small iteration
 * count, and CoreMark's self-validation passes on each (the known list,
 * matrix and state CRCs for the performance-run seeds, and crcfinal equal to
 * the upstream sources' own for that count). Correctness, not timing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import { formatResult, sameResult, v8Engine, wasmhiveEngine } from './engines.js';
import { main } from './index.js';
import {
  COREMARK_ITERATIONS,
  COREMARK_KNOWN,
  KNOWN_CRCFINAL,
  benchCoreMark,
  coremarkDir,
  coremarkProblem,
  decodeCoreMarkResult,
  loadCoreMarkBytes,
  runAndReport,
} from './coremark.js';

const n = COREMARK_ITERATIONS.testN;

describe('coremark', () => {
  it('is built from the vendored upstream sources, and the module imports nothing', () => {
    const dir = coremarkDir();
    for (const f of ['core_list_join.c', 'core_main.c', 'core_matrix.c', 'core_state.c', 'core_util.c', 'coremark.h', 'LICENSE.md', 'core_portme.c', 'core_portme.h', 'build.sh', 'UPSTREAM']) {
      expect(readFileSync(join(dir, f)).length, f).toBeGreaterThan(0);
    }
    const mod = new WebAssembly.Module(loadCoreMarkBytes());
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(WebAssembly.Module.exports(mod)).toContainEqual({ name: 'run', kind: 'function' });
    expect(WebAssembly.Module.exports(mod)).toContainEqual({ name: 'report', kind: 'function' });
  });

  it('gives the same value on wasmhive as on V8, CoreMark validates itself, and a second call repeats it', async () => {
    const bytes = loadCoreMarkBytes();
    const onV8 = await v8Engine.instantiate(bytes);
    const onWasmhive = await wasmhiveEngine.instantiate(bytes);
    const want = onV8(n);
    expect(coremarkProblem(want, n)).toBeUndefined();
    expect(want).toBe(KNOWN_CRCFINAL.get(n));
    for (let call = 0; call < 2; call++) {
      const got = onWasmhive(n);
      expect(sameResult(got, want), `run(${n}) call ${call}: wasmhive ${formatResult(got)}, V8 ${formatResult(want)}`).toBe(true);
    }
  });

  it("reads CoreMark's report on both engines: the known CRCs for the performance-run seeds", async () => {
    const bytes = loadCoreMarkBytes();
    const { instance } = await WebAssembly.instantiate(bytes, {});
    const vm = await import('../vm/index.js');
    const wasmhive = new vm.Instance(new vm.Module(bytes), {});
    for (const exports of [instance.exports, wasmhive.exports as Record<string, unknown>]) {
      const { result, report } = runAndReport(exports, n);
      expect(report).toEqual({
        failures: 0,
        knownId: 3,
        ...COREMARK_KNOWN,
        crcfinal: KNOWN_CRCFINAL.get(n),
        size: 666,
        iterations: n,
        errors: 0,
      });
      expect(result).toBe(report.crcfinal);
    }
    // Iterations below 1 would make CoreMark time itself: refused, and flagged.
    const { result } = runAndReport(instance.exports, 0);
    expect(decodeCoreMarkResult(result).failures).toEqual(['n < 1: not run']);
  });

  it('decodes failure bits and checks crcfinal against the known value', () => {
    expect(decodeCoreMarkResult(0x25b5)).toEqual({ crcfinal: 0x25b5, failures: [] });
    expect(coremarkProblem(0x25b5, 400)).toBeUndefined();
    expect(coremarkProblem(0x25b4, 400)).toMatch(/crcfinal 0x25b4 for 400 iterations, CoreMark's is 0x25b5/);
    expect(coremarkProblem(0x25b5 | (0x04 << 16), 400)).toMatch(/wrong matrix CRC/);
    expect(coremarkProblem(1n, 400)).toMatch(/not an i32/);
  });

  it('runs the bench part at a tiny size', async () => {
    const lines: string[] = [];
    const tiny = { warmupCalls: 1, warmupMs: 0, samples: 1, minSampleMs: 1, budgetMs: 100 };
    const r = await benchCoreMark('quick', (l) => lines.push(l), 2, { v8: tiny, wasmhive: tiny });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.result).toBe(KNOWN_CRCFINAL.get(2));
    expect(r.validation?.selfValidated).toBe(true);
    expect(r.validation?.crcfinalChecked).toBe(true);
    expect(r.validation?.report.seedcrc).toBe(0xe9f5);
    expect(r.ratio).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('coremark ratio wasmhive / V8: '))).toBe(true);
  });

  it('is a part of `wasmhive bench` writing coremarkRatio and coremark to the JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmhive-coremark-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const file = join(dir, 'out.json');
      expect(await main(['--quick', '--part', 'coremark', '--json', file])).toBe(0);
      const report = JSON.parse(readFileSync(file, 'utf8')) as {
        failures: number;
        coremarkRatio: number;
        coremark: { iterations: number; ok: boolean; ratio: number; validation: { selfValidated: boolean; report: { crcfinal: number } } };
      };
      expect(report.failures).toBe(0);
      expect(report.coremark.iterations).toBe(COREMARK_ITERATIONS.quickN);
      expect(report.coremark.ok).toBe(true);
      expect(report.coremark.validation.selfValidated).toBe(true);
      expect(report.coremark.validation.report.crcfinal).toBe(KNOWN_CRCFINAL.get(COREMARK_ITERATIONS.quickN));
      expect(report.coremarkRatio).toBe(report.coremark.ratio);
      expect(report.coremarkRatio).toBeGreaterThan(0);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
