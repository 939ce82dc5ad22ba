/**
 * The main thread's record of an actor that runs on a worker thread of a
 * pooled hive: an address in the main thread's address table that routing
 * sends on to the worker (partition.ts), with what the host's API needs to
 * know without asking the worker (its name, tree, exit).
 */
import type { ActorSchema } from './codec.js';
import type { Envelope } from './envelope.js';
import type { Endpoint } from './process.js';

/** @internal An actor on a worker, as the main thread sees it. */
export class RemoteActor implements Endpoint {
  readonly schema: ActorSchema | undefined = undefined;
  readonly hostSide = false;
  /** Whether the main thread has not yet heard of its exit. */
  alive = true;
  /** The services it was granted (what a service's handler is told of its caller). */
  services: readonly (string | null)[] = [];
  /** Resolves with its exit reason. */
  readonly exited: Promise<string>;
  private resolveExited!: (reason: string) => void;

  constructor(
    readonly id: number,
    /** The worker it runs on (its slot), changed when it moves. */
    public worker: number,
    /** The root of its spawn tree. */
    readonly tree: number,
    /** The SHA-256 of its module (a move sends that module to the worker it goes to). */
    readonly module: string,
    /** Its mailbox bound (for errors). */
    readonly mailbox: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  /** Routing sends its envelopes to its worker: it never takes one here. */
  hasRoom(): boolean {
    return true;
  }

  deliver(_env: Envelope): void {
    throw new Error(`envelope for the remote actor ${this.id} delivered on the main thread (a routing bug)`);
  }

  /** The last snapshot taken of it (a supervisor restarts it from this). */
  lastSnapshot: Uint8Array | null = null;

  /** Remembers the snapshot just taken of it. */
  snapshotTaken(bytes: Uint8Array): void {
    this.lastSnapshot = bytes;
  }

  /** Its host functions (served from here to its worker), by import-set key; null: none. */
  imports: { readonly key: number; readonly fields: readonly (readonly [string, string])[] } | null = null;

  /** Envelopes (wire records) for it held while it moves, in order; null when it is not moving. */
  held: Uint8Array[] | null = null;

  /**
   * Whether workers send its envelopes through the main thread (it was
   * moved, or about to be, off its home worker, the one whose block of
   * ids holds its id); false: the other workers reach it directly.
   */
  away = false;

  /** Whether it has left its home worker once (the fenced first move is done; later moves need no fences). */
  fenced = false;

  /** Moved to another worker. */
  moved(worker: number): void {
    this.worker = worker;
  }

  /** The worker said it exited. */
  ended(reason: string): void {
    this.alive = false;
    this.resolveExited(reason);
  }
}
