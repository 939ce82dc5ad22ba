/**
 * The law of snapshots, on real programs (C for wasm32-wasi, test/programs):
 * cut a run at random instruction counts, snapshot it (VM and WASI state),
 * restore into a freshly compiled module, continue; the output, the exit
 * code, the final memory and the fuel used equal those of an uninterrupted
 * run. Then the same through the command line, in separate processes.
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { Instance, Memory, Module, readSnapshot, restore, snapshot, snapshotHostState, type Outcome } from '../src/vm/index.js';
import { Wasi, WasiExit } from '../src/bindings/index.js';
import { programBytes, PROGRAMS_DIR } from './programs/harness.js';

interface Ending {
  stdout: string;
  stderr: string;
  exit: number | string;
  memory: Buffer;
  used: number;
}

const ARGS: Record<string, string[]> = { hello: ['hello', 'x', 'yz'] };

/** Runs a program to its end, cutting it (snapshot, fresh module, restore) each time `cuts` says. */
function runCut(name: string, cuts: number[]): Ending {
  const bytes = programBytes(name);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const io = { stdout: (b: Uint8Array) => out.push(b.slice()), stderr: (b: Uint8Array) => err.push(b.slice()) };
  let wasi = new Wasi({ args: ARGS[name] ?? [name], env: { GREETING: 'hi' }, seed: 7, ...io });
  let inst = new Instance(new Module(bytes), wasi.imports);
  const bind = () => {
    const i = inst;
    wasi.bind(i.getExport('memory') as Memory, () => i.fuelUsed);
  };
  bind();
  let out_: Outcome;
  const left = [...cuts];
  inst.fuel = left.length > 0 ? left.shift()! : Infinity;
  out_ = inst.call('_start');
  while (out_.kind === 'out-of-fuel') {
    const snap = snapshot(inst, { host: { wasi: wasi.save() } });
    wasi.close();
    wasi = Wasi.restore(snapshotHostState(snap)['wasi'], io);
    inst = restore(new Module(bytes), snap, wasi.imports);
    bind();
    out_ = inst.resume({ fuel: left.length > 0 ? left.shift()! : Infinity });
  }
  wasi.close();
  const exit = out_.kind === 'done' ? 0 : out_.kind === 'trapped' ? (out_.trap instanceof WasiExit ? out_.trap.code : out_.trap.message) : out_.kind;
  return {
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    exit,
    memory: Buffer.from((inst.getExport('memory') as Memory).bytes()),
    used: inst.fuelUsed,
  };
}

const PROGRAMS = ['compute', 'qsort', 'i64', 'float', 'recurse', 'bigmalloc', 'hello', 'clockrand'];
const whole = new Map(PROGRAMS.map((p) => [p, runCut(p, [])] as const));

describe('snapshot, restore, continue equals an uninterrupted run', () => {
  it('runs every program to a normal end when not cut', () => {
    for (const [name, e] of whole) {
      expect(typeof e.exit, `${name}: ${e.exit}`).toBe('number');
      expect(e.stdout.length, name).toBeGreaterThan(0);
    }
  });

  it.each(PROGRAMS)('%s, cut at random instruction counts', (name) => {
    const w = whole.get(name)!;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: Math.max(2, Math.floor(w.used / 2)) }), { minLength: 1, maxLength: 3 }), (cuts) => {
        const e = runCut(name, cuts);
        expect(e.exit).toEqual(w.exit);
        expect(e.stdout).toEqual(w.stdout);
        expect(e.stderr).toEqual(w.stderr);
        expect(e.used).toEqual(w.used);
        expect(e.memory.equals(w.memory)).toBe(true);
      }),
      { numRuns: name === 'compute' || name === 'bigmalloc' ? 4 : 8 },
    );
  }, 120_000);

  it('bigmalloc restored before a memory.grow pays the same fuel for it (regression: the copy was charged by backing-store size, which a restore resets)', () => {
    const w = whole.get('bigmalloc')!;
    const e = runCut('bigmalloc', [5_542_964]);
    expect(e.used).toEqual(w.used);
    expect(e.stdout).toEqual(w.stdout);
    expect(e.memory.equals(w.memory)).toBe(true);
  }, 60_000);
});

describe('a snapshot restored in another thread', () => {
  it('continues there as it would have here', async () => {
    const bytes = programBytes('compute');
    const w = whole.get('compute')!;
    const wasi = new Wasi({ args: ['compute'], env: { GREETING: 'hi' }, seed: 7 });
    const inst = new Instance(new Module(bytes), wasi.imports);
    wasi.bind(inst.getExport('memory') as Memory, () => inst.fuelUsed);
    inst.fuel = Math.floor(w.used / 3);
    expect(inst.call('_start').kind).toBe('out-of-fuel');
    const snap = snapshot(inst, { host: { wasi: wasi.save() } });
    // The worker loads the built package (dist/), restores, runs to the end, and sends back what it saw.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.dist).then(({ Module, Memory, restore, snapshotHostState, Wasi, WasiExit }) => {
        const out = [];
        const wasi = Wasi.restore(snapshotHostState(workerData.snap).wasi, { stdout: (b) => out.push(Buffer.from(b)) });
        const inst = restore(new Module(workerData.bytes), workerData.snap, wasi.imports);
        wasi.bind(inst.getExport('memory'), () => inst.fuelUsed);
        const r = inst.resume({ fuel: Infinity });
        parentPort.postMessage({ kind: r.kind, exit: r.kind === 'trapped' && r.trap instanceof WasiExit ? r.trap.code : 0,
          stdout: Buffer.concat(out).toString(), used: inst.fuelUsed, memory: inst.getExport('memory').bytes().slice() });
      });`;
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const got = await new Promise<{ kind: string; exit: number; stdout: string; used: number; memory: Uint8Array }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { dist, snap, bytes } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const written = (snapshotHostState(snap)['wasi'] as { stats: { stdoutBytes: number } }).stats.stdoutBytes;
    expect(got.kind).toBe('done');
    expect(got.exit).toBe(w.exit);
    expect(got.stdout).toBe(Buffer.from(w.stdout).subarray(written).toString());
    expect(got.used).toBe(w.used);
    expect(Buffer.from(got.memory).equals(w.memory)).toBe(true);
  }, 60_000);
});

// The command line, in separate processes: run with snapshots, then resume each snapshot.
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wasmhive.js');
const tmp = mkdtempSync(join(tmpdir(), 'wasmhive-laws-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

describe('wasmhive run and resume, in separate processes', () => {
  it.each([
    ['compute', 7_000_000],
    ['qsort', 40_000],
    ['recurse', 300_000],
  ] as const)('%s: resuming from any of its snapshots gives the rest of the same output', (name, every) => {
    const prog = join(PROGRAMS_DIR, `${name}.wasm`);
    const dir = join(tmp, name);
    const full = cli(['run', '--snapshot-every', String(every), '--snapshot-dir', dir, prog]);
    expect(full.status, full.stderr).toBe(whole.get(name)!.exit);
    expect(full.stdout.toString()).toBe(whole.get(name)!.stdout);
    const snaps = readdirSync(dir).filter((f) => f.endsWith('.whsnap')).sort();
    expect(snaps.length).toBeGreaterThan(2);
    // Every snapshot for a short list, else a spread of them.
    const pick = snaps.length <= 6 ? snaps : [snaps[0]!, snaps[1]!, snaps[snaps.length >> 1]!, snaps[snaps.length - 2]!, snaps[snaps.length - 1]!];
    for (const s of pick) {
      const file = join(dir, s);
      const written = (snapshotHostState(readSnapshotFile(file))['wasi'] as { stats: { stdoutBytes: number } }).stats.stdoutBytes;
      const rest = cli(['resume', file, '--module', prog]);
      expect(rest.status, `${s}: ${rest.stderr}`).toBe(full.status);
      expect(rest.stdout.equals(full.stdout.subarray(written)), s).toBe(true);
    }
  }, 120_000);

  it('inspect prints the module hash, frames with names, fuel and the WASI state', () => {
    const dir = join(tmp, 'inspect');
    cli(['run', '--snapshot-every', '2000000', '--snapshot-dir', dir, join(PROGRAMS_DIR, 'compute.wasm')]);
    const file = join(dir, readdirSync(dir).sort()[0]!);
    const info = readSnapshot(readSnapshotFile(file));
    const r = cli(['inspect', file]);
    expect(r.status).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain(info.moduleHash);
    expect(text).toMatch(/paused: out of fuel/);
    expect(text).toMatch(/_start \(func \d+\)/);
    expect(text).toContain(`${info.fuelUsed} units used`);
    expect(text).toMatch(/wasi: args \["compute.wasm"\]/);
  });

  it('resume refuses a snapshot of another program with a clear error', () => {
    const dir = join(tmp, 'wrong');
    cli(['run', '--snapshot-every', '2000000', '--snapshot-dir', dir, join(PROGRAMS_DIR, 'compute.wasm')]);
    const file = join(dir, readdirSync(dir).sort()[0]!);
    const r = cli(['resume', file, '--module', join(PROGRAMS_DIR, 'qsort.wasm')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/SnapshotError: the snapshot is of another module/);
  });

  it('stops a run at --fuel with exit code 124', () => {
    const r = cli(['run', '--fuel', '100000', join(PROGRAMS_DIR, 'compute.wasm')]);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/out of fuel/);
  });
});

function readSnapshotFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
