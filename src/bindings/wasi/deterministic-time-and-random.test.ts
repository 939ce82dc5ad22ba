/**
 * Time and randomness: under the virtual clock and the seeded generator a
 * guest's run is a pure function of its inputs, the seed and its fuel; time
 * moves by fuel and by sleeps (which take no real time); the real modes use
 * the host's clocks, really sleep, and really are random.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '../../vm/index.js';
import { callWasi as call, runOnWasmhive } from '../../../test/programs/harness.js';
import { VirtualClock } from './clock.js';
import { Wasi } from './index.js';
import { SeededRandom } from './random.js';

/** The lines of clockrand's output that start with `prefix`. */
function line(stdout: string, prefix: string): string {
  const l = stdout.split('\n').find((x) => x.startsWith(prefix));
  if (l === undefined) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${stdout}`);
  return l;
}

/** The last integer on clockrand's line starting with `prefix`. */
function number(stdout: string, prefix: string): bigint {
  return BigInt(/(-?\d+)( ns)?$/.exec(line(stdout, prefix))![1]!);
}

const randomLines = (stdout: string) => stdout.split('\n').filter((l) => /^(getentropy|arc4random)/.test(l));
const timeLines = (stdout: string) => stdout.split('\n').filter((l) => !/^(getentropy|arc4random)/.test(l));

describe('clockrand under the virtual clock and the seeded generator', () => {
  it('with no fuel used, prints exactly the time it slept, from 2024-01-01 by default, taking no real time', () => {
    const t = performance.now();
    const r = runOnWasmhive('clockrand', { args: ['clockrand'] }, () => 0);
    expect(performance.now() - t).toBeLessThan(2000); // it sleeps 3 virtual seconds
    expect(r.exitCode).toBe(0);
    expect(timeLines(r.stdout)).toEqual([
      'monotonic resolution: 1 ns',
      'monotonic at start: 0',
      'realtime at start: 1704067200.000000000',
      'date at start: 2024-01-01 00:00:00 UTC',
      'cpu time at start: 0',
      'nanosleep(1.5 ms): monotonic advanced 1500000 ns',
      'usleep(250 ms): monotonic advanced 250000000 ns',
      'sleep(1): monotonic advanced 1000000000 ns',
      'poll(no fds, 20 ms): monotonic advanced 20000000 ns',
      'poll(stdout, 5 s): 1 ready, POLLOUT=1, waited under 1 s: 1',
      'clock_nanosleep(REALTIME, until start + 3 s): realtime is start + 3000000000 ns',
      'clock_nanosleep(MONOTONIC, +5 ms absolute): reached=1',
      'monotonic elapsed in total: 3005000000 ns',
      'monotonic never went back: 1',
      'date at end: 2024-01-01 00:00:03 UTC',
      '',
    ]);
  });

  it('gives the same output for the same seed, and other random bytes (only) for another seed', () => {
    const a = runOnWasmhive('clockrand', { args: ['clockrand'], seed: 42 });
    const b = runOnWasmhive('clockrand', { args: ['clockrand'], seed: 42 });
    const c = runOnWasmhive('clockrand', { args: ['clockrand'], seed: 'another seed' });
    const d = runOnWasmhive('clockrand', { args: ['clockrand'] }); // seed 0
    expect(a.stdout).toBe(b.stdout);
    expect(timeLines(c.stdout)).toEqual(timeLines(a.stdout));
    const randoms = [a, c, d].map((r) => randomLines(r.stdout));
    expect(randoms[0]).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(new Set(randoms.map((x) => x[i])).size).toBe(3);
  });

  it('starts REALTIME at startTime', () => {
    const r = runOnWasmhive('clockrand', { args: ['clockrand'], startTime: 86_400_000_000_123n }, () => 0);
    expect(line(r.stdout, 'realtime at start')).toBe('realtime at start: 86400.000000123');
    expect(line(r.stdout, 'date at start')).toBe('date at start: 1970-01-02 00:00:00 UTC');
    const n = runOnWasmhive('clockrand', { args: ['clockrand'], startTime: 0 }, () => 0);
    expect(line(n.stdout, 'date at end')).toBe('date at end: 1970-01-01 00:00:03 UTC');
  });

  it('moves all clocks with the engine\'s fuel, at nsPerUnit, the same way on every run', () => {
    const a = runOnWasmhive('clockrand', { args: ['clockrand'], nsPerUnit: 3 });
    const b = runOnWasmhive('clockrand', { args: ['clockrand'], nsPerUnit: 3 });
    expect(a.stdout).toBe(b.stdout);
    const cpu = number(a.stdout, 'cpu time at start');
    expect(cpu).toBeGreaterThan(0n);
    expect(cpu % 3n).toBe(0n);
    expect(number(a.stdout, 'monotonic at start')).toBeGreaterThan(0n);
    expect(number(a.stdout, 'monotonic at start')).toBeLessThan(cpu); // read before the CPU time, with less work done
    // Work takes time too, so every interval is longer than the sleep alone.
    expect(number(a.stdout, 'nanosleep(1.5 ms)')).toBeGreaterThan(1_500_000n);
    expect(number(a.stdout, 'monotonic elapsed in total')).toBeGreaterThan(3_005_000_000n);
    expect(line(a.stdout, 'monotonic never went back')).toBe('monotonic never went back: 1');
    // Ten times the ns per unit: ten times the time for the same work (a little more work: longer numbers to print).
    const slowerCpu = number(runOnWasmhive('clockrand', { args: ['clockrand'], nsPerUnit: 30 }).stdout, 'cpu time at start');
    expect(slowerCpu % 30n).toBe(0n);
    expect(slowerCpu).toBeGreaterThanOrEqual(cpu * 10n);
    expect(slowerCpu).toBeLessThan(cpu * 11n);
  });
});

describe('real clocks and real randomness', () => {
  it('really sleeps, reads the host clock, and gives different random bytes each run', () => {
    const t = performance.now();
    const a = runOnWasmhive('clockrand', { args: ['clockrand'], clock: 'real', random: 'real' });
    const wall = performance.now() - t;
    expect(a.exitCode).toBe(0);
    expect(wall).toBeGreaterThanOrEqual(2990); // sleeps until start + 3 s of REALTIME
    expect(number(a.stdout, 'sleep(1)')).toBeGreaterThanOrEqual(1_000_000_000n);
    expect(number(a.stdout, 'usleep(250 ms)')).toBeGreaterThanOrEqual(250_000_000n);
    expect(number(a.stdout, 'monotonic elapsed in total')).toBeGreaterThanOrEqual(3_000_000_000n);
    const realtime = Number(line(a.stdout, 'realtime at start').split(': ')[1]) * 1000;
    expect(Math.abs(realtime - Date.now())).toBeLessThan(60_000);
    const b = runOnWasmhive('clockrand', { args: ['clockrand'], clock: 'virtual', random: 'real' });
    expect(randomLines(b.stdout)).not.toEqual(randomLines(a.stdout));
  });
});


describe('poll_oneoff on the virtual clock', () => {
  const MONOTONIC = 1, REALTIME = 0, CPUTIME = 2;
  /** A Wasi on a fresh memory, and helpers to write subscriptions and read events and times. */
  function rig() {
    const wasi = new Wasi();
    const memory = new Memory({ initial: 1 });
    wasi.bind(memory);
    const dv = () => new DataView(memory.buffer);
    const clockSub = (i: number, userdata: number, id: number, timeout: bigint, abs = false) => {
      const p = 48 * i;
      dv().setBigUint64(p, BigInt(userdata), true);
      dv().setUint8(p + 8, 0);
      dv().setUint32(p + 16, id, true);
      dv().setBigUint64(p + 24, timeout, true);
      dv().setUint16(p + 40, abs ? 1 : 0, true);
    };
    const fdSub = (i: number, userdata: number, type: 1 | 2, fd: number) => {
      const p = 48 * i;
      dv().setBigUint64(p, BigInt(userdata), true);
      dv().setUint8(p + 8, type);
      dv().setUint32(p + 16, fd, true);
    };
    const poll = (n: number) => {
      expect(call(wasi, 'poll_oneoff', 0, 1024, n, 2048)).toBe(0);
      const count = dv().getUint32(2048, true);
      return Array.from({ length: count }, (_, k) => ({
        userdata: Number(dv().getBigUint64(1024 + 32 * k, true)),
        error: dv().getUint16(1024 + 32 * k + 8, true),
        type: dv().getUint8(1024 + 32 * k + 10),
      }));
    };
    const now = (id: number) => {
      expect(call(wasi, 'clock_time_get', id, 0n, 4000)).toBe(0);
      return dv().getBigUint64(4000, true);
    };
    return { wasi, memory, clockSub, fdSub, poll, now };
  }

  it('lets the host move the virtual clocks forward, never back, and not the real ones', () => {
    const { wasi, now } = rig();
    const before = now(MONOTONIC);
    wasi.advanceClock(5_000_000_000n);
    expect(now(MONOTONIC) - before).toBe(5_000_000_000n);
    expect(now(REALTIME)).toBe(1_704_067_200_000_000_000n + now(MONOTONIC));
    expect(now(CPUTIME)).toBe(0n);
    expect(() => wasi.advanceClock(-1)).toThrow(RangeError);
    expect(() => new Wasi({ clock: 'real' }).advanceClock(1)).toThrow(TypeError);
  });

  it('jumps to the earliest of several timeouts and reports only the timers due then', () => {
    const { clockSub, poll, now } = rig();
    clockSub(0, 1, MONOTONIC, 5_000n);
    clockSub(1, 2, MONOTONIC, 2_000n);
    clockSub(2, 3, REALTIME, 2_000n);
    clockSub(3, 4, MONOTONIC, 9_000n);
    expect(poll(4)).toEqual([
      { userdata: 2, error: 0, type: 0 },
      { userdata: 3, error: 0, type: 0 },
    ]);
    expect(now(MONOTONIC)).toBe(2_000n);
  });

  it('takes absolute deadlines on either clock, and fires past ones at once', () => {
    const { clockSub, poll, now } = rig();
    const start = now(REALTIME);
    clockSub(0, 1, REALTIME, start + 7_000n, true);
    expect(poll(1)).toEqual([{ userdata: 1, error: 0, type: 0 }]);
    expect(now(REALTIME)).toBe(start + 7_000n);
    clockSub(0, 2, MONOTONIC, 10_000n, true);
    expect(poll(1)).toHaveLength(1);
    expect(now(MONOTONIC)).toBe(10_000n);
    clockSub(0, 3, MONOTONIC, 4_000n, true); // in the past
    expect(poll(1)).toEqual([{ userdata: 3, error: 0, type: 0 }]);
    expect(now(MONOTONIC)).toBe(10_000n);
  });

  it('lets no time pass when a descriptor is ready, and reports bad subscriptions as error events', () => {
    const { wasi, memory, clockSub, fdSub, poll, now } = rig();
    clockSub(0, 1, MONOTONIC, 1_000_000n);
    fdSub(1, 2, 2, 1); // stdout writable
    expect(poll(2)).toEqual([{ userdata: 2, error: 0, type: 2 }]);
    expect(now(MONOTONIC)).toBe(0n);
    fdSub(1, 3, 1, 99);
    expect(poll(2)).toEqual([{ userdata: 3, error: 8, type: 1 }]); // EBADF
    clockSub(1, 4, CPUTIME, 10n);
    expect(poll(2)[0]).toEqual({ userdata: 4, error: 58, type: 0 }); // ENOTSUP: CPU time does not pass while sleeping
    clockSub(1, 5, 77, 10n);
    expect(poll(2)[0]).toEqual({ userdata: 5, error: 28, type: 0 }); // EINVAL
    memory.u8[8] = 9;
    expect(call(wasi, 'poll_oneoff', 0, 1024, 1, 2048)).toBe(28); // unknown subscription type
  });
});

describe('the virtual clock itself', () => {
  it('never goes back, whatever the fuel source does', () => {
    const c = new VirtualClock({ startTime: 100n, nsPerUnit: 1, slept: 0n, high: 0n });
    let fuel = 500;
    c.fuelUsed = () => fuel;
    expect(c.now(1)).toBe(500n);
    fuel = 200;
    expect(c.now(1)).toBe(500n);
    expect(c.now(0)).toBe(600n);
    c.sleep(1000n);
    expect(c.now(1)).toBe(1500n);
    expect(c.now(2)).toBe(200n); // CPU time is the work done, not sleeps
    expect(c.now(4)).toBeNull();
  });

  it('scales fuel by a fractional nsPerUnit, and refuses a fuel count that is not a number', () => {
    const c = new VirtualClock({ startTime: 0n, nsPerUnit: 0.25, slept: 0n, high: 0n });
    c.fuelUsed = () => 10;
    expect(c.now(1)).toBe(2n);
    c.fuelUsed = () => Number.NaN;
    expect(() => c.now(1)).toThrow(/fuelUsed\(\) returned NaN/);
  });

  it('saturates at 2^64 - 1 ns under a huge nsPerUnit, from an option or a restored state (was: a RangeError thrown through clock_time_get)', () => {
    const memory = new Memory({ initial: 1 });
    const now = (w: Wasi, id: number) => {
      expect(call(w, 'clock_time_get', id, 0n, 0)).toBe(0);
      return new DataView(memory.buffer).getBigUint64(0, true);
    };
    const w = new Wasi({ nsPerUnit: 1e308 });
    w.bind(memory, () => 1e10);
    for (const id of [0, 1, 2, 3]) expect(now(w, id)).toBe(2n ** 64n - 1n);
    const state = w.save();
    const r = Wasi.restore(state);
    r.bind(memory, () => 1e10);
    expect(now(r, 1)).toBe(2n ** 64n - 1n);
    expect(call(r, 'poll_oneoff', 64, 128, 1, 256)).toBe(0); // a zeroed subscription: a relative clock timeout of 0
  });
});

describe('the seeded generator', () => {
  it('is one stream, however it is read', () => {
    const whole = new Uint8Array(200_000);
    new SeededRandom('s').fill(whole);
    const pieces = new SeededRandom('s');
    const parts = [5, 27, 1, 16, 65_536, 3, 100_000];
    const joined = new Uint8Array(parts.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const n of parts) {
      pieces.fill(joined.subarray(at, at + n));
      at += n;
    }
    expect(Buffer.from(joined).equals(Buffer.from(whole.subarray(0, at)))).toBe(true);
    expect(pieces.position).toBe(at);
    // Resuming at a position gives the rest of the same stream.
    const resumed = new Uint8Array(1000);
    new SeededRandom('s', 12_345).fill(resumed);
    expect(Buffer.from(resumed).equals(Buffer.from(whole.subarray(12_345, 13_345)))).toBe(true);
  });

  it('differs between seeds, and does not look constant', () => {
    const a = new Uint8Array(64), b = new Uint8Array(64);
    new SeededRandom('0').fill(a);
    new SeededRandom('1').fill(b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(new Set(a).size).toBeGreaterThan(32);
  });

  it('counts a number seed as its decimal string', () => {
    const run = (seed: number | string) => runOnWasmhive('clockrand', { args: ['clockrand'], seed }).stdout;
    expect(run(7)).toBe(run('7'));
  });
});
