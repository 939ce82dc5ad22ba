/**
 * Time, injected. Everything in the runtime that waits (receive and call
 * timeouts, sleeps, supervisor restart periods) reads and waits on a Clock,
 * so that tests drive time by hand and get the same results every run.
 */

/** A timer set on a clock, to cancel it. */
export type TimerHandle = { readonly id: number };

/** The time source of a hive: milliseconds since the Unix epoch, and timers on that scale. */
export interface Clock {
  /** The current time in milliseconds since the Unix epoch (may be fractional). */
  now(): number;
  /** Calls `fn` once when `now()` reaches `at` (or soon after). */
  setTimer(at: number, fn: () => void): TimerHandle;
  /** Cancels a timer; no effect when it has fired already. */
  clearTimer(timer: TimerHandle): void;
}

/** Real time: `Date.now()` and Node's timers. */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    // Node's timers take at most 2^31-1 ms; a longer wait is set again when it fires.
    const arm = (): void => {
      const delay = Math.max(0, at - Date.now());
      const t = setTimeout(() => {
        if (Date.now() < at) return arm();
        this.timers.delete(id);
        fn();
      }, Math.min(delay, 0x7fffffff));
      this.timers.set(id, t);
    };
    arm();
    return { id };
  }

  clearTimer(timer: TimerHandle): void {
    const t = this.timers.get(timer.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(timer.id);
    }
  }
}

/**
 * A clock that moves only when told to (`advance`, `set`): timers fire in the
 * order of their times, and of their setting for equal times. For tests and
 * for deterministic replays.
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  /** Pending timers, kept sorted by (at, id). */
  private readonly pending: { at: number; id: number; fn: () => void }[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const entry = { at, id, fn };
    // Insert keeping the order (binary search on at; ids only grow, so ties go last).
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pending[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    this.pending.splice(lo, 0, entry);
    return { id };
  }

  clearTimer(timer: TimerHandle): void {
    const i = this.pending.findIndex((p) => p.id === timer.id);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Timers not yet fired. */
  get timers(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in order (a timer set by a firing one fires too if it is due). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock back (advance by ${ms})`);
    this.set(this.time + ms);
  }

  /** Calls `fn` with the new time each time the clock is moved (a pooled hive's workers follow it); returns a function that stops it. */
  onSet(fn: (now: number) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  private readonly listeners: ((now: number) => void)[] = [];

  /** Moves time forward to `t`. */
  set(t: number): void {
    if (t < this.time) throw new RangeError(`cannot move a clock back (from ${this.time} to ${t})`);
    for (const f of this.listeners) f(t);
    for (;;) {
      const next = this.pending[0];
      if (next === undefined || next.at > t) break;
      this.pending.shift();
      if (next.at > this.time) this.time = next.at;
      next.fn();
    }
    this.time = t;
  }
}
