/**
 * Scheduling: what runs actors and when. A run queue of ready actors, each
 * run for a fuel slice and put back (`InlineExecutor`, on the main thread,
 * behind the `Executor` interface that a worker pool implements too), and
 * the injected `Clock` that every timeout and sleep reads.
 * This folder knows nothing of actors: it runs `Runnable`s.
 */
export { type Clock, type TimerHandle, SystemClock, ManualClock } from './clock.js';
export { type Executor, type Runnable } from './executor.js';
export { InlineExecutor, type InlineExecutorOptions } from './inline.js';
