/**
 * Spec conformance: every script of the WebAssembly core testsuite and of the
 * proposals we implement (tail-call, extended-const, multi-memory), run on
 * wasmhive's VM through the runner in src/spec, one test per script. Any
 * failed command fails its script's test, except in `simd_*` scripts (SIMD is
 * not implemented yet), whose numbers are only printed. Totals are printed at
 * the end. The suite is the copy vendored in test/spec-suite (or $WASM_SPEC_DIR).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WasmhiveEngine } from '../src/spec/engines/wasmhive.js';
import { discoverScripts, formatDetails, formatTable, isSimdScript, makeReport, runScript, specRoot, type ScriptResult } from '../src/spec/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const interpreted = new WasmhiveEngine();
/** The compiled tier forced: every function compiled to JavaScript at its first call (issue 16). */
const compiled = new WasmhiveEngine({ tier: 'compiled' });

/** At most `max` lines of a failure listing. */
function clip(text: string, max: number): string {
  const lines = text.split('\n');
  return lines.length <= max ? text : [...lines.slice(0, max), `  ... (${lines.length - max} more lines)`].join('\n');
}

/** One test per script of a suite directory (features follow the directory, see featuresFor). */
function suite(name: string, dir: string, engine: WasmhiveEngine): void {
  const scripts = existsSync(dir) ? discoverScripts(dir) : [];
  const results: ScriptResult[] = [];
  describe(`spec testsuite (${name}, ${engine.name})`, () => {
    it('finds the testsuite', () => {
      if (!existsSync(dir)) {
        throw new Error(`spec testsuite not found at ${dir}: it is vendored in test/spec-suite (or set WASM_SPEC_DIR to a suite's root)`);
      }
      expect(scripts.length, `no scripts under ${dir}`).toBeGreaterThan(0);
    });

    for (const script of scripts) {
      it(script.name, () => {
        const r = runScript(engine, script);
        results.push(r);
        if (isSimdScript(script.name)) {
          console.log(`${r.name} (not gating): ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
          return;
        }
        if (r.failed > 0) {
          expect.fail(`${r.failed} of ${r.passed + r.failed} commands failed:\n${clip(formatDetails(r), 60)}`);
        }
      });
    }

    afterAll(() => {
      if (results.length === 0) return;
      const report = makeReport(engine.name, dir, results);
      // The totals rows of the table: all, without simd_*, simd_* only.
      const table = formatTable(report).split('\n');
      const dash = table.findIndex((l) => l.startsWith('---'));
      console.log([`spec totals (${engine.name}, ${name}):`, table[0], ...table.slice(dash)].join('\n'));
    });
  });
}

for (const engine of [interpreted, compiled]) {
  suite('core', join(specRoot(repoRoot), 'core'), engine);
  suite('proposals', join(specRoot(repoRoot), 'proposals'), engine);
}
