/**
 * The port: what the actor system does for the calling actor, as the hive
 * binding needs it. The binding decodes the guest's arguments, checks them,
 * charges their costs and encodes the results; the port does the work
 * (delivery, waits and their timers, spawns, names, links, monitors, exits)
 * and answers with a status, a result, or the Suspend that pauses the guest
 * in the import (a wait that the actor system ends by resuming the guest
 * with the import's results, or the end of the actor).
 *
 * One port serves one actor: the one the binding context's `caller` names.
 * The binding never imports the actor system; the actor system implements
 * this interface (src/actors/abi.ts).
 */
import type { Suspend, Value } from '../../vm/index.js';

/** The current message (docs/guest-abi.md, "Messages"). */
export interface CurrentMessage {
  /** A `MessageKind`. */
  readonly kind: number;
  /** The pid that sent it (for EXIT and DOWN, the actor that exited). */
  readonly from: number;
  readonly bytes: Uint8Array;
}

/** What a guest's spawn did: the new pid or a status, and what the new actor holds (the spawner pays for it). */
export interface SpawnOutcome {
  /** The new pid (> 0) or a negative `HiveStatus`. */
  readonly status: number;
  /** Bytes of the new actor's memories (0 unless it was made). */
  readonly memoryBytes: number;
  /** Elements of the new actor's tables (0 unless it was made). */
  readonly tableElements: number;
}

/** The actor system, as the calling actor's `hive` imports see it. Statuses are `HiveStatus` values. */
export interface HivePort {
  // Rules every import follows (the binding applies them around each call).

  /** Whether the actor's `main` has been called: before, only imports marked `fromStart` run, the others trap. */
  readonly started: boolean;
  /** The Suspend that ends the actor when its exit was decided while it runs (nothing it does after takes effect), or null. */
  exitDecided(): Suspend | null;
  /**
   * Called after an import that charged fuel returned `results`: when that
   * spent the slice's fuel, keeps the results for the slice that resumes the
   * actor and returns the Suspend that ends this slice at the import; null
   * otherwise (the import returns at once).
   */
  endSlice(results: Value[]): Suspend | null;

  // Messages.

  /** The hive's `maxMessageBytes`: larger messages are TOO_LARGE before they are copied. */
  readonly maxMessageBytes: number;
  /** The current message, or null. */
  current(): CurrentMessage | null;
  /** Takes the next message and makes it current: its size; or TIMEOUT (timeout 0); or parks until one comes (its size) or the timeout passes (TIMEOUT). Timeout < 0: forever. */
  receive(timeout: number): number | Suspend;
  /** Sends a copy the binding made (and the guest paid for): a status, or parks while the mailbox is full, up to the timeout (then OK or FULL). */
  send(to: number, bytes: Uint8Array, timeout: number): number | Suspend;
  /** Sends to the sender of the current message (the binding checked there is one), waiting while its mailbox is full: as `send`. */
  reply(bytes: Uint8Array): number | Suspend;
  /** Whom `reply` answers: the sender of the last message received (a call's answer does not change it); 0 for none. */
  readonly replyTo: number;
  /** Sends a request from a fresh reply address and parks until the answer (made current; its size) or a status. */
  call(to: number, bytes: Uint8Array, timeout: number): number | Suspend;

  // Processes.

  /**
   * Spawns from the module defined under that name, with an init message
   * (null: none), with the ABI's flags (SPAWN_LINK, SPAWN_SERVICES): the new pid or a status, at once or
   * after parking until the hive answers. `paid` learns, before the guest
   * resumes, what the new actor holds (the spawner pays for it).
   */
  spawn(module: string, init: Uint8Array | null, flags: number, paid: (made: SpawnOutcome) => void): number | Suspend;
  /** Links with a pid: a status, or parks until the other side answers (then a status). */
  link(pid: number): number | Suspend;
  /** Removes a link, if any. */
  unlink(pid: number): void;
  /** Monitors a pid: the reference, or a status. */
  monitor(pid: number): number;
  /** Exit signals and down messages waiting to be received (demonitor looks through them). */
  readonly queuedSignals: number;
  /** Stops a monitor: a status. */
  demonitor(ref: number): number;
  /** The Suspend that ends the calling actor with the reason. */
  exitSelf(reason: string): Suspend;
  /** Sends an exit signal to another pid: a status (the signal may come back along links and decide this actor's exit). */
  exit(to: number, reason: string): number | Suspend;
  /** Sets whether exit signals arrive as messages; returns the previous setting. */
  trapExit(on: boolean): boolean;

  // Names.

  /** Registers the calling actor under the name: a status, at once or after parking until the hive answers. */
  register(name: string): number | Suspend;
  /** Drops its name: a status. */
  unregister(): number;
  /** The pid registered under the name, or NOT_FOUND: at once or after parking until the hive answers. */
  lookup(name: string): number | Suspend;

  // Time.

  /** Parks for `ms` (> 0) milliseconds of the hive's clock; the import then returns nothing. */
  sleep(ms: number): Suspend;
}
