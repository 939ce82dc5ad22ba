/**
 * The contract of a native service, as the host writes one: methods that
 * take a decoded request and the caller's context and return a response
 * (or a Promise of one), options, and, for services that act on their own
 * (a timer sending later), what they get of the hive when registered. The
 * actor runtime (src/actors/service.ts) serves them to guests; the built-in
 * services (./services) are written against this contract only.
 */

/** What a handler is told of a call. */
export interface ServiceContext {
  /** The service's name. */
  readonly service: string;
  /** The calling actor's pid; 0 for the host's own `Service.call`. */
  readonly caller: number;
  /** The name the caller is registered under, if any (when the request arrived). */
  readonly callerName: string | null;
  /** The services the caller was granted (this one among them); none for the host. */
  readonly grants: readonly string[];
  /**
   * The call's id: the caller's pid and the number of its call to a service
   * (`"<pid>:<n>"`), kept across snapshots: a call sent again after a
   * restore (to an idempotent service) has the id it had. Unique within a
   * hive and the hives its actors' snapshots are restored in; a new hive
   * gives its actors the same ids again, so a service keeping ids in a
   * durable store must add a namespace of its own.
   */
  readonly callId: string;
}

/** A method of a service: a request in, a response (or a Promise of one) out. Both travel as MessagePack. */
export type ServiceMethod<Req = never, Res = unknown> = (request: Req, ctx: ServiceContext) => Res | Promise<Res>;

/** A service's methods by name. */
export type ServiceHandlers = { readonly [method: string]: ServiceMethod<never, unknown> };

/** The request type of a method. */
export type RequestOf<F> = F extends (request: infer R, ctx: ServiceContext) => unknown ? R : never;
/** The response type of a method. */
export type ResponseOf<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** What may check a request or a response: a Standard Schema, a `parse`-style schema, or a predicate returning true, false or an error text. */
export type ServiceSchema =
  | { readonly '~standard': { validate(value: unknown): unknown } }
  | { parse(value: unknown): unknown }
  | ((value: unknown) => boolean | string | undefined | void);

/** Options of a service. */
export interface ServiceOptions<H extends ServiceHandlers = ServiceHandlers> {
  /** Handlers running at once (default 64); more requests wait in the queue. */
  concurrency?: number;
  /** Requests waiting for a slot (default 1,000); past that, callers wait for room as at a full mailbox (or get FULL). */
  maxQueue?: number;
  /** Bytes of requests waiting (default 16 MiB). */
  maxQueueBytes?: number;
  /**
   * Ms of the hive's clock a handler has before its caller is answered
   * TIMEOUT (default: none). The handler is not stopped (JavaScript cannot
   * stop it) and keeps its slot until it settles: a hung handler holds one
   * of `concurrency`.
   */
  timeout?: number;
  /**
   * The service may run a call again: a call pending when its caller was
   * snapshotted is sent again after a restore, with the same `callId`.
   * Otherwise (default) such a call is answered INTERRUPTED and never runs
   * again (at most once).
   */
  idempotent?: boolean;
  /**
   * What a handler's failure (a throw or a rejection, a `ServiceError`
   * included) does to its caller: `'answer'` (default) answers `[FAILED,
   * message]` (or the ServiceError's status), and the guest goes on;
   * `'trap'` ends the calling actor as a trap would (exit reason
   * `trap: service <name>: <message>`), for a service whose failure means
   * the caller cannot go on. Refusals of the request itself (no such
   * method, a schema) are answered either way.
   */
  failures?: 'answer' | 'trap';
  /** Schemas of each method's request and response, checked at the boundary (refused: INVALID). */
  schemas?: { readonly [M in keyof H]?: { request?: ServiceSchema; response?: ServiceSchema } };
}

/** What a service that acts on its own gets of the hive when it is registered (`ServiceDefinition.start`). */
export interface ServiceHost {
  /** The hive's clock, ms since the epoch. */
  now(): number;
  /** Calls `fn` once the hive's clock reaches `at`; the handle cancels it. */
  setTimer(at: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Sends a message from the service to an actor or inbox (any value; bytes
   * pass through), from the address the receiver knows the service by.
   * Never waits for room: false when there is no such address or its
   * mailbox is full now (as far as this thread knows: an actor on another
   * thread with a full mailbox drops it there, a dead letter).
   */
  send(to: number, value: unknown): boolean;
  /** Whether an actor (or inbox) with this id exists now. */
  alive(id: number): boolean;
  /** Logs at the hive's logger. */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, obj?: object): void;
}

/**
 * An error a handler throws to choose the status its caller gets (a
 * negative status of the guest ABI, e.g. LIMIT = -10 or NOT_FOUND = -2);
 * any other error is answered FAILED (-11) with its message.
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    if (!(Number.isInteger(status) && status < 0)) throw new RangeError(`a service error's status is a negative integer, got ${String(status)}`);
  }
}

const DEFINITION: unique symbol = Symbol.for('wasmhive.serviceDefinition');

/** A service as a unit: its methods, options, and what it does when registered and closed (built-in services are these). */
export interface ServiceDefinition<H extends ServiceHandlers = ServiceHandlers> {
  readonly [DEFINITION]: true;
  readonly handlers: H;
  readonly options?: ServiceOptions<H>;
  /** Called once when it is registered, with what it may use of the hive. */
  start?(host: ServiceHost): void;
  /** Called once when it is closed (or its hive is): let go of timers and handles. */
  close?(): void;
}

/** Makes a service definition (for `Hive.service(name, definition)`). */
export function defineService<H extends ServiceHandlers>(def: { handlers: H; options?: ServiceOptions<H>; start?(host: ServiceHost): void; close?(): void }): ServiceDefinition<H> {
  return { ...def, [DEFINITION]: true };
}

/** Whether a value is a service definition (not a plain object of handlers). */
export function isServiceDefinition(x: unknown): x is ServiceDefinition {
  return typeof x === 'object' && x !== null && (x as { [DEFINITION]?: unknown })[DEFINITION] === true;
}
