/**
 * The inline executor: a run queue on the main thread, fair between groups
 * of runnables (`Runnable.group`: the hive's spawn trees). Each round gives
 * every group with a ready runnable one slice, and within a group its ready
 * runnables take turns; so an actor in an endless loop delays the others by
 * at most one slice per round, and a tree of a thousand spinning actors by
 * as much as one. The loop hands control back to Node's event loop
 * (setImmediate) after `maxBusyMs` of work, so host I/O, timers and
 * promises keep flowing, and at once when the runtime settled a promise the
 * host awaits (`yieldSoon`), so a host call answered during a busy round is
 * not held up for the rest of it.
 */
import type { Executor, Runnable } from './executor.js';

/** The ready runnables of one group, and whether the group waits for its turn. */
interface Lane {
  readonly key: object;
  readonly ready: Runnable[];
  /** Whether it is in the round (or running now and to be put back). */
  inRound: boolean;
}

/** Options of the inline executor. */
export interface InlineExecutorOptions {
  /** Milliseconds of slices to run before yielding to the event loop (default 4). */
  maxBusyMs?: number;
  /**
   * Called when a runnable's slice throws (runnables are expected not to):
   * that runnable is dropped and the others go on. Default: console.error.
   */
  onError?: (error: unknown, r: Runnable) => void;
}

/** Runs runnables on the calling thread, in turn, yielding to the event loop regularly. */
export class InlineExecutor implements Executor {
  /** Groups with ready runnables, in turn order (a ring buffer). */
  private round: (Lane | undefined)[] = new Array(16);
  private head = 0;
  private lanesQueued = 0;
  private readonly lanes = new Map<object, Lane>();
  /** Lanes found with nothing ready since the last sweep (an upper bound of the idle lanes kept; see laneIdle). */
  private idleLanes = 0;
  private size = 0;
  private scheduled = false;
  private running = false;
  private closed = false;
  private yieldRequested = false;
  private readonly maxBusyMs: number;
  private readonly onError: (error: unknown, r: Runnable) => void;
  private idleWaiters: (() => void)[] = [];

  constructor(options: InlineExecutorOptions = {}) {
    this.maxBusyMs = options.maxBusyMs ?? 4;
    this.onError = options.onError ?? ((e) => console.error('wasmhive: a slice threw', e));
  }

  get queued(): number {
    return this.size;
  }

  schedule(r: Runnable): void {
    if (this.closed) return;
    const key = r.group ?? r;
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { key, ready: [], inRound: false }));
    lane.ready.push(r);
    this.size++;
    if (!lane.inRound) this.enter(lane);
    if (!this.scheduled && !this.running) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  idle(): Promise<void> {
    if (this.size === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  yieldSoon(): void {
    if (this.running) this.yieldRequested = true;
  }

  close(): void {
    this.closed = true;
    this.round = new Array(16);
    this.head = 0;
    this.lanesQueued = 0;
    this.lanes.clear();
    this.size = 0;
    this.wakeIdle();
  }

  /** Puts a group at the end of the round. */
  private enter(lane: Lane): void {
    if (this.lanesQueued === this.round.length) this.grow();
    this.round[(this.head + this.lanesQueued) & (this.round.length - 1)] = lane;
    this.lanesQueued++;
    lane.inRound = true;
  }

  private grow(): void {
    const old = this.round;
    const next: (Lane | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.lanesQueued; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.round = next;
    this.head = 0;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    this.running = true;
    this.yieldRequested = false;
    const deadline = performance.now() + this.maxBusyMs;
    try {
      while (this.lanesQueued > 0) {
        const lane = this.round[this.head]!;
        this.round[this.head] = undefined;
        this.head = (this.head + 1) & (this.round.length - 1);
        this.lanesQueued--;
        lane.inRound = false;
        const r = lane.ready.shift()!;
        this.size--;
        let again = false;
        try {
          again = r.runSlice();
        } catch (e) {
          this.report(e, r);
        }
        if (this.closed) return;
        if (again) {
          lane.ready.push(r);
          this.size++;
        }
        // Others of the group may have been made ready during the slice (it is then in the round already).
        if (lane.ready.length > 0) {
          if (!lane.inRound) this.enter(lane);
        } else if (!lane.inRound) {
          this.laneIdle();
        }
        if (this.yieldRequested || performance.now() >= deadline) break;
      }
    } finally {
      this.running = false;
    }
    if (this.size > 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.drain);
      }
    } else {
      this.wakeIdle();
    }
  };

  /**
   * A lane has nothing ready. It stays in `lanes` (its group is likely ready
   * again soon: an actor parks and wakes many times a second, and making and
   * dropping its lane each time cost a Map insert and delete and an object);
   * idle lanes are swept once they outnumber the rest.
   */
  private laneIdle(): void {
    if (++this.idleLanes < 64 || this.idleLanes * 2 < this.lanes.size) return;
    for (const [key, lane] of this.lanes) {
      if (lane.ready.length === 0 && !lane.inRound) this.lanes.delete(key);
    }
    this.idleLanes = 0;
  }

  private report(e: unknown, r: Runnable): void {
    try {
      this.onError(e, r);
    } catch {
      // an error handler that throws must not stop the loop either
    }
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    if (w.length === 0) return;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
