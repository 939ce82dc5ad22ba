/**
 * The fixed fuzz corpus (test/fuzz-corpus, see its README): every module runs
 * on V8's WebAssembly and on our engine, with the same host functions, every
 * export called in order; the logs, results, traps, memories and globals must
 * agree (scripts/fuzz-compare.ts says how). The corpus was chosen so that
 * every module finishes in milliseconds on both engines. Ours runs in both
 * tiers: the interpreter, and every function compiled (issue 16).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareRuns, runOurs, runV8 } from '../scripts/fuzz-compare.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fuzz-corpus');
const files = readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort();

describe('fuzz corpus: our engine agrees with V8', () => {
  it('has its modules', () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
  });

  it.each(files)('%s', (name) => {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    const v8 = runV8(bytes);
    for (const tier of ['interpreter', 'compiled'] as const) {
      const ours = runOurs(bytes, { tier });
      const mm = compareRuns(v8, ours);
      expect(mm === null ? null : `${tier}: ${mm.kind}\n${mm.detail}`).toBeNull();
      // The runs did something (or both engines rejected the module).
      if (v8.compile === 'ok') expect(ours.events.length).toBeGreaterThan(0);
    }
  });
});
