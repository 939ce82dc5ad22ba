/**
 * The timer service, its handlers called directly with a made-up context and
 * a fake host on a manual clock of its own: timers firing, repeating,
 * cancelled, stopping when their actor is gone, bounds and idempotency.
 */
import { describe, expect, it } from 'vitest';
import { HiveStatus } from '../hive/abi.js';
import { ServiceError, type ServiceContext, type ServiceHost } from '../service.js';
import { MAX_TIMER_MS, timer, type TimerOptions } from './timer.js';

/** A fake hive: a manual clock, actors that are alive, and the messages sent to them. */
class FakeHost implements ServiceHost {
  time = 1000;
  private nextHandle = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  readonly alive_ = new Set<number>();
  /** Actors whose mailbox refuses messages. */
  readonly refusing = new Set<number>();
  readonly sent: [to: number, value: unknown, at: number][] = [];

  now(): number {
    return this.time;
  }
  setTimer(at: number, fn: () => void): unknown {
    const h = this.nextHandle++;
    this.pending.set(h, { at, fn });
    return h;
  }
  clearTimer(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  send(to: number, value: unknown): boolean {
    if (!this.alive_.has(to) || this.refusing.has(to)) return false;
    this.sent.push([to, value, this.time]);
    return true;
  }
  alive(id: number): boolean {
    return this.alive_.has(id);
  }
  log(): void {}

  /** Moves the clock forward, firing due timers in order (those set meanwhile too, when due). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
  }
}

const ctx = (caller: number, n: number): ServiceContext => ({ service: 'timer', caller, callerName: null, grants: ['timer'], callId: `${caller}:${n}` });

/** A started timer service on a fake host with actors 5 and 6 alive; `call(caller)` numbers each actor's calls. */
function setup(options?: TimerOptions) {
  const host = new FakeHost();
  host.alive_.add(5).add(6);
  const def = timer(options);
  def.start!(host);
  const counts = new Map<number, number>();
  const call = (caller: number): ServiceContext => {
    const n = (counts.get(caller) ?? 0) + 1;
    counts.set(caller, n);
    return ctx(caller, n);
  };
  return { host, def, h: def.handlers, call };
}

function status(f: () => unknown): number | 'ok' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof ServiceError) return e.status;
    throw e;
  }
}

describe('timer', () => {
  it('after sends the message to the caller once, when due and not before', () => {
    const { host, h, call } = setup();
    const id = h.after([100, { hello: 'world' }], call(5));
    expect(Number.isInteger(id)).toBe(true);
    host.advance(99);
    expect(host.sent).toEqual([]);
    host.advance(1);
    expect(host.sent).toEqual([[5, { hello: 'world' }, 1100]]);
    host.advance(1000);
    expect(host.sent).toHaveLength(1);
    expect(host.pending.size).toBe(0);
    // Fired: nothing left to cancel.
    expect(h.cancel(id, call(5))).toBe(false);
  });

  it('every repeats on its period, without drift, until cancelled', () => {
    const { host, h, call } = setup();
    const id = h.every([10, 'tick'], call(5));
    host.advance(35);
    expect(host.sent.map(([, , at]) => at)).toEqual([1010, 1020, 1030]);
    expect(h.cancel(id, call(5))).toBe(true);
    expect(h.cancel(id, call(5))).toBe(false);
    host.advance(100);
    expect(host.sent).toHaveLength(3);
    expect(host.pending.size).toBe(0);
  });

  it('an actor cancels only its own timers', () => {
    const { host, h, call } = setup();
    const id = h.after([10, 'mine'], call(5));
    expect(h.cancel(id, call(6))).toBe(false);
    expect(h.cancel(9999, call(5))).toBe(false);
    host.advance(10);
    expect(host.sent).toEqual([[5, 'mine', 1010]]);
  });

  it('sends each timer\'s message to the actor that made it', () => {
    const { host, h, call } = setup();
    h.after([20, 'to six'], call(6));
    h.after([10, 'to five'], call(5));
    host.advance(20);
    expect(host.sent).toEqual([
      [5, 'to five', 1010],
      [6, 'to six', 1020],
    ]);
  });

  it('stops an interval when its actor is gone, and drops that actor\'s other timers (their slots come free)', () => {
    const { host, h, call } = setup({ maxTimersPerActor: 2 });
    h.every([10, 'tick'], call(5));
    h.after([1000, 'later'], call(5));
    host.advance(20);
    expect(host.sent).toHaveLength(2);
    host.alive_.delete(5);
    host.advance(10);
    expect(host.pending.size).toBe(0);
    host.advance(2000);
    expect(host.sent).toHaveLength(2);
    // The pid back (as after a restore in this hive): its slots are free again.
    host.alive_.add(5);
    h.after([1, 'a'], call(5));
    h.after([1, 'b'], call(5));
  });

  it('stops a timer whose message is refused (send returns false)', () => {
    const { host, h, call } = setup();
    h.every([10, 'tick'], call(5));
    host.advance(10);
    host.refusing.add(5);
    host.advance(10);
    host.refusing.delete(5);
    host.advance(100);
    expect(host.sent).toHaveLength(1);
    expect(host.pending.size).toBe(0);
  });

  it('refuses more than maxTimersPerActor timers of one actor with LIMIT; others are not counted, and a fired timer frees its slot', () => {
    const { host, h, call } = setup({ maxTimersPerActor: 3 });
    for (let i = 0; i < 3; i++) h.after([10 * (i + 1), i], call(5));
    expect(status(() => h.after([10, 'x'], call(5)))).toBe(HiveStatus.LIMIT);
    expect(status(() => h.every([10, 'x'], call(5)))).toBe(HiveStatus.LIMIT);
    h.after([10, 'six'], call(6));
    host.advance(10);
    h.after([10, 'again'], call(5));
    expect(status(() => h.after([10, 'x'], call(5)))).toBe(HiveStatus.LIMIT);
  });

  it('refuses more than maxTimers timers in all with LIMIT, after dropping the timers of actors that are gone', () => {
    const { host, h, call } = setup({ maxTimers: 2 });
    host.alive_.add(7);
    h.after([100, 1], call(5));
    h.after([100, 2], call(6));
    expect(status(() => h.after([100, 3], call(7)))).toBe(HiveStatus.LIMIT);
    host.alive_.delete(6);
    h.after([100, 3], call(7));
    host.advance(100);
    expect(host.sent.map(([to]) => to)).toEqual([5, 7]);
  });

  it('refuses delays that are not numbers from 0 to 2^31-1 ms, and periods below minIntervalMs, with BAD_ARGUMENT', () => {
    const { host, h, call } = setup({ minIntervalMs: 5 });
    for (const ms of [-1, NaN, Infinity, MAX_TIMER_MS + 1, '10', null]) {
      expect(status(() => h.after([ms as number, 'x'], call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
      expect(status(() => h.every([ms as number, 'x'], call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    }
    expect(status(() => h.every([4, 'x'], call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(status(() => h.every([0, 'x'], call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(status(() => h.after('x' as never, call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(status(() => h.cancel('x' as never, call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    h.every([5, 'ok'], call(5));
    h.after([0, 'now'], call(5));
    h.after([MAX_TIMER_MS, 'far'], call(5));
    host.advance(0);
    expect(host.sent.map(([, v]) => v)).toEqual(['now']);
    // The default minimum is 10 ms.
    const other = setup();
    expect(status(() => other.h.every([9.5, 'x'], other.call(5)))).toBe(HiveStatus.BAD_ARGUMENT);
    other.h.every([10, 'x'], other.call(5));
  });

  it('refuses the host as a caller (it has no mailbox)', () => {
    const { h } = setup();
    expect(status(() => h.after([1, 'x'], { service: 'timer', caller: 0, callerName: null, grants: [], callId: 'host' }))).toBe(HiveStatus.BAD_ARGUMENT);
  });

  it('a call sent again with the same call id answers the timer it made and makes no second one', () => {
    const { host, h } = setup();
    const id = h.every([10, 'tick'], ctx(5, 1));
    expect(h.every([10, 'tick'], ctx(5, 1))).toBe(id);
    expect(h.after([10, 'once'], ctx(6, 1))).not.toBe(id);
    host.advance(10);
    expect(host.sent.map(([to, v]) => [to, v])).toEqual([
      [5, 'tick'],
      [6, 'once'],
    ]);
    // Even after it stopped, the id answers the same timer (the call was made once).
    h.cancel(id, ctx(5, 2));
    expect(h.every([10, 'tick'], ctx(5, 1))).toBe(id);
    host.advance(100);
    expect(host.sent).toHaveLength(2);
  });

  it('remembers at most maxCallRecords call ids, forgetting the oldest', () => {
    const { h } = setup({ maxCallRecords: 2 });
    const a = h.after([100, 1], ctx(5, 1));
    const b = h.after([100, 2], ctx(5, 2));
    const c = h.after([100, 3], ctx(6, 1));
    expect(h.after([100, 2], ctx(5, 2))).toBe(b);
    expect(h.after([100, 3], ctx(6, 1))).toBe(c);
    expect(h.after([100, 1], ctx(5, 1))).not.toBe(a);
  });

  it('refuses a message larger than maxMessageBytes of MessagePack (default 64 KiB) with TOO_LARGE', () => {
    const { host, h, call } = setup();
    // A bin of n bytes (n >= 65,536) is n + 5 bytes of MessagePack; below, n + 3.
    h.after([10, new Uint8Array(64 * 1024 - 3)], call(5));
    expect(status(() => h.after([10, new Uint8Array(64 * 1024 - 2)], call(5)))).toBe(HiveStatus.TOO_LARGE);
    expect(status(() => h.every([10, ['x'.repeat(40_000), 'y'.repeat(40_000)]], call(5)))).toBe(HiveStatus.TOO_LARGE);
    const small = setup({ maxMessageBytes: 10 });
    small.h.after([10, 'x'.repeat(9)], small.call(5)); // 10 bytes
    expect(status(() => small.h.after([10, 'x'.repeat(10)], small.call(5)))).toBe(HiveStatus.TOO_LARGE);
    host.advance(10);
    expect(host.sent).toHaveLength(1);
  });

  it('bounds the bytes of messages one actor\'s timers hold (maxBytesPerActor, default 1 MiB) with LIMIT; others are not counted, and fired or cancelled timers free theirs', () => {
    const { host, h, call } = setup();
    // 16 messages of 65,000 bytes (65,003 of MessagePack) fit in 1 MiB, a 17th does not.
    const big = new Uint8Array(65_000);
    const ids = Array.from({ length: 16 }, (_, i) => h.after([10 * (i + 1), big], call(5)));
    expect(status(() => h.after([1000, big], call(5)))).toBe(HiveStatus.LIMIT);
    expect(status(() => h.every([1000, big], call(5)))).toBe(HiveStatus.LIMIT);
    h.after([1000, big], call(6));
    h.after([1000, 'small'], call(5));
    host.advance(10);
    h.after([1000, big], call(5));
    expect(status(() => h.after([1000, big], call(5)))).toBe(HiveStatus.LIMIT);
    expect(h.cancel(ids[15]!, call(5))).toBe(true);
    h.after([1000, big], call(5));
  });

  it('bounds the bytes of messages all timers hold (maxBytes) with LIMIT, after dropping the timers of actors that are gone', () => {
    const { host, h, call } = setup({ maxBytes: 1000 });
    host.alive_.add(7);
    const msg = 'x'.repeat(400); // 403 bytes
    h.after([100, msg], call(5));
    h.every([100, msg], call(6));
    expect(status(() => h.after([100, msg], call(7)))).toBe(HiveStatus.LIMIT);
    h.after([100, 'x'.repeat(150)], call(7));
    host.alive_.delete(6);
    h.after([100, msg], call(7));
    host.advance(100);
    expect(host.sent.map(([to]) => to)).toEqual([5, 7, 7]);
    // By default, 16 MiB: 16 actors at their 1 MiB each (16 messages of 64 KiB), and not a byte more.
    const all = setup();
    const big = new Uint8Array(64 * 1024 - 3);
    for (let a = 100; a < 117; a++) all.host.alive_.add(a);
    let last = 0;
    for (let a = 100; a < 116; a++) for (let i = 0; i < 16; i++) last = all.h.after([1000, big], all.call(a));
    expect(status(() => all.h.after([1000, null], all.call(116)))).toBe(HiveStatus.LIMIT);
    all.h.cancel(last, all.call(115));
    all.h.after([1000, 'x'.repeat(60_000)], all.call(116));
  });

  it('keeps call records per actor: one actor\'s calls do not push out another\'s', () => {
    const { h, call } = setup();
    const mine = h.after([1000, 'mine'], ctx(5, 1));
    // Actor 6 makes (and cancels) more timers than the service remembers call ids in all.
    for (let i = 0; i < 10_001; i++) h.cancel(h.after([1000, i], call(6)), call(6));
    expect(h.after([1000, 'mine'], ctx(5, 1))).toBe(mine);
  });

  it('remembers at most maxCallRecordsPerActor call ids of one actor, forgetting its oldest', () => {
    const { h } = setup({ maxCallRecordsPerActor: 2 });
    const a = h.after([100, 1], ctx(5, 1));
    const b = h.after([100, 2], ctx(5, 2));
    const c = h.after([100, 3], ctx(5, 3));
    const other = h.after([100, 4], ctx(6, 1));
    expect(h.after([100, 3], ctx(5, 3))).toBe(c);
    expect(h.after([100, 2], ctx(5, 2))).toBe(b);
    expect(h.after([100, 1], ctx(5, 1))).not.toBe(a);
    expect(h.after([100, 4], ctx(6, 1))).toBe(other);
  });

  it('past maxCallRecords in all, forgets those of actors that are gone, then the oldest of the actor remembering the most', () => {
    const { host, h } = setup({ maxCallRecords: 4 });
    host.alive_.add(7);
    const five = h.after([100, 1], ctx(5, 1));
    const six = [h.after([100, 1], ctx(6, 1)), h.after([100, 2], ctx(6, 2))];
    h.after([100, 1], ctx(7, 1));
    host.alive_.delete(7);
    // A fifth: actor 7's goes (it is gone).
    const more = h.after([100, 3], ctx(6, 3));
    expect(h.after([100, 1], ctx(5, 1))).toBe(five);
    // A sixth: actor 6 remembers the most, its oldest goes.
    h.after([100, 4], ctx(6, 4));
    expect(h.after([100, 1], ctx(5, 1))).toBe(five);
    expect(h.after([100, 3], ctx(6, 3))).toBe(more);
    expect(h.after([100, 2], ctx(6, 2))).toBe(six[1]);
    expect(h.after([100, 1], ctx(6, 1))).not.toBe(six[0]);
  });

  it('forgets an actor\'s call records with its timers once it is gone', () => {
    const { host, h } = setup();
    const id = h.after([10, 'x'], ctx(5, 1));
    host.alive_.delete(5);
    host.advance(10);
    // The pid back (a restore in this hive): the call sent again makes a new timer.
    host.alive_.add(5);
    const again = h.after([10, 'x'], ctx(5, 1));
    expect(again).not.toBe(id);
    host.advance(10);
    expect(host.sent).toEqual([[5, 'x', 1020]]);
  });

  it('stops an interval whose message the host refuses (send false), holding nothing for it', () => {
    const { host, h, call } = setup({ maxBytesPerActor: 100, maxTimersPerActor: 1 });
    host.send = () => false;
    h.every([10, 'x'.repeat(90)], call(5));
    expect(status(() => h.after([10, 'y'], call(5)))).toBe(HiveStatus.LIMIT);
    host.advance(10);
    expect(host.pending.size).toBe(0);
    host.advance(1000);
    // Its slot and its bytes are free again.
    h.every([10, 'x'.repeat(90)], call(5));
  });

  it('an interval whose messages are posted and dropped (a full mailbox) goes on holding one timer and one message', () => {
    const { host, h, call } = setup({ maxBytesPerActor: 200 });
    let posted = 0;
    let setTimers = 0;
    host.send = () => (posted++, true); // posted, and dropped as a dead letter
    const setTimer = host.setTimer.bind(host);
    host.setTimer = (at, fn) => (setTimers++, setTimer(at, fn));
    const id = h.every([10, 'x'.repeat(90)], call(5));
    host.advance(100_000);
    expect(posted).toBe(10_000);
    // One timer scheduled at a time, nothing queued on the service's side.
    expect(host.pending.size).toBe(1);
    expect(setTimers).toBe(posted + 1);
    // What it holds is the one message: another the same size fits the actor's 200 bytes, a third does not.
    h.after([1, 'x'.repeat(90)], call(5));
    expect(status(() => h.after([1, 'x'.repeat(90)], call(5)))).toBe(HiveStatus.LIMIT);
    expect(h.cancel(id, call(5))).toBe(true);
    host.advance(10);
    expect(host.pending.size).toBe(0);
  });

  it('close clears every timer, and a closed service makes none', () => {
    const { host, def, h, call } = setup();
    h.every([10, 'tick'], call(5));
    h.after([10, 'once'], call(6));
    expect(host.pending.size).toBe(2);
    def.close!();
    expect(host.pending.size).toBe(0);
    host.advance(100);
    expect(host.sent).toEqual([]);
    expect(() => h.after([1, 'x'], call(5))).toThrow(/not registered/);
  });

  it('serves one hive: a second start throws', () => {
    const { def } = setup();
    expect(() => def.start!(new FakeHost())).toThrow(/one hive/);
  });

  it('regression: 10,000 timers every 1 ms kept the host busy sending; now the service sends at most maxMessagesPerSecond, and a timer due when they are spent waits', () => {
    const { host, h, call } = setup({ maxMessagesPerSecond: 1000, minIntervalMs: 1 });
    for (let a = 100; a < 150; a++) host.alive_.add(a);
    for (let a = 100; a < 150; a++) for (let i = 0; i < 10; i++) h.every([1, 'tick'], call(a));
    host.advance(2_000);
    // 500 timers every 1 ms would send 1,000,000 in 2 s: the rate lets through 1,000 a second (plus one burst of a tenth of a second).
    expect(host.sent.length).toBeGreaterThanOrEqual(1_900);
    expect(host.sent.length).toBeLessThanOrEqual(2_100);
    // Every actor's timers still get their turn.
    expect(new Set(host.sent.map(([to]) => to)).size).toBe(50);
  });
});
