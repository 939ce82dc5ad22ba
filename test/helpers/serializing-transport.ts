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
import type { TransportContext, TransportFactory } from '../../src/actors/router.js';
import { WireTransport } from './wire-transport.js';

/** Whether the tests of this run go over the serializing transport. */
export const SERIALIZING = process.env['WASMHIVE_TRANSPORT'] === 'serializing';

/** The seed of this run's delivery order. */
export const TRANSPORT_SEED = Number(process.env['WASMHIVE_TRANSPORT_SEED'] ?? 1);

class SerializingTransport extends WireTransport {
  /** Lanes with envelopes waiting. */
  private readonly busy: string[] = [];
  private rng: number;

  constructor(ctx: TransportContext, seed: number) {
    super(ctx);
    this.rng = seed >>> 0 || 1;
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.lanes.values()) n += q.length;
    return n;
  }

  protected override opened(key: string): void {
    this.busy.push(key);
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

  /** One macrotask: delivers a few envelopes, each the head of a lane picked at random. */
  protected turn(): void {
    // A random number of deliveries per macrotask: shuffles how deliveries and slices interleave.
    const n = 1 + this.next(32);
    for (let i = 0; i < n && this.busy.length > 0 && !this.closed; i++) this.deliverOne();
  }

  private deliverOne(): void {
    const i = this.next(this.busy.length);
    const key = this.busy[i]!;
    const q = this.lanes.get(key)!;
    if (q.length === 1) {
      this.busy[i] = this.busy[this.busy.length - 1]!;
      this.busy.pop();
    }
    this.deliverHead(key, q);
  }

  flush(): void {
    while (this.busy.length > 0 && !this.closed) this.deliverOne();
    this.wake();
  }

  override close(): void {
    super.close();
    this.busy.length = 0;
  }
}

/** A serializing, shuffling transport (test only). */
export function serializingTransport(seed = TRANSPORT_SEED): TransportFactory {
  return (ctx) => new SerializingTransport(ctx, seed);
}
