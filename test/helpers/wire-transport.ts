/**
 * What the test transports (serializing-transport.ts, gated-transport.ts)
 * share: a wire of FIFO lanes, one per sender and receiver (a call's request
 * is its actor's lane, not its reply address's), holding each envelope as
 * the bytes `encodeSignal` made; delivery on later macrotasks (`turn`, the
 * subclass's policy), never at the end of a slice; `drained()` waiters.
 */
import { decodeSignal, encodeSignal, type Signal } from '../../src/actors/protocol.js';
import type { Transport, TransportContext } from '../../src/actors/router.js';

/** The FIFO lane of an envelope. */
function lane(s: Signal): string {
  return `${s.t === 'message' ? s.sender : s.from}>${s.to}`;
}

export abstract class WireTransport implements Transport {
  /** Lanes in the order they were opened; a lane is dropped when it empties. */
  protected readonly lanes = new Map<string, Uint8Array[]>();
  protected closed = false;
  private timer: NodeJS.Immediate | null = null;
  private waiters: (() => void)[] = [];

  constructor(protected readonly ctx: TransportContext) {}

  abstract get inFlight(): number;

  /** One macrotask of delivery. */
  protected abstract turn(): void;

  /** A lane was opened (its first envelope posted). */
  protected opened(_key: string): void {}

  /** Delivers everything (a snapshot, close): the subclass's order. */
  abstract flush(): void;

  post(s: Signal): void {
    if (this.closed) return;
    const key = lane(s);
    let q = this.lanes.get(key);
    if (q === undefined) this.lanes.set(key, (q = []));
    if (q.length === 0) this.opened(key);
    q.push(encodeSignal(s));
    this.arm();
  }

  /** Delivers the head of a lane. */
  protected deliverHead(key: string, q: Uint8Array[]): Signal {
    const s = decodeSignal(q.shift()!);
    if (q.length === 0) this.lanes.delete(key);
    this.ctx.deliver(s);
    return s;
  }

  /** Makes sure a turn comes. */
  arm(): void {
    if (this.timer === null && !this.closed) this.timer = setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.closed) return;
    this.turn();
    if (this.inFlight > 0) this.arm();
    else this.wake();
  };

  protected wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  drained(): Promise<void> {
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  sliceEnded(): void {
    // Delivery waits for a later macrotask.
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.lanes.clear();
    this.wake();
  }
}
