/**
 * Errors of the actor runtime, typed by what went wrong. Guest failures are
 * not errors of the host: a trapping actor exits with a reason (events,
 * links, monitors, supervisors see it); these are what host calls throw.
 */

/** Base class of the actor runtime's errors. */
export class ActorError extends Error {
  override name = 'ActorError';
}

/** The target actor does not exist, or exited before it could answer. */
export class ActorExitedError extends ActorError {
  override name = 'ActorExitedError';
  constructor(readonly pid: number, readonly reason: string) {
    super(`actor ${pid} exited (${reason})`);
  }
}

/** No actor, name or module matches. */
export class NotFoundError extends ActorError {
  override name = 'NotFoundError';
}

/** A request got no reply in time. */
export class CallTimeoutError extends ActorError {
  override name = 'CallTimeoutError';
  constructor(readonly pid: number, readonly timeout: number) {
    super(`call to actor ${pid} timed out after ${timeout} ms`);
  }
}

/** The receiver's mailbox is full: nothing was sent. */
export class MailboxFullError extends ActorError {
  override name = 'MailboxFullError';
  constructor(readonly pid: number, readonly bound: number) {
    super(`mailbox of actor ${pid} is full (${bound} messages)`);
  }
}

/** A message did not match the schema at the boundary. */
export class SchemaError extends ActorError {
  override name = 'SchemaError';
  constructor(readonly direction: 'in' | 'out' | 'init', readonly pid: number, readonly issues: string[]) {
    super(`message ${direction === 'out' ? 'from' : 'to'} actor ${pid} does not match its ${direction} schema: ${issues.join('; ')}`);
  }
}

/** A message is larger than the hive's `maxMessageBytes`. */
export class MessageTooLargeError extends ActorError {
  override name = 'MessageTooLargeError';
  constructor(readonly size: number, readonly limit: number) {
    super(`message of ${size} bytes is larger than the limit of ${limit} bytes`);
  }
}

/** A name is registered already. */
export class NameTakenError extends ActorError {
  override name = 'NameTakenError';
  constructor(readonly actorName: string, readonly holder: number) {
    super(`name '${actorName}' is registered already (actor ${holder})`);
  }
}

/** An operation that the hive's state does not allow (closed hive, actor running, id in use). */
export class HiveStateError extends ActorError {
  override name = 'HiveStateError';
}

/**
 * A resource limit of the hive, a spawn tree or an actor was reached
 * (src/actors/limits.ts): nothing was made or sent. `limit` names it (as in
 * `ActorLimits`/`HiveLimits`), `value` is its bound, `pid` the actor it is
 * counted against (0 for the hive).
 */
export class LimitError extends ActorError {
  override name = 'LimitError';
  constructor(readonly limit: string, readonly value: number, readonly pid: number) {
    super(`limit ${limit} (${value}) reached${pid === 0 ? '' : ` for actor ${pid}`}`);
  }
}

/** A worker thread of a pooled hive did not answer in time (it is overloaded, stuck, or gone). */
export class WorkerUnavailableError extends ActorError {
  override name = 'WorkerUnavailableError';
  constructor(readonly worker: number, message: string) {
    super(message);
  }
}
