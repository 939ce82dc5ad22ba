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
import type { Partition, Placement } from './partition.js';
import { BLOCK_TABLE_BYTES, ID_BLOCK, blockIndex, blockOwner, readControl, readSignal, writeControl, writeSignal, WireKind, type AnswerControl, type PeerRings, type PoolControl, type Signal } from './protocol.js';
import { RemoteActor } from './remote.js';
import { Obligations } from './obligations.js';
import type { ActorSystem } from './system.js';
import type { ModuleDef, PlacementRequest } from './types.js';
import type { Clock, TimerHandle } from '../scheduler/index.js';
import { STATE_READY, type HostFunctions, type InspectAnswers, type InspectQuery, type PartitionTask, type ThreadQuery } from './protocol.js';
import { poolAgents, WorkerPool, type PoolAgents } from './threads.js';

/** Bytes of each ring between two workers (a record larger goes in parts). */
const PEER_RING_BYTES = 1 << 20;
/** How long the main thread waits for a worker's answer before giving up (WorkerUnavailableError). */
const ANSWER_TIMEOUT_MS = 10_000;
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
  /** The port its host-function calls come in on. */
  hostPort: import('node:worker_threads').MessagePort | null;
  /**
   * Whether this thread may wait for it to start: a partition started with
   * the hive starts on its own, but one started on a thread that replaced a
   * dead one waits for piscina, which needs this thread's event loop, so
   * nothing is placed there until it runs (STATE_READY).
   */
  readonly initial: boolean;
}

/** Options of a pooled hive's rebalancer (`HiveOptions.rebalance`). */
export interface RebalanceOptions {
  /** How often it samples the workers' loads, in ms of the hive's clock (default 1,000). */
  intervalMs?: number;
}

/** Options of the pool (from HiveOptions). */
export interface PoolConfig {
  /** Threads of its own (closed with the hive), or a pool shared with other hives. */
  readonly workers: number | WorkerPool;
  readonly task: Omit<PartitionTask, 'slot' | 'down' | 'up' | 'bell' | 'peers' | 'blocks' | 'state' | 'actors' | 'logWindow' | 'hostPort'>;
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
  /** The doorbells of the workers that start with the hive, and the rings between each two of them (`from>to`). */
  private readonly bells: SharedArrayBuffer[] = [];
  private readonly peerRings = new Map<string, SharedArrayBuffer>();
  /** Blocks (indices in the table) whose ids this thread gives out itself (host's spawns on a worker). */
  private readonly placementBlocks = new Set<number>();
  private nextReq = 1;
  private closed = false;
  /** What workers' actors owe others (answered here if their worker dies). */
  private readonly owed = new Obligations();
  /** The modules sent to workers, by hash (a move sends its actor's to the worker it goes to). */
  private readonly defsByHash = new Map<string, ModuleDef>();
  /** Host functions of actors on workers, by import-set key (called from the workers, see callHost). */
  private readonly hostImports = new Map<number, Imports>();
  private nextImportKey = 1;
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
    const slot: Slot = { index, channel: new Channel(buffers.down, buffers.up, false, bell), state: new Int32Array(state), alive: true, defs: new Set(), actors: 0, backlog: [], forget: () => {}, awaiting: new Set(), initial, hostPort: null, placeIds: [0, 0] };
    this.slots[index] = slot;
    // The host functions of its actors, served to it with comlink (the port does not hold the process open).
    const { port1, port2 } = new MessageChannel();
    const served: HostFunctions = { call: (key, module, field, args) => this.callHost(key, module, field, args) };
    Comlink.expose(served, nodeEndpoint(port1));
    port1.unref();
    slot.hostPort = port1;
    const task: PartitionTask = { ...this.config.task, slot: index, down: buffers.down, up: buffers.up, bell, peers, blocks: this.table.buffer as SharedArrayBuffer, state, actors: this.actors.buffer as SharedArrayBuffer, logWindow: this.logWindow.buffer as SharedArrayBuffer, hostPort: port2 };
    // Its first ids, and the named modules, wait in its ring until it starts.
    this.grantIds(slot);
    for (const def of this.system.modules.named.values()) this.sendDef(slot, def);
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
    this.owed.passed(s);
    slot.channel.send(writeSignal(s));
  }

  elsewhere(id: number): boolean {
    return this.slotOf(id) !== null;
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
    const r = this.system.remoteActor(id);
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
    // From a block of its worker's, so that the other workers reach it directly (their block table says where).
    if (slot.placeIds[0] >= slot.placeIds[1]) {
      const first = this.newBlock(slot);
      slot.placeIds = [first, first + ID_BLOCK];
      this.placementBlocks.add(blockIndex(first));
    }
    const id = slot.placeIds[0]++;
    const limits = { ...def.options.limits, ...o.limits };
    const r = new RemoteActor(id, slot.index, tree === 0 ? id : this.system.remoteActor(tree)!.tree, def.hash, (limits.mailbox as number | undefined) ?? this.config.task.limits.mailbox);
    const key = hostImports.fields.length === 0 ? 0 : this.nextImportKey++;
    if (key !== 0) {
      this.hostImports.set(key, hostImports.imports);
      r.imports = { key, fields: hostImports.fields };
    }
    this.sendDef(slot, def);
    this.system.addRemote(r, p.name, false);
    slot.actors++;
    try {
      this.ask(slot, (req) => ({ t: 'start', req, id, hash: def.hash, name: p.name, init: p.init, tree, linkTo: p.linkTo, limits: Object.keys(limits).length > 0 ? (limits as Record<string, number>) : null, hostImports: hostImports.fields.map(([m, f]) => [m, f, key] as const) }));
    } catch (e) {
      this.hostImports.delete(key);
      slot.actors--;
      this.system.dropRemote(id);
      throw e;
    }
    this.system.announce(r.id);
    return r;
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
   * CPU-hungry actors (those that ran at least a tenth of a core since the
   * last sample). When one worker has two or more such actors more than
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
      void this.rebalanceOnce(interval, strikes)
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
  private async rebalanceOnce(intervalMs: number, strikes: number): Promise<number> {
    const live = this.slots.filter((s) => s !== undefined && s.alive && (s.initial || Atomics.load(s.state, STATE_READY) === 1));
    if (live.length < 2) return 0;
    const loads = (await Promise.all(live.map((s) => this.askAsync(s, 'load')))) as ({ fuel: number; top: [number, number][] } | null)[];
    if (this.closed || loads.some((l) => l === null)) return 0;
    // The CPU-hungry actors of each worker: those that ran at least a tenth of a core (~15,000 fuel a ms).
    // Fuel alone does not tell demand: three spinners sharing a thread use less fuel than one alone.
    const floor = intervalMs * 15_000;
    const hungry = loads.map((l) => l!.top.filter(([, fuel]) => fuel >= floor));
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
      if (this.move(r, live[lo]!.index)) {
        this.rebalanced++;
        return 0;
      }
    }
    return 0;
  }

  /** Sends a request whose answer comes later, in the pump (null: the worker went away first). */
  private askAsync(slot: Slot, op: 'idle' | 'load'): Promise<unknown> {
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.awaiting.set(req, (a) => resolve(a === null || !a.ok ? null : a.value));
      slot.awaiting.add(req);
      this.control(slot, { t: 'request', req, op, id: 0, bytes: null, options: null });
    });
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
      if (this.move(r, worker + 1)) return;
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
      // Leaving its home worker for the first time: the other workers send to it through this thread from now on
      // (held here until it lands), and it leaves only after what they sent it directly (their fences).
      if (!r.away) {
        r.away = true;
        for (const s of this.slots) {
          if (s === undefined || !s.alive) continue;
          this.control(s, { t: 'away', id: r.id, home: r.worker, fence: true });
          s.channel.flush(); // now: this thread waits for the answer below without a turn of its event loop
        }
      }
      // Until its first move off its home worker succeeds, every attempt waits for the fences (an attempt refused
      // for want of one leaves the fences that came at the home worker, for the next attempt).
      const fenced = !r.fenced;
      const out = this.ask(from, (req) => ({ t: 'request', req, op: 'emigrate', id: r.id, bytes: null, options: fenced ? { fenced: true } : null })) as { bytes: Uint8Array; callers: number[]; links: number[]; monitors: [number, number][]; watchers: [number, number][] } | null;
      if (out === null) return false;
      // Its ties are this thread's to answer for now (the workers forget what they recorded of them).
      this.owed.moved(r.id, out);
      if (fenced) {
        r.fenced = true;
        for (const s of this.slots) if (s !== undefined && s.alive) this.control(s, { t: 'moved', id: r.id });
      }
      this.sendDef(dest, def);
      const immigrate = (slot: Slot): void => {
        this.ask(slot, (req) => ({ t: 'request', req, op: 'immigrate', id: r.id, bytes: out.bytes, options: { hash: r.module, callers: out.callers, hostImports: r.imports === null ? [] : r.imports.fields.map(([m, f]) => [m, f, r.imports!.key]) } }));
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
    this.control(slot, { t: 'define', hash: def.hash, name: def.name, bytes: def.module.ast.bytes, limits: limits === undefined ? null : (limits as Record<string, number>) });
  }

  /** A module defined by name after the pool started: every worker learns it (guests spawn it by name). */
  defined(def: ModuleDef): void {
    for (const s of this.slots) if (s !== undefined && s.alive) this.sendDef(s, def);
  }

  private grantIds(slot: Slot): void {
    this.control(slot, { t: 'ids', first: this.newBlock(slot), count: ID_BLOCK });
  }

  /** A new block of ids for a worker, in the block table before any of its ids is given out. */
  private newBlock(slot: Slot): number {
    const first = this.system.allocIds(ID_BLOCK);
    this.table[blockIndex(first)] = slot.index;
    return first;
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
        throw new WorkerUnavailableError(slot.index, `worker ${slot.index} did not answer within ${timeout} ms`);
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

  private async pumpLoop(slot: Slot): Promise<void> {
    const channel = slot.channel;
    while (slot.alive && !this.closed) {
      this.pump(slot);
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
      this.owed.passed(s);
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
          this.system.addRemote(new RemoteActor(c.id, slot.index, c.tree, c.hash, c.mailbox), null, false);
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
        return;
      }
      case 'event':
        this.system.remoteEvent(c.event, c.payload);
        return;
      case 'log':
        this.system.writeLogLine(c.line);
        return;
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
      this.system.remoteExited(r.id, this.system.nameOf(r.id), reason, 0, undefined);
    }
    Atomics.sub(this.actors, 0, dead.length); // it counted them in the hive's actors, and cannot uncount them
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

