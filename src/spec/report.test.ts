/**
 * Tests of script discovery and reporting: finding scripts under the suite
 * root, a collection or a single script directory, features by proposal
 * directory, filters, and totals with and without SIMD.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTable, makeReport, matchesFilter } from './report.js';
import type { ScriptResult } from './runner.js';
import { discoverScripts, featuresFor, isSimdScript, specRoot } from './script.js';

const root = mkdtempSync(join(tmpdir(), 'wasmhive-spec-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
for (const p of ['core/i32', 'core/simd_lane', 'proposals/tail-call/return_call']) {
  const dir = join(root, p);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${p.split('/').pop()}.json`), '{"source_filename":"x.wast","commands":[]}');
}
mkdirSync(join(root, 'core', 'not-a-script'));

const result = (name: string, passed: number, failed: number, skipped = 0, msgMismatch = 0): ScriptResult => ({
  name,
  passed,
  failed,
  skipped,
  msgMismatch,
  failures: [],
  mismatches: [],
  ms: 1,
});

describe('finding scripts', () => {
  it('finds scripts in a collection, below the suite root, or a single script directory', () => {
    expect(discoverScripts(join(root, 'core')).map((s) => s.name)).toEqual(['i32', 'simd_lane']);
    expect(discoverScripts(root).map((s) => s.name)).toEqual(['core/i32', 'core/simd_lane', 'proposals/tail-call/return_call']);
    expect(discoverScripts(join(root, 'proposals')).map((s) => s.name)).toEqual(['tail-call/return_call']);
    const [one] = discoverScripts(join(root, 'core', 'i32'));
    expect(one).toMatchObject({ name: 'i32', json: join(root, 'core', 'i32', 'i32.json') });
  });

  it('enables the features of the proposal directory a script is in', () => {
    expect(featuresFor(join(root, 'proposals/tail-call/return_call'))).toEqual({ tailCall: true });
    expect(featuresFor('/x/proposals/multi-memory/load')).toEqual({ multiMemory: true });
    expect(featuresFor('/x/proposals/extended-const/global')).toEqual({ extendedConst: true });
    expect(featuresFor(join(root, 'core/i32'))).toEqual({});
  });

  it('finds the suite at $WASM_SPEC_DIR, else at the copy vendored in test/spec-suite', () => {
    expect(specRoot('/r/main', { WASM_SPEC_DIR: '/somewhere/spec' })).toBe('/somewhere/spec');
    expect(specRoot('/r/main', {})).toBe('/r/main/test/spec-suite');
    expect(specRoot('/r/main', { WASM_SPEC_DIR: '' })).toBe('/r/main/test/spec-suite');
  });
});

describe('filters', () => {
  it('matches whole names, last parts and globs', () => {
    expect(matchesFilter('core/i32', ['i32'])).toBe(true);
    expect(matchesFilter('core/i32', ['core/i32'])).toBe(true);
    expect(matchesFilter('core/simd_i32x4_arith', ['i32'])).toBe(false);
    expect(matchesFilter('simd_i32x4_arith', ['simd_*'])).toBe(true);
    expect(matchesFilter('tail-call/return_call', ['tail-call/*'])).toBe(true);
    expect(matchesFilter('f32.x', ['f32'])).toBe(false);
    expect(matchesFilter('anything', [])).toBe(true);
  });
});

describe('totals', () => {
  it('sums all scripts, those without simd_*, and simd_* alone', () => {
    const report = makeReport('e', '/d', [result('i32', 10, 1, 2, 1), result('simd_lane', 3, 4, 5), result('f32', 7, 0)]);
    expect(report.totals.all).toMatchObject({ scripts: 3, passed: 20, failed: 5, skipped: 7, msgMismatch: 1 });
    expect(report.totals.withoutSimd).toMatchObject({ scripts: 2, passed: 17, failed: 1, skipped: 2 });
    expect(report.totals.simd).toMatchObject({ scripts: 1, passed: 3, failed: 4, skipped: 5 });
    const table = formatTable(report);
    expect(table).toContain('total (3 scripts)');
    expect(table).toContain('without simd_* (2)');
    expect(isSimdScript('core/simd_lane')).toBe(true);
    expect(isSimdScript('core/i32')).toBe(false);
  });
});
