/**
 * The hive's resource limits: what one actor may hold (`ActorLimits`), what
 * one spawn tree and the whole hive may hold (`HiveLimits`), their defaults
 * (chosen so that a normal program never meets them: the demo's ring of
 * 1,000 actors spawned by one guest fits), and the spawn tree that guests'
 * resources are counted against. Each limit is enforced where the resource
 * is created; hitting one gives the guest the status `LIMIT` (or a trap, for
 * memory and tables, as the engine does), the host a `LimitError`, and the
 * operator a `limit` event.
 */
import { LazyMap, LazySet } from './lazy.js';

/** Limits of one actor. */
export interface ActorLimits {
  /** Fuel (instructions, roughly) the actor runs before others get a turn (default 20,000). */
  fuelPerSlice: number;
  /** Pages (64 KiB) its memory may grow to (default 256, 16 MiB). */
  maxMemoryPages: number;
  /** Elements of all its tables together (default 65,536); like memory, growing past it fails as `table.grow` does. */
  maxTableElements: number;
  /** Ordinary messages its mailbox holds; senders wait or fail beyond it (default 10,000). */
  mailbox: number;
  /** Bytes of ordinary messages its mailbox holds (default 16 MiB); a message always fits an empty mailbox. */
  mailboxBytes: number;
  /** Nested wasm calls before "call stack exhausted" (default 10,000). */
  maxCallDepth: number;
  /**
   * Bytes of value stack (the engine's, for wasm locals and operands) it may
   * hold (default 4 MiB: 10,000 calls of 100 words each): deeper calls trap with "call stack exhausted". The
   * stack it holds also counts in its tree's `maxTreeMemoryPages`.
   */
  maxStackBytes: number;
  /** Exit signals sent with `exit` and `noproc` down messages waiting in its signal queue (default 1,000); more are refused with LIMIT. */
  maxSignals: number;
  /** Monitors it holds at once (default 1,000). */
  maxMonitors: number;
  /** Links it has at once (default 1,000). */
  maxLinks: number;
  /** Log lines per second of the hive's clock (default 100); more are dropped and counted. */
  logLinesPerSecond: number;
}

/** Limits of a hive and of each spawn tree in it. */
export interface HiveLimits {
  /** Live actors in the hive (default 20,000). */
  maxActors: number;
  /** Live actors in one spawn tree: a host-spawned actor and all it spawned, directly or not (default 2,000). */
  maxTreeActors: number;
  /** Pages of linear memory of one spawn tree's actors together (default 4,096: 256 MiB). */
  maxTreeMemoryPages: number;
  /**
   * Elements of the tables of one spawn tree's actors together (default
   * 4,194,304: 64 actors at the default `maxTableElements`; each element is a
   * slot of the host's heap). Past it `table.grow` returns -1 and a spawn of a
   * module declaring more gives LIMIT.
   */
  maxTreeTableElements: number;
  /**
   * Bytes of messages sent by one tree's actors that wait in mailboxes,
   * inboxes, or blocked sends, each counted with `MESSAGE_OVERHEAD` bytes
   * for the host's own objects (default 64 MiB).
   */
  maxTreeQueuedBytes: number;
  /**
   * Links, monitors and queued exit signals and down messages of one tree's
   * actors together (default 20,000). It also bounds the DOWN messages one
   * exit makes at once (made in one turn: 100,000 took 54-88 ms).
   */
  maxTreeEntries: number;
  /** Log lines per second of all actors together (default 1,000); more are dropped and counted. */
  logLinesPerSecond: number;
}

/** The default limits of every actor (a hive's `limits` option overrides them). */
export const DEFAULT_ACTOR_LIMITS: Readonly<ActorLimits> = Object.freeze({
  fuelPerSlice: 20_000,
  maxMemoryPages: 256,
  maxTableElements: 65_536,
  mailbox: 10_000,
  mailboxBytes: 16 << 20,
  maxCallDepth: 10_000,
  maxStackBytes: 4 << 20,
  maxSignals: 1_000,
  maxMonitors: 1_000,
  maxLinks: 1_000,
  logLinesPerSecond: 100,
});

/** The default limits of a hive (its `hiveLimits` option overrides them). */
export const DEFAULT_HIVE_LIMITS: Readonly<HiveLimits> = Object.freeze({
  maxActors: 20_000,
  maxTreeActors: 2_000,
  maxTreeMemoryPages: 4_096,
  maxTreeTableElements: 64 * 65_536,
  maxTreeQueuedBytes: 64 << 20,
  maxTreeEntries: 20_000,
  logLinesPerSecond: 1_000,
});

/**
 * Bytes a queued message is counted for besides its payload (its envelope,
 * its own buffer): so a flood of tiny messages is bounded by what it costs
 * the host, not by its payload alone.
 */
export const MESSAGE_OVERHEAD = 256;

/** Largest value of each limit that the engine or the format can take (others: 2^53-1). */
const MAXIMA: Partial<Record<keyof ActorLimits | keyof HiveLimits, number>> = {
  maxMemoryPages: 65_536,
  maxTableElements: 10_000_000,
  maxCallDepth: 1 << 24,
  maxStackBytes: 2 ** 31,
  maxTreeMemoryPages: 65_536 * 1024,
};

/** Checks that every limit is a positive safe integer within its maximum; throws RangeError. */
export function checkLimits<L extends ActorLimits | HiveLimits>(l: L): L {
  for (const [k, n] of Object.entries(l) as [keyof ActorLimits | keyof HiveLimits, number][]) {
    const max = MAXIMA[k] ?? Number.MAX_SAFE_INTEGER;
    if (!(Number.isSafeInteger(n) && n >= 1 && n <= max)) throw new RangeError(`${k} must be an integer from 1 to ${max}, got ${String(n)}`);
  }
  return l;
}

/** The lower of two sets of actor limits, field by field (a restored actor gets the lower of the hive's and the snapshot's). */
export function lowerLimits(a: ActorLimits, b: Partial<ActorLimits>): ActorLimits {
  const out = { ...a };
  for (const k of Object.keys(a) as (keyof ActorLimits)[]) {
    const v = b[k];
    if (typeof v === 'number' && v < out[k]) out[k] = v;
  }
  return out;
}

/**
 * A spawn tree: a host-spawned (or restored) actor and everything spawned
 * from it, directly or not. Guests' resources are counted per tree, so one
 * tenant's spawn bomb or flood is bounded whatever its actors do.
 */
export class Tree {
  /** Live actors. */
  actors = 0;
  /** Pages of linear memory of its live actors. */
  pages = 0;
  /** Elements of its live actors' tables. */
  elements = 0;
  /** Bytes of its actors' messages waiting to be taken (mailboxes, inboxes, blocked sends), with their overhead. */
  queuedBytes = 0;
  /** Links and monitors its actors hold, and signals waiting in their queues. */
  entries = 0;
  /**
   * The part of `queuedBytes` for messages sent to other threads (a pooled
   * hive), until their bytes come back (RefundControl): forgiven when a
   * worker dies (see ActorSystem.forgiveRemote).
   */
  remote = 0;

  constructor(
    /** The id of the actor it was made for. */
    readonly root: number,
    /** Its number in its hive, never reused (envelopes in flight name the tree that pays for them by it). */
    readonly serial = 0,
  ) {}
}

/**
 * A spawn tree of another thread, on the thread where messages it sent wait
 * (a pooled hive): the mailboxes count their bytes in and out of its
 * `queuedBytes` as of a tree of their own thread, from 0, and what that
 * comes to is sent back to the tree's thread from time to time (a
 * RefundControl: ActorSystem.flushRefunds), which counts it in the tree
 * itself. A message that arrives nets 0 (out of flight, into a mailbox); one
 * that leaves, its bytes given back.
 */
export class ForeignTree extends Tree {
  /** Bytes of the messages that arrived counting against it (a moved actor's are not: they were counted again, +). */
  arrived = 0;
  /** What was sent back so far (with `arrived` and `queuedBytes`: the bytes of messages here still counting against it). */
  sent = 0;

  constructor(
    /** The tree's key (protocol.ts treeKey). */
    readonly key: number,
  ) {
    super(0, 0);
  }

  /** Bytes of messages on this thread still counting against it: 0 when none holds it (it may be forgotten). */
  get held(): number {
    return this.arrived + this.sent + this.queuedBytes;
  }
}

/**
 * Log lines per second: a window of one second of the hive's clock, with
 * the lines written and dropped in it. Deterministic for a given clock.
 */
export class LogGate {
  private window = -1;
  private written = 0;
  private droppedNow = 0;
  /** Lines dropped in all. */
  dropped = 0;

  constructor(private readonly perSecond: number) {}

  /**
   * Whether a line may be written now. When a new window starts after drops,
   * `onDropped` is told how many the last window dropped (one summary line).
   */
  admit<T>(now: number, onDropped: (this: T, n: number) => void, self?: T): boolean {
    const w = Math.floor(now / 1000);
    if (w !== this.window) {
      if (this.droppedNow > 0) onDropped.call(self as T, this.droppedNow);
      this.window = w;
      this.written = 0;
      this.droppedNow = 0;
    }
    if (this.written >= this.perSecond) {
      this.droppedNow++;
      this.dropped++;
      return false;
    }
    this.written++;
    return true;
  }

  /** Counts a line dropped by another bound (the hive's), reported with this gate's own. */
  drop(): void {
    this.written--;
    this.droppedNow++;
    this.dropped++;
  }

  /** Reports drops of the current window (the actor exits). */
  flush<T>(onDropped: (this: T, n: number) => void, self?: T): void {
    if (this.droppedNow > 0) onDropped.call(self as T, this.droppedNow);
    this.droppedNow = 0;
  }
}

/** An actor's links, counted in its tree's `entries` as they come and go (whoever adds or removes them). */
export class CountedSet extends LazySet {
  constructor(private readonly tree: Tree) {
    super();
  }
  override add(v: number): this {
    if (!this.has(v)) this.tree.entries++;
    return super.add(v);
  }
  override delete(v: number): boolean {
    const gone = super.delete(v);
    if (gone) this.tree.entries--;
    return gone;
  }
  override clear(): void {
    this.tree.entries -= this.size;
    super.clear();
  }
}

/** An actor's monitors (reference -> target), counted in its tree's `entries`. */
export class CountedMap extends LazyMap<number, number> {
  constructor(private readonly tree: Tree) {
    super();
  }
  override set(k: number, v: number): this {
    if (!this.has(k)) this.tree.entries++;
    return super.set(k, v);
  }
  override delete(k: number): boolean {
    const gone = super.delete(k);
    if (gone) this.tree.entries--;
    return gone;
  }
  override clear(): void {
    this.tree.entries -= this.size;
    super.clear();
  }
}
