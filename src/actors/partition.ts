/**
 * A hive with worker threads is partitioned: each thread runs one actor
 * system (system.ts) holding its own addresses, the main thread's holding
 * the host's (inboxes, reply addresses, supervisors, the names) and a
 * `RemoteActor` for each actor on a worker. `Partition` is how a system
 * reaches the others (implemented by pool.ts on the main thread and
 * pool-worker.ts on a worker); `PartitionTransport` sends each envelope to
 * its receiver's partition: the inline transport for addresses here, the
 * partition for the others.
 */
import type { Signal, WorkerServiceModule } from './protocol.js';
import type { RemoteActor } from './remote.js';
import type { Transport } from './router.js';
import type { ModuleDef, SpawnOptions } from './types.js';
import type { RestoreActorOptions } from './snapshot.js';

/** What a host's spawn asks for, for `Partition.place`. */
export interface Placement {
  readonly name: string | null;
  readonly init: Uint8Array | null;
  /** An actor of the tree to start in (0: a tree of its own). */
  readonly tree: number;
  /** A process of the main thread to link the actor with from the start (0: none). */
  readonly linkTo: number;
  readonly options: SpawnOptions;
}

/** @internal What an actor system that is one partition of a pooled hive uses of the others. */
export interface Partition {
  /** 'main': the host's side; 'worker': a worker thread's actors. */
  readonly role: 'main' | 'worker';
  /**
   * The hive's live actors, counted by every thread in one shared word, so
   * that `maxActors` bounds the hive, not each thread (two threads admitting
   * at the same moment may pass it by one each).
   */
  readonly actors?: Int32Array;
  /** The hive's log window, shared by every thread: [second, lines written in it]. */
  readonly logWindow?: Int32Array;
  /** Takes an envelope whose receiver is on another partition. */
  send(s: Signal): void;
  /** Whether an id this partition does not hold may be held by another (then envelopes to it are sent there, and it decides). */
  elsewhere(id: number): boolean;
  /** The main thread: whether an address another partition's block holds may be restored here (see ActorPool.restorable). */
  restorable?(id: number): boolean;
  /** The main thread: an address of another partition's block was taken up here (a restore). */
  claimed?(id: number): void;
  /** A new id (a worker gives out ids from blocks the main thread hands it). */
  allocId?(): number;
  /**
   * A worker: the hive's `idsBelow` (ids below it were or may have been
   * given out anywhere in the hive), which the main thread keeps for the
   * workers as it rises: a worker's snapshots record it.
   */
  idsBelow?(): number;
  /** The main thread: ids of the workers' half below `n` are given out or reserved (its `idsBelow` rose to `n`). */
  idsTaken?(n: number): void;
  /**
   * The main thread: a restore reserved the ids below `below` (the
   * snapshot's hive may have given them out, and its actor may hold any):
   * no worker and no placement gives out one of them from now on.
   */
  reserved?(below: number): void;
  /** The main thread: the hive's services changed (the workers get the table: [name, address, idempotent]). */
  servicesChanged?(table: [string, number, boolean][], inWorkers: [string, number, WorkerServiceModule][]): void;
  /** An actor began on this worker (spawned by a guest, restored). */
  born?(id: number, name: string | null, hash: string, tree: number, mailbox: number, services: readonly (string | null)[]): void;
  /** An actor of this worker exited. */
  died?(id: number, name: string | null, reason: string, fuelUsed: number, trap: { message: string; phase: string } | null): void;
  /** After each slice: a worker takes what arrived meanwhile. */
  sliceEnded?(): void;
  /**
   * The main thread: starts a host's spawn on a worker and returns its
   * record, or null when it runs here (see the README: what runs on the
   * main thread). Throws what spawning throws.
   */
  place?(def: ModuleDef, p: Placement): RemoteActor | null;
  /**
   * The main thread: restores an actor onto a worker and returns its record,
   * or null when it runs here (as `place`); `saved` is what the snapshot
   * says of its id, name, the ids its hive had given out, and the reply
   * address of the call it waits in (it keeps it).
   */
  restoreOn?(bytes: Uint8Array, def: ModuleDef, options: RestoreActorOptions, saved: RestoredIds): RemoteActor | null;
  /**
   * The main thread: restores a group snapshot onto one worker (the worker
   * of its `tree`, else the least loaded) and returns the records of its
   * actors, in order, or null when it runs here (as restoreOn). The ids and
   * names were checked free (`saved`, one per actor).
   */
  restoreGroupOn?(bytes: Uint8Array, defs: readonly ModuleDef[], options: Pick<RestoreActorOptions, 'missingLinks' | 'tree' | 'services'>, saved: readonly RestoredIds[]): RemoteActor[] | null;
  /** The main thread: asks a remote actor's worker, waiting for the answer (throws the worker's error). */
  request?(r: RemoteActor, op: 'info' | 'snapshot' | 'snapshot-group' | 'terminate' | 'link', bytes: Uint8Array | null, options: Record<string, unknown> | null): unknown;
  /**
   * The main thread: the snapshots of actors on several threads, taken at
   * one point (a group snapshot): the workers holding them are held still
   * and what is between them delivered, then each takes its own; `here`
   * takes those of this thread's. In the order of `ids`.
   */
  snapshotAcross?(ids: readonly number[], here: (ids: number[]) => Uint8Array[]): Uint8Array[];
  /** This partition's thread: 0 the main thread, a worker its slot (1..n); absent in a hive without workers. */
  readonly threadSlot?: number;
  /**
   * Sends `delta` bytes to spawn tree `key` of another thread (messages it
   * sent left their mailboxes here: see ForeignTree).
   */
  refund?(key: number, delta: number): void;
  /** The main thread: ends a remote actor at once with `reason` (trapping exits or not). */
  terminate?(r: RemoteActor, reason: string): void;
  /** Stops the other partitions (the hive closes). */
  close?(): void;
  /**
   * The main thread: resolves true when every worker is idle and nothing is
   * between the threads, as it was when asked; false when something moved
   * meanwhile (then ask again).
   */
  settled?(): Promise<boolean>;
}

/** What a snapshot says of the addresses of the actor it holds (see Partition.restoreOn). */
export interface RestoredIds {
  readonly id: number;
  readonly name: string | null;
  readonly idsBelow: number;
  readonly reply: number | null;
  /** The services its snapshot says it was granted (not yet the restore's: see grantsOnRestore). */
  readonly services: readonly (string | null)[];
}

/** @internal The transport of a partition: envelopes for here go through `local`, the others to the partition. */
export class PartitionTransport implements Transport {
  constructor(
    private readonly local: Transport,
    private readonly isLocal: (s: Signal) => boolean,
    private readonly partition: Partition,
  ) {}

  get inFlight(): number {
    return this.local.inFlight;
  }

  post(s: Signal): void {
    if (this.isLocal(s)) this.local.post(s);
    else this.partition.send(s);
  }

  /** Takes an envelope that arrived from another partition: delivered in turn, as a local one. */
  arrived(s: Signal): void {
    this.local.post(s);
  }

  drained(): Promise<void> {
    return this.local.drained();
  }

  /** Delivers what is in flight here (envelopes between partitions are not this partition's to deliver). */
  flush(): void {
    this.local.flush();
  }

  sliceEnded(): void {
    this.local.sliceEnded();
    this.partition.sliceEnded?.();
  }

  close(): void {
    this.local.close();
  }
}
