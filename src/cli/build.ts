/**
 * `wasmhive build GUEST.ts|GUEST.c [-o OUT.wasm]`: builds a guest from any
 * folder. Paths are taken from the cwd. An AssemblyScript guest compiles
 * with the project's own `assemblyscript` (an optional peer dependency) and
 * the SDK's options (guest/assemblyscript/build.mjs), from the project's
 * root, so `import ... from "wasmhive/guest/assemblyscript"` resolves
 * through the project's node_modules. A C guest compiles with clang and
 * guest/c/wasmhive.h, with the flags in guest/c/clang-flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Default of --timeout: how long clang may run, in seconds. */
export const DEFAULT_CLANG_TIMEOUT_SECONDS = 120;

/** Why a build failed. */
export type GuestBuildErrorCode =
  | 'USAGE' // bad arguments
  | 'NOT_FOUND' // the source file does not exist
  | 'UNSUPPORTED' // neither .ts nor .c
  | 'ASSEMBLYSCRIPT_MISSING' // the project has no assemblyscript compiler
  | 'CLANG_MISSING' // no clang to run
  | 'SDK_MISSING' // this package lacks its guest SDK files
  | 'COMPILE_FAILED'; // the compiler refused the source (its diagnostics are in the message)

/** A build that did not produce a module; `code` says why. */
export class GuestBuildError extends Error {
  constructor(
    readonly code: GuestBuildErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GuestBuildError';
  }
}

/** Options of {@link buildGuest}. */
export interface BuildOptions {
  /** Output file (default: the source with `.wasm` for its extension, beside it). Relative to `cwd`. */
  out?: string;
  /** Folder relative paths start from (default process.cwd()). */
  cwd?: string;
  /** The clang to run for C guests (default `clang` on the PATH). */
  clang?: string;
  /** Seconds clang may run (default {@link DEFAULT_CLANG_TIMEOUT_SECONDS}). */
  timeoutSeconds?: number;
}

/** What {@link buildGuest} wrote. */
export interface BuildResult {
  /** The output file, absolute. */
  out: string;
  /** Its size in bytes. */
  bytes: number;
  /** The compiler's warnings, if any (clang's stderr). */
  warnings: string;
}

/** The part of guest/assemblyscript/build.mjs this command uses. */
interface AscBuilder {
  compileFile(file: string): Promise<Uint8Array>;
}

/** This package's root: two levels above src/cli/ and dist/cli/ alike. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const BUILD_USAGE = `Usage: wasmhive build [options] GUEST.ts|GUEST.c

Builds a guest actor from a folder of yours; paths are taken from the cwd.

  GUEST.ts   AssemblyScript: import the SDK as "wasmhive/guest/assemblyscript".
             Uses your project's compiler (npm i -D assemblyscript), compiled from
             your project's root (the nearest folder with a package.json) with the
             SDK's options (-O3, incremental GC, no source map): deterministic.
  GUEST.c    C: #include "wasmhive.h" (found in this package's guest/c). Needs clang
             and lld (Debian/Ubuntu: apt-get install clang lld); freestanding, no libc.

Options:
  -o, --out FILE      output (default: GUEST with .wasm for its extension)
  --clang PATH        the clang to run for C guests (default: clang on the PATH)
  --timeout SECONDS   how long clang may run (default ${DEFAULT_CLANG_TIMEOUT_SECONDS})
  -h, --help          this help

Exit codes: 0 built; 1 the build failed (the compiler's messages are shown, or what
is missing and how to install it); 2 usage (bad arguments, no such file, not .ts or .c).`;

/** The clang flags of C guests, from guest/c/clang-flags (its `compile:` and `link:` lines; # starts a comment). */
export function clangFlags(): { compile: string[]; link: string[] } {
  const file = resolve(PACKAGE_ROOT, 'guest/c/clang-flags');
  if (!existsSync(file)) throw new GuestBuildError('SDK_MISSING', `${file} is missing: this wasmhive package has no C SDK`);
  const flags = { compile: [] as string[], link: [] as string[] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(compile|link):(.*)$/.exec(line.trim());
    if (m !== null) flags[m[1] as 'compile' | 'link'].push(...m[2]!.trim().split(/\s+/).filter((f) => f !== ''));
  }
  return flags;
}

/** Builds one guest; throws {@link GuestBuildError} when it cannot. */
export async function buildGuest(source: string, options: BuildOptions = {}): Promise<BuildResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const src = resolve(cwd, source);
  if (!existsSync(src) || !statSync(src).isFile()) throw new GuestBuildError('NOT_FOUND', `${source}: no such file`);
  const ext = extname(src);
  if (ext !== '.ts' && ext !== '.c') {
    throw new GuestBuildError('UNSUPPORTED', `${source}: a guest is an AssemblyScript (.ts) or C (.c) file`);
  }
  const out = resolve(cwd, options.out ?? src.slice(0, -ext.length) + '.wasm');
  if (out === src) throw new GuestBuildError('USAGE', `${source}: the output would overwrite the source`);
  mkdirSync(dirname(out), { recursive: true });
  if (ext === '.ts') {
    writeFileSync(out, await compileAssemblyScript(src));
    return { out, bytes: statSync(out).size, warnings: '' };
  }
  const warnings = compileC(src, out, options);
  return { out, bytes: statSync(out).size, warnings };
}

async function compileAssemblyScript(src: string): Promise<Uint8Array> {
  const script = resolve(PACKAGE_ROOT, 'guest/assemblyscript/build.mjs');
  if (!existsSync(script)) throw new GuestBuildError('SDK_MISSING', `${script} is missing: this wasmhive package has no AssemblyScript SDK`);
  const builder = (await import(new URL('../../guest/assemblyscript/build.mjs', import.meta.url).href)) as AscBuilder;
  try {
    return await builder.compileFile(src);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    throw new GuestBuildError(code === 'ASSEMBLYSCRIPT_MISSING' ? 'ASSEMBLYSCRIPT_MISSING' : 'COMPILE_FAILED', message);
  }
}

/**
 * Runs clang twice, compiling then linking (a link with -O would run
 * whatever wasm-opt is on the PATH, so the bytes would depend on it); returns
 * the warnings.
 */
function compileC(src: string, out: string, options: BuildOptions): string {
  const flags = clangFlags();
  const work = mkdtempSync(join(tmpdir(), 'wasmhive-build-'));
  try {
    const obj = join(work, 'guest.o');
    const warnings = runClang([...flags.compile, '-I', resolve(PACKAGE_ROOT, 'guest/c'), '-c', '-o', obj, src], src, options);
    return warnings + runClang([...flags.link, '-o', out, obj], src, options);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs clang with args; returns what it printed, or throws GuestBuildError. */
function runClang(args: string[], src: string, options: BuildOptions): string {
  const clang = options.clang ?? 'clang';
  const timeout = (options.timeoutSeconds ?? DEFAULT_CLANG_TIMEOUT_SECONDS) * 1000;
  const r = spawnSync(clang, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new GuestBuildError(
        'CLANG_MISSING',
        `${clang} not found: C guests need clang and lld (Debian/Ubuntu: apt-get install clang lld; or pass --clang PATH)`,
      );
    }
    if (code === 'ETIMEDOUT') throw new GuestBuildError('COMPILE_FAILED', `${clang} ran longer than ${timeout / 1000} s`);
    throw new GuestBuildError('COMPILE_FAILED', `${clang}: ${r.error.message}`);
  }
  const diagnostics = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    const hint = /wasm-ld/.test(diagnostics) && /not found|doesn't exist|No such file/i.test(diagnostics)
      ? '\n(the WebAssembly linker is missing: apt-get install lld)'
      : '';
    throw new GuestBuildError('COMPILE_FAILED', `clang failed on ${src} (exit ${r.status ?? r.signal}):\n${diagnostics}${hint}`);
  }
  return diagnostics;
}

/** `wasmhive build` (argv without the command): returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let values: { out?: string; clang?: string; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        clang: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (e) {
    console.error(`wasmhive build: ${(e as Error).message}\n\n${BUILD_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(BUILD_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`wasmhive build: expected one GUEST.ts or GUEST.c, got ${positionals.length}\n\n${BUILD_USAGE}`);
    return 2;
  }
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      console.error(`wasmhive build: --timeout must be a positive number of seconds`);
      return 2;
    }
  }
  try {
    const r = await buildGuest(positionals[0]!, { out: values.out, clang: values.clang, timeoutSeconds });
    if (r.warnings !== '') process.stderr.write(r.warnings);
    console.log(`wrote ${relative(process.cwd(), r.out) || r.out} (${r.bytes} bytes)`);
    return 0;
  } catch (e) {
    if (e instanceof GuestBuildError) {
      console.error(`wasmhive build: ${e.message}`);
      return e.code === 'USAGE' || e.code === 'NOT_FOUND' || e.code === 'UNSUPPORTED' ? 2 : 1;
    }
    // Anything else (an output folder that cannot be made or written, say): a message, not a stack.
    console.error(`wasmhive build: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
