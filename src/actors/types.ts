/**
 * The types of the actor runtime's public API that several of its parts
 * share: options of hives, module definitions and spawns, and the payloads
 * of the hive's events. No behaviour lives here.
 */
import type { Store } from '../store/index.js';
import type { Logger } from 'pino';
import type { Module, Trap, Func, Memory, Table, Global } from '../vm/index.js';
import type { Clock, Executor } from '../scheduler/index.js';
import type { ActorSchema } from './codec.js';
import type { ActorLimits, HiveLimits } from './limits.js';
import type { ActorRef } from './ref.js';
import type { Binding } from '../bindings/binding.js';
import type { WasiOptions } from '../bindings/wasi/index.js';
import type { TransportFactory } from './router.js';
import type { WorkerPool } from './threads.js';

/** Options of a hive. */
export interface HiveOptions {
  /** Time for timeouts, sleeps and `now` (default: the system clock). Pass a `ManualClock` in tests. */
  clock?: Clock;
  /** What runs actors (default: an `InlineExecutor` on the main thread). */
  executor?: Executor;
  /**
   * Where logs go (default: pino at level `info`, or `$WASMHIVE_LOG_LEVEL`,
   * to stderr, written synchronously so that nothing is buffered without
   * bound; guests' lines are rate-limited, see `ActorLimits.logLinesPerSecond`).
   */
  logger?: Logger;
  /** Seed of the actors' random generators (default 0): the same seed gives the same numbers. */
  seed?: string | number;
  /** Largest message in bytes (default 1 MiB). */
  maxMessageBytes?: number;
  /**
   * Which engine tier runs the modules this hive compiles itself (defined or
   * spawned from bytes or a file path; a `Module` brings its own):
   * 'interpreter' (default), 'auto' (hot functions compiled to JavaScript)
   * or 'compiled' (every function at its first call). Results, fuel,
   * pauses, traps and snapshot bytes are the same in every tier
   * (CompileOptions.tier, docs/architecture.md "Tiers").
   */
  tier?: 'interpreter' | 'auto' | 'compiled';
  /** Limits of actors that neither their module definition nor their spawn set (defaults: `DEFAULT_ACTOR_LIMITS`). */
  limits?: Partial<ActorLimits>;
  /** Limits of the hive and of each spawn tree (defaults: `DEFAULT_HIVE_LIMITS`). */
  hiveLimits?: Partial<HiveLimits>;
  /**
   * Who a guest may send exit signals to (`exit`) and link with (`link`):
   * `'tree'` (default) only actors of its own spawn tree, `'open'` any
   * actor (Erlang's rule). Others look as if they did not exist (NOT_FOUND).
   * Monitors, which only observe, are open either way.
   */
  signals?: 'tree' | 'open';
  /**
   * Worker threads to run actors on (default 0: every actor runs on the
   * calling thread). With N >= 1, a piscina pool of N threads runs the
   * actors, each thread a partition with its own scheduler; the host's API,
   * inboxes and supervisors stay on this thread. A `WorkerPool` instead:
   * its threads, shared with the other hives given it (one partition of
   * each hive per thread). See the README's "Workers".
   */
  workers?: number | WorkerPool;
  /**
   * Durable actors (`Hive.durable`): where their checkpoints and journals
   * go, and when they are checkpointed and passivated. On a hive with
   * workers they run on the main thread (actors on every worker reach
   * them). See the README's "Durable actors".
   */
  durable?: DurableOptions;
  /**
   * A hive with workers: moves CPU-hungry actors off a worker that has two
   * or more of them more than another, two samples in a row (default on,
   * sampling every `intervalMs` = 1,000 ms of the hive's clock; false: off).
   */
  rebalance?: false | { intervalMs?: number };
  /**
   * A hive with workers: where a host's spawn goes, when it names no
   * `worker` and joins no tree (default: the worker with the fewest actors).
   * Given the module's name (null for a module spawned directly), the name
   * the actor is registered under, and the actors on each worker (index: the
   * worker); returns a worker index.
   */
  placement?: (spawn: PlacementRequest) => number;
  /** Heap limits of each worker thread (piscina's `resourceLimits`): a worker over them dies, and its actors exit with `worker-crashed`. */
  workerResourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  /** First id to give out (default 1). */
  firstId?: number;
  /**
   * @internal What carries envelopes between the hive's parties (default:
   * inline, on this thread). Tests use a transport that serializes and
   * shuffles them.
   */
  transport?: TransportFactory;
}

/** What a module definition (and a spawn) may set for its actors. */
export interface ActorOptions {
  /** Limits of the actor (merged over the definition's and the hive's). */
  limits?: Partial<ActorLimits>;
  /** Schemas checked at the boundary. */
  schema?: ActorSchema;
  /**
   * More imports for the guest: plain functions of wasm values (i32, f32,
   * f64 as numbers, i64 as bigint; a Promise they return parks the actor
   * until it settles), or the engine's Func, Memory, Table, Global and
   * constants. A function returning anything else (a string, an object) is
   * a type error: a guest passes pointers, so a host function that needs its
   * caller's memory or identity is a `hostFunction` in `bindings`, and a
   * service is `Hive.service`.
   */
  imports?: HostImports;
}

/** Options of `Hive.spawn`. */
export interface SpawnOptions extends ActorOptions {
  /** Registers the actor under this name. */
  name?: string;
  /** The init message (any value; bytes pass through): the guest's current message before its first receive. */
  init?: unknown;
  /**
   * Native services for the guest besides `hive` (e.g. a `Wasi` for a WASI
   * program): one object per actor, since each holds its caller's state
   * (descriptors, clocks); saved in the actor's snapshots under its name and
   * closed when the actor exits. A binding providing `hive` or another's
   * module is a LinkError.
   */
  bindings?: Binding[];
  /**
   * The host's services (`Hive.service`) it may call, by name: it finds
   * each with `lookup(name)` and addresses it by its place in this list.
   * Nothing else of the kind is reachable (NOT_FOUND, as for an address that
   * does not exist); its children get these only when spawned with the
   * SERVICES flag. Each must be registered.
   */
  services?: readonly string[];
  /**
   * WASI preview1 for the guest (a `Wasi` binding made for it: `dirs` maps
   * guest paths to host directories, its only file access): a WASI program
   * spawned without it fails to link. Shorthand for `bindings: [new Wasi(...)]`.
   */
  wasi?: WasiGrant;
  /**
   * Puts the actor in the spawn tree of this live actor (a host-declared
   * group: counted together, and under `signals: 'tree'` they may link and
   * send exit signals to each other). Default: a tree of its own.
   */
  tree?: ActorRef | number;
  /**
   * A hive with workers: the worker thread (0-based) to start it on, instead
   * of the one with the fewest actors. Ignored for an actor that joins a
   * tree (it starts where its tree is) or runs on the main thread; a worker
   * that is gone (being replaced after its thread died) is passed over for
   * the one with the fewest actors.
   */
  worker?: number;
}

/**
 * A plain host function of wasm values: numbers (i32, f32, f64) and bigints
 * (i64) in, one of them (or nothing) out, maybe later. (Its parameters are
 * not checked by type: an i32 function and an i64 one take different ones.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawHostFunction = (...args: any[]) => number | bigint | void | Promise<number | bigint | void>;

/** Imports a host gives a guest besides `hive`, by module then field. */
export type HostImports = Record<string, Record<string, Func | Memory | Table | Global | RawHostFunction | number | bigint | undefined> | undefined>;

/** What WASI an actor is granted: `Wasi`'s options, with `dirs` (guest path -> host directory) for its mounts. */
export type WasiGrant = Omit<WasiOptions, 'mounts'> & { dirs?: Record<string, string> };

/** What a `placement` function is told of a host's spawn. */
export interface PlacementRequest {
  readonly module: string | null;
  readonly name: string | null;
  /** Actors on each worker, by worker index (a worker that is not running now has -1). */
  readonly loads: readonly number[];
}

/** What a guest can spawn by name, and what an actor is an instance of. */
export interface ModuleDef {
  /** The name guests spawn it by; null for modules spawned directly. */
  readonly name: string | null;
  readonly module: Module;
  /** SHA-256 of the module bytes, hex. */
  readonly hash: string;
  readonly options: ActorOptions;
}

/** Payload of the `spawned`, `exited` and `crashed` events. */
export interface ActorEvent {
  ref: ActorRef;
  id: number;
  name: string | null;
}
/** Payload of the `exited` and `crashed` events. */
export interface ExitEvent extends ActorEvent {
  reason: string;
  /** The trap, when the actor trapped. */
  trap?: Trap;
  /** Fuel the actor used in all (deterministic for the same inputs). */
  fuelUsed: number;
}
/** Payload of the `restarted` event. */
export interface RestartEvent {
  /** The supervisor's id; 0 for a durable actor restarted by its hive (DurableOptions.restart). */
  supervisor: number;
  /** The child's id in its supervisor's spec; a durable actor's key. */
  child: string;
  /** The actor that exited, and the one that replaces it (a durable actor keeps its id). */
  old: number;
  ref: ActorRef;
  reason: string;
  /** What the new one started from: its module, a snapshot (a supervisor's), or its last checkpoint (a durable actor's). */
  from: 'initial' | 'snapshot' | 'checkpoint';
}
/** Payload of the `deadLetter` event: a message nobody took. */
export interface DeadLetter {
  from: number;
  to: number;
  bytes: Uint8Array;
  reason: 'no such actor' | 'exited' | 'call ended' | 'no mailbox' | 'refused';
}

/** Payload of the `limit` event: a limit was reached and what needed it was refused. */
export interface LimitEvent {
  /** The limit's name, as in `ActorLimits` or `HiveLimits`. */
  limit: string;
  /** Its bound. */
  value: number;
  /** The actor it was counted against (0 for the host). */
  id: number;
  /** The root of the actor's spawn tree (0 for the host). */
  tree: number;
}

/** Events of a hive. */
export interface HiveEvents {
  limit: (e: LimitEvent) => void;
  spawned: (e: ActorEvent) => void;
  exited: (e: ExitEvent) => void;
  crashed: (e: ExitEvent) => void;
  restarted: (e: RestartEvent) => void;
  deadLetter: (e: DeadLetter) => void;
}

/** @internal Where the actor system emits the hive's events (the public `Hive`). */
export interface EventSink {
  emit<E extends keyof HiveEvents>(event: E, payload: Parameters<HiveEvents[E]>[0]): boolean;
  listenerCount(event: keyof HiveEvents): number;
}

/** How a hive keeps its durable actors (`HiveOptions.durable`). */
export interface DurableOptions {
  /** Where checkpoints and journals go. */
  store: Store;
  /** Messages handled between checkpoints (default 1: after each). */
  checkpointEvery?: number;
  /** At most this many ms between a handled message and the checkpoint that covers it, whatever `checkpointEvery` says (default 1,000). */
  checkpointMs?: number;
  /** Ms an actor waits idle before it is passivated (default 60,000; Infinity: never). */
  passivateAfterMs?: number;
  /** Messages accepted for one actor and not yet journaled; past it, senders get FULL (default 1,024). */
  maxPending?: number;
  /**
   * Crash restarts (default off: a durable actor that crashes exits, and
   * leaves a tombstone). On, an actor that traps is restored in place, under
   * its id, from its last checkpoint, and replays the messages journaled
   * since, except the one it was handling when it trapped (a dead letter):
   * links, monitors and callers see no exit. At most `maxRestarts` restarts
   * in `withinMs` (default 3 in 5,000 ms) per actor; one more crash within
   * them and it exits as without this option.
   */
  restart?: boolean | { maxRestarts?: number; withinMs?: number };
}
