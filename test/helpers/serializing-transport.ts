/**
 * A test-only transport for the executor conformance suite: every envelope
 * is serialized to bytes when posted and decoded when delivered, delivery
 * happens on a later macrotask, and envelopes are delivered in an order
 * shuffled by a seeded generator but causal: FIFO between one sender and one
 * receiver (Erlang's guarantee), nothing else. An actor system that passes
 * its tests over it depends neither on a shared heap nor on synchronous
 * delivery.
 *
 * `WASMHIVE_TRANSPORT=serializing` makes `testHive()` use it (the vitest
 * project `conformance` sets it); `WASMHIVE_TRANSPORT_SEED` picks the order.
 */
import { decodeSignal, encodeSignal, type Signal } from '../../src/actors/protocol.js';
import type { Transport, TransportContext, TransportFactory } from '../../src/actors/router.js';

/** Whether the tests of this run go over the serializing transport. */
export const SERIALIZING = process.env['WASMHIVE_TRANSPORT'] === 'serializing';

/** The seed of this run's delivery order. */
export const TRANSPORT_SEED = Number(process.env['WASMHIVE_TRANSPORT_SEED'] ?? 1);

/** The FIFO lane of an envelope: its sending party and its receiver (a call's request is its actor's, not its reply address's). */
function lane(s: Signal): string {
  return `${s.t === 'message' ? s.sender : s.from}>${s.to}`;
}

class SerializingTransport implements Transport {
  private readonly lanes = new Map<string, Uint8Array[]>();
  /** Lanes with envelopes waiting. */
  private readonly busy: string[] = [];
  private count = 0;
  private timer: NodeJS.Immediate | null = null;
  private closed = false;
  private waiters: (() => void)[] = [];
  private rng: number;

  constructor(
    private readonly ctx: TransportContext,
    seed: number,
  ) {
    this.rng = seed >>> 0 || 1;
  }

  get inFlight(): number {
    return this.count;
  }

  post(s: Signal): void {
    if (this.closed) return;
    const bytes = encodeSignal(s);
    const key = lane(s);
    let q = this.lanes.get(key);
    if (q === undefined) this.lanes.set(key, (q = []));
    if (q.length === 0) this.busy.push(key);
    q.push(bytes);
    this.count++;
    this.arm();
  }

  /** xorshift32: the delivery order, from the seed. */
  private next(n: number): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng % n;
  }

  private arm(): void {
    if (this.timer === null && !this.closed) this.timer = setImmediate(this.turn);
  }

  /** One macrotask: delivers a few envelopes, each the head of a lane picked at random. */
  private readonly turn = (): void => {
    this.timer = null;
    // A random number of deliveries per macrotask: shuffles how deliveries and slices interleave.
    const n = 1 + this.next(32);
    for (let i = 0; i < n && this.count > 0 && !this.closed; i++) this.deliverOne();
    if (this.count > 0) this.arm();
    else this.wake();
  };

  private deliverOne(): void {
    const i = this.next(this.busy.length);
    const key = this.busy[i]!;
    const q = this.lanes.get(key)!;
    const bytes = q.shift()!;
    if (q.length === 0) {
      this.busy[i] = this.busy[this.busy.length - 1]!;
      this.busy.pop();
      this.lanes.delete(key);
    }
    this.count--;
    this.ctx.deliver(decodeSignal(bytes));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  drained(): Promise<void> {
    if (this.count === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  flush(): void {
    while (this.count > 0 && !this.closed) this.deliverOne();
    this.wake();
  }

  sliceEnded(): void {
    // Delivery waits for a later macrotask.
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.lanes.clear();
    this.busy.length = 0;
    this.count = 0;
    this.wake();
  }
}

/** A serializing, shuffling transport (test only). */
export function serializingTransport(seed = TRANSPORT_SEED): TransportFactory {
  return (ctx) => new SerializingTransport(ctx, seed);
}
