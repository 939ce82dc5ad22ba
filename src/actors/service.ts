/**
 * Native services: handlers the host registers once (`Hive.service`) and
 * grants to actors at spawn. A service is an address of the hive's main
 * thread, like a host inbox, whose messages are requests
 * `[callNumber, [method, request]]` (the caller's runtime wraps the
 * guest's `[method, request]` with its call's number) and whose answers are
 * `[status, body]` (docs/guest-abi.md, "Services"). Requests wait in a
 * bounded queue for one of `concurrency` slots; a full queue makes callers
 * wait for room, as a full mailbox does.
 *
 * Guests never hold a service's address: they address the services they were
 * granted by their index in their own grant list (SERVICE_BASE + index),
 * which their runtime translates (see ActorSystem.serviceRequest); anything
 * else in that range, and any service not granted, is NOT_FOUND.
 */
import type { Clock, TimerHandle } from '../scheduler/index.js';
import { ServiceError, type RequestOf, type ResponseOf, type ServiceContext, type ServiceHandlers, type ServiceMethod, type ServiceOptions } from '../bindings/service.js';
import { checkSchema, decode, encode } from './codec.js';
import { Status, type Envelope } from './envelope.js';
import { HiveStateError, SchemaError } from './errors.js';
import { LazySet } from './lazy.js';
import { Mailbox } from './mailbox.js';
import type { BlockedSend } from './process.js';

/** First address of the range guests address services in: SERVICE_BASE + the index of the service in the actor's grants. No actor has an id there. */
export const SERVICE_BASE = 0x7fff0000;
/** @internal Services a hive may register, and grants an actor may hold (the range's size). */
export const MAX_SERVICES = 0x10000;

/**
 * @internal An actor's grants after a restore: of the snapshot's list, the
 * names the host grants again keep their places (so their addresses); the
 * others become null (NOT_FOUND).
 */
export function grantsOnRestore(saved: readonly (string | null)[], granted: readonly string[] | undefined): (string | null)[] {
  if (saved.length === 0) return [];
  const ok = new Set(granted ?? []);
  return saved.map((n) => (n !== null && ok.has(n) ? n : null));
}

/** @internal The handlers (or definition) a module exports for `Hive.workerService`, imported on the thread that asks. */
export async function importService(url: string, exportName: string): Promise<ServiceHandlers> {
  const mod = (await import(url)) as Record<string, unknown>;
  const given = mod[exportName];
  if (typeof given !== 'object' || given === null) throw new TypeError(`the module ${url} exports no object ${exportName}`);
  return given as ServiceHandlers;
}

/** @internal Whether an id is in the services' range. */
export function isServiceAddress(id: number): boolean {
  return id >= SERVICE_BASE && id <= 0x7fffffff;
}

/** @internal What the service needs of the hive (the system implements it). */
export interface ServiceSystem {
  readonly clock: Clock;
  /** Sends an answer from the host to a call's reply address (gone: dropped). */
  answer(replyTo: number, bytes: Uint8Array): void;
  /** The name an actor is registered under. */
  nameOf(pid: number): string | null;
  /** The services an actor was granted. */
  grantsOf(pid: number): readonly string[];
  /** The service closed: its address goes, its pending callers fail. */
  serviceClosed(s: Service): void;
  /** Ends a calling actor, as a trap would (`failures: 'trap'`). */
  endCaller(pid: number, reason: string): void;
  log(level: 'debug' | 'warn', msg: string, obj: object): void;
}

/** A failure with a status, answered as `[status, message]`. */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

const NO_GRANTS: readonly string[] = Object.freeze([]);

/** The answer `[status, text]`. */
function failure(status: number, text: string): Uint8Array {
  return encode([status, text]);
}

/**
 * A registered native service. Its handle: `call` runs a method from the
 * host (as a guest's call would, without the grant), `close` unregisters it.
 */
// An Endpoint of the system (structurally, as Inbox).
export class Service<H extends ServiceHandlers = ServiceHandlers> {
  /** @internal */
  readonly schema = undefined;
  /** @internal */
  readonly hostSide = true;
  /** @internal Reply addresses of calls to it not yet answered (they fail with NOT_FOUND when it closes). */
  readonly callers = new LazySet();
  readonly #host: ServiceSystem;
  readonly #handlers: H;
  readonly #queue: Mailbox;
  readonly #concurrency: number;
  readonly #timeout: number;
  readonly #schemas: ServiceOptions<H>['schemas'];
  readonly #trap: boolean;
  #running = 0;
  #closed = false;
  readonly #onClose: (() => void) | undefined;
  /** @internal Whether a call pending at a snapshot is sent again after a restore. */
  readonly idempotent: boolean;

  /** @internal Services are made by `Hive.service`. */
  constructor(
    host: ServiceSystem,
    /** @internal Its address (in the services' range; never given to guests). */
    readonly id: number,
    /** The name it is granted under. */
    readonly name: string,
    handlers: H,
    options: ServiceOptions<H> = {},
    onClose?: () => void,
  ) {
    for (const [k, v] of Object.entries(handlers)) {
      if (typeof v !== 'function') throw new TypeError(`service ${name}: method ${k} is not a function`);
    }
    const concurrency = options.concurrency ?? 64;
    const maxQueue = options.maxQueue ?? 1000;
    const maxQueueBytes = options.maxQueueBytes ?? 16 << 20;
    for (const [k, v] of [['concurrency', concurrency], ['maxQueue', maxQueue], ['maxQueueBytes', maxQueueBytes]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`service ${name}: ${k} must be a positive integer, got ${String(v)}`);
    }
    const timeout = options.timeout ?? Infinity;
    if (!(timeout === Infinity || (Number.isFinite(timeout) && timeout > 0))) throw new RangeError(`service ${name}: timeout must be a positive number of ms, got ${String(timeout)}`);
    this.#host = host;
    this.#handlers = handlers;
    this.#queue = new Mailbox(maxQueue, maxQueueBytes);
    this.#concurrency = concurrency;
    this.#timeout = timeout;
    this.#schemas = options.schemas;
    if (options.failures !== undefined && options.failures !== 'answer' && options.failures !== 'trap') throw new RangeError(`service ${name}: failures is 'answer' or 'trap', got ${String(options.failures)}`);
    this.#trap = options.failures === 'trap';
    this.idempotent = options.idempotent === true;
    this.#onClose = onClose;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running;
  }

  /** Whether it was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs a method from the host (caller 0): the request and the response
   * pass the schemas and MessagePack as a guest's would. Rejects with the
   * handler's error, a SchemaError, or HiveStateError once closed.
   */
  async call<M extends keyof H & string>(method: M, request: RequestOf<H[M]>): Promise<ResponseOf<H[M]>> {
    if (this.#closed) throw new HiveStateError(`service ${this.name} is closed`);
    const fn = this.#method(method);
    if (fn === undefined) throw new RangeError(`service ${this.name} has no method ${method}`);
    const req = decode(encode(request));
    const s = this.#schemas?.[method];
    if (s?.request !== undefined) {
      const issues = checkSchema(s.request, req);
      if (issues.length > 0) throw new SchemaError('in', 0, issues);
    }
    const res = await fn(req as never, { service: this.name, caller: 0, callerName: null, grants: NO_GRANTS, callId: 'host' });
    if (s?.response !== undefined) {
      const issues = checkSchema(s.response, res);
      if (issues.length > 0) throw new SchemaError('out', 0, issues);
    }
    return decode(encode(res)) as ResponseOf<H[M]>;
  }

  /** Unregisters it: later calls get NOT_FOUND, waiting ones fail (NOT_FOUND); handlers running finish, their answers dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.drain(() => {});
    this.#host.serviceClosed(this);
    this.#onClose?.();
  }

  /** @internal */
  hasRoom(size: number): boolean {
    return !this.#closed && (this.#running < this.#concurrency || this.#queue.fits(size));
  }

  /** @internal */
  block(b: BlockedSend): void {
    this.#queue.block(b);
  }

  /** @internal */
  unblock(b: BlockedSend): void {
    this.#queue.unblock(b);
  }

  /** @internal A request that fits: run now, or queued for a slot. `env.sender`: the caller. */
  deliver(env: Envelope): void {
    if (this.#running < this.#concurrency) this.#run(env);
    else this.#queue.push(env);
  }

  #method(method: string): ServiceMethod<never, unknown> | undefined {
    return Object.hasOwn(this.#handlers, method) ? this.#handlers[method] : undefined;
  }

  /** Runs one request; answers its reply address (a send from an actor, `from` its own id, gets no answer). */
  #run(env: Envelope): void {
    const caller = env.sender ?? 0;
    const replyTo = env.from !== caller ? env.from : 0;
    let settled = false;
    let timer: TimerHandle | null = null;
    const done = (bytes: Uint8Array | null): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) this.#host.clock.clearTimer(timer);
      if (replyTo !== 0 && bytes !== null) this.#host.answer(replyTo, bytes);
    };
    const parsed = this.#parse(env.bytes);
    if (parsed instanceof Refusal) return done(failure(parsed.status, parsed.message));
    const [method, fn, request, n] = parsed;
    const ctx: ServiceContext = { service: this.name, caller, callerName: caller === 0 ? null : this.#host.nameOf(caller), grants: caller === 0 ? NO_GRANTS : this.#host.grantsOf(caller), callId: `${caller}:${n}` };
    this.#running++;
    const finish = (): void => {
      this.#running--;
      this.#next();
    };
    const ok = (res: unknown): void => {
      finish();
      if (settled) return;
      const s = this.#schemas?.[method];
      if (s?.response !== undefined) {
        const issues = checkSchema(s.response, res);
        if (issues.length > 0) {
          this.#host.log('warn', 'a service\'s response was refused by its schema', { service: this.name, method, issues });
          return done(failure(Status.INVALID, `the response was refused by the service's schema: ${issues.join('; ')}`));
        }
      }
      let bytes: Uint8Array;
      try {
        bytes = encode([Status.OK, res]);
      } catch (e) {
        return done(failure(Status.FAILED, `the response has no MessagePack form: ${(e as Error).message}`));
      }
      done(bytes);
    };
    const fail = (e: unknown): void => {
      finish();
      if (settled) return;
      this.#host.log('debug', 'a service\'s handler failed', { service: this.name, method, err: e });
      if (this.#trap && caller !== 0) {
        done(null); // settled, unanswered: the caller ends instead
        return this.#host.endCaller(caller, `trap: service ${this.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      done(e instanceof ServiceError ? failure(e.status, e.message) : failure(Status.FAILED, e instanceof Error ? e.message : String(e)));
    };
    if (this.#timeout !== Infinity && replyTo !== 0) {
      timer = this.#host.clock.setTimer(this.#host.clock.now() + this.#timeout, () => {
        timer = null;
        done(failure(Status.TIMEOUT, `the service did not answer within ${this.#timeout} ms`));
      });
    }
    let r: unknown;
    try {
      r = fn(request as never, ctx);
    } catch (e) {
      return fail(e);
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') (r as PromiseLike<unknown>).then(ok, fail);
    else ok(r);
  }

  /** A request's method, handler, request value (checked) and call number, or why it is refused. */
  #parse(bytes: Uint8Array): [string, ServiceMethod<never, unknown>, unknown, number] | Refusal {
    let v: unknown;
    try {
      v = decode(bytes);
    } catch {
      return new Refusal(Status.BAD_ARGUMENT, 'a service request is MessagePack [method, request]');
    }
    // [n, [method, request]]: the call's number, written by the caller's runtime, then the guest's request (see numbered).
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number') return new Refusal(Status.BAD_ARGUMENT, 'a service request is MessagePack [method, request]');
    const n = v[0];
    const r: unknown = v[1];
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'string') return new Refusal(Status.BAD_ARGUMENT, 'a service request is MessagePack [method, request]');
    const method = r[0];
    const fn = this.#method(method);
    if (fn === undefined) return new Refusal(Status.BAD_ARGUMENT, `service ${this.name} has no method ${method}`);
    const request: unknown = r[1];
    const s = this.#schemas?.[method];
    if (s?.request !== undefined) {
      const issues = checkSchema(s.request, request);
      if (issues.length > 0) return new Refusal(Status.INVALID, `the request was refused by the service's schema: ${issues.join('; ')}`);
    }
    return [method, fn, request, n];
  }

  /** A slot came free: the next waiting request runs. */
  #next(): void {
    while (this.#running < this.#concurrency && !this.#closed) {
      const env = this.#queue.shift();
      if (env === undefined) return;
      this.#run(env);
    }
  }
}
