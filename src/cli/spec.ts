/**
 * `wasmhive spec DIR`: runs the spec testsuite's scripts under DIR (the core
 * directory, a proposals directory, the suite root, or one script's directory)
 * and prints a table per script plus totals; `--json FILE` writes the report.
 * Exits 1 when any command failed, 2 on usage errors.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine, ENGINE_NAMES, formatDetails, formatTable, formatTotals, runSuite } from '../spec/index.js';

/** Help text of the spec command. */
export const SPEC_USAGE = `Usage: wasmhive spec DIR [options]

Runs the WebAssembly spec testsuite scripts (wast2json output) under DIR:
the core directory, a proposals directory, the suite root, or one script's
directory. Text modules are skipped; every other command passes or fails.
Proposal features (tail-call, extended-const, multi-memory) are enabled for
scripts under a directory of that name.

Options:
  --json FILE        also write the results (per script and totals) as JSON
  --verbose, -v      list every failure and message mismatch
  --filter NAME      run only matching scripts; NAME is a script name (i32,
                     core/i32) or a glob (simd_*); repeatable, or comma-separated
  --engine NAME      wasmhive (default) or v8 (V8's WebAssembly, to check the runner)
  --help, -h         this help

Exit status: 0 when no command failed, 1 when some did, 2 on usage errors.`;

/** Runs the spec command; returns the exit status. */
export async function specCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        filter: { type: 'string', multiple: true },
        engine: { type: 'string', default: 'wasmhive' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`wasmhive spec: ${(e as Error).message}\n\n${SPEC_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(SPEC_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`wasmhive spec: expected one directory, got ${positionals.length}\n\n${SPEC_USAGE}`);
    return 2;
  }
  const dir = positionals[0]!;
  if (!existsSync(dir)) {
    console.error(`wasmhive spec: ${dir}: no such directory`);
    return 2;
  }
  const engineName = values.engine as (typeof ENGINE_NAMES)[number];
  if (!ENGINE_NAMES.includes(engineName)) {
    console.error(`wasmhive spec: unknown engine ${JSON.stringify(values.engine)} (known: ${ENGINE_NAMES.join(', ')})`);
    return 2;
  }
  const filters = (values.filter ?? []).flatMap((f) => f.split(',')).filter((f) => f !== '');

  const engine = await createEngine(engineName);
  const report = runSuite(engine, dir, { filters });
  if (report.results.length === 0) {
    console.error(`wasmhive spec: no scripts found under ${dir}${filters.length > 0 ? ` matching ${filters.join(', ')}` : ''}`);
    return 2;
  }

  console.log(formatTable(report));
  if (values.verbose) {
    const details = report.results.map(formatDetails).filter((d) => d !== '');
    if (details.length > 0) console.log('\n' + details.join('\n'));
  }
  console.log(`\n${engine.name}: ${formatTotals(report.totals.all)}`);
  if (report.totals.simd.scripts > 0 && report.totals.withoutSimd.scripts > 0) {
    console.log(`${engine.name} without simd_*: ${formatTotals(report.totals.withoutSimd)}`);
  }
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${values.json}`);
  }
  return report.totals.all.failed > 0 ? 1 : 0;
}
