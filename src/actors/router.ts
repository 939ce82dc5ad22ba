/**
 * The router's seam: the `Transport` that carries relay envelopes
 * (protocol.ts) from their sender's side to their receiver's, and the
 * inline transport of one thread. A transport delivers each envelope later,
 * never from inside `post`, and keeps the order of the envelopes between one
 * sender and one receiver; nothing else about order or timing is promised,
 * so the actor system works unchanged over a transport that serializes
 * envelopes, shuffles them or puts them on other threads.
 */
import type { Executor, Runnable } from '../scheduler/index.js';
import { Deque } from './envelope.js';
import type { Signal } from './protocol.js';

/** Carries envelopes to the receiver's side, which handles them in `deliver`. */
export interface Transport {
  /** Takes an envelope; it is delivered later, never during this call. */
  post(s: Signal): void;
  /** Envelopes posted and not delivered yet. */
  readonly inFlight: number;
  /** Resolves when nothing is in flight (at once when nothing is). */
  drained(): Promise<void>;
  /**
   * Delivers everything in flight now (in an order the transport could have
   * delivered it in), so that a snapshot sees no envelope between its
   * actors. A transport across threads or machines cannot, and throws.
   */
  flush(): void;
  /**
   * Called after each slice of an actor: a transport may deliver what the
   * slice posted now, before the next slice (the inline one does: a message
   * then waits for no more than it did when delivery was a call).
   */
  sliceEnded(): void;
  /** Stops delivering; envelopes in flight are dropped. */
  close(): void;
}

/** What a transport hands envelopes to, and runs on. */
export interface TransportContext {
  /** The receiver's side: handles one envelope. */
  deliver(s: Signal): void;
  /** The executor of the hive's actors (a transport may run its deliveries as a runnable of it). */
  readonly executor: Executor;
}

/** Makes a hive's transport. */
export type TransportFactory = (ctx: TransportContext) => Transport;

/** Envelopes one turn of the inline transport delivers at most (then the actors it woke get their turns). */
const DELIVERIES_PER_TURN = 4096;

/**
 * The transport of one thread: envelopes wait in one queue (so their order
 * is the order they were posted, FIFO for every pair) and are delivered by
 * a runnable of the hive's executor, which takes its turn among the actors.
 */
export class InlineTransport implements Transport, Runnable {
  private readonly queue = new Deque<Signal>();
  private scheduled = false;
  private closed = false;
  private waiters: (() => void)[] = [];
  /** Its own group: deliveries take one turn per round, as a spawn tree does. */
  readonly group = this;

  constructor(private readonly ctx: TransportContext) {}

  get inFlight(): number {
    return this.queue.length;
  }

  post(s: Signal): void {
    if (this.closed) return;
    this.queue.push(s);
    if (!this.scheduled) {
      this.scheduled = true;
      this.ctx.executor.schedule(this);
    }
  }

  /** Delivers what is queued, up to a turn's worth; true when more is left. */
  runSlice(): boolean {
    for (let n = 0; n < DELIVERIES_PER_TURN; n++) {
      const s = this.queue.shift();
      if (s === undefined) break;
      this.ctx.deliver(s);
      if (this.closed) return false;
    }
    if (this.queue.length > 0) return true;
    this.scheduled = false;
    const w = this.waiters;
    if (w.length > 0) {
      this.waiters = [];
      for (const f of w) f();
    }
    return false;
  }

  sliceEnded(): void {
    this.flush();
  }

  flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const s = this.queue.shift()!;
      this.ctx.deliver(s);
    }
  }

  drained(): Promise<void> {
    if (this.queue.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** The default transport factory: one thread, inline. */
export const inlineTransport: TransportFactory = (ctx) => new InlineTransport(ctx);
