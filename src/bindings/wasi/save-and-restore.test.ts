/**
 * save() and Wasi.restore(): the state is plain data that survives
 * MessagePack, and a restored Wasi continues exactly where the saved one
 * was: the virtual clock (given the instance's cumulative fuel), the random
 * stream, the byte counters, stdin's position, and open files at their
 * offsets. A restore that does not fit the host fails with WasiStateError.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { instantiate, Memory, type Instance } from '../../vm/index.js';
import { wat } from '../../../test/helpers/wat.js';
import { runOnWasmhive } from '../../../test/programs/harness.js';
import { Wasi, WasiStateError, type WasiIo, type WasiOptions, type WasiState } from './index.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-restore-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/**
 * A guest with no state of its own between calls (so a fresh instance can
 * take over), whose `tick` exercises what a Wasi keeps: both clocks, random
 * bytes, reading an open file (fd 4) and stdin, a 1 ms sleep, and stdout.
 * Results land at 0..32; `tick` returns the OR of the errnos.
 */
const REACTOR = wat(`(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "data.txt")
  (data (i32.const 300) "\\18\\00\\00\\00\\04\\00\\00\\00")  ;; iovec: 4 bytes at 24 (file)
  (data (i32.const 320) "\\1c\\00\\00\\00\\04\\00\\00\\00")  ;; iovec: 4 bytes at 28 (stdin)
  (data (i32.const 340) "\\18\\00\\00\\00\\08\\00\\00\\00")  ;; iovec: 8 bytes at 24 (to stdout)
  ;; subscription at 400: clock MONOTONIC, relative timeout 1 ms
  (data (i32.const 416) "\\01\\00\\00\\00\\00\\00\\00\\00\\40\\42\\0f\\00\\00\\00\\00\\00")
  (func (export "open") (result i32)
    ;; data.txt under the preopen (fd 3) with FD_READ|FD_SEEK|FD_TELL; the new fd goes to 200
    (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 8) (i32.const 0)
      (i64.const 0x26) (i64.const 0) (i32.const 0) (i32.const 200)))
  (func (export "tick") (result i32)
    (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or
      (call $clock (i32.const 1) (i64.const 0) (i32.const 0))
      (call $clock (i32.const 0) (i64.const 0) (i32.const 8)))
      (call $random (i32.const 16) (i32.const 8)))
      (call $read (i32.const 4) (i32.const 300) (i32.const 1) (i32.const 310)))
      (call $read (i32.const 0) (i32.const 320) (i32.const 1) (i32.const 330)))
      (call $poll (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600)))
      (call $write (i32.const 1) (i32.const 340) (i32.const 1) (i32.const 350)))))`);

const TICKS = 6;
const STDIN = new TextEncoder().encode('stdin bytes, four at a time.');

/** A directory with data.txt, and the run's settings. */
function scenario() {
  const dir = mkdtempSync(join(temp, 'mount-'));
  writeFileSync(join(dir, 'data.txt'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  const options: WasiOptions = { args: ['reactor', 'x'], env: { MODE: 'test' }, stdin: STDIN, seed: 'snapshot', nsPerUnit: 2, mounts: { '/m': dir } };
  return { dir, options };
}

/** Drives the reactor on one Wasi: a fuel counter the test advances (as the engine will), and a log of what each tick saw. */
class Run {
  fuel: number;
  /** Ticks of the logical run so far (including those another Run did before a copy). */
  done = 0;
  readonly stdout: Buffer[] = [];
  readonly ticks: string[] = [];
  inst!: Instance;

  constructor(fuel = 0) {
    this.fuel = fuel;
  }

  /** Instantiates the reactor on `wasi` (a fresh instance: nothing of the guest survives but what the Wasi keeps). */
  attach(wasi: Wasi): void {
    this.inst = instantiate(REACTOR, wasi.imports);
    wasi.bind(this.inst.getExport('memory') as Memory, () => this.fuel);
  }

  sink = (b: Uint8Array): void => {
    this.stdout.push(Buffer.from(b));
  };

  call(name: string): number {
    const out = this.inst.func(name).invoke([]);
    if (out.kind !== 'done') throw out.trap;
    return (out.results[0] as { value: number }).value;
  }

  tick(): void {
    this.fuel += 1000 + this.done++ * 37; // work between ticks
    expect(this.call('tick')).toBe(0);
    this.ticks.push(Buffer.from((this.inst.getExport('memory') as Memory).u8.subarray(0, 32)).toString('hex'));
  }
}

describe('a restored Wasi continues where the saved one stopped', () => {
  it('gives the same ticks, stdout and final state as an uninterrupted run, wherever it is cut', () => {
    const { dir, options } = scenario();
    const whole = new Run();
    const wasi = new Wasi({ ...options, stdout: whole.sink });
    whole.attach(wasi);
    expect(whole.call('open')).toBe(0);
    for (let t = 0; t < TICKS; t++) whole.tick();
    const finalState = wasi.save();
    wasi.close();
    expect(new Set(whole.ticks).size).toBe(TICKS); // every tick saw something new

    for (let cut = 0; cut <= TICKS; cut++) {
      const run = new Run();
      const first = new Wasi({ ...options, stdout: run.sink });
      run.attach(first);
      expect(run.call('open')).toBe(0);
      for (let t = 0; t < cut; t++) run.tick();
      const bytes = pack(first.save());
      first.close();

      const io: WasiIo = { stdin: STDIN, stdout: run.sink, mounts: { '/m': dir } };
      const second = Wasi.restore(unpack(bytes), io);
      run.attach(second); // a new instance; the fuel counter goes on, as the engine restores it
      for (let t = cut; t < TICKS; t++) run.tick();
      expect(run.ticks, `cut after ${cut} ticks`).toEqual(whole.ticks);
      expect(Buffer.concat(run.stdout)).toEqual(Buffer.concat(whole.stdout));
      expect(second.save()).toEqual(finalState);
      second.close();
    }
  });

  it('moves the clock on from where it was, not from the start', () => {
    const { options } = scenario();
    const run = new Run(5_000_000);
    const w = new Wasi(options);
    run.attach(w);
    run.call('open');
    run.tick();
    run.tick();
    const before = new DataView((run.inst.getExport('memory') as Memory).buffer).getBigUint64(0, true);
    const restored = Wasi.restore(unpack(pack(w.save())), { mounts: options.mounts });
    w.close();
    run.attach(restored);
    run.tick();
    const after = new DataView((run.inst.getExport('memory') as Memory).buffer).getBigUint64(0, true);
    // 1 ms slept in the last tick before the save, plus 1037 fuel units at 2 ns each.
    expect(after).toBeGreaterThan(before + 1_000_000n);
    restored.close();
  });

  it('keeps args, env, exit code and counters of a finished program', () => {
    const r = runOnWasmhive('hello', { args: ['hello', '9'], env: { GREETING: 'hey' } });
    const state = r.wasi.save();
    expect(state.exitCode).toBe(9);
    const back = Wasi.restore(unpack(pack(state)));
    expect(back.exitCode).toBe(9);
    expect(back.stats).toEqual(r.wasi.stats);
    expect(back.save()).toEqual(state);
  });

  it('saves only plain data: strings, finite numbers, booleans, null, arrays and plain objects', () => {
    const { options } = scenario();
    const run = new Run(123);
    const w = new Wasi(options);
    run.attach(w);
    run.call('open');
    run.tick();
    const walk = (x: unknown, path: string): void => {
      if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
      if (typeof x === 'number') {
        expect(Number.isFinite(x), path).toBe(true);
        return;
      }
      if (Array.isArray(x)) return x.forEach((y, i) => walk(y, `${path}[${i}]`));
      expect(Object.getPrototypeOf(x), path).toBe(Object.prototype);
      for (const [k, v] of Object.entries(x as object)) walk(v, `${path}.${k}`);
    };
    const state = w.save();
    walk(state, 'state');
    expect(state.fds.map((f) => f.kind)).toEqual(['stdio', 'stdio', 'stdio', 'dir', 'file']);
    expect(state.fds[4]).toMatchObject({ fd: 4, mount: '/m', path: 'data.txt', offset: 4 });
    expect(state.clock).toMatchObject({ mode: 'virtual', startTime: '1704067200000000000', nsPerUnit: 2, slept: '1000000' });
    expect(state.random).toEqual({ mode: 'seeded', seed: 'snapshot', position: 8 });
    w.close();
  });

  it('leaves the saved Wasi running on its own', () => {
    const { options } = scenario();
    const a = new Run(), b = new Run();
    const w = new Wasi(options);
    a.attach(w);
    a.call('open');
    a.tick();
    const copy = Wasi.restore(w.save(), { stdin: STDIN, mounts: options.mounts });
    b.attach(copy);
    b.fuel = a.fuel;
    b.done = a.done;
    a.tick();
    b.tick();
    expect(b.ticks[0]).toBe(a.ticks[1]);
    w.close();
    copy.close();
  });
});

describe('a restore that does not fit the host', () => {
  function savedWithOpenFile() {
    const { dir, options } = scenario();
    const run = new Run();
    const w = new Wasi(options);
    run.attach(w);
    run.call('open');
    const state = w.save();
    w.close();
    return { dir, state };
  }

  it('needs exactly the saved mounts', () => {
    const { dir, state } = savedWithOpenFile();
    expect(() => Wasi.restore(state)).toThrow(WasiStateError);
    expect(() => Wasi.restore(state, { mounts: {} })).toThrow(/mount "\/m", which io.mounts does not give/);
    expect(() => Wasi.restore(state, { mounts: { '/m': dir, '/other': dir } })).toThrow(/io.mounts gives "\/other"/);
    expect(() => Wasi.restore(state, { mounts: { '/m': join(temp, 'missing') } })).toThrow(/cannot restore: .*ENOENT/);
  });

  it('fails when an open file is gone', () => {
    const { dir, state } = savedWithOpenFile();
    renameSync(join(dir, 'data.txt'), join(dir, 'moved.txt'));
    expect(() => Wasi.restore(state, { mounts: { '/m': dir } })).toThrow(/cannot reopen fd 4 \(\/m\/data.txt\): ENOENT/);
  });

  it('will not follow a link placed where an open file was to outside the mount', () => {
    const { dir, state } = savedWithOpenFile();
    const outside = join(temp, 'outside-secret.txt');
    writeFileSync(outside, 'secret');
    rmSync(join(dir, 'data.txt'));
    symlinkSync(outside, join(dir, 'data.txt'));
    expect(() => Wasi.restore(state, { mounts: { '/m': dir } })).toThrow(/cannot reopen fd 4 \(\/m\/data.txt\): ELOOP/);
    symlinkSync('../..', join(dir, 'up'));
    state.fds.push({ fd: 5, kind: 'file', mount: '/m', path: 'up/x', offset: 0, rightsBase: 2, rightsInheriting: 0, flags: 0 });
    rmSync(join(dir, 'data.txt'));
    writeFileSync(join(dir, 'data.txt'), 'back');
    expect(() => Wasi.restore(state, { mounts: { '/m': dir } })).toThrow(/cannot reopen fd 5 \(\/m\/up\/x\): it does not resolve inside the mount \(WASI errno 76\)/);
  });

  it('fails when an open directory is now a file', () => {
    const dir = mkdtempSync(join(temp, 'mount-'));
    mkdirSync(join(dir, 'sub'));
    const state: WasiState = new Wasi({ mounts: { '/m': dir } }).save();
    state.fds.push({ fd: 4, kind: 'dir', mount: '/m', path: 'sub', preopen: false, rightsBase: 0, rightsInheriting: 0, flags: 0 });
    expect(Wasi.restore(state, { mounts: { '/m': dir } }).save().fds).toHaveLength(5);
    rmSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub'), '');
    expect(() => Wasi.restore(state, { mounts: { '/m': dir } })).toThrow(/fd 4 \(\/m\/sub\): not a directory any more/);
  });
});
