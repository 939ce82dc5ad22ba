/**
 * The cold-start part (./cold.ts): it runs (children from the TypeScript
 * sources through tsx here), reports finite ratios, and `--json` has
 * `coldOverWarm`; its reading of V8's traces picks out the interpreter's loop
 * among the functions called `run`. No performance threshold: the bar (1.3)
 * is reported by the bench, not tested (machines are noisy).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

import { benchCold, COLD_N, COLD_PLANS, othersFor, parseChildOutput, placeInLoop, type ColdPlan } from './cold.js';
import { main } from './index.js';
import { KERNELS, selectKernels } from './kernels.js';

const interpTs = fileURLToPath(new URL('../vm/interp.ts', import.meta.url));

describe('cold starts: reading the traces', () => {
  const lines = readFileSync(interpTs, 'utf8').split('\n');
  const selectLine = lines.findIndex((l) => /^\s*case K\.SELECT\s*:/.test(l)) + 2; // 1-based, the line after the label
  const url = `file://${interpTs}`;

  it('places a line of the loop in its case', () => {
    expect(placeInLoop(lines, selectLine)).toBe('K.SELECT');
    expect(placeInLoop(lines, lines.findIndex((l) => /^function run\(/.test(l)) + 2)).toBe('before the dispatch switch');
    expect(placeInLoop(lines, 3)).toBeUndefined();
  });

  it('counts the deoptimizations and compiles of the loop, not of other functions called run', () => {
    const sfi = '0x1b4698f7f0c1';
    const loop = `<JSFunction run <${url}> (sfi = ${sfi})>`;
    const out = [
      '@@cold phase warmup',
      `[compiling method 0x1 ${loop} (target TURBOFAN) OSR, mode: ConcurrencyMode::kConcurrent]`,
      `[compiling method 0x1 ${loop} (target TURBOFAN), mode: ConcurrencyMode::kConcurrent]`,
      '@@cold phase others',
      `[completed compiling 0x1 ${loop} (target TURBOFAN) - took 0.012, 687.418, 0.601 ms]`,
      // Lowerer.run and Validator.run are called run too.
      '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x2 <JSFunction run <file:///x/dist/vm/lower.js> (sfi = 0x3)>, 0x4 <Code TURBOFAN>, opt id 1, bytecode offset 12, deopt exit 0, FP to SP delta 32, caller SP 0x5, pc 0x6]',
      '[completed compiling 0x7 <JSFunction run <file:///x/dist/vm/validate.js> (sfi = 0x8)> (target TURBOFAN) - took 0.001, 2.000, 0.001 ms]',
      '@@cold phase first',
      `[bailout (kind: deopt-eager, reason: Insufficient type feedback for binary operation): begin. deoptimizing 0x1 ${loop}, 0x9 <Code TURBOFAN>, opt id 2, bytecode offset 810, deopt exit 236, FP to SP delta 1408, caller SP 0xa, pc 0xb]`,
      `            ;;; deoptimize at <${url}:${selectLine}:25>`,
      '  reading input frame run => bytecode_offset=810, args=9, height=164, retval=0(#0); inputs:',
      `[completed compiling 0x1 ${loop} (target TURBOFAN) OSR - took 0.010, 1022.560, 0.935 ms]`,
      '@@cold phase warm',
      '@@cold phase end',
      '@@cold result {"firstMs":3,"warmSamplesMs":[1,2]}',
    ].join('\n');
    const { trace, result, phasesSeen } = parseChildOutput(out);
    expect(phasesSeen).toEqual(['warmup', 'others', 'first', 'warm', 'end']);
    expect(result).toEqual({ firstMs: 3, warmSamplesMs: [1, 2] });
    expect(trace.sfis).toEqual([sfi]);
    expect(trace.deopts).toHaveLength(1);
    const d = trace.deopts[0]!;
    expect(d).toMatchObject({ phase: 'first', kind: 'deopt-eager', reason: 'Insufficient type feedback for binary operation', bytecodeOffset: 810 });
    expect(d.case).toBe('K.SELECT');
    expect(d.source).toBe(`interp.ts:${selectLine}`);
    expect(trace.compiles.map((c) => [c.phase, c.osr, c.executeMs])).toEqual([
      ['others', false, 687.418],
      ['first', true, 1022.56],
    ]);
    expect(trace.compilingAfterWarmUp).toBe(2);
    expect(trace.compilingAtFirst).toBe(1);
    expect(trace.otherDeopts).toEqual([{ phase: 'others', function: 'run', file: 'lower.js', reason: 'wrong map' }]);
  });

  it('has a size for every kernel, and runs others than the measured kernel before it', () => {
    for (const k of KERNELS) {
      expect(COLD_N[k.name], k.name).toBeGreaterThan(0);
      const others = othersFor(k, 3);
      expect(others).toHaveLength(3);
      expect(others.map((o) => o.name)).not.toContain(k.name);
    }
  });
});

describe('cold starts: the part', () => {
  const tiny: ColdPlan = { ...COLD_PLANS.quick, size: (k) => k.testN, othersSize: (k) => k.testN, others: 2, reps: 2, timeoutMs: 50_000 };

  it('measures each kernel in a child and reports finite ratios', async () => {
    const lines: string[] = [];
    const r = await benchCold(selectKernels('fib,crc32'), tiny, (l) => lines.push(l));
    expect(r.failures).toBe(0);
    expect(r.kernels.map((k) => k.kernel)).toEqual(['crc32', 'fib']);
    for (const k of r.kernels) {
      expect(k.ok, k.error).toBe(true);
      expect(Number.isFinite(k.ratio)).toBe(true);
      expect(k.firstMs).toBeGreaterThan(0);
      expect(k.warmSamplesMs).toHaveLength(2);
      expect(k.warmUpMs).toBeGreaterThan(0);
      expect(k.others!.map((o) => o.kernel)).not.toContain(k.kernel);
      expect(k.deoptsAfterWarmUp).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isFinite(r.coldOverWarm)).toBe(true);
    expect(r.maxRatio!.ratio).toBeGreaterThanOrEqual(r.coldOverWarm! * 0.999);
    expect(r.bar.value).toBe(1.3);
    expect(lines.some((l) => l.startsWith('coldOverWarm'))).toBe(true);
  }, 60_000);

  it('writes coldOverWarm at the top of the --json report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmhive-cold-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const file = join(dir, 'out.json');
      expect(await main(['--quick', '--part', 'cold', '--filter', 'fib', '--json', file])).toBe(0);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { coldOverWarm: number; cold: { kernels: { kernel: string; ratio: number }[] }; failures: number };
      expect(report.failures).toBe(0);
      expect(Number.isFinite(report.coldOverWarm)).toBe(true);
      expect(report.cold.kernels.map((k) => k.kernel)).toEqual(['fib']);
      expect(report.coldOverWarm).toBeCloseTo(report.cold.kernels[0]!.ratio, 10);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
