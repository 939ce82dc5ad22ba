/**
 * Supervisors, as in Erlang/OTP: a process linked to its children that
 * restarts them when they exit, by strategy (one-for-one, one-for-all,
 * rest-for-one), up to a restart intensity (at most `maxRestarts` in
 * `withinMs`); past it, it stops its children and exits with `shutdown`,
 * which its own links see (so supervisors nest). A group is stopped last
 * started first and restarted in start order once all of it has exited. A
 * supervisor that ends for any reason stops its children first, so a whole
 * tree goes; like Erlang's, it traps exits: only its parent's exit signal (or
 * an untrappable `kill`) ends it, those of other processes are ignored. A
 * child restarts from its initial state (a new actor from its module and
 * init message) or from its last snapshot (the same id, carrying on from
 * there).
 */
import type { Logger } from 'pino';
import type { Module } from '../vm/index.js';
import type { Clock, TimerHandle } from '../scheduler/index.js';
import type { ActorOptions, RestartEvent, SpawnOptions } from './types.js';
import { isNormalExit, type Envelope } from './envelope.js';
import type { Process } from './process.js';
import type { ActorRef } from './ref.js';
import type { RestoreActorOptions } from './snapshot.js';
import { LazyMap, LazySet } from './lazy.js';

/**
 * @internal What a supervisor asks of the actor system: it is an ordinary
 * client of it (system.ts implements this; this file does not import it).
 */
export interface SupervisorHost {
  readonly clock: Clock;
  readonly logger: Logger;
  ref<In, Out>(id: number): ActorRef<In, Out>;
  /** The actor child with this id, alive or not yet known to have exited (on this thread or a worker). */
  child(id: number): SupervisedActor | undefined;
  spawn(source: Module | Uint8Array | string, options: SpawnOptions): ActorRef;
  restore(bytes: Uint8Array, options: RestoreActorOptions): ActorRef;
  snapshot(id: number): Uint8Array;
  startSupervisor(spec: SupervisorSpec, parent: Supervisor | null): Supervisor;
  link(p: Process, to: number): number;
  terminate(p: Process | SupervisedActor, reason: string): void;
  afterExit(fn: () => void): void;
  /** Emits the hive's `restarted` event. */
  restarted(e: RestartEvent): void;
}

/** What a supervisor knows of an actor child: on this thread an `Actor`, on a worker thread its record here. */
export interface SupervisedActor {
  readonly id: number;
  readonly alive: boolean;
  /** The last snapshot taken of it (a restart from its snapshot starts from this). */
  readonly lastSnapshot: Uint8Array | null;
  /** 'running' while in its own slice (then it cannot be snapshotted); unknown for an actor on a worker. */
  readonly state?: string;
}

/** Restart strategies. */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/** How a supervisor starts and restarts one child. */
export interface ChildSpec extends ActorOptions {
  /** Unique among the supervisor's children. */
  id: string;
  /** The child's module (a Module, bytes, a defined module's name, a file path), or... */
  module?: Module | Uint8Array | string;
  /** ...a nested supervisor. */
  supervisor?: SupervisorSpec;
  /** The init message (for modules). */
  init?: unknown;
  /** Registers the child under this name (again after each restart). */
  name?: string;
  /** The services the child is granted (at each start, and again when it restarts from its snapshot). */
  services?: readonly string[];
  /** permanent (default): always restarted; transient: restarted when it fails (not on normal or shutdown); temporary: never. */
  restart?: 'permanent' | 'transient' | 'temporary';
  /** Restart from the initial state (default), or from the child's last snapshot when it has one. */
  from?: 'initial' | 'snapshot';
  /** Snapshots the child every so many ms of the hive's clock (for `from: 'snapshot'`). */
  checkpointEvery?: number;
}

/** A supervisor's configuration. */
export interface SupervisorSpec {
  strategy?: Strategy;
  /** Restarts allowed within `withinMs` (default 3). */
  maxRestarts?: number;
  /** The period of the restart intensity in ms (default 5,000). */
  withinMs?: number;
  children: ChildSpec[];
}

interface Child {
  spec: ChildSpec;
  /** The running actor or supervisor, or null. */
  proc: SupervisedActor | Supervisor | null;
  /** The id of the last actor or supervisor started for it (the `old` of its next restart). */
  lastId: number;
  /** The last snapshot of the child (from a checkpoint, or any `snapshot` of it). */
  snapshot: Uint8Array | null;
  timer: TimerHandle | null;
}

/** A supervisor: a process of the hive, linked to its children. */
export class Supervisor implements Process {
  readonly schema = undefined;
  readonly hostSide = true;
  readonly links = new LazySet();
  readonly monitoredBy = new LazyMap<number, Set<number>>();
  alive = true;
  reason: string | null = null;
  readonly strategy: Strategy;
  readonly maxRestarts: number;
  readonly withinMs: number;
  private readonly children: Child[];
  private restarts: number[] = [];
  /** The parent supervisor's id (null at the top): the only link whose exit ends this one. */
  private parent: number | null = null;
  /** Children of a group restart, waiting until all have exited, with the reason each is restarted for. */
  private restarting = new Map<Child, string>();
  private restartQueued = false;
  /** Set when shutting down: the reason it exits with once its children have exited. */
  private exiting: string | null = null;
  /** Resolves with the supervisor's exit reason. */
  readonly exited: Promise<string>;
  private resolveExited!: (r: string) => void;

  readonly #host: SupervisorHost;

  /** @internal Supervisors are made by `Hive.supervise`. */
  constructor(
    host: SupervisorHost,
    readonly id: number,
    spec: SupervisorSpec,
  ) {
    this.#host = host;
    this.strategy = spec.strategy ?? 'one-for-one';
    this.maxRestarts = spec.maxRestarts ?? 3;
    this.withinMs = spec.withinMs ?? 5000;
    if (!['one-for-one', 'one-for-all', 'rest-for-one'].includes(this.strategy)) throw new RangeError(`unknown strategy '${String(this.strategy)}'`);
    if (!(Number.isInteger(this.maxRestarts) && this.maxRestarts >= 0)) throw new RangeError('maxRestarts must be a non-negative integer');
    if (!(this.withinMs > 0)) throw new RangeError('withinMs must be positive');
    const ids = new Set<string>();
    for (const c of spec.children) {
      if (ids.has(c.id)) throw new RangeError(`two children have the id '${c.id}'`);
      ids.add(c.id);
      if ((c.module === undefined) === (c.supervisor === undefined)) throw new RangeError(`child '${c.id}' needs either a module or a supervisor`);
    }
    this.children = spec.children.map((s) => ({ spec: s, proc: null, lastId: 0, snapshot: null, timer: null }));
    this.exited = new Promise((r) => (this.resolveExited = r));
  }

  /** @internal Starts the children in order; if one fails to start, stops those started and throws. */
  startChildren(): void {
    for (const c of this.children) {
      try {
        this.startChild(c, 'initial');
      } catch (e) {
        this.shutdown('shutdown');
        throw e;
      }
    }
  }

  /** The ref of a running child, by its spec id. */
  child<In = unknown, Out = unknown>(id: string): ActorRef<In, Out> | undefined {
    const c = this.children.find((x) => x.spec.id === id);
    return c?.proc != null && !(c.proc instanceof Supervisor) && c.proc.alive ? this.#host.ref<In, Out>(c.proc.id) : undefined;
  }

  /** A running nested supervisor, by its spec id. */
  childSupervisor(id: string): Supervisor | undefined {
    const c = this.children.find((x) => x.spec.id === id);
    return c?.proc instanceof Supervisor && c.proc.alive ? c.proc : undefined;
  }

  /** Ids of the children and whether each is running. */
  which(): { id: string; pid: number | null }[] {
    return this.children.map((c) => ({ id: c.spec.id, pid: c.proc !== null && c.proc.alive ? c.proc.id : null }));
  }

  /** Snapshots a child now and keeps it for restarts `from: 'snapshot'`. */
  checkpoint(id: string): Uint8Array {
    const c = this.children.find((x) => x.spec.id === id);
    if (c?.proc == null || c.proc instanceof Supervisor || !c.proc.alive) throw new RangeError(`no running actor child '${id}'`);
    c.snapshot = this.#host.snapshot(c.proc.id);
    return c.snapshot;
  }

  /** Stops the children (last started first) and the supervisor, with reason `shutdown`. */
  stop(): Promise<string> {
    if (this.alive) this.shutdown('shutdown');
    return this.exited;
  }

  // -------------------------------------------------------------------
  // Process

  hasRoom(): boolean {
    return true;
  }

  deliver(_env: Envelope): void {
    // Supervisors take no messages.
  }

  down(): void {}

  exitSignal(from: number, reason: string, untrappable: boolean): void {
    if (!this.alive) return;
    // At once, without waiting for the children: finish stops them.
    if (untrappable) return this.#host.terminate(this, 'killed');
    const c = this.children.find((x) => x.proc !== null && x.proc.id === from);
    // A child still alive sent it with `exit`: that is not the child's exit.
    if (c === undefined || c.proc!.alive) {
      // Erlang's supervisors trap exits: the parent's exit signal ends them, others are ignored.
      if (from === this.parent) this.shutdown(reason);
      else this.#host.logger.debug({ supervisor: this.id, from, reason }, 'exit signal ignored');
      return;
    }
    const proc = c.proc!;
    if (!(proc instanceof Supervisor) && proc.lastSnapshot !== null) c.snapshot = proc.lastSnapshot;
    c.proc = null;
    if (c.timer !== null) {
      this.#host.clock.clearTimer(c.timer);
      c.timer = null;
    }
    // Exits the supervisor caused itself are expected.
    if (this.exiting !== null) return this.exitWhenStopped();
    if (this.restarting.has(c)) return this.restartWhenStopped();
    this.childExited(c, reason);
  }

  /** @internal Called by the hive when the supervisor ends. */
  finish(reason: string): void {
    this.alive = false;
    this.reason = reason;
    this.restarting.clear();
    for (const c of this.children) {
      if (c.timer !== null) this.#host.clock.clearTimer(c.timer);
      c.timer = null;
    }
    // Ended from outside (killed, the hive closing) with children left: they go too, last started first.
    for (const c of this.children.slice().reverse()) if (c.proc !== null && c.proc.alive) this.stopChild(c);
    this.#host.logger.debug({ supervisor: this.id, reason }, 'supervisor exited');
    this.resolveExited(reason);
  }

  // -------------------------------------------------------------------

  private childExited(c: Child, reason: string): void {
    const restart = c.spec.restart ?? 'permanent';
    if (restart === 'temporary' || (restart === 'transient' && isNormalExit(reason))) return;
    // Restart intensity: more than maxRestarts within withinMs ends the supervisor.
    const now = this.#host.clock.now();
    this.restarts = this.restarts.filter((t) => t > now - this.withinMs);
    this.restarts.push(now);
    if (this.restarts.length > this.maxRestarts) {
      this.#host.logger.warn({ supervisor: this.id, child: c.spec.id, reason }, 'restart intensity reached: shutting down');
      return this.shutdown('shutdown');
    }
    const i = this.children.indexOf(c);
    const group = this.strategy === 'one-for-one' ? [c] : this.strategy === 'one-for-all' ? this.children : this.children.slice(i);
    this.restarting.set(c, reason);
    // Stop the rest of the group, last started first. One may be running (its
    // slice made c fail): it exits only when its slice ends, so the restart
    // waits for every exit rather than for the current queue of exits.
    for (const o of group.slice().reverse()) {
      if (o === c || this.restarting.has(o)) continue;
      this.restarting.set(o, 'shutdown');
      if (o.proc !== null && o.proc.alive) this.stopChild(o);
    }
    this.restartWhenStopped();
  }

  /** Queues the group restart once every child of the group has exited. */
  private restartWhenStopped(): void {
    if (this.restartQueued || !this.groupStopped()) return;
    this.restartQueued = true;
    this.#host.afterExit(() => this.restartGroup());
  }

  private groupStopped(): boolean {
    for (const o of this.restarting.keys()) if (o.proc !== null && o.proc.alive) return false;
    return true;
  }

  /** Restarts the children of the group in start order (temporary ones stay down). */
  private restartGroup(): void {
    this.restartQueued = false;
    // Another child failed meanwhile and its group is still exiting: the last exit calls again.
    if (!this.alive || this.exiting !== null || !this.groupStopped()) return;
    const reasons = this.restarting;
    this.restarting = new Map();
    for (const o of this.children) {
      const reason = reasons.get(o);
      if (reason === undefined || (o.spec.restart ?? 'permanent') === 'temporary') continue;
      try {
        const old = o.lastId;
        const from = o.spec.from === 'snapshot' && o.snapshot !== null ? 'snapshot' : 'initial';
        const proc = this.startChild(o, from);
        this.#host.restarted({ supervisor: this.id, child: o.spec.id, old, ref: this.#host.ref(proc.id), reason, from });
      } catch (e) {
        this.#host.logger.error({ supervisor: this.id, child: o.spec.id, err: e }, 'restart failed: shutting down');
        return this.shutdown('shutdown');
      }
    }
  }

  private startChild(c: Child, from: 'initial' | 'snapshot'): SupervisedActor | Supervisor {
    const s = c.spec;
    let proc: SupervisedActor | Supervisor;
    if (s.supervisor !== undefined) {
      const sup = this.#host.startSupervisor(s.supervisor, this);
      sup.parent = this.id;
      proc = sup;
    } else if (from === 'snapshot') {
      const ref = this.#host.restore(c.snapshot!, { module: s.module, ...(s.name !== undefined ? { name: s.name } : {}), limits: s.limits, schema: s.schema, imports: s.imports, missingLinks: 'drop', ...(s.services !== undefined ? { services: s.services } : {}) });
      proc = this.#host.child(ref.id)!;
      if (proc === undefined) throw new Error(`child '${s.id}' exited while being restored`);
      this.#host.link(this, proc.id);
    } else {
      const ref = this.#host.spawn(s.module!, { name: s.name, init: s.init, limits: s.limits, schema: s.schema, imports: s.imports, ...(s.services !== undefined ? { services: s.services } : {}) });
      proc = this.#host.child(ref.id)!;
      this.#host.link(this, proc.id);
    }
    c.proc = proc;
    c.lastId = proc.id;
    if (s.checkpointEvery !== undefined && !(proc instanceof Supervisor)) this.armCheckpoint(c, proc);
    return proc;
  }

  private armCheckpoint(c: Child, a: SupervisedActor): void {
    const every = c.spec.checkpointEvery!;
    c.timer = this.#host.clock.setTimer(this.#host.clock.now() + every, () => {
      c.timer = null;
      if (c.proc !== a || !a.alive) return;
      if (a.state !== 'running') c.snapshot = this.#host.snapshot(a.id);
      this.armCheckpoint(c, a);
    });
  }

  /** Stops all children, last first, then the supervisor itself once they have all exited. */
  private shutdown(reason: string): void {
    if (!this.alive || this.exiting !== null) return;
    this.exiting = reason;
    this.restarting.clear();
    for (const c of this.children.slice().reverse()) if (c.proc !== null && c.proc.alive) this.stopChild(c);
    this.exitWhenStopped();
  }

  private exitWhenStopped(): void {
    if (!this.alive || this.exiting === null) return;
    if (this.children.some((c) => c.proc !== null && c.proc.alive)) return;
    this.#host.terminate(this, this.exiting);
  }

  /**
   * Stops a child with `shutdown`. A nested supervisor shuts its own children
   * down first and exits after them; an actor that is running exits when its
   * slice ends (its exit signal comes then).
   */
  private stopChild(c: Child): void {
    const p = c.proc!;
    if (p instanceof Supervisor) p.shutdown('shutdown');
    else this.#host.terminate(p, 'shutdown');
  }
}
