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
import { decodeSignal, type Signal } from '../../src/actors/protocol.js';
import type { TransportContext, TransportFactory } from '../../src/actors/router.js';
import { WireTransport } from './wire-transport.js';

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

class GatedTransport extends WireTransport {
  constructor(
    ctx: TransportContext,
    private readonly gate: { hold: ((s: Signal) => boolean) | null; log: Signal[] },
  ) {
    super(ctx);
  }

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

  /** One envelope per lane per turn, lanes in the order they were opened; held lanes wait. */
  protected turn(): void {
    for (const [key, q] of [...this.lanes]) {
      if (this.closed) return;
      if (q.length === 0 || this.isHeld(q)) continue;
      this.gate.log.push(this.deliverHead(key, q));
    }
  }

  flush(): void {
    for (let more = true; more && !this.closed; ) {
      more = false;
      for (const [key, q] of [...this.lanes]) {
        if (q.length === 0) continue;
        this.gate.log.push(this.deliverHead(key, q));
        more = true;
      }
    }
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
