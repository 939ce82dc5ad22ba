/**
 * A bounded mailbox: ordinary messages in order, bounded in count and in
 * bytes, and the senders waiting for room (woken in order as room appears).
 * Each message's bytes are also counted against the spawn tree that sent it
 * (`Envelope.payer`) while they wait, blocked senders' included, so one
 * tree cannot make the host hold more than its `maxTreeQueuedBytes` however
 * many mailboxes it fills.
 */
import { Deque, Status, type Envelope } from './envelope.js';
import type { BlockedSend } from './process.js';
import { MESSAGE_OVERHEAD } from './limits.js';
import { LazySet } from './lazy.js';

/** Messages waiting to be taken, and senders waiting for room. */
export class Mailbox {
  private readonly queue = new Deque<Envelope>();
  private readonly waiting = new Deque<BlockedSend>();
  /**
   * The senders of `waiting` still waiting. One that stops waiting (its
   * timeout passed, it exited) leaves this set at once and its entry in
   * `waiting` is passed over later: taking it out of the queue there was
   * O(senders waiting), which thousands of senders timing out together
   * turned into seconds of the event loop.
   */
  private readonly live = new LazySet<BlockedSend>();
  /** Bytes of the messages queued. */
  private queuedBytes = 0;

  constructor(
    /** Messages it holds. */
    readonly maxMessages: number,
    /** Bytes it holds (a message always fits an empty mailbox). */
    readonly maxBytes: number,
  ) {}

  /** Messages queued. */
  get length(): number {
    return this.queue.length;
  }

  /** Bytes of the messages queued. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** Senders waiting for room. */
  get blocked(): number {
    return this.live.size;
  }

  /** Whether a message of `size` bytes fits now (not while others wait for room: they go first). */
  fits(size: number): boolean {
    return this.live.size === 0 && this.room(size);
  }

  private room(size: number): boolean {
    return this.queue.length < this.maxMessages && (this.queue.length === 0 || this.queuedBytes + size <= this.maxBytes);
  }

  /** Queues a message that fits, counting its bytes against its payer. */
  push(env: Envelope): void {
    if (env.payer) env.payer.queuedBytes += env.bytes.length + MESSAGE_OVERHEAD;
    this.add(env);
  }

  private add(env: Envelope): void {
    this.queue.push(env);
    this.queuedBytes += env.bytes.length;
  }

  /** Takes the next message; admits waiting senders that now fit. */
  shift(): Envelope | undefined {
    const env = this.queue.shift();
    if (env === undefined) return undefined;
    this.queuedBytes -= env.bytes.length;
    release(env);
    for (let b = this.firstWaiting(); b !== undefined && this.room(b.env.bytes.length); b = this.firstWaiting()) {
      this.waiting.shift();
      this.live.delete(b);
      this.add(b.env); // its payer was charged when it blocked
      b.done(Status.OK);
    }
    return env;
  }

  /** Queues a sender waiting for room; its message counts against its payer meanwhile. */
  block(b: BlockedSend): void {
    if (b.env.payer) b.env.payer.queuedBytes += b.env.bytes.length + MESSAGE_OVERHEAD;
    this.waiting.push(b);
    this.live.add(b);
  }

  /** The first sender still waiting (passing over, and dropping, those that stopped). */
  private firstWaiting(): BlockedSend | undefined {
    for (let b = this.waiting.peek(); b !== undefined; b = this.waiting.peek()) {
      if (this.live.has(b)) return b;
      this.waiting.shift();
    }
    return undefined;
  }

  /** Drops a waiting sender (its timeout passed, or it exited). */
  unblock(b: BlockedSend): void {
    if (!this.live.delete(b)) return;
    release(b.env);
    // Entries of senders that stopped waiting are dropped in one pass when they outnumber the
    // others: the queue stays within twice the senders waiting, at O(1) amortized per sender.
    if (this.waiting.length > 2 * this.live.size + 32) this.waiting.removeAll((x) => !this.live.has(x));
  }

  /** Waiting senders get NOT_FOUND (the receiver is going away). */
  failWaiting(): void {
    for (let b = this.waiting.shift(); b !== undefined; b = this.waiting.shift()) {
      if (!this.live.delete(b)) continue;
      release(b.env);
      b.done(Status.NOT_FOUND);
    }
  }

  /** Empties it: waiting senders get NOT_FOUND, each message goes to `dropped`. */
  drain(dropped: (env: Envelope) => void): void {
    this.failWaiting();
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) {
      this.queuedBytes -= e.bytes.length;
      release(e);
      dropped(e);
    }
  }

  /** The queued messages, in order. */
  toArray(): Envelope[] {
    return this.queue.toArray();
  }
}

/** Gives a message's bytes back to the tree that sent it. */
function release(env: Envelope): void {
  if (env.payer) env.payer.queuedBytes -= env.bytes.length + MESSAGE_OVERHEAD;
}
