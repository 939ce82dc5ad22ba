/**
 * Test helper: runs a prebuilt program of this folder as a WASI command,
 * either on our engine with our Wasi, or on V8 with Node's own `node:wasi`
 * as the reference. Both give the same result shape, so tests compare them.
 *
 * V8 runs in a child process (v8-wasi.mjs): isolated from the tests, with a
 * large stack and a GC flag that avoids a V8 crash (see there).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { instantiate, Memory, Module, type Func, type Value } from '../../src/vm/index.js';
import { Wasi, WasiExit, type WasiOptions } from '../../src/bindings/index.js';

/** This folder: the programs' sources and their built .wasm files. */
export const PROGRAMS_DIR = fileURLToPath(new URL('.', import.meta.url));

const execFileAsync = promisify(execFile);
const modules = new Map<string, Module>();

/** The bytes of `<name>.wasm`. */
export function programBytes(name: string): Uint8Array {
  return readFileSync(join(PROGRAMS_DIR, `${name}.wasm`));
}

/** How a program ended and what it wrote. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status; null when it crashed (see `trap`). */
  exitCode: number | null;
  /** The trap message when the program crashed rather than exited. */
  trap?: string;
}

/** The compiled module of `<name>.wasm` (compiled once per test file). */
export function programModule(name: string): Module {
  let mod = modules.get(name);
  if (mod === undefined) {
    mod = new Module(programBytes(name));
    modules.set(name, mod);
  }
  return mod;
}

/**
 * Runs `<name>.wasm` on our engine with a Wasi made from `options` (its
 * stdout and stderr are captured). The virtual clock runs on the engine's
 * fuel count unless `fuelUsed` says otherwise (`() => 0`: time moves only by
 * sleeps).
 */
export function runOnWasmhive(name: string, options: WasiOptions = {}, fuelUsed?: () => number): RunResult & { wasi: Wasi } {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const wasi = new Wasi({ ...options, stdout: (b) => out.push(b), stderr: (b) => err.push(b) });
  try {
    const inst = instantiate(programModule(name), wasi.imports);
    wasi.bind(inst.getExport('memory') as Memory, fuelUsed ?? (() => inst.fuelUsed));
    const outcome = inst.func('_start').invoke([]);
    const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');
    const base = { stdout: text(out), stderr: text(err), wasi };
    if (outcome.kind === 'done') return { ...base, exitCode: 0 };
    if (outcome.trap instanceof WasiExit) return { ...base, exitCode: outcome.trap.code };
    return { ...base, exitCode: null, trap: outcome.trap.message };
  } finally {
    wasi.close();
  }
}

/** What the V8 side gets: args, env, stdin bytes, and guest path -> host directory preopens. */
export interface V8RunOptions {
  args?: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array;
  preopens?: Record<string, string>;
}

/** Runs `<name>.wasm` on V8 with node:wasi, in a child process (see v8-wasi.mjs for why). */
export async function runOnV8(name: string, options: V8RunOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmhive-v8-'));
  try {
    const streams = { stdin: join(dir, 'stdin'), stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') };
    writeFileSync(streams.stdin, options.stdin ?? new Uint8Array(0));
    const job = {
      ...streams,
      wasm: join(PROGRAMS_DIR, `${name}.wasm`),
      args: options.args ?? [],
      env: options.env ?? {},
      preopens: options.preopens ?? {},
    };
    const runner = join(PROGRAMS_DIR, 'v8-wasi.mjs');
    const { stdout } = await execFileAsync(process.execPath, ['--no-warnings', '--no-incremental-marking', runner, JSON.stringify(job)], {
      maxBuffer: 1 << 20,
    });
    const result = JSON.parse(stdout) as { exitCode: number | null; trap?: string };
    const text = (p: string) => readFileSync(p, 'utf8');
    return { ...result, stdout: text(streams.stdout), stderr: text(streams.stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Calls one of a Wasi's functions directly, as the engine would call the
 * import (numbers are i32, bigints i64). Returns its errno; a trap (proc_exit's
 * WasiExit, or a failure) is thrown.
 */
export function callWasi(wasi: Wasi, name: string, ...args: (number | bigint)[]): number {
  const f = wasi.imports.wasi_snapshot_preview1?.[name] as Func | undefined;
  if (f === undefined) throw new Error(`no WASI function ${name}`);
  const out = f.invoke(args.map((a): Value => (typeof a === 'bigint' ? { type: 'i64', value: a } : { type: 'i32', value: a | 0 })));
  if (out.kind === 'trapped') throw out.trap;
  return out.results.length === 0 ? 0 : (out.results[0] as { value: number }).value;
}
