/**
 * A worker thread of a pooled hive (pool.ts): one partition of the hive's
 * actors. It runs an actor system of its own on an inline executor, takes
 * envelopes and control requests from the main thread over its channel
 * (channel.ts), and sends back what its actors send to the main thread's
 * addresses, their births and exits, and its events. Envelopes to another
 * worker's actors go over the ring between the two workers (the shared
 * block table says whose block an id is in), except for actors that moved
 * (away: through the main thread, which knows where they are). Loaded by
 * piscina; the partition is the one long task the main thread runs on this
 * worker, and ends when the hive closes (or the thread dies, which the main
 * thread sees as that task failing).
 */
import { threadId } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import { pino } from 'pino';
import { Module, warmUp } from '../vm/index.js';
import { ManualClock } from '../scheduler/index.js';
import { Doorbell } from '../scheduler/ring.js';
import { Channel } from './channel.js';
import { Obligations } from './obligations.js';
import type { Partition } from './partition.js';
import { blockOwner, treeOfKey, readControl, readSignal, writeControl, writeSignal, STATE_READY, STATE_THREAD, WireKind, type AgentMessage, type AgentTask, type AnswerControl, type HostFunctions, type PartitionTask, type PoolControl, type RequestControl, type Signal, type StartControl, type ServiceModuleControl, type InspectQuery, type IdsControl, type FrozenCounts } from './protocol.js';
import { ActorSystem } from './system.js';
import { SERVICE_BASE, importService } from './service.js';
import { HiveStateError, LimitError } from './errors.js';
import { inspectActor } from './inspect.js';
import { restoreActor } from './snapshot.js';
import { LogGate, type ActorLimits } from './limits.js';
import type { EventSink, HostImports, ModuleDef } from './types.js';

/** Events a worker sends the main thread a second, at most (see eventGate). */
const EVENTS_PER_SECOND = 10_000;

/** Ids a worker asks for more of when fewer than this are left in its blocks. */
const IDS_LOW = 1 << 15;

/**
 * How long a `fenced` request (before a first move off the home worker)
 * waits for the other workers' fences (AwayControl) and for this worker's
 * envelopes to them to leave its overflow queues, before it answers false
 * (the main thread, which awaits it, asks again; the fences that came are
 * kept).
 */
const FENCE_WAIT_MS = 1_000;

/**
 * How long a worker stays frozen for a group snapshot across threads without
 * the main thread's thaw (which comes within a few of its requests): past it
 * the worker goes on, and refuses the snapshot's later requests.
 */
const FREEZE_TIMEOUT_MS = 5_000;

/**
 * Milliseconds between two sends of the bytes given back to other threads'
 * spawn trees while a worker stays busy (it sends them whenever it has
 * nothing to run, too): how long a tree may stay counted for messages that
 * left. (Every 32 slices was about one record per message with 64 trees.)
 */
const REFUND_MS = 5;

/** One worker's partition. */
class WorkerPartition implements Partition {
  readonly role = 'worker' as const;
  readonly system: ActorSystem;
  readonly actors: Int32Array;
  readonly logWindow: Int32Array;
  private readonly channel: Channel;
  /** The rings to and from the other workers that started with the hive, by slot (closed and gone when one dies). */
  private readonly peers = new Map<number, Channel>();
  /** The same channels in an array: checked and flushed after every slice, where a Map's iterator costs. */
  private peerList: Channel[] = [];
  /** Whether a channel has records queued since the last flushAll (the check after each slice). */
  private queued = false;
  /** Sleeps on it when no ring has anything: the main thread and the peers ring it. */
  private readonly bell: Doorbell;
  /** The shared block table (which worker each block of ids went to). */
  private readonly table: Uint8Array;
  /** Reply addresses of calls whose request passed the main thread (from or to an actor away): their ends go the same way. */
  private readonly viaMain = new Set<number>();
  /** Reply addresses here that took such an answer, whose ack goes back through the main thread. */
  private readonly ackViaMain = new Set<number>();
  /** Actors that left their home worker: envelopes to them go through the main thread. */
  private readonly away = new Set<number>();
  /** What the actors of other workers owe this worker's, over the rings between them (answered here if one dies). */
  private readonly owed = new Obligations();
  /** Fences received for actors of this worker about to move: id -> the slots that sent one. */
  private readonly fences = new Map<number, Set<number>>();
  /** `fenced` requests waiting for fences (see AwayControl): answered true once all came, false at the deadline. */
  private readonly fenced: { req: number; id: number; deadline: number }[] = [];
  /** Polls the moves waiting (fences, overflow queues draining) while there are any. */
  private fenceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Blocks of ids to give out: [next, end) pairs, the current one first. */
  private readonly blocks: number[] = [];
  private askedIds = false;
  /** The main thread has no block left to give (the end of the id space): a spawn that finds no id left is refused. */
  private noIdsLeft = false;
  /** The hive's idsBelow, kept by the main thread (see idsBelow). */
  private readonly idsWord: Uint32Array;
  private closed = false;
  /** Modules the main thread sent, by hash. */
  private readonly defs = new Map<string, ModuleDef>();
  private pumping = false;
  /** Held still for a group snapshot across threads (see freeze). */
  private frozen = false;
  /**
   * `limit` and `deadLetter` events sent to the main thread, at most
   * EVENTS_PER_SECOND a second: a guest hitting a limit in a loop must not
   * flood the main thread (one guest made ~600,000 a second).
   */
  private readonly eventGate = new LogGate(EVENTS_PER_SECOND);
  private eventsDropped(n: number): void {
    this.system.logger.warn({ dropped: n }, `dropped ${n} limit and deadLetter events of this worker's actors (over ${EVENTS_PER_SECOND} a second)`);
  }
  private readonly clock: ManualClock | null;
  /** The main thread's host functions (comlink). */
  private readonly host: Comlink.Remote<HostFunctions>;

  constructor(private readonly task: PartitionTask) {
    this.channel = new Channel(task.up, task.down, true, undefined, this.flushSoon);
    this.bell = new Doorbell(task.bell);
    this.table = new Uint8Array(task.blocks);
    this.idsWord = new Uint32Array(task.idsBelow);
    for (const p of task.peers) this.peers.set(p.slot, new Channel(p.out, p.in, true, p.bell, this.flushSoon));
    this.peerList = [...this.peers.values()];
    this.actors = new Int32Array(task.actors);
    this.logWindow = new Int32Array(task.logWindow);
    this.host = Comlink.wrap<HostFunctions>(nodeEndpoint(task.hostPort));
    // Calls in flight keep the thread's event loop going; an idle partition must not hold it.
    task.hostPort.unref();
    this.clock = task.manualClock === null ? null : new ManualClock(task.manualClock);
    const sink: EventSink = {
      emit: (event, payload) => {
        if ((event === 'limit' || event === 'deadLetter') && this.eventGate.admit(Date.now(), this.eventsDropped, this)) {
          const p = payload as unknown as Record<string, unknown>;
          this.control({ t: 'event', event, payload: event === 'limit' ? p : { from: p['from'], to: p['to'], bytes: p['bytes'], reason: p['reason'] } });
        }
        return true;
      },
      listenerCount: (event) => (event === 'limit' || event === 'deadLetter' ? 1 : 0),
    };
    this.system = new ActorSystem(
      {
        seed: task.seed,
        maxMessageBytes: task.maxMessageBytes,
        limits: task.limits,
        hiveLimits: task.hiveLimits,
        signals: task.signals,
        ...(this.clock !== null ? { clock: this.clock } : {}),
        // Its lines go to the hive's logger's destination, on the main thread.
        logger: pino({ level: task.logLevel }, { write: (line: string) => this.control({ t: 'log', line }) }),
      },
      sink,
      this,
    );
  }

  /** Runs until the hive closes. */
  async run(): Promise<string> {
    const state = new Int32Array(this.task.state);
    Atomics.store(state, STATE_THREAD, threadId);
    Atomics.store(state, STATE_READY, 1);
    Atomics.notify(state, STATE_READY);
    const readable = (): boolean => this.readable();
    const closed = (): boolean => this.channel.closed;
    while (!this.closed) {
      this.takeArrived();
      if (this.closed) break;
      // A turn of the event loop between batches (the executor's slices, host-function answers, timers), and while
      // its actors have slices to run (each slice's end takes what arrived): waiting for the others comes after.
      if (this.readable() || this.system.executor.queued > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      // What the batch sent goes before the spin (its flush would otherwise wait for the spin's end), and the
      // bytes given back to other threads' trees (sent in batches while there is work, see ActorSystem.foreignChanged).
      this.system.flushRefunds();
      this.flushAll();
      const w = await this.bell.wait(readable, closed);
      if (w === 'closed') break;
    }
    if (!this.closed) this.shutdown();
    return 'closed';
  }

  // Partition

  /**
   * What was sent on every channel, written now: the rings to other workers
   * first, then the main thread's. So whatever reaches another worker through
   * the main thread was sent after what this thread wrote to that worker
   * directly, which is there to read by then (see pump).
   */
  private readonly flushAll = (): void => {
    this.queued = false;
    for (const p of this.peerList) p.flush();
    this.channel.flush();
  };

  /**
   * A channel's first record of a batch: flushed with the others after the
   * slice, or at the end of the task. One microtask for all the slices of an
   * executor's drain (its slices run in one task; each one's end flushes).
   */
  private readonly flushSoon = (): void => {
    this.queued = true;
    if (this.flushTaskQueued) return;
    this.flushTaskQueued = true;
    queueMicrotask(this.flushTask);
  };
  private flushTaskQueued = false;
  private readonly flushTask = (): void => {
    this.flushTaskQueued = false;
    if (this.queued) this.flushAll();
  };

  /**
   * To another worker's actor over the ring between the two; anything else
   * through the main thread: the main thread's addresses, an actor away from
   * its home worker, and what an actor away from its own home sends (its
   * earlier envelopes went over its old worker's rings, and the main
   * thread's ring is read after those, see pump: per sender and receiver,
   * order holds).
   */
  send(s: Signal): void {
    let away = this.away.size > 0 && (this.away.has(s.to) || this.away.has(s.from) || (s.t === 'message' && this.away.has(s.sender)));
    if (this.viaMain.size > 0 && this.answersViaMain(s)) away = true;
    // The ack of such an answer too (the main thread recorded the answer's request for an ack as it passed).
    if (s.t === 'ack' && this.ackViaMain.size > 0 && this.ackViaMain.delete(s.from)) away = true;
    if (away && s.t === 'message' && s.call) this.viaMain.add(s.from); // its answer comes through the main thread too
    if (!away) {
      const owner = blockOwner(this.table, s.to);
      const peer = owner !== 0 ? this.peers.get(owner) : undefined;
      if (peer !== undefined && !peer.closed) {
        this.owed.sent(s);
        peer.send(writeSignal(s));
        return;
      }
    }
    this.channel.send(writeSignal(s));
  }

  /**
   * Whether `s` ends a call whose request passed the main thread (its answer,
   * the callee's DOWN, the caller giving up): it goes the same way, so that the
   * main thread, which recorded the call as it passed, sees it end. Forgets it.
   */
  private answersViaMain(s: Signal): boolean {
    const reply = s.t === 'message' || s.t === 'down' ? s.to : s.t === 'demonitor' ? s.from : 0;
    if (reply === 0 || !this.viaMain.has(reply)) return false;
    if (s.t === 'message' || (s.t === 'down' && s.ref === 0) || (s.t === 'demonitor' && s.ref === 0)) this.viaMain.delete(reply);
    return true;
  }

  /** Whether a ring it reads has a record. */
  private readable(): boolean {
    if (this.channel.readable) return true;
    for (const p of this.peerList) if (p.readable) return true;
    return false;
  }

  /** `readable` as a hint, for the end of every slice (Channel.mayBeReadable): the pump's `readable` confirms it before parking. */
  private mayBeReadable(): boolean {
    if (this.channel.mayBeReadable) return true;
    for (const p of this.peerList) if (p.mayBeReadable) return true;
    return false;
  }

  /** This partition's number (see PartitionTask.tag). */
  get threadSlot(): number {
    return this.task.tag;
  }

  /**
   * Bytes for another thread's spawn tree (see ForeignTree): over the ring
   * to its worker when there is one (a worker that started with the hive:
   * its number is its slot), else through the main thread.
   */
  refund(key: number, delta: number): void {
    const k = treeOfKey(key);
    if (k === null) return;
    if (k.thread === this.task.tag) return this.system.refunded(key, delta);
    const peer = this.peers.get(k.thread);
    if (peer !== undefined && !peer.closed) peer.send(writeControl({ t: 'refund', key, delta }));
    else this.control({ t: 'refund', key, delta });
  }

  /** Bytes for a spawn tree of this partition's, from the thread where messages it sent waited. */
  private refunded(key: number, delta: number): void {
    const k = treeOfKey(key);
    if (k !== null && k.thread === this.task.tag) this.system.refunded(key, delta);
  }

  /** Everything this worker does not hold is the main thread's to route. */
  elsewhere(): boolean {
    return true;
  }

  allocId(): number {
    const b = this.blocks;
    while (b.length > 0 && b[0]! >= b[1]!) b.splice(0, 2);
    if (b.length === 0) {
      // The hive gave out its last ids (as inline: LimitError 'ids', a guest's spawn gets LIMIT).
      if (this.noIdsLeft) throw new LimitError('ids', SERVICE_BASE - 1, 0);
      throw new Error('this worker has no ids left (the main thread did not answer in time)');
    }
    const id = b[0]!;
    b[0] = id + 1;
    this.askIdsIfLow();
    return id;
  }

  /** Asks the main thread for another block when fewer than IDS_LOW ids are left in its blocks (once until it comes). */
  private askIdsIfLow(): void {
    if (this.askedIds || this.noIdsLeft) return;
    const b = this.blocks;
    let left = 0;
    for (let i = 0; i < b.length; i += 2) left += b[i + 1]! - b[i]!;
    if (left < IDS_LOW) {
      this.askedIds = true;
      this.control({ t: 'want-ids' });
    }
  }

  /**
   * The hive's idsBelow (see Partition.idsBelow): the main thread hands out
   * the blocks and its own ids, and keeps it in a shared word as it rises.
   */
  idsBelow(): number {
    return Atomics.load(this.idsWord, 0);
  }

  /**
   * Takes an `ids` control: drops the ids below `below` (a restore on the
   * main thread reserved them), then takes the block it brings, or learns
   * that none is left.
   */
  private takeIds(c: IdsControl): void {
    const b = this.blocks;
    if (c.below !== undefined) {
      for (let i = 0; i < b.length; i += 2) b[i] = Math.min(Math.max(b[i]!, c.below), b[i + 1]!);
      for (let i = b.length - 2; i >= 0; i -= 2) if (b[i]! >= b[i + 1]!) b.splice(i, 2);
    }
    if (c.none === true) this.noIdsLeft = true;
    if (c.count > 0) {
      b.push(c.first, c.first + c.count);
      this.askedIds = false;
    }
    this.askIdsIfLow();
  }

  born(id: number, name: string | null, hash: string, tree: number, mailbox: number, services: readonly (string | null)[]): void {
    this.control(services.length === 0 ? { t: 'born', id, name, hash, tree, mailbox } : { t: 'born', id, name, hash, tree, mailbox, services });
  }

  died(id: number, name: string | null, reason: string, fuelUsed: number, trap: { message: string; phase: string } | null): void {
    this.control({ t: 'died', id, name, reason, fuelUsed, trap });
  }

  /**
   * After a slice: what arrived meanwhile is taken and delivered now, not
   * after the executor's whole turn, and what the slice (and those
   * deliveries: acks, noproc DOWNs) sent goes now. So an actor woken by an
   * envelope from another thread joins the round before the actor whose
   * slice just ended is put back, and waits for at most one slice of each
   * other ready actor here, as on one thread.
   */
  sliceEnded(): void {
    // Delivered here, not on the local transport's own turn at the end of the round (a slice more per hop).
    if (!this.pumping && this.mayBeReadable()) this.takeArrived();
    // Bytes given back to other threads' trees, under load every REFUND_MS (see ActorSystem.flushRefunds; the clock
    // is read every 16 slices).
    if ((++this.slices & 15) === 0) {
      const now = performance.now();
      if (now - this.refundsSentAt >= REFUND_MS) {
        this.refundsSentAt = now;
        this.system.flushRefunds();
      }
    }
    if (this.queued) this.flushAll();
  }
  private slices = 0;
  private refundsSentAt = 0;

  /**
   * Takes what the rings hold and delivers its envelopes at once: they wake
   * their actors now, not on the local transport's turn (after a slice, a
   * slice more per hop; on an idle worker's loop, a drain of the executor
   * more: the woken actor ran only in the drain after the transport's).
   */
  private takeArrived(): void {
    this.pump();
    if (!this.closed) this.system.deliverArrived();
  }

  // The channel

  private control(c: PoolControl): void {
    this.channel.send(writeControl(c));
  }

  /**
   * Takes what arrived. The main thread's records are read first and handled
   * last: what another worker sent here directly before anything that
   * reached the main thread and came on from there (a host's request after
   * a guest's answer, a message of an actor that moved) is in its ring by
   * the time the main thread's record is read (see flushAll), and is handled
   * first, as on one thread.
   */
  private pump(): void {
    this.pumping = true;
    try {
      this.takeAll();
    } finally {
      this.pumping = false;
    }
  }

  /** What the rings hold now: the main thread's records read first and handled last (see pump). */
  private takeAll(): void {
    const fromMain: Uint8Array[] = [];
    this.channel.receive((r) => fromMain.push(r));
    for (const [slot, peer] of this.peers) this.pumpPeer(slot, peer);
    for (const r of fromMain) {
      if (this.closed) return;
      this.takeFromMain(r);
    }
  }

  /** A record of the main thread's: an envelope (routed here through it) or a control. */
  private takeFromMain(r: Uint8Array): void {
    if (r[0] === WireKind.SIGNAL) {
      const s = readSignal(r);
      if (s.t === 'message') {
        // A call that passed the main thread: its answer goes back that way (see answersViaMain); an answer that came that way ends one.
        if (s.call) this.viaMain.add(s.from);
        else if (this.viaMain.size > 0 && this.viaMain.delete(s.to) && s.seq !== 0) this.ackViaMain.add(s.to);
      } else if (s.t === 'down' && s.ref === 0 && this.viaMain.size > 0) this.viaMain.delete(s.to);
      this.system.arrived(s);
    } else this.onControl(readControl(r));
  }

  /**
   * Held still for a group snapshot across threads (answering `freeze`):
   * until `thaw` (or FREEZE_TIMEOUT_MS) this thread runs no slice and no
   * timer and does not return to its event loop; it takes what its rings
   * bring (envelopes land in mailboxes; what the system answers for them, an
   * ack or an exit signal, goes out) and answers the main thread's requests,
   * `drain` with its rings' counts, which the main thread compares across
   * the workers it froze until nothing is left between them.
   */
  private freeze(req: number): void {
    if (this.frozen) return this.fail(req, new Error('this worker is frozen already'));
    this.frozen = true;
    const deadline = performance.now() + FREEZE_TIMEOUT_MS;
    const readable = (): boolean => this.readable();
    try {
      this.answer(req, this.frozenCounts());
      while (this.frozen && !this.closed) {
        this.takeAll();
        if (this.closed) return;
        this.system.deliverArrived();
        this.flushAll();
        for (const p of this.peers.values()) p.pushOverflow();
        this.channel.pushOverflow();
        if (!this.frozen) return;
        const left = deadline - performance.now();
        if (left <= 0) {
          this.system.logger.warn(`a freeze for a group snapshot lasted over ${FREEZE_TIMEOUT_MS} ms without a thaw: this worker goes on`);
          return;
        }
        if (!this.readable()) this.bell.waitSync(readable, Math.min(left, 5));
      }
    } finally {
      this.frozen = false;
    }
  }

  /** A frozen worker's rings to and from the others (see freeze). */
  private frozenCounts(): FrozenCounts {
    return { peers: [...this.peers].map(([slot, p]) => [slot, p.sent, p.received, p.backlog] as const) };
  }

  /** Takes what another worker sent over the ring between the two. */
  private pumpPeer(slot: number, peer: Channel): void {
    peer.receive((r) => {
      if (this.closed) return;
      if (r[0] === WireKind.SIGNAL) {
        const s = readSignal(r);
        this.owed.took(s);
        this.system.arrived(s);
        return;
      }
      const c = readControl(r);
      if (c.t === 'refund') return this.refunded(c.key, c.delta);
      if (c.t === 'fence') {
        let got = this.fences.get(c.id);
        if (got === undefined) this.fences.set(c.id, (got = new Set()));
        got.add(slot);
        this.checkFences();
      }
    });
  }

  /**
   * Serves the moves whose fences all came (from every worker it still has
   * a ring with), and refuses those whose time ran out (the actor stays).
   */
  private checkFences(): void {
    for (let i = 0; i < this.fenced.length; i++) {
      const f = this.fenced[i]!;
      const all = this.fencesIn(f.id);
      if (!all && performance.now() < f.deadline) continue;
      this.fenced.splice(i--, 1);
      this.answer(f.req, all); // false: not yet (the fences that came stay for the next request)
    }
    if (this.fenced.length > 0 && this.fenceTimer === null) {
      this.fenceTimer = setTimeout(() => {
        this.fenceTimer = null;
        this.checkFences();
      }, 1);
    }
  }

  /**
   * Whether actor `id` may leave its home worker now: every worker this one
   * has a ring with sent its fence, and what this worker sent the others
   * directly is in their rings (not waiting in an overflow queue: what the
   * actor sends from its next worker goes through the main thread, and must
   * not overtake it).
   */
  private fencesIn(id: number): boolean {
    const got = this.fences.get(id);
    for (const [slot, p] of this.peers) if (!p.closed && (got?.has(slot) !== true || p.backlog > 0)) return false;
    return true;
  }

  private onControl(c: PoolControl): void {
    switch (c.t) {
      case 'services':
        this.system.setServices(c.table);
        break;
      case 'service-module':
        void this.loadService(c);
        break;
      case 'define': {
        const module = new Module(c.bytes, c.compile);
        // Its host functions (if any) run on the main thread: a guest's spawn of it here calls them there.
        const imports = this.hostImports(c.hostImports ?? []);
        const options = { ...(c.limits === null ? {} : { limits: c.limits as Partial<ActorLimits> }), ...(imports !== undefined ? { imports } : {}) };
        if (c.name !== null && this.system.modules.byName(c.name) === undefined) this.system.modules.define(c.name, module, options);
        this.defs.set(c.hash, c.name !== null ? this.system.modules.byName(c.name)! : { name: null, module, hash: c.hash, options });
        return;
      }
      case 'start':
        return this.start(c);
      case 'terminate': {
        const a = this.system.actor(c.id);
        if (a !== undefined && a.alive) this.system.terminate(a, c.reason);
        return;
      }
      case 'ids':
        return this.takeIds(c);
      case 'request':
        return this.serve(c);
      case 'time':
        if (this.clock !== null && c.now > this.clock.now()) this.clock.set(c.now);
        return;
      case 'close':
        this.shutdown();
        return;
      case 'away': {
        // From now on through the main thread; the home worker learns nothing more comes this way for it.
        this.away.add(c.id);
        const home = c.home !== this.task.slot ? this.peers.get(c.home) : undefined;
        if (c.fence && home !== undefined && !home.closed) home.send(writeControl({ t: 'fence', id: c.id }));
        return;
      }
      case 'moved':
        this.owed.drop(c.id);
        return;
      case 'refund':
        return this.refunded(c.key, c.delta);
      case 'forget':
        this.away.delete(c.id);
        this.fences.delete(c.id);
        return;
      case 'lost':
        return this.lost(c.slot, c.dead, c.reason);
      default:
        return;
    }
  }

  /**
   * Worker `slot` died: what its actors owed this worker's over the ring
   * between the two is answered now, in their names (acks NOT_FOUND, calls
   * failed, EXIT along links, DOWN to monitors); envelopes to its blocks go
   * through the main thread from now on.
   */
  private lost(slot: number, dead: readonly number[], reason: string): void {
    const peer = this.peers.get(slot);
    if (peer !== undefined) {
      // What it wrote before it died is taken first.
      try {
        this.pumpPeer(slot, peer);
      } catch {
        // a record cut short by the death
      }
      peer.close();
      this.peers.delete(slot);
      this.peerList = [...this.peers.values()];
    }
    // What its mailboxes would have given back to this thread's trees never comes (see forgiveRemote).
    this.system.forgiveRemote();
    const ids = new Set(dead);
    const gone = (id: number): boolean => ids.has(id) || (blockOwner(this.table, id) === slot && !this.away.has(id));
    for (const s of this.owed.owedBy(gone, reason)) {
      if (this.system.endpoint(s.to) !== undefined) this.system.arrived(s);
      else this.send(s);
    }
    this.checkFences();
  }

  private start(c: StartControl): void {
    try {
      const def = this.defs.get(c.hash);
      if (def === undefined) throw new Error(`module ${c.hash} was not sent to this worker`);
      const imports = this.hostImports(c.hostImports);
      this.system.startPlaced(def, c.id, { name: c.name, init: c.init, tree: c.tree, linkTo: c.linkTo, options: { ...(c.limits === null ? {} : { limits: c.limits as Partial<ActorLimits> }), ...(imports !== undefined ? { imports } : {}) }, services: c.services });
      this.answer(c.req, null);
    } catch (e) {
      this.fail(c.req, e);
    }
  }

  private serve(c: RequestControl): void {
    try {
      // What arrived before the request is delivered first: the answer sees it (an unlink, a message); and the
      // bytes owed to other threads' trees go before the answer.
      this.system.deliverArrived();
      this.system.flushRefunds();
      switch (c.op) {
        case 'info':
          return this.answer(c.req, this.system.info(c.id) ?? null);
        case 'snapshot':
          return this.answer(c.req, this.system.snapshot(c.id));
        case 'snapshot-group':
          if (c.options?.['frozen'] === true && !this.frozen) throw new HiveStateError('this worker is not frozen (a freeze ran out of time): the group snapshot is refused');
          return this.answer(c.req, this.system.snapshotGroup((c.options?.['ids'] as number[] | undefined) ?? []));
        case 'ping':
          return this.answer(c.req, 'pong');
        case 'freeze':
          return this.freeze(c.req);
        case 'drain':
          // Asked while frozen: what came is delivered (above), and the counts say what is still between the workers.
          if (!this.frozen) throw new HiveStateError('this worker is not frozen (a freeze ran out of time): the group snapshot is refused');
          return this.answer(c.req, this.frozenCounts());
        case 'thaw':
          this.frozen = false;
          return this.answer(c.req, null);
        case 'inspect':
          // Tests' questions about an actor here (a fixed set of queries, answered with plain data).
          if (c.options?.['q'] === 'moves') return this.answer(c.req, { away: this.away.size, fences: this.fences.size });
          return this.answer(c.req, inspectActor(this.system, c.id, c.options as unknown as InspectQuery));
        case 'terminate': {
          const a = this.system.actor(c.id);
          if (a !== undefined && a.alive) this.system.terminate(a, String(c.options?.['reason'] ?? 'killed'));
          return this.answer(c.req, null);
        }
        case 'link':
          return this.answer(c.req, this.system.linkFrom(c.id, Number(c.options?.['from'] ?? 0)));
        case 'fenced':
          // Answered once every other worker's fence came (see AwayControl), asynchronously: the main thread awaits it.
          this.fenced.push({ req: c.req, id: c.id, deadline: performance.now() + FENCE_WAIT_MS });
          this.checkFences();
          return;
        case 'emigrate': {
          // Not before every other worker's fence: what they sent it over their rings comes first (see AwayControl).
          if (c.options?.['fenced'] === true && !this.fencesIn(c.id)) return this.answer(c.req, null);
          const out = this.system.emigrate(c.id);
          if (out !== null) this.fences.delete(c.id);
          return this.answer(c.req, out);
        }
        case 'restore': {
          // A host's restore the main thread placed here, under the id it chose.
          const o = c.options ?? {};
          const def = this.defs.get(String(o['hash']));
          if (def === undefined) throw new Error(`module ${String(o['hash'])} was not sent to this worker`);
          const imports = this.hostImports((o['hostImports'] as [string, string, number][] | undefined) ?? []);
          const tree = Number(o['tree'] ?? 0);
          restoreActor(this.system, c.bytes!, def, {
            at: c.id,
            name: (o['name'] as string | null | undefined) ?? null,
            missingLinks: o['missingLinks'] === 'signal' ? 'signal' : 'drop',
            originalLives: o['originalLives'] === true,
            ...(tree !== 0 ? { tree } : {}),
            ...(o['limits'] != null ? { limits: o['limits'] as Partial<ActorLimits> } : {}),
            ...(imports !== undefined ? { imports } : {}),
            services: (o['services'] as string[] | undefined) ?? [],
          });
          return this.answer(c.req, null);
        }
        case 'restore-group': {
          // A host's group restore the main thread placed here (it made the records and checked ids and names).
          const o = c.options ?? {};
          const hashes = (o['hashes'] as string[] | undefined) ?? [];
          const defs = hashes.map((h) => {
            const def = this.defs.get(h);
            if (def === undefined) throw new Error(`module ${h} was not sent to this worker`);
            return def;
          });
          const imports = ((o['hostImports'] as [string, string, number][][] | undefined) ?? []).map((f) => this.hostImports(f));
          const tree = Number(o['tree'] ?? 0);
          this.system.restoreGroupPlaced(c.bytes!, defs, { missingLinks: o['missingLinks'] === 'signal' ? 'signal' : 'drop', ...(tree !== 0 ? { tree } : {}), services: (o['services'] as string[] | undefined) ?? [] }, imports);
          return this.answer(c.req, null);
        }
        case 'immigrate': {
          const def = this.defs.get(String(c.options?.['hash']));
          if (def === undefined) throw new Error(`module ${String(c.options?.['hash'])} was not sent to this worker`);
          this.system.immigrate(c.bytes!, def, (c.options?.['callers'] as number[] | undefined) ?? [], this.hostImports((c.options?.['hostImports'] as [string, string, number][] | undefined) ?? []), (c.options?.['payers'] as number[] | undefined) ?? []);
          return this.answer(c.req, null);
        }
        case 'load':
          return this.answer(c.req, this.system.loadSample());
        case 'idle':
          // Answered once nothing here is ready to run, with the channel's counts then.
          this.answerIdle(c.req);
          return;
        default:
          throw new Error(`request '${c.op}' is not served by this worker`);
      }
    } catch (e) {
      this.fail(c.req, e);
    }
  }

  /**
   * Answers an idle request once nothing here is ready to run and nothing
   * waits in its rings, with the channels' counts then (a record taken after
   * the executor went idle, whose actor has not run yet, must not be
   * counted as handled: the main thread compares the counts across threads).
   */
  private answerIdle(req: number): void {
    void this.system.idle().then(() => {
      if (this.closed) return;
      if (this.readable() || this.system.executor.queued > 0) {
        setImmediate(() => this.answerIdle(req));
        return;
      }
      this.system.flushRefunds(); // (its records count in the channels' counts below)
      this.flushAll();
      this.answer(req, { received: this.channel.received, sent: this.channel.sent, peers: [...this.peers].map(([slot, p]) => [slot, p.sent, p.received]) });
    });
  }

  /**
   * Imports that call the main thread's host functions: each returns a
   * Promise, which parks the actor until the answer comes (as a host
   * function returning a Promise does on the main thread).
   */
  private hostImports(fields: readonly (readonly [string, string, number])[]): HostImports | undefined {
    if (fields.length === 0) return undefined;
    const imports: HostImports = {};
    // (comlink's Promise of what the main thread's function returned: the engine checks the value.)
    for (const [mod, field, key] of fields) (imports[mod] ??= {})[field] = (...args: unknown[]) => this.host.call(key, mod, field, args) as Promise<number>;
    return imports;
  }

  /**
   * A service declared to run in each worker: its module is imported here and
   * the service mounted under its address, so this worker's actors call it
   * without leaving the thread (until then, and if the import fails, their
   * calls go to the main thread's copy).
   */
  private async loadService(c: ServiceModuleControl): Promise<void> {
    try {
      const given = await importService(c.module.url, c.module.export);
      // Closed (or the partition ended) while it loaded: nothing to mount.
      if (this.closed || !this.system.services.some(([, id]) => id === c.id)) return;
      this.system.mountService(c.name, c.id, given, c.module.options, false);
    } catch (e) {
      this.system.logger.warn({ err: e, service: c.name }, 'a service to run in each worker failed to load: its calls go to the main thread');
    }
  }

  private answer(req: number, value: unknown): void {
    const a: AnswerControl = { t: 'answer', req, ok: true, value, error: null };
    this.control(a);
  }

  private fail(req: number, e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const x = err as Error & { limit?: string; value?: number; phase?: string };
    this.control({
      t: 'answer',
      req,
      ok: false,
      value: null,
      error: { name: err.name, message: err.message, ...(typeof x.limit === 'string' ? { limit: x.limit, value: x.value ?? 0 } : {}), ...(typeof x.phase === 'string' ? { phase: x.phase } : {}) },
    });
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fenceTimer !== null) clearTimeout(this.fenceTimer);
    this.fenced.length = 0;
    this.system.close();
    this.channel.close();
    for (const p of this.peers.values()) p.close();
  }
}

/**
 * The agent (piscina's handler; one long task per thread): starts the
 * partitions the main thread asks for, each running until its hive closes,
 * and ends when the pool closes.
 */
export default function runAgent(task: AgentTask): Promise<string> {
  return new Promise((resolve) => {
    task.port.on('message', (m: AgentMessage) => {
      if (m.t === 'partition') void new WorkerPartition(m.task).run();
      else {
        task.port.close();
        resolve('stopped');
      }
    });
    // The interpreter's warm-up before the thread says it is up (WorkerPool.ready): V8 then compiles the loop in
    // the background while the pool waits for its first hive, not under that hive's first actors.
    warmUp();
    task.port.postMessage({ t: 'hello', threadId });
  });
}
