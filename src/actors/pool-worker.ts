/**
 * A worker thread of a pooled hive (pool.ts): one partition of the hive's
 * actors. It runs an actor system of its own on an inline executor, takes
 * envelopes and control requests from the main thread over its channel
 * (channel.ts), and sends back what its actors send elsewhere, their births
 * and exits, and its events. Loaded by piscina; the partition is the one
 * long task the main thread runs on this worker, and ends when the hive
 * closes (or the thread dies, which the main thread sees as that task
 * failing).
 */
import { threadId } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import type { Imports } from '../vm/index.js';
import { pino } from 'pino';
import { Module } from '../vm/index.js';
import { ManualClock } from '../scheduler/index.js';
import { Channel } from './channel.js';
import type { Partition } from './partition.js';
import { readControl, readSignal, writeControl, writeSignal, STATE_READY, STATE_THREAD, WireKind, type AgentMessage, type AgentTask, type AnswerControl, type HostFunctions, type PartitionTask, type PoolControl, type RequestControl, type Signal, type StartControl } from './protocol.js';
import { ActorSystem } from './system.js';
import { LogGate, type ActorLimits } from './limits.js';
import type { EventSink, ModuleDef } from './types.js';

/** Events a worker sends the main thread a second, at most (see eventGate). */
const EVENTS_PER_SECOND = 10_000;

/** Ids a worker asks for more of when fewer than this are left in its blocks. */
const IDS_LOW = 1 << 15;

/** One worker's partition. */
class WorkerPartition implements Partition {
  readonly role = 'worker' as const;
  readonly system: ActorSystem;
  readonly actors: Int32Array;
  readonly logWindow: Int32Array;
  private readonly channel: Channel;
  /** Blocks of ids to give out: [next, end) pairs, the current one first. */
  private readonly blocks: number[] = [];
  private askedIds = false;
  private closed = false;
  /** Modules the main thread sent, by hash. */
  private readonly defs = new Map<string, ModuleDef>();
  private pumping = false;
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
    this.channel = new Channel(task.up, task.down, true);
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
    while (!this.closed) {
      this.pump();
      if (this.closed) break;
      // A turn of the event loop between batches (the executor's slices, host-function answers, timers).
      if (this.channel.readable) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const w = await this.channel.waitReadable();
      if (w === 'closed') break;
    }
    if (!this.closed) this.shutdown();
    return 'closed';
  }

  // Partition

  send(s: Signal): void {
    this.channel.send(writeSignal(s));
  }

  /** Everything this worker does not hold is the main thread's to route. */
  elsewhere(): boolean {
    return true;
  }

  allocId(): number {
    const b = this.blocks;
    while (b.length > 0 && b[0]! >= b[1]!) b.splice(0, 2);
    if (b.length === 0) throw new Error('this worker has no ids left (the main thread did not answer in time)');
    const id = b[0]!;
    b[0] = id + 1;
    let left = 0;
    for (let i = 0; i < b.length; i += 2) left += b[i + 1]! - b[i]!;
    if (left < IDS_LOW && !this.askedIds) {
      this.askedIds = true;
      this.control({ t: 'want-ids' });
    }
    return id;
  }

  born(id: number, name: string | null, hash: string, tree: number, mailbox: number): void {
    this.control({ t: 'born', id, name, hash, tree, mailbox });
  }

  died(id: number, name: string | null, reason: string, fuelUsed: number, trap: { message: string; phase: string } | null): void {
    this.control({ t: 'died', id, name, reason, fuelUsed, trap });
  }

  /** After a slice: what arrived meanwhile is taken now, not after the executor's whole turn. */
  sliceEnded(): void {
    // What the slice sent goes now (not at the end of the executor's turn), and what arrived is taken.
    this.channel.flush();
    if (!this.pumping && this.channel.readable) this.pump();
  }

  // The channel

  private control(c: PoolControl): void {
    this.channel.send(writeControl(c));
  }

  private pump(): void {
    this.pumping = true;
    try {
      this.channel.receive((r) => {
        if (this.closed) return;
        if (r[0] === WireKind.SIGNAL) this.system.arrived(readSignal(r));
        else this.onControl(readControl(r));
      });
    } finally {
      this.pumping = false;
    }
  }

  private onControl(c: PoolControl): void {
    switch (c.t) {
      case 'define': {
        const module = new Module(c.bytes);
        const options = c.limits === null ? {} : { limits: c.limits as Partial<ActorLimits> };
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
        this.blocks.push(c.first, c.first + c.count);
        this.askedIds = false;
        return;
      case 'request':
        return this.serve(c);
      case 'time':
        if (this.clock !== null && c.now > this.clock.now()) this.clock.set(c.now);
        return;
      case 'close':
        this.shutdown();
        return;
      default:
        return;
    }
  }

  private start(c: StartControl): void {
    try {
      const def = this.defs.get(c.hash);
      if (def === undefined) throw new Error(`module ${c.hash} was not sent to this worker`);
      const imports = this.hostImports(c.hostImports);
      this.system.startPlaced(def, c.id, { name: c.name, init: c.init, tree: c.tree, linkTo: c.linkTo, options: { ...(c.limits === null ? {} : { limits: c.limits as Partial<ActorLimits> }), ...(imports !== undefined ? { imports } : {}) } });
      this.answer(c.req, null);
    } catch (e) {
      this.fail(c.req, e);
    }
  }

  private serve(c: RequestControl): void {
    try {
      // What arrived before the request is delivered first: the answer sees it (an unlink, a message).
      this.system.deliverArrived();
      switch (c.op) {
        case 'info':
          return this.answer(c.req, this.system.info(c.id) ?? null);
        case 'snapshot':
          return this.answer(c.req, this.system.snapshot(c.id));
        case 'ping':
          return this.answer(c.req, 'pong');
        case 'terminate': {
          const a = this.system.actor(c.id);
          if (a !== undefined && a.alive) this.system.terminate(a, String(c.options?.['reason'] ?? 'killed'));
          return this.answer(c.req, null);
        }
        case 'link':
          return this.answer(c.req, this.system.linkFrom(c.id, Number(c.options?.['from'] ?? 0)));
        case 'emigrate':
          return this.answer(c.req, this.system.emigrate(c.id));
        case 'immigrate': {
          const def = this.defs.get(String(c.options?.['hash']));
          if (def === undefined) throw new Error(`module ${String(c.options?.['hash'])} was not sent to this worker`);
          this.system.immigrate(c.bytes!, def, (c.options?.['callers'] as number[] | undefined) ?? [], this.hostImports((c.options?.['hostImports'] as [string, string, number][] | undefined) ?? []));
          return this.answer(c.req, null);
        }
        case 'load':
          return this.answer(c.req, this.system.loadSample());
        case 'idle':
          // Answered once nothing here is ready to run, with the channel's counts then.
          void this.system.idle().then(() => this.answer(c.req, { received: this.channel.received, sent: this.channel.sent }));
          return;
        default:
          throw new Error(`request '${c.op}' is not served by this worker`);
      }
    } catch (e) {
      this.fail(c.req, e);
    }
  }

  /**
   * Imports that call the main thread's host functions: each returns a
   * Promise, which parks the actor until the answer comes (as a host
   * function returning a Promise does on the main thread).
   */
  private hostImports(fields: readonly (readonly [string, string, number])[]): Imports | undefined {
    if (fields.length === 0) return undefined;
    const imports: Imports = {};
    for (const [mod, field, key] of fields) (imports[mod] ??= {})[field] = (...args: unknown[]) => this.host.call(key, mod, field, args);
    return imports;
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
    this.system.close();
    this.channel.close();
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
    task.port.postMessage({ t: 'hello', threadId });
  });
}
