/**
 * Running many scripts and reporting on them: script filters, totals (all,
 * without `simd_*`, `simd_*` only), the text table the CLI and the vitest
 * suite print, the verbose failure listing, and the JSON report.
 */
import type { SpecEngine } from './engine.js';
import { runScript, type RunOptions, type ScriptResult } from './runner.js';
import { discoverScripts, isSimdScript, type ScriptRef } from './script.js';

/** Sums over a set of scripts. */
export interface Totals {
  scripts: number;
  passed: number;
  failed: number;
  skipped: number;
  msgMismatch: number;
  ms: number;
}

/** A whole run: every script's result and the totals. This is also the JSON the CLI writes. */
export interface SuiteReport {
  engine: string;
  dir: string;
  results: ScriptResult[];
  totals: { all: Totals; withoutSimd: Totals; simd: Totals };
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Whether a script name passes the filters: each filter is a name or a glob
 * (`*` matches anything), compared with the whole name (`core/i32`) and with
 * its last part (`i32`). No filters pass everything.
 */
export function matchesFilter(name: string, filters: readonly string[]): boolean {
  if (filters.length === 0) return true;
  const base = name.slice(name.lastIndexOf('/') + 1);
  return filters.some((f) => {
    const re = globToRegExp(f);
    return re.test(name) || re.test(base);
  });
}

/** Sums the results. */
export function totalsOf(results: readonly ScriptResult[]): Totals {
  const t: Totals = { scripts: 0, passed: 0, failed: 0, skipped: 0, msgMismatch: 0, ms: 0 };
  for (const r of results) {
    t.scripts++;
    t.passed += r.passed;
    t.failed += r.failed;
    t.skipped += r.skipped;
    t.msgMismatch += r.msgMismatch;
    t.ms += r.ms;
  }
  return t;
}

/** Builds a report from results. */
export function makeReport(engine: string, dir: string, results: ScriptResult[]): SuiteReport {
  return {
    engine,
    dir,
    results,
    totals: {
      all: totalsOf(results),
      withoutSimd: totalsOf(results.filter((r) => !isSimdScript(r.name))),
      simd: totalsOf(results.filter((r) => isSimdScript(r.name))),
    },
  };
}

/** Options of {@link runSuite}. */
export interface SuiteOptions extends RunOptions {
  /** Script filters (see {@link matchesFilter}). */
  filters?: readonly string[];
  /** Called after each script, e.g. for progress output. */
  onResult?: (result: ScriptResult, script: ScriptRef) => void;
}

/** Runs every script under `dir` (see `discoverScripts`) that passes the filters. */
export function runSuite(engine: SpecEngine, dir: string, options: SuiteOptions = {}): SuiteReport {
  const scripts = discoverScripts(dir).filter((s) => matchesFilter(s.name, options.filters ?? []));
  const results = scripts.map((s) => {
    const r = runScript(engine, s, options);
    options.onResult?.(r, s);
    return r;
  });
  return makeReport(engine.name, dir, results);
}

const NUM_COLUMNS = ['passed', 'failed', 'skipped', 'msg≠', 'ms'] as const;

function row(name: string, nums: number[], width: number): string {
  return name.padEnd(width) + nums.map((n) => String(n).padStart(9)).join('');
}

/**
 * The text table: one row per script (passed, failed, skipped, message
 * mismatches, milliseconds), then totals overall and without `simd_*` (the
 * latter only when both kinds are present).
 */
export function formatTable(report: SuiteReport): string {
  const names = report.results.map((r) => r.name);
  const width = Math.max(24, ...names.map((n) => n.length)) + 2;
  const lines = [row('script', [], width) + NUM_COLUMNS.map((c) => c.padStart(9)).join('')];
  const nums = (t: { passed: number; failed: number; skipped: number; msgMismatch: number; ms: number }): number[] => [
    t.passed,
    t.failed,
    t.skipped,
    t.msgMismatch,
    Math.round(t.ms),
  ];
  for (const r of report.results) lines.push(row(r.name, nums(r), width));
  lines.push('-'.repeat(width + 9 * NUM_COLUMNS.length));
  const { all, withoutSimd, simd } = report.totals;
  lines.push(row(`total (${all.scripts} scripts)`, nums(all), width));
  if (simd.scripts > 0 && withoutSimd.scripts > 0) {
    lines.push(row(`without simd_* (${withoutSimd.scripts})`, nums(withoutSimd), width));
    lines.push(row(`simd_* only (${simd.scripts})`, nums(simd), width));
  }
  return lines.join('\n');
}

/** A one-line summary of totals, e.g. `27801 passed, 0 failed, 111 skipped, 3 message mismatches`. */
export function formatTotals(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t.msgMismatch} message mismatches (${t.scripts} scripts, ${Math.round(t.ms)} ms)`;
}

/** Every recorded failure and message mismatch of one script, one per line (empty when there are none). */
export function formatDetails(r: ScriptResult): string {
  const lines: string[] = [];
  for (const f of r.failures) lines.push(`  FAIL ${r.name}:${f.line} ${f.command}: ${f.reason}`);
  const unrecorded = r.failed - r.failures.length;
  if (unrecorded > 0) lines.push(`  ... and ${unrecorded} more failures`);
  for (const m of r.mismatches) {
    lines.push(`  MSG  ${r.name}:${m.line} ${m.command}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`);
  }
  return lines.join('\n');
}
