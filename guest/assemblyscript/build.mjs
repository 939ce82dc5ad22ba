#!/usr/bin/env node
// Builds AssemblyScript guests with the npm compiler (assemblyscript: a
// devDependency here, an optional peerDependency for users) and writes each
// `.wasm` next to its source:
//
//   node guest/assemblyscript/build.mjs            build the repository's guests
//   node guest/assemblyscript/build.mjs --check    exit 1 if a committed .wasm is stale
//   node guest/assemblyscript/build.mjs path/to/guest.ts ...   build some (paths from the cwd)
//
// Output is optimized (-O3), has no source map and no debug names, and is
// deterministic: each guest compiles from its project's root (the nearest
// folder above it with a package.json; for the repository's own guests, the
// repository root) with a relative path, since file names end up in abort
// messages; one guest at a time. So the output does not depend on the cwd.
//
// Also a module: `compileGuest(source)` returns the bytes of a repository
// guest, `compileFile(path)` those of any guest; `wasmhive build` uses them.

import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root (two levels above this file): the repository, or node_modules/wasmhive. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Compiler options shared by every guest. */
export const ASC_OPTIONS = [
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--runtime', 'incremental',
  '--noColors',
];

/** What to tell a user whose project has no AssemblyScript compiler. */
export const ASC_MISSING =
  'the AssemblyScript compiler is not installed: run `npm i -D assemblyscript` in your project';

/**
 * Every guest source of the repository, relative to its root. Empty in an
 * installed package, which ships the built guests without their sources.
 */
export function guestSources() {
  const dir = join(ROOT, 'test/guests');
  const tests = existsSync(dir)
    ? readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
      .sort()
      .map((f) => `test/guests/${f}`)
    : [];
  // No test guest sources: an installed package (it ships examples/counter, not its guests' build).
  if (tests.length === 0) return [];
  return [...tests, 'examples/counter/counter.ts', 'examples/services/visitor.ts', ...CHAT_GUESTS];
}

/** The chat example's actors (examples/chat; json.ts is a module they share, not a guest). */
const CHAT_GUESTS = ['examples/chat/directory.ts', 'examples/chat/room.ts', 'examples/chat/session.ts'];

/** The nearest folder at or above `dir` holding a package.json, or `dir` itself when there is none. */
export function projectRoot(dir) {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return resolve(dir);
  }
}

/**
 * Loads the AssemblyScript compiler (`assemblyscript/asc`), looked up from
 * each folder in turn as Node would from a file there (the user's project
 * first; this package last). Throws an Error with code
 * `ASSEMBLYSCRIPT_MISSING` when none has it.
 */
export async function loadAsc(fromDirs = [process.cwd()]) {
  for (const dir of [...fromDirs, ROOT]) {
    let path;
    try {
      // `assemblyscript/asc` is exported for `import` only; its "./*" entry lets require find the file.
      path = createRequire(join(resolve(dir), 'package.json')).resolve('assemblyscript/dist/asc.js');
    } catch {
      continue;
    }
    const mod = await import(pathToFileURL(path).href);
    return mod.default ?? mod;
  }
  throw Object.assign(new Error(ASC_MISSING), { code: 'ASSEMBLYSCRIPT_MISSING' });
}

/**
 * Compiles one guest: `source` relative to `baseDir` (default the
 * repository root) or absolute. Returns its bytes. Throws with the compiler's
 * diagnostics (code `COMPILE_FAILED`) on error.
 */
export async function compileGuest(source, { baseDir = ROOT, asc } = {}) {
  const rel = relative(baseDir, resolve(baseDir, source)).split(sep).join('/');
  const outFile = rel.replace(/\.ts$/, '.wasm');
  const compiler = asc ?? (await loadAsc([baseDir]));
  let binary = null;
  let diagnostics = '';
  const stream = { write: (s) => { diagnostics += typeof s === 'string' ? s : Buffer.from(s).toString(); return true; } };
  const { error } = await compiler.main([rel, '--baseDir', baseDir, '--outFile', outFile, ...ASC_OPTIONS], {
    stdout: stream,
    stderr: stream,
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = Uint8Array.from(contents);
      else throw new Error(`unexpected compiler output: ${name}`);
    },
  });
  if (error) throw Object.assign(new Error(`asc failed on ${rel}: ${error.message}\n${diagnostics}`), { code: 'COMPILE_FAILED' });
  if (!binary) throw Object.assign(new Error(`asc produced no binary for ${rel}`), { code: 'COMPILE_FAILED' });
  return binary;
}

/**
 * Compiles the guest at `file` (absolute, or relative to the cwd) from its
 * project's root, so the bytes depend neither on the cwd nor on where the
 * project lives. `wasmhive/guest/assemblyscript` imports resolve through the
 * project's node_modules.
 */
export async function compileFile(file, { asc } = {}) {
  const path = resolve(file);
  const baseDir = projectRoot(dirname(path));
  return compileGuest(relative(baseDir, path), { baseDir, asc: asc ?? (await loadAsc([baseDir, process.cwd()])) });
}

/** A source named on the command line (relative to the cwd) as build() takes it: relative to ROOT when inside it. */
function fromCwd(arg) {
  const abs = resolve(arg);
  const rel = relative(ROOT, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split(sep).join('/');
}

/** Builds the given sources (default: the repository's guests). With check, compares instead of writing. */
export async function build({ sources = guestSources(), check = false, log = console.log } = {}) {
  const stale = [];
  for (const source of sources) {
    const inRoot = !isAbsolute(source);
    const bytes = inRoot ? await compileGuest(source) : await compileFile(source);
    const out = resolve(ROOT, source.replace(/\.ts$/, '.wasm'));
    let old = null;
    try { old = readFileSync(out); } catch { /* not built yet */ }
    const same = old !== null && Buffer.compare(old, Buffer.from(bytes)) === 0;
    if (check) {
      if (!same) stale.push(source);
      log(`${same ? 'ok     ' : 'STALE  '} ${source}`);
    } else {
      if (!same) writeFileSync(out, bytes);
      log(`${same ? 'same   ' : 'wrote  '} ${inRoot ? relative(ROOT, out) : out} (${bytes.length} bytes)`);
    }
  }
  return stale;
}

/** True when this file is the script node was started with (also through a symlink, as in node_modules/.bin). */
function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const named = args.filter((a) => !a.startsWith('--')).map(fromCwd);
  const sources = named.length ? named : guestSources();
  if (sources.length === 0) {
    // An installed package has no guest sources of its own: say so rather than do nothing.
    console.error('build.mjs: no guests to build here; name the sources (paths from the cwd), or run `npx wasmhive build <guest.ts>`');
    process.exit(2);
  }
  try {
    const stale = await build({ sources, check });
    if (check && stale.length) {
      console.error(`stale: ${stale.join(', ')} (run node guest/assemblyscript/build.mjs)`);
      process.exit(1);
    }
  } catch (e) {
    console.error(`build.mjs: ${e.message}`);
    process.exit(1);
  }
}
