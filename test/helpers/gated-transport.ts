/**
 * A test-only transport whose test decides when some envelopes arrive: it
 * delivers like a slow wire (on a later macrotask, FIFO per sender-receiver
 * lane, as test/helpers/serializing-transport.ts), except that envelopes
 * matching the gate's `hold` predicate stop their lane until `release()`.
 * Races between an exit and an envelope in flight (an ack after its
 * requester exited, a reply after its caller timed out) are then made
 * exactly, instead of hoping a shuffled order hits them.
 *
 * Held envelopes are not counted in `inFlight` (the wire is stopped: the
 * hive is idle while they wait), so `hive.idle()` returns with them held;
 * `flush()` (a snapshot) delivers them too, as it must deliver everything.
 */
import { decodeSignal, encodeSignal, type Signal } from '../../src/actors/protocol.js';
import type { Transport, TransportContext, TransportFactory } from '../../src/actors/router.js';

/** The test's handle on a gated transport. */
export interface Gate {
  /** Envelopes for which this is true stop their lane when they reach its head (null: none). */
  hold: ((s: Signal) => boolean) | null;
  /** Every envelope delivered so far, in order (decoded as the receiver got it). */
  readonly log: Signal[];
  /** Envelopes held now. */
  readonly held: number;
  /** Stops holding and delivers what was held, on a later macrotask. */
  release(): void;
  /** The factory to give `testHive({ transport })`. */
  readonly factory: TransportFactory;
}

function lane(s: Signal): string {
  return `${s.t === 'message' ? s.sender : s.from}>${s.to}`;
}

class GatedTransport implements Transport {
  private readonly lanes = new Map<string, Uint8Array[]>();
  private timer: NodeJS.Immediate | null = null;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly ctx: TransportContext,
    private readonly gate: { hold: ((s: Signal) => boolean) | null; log: Signal[] },
  ) {}

  /** Envelopes at the head of a lane that is not held, and those behind them. */
  get inFlight(): number {
    let n = 0;
    for (const q of this.lanes.values()) if (!this.isHeld(q)) n += q.length;
    return n;
  }

  /** Envelopes in lanes stopped by the gate. */
  get heldCount(): number {
    let n = 0;
    for (const q of this.lanes.values()) if (this.isHeld(q)) n += q.length;
    return n;
  }

  private isHeld(q: Uint8Array[]): boolean {
    const h = this.gate.hold;
    return h !== null && q.length > 0 && h(decodeSignal(q[0]!));
  }

  post(s: Signal): void {
    if (this.closed) return;
    const key = lane(s);
    let q = this.lanes.get(key);
    if (q === undefined) this.lanes.set(key, (q = []));
    q.push(encodeSignal(s));
    this.arm();
  }

  arm(): void {
    if (this.timer === null && !this.closed) this.timer = setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.timer = null;
    // One envelope per lane per turn, lanes in the order they were opened.
    for (const [key, q] of [...this.lanes]) {
      if (this.closed) return;
      if (q.length === 0 || this.isHeld(q)) continue;
      this.deliverHead(key, q);
    }
    if (this.inFlight > 0) this.arm();
    else this.wake();
  };

  private deliverHead(key: string, q: Uint8Array[]): void {
    const s = decodeSignal(q.shift()!);
    if (q.length === 0) this.lanes.delete(key);
    this.gate.log.push(s);
    this.ctx.deliver(s);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  drained(): Promise<void> {
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  flush(): void {
    for (let more = true; more && !this.closed; ) {
      more = false;
      for (const [key, q] of [...this.lanes]) {
        if (q.length === 0) continue;
        this.deliverHead(key, q);
        more = true;
      }
    }
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
    this.wake();
  }
}

/** A gated transport (test only): see the file's comment. */
export function gatedTransport(): Gate {
  let t: GatedTransport | null = null;
  const state = { hold: null as ((s: Signal) => boolean) | null, log: [] as Signal[] };
  return {
    get hold() {
      return state.hold;
    },
    set hold(h) {
      state.hold = h;
      t?.arm();
    },
    log: state.log,
    get held() {
      return t?.heldCount ?? 0;
    },
    release() {
      state.hold = null;
      t?.arm();
    },
    factory: (ctx) => (t = new GatedTransport(ctx, state)),
  };
}
