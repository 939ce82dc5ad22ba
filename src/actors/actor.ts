/**
 * One actor: a wasm instance running `main` a fuel slice at a time, its
 * mailbox (ordinary messages, bounded) and signal queue (exit signals and
 * down messages, which overtake), its links and monitors, and what it waits
 * for when it is parked. The `hive` imports it gives its guest are in
 * `abi.ts`; routing, names and exits across actors are the hive's.
 */
import type { Logger } from 'pino';
import { Func, Instance, Memory, Suspend, Trap, type Outcome, type Value } from '../vm/index.js';
import type { Clock, Executor, Runnable, TimerHandle } from '../scheduler/index.js';
import type { ActorSchema } from './codec.js';
import { CountedDeque, Kind, type Envelope } from './envelope.js';
import { CountedMap, CountedSet, LogGate, MESSAGE_OVERHEAD, type ActorLimits, type Tree } from './limits.js';
import { Mailbox } from './mailbox.js';
import type { BlockedSend, Process } from './process.js';
import type { Rng } from './rng.js';
import type { ModuleDef } from './types.js';
import type { Binding } from '../bindings/binding.js';
import { i32Result, type SpawnOutcome } from '../bindings/hive/index.js';
import { LazyMap, LazySet } from './lazy.js';

export type { ActorLimits } from './limits.js';

/**
 * What an actor, and the guest ABI built for it (abi.ts), ask of the actor
 * system they live in. The system (system.ts) implements it; this file does
 * not import the system, so that the dependency goes one way.
 */
export interface ActorHost {
  readonly clock: Clock;
  /** After a slice of a durable actor (see `Actor.durable`). */
  durableSliceEnded(a: Actor): void;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  /** Whether one more log line of any actor may be written now (the hive's rate). */
  admitLog(now: number): boolean;
  /** Counts the actor's value stack in its tree's memory (after each slice). */
  meterStack(a: Actor): void;
  /** After each slice: the transport may deliver what the slice sent (an inline one does, before the next slice). */
  sliceEnded(): void;
  /** Ends a process with a reason (its links, monitors and callers are told). */
  terminate(p: Process, reason: string, trap?: Trap): void;
  encodeExit(from: number, reason: string): Uint8Array;
  encodeDown(ref: number, from: number, reason: string): Uint8Array;
  // What the guest ABI asks for the actor (abi.ts): a status now, or PARK until the other side answers.
  actor(id: number): Actor | undefined;
  guestSend(a: Actor, to: number, bytes: Uint8Array, timeout: number): number | Suspend;
  guestCall(a: Actor, to: number, bytes: Uint8Array, timeout: number): number | Suspend;
  guestSpawn(a: Actor, module: string, init: Uint8Array | null, link: boolean, services: boolean, paid: (made: SpawnOutcome) => void): number | Suspend;
  guestRegister(a: Actor, name: string): number | Suspend;
  guestUnregister(a: Actor): number;
  guestLookup(a: Actor, name: string): number | Suspend;
  guestLink(a: Actor, to: number): number | Suspend;
  unlink(p: Process, to: number): void;
  monitor(watcher: Actor, target: number): number;
  demonitor(watcher: Actor, ref: number): number;
  guestExit(a: Actor, to: number, reason: string): number | Suspend;
}

/** What a parked actor waits for. */
export type Wait =
  | { kind: 'receive'; deadline: number; timer: TimerHandle | null }
  | { kind: 'sleep'; deadline: number; timer: TimerHandle | null }
  /** A call: its request until the receiver took it (null after), then the answer at its reply address. */
  | { kind: 'call'; deadline: number; timer: TimerHandle | null; replyId: number; target: number; request: Uint8Array | null; seq?: number }
  /** A send, until the receiver's side answers (it keeps the deadline for room in a full mailbox). */
  | { kind: 'send'; deadline: number; timer: TimerHandle | null; to: number; bytes: Uint8Array; seq?: number }
  /** A link request or an exit signal, until the other side answers. */
  | { kind: 'link'; deadline: number; timer: TimerHandle | null; to: number }
  | { kind: 'exit'; deadline: number; timer: TimerHandle | null; to: number; reason: string }
  /** A request to the hive itself (a name, a spawn), until it answers. */
  | { kind: 'hive'; deadline: number; timer: TimerHandle | null; request: 'register' | 'lookup' | 'spawn' }
  | { kind: 'host' };

/** Where an actor is in its life. */
export type ActorState = 'ready' | 'running' | 'parked' | 'exited';

/** The one Suspend an import returns to park its caller; what it waits for is `Actor.wait`. */
export const PARK = new Suspend('park');

/**
 * The Suspend an import returns to end the slice at once, its work done and
 * its results in `Actor.resumeWith`: host work it did spent the slice's fuel.
 */
export const YIELD = new Suspend('yield');

/** A Suspend asking to end the actor with a reason. */
export class ExitRequest extends Suspend {
  constructor(readonly reason: string) {
    super('exit');
  }
}

const NO_RESULTS: Value[] = [];

/** An actor of a hive. */
export class Actor implements Process, Runnable {
  readonly id: number;
  readonly hive: ActorHost;
  readonly def: ModuleDef;
  readonly limits: ActorLimits;
  readonly schema: ActorSchema | undefined;
  readonly hostSide = false;
  /** The guest; null once the actor has exited. */
  instance: Instance | null = null;
  entry: Func | null = null;
  name: string | null = null;
  /** The name it had when it exited. */
  lastName: string | null = null;
  state: ActorState = 'ready';
  /** Whether `main` has been called. */
  started = false;
  /**
   * The module's start function while it has yet to run or is running (it
   * runs in the actor's own slices, paid from its own fuel, before `main`);
   * null once it has returned, or when there is none.
   */
  startFn: Func | null = null;
  /** Whether the paused call is the start function's. */
  starting = false;
  /** Results to resume the paused guest with (it was woken), or null. */
  resumeWith: Value[] | null = null;
  /** An error to trap the paused guest with (a host import's promise rejected), or null. */
  resumeError: unknown = null;
  wait: Wait | null = null;
  private exitDecided: string | null = null;
  reason: string | null = null;

  readonly mailbox: Mailbox;
  readonly signals: CountedDeque<Envelope>;
  /** The spawn tree it belongs to (its resources are counted there too). */
  readonly tree: Tree;
  /** Its log lines per second. */
  private readonly logGate: LogGate;
  private held: Envelope | null = null;
  trapExit = false;
  readonly links: CountedSet;
  readonly monitoredBy = new LazyMap<number, Set<number>>();
  /** Monitors this actor holds: reference -> monitored id. */
  readonly monitors: CountedMap;
  /**
   * Its monitors of processes on other partitions whose side has not
   * answered yet (an ack once it recorded the monitor, or a `noproc` down):
   * each may still be a down in its signal queue, so each takes room there
   * (`signalRoom`), as a `noproc` down queued at once does on one thread.
   */
  readonly downsAwaited = new LazySet();
  nextMonitorRef = 1;
  /** Reply addresses of calls waiting on this actor (they fail when it exits). */
  readonly callers = new LazySet();
  rng: Rng;
  private childLogger: Logger | null = null;
  /** Resolves with the exit reason. */
  readonly exited: Promise<string>;
  resolveExited!: (reason: string) => void;
  /** Whether `exited` was handed to the host's code (a durable actor taken down keeps its resolver: see DurableActors). */
  exitWatched = false;
  /** Fuel used in all, recorded when it exits. */
  finalFuel = 0;
  /** Slices that ended with its fuel spent while it wanted to run on: its demand for CPU, whatever share it got (the rebalancer's measure). */
  private spent = 0;
  /** Pages of value stack counted in its tree's memory (see `Hive.meterStack`). */
  stackPages = 0;
  /** The last snapshot taken of this actor (supervisors restart from it). */
  lastSnapshot: Uint8Array | null = null;
  /** @internal Its entry in the hive's durable directory (durable.ts), or null for an actor that is not durable. */
  durable: object | null = null;

  /**
   * The host's services it was granted (`SpawnOptions.services`), in grant
   * order: it addresses them as SERVICE_BASE + index. A null is a grant its
   * restore did not renew (its address answers NOT_FOUND, the others keep
   * theirs).
   */
  #services: readonly (string | null)[] = [];
  /** Its calls (and sends) to services so far: the numbers of their call ids. */
  #serviceCalls = 0;

  /** The services it was granted, in order. */
  get services(): readonly (string | null)[] {
    return this.#services;
  }

  /** Its calls to services so far (saved in snapshots: call ids survive them). */
  get serviceCalls(): number {
    return this.#serviceCalls;
  }

  /** Sets its grants and call count (at spawn or restore, before it runs). */
  grantServices(names: readonly (string | null)[], calls = 0): void {
    this.#services = names;
    this.#serviceCalls = calls;
  }

  /** The number of its next call to a service (1, 2, ...). */
  nextServiceCall(): number {
    return ++this.#serviceCalls;
  }

  /** Native services it was given (a Wasi...): its own objects, saved in its snapshots under their names. */
  readonly bindings: readonly Binding[];

  constructor(hive: ActorHost, id: number, def: ModuleDef, limits: ActorLimits, schema: ActorSchema | undefined, rng: Rng, tree: Tree, bindings: readonly Binding[] = []) {
    this.hive = hive;
    this.bindings = bindings;
    this.id = id;
    this.def = def;
    this.limits = limits;
    this.tree = tree;
    // Counted in the tree as they come and go: one tree's links, monitors and queued signals are bounded together.
    this.links = new CountedSet(tree);
    this.monitors = new CountedMap(tree);
    this.signals = new CountedDeque(tree);
    this.mailbox = new Mailbox(limits.mailbox, limits.mailboxBytes);
    this.logGate = new LogGate(limits.logLinesPerSecond);
    this.schema = schema;
    this.rng = rng;
    this.exited = new Promise((r) => (this.resolveExited = r));
  }

  /** The executor gives its spawn tree one turn per round (see Runnable.group). */
  get group(): object {
    return this.tree;
  }

  get alive(): boolean {
    return this.state !== 'exited';
  }

  /**
   * An exit decided while the actor was running (its own import caused it, or
   * a host function killed it): applied when its slice ends. Nothing the guest
   * does after it may take effect: its `hive` imports refuse to run (abi.ts),
   * and setting it takes the slice's fuel away, so the guest stops at its next
   * branch or call.
   */
  get pendingExit(): string | null {
    return this.exitDecided;
  }

  set pendingExit(reason: string | null) {
    this.exitDecided = reason;
    // While running, the guest is inside a host call.
    if (reason !== null && this.state === 'running') this.instance?.dropFuel();
  }

  /**
   * Charges fuel for host work one of its imports did (a copy, random bytes,
   * a spawn). It may go below zero: a debt the next slices pay.
   */
  charge(units: number): void {
    if (units > 0) this.instance?.charge(Math.ceil(units));
  }

  /** During one of its imports: whether the slice's fuel is spent and the slice can end there (the import was called by the slice's own run). */
  get sliceSpent(): boolean {
    const inst = this.instance;
    return inst !== null && this.state === 'running' && inst.fuel <= 0 && inst.canSuspend;
  }

  /** The actor's logger: the hive's, with the actor's id and name on every line. */
  get logger(): Logger {
    if (this.childLogger === null) this.childLogger = this.hive.logger.child(this.name === null ? { actor: this.id } : { actor: this.id, name: this.name });
    return this.childLogger;
  }

  /** Log lines dropped by its rate limit (`logLinesPerSecond`, and the hive's). */
  get logsDropped(): number {
    return this.logGate.dropped;
  }

  /**
   * Writes a line the guest caused (its `log`, or the runtime's warnings
   * about what it did), within its log lines per second and the hive's:
   * excess lines are dropped and counted, and one line per second says how
   * many were.
   */
  log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', msg: string, obj?: object): void {
    const logger = this.logger;
    if (!logger.isLevelEnabled(level)) return;
    const now = this.hive.clock.now();
    if (!this.logGate.admit(now, this.reportDropped, this)) return;
    if (!this.hive.admitLog(now)) return this.logGate.drop();
    if (obj === undefined) logger[level](msg);
    else logger[level](obj, msg);
  }

  /** Says how many log lines it dropped (a method, not a closure per actor: LogGate calls it with the actor as `this`). */
  private reportDropped(n: number): void {
    this.logger.warn({ dropped: n }, `dropped ${n} log lines (over the actor's ${this.limits.logLinesPerSecond} or the hive's bound a second)`);
  }

  /** Reports the log lines dropped in the current second (the actor exits). */
  flushLogs(): void {
    this.logGate.flush(this.reportDropped, this);
  }

  /** Takes a new name (null: none); its log lines say so from now on. */
  renamed(name: string | null): void {
    this.name = name;
    this.childLogger = null;
  }

  // ---------------------------------------------------------------------
  // Running

  runSlice(): boolean {
    if (this.state !== 'ready') return false;
    const inst = this.instance!;
    // A new slice; a debt from overdrawing the last one is carried, unused fuel is not.
    if (inst.fuel < 0) inst.addFuel(this.limits.fuelPerSlice);
    else inst.fuel = this.limits.fuelPerSlice;
    // Still in debt (host work of its imports cost more than a slice): this slice only pays it.
    if (inst.fuel <= 0 && (this.started || this.starting)) return true;
    this.state = 'running';
    let out: Outcome;
    try {
      if (this.startFn !== null && !this.starting) {
        this.starting = true;
        out = inst.call(this.startFn, NO_RESULTS);
      } else if (!this.started && !this.starting) {
        this.started = true;
        out = inst.call(this.entry!, NO_RESULTS);
      } else if (this.resumeError !== null) {
        const error = this.resumeError;
        this.resumeError = null;
        out = inst.resume({ error });
      } else if (this.resumeWith !== null) {
        const results = this.resumeWith;
        this.resumeWith = null;
        out = inst.resume({ results });
      } else {
        out = inst.resume();
      }
    } catch (e) {
      // The engine returns outcomes; an exception here is a bug of the runtime, kept to this actor.
      out = { kind: 'trapped', trap: new Trap(`internal error: ${e instanceof Error ? e.message : String(e)}`) };
    }
    // The slice may have grown the engine's value stack: it counts in the tree's memory.
    this.hive.meterStack(this);
    const ready = this.settle(out);
    this.hive.sliceEnded();
    if (this.durable !== null) this.hive.durableSliceEnded(this);
    return ready;
  }

  /** Slices so far that ended with its fuel spent (it was preempted, ready to run on). */
  get preemptions(): number {
    return this.spent;
  }

  /** Acts on how a slice ended; true when the actor is still ready. */
  private settle(out: Outcome): boolean {
    if (this.pendingExit !== null) {
      const r = this.pendingExit;
      this.state = 'parked';
      this.hive.terminate(this, r);
      return false;
    }
    switch (out.kind) {
      case 'out-of-fuel':
        this.spent++;
        this.state = 'ready';
        return true;
      case 'done':
        if (this.starting) {
          // The start function returned: `main` is called in the next slice.
          this.starting = false;
          this.startFn = null;
          this.state = 'ready';
          return true;
        }
        this.state = 'parked';
        this.hive.terminate(this, 'normal');
        return false;
      case 'trapped':
        this.state = 'parked';
        this.hive.terminate(this, `trap: ${out.trap.message}`, out.trap);
        return false;
      case 'waiting': {
        const answer = out.call.answer;
        this.state = 'parked';
        if (answer === PARK) return false;
        if (answer === YIELD) {
          this.state = 'ready';
          return true;
        }
        if (answer instanceof ExitRequest) {
          this.hive.terminate(this, answer.reason);
          return false;
        }
        if (answer instanceof Suspend) {
          // A user import paused with its own Suspend: only the host can answer it (not through the hive).
          this.hive.terminate(this, `trap: host function ${out.call.module}.${out.call.name} suspended the actor, which only the hive may do`);
          return false;
        }
        this.awaitHost(answer);
        return false;
      }
    }
  }

  /** Parks on a host import's promise; resumes with its results or traps with its error. */
  awaitHost(answer: PromiseLike<Value[]>): void {
    const w: Wait = { kind: 'host' };
    this.wait = w;
    answer.then(
      (results) => {
        if (this.wait === w) this.wakeWith(results);
      },
      (error) => {
        if (this.wait !== w) return;
        this.wait = null;
        this.resumeError = error ?? new Error('host function failed');
        this.makeReady();
      },
    );
  }

  /**
   * Parks the actor in `w` (the one implementation of waits: imports,
   * the hive and restored snapshots all park through it). When `w` has a
   * deadline and `onTimeout`, it runs when the deadline passes unless the
   * actor was woken first.
   */
  park(w: Wait, onTimeout: (() => void) | null): void {
    this.wait = w;
    if (w.kind === 'host' || w.deadline === Infinity || onTimeout === null) return;
    w.timer = this.hive.clock.setTimer(w.deadline, () => {
      if (this.wait !== w) return;
      w.timer = null;
      onTimeout();
    });
  }

  /** A new monitor reference, not one it holds (after 2^31 monitors they wrap). */
  newMonitorRef(): number {
    let ref = this.nextMonitorRef;
    while (this.monitors.has(ref)) ref = ref >= 0x7fffffff ? 1 : ref + 1;
    this.nextMonitorRef = ref >= 0x7fffffff ? 1 : ref + 1;
    return ref;
  }

  /** Wakes the parked actor: its pending import returns these results. */
  wakeWith(results: Value[]): void {
    const w = this.wait;
    if (w !== null && w.kind !== 'host' && w.timer !== null) this.hive.clock.clearTimer(w.timer);
    this.wait = null;
    this.resumeWith = results;
    this.makeReady();
  }

  /**
   * The answer to its call arrived: it becomes the current message (counted
   * against this actor's tree, which asked for it) and the call returns its
   * size.
   */
  answered(env: Envelope, from = env.from): void {
    this.current = { kind: Kind.MESSAGE, from, bytes: env.bytes, ref: 0, payer: this.tree };
    this.wakeWithI32(env.bytes.length);
  }

  /** It exited: its mailbox is emptied (each message, and each sender waiting for room, to `dead`) and its signals dropped. */
  dropQueues(dead: (m: Envelope) => void): void {
    this.mailbox.drain(dead);
    this.signals.clear();
  }

  /** Wakes it with one i32 result (a status, a size): see wakeWith. */
  wakeWithI32(n: number): void {
    this.wakeWith(i32Result(n));
  }

  makeReady(): void {
    if (this.state !== 'parked') return;
    this.state = 'ready';
    this.hive.executor.schedule(this);
  }

  // ---------------------------------------------------------------------
  // Mailbox

  hasRoom(size: number): boolean {
    return this.mailbox.fits(size);
  }

  deliver(env: Envelope): void {
    if (this.state === 'exited') return;
    this.mailbox.push(env);
    if (this.wait !== null && this.wait.kind === 'receive') this.receiveNow();
  }

  block(b: BlockedSend): void {
    this.mailbox.block(b);
  }

  unblock(b: BlockedSend): void {
    this.mailbox.unblock(b);
  }

  /** Takes the next message: signals first, then the mailbox (admitting waiting senders that now fit). */
  take(): Envelope | undefined {
    return this.signals.shift() ?? this.mailbox.shift();
  }

  /**
   * Makes a message taken by `receive` current. Its sender is also the one
   * `reply` answers (`replyTo`): the answers to the actor's own calls become
   * current too, but do not change whom it replies to.
   */
  received(env: Envelope): void {
    this.current = env;
    this.replyTo = env.from;
    this.receivedKind = env.kind;
  }

  /** The kind of the last message it received (not an answer to its call): what it handles now; -1 before any. */
  receivedKind = -1;

  /** The sender of the last message it received (or of its init message): where `reply` goes; 0 for none. */
  replyTo = 0;

  /** A parked receive gets the next message now. */
  private receiveNow(): void {
    const env = this.take();
    if (env === undefined) return;
    this.received(env);
    this.wakeWithI32(env.bytes.length);
  }

  /** Whether the signal queue has room for a signal of `exit` or a `noproc` down message (`maxSignals`; downs awaited from other partitions count). */
  get signalRoom(): boolean {
    return this.signals.length + this.downsAwaited.size < this.limits.maxSignals;
  }

  /**
   * Puts a signal-class message (EXIT, DOWN) in the queue that overtakes the
   * mailbox. Those of links and monitors are always taken (they are bounded
   * by `maxLinks` and `maxMonitors`); callers check `signalRoom` for others.
   */
  pushSignal(env: Envelope): void {
    this.signals.push(env);
    if (this.wait !== null && this.wait.kind === 'receive') this.receiveNow();
  }

  exitSignal(from: number, reason: string, untrappable: boolean): void {
    if (this.state === 'exited') return;
    if (untrappable) return this.hive.terminate(this, 'killed');
    if (this.trapExit) {
      this.pushSignal({ kind: Kind.EXIT, from, bytes: this.hive.encodeExit(from, reason), ref: 0 });
      return;
    }
    if (reason === 'normal') return;
    this.hive.terminate(this, reason);
  }

  down(ref: number, from: number, reason: string): void {
    if (this.state === 'exited') return;
    this.monitors.delete(ref);
    // Awaited from another partition: from now on it takes its room in the queue itself.
    if (this.downsAwaited.size > 0) this.downsAwaited.delete(ref);
    this.pushSignal({ kind: Kind.DOWN, from, bytes: this.hive.encodeDown(ref, from, reason), ref });
  }

  /**
   * The current message (docs/guest-abi.md): the last one received, the
   * answer to its call, or its init message. While it is current its bytes
   * count against the tree that sent it (its `payer`), as they did while
   * they waited: otherwise each actor of a tree could make the host hold a
   * message of up to maxMessageBytes outside maxTreeQueuedBytes.
   */
  get current(): Envelope | null {
    return this.held;
  }

  set current(env: Envelope | null) {
    const old = this.held;
    if (old === env) return;
    if (old?.payer) old.payer.queuedBytes -= old.bytes.length + MESSAGE_OVERHEAD;
    if (env?.payer) env.payer.queuedBytes += env.bytes.length + MESSAGE_OVERHEAD;
    this.held = env;
  }

  // ---------------------------------------------------------------------
  // Its life, as the hive and snapshots change it

  /** Takes its guest, made for it (its start function, if any, runs in its first slices). */
  attach(instance: Instance, entry: Func, mem: Memory | null): void {
    this.instance = instance;
    this.entry = entry;
    this.mem = mem;
    this.startFn = instance.startFunction;
  }

  /**
   * Takes the state a snapshot had (its guest attached already): where its
   * life was, what it resumes with, its current message and whom it
   * replies to, its queues and its settings. It is then parked.
   */
  restoreState(s: {
    started: boolean;
    /** Whether its start function has yet to return. */
    startPending: boolean;
    starting: boolean;
    resumeWith: Value[] | null;
    resumeError: string | null;
    current: Envelope | null;
    replyTo: number;
    mailbox: readonly Envelope[];
    signals: readonly Envelope[];
    trapExit: boolean;
    nextMonitorRef: number;
  }): void {
    this.started = s.started;
    if (!s.startPending) this.startFn = null;
    this.starting = s.starting;
    this.resumeWith = s.resumeWith;
    this.resumeError = s.resumeError === null ? null : new Error(s.resumeError);
    this.current = s.current;
    this.replyTo = s.replyTo;
    for (const e of s.mailbox) this.mailbox.push(e);
    for (const e of s.signals) this.signals.push(e);
    this.trapExit = s.trapExit;
    this.nextMonitorRef = s.nextMonitorRef;
    this.state = 'parked';
  }

  /** Resumes the parked guest by trapping it with `error` (a host function failed). */
  failWith(error: unknown): void {
    this.wait = null;
    this.resumeError = error;
    this.makeReady();
  }

  /** Resumes the guest with these results at the start of its next slice (an import ended a spent slice). */
  resumeNextSliceWith(results: Value[]): void {
    this.resumeWith = results;
  }

  /** Sets whether exit signals arrive as messages; returns the previous setting. */
  setTrapExit(on: boolean): boolean {
    const prev = this.trapExit;
    this.trapExit = on;
    return prev;
  }

  /** Remembers the snapshot just taken of it (supervisors restart from it). */
  snapshotTaken(bytes: Uint8Array): void {
    this.lastSnapshot = bytes;
  }

  /** Records the pages of value stack counted in its tree; returns the change. */
  meterStackPages(pages: number): number {
    const delta = pages - this.stackPages;
    this.stackPages = pages;
    return delta;
  }

  /** Decides its exit while it runs, unless one was decided already (see pendingExit). */
  decideExit(reason: string): void {
    if (this.exitDecided === null) this.pendingExit = reason;
  }

  /**
   * It exits: no longer runs or waits. Returns the wait it was in (the hive
   * ends what that wait had started).
   */
  beginExit(reason: string): Wait | null {
    const w = this.wait;
    this.state = 'exited';
    this.reason = reason;
    this.wait = null;
    this.lastName = this.name;
    return w;
  }

  /**
   * Lets go of its guest and what it held (its current message goes back to
   * the tree that sent it); records the fuel it used. Returns its stack pages
   * that were counted in its tree.
   */
  release(): number {
    this.current = null;
    this.finalFuel = this.instance?.fuelUsed ?? 0;
    const pages = this.stackPages;
    this.stackPages = 0;
    this.instance = null;
    this.mem = null;
    return pages;
  }

  /** The guest's exported memory (imports that take pointers need it). */
  memory(): Memory {
    const m = this.mem;
    if (m === null) throw new Trap('the actor exports no memory named "memory"');
    return m;
  }

  /** The exported memory, set when the instance is made. */
  mem: Memory | null = null;
}
