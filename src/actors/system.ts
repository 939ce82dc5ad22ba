/**
 * The actor system behind the public `Hive` (hive.ts): the registry of
 * addresses (actors, host mailboxes, reply addresses, supervisors), names,
 * the modules guests can spawn (registry.ts), routing with bounded
 * mailboxes and schemas, and Erlang's exit semantics (links, trapped exits,
 * monitors). Actors run on an `Executor`; time comes from a `Clock`.
 */
import { pino, type Logger } from 'pino';
import { Global, Instance, LinkError, Memory, MemoryPool, Module, SnapshotError, Table, Trap, warmUp, type GrowthBudget, type Imports, type MemoryPoolStats, type Suspend } from '../vm/index.js';
import { InlineExecutor, SystemClock, type Clock, type Executor, type TimerHandle } from '../scheduler/index.js';
import { ABI_VERSION, hiveImports } from './abi.js';
import { HiveAbi, type SpawnOutcome } from '../bindings/hive/index.js';
import type { Binding } from '../bindings/binding.js';
import { Wasi } from '../bindings/wasi/index.js';
import { Actor, PARK, type ActorHost, type ActorLimits, type Wait } from './actor.js';
import { assertSchema, checkBytes, decode, encode, Pid } from './codec.js';
import { Kind, Status, isNormalExit, type Envelope } from './envelope.js';
import { ActorExitedError, CallTimeoutError, HiveStateError, LimitError, MailboxFullError, MessageTooLargeError, NameTakenError, NotFoundError, SchemaError } from './errors.js';
import { checkLimits, DEFAULT_ACTOR_LIMITS, DEFAULT_HIVE_LIMITS, ForeignTree, LogGate, MESSAGE_OVERHEAD, Tree, type HiveLimits } from './limits.js';
import { isProcess, type BlockedSend, type Endpoint, type Process } from './process.js';
import { ActorRef, Inbox, type ActorInfo, type InboxOptions, type Received, type RefHost } from './ref.js';
import { BLOCK_IDS, HIVE_ADDRESS, ID_BLOCK, TREE_KEY_EPOCHS, treeKey, treeOfKey, type AckSignal, type WithdrawSignal, type DemonitorSignal, type DownSignal, type ExitSignal, type LinkSignal, type LookupSignal, type MessageSignal, type MonitorSignal, type RegisterSignal, type Signal, type SpawnedSignal, type SpawnSignal, type UnlinkSignal, type UnregisterSignal } from './protocol.js';
import { NameTable } from './names.js';
import { ModuleRegistry } from './registry.js';
import { inlineTransport, type Transport } from './router.js';
import { PartitionTransport, type Partition, type RestoredIds } from './partition.js';
import { RemoteActor } from './remote.js';
import { Rng } from './rng.js';
import { Supervisor, type SupervisedActor, type SupervisorHost, type SupervisorSpec } from './supervisor.js';
import { restoreActor, restoreActorParts, snapshotActor, snapshotActorAsync, type RestoreActorOptions, type SnapshotHost } from './snapshot.js';
import { MAX_SERVICES, SERVICE_BASE, Service, isServiceAddress, type ServiceSystem } from './service.js';
import { isServiceDefinition, type ServiceDefinition, type ServiceHandlers, type ServiceOptions } from '../bindings/service.js';
import type { WorkerServiceModule } from './protocol.js';
import { packGroup, readActorSnapshot, readGroupSnapshot } from './snapshot-format.js';
import { DurableActors, type DurableHost } from './durable.js';
import type { ActorOptions, DeadLetter, EventSink, ExitEvent, HiveOptions, ModuleDef, RestartEvent, SpawnOptions, WasiGrant } from './types.js';

/** The reply address of a call (one message, then it closes). */
class ReplyTo implements Endpoint {
  readonly schema = undefined;
  readonly hostSide: boolean;
  /** Whether its one answer came (then the callee forgot the call itself). */
  answered = false;
  constructor(
    readonly hive: ActorSystem,
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
  accepts(sender: number): boolean {
    return sender === 0 || sender === this.target;
  }
  deliver(env: Envelope): void {
    this.answered = true;
    this.hive.closeReply(this.id);
    const o = this.owner;
    if (o instanceof Actor) {
      const w = o.wait;
      if (w === null || w.kind !== 'call' || w.replyId !== this.id) return;
      // The answer becomes the caller's current message, counted against the caller's tree (it asked
      // for it; counted against the replier's, callers in another tree could fill the replier's bound).
      if (!this.hive.queuedRoom(o, env.bytes.length)) {
        o.wakeWithI32(Status.LIMIT);
        return;
      }
      // A service's answer comes from the address the guest called it by (its grant's), not the service's own.
      o.answered(env, isServiceAddress(w.target) ? w.target : env.from);
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
      o.wakeWithI32(Status.NOT_FOUND);
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
 * @internal The actor system behind the public `Hive` (hive.ts): the
 * registry of modules and addresses, names, routing, replies, exits, links
 * and monitors, limits. The hive's other parts (actors, refs, supervisors,
 * snapshots) program against the narrow interfaces they declare
 * (`ActorHost`, `RefHost`, `SupervisorHost`, `SnapshotHost`), which this
 * class implements: none of them imports it.
 */
export class ActorSystem implements ActorHost, RefHost, SupervisorHost, SnapshotHost {
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
  /** @internal The durable actors (HiveOptions.durable), or null. */
  readonly durable: DurableActors | null;
  /** Names of actors and host mailboxes (the hive's side of register, unregister and lookup). */
  private readonly names = new NameTable();
  /** The hive's services by name: their addresses (SERVICE_BASE + their number) and whether they are idempotent. Every thread has it (the main thread sends it to the workers). */
  private serviceTable = new Map<string, { readonly id: number; readonly idempotent: boolean; readonly module?: WorkerServiceModule }>();
  /** Services registered so far (their numbers are never given out twice). */
  private servicesMade = 0;
  /** Exit reasons of the last actors that exited (errors about them say why they are gone), at most RECENT_EXITS. */
  private readonly recentExits = new Map<number, string>();
  /** The modules it knows. */
  readonly modules: ModuleRegistry;
  private nextId: number;
  private closed = false;
  /** Set while `close` stops everything: exits then restart nobody. */
  private closing = false;
  private dying: [Process, string, Trap | undefined][] = [];
  private terminating = false;
  private afterExits: (() => void)[] = [];

  /** Where the hive's events go (the public `Hive`). */
  private readonly events: EventSink;
  /** What carries envelopes between the parties (router.ts). */
  private readonly transport: Transport;
  /** This thread's own transport (the same as `transport` without partitions): envelopes to an endpoint known to be here. */
  private readonly local: Transport;
  /** Answers awaited for requests sent, by sequence number. */
  private readonly pending = new Map<number, Answer>();
  /** The guest ABI's imports, shared by every actor of the hive. */
  private readonly hiveAbi = new HiveAbi();
  /** Where actors' small memories are cut from (a spawn allocates no store of its own; an exit gives the region back). */
  private readonly memoryPool = new MemoryPool();
  private nextSeq = 1;
  /** Messages waiting for room at their receiver, by the sequence number of their request (a withdraw finds them). */
  private readonly blockedBySeq = new Map<string, { to: number; b: BlockedSend; stop(): void }>();
  /** Spawn trees by serial (messages in flight name the tree that pays for them). */
  private readonly trees = new Map<number, Tree>();
  /** Trees without actors whose messages are still counted somewhere (dropped from `trees` when they no longer are). */
  private readonly orphanTrees = new Set<Tree>();
  private nextTree = 1;
  /** The other partitions of a pooled hive (null: the hive is this one system). */
  private readonly partition: Partition | null;

  constructor(options: HiveOptions, events: EventSink, partition: Partition | null = null) {
    this.events = events;
    this.partition = partition;
    const tier = options.tier ?? 'interpreter';
    if (tier !== 'interpreter' && tier !== 'auto' && tier !== 'compiled') throw new TypeError(`HiveOptions.tier: 'interpreter', 'auto' or 'compiled', not ${JSON.stringify(options.tier)}`);
    this.modules = new ModuleRegistry({ tier });
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
    if (!(Number.isInteger(this.nextId) && this.nextId >= 1 && this.nextId <= ID_MAX)) throw new RangeError(`firstId must be an integer from 1 to ${ID_MAX}`);
    const local = (options.transport ?? inlineTransport)({ deliver: this.deliver, executor: this.executor });
    this.local = local;
    this.transport = partition === null ? local : new PartitionTransport(local, (s) => this.isLocal(s), partition);
    this.durable = options.durable === undefined ? null : new DurableActors(this.durableHost(), options.durable);
  }

  /**
   * Whether an envelope's receiver is on this partition. On a worker,
   * anything it does not hold is sent to the main thread, which routes it
   * (or, holding nothing there either, answers that it is gone); names are
   * the main thread's, a guest's spawn its own worker's.
   */
  private isLocal(s: Signal): boolean {
    const p = this.partition!;
    if (s.to === HIVE_ADDRESS) return p.role === 'main' || s.t === 'spawn';
    const ep = this.endpoints.get(s.to);
    if (ep !== undefined) return !(ep instanceof RemoteActor);
    return !p.elsewhere(s.to);
  }

  /** @internal Delivers the envelopes waiting here (a worker, before it answers the main thread's request). */
  deliverArrived(): void {
    this.transport.flush();
  }

  /** @internal Takes an envelope that arrived from another partition. */
  arrived(s: Signal): void {
    (this.transport as PartitionTransport).arrived(s);
  }

  /** Whether `id` is not held here but may be on another partition (which then decides about it). */
  private remote(id: number): boolean {
    const ep = this.endpoints.get(id);
    if (ep !== undefined) return ep instanceof RemoteActor;
    return this.partition !== null && this.partition.elsewhere(id);
  }

  // ---------------------------------------------------------------------
  // Modules and spawning

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
  spawn(source: Module | Uint8Array | string, options: SpawnOptions = {}): ActorRef {
    this.open();
    options = withWasi(options);
    const def = this.modules.resolve(source);
    const schema = options.schema ?? def.options.schema;
    let init: Uint8Array | null = null;
    if (options.init !== undefined) {
      assertSchema(schema?.init, options.init, 'init', 0);
      init = this.checkSize(encode(options.init));
    }
    const services = this.checkGrants(options.services);
    const placed = this.partition?.place?.(def, { name: options.name ?? null, init, tree: options.tree === undefined ? 0 : typeof options.tree === 'number' ? options.tree : options.tree.id, linkTo: 0, options });
    if (placed != null) return this.refOf(placed.id);
    const tree = options.tree === undefined ? null : this.treeOf(options.tree);
    const actor = this.start(def, { name: options.name ?? null, init, from: 0, linkTo: null, options, tree, by: null, services })!;
    return this.refOf(actor.id);
  }

  /**
   * @internal Starts an actor the main thread placed on this worker, under
   * the id it gave; `linkTo`: a process of the main thread it is linked
   * with. Throws what `spawn` throws.
   */
  startPlaced(def: ModuleDef, id: number, s: { name: string | null; init: Uint8Array | null; tree: number; linkTo: number; options: ActorOptions; services: readonly string[] }): void {
    this.open();
    const tree = s.tree === 0 ? null : this.treeOf(s.tree);
    const actor = this.start(def, { name: s.name, init: s.init, from: 0, linkTo: null, options: s.options, tree, by: null, id, services: s.services })!;
    if (s.linkTo !== 0) actor.links.add(s.linkTo);
  }

  /** @internal The spawn tree of a live actor (a host spawning or restoring into it). */
  treeOf(t: ActorRef | number): Tree {
    const id = typeof t === 'number' ? t : t.id;
    const a = this.actor(id);
    if (a === undefined || !a.alive) throw new ActorExitedError(id, 'noproc');
    return a.tree;
  }

  /**
   * Makes, links and schedules an actor. Throws what instantiation throws;
   * a limit reached throws LimitError for the host, and returns null for a
   * guest (`by`).
   */
  private start(
    def: ModuleDef,
    s: { name: string | null; init: Uint8Array | null; from: number; linkTo: Process | null; options: ActorOptions; tree: Tree | null; by: Actor | null; id?: number; services?: readonly (string | null)[]; seed?: string },
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
    const id = s.id ?? this.allocId();
    const actor = new Actor(this, id, def, limits, s.options.schema ?? def.options.schema, Rng.forActor(s.seed ?? this.seed, id), s.tree ?? this.newTree(id), (s.options as SpawnOptions).bindings ?? NO_BINDINGS);
    if (s.services !== undefined && s.services.length > 0) actor.grantServices(s.services);
    // The start function is not run here but in the actor's own slices (Actor.runSlice).
    try {
      this.instantiate(actor, (imports, opts) => new Instance(def.module, imports, { ...opts, runStart: false }), s.options.imports);
    } catch (e) {
      if (s.tree === null) this.dropTree(actor.tree); // made for it (regression: refused spawns left their trees)
      throw e;
    }
    this.endpoints.set(id, actor);
    this.admit(actor);
    if (s.name !== null) this.setName(actor, s.name);
    if (s.init !== null) actor.received({ kind: Kind.INIT, from: s.from, bytes: s.init, ref: 0, payer: s.by?.tree ?? null });
    if (s.linkTo !== null) {
      actor.links.add(s.linkTo.id);
      s.linkTo.links.add(id);
    }
    this.executor.schedule(actor);
    this.partition?.born?.(id, actor.name, def.hash, actor.tree.root, limits.mailbox, actor.services);
    // Nothing made for nobody: a spawn bomb's or a batch's events and log lines cost only when someone takes them.
    if (this.events.listenerCount('spawned') > 0) this.events.emit('spawned', { ref: this.refOf(id), id, name: actor.name });
    if (this.logger.isLevelEnabled('debug')) actor.logger.debug({ module: def.name ?? def.hash.slice(0, 12) }, 'spawned');
    return actor;
  }

  /** @internal Forgets a tree made for an actor that was then refused (it holds nothing). */
  dropTree(t: Tree): void {
    if (t.actors === 0 && t.queuedBytes <= 0 && t.entries <= 0) this.trees.delete(t.serial);
  }

  /** @internal A new spawn tree for the actor `root`. */
  newTree(root: number): Tree {
    const t = new Tree(root, this.nextTree++);
    this.trees.set(t.serial, t);
    // Trees whose actors have all exited stay while messages they sent are counted; dropped once nothing is.
    if ((t.serial & 4095) === 0) {
      for (const o of this.orphanTrees) {
        if (o.actors > 0 || (o.queuedBytes <= 0 && o.entries <= 0)) this.orphanTrees.delete(o);
        if (o.actors === 0 && o.queuedBytes <= 0 && o.entries <= 0) this.trees.delete(o.serial);
      }
    }
    return t;
  }

  /** @internal An actor's limits: the spawn's (or restore's) over the definition's over the hive's. */
  limitsFor(def: ModuleDef, own: Partial<ActorLimits> | undefined): ActorLimits {
    // The hive's own were checked once and are never changed: shared by every actor that sets none.
    if (def.options.limits === undefined && own === undefined) return this.limits;
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
    if ((this.partition?.actors !== undefined ? Atomics.load(this.partition.actors, 0) : this.actorCount) >= h.maxActors) hit = ['maxActors', h.maxActors];
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
    this.countActors(1);
    a.tree.actors++;
    const tree = a.tree;
    // Growth of its memories and tables draws on its tree's budgets, however many of the tree's actors grow theirs.
    const mems = ownMemories(a);
    if (mems.length > 0) {
      const pages = new TreeBudget(this, a, 'maxTreeMemoryPages');
      for (const mem of mems) {
        tree.pages += mem.pages;
        mem.setBudget(pages);
      }
    }
    const tables = ownTables(a);
    if (tables.length > 0) {
      const elements = new TreeBudget(this, a, 'maxTreeTableElements');
      for (const t of tables) {
        tree.elements += t.length;
        t.setBudget(elements);
      }
    }
    this.meterStack(a);
  }

  /** Counts live actors: this system's, and in a pooled hive every thread's together (maxActors is the hive's). */
  private countActors(delta: number): void {
    this.actorCount += delta;
    const shared = this.partition?.actors;
    if (shared !== undefined) Atomics.add(shared, 0, delta);
  }

  /** @internal The hive's bound of a tree's pages or elements. */
  treeLimit(limit: 'maxTreeMemoryPages' | 'maxTreeTableElements'): number {
    return this.hiveLimits[limit];
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
    const delta = a.meterStackPages(pages);
    if (delta === 0) return;
    a.tree.pages += delta;
    const limit = this.hiveLimits.maxTreeMemoryPages;
    if (delta > 0 && a.tree.pages > limit) {
      this.limitHit('maxTreeMemoryPages', limit, a);
      a.decideExit('trap: out of memory: the value stack is over the spawn tree\'s maxTreeMemoryPages');
    }
  }

  /** @internal After an actor's slice: the transport may deliver what it sent. */
  sliceEnded(): void {
    this.transport.sliceEnded();
  }

  /** Whether `id`, with no endpoint here (`ep`), is a passivated durable actor's: alive, restored by what reaches it. */
  private passivatedDurable(ep: Endpoint | undefined, id: number): boolean {
    return ep === undefined && this.durable !== null && this.durable.passivated(id);
  }

  /** @internal After a durable actor's slice (Actor.durable): a checkpoint or passivation may be due. */
  durableSliceEnded(a: Actor): void {
    this.durable?.sliceEnded(a);
  }

  /**
   * Emits the `limit` event (when anyone listens). Guests get a status and
   * no Error is made for them (a guest hitting a limit in a loop must not
   * make the host capture stack traces); the host's calls throw LimitError.
   */
  limitHit(limit: string, value: number, a: Actor | null): void {
    if (this.events.listenerCount('limit') > 0) this.events.emit('limit', { limit, value, id: a?.id ?? 0, tree: a?.tree.root ?? 0 });
  }

  /** The `maxLinks` of an actor, reached (its event emitted). */
  private linkLimit(a: Actor): [limit: string, value: number] {
    this.limitHit('maxLinks', a.limits.maxLinks, a);
    return ['maxLinks', a.limits.maxLinks];
  }

  /** @internal Whether one more log line of any actor may be written now (the hive's `logLinesPerSecond`). */
  admitLog(now: number): boolean {
    if (!this.logGate.admit(now, (n) => this.logger.warn({ dropped: n }, `dropped ${n} log lines of actors (over ${this.hiveLimits.logLinesPerSecond} a second in the hive)`))) return false;
    const shared = this.partition?.logWindow;
    if (shared === undefined) return true;
    // A pooled hive: one window for every thread (threads starting a second at once may each admit a line more).
    const second = Math.floor(now / 1000) | 0;
    const seen = Atomics.load(shared, 0);
    if (seen !== second && Atomics.compareExchange(shared, 0, seen, second) === seen) Atomics.store(shared, 1, 0);
    if (Atomics.add(shared, 1, 1) < this.hiveLimits.logLinesPerSecond) return true;
    this.logGate.drop(); // counted (and summed up) as this thread's drop
    return false;
  }

  /**
   * Makes the actor's instance with its imports (the `hive` module, the
   * definition's and the spawn's own), checks the ABI version and finds
   * `main`. Used by spawning and restoring.
   */
  instantiate(actor: Actor, make: (imports: Imports, opts: { maxMemoryPages: number; maxTableElements: number; maxCallDepth: number; maxStackBytes: number; data: unknown; memoryPool: MemoryPool }) => Instance, extra?: Imports): void {
    const own = hiveImports(actor, this.hiveAbi, actor.bindings);
    let imports = own.imports;
    for (const more of [actor.def.options.imports, extra]) {
      if (more === undefined) continue;
      if (imports === own.imports) imports = { ...imports };
      for (const [mod, fields] of Object.entries(more)) {
        if (mod === 'hive') throw new LinkError('the import module "hive" is the runtime\'s own: host functions go in another module');
        imports[mod] = { ...imports[mod], ...fields };
      }
    }
    const l = actor.limits;
    const instance = make(imports, { maxMemoryPages: l.maxMemoryPages, maxTableElements: l.maxTableElements, maxCallDepth: l.maxCallDepth, maxStackBytes: l.maxStackBytes, data: own.data, memoryPool: this.memoryPool });
    try {
      const version = instance.getExport('hive_abi_version');
      if (version instanceof Global) {
        const v = version.value;
        if (v !== ABI_VERSION) throw new LinkError(`the module is built for the hive ABI version ${String(v)}, this runtime has version ${ABI_VERSION}`);
      }
      const entry = instance.getExport('main') ?? instance.getExport('_start');
      if (entry === undefined || !('invoke' in entry)) throw new LinkError('an actor module must export a function "main" (or "_start")');
      if (entry.type.params.length !== 0) throw new LinkError('the actor\'s "main" must take no parameters');
      const mem = instance.getExport('memory');
      actor.attach(instance, entry, mem instanceof Memory ? mem : null);
    } catch (e) {
      instance.dispose(); // its memories' regions go back to the pool
      throw e;
    }
  }

  /** A guest's child (see guestSpawn): its id or a status, and what it holds. */
  private spawnChild(parent: Actor, module: string, init: Uint8Array | null, link: boolean, services: boolean): SpawnOutcome {
    const refused = this.spawnRefused(module, init);
    if (refused !== 0) return { status: refused, memoryBytes: 0, tableElements: 0 };
    const def = this.modules.byName(module)!;
    let status: number;
    try {
      // The spawner's grants pass on only when it asks (the SERVICES flag): the same list, so the same addresses.
      const child = this.start(def, { name: null, init, from: parent.id, linkTo: link ? parent : null, options: {}, tree: parent.tree, by: parent, services: services ? parent.services : NO_SERVICES });
      if (child === null || child.instance === null) return { status: Status.LIMIT, memoryBytes: 0, tableElements: 0 };
      let memoryBytes = 0;
      for (const m of child.instance.inst.memories) memoryBytes += m.byteLength;
      let tableElements = 0;
      for (const t of child.instance.inst.tables) tableElements += t.length;
      return { status: child.id, memoryBytes, tableElements };
    } catch (e) {
      if (e instanceof LimitError) status = Status.LIMIT;
      else {
        parent.log('warn', 'spawn failed', { module, err: e });
        status = Status.SPAWN_FAILED;
      }
    }
    return { status, memoryBytes: 0, tableElements: 0 };
  }

  /** A free id. */
  /**
   * A new id. Ids are never reused in a hive (an actor may keep the ids it
   * was told of in its memory, where no one can see them): they go up from
   * `firstId`, past every id restored or claimed, and a hive gives out at
   * most 2^31 - 2^16 - 1 (then LimitError 'ids'; the ids above are the services' range).
   */
  allocId(): number {
    if (this.partition?.allocId !== undefined) return this.partition.allocId();
    // A pooled hive's main thread whose ids reached the workers' half (a high firstId, a restored snapshot's
    // ids, or 2^30 of them): from there on from ranges of its own between the workers' blocks.
    if (this.nextId >= BLOCK_IDS && this.nextId >= this.ownIdsEnd && this.partition?.role === 'main') this.takeOwnIds();
    const id = this.nextId;
    if (id > ID_MAX) throw new LimitError('ids', ID_MAX, 0);
    this.nextId = id + 1;
    return id;
  }

  /**
   * A pooled hive's main thread, its own ids in the workers' half (from
   * BLOCK_IDS): the next range to give them out from, the rest of the block
   * (of ID_BLOCK ids, as the block table counts them) that the next free id
   * of that half is in. No worker is given that block (its table entry stays
   * 0, this thread's), and at the end of the id space, where no whole block
   * is left for a worker, its last ids are given out so (see
   * ActorPool.placeId).
   */
  private takeOwnIds(): void {
    const first = Math.max(this.nextBlockId, this.nextId);
    this.nextId = first;
    if (first > ID_MAX) return; // none left: allocId refuses
    this.ownIdsEnd = Math.floor((first - BLOCK_IDS) / ID_BLOCK + 1) * ID_BLOCK + BLOCK_IDS;
    this.raiseBlockIds(this.ownIdsEnd);
  }
  /** The end of this thread's own range in the workers' half (see takeOwnIds); the range is [nextId, ownIdsEnd). */
  private ownIdsEnd = 0;

  /**
   * @internal A block of `count` new ids for a worker to give out itself;
   * returns the first. Blocks come from the upper half of the ids (from
   * 2^30), so the host's own ids stay small and do not jump by a block;
   * only whole blocks, on a multiple of `count` (LimitError 'ids' when
   * none is left: the last ids are the main thread's, see takeOwnIds).
   */
  allocIds(count: number): number {
    // This thread's own ids, when they are in this half (a firstId there, a restored snapshot's ids), keep the
    // rest of the block they begin in (its first id is given out first, as inline); the workers' blocks go above.
    if (this.nextId >= BLOCK_IDS && this.nextId >= this.ownIdsEnd && this.nextId >= this.nextBlockId) this.takeOwnIds();
    // On a multiple of `count` (a restored id may have moved the next one anywhere): the pool's block table indexes blocks by it.
    const first = Math.ceil((Math.max(this.nextBlockId, this.nextId) - BLOCK_IDS) / count) * count + BLOCK_IDS;
    if (first + count - 1 > ID_MAX) throw new LimitError('ids', ID_MAX, 0);
    this.raiseBlockIds(first + count);
    return first;
  }
  /** Ids of the workers' half (from BLOCK_IDS) below this are in blocks, this thread's ranges, claimed or reserved. */
  private nextBlockId = BLOCK_IDS;

  /** Raises nextBlockId to `n`; the workers learn it (a worker's snapshot records the hive's idsBelow). */
  private raiseBlockIds(n: number): void {
    if (n <= this.nextBlockId) return;
    this.nextBlockId = n;
    this.partition?.idsTaken?.(n);
  }

  /** @internal An id taken as it is (a restored actor's, an inbox's claimed address): later ids go above it. */
  claimId(id: number): void {
    if (id >= BLOCK_IDS && this.partition?.role === 'main') {
      // In the workers' range: no later block may hold it; a worker's block's address is reached through this thread now.
      this.raiseBlockIds(id + 1);
      if (id >= this.nextId && id < this.ownIdsEnd) this.nextId = id + 1; // in this thread's own range
      this.partition.claimed?.(id);
      return;
    }
    if (id >= this.nextId) this.nextId = id + 1;
  }

  /**
   * @internal Ids below this were or may have been given out: a snapshot
   * records it, and a restore raises this hive's to it. On a pooled hive,
   * the workers' blocks count too (a worker's system asks its partition:
   * the main thread hands the blocks out).
   */
  get idsBelow(): number {
    const p = this.partition;
    return Math.max(this.nextId, p === null ? 0 : p.role === 'main' ? this.nextBlockId : p.idsBelow?.() ?? 0);
  }

  /**
   * @internal Raises the next id to `n` (restoring a snapshot of a hive that
   * had given out ids below it). On a pooled hive's main thread, no block
   * of the workers' holds ids below `n` from now on either (see
   * Partition.reserved).
   */
  reserveIdsBelow(n: number): void {
    if (n > this.nextId) this.nextId = Math.min(n, ID_MAX + 1);
    if (this.partition?.role === 'main' && n > BLOCK_IDS) {
      this.raiseBlockIds(Math.min(n, ID_MAX + 1));
      this.partition.reserved?.(n);
    }
  }

  // ---------------------------------------------------------------------
  // Addresses

  /** The endpoint with this id. */
  endpoint(id: number): Endpoint | undefined {
    return this.endpoints.get(id);
  }

  /** @internal Addresses held (actors, inboxes, reply addresses, supervisors, remote actors' records): tests check that none leak. */
  get endpointCount(): number {
    return this.endpoints.size;
  }

  /** @internal The spawn trees of this thread made for actor `root` (tests: what a tree still counts; one that counts nothing is dropped). */
  treesOf(root: number): Tree[] {
    return [...this.trees.values()].filter((t) => t.root === root);
  }

  /** @internal The counts of this thread's memory pool (regions lent to actors' memories): tests check that none leak. */
  get memoryPoolStats(): MemoryPoolStats {
    return this.memoryPool.stats();
  }

  /** @internal Adds an endpoint (host mailboxes, supervisors, restored actors). */
  addEndpoint(e: Endpoint): void {
    if (this.endpoints.has(e.id)) throw new HiveStateError(`id ${e.id} is in use`);
    this.endpoints.set(e.id, e);
  }

  /**
   * @internal An address of another thread closed (a pooled hive's main
   * thread saw the call it was the reply address of end): its ref's entry
   * goes, as an address of this thread's does when it closes
   * (removeEndpoint). An address this thread holds keeps it until then.
   */
  forgetRef(id: number): void {
    if (!this.endpoints.has(id)) this.refs.delete(id);
  }

  /** @internal Removes an endpoint. */
  removeEndpoint(id: number): void {
    this.endpoints.delete(id);
    this.refs.delete(id);
    this.names.forget(id);
  }

  /** @internal An actor child of a supervisor: here, or on a worker. */
  child(id: number): Actor | RemoteActor | undefined {
    const e = this.endpoints.get(id);
    return e instanceof Actor || e instanceof RemoteActor ? e : undefined;
  }

  /** The actor with this id, alive. */
  actor(id: number): Actor | undefined {
    const e = this.endpoints.get(id);
    return e instanceof Actor ? e : undefined;
  }

  /** A handle on an id (which may not be, or no longer be, an actor). */
  ref<In = unknown, Out = unknown>(id: number): ActorRef<In, Out> {
    return this.refOf(id) as ActorRef<In, Out>;
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
    if (a instanceof Actor || a instanceof RemoteActor) r.seen(a.exited);
    return r;
  }

  /** The actor registered under a name. */
  whereis<In = unknown, Out = unknown>(name: string): ActorRef<In, Out> | undefined {
    const id = this.names.get(name);
    return id === undefined || isServiceAddress(id) ? undefined : (this.refOf(id) as ActorRef<In, Out>);
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
    if (options.id !== undefined && !(Number.isInteger(options.id) && options.id >= 1 && options.id <= ID_MAX)) throw new RangeError(`an id is an integer from 1 to ${ID_MAX}`);
    if (options.name !== undefined) this.checkName(options.name);
    const box = new Inbox<T>(this, options.id ?? this.allocId(), options);
    if (options.id !== undefined) this.claimId(options.id);
    this.endpoints.set(box.id, box);
    if (options.name !== undefined) this.names.add(options.name, box.id);
    return box;
  }

  /**
   * Registers a native service under `name` (see service.ts): actors
   * granted it at spawn (`services: [name]`) call it. Only on the hive's
   * main thread. Throws NameTakenError when a service has that name,
   * LimitError after 65,536 services.
   */
  service<H extends ServiceHandlers>(name: string, given: H | ServiceDefinition<H>, more: ServiceOptions<H> = {}, workerModule?: WorkerServiceModule): Service<H> {
    this.open();
    if (this.partition !== null && this.partition.role !== 'main') throw new HiveStateError('services are registered on the hive\'s main thread');
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255) throw new RangeError('a service name is 1 to 255 bytes of UTF-8');
    const taken = this.serviceTable.get(name)?.id ?? this.names.get(name);
    if (taken !== undefined) throw new NameTakenError(name, taken);
    if (this.servicesMade >= MAX_SERVICES) throw new LimitError('services', MAX_SERVICES, 0);
    const id = SERVICE_BASE + this.servicesMade++;
    const svc = this.mountService(name, id, given, more, true);
    // Its name is taken in the hive's name table, so that no actor or inbox can squat it (regression: a guest
    // registered "kv", and actors not granted kv found the squatter by lookup); lookup finds it only through a grant.
    this.names.add(name, id);
    this.serviceTable.set(name, { id, idempotent: svc.idempotent, ...(workerModule !== undefined ? { module: workerModule } : {}) });
    this.partition?.servicesChanged?.(this.services, this.workerServices);
    return svc;
  }

  /**
   * @internal A service's endpoint on this thread under `id`: the main
   * thread's (`owner`: it keeps the table), or a worker's copy of a service
   * declared to run in each worker (the table stays the main thread's).
   */
  mountService<H extends ServiceHandlers>(name: string, id: number, given: H | ServiceDefinition<H>, more: ServiceOptions<H>, owner: boolean): Service<H> {
    const def = isServiceDefinition(given) ? given : null;
    const handlers = def !== null ? def.handlers : (given as H);
    const options = def !== null ? { ...def.options, ...more } : more;
    const host: ServiceSystem = {
      clock: this.clock,
      answer: (replyTo, bytes) => {
        // A caller that timed out or exited closed its reply address: the answer is dropped.
        if (this.endpoints.get(replyTo) instanceof ReplyTo || this.remote(replyTo)) this.sendMessage(null, id, replyTo, bytes, -1, null);
      },
      nameOf: (pid) => this.names.nameOf(pid) ?? null,
      grantsOf: (pid) => this.grantsOf(pid).filter((n) => n !== null),
      serviceClosed: (svc) => {
        this.endpoints.delete(svc.id);
        this.failCallers(svc, 'closed');
        if (!owner) return;
        this.names.remove(svc.name, svc.id);
        this.serviceTable.delete(svc.name);
        this.partition?.servicesChanged?.(this.services, this.workerServices);
      },
      log: (level, msg, obj) => this.logger[level](obj, msg),
      endCaller: (pid, reason) => {
        const r = this.endpoints.get(pid);
        if (r instanceof RemoteActor) return this.partition?.terminate?.(r, reason);
        const a = this.actor(pid);
        if (a !== undefined && a.alive) this.terminate(a, reason);
      },
    };
    const svc = new Service<H>(host, id, name, handlers, options, def?.close === undefined ? undefined : () => def.close!());
    this.endpoints.set(id, svc);
    def?.start?.({
      now: () => this.clock.now(),
      setTimer: (at, fn) => this.clock.setTimer(at, fn),
      clearTimer: (h) => this.clock.clearTimer(h as TimerHandle),
      send: (to, value) => {
        // Never waits for room (regression: a timer's ticks to an actor that did not read them piled up as blocked
        // sends without bound until the heap ran out): a full mailbox drops it, a dead letter. It comes from the
        // address the receiver knows the service by (its grant), or from the host (0) for one not granted it.
        try {
          const e = this.endpoints.get(to);
          const i = this.grantsOf(to).indexOf(name);
          const bytes = this.checkSize(encode(value));
          // An actor of this thread whose mailbox is full refuses it now (a timer then stops).
          if (e instanceof Actor && !e.hasRoom(bytes.length)) return false;
          return this.sendMessage(null, i < 0 ? 0 : SERVICE_BASE + i, to, bytes, 0, null) >= 0;
        } catch {
          return false;
        }
      },
      alive: (pid) => {
        const e = this.endpoints.get(pid);
        return e instanceof Actor ? e.alive : e instanceof RemoteActor ? e.alive : e instanceof Inbox;
      },
      log: (level, msg, obj) => this.logger[level](obj ?? {}, msg),
    });
    return svc;
  }

  /** The grants of an actor of this thread, or the record of one on a worker (none for any other address). */
  private grantsOf(pid: number): readonly (string | null)[] {
    const e = this.endpoints.get(pid);
    return e instanceof Actor || e instanceof RemoteActor ? e.services : NO_SERVICES;
  }

  /** @internal The services declared to run in each worker: [name, address, module]. */
  get workerServices(): [string, number, WorkerServiceModule][] {
    const out: [string, number, WorkerServiceModule][] = [];
    for (const [name, s] of this.serviceTable) if (s.module !== undefined) out.push([name, s.id, s.module]);
    return out;
  }

  /** @internal The service table, as the workers are sent it: [name, address, idempotent]. */
  get services(): [string, number, boolean][] {
    return [...this.serviceTable].map(([name, s]) => [name, s.id, s.idempotent]);
  }

  /** @internal A worker's copy of the main thread's service table. */
  setServices(table: readonly (readonly [string, number, boolean])[]): void {
    this.serviceTable = new Map(table.map(([name, id, idempotent]) => [name, { id, idempotent }]));
    // A copy of a service the main thread closed closes here too.
    const live = new Set(table.map(([, id]) => id));
    for (const e of [...this.endpoints.values()]) if (e instanceof Service && !live.has(e.id)) e.close();
  }

  /** The names of services, checked for a spawn's grants: each registered, once. */
  private checkGrants(services: readonly string[] | undefined): readonly string[] {
    if (services === undefined || services.length === 0) return NO_SERVICES;
    if (!Array.isArray(services)) throw new TypeError('services is an array of service names');
    if (services.length > MAX_SERVICES) throw new RangeError(`an actor holds at most ${MAX_SERVICES} services`);
    for (const n of services) if (!this.serviceTable.has(n)) throw new NotFoundError(`no service ${JSON.stringify(n)}: register it with hive.service first`);
    if (new Set(services).size !== services.length) throw new RangeError('services lists each service once');
    return Object.freeze([...services]);
  }

  /** The service an actor addresses as `address` (SERVICE_BASE + the index of its grant): undefined when not granted, or not registered (any more). */
  private grantedService(a: Actor, address: number): { readonly id: number; readonly idempotent: boolean } | undefined {
    const name = a.services[address - SERVICE_BASE];
    return name === undefined || name === null ? undefined : this.serviceTable.get(name);
  }

  /**
   * A guest's request to the service it addresses as `to`: the service's
   * address and the bytes it is sent (numbered), or a status: NOT_FOUND (a
   * dead letter, as for an address that does not exist), BAD_ARGUMENT (not
   * `[method, request]`).
   */
  private serviceRequest(a: Actor, to: number, bytes: Uint8Array): [target: number, bytes: Uint8Array] | number {
    const svc = this.grantedService(a, to);
    if (svc === undefined) {
      this.deadLetter(a.id, to, bytes, 'no such actor');
      return Status.NOT_FOUND;
    }
    if (bytes[0] !== FIXARRAY_2) return Status.BAD_ARGUMENT;
    return [svc.id, numbered(bytes, a.nextServiceCall())];
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

  /** Registers an actor the host side makes or restores (spawn with a name, restore): at once, the name checked free. */
  private setName(actor: Actor, name: string): void {
    this.names.add(name, actor.id);
    actor.renamed(name);
  }

  /** @internal A restored actor's name, registered at once (host side): a status. */
  registerName(actor: Actor, name: string): number {
    if (actor.name !== null || !this.names.add(name, actor.id)) return Status.TAKEN;
    actor.renamed(name);
    return Status.OK;
  }

  /** @internal The address registered under a name (host side). */
  lookupName(name: string): number | undefined {
    return this.names.get(name);
  }

  // The guest ABI's names and spawn: requests to the hive (HIVE_ADDRESS), answered later.

  /**
   * Sends a guest's request to the hive (`post` it under the sequence number
   * given) and parks the guest until the answer, which `answered` sees first
   * (null: the hive closed); the guest then resumes with the status.
   */
  private askHive(a: Actor, request: 'register' | 'lookup' | 'spawn', post: (seq: number) => void, answered?: Answer): typeof PARK {
    const w: Wait = { kind: 'hive', deadline: Infinity, timer: null, request };
    const seq = this.request((status, s) => {
      answered?.(status, s);
      if (a.wait === w) a.wakeWithI32(status);
    });
    post(seq);
    a.park(w, null);
    return PARK;
  }

  /** `register` from a guest: TAKEN at once if it has a name; else parks until the hive answers (OK, TAKEN). */
  guestRegister(a: Actor, name: string): number | Suspend {
    if (a.name !== null) return Status.TAKEN;
    return this.askHive(
      a,
      'register',
      (seq) => this.transport.post({ t: 'register', from: a.id, to: HIVE_ADDRESS, seq, name }),
      (status) => {
        // Its own record of its name, kept from the hive's answer (if it is still there).
        if (status === Status.OK && a.alive && a.name === null) a.renamed(name);
      },
    );
  }

  /** `unregister` from a guest: decided at once (its name is its own); the hive is told. */
  guestUnregister(a: Actor): number {
    const name = a.name;
    if (name === null) return Status.NOT_FOUND;
    a.renamed(null);
    this.transport.post({ t: 'unregister', from: a.id, to: HIVE_ADDRESS, name });
    return Status.OK;
  }

  /** `lookup` from a guest: parks until the hive answers (an id, or NOT_FOUND). */
  guestLookup(a: Actor, name: string): number | Suspend {
    // A service granted to it: its address in the actor's own grants, known here (services not granted are not found).
    const i = a.services.length === 0 ? -1 : a.services.indexOf(name); // (null entries never match a name)
    if (i >= 0) return this.serviceTable.has(name) ? SERVICE_BASE + i : Status.NOT_FOUND;
    return this.askHive(a, 'lookup', (seq) => this.transport.post({ t: 'lookup', from: a.id, to: HIVE_ADDRESS, seq, name }));
  }

  /**
   * `spawn` from a guest: a status decided at once from what every side
   * knows (the module, the init message's size and schema), else parks until
   * the hive answers with the child's id or a status. `paid` learns what the
   * child holds, before the guest resumes (the spawner pays for it).
   */
  guestSpawn(a: Actor, module: string, init: Uint8Array | null, link: boolean, services: boolean, paid: (made: SpawnOutcome) => void): number | Suspend {
    const refused = this.spawnRefused(module, init);
    if (refused !== 0) {
      paid({ status: refused, memoryBytes: 0, tableElements: 0 });
      return refused;
    }
    return this.askHive(
      a,
      'spawn',
      (seq) => this.transport.post({ t: 'spawn', from: a.id, to: HIVE_ADDRESS, seq, module, init, link, services }),
      (status, s) => {
        if (a.alive && s?.t === 'spawned') paid({ status, memoryBytes: s.memoryBytes, tableElements: s.tableElements });
      },
    );
  }

  /** Why a spawn of `module` with `init` cannot be (NO_MODULE, TOO_LARGE, INVALID), or 0. */
  private spawnRefused(module: string, init: Uint8Array | null): number {
    const def = this.modules.byName(module);
    if (def === undefined) return Status.NO_MODULE;
    if (init !== null && init.length > this.maxMessageBytes) return Status.TOO_LARGE;
    const schema = def.options.schema;
    if (init !== null && schema?.init !== undefined && checkBytes(schema.init, init).length > 0) return Status.INVALID;
    return 0;
  }

  /** The hive's side of a register. */
  private onRegister(s: RegisterSignal): void {
    const a = this.endpoints.get(s.from);
    const status = !(a instanceof Actor || a instanceof RemoteActor) || !a.alive ? Status.NOT_FOUND : this.names.add(s.name, s.from) ? Status.OK : Status.TAKEN;
    this.transport.post({ t: 'ack', from: HIVE_ADDRESS, to: s.from, seq: s.seq, status });
  }

  /**
   * The hive's side of an unregister. From an actor that has exited since,
   * it is void: its exit dropped its name already, and its address may now
   * be an inbox's, under the same name (regression: the late unregister
   * dropped the inbox's name).
   */
  private onUnregister(s: UnregisterSignal): void {
    const a = this.endpoints.get(s.from);
    if ((a instanceof Actor || a instanceof RemoteActor) && a.alive) this.names.remove(s.name, s.from);
  }

  /** The hive's side of a lookup. */
  private onLookup(s: LookupSignal): void {
    // A service's name leads to it only through a grant (guestLookup): here it is not found.
    const id = this.names.get(s.name);
    this.transport.post({ t: 'ack', from: HIVE_ADDRESS, to: s.from, seq: s.seq, status: id === undefined || isServiceAddress(id) ? Status.NOT_FOUND : id });
  }

  /** The hive's side of a spawn: the child starts in the spawner's tree. */
  private onSpawn(s: SpawnSignal): void {
    const parent = this.endpoints.get(s.from);
    const made = parent instanceof Actor && parent.alive ? this.spawnChild(parent, s.module, s.init, s.link, s.services) : { status: Status.NOT_FOUND, memoryBytes: 0, tableElements: 0 };
    this.transport.post({ t: 'spawned', from: HIVE_ADDRESS, to: s.from, seq: s.seq, ...made });
  }

  /** The spawner's side of the answer to its spawn. */
  private onSpawned(s: SpawnedSignal): void {
    this.answered(s);
  }

  // ---------------------------------------------------------------------
  // Messages

  /** Checks a message's size. */
  checkSize(bytes: Uint8Array): Uint8Array {
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(bytes.length, this.maxMessageBytes);
    return bytes;
  }

  /**
   * Sends a message from `sender` (an actor; null: the host) under the
   * address `from` (the sender's id, or a call's reply address). What the
   * sender's side knows is decided here and returned as a status: no such
   * address (NOT_FOUND, a dead letter; a reply address takes its one answer
   * from the callee only, so to anyone else it does not exist), its own
   * `out` schema towards the host (INVALID), its tree's queued bytes
   * (LIMIT): that status (< 0) is returned. Otherwise the message is posted
   * and its sequence number returned (0 without `done`): the receiver's side decides the rest (its `in` schema, room, whether it is
   * still there) and answers `done` with an ack, or, without `done`, makes
   * a refused message a dead letter. `wait`: ms to wait for room in a full
   * mailbox (0: none, -1: for ever).
   */
  private sendMessage(sender: Actor | null, from: number, to: number, bytes: Uint8Array, wait: number, done: ((status: number) => void) | typeof ACK_TO_WAIT | null, call = false): number {
    const ep = this.endpoints.get(to);
    if ((ep === undefined || ep instanceof RemoteActor) && this.remote(to)) {
      // On another partition, which decides the rest. Counted against no tree: a guest waits for the
      // answer to each send (one message in flight), and the receiver's mailbox bounds what it holds.
      // (Actors with schemas run on the main thread: nothing of theirs is checked here.)
      // A remote call answered (answers are counted against no tree, as here).
      const answer = sender !== null && sender.callers.size > 0 && sender.callers.delete(to);
      // Counted against the sender's tree as here: until it leaves the mailbox it waits in there, whose
      // thread gives the bytes back (see ForeignTree).
      let payer = 0;
      if (sender !== null && !answer && this.partition?.threadSlot !== undefined) {
        if (!this.queuedRoom(sender, bytes.length)) return Status.LIMIT;
        sender.tree.queuedBytes += bytes.length + MESSAGE_OVERHEAD;
        sender.tree.remote += bytes.length + MESSAGE_OVERHEAD;
        payer = treeKey(this.partition.threadSlot, sender.tree.serial, this.remoteEpoch);
      }
      const until = wait === 0 ? 0 : wait < 0 ? -1 : Math.max(1, this.clock.now() + wait);
      const seq = done === null ? 0 : done === ACK_TO_WAIT ? this.newSeq() : this.request(done);
      this.transport.post({ t: 'message', from, to, sender: sender?.id ?? 0, payer, bytes, until, seq, call });
      return seq;
    }
    if ((ep === undefined && !(this.durable?.holds(to) ?? false)) || (ep instanceof ReplyTo && !ep.accepts(sender?.id ?? 0))) {
      this.deadLetter(from, to, bytes, 'no such actor');
      return Status.NOT_FOUND;
    }
    if (ep instanceof Supervisor) {
      // A supervisor has an address (to link, monitor, stop) but no mailbox.
      this.deadLetter(from, to, bytes, 'no mailbox');
      return Status.NOT_FOUND;
    }
    if (ep !== undefined && ep.hostSide && sender !== null) {
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
    // Counted against the sender's tree from now on (in flight, then waiting in a mailbox or for room); answers are not.
    let payer: Tree | null = null;
    if (sender !== null && !(ep instanceof ReplyTo)) {
      if (!this.queuedRoom(sender, bytes.length)) return Status.LIMIT;
      payer = sender.tree;
      payer.queuedBytes += bytes.length + MESSAGE_OVERHEAD;
    }
    // Room is waited for until a time of the clock (the message may arrive later than it was sent).
    const until = wait === 0 ? 0 : wait < 0 ? -1 : Math.max(1, this.clock.now() + wait);
    const seq = done === null ? 0 : done === ACK_TO_WAIT ? this.newSeq() : this.request(done);
    // An endpoint here: its local transport at once (the partition's would ask again whether it is here).
    (ep instanceof RemoteActor ? this.transport : this.local).post({ t: 'message', from, to, sender: sender?.id ?? 0, payer: payer?.serial ?? 0, bytes, until, seq, call });
    return seq;
  }

  /** The receiver's side of a message. */
  private onMessage(s: MessageSignal): void {
    // A durable actor's message is journaled before anything else (durable.ts), then comes back here.
    if (this.durable !== null && this.durable.intercepts(s)) return;
    const bytes = s.bytes;
    const payer = s.payer === 0 ? null : this.payerOf(s.payer, bytes.length + MESSAGE_OVERHEAD);
    // No longer in flight: a mailbox counts it from here (Mailbox.push, Mailbox.block), or it is refused.
    if (payer !== null) this.releaseBytes(payer, bytes.length + MESSAGE_OVERHEAD);
    const answer = (status: number): void => {
      if (s.seq !== 0) this.transport.post({ t: 'ack', from: s.to, to: s.sender, seq: s.seq, status });
      else if (status !== Status.OK) this.deadLetter(s.from, s.to, bytes, status === Status.NOT_FOUND ? 'exited' : 'refused');
    };
    const found = this.endpoints.get(s.to);
    if (found === undefined || found instanceof Supervisor || (found instanceof ReplyTo && !found.accepts(s.sender))) {
      const ep = found;
      if (s.seq !== 0) this.deadLetter(s.from, s.to, bytes, ep === undefined ? 'exited' : ep instanceof Supervisor ? 'no mailbox' : 'no such actor');
      return answer(Status.NOT_FOUND);
    }
    const ep: Endpoint = found;
    const inSchema = ep.schema?.in;
    if (inSchema !== undefined) {
      const issues = checkBytes(inSchema, bytes);
      if (issues.length > 0) {
        this.actor(s.sender)?.log('warn', 'message refused by the receiver\'s schema', { to: s.to, issues });
        return answer(Status.INVALID);
      }
    }
    // A call's request: the call fails if the receiver goes away before answering.
    // (Only while its reply address is open: a caller that timed out or exited meanwhile closed it.)
    if (s.call && (this.endpoints.get(s.from) instanceof ReplyTo || this.remote(s.from))) ep.callers?.add(s.from);
    // A service is told who calls (an actor's `from` is a call's reply address).
    const env: Envelope = ep instanceof Service ? { kind: Kind.MESSAGE, from: s.from, bytes, ref: 0, payer, sender: s.sender } : { kind: Kind.MESSAGE, from: s.from, bytes, ref: 0, payer };
    // (A journaled message takes no room check: room was its sender's when it was accepted, see DurableActors.)
    if (ep.hasRoom(bytes.length) || (this.durable !== null && this.durable.isReleasing(s))) {
      ep.deliver(env);
      return answer(Status.OK);
    }
    const block = ep.block;
    if (s.until === 0 || block === undefined || (s.until > 0 && s.until <= this.clock.now())) {
      if (s.call) ep.callers?.delete(s.from);
      return answer(Status.FULL);
    }
    // Waits for room: admitted in order as room appears (OK), or FULL when `wait` ms pass, or NOT_FOUND when the receiver exits.
    let timer: TimerHandle | null = null;
    const stop = (): void => {
      if (timer !== null) this.clock.clearTimer(timer);
      timer = null;
      if (s.seq !== 0) this.blockedBySeq.delete(`${s.sender}/${s.seq}`);
    };
    const b: BlockedSend = {
      env,
      done: (status) => {
        stop();
        answer(status);
      },
    };
    block.call(ep, b);
    // By sender and number: threads number their requests each on their own (two senders may share a number).
    if (s.seq !== 0) this.blockedBySeq.set(`${s.sender}/${s.seq}`, { to: s.to, b, stop });
    if (s.until > 0) {
      timer = this.clock.setTimer(s.until, () => {
        timer = null;
        stop();
        this.endpoints.get(s.to)?.unblock?.(b);
        if (s.call) this.endpoints.get(s.to)?.callers?.delete(s.from);
        answer(Status.FULL);
      });
    }
  }

  /** The receiver's side of a withdraw: the message leaves the senders waiting for room, if it is still there. */
  private onWithdraw(s: WithdrawSignal): void {
    const w = this.blockedBySeq.get(`${s.from}/${s.seq}`);
    if (w === undefined || w.to !== s.to) return; // taken already (its answer is on its way) or refused
    w.stop();
    this.endpoints.get(s.to)?.unblock?.(w.b);
    // Answered, so that the request leaves the requester's side too (no one waits for it any more).
    this.transport.post({ t: 'ack', from: s.to, to: s.from, seq: s.seq, status: Status.NOT_FOUND });
  }

  /** A new request's sequence number. */
  private newSeq(): number {
    const seq = this.nextSeq;
    this.nextSeq = seq >= Number.MAX_SAFE_INTEGER ? 1 : seq + 1;
    return seq;
  }

  /** Registers the answer to a request; returns its sequence number. */
  private request(done: Answer): number {
    const seq = this.newSeq();
    this.pending.set(seq, done);
    return seq;
  }

  /**
   * The requester's side of an answer. A guest's send is answered to the
   * wait it parked in (its sequence number), found through the actor, not
   * through `pending`: the commonest request costs no map entry.
   */
  private onAck(s: AckSignal): void {
    const a = this.endpoints.get(s.to);
    if (a instanceof Actor) {
      const w = a.wait;
      if (w !== null && w.kind === 'send' && w.seq === s.seq) {
        a.wakeWithI32(s.status);
        return;
      }
      // The monitored side on another partition recorded monitor -seq (see monitor).
      if (s.seq < 0) {
        a.downsAwaited.delete(-s.seq);
        return;
      }
    }
    this.answered(s);
  }

  /** Runs the requester's answer to request `s.seq` (an ack, or the answer to a spawn), if it still waits. */
  private answered(s: AckSignal | SpawnedSignal): void {
    const done = this.pending.get(s.seq);
    if (done === undefined) return;
    this.pending.delete(s.seq);
    done(s.status, s);
  }

  /**
   * @internal Whether an actor's tree may hold a message of `size` bytes more
   * (`maxTreeQueuedBytes`: messages in flight, waiting, and those held as
   * current messages); emits the `limit` event when not.
   */
  queuedRoom(a: Actor, size: number): boolean {
    if (a.tree.queuedBytes + size + MESSAGE_OVERHEAD <= this.hiveLimits.maxTreeQueuedBytes) return true;
    this.limitHit('maxTreeQueuedBytes', this.hiveLimits.maxTreeQueuedBytes, a);
    return false;
  }

  /**
   * The tree a message counts against, from its `payer`: one of this thread
   * (its number, or its key come back), or another thread's, stood for here
   * by a ForeignTree (one per tree and batch: what they come to goes back).
   */
  private payerOf(payer: number, n: number): Tree | null {
    const k = treeOfKey(payer);
    if (k === null) return this.trees.get(payer) ?? null;
    if (k.thread === this.partition?.threadSlot) {
      // Come back (through the main thread to an actor of this one): counted here as any message of this thread's
      // from now on; sent before a worker died, it was forgiven then (see forgiveRemote), and counts nowhere.
      const t = k.epoch === this.remoteEpoch % TREE_KEY_EPOCHS ? this.trees.get(k.serial) : undefined;
      if (t === undefined) return null;
      t.remote -= n;
      return t;
    }
    const t = this.foreignTree(payer);
    t.arrived += n;
    return t;
  }

  /** The ForeignTree of each tree of another thread that messages here count against (see payerOf), while one does. */
  private readonly foreign = new Map<number, ForeignTree>();

  /** @internal Whether messages of other threads' trees wait here (see flushRefunds). */
  get holdsForeign(): boolean {
    return this.foreign.size > 0;
  }

  /**
   * @internal Sends the trees of other threads what their messages here came
   * to since the last time (bytes given back as messages left; see
   * ForeignTree), and forgets those no message here counts against any
   * more. Called in batches, not per message (one record per message taken
   * halved the throughput between two workers): when the thread has nothing
   * to run, before it answers a request, and every few slices under load.
   */
  flushRefunds(): void {
    if (this.foreign.size === 0) return;
    for (const [key, t] of this.foreign) {
      const d = t.queuedBytes;
      if (d !== 0) {
        if (!this.closed) this.partition?.refund?.(key, d);
        t.sent += d;
        t.queuedBytes = 0;
      }
      if (t.held === 0) this.foreign.delete(key);
    }
  }

  /**
   * @internal `delta` bytes for this thread's spawn tree of `key`, from the
   * thread where messages it sent wait (see ForeignTree); ignored when they
   * were sent before a worker died (forgiven then).
   */
  refunded(key: number, delta: number): void {
    const k = treeOfKey(key);
    if (k === null || k.epoch !== this.remoteEpoch % TREE_KEY_EPOCHS) return;
    const t = this.trees.get(k.serial);
    if (t === undefined) return;
    t.queuedBytes += delta;
    t.remote += delta;
  }

  /** Worker deaths this thread has been told of (see forgiveRemote). */
  private remoteEpoch = 0;

  /**
   * @internal A worker died: what the messages it held would have given
   * back never comes. Every tree of this thread is forgiven the bytes of
   * the messages it sent to other threads (on the dead one or not: which is
   * not known here), and the bytes they give back later are ignored (their
   * keys name the epoch before). So a tree may queue up to its bound again
   * on top of what it still has elsewhere, once per worker death.
   */
  forgiveRemote(): void {
    this.remoteEpoch++;
    for (const t of this.trees.values()) {
      if (t.remote === 0) continue;
      t.queuedBytes -= t.remote;
      t.remote = 0;
    }
  }

  /** Gives bytes back to a tree (a message it sent left flight). */
  private releaseBytes(t: Tree, n: number): void {
    t.queuedBytes -= n;
  }

  // The guest ABI's sends (abi.ts). Each parks the guest until the receiver's side answers.

  /** `send` (and `reply`) from a guest: a status decided here, or PARK until the receiver's side answers (OK, FULL after `timeout` ms, NOT_FOUND, INVALID). */
  guestSend(a: Actor, to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    const w: Wait & { kind: 'send' } = { kind: 'send', deadline: this.deadlineOf(timeout), timer: null, to, bytes, seq: 0 };
    let target = to;
    let sent = bytes;
    if (isServiceAddress(to)) {
      const r = this.serviceRequest(a, to, bytes);
      if (typeof r === 'number') return r;
      [target, sent] = r;
    }
    // Answered to this wait (see onAck).
    const st = this.sendMessage(a, a.id, target, sent, timeout < 0 ? -1 : timeout, ACK_TO_WAIT);
    if (st < 0) return st;
    w.seq = st;
    // The receiver's side keeps the deadline (it answers FULL when it passes).
    a.park(w, null);
    return PARK;
  }

  /**
   * `call` from a guest: sends the request from a new reply address and
   * parks until the answer comes (it becomes the current message), or a
   * status: the request refused (NOT_FOUND, FULL, INVALID, LIMIT), the
   * callee gone before answering (NOT_FOUND), the timeout passed (TIMEOUT;
   * one deadline covers waiting for room and for the answer). Timeout 0
   * sends the request and returns TIMEOUT once it is taken.
   */
  guestCall(a: Actor, to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    let target = to;
    let request = bytes;
    if (isServiceAddress(to)) {
      // A service granted to it: its call's number goes in the request (the call's id survives snapshots with it).
      const r = this.serviceRequest(a, to, bytes);
      if (typeof r === 'number') return r;
      [target, request] = r;
    }
    const replyId = this.openReply(a, target);
    const deadline = timeout === 0 ? Infinity : this.deadlineOf(timeout);
    const w: Wait & { kind: 'call' } = { kind: 'call', deadline, timer: null, replyId, target: to, request };
    const st = this.sendRequest(a, w, target, timeout < 0 ? -1 : timeout, timeout === 0);
    if (st !== null) {
      this.closeReply(replyId);
      return st;
    }
    a.park(w, () => {
      this.closeReply(replyId);
      a.wakeWithI32(Status.TIMEOUT);
    });
    return PARK;
  }

  /** Sends the request of a call `w` (made now, or restored from a snapshot) to `to` (w.target, or the service its grant names). */
  private sendRequest(a: Actor, w: Wait & { kind: 'call' }, to: number, wait: number, noAnswer: boolean): number | null {
    const service = isServiceAddress(w.target);
    const st = this.sendMessage(a, w.replyId, to, w.request!, wait, (status) => {
      if (a.wait !== w) return;
      if (status === Status.OK && !noAnswer) {
        // Taken: now the answer. A service's request is kept: a restore sends it again to an idempotent service.
        if (!service) w.request = null;
        return;
      }
      this.closeReply(w.replyId);
      a.wakeWithI32(status === Status.OK ? Status.TIMEOUT : status);
    }, true);
    if (st < 0) return st;
    w.seq = st;
    return null;
  }

  /** @internal A restored actor's send: sent again, and waited for (`left` ms for room). */
  resumeSend(a: Actor, to: number, bytes: Uint8Array, left: number): void {
    const st = this.guestSend(a, to, bytes, left === Infinity ? -1 : left);
    if (st !== PARK) a.wakeWithI32(st as number);
  }

  /**
   * A restored actor's call to a service: sent again (same call number) when
   * the service declares itself idempotent, else answered INTERRUPTED (it
   * may have run before the snapshot: it never runs twice).
   */
  private resumeServiceCall(a: Actor, replyId: number, target: number, request: Uint8Array | null, left: number): void {
    const svc = this.grantedService(a, target);
    if (svc === undefined) return a.wakeWithI32(Status.NOT_FOUND);
    if (!svc.idempotent || request === null) {
      const text = 'the call was pending when the actor was snapshotted, and the service is not idempotent: it may or may not have run';
      a.answered({ kind: Kind.MESSAGE, from: target, bytes: encode([Status.INTERRUPTED, text]), ref: 0 });
      return;
    }
    if (!this.reopenReply(a, replyId, svc.id)) return a.wakeWithI32(Status.NOT_FOUND);
    const w: Wait & { kind: 'call' } = { kind: 'call', deadline: left === Infinity ? Infinity : this.clock.now() + left, timer: null, replyId, target, request };
    const st = this.sendRequest(a, w, svc.id, -1, false);
    if (st !== null) {
      this.closeReply(replyId);
      return a.wakeWithI32(st);
    }
    a.park(w, () => {
      this.closeReply(replyId);
      a.wakeWithI32(Status.TIMEOUT);
    });
  }

  /** @internal A restored actor's call: its reply address opened again under its id, its request sent again if it had not been taken. */
  resumeCall(a: Actor, replyId: number, target: number, request: Uint8Array | null, left: number): void {
    if (isServiceAddress(target)) return this.resumeServiceCall(a, replyId, target, request, left);
    const t = this.endpoints.get(target);
    const remote = this.remote(target);
    if ((!remote && (!(t instanceof Actor) || !t.alive)) || !this.reopenReply(a, replyId, target)) {
      a.wakeWithI32(Status.NOT_FOUND);
      return;
    }
    const w: Wait & { kind: 'call' } = { kind: 'call', deadline: left === Infinity ? Infinity : this.clock.now() + left, timer: null, replyId, target, request };
    if (request === null) {
      // Taken already: the callee owes the answer (a callee elsewhere was told when the request reached it).
      if (t instanceof Actor) t.callers.add(replyId);
    }
    else {
      const st = this.sendRequest(a, w, target, -1, false);
      if (st !== null) {
        this.closeReply(replyId);
        a.wakeWithI32(st);
        return;
      }
    }
    a.park(w, () => {
      this.closeReply(replyId);
      a.wakeWithI32(Status.TIMEOUT);
    });
  }

  /** The deadline of a timeout, or Infinity (any negative: for ever). */
  private deadlineOf(timeout: number): number {
    return timeout < 0 ? Infinity : this.clock.now() + timeout;
  }

  /**
   * Sends from the host: throws for what the host's side knows (the hive
   * is closed, no such actor, a supervisor, its `in` schema, the size).
   * The message is then on its way: if the mailbox is full it waits for
   * room (host messages are never refused as FULL; `sendWait` waits for
   * room with a timeout), and if the actor exits first it is a dead letter.
   */
  hostSend(to: number, value: unknown, from = 0): void {
    const bytes = this.hostBytes(to, value);
    const st = this.sendMessage(null, from, to, bytes, -1, null);
    if (st < 0) this.throwStatus(st, to);
  }

  /** Sends from the host, resolving once the mailbox took it: waits up to `timeout` ms for room (then MailboxFullError). */
  hostSendWait(to: number, value: unknown, timeout: number, from = 0): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.hostBytes(to, value);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const st = this.sendMessage(null, from, to, bytes, timeout === Infinity ? -1 : timeout, (status) => {
        this.executor.yieldSoon();
        if (status === Status.OK) resolve();
        else reject(this.statusError(status, to));
      });
      if (st < 0) reject(this.statusError(st, to));
    });
  }

  /** Encodes a host value for `to`, checking its schema and size. */
  private hostBytes(to: number, value: unknown): Uint8Array {
    this.open();
    const ep = this.endpoints.get(to);
    // An address on a worker that this thread has no record of (a guest's reply address): its side decides.
    if (ep === undefined && this.remote(to)) return this.checkSize(encode(value));
    // A passivated durable actor: its schema is checked where it is delivered (DurableActors restores it first).
    if (ep === undefined && this.durable?.holds(to) === true) return this.checkSize(encode(value));
    if (ep === undefined) throw this.goneError(to);
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
        return this.goneError(to);
      case Status.FULL: {
        const a = this.actor(to);
        const ep = this.endpoints.get(to);
        return new MailboxFullError(to, a?.limits.mailbox ?? (ep instanceof Inbox ? ep.maxMessages : ep instanceof RemoteActor ? ep.mailbox : 0));
      }
      case Status.INVALID:
        return new SchemaError('in', to, ['refused']);
      case Status.TOO_LARGE:
        return new MessageTooLargeError(0, this.maxMessageBytes);
      default:
        return new HiveStateError(`send failed with status ${st}`);
    }
  }

  /** Why there is nothing at `to`: it exited (with its reason, when it was one of the last to), or no such id was ever given out. */
  private goneError(to: number): Error {
    if (!(Number.isInteger(to) && to >= 1 && (to < this.nextId || (to >= BLOCK_IDS && to < this.nextBlockId)))) return new NotFoundError(`no actor ${to}: this hive never gave out that id`);
    return new ActorExitedError(to, this.recentExits.get(to) ?? 'noproc');
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
      let timer: TimerHandle | null = null;
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
      const st = this.sendMessage(null, id, to, bytes, timeout === Infinity ? -1 : timeout, (status) => {
        if (status === Status.OK || this.endpoints.get(id) !== reply) return;
        this.closeReply(id);
        finish();
        this.executor.yieldSoon();
        reject(this.statusError(status, to));
      }, true);
      if (st < 0) {
        this.closeReply(id);
        return reject(this.statusError(st, to));
      }
      if (timeout !== Infinity) {
        timer = this.clock.setTimer(this.clock.now() + timeout, () => {
          timer = null;
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
    return id;
  }

  /** Closes a reply address (answered, timed out, or its owner exited). */
  closeReply(id: number): void {
    const r = this.endpoints.get(id);
    if (!(r instanceof ReplyTo)) return;
    this.endpoints.delete(id);
    const target = this.endpoints.get(r.target);
    if (target === undefined || target instanceof RemoteActor) {
      // The callee is elsewhere: it forgets the call (a demonitor of reference 0), unless the answer came (it forgot then).
      if (!r.answered && this.remote(r.target)) this.transport.post({ t: 'demonitor', from: id, to: r.target, ref: 0 });
    } else target.callers?.delete(id);
    this.refs.delete(id);
  }

  /** Fails the calls waiting on an endpoint that is going away (an actor exited, an inbox closed). */
  failCallers(ep: Endpoint, reason: string): void {
    const callers = ep.callers;
    if (callers === undefined) return;
    for (const id of [...callers]) this.failCaller(ep, id, reason);
    callers.clear();
  }

  /** Fails one call to `ep` (its reply address `id`) as when `ep` exits with `reason`. */
  private failCaller(ep: Endpoint, id: number, reason: string): void {
    const r = this.endpoints.get(id);
    if (r instanceof ReplyTo) r.targetExited(reason);
    // A caller on another partition: a DOWN of reference 0 to its reply address fails the call there.
    else if (this.remote(id)) this.transport.post({ t: 'down', from: ep.id, to: id, ref: 0, reason });
  }

  /** Re-opens a restored actor's pending call's reply address under its id (false when the id is taken). */
  reopenReply(owner: Actor, id: number, target: number): boolean {
    if (this.endpoints.has(id)) return false;
    this.endpoints.set(id, new ReplyTo(this, id, target, owner));
    return true;
  }

  private deadLetter(from: number, to: number, bytes: Uint8Array, reason: DeadLetter['reason']): void {
    if (this.events.listenerCount('deadLetter') > 0) this.events.emit('deadLetter', { from, to, bytes, reason });
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

  /** Links a process of the host's side (a supervisor, a spawn's parent) with `to`, both ways, at once. */
  link(p: Process, to: number): number {
    const other = this.endpoints.get(to);
    if (other instanceof RemoteActor) {
      // Its worker links it now (the answer waits for it), so that its exit reaches `p` along the link.
      if (p.links.has(to)) return Status.OK;
      const st = this.partition!.request!(other, 'link', null, { from: p.id }) as number;
      if (st === Status.OK || st === Status.NOT_FOUND) p.links.add(to);
      // Gone before the link: its exit (known here now) comes along the link, as if it had been linked.
      if (st === Status.NOT_FOUND) this.transport.post({ t: 'exit', from: to, to: p.id, reason: this.recentExits.get(to) ?? 'noproc', linked: true, seq: 0 });
      return st;
    }
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

  /** Drops a link: this side at once, the other side when the `unlink` reaches it (an exit signal of the link sent before is dropped there). */
  unlink(p: Process, to: number): void {
    if (!p.links.delete(to)) return;
    this.transport.post({ t: 'unlink', from: p.id, to });
  }

  /** Whether an actor's tree may hold one more link, monitor or queued signal (`maxTreeEntries`); emits the event when not. */
  private entryRoom(a: Actor): boolean {
    if (a.tree.entries < this.hiveLimits.maxTreeEntries) return true;
    this.limitHit('maxTreeEntries', this.hiveLimits.maxTreeEntries, a);
    return false;
  }

  /**
   * `link` from a guest: only with the actors the hive's `signals` policy
   * lets it signal; its own `maxLinks` and tree are checked here, the other
   * side's when the request reaches it, and the guest parks until then (OK,
   * NOT_FOUND when it is gone, LIMIT).
   */
  guestLink(a: Actor, to: number): number | Suspend {
    if (!this.maySignal(a, to)) return Status.NOT_FOUND;
    const other = this.endpoints.get(to);
    // (A passivated durable actor is alive: the link signal restores it.)
    if (!this.remote(to) && (!isProcess(other) || !other.alive) && !this.passivatedDurable(other, to)) return Status.NOT_FOUND;
    if (other === a || a.links.has(to)) return Status.OK;
    if (a.links.size >= a.limits.maxLinks) {
      this.limitHit('maxLinks', a.limits.maxLinks, a);
      return Status.LIMIT;
    }
    if (!this.entryRoom(a)) return Status.LIMIT;
    const w: Wait = { kind: 'link', deadline: Infinity, timer: null, to };
    this.requestLink(a, to, (status) => {
      if (status === Status.OK) {
        // Linked on the other side: this side too; if this actor exited meanwhile, the other side gets its exit signal along the link.
        if (a.alive) a.links.add(to);
        else this.transport.post({ t: 'exit', from: a.id, to, reason: a.reason ?? 'noproc', linked: true, seq: 0 });
      }
      if (a.wait === w) a.wakeWithI32(status);
    });
    a.park(w, null);
    return PARK;
  }

  /** Asks `to`'s side to link with `a` (see onLink); `answered` gets its status (OK, NOT_FOUND, LIMIT). */
  private requestLink(a: Actor, to: number, answered: (status: number) => void): void {
    this.transport.post({ t: 'link', from: a.id, to, seq: this.request(answered) });
  }

  /** The receiver's side of a link request. */
  private onLink(s: LinkSignal): void {
    if (this.durable !== null && this.durable.holdsSignal(s)) return;
    this.transport.post({ t: 'ack', from: s.to, to: s.from, seq: s.seq, status: this.linkFrom(s.to, s.from) });
  }

  /** @internal Links process `id` of this partition with `from` (its side; the other keeps its own): a status. */
  linkFrom(id: number, from: number): number {
    const t = this.endpoints.get(id);
    if (!isProcess(t) || !t.alive) return Status.NOT_FOUND;
    if (t.links.has(from)) return Status.OK;
    if (t instanceof Actor) {
      if (t.links.size >= t.limits.maxLinks) {
        this.limitHit('maxLinks', t.limits.maxLinks, t);
        return Status.LIMIT;
      }
      if (!this.entryRoom(t)) return Status.LIMIT;
    }
    t.links.add(from);
    return Status.OK;
  }

  /**
   * @internal Links a restored actor of this thread with an actor on another
   * thread, both ways (see SnapshotHost); false when it is not there. The
   * main thread asks the worker and knows now; a worker sends a link request
   * as a guest's link does, and the restored actor holds the link until the
   * answer says the other is gone (then `missing` says what it gets).
   */
  linkRemote(a: Actor, to: number, missing: 'drop' | 'signal'): boolean {
    if (this.partition?.role === 'worker') {
      if (!this.remote(to)) return false;
      a.links.add(to);
      this.requestLink(a, to, (status) => {
        if (status === Status.OK) return;
        a.links.delete(to);
        if (missing === 'signal' && a.alive) a.exitSignal(to, 'noproc', false);
      });
      return true;
    }
    const r = this.endpoints.get(to);
    if (!(r instanceof RemoteActor) || !r.alive) return false;
    try {
      if (this.partition!.request!(r, 'link', null, { from: a.id }) !== Status.OK) return false;
    } catch {
      return false; // its worker is gone
    }
    a.links.add(to);
    return true;
  }

  /** @internal Restores monitor `ref` of `a` on an actor on a worker (its side answers DOWN noproc if it is gone); false when it is not one. */
  monitorRemote(a: Actor, ref: number, target: number): boolean {
    const r = this.endpoints.get(target);
    // On a worker, an actor of another thread is not known here: its side answers DOWN noproc if it is gone.
    if (this.partition?.role === 'worker' ? r !== undefined || !this.remote(target) : !(r instanceof RemoteActor) || !r.alive) return false;
    a.monitors.set(ref, target);
    this.transport.post({ t: 'monitor', from: a.id, to: target, ref, seq: 0 });
    return true;
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
   * process that does not exist). The monitored side records it when the
   * request reaches it (and answers with a `noproc` down if it is gone).
   */
  monitor(watcher: Actor, target: number): number {
    if (watcher.monitors.size >= watcher.limits.maxMonitors) {
      this.limitHit('maxMonitors', watcher.limits.maxMonitors, watcher);
      return Status.LIMIT;
    }
    if (!this.entryRoom(watcher)) return Status.LIMIT;
    const t = this.endpoints.get(target);
    // Another partition's process: its side answers, with a `noproc` down if it is gone, or an ack once it recorded
    // the monitor. Until then the down may still come, so it takes room in the signal queue (downsAwaited) as a
    // `noproc` down queued at once here does: maxSignals holds whichever thread the target's id leads to.
    const elsewhere = this.remote(target);
    // (A passivated durable actor is alive: the monitor signal restores it.)
    const alive = elsewhere || (isProcess(t) && t.alive) || this.passivatedDurable(t, target);
    if ((elsewhere || !alive) && !watcher.signalRoom) {
      this.limitHit('maxSignals', watcher.limits.maxSignals, watcher);
      return Status.LIMIT;
    }
    const ref = watcher.newMonitorRef();
    if (!alive) {
      watcher.down(ref, target, 'noproc');
      return ref;
    }
    watcher.monitors.set(ref, target);
    if (elsewhere) watcher.downsAwaited.add(ref);
    this.transport.post({ t: 'monitor', from: watcher.id, to: target, ref, seq: elsewhere ? -ref : 0 });
    return ref;
  }

  /** The monitored side of a monitor request. */
  private onMonitor(s: MonitorSignal): void {
    // A passivated durable actor is restored first (durable.ts), then this comes back.
    if (this.durable !== null && this.durable.holdsSignal(s)) return;
    const t = this.endpoints.get(s.to);
    if (!isProcess(t) || !t.alive) {
      this.transport.post({ t: 'down', from: s.to, to: s.from, ref: s.ref, reason: 'noproc' });
      return;
    }
    let refs = t.monitoredBy.get(s.from);
    if (refs === undefined) t.monitoredBy.set(s.from, (refs = new Set()));
    refs.add(s.ref);
    // Recorded: the watcher on another partition no longer keeps room for a noproc down (see monitor).
    if (s.seq !== 0) this.transport.post({ t: 'ack', from: s.to, to: s.from, seq: s.seq, status: Status.OK });
  }

  /** Drops a monitor (and its DOWN message, if queued): this side at once, the monitored side when the `demonitor` reaches it. */
  demonitor(watcher: Actor, ref: number): number {
    const target = watcher.monitors.get(ref);
    const queued = watcher.signals.removeAll((e) => e.kind === Kind.DOWN && e.ref === ref);
    if (target === undefined) return queued > 0 ? Status.OK : Status.NOT_FOUND;
    watcher.monitors.delete(ref);
    // Its down, if one still comes, is dropped on arrival (onDown): it needs no room now.
    if (watcher.downsAwaited.size > 0) watcher.downsAwaited.delete(ref);
    this.transport.post({ t: 'demonitor', from: watcher.id, to: target, ref });
    return Status.OK;
  }

  /** The monitored side of a demonitor. */
  private onDemonitor(s: DemonitorSignal): void {
    const t = this.endpoints.get(s.to);
    if (s.ref === 0) {
      // A caller elsewhere gave up its call (timed out, exited).
      t?.callers?.delete(s.from);
      return;
    }
    // A durable actor holding signals (passivated, or journaling): the demonitor waits behind them, in order.
    if (this.durable !== null && this.durable.holdsUndo(s)) return;
    if (!isProcess(t)) return;
    const refs = t.monitoredBy.get(s.from);
    refs?.delete(s.ref);
    if (refs !== undefined && refs.size === 0) t.monitoredBy.delete(s.from);
  }

  /** The watcher's side of a DOWN: queued unless the monitor was dropped meanwhile. */
  private onDown(s: DownSignal): void {
    const w = this.endpoints.get(s.to);
    if (s.ref === 0) {
      // A call's callee on another partition exited before answering.
      if (w instanceof ReplyTo && w.target === s.from) w.targetExited(s.reason);
      return;
    }
    if (!(w instanceof Actor) || !w.alive || w.monitors.get(s.ref) !== s.from) return;
    w.down(s.ref, s.from, s.reason);
  }

  /**
   * `exit` from a guest to another process: refused (NOT_FOUND) by the
   * `signals` policy; otherwise sent, and the guest parks until the other
   * side answers: OK, NOT_FOUND (gone), or LIMIT when it would be queued in a
   * full signal queue (`maxSignals`) of an actor that traps exits.
   */
  guestExit(a: Actor, to: number, reason: string): number | Suspend {
    if (!this.maySignal(a, to)) return Status.NOT_FOUND;
    const t = this.endpoints.get(to);
    if (!this.remote(to) && (!isProcess(t) || !t.alive) && !this.passivatedDurable(t, to)) return Status.NOT_FOUND;
    const w: Wait = { kind: 'exit', deadline: Infinity, timer: null, to, reason };
    const seq = this.request((status) => {
      if (a.wait === w) a.wakeWithI32(status);
    });
    this.transport.post({ t: 'exit', from: a.id, to, reason, linked: false, seq });
    a.park(w, null);
    return PARK;
  }

  /** An exit signal from `from` to `to` (Erlang's exit/2; `kill` cannot be trapped), from the host's side: sent, not waited for. */
  sendExit(from: number, to: number, reason: string): void {
    this.transport.post({ t: 'exit', from, to, reason, linked: false, seq: 0 });
  }

  /** The receiver's side of an exit signal. */
  private onExit(s: ExitSignal): void {
    if (this.durable !== null && this.durable.holdsSignal(s)) return;
    const answer = (status: number): void => {
      if (s.seq !== 0) this.transport.post({ t: 'ack', from: s.to, to: s.from, seq: s.seq, status });
    };
    const t = this.endpoints.get(s.to);
    if (!isProcess(t) || !t.alive) return answer(Status.NOT_FOUND);
    if (s.linked) {
      // The sender exited while linked: unless the link was dropped meanwhile (then the signal is too, as in Erlang).
      if (!t.links.delete(s.from)) return;
      return t.exitSignal(s.from, s.reason, false);
    }
    if (t instanceof Actor && t.trapExit && s.reason !== 'kill') {
      if (!t.signalRoom) {
        this.limitHit('maxSignals', t.limits.maxSignals, t);
        return answer(Status.LIMIT);
      }
      if (!this.entryRoom(t)) return answer(Status.LIMIT);
    }
    t.exitSignal(s.from, s.reason, s.reason === 'kill');
    answer(Status.OK);
  }

  /** The receiver's side of an unlink. */
  private onUnlink(s: UnlinkSignal): void {
    if (this.durable !== null && this.durable.holdsUndo(s)) return;
    const t = this.endpoints.get(s.to);
    if (isProcess(t)) t.links.delete(s.from);
  }

  /** Hands a delivered envelope to the receiver's side of its kind. */
  private readonly deliver = (s: Signal): void => {
    switch (s.t) {
      case 'message':
        return this.onMessage(s);
      case 'ack':
        return this.onAck(s);
      case 'withdraw':
        return this.onWithdraw(s);
      case 'exit':
        return this.onExit(s);
      case 'link':
        return this.onLink(s);
      case 'unlink':
        return this.onUnlink(s);
      case 'monitor':
        return this.onMonitor(s);
      case 'demonitor':
        return this.onDemonitor(s);
      case 'down':
        return this.onDown(s);
      case 'register':
        return this.onRegister(s);
      case 'unregister':
        return this.onUnregister(s);
      case 'lookup':
        return this.onLookup(s);
      case 'spawn':
        return this.onSpawn(s);
      case 'spawned':
        return this.onSpawned(s);
    }
  };

  /**
   * Ends a process with a reason: its links get exit signals, its monitors
   * down messages, its callers and waiting senders fail. Exits caused by
   * exits are handled in a queue (not recursively), in order; `after`
   * actions (supervisor restarts) run when the queue is empty.
   */
  terminate(p: Process | RemoteActor | SupervisedActor, reason: string, trap?: Trap): void {
    if (p instanceof RemoteActor) {
      if (p.alive) this.partition!.terminate!(p, reason);
      return;
    }
    this.dying.push([p as Process, reason, trap]);
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
        p.decideExit(reason);
        return;
      }
      // A durable actor that crashed, restarted in place (DurableOptions.restart): no exit, no signal.
      if (p.durable !== null && (trap !== undefined || reason.startsWith('abort: ')) && this.durable?.restartsAfterCrash(p) === true) {
        this.restartDurable(p, reason);
        return;
      }
      this.finishActor(p, reason);
    } else {
      (p as Process & { finish(reason: string): void }).finish(reason);
    }
    this.endpoints.delete(p.id);
    // A worker's actor: the main thread learns of the exit before any signal of it (a supervisor there
    // tells a child's exit from an exit signal the child sent by whether it has exited).
    if (p instanceof Actor) this.partition?.died?.(p.id, p.lastName, reason, p.finalFuel, trap === undefined ? null : { message: trap.message, phase: trap.phase });
    const ref = this.refs.get(p.id)?.deref() ?? new ActorRef(this, p.id);
    this.refs.delete(p.id);
    for (const l of p.links) this.transport.post({ t: 'exit', from: p.id, to: l, reason, linked: true, seq: 0 });
    p.links.clear();
    for (const [watcher, refs] of p.monitoredBy) for (const ref of refs) this.transport.post({ t: 'down', from: p.id, to: watcher, ref, reason });
    p.monitoredBy.clear();
    this.recentExits.set(p.id, reason);
    if (this.recentExits.size > RECENT_EXITS) this.recentExits.delete(this.recentExits.keys().next().value!);
    if (p instanceof Actor && this.partition?.died !== undefined) {
      p.resolveExited(reason);
      if (!isNormalExit(reason) && (trap !== undefined || reason.startsWith('abort: '))) p.log('warn', 'crashed', { reason });
      return;
    }
    if (p instanceof Actor) {
      ref.seen(p.exited);
      this.executor.yieldSoon();
      p.resolveExited(reason);
      const ev: ExitEvent = { ref, id: p.id, name: p.lastName, reason, fuelUsed: p.finalFuel, ...(trap ? { trap } : {}) };
      this.events.emit('exited', ev);
      if (!isNormalExit(reason)) {
        this.events.emit('crashed', ev);
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
    if (a.durable !== null) this.durable?.exited(a, reason);
    const w = a.beginExit(reason);
    if (w !== null && w.kind !== 'host') {
      if (w.timer !== null) this.clock.clearTimer(w.timer);
      // A send or request still waiting for room at its receiver is withdrawn (a restored copy of this actor sends it again); the answer to a call goes nowhere.
      if (w.kind === 'send' && w.seq !== undefined) this.transport.post({ t: 'withdraw', from: a.id, to: w.to, seq: w.seq });
      if (w.kind === 'call') {
        if (w.request !== null && w.seq !== undefined) this.transport.post({ t: 'withdraw', from: a.id, to: w.target, seq: w.seq });
        this.closeReply(w.replyId);
      }
    }
    try {
      a.instance?.abort();
    } catch {
      // not paused
    }
    this.names.forget(a.id);
    // Senders waiting for room, and callers waiting for answers, fail.
    a.dropQueues((m) => this.deadLetter(m.from, a.id, m.bytes, 'exited'));
    this.failCallers(a, reason);
    a.flushLogs();
    for (const b of a.bindings) {
      try {
        b.close?.();
      } catch (err) {
        this.logger.error({ err, actor: a.id, binding: b.name }, 'a binding failed to close');
      }
    }
    for (const [ref, target] of a.monitors) this.transport.post({ t: 'demonitor', from: a.id, to: target, ref });
    a.monitors.clear();
    this.releaseActor(a);
  }

  /** Uncounts an actor that ended or left (hive, tree, pages, elements) and lets go of its instance. */
  private releaseActor(a: Actor): void {
    this.countActors(-1);
    a.tree.actors--;
    if (a.tree.actors === 0) {
      if (a.tree.queuedBytes <= 0 && a.tree.entries <= 0) this.trees.delete(a.tree.serial);
      else this.orphanTrees.add(a.tree);
    }
    for (const mem of ownMemories(a)) a.tree.pages -= mem.pages;
    for (const t of ownTables(a)) a.tree.elements -= t.length;
    const instance = a.instance;
    a.tree.pages -= a.release();
    // Not inside its own slice (an exit decided then is applied when the slice ends): its memories' regions go back to the pool.
    instance?.dispose();
  }

  // ---------------------------------------------------------------------
  // Actors on worker threads (the main thread of a pooled hive; pool.ts)

  /**
   * @internal Takes an actor out of this worker to move it to another: its
   * snapshot and the calls it owes answers to, and it is gone from here
   * without a trace (no exit, no signal, no dead letter: it carries on
   * elsewhere under its id). Null when it cannot move now: only an actor
   * alone in its spawn tree, not waiting for an answer (parked in receive or
   * sleep, or ready), with no sender waiting for room in its mailbox, moves.
   */
  emigrate(id: number): { bytes: Uint8Array; callers: number[]; links: number[]; monitors: [ref: number, target: number][]; watchers: [watcher: number, ref: number][]; payers: number[] } | null {
    this.transport.flush();
    const a = this.actor(id);
    if (a === undefined || !a.alive) throw new ActorExitedError(id, this.recentExits.get(id) ?? 'noproc');
    const w = a.wait;
    if (a.state === 'running' || (w !== null && w.kind !== 'receive' && w.kind !== 'sleep') || a.tree.actors !== 1 || a.mailbox.blocked > 0 || a.bindings.length > 0) return null;
    const bytes = snapshotActor(this, a, true);
    const callers = [...a.callers];
    // What ties it to others, which from now on crosses threads (the main thread keeps it in case a thread dies).
    const links = [...a.links];
    const monitors: [number, number][] = [...a.monitors];
    const watchers: [number, number][] = [];
    for (const [watcher, refs] of a.monitoredBy) for (const ref of refs) watchers.push([watcher, ref]);
    // The trees its waiting messages count against, which they go on counting against where it lands (see immigrate):
    // here they are given back as its mailbox is dropped.
    const payers = a.mailbox.toArray().map((e) => this.payerKey(e.payer ?? null));
    const wait = a.beginExit('moved');
    if (wait !== null && wait.kind !== 'host' && wait.timer !== null) this.clock.clearTimer(wait.timer);
    try {
      a.instance?.abort();
    } catch {
      // not paused
    }
    this.names.forget(a.id);
    a.dropQueues(() => {}); // in the snapshot
    a.callers.clear();
    a.links.clear();
    a.monitors.clear();
    a.monitoredBy.clear();
    this.releaseActor(a);
    this.endpoints.delete(a.id);
    this.refs.delete(a.id);
    return { bytes, callers, links, monitors, watchers, payers };
  }

  /**
   * @internal Takes an idle durable actor out to passivate it (durable.ts):
   * its snapshot, and it is gone without a trace (no exit, no signal), its id
   * kept by the durable directory (its snapshot when `snapshot`, else true).
   * Null unless it waits in `receive` or `sleep` with no deadline or one at
   * least `minLeftMs` away, and has nothing else: no message or signal waiting, no name,
   * links, monitors, callers, sender waiting for room, bindings, and no
   * other actor in its spawn tree.
   */
  private passivateActor(a: Actor, snapshot: boolean, minLeftMs: number): Uint8Array | true | null {
    const w = a.wait;
    if (!a.alive || a.state !== 'parked' || w === null || (w.kind !== 'receive' && w.kind !== 'sleep') || w.deadline - this.clock.now() < minLeftMs) return null;
    if (a.mailbox.length > 0 || a.mailbox.blocked > 0 || a.signals.length > 0 || a.name !== null || a.links.size > 0 || a.monitors.size > 0 || a.monitoredBy.size > 0 || a.callers.size > 0) return null;
    if (a.tree.actors !== 1 || a.bindings.length > 0) return null;
    const bytes = snapshot ? snapshotActor(this, a, true) : true;
    this.takeDownDurable(a, 'passivated');
    return bytes;
  }

  /**
   * Takes a durable actor out of the system without a trace (no exit, no
   * signal): passivated, or crashed and about to be restored. What waits in
   * its queues is dropped (a durable actor's mailbox holds journaled
   * messages only). Its refs stay registered: when it exits, restored, they
   * see that exit (finish).
   */
  private takeDownDurable(a: Actor, reason: string): void {
    a.beginExit(reason);
    try {
      a.instance?.abort();
    } catch {
      // not paused
    }
    a.dropQueues(() => {});
    this.releaseActor(a);
    this.endpoints.delete(a.id);
  }

  /**
   * Takes down a durable actor that crashed and restarts it from its last
   * checkpoint (durable.ts, `restartsAfterCrash`). It goes as a passivated
   * actor goes, without a trace: its id, refs, links and the monitors on it
   * stay, and so do those it holds (its restored snapshot, and the replay of
   * its journal, make the same again). Its mailbox holds journaled messages
   * only, replayed; the signals waiting in its queue are dropped (a monitor
   * of an actor that is gone fires again, noproc, when it is restored). The
   * call it was handling, if it was one, fails (NOT_FOUND, as when a callee
   * exits); its other callers wait for the answers of the restored actor.
   */
  private restartDurable(a: Actor, reason: string): void {
    const handling = a.receivedKind === Kind.MESSAGE ? a.replyTo : 0;
    const callers = [...a.callers].filter((id) => id !== handling);
    if (handling !== 0 && a.callers.has(handling)) this.failCaller(a, handling, reason);
    a.log('warn', 'crashed; restarted from its last checkpoint', { reason });
    a.flushLogs();
    this.names.forget(a.id);
    a.callers.clear();
    this.takeDownDurable(a, reason);
    const durable = this.durable!;
    const key = durable.keyOf(a.id) ?? '';
    void durable.restart(a).then((ok) => {
      if (!ok) return;
      const b = this.actor(a.id);
      if (b === undefined) return;
      for (const id of callers) b.callers.add(id);
      const ref = this.refs.get(a.id)?.deref() ?? new ActorRef(this, a.id);
      this.events.emit('restarted', { supervisor: 0, child: key, old: a.id, ref, reason, from: 'checkpoint' });
    });
  }

  /** What the durable actors of this hive use of it (see DurableHost). */
  private durableHost(): DurableHost {
    return {
      clock: this.clock,
      moduleNamed: (name) => this.modules.byName(name),
      limitsOf: (name) => {
        const def = this.modules.byName(name);
        return def === undefined ? this.limits : this.limitsFor(def, undefined);
      },
      seed: this.seed,
      spawnDurable: (def, init, services, id, seed) => {
        if (id !== undefined) {
          if (this.endpoints.has(id)) throw new HiveStateError(`id ${id} is in use`);
          this.claimId(id);
        }
        return this.start(def, { name: null, init, from: 0, linkTo: null, options: {}, tree: null, by: null, services: this.checkGrants(services), ...(id !== undefined ? { id } : {}), ...(seed !== undefined ? { seed } : {}) })!;
      },
      restoreDurable: (bytes, def, services, elapsedMs) => restoreActor(this, bytes, def, { id: 'same', services, untracked: true, elapsedMs }),
      snapshotOf: (a) => snapshotActorAsync(this, a),
      passivate: (a, snapshot, minLeftMs) => this.passivateActor(a, snapshot, minLeftMs),
      deliverJournaled: (s) => this.onMessage(s),
      redeliver: (s) => this.deliver(s),
      kill: (a) => this.terminate(a, 'killed'),
      refuse: (s, status) => this.refuseMessage(s, status),
      claimId: (id) => this.claimId(id),
      idInUse: (id) => this.endpoints.has(id),
      idsBelow: () => this.idsBelow,
      reserveIdsBelow: (n) => this.reserveIdsBelow(n),
      storeFailed: (what, key, err) => this.logger.error({ err, key }, `durable actor: the store failed (${what})`),
    };
  }

  /** Answers a message that was not taken (see onMessage): its bytes leave the sender's tree, and the sender learns `status`. */
  private refuseMessage(s: MessageSignal, status: number): void {
    const payer = s.payer === 0 ? null : this.payerOf(s.payer, s.bytes.length + MESSAGE_OVERHEAD);
    if (payer !== null) this.releaseBytes(payer, s.bytes.length + MESSAGE_OVERHEAD);
    if (s.seq !== 0) this.transport.post({ t: 'ack', from: s.to, to: s.sender, seq: s.seq, status });
    else this.deadLetter(s.from, s.to, s.bytes, status === Status.NOT_FOUND ? 'exited' : 'refused');
  }

  /** The key a message's tree goes by on another thread (see treeKey): 0 for none. */
  private payerKey(t: Tree | null): number {
    if (t === null) return 0;
    if (t instanceof ForeignTree) return t.key;
    const slot = this.partition?.threadSlot;
    return slot === undefined ? 0 : treeKey(slot, t.serial, this.remoteEpoch);
  }

  /**
   * @internal The tree a message of an actor that moved here counts against
   * again (its key from emigrate): one of this thread's (unless a worker died
   * since: forgiven), or another thread's, stood for by a ForeignTree.
   */
  payerMoved(key: number): Tree | null {
    const k = treeOfKey(key);
    if (k === null) return null;
    if (k.thread === this.partition?.threadSlot) return k.epoch === this.remoteEpoch % TREE_KEY_EPOCHS ? this.trees.get(k.serial) ?? null : null;
    return this.foreignTree(key);
  }

  /** The ForeignTree standing here for another thread's tree `key` (made when a first message of its counts here). */
  private foreignTree(key: number): ForeignTree {
    let t = this.foreign.get(key);
    if (t === undefined) this.foreign.set(key, (t = new ForeignTree(key)));
    return t;
  }

  /** Fuel each actor had used, and slices it had been preempted in, at the last load sample (see loadSample). */
  private loadSeen = new Map<number, readonly [fuel: number, preempted: number]>();

  /**
   * @internal This worker's load since the last sample: the fuel its actors
   * used, and those that may move (alone in their spawn trees) and used
   * some, busiest first, each with its fuel and the slices it was preempted
   * in (ran out of fuel, ready to run on: CPU-bound, however small its share
   * of a loaded machine).
   */
  loadSample(): { fuel: number; top: [id: number, fuel: number, preempted: number][] } {
    const seen = new Map<number, readonly [number, number]>();
    let fuel = 0;
    const movable: [number, number, number][] = [];
    for (const e of this.endpoints.values()) {
      if (!(e instanceof Actor) || !e.alive || e.instance === null) continue;
      const now = [e.instance.fuelUsed, e.preemptions] as const;
      const was = this.loadSeen.get(e.id) ?? now;
      seen.set(e.id, now);
      const delta = now[0] - was[0];
      fuel += delta;
      if (delta > 0 && e.tree.actors === 1 && e.bindings.length === 0) movable.push([e.id, delta, now[1] - was[1]]);
    }
    this.loadSeen = seen;
    movable.sort((a, b) => b[1] - a[1]);
    return { fuel, top: movable.slice(0, 16) };
  }

  /** @internal Takes in an actor moved from another worker (see emigrate). */
  immigrate(bytes: Uint8Array, def: ModuleDef, callers: readonly number[], imports: Imports | undefined, payers: readonly number[] = []): void {
    this.open();
    this.transport.flush();
    restoreActor(this, bytes, def, { moved: { callers, payers }, ...(imports !== undefined ? { imports } : {}) });
  }

  /** @internal Checks that a name may be given (free, 1 to 255 bytes): throws RangeError, NameTakenError. */
  assertNameFree(name: string): void {
    this.checkName(name);
  }

  /** @internal An actor placed on (or begun on) a worker: its address here, its name, and the `spawned` event. */
  addRemote(r: RemoteActor, name: string | null, announce: boolean): void {
    if (this.endpoints.has(r.id)) throw new HiveStateError(`id ${r.id} is in use`);
    this.endpoints.set(r.id, r);
    if (name !== null) this.names.add(name, r.id);
    if (announce && this.events.listenerCount('spawned') > 0) this.events.emit('spawned', { ref: this.refOf(r.id), id: r.id, name });
  }

  /** @internal Emits `spawned` for a remote actor (once it started). */
  announce(id: number): void {
    if (this.events.listenerCount('spawned') > 0) this.events.emit('spawned', { ref: this.refOf(id), id, name: this.names.nameOf(id) ?? null });
  }

  /** @internal Forgets a remote actor that never started (its start failed). */
  dropRemote(id: number): void {
    if (!(this.endpoints.get(id) instanceof RemoteActor)) return;
    this.endpoints.delete(id);
    this.names.forget(id);
    this.refs.delete(id);
  }

  /** @internal Whether this partition holds the address itself (not as a remote actor). */
  holds(id: number): boolean {
    const ep = this.endpoints.get(id);
    return ep !== undefined && !(ep instanceof RemoteActor);
  }

  /** @internal The remote actor of an id, alive. */
  remoteActor(id: number): RemoteActor | undefined {
    const r = this.endpoints.get(id);
    return r instanceof RemoteActor && r.alive ? r : undefined;
  }

  /** @internal The worker of a remote actor said it exited (its links and monitors were told there). */
  remoteExited(id: number, name: string | null, reason: string, fuelUsed: number, trap: Trap | undefined): void {
    const r = this.endpoints.get(id);
    if (!(r instanceof RemoteActor) || !r.alive) return;
    this.endpoints.delete(id);
    this.names.forget(id);
    const ref = this.refs.get(id)?.deref() ?? new ActorRef(this, id);
    this.refs.delete(id);
    this.recentExits.set(id, reason);
    if (this.recentExits.size > RECENT_EXITS) this.recentExits.delete(this.recentExits.keys().next().value!);
    ref.seen(r.exited);
    this.executor.yieldSoon();
    r.ended(reason);
    const ev: ExitEvent = { ref, id, name, reason, fuelUsed, ...(trap ? { trap } : {}) };
    this.events.emit('exited', ev);
    if (!isNormalExit(reason)) this.events.emit('crashed', ev);
  }

  /** @internal An event of a worker's actors (`limit`, `deadLetter`), emitted here. */
  remoteEvent(event: 'limit' | 'deadLetter', payload: Record<string, unknown>): void {
    if (this.events.listenerCount(event) > 0) this.events.emit(event, payload as never);
  }

  /** @internal A log line of a worker's actors (pino's JSON), written as it is to this hive's logger's destination. */
  writeLogLine(line: string): void {
    const stream = (this.logger as unknown as Record<symbol, { write?(s: string): void } | undefined>)[pino.symbols.streamSym];
    stream?.write?.(line);
  }

  /** @internal The remote actors, alive. */
  remoteActors(): RemoteActor[] {
    const out: RemoteActor[] = [];
    for (const e of this.endpoints.values()) if (e instanceof RemoteActor && e.alive) out.push(e);
    return out;
  }

  // ---------------------------------------------------------------------
  // Snapshots

  /**
   * Snapshots one actor to bytes (format in docs/snapshot-format.md) without
   * stopping it or the others: its VM, mailbox, name, links, monitors, and
   * what it waits for. Throws ActorExitedError, or HiveStateError when called
   * from the actor's own host function.
   */
  snapshot(id: number): Uint8Array {
    const r = this.endpoints.get(id);
    if (r instanceof RemoteActor) {
      const bytes = this.partition!.request!(r, 'snapshot', null, null) as Uint8Array;
      r.snapshotTaken(bytes);
      return bytes;
    }
    // Envelopes in flight are delivered first: a snapshot sees none between its actor and the others.
    this.transport.flush();
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
  restore(bytes: Uint8Array, options: RestoreActorOptions = {}): ActorRef {
    this.open();
    options = withWasi(options);
    if (this.partition?.role === 'main' && options.id !== 'new') {
      // An id a worker of this hive gave out (and may still use): a restore here would take its address from it.
      // (Not one whose actor this thread saw exit: ids are never given out twice.)
      const id = readActorSnapshot(bytes)['id'];
      if (typeof id === 'number' && this.partition.elsewhere(id) && !(this.endpoints.get(id) instanceof RemoteActor) && this.partition.restorable?.(id) !== true && !this.recentExits.has(id)) {
        throw new HiveStateError(`id ${id} is one a worker of this hive gave out: restore with { id: 'new' }`);
      }
    }
    // What is in flight lands first: an exit or DOWN of the actor it replaces must not reach the restored one.
    this.transport.flush();
    const def = options.module !== undefined ? this.modules.resolve(options.module) : this.defForSnapshot(bytes);
    if (this.partition?.restoreOn !== undefined) {
      // A pooled hive restores onto a worker what may run there, as it spawns.
      const saved = restoredIds(bytes);
      if (options.id !== 'new' && this.endpoints.has(saved.id)) throw new HiveStateError(`id ${saved.id} is in use in this hive: restore with { id: 'new' }, or stop the actor that has it`);
      const r = this.partition.restoreOn(bytes, def, options, saved);
      if (r !== null) {
        this.announce(r.id);
        return this.refOf(r.id);
      }
    }
    const a = restoreActor(this, bytes, def, options);
    const ref = this.refOf(a.id);
    if (a.alive) {
      this.events.emit('spawned', { ref, id: a.id, name: a.name });
      a.logger.debug({ module: def.name ?? def.hash.slice(0, 12) }, 'restored');
    }
    return ref;
  }

  /**
   * Snapshots actors together, at one point: envelopes in flight are
   * delivered first and no slice runs between the snapshots, so what one
   * sent the others is in their mailboxes and nothing is between them.
   */
  snapshotGroup(ids: readonly number[]): Uint8Array {
    this.transport.flush();
    if (new Set(ids).size !== ids.length) throw new RangeError('a group lists each actor once');
    if (ids.length === 0) throw new RangeError('a group holds at least one actor');
    // A pooled hive: a group on one worker is taken there (no slice runs there between its snapshots); one on
    // several threads, with those workers held still (see Partition.snapshotAcross).
    const remote = ids.map((id) => this.remoteActor(id));
    if (remote.some((r) => r !== undefined)) {
      const first = remote.find((r) => r !== undefined)!;
      if (remote.every((r) => r?.worker === first.worker)) return this.partition!.request!(first, 'snapshot-group', null, { ids: [...ids] }) as Uint8Array;
      return packGroup(this.partition!.snapshotAcross!(ids, (here) => this.snapshotsHere(here)));
    }
    return packGroup(this.snapshotsHere(ids));
  }

  /** The snapshots of actors of this thread, at one point (what is in flight delivered first). */
  private snapshotsHere(ids: readonly number[]): Uint8Array[] {
    this.transport.flush();
    const actors = ids.map((id) => {
      const a = this.actor(id);
      if (a === undefined || !a.alive) throw this.goneError(id);
      return a;
    });
    return actors.map((a) => snapshotActor(this, a));
  }

  /**
   * Restores a group snapshot: every actor under its id and name, in one new
   * spawn tree (or `tree`), with the links and monitors between them and to
   * the actors of this hive; they start waiting again only once all exist.
   * Checks that every id and name is free and every module defined before
   * making any; if one still fails, those made are removed without a trace.
   */
  restoreGroup(bytes: Uint8Array, options: Pick<RestoreActorOptions, 'missingLinks' | 'tree' | 'services'> = {}): ActorRef[] {
    this.open();
    this.transport.flush();
    const parts = readGroupSnapshot(bytes, this.hiveLimits.maxActors);
    const defs = parts.map((p) => this.defForSnapshot(p));
    const saved = this.freeForGroup(parts);
    if (this.partition?.restoreGroupOn !== undefined) {
      // A pooled hive restores the group onto one worker when it may run there, as it restores one actor.
      const rs = this.partition.restoreGroupOn(bytes, defs, options, saved);
      if (rs !== null) {
        return rs.map((r) => {
          this.announce(r.id);
          return this.refOf(r.id);
        });
      }
    }
    return this.restoreGroupHere(parts, defs, options).map((a) => {
      const ref = this.refOf(a.id);
      if (a.alive) this.events.emit('spawned', { ref, id: a.id, name: a.name });
      return ref;
    });
  }

  /**
   * @internal A worker: restores a group the main thread placed here (it
   * checked the ids and names, and made the records), with each actor's
   * definition and host functions.
   */
  restoreGroupPlaced(bytes: Uint8Array, defs: readonly ModuleDef[], options: Pick<RestoreActorOptions, 'missingLinks' | 'tree' | 'services'>, imports: readonly (Imports | undefined)[]): void {
    const parts = readGroupSnapshot(bytes, this.hiveLimits.maxActors);
    if (parts.length !== defs.length) throw new SnapshotError('malformed group snapshot: another group than the one placed');
    this.freeForGroup(parts);
    this.restoreGroupHere(parts, defs, options, imports);
  }

  /** Checks that every id and name of a group snapshot's actors is free here; what each snapshot says of its addresses. */
  private freeForGroup(parts: readonly Uint8Array[]): RestoredIds[] {
    const ids = new Set<number>();
    const names = new Set<string>();
    return parts.map((p) => {
      const saved = restoredIds(p);
      const id = saved.id;
      if (ids.has(id)) throw new SnapshotError('malformed group snapshot: two actors have one id');
      if (this.endpoints.has(id)) throw new HiveStateError(`id ${id} is in use in this hive: stop the actor that has it before restoring the group`);
      ids.add(id);
      const name = saved.name;
      if (name !== null) {
        if (names.has(name)) throw new SnapshotError('malformed group snapshot: two actors have one name');
        const holder = this.names.get(name);
        if (holder !== undefined) throw new NameTakenError(name, holder);
        names.add(name);
      }
      return saved;
    });
  }

  /**
   * Restores a group's actors on this thread: all made first (in one tree),
   * then linked, then resumed; if one fails, those made are removed without
   * a trace.
   */
  private restoreGroupHere(parts: readonly Uint8Array[], defs: readonly ModuleDef[], options: Pick<RestoreActorOptions, 'missingLinks' | 'tree' | 'services'>, imports: readonly (Imports | undefined)[] = []): Actor[] {
    const made: ReturnType<typeof restoreActorParts>[] = [];
    try {
      for (let i = 0; i < parts.length; i++) {
        const tree = options.tree ?? made[0]?.actor.id;
        const own = imports[i];
        made.push(restoreActorParts(this, parts[i]!, defs[i]!, { missingLinks: options.missingLinks, ...(tree !== undefined ? { tree } : {}), ...(own !== undefined ? { imports: own } : {}), ...(options.services !== undefined ? { services: options.services } : {}) }));
      }
    } catch (e) {
      // Nothing links to them yet and nobody was told of them: they go without events (their saved messages are dead letters).
      for (const m of made) this.discard(m.actor);
      throw e;
    }
    for (const m of made) m.attach();
    for (const m of made) m.resume();
    return made.map((m) => m.actor);
  }

  /** Removes an actor that was made but never linked, monitored, run or announced. */
  private discard(a: Actor): void {
    if (!a.alive) return;
    this.finishActor(a, 'discarded');
    this.endpoints.delete(a.id);
    this.refs.delete(a.id);
  }

  private defForSnapshot(bytes: Uint8Array): ModuleDef {
    const m = readActorSnapshot(bytes)['module'] as { name?: unknown; hash?: unknown } | undefined;
    return this.modules.forSnapshot(typeof m?.name === 'string' ? m.name : null, typeof m?.hash === 'string' ? m.hash : '');
  }

  // ---------------------------------------------------------------------
  // What refs and supervisors ask (RefHost, SupervisorHost)

  /** `ActorRef.stop`: an exit signal, then `killed` after `timeout` ms; null when there is no such live actor. */
  stopActor(id: number, reason: string, timeout: number): Promise<string> | null {
    const r = this.endpoints.get(id);
    if (r instanceof RemoteActor) {
      this.sendExit(0, id, reason);
      const timer = this.clock.setTimer(this.clock.now() + timeout, () => {
        if (r.alive) this.partition!.terminate!(r, 'killed');
      });
      return r.exited.then((reason) => {
        this.clock.clearTimer(timer);
        return reason;
      });
    }
    const a = this.actor(id);
    if (a === undefined) return null;
    this.sendExit(0, id, reason);
    if (!a.alive) return a.exited;
    const timer = this.clock.setTimer(this.clock.now() + timeout, () => {
      if (a.alive) this.terminate(a, 'killed');
    });
    return a.exited.then((r) => {
      this.clock.clearTimer(timer);
      return r;
    });
  }

  /** `ActorRef.kill`. */
  killActor(id: number): void {
    const r = this.endpoints.get(id);
    if (r instanceof RemoteActor) return this.partition!.terminate!(r, 'killed');
    // A passivated durable actor: restored, then killed (its tombstone written).
    if (r === undefined && this.durable?.passivated(id) === true) return this.sendExit(0, id, 'kill');
    const a = this.actor(id);
    if (a !== undefined) this.terminate(a, 'killed');
  }

  /** The exit promise of a live actor. */
  exitedOf(id: number, watch = false): Promise<string> | undefined {
    const r = this.endpoints.get(id);
    if (r instanceof RemoteActor) return r.alive ? r.exited : undefined;
    const a = this.actor(id);
    if (a === undefined) return this.durable?.exitedOf(id);
    if (!a.alive) return undefined;
    // A durable actor passivated or restarted later resolves this instance's promise when it really exits (durable.ts).
    if (watch) a.exitWatched = true;
    return a.exited;
  }

  /** The name of a live actor. */
  nameOf(id: number): string | null {
    if (this.endpoints.get(id) instanceof RemoteActor) return this.names.nameOf(id) ?? null;
    return this.actor(id)?.name ?? null;
  }

  /** `ActorRef.info`. */
  info(id: number): ActorInfo | undefined {
    const r = this.endpoints.get(id);
    if (r instanceof RemoteActor) return (this.partition!.request!(r, 'info', null, null) as ActorInfo | null) ?? undefined;
    const a = this.actor(id);
    if (a === undefined) return undefined;
    return {
      id: a.id,
      name: a.name,
      state: a.state,
      waiting: a.wait?.kind ?? null,
      mailbox: a.mailbox.length,
      mailboxBytes: a.mailbox.bytes,
      signals: a.signals.length,
      links: [...a.links],
      monitors: a.monitors.size,
      logsDropped: a.logsDropped,
      tree: a.tree.root,
      trapExit: a.trapExit,
      fuelUsed: a.instance?.fuelUsed ?? 0,
      memoryPages: a.mem?.pages ?? 0,
    };
  }

  /** Emits the `restarted` event (a supervisor restarted a child). */
  restarted(e: RestartEvent): void {
    this.events.emit('restarted', e);
  }

  // ---------------------------------------------------------------------
  // Life of the hive

  /** Resolves when no actor is ready to run (all wait or have exited). */
  async idle(): Promise<void> {
    for (;;) {
      await this.executor.idle();
      if (this.transport.inFlight !== 0) {
        await this.transport.drained();
        continue;
      }
      if (this.partition?.settled === undefined) return;
      // A pooled hive: the workers too, with nothing between the threads; and what arrived here meanwhile.
      if ((await this.partition.settled()) && this.transport.inFlight === 0 && this.executor.queued === 0) return;
    }
  }

  /** Ids of the live actors. */
  actorIds(): number[] {
    const out: number[] = [];
    for (const e of this.endpoints.values()) if (e instanceof Actor || e instanceof RemoteActor) out.push(e.id);
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
    this.durable?.close();
    // What is in flight lands first (a host call's request, a host send), so that the exits below fail it.
    this.transport.flush();
    for (const e of [...this.endpoints.values()]) if (e instanceof Actor && e.alive) this.terminate(e, 'shutdown');
    for (const e of [...this.endpoints.values()]) if (isProcess(e) && e.alive) this.terminate(e, 'shutdown');
    for (const e of [...this.endpoints.values()]) if (e instanceof Inbox || e instanceof Service) e.close();
    // Actors on worker threads end with their workers.
    for (const r of this.remoteActors()) this.remoteExited(r.id, this.names.nameOf(r.id) ?? null, 'shutdown', 0, undefined);
    this.partition?.close?.();
    // The answers those exits gave (a sendWait's NOT_FOUND...) are delivered; requests no one will answer now fail.
    this.transport.flush();
    for (const [seq, done] of [...this.pending]) {
      this.pending.delete(seq);
      done(Status.NOT_FOUND, null);
    }
    for (const e of [...this.endpoints.values()]) if (e instanceof ReplyTo) e.targetExited('shutdown');
    this.afterExits = [];
    this.closed = true;
    this.transport.close();
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

/** The largest id of an actor (or any other address the hive gives out): the range above is the services' (SERVICE_BASE). */
const ID_MAX = SERVICE_BASE - 1;


/**
 * The growth budget of an actor's memories (pages) or tables (elements): its
 * tree's, against the hive's bound; a refusal emits the `limit` event. An
 * object, not closures: every actor with a memory has one.
 */
class TreeBudget implements GrowthBudget {
  constructor(
    private readonly system: ActorSystem,
    private readonly actor: Actor,
    private readonly limit: 'maxTreeMemoryPages' | 'maxTreeTableElements',
  ) {}

  allows(delta: number): boolean {
    const tree = this.actor.tree;
    const max = this.system.treeLimit(this.limit);
    if ((this.limit === 'maxTreeMemoryPages' ? tree.pages : tree.elements) + delta <= max) return true;
    this.system.limitHit(this.limit, max, this.actor);
    return false;
  }

  took(delta: number): void {
    if (this.limit === 'maxTreeMemoryPages') this.actor.tree.pages += delta;
    else this.actor.tree.elements += delta;
  }
}

/** The requester's side of a request: its status, and the answer that brought it (null: the hive closed first). */
type Answer = (status: number, s: AckSignal | SpawnedSignal | null) => void;

/** The bindings of an actor given none (shared: a spawn makes no array for them). */
const NO_BINDINGS: readonly Binding[] = Object.freeze([]);

/** `done` of a guest's send: the ack wakes the sender's `send` wait of the same sequence number (see onAck). */
const ACK_TO_WAIT = Symbol('ack to wait');

/** Exit reasons remembered for the errors of later calls (the newest). */
const RECENT_EXITS = 10_000;

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

/** What an actor snapshot says of its addresses (Partition.restoreOn): its id, name, its hive's ids given out, the reply address of the call it waits in, its grants. */
function restoredIds(bytes: Uint8Array): RestoredIds {
  const b = readActorSnapshot(bytes);
  const id = b['id'];
  const name = b['name'];
  const idsBelow = b['idsBelow'];
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > ID_MAX) throw new SnapshotError('malformed actor snapshot: id');
  const wait = b['wait'] as Record<string, unknown> | null | undefined;
  const reply = wait != null && wait['kind'] === 'call' && typeof wait['reply'] === 'number' ? wait['reply'] : null;
  // (Checked in full where it is restored: here only what a handler is told of its caller.)
  const services = Array.isArray(b['services']) && b['services'].every((x) => typeof x === 'string' || x === null) ? (b['services'] as (string | null)[]) : NO_SERVICES;
  return { id, name: typeof name === 'string' ? name : null, idsBelow: typeof idsBelow === 'number' && Number.isInteger(idsBelow) && idsBelow > 0 ? Math.min(idsBelow, ID_MAX + 1) : id + 1, reply, services };
}

/** The first byte of a MessagePack array of 2: a service request `[method, request]` (any other shape is refused: BAD_ARGUMENT). */
const FIXARRAY_2 = 0x92;

/** An actor granted no services. */
const NO_SERVICES: readonly string[] = Object.freeze([]);

/**
 * What a service is sent for a guest's request `[method, request]`: the
 * MessagePack array `[n, <the guest's bytes>]`, n the number of the actor's
 * call, written first by the runtime, so that the service sees the call's
 * id and the guest cannot choose it (regression: the number was appended
 * after the guest's bytes, and a request ending in the start of a third
 * value made the number part of a value the guest chose). The guest's
 * bytes must then be exactly one value, or the service refuses the request.
 */
function numbered(bytes: Uint8Array, n: number): Uint8Array {
  const head = encode(n);
  const out = new Uint8Array(1 + head.length + bytes.length);
  out[0] = FIXARRAY_2;
  out.set(head, 1);
  out.set(bytes, 1 + head.length);
  return out;
}

/**
 * Options with their `wasi` grant made into a `Wasi` binding (its `dirs`
 * are the mounts): an actor gets WASI only when granted it, as it gets
 * services; a WASI program without it fails to link.
 */
function withWasi<O extends { wasi?: WasiGrant; bindings?: Binding[] }>(options: O): O {
  const w = options.wasi;
  if (w === undefined) return options;
  const { dirs, ...rest } = w;
  const wasi = new Wasi({ ...rest, ...(dirs !== undefined ? { mounts: dirs } : {}) });
  return { ...options, wasi: undefined, bindings: [...(options.bindings ?? []), wasi] };
}
