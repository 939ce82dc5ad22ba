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

/** Options of `timer`. */
export interface TimerOptions {
  /** Timers one actor may have at once (default 100; past it, LIMIT). */
  maxTimersPerActor?: number;
  /** Timers of every actor at once (default 10,000; past it, after dropping those of actors that are gone, LIMIT). */
  maxTimers?: number;
  /** Shortest period of `every`, in ms (default 1; shorter: BAD_ARGUMENT). */
  minIntervalMs?: number;
  /** Call ids remembered for idempotency, across actors (default 10,000): the oldest go first. */
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
  /** Period of `every`, or null for `after`. */
  readonly period: number | null;
  due: number;
  handle: unknown;
}

/** A positive integer option, or its default. */
function bound(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`timer: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * The timer service: `after([ms, message])` and `every([ms, message])`
 * answer a timer id; when due, `message` (any value, sent as given) goes to
 * the calling actor from the service's address. An interval repeats until
 * `cancel(timerId)`, or until its actor is gone or refuses the message.
 * Idempotent: a call sent again after a restore (the same call id) answers
 * the timer id it made and makes no second timer (the ids are remembered in
 * memory, in this hive only). One definition serves one hive: make one per
 * `hive.service`. Closing the service clears its timers.
 */
export function timer(options: TimerOptions = {}): ServiceDefinition<TimerHandlers> {
  const perActor = bound('maxTimersPerActor', options.maxTimersPerActor, 100);
  const total = bound('maxTimers', options.maxTimers, 10_000);
  const maxRecords = bound('maxCallRecords', options.maxCallRecords, 10_000);
  const minInterval = options.minIntervalMs ?? 1;
  if (!(Number.isFinite(minInterval) && minInterval > 0)) throw new RangeError(`timer: minIntervalMs must be a positive number, got ${String(minInterval)}`);

  let host: ServiceHost | null = null;
  let started = false;
  let nextId = 1;
  const timers = new Map<number, Timer>();
  const byOwner = new Map<number, Set<number>>();
  /** Call id -> the timer id it answered, oldest first. */
  const records = new Map<string, number>();

  const drop = (t: Timer): void => {
    timers.delete(t.id);
    const mine = byOwner.get(t.owner);
    mine?.delete(t.id);
    if (mine?.size === 0) byOwner.delete(t.owner);
  };
  const clear = (t: Timer): void => {
    host?.clearTimer(t.handle);
    drop(t);
  };
  /** Drops the timers of an actor that is gone. */
  const gone = (owner: number): void => {
    for (const id of byOwner.get(owner) ?? []) clear(timers.get(id)!);
  };

  const fire = (t: Timer): void => {
    if (host === null || timers.get(t.id) !== t) return;
    if (!host.alive(t.owner)) {
      drop(t);
      gone(t.owner);
      return;
    }
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
    const seen = records.get(ctx.callId);
    if (seen !== undefined) return seen;
    if ((byOwner.get(ctx.caller)?.size ?? 0) >= perActor) throw new ServiceError(HiveStatus.LIMIT, `an actor has at most ${perActor} timers`);
    if (timers.size >= total) {
      for (const owner of [...byOwner.keys()]) if (!host.alive(owner)) gone(owner);
      if (timers.size >= total) throw new ServiceError(HiveStatus.LIMIT, `the timer service holds at most ${total} timers`);
    }
    const t: Timer = { id: nextId++, owner: ctx.caller, message, period: repeat ? ms : null, due: host.now() + ms, handle: null };
    timers.set(t.id, t);
    let mine = byOwner.get(t.owner);
    if (mine === undefined) byOwner.set(t.owner, (mine = new Set()));
    mine.add(t.id);
    t.handle = host.setTimer(t.due, () => fire(t));
    records.set(ctx.callId, t.id);
    if (records.size > maxRecords) records.delete(records.keys().next().value!);
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
      host = null;
    },
  });
}
