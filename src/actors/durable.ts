/**
 * Durable actors: an actor whose state outlives the process, kept in a
 * `Store` (src/store) as a checkpoint (its snapshot, a record) and a journal
 * of the messages accepted for it since (docs/architecture.md, "Durable
 * actors").
 *
 * - Every message for a durable actor is appended to its journal before it
 *   enters the mailbox, and only then acknowledged (a host `sendWait`
 *   resolves, a guest's `send` returns OK, a call's request is taken).
 * - When the actor waits in `receive` after handling messages, it is
 *   checkpointed (every `checkpointEvery` messages, or `checkpointMs`): its
 *   snapshot, with the number of the last journal entry it contains, is put
 *   as its record, and the journal is trimmed up to that number.
 * - Recovery (`recover`, and any activation) restores the checkpoint and
 *   delivers the journal's later entries again in order: the engine is
 *   deterministic, so each acknowledged message takes effect once in the
 *   actor's state. What the actor sent while handling a replayed message is
 *   sent again (services get the same call ids and deduplicate).
 * - Passivation: an actor idle past `passivateAfterMs` (parked in `receive`
 *   or `sleep` with no deadline or one at least MIN_WAKE_MS away, nothing
 *   in its mailbox or signal queue, no links, monitors or pending calls) is
 *   checkpointed and dropped; its id stays reserved, and a message to it (or
 *   `Hive.durable` of its key, or its deadline: a timer of the hive's clock)
 *   restores it, the time it was away taken off what it waited for.
 *
 * This file keeps the directory (key and id of every durable actor, live or
 * passivated) and the pipeline of each; the actor system gives it the
 * operations it needs through `DurableHost` (system.ts), and asks it at the
 * top of every local delivery whether the receiver is durable.
 */
import { decode, encode } from './codec.js';
import { HiveStateError } from './errors.js';
import { Kind, Status } from './envelope.js';
import type { Actor } from './actor.js';
import type { MessageSignal, Signal } from './protocol.js';
import type { DurableOptions, ModuleDef } from './types.js';
import type { ActorLimits } from './limits.js';
import type { Clock, TimerHandle } from '../scheduler/index.js';
import { SERVICE_BASE } from './service.js';
import { nextTurn } from './snapshot.js';
import type { JournalEntry, Store } from '../store/index.js';


/** @internal What durable actors need of the actor system (system.ts implements it). */
export interface DurableHost {
  readonly clock: Clock;
  /** The module defined under `name` in this hive. */
  moduleNamed(name: string): ModuleDef | undefined;
  /** The limits an actor of the defined module `name` gets (the hive's when there is no such module). */
  limitsOf(name: string): ActorLimits;
  /** The hive's seed (actors' random generators). */
  readonly seed: string;
  /** Spawns a new actor of `def` (tree of its own), under `id` and with the random generator of `seed` when given, and returns it, not yet run. */
  spawnDurable(def: ModuleDef, init: Uint8Array | null, services: readonly string[], id?: number, seed?: string): Actor;
  /** Restores an actor under the id in its snapshot, `elapsedMs` after it was taken; it carries on at once. */
  restoreDurable(bytes: Uint8Array, def: ModuleDef, services: readonly string[], elapsedMs: number): Actor;
  /** The snapshot of a live actor between slices. */
  /** The snapshot of a live actor between slices: its state taken now, its bytes when compressed (off the thread). */
  snapshotOf(a: Actor): Promise<Uint8Array>;
  /** Takes an idle actor out without a trace (no exit, no signal): its snapshot (or true, without `snapshot`), or null when it is not idle enough (see passivation). */
  passivate(a: Actor, snapshot: boolean, minLeftMs: number): Uint8Array | true | null;
  /** Delivers a message that was journaled: as if it arrived now, but never refused for room. */
  deliverJournaled(s: MessageSignal): void;
  /** Delivers a signal that waited for its actor to be restored (a link, monitor or exit signal), as if it arrived now. */
  redeliver(s: Signal): void;
  /** Ends an actor that never became durable (its first record could not be written). */
  kill(a: Actor): void;
  /** Answers a message that was not taken: the sender learns `status` (or it is a dead letter). */
  refuse(s: MessageSignal, status: number): void;
  /** An id taken as it is (a recovered actor's): later ids go above it. */
  claimId(id: number): void;
  /** Whether something of this hive (an actor, an inbox...) has this id now. */
  idInUse(id: number): boolean;
  /** Ids below this were or may have been given out by this hive. */
  idsBelow(): number;
  /** No id below `n` is given out from now on (a recovered hive's: the ids its actors' state may hold). */
  reserveIdsBelow(n: number): void;
  /** Reports a failure of the store (logged; the hive goes on). */
  storeFailed(what: string, key: string, err: unknown): void;
}

/** The record of a durable actor in its store, under `RECORD_PREFIX + key`. */
interface DurableRecord {
  v: 1;
  key: string;
  id: number;
  module: string;
  /** The services it was granted. */
  services: string[];
  /** The journal entries up to this one are in the snapshot. */
  seq: number;
  /**
   * The hive's `idsBelow` when it was written: the ids its state may hold.
   * A recovered hive gives out none below it (a stale pid must not reach a
   * new actor).
   */
  ids: number;
  /**
   * Its checkpoint; null in its first record (its genesis): then it is
   * spawned again from `init` under its id with the random generator of
   * `seed`, and replays its whole journal (the engine is deterministic).
   */
  snapshot: Uint8Array | null;
  init?: Uint8Array | null;
  seed?: string;
  /** The hive's clock when the snapshot was taken (a restore takes the time since off what a receive or sleep had left). */
  at?: number;
  /** When a receive or sleep it waited in was due (clock ms), or null: a recovery sets its timer, which restores it then. */
  wakeAt?: number | null;
  /**
   * Why it exited, for a tombstone: what is left of an actor that returned,
   * trapped or was killed, so that a new actor under its key numbers its
   * journal on (`Store.append` refuses numbers used before).
   */
  exited?: string;
}

const NO_SERVICES: readonly string[] = Object.freeze([]);

/**
 * Checkpoints take at most about 1 / CHECKPOINT_SHARE of the time of an actor
 * whose checkpoints are slow (a large memory): the next is not due before
 * CHECKPOINT_SHARE times as long as the last took (from its snapshot to its
 * put) has passed since it began. The journal keeps every message meanwhile.
 * Checkpoints quicker than CHECKPOINT_SLOW_MS are not spaced out.
 */
const CHECKPOINT_SHARE = 10;
const CHECKPOINT_SLOW_MS = 5;

/** A receive or sleep due sooner than this keeps its actor from passivating ("no timer due soon"). */
const MIN_WAKE_MS = 1_000;

/** When what a live actor waits in (receive, sleep) is due, or null when it waits for no time. */
function wakeOf(a: Actor): number | null {
  const w = a.wait;
  return w !== null && (w.kind === 'receive' || w.kind === 'sleep') && w.deadline !== Infinity ? w.deadline : null;
}

/** Store key prefix of the records; the journal of an actor is named by its key alone. */
export const RECORD_PREFIX = 'actor/';

/** One durable actor, live (`actor` set) or passivated. */
class Cell {
  actor: Actor | null = null;
  /** The record written last (or being written), while it is the only copy this process trusts; dropped once put. */
  record: Uint8Array | null = null;
  /** The last seq journaled, and the last delivered into the mailbox (what a snapshot now contains). */
  lastSeq = 0;
  deliveredSeq = 0;
  /** The seq the last checkpoint covers. */
  checkpointSeq = 0;
  /** When its last checkpoint began (clock ms), and how long it took until put (see CHECKPOINT_SHARE). */
  checkpointAt = 0;
  checkpointTook = 0;
  /** Messages delivered since the last checkpoint. */
  sinceCheckpoint = 0;
  /**
   * Whether the last checkpoint (written or being written) is its state now:
   * taken as it waited in receive, and it has taken nothing since. Then it
   * passivates without another snapshot.
   */
  atRest = false;
  /** Clock time of the first message handled after the last checkpoint (0: none). */
  dirtySince = 0;
  /**
   * Messages waiting for their journal append, and the link, monitor and
   * exit signals behind them (or waiting for it to be restored), in order;
   * null when none (most cells: passivated ones cost little).
   */
  queue: Signal[] | null = null;
  pumping = false;
  /** A put of its record under way (#putLoop), and who waits for the next one. */
  putting = false;
  afterPut: ((ok: boolean) => void)[] | null = null;
  /** The seq `record` covers. */
  recordSeq = 0;
  /** When the receive or sleep of its last checkpoint was due (null: none). */
  wakeAt: number | null = null;
  /** The first seq of the batch being appended (Infinity: none): an activation meanwhile replays only entries before it. */
  appending = Infinity;
  /** Messages of the batch being appended (they take room until delivered). */
  journaling = 0;
  /** Bytes of the messages in `queue` and being journaled: they count in its mailbox's `mailboxBytes` when accepted. */
  pendingBytes = 0;
  idleTimer: TimerHandle | null = null;
  /** Passivated while a receive's deadline was ahead: the timer that restores it then. */
  wakeTimer: TimerHandle | null = null;
  /** Callers waiting for its activation. */
  waiters: (() => void)[] | null = null;
  /** A checkpoint was due while a put was under way: taken when it is done (one snapshot per put). */
  checkpointAfterPut = false;
  /** A record being made (its snapshot compressed): settles once it is handed to the puts; later records wait for it. */
  compressing: Promise<void> | null = null;
  /** The last put's failure, if it failed. */
  putError: unknown = null;
  /** When it crashed and was restarted (clock ms), the last `maxRestarts` of them (DurableOptions.restart). */
  crashes: number[] | null = null;
  /**
   * Journal entries its activations do not replay: the messages it was
   * handling when it crashed (restartsAfterCrash), until a checkpoint covers
   * them; null for none.
   */
  skip: Set<number> | null = null;
  /** A checkpoint is due when it next waits in receive, whatever checkpointEvery says (after a crash restart). */
  checkpointDue = false;
  /**
   * The exits of instances taken down (passivated, or restarted after a
   * crash) whose `exited` the host's code holds: resolved with its real
   * exit, as `exit` is.
   */
  exitWaiters: ((reason: string) => void)[] | null = null;
  /** Its exit, for refs that ask while it is passivated (made on demand). */
  exit: { promise: Promise<string>; resolve(reason: string): void } | null = null;

  constructor(
    readonly key: string,
    readonly id: number,
    readonly module: string,
    readonly services: readonly string[],
  ) {}
}

function encodeRecord(r: DurableRecord): Uint8Array {
  return encode(r);
}

/** A record or entry the store gave back, as MessagePack: a typed error when it is not. */
function decodeStored(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes);
  } catch (e) {
    throw new HiveStateError(`${what} is malformed: ${(e as Error).message}`);
  }
}

const isId = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) < SERVICE_BASE;
const isCount = (n: unknown, max = Number.MAX_SAFE_INTEGER): boolean => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= max;

function decodeRecord(bytes: Uint8Array, key: string): DurableRecord {
  const r = decodeStored(bytes, `durable actor ${JSON.stringify(key)}: its record`) as Partial<DurableRecord> | null;
  // The store is durable state the host may not fully trust: ids in the actors' range, numbers in theirs.
  if (r === null || typeof r !== 'object' || r.v !== 1 || r.key !== key || !isId(r.id) || !isCount(r.seq) || !isCount(r.ids, SERVICE_BASE) || typeof r.module !== 'string' || !Number.isSafeInteger(r.seq) || !(r.snapshot === null || r.snapshot instanceof Uint8Array) || (r.snapshot === null && (typeof r.seed !== 'string' || !(r.init === null || r.init instanceof Uint8Array))) || !Array.isArray(r.services) || !r.services.every((x) => typeof x === 'string') || (r.exited !== undefined && typeof r.exited !== 'string') || (r.at !== undefined && !Number.isFinite(r.at)) || (r.wakeAt !== undefined && r.wakeAt !== null && !Number.isFinite(r.wakeAt))) {
    throw new HiveStateError(`durable actor ${JSON.stringify(key)}: its record in the store is malformed`);
  }
  return r as DurableRecord;
}

/**
 * A journal entry: [from, bytes, ids], `ids` the hive's idsBelow when it was
 * journaled (see DurableRecord.ids). A replayed message's sender, or a
 * replayed call's reply address, is of a process that may be gone: what
 * the actor sends there is a dead letter, never another actor's (those
 * ids are reserved first).
 */
function encodeEntry(s: MessageSignal, ids: number): Uint8Array {
  return encode([s.from, s.bytes, ids]);
}

function decodeEntry(e: JournalEntry, key: string): { from: number; bytes: Uint8Array; ids: number } {
  const v = decodeStored(e.bytes, `durable actor ${JSON.stringify(key)}: journal entry ${e.seq}`);
  if (!Array.isArray(v) || v.length !== 3 || !isCount(v[0], SERVICE_BASE + 0xffff) || !(v[1] instanceof Uint8Array) || !isCount(v[2], SERVICE_BASE)) throw new HiveStateError(`durable actor ${JSON.stringify(key)}: journal entry ${e.seq} is malformed`);
  return { from: v[0] as number, bytes: v[1] as Uint8Array, ids: v[2] as number };
}

/** @internal The durable actors of one hive. */
export class DurableActors {
  readonly #host: DurableHost;
  readonly #store: Store;
  readonly #every: number;
  readonly #everyMs: number;
  readonly #idleMs: number;
  readonly #maxPending: number;
  /** Crash restarts (DurableOptions.restart), or null. */
  readonly #restart: { readonly maxRestarts: number; readonly withinMs: number } | null;
  readonly #byId = new Map<number, Cell>();
  readonly #byKey = new Map<string, Cell>();
  /** Activations under way, by key (`durable` of a key not in the directory yet). */
  readonly #opening = new Map<string, Promise<Cell>>();
  /** Keys whose actor exited and whose tombstone is being put: `durable` of them waits for it. */
  readonly #exiting = new Map<string, Promise<void>>();
  #recovering: Promise<{ actors: number; restored: number; replayed: number }> | null = null;
  /** The message being delivered after its journal append (onMessage lets it through). */
  #releasing: MessageSignal | null = null;
  /** The signal being delivered after it waited (the system's handlers let it through, to the actor or to nobody). */
  #passing: Signal | null = null;
  #closed = false;
  /** Journal entries replayed so far (recover reports its own). */
  #replayed = 0;

  constructor(host: DurableHost, options: DurableOptions) {
    this.#host = host;
    this.#store = options.store;
    this.#every = positive(options.checkpointEvery ?? 1, 'checkpointEvery');
    this.#everyMs = positive(options.checkpointMs ?? 1_000, 'checkpointMs');
    this.#idleMs = options.passivateAfterMs ?? 60_000;
    if (!(this.#idleMs >= 0)) throw new RangeError(`passivateAfterMs must be >= 0, got ${this.#idleMs}`);
    this.#maxPending = positive(options.maxPending ?? 1_024, 'maxPending');
    const r = options.restart ?? false;
    this.#restart = r === false ? null : {
      maxRestarts: r === true || r.maxRestarts === undefined ? 3 : count(r.maxRestarts, 'restart.maxRestarts'),
      withinMs: r === true || r.withinMs === undefined ? 5_000 : positive(r.withinMs, 'restart.withinMs'),
    };
  }

  /** Whether `id` is a durable actor's (live or passivated). */
  holds(id: number): boolean {
    return this.#byId.has(id);
  }

  /** Whether `s` is the message being delivered after its journal append (it takes no room check). */
  isReleasing(s: MessageSignal): boolean {
    return s === this.#releasing;
  }

  /** Whether `id` is a passivated durable actor's (its address is held here, no instance). */
  passivated(id: number): boolean {
    const c = this.#byId.get(id);
    return c !== undefined && c.actor === null;
  }

  /**
   * The exit of a passivated durable actor, for its refs (`exited`,
   * `alive`): it resolves when the actor, restored, exits, or the hive
   * closes; undefined for an id that is not a passivated actor's.
   */
  exitedOf(id: number): Promise<string> | undefined {
    const c = this.#byId.get(id);
    if (c === undefined || c.actor !== null) return undefined;
    if (this.#closed) return Promise.resolve('shutdown');
    if (c.exit === null) {
      let resolve!: (reason: string) => void;
      const promise = new Promise<string>((r) => (resolve = r));
      c.exit = { promise, resolve };
    }
    return c.exit.promise;
  }


  /**
   * Called at the top of every local delivery of a message: true when the
   * message is durable's to handle (journaled first, delivered later);
   * false when it is not for a durable actor, or is the one being delivered
   * after its append.
   */
  intercepts(s: MessageSignal): boolean {
    if (s === this.#releasing) return false;
    const c = this.#byId.get(s.to);
    if (c === undefined) return false;
    // Room is taken when a message is accepted (it is delivered later without a check): in the queue, and in
    // the live actor's mailbox counting what waits in the queue (a passivated one's is empty).
    const queued = (c.queue === null ? 0 : c.queue.length) + c.journaling;
    // As its mailbox would count them, with those on their way to it (a passivated actor's is empty): at most
    // `mailbox` messages, and `mailboxBytes` bytes unless it is the only one.
    const size = s.bytes.length;
    const limits = c.actor?.limits ?? this.#host.limitsOf(c.module);
    const count = (c.actor?.mailbox.length ?? 0) + queued;
    const room = count < limits.mailbox && (count === 0 || (c.actor?.mailbox.bytes ?? 0) + c.pendingBytes + size <= limits.mailboxBytes);
    if (this.#closed || queued >= this.#maxPending || !room || (c.actor !== null && !c.actor.hasRoom(size))) {
      this.#host.refuse(s, Status.FULL);
      return true;
    }
    (c.queue ??= []).push(s);
    c.pendingBytes += size;
    this.#stopIdle(c);
    if (!c.pumping) void this.#pump(c);
    return true;
  }

  /**
   * Called before an unlink or demonitor is delivered: true when it waits
   * behind the signals held for its actor (the link or monitor it undoes may
   * be among them: delivered first, it would find nothing, and that one
   * would stay for ever), or is dropped for a passivated actor that holds
   * none (a passivated actor has no links or monitors: nothing to undo, and
   * nothing to restore it for).
   */
  holdsUndo(s: Signal): boolean {
    if (s === this.#passing) return false;
    const c = this.#byId.get(s.to);
    if (c === undefined || this.#closed || (c.actor !== null && !c.pumping)) return false;
    if (c.queue === null && !c.pumping) return true;
    (c.queue ??= []).push(s);
    return true;
  }

  /**
   * Called before a link, monitor or exit signal is delivered: true when it
   * is for a passivated durable actor, or one with messages on their way to
   * its journal (it then waits, in order behind them, for the actor to be
   * restored, and is delivered then).
   */
  holdsSignal(s: Signal): boolean {
    if (s === this.#passing) return false;
    const c = this.#byId.get(s.to);
    if (c === undefined || this.#closed || (c.actor !== null && !c.pumping)) return false;
    (c.queue ??= []).push(s);
    this.#stopIdle(c);
    if (!c.pumping) void this.#pump(c);
    return true;
  }

  /**
   * The durable actor under `key`: the live one, or restored from the store
   * (checkpoint and journal), or a new one of `module` spawned with `init`
   * and checkpointed before this resolves.
   */
  async open(key: string, module: string, init: Uint8Array | null, services: readonly string[]): Promise<number> {
    if (this.#closed) throw new HiveStateError('the hive is closed');
    if (typeof key !== 'string' || key.length === 0) throw new RangeError('a durable actor\'s key must be a non-empty string');
    await this.#exiting.get(key);
    const known = this.#byKey.get(key);
    if (known !== undefined) {
      if (known.module !== module) throw new HiveStateError(`durable actor ${JSON.stringify(key)} is of module ${JSON.stringify(known.module)}, not ${JSON.stringify(module)}`);
      await this.#activate(known);
      return known.id;
    }
    let opening = this.#opening.get(key);
    if (opening === undefined) {
      opening = this.#openNew(key, module, init, services);
      this.#opening.set(key, opening);
      void opening.finally(() => this.#opening.delete(key)).catch(() => {});
    }
    const c = await opening;
    if (c.module !== module) throw new HiveStateError(`durable actor ${JSON.stringify(key)} is of module ${JSON.stringify(c.module)}, not ${JSON.stringify(module)}`);
    return c.id;
  }

  async #openNew(key: string, module: string, init: Uint8Array | null, services: readonly string[]): Promise<Cell> {
    const saved = await this.#store.get(RECORD_PREFIX + key);
    // A recovery may have entered it meanwhile.
    const entered = this.#byKey.get(key);
    if (entered !== undefined) {
      await this.#activate(entered);
      return entered;
    }
    const r = saved === null ? null : decodeRecord(saved, key);
    if (r !== null && r.exited === undefined) {
      const c = this.#enter(r);
      try {
        await this.#activate(c);
      } catch (e) {
        this.#forget(c);
        throw e;
      }
      return c;
    }
    const def = this.#def(module);
    const a = this.#host.spawnDurable(def, init, services);
    const c = new Cell(key, a.id, module, services.length === 0 ? NO_SERVICES : [...services]);
    // After a tombstone: its journal numbers on from the last actor's.
    if (r !== null) c.lastSeq = c.deliveredSeq = c.checkpointSeq = r.seq;
    c.actor = a;
    a.durable = c;
    this.#byId.set(c.id, c);
    this.#byKey.set(key, c);
    // Its genesis record, before anyone is told it exists: a crash from now on recovers it (spawned again).
    const ok = await this.#write(c, encodeRecord({ v: 1, key, id: c.id, module, services: [...services], seq: c.lastSeq, ids: this.#host.idsBelow(), snapshot: null, init, seed: this.#host.seed }), c.lastSeq);
    if (!ok) {
      // Not durable: it never was (nothing was acknowledged to it), and goes.
      this.#forget(c);
      a.durable = null;
      for (const s of c.queue ?? []) {
        if (s.t === 'message') this.#host.refuse(s, Status.FAILED);
      }
      c.queue = null;
      this.#host.kill(a);
      throw new HiveStateError(`durable actor ${JSON.stringify(key)}: its first record could not be written to the store`, { cause: c.putError });
    }
    return c;
  }

  /** Takes a cell out of the directory (its actor never became durable, or could not be restored). */
  #forget(c: Cell): void {
    if (this.#byId.get(c.id) === c) this.#byId.delete(c.id);
    if (this.#byKey.get(c.key) === c) this.#byKey.delete(c.key);
    this.#stopIdle(c);
    if (c.wakeTimer !== null) this.#host.clock.clearTimer(c.wakeTimer);
    c.wakeTimer = null;
  }

  /** Enters a record's actor in the directory, passivated (its wake timer set, if it waited with a deadline). */
  #enter(r: DurableRecord): Cell {
    const c = new Cell(r.key, r.id, r.module, r.services.length === 0 ? NO_SERVICES : r.services);
    c.lastSeq = c.deliveredSeq = c.checkpointSeq = r.seq;
    c.wakeAt = r.wakeAt ?? null;
    this.#host.claimId(r.id);
    this.#byId.set(c.id, c);
    this.#byKey.set(c.key, c);
    this.#setWake(c);
    return c;
  }

  /** A passivated actor whose last checkpoint waits with a deadline is restored when it is due (it then times out there). */
  #setWake(c: Cell): void {
    if (c.wakeAt === null || c.actor !== null || c.wakeTimer !== null || this.#closed) return;
    c.wakeTimer = this.#host.clock.setTimer(c.wakeAt, () => {
      c.wakeTimer = null;
      this.#activate(c).catch((err: unknown) => this.#host.storeFailed('wake', c.key, err));
    });
  }

  #def(module: string): ModuleDef {
    const def = this.#host.moduleNamed(module);
    if (def === undefined) throw new HiveStateError(`no module ${JSON.stringify(module)} is defined in this hive (hive.define) for its durable actors`);
    return def;
  }

  /**
   * Rebuilds the directory from the store after a restart: every durable
   * actor's key and id (ids stay reserved), then restores those whose
   * journal holds messages past their checkpoint (they replay them now);
   * the others wait passivated until addressed. Returns how many were found
   * and how many were restored.
   */
  recover(): Promise<{ actors: number; restored: number; replayed: number }> {
    // One at a time: a second call gets the first's answer.
    this.#recovering ??= this.#recover().finally(() => (this.#recovering = null));
    return this.#recovering;
  }

  async #recover(): Promise<{ actors: number; restored: number; replayed: number }> {
    let actors = 0;
    // A record that cannot be read (malformed, of an id in use) is logged and skipped: the others recover.
    for await (const k of this.#store.keys(RECORD_PREFIX)) {
      const key = k.slice(RECORD_PREFIX.length);
      if (this.#byKey.has(key)) continue;
      try {
        const bytes = await this.#store.get(k);
        if (bytes === null || this.#byKey.has(key)) continue;
        const r = decodeRecord(bytes, key);
        this.#host.reserveIdsBelow(r.ids);
        if (r.exited !== undefined) continue;
        if (this.#byId.has(r.id)) throw new HiveStateError(`durable actor ${JSON.stringify(key)}: id ${r.id} is another durable actor's`);
        if (this.#host.idInUse(r.id)) throw new HiveStateError(`durable actor ${JSON.stringify(key)}: its id ${r.id} was given out in this hive before recover() (call it before spawning or opening inboxes)`);
        this.#enter(r);
        actors++;
      } catch (err) {
        this.#host.storeFailed('recover', key, err);
      }
    }
    let restored = 0;
    const before = this.#replayed;
    for await (const key of this.#store.journals()) {
      const c = this.#byKey.get(key);
      if (c === undefined || c.actor !== null) continue;
      try {
        await this.#activate(c);
        restored++;
      } catch (err) {
        this.#host.storeFailed('recover', key, err);
      }
    }
    return { actors, restored, replayed: this.#replayed - before };
  }

  /** Restores a passivated actor (its checkpoint, then its journal's later entries); nothing for a live one. */
  async #activate(c: Cell): Promise<void> {
    if (c.actor !== null) return;
    if (c.waiters !== null) return new Promise((resolve) => c.waiters!.push(resolve));
    c.waiters = [];
    if (c.wakeTimer !== null) {
      this.#host.clock.clearTimer(c.wakeTimer);
      c.wakeTimer = null;
    }
    try {
      // The record and the journal at once: no record is older than the last checkpoint put.
      const [saved, tail] = await Promise.all([c.record ?? this.#store.get(RECORD_PREFIX + c.key), this.#store.read(c.key, c.checkpointSeq)]);
      const bytes = c.record ?? saved;
      if (bytes === null) throw new HiveStateError(`durable actor ${JSON.stringify(c.key)}: its record is gone from the store`);
      const r = decodeRecord(bytes, c.key);
      // Past the record's, and not of a batch being appended now (#pump delivers those); not the message a crash
      // restart skips (restartsAfterCrash).
      const skip = c.skip;
      const past = tail.filter((e) => e.seq > r.seq && e.seq < c.appending);
      const entries = skip === null ? past : past.filter((e) => !skip.has(e.seq));
      const replay = entries.map((e) => decodeEntry(e, c.key));
      for (const e of replay) this.#host.reserveIdsBelow(e.ids);
      const elapsed = r.at === undefined ? 0 : Math.max(0, this.#host.clock.now() - r.at);
      const a = r.snapshot === null ? this.#host.spawnDurable(this.#def(r.module), r.init ?? null, r.services, r.id, r.seed) : this.#host.restoreDurable(r.snapshot, this.#def(r.module), r.services, elapsed);
      a.durable = c;
      c.actor = a;
      c.checkpointSeq = r.seq;
      c.deliveredSeq = r.seq;
      for (let i = 0; i < replay.length; i++) {
        const { from, bytes: msg } = replay[i]!;
        this.#release(c, { t: 'message', from, to: c.id, sender: 0, payer: 0, bytes: msg, until: -1, seq: 0, call: false }, entries[i]!.seq);
        this.#replayed++;
      }
      if (skip !== null) {
        // What it skipped is behind it too: the checkpoint it takes next covers it, and later activations read past it.
        c.deliveredSeq = Math.max(c.deliveredSeq, past.at(-1)?.seq ?? 0);
        c.checkpointDue = true;
      }
      c.lastSeq = Math.max(c.lastSeq, c.deliveredSeq);
      // Restored from a checkpoint with nothing to replay: that checkpoint is its state (see atRest).
      c.atRest = r.snapshot !== null && replay.length === 0;
    } finally {
      const w = c.waiters;
      c.waiters = null;
      for (const f of w) f();
    }
  }

  /** Journals what waits in `c.queue`, in batches, and delivers each batch once appended. */
  async #pump(c: Cell): Promise<void> {
    c.pumping = true;
    try {
      while (c.queue !== null && c.queue.length > 0 && !this.#closed) {
        const held = c.queue;
        c.queue = null;
        // Messages are journaled; the signals among them wait for their turn (and for the actor to be restored).
        const batch = held.filter((s): s is MessageSignal => s.t === 'message');
        const first = c.lastSeq + 1;
        c.lastSeq = first + batch.length - 1;
        const ids = this.#host.idsBelow();
        const entries = batch.map((s, i) => ({ seq: first + i, bytes: encodeEntry(s, ids) }));
        // A passivated actor is restored while its batch is appended (an activation replays only what came before).
        c.appending = first;
        c.journaling = batch.length;
        const appended = entries.length === 0 ? Promise.resolve() : this.#store.append(c.key, entries);
        appended.catch(() => {}); // awaited below, after the activation
        let failed: [string, unknown] | null = null;
        if (c.actor === null) {
          try {
            await this.#activate(c);
          } catch (err) {
            failed = ['activate', err];
          }
        }
        try {
          await appended;
        } catch (err) {
          // Not acknowledged. (An append that failed may still have left some entries: they are replayed by a
          // recovery. A send that failed may take effect; one that succeeded takes effect once.)
          failed ??= ['append', err];
        }
        // It crashed meanwhile, and is being restarted (restart): delivered to the restored actor.
        if (failed === null && c.actor === null && !this.#closed) {
          try {
            await this.#activate(c);
          } catch (err) {
            failed = ['activate', err];
          }
        }
        c.appending = Infinity;
        c.journaling = 0;
        // Delivered into the mailbox (which counts them from there), or refused.
        for (const s of batch) c.pendingBytes -= s.bytes.length;
        if (failed !== null) {
          this.#host.storeFailed(failed[0], c.key, failed[1]);
          for (const s of batch) this.#host.refuse(s, Status.FAILED);
          // The signals go on: to the actor if it is there, else they find it gone (noproc).
          for (const s of held) if (s.t !== 'message') this.#pass(s);
          if (c.actor === null) {
            for (const s of (c.queue as Signal[] | null) ?? []) {
              if (s.t === 'message') this.#host.refuse(s, Status.FAILED);
              else this.#pass(s);
            }
            c.queue = null;
            c.pendingBytes = 0;
          }
          continue;
        }
        if (this.#closed) return;
        let seq = first;
        for (const s of held) {
          if (s.t === 'message') this.#release(c, s, seq++);
          else this.#pass(s);
        }
      }
    } finally {
      c.pumping = false;
    }
  }

  /** Delivers a signal that waited in a cell's queue, once: to the restored actor, or, if it is not there, to nobody (noproc). */
  #pass(s: Signal): void {
    this.#passing = s;
    try {
      this.#host.redeliver(s);
    } finally {
      this.#passing = null;
    }
  }

  /** Delivers one journaled message into the live actor's mailbox. */
  #release(c: Cell, s: MessageSignal, seq: number): void {
    c.atRest = false;
    this.#releasing = s;
    try {
      this.#host.deliverJournaled(s);
    } finally {
      this.#releasing = null;
    }
    c.deliveredSeq = seq;
    c.sinceCheckpoint++;
    if (c.dirtySince === 0) c.dirtySince = this.#host.clock.now();
  }

  /**
   * After a slice of a durable actor: when it waits in `receive`, a
   * checkpoint when due, and the idle timer when it has nothing to do.
   */
  sliceEnded(a: Actor): void {
    const c = a.durable as Cell | null;
    if (c === null || c.actor !== a || this.#closed) return;
    // It ran: its last checkpoint is its state no longer, unless one is taken now.
    c.atRest = false;
    const w = a.wait;
    if (a.state !== 'parked' || w === null || (w.kind !== 'receive' && w.kind !== 'sleep')) return;
    const now = this.#host.clock.now();
    // Messages handled since its checkpoint, or the deadline that checkpoint waited for passed (a timer ran it).
    const moved = c.sinceCheckpoint + (c.wakeAt !== null && now >= c.wakeAt ? 1 : 0) + (c.checkpointDue ? 1 : 0);
    if (w.kind === 'receive' && moved > 0) {
      const spaced = c.checkpointTook >= CHECKPOINT_SLOW_MS ? c.checkpointAt + CHECKPOINT_SHARE * c.checkpointTook : 0;
      if (spaced > now && !c.checkpointDue) {
        // A slow checkpoint not long ago: the next when its share of the time allows.
        if (c.idleTimer === null) {
          c.idleTimer = this.#host.clock.setTimer(spaced, () => {
            c.idleTimer = null;
            if (c.actor !== null && c.actor.state === 'parked') this.sliceEnded(c.actor);
          });
        }
        return;
      }
      if (moved >= this.#every || c.checkpointDue || c.dirtySince === 0 || now - c.dirtySince >= this.#everyMs) {
        if (c.putting || c.compressing !== null) {
          // One snapshot per put: the newest state is taken when the put under way is done (#putLoop).
          c.checkpointAfterPut = true;
        } else {
          void this.#checkpoint(c, this.#host.snapshotOf(a), wakeOf(a));
          c.atRest = true;
        }
      } else if (c.idleTimer === null) {
        // Handled some, fewer than `every`: a checkpoint within checkpointMs, when nothing else made one.
        c.idleTimer = this.#host.clock.setTimer(c.dirtySince + this.#everyMs, () => {
          c.idleTimer = null;
          if (c.actor !== null && c.actor.state === 'parked') this.sliceEnded(c.actor);
        });
        return;
      }
    }
    if (a.mailbox.length === 0 && c.queue === null) this.#startIdle(c);
  }


  #startIdle(c: Cell): void {
    if (c.idleTimer !== null || this.#idleMs === Infinity) return;
    c.idleTimer = this.#host.clock.setTimer(this.#host.clock.now() + this.#idleMs, () => {
      c.idleTimer = null;
      void this.passivate(c.id);
    });
  }

  #stopIdle(c: Cell): void {
    if (c.idleTimer === null) return;
    this.#host.clock.clearTimer(c.idleTimer);
    c.idleTimer = null;
  }

  /**
   * Writes a checkpoint of `c` from `snapshot` (taken now, between slices,
   * containing the messages delivered up to `c.deliveredSeq`), then trims
   * its journal.
   */
  #checkpoint(c: Cell, snapshot: Uint8Array | Promise<Uint8Array>, wakeAt: number | null): Promise<boolean> {
    const seq = c.deliveredSeq;
    c.sinceCheckpoint = 0;
    c.dirtySince = 0;
    c.wakeAt = wakeAt;
    c.checkpointDue = false;
    const at = this.#host.clock.now();
    c.checkpointAt = at;
    const ids = this.#host.idsBelow();
    const record = (bytes: Uint8Array): Uint8Array => encodeRecord({ v: 1, key: c.key, id: c.id, module: c.module, services: [...c.services], seq, ids, snapshot: bytes, at, wakeAt });
    // (A snapshot compressed off the thread is large, or may be: its record is made, and put, each in a turn of its own.)
    const written = this.#write(c, snapshot instanceof Uint8Array ? record(snapshot) : snapshot.then(async (bytes) => {
      await nextTurn();
      return record(bytes);
    }), seq);
    void written.then(() => {
      c.checkpointTook = this.#host.clock.now() - at;
    });
    if (c.skip === null) return written;
    // Entries skipped after a crash that this checkpoint covers are trimmed with the journal: no activation reads them.
    return written.then((ok) => {
      if (ok && c.skip !== null) {
        for (const q of c.skip) if (q <= seq) c.skip.delete(q);
        if (c.skip.size === 0) c.skip = null;
      }
      return ok;
    });
  }

  /**
   * Puts `record` (covering the journal up to `seq`) as c's record, then
   * trims the journal. One put at a time per actor, in order: a newer record
   * waits for the put under way and replaces any older one waiting (only the
   * newest is written). Resolves once this record, or a newer one, is put.
   */
  #write(c: Cell, record: Uint8Array | Promise<Uint8Array>, seq: number): Promise<boolean> {
    if (record instanceof Uint8Array && c.compressing === null) return this.#put(c, record, seq);
    // Records go to the puts in the order they were made: one whose snapshot is compressed meanwhile is waited for.
    const before = c.compressing;
    let handed!: () => void;
    const gate = new Promise<void>((resolve) => (handed = resolve));
    c.compressing = gate;
    const release = (): void => {
      handed();
      if (c.compressing === gate) c.compressing = null;
    };
    return Promise.all([before, record]).then(
      async ([, bytes]) => {
        await nextTurn();
        const put = this.#put(c, bytes, seq);
        release();
        return put;
      },
      (err: unknown) => {
        release();
        this.#host.storeFailed('checkpoint', c.key, err);
        return false;
      },
    );
  }

  /** When the put under way (if any) is done: true when it was written. */
  #putDone(c: Cell): Promise<boolean> | null {
    return c.putting ? new Promise<boolean>((resolve) => (c.afterPut ??= []).push(resolve)) : null;
  }

  /** `#write` of a record made: one put at a time (#putLoop), the newest waiting one replacing the others. */
  #put(c: Cell, record: Uint8Array, seq: number): Promise<boolean> {
    c.record = record;
    c.recordSeq = seq;
    const done = new Promise<boolean>((resolve) => (c.afterPut ??= []).push(resolve));
    if (!c.putting) void this.#putLoop(c);
    return done;
  }

  async #putLoop(c: Cell): Promise<void> {
    c.putting = true;
    try {
      while (c.afterPut !== null) {
        const waiting = c.afterPut;
        c.afterPut = null;
        const r = c.record;
        const seq = c.recordSeq;
        // Null: what they wait for was put by the last round (nothing newer came).
        let ok = c.putError === null;
        if (r !== null) {
          try {
            await this.#store.put(RECORD_PREFIX + c.key, r);
            c.checkpointSeq = Math.max(c.checkpointSeq, seq);
            c.putError = null;
            ok = true;
            // Kept in memory only while it may be newer than the store's.
            if (c.record === r) c.record = null;
            await this.#store.trim(c.key, seq);
          } catch (err) {
            // (The store keeps the last checkpoint and the journal after it, which rebuild the actor.)
            if (c.record === r) {
              this.#host.storeFailed('checkpoint', c.key, err);
              c.putError = err;
              ok = false;
              c.record = null;
            }
          }
        }
        for (const f of waiting) f(ok);
        // A checkpoint that came due meanwhile, taken now if the actor still waits in receive.
        const a = c.actor;
        if (c.checkpointAfterPut && c.afterPut === null && a !== null && !this.#closed) {
          c.checkpointAfterPut = false;
          if (a.state === 'parked' && a.wait?.kind === 'receive') {
            void this.#checkpoint(c, this.#host.snapshotOf(a), wakeOf(a));
            c.atRest = true;
          }
        }
      }
    } finally {
      c.putting = false;
    }
  }

  /** Checkpoints a live durable actor now (between slices). */
  async checkpoint(id: number): Promise<void> {
    const c = this.#byId.get(id);
    if (c === undefined) throw new HiveStateError(`${id} is not a durable actor`);
    if (c.actor === null) return;
    if (!(await this.#checkpoint(c, this.#host.snapshotOf(c.actor), wakeOf(c.actor)))) throw new HiveStateError(`durable actor ${JSON.stringify(c.key)}: its checkpoint could not be written to the store`, { cause: c.putError });
  }

  /**
   * Passivates a live durable actor now if it is idle (see the header):
   * true when it was (its record is in the store when this resolves).
   */
  async passivate(id: number): Promise<boolean> {
    const c = this.#byId.get(id);
    if (c === undefined || c.actor === null || c.pumping || c.queue !== null || this.#closed) return false;
    const a = c.actor;
    // At rest, its last checkpoint is its state: no snapshot to take (nor to compress).
    const rest = c.atRest && a.state === 'parked' && a.wait?.kind === 'receive';
    const wakeAt = wakeOf(a);
    const bytes = this.#host.passivate(a, !rest, MIN_WAKE_MS);
    if (bytes === null) return false;
    this.#stopIdle(c);
    c.actor = null;
    a.durable = null;
    if (a.exitWatched) (c.exitWaiters ??= []).push(a.resolveExited);
    // At rest, its last checkpoint, which may still be compressed or put, is its state: passivated once it is written.
    const written = bytes !== true ? this.#checkpoint(c, bytes, wakeAt) : c.compressing !== null ? c.compressing.then(() => this.#putDone(c)) : this.#putDone(c);
    this.#setWake(c);
    if (written !== null) await written;
    return true;
  }

  /**
   * A live durable actor trapped (`reason`): whether it is restarted in place
   * (DurableOptions.restart, within its intensity). When it is, the actor
   * system takes it down without a trace, as it passivates one, and calls
   * `restart`. Asked before anything of it is let go: the message it was
   * handling is the journal entry after those still in its mailbox (a durable
   * actor's mailbox holds journaled messages only, in order, the last being
   * `deliveredSeq`), when what it received last was a message (not a signal
   * or its init message). That entry must be past its last checkpoint (only
   * `Hive.checkpoint` checkpoints an actor with messages in its mailbox),
   * else it is not restarted.
   */
  restartsAfterCrash(a: Actor): boolean {
    const c = a.durable as Cell | null;
    if (c === null || c.actor !== a || this.#restart === null || this.#closed) return false;
    const handling = a.receivedKind === Kind.MESSAGE ? c.deliveredSeq - a.mailbox.length : 0;
    if (handling !== 0 && handling <= c.checkpointSeq) return false;
    const now = this.#host.clock.now();
    const recent = (c.crashes ?? []).filter((t) => now - t < this.#restart!.withinMs);
    if (recent.length >= this.#restart.maxRestarts) return false;
    recent.push(now);
    c.crashes = recent;
    if (handling !== 0) (c.skip ??= new Set()).add(handling);
    return true;
  }

  /**
   * Restores a durable actor the actor system took down after
   * `restartsAfterCrash`: from its last checkpoint, replaying its journal
   * since, the entry it crashed on skipped. Resolves true when it runs
   * again; false when the store failed (logged): it then stays passivated,
   * and what reaches it next tries again (still skipping that entry).
   */
  async restart(a: Actor): Promise<boolean> {
    const c = a.durable as Cell;
    this.#stopIdle(c);
    c.actor = null;
    a.durable = null;
    if (a.exitWatched) (c.exitWaiters ??= []).push(a.resolveExited);
    c.atRest = false;
    try {
      await this.#activate(c);
      return true;
    } catch (err) {
      this.#host.storeFailed('restart', c.key, err);
      this.#setWake(c);
      return false;
    }
  }

  /** The key of a durable actor's id (undefined for others). */
  keyOf(id: number): string | undefined {
    return this.#byId.get(id)?.key;
  }

  /** A durable actor exited (it returned, trapped, was killed): it leaves the directory and the store. */
  exited(a: Actor, reason: string): void {
    const c = a.durable as Cell | null;
    if (c === null) return;
    a.durable = null;
    this.#stopIdle(c);
    c.exit?.resolve(reason);
    for (const f of c.exitWaiters ?? []) f(reason);
    c.exitWaiters = null;
    c.exit = null;
    if (this.#closed || reason === 'shutdown') return;
    this.#byId.delete(c.id);
    this.#byKey.delete(c.key);
    c.actor = null;
    // Messages accepted and not yet journaled find it gone; those journaled are dropped with the journal.
    for (const s of c.queue ?? []) {
      if (s.t === 'message') this.#host.refuse(s, Status.NOT_FOUND);
      else this.#pass(s);
    }
    c.queue = null;
    // After any checkpoint under way (#write keeps them in order); `durable` of its key waits for it.
    const written = this.#write(c, encodeRecord({ v: 1, key: c.key, id: c.id, module: c.module, services: [...c.services], seq: c.lastSeq, ids: this.#host.idsBelow(), snapshot: new Uint8Array(0), exited: reason }), c.lastSeq).then(() => {
      if (this.#exiting.get(c.key) === written) this.#exiting.delete(c.key);
    });
    this.#exiting.set(c.key, written);
  }

  /** Stops: no more journaling, checkpoints or passivation (the store stays open: the host closes it). */
  close(): void {
    this.#closed = true;
    for (const c of this.#byId.values()) {
      this.#stopIdle(c);
      c.exit?.resolve('shutdown');
      for (const f of c.exitWaiters ?? []) f('shutdown');
      c.exitWaiters = null;
      c.exit = null;
      if (c.wakeTimer !== null) this.#host.clock.clearTimer(c.wakeTimer);
      c.wakeTimer = null;
    }
  }
}

function count(n: number, what: string): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  return n;
}

function positive(n: number, what: string): number {
  if (!(n > 0)) throw new RangeError(`${what} must be positive, got ${n}`);
  return n;
}
