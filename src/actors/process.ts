/**
 * The parties of a hive that have an address: actors, host mailboxes, the
 * reply addresses of calls, supervisors. `Endpoint` is what routing needs;
 * `Process` adds what links and monitors need (things that can exit).
 */
import type { ActorSchema } from './codec.js';
import type { Envelope } from './envelope.js';
import type { LazyMap, LazySet } from './lazy.js';

/** Anything with an id that messages can be sent to. */
export interface Endpoint {
  readonly id: number;
  /** Schemas checked at the boundary (messages in; answers out, for actors). */
  readonly schema: ActorSchema | undefined;
  /** Host-side endpoints get values decoded (and checked against the sender's `out` schema). */
  readonly hostSide: boolean;
  /** Whether an ordinary message of `size` bytes fits now. */
  hasRoom(size: number): boolean;
  /** Takes an ordinary message that was checked and fits. */
  deliver(env: Envelope): void;
  /** For bounded mailboxes: queues a sender that waits for room. */
  block?(b: BlockedSend): void;
  /** Drops a waiting sender (its timeout passed). */
  unblock?(b: BlockedSend): void;
  /** Reply addresses of calls waiting on this endpoint (they fail when it goes away). */
  readonly callers?: LazySet;
}

/** A sender waiting for room in a full mailbox. `done` gets the send's status. */
export interface BlockedSend {
  env: Envelope;
  done(status: number): void;
}

/** An endpoint that can exit, be linked and be monitored. */
export interface Process extends Endpoint {
  readonly links: LazySet;
  /** Who monitors this process: watcher id -> monitor references. */
  readonly monitoredBy: LazyMap<number, Set<number>>;
  /** Whether it has not exited. */
  readonly alive: boolean;
  /** An exit signal from `from` (a linked process exited, or `exit` was called on it). */
  exitSignal(from: number, reason: string, untrappable: boolean): void;
  /** A monitor it holds fired. */
  down(ref: number, from: number, reason: string): void;
}

/** Whether an endpoint is a process. */
export function isProcess(e: Endpoint | undefined): e is Process {
  return e !== undefined && (e as Process).links !== undefined;
}
