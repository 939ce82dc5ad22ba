// `wasmhive build`, and guests from a user's project: the package as npm
// would install it (the files of `npm pack`), a project importing the SDK by
// package name, built from the project's folder and run in a hive.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHive } from '../../test/helpers/hive.js';
import { GuestBuildError, buildGuest, main } from './build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const hasClang = spawnSync('clang', ['--version']).status === 0 && spawnSync('wasm-ld', ['--version']).status === 0;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wasmhive-build-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** The error buildGuest rejects with. */
async function failure(p: Promise<unknown>): Promise<GuestBuildError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GuestBuildError) return e;
    throw e;
  }
  throw new Error('expected the build to fail');
}

describe('wasmhive build', () => {
  it('builds the repository\'s AssemblyScript counter from another cwd, byte for byte as build.mjs does', async () => {
    const out = join(tmp, 'as-counter.wasm');
    const r = await buildGuest(join(ROOT, 'examples/counter/counter.ts'), { cwd: tmp, out: 'as-counter.wasm' });
    expect(r.out).toBe(out);
    expect(Buffer.compare(readFileSync(out), readFileSync(join(ROOT, 'examples/counter/counter.wasm')))).toBe(0);
  }, 60_000);

  it('builds the C counter byte for byte as scripts/build-c-guests.sh does, or says clang is missing', async () => {
    const build = buildGuest('examples/c-counter/counter.c', { cwd: ROOT, out: join(tmp, 'c-counter.wasm') });
    if (hasClang) {
      await build;
      expect(Buffer.compare(readFileSync(join(tmp, 'c-counter.wasm')), readFileSync(join(ROOT, 'examples/c-counter/counter.wasm')))).toBe(0);
    } else {
      const e = await failure(build);
      expect(e.code).toBe('CLANG_MISSING');
    }
  });

  it('says how to install clang when there is none', async () => {
    const e = await failure(buildGuest('examples/c-counter/counter.c', { cwd: ROOT, out: join(tmp, 'x.wasm'), clang: join(tmp, 'no-clang') }));
    expect(e.code).toBe('CLANG_MISSING');
    expect(e.message).toContain('apt-get install clang lld');
  });

  it('stops a clang that runs past --timeout (default 120 s) and says so', async () => {
    const slow = join(tmp, 'slow-clang');
    writeFileSync(slow, '#!/bin/sh\nexec sleep 10\n', { mode: 0o755 });
    const started = Date.now();
    const e = await failure(buildGuest('examples/c-counter/counter.c', { cwd: ROOT, out: join(tmp, 'x.wasm'), clang: slow, timeoutSeconds: 0.5 }));
    expect(e.code).toBe('COMPILE_FAILED');
    expect(e.message).toContain('ran longer than 0.5 s');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports an output it cannot write as a message and status 1, not a stack trace', async () => {
    writeFileSync(join(tmp, 'a-file'), '');
    const errors: string[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      expect(await main([join(ROOT, 'examples/c-counter/counter.c'), '-o', join(tmp, 'a-file', 'out.wasm')])).toBe(1);
    } finally {
      console.error = log;
    }
    expect(errors.join('\n')).toMatch(/^wasmhive build: .*(EEXIST|ENOTDIR)/);
  });

  it('reports compile errors with the compiler\'s diagnostics (AssemblyScript and C)', async () => {
    writeFileSync(join(tmp, 'bad.ts'), 'export function main(): void { let x: i32 = "no"; }\n');
    const as = await failure(buildGuest('bad.ts', { cwd: tmp }));
    expect(as.code).toBe('COMPILE_FAILED');
    expect(as.message).toMatch(/TS2322|not assignable/);
    if (hasClang) {
      writeFileSync(join(tmp, 'bad.c'), '#include "wasmhive.h"\nHIVE_MAIN { hive_receive(); }\n');
      const c = await failure(buildGuest('bad.c', { cwd: tmp }));
      expect(c.code).toBe('COMPILE_FAILED');
      expect(c.message).toContain('too few arguments');
    }
  }, 60_000);

  it('refuses what it cannot build with a usage status: no file, other extensions, no or two arguments', async () => {
    writeFileSync(join(tmp, 'notes.txt'), 'hi');
    writeFileSync(join(tmp, 'same.ts'), 'export function main(): void {}\n');
    expect((await failure(buildGuest('missing.ts', { cwd: tmp }))).code).toBe('NOT_FOUND');
    expect((await failure(buildGuest('notes.txt', { cwd: tmp }))).code).toBe('UNSUPPORTED');
    expect((await failure(buildGuest('same.ts', { cwd: tmp, out: 'same.ts' }))).code).toBe('USAGE');
    const errors: string[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      expect(await main([])).toBe(2);
      expect(await main(['a.ts', 'b.ts'])).toBe(2);
      expect(await main(['--timeout', '0', 'a.ts'])).toBe(2);
      expect(await main([join(tmp, 'missing.ts')])).toBe(2);
    } finally {
      console.error = log;
    }
    expect(errors.join('\n')).toContain('no such file');
  });
});

describe('guests from a user\'s project', () => {
  /** The files `npm pack` puts in the tarball (no scripts run). */
  let packed: string[];
  beforeAll(() => {
    const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    packed = (JSON.parse(json) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  }, 60_000);

  it('the npm tarball holds docs/, every file the README links to, and both guest SDKs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(packed, link).toContain(link.replace(/^\.\//, ''));
    for (const f of [
      'docs/guest-abi.md', 'guest/assemblyscript/index.ts', 'guest/assemblyscript/assembly/index.ts',
      'guest/assemblyscript/build.mjs', 'guest/c/wasmhive.h', 'guest/c/clang-flags', 'examples/c-counter/counter.c',
    ]) {
      expect(packed).toContain(f);
    }
    // Test files and the C test guest stay out.
    expect(packed.filter((f) => f.endsWith('.test.ts') || f.startsWith('guest/c/echo'))).toEqual([]);
  });

  it('a project with wasmhive in node_modules builds a guest importing "wasmhive/guest/assemblyscript" and runs it', async () => {
    // The project, with the package installed as npm would (its packed files; the CLI's build.js transpiled
    // from src/cli/build.ts, since dist/ may be stale) and, at first, no AssemblyScript compiler.
    const project = join(tmp, 'my-actors');
    const pkg = join(project, 'node_modules', 'wasmhive');
    for (const f of packed.filter((p) => !p.startsWith('dist/'))) {
      mkdirSync(dirname(join(pkg, f)), { recursive: true });
      cpSync(join(ROOT, f), join(pkg, f));
    }
    const js = ts.transpileModule(readFileSync(join(ROOT, 'src/cli/build.ts'), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    mkdirSync(join(pkg, 'dist/cli'), { recursive: true });
    writeFileSync(join(pkg, 'dist/cli/build.js'), js);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-actors', private: true, type: 'module' }));
    mkdirSync(join(project, 'src'));
    writeFileSync(
      join(project, 'src/doubler.ts'),
      [
        'import { receive, reply } from "wasmhive/guest/assemblyscript";',
        'export function main(): void {',
        '  while (true) reply<i64>(receive<i64>() * 2);',
        '}',
        '',
      ].join('\n'),
    );
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(pkg, 'dist/cli/build.js'))}); process.exitCode = await m.main(process.argv.slice(1));`, ...args],
        { cwd: project, encoding: 'utf8' },
      );

    const missing = cli('src/doubler.ts');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('npm i -D assemblyscript');

    // The user installs the compiler (offline here: the repository's copy).
    symlinkSync(join(ROOT, 'node_modules/assemblyscript'), join(project, 'node_modules/assemblyscript'), 'dir');
    const built = cli('src/doubler.ts', '-o', 'build/doubler.wasm');
    expect(built.stderr).toBe('');
    expect(built.stdout.trim()).toMatch(/^wrote build\/doubler\.wasm \(\d+ bytes\)$/);
    expect(built.status).toBe(0);

    const { hive } = testHive();
    const doubler = hive.spawn<number, number>(join(project, 'build/doubler.wasm'));
    expect(await doubler.call(21)).toBe(42);
    expect(await doubler.call(-2_000_000_000)).toBe(-4_000_000_000);
    await hive.close();

    // build.mjs reached through a symlinked package (npm link, file: dependencies) runs instead of
    // silently doing nothing, takes paths from the cwd, and gives the same bytes.
    symlinkSync(pkg, join(project, 'node_modules/wasmhive-linked'), 'dir');
    const script = join(project, 'node_modules/wasmhive-linked/guest/assemblyscript/build.mjs');
    const viaLink = spawnSync(process.execPath, [script, 'src/doubler.ts'], { cwd: project, encoding: 'utf8' });
    expect(viaLink.status, viaLink.stderr).toBe(0);
    expect(viaLink.stdout).toContain('src/doubler.wasm');
    expect(Buffer.compare(readFileSync(join(project, 'src/doubler.wasm')), readFileSync(join(project, 'build/doubler.wasm')))).toBe(0);
    const nothing = spawnSync(process.execPath, [script], { cwd: project, encoding: 'utf8' });
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain('no guests to build here');
  }, 120_000);
});
