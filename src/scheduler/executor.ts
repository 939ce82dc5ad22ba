/**
 * The contract between the runtime and whatever runs actors: the hive hands
 * an executor `Runnable`s that are ready, and the executor calls them, one
 * slice at a time, in some order. The inline executor runs them on the main
 * thread; a pool of worker threads implements the same interface.
 */

/** Something the executor can run a slice of. */
export interface Runnable {
  /**
   * Runs one slice (a bounded amount of work) and says whether the runnable
   * is still ready (the executor queues it again) or not (it parked or
   * ended; whoever wakes it schedules it again).
   */
  runSlice(): boolean;
  /**
   * Runnables of one group share one turn per round (the hive groups an
   * actor with its spawn tree), so a group with many ready runnables does
   * not crowd out the others: each group gets a slice in turn, and within a
   * group its runnables take turns. Default: a group of its own.
   */
  readonly group?: object;
}

/** Runs ready runnables fairly, a slice at a time. */
export interface Executor {
  /** Makes a runnable ready. Scheduling one that is already queued is a mistake the caller avoids. */
  schedule(r: Runnable): void;
  /** Resolves when no runnable is ready (all parked or ended). */
  idle(): Promise<void>;
  /** Number of runnables waiting for a slice. */
  readonly queued: number;
  /**
   * Asks the executor to let the host run soon: a promise the host awaits
   * has just been settled (a reply, an inbox message), and its continuation
   * runs only once the executor hands the thread back. The inline executor
   * yields to the event loop after the current slice.
   */
  yieldSoon(): void;
  /** Stops running; queued runnables are dropped. */
  close(): void;
}
