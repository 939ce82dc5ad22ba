/**
 * The hive: the registry of addresses (actors, host mailboxes, reply
 * addresses, supervisors), names, modules guests can spawn, routing with
 * bounded mailboxes and schemas, and Erlang's exit semantics (links, trapped
 * exits, monitors). Actors run on an `Executor`; time comes from a `Clock`.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { pino, type Logger } from 'pino';
import { Global, Instance, LinkError, Memory, Module, SnapshotError, Table, Trap, warmUp, type GrowthBudget, type Imports } from '../vm/index.js';
import { InlineExecutor, SystemClock, type Clock, type Executor } from '../scheduler/index.js';
import { ABI_VERSION, hiveImports } from './abi.js';
import { Actor, type ActorLimits } from './actor.js';
import { assertSchema, checkBytes, decode, encode, Pid, type ActorSchema } from './codec.js';
import { Kind, Status, isNormalExit, type Envelope } from './envelope.js';
import { ActorExitedError, CallTimeoutError, HiveStateError, LimitError, MailboxFullError, MessageTooLargeError, NameTakenError, NotFoundError, SchemaError } from './errors.js';
import { checkLimits, DEFAULT_ACTOR_LIMITS, DEFAULT_HIVE_LIMITS, LogGate, MESSAGE_OVERHEAD, Tree, type HiveLimits } from './limits.js';
import { isProcess, type BlockedSend, type Endpoint, type Process } from './process.js';
import { ActorRef, Inbox, type InboxOptions, type Received } from './ref.js';
import { Rng } from './rng.js';
import { Supervisor, type SupervisorSpec } from './supervisor.js';
import { readActorSnapshot, restoreActor, snapshotActor, type RestoreActorOptions } from './snapshot.js';

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
  /** First id to give out (default 1). */
  firstId?: number;
}

/** What a module definition (and a spawn) may set for its actors. */
export interface ActorOptions {
  /** Limits of the actor (merged over the definition's and the hive's). */
  limits?: Partial<ActorLimits>;
  /** Schemas checked at the boundary. */
  schema?: ActorSchema;
  /** More imports for the guest (host functions; a Promise they return parks the actor until it settles). */
  imports?: Imports;
}

/** Options of `Hive.spawn`. */
export interface SpawnOptions extends ActorOptions {
  /** Registers the actor under this name. */
  name?: string;
  /** The init message (any value; bytes pass through): the guest's current message before its first receive. */
  init?: unknown;
  /**
   * Puts the actor in the spawn tree of this live actor (a host-declared
   * group: counted together, and under `signals: 'tree'` they may link and
   * send exit signals to each other). Default: a tree of its own.
   */
  tree?: ActorRef | number;
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
  supervisor: number;
  child: string;
  /** The actor that exited, and the one that replaces it. */
  old: number;
  ref: ActorRef;
  reason: string;
  from: 'initial' | 'snapshot';
}
/** Payload of the `deadLetter` event: a message nobody took. */
export interface DeadLetter {
  from: number;
  to: number;
  bytes: Uint8Array;
  reason: 'no such actor' | 'exited' | 'call ended' | 'no mailbox';
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

/** An eventemitter3 listener entry. */
interface Listener {
  fn: (...args: unknown[]) => void;
  context: unknown;
  once: boolean;
}


/** The reply address of a call (one message, then it closes). */
class ReplyTo implements Endpoint {
  readonly schema = undefined;
  readonly hostSide: boolean;
  constructor(
    readonly hive: Hive,
    readonly id: number,
    readonly target: number,
    /** A guest caller, or the host's callbacks. */
    readonly owner: Actor | { resolve(env: Envelope): void; reject(e: Error): void },
  ) {
    this.hostSide = !(owner instanceof Actor);
  }
  hasRoom(): boolean {
    return true;
  }
  /** Whether a guest may answer here: only the callee, so that guessing the address gains nothing. */
  accepts(sender: Actor | null): boolean {
    return sender === null || sender.id === this.target;
  }
  deliver(env: Envelope): void {
    this.hive.closeReply(this.id);
    const o = this.owner;
    if (o instanceof Actor) {
      const w = o.wait;
      if (w === null || w.kind !== 'call' || w.replyId !== this.id) return;
      // The answer becomes the caller's current message, counted against the caller's tree (it asked
      // for it; counted against the replier's, callers in another tree could fill the replier's bound).
      if (!this.hive.queuedRoom(o, env.bytes.length)) {
        o.wakeWith([{ type: 'i32', value: Status.LIMIT }]);
        return;
      }
      o.current = { kind: Kind.MESSAGE, from: env.from, bytes: env.bytes, ref: 0, payer: o.tree };
      o.wakeWith([{ type: 'i32', value: env.bytes.length }]);
    } else {
      this.hive.executor.yieldSoon();
      o.resolve(env);
    }
  }
  /** The target exited before answering. */
  targetExited(reason: string): void {
    this.hive.closeReply(this.id);
    const o = this.owner;
    if (o instanceof Actor) {
      const w = o.wait;
      if (w === null || w.kind !== 'call' || w.replyId !== this.id) return;
      o.wakeWith([{ type: 'i32', value: Status.NOT_FOUND }]);
    } else {
      this.hive.executor.yieldSoon();
      o.reject(new ActorExitedError(this.target, reason));
    }
  }
  /** The answer was refused by the replier's `out` schema. */
  refuse(e: Error): void {
    if (this.owner instanceof Actor) return;
    this.hive.closeReply(this.id);
    this.owner.reject(e);
  }
}

/**
 * A hive of actors. Spawn actors from wasm modules, talk to them through
 * `ActorRef`s, supervise them, snapshot and restore them.
 */
export class Hive extends EventEmitter<HiveEvents> {
  readonly clock: Clock;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly seed: string;
  readonly maxMessageBytes: number;
  private readonly limits: ActorLimits;
  private readonly hiveLimits: HiveLimits;
  private readonly signalPolicy: 'tree' | 'open';
  /** Live actors. */
  private actorCount = 0;
  /** All actors' log lines per second. */
  private readonly logGate: LogGate;
  private readonly endpoints = new Map<number, Endpoint>();
  private readonly names = new Map<string, number>();
  private readonly defs = new Map<string, ModuleDef>();
  private readonly anonymous = new WeakMap<Module, ModuleDef>();
  private readonly files = new Map<string, ModuleDef>();
  private nextId: number;
  private closed = false;
  /** Set while `close` stops everything: exits then restart nobody. */
  private closing = false;
  private dying: [Process, string, Trap | undefined][] = [];
  private terminating = false;
  private afterExits: (() => void)[] = [];

  constructor(options: HiveOptions = {}) {
    super();
    warmUp(); // once per process: V8 then optimizes the interpreter for every instruction (see vm/warmup.ts)
    this.clock = options.clock ?? new SystemClock();
    // Asynchronous, so a slow reader of stderr never blocks the thread, and
    // bounded: what does not fit in 4 MiB not yet written is dropped.
    this.logger = options.logger ?? pino({ level: process.env['WASMHIVE_LOG_LEVEL'] ?? 'info' }, pino.destination({ dest: 2, sync: false, maxLength: LOG_BUFFER_BYTES }));
    this.executor = options.executor ?? new InlineExecutor({ onError: (err) => this.logger.error({ err }, 'a slice threw (a bug in the runtime); that actor is not run again') });
    this.seed = String(options.seed ?? 0);
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
    this.limits = checkLimits({ ...DEFAULT_ACTOR_LIMITS, ...options.limits });
    this.hiveLimits = checkLimits({ ...DEFAULT_HIVE_LIMITS, ...options.hiveLimits });
    this.signalPolicy = options.signals ?? 'tree';
    if (this.signalPolicy !== 'tree' && this.signalPolicy !== 'open') throw new RangeError(`signals must be 'tree' or 'open'`);
    this.logGate = new LogGate(this.hiveLimits.logLinesPerSecond);
    this.nextId = options.firstId ?? 1;
    if (!(Number.isInteger(this.nextId) && this.nextId >= 1 && this.nextId <= 0x7fffffff)) throw new RangeError('firstId must be an integer from 1 to 2^31-1');
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
        this.logger.error({ err, event }, 'an event listener threw');
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------
  // Modules and spawning

  /**
   * Defines a module under a name: guests spawn it by that name, and
   * `spawn(name)` finds it. The options are defaults for its actors.
   */
  define(name: string, source: Module | Uint8Array | string, options: ActorOptions = {}): void {
    // The guest ABI reads module names of up to 255 bytes.
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255) throw new RangeError('a module name is 1 to 255 bytes of UTF-8');
    if (this.defs.has(name)) throw new HiveStateError(`a module named '${name}' is defined already`);
    const module = source instanceof Module ? source : new Module(typeof source === 'string' ? readFileSync(source) : source);
    this.defs.set(name, { name, module, hash: moduleHash(module), options });
  }

  /** The module definitions, by name. */
  get modules(): ReadonlyMap<string, ModuleDef> {
    return this.defs;
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
    this.open();
    const def = this.defOf(source);
    const schema = options.schema ?? def.options.schema;
    let init: Uint8Array | null = null;
    if (options.init !== undefined) {
      assertSchema(schema?.init, options.init, 'init', 0);
      init = this.checkSize(encode(options.init));
    }
    const tree = options.tree === undefined ? null : this.treeOf(options.tree);
    const actor = this.start(def, { name: options.name ?? null, init, from: 0, linkTo: null, options, tree, by: null })!;
    return this.refOf(actor.id) as ActorRef<In, Out>;
  }

  /** @internal The spawn tree of a live actor (a host spawning or restoring into it). */
  treeOf(t: ActorRef | number): Tree {
    const id = typeof t === 'number' ? t : t.id;
    const a = this.actor(id);
    if (a === undefined || !a.alive) throw new ActorExitedError(id, 'noproc');
    return a.tree;
  }

  private defOf(source: Module | Uint8Array | string): ModuleDef {
    if (source instanceof Module) {
      let d = this.anonymous.get(source);
      if (d === undefined) this.anonymous.set(source, (d = { name: null, module: source, hash: moduleHash(source), options: {} }));
      return d;
    }
    if (typeof source === 'string') {
      const named = this.defs.get(source);
      if (named !== undefined) return named;
      const path = resolvePath(source);
      let d = this.files.get(path);
      if (d === undefined) {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(path);
        } catch (e) {
          throw new NotFoundError(`no module named '${source}' is defined, and no file '${source}' can be read (${(e as Error).message})`);
        }
        const module = new Module(bytes);
        this.files.set(path, (d = { name: null, module, hash: moduleHash(module), options: {} }));
      }
      return d;
    }
    const module = new Module(source);
    return { name: null, module, hash: moduleHash(module), options: {} };
  }

  /**
   * Makes, links and schedules an actor. Throws what instantiation throws;
   * a limit reached throws LimitError for the host, and returns null for a
   * guest (`by`).
   */
  private start(
    def: ModuleDef,
    s: { name: string | null; init: Uint8Array | null; from: number; linkTo: Process | null; options: ActorOptions; tree: Tree | null; by: Actor | null },
  ): Actor | null {
    if (s.name !== null) this.checkName(s.name);
    const limits = this.limitsFor(def, s.options.limits);
    // Checked before anything is allocated: the memory the module declares.
    let pages = 0;
    for (const m of def.module.ast.memories) pages += m.limits.min;
    let elements = 0;
    for (const t of def.module.ast.tables) elements += t.limits.min;
    // A guest's spawn refused by a limit is a status: no Error is made for it (see limitHit).
    const hit =
      this.roomFor(s.tree, pages, s.by, elements) ??
      (s.linkTo instanceof Actor && s.linkTo.links.size >= s.linkTo.limits.maxLinks ? this.linkLimit(s.linkTo) : null) ??
      // A guest's init message is held by the child until it receives: counted against the spawner's tree.
      (s.by !== null && s.init !== null && !this.queuedRoom(s.by, s.init.length) ? (['maxTreeQueuedBytes', this.hiveLimits.maxTreeQueuedBytes] as [string, number]) : null);
    if (hit !== null) {
      if (s.by !== null) return null;
      throw new LimitError(hit[0], hit[1], 0);
    }
    const id = this.allocId();
    const actor = new Actor(this, id, def, limits, s.options.schema ?? def.options.schema, Rng.forActor(this.seed, id), s.tree ?? new Tree(id));
    // The start function is not run here but in the actor's own slices (Actor.runSlice).
    this.instantiate(actor, (imports, opts) => new Instance(def.module, imports, { ...opts, runStart: false }), s.options.imports);
    actor.startFn = actor.instance!.startFunction;
    this.endpoints.set(id, actor);
    this.admit(actor);
    if (s.name !== null) this.setName(actor, s.name);
    if (s.init !== null) actor.current = { kind: Kind.INIT, from: s.from, bytes: s.init, ref: 0, payer: s.by?.tree ?? null };
    if (s.linkTo !== null) {
      actor.links.add(s.linkTo.id);
      s.linkTo.links.add(id);
    }
    this.executor.schedule(actor);
    this.emit('spawned', { ref: this.refOf(id), id, name: actor.name });
    actor.logger.debug({ module: def.name ?? def.hash.slice(0, 12) }, 'spawned');
    return actor;
  }

  /** @internal An actor's limits: the spawn's (or restore's) over the definition's over the hive's. */
  limitsFor(def: ModuleDef, own: Partial<ActorLimits> | undefined): ActorLimits {
    return checkLimits({ ...this.limits, ...def.options.limits, ...own });
  }

  /**
   * @internal Which limit one more actor, with `pages` of memory, would pass
   * in the hive and its tree (null: a new tree), after emitting its `limit`
   * event; null when it fits.
   */
  roomFor(tree: Tree | null, pages: number, by: Actor | null, elements = 0): [limit: string, value: number] | null {
    const h = this.hiveLimits;
    let hit: [string, number] | null = null;
    if (this.actorCount >= h.maxActors) hit = ['maxActors', h.maxActors];
    else if (tree !== null && tree.actors >= h.maxTreeActors) hit = ['maxTreeActors', h.maxTreeActors];
    else if ((tree?.pages ?? 0) + pages > h.maxTreeMemoryPages) hit = ['maxTreeMemoryPages', h.maxTreeMemoryPages];
    else if ((tree?.elements ?? 0) + elements > h.maxTreeTableElements) hit = ['maxTreeTableElements', h.maxTreeTableElements];
    if (hit !== null) this.limitHit(hit[0], hit[1], by);
    return hit;
  }

  /** @internal As `roomFor`, for the host: throws LimitError. */
  checkRoom(tree: Tree | null, pages: number, elements = 0): void {
    const hit = this.roomFor(tree, pages, null, elements);
    if (hit !== null) throw new LimitError(hit[0], hit[1], 0);
  }

  /**
   * @internal Counts a new (or restored) actor in the hive and its tree, and
   * meters its memories' growth against the tree's `maxTreeMemoryPages`.
   */
  admit(a: Actor): void {
    this.actorCount++;
    a.tree.actors++;
    const tree = a.tree;
    // Growth of its memories and tables draws on its tree's budgets, however many of the tree's actors grow theirs.
    const pages = this.treeBudget(a, 'maxTreeMemoryPages', () => tree.pages, (d) => (tree.pages += d));
    for (const mem of ownMemories(a)) {
      tree.pages += mem.pages;
      mem.setBudget(pages);
    }
    const elements = this.treeBudget(a, 'maxTreeTableElements', () => tree.elements, (d) => (tree.elements += d));
    for (const t of ownTables(a)) {
      tree.elements += t.length;
      t.setBudget(elements);
    }
    this.meterStack(a);
  }

  /** A budget of an actor's tree for its memories or tables: `limit` against what `held` says; a refusal emits the `limit` event. */
  private treeBudget(a: Actor, limit: 'maxTreeMemoryPages' | 'maxTreeTableElements', held: () => number, took: (delta: number) => void): GrowthBudget {
    const max = this.hiveLimits[limit];
    return {
      allows: (delta) => {
        if (held() + delta <= max) return true;
        this.limitHit(limit, max, a);
        return false;
      },
      took,
    };
  }

  /**
   * @internal Counts the value stack the actor's instance holds now in its
   * tree's memory pages (after each slice: a slice grows it by at most its
   * `maxStackBytes`). When the tree is over `maxTreeMemoryPages` after the
   * actor's stack grew, its exit is decided (the slice ends, and it traps).
   */
  meterStack(a: Actor): void {
    const inst = a.instance;
    if (inst === null) return;
    // Whole pages: the first 64 KiB (a 4 KiB stack to start with) is part of every actor's own overhead.
    const pages = Math.floor(inst.stackBytes / 65536);
    const delta = pages - a.stackPages;
    if (delta === 0) return;
    a.stackPages = pages;
    a.tree.pages += delta;
    const limit = this.hiveLimits.maxTreeMemoryPages;
    if (delta > 0 && a.tree.pages > limit) {
      this.limitHit('maxTreeMemoryPages', limit, a);
      a.pendingExit ??= 'trap: out of memory: the value stack is over the spawn tree\'s maxTreeMemoryPages';
    }
  }

  /**
   * Emits the `limit` event (when anyone listens). Guests get a status and
   * no Error is made for them (a guest hitting a limit in a loop must not
   * make the host capture stack traces); the host's calls throw LimitError.
   */
  limitHit(limit: string, value: number, a: Actor | null): void {
    if (this.listenerCount('limit') > 0) this.emit('limit', { limit, value, id: a?.id ?? 0, tree: a?.tree.root ?? 0 });
  }

  /** The `maxLinks` of an actor, reached (its event emitted). */
  private linkLimit(a: Actor): [limit: string, value: number] {
    this.limitHit('maxLinks', a.limits.maxLinks, a);
    return ['maxLinks', a.limits.maxLinks];
  }

  /** @internal Whether one more log line of any actor may be written now (the hive's `logLinesPerSecond`). */
  admitLog(now: number): boolean {
    return this.logGate.admit(now, (n) => this.logger.warn({ dropped: n }, `dropped ${n} log lines of actors (over ${this.hiveLimits.logLinesPerSecond} a second in the hive)`));
  }

  /**
   * Makes the actor's instance with its imports (the `hive` module, the
   * definition's and the spawn's own), checks the ABI version and finds
   * `main`. Used by spawning and restoring.
   */
  instantiate(actor: Actor, make: (imports: Imports, opts: { maxMemoryPages: number; maxTableElements: number; maxCallDepth: number; maxStackBytes: number }) => Instance, extra?: Imports): void {
    const imports: Imports = { ...hiveImports(actor) };
    for (const more of [actor.def.options.imports, extra]) {
      if (more === undefined) continue;
      for (const [mod, fields] of Object.entries(more)) {
        if (mod === 'hive') throw new LinkError('the import module "hive" is the runtime\'s own: host functions go in another module');
        imports[mod] = { ...imports[mod], ...fields };
      }
    }
    const l = actor.limits;
    const instance = make(imports, { maxMemoryPages: l.maxMemoryPages, maxTableElements: l.maxTableElements, maxCallDepth: l.maxCallDepth, maxStackBytes: l.maxStackBytes });
    const version = instance.getExport('hive_abi_version');
    if (version instanceof Global) {
      const v = version.value;
      if (v !== ABI_VERSION) throw new LinkError(`the module is built for the hive ABI version ${String(v)}, this runtime has version ${ABI_VERSION}`);
    }
    const entry = instance.getExport('main') ?? instance.getExport('_start');
    if (entry === undefined || !('invoke' in entry)) throw new LinkError('an actor module must export a function "main" (or "_start")');
    if (entry.type.params.length !== 0) throw new LinkError('the actor\'s "main" must take no parameters');
    const mem = instance.getExport('memory');
    actor.instance = instance;
    actor.entry = entry;
    actor.mem = mem instanceof Memory ? mem : null;
  }

  /** `spawn` from a guest: a status or the new id. */
  spawnFromGuest(parent: Actor, module: string, init: Uint8Array | null, link: boolean): number {
    const def = this.defs.get(module);
    if (def === undefined) return Status.NO_MODULE;
    if (init !== null && init.length > this.maxMessageBytes) return Status.TOO_LARGE;
    const schema = def.options.schema;
    if (init !== null && schema?.init !== undefined && checkBytes(schema.init, init).length > 0) return Status.INVALID;
    try {
      const child = this.start(def, { name: null, init, from: parent.id, linkTo: link ? parent : null, options: {}, tree: parent.tree, by: parent });
      return child === null ? Status.LIMIT : child.id;
    } catch (e) {
      parent.log('warn', 'spawn failed', { module, err: e });
      return Status.SPAWN_FAILED;
    }
  }

  /** A free id. */
  allocId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= 0x7fffffff ? 1 : id + 1;
      if (!this.endpoints.has(id)) return id;
    }
  }

  // ---------------------------------------------------------------------
  // Addresses

  /** The endpoint with this id. */
  endpoint(id: number): Endpoint | undefined {
    return this.endpoints.get(id);
  }

  /** @internal Adds an endpoint (host mailboxes, supervisors, restored actors). */
  addEndpoint(e: Endpoint): void {
    if (this.endpoints.has(e.id)) throw new HiveStateError(`id ${e.id} is in use`);
    this.endpoints.set(e.id, e);
  }

  /** @internal Removes an endpoint. */
  removeEndpoint(id: number): void {
    this.endpoints.delete(id);
    this.refs.delete(id);
  }

  /** The actor with this id, alive. */
  actor(id: number): Actor | undefined {
    const e = this.endpoints.get(id);
    return e instanceof Actor ? e : undefined;
  }

  /** A handle on an id (which may not be, or no longer be, an actor). */
  ref<In = unknown, Out = unknown>(id: number | Pid): ActorRef<In, Out> {
    return this.refOf(typeof id === 'number' ? id : id.id) as ActorRef<In, Out>;
  }

  /** One ActorRef per id while anyone holds it; entries go when their ref is collected or their id ends. */
  private readonly refs = new Map<number, WeakRef<ActorRef>>();
  private readonly refsGone = new FinalizationRegistry<number>((id) => {
    if (this.refs.get(id)?.deref() === undefined) this.refs.delete(id);
  });
  private refOf(id: number): ActorRef {
    let r = this.refs.get(id)?.deref();
    if (r === undefined) {
      r = new ActorRef(this, id);
      this.refs.set(id, new WeakRef(r));
      this.refsGone.register(r, id);
    }
    const a = this.endpoints.get(id);
    if (a instanceof Actor) r.cell = a;
    return r;
  }

  /** The actor registered under a name. */
  whereis<In = unknown, Out = unknown>(name: string): ActorRef<In, Out> | undefined {
    const id = this.names.get(name);
    return id === undefined ? undefined : (this.refOf(id) as ActorRef<In, Out>);
  }

  /**
   * A mailbox on the host side, with an address actors can send to. `id`
   * claims a given address (for instance the one a restored actor answers).
   * It is bounded (`maxMessages`, default 10,000; `maxBytes`, default
   * 16 MiB): past that, senders wait for room or get FULL.
   */
  inbox<T = unknown>(options: InboxOptions = {}): Inbox<T> {
    this.open();
    if (options.id !== undefined && this.endpoints.has(options.id)) throw new HiveStateError(`id ${options.id} is in use`);
    if (options.id !== undefined && !(Number.isInteger(options.id) && options.id >= 1 && options.id <= 0x7fffffff)) throw new RangeError('an id is an integer from 1 to 2^31-1');
    const box = new Inbox<T>(this, options.id ?? this.allocId(), options);
    this.endpoints.set(box.id, box);
    return box;
  }

  /**
   * Starts a supervisor and its children (in order). Throws what spawning a
   * child throws (the children started are stopped first).
   */
  supervise(spec: SupervisorSpec): Supervisor {
    this.open();
    return this.startSupervisor(spec, null);
  }

  /** @internal Starts a supervisor, linked to its parent supervisor if any. */
  startSupervisor(spec: SupervisorSpec, parent: Supervisor | null): Supervisor {
    const s = new Supervisor(this, this.allocId(), spec);
    this.endpoints.set(s.id, s);
    if (parent !== null) this.link(parent, s.id);
    s.startChildren();
    return s;
  }

  // ---------------------------------------------------------------------
  // Names

  private checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255) throw new RangeError('a name is 1 to 255 bytes of UTF-8');
    const holder = this.names.get(name);
    if (holder !== undefined) throw new NameTakenError(name, holder);
  }

  private setName(actor: Actor, name: string): void {
    this.names.set(name, actor.id);
    actor.name = name;
    actor.renamed();
  }

  /** `register` from a guest (or the host). */
  registerName(actor: Actor, name: string): number {
    if (actor.name !== null || this.names.has(name)) return Status.TAKEN;
    this.setName(actor, name);
    return Status.OK;
  }

  unregisterName(actor: Actor): number {
    if (actor.name === null) return Status.NOT_FOUND;
    this.names.delete(actor.name);
    actor.name = null;
    actor.renamed();
    return Status.OK;
  }

  lookupName(name: string): number | undefined {
    return this.names.get(name);
  }

  // ---------------------------------------------------------------------
  // Messages

  /** Checks a message's size. */
  checkSize(bytes: Uint8Array): Uint8Array {
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(bytes.length, this.maxMessageBytes);
    return bytes;
  }

  /**
   * Routes an ordinary message: size, existence, the receiver's `in` schema
   * (and, towards the host, the sending actor's `out` schema), room. Returns
   * a status; on FULL nothing was sent, and the caller may block.
   */
  route(sender: Actor | null, from: number, to: number, bytes: Uint8Array): number {
    if (bytes.length > this.maxMessageBytes) return Status.TOO_LARGE;
    const ep = this.endpoints.get(to);
    // A reply address takes its one answer from the callee only: to anyone
    // else it does not exist, so guessing reply addresses gains nothing.
    if (ep === undefined || (ep instanceof ReplyTo && !ep.accepts(sender))) {
      this.deadLetter(from, to, bytes, 'no such actor');
      return Status.NOT_FOUND;
    }
    if (ep instanceof Supervisor) {
      // A supervisor has an address (to link, monitor, stop) but no mailbox.
      this.deadLetter(from, to, bytes, 'no mailbox');
      return Status.NOT_FOUND;
    }
    const inSchema = ep.schema?.in;
    if (inSchema !== undefined) {
      const issues = checkBytes(inSchema, bytes);
      if (issues.length > 0) {
        sender?.log('warn', 'message refused by the receiver\'s schema', { to, issues });
        return Status.INVALID;
      }
    }
    if (ep.hostSide && sender !== null) {
      const outSchema = sender.schema?.out;
      if (outSchema !== undefined) {
        const issues = checkBytes(outSchema, bytes);
        if (issues.length > 0) {
          sender.log('warn', 'answer refused by the actor\'s out schema', { to, issues });
          (ep as ReplyTo).refuse?.(new SchemaError('out', sender.id, issues));
          return Status.INVALID;
        }
      }
    }
    // Checked before FULL: a sender that then waits for room holds its bytes too (Mailbox.block).
    const payer = sender?.tree ?? null;
    if (sender !== null && !(ep instanceof ReplyTo) && !this.queuedRoom(sender, bytes.length)) return Status.LIMIT;
    if (!ep.hasRoom(bytes.length)) return Status.FULL;
    ep.deliver({ kind: Kind.MESSAGE, from, bytes, ref: 0, payer });
    return Status.OK;
  }

  /**
   * @internal Whether an actor's tree may hold a message of `size` bytes more
   * (`maxTreeQueuedBytes`: messages waiting, and those held as current
   * messages); emits the `limit` event when not.
   */
  queuedRoom(a: Actor, size: number): boolean {
    if (a.tree.queuedBytes + size + MESSAGE_OVERHEAD <= this.hiveLimits.maxTreeQueuedBytes) return true;
    this.limitHit('maxTreeQueuedBytes', this.hiveLimits.maxTreeQueuedBytes, a);
    return false;
  }

  /** Sends from the host: throws on every failure (nothing was sent). */
  hostSend(to: number, value: unknown, from = 0): void {
    const bytes = this.hostBytes(to, value);
    const st = this.route(null, from, to, bytes);
    this.throwStatus(st, to);
  }

  /** Sends from the host, waiting up to `timeout` ms for room. */
  hostSendWait(to: number, value: unknown, timeout: number, from = 0): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.hostBytes(to, value);
    } catch (e) {
      return Promise.reject(e);
    }
    const st = this.route(null, from, to, bytes);
    if (st !== Status.FULL || timeout === 0) {
      try {
        this.throwStatus(st, to);
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve();
    }
    const ep = this.endpoints.get(to)!;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<Clock['setTimer']> | null = null;
      const b: BlockedSend = {
        env: { kind: Kind.MESSAGE, from, bytes, ref: 0 },
        done: (status) => {
          if (timer !== null) this.clock.clearTimer(timer);
          if (status === Status.OK) resolve();
          else reject(this.statusError(status, to));
        },
      };
      ep.block!(b);
      if (timeout > 0 && timeout !== Infinity) {
        timer = this.clock.setTimer(this.clock.now() + timeout, () => {
          timer = null;
          this.endpoints.get(to)?.unblock?.(b);
          reject(this.statusError(Status.FULL, to));
        });
      }
    });
  }

  /** Encodes a host value for `to`, checking its schema and size. */
  private hostBytes(to: number, value: unknown): Uint8Array {
    this.open();
    const ep = this.endpoints.get(to);
    if (ep === undefined) throw new ActorExitedError(to, 'noproc');
    if (ep instanceof Supervisor) throw new HiveStateError(`${to} is a supervisor: it takes no messages`);
    if (!(value instanceof Uint8Array)) assertSchema(ep.schema?.in, value, 'in', to);
    const bytes = this.checkSize(encode(value));
    if (value instanceof Uint8Array && ep.schema?.in !== undefined) {
      const issues = checkBytes(ep.schema.in, bytes);
      if (issues.length > 0) throw new SchemaError('in', to, issues);
    }
    return bytes;
  }

  private statusError(st: number, to: number): Error {
    switch (st) {
      case Status.NOT_FOUND:
        return new ActorExitedError(to, 'noproc');
      case Status.FULL: {
        const a = this.actor(to);
        const ep = this.endpoints.get(to);
        return new MailboxFullError(to, a?.limits.mailbox ?? (ep instanceof Inbox ? ep.maxMessages : 0));
      }
      case Status.INVALID:
        return new SchemaError('in', to, ['refused']);
      case Status.TOO_LARGE:
        return new MessageTooLargeError(0, this.maxMessageBytes);
      default:
        return new HiveStateError(`send failed with status ${st}`);
    }
  }

  private throwStatus(st: number, to: number): void {
    if (st !== Status.OK) throw this.statusError(st, to);
  }

  /** A request from the host: resolves with the first message sent to its reply address. */
  hostCall(to: number, value: unknown, timeout: number, raw: boolean): Promise<unknown> {
    let bytes: Uint8Array;
    try {
      bytes = this.hostBytes(to, value);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      let timer: ReturnType<Clock['setTimer']> | null = null;
      let blocked: BlockedSend | null = null;
      const finish = (): void => {
        if (timer !== null) this.clock.clearTimer(timer);
        timer = null;
      };
      const id = this.allocId();
      const reply = new ReplyTo(this, id, to, {
        resolve: (env) => {
          finish();
          if (raw) return resolve(env.bytes);
          try {
            resolve(decode(env.bytes));
          } catch (e) {
            reject(new SchemaError('out', to, [`the answer is not MessagePack: ${(e as Error).message}`]));
          }
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      });
      this.endpoints.set(id, reply);
      this.endpoints.get(to)?.callers?.add(id);
      const st = this.route(null, id, to, bytes);
      if (st === Status.FULL && timeout !== 0) {
        blocked = {
          env: { kind: Kind.MESSAGE, from: id, bytes, ref: 0 },
          done: (status) => {
            blocked = null;
            if (status !== Status.OK) {
              this.closeReply(id);
              finish();
              reject(this.statusError(status, to));
            }
          },
        };
        this.endpoints.get(to)!.block!(blocked);
      } else if (st !== Status.OK) {
        this.closeReply(id);
        return reject(this.statusError(st, to));
      }
      if (timeout !== Infinity) {
        timer = this.clock.setTimer(this.clock.now() + timeout, () => {
          timer = null;
          if (blocked !== null) this.endpoints.get(to)?.unblock?.(blocked);
          this.closeReply(id);
          reject(new CallTimeoutError(to, timeout));
        });
      }
    });
  }

  /** Opens the reply address of a guest's call. */
  openReply(owner: Actor, target: number): number {
    const id = this.allocId();
    this.endpoints.set(id, new ReplyTo(this, id, target, owner));
    this.endpoints.get(target)?.callers?.add(id);
    return id;
  }

  /** Closes a reply address (answered, timed out, or its owner exited). */
  closeReply(id: number): void {
    const r = this.endpoints.get(id);
    if (!(r instanceof ReplyTo)) return;
    this.endpoints.delete(id);
    this.endpoints.get(r.target)?.callers?.delete(id);
    this.refs.delete(id);
  }

  /** Fails the calls waiting on an endpoint that is going away (an actor exited, an inbox closed). */
  failCallers(ep: Endpoint, reason: string): void {
    const callers = ep.callers;
    if (callers === undefined) return;
    for (const id of [...callers]) {
      const r = this.endpoints.get(id);
      if (r instanceof ReplyTo) r.targetExited(reason);
    }
    callers.clear();
  }

  /** Re-opens a restored actor's pending call's reply address under its id (false when the id is taken). */
  reopenReply(owner: Actor, id: number, target: number): boolean {
    if (this.endpoints.has(id)) return false;
    this.endpoints.set(id, new ReplyTo(this, id, target, owner));
    this.endpoints.get(target)?.callers?.add(id);
    return true;
  }

  private deadLetter(from: number, to: number, bytes: Uint8Array, reason: DeadLetter['reason']): void {
    if (this.listenerCount('deadLetter') > 0) this.emit('deadLetter', { from, to, bytes, reason });
  }

  /** The payload of an EXIT message. */
  encodeExit(from: number, reason: string): Uint8Array {
    return encode({ from: new Pid(from), reason });
  }

  /** The encoded `from` and `reason` of the last DOWN message made (an exit makes one for each of its monitors). */
  private downTail: { from: number; reason: string; bytes: Uint8Array } | null = null;

  /**
   * The payload of a DOWN message: the bytes msgpackr writes for
   * `{ref, from, reason}`, put together from the encoded `from` and `reason`
   * shared by all the DOWN messages of one exit. An actor may be monitored
   * `maxTreeEntries` times by one tree: encoding each from scratch made its
   * exit hold the event loop about 1.1 µs per monitor (157 ms).
   */
  encodeDown(ref: number, from: number, reason: string): Uint8Array {
    let tail = this.downTail;
    if (tail === null || tail.from !== from || tail.reason !== reason) {
      // {from, reason} without its map header (one byte: a fixmap of 2 entries).
      tail = this.downTail = { from, reason, bytes: encode({ from: new Pid(from), reason }).slice(1) };
    }
    // A fixmap of 3 entries, the key "ref", and ref as the shortest unsigned integer (as msgpackr writes it).
    const n = ref < 0x80 ? 1 : ref < 0x100 ? 2 : ref < 0x10000 ? 3 : 5;
    const out = new Uint8Array(5 + n + tail.bytes.length);
    out.set(DOWN_HEAD);
    if (n === 1) out[5] = ref;
    else if (n === 2) (out[5] = 0xcc), (out[6] = ref);
    else if (n === 3) (out[5] = 0xcd), (out[6] = ref >>> 8), (out[7] = ref & 0xff);
    else (out[5] = 0xce), new DataView(out.buffer).setUint32(6, ref >>> 0);
    out.set(tail.bytes, 5 + n);
    return out;
  }

  // ---------------------------------------------------------------------
  // Links, monitors, exits

  /** Links an actor (or any process) with `to`, both ways. */
  link(p: Process, to: number): number {
    const other = this.endpoints.get(to);
    if (!isProcess(other) || !other.alive) return Status.NOT_FOUND;
    if (other === p || p.links.has(to)) return Status.OK;
    for (const side of [p, other]) {
      if (!(side instanceof Actor)) continue;
      if (side.links.size >= side.limits.maxLinks) {
        this.limitHit('maxLinks', side.limits.maxLinks, side);
        return Status.LIMIT;
      }
      if (!this.entryRoom(side)) return Status.LIMIT;
    }
    p.links.add(to);
    other.links.add(p.id);
    return Status.OK;
  }

  unlink(p: Process, to: number): void {
    p.links.delete(to);
    const other = this.endpoints.get(to);
    if (isProcess(other)) other.links.delete(p.id);
  }

  /** Whether an actor's tree may hold one more link, monitor or queued signal (`maxTreeEntries`); emits the event when not. */
  private entryRoom(a: Actor): boolean {
    if (a.tree.entries < this.hiveLimits.maxTreeEntries) return true;
    this.limitHit('maxTreeEntries', this.hiveLimits.maxTreeEntries, a);
    return false;
  }

  /** `link` from a guest: only with the actors the hive's `signals` policy lets it signal. */
  guestLink(a: Actor, to: number): number {
    return this.maySignal(a, to) ? this.link(a, to) : Status.NOT_FOUND;
  }

  /**
   * @internal Whether a guest may send exit signals to (or link with) `to`: under
   * `signals: 'tree'`, only actors of its own spawn tree, never supervisors
   * or host addresses (a link is a way to send an exit signal too).
   */
  maySignal(a: Actor, to: number): boolean {
    if (this.signalPolicy === 'open') return true;
    const t = this.endpoints.get(to);
    return t instanceof Actor && t.tree === a.tree;
  }

  /**
   * Starts a monitor held by an actor; returns its reference, or LIMIT
   * (`maxMonitors`; or `maxSignals` for the `noproc` down message of a
   * process that does not exist).
   */
  monitor(watcher: Actor, target: number): number {
    if (watcher.monitors.size >= watcher.limits.maxMonitors) {
      this.limitHit('maxMonitors', watcher.limits.maxMonitors, watcher);
      return Status.LIMIT;
    }
    if (!this.entryRoom(watcher)) return Status.LIMIT;
    const t = this.endpoints.get(target);
    const alive = isProcess(t) && t.alive;
    if (!alive && !watcher.signalRoom) {
      this.limitHit('maxSignals', watcher.limits.maxSignals, watcher);
      return Status.LIMIT;
    }
    let ref = watcher.nextMonitorRef;
    // After 2^31 monitors the references wrap: skip those still held.
    while (watcher.monitors.has(ref)) ref = ref >= 0x7fffffff ? 1 : ref + 1;
    watcher.nextMonitorRef = ref >= 0x7fffffff ? 1 : ref + 1;
    if (!alive) {
      watcher.down(ref, target, 'noproc');
      return ref;
    }
    watcher.monitors.set(ref, target);
    let refs = t.monitoredBy.get(watcher.id);
    if (refs === undefined) t.monitoredBy.set(watcher.id, (refs = new Set()));
    refs.add(ref);
    return ref;
  }

  demonitor(watcher: Actor, ref: number): number {
    const target = watcher.monitors.get(ref);
    const queued = watcher.signals.removeAll((e) => e.kind === Kind.DOWN && e.ref === ref);
    if (target === undefined) return queued > 0 ? Status.OK : Status.NOT_FOUND;
    watcher.monitors.delete(ref);
    const t = this.endpoints.get(target);
    if (isProcess(t)) {
      const refs = t.monitoredBy.get(watcher.id);
      refs?.delete(ref);
      if (refs !== undefined && refs.size === 0) t.monitoredBy.delete(watcher.id);
    }
    return Status.OK;
  }

  /**
   * `exit` from a guest to another process: refused (NOT_FOUND) by the
   * `signals` policy, and LIMIT when it would be queued in a full signal
   * queue (`maxSignals`) of an actor that traps exits.
   */
  guestExit(a: Actor, to: number, reason: string): number {
    if (!this.maySignal(a, to)) return Status.NOT_FOUND;
    const t = this.endpoints.get(to);
    if (t instanceof Actor && t.alive && t.trapExit && reason !== 'kill') {
      if (!t.signalRoom) {
        this.limitHit('maxSignals', t.limits.maxSignals, t);
        return Status.LIMIT;
      }
      if (!this.entryRoom(t)) return Status.LIMIT;
    }
    return this.sendExit(a.id, to, reason);
  }

  /** An exit signal from `from` to `to` (Erlang's exit/2): `kill` cannot be trapped. */
  sendExit(from: number, to: number, reason: string): number {
    const t = this.endpoints.get(to);
    if (!isProcess(t) || !t.alive) return Status.NOT_FOUND;
    t.exitSignal(from, reason, reason === 'kill');
    return Status.OK;
  }

  /**
   * Ends a process with a reason: its links get exit signals, its monitors
   * down messages, its callers and waiting senders fail. Exits caused by
   * exits are handled in a queue (not recursively), in order; `after`
   * actions (supervisor restarts) run when the queue is empty.
   */
  terminate(p: Process, reason: string, trap?: Trap): void {
    this.dying.push([p, reason, trap]);
    if (this.terminating) return;
    this.terminating = true;
    try {
      for (;;) {
        const next = this.dying.shift();
        if (next !== undefined) {
          this.finish(next[0], next[1], next[2]);
          continue;
        }
        const after = this.afterExits.shift();
        if (after === undefined) break;
        after();
      }
    } finally {
      this.terminating = false;
    }
  }

  /** Runs `fn` once pending exits have been handled (never while the hive closes). */
  afterExit(fn: () => void): void {
    if (this.closing) return;
    if (this.terminating) this.afterExits.push(fn);
    else fn();
  }

  private finish(p: Process, reason: string, trap: Trap | undefined): void {
    if (!p.alive) return;
    if (p instanceof Actor) {
      if (p.state === 'running') {
        // Its own import caused this (a signal came back along links), or a host
        // function killed it: the slice ends at once (Actor.pendingExit) and the
        // exit is applied then.
        p.pendingExit ??= reason;
        return;
      }
      this.finishActor(p, reason);
    } else {
      (p as Process & { finish(reason: string): void }).finish(reason);
    }
    this.endpoints.delete(p.id);
    const ref = this.refs.get(p.id)?.deref() ?? new ActorRef(this, p.id);
    this.refs.delete(p.id);
    for (const l of p.links) {
      const peer = this.endpoints.get(l);
      if (isProcess(peer)) {
        peer.links.delete(p.id);
        peer.exitSignal(p.id, reason, false);
      }
    }
    p.links.clear();
    for (const [watcher, refs] of p.monitoredBy) {
      const w = this.endpoints.get(watcher);
      if (isProcess(w)) for (const ref of refs) w.down(ref, p.id, reason);
    }
    p.monitoredBy.clear();
    if (p instanceof Actor) {
      ref.cell = p;
      this.executor.yieldSoon();
      p.resolveExited(reason);
      const ev: ExitEvent = { ref, id: p.id, name: p.lastName, reason, fuelUsed: p.finalFuel, ...(trap ? { trap } : {}) };
      this.emit('exited', ev);
      if (!isNormalExit(reason)) {
        this.emit('crashed', ev);
        // The guest's own failures are warnings; exits caused by others (killed, linked exits) are information.
        // Through the rate limits: a guest may spawn actors that crash, in a loop.
        if (trap !== undefined || reason.startsWith('abort: ')) p.log('warn', 'crashed', { reason });
        else p.log('info', 'exited', { reason });
      } else {
        p.logger.debug({ reason }, 'exited');
      }
    }
  }

  private finishActor(a: Actor, reason: string): void {
    const w = a.wait;
    a.state = 'exited';
    a.reason = reason;
    a.wait = null;
    if (w !== null && w.kind !== 'host') {
      if (w.timer !== null) this.clock.clearTimer(w.timer);
      if (w.kind === 'send') this.endpoints.get(w.to)?.unblock?.(w.sending);
      if (w.kind === 'call') {
        if (w.sending !== null) this.endpoints.get(w.target)?.unblock?.(w.sending);
        this.closeReply(w.replyId);
      }
    }
    try {
      a.instance?.abort();
    } catch {
      // not paused
    }
    a.lastName = a.name;
    if (a.name !== null) this.names.delete(a.name);
    // Senders waiting for room, and callers waiting for answers, fail.
    a.mailbox.drain((m) => this.deadLetter(m.from, a.id, m.bytes, 'exited'));
    this.failCallers(a, reason);
    a.signals.clear();
    a.current = null; // gives its bytes back to the tree that sent it
    a.flushLogs();
    for (const [ref, target] of a.monitors) {
      const t = this.endpoints.get(target);
      if (isProcess(t)) {
        const refs = t.monitoredBy.get(a.id);
        refs?.delete(ref);
        if (refs !== undefined && refs.size === 0) t.monitoredBy.delete(a.id);
      }
    }
    a.monitors.clear();
    a.finalFuel = a.instance?.fuelUsed ?? 0;
    this.actorCount--;
    a.tree.actors--;
    for (const mem of ownMemories(a)) a.tree.pages -= mem.pages;
    for (const t of ownTables(a)) a.tree.elements -= t.length;
    a.tree.pages -= a.stackPages;
    a.stackPages = 0;
    a.instance = null;
    a.mem = null;
  }

  // ---------------------------------------------------------------------
  // Snapshots

  /**
   * Snapshots one actor to bytes (format in docs/snapshot-format.md) without
   * stopping it or the others: its VM, mailbox, name, links, monitors, and
   * what it waits for. Throws ActorExitedError, or HiveStateError when called
   * from the actor's own host function.
   */
  snapshot(target: ActorRef | number): Uint8Array {
    const id = typeof target === 'number' ? target : target.id;
    const a = this.actor(id);
    if (a === undefined || !a.alive) throw new ActorExitedError(id, 'noproc');
    return snapshotActor(this, a);
  }

  /**
   * Restores an actor from a snapshot into this hive (the same or another),
   * where it carries on: same id and name unless told otherwise, its mailbox,
   * links to actors of this hive, monitors, timers with the time they had
   * left. Throws SnapshotError (malformed bytes, another module),
   * HiveStateError (id in use), NameTakenError.
   */
  restore<In = unknown, Out = unknown>(bytes: Uint8Array, options: RestoreActorOptions = {}): ActorRef<In, Out> {
    this.open();
    const def = options.module !== undefined ? this.defOf(options.module) : this.defForSnapshot(bytes);
    const a = restoreActor(this, bytes, def, options);
    const ref = this.refOf(a.id) as ActorRef<In, Out>;
    if (a.alive) {
      this.emit('spawned', { ref, id: a.id, name: a.name });
      a.logger.debug({ module: def.name ?? def.hash.slice(0, 12) }, 'restored');
    }
    return ref;
  }

  private defForSnapshot(bytes: Uint8Array): ModuleDef {
    const m = readActorSnapshot(bytes)['module'] as { name?: unknown; hash?: unknown } | undefined;
    const name = typeof m?.name === 'string' ? m.name : null;
    const hash = typeof m?.hash === 'string' ? m.hash : '';
    if (name !== null) {
      const d = this.defs.get(name);
      if (d !== undefined && d.hash === hash) return d;
    }
    for (const d of this.defs.values()) if (d.hash === hash) return d;
    throw new SnapshotError(`the snapshot's module${name === null ? '' : ` '${name}'`} (SHA-256 ${hash}) is not defined in this hive: define it, or pass { module }`);
  }

  // ---------------------------------------------------------------------
  // Life of the hive

  /** Resolves when no actor is ready to run (all wait or have exited). */
  idle(): Promise<void> {
    return this.executor.idle();
  }

  /** Ids of the live actors. */
  actorIds(): number[] {
    const out: number[] = [];
    for (const e of this.endpoints.values()) if (e instanceof Actor) out.push(e.id);
    return out;
  }

  /**
   * Kills every actor (reason 'shutdown'; supervisors restart nobody), closes
   * every inbox (waiting receives reject), fails pending host calls, and
   * stops the executor. Later calls on the hive throw HiveStateError.
   */
  close(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    for (const e of [...this.endpoints.values()]) if (e instanceof Actor && e.alive) this.terminate(e, 'shutdown');
    for (const e of [...this.endpoints.values()]) if (isProcess(e) && e.alive) this.terminate(e, 'shutdown');
    for (const e of [...this.endpoints.values()]) if (e instanceof Inbox) e.close();
    this.afterExits = [];
    this.closed = true;
    this.executor.close();
  }

  private open(): void {
    if (this.closed) throw new HiveStateError('the hive is closed');
  }

  /** @internal Decodes a received envelope for the host. */
  received<T>(env: Envelope): Received<T> {
    const kindName = (['message', 'exit', 'down', 'init'] as const)[env.kind];
    return { kind: kindName, from: env.from, bytes: env.bytes, get value(): T { return decode(env.bytes) as T; } };
  }
}

/** Bytes of log output the default logger holds while stderr is not ready; past it, lines are dropped. */
const LOG_BUFFER_BYTES = 4 << 20;

/** MessagePack of a map of 3 entries and the key "ref": how every DOWN payload begins. */
const DOWN_HEAD = Uint8Array.of(0x83, 0xa3, 0x72, 0x65, 0x66);

/** The memories an actor's module defines (not those it imports from the host). */
function ownMemories(a: Actor): Memory[] {
  const inst = a.instance;
  if (inst === null) return [];
  return inst.inst.memories.slice(a.def.module.ast.numImportedMemories);
}

/** The tables an actor's module defines (not those it imports from the host). */
function ownTables(a: Actor): Table[] {
  const inst = a.instance;
  if (inst === null) return [];
  return inst.inst.tables.slice(a.def.module.ast.numImportedTables);
}

/** The hive type the rest of the folder programs against. */
export type HiveCore = Hive;

const hashes = new WeakMap<Module, string>();
/** SHA-256 of a module's bytes, hex. */
export function moduleHash(m: Module): string {
  let h = hashes.get(m);
  if (h === undefined) hashes.set(m, (h = createHash('sha256').update(m.ast.bytes).digest('hex')));
  return h;
}
