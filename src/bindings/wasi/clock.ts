/**
 * Clocks behind one small interface, so that the WASI layer does not know
 * whether time is real or virtual.
 *
 * The virtual clock makes a guest deterministic: its time is a function of
 * the work it has done (fuel units times `nsPerUnit`) plus the time it slept,
 * and sleeping takes no real time at all.
 */
import { ClockId } from './abi.js';

/** A source of time for the WASI clocks, in nanoseconds. */
export interface WasiClock {
  /** The current value of clock `id` (a `ClockId`), or null when there is no such clock. */
  now(id: number): bigint | null;
  /** The resolution of clock `id`, or null when there is no such clock. */
  resolution(id: number): bigint | null;
  /** Lets `ns` nanoseconds of REALTIME and MONOTONIC time pass (`ns` > 0). */
  sleep(ns: bigint): void;
}

/** The virtual clock's REALTIME at elapsed time 0 when none is given: 2024-01-01T00:00:00Z, in ns since the epoch. */
export const DEFAULT_START_TIME = 1_704_067_200_000_000_000n;

/** What a virtual clock needs to continue where it stopped. */
export interface VirtualClockState {
  /** REALTIME at elapsed time 0, ns since the epoch. */
  startTime: bigint;
  /** Virtual nanoseconds per fuel unit. */
  nsPerUnit: number;
  /** Nanoseconds skipped by sleeps so far. */
  slept: bigint;
  /** The largest elapsed time reported so far (keeps MONOTONIC non-decreasing whatever the fuel source does). */
  high: bigint;
}

/**
 * Deterministic time. With `fuel` the fuel units the guest has used so far:
 * - MONOTONIC = elapsed = fuel * nsPerUnit + time slept;
 * - REALTIME = startTime + elapsed;
 * - PROCESS_CPUTIME and THREAD_CPUTIME = fuel * nsPerUnit (sleeping uses no CPU).
 */
export class VirtualClock implements WasiClock {
  /** Fuel units used so far; set when the Wasi is bound to an instance. Until then no fuel is used and time moves only by sleeps. */
  fuelUsed: () => number = () => 0;
  private readonly s: VirtualClockState;

  constructor(state: VirtualClockState) {
    this.s = { ...state };
  }

  /** A copy of the clock's state. */
  state(): VirtualClockState {
    return { ...this.s };
  }

  /** Nanoseconds of work so far: floor(fuel * nsPerUnit). */
  private cpu(): bigint {
    const fuel = this.fuelUsed();
    if (!(Number.isFinite(fuel) && fuel >= 0)) throw new TypeError(`fuelUsed() returned ${fuel}, not a count of fuel units`);
    const ns = Math.floor(fuel * this.s.nsPerUnit);
    // A huge nsPerUnit (an option, or a restored state) overflows a double, even to Infinity: time stops at the top of a u64.
    return ns >= 2 ** 64 ? 2n ** 64n - 1n : BigInt(ns);
  }

  private elapsed(): bigint {
    const e = this.cpu() + this.s.slept;
    if (e > this.s.high) this.s.high = e;
    return this.s.high;
  }

  now(id: number): bigint | null {
    switch (id) {
      case ClockId.REALTIME: return this.s.startTime + this.elapsed();
      case ClockId.MONOTONIC: return this.elapsed();
      case ClockId.PROCESS_CPUTIME:
      case ClockId.THREAD_CPUTIME: return this.cpu();
      default: return null;
    }
  }

  resolution(id: number): bigint | null {
    if (!(id >= 0 && id <= 3)) return null;
    // Time moves in steps of one fuel unit (or 1 ns when a unit is less).
    return BigInt(Math.max(1, Math.ceil(this.s.nsPerUnit)));
  }

  sleep(ns: bigint): void {
    if (ns <= 0n) return;
    // At least `ns` past the time the guest last saw, even if the fuel source went back.
    const wake = this.elapsed() + ns;
    this.s.slept += ns;
    if (wake > this.s.high) this.s.high = wake;
  }
}

/** The host's clocks. Sleeping blocks the thread (Atomics.wait), as a native sleep would. */
export class RealClock implements WasiClock {
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));

  now(id: number): bigint | null {
    switch (id) {
      case ClockId.REALTIME:
        // timeOrigin + now() has sub-microsecond precision; Date.now() only milliseconds.
        return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
      case ClockId.MONOTONIC:
        return process.hrtime.bigint();
      case ClockId.PROCESS_CPUTIME:
      case ClockId.THREAD_CPUTIME: {
        // Node has no per-thread CPU clock; the process's is the closest.
        const u = process.cpuUsage();
        return BigInt(u.user + u.system) * 1000n;
      }
      default:
        return null;
    }
  }

  resolution(id: number): bigint | null {
    switch (id) {
      case ClockId.MONOTONIC: return 1n;
      case ClockId.REALTIME:
      case ClockId.PROCESS_CPUTIME:
      case ClockId.THREAD_CPUTIME: return 1000n;
      default: return null;
    }
  }

  sleep(ns: bigint): void {
    const deadline = process.hrtime.bigint() + ns;
    // Atomics.wait may wake early (and takes at most ~2^31 ms per call); wait until the deadline has really passed.
    for (let left = ns; left > 0n; left = deadline - process.hrtime.bigint()) {
      Atomics.wait(this.cell, 0, 0, Math.min(Number(left) / 1e6, 2 ** 31));
    }
  }
}
