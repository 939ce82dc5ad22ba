/**
 * The host's handles: `ActorRef` (send, call, stop, kill, snapshot an actor)
 * and `Inbox` (a mailbox on the host side, with an address actors can send
 * to). Both encode as pids inside messages.
 */
import { PID_ID } from './codec.js';
import { Kind, Status, Deque, type Envelope } from './envelope.js';
import { Mailbox } from './mailbox.js';
import type { BlockedSend } from './process.js';
import { ActorExitedError, CallTimeoutError } from './errors.js';
import type { Endpoint } from './process.js';
import type { Clock, Executor, TimerHandle } from '../scheduler/index.js';
import { LazySet } from './lazy.js';

/**
 * @internal What refs and inboxes ask of the actor system (system.ts
 * implements it; this file does not import the system).
 */
export interface RefHost {
  readonly clock: Clock;
  readonly executor: Executor;
  hostSend(to: number, value: unknown, from: number): void;
  hostSendWait(to: number, value: unknown, timeout: number, from: number): Promise<void>;
  hostCall(to: number, value: unknown, timeout: number, raw: boolean): Promise<unknown>;
  /** Sends `reason` as an exit signal and kills the actor after `timeout` ms if it is still alive; null when there is no such live actor. */
  stopActor(id: number, reason: string, timeout: number): Promise<string> | null;
  killActor(id: number): void;
  /** The exit promise of the live actor with this id, if any. */
  /** The exit of a live actor (`watch`: the promise goes to the user, and must resolve whatever becomes of this instance), undefined once gone. */
  exitedOf(id: number, watch?: boolean): Promise<string> | undefined;
  nameOf(id: number): string | null;
  info(id: number): ActorInfo | undefined;
  snapshot(id: number): Uint8Array;
  ref<In, Out>(id: number): ActorRef<In, Out>;
  received<T>(env: Envelope): Received<T>;
  removeEndpoint(id: number): void;
  failCallers(ep: Endpoint, reason: string): void;
}

/** Options of `ActorRef.call`. */
export interface CallOptions {
  /** Milliseconds of the hive's clock to wait for the answer (default 5,000; Infinity waits forever). */
  timeout?: number;
  /** Resolve with the answer's bytes instead of decoding them. */
  raw?: boolean;
}

/** Options of `ActorRef.send`. */
export interface SendOptions {
  /** The sender the actor sees (`sender()`, where `reply` goes): an inbox, an actor, or an id. Default 0, nobody. */
  from?: { readonly id: number } | number;
}

function fromId(from: SendOptions['from']): number {
  if (from === undefined) return 0;
  const id = typeof from === 'number' ? from : from.id;
  if (!(Number.isInteger(id) && id >= 0 && id <= 0x7fffffff)) throw new RangeError(`not an id: ${String(id)}`);
  return id;
}

/** A message as the host receives it. */
export interface Received<T = unknown> {
  kind: 'message' | 'exit' | 'down' | 'init';
  /** The sender's id (for exit and down: the actor that exited). */
  from: number;
  bytes: Uint8Array;
  /** The payload decoded from MessagePack (throws when it is not). */
  readonly value: T;
}

/** What a live actor looks like from the host. */
export interface ActorInfo {
  id: number;
  name: string | null;
  state: 'ready' | 'running' | 'parked' | 'exited';
  /** What it waits for when parked. */
  waiting: 'receive' | 'sleep' | 'call' | 'send' | 'link' | 'exit' | 'hive' | 'host' | null;
  mailbox: number;
  /** Bytes of the messages in its mailbox. */
  mailboxBytes: number;
  /** Exit signals and down messages waiting. */
  signals: number;
  links: number[];
  monitors: number;
  /** Log lines dropped by the rate limits. */
  logsDropped: number;
  /** The id of the actor its spawn tree was made for. */
  tree: number;
  trapExit: boolean;
  fuelUsed: number;
  memoryPages: number;
}

/**
 * A handle on an actor, typed by what it accepts (`In`) and answers (`Out`).
 * It stays valid after the actor exits: sends then fail with
 * `ActorExitedError`.
 */
export class ActorRef<In = unknown, Out = unknown> {
  readonly #host: RefHost;
  /** The exit of the actor this ref last saw under its id (kept so that `exited` answers after the exit). */
  #exited: Promise<string> | null = null;

  /** @internal Refs are made by the hive (`Hive.ref`, `spawn`, `whereis`). */
  constructor(host: RefHost, readonly id: number) {
    this.#host = host;
  }

  /** @internal The hive saw the actor of this id: keeps its exit promise. */
  seen(exited: Promise<string>): void {
    this.#exited = exited;
  }

  /**
   * Puts a message in the actor's mailbox (values are MessagePack-encoded,
   * bytes pass through). Throws MailboxFullError (nothing was sent),
   * ActorExitedError, SchemaError, MessageTooLargeError.
   */
  send(message: In, options: SendOptions = {}): void {
    this.#host.hostSend(this.id, message, fromId(options.from));
  }

  /** Like `send`, but waits up to `timeout` ms (default: forever) for room in a full mailbox. */
  sendWait(message: In, options: SendOptions & { timeout?: number } = {}): Promise<void> {
    return this.#host.hostSendWait(this.id, message, options.timeout ?? Infinity, fromId(options.from));
  }

  /**
   * Sends a request and resolves with the first message the actor sends to
   * its reply address (`reply`, or a send to `sender()`). Rejects with
   * CallTimeoutError, ActorExitedError (it exited first), MailboxFullError,
   * SchemaError.
   */
  call(message: In, options: CallOptions & { raw: true }): Promise<Uint8Array>;
  call(message: In, options?: CallOptions): Promise<Out>;
  call(message: In, options: CallOptions = {}): Promise<Out | Uint8Array> {
    return this.#host.hostCall(this.id, message, options.timeout ?? 5000, options.raw === true) as Promise<Out | Uint8Array>;
  }

  /**
   * Asks the actor to stop: an exit signal `shutdown` (an actor that traps
   * exits gets it as a message and may finish its work); kills it if it is
   * still alive after `timeout` ms (default 5,000). Resolves with the exit reason.
   */
  stop(options: { timeout?: number; reason?: string } = {}): Promise<string> {
    return this.#host.stopActor(this.id, options.reason ?? 'shutdown', options.timeout ?? 5000) ?? this.exited; // gone already: its reason, or 'noproc'
  }

  /** Ends the actor at once with reason `killed` (it cannot trap this). */
  kill(): void {
    this.#host.killActor(this.id);
  }

  /** Resolves with the exit reason when the actor exits ('noproc' if there was no such actor). */
  get exited(): Promise<string> {
    return this.#host.exitedOf(this.id, true) ?? this.#exited ?? Promise.resolve('noproc');
  }

  /** Whether the actor is alive. */
  get alive(): boolean {
    return this.#host.exitedOf(this.id) !== undefined;
  }

  /** The actor's registered name. */
  get name(): string | null {
    return this.#host.nameOf(this.id);
  }

  /** The actor's state, or undefined once it has exited. */
  info(): ActorInfo | undefined {
    return this.#host.info(this.id);
  }

  /** Snapshots the actor to bytes (see `Hive.snapshot`). */
  snapshot(): Uint8Array {
    return this.#host.snapshot(this.id);
  }

  /** @internal Its id, for the message codec (a ref in a message encodes as a pid). */
  get [PID_ID](): number {
    return this.id;
  }

  toString(): string {
    return `ActorRef<${this.id}>`;
  }
}

/** Options of `Hive.inbox`. */
export interface InboxOptions {
  /** Claims this address (for instance the one a restored actor answers). */
  id?: number;
  /** Registers the inbox under this name: guests `lookup` it, the host `whereis` it (freed when it closes). */
  name?: string;
  /** Messages it holds before senders wait or get FULL (default 10,000). */
  maxMessages?: number;
  /** Bytes of messages it holds (default 16 MiB; a message always fits an empty inbox). */
  maxBytes?: number;
}

/**
 * A mailbox on the host side: it has an id (put `inbox.ref` in messages), and
 * `receive` resolves with what actors send to it, in order. Exit signals of
 * actors it is not linked to do not reach it. It is bounded like an actor's
 * mailbox: past `maxMessages` or `maxBytes` waiting, senders wait for room
 * (or get FULL), so a guest flooding it cannot grow the host's memory.
 */
// An Endpoint of the system (structurally: `implements` would show the system's interface in the .d.ts).
export class Inbox<T = unknown> {
  /** @internal */
  readonly schema = undefined;
  /** @internal */
  readonly hostSide = true;
  /** @internal */
  readonly callers = new LazySet();
  private readonly queue: Mailbox;
  private readonly waiters = new Deque<{ resolve(r: Received<T>): void; reject(e: Error): void; timer: TimerHandle | null }>();
  private closed = false;
  readonly #host: RefHost;

  /** @internal Inboxes are made by `Hive.inbox`. */
  constructor(
    host: RefHost,
    readonly id: number,
    options: { maxMessages?: number; maxBytes?: number } = {},
  ) {
    const n = options.maxMessages ?? 10_000;
    const b = options.maxBytes ?? 16 << 20;
    for (const [k, v] of [['maxMessages', n], ['maxBytes', b]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`${k} must be a positive integer, got ${String(v)}`);
    }
    this.queue = new Mailbox(n, b);
    this.#host = host;
  }

  /** Messages it holds. */
  get maxMessages(): number {
    return this.queue.maxMessages;
  }

  /** An ActorRef of this address (sending to it from the host puts messages here too). */
  get ref(): ActorRef<T, never> {
    return this.#host.ref<T, never>(this.id);
  }

  /** @internal Its id, for the message codec (an inbox in a message encodes as a pid). */
  get [PID_ID](): number {
    return this.id;
  }

  /** Messages waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** @internal */
  hasRoom(size: number): boolean {
    return !this.closed && (this.waiters.length > 0 || this.queue.fits(size));
  }

  /** @internal */
  block(b: BlockedSend): void {
    this.queue.block(b);
  }

  /** @internal */
  unblock(b: BlockedSend): void {
    this.queue.unblock(b);
  }

  /** @internal */
  deliver(env: Envelope): void {
    const w = this.waiters.shift();
    if (w !== undefined) {
      if (w.timer !== null) this.#host.clock.clearTimer(w.timer);
      this.#host.executor.yieldSoon();
      w.resolve(this.#host.received<T>(env));
    } else {
      this.queue.push(env);
    }
  }

  /**
   * The next message; rejects with CallTimeoutError after `timeout` ms of the
   * hive's clock (default: waits forever), ActorExitedError once closed.
   */
  receive(options: { timeout?: number } = {}): Promise<Received<T>> {
    const env = this.queue.shift();
    if (env !== undefined) return Promise.resolve(this.#host.received<T>(env));
    if (this.closed) return Promise.reject(new ActorExitedError(this.id, 'closed'));
    const timeout = options.timeout ?? Infinity;
    const p = new Promise<Received<T>>((resolve, reject) => {
      const w = { resolve, reject, timer: null as TimerHandle | null };
      if (timeout !== Infinity) {
        w.timer = this.#host.clock.setTimer(this.#host.clock.now() + timeout, () => {
          this.waiters.remove((x) => x === w);
          reject(new CallTimeoutError(this.id, timeout));
        });
      }
      this.waiters.push(w);
    });
    // Awaited, it rejects as documented; left pending when the inbox closes (a script ending), it must not end the process as an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  /** The next message's decoded value. */
  async next(options: { timeout?: number } = {}): Promise<T> {
    return (await this.receive(options)).value;
  }

  /** Messages as they come, until the inbox is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Received<T>> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this.closed) return;
        throw e;
      }
    }
  }

  /**
   * Frees the address; waiting receives reject; calls actors made to it fail
   * (NOT_FOUND, as when an actor exits); later sends to it fail with NOT_FOUND.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#host.removeEndpoint(this.id);
    this.#host.failCallers(this, 'closed');
    // Its messages are dropped, and their bytes given back to the trees that sent them
    // (kept, they would count against those trees' maxTreeQueuedBytes for ever).
    this.queue.drain(() => {});
    for (let w = this.waiters.shift(); w !== undefined; w = this.waiters.shift()) {
      if (w.timer !== null) this.#host.clock.clearTimer(w.timer);
      w.reject(new ActorExitedError(this.id, 'closed'));
    }
  }
}


/** Statuses and kinds, for hosts that read raw envelopes. */
export { Status, Kind };
