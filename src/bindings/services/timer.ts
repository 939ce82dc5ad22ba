/**
 * The built-in timer service: guests have `sleep` and receive timeouts but no
 * timer that sends them a message later. `after` and `every` send a message
 * to the calling actor on the hive's clock, once or repeatedly, until it is
 * cancelled or the actor is gone. Timers belong to the hive that made them:
 * they are not part of an actor's snapshot, and an actor restored in another
 * hive has none there.
 */
import { HiveStatus } from '../hive/abi.js';
import { defineService, ServiceError, type ServiceContext, type ServiceDefinition, type ServiceHost } from '../service.js';
import { encodedSize } from './size.js';

/**
 * Options of `timer`. Counts are refused with LIMIT, sizes with TOO_LARGE.
 * A timer holds its message until it fires (an interval, until it is
 * cancelled), so what timers hold is bounded in count and in bytes (of each
 * message's MessagePack form), per actor and in all.
 */
export interface TimerOptions {
  /** Timers one actor may have at once (default 100; past it, LIMIT). */
  maxTimersPerActor?: number;
  /** Timers of every actor at once (default 10,000; past it, after dropping those of actors that are gone, LIMIT). */
  maxTimers?: number;
  /** Largest message of one timer, in bytes of its MessagePack form (default 64 KiB; past it, TOO_LARGE). */
  maxMessageBytes?: number;
  /** Bytes of the messages one actor's timers hold at once (default 1 MiB; past it, LIMIT). */
  maxBytesPerActor?: number;
  /** Bytes of the messages every actor's timers hold at once (default 16 MiB; past it, after dropping the timers of actors that are gone, LIMIT). */
  maxBytes?: number;
  /** Shortest period of `every`, in ms (default 10; shorter: BAD_ARGUMENT). */
  minIntervalMs?: number;
  /**
   * Messages the service sends a second, all timers together (default
   * 10,000): a timer due when they are spent waits for the next (regression:
   * 10,000 timers every 1 ms kept the host's thread busy sending, and
   * unrelated work waited 0.3 to 0.8 s).
   */
  maxMessagesPerSecond?: number;
  /**
   * Call ids remembered for idempotency per actor (default 100): an actor's
   * oldest go first. They go with the actor's timers once it is gone.
   */
  maxCallRecordsPerActor?: number;
  /**
   * Call ids remembered for idempotency in all (default 10,000). Past it,
   * those of actors that are gone are dropped, then the oldest of the actor
   * remembering the most: an actor's records are never pushed out while
   * another actor holds more.
   */
  maxCallRecords?: number;
}

/** The methods of `timer`, as the host's `Service.call` types them. */
export interface TimerHandlers {
  readonly [method: string]: (request: never, ctx: ServiceContext) => unknown;
  /** Sends `message` to the caller once, `ms` from now: the timer's id. */
  after(request: [ms: number, message: unknown], ctx: ServiceContext): number;
  /** Sends `message` to the caller every `ms` until cancelled: the timer's id. */
  every(request: [ms: number, message: unknown], ctx: ServiceContext): number;
  /** Cancels one of the caller's timers: whether it was still there. */
  cancel(timerId: number, ctx: ServiceContext): boolean;
}

/** The longest delay, in ms (2^31 - 1, as for `setTimeout`). */
export const MAX_TIMER_MS = 0x7fff_ffff;

interface Timer {
  readonly id: number;
  readonly owner: number;
  readonly message: unknown;
  /** Bytes of the message's MessagePack form. */
  readonly size: number;
  /** Period of `every`, or null for `after`. */
  readonly period: number | null;
  due: number;
  handle: unknown;
}

/** The timers of one actor and the bytes of their messages. */
interface Owned {
  readonly ids: Set<number>;
  bytes: number;
}

/** A positive integer option, or its default. */
function bound(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`timer: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * The call ids each actor's calls answered (call id -> timer id, oldest
 * first), at most `perActor` per actor, and which actors remember the most
 * (to push out theirs first when all actors together remember too many).
 */
class CallRecords {
  private readonly of = new Map<number, Map<string, number>>();
  /** The actors remembering n call ids, by n. */
  private readonly holding = new Map<number, Set<number>>();
  private most = 0;
  /** Call ids remembered in all. */
  size = 0;

  constructor(private readonly perActor: number) {}

  get(owner: number, callId: string): number | undefined {
    return this.of.get(owner)?.get(callId);
  }

  owners(): IterableIterator<number> {
    return this.of.keys();
  }

  /** Remembers a new call id of an actor, forgetting its oldest past `perActor`. */
  add(owner: number, callId: string, timerId: number): void {
    let mine = this.of.get(owner);
    if (mine === undefined) this.of.set(owner, (mine = new Map()));
    mine.set(callId, timerId);
    this.size++;
    this.moved(owner, mine.size - 1, mine.size);
    if (mine.size > this.perActor) this.dropOldest(owner);
  }

  /** Forgets the oldest call id of the actor remembering the most. */
  dropOldestOfMost(): void {
    const owner = this.holding.get(this.most)?.values().next().value;
    if (owner !== undefined) this.dropOldest(owner);
  }

  /** Forgets every call id of an actor. */
  drop(owner: number): void {
    const mine = this.of.get(owner);
    if (mine === undefined) return;
    this.size -= mine.size;
    this.moved(owner, mine.size, 0);
    this.of.delete(owner);
  }

  clear(): void {
    this.of.clear();
    this.holding.clear();
    this.most = 0;
    this.size = 0;
  }

  private dropOldest(owner: number): void {
    const mine = this.of.get(owner)!;
    mine.delete(mine.keys().next().value!);
    this.size--;
    this.moved(owner, mine.size + 1, mine.size);
    if (mine.size === 0) this.of.delete(owner);
  }

  private moved(owner: number, from: number, to: number): void {
    const was = this.holding.get(from);
    was?.delete(owner);
    if (was?.size === 0) this.holding.delete(from);
    if (to > 0) {
      let now = this.holding.get(to);
      if (now === undefined) this.holding.set(to, (now = new Set()));
      now.add(owner);
      this.most = Math.max(this.most, to);
    }
    while (this.most > 0 && !this.holding.has(this.most)) this.most--;
  }
}

/**
 * The timer service: `after([ms, message])` and `every([ms, message])`
 * answer a timer id; when due, `message` (any value, sent as given) goes to
 * the calling actor from the service's address. An interval repeats until
 * `cancel(timerId)`, or until its actor is gone or refuses the message.
 * (A message the actor's full mailbox drops is not a refusal: the interval
 * goes on, holding nothing more than its one message.) Idempotent: a call
 * sent again after a restore (the same call id) answers the timer id it
 * made and makes no second timer (the ids are remembered in memory, in this
 * hive only, and forgotten with the actor's timers once it is gone). One
 * definition serves one hive: make one per `hive.service`. Closing the
 * service clears its timers.
 */
export function timer(options: TimerOptions = {}): ServiceDefinition<TimerHandlers> {
  const perActor = bound('maxTimersPerActor', options.maxTimersPerActor, 100);
  const total = bound('maxTimers', options.maxTimers, 10_000);
  const maxMessageBytes = bound('maxMessageBytes', options.maxMessageBytes, 64 * 1024);
  const maxBytesPerActor = bound('maxBytesPerActor', options.maxBytesPerActor, 1024 * 1024);
  const maxBytes = bound('maxBytes', options.maxBytes, 16 * 1024 * 1024);
  const maxRecordsPerActor = bound('maxCallRecordsPerActor', options.maxCallRecordsPerActor, 100);
  const maxRecords = bound('maxCallRecords', options.maxCallRecords, 10_000);
  const minInterval = options.minIntervalMs ?? 10;
  const rate = bound('maxMessagesPerSecond', options.maxMessagesPerSecond, 10_000);
  // A token bucket of at most a tenth of a second's messages (at least one).
  const burst = Math.max(1, Math.floor(rate / 10));
  let tokens = burst;
  let filled = 0;
  /** Timers due while no message could go, in the order they came due. */
  const starved: Timer[] = [];
  let refill: unknown = null;
  if (!(Number.isFinite(minInterval) && minInterval > 0)) throw new RangeError(`timer: minIntervalMs must be a positive number, got ${String(minInterval)}`);

  let host: ServiceHost | null = null;
  let started = false;
  let nextId = 1;
  const timers = new Map<number, Timer>();
  const byOwner = new Map<number, Owned>();
  /** Bytes of every timer's message. */
  let bytes = 0;
  const records = new CallRecords(maxRecordsPerActor);
  /** Call ids remembered since actors that are gone were last looked for. */
  let recordedSinceSweep = 0;

  const drop = (t: Timer): void => {
    if (!timers.delete(t.id)) return;
    bytes -= t.size;
    const mine = byOwner.get(t.owner);
    if (mine === undefined) return;
    mine.ids.delete(t.id);
    mine.bytes -= t.size;
    if (mine.ids.size === 0) byOwner.delete(t.owner);
  };
  const clear = (t: Timer): void => {
    host?.clearTimer(t.handle);
    drop(t);
  };
  /** Drops the timers and call records of an actor that is gone. */
  const gone = (owner: number): void => {
    for (const id of [...(byOwner.get(owner)?.ids ?? [])]) clear(timers.get(id)!);
    records.drop(owner);
  };
  /** Drops what actors that are gone hold. */
  const sweep = (): void => {
    recordedSinceSweep = 0;
    for (const owner of new Set([...byOwner.keys(), ...records.owners()])) if (!host!.alive(owner)) gone(owner);
  };

  const fire = (t: Timer): void => {
    if (host === null || timers.get(t.id) !== t) return;
    if (!host.alive(t.owner)) {
      gone(t.owner);
      return;
    }
    refillTokens();
    if (starved.length > 0 || tokens < 1) {
      // Spent: it waits its turn, in order (FIFO, so every timer gets one), for the next message that may go.
      starved.push(t);
      waitForTokens();
      return;
    }
    tokens -= 1;
    deliver(t);
  };

  const refillTokens = (): void => {
    const now = host!.now();
    tokens = Math.min(burst, tokens + ((now - filled) * rate) / 1000);
    filled = now;
  };

  /** Once one message may go again, the timers that waited for it fire, in order. */
  const waitForTokens = (): void => {
    if (refill !== null || host === null) return;
    refill = host.setTimer(host.now() + Math.max(1, Math.ceil(((1 - tokens) * 1000) / rate)), () => {
      refill = null;
      if (host === null) return;
      refillTokens();
      while (starved.length > 0 && tokens >= 1) {
        const t = starved.shift()!;
        if (timers.get(t.id) !== t) continue; // cancelled or gone meanwhile
        tokens -= 1;
        deliver(t);
      }
      if (starved.length > 0) waitForTokens();
    });
  };

  /** Sends a due timer's message; an interval goes on. */
  const deliver = (t: Timer): void => {
    if (host === null) return;
    if (!host.send(t.owner, t.message)) {
      host.log('debug', 'a timer\'s message was refused: the timer stops', { timer: t.id, actor: t.owner });
      drop(t);
      return;
    }
    if (t.period === null) {
      drop(t);
      return;
    }
    // The next time follows the last due time (no drift); after a late firing, at the soonest now.
    t.due = Math.max(t.due + t.period, host.now());
    t.handle = host.setTimer(t.due, () => fire(t));
  };

  const schedule = (request: unknown, ctx: ServiceContext, repeat: boolean): number => {
    if (host === null) throw new Error('the timer service is not registered in a hive (or was closed)');
    if (ctx.caller === 0) throw new ServiceError(HiveStatus.BAD_ARGUMENT, 'a timer sends to the calling actor: the host is not one');
    const method = repeat ? 'every' : 'after';
    if (!Array.isArray(request) || request.length !== 2) throw new ServiceError(HiveStatus.BAD_ARGUMENT, `${method} takes [ms, message]`);
    const [ms, message] = request as [unknown, unknown];
    if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_TIMER_MS)) throw new ServiceError(HiveStatus.BAD_ARGUMENT, `ms is a number from 0 to ${MAX_TIMER_MS}`);
    if (repeat && ms < minInterval) throw new ServiceError(HiveStatus.BAD_ARGUMENT, `every repeats at most every ${minInterval} ms`);
    const size = encodedSize(message, maxMessageBytes);
    if (size > maxMessageBytes) throw new ServiceError(HiveStatus.TOO_LARGE, `a timer's message has at most ${maxMessageBytes} bytes of MessagePack`);
    const seen = records.get(ctx.caller, ctx.callId);
    if (seen !== undefined) return seen;
    const mine = byOwner.get(ctx.caller);
    if ((mine?.ids.size ?? 0) >= perActor) throw new ServiceError(HiveStatus.LIMIT, `an actor has at most ${perActor} timers`);
    if ((mine?.bytes ?? 0) + size > maxBytesPerActor) throw new ServiceError(HiveStatus.LIMIT, `an actor's timers hold at most ${maxBytesPerActor} bytes of messages`);
    if (timers.size >= total || bytes + size > maxBytes) {
      sweep();
      if (timers.size >= total) throw new ServiceError(HiveStatus.LIMIT, `the timer service holds at most ${total} timers`);
      if (bytes + size > maxBytes) throw new ServiceError(HiveStatus.LIMIT, `the timer service holds at most ${maxBytes} bytes of messages`);
    }
    const t: Timer = { id: nextId++, owner: ctx.caller, message, size, period: repeat ? ms : null, due: host.now() + ms, handle: null };
    timers.set(t.id, t);
    let owned = byOwner.get(t.owner);
    if (owned === undefined) byOwner.set(t.owner, (owned = { ids: new Set(), bytes: 0 }));
    owned.ids.add(t.id);
    owned.bytes += size;
    bytes += size;
    t.handle = host.setTimer(t.due, () => fire(t));
    records.add(ctx.caller, ctx.callId, t.id);
    recordedSinceSweep++;
    if (records.size > maxRecords) {
      // Looking for actors that are gone costs a look at every actor: once in a while only.
      if (recordedSinceSweep >= Math.max(1, maxRecords >>> 3)) sweep();
      while (records.size > maxRecords) records.dropOldestOfMost();
    }
    return t.id;
  };

  const handlers: TimerHandlers = {
    after: (request, ctx) => schedule(request, ctx, false),
    every: (request, ctx) => schedule(request, ctx, true),
    cancel: (timerId, ctx) => {
      if (typeof timerId !== 'number') throw new ServiceError(HiveStatus.BAD_ARGUMENT, 'cancel takes a timer id');
      const t = timers.get(timerId);
      // Only the actor that made a timer cancels it.
      if (t === undefined || t.owner !== ctx.caller) return false;
      clear(t);
      return true;
    },
  };

  return defineService({
    handlers,
    options: { idempotent: true },
    start(h) {
      if (started) throw new Error('a timer() definition serves one hive: make one per hive.service');
      started = true;
      host = h;
    },
    close() {
      for (const t of [...timers.values()]) clear(t);
      records.clear();
      starved.length = 0;
      if (refill !== null) host?.clearTimer(refill);
      refill = null;
      host = null;
    },
  });
}
