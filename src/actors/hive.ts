/**
 * `Hive`: the public face of the actor runtime. A thin facade over a private
 * actor system (system.ts: modules, addresses and names, routing, replies,
 * exits, links and monitors, limits), as piscina's `Piscina` is over its
 * pool: users see what they call, and nothing of the system's internals
 * appears in the `.d.ts`.
 */
import { EventEmitter } from 'eventemitter3';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Module } from '../vm/index.js';
import type { Clock } from '../scheduler/index.js';
import { encode, type Pid } from './codec.js';
import type { DurableActors } from './durable.js';
import type { ActorRef, Inbox, InboxOptions } from './ref.js';
import type { RestoreActorOptions } from './snapshot.js';
import type { Supervisor, SupervisorSpec } from './supervisor.js';
import { importService, type Service } from './service.js';
import type { ServiceDefinition, ServiceHandlers, ServiceOptions } from '../bindings/service.js';
import { ActorSystem } from './system.js';
import { ActorPool } from './pool.js';
import { WorkerPool } from './threads.js';
import { ManualClock } from '../scheduler/index.js';
import { HiveStateError } from './errors.js';
import { checkLimits, DEFAULT_ACTOR_LIMITS, DEFAULT_HIVE_LIMITS } from './limits.js';
import type { ActorOptions, HiveEvents, HiveOptions, ModuleDef, SpawnOptions } from './types.js';

/** An eventemitter3 listener entry. */
interface Listener {
  fn: (...args: unknown[]) => void;
  context: unknown;
  once: boolean;
}

/** Reads a hive's system (tests and the runtime's own tools; not part of the API). */
let systemOfHive: (h: Hive) => ActorSystem;
let poolOfHive: (h: Hive) => ActorPool | null;

/**
 * A hive of actors. Spawn actors from wasm modules, talk to them through
 * `ActorRef`s, supervise them, snapshot and restore them. Events: `spawned`,
 * `exited`, `crashed`, `restarted`, `deadLetter`, `limit` (see `HiveEvents`).
 */
export class Hive extends EventEmitter<HiveEvents> {
  readonly #system: ActorSystem;
  readonly #pool: ActorPool | null;
  #unwatchClock: (() => void) | null = null;

  static {
    systemOfHive = (h) => h.#system;
    poolOfHive = (h) => h.#pool;
  }

  constructor(options: HiveOptions = {}) {
    super();
    const workers = options.workers ?? 0;
    if (!(workers instanceof WorkerPool || (Number.isInteger(workers) && workers >= 0 && workers <= 64))) throw new RangeError('workers must be a WorkerPool or an integer from 0 to 64');
    this.#pool =
      workers === 0
        ? null
        : new ActorPool({
            workers,
            task: {
              seed: String(options.seed ?? 0),
              maxMessageBytes: options.maxMessageBytes ?? 1 << 20,
              limits: checkLimits({ ...DEFAULT_ACTOR_LIMITS, ...options.limits }),
              hiveLimits: checkLimits({ ...DEFAULT_HIVE_LIMITS, ...options.hiveLimits }),
              signals: options.signals ?? 'tree',
              logLevel: options.logger?.level ?? process.env['WASMHIVE_LOG_LEVEL'] ?? 'info',
              manualClock: options.clock instanceof ManualClock ? options.clock.now() : null,
            },
            ...(options.workerResourceLimits !== undefined ? { resourceLimits: options.workerResourceLimits } : {}),
            ...(options.placement !== undefined ? { placement: options.placement } : {}),
          });
    // The system emits through `emit` below (listeners that throw are logged).
    this.#system = new ActorSystem(
      options,
      {
        emit: (event, payload) => this.emit(event, payload as never),
        listenerCount: (event) => this.listenerCount(event),
      },
      this.#pool,
    );
    this.#pool?.attach(this.#system);
    if (this.#pool !== null && options.rebalance !== false) this.#pool.startRebalancer(this.#system.clock, options.rebalance ?? {});
    // A manual clock's moves reach the workers' clocks.
    if (this.#pool !== null && options.clock instanceof ManualClock) {
      const pool = this.#pool;
      this.#unwatchClock = options.clock.onSet((now) => pool.clockMoved(now));
    }
  }

  /** The clock of timeouts, sleeps and `now` (the one given in the options, or the system clock). */
  get clock(): Clock {
    return this.#system.clock;
  }

  /** Where the hive and its actors log. */
  get logger(): Logger {
    return this.#system.logger;
  }

  /**
   * Emits an event to each listener in turn. A listener that throws is
   * logged (level error) and does not disturb the hive or the listeners
   * after it: events are emitted from the middle of exits and slices, where
   * an exception would leave the runtime half way through a change.
   */
  override emit<E extends EventEmitter.EventNames<HiveEvents>>(event: E, ...args: EventEmitter.EventArgs<HiveEvents, E>): boolean {
    // eventemitter3 keeps one listener as an object and several as an array
    // (its documented internal layout since 1.x); `once` entries are removed
    // before their call, as its own emit does.
    const key = EventEmitter.prefixed ? `${EventEmitter.prefixed}${event}` : event;
    const held = (this as unknown as { _events: Record<string, Listener | Listener[] | undefined> })._events[key];
    if (held === undefined) return false;
    const list = Array.isArray(held) ? held.slice() : [held];
    for (const l of list) {
      if (l.once) this.removeListener(event, l.fn as EventEmitter.EventListener<HiveEvents, E>, undefined, true);
      try {
        l.fn.apply(l.context, args);
      } catch (err) {
        this.#system.logger.error({ err, event }, 'an event listener threw');
      }
    }
    return true;
  }

  /**
   * Defines a module under a name: guests spawn it by that name, and
   * `spawn(name)` finds it. The options are defaults for its actors.
   */
  define(name: string, source: Module | Uint8Array | string, options: ActorOptions = {}): void {
    this.#system.modules.define(name, source, options);
    this.#pool?.defined(this.#system.modules.byName(name)!);
  }

  /** The module definitions, by name. */
  get modules(): ReadonlyMap<string, ModuleDef> {
    return this.#system.modules.named;
  }

  /**
   * Spawns an actor from a compiled module, module bytes, the name of a
   * defined module, or a path to a `.wasm` file. Throws DecodeError,
   * ValidationError, LinkError (imports it cannot have, ABI version), a Trap
   * or Exhaustion from instantiation (a data segment out of bounds, memory
   * or tables over the limits), NameTakenError, SchemaError, LimitError
   * (`maxActors`, `maxTreeActors`, `maxTreeMemoryPages`). The module's start
   * function runs in the actor's own first slices, as `main` does: a trap
   * there makes the actor exit (crash) with the trap as reason.
   */
  spawn<In = unknown, Out = unknown>(source: Module | Uint8Array | string, options: SpawnOptions = {}): ActorRef<In, Out> {
    return this.#system.spawn(source, options) as ActorRef<In, Out>;
  }

  /** A handle on an id (which may not be, or no longer be, an actor). */
  ref<In = unknown, Out = unknown>(id: number | Pid): ActorRef<In, Out> {
    return this.#system.ref<In, Out>(typeof id === 'number' ? id : id.id);
  }

  /** The actor (or inbox) registered under a name. */
  whereis<In = unknown, Out = unknown>(name: string): ActorRef<In, Out> | undefined {
    return this.#system.whereis<In, Out>(name);
  }

  /**
   * A mailbox on the host side, with an address actors can send to. `id`
   * claims a given address (for instance the one a restored actor answers);
   * `name` registers it (guests `lookup` it, the host `whereis` it). It is
   * bounded (`maxMessages`, default 10,000; `maxBytes`, default 16 MiB):
   * past that, senders wait for room or get FULL.
   */
  inbox<T = unknown>(options: InboxOptions = {}): Inbox<T> {
    return this.#system.inbox<T>(options);
  }

  /**
   * Registers a native service: methods (sync or async) that actors granted
   * it at spawn (`spawn(m, { services: [name] })`) call with the ordinary
   * call ABI, from any thread, with MessagePack `[method, request]`; each
   * handler gets the decoded request and the caller's identity, and its
   * result (or error) is the answer `[status, body]` (docs/guest-abi.md,
   * "Services"). A `ServiceDefinition` (`defineService`, the built-in
   * services) brings its handlers, options and start/close with it; options
   * given here go over its own. Throws NameTakenError when a service has
   * the name.
   *
   * ```ts
   * const kv = new Map<string, string>();
   * hive.service('kv', {
   *   get: (key: string) => kv.get(key) ?? null,
   *   put: async ([key, value]: [string, string], ctx) => void kv.set(`${ctx.caller}/${key}`, value),
   * });
   * hive.spawn('app', { services: ['kv'] });
   * ```
   */
  service<H extends ServiceHandlers>(name: string, handlers: H | ServiceDefinition<H>, options: ServiceOptions<H> = {}): Service<H> {
    return this.#system.service(name, handlers, options);
  }

  /**
   * Registers a service that also runs inside each worker thread (stateless
   * and fast: hashing, compression), so actors on a worker call it without
   * leaving their thread; one copy per thread, each with its own state. Its
   * handlers come from an ES module (a path or URL): the export `export`
   * (default `default`), a `ServiceDefinition` or an object of methods; the
   * main thread runs a copy too, for its own actors and `Service.call`.
   * Options must cross threads (no schemas here: put them in the module's
   * definition). Until a worker has loaded the module, its actors' calls go
   * to the main thread's copy.
   */
  async workerService(name: string, source: { module: string | URL; export?: string }, options: Omit<ServiceOptions, 'schemas'> = {}): Promise<Service> {
    const url = source.module instanceof URL ? source.module.href : /^[a-z][a-z0-9+.-]*:/i.test(source.module) ? source.module : pathToFileURL(resolve(source.module)).href;
    const exportName = source.export ?? 'default';
    const given = await importService(url, exportName);
    const { concurrency, maxQueue, maxQueueBytes, timeout, idempotent, failures } = options;
    const sent = Object.fromEntries(Object.entries({ concurrency, maxQueue, maxQueueBytes, timeout, idempotent, failures }).filter(([, v]) => v !== undefined));
    return this.#system.service(name, given, options, { url, export: exportName, options: sent });
  }

  /**
   * Starts a supervisor and its children (in order). Throws what spawning a
   * child throws (the children started are stopped first).
   */
  supervise(spec: SupervisorSpec): Supervisor {
    return this.#system.supervise(spec);
  }

  /**
   * Snapshots one actor to bytes (format in docs/snapshot-format.md) without
   * stopping it or the others: its VM, mailbox, name, links, monitors, and
   * what it waits for. Throws ActorExitedError, or HiveStateError when called
   * from the actor's own host function.
   */
  snapshot(target: ActorRef | number): Uint8Array {
    return this.#system.snapshot(typeof target === 'number' ? target : target.id);
  }

  /**
   * Restores an actor from a snapshot into this hive (the same or another),
   * where it carries on: same id and name unless told otherwise, its mailbox,
   * links to actors of this hive, monitors, timers with the time they had
   * left. Throws SnapshotError (malformed bytes, another module),
   * HiveStateError (id in use), NameTakenError.
   */
  restore<In = unknown, Out = unknown>(bytes: Uint8Array, options: RestoreActorOptions = {}): ActorRef<In, Out> {
    return this.#system.restore(bytes, options) as ActorRef<In, Out>;
  }

  /**
   * Snapshots actors together, consistently: what is in flight between them
   * is delivered first, and no slice runs between their snapshots. For a
   * room and its members, a pipeline, any actors that know each other's ids.
   */
  snapshotGroup(targets: readonly (ActorRef | number)[]): Uint8Array {
    return this.#system.snapshotGroup(targets.map((t) => (typeof t === 'number' ? t : t.id)));
  }

  /**
   * Restores a group snapshot into this hive (the same or another): each
   * actor under its id and name, all in one spawn tree (or `tree`), with
   * their links and monitors to each other; they carry on once all exist.
   * Throws SnapshotError, HiveStateError (an id in use), NameTakenError,
   * and then restores none of them.
   */
  restoreGroup(bytes: Uint8Array, options: { missingLinks?: 'drop' | 'signal'; tree?: ActorRef | number; services?: readonly string[] } = {}): ActorRef[] {
    return this.#system.restoreGroup(bytes, options);
  }

  /**
   * Moves an actor to another worker thread of a pooled hive (0 to
   * workers - 1), without stopping it: it carries on there under its id,
   * with its mailbox, links and monitors, and no message to it is lost,
   * duplicated or reordered. It moves at its next point where it waits for
   * nothing but messages or time (receive, sleep), alone in its spawn tree;
   * rejects with HiveStateError if it reaches none within `timeoutMs`
   * (default 5,000), or runs on the main thread.
   */
  migrate(target: ActorRef | number, worker: number, timeoutMs = 5_000): Promise<void> {
    if (this.#pool === null) return Promise.reject(new HiveStateError('this hive has no workers (new Hive({ workers }))'));
    return this.#pool.migrate(typeof target === 'number' ? target : target.id, worker, timeoutMs);
  }

  /** The worker thread (0-based) an actor runs on; null for the main thread (and for every actor of a hive without workers). */
  workerOf(target: ActorRef | number): number | null {
    return this.#pool === null ? null : this.#pool.workerOf(typeof target === 'number' ? target : target.id);
  }

  /**
   * The durable actor under `key` (HiveOptions.durable): the live one; or
   * restored from the store, its checkpoint and then the messages journaled
   * since; or, when the store has none, a new actor of the defined module
   * `module`, started with `init` and checkpointed before this resolves.
   * Messages to it are journaled before they are acknowledged (`sendWait`
   * resolves, a call is taken), and survive a crash of the process (see the
   * README's "Durable actors"). Rejects with HiveStateError (no durable
   * store, a key of another module) or the store's StoreError.
   */
  async durable<In = unknown, Out = unknown>(key: string, module: string, options: { init?: unknown; services?: readonly string[] } = {}): Promise<ActorRef<In, Out>> {
    const d = this.#durable();
    const init = options.init === undefined ? null : this.#system.checkSize(encode(options.init));
    const id = await d.open(key, module, init, options.services ?? []);
    return this.#system.ref<In, Out>(id);
  }

  /**
   * After a restart: finds every durable actor in the store (their ids stay
   * theirs) and restores those with journaled messages past their
   * checkpoint, which they handle again; the others stay passivated until
   * addressed. Call it before sending to durable actors.
   */
  recover(): Promise<{ actors: number; restored: number; replayed: number }> {
    return this.#durable().recover();
  }

  /** Passivates a durable actor now if it is idle (see the README): true when it was; its record is in the store when this resolves. */
  passivate(target: ActorRef | number): Promise<boolean> {
    return this.#durable().passivate(typeof target === 'number' ? target : target.id);
  }

  /** Checkpoints a live durable actor now. */
  checkpoint(target: ActorRef | number): Promise<void> {
    return this.#durable().checkpoint(typeof target === 'number' ? target : target.id);
  }

  #durable(): DurableActors {
    const d = this.#system.durable;
    if (d === null) throw new HiveStateError('this hive keeps no durable actors (new Hive({ durable: { store } }))');
    return d;
  }

  /** Resolves when no actor is ready to run (all wait or have exited). */
  idle(): Promise<void> {
    return this.#system.idle();
  }

  /** Ids of the live actors. */
  actorIds(): number[] {
    return this.#system.actorIds();
  }

  /**
   * Kills every actor (reason 'shutdown'; supervisors restart nobody), closes
   * every inbox (waiting receives reject), fails pending host calls, and
   * stops the executor. Later calls on the hive throw HiveStateError.
   */
  close(): void {
    this.#unwatchClock?.();
    this.#system.close();
  }
}

/** @internal A hive's actor system (tests and the runtime's own tools; not part of the API). */
export function systemOf(hive: Hive): ActorSystem {
  return systemOfHive(hive);
}

/** @internal A hive's worker pool, null without workers (tests; not part of the API). */
export function poolOf(hive: Hive): ActorPool | null {
  return poolOfHive(hive);
}
