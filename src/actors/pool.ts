/**
 * The main thread's side of a hive with worker threads (`new Hive({
 * workers })`): a piscina pool whose workers each run one partition of the
 * hive's actors (pool-worker.ts), the channels to them and between them
 * (channel.ts), the shared block table (which worker each block of ids
 * went to), and routing of what reaches this thread: envelopes of the host
 * and of the main thread's actors, and those for actors that moved off the
 * worker their id belongs to (away), which this thread holds while they move
 * and sends on to where they are. Envelopes between two workers' actors go
 * straight over the ring between the two; each thread keeps what the
 * others owe its actors (obligations.ts) and answers for a crashed
 * worker's actors.
 *
 * Placement: a host's spawn goes to the worker with the fewest actors,
 * into the worker of its tree when it joins one; a guest's spawn stays on
 * its worker (a spawn tree lives on one worker: its limits are counted
 * there). Actors that need the main thread (bindings, host imports that are
 * not functions, schemas) run on it.
 */
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import { LinkError, SnapshotError, Trap, ValidationError, DecodeError, type Imports } from '../vm/index.js';
import { RingWriter, createDoorbell, createRing } from '../scheduler/ring.js';
import { Channel, createChannelBuffers } from './channel.js';
import { ActorExitedError, HiveStateError, LimitError, NotFoundError, WorkerUnavailableError } from './errors.js';
import type { Partition, Placement, RestoredIds } from './partition.js';
import { BLOCK_TABLE_BYTES, ID_BLOCK, blockIndex, blockOwner, treeOfKey, readControl, readSignal, writeControl, writeSignal, WireKind, type AnswerControl, type FrozenCounts, type PeerRings, type PoolControl, type Signal, type WorkerServiceModule } from './protocol.js';
import { grantsOnRestore } from './service.js';
import { RemoteActor } from './remote.js';
import { readGroupSnapshot } from './snapshot-format.js';
import { Obligations } from './obligations.js';
import type { ActorSystem } from './system.js';
import type { ModuleDef, PlacementRequest } from './types.js';
import type { RestoreActorOptions } from './snapshot.js';
import type { Clock, TimerHandle } from '../scheduler/index.js';
import { STATE_READY, type HostFunctions, type InspectAnswers, type InspectQuery, type PartitionTask, type ThreadQuery } from './protocol.js';
import { poolAgents, WorkerPool, type PoolAgents } from './threads.js';

/** Bytes of each ring between two workers (a record larger goes in parts). */
const PEER_RING_BYTES = 1 << 20;
/** How long the main thread waits for a worker's answer before giving up (WorkerUnavailableError). */
const ANSWER_TIMEOUT_MS = 10_000;
/** How soon the bytes the host's inboxes gave back go to the workers' trees when nothing else comes (see sendRefunds). */
const REFUND_MS = 10;
/** The same for a worker whose partition has not started yet (its thread may be loading the runtime, on a busy machine). */
const START_TIMEOUT_MS = 60_000;

/** One worker's place in the pool. */
interface Slot {
  readonly index: number;
  channel: Channel;
  state: Int32Array;
  alive: boolean;
  /** Module hashes sent to it. */
  readonly defs: Set<string>;
  /** The addresses of the services running in it (declared to run in each worker), sent once. */
  readonly workerServices: Set<number>;
  /** Actors placed or born there and not yet exited. */
  actors: number;
  /** Records read while waiting for an answer, handled before anything newer. */
  backlog: Uint8Array[];
  /** Forgets this partition's crash callback at its agent. */
  forget: () => void;
  /** Its requests answered later (they fail if it goes away). */
  readonly awaiting: Set<number>;
  /** Ids this thread gives the actors it places there ([next, end) of a block of that worker's). */
  placeIds: [number, number];
  /**
   * The blocks it was granted that it may still give ids from ([next, end):
   * the last two at most, as it asks for one when fewer than half a block's
   * ids are left), this thread's view: a restore's reservation drops the
   * ids below it (see reserved).
   */
  granted: [number, number][];
  /** The port its host-function calls come in on. */
  hostPort: import('node:worker_threads').MessagePort | null;
  /**
   * Whether this thread may wait for it to start: a partition started with
   * the hive starts on its own, but one started on a thread that replaced a
   * dead one waits for piscina, which needs this thread's event loop, so
   * nothing is placed there until it runs (STATE_READY).
   */
  readonly initial: boolean;
  /** Its partition's number (PartitionTask.tag). */
  readonly tag: number;
}

/** Preemptions in a rebalancer's interval that make an actor CPU-hungry. */
const HUNGRY_PREEMPTIONS = 2;

/** Options of a pooled hive's rebalancer (`HiveOptions.rebalance`). */
export interface RebalanceOptions {
  /** How often it samples the workers' loads, in ms of the hive's clock (default 1,000). */
  intervalMs?: number;
}

/** Options of the pool (from HiveOptions). */
export interface PoolConfig {
  /** Threads of its own (closed with the hive), or a pool shared with other hives. */
  readonly workers: number | WorkerPool;
  readonly task: Omit<PartitionTask, 'slot' | 'tag' | 'down' | 'up' | 'bell' | 'peers' | 'blocks' | 'idsBelow' | 'state' | 'actors' | 'logWindow' | 'hostPort'>;
  /** Where a host's spawn goes (HiveOptions.placement). */
  readonly placement?: (spawn: PlacementRequest) => number;
  /** Per-thread limits piscina gives each worker of its own (heap sizes). */
  readonly resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
}

/** @internal The main thread's partition of a pooled hive. */
export class ActorPool implements Partition {
  readonly role = 'main' as const;
  readonly actors = new Int32Array(new SharedArrayBuffer(4));
  readonly logWindow = new Int32Array(new SharedArrayBuffer(8));
  private system!: ActorSystem;
  /** The threads: its own (closed with it) or shared. */
  private readonly threads: WorkerPool;
  private readonly ownThreads: boolean;
  private readonly agents: PoolAgents;
  /** Slot i (1..n) runs on agent i - 1; slot 0 is this thread. */
  private readonly slots: Slot[] = [];
  /** Which worker each block of ids was given to (shared with the workers: they route by it). */
  private readonly table = new Uint8Array(new SharedArrayBuffer(BLOCK_TABLE_BYTES));
  /** The hive's idsBelow (the system's), kept here for the workers as it rises (see idsTaken). */
  private readonly idsWord = new Uint32Array(new SharedArrayBuffer(4));
  /** The doorbells of the workers that start with the hive, and the rings between each two of them (`from>to`). */
  private readonly bells: SharedArrayBuffer[] = [];
  private readonly peerRings = new Map<string, SharedArrayBuffer>();
  /** Blocks (indices in the table) whose ids this thread gives out itself (host's spawns on a worker). */
  private readonly placementBlocks = new Set<number>();
  private nextReq = 1;
  /** This thread's partition number (treeKey), and each worker's partition by its number (see PartitionTask.tag). */
  readonly threadSlot = 0;
  private readonly tags = new Map<number, Slot>();
  private nextTag = Number.MAX_SAFE_INTEGER; // set in attach: above the workers' slots
  private closed = false;
  /** What workers' actors owe others (answered here if their worker dies). */
  private readonly owed = new Obligations();
  /** The modules sent to workers, by hash (a move sends its actor's to the worker it goes to). */
  private readonly defsByHash = new Map<string, ModuleDef>();
  /** Host functions of actors on workers, by import-set key (called from the workers, see callHost). */
  private readonly hostImports = new Map<number, Imports>();
  private nextImportKey = 1;
  /** The key of each definition's host functions (0: none to give the workers), see defImports. */
  private readonly defImportKeys = new Map<ModuleDef, number>();
  /**
   * Reply addresses of calls that actors restored onto a worker wait in
   * (they keep their ids, which may be of any block): reached through the
   * actor's record, wherever it runs; and each such actor's, by its id.
   */
  private readonly restoredReplies = new Map<number, RemoteActor>();
  private readonly replyOf = new Map<number, number>();
  /** Requests answered later (askAsync), by number. */
  private readonly awaiting = new Map<number, (a: AnswerControl | null) => void>();

  constructor(private readonly config: PoolConfig) {
    if (config.workers instanceof WorkerPool) {
      this.threads = config.workers;
      this.ownThreads = false;
    } else {
      this.threads = new WorkerPool({ threads: config.workers, ...(config.resourceLimits !== undefined ? { resourceLimits: config.resourceLimits } : {}) });
      this.ownThreads = true;
    }
    this.agents = poolAgents(this.threads);
  }

  /** Wires the pool to the main thread's actor system and starts the workers' partitions. */
  attach(system: ActorSystem): void {
    this.system = system;
    // The workers that start with the hive reach each other directly: a ring each way between each two.
    const n = this.agents.size;
    this.nextTag = n + 1;
    for (let i = 1; i <= n; i++) this.bells[i] = createDoorbell();
    for (let i = 1; i <= n; i++) for (let j = 1; j <= n; j++) if (i !== j) this.peerRings.set(`${i}>${j}`, createRing(PEER_RING_BYTES));
    for (let i = 1; i <= n; i++) this.startSlot(i, this.agents.dispatched(i - 1), true);
  }

  /**
   * Starts a partition on slot `index`. One that starts with the hive (`first`)
   * gets rings to the other first ones; a replacement of a dead one has none
   * (its envelopes to other workers go through this thread).
   */
  private startSlot(index: number, initial = false, first = false): void {
    const buffers = createChannelBuffers();
    const state = new SharedArrayBuffer(8);
    const bell = first ? this.bells[index]! : createDoorbell();
    const peers: PeerRings[] = [];
    if (first) {
      for (let j = 1; j <= this.agents.size; j++) {
        if (j !== index) peers.push({ slot: j, out: this.peerRings.get(`${index}>${j}`)!, in: this.peerRings.get(`${j}>${index}`)!, bell: this.bells[j]! });
      }
    }
    const tag = first ? index : this.nextTag++;
    const slot: Slot = { index, channel: new Channel(buffers.down, buffers.up, false, bell), state: new Int32Array(state), alive: true, defs: new Set(), workerServices: new Set(), actors: 0, backlog: [], forget: () => {}, awaiting: new Set(), initial, hostPort: null, placeIds: [0, 0], granted: [], tag };
    this.tags.set(tag, slot);
    this.slots[index] = slot;
    // The host functions of its actors, served to it with comlink (the port does not hold the process open).
    const { port1, port2 } = new MessageChannel();
    const served: HostFunctions = { call: (key, module, field, args) => this.callHost(key, module, field, args) };
    Comlink.expose(served, nodeEndpoint(port1));
    port1.unref();
    slot.hostPort = port1;
    const task: PartitionTask = { ...this.config.task, slot: index, tag, down: buffers.down, up: buffers.up, bell, peers, blocks: this.table.buffer as SharedArrayBuffer, idsBelow: this.idsWord.buffer as SharedArrayBuffer, state, actors: this.actors.buffer as SharedArrayBuffer, logWindow: this.logWindow.buffer as SharedArrayBuffer, hostPort: port2 };
    // Its first ids, and the named modules, wait in its ring until it starts.
    this.grantIds(slot);
    for (const def of this.system.modules.named.values()) this.sendDef(slot, def);
    const services = this.system.services;
    if (services.length > 0) this.control(slot, { t: 'services', table: services });
    for (const [name, id, module] of this.system.workerServices) {
      slot.workerServices.add(id);
      this.control(slot, { t: 'service-module', name, id, module });
    }
    slot.forget = this.agents.start(index - 1, task, (reason) => this.lost(slot, reason));
    void this.pumpLoop(slot);
  }

  // ---------------------------------------------------------------------
  // Partition

  send(s: Signal): void {
    const held = this.system.remoteActor(s.to)?.held;
    if (held != null) {
      held.push(writeSignal(s)); // it is moving: delivered where it lands, in order
      return;
    }
    const slot = this.slotOf(s.to);
    if (slot === null) return this.system.arrived(s); // nowhere else: this side answers that it is gone
    this.callEnded(this.owed.passed(s));
    slot.channel.send(writeSignal(s));
  }

  elsewhere(id: number): boolean {
    return this.slotOf(id) !== null;
  }

  /**
   * A call that passed this thread ended (its answer, the callee's DOWN or
   * the caller giving up passed too: see Obligations.passed), and with it
   * its reply address, `reply` (0: none ended). A worker's reply address
   * closes there, unseen here: the host's ref to it (`hive.ref(m.from)`)
   * goes now, as it would when an address of this thread closes, instead
   * of staying in the system's refs until collected.
   */
  private callEnded(reply: number): void {
    if (reply !== 0) this.system.forgetRef(reply);
  }

  /**
   * Whether an address of a worker's block may be taken up on this thread
   * (a restore keeping its id): only one this thread gave out itself (a
   * host's spawn on that worker), whose actor has exited; the ids a worker
   * gives out itself are unknown here until used.
   */
  restorable(id: number): boolean {
    return blockOwner(this.table, id) === 0 || this.placedHere(id);
  }

  /** Whether this thread gave out the id of a worker's block itself (a host's spawn there: it knows whether that actor lives). */
  private placedHere(id: number): boolean {
    const owner = blockOwner(this.table, id);
    if (owner === 0 || !this.placementBlocks.has(blockIndex(id))) return false;
    const [next, end] = this.slots[owner]?.placeIds ?? [0, 0];
    return !(id >= end - ID_BLOCK && id < end) || id < next;
  }

  /** An address of a worker's block was taken up here (restored): the workers send to it through this thread from now on. */
  claimed(id: number): void {
    const home = blockOwner(this.table, id);
    if (home === 0) return;
    for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'away', id, home, fence: false });
  }

  /** The live worker an address is on, or null (here, or nowhere). */
  private slotOf(id: number): Slot | null {
    const r = this.system.remoteActor(id) ?? this.restoredReplies.get(id);
    // An address held here (an actor restored here under an id from a worker's block) is here.
    // An id given out here for a worker whose actor is not known here any more has exited: nowhere.
    const index = r !== undefined ? r.worker : this.system.holds(id) || this.placedHere(id) ? 0 : blockOwner(this.table, id);
    if (index === 0) return null;
    const slot = this.slots[index]!;
    return slot.alive ? slot : null;
  }

  place(def: ModuleDef, p: Placement): RemoteActor | null {
    if (this.closed) return null;
    const o = p.options;
    // What only the main thread can run: bindings (objects with state), schemas (functions), imports that are not
    // plain functions (memories, tables, globals, Funcs). Plain host functions stay here and are called from the worker.
    if ((o.bindings !== undefined && o.bindings.length > 0) || o.schema !== undefined || def.options.schema !== undefined) return null;
    const hostImports = functionImports(def.options.imports, o.imports);
    if (hostImports === null) return null;
    let slot: Slot | null;
    let tree = 0;
    if (p.tree !== 0) {
      const r = this.system.remoteActor(p.tree);
      if (r === undefined) {
        if (this.system.actor(p.tree) !== undefined) return null; // a tree of the main thread
        throw new ActorExitedError(p.tree, 'noproc');
      }
      slot = this.slots[r.worker]!;
      tree = p.tree;
    } else if (o.worker !== undefined) {
      if (!(Number.isInteger(o.worker) && o.worker >= 0 && o.worker < this.agents.size)) throw new RangeError(`no worker ${o.worker}: this hive has workers 0 to ${this.agents.size - 1}`);
      slot = this.slots[o.worker + 1]!;
      if (!slot.alive || !(slot.initial || Atomics.load(slot.state, STATE_READY) === 1)) slot = this.leastLoaded();
    } else if (this.config.placement !== undefined) {
      const loads = this.slots.slice(1).map((s) => (s.alive && (s.initial || Atomics.load(s.state, STATE_READY) === 1) ? s.actors : -1));
      const w = this.config.placement({ module: def.name, name: p.name, loads });
      if (!(Number.isInteger(w) && w >= 0 && w < loads.length)) throw new RangeError(`placement returned ${String(w)}: not a worker of this hive (0 to ${loads.length - 1})`);
      slot = loads[w]! < 0 ? this.leastLoaded() : this.slots[w + 1]!;
    } else slot = this.leastLoaded();
    if (slot === null) return null;
    if (p.name !== null) this.system.assertNameFree(p.name);
    const id = this.placeId(slot);
    const limits = { ...def.options.limits, ...o.limits };
    const r = this.startRemote(slot, def, id, p.name, tree, limits, hostImports, (key) => (req) => ({ t: 'start', req, id, hash: def.hash, name: p.name, init: p.init, tree, linkTo: p.linkTo, limits: Object.keys(limits).length > 0 ? (limits as Record<string, number>) : null, hostImports: hostImports.fields.map(([m, f]) => [m, f, key] as const), services: o.services ?? [] }));
    r.services = o.services ?? [];
    this.system.announce(r.id);
    return r;
  }

  /**
   * Records an actor this thread puts on worker `slot` (a host's spawn or
   * restore) and asks the worker to make it (`ask`, given the key of its
   * host functions); forgets the record if the worker refuses.
   */
  private startRemote(slot: Slot, def: ModuleDef, id: number, name: string | null, tree: number, limits: Record<string, unknown>, hostImports: { imports: Imports; fields: [string, string][] }, ask: (key: number) => (req: number) => PoolControl): RemoteActor {
    const r = new RemoteActor(id, slot.index, tree === 0 ? id : this.system.remoteActor(tree)!.tree, def.hash, (limits['mailbox'] as number | undefined) ?? this.config.task.limits.mailbox);
    const key = hostImports.fields.length === 0 ? 0 : this.nextImportKey++;
    if (key !== 0) {
      this.hostImports.set(key, hostImports.imports);
      r.imports = { key, fields: hostImports.fields };
    }
    this.sendDef(slot, def);
    this.system.addRemote(r, name, false);
    slot.actors++;
    try {
      this.ask(slot, ask(key));
    } catch (e) {
      this.hostImports.delete(key);
      this.forgetReply(id);
      // (Gone already if its worker died meanwhile: lost() ended it.)
      if (this.system.remoteActor(id) === r) {
        slot.actors--;
        this.system.dropRemote(id);
      }
      throw e;
    }
    return r;
  }

  /**
   * An id of a block of `slot`'s for an actor this thread puts there (a
   * host's spawn or restore), so that the other workers reach it directly
   * (their block table says where).
   */
  private placeId(slot: Slot): number {
    if (slot.placeIds[0] >= slot.placeIds[1]) {
      const first = this.newBlock(slot);
      // No whole block left (the end of the id space): one of this thread's own ids (LimitError 'ids' when none is
      // left either). Its block stays this thread's in the table: the other workers reach the actor through here,
      // where its record says which worker holds it.
      if (first === null) return this.system.allocId();
      slot.placeIds = [first, first + ID_BLOCK];
      this.placementBlocks.add(blockIndex(first));
    }
    return slot.placeIds[0]++;
  }

  /**
   * Restores an actor onto a worker (the worker of the tree it is put in,
   * else the least loaded), as `place` starts one: null when it runs here
   * (bindings, schemas and imports that are not plain functions stay on
   * this thread, and so does an actor put in a tree of this thread's).
   * The worker checks the bytes and throws what a restore throws; `id` is
   * the id it takes (a new one of that worker's, or the snapshot's, which
   * the caller checked is free).
   */
  restoreOn(bytes: Uint8Array, def: ModuleDef, options: RestoreActorOptions, saved: RestoredIds): RemoteActor | null {
    if (this.closed) return null;
    if ((options.bindings !== undefined && options.bindings.length > 0) || options.schema !== undefined || def.options.schema !== undefined) return null;
    const hostImports = functionImports(def.options.imports, options.imports);
    if (hostImports === null) return null;
    const where = this.restoreSlot(options.tree);
    if (where === null) return null;
    const { slot, tree } = where;
    const name = options.name !== undefined ? options.name : saved.name;
    if (name !== null) this.system.assertNameFree(name);
    // No id below the snapshot's hive's is given out from now on; a kept id is reached through this thread
    // when it is of another worker's block (see claimed).
    this.system.reserveIdsBelow(saved.idsBelow);
    const id = options.id === 'new' ? this.placeId(slot) : saved.id;
    if (options.id !== 'new') this.system.claimId(id);
    // The reply address of the call it waits in keeps its id too: its answer is routed to the actor's worker.
    if (saved.reply !== null) {
      if (this.system.endpoint(saved.reply) !== undefined || this.restoredReplies.has(saved.reply)) throw new HiveStateError(`id ${saved.reply} (the reply address of the call the actor waits in) is in use in this hive`);
      this.system.claimId(saved.reply);
    }
    const limits = { ...def.options.limits, ...options.limits };
    // Whether the actor it is a copy of lives (then monitors on it stay there): only this thread knows.
    const original = this.system.endpoint(saved.id);
    const originalLives = id !== saved.id && original !== undefined && 'alive' in original && original.alive === true;
    return this.startRemote(slot, def, id, name, tree, limits, hostImports, (key) => {
      const r = this.system.remoteActor(id)!;
      r.services = grantsOnRestore(saved.services, options.services);
      // A kept id of a worker's block is away (claimed: every worker sends to it through this thread, so it needs no
      // fences to move), and the workers forget that when it exits.
      if (options.id !== 'new' && blockOwner(this.table, id) !== 0) r.away = r.fenced = true;
      // Its record is there now: the reply address it keeps is reached through it.
      if (saved.reply !== null) {
        this.restoredReplies.set(saved.reply, this.system.remoteActor(id)!);
        this.replyOf.set(id, saved.reply);
      }
      const o = { hash: def.hash, name, tree, originalLives, missingLinks: options.missingLinks ?? 'drop', limits: Object.keys(limits).length > 0 ? limits : null, hostImports: hostImports.fields.map(([m, f]) => [m, f, key]), services: options.services ?? [] };
      return (req) => ({ t: 'request', req, op: 'restore', id, bytes, options: o });
    });
  }

  /**
   * The worker a restore goes to: the worker of `tree` (an actor on a
   * worker), else the least loaded; null when it runs here (a tree of this
   * thread's, or no worker to take it). Throws when the tree's worker died.
   */
  private restoreSlot(t: RestoreActorOptions['tree']): { slot: Slot; tree: number } | null {
    if (t === undefined) {
      const slot = this.leastLoaded();
      return slot === null ? null : { slot, tree: 0 };
    }
    const tree = typeof t === 'number' ? t : t.id;
    const r = this.system.remoteActor(tree);
    if (r === undefined) return null; // a tree of this thread's (or none: the restore here says so)
    const slot = this.slots[r.worker]!;
    if (!slot.alive) throw new ActorExitedError(tree, 'worker-crashed');
    return { slot, tree };
  }

  /**
   * Restores a group snapshot onto one worker (the worker of `tree`, else
   * the least loaded), under the ids it holds: this thread makes the
   * records (names, reply addresses, host functions) and asks the worker,
   * which restores them as one thread does (all made, then linked, then
   * resumed); null when the group runs here (a definition with a schema or
   * imports that are not plain functions, a tree of this thread's).
   */
  restoreGroupOn(bytes: Uint8Array, defs: readonly ModuleDef[], options: Pick<RestoreActorOptions, 'missingLinks' | 'tree' | 'services'>, saved: readonly RestoredIds[]): RemoteActor[] | null {
    if (this.closed) return null;
    if (defs.some((d) => d.options.schema !== undefined)) return null;
    const fns = defs.map((d) => functionImports(d.options.imports));
    if (fns.some((f) => f === null)) return null;
    const where = this.restoreSlot(options.tree);
    if (where === null) return null;
    const { slot, tree } = where;
    for (const s of saved) {
      if (s.reply !== null && (this.system.endpoint(s.reply) !== undefined || this.restoredReplies.has(s.reply))) throw new HiveStateError(`id ${s.reply} (the reply address of the call an actor of the group waits in) is in use in this hive`);
    }
    // No id below the snapshots' hive's is given out from now on; their ids (and the reply addresses of the
    // calls they wait in) are reached through this thread when they are of another worker's block (see claimed).
    this.system.reserveIdsBelow(Math.max(...saved.map((s) => s.idsBelow)));
    const root = tree === 0 ? saved[0]!.id : this.system.remoteActor(tree)!.tree;
    const made: RemoteActor[] = [];
    try {
      const keys: number[] = [];
      for (let i = 0; i < defs.length; i++) {
        const s = saved[i]!;
        const def = defs[i]!;
        this.system.claimId(s.id);
        if (s.reply !== null) this.system.claimId(s.reply);
        const limits = def.options.limits ?? {};
        const r = new RemoteActor(s.id, slot.index, root, def.hash, (limits.mailbox as number | undefined) ?? this.config.task.limits.mailbox);
        r.services = grantsOnRestore(s.services, options.services);
        const f = fns[i]!;
        const key = f.fields.length === 0 ? 0 : this.nextImportKey++;
        if (key !== 0) {
          this.hostImports.set(key, f.imports);
          r.imports = { key, fields: f.fields };
        }
        keys.push(key);
        this.sendDef(slot, def);
        if (blockOwner(this.table, s.id) !== 0) r.away = r.fenced = true; // claimed (see restoreOn)
        this.system.addRemote(r, s.name, false);
        made.push(r);
        slot.actors++;
        if (s.reply !== null) {
          this.restoredReplies.set(s.reply, r);
          this.replyOf.set(s.id, s.reply);
        }
      }
      const o = { hashes: defs.map((d) => d.hash), tree, missingLinks: options.missingLinks ?? 'drop', hostImports: fns.map((f, i) => f!.fields.map(([m, fd]) => [m, fd, keys[i]!])), services: options.services ?? [] };
      this.ask(slot, (req) => ({ t: 'request', req, op: 'restore-group', id: 0, bytes, options: o }));
    } catch (e) {
      for (const r of made) {
        if (r.imports !== null) this.hostImports.delete(r.imports.key);
        this.forgetReply(r.id);
        // (Gone already if its worker died meanwhile: lost() ended it.)
        if (this.system.remoteActor(r.id) !== r) continue;
        slot.actors--;
        this.system.dropRemote(r.id);
      }
      throw e;
    }
    return made;
  }

  /** An actor that was away from its home worker exited: the workers drop what they kept for it (ForgetControl). */
  private forgetAway(id: number): void {
    for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'forget', id });
  }

  /** Actor `id` exited (or was not restored): the reply address it was restored with is nobody's now. */
  private forgetReply(id: number): void {
    const reply = this.replyOf.get(id);
    if (reply === undefined) return;
    this.replyOf.delete(id);
    this.restoredReplies.delete(reply);
    if (blockOwner(this.table, reply) !== 0) this.forgetAway(reply); // it was claimed
  }

  request(r: RemoteActor, op: 'info' | 'snapshot' | 'snapshot-group' | 'terminate' | 'link', bytes: Uint8Array | null, options: Record<string, unknown> | null): unknown {
    const slot = this.slots[r.worker]!;
    if (!slot.alive) throw new ActorExitedError(r.id, 'worker-crashed');
    const answer = this.ask(slot, (req) => ({ t: 'request', req, op, id: r.id, bytes, options }));
    if (op === 'link' && answer === 0) this.owed.link(r.id, Number(options?.['from']));
    return answer;
  }

  /**
   * @internal Asks the worker holding `r` a question about it (tests, through
   * test/helpers/inspect.ts: a pooled hive's actors are not in this thread's
   * system), answered synchronously as `request` is.
   */
  inspect<Q extends InspectQuery>(r: RemoteActor, query: Q): InspectAnswers[Q['q']] {
    const slot = this.slots[r.worker]!;
    if (!slot.alive) throw new ActorExitedError(r.id, 'worker-crashed');
    return this.ask(slot, (req) => ({ t: 'request', req, op: 'inspect', id: r.id, bytes: null, options: { ...query } })) as InspectAnswers[Q['q']];
  }

  /** @internal Each live worker's answer to a question about itself (tests: timers and addresses left behind), in the order of the workers. */
  inspectWorkers<Q extends ThreadQuery>(query: Q): InspectAnswers[Q['q']][] {
    const out: InspectAnswers[Q['q']][] = [];
    for (const s of this.slots) if (s !== undefined && s.alive) out.push(this.ask(s, (req) => ({ t: 'request', req, op: 'inspect', id: 0, bytes: null, options: { ...query } })) as InspectAnswers[Q['q']]);
    return out;
  }

  /** @internal Records this thread took from the workers (tests check what it was not asked to carry). */
  get recordsFromWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s !== undefined) n += s.channel.received;
    return n;
  }

  /** @internal Obligations held (tests check that none are left behind). */
  get owedEntries(): number {
    return this.owed.size;
  }

  /**
   * A group snapshot of actors on several threads, at one point, as inline:
   * no slice runs between the snapshots, and what one sent another is in
   * the other's mailbox. The workers holding them are frozen (one by one:
   * each stops at its next slice's end and from then on only takes what its
   * rings bring); then rounds of `drain` until every ring between two of
   * them is empty both ways and nothing of theirs passes this thread; then
   * each takes its actors' snapshots, this thread its own; then they thaw.
   * What other workers send them meanwhile lands before or after the
   * snapshots, as a message sent just before or after an inline snapshot.
   */
  snapshotAcross(ids: readonly number[], here: (ids: number[]) => Uint8Array[]): Uint8Array[] {
    const byThread = new Map<number, number[]>();
    for (const id of ids) {
      const r = this.system.remoteActor(id);
      if (r?.held != null) throw new HiveStateError(`actor ${id} is moving between workers: take the group snapshot once it landed`);
      const index = r === undefined ? 0 : r.worker;
      let list = byThread.get(index);
      if (list === undefined) byThread.set(index, (list = []));
      list.push(id);
    }
    const slots: Slot[] = [];
    for (const index of byThread.keys()) {
      if (index === 0) continue;
      const slot = this.slots[index]!;
      if (!slot.alive) throw new ActorExitedError(byThread.get(index)![0]!, 'worker-crashed');
      slots.push(slot);
    }
    const frozen: Slot[] = [];
    try {
      // Each worker's counts, and what this thread had sent it when it answered.
      const counts = new Map<Slot, { rings: FrozenCounts; sent: number }>();
      const round = (op: 'freeze' | 'drain'): void => {
        for (const s of slots) {
          const rings = this.ask(s, (req) => ({ t: 'request', req, op, id: 0, bytes: null, options: null })) as FrozenCounts;
          if (op === 'freeze') frozen.push(s);
          counts.set(s, { rings, sent: s.channel.sent });
        }
      };
      round('freeze');
      const deadline = performance.now() + ANSWER_TIMEOUT_MS;
      while (!this.drained(slots, counts)) {
        if (performance.now() > deadline) throw new WorkerUnavailableError(slots[0]!.index - 1, `the envelopes between the workers of a group snapshot did not settle within ${ANSWER_TIMEOUT_MS} ms`);
        round('drain');
      }
      const parts = new Map<number, Uint8Array>();
      for (const s of slots) {
        const mine = byThread.get(s.index)!;
        const group = this.ask(s, (req) => ({ t: 'request', req, op: 'snapshot-group', id: 0, bytes: null, options: { ids: mine, frozen: true } })) as Uint8Array;
        readGroupSnapshot(group, mine.length).forEach((p, i) => parts.set(mine[i]!, p));
      }
      const local = byThread.get(0);
      if (local !== undefined) here(local).forEach((p, i) => parts.set(local[i]!, p));
      return ids.map((id) => parts.get(id)!);
    } finally {
      for (const s of frozen) {
        if (!s.alive) continue;
        try {
          this.ask(s, (req) => ({ t: 'request', req, op: 'thaw', id: 0, bytes: null, options: null }));
        } catch (err) {
          this.system.logger.warn({ err, worker: s.index - 1 }, 'a worker frozen for a group snapshot did not answer its thaw (it goes on by itself)');
        }
      }
    }
  }

  /**
   * Whether nothing is between the frozen workers `slots` (their answers in
   * `counts`, taken one after the other): what each sent each other the
   * other had received, nothing waits in an overflow queue, and this thread
   * sent none of them anything after its answer (what they sent here, taken
   * now, included: else another round, for them to take it). Frozen, a
   * worker sends only for what it takes, so counts that agree stay so.
   */
  private drained(slots: readonly Slot[], counts: ReadonlyMap<Slot, { rings: FrozenCounts; sent: number }>): boolean {
    for (const s of slots) this.pump(s);
    if (slots.some((s) => s.channel.sent !== counts.get(s)!.sent)) return false;
    const ring = (from: Slot, to: Slot): readonly [number, number, number, number] | undefined => counts.get(from)!.rings.peers.find((p) => p[0] === to.index);
    for (const a of slots) {
      for (const b of slots) {
        if (a === b) continue;
        const out = ring(a, b);
        const back = ring(b, a);
        if (out === undefined || back === undefined) continue; // no ring between the two: their envelopes pass this thread
        if (out[3] > 0 || out[1] !== back[2]) return false;
      }
    }
    return true;
  }

  /** Bytes for a worker's spawn tree (see ForeignTree): to its partition, if it still runs (a dead one's trees are gone). */
  refund(key: number, delta: number): void {
    const k = treeOfKey(key);
    if (k === null) return;
    if (k.thread === 0) return this.system.refunded(key, delta);
    const slot = this.tags.get(k.thread);
    if (slot !== undefined && slot.alive) this.control(slot, { t: 'refund', key, delta });
  }

  /** Ends a remote actor now, as inline: its exit is known here when this returns. */
  terminate(r: RemoteActor, reason: string): void {
    const slot = this.slots[r.worker]!;
    if (slot.alive) this.ask(slot, (req) => ({ t: 'request', req, op: 'terminate', id: r.id, bytes: null, options: { reason } }));
  }

  /** The hive's manual clock moved: every worker's follows. */
  clockMoved(now: number): void {
    for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'time', now });
  }

  async settled(): Promise<boolean> {
    // Two rounds that see the same counts: the workers answer each at its own moment, and between two workers
    // nothing passes this thread, so a round alone could take one worker's answer from before another's send.
    const first = await this.idleRound();
    if (first === null) return false;
    return (await this.idleRound()) === first;
  }

  /** One round of idle requests: the counts of every ring as a key when all agree (nothing in flight), else null. */
  private async idleRound(): Promise<string | null> {
    const live = this.slots.filter((s) => s !== undefined && s.alive);
    if (live.length === 0) return '';
    const before = live.map((s) => s.channel.sent);
    const answers = (await Promise.all(live.map((s) => this.askAsync(s, 'idle')))) as ({ received: number; sent: number; peers: [number, number, number][] } | null)[];
    // Between two workers (by ring, `from>to`): what one sent the other, the other took (each said so when idle).
    const sent = new Map<string, number>();
    const taken = new Map<string, number>();
    for (let i = 0; i < live.length; i++) {
      const s = live[i]!;
      const a = answers[i];
      // Everything sent to it was taken before it went idle, nothing was sent since, and everything it sent (and its answer) arrived.
      if (a === null || !s.alive || a.received !== s.channel.sent || s.channel.sent !== before[i]! + 1 || s.channel.received !== a.sent + 1 || s.backlog.length > 0 || s.channel.readable) return null;
      for (const [peer, out, received] of a.peers) {
        sent.set(`${s.index}>${peer}`, out);
        taken.set(`${peer}>${s.index}`, received);
      }
    }
    for (const [ring, n] of sent) if (taken.has(ring) && taken.get(ring) !== n) return null;
    return [...sent].map(([ring, n]) => `${ring}=${n}`).sort().join(',');
  }

  // ---------------------------------------------------------------------
  // The rebalancer

  /**
   * Every `intervalMs` of the hive's clock, samples each worker's load: its
   * CPU-hungry actors (those preempted at least twice since the last sample:
   * out of fuel, ready to run on). When one worker has two or more such actors more than
   * another, two samples in a row, it moves one of them there (one that can
   * move now).
   */
  startRebalancer(clock: Clock, options: RebalanceOptions): void {
    const interval = options.intervalMs ?? 1_000;
    if (!(interval > 0)) throw new RangeError('rebalance: intervalMs must be > 0');
    let strikes = 0;
    let busy = false;
    const tick = (): void => {
      if (this.closed) return;
      this.rebalanceTimer = clock.setTimer(clock.now() + interval, tick);
      if (busy) return;
      busy = true;
      void this.rebalanceOnce(strikes)
        .then((s) => (strikes = s))
        .finally(() => (busy = false));
    };
    this.clock = clock;
    this.rebalanceTimer = clock.setTimer(clock.now() + interval, tick);
  }
  private rebalanceTimer: TimerHandle | null = null;
  private clock: Clock | null = null;
  /** @internal Timers the pool itself keeps on the hive's clock (its rebalancer's): tests counting the timers actors left behind leave them out. */
  get ownTimers(): number {
    return this.rebalanceTimer !== null && !this.closed ? 1 : 0;
  }
  /** Moves the rebalancer made (tests and the bench read it). */
  rebalanced = 0;

  /** One sample; returns the strikes so far (samples in a row with the workers out of balance). */
  private async rebalanceOnce(strikes: number): Promise<number> {
    const live = this.slots.filter((s) => s !== undefined && s.alive && (s.initial || Atomics.load(s.state, STATE_READY) === 1));
    if (live.length < 2) return 0;
    const loads = (await Promise.all(live.map((s) => this.askAsync(s, 'load')))) as ({ fuel: number; top: [number, number, number][] } | null)[];
    if (this.closed || loads.some((l) => l === null)) return 0;
    // The CPU-hungry actors of each worker: those preempted (out of fuel, ready to run on) at least twice since the
    // last sample. Fuel alone does not tell demand: three spinners sharing a thread use less fuel than one alone,
    // and a loaded machine gives each less (a floor of fuel, a tenth of a core, missed spinners on a busy CI machine).
    const hungry = loads.map((l) => l!.top.filter(([, , preempted]) => preempted >= HUNGRY_PREEMPTIONS));
    let hi = 0;
    let lo = 0;
    for (let i = 1; i < live.length; i++) {
      if (hungry[i]!.length > hungry[hi]!.length) hi = i;
      if (hungry[i]!.length < hungry[lo]!.length) lo = i;
    }
    // Moving one narrows the difference only when it is 2 or more (3 and 1 become 2 and 2; 3 and 2 stay).
    if (hungry[hi]!.length - hungry[lo]!.length < 2) return 0;
    if (strikes + 1 < 2) return strikes + 1;
    for (const [id] of hungry[hi]!) {
      const r = this.system.remoteActor(id);
      if (r === undefined || r.worker !== live[hi]!.index) continue;
      if (!(await this.fenced(r)) || this.closed || this.system.remoteActor(id) !== r || r.worker !== live[hi]!.index) continue;
      if (this.move(r, live[lo]!.index)) {
        this.rebalanced++;
        return 0;
      }
    }
    return 0;
  }

  /** Sends a request whose answer comes later, in the pump (null: the worker went away first). */
  private askAsync(slot: Slot, op: 'idle' | 'load' | 'fenced', id = 0): Promise<unknown> {
    this.system.flushRefunds();
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.awaiting.set(req, (a) => resolve(a === null || !a.ok ? null : a.value));
      slot.awaiting.add(req);
      this.control(slot, { t: 'request', req, op, id, bytes: null, options: null });
    });
  }

  /**
   * Before an actor's first move off its home worker: every worker is told
   * it is away (its envelopes, and those it sends, pass this thread from now
   * on, see AwayControl) and sends the home worker a fence; resolves once the
   * home worker has every fence and its overflow queues to the others are
   * empty (true), or after its wait (false: the next attempt waits again).
   * This thread's event loop runs meanwhile: what reaches the actor through
   * it goes to the home worker, where the actor still is.
   */
  private async fenced(r: RemoteActor): Promise<boolean> {
    if (r.fenced) return true;
    const home = this.slots[r.worker]!;
    if (!r.away) {
      r.away = true;
      for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'away', id: r.id, home: r.worker, fence: true });
    }
    return (await this.askAsync(home, 'fenced', r.id)) === true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) {
      if (slot === undefined || !slot.alive) continue;
      slot.alive = false;
      slot.forget();
      this.control(slot, { t: 'close' });
    }
    // Requests waiting for answers (idle, load) end now.
    for (const done of this.awaiting.values()) done(null);
    this.awaiting.clear();
    if (this.rebalanceTimer !== null) this.clock?.clearTimer(this.rebalanceTimer);
    if (this.refundTimer !== null) clearTimeout(this.refundTimer);
    // The workers end their partitions; then threads of its own go.
    if (this.ownThreads) setTimeout(() => void this.threads.close(), 200).unref();
  }

  /**
   * Moves an actor to worker `worker` (0-based), once it is at a point where
   * it can move (see ActorSystem.emigrate); rejects with HiveStateError when
   * it does not reach one within `timeoutMs`, ActorExitedError when it exits.
   */
  async migrate(id: number, worker: number, timeoutMs: number): Promise<void> {
    if (!(Number.isInteger(worker) && worker >= 0 && worker < this.agents.size)) throw new RangeError(`no worker ${worker}: this hive has workers 0 to ${this.agents.size - 1}`);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = this.system.remoteActor(id);
      if (r === undefined) {
        if (this.system.actor(id) !== undefined) throw new HiveStateError(`actor ${id} runs on the main thread (bindings, host imports or schemas): it does not move`);
        throw new ActorExitedError(id, 'noproc');
      }
      if (r.worker === worker + 1) return;
      // (Its record is looked up again after the wait: it may have exited, or moved by the rebalancer.)
      if ((await this.fenced(r)) && this.system.remoteActor(id) === r && r.worker !== worker + 1 && this.move(r, worker + 1)) return;
      if (performance.now() >= deadline) throw new HiveStateError(`actor ${id} did not reach a point where it can move within ${timeoutMs} ms (it waits for an answer, has children, or another worker has not let it go: a busy worker answers between slices)`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The worker (0-based) an actor runs on; null: the main thread. Throws ActorExitedError. */
  workerOf(id: number): number | null {
    const r = this.system.remoteActor(id);
    if (r !== undefined) return r.worker - 1;
    if (this.system.actor(id) !== undefined) return null;
    throw new ActorExitedError(id, 'noproc');
  }

  /**
   * Moves a remote actor to slot `to`: its worker gives it up (a snapshot),
   * the other takes it in; envelopes for it that reach this thread meanwhile
   * are held and then sent on, in order. False when it cannot move now.
   */
  private move(r: RemoteActor, to: number): boolean {
    const from = this.slots[r.worker]!;
    const dest = this.slots[to];
    if (dest === undefined || !dest.alive || !from.alive || !(dest.initial || Atomics.load(dest.state, STATE_READY) === 1)) return false;
    const def = this.defsByHash.get(r.module)!;
    r.held = [];
    try {
      // Until its first move off its home worker succeeds, the home worker checks that every fence came (see
      // `fenced`, awaited before: this refuses only if one went missing since, e.g. a worker replaced).
      const fenced = !r.fenced;
      const out = this.ask(from, (req) => ({ t: 'request', req, op: 'emigrate', id: r.id, bytes: null, options: fenced ? { fenced: true } : null })) as { bytes: Uint8Array; callers: number[]; links: number[]; monitors: [number, number][]; watchers: [number, number][]; payers: number[] } | null;
      if (out === null) return false;
      // Its ties are this thread's to answer for now (the workers forget what they recorded of them).
      this.owed.moved(r.id, out);
      if (fenced) {
        r.fenced = true;
        for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'moved', id: r.id });
      }
      this.sendDef(dest, def);
      const immigrate = (slot: Slot): void => {
        this.ask(slot, (req) => ({ t: 'request', req, op: 'immigrate', id: r.id, bytes: out.bytes, options: { hash: r.module, callers: out.callers, payers: out.payers, hostImports: r.imports === null ? [] : r.imports.fields.map(([m, f]) => [m, f, r.imports!.key]) } }));
      };
      try {
        immigrate(dest);
      } catch (e) {
        // Refused there (a limit of that worker): it goes back where it was.
        immigrate(from);
        throw e;
      }
      from.actors--;
      dest.actors++;
      r.moved(to);
      // What it and the actors beside it now owe each other is answered within that worker.
      this.owed.joined(r.id, (id) => this.slotOf(id) === dest);
      return true;
    } finally {
      const held = r.held;
      r.held = null;
      const slot = this.slotOf(r.id);
      for (const rec of held) {
        if (slot !== null) slot.channel.send(rec);
        else this.system.arrived(readSignal(rec));
      }
    }
  }

  /** A worker's actor called a host function given at its spawn: it runs here, and its result (or Promise) goes back. */
  private callHost(key: number, module: string, field: string, args: unknown[]): unknown {
    const f = this.hostImports.get(key)?.[module]?.[field];
    if (typeof f !== 'function') throw new Error(`no host function ${module}.${field} for this actor (it has exited)`);
    return (f as (...a: unknown[]) => unknown)(...args);
  }

  /** @internal The thread of worker `worker` (0-based; tests terminate it). */
  thread(worker: number): import('node:worker_threads').Worker | undefined {
    return this.agents.worker(worker);
  }

  // ---------------------------------------------------------------------
  // Workers

  /** The live worker with the fewest actors, of those that may be waited for; null: none (the actor runs here). */
  private leastLoaded(): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) if (s !== undefined && s.alive && (s.initial || Atomics.load(s.state, STATE_READY) === 1) && (best === null || s.actors < best.actors)) best = s;
    return best;
  }

  private sendDef(slot: Slot, def: ModuleDef): void {
    this.defsByHash.set(def.hash, def);
    // By name and hash: one module may be defined under several names.
    const key = `${def.name ?? ''}\0${def.hash}`;
    if (slot.defs.has(key)) return;
    slot.defs.add(key);
    const limits = def.options.limits;
    const hostImports = this.defImports(def);
    const compile = { features: { ...def.module.features } as Record<string, boolean>, tier: def.module.tier };
    this.control(slot, { t: 'define', hash: def.hash, name: def.name, bytes: def.module.ast.bytes, compile, limits: limits === undefined ? null : (limits as Record<string, number>), ...(hostImports.length > 0 ? { hostImports } : {}) });
  }

  /**
   * The host functions a definition was given (`define(name, m, { imports })`),
   * under a key of their own, for the workers (a guest there spawns it by
   * name); none when it has none or one that is not a plain function.
   */
  private defImports(def: ModuleDef): (readonly [string, string, number])[] {
    let key = this.defImportKeys.get(def);
    if (key === undefined) {
      const fns = def.options.imports === undefined ? null : functionImports(def.options.imports);
      key = fns === null || fns.fields.length === 0 ? 0 : this.nextImportKey++;
      if (key !== 0) this.hostImports.set(key, fns!.imports);
      this.defImportKeys.set(def, key);
    }
    if (key === 0) return [];
    const imports = this.hostImports.get(key)!;
    return Object.entries(imports).flatMap(([m, fs]) => Object.keys(fs ?? {}).map((f) => [m, f, key] as const));
  }

  /** The hive's services changed: every worker learns the table (its actors' grants name them). */
  servicesChanged(table: [string, number, boolean][], inWorkers: [string, number, WorkerServiceModule][]): void {
    for (const s of this.slots) {
      if (s === undefined || !s.alive) continue;
      this.control(s, { t: 'services', table });
      // A new service to run in each worker (one the worker runs already is not sent again).
      for (const [name, id, module] of inWorkers) {
        if (s.workerServices.has(id)) continue;
        s.workerServices.add(id);
        this.control(s, { t: 'service-module', name, id, module });
      }
    }
  }

  /** A module defined by name after the pool started: every worker learns it (guests spawn it by name). */
  defined(def: ModuleDef): void {
    for (const s of this.slots) if (s !== undefined && s.alive) this.sendDef(s, def);
  }

  /**
   * Gives a worker a new block of ids to give out itself, or tells it none
   * is left (the end of the id space: its guests' spawns are refused from
   * then on). `below`: it first drops the ids below that (see reserved).
   */
  private grantIds(slot: Slot, below = 0): void {
    const first = this.newBlock(slot);
    const drop = below > 0 ? { below } : {};
    if (first === null) {
      this.control(slot, { t: 'ids', first: 0, count: 0, none: true, ...drop });
      return;
    }
    slot.granted.push([first, first + ID_BLOCK]);
    if (slot.granted.length > 2) slot.granted.shift();
    this.control(slot, { t: 'ids', first, count: ID_BLOCK, ...drop });
  }

  /**
   * A new block of ids for a worker, in the block table before any of its
   * ids is given out; null when no whole block is left (the last ids are
   * this thread's to give out one by one: see ActorSystem.takeOwnIds).
   */
  private newBlock(slot: Slot): number | null {
    let first: number;
    try {
      first = this.system.allocIds(ID_BLOCK);
    } catch (e) {
      if (e instanceof LimitError) return null;
      throw e;
    }
    this.table[blockIndex(first)] = slot.index;
    return first;
  }

  /** The hive's idsBelow rose to `n`: the workers read it there for their snapshots (see Partition.idsBelow). */
  idsTaken(n: number): void {
    Atomics.store(this.idsWord, 0, n);
  }

  /**
   * A restore reserved the ids below `below` (see Partition.reserved): this
   * thread's placement ranges skip them, and each worker whose blocks may
   * hold some drops them, with a new block when they cut into the block it
   * may be giving ids from now (it gives them out synchronously: it cannot
   * wait for one, and its ask for more may have been made already).
   */
  reserved(below: number): void {
    for (const s of this.slots) {
      if (s === undefined || !s.alive) continue;
      // Never given out: placedHere counts them as ids of actors that exited (nowhere).
      if (s.placeIds[0] < below) s.placeIds[0] = Math.min(below, s.placeIds[1]);
      if (s.granted.length > 0 && s.granted[0]![0] >= below) continue; // its blocks were granted since
      const last = s.granted[s.granted.length - 1];
      s.granted = s.granted.map(([next, end]): [number, number] => [Math.max(next, below), end]).filter(([next, end]) => next < end);
      if (last === undefined || below > last[0]) this.grantIds(s, below);
      else this.control(s, { t: 'ids', first: 0, count: 0, below });
    }
  }

  private control(slot: Slot, c: PoolControl): void {
    slot.channel.send(writeControl(c));
  }

  /**
   * Sends a request and blocks this thread until the worker answers (records
   * that arrive meanwhile are kept, in order, for the pump). The worker
   * answers between two slices, so this waits for about one slice.
   */
  private ask(slot: Slot, make: (req: number) => PoolControl): unknown {
    // What the host did before asking is seen by the answer (bytes a closed inbox gave back to a worker's tree).
    this.system.flushRefunds();
    const req = this.nextReq++;
    this.control(slot, make(req));
    slot.channel.flush();
    const timeout = Atomics.load(slot.state, STATE_READY) === 1 ? ANSWER_TIMEOUT_MS : START_TIMEOUT_MS;
    const deadline = performance.now() + timeout;
    let answer: AnswerControl | null = null;
    // Records after the answer are the worker's later doings (an actor just started may already have
    // exited): they wait for the pump, so that the caller sees the state as of the answer.
    const after: Uint8Array[] = [];
    for (;;) {
      slot.channel.receive((r) => {
        if (answer !== null) {
          after.push(r);
          return;
        }
        if (r[0] === WireKind.CONTROL) {
          const c = readControl(r);
          if (c.t === 'answer' && c.req === req) {
            answer = c;
            return;
          }
        }
        slot.backlog.push(r);
      });
      if (answer !== null) break;
      if (!slot.alive) throw new ActorExitedError(0, 'worker-crashed');
      const left = deadline - performance.now();
      if (left <= 0) {
        slot.channel.wakeReader();
        throw new WorkerUnavailableError(slot.index - 1, `worker ${slot.index - 1} did not answer within ${timeout} ms`);
      }
      // What waits in the overflow queue (the request itself, behind a large module or snapshot) goes as room appears.
      slot.channel.pushOverflow();
      slot.channel.waitReadableSync(Math.min(left, 5));
    }
    slot.channel.wakeReader();
    // What came before the answer is handled now, as inline: a kill's exit is known when the kill returns.
    if (slot.backlog.length > 0) {
      const before = slot.backlog;
      slot.backlog = [];
      for (const r of before) this.take(slot, r);
    }
    if (after.length > 0) {
      slot.backlog.push(...after);
      setImmediate(() => this.pump(slot));
    }
    const a = answer as AnswerControl;
    if (!a.ok) throw remoteError(a.error!);
    return a.value;
  }

  /**
   * Sends workers' trees the bytes their messages here gave back (see
   * ActorSystem.flushRefunds): as records come in, and, while messages of
   * theirs wait here (the host takes them from its inboxes in its own
   * code), again after REFUND_MS.
   */
  private sendRefunds(): void {
    this.system.flushRefunds();
    if (this.refundTimer !== null || this.closed || !this.system.holdsForeign) return;
    this.refundTimer = setTimeout(() => {
      this.refundTimer = null;
      if (!this.closed) this.sendRefunds();
    }, REFUND_MS);
    this.refundTimer.unref();
  }
  private refundTimer: ReturnType<typeof setTimeout> | null = null;

  private async pumpLoop(slot: Slot): Promise<void> {
    const channel = slot.channel;
    while (slot.alive && !this.closed) {
      this.pump(slot);
      this.sendRefunds();
      // Woken for one worker, it takes what the others sent meanwhile too.
      for (const other of this.slots) if (other !== undefined && other !== slot && other.alive && other.channel.readable) this.pump(other);
      // A turn of the event loop between batches: a worker that keeps its ring full must not starve this thread's timers and I/O.
      if (channel.readable) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      // What this thread sent goes before the spin (its flush would otherwise wait for the spin's end).
      for (const other of this.slots) if (other !== undefined && other.alive) other.channel.flush();
      const w = await channel.waitReadable();
      if (w === 'closed') break;
    }
  }

  private pump(slot: Slot): void {
    if (slot.backlog.length > 0) {
      const held = slot.backlog;
      slot.backlog = [];
      for (const r of held) this.safeTake(slot, r);
    }
    slot.channel.receive((r) => this.safeTake(slot, r));
  }

  /** A worker's record is never allowed to throw into the host: a fault is logged, and the record dropped. */
  private safeTake(slot: Slot, r: Uint8Array): void {
    try {
      this.take(slot, r);
    } catch (err) {
      this.system.logger.error({ err, worker: slot.index - 1 }, 'a record from a worker could not be handled (a bug in the runtime); it is dropped');
    }
  }

  /** A record from a worker: routed on, or handled here. */
  private take(slot: Slot, r: Uint8Array): void {
    if (r[0] === WireKind.SIGNAL) {
      const s = readSignal(r);
      this.callEnded(this.owed.passed(s));
      const held = this.system.remoteActor(s.to)?.held;
      if (held != null) {
        held.push(r);
        return;
      }
      const to = this.slotOf(s.to);
      if (to !== null) to.channel.send(r);
      else this.system.arrived(s);
      return;
    }
    const c = readControl(r);
    switch (c.t) {
      case 'born':
        if (this.system.remoteActor(c.id) === undefined) {
          slot.actors++;
          const r = new RemoteActor(c.id, slot.index, c.tree, c.hash, c.mailbox);
          if (c.services !== undefined) r.services = c.services;
          this.system.addRemote(r, null, false);
          this.system.announce(c.id);
        }
        return;
      case 'died': {
        const r = this.system.remoteActor(c.id);
        if (r?.worker === slot.index) slot.actors--;
        if (r?.imports != null) this.hostImports.delete(r.imports.key);
        const trap = c.trap === null ? undefined : new Trap(c.trap.message, [], c.trap.phase === 'exhaustion' ? 'exhaustion' : 'trap');
        this.system.remoteExited(c.id, c.name, c.reason, c.fuelUsed, trap);
        this.owed.forget(c.id);
        this.forgetReply(c.id);
        if (r?.away === true) this.forgetAway(c.id);
        return;
      }
      case 'event':
        this.system.remoteEvent(c.event, c.payload);
        return;
      case 'log':
        this.system.writeLogLine(c.line);
        return;
      case 'refund':
        return this.refund(c.key, c.delta);
      case 'want-ids':
        this.grantIds(slot);
        return;
      case 'answer': {
        const done = this.awaiting.get(c.req);
        if (done === undefined) return; // an answer nobody waits for any more
        this.awaiting.delete(c.req);
        slot.awaiting.delete(c.req);
        done(c);
        return;
      }
      default:
        return;
    }
  }

  /** A worker ended: its actors exit with `reason`. */
  private lost(slot: Slot, reason: string): void {
    if (this.slots[slot.index] !== slot || this.closed) return;
    // What it wrote before it died is taken first (births, exits, messages it sent).
    try {
      this.pump(slot);
    } catch {
      // a record cut short by the death
    }
    slot.alive = false;
    slot.channel.close();
    for (const req of slot.awaiting) {
      this.awaiting.get(req)?.(null);
      this.awaiting.delete(req);
    }
    slot.awaiting.clear();
    // Its actors exit here, then what they owed others is sent in their names: answers to requests
    // (NOT_FOUND), to calls (the callee is gone), exit signals to links, DOWN to monitors.
    const dead = this.system.remoteActors().filter((r) => r.worker === slot.index);
    const deadIds = new Set(dead.map((r) => r.id));
    const gone = (id: number): boolean => deadIds.has(id) || (this.system.remoteActor(id) === undefined && !this.system.holds(id) && blockOwner(this.table, id) === slot.index);
    const owed = this.owed.owedBy(gone, reason);
    // The rings between it and the other workers close (they send through this thread from now on), and each
    // of them answers what the dead actors owed its own over those rings.
    for (const [key, ring] of this.peerRings) {
      const [from, to] = key.split('>').map(Number);
      if (from !== slot.index && to !== slot.index) continue;
      new RingWriter(ring).close();
      this.peerRings.delete(key);
    }
    for (const other of this.slots) {
      if (other !== undefined && other !== slot && other.alive) this.control(other, { t: 'lost', slot: slot.index, dead: [...deadIds], reason });
    }
    for (const r of dead) {
      if (r.imports !== null) this.hostImports.delete(r.imports.key);
      if (r.away) this.forgetAway(r.id);
      this.forgetReply(r.id);
      this.system.remoteExited(r.id, this.system.nameOf(r.id), reason, 0, undefined);
    }
    Atomics.sub(this.actors, 0, dead.length); // it counted them in the hive's actors, and cannot uncount them
    this.system.forgiveRemote(); // what its mailboxes would have given back to this thread's trees never comes
    for (const s of owed) this.send(s);
    // A new partition on the thread that took the dead one's place (its agent starts when the thread is up).
    if (reason === 'worker-crashed') this.startSlot(slot.index);
  }
}

/**
 * The host imports of a spawn (the definition's, then the spawn's), when
 * every one is a plain function (called from the worker); null when one is
 * something else (a memory, table, global, Func or value), which only the
 * main thread can give.
 */
function functionImports(...sets: (Imports | undefined)[]): { imports: Imports; fields: [string, string][] } | null {
  const imports: Imports = {};
  for (const set of sets) {
    if (set === undefined) continue;
    for (const [mod, fields] of Object.entries(set)) {
      if (fields === undefined) continue;
      for (const [name, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        if (typeof v !== 'function') return null;
        (imports[mod] ??= {})[name] = v;
      }
    }
  }
  const fields: [string, string][] = [];
  for (const [mod, fs] of Object.entries(imports)) for (const name of Object.keys(fs ?? {})) fields.push([mod, name]);
  return { imports, fields };
}

/** An error a worker reported, as the class the host would have seen inline. */
function remoteError(e: NonNullable<AnswerControl['error']>): Error {
  switch (e.name) {
    case 'LimitError':
      return new LimitError(e.limit ?? '?', e.value ?? 0, 0);
    case 'Trap':
    case 'Exhaustion':
      return new Trap(e.message, [], e.phase === 'exhaustion' ? 'exhaustion' : 'trap');
    case 'LinkError':
      return new LinkError(e.message);
    case 'DecodeError':
      return new DecodeError(e.message);
    case 'ValidationError':
      return new ValidationError(e.message);
    case 'SnapshotError':
      return new SnapshotError(e.message);
    case 'ActorExitedError':
      return Object.assign(new ActorExitedError(0, 'noproc'), { message: e.message });
    case 'NotFoundError':
      return new NotFoundError(e.message);
    case 'HiveStateError':
      return new HiveStateError(e.message);
    case 'RangeError':
      return new RangeError(e.message);
    default:
      return new Error(`${e.name}: ${e.message}`);
  }
}

