#!/usr/bin/env node
// Builds every AssemblyScript guest with the npm compiler (assemblyscript,
// a devDependency) and writes each `.wasm` next to its source:
//
//   node guest/assemblyscript/build.mjs            build all guests
//   node guest/assemblyscript/build.mjs --check    exit 1 if a committed .wasm is stale
//   node guest/assemblyscript/build.mjs test/guests/ring.ts ...   build some
//
// Output is optimized (-O3), has no source map and no debug names, and is
// deterministic: compilation runs from the repository root with relative
// paths (file names end up in abort messages), one guest at a time.
//
// Also a module: `compileGuest(source)` returns the bytes without writing.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import asc from 'assemblyscript/asc';

/** The repository root (two levels above this file). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Compiler options shared by every guest. */
export const ASC_OPTIONS = [
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--runtime', 'incremental',
  '--noColors',
];

/** Every guest source, relative to the repository root. */
export function guestSources() {
  const tests = readdirSync(join(ROOT, 'test/guests'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => `test/guests/${f}`);
  return [...tests, 'examples/counter/counter.ts'];
}

/**
 * Compiles one guest (path relative to the root, or absolute) and returns its
 * bytes. Throws with the compiler's diagnostics on error.
 */
export async function compileGuest(source) {
  const rel = relative(ROOT, resolve(ROOT, source)).split('\\').join('/');
  const outFile = rel.replace(/\.ts$/, '.wasm');
  let binary = null;
  let diagnostics = '';
  const stream = { write: (s) => { diagnostics += typeof s === 'string' ? s : Buffer.from(s).toString(); return true; } };
  const { error } = await asc.main([rel, '--baseDir', ROOT, '--outFile', outFile, ...ASC_OPTIONS], {
    stdout: stream,
    stderr: stream,
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = Uint8Array.from(contents);
      else throw new Error(`unexpected compiler output: ${name}`);
    },
  });
  if (error) throw new Error(`asc failed on ${rel}: ${error.message}\n${diagnostics}`);
  if (!binary) throw new Error(`asc produced no binary for ${rel}`);
  return binary;
}

/** Builds the given sources (default: all). With check, compares instead of writing. */
export async function build({ sources = guestSources(), check = false, log = console.log } = {}) {
  const stale = [];
  for (const source of sources) {
    const bytes = await compileGuest(source);
    const out = join(ROOT, source.replace(/\.ts$/, '.wasm'));
    let old = null;
    try { old = readFileSync(out); } catch { /* not built yet */ }
    const same = old !== null && Buffer.compare(old, Buffer.from(bytes)) === 0;
    if (check) {
      if (!same) stale.push(source);
      log(`${same ? 'ok     ' : 'STALE  '} ${source}`);
    } else {
      if (!same) writeFileSync(out, bytes);
      log(`${same ? 'same   ' : 'wrote  '} ${relative(ROOT, out)} (${bytes.length} bytes)`);
    }
  }
  return stale;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const named = args.filter((a) => !a.startsWith('--'));
  const stale = await build({ sources: named.length ? named : guestSources(), check });
  if (check && stale.length) {
    console.error(`stale: ${stale.join(', ')} (run node guest/assemblyscript/build.mjs)`);
    process.exit(1);
  }
}
