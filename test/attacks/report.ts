/**
 * Prints the before/after table of README.md from result files written by
 * run.ts (ATTACK_REPORT=file): one row per attack, its bound, and for each
 * file whether it held and its figures.
 *   node --import tsx test/attacks/report.ts before.jsonl after.jsonl
 */
import { readFileSync } from 'node:fs';
import { missed, type AttackRun } from './harness.js';
import { ATTACK_BARS } from './bounds.js';

function load(path: string): Map<string, AttackRun> {
  const out = new Map<string, AttackRun>();
  for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim() !== '') {
    const run = JSON.parse(line) as AttackRun;
    out.set(run.attack, run); // the last run of each attack
  }
  return out;
}

/** The figures of one run in a table cell. */
function cell(run: AttackRun | undefined, rssMB: number): string {
  if (run === undefined) return 'not run';
  const r = run.result;
  const bars = ATTACK_BARS[run.attack] ?? { rssMB };
  const verdict = missed(run, bars).length === 0 ? 'holds' : 'FAILS';
  if (run.killed === 'rss cap') return `${verdict}: killed at the ${rssMB > 0 ? '2 GiB' : ''} RSS cap (peak ${run.peakRssMB} MiB)`;
  if (run.killed === 'hang') return `${verdict}: hung (killed after ${Math.round(run.wallMs / 1000)} s), RSS ${run.peakRssMB} MiB`;
  if (r === null) return `${verdict}: crashed (${run.exitCode ?? run.signal}${run.fatal ? `, ${run.fatal.replace('FATAL ERROR: ', '')}` : ''}), RSS ${run.peakRssMB} MiB`;
  const lost = r.calls.planned - r.calls.answered;
  const parts = [
    `p99 ${r.latencyMs.p99 ?? '∞'} ms`,
    lost > 0 ? `${lost}/${r.calls.planned} calls unanswered` : '',
    r.calls.wrongAnswers > 0 ? `${r.calls.wrongAnswers} forged answers` : '',
    `RSS ${Math.max(run.peakRssMB, r.memoryMB.rssMax)} MiB`,
    `heap ${r.memoryMB.heapMax} MiB`,
    r.counted < r.acked ? `acked ${r.acked}, counted ${r.counted}` : '',
    ...(bars.check?.(r.counters) ?? []),
    typeof r.counters['setupError'] === 'string' ? `setup: ${r.counters['setupError']}` : '',
  ].filter((p) => p !== '');
  return `${verdict}: ${parts.join(', ')}`;
}

const files = process.argv.slice(2).map(load);
console.log(`| attack | RSS bound | ${process.argv.slice(2).map((f) => f.replace(/.*\//, '').replace('.jsonl', '')).join(' | ')} |`);
console.log(`|---|---|${files.map(() => '---').join('|')}|`);
for (const [name, bars] of Object.entries(ATTACK_BARS)) {
  console.log(`| ${name} | ${bars.rssMB} MiB | ${files.map((f) => cell(f.get(name), bars.rssMB)).join(' | ')} |`);
}
