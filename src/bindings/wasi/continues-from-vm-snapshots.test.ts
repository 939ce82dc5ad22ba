/**
 * What save() and restore() are for: a program stopped anywhere (out of
 * fuel at an arbitrary instruction), snapshotted with its WASI state inside
 * the VM snapshot, and restored (the Wasi first, then the instance linked to
 * the restored Wasi's imports) finishes exactly as an uninterrupted run:
 * same stdout, stderr, exit code and files, and under the virtual clock the
 * same times, since fuel counts on across the snapshot.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { instantiate, restore, snapshot, snapshotHostState, type Instance, type Memory, type Outcome } from '../../vm/index.js';
import { programModule, type RunResult } from '../../../test/programs/harness.js';
import { Wasi, WasiExit, type WasiIo, type WasiOptions } from './index.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-snapshots-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

interface CutRun extends RunResult {
  /** Snapshots taken and restored on the way. */
  restores: number;
  /** Fuel used in all. */
  fuel: number;
}

/**
 * Runs `name`, stopping when the fuel used reaches each of `cuts` (in
 * increasing order) to snapshot the instance with `wasi.save()` as host
 * state, drop both, and go on from the snapshot alone. The engine stops at
 * the end of the run of instructions that used up the fuel, so cuts closer
 * than that fall into one stop.
 */
function runWithCuts(name: string, options: Omit<WasiOptions, 'stdout' | 'stderr'>, cuts: number[]): CutRun {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const io: WasiIo = { stdin: options.stdin, stdout: (b) => out.push(Buffer.from(b)), stderr: (b) => err.push(Buffer.from(b)), mounts: options.mounts };
  const module = programModule(name);
  const attach = (wasi: Wasi, inst: Instance) => wasi.bind(inst.getExport('memory') as Memory, () => inst.fuelUsed);

  let wasi = new Wasi({ ...options, ...io });
  let inst = instantiate(module, wasi.imports);
  attach(wasi, inst);
  inst.fuel = cuts[0] ?? Infinity;
  let outcome: Outcome = inst.call('_start');
  let restores = 0;
  let last = -1;
  while (outcome.kind === 'out-of-fuel') {
    if (inst.fuelUsed === last) throw new Error(`no progress: stopped twice at ${last} units of fuel`);
    last = inst.fuelUsed;
    const bytes = snapshot(inst, { host: { wasi: wasi.save() } });
    wasi.close();
    wasi = Wasi.restore(snapshotHostState(bytes)['wasi'], io);
    inst = restore(module, bytes, wasi.imports);
    attach(wasi, inst);
    restores++;
    const next = cuts.find((c) => c > inst.fuelUsed);
    outcome = inst.resume({ fuel: next === undefined ? Infinity : next - inst.fuelUsed });
  }
  wasi.close();
  const base = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), restores, fuel: inst.fuelUsed };
  if (outcome.kind === 'done') return { ...base, exitCode: 0 };
  if (outcome.kind === 'trapped' && outcome.trap instanceof WasiExit) return { ...base, exitCode: outcome.trap.code };
  return { ...base, exitCode: null, trap: outcome.kind === 'trapped' ? outcome.trap.message : outcome.kind };
}

/**
 * Increasing, distinct cut points, at least 1000 units before the end: the
 * program's last run of instructions ends it without another stop.
 */
const cutsIn = (total: number, max: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: total - 1000 }), { minLength: 1, maxLength: max }).map((c) => c.sort((a, b) => a - b));

describe('programs cut at arbitrary instructions and continued from VM snapshots', () => {
  const cases: { name: string; options: Omit<WasiOptions, 'stdout' | 'stderr'>; runs: number; cuts: number }[] = [
    { name: 'hello', options: { args: ['hello', 'a', '7'], env: { GREETING: 'snap' } }, runs: 6, cuts: 3 },
    { name: 'stdin', options: { args: ['stdin'], stdin: new TextEncoder().encode('words on lines\n'.repeat(400)) }, runs: 6, cuts: 4 },
    { name: 'clockrand', options: { args: ['clockrand'], seed: 'cut', nsPerUnit: 7 }, runs: 8, cuts: 4 },
    { name: 'compute', options: { args: ['compute'] }, runs: 1, cuts: 3 },
  ];
  for (const c of cases) {
    it(`${c.name}: same output, exit code and (virtual) times as without cuts`, () => {
      const whole = runWithCuts(c.name, c.options, []);
      expect(whole.restores).toBe(0);
      expect(whole.trap).toBeUndefined();
      fc.assert(
        fc.property(cutsIn(whole.fuel, c.cuts), (cuts) => {
          const cut = runWithCuts(c.name, c.options, cuts);
          expect(cut.restores).toBeGreaterThanOrEqual(1);
          expect(cut.restores).toBeLessThanOrEqual(cuts.length);
          expect({ ...cut, restores: 0 }).toEqual({ ...whole, restores: 0 });
        }),
        { numRuns: c.runs },
      );
    });
  }

  it('files: same output and the same files on the host, with files open across cuts', () => {
    const run = (cuts: number[]) => {
      const mount = mkdtempSync(join(temp, 'files-'));
      const r = runWithCuts('files', { args: ['files', '/sandbox'], mounts: { '/sandbox': mount } }, cuts);
      return { ...r, restores: 0, files: readdirSync(mount).map((f) => `${f}: ${readFileSync(join(mount, f), 'utf8')}`) };
    };
    const whole = run([]);
    expect(whole.stdout).toContain('files: 0 failures');
    expect(whole.files).toEqual(['result.txt: written by files.c\n']);
    fc.assert(
      fc.property(cutsIn(whole.fuel, 6), (cuts) => {
        expect(run(cuts)).toEqual(whole);
      }),
      { numRuns: 8 },
    );
  });
});
