/**
 * The inline executor: a FIFO run queue on the main thread. Each ready
 * runnable gets one slice, then goes to the back of the queue; so an actor
 * in an endless loop delays the others by at most one slice per round. The
 * loop hands control back to Node's event loop (setImmediate) after
 * `maxBusyMs` of work, so host I/O, timers and promises keep flowing, and
 * at once when the runtime settled a promise the host awaits (`yieldSoon`),
 * so a host call answered during a busy round is not held up for the rest
 * of it.
 */
import type { Executor, Runnable } from './executor.js';

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
  private queue: (Runnable | undefined)[] = new Array(16);
  private head = 0;
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
    if (this.size === this.queue.length) this.grow();
    this.queue[(this.head + this.size) & (this.queue.length - 1)] = r;
    this.size++;
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
    this.queue = new Array(16);
    this.head = 0;
    this.size = 0;
    this.wakeIdle();
  }

  private grow(): void {
    const old = this.queue;
    const next: (Runnable | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.queue = next;
    this.head = 0;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    this.running = true;
    this.yieldRequested = false;
    const deadline = performance.now() + this.maxBusyMs;
    try {
      while (this.size > 0) {
        const mask = this.queue.length - 1;
        const r = this.queue[this.head]!;
        this.queue[this.head] = undefined;
        this.head = (this.head + 1) & mask;
        this.size--;
        let again = false;
        try {
          again = r.runSlice();
        } catch (e) {
          this.report(e, r);
        }
        if (again) this.schedule(r);
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
