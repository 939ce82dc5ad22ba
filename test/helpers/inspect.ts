/**
 * Reading an actor's insides in tests, whichever thread holds it: inline
 * through the hive's system, on a pooled hive through the worker holding it
 * (an `inspect` request, answered synchronously). The same questions and the
 * same answers either way (src/actors/inspect.ts answers both), so a test
 * asks once and runs inline, serialized and on workers.
 */
import type { ManualClock } from '../../src/scheduler/index.js';
import type { ActorRef, Hive } from '../../src/actors/index.js';
import { poolOf, systemOf } from '../../src/actors/hive.js';
import { inspectActor } from '../../src/actors/inspect.js';
import type { ActorCounters, InspectAnswers, InspectQuery, TreeCounters } from '../../src/actors/protocol.js';

/** An actor, by ref or id. */
type Target = ActorRef | number;

const idOf = (t: Target): number => (typeof t === 'number' ? t : t.id);

/** The answer to `query` about actor `target`, from the thread that holds it (throws ActorExitedError when it is gone). */
export function inspect<Q extends InspectQuery>(hive: Hive, target: Target, query: Q): InspectAnswers[Q['q']] {
  const id = idOf(target);
  const pool = poolOf(hive);
  // A pooled hive keeps its actors on workers (a main-thread actor of it, e.g. a restored one, is read here).
  const remote = pool !== null ? systemOf(hive).remoteActor(id) : undefined;
  if (pool !== null && remote !== undefined) return pool.inspect(remote, query);
  return inspectActor(systemOf(hive), id, query);
}

/** `length` bytes of the actor's memory from `offset` (a copy). */
export function memoryBytes(hive: Hive, target: Target, offset: number, length: number): Uint8Array {
  return inspect(hive, target, { q: 'memory', offset, length });
}

/** The i32 (little-endian) the actor's guest stored at `at`. */
export function word(hive: Hive, target: Target, at: number): number {
  const b = memoryBytes(hive, target, at, 4);
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
}

/** The actor's counters (fuel, stack, memory, links, monitors, callers, signals, blocked senders) and its tree's. */
export function counters(hive: Hive, target: Target): ActorCounters {
  return inspect(hive, target, { q: 'counters' });
}

/** The limits the actor runs under. */
export function limitsOf(hive: Hive, target: Target): Readonly<Record<string, number>> {
  return inspect(hive, target, { q: 'limits' });
}

/** The counters of the actor's spawn tree (read now: a copy, not the live tree). */
export function treeOf(hive: Hive, target: Target): TreeCounters {
  return counters(hive, target).tree;
}

/** Fuel the actor has used so far. */
export function fuelUsed(hive: Hive, target: Target): number {
  return counters(hive, target).fuelUsed;
}

/**
 * Timers the hive's actors and parties hold: those pending on its manual
 * clock `clock` and, on a pooled hive, on each worker's (which follows it),
 * but the pool's own (its rebalancer's, always pending).
 */
export function pendingTimers(hive: Hive, clock: ManualClock): number {
  const pool = poolOf(hive);
  if (pool === null) return clock.timers;
  return clock.timers - pool.ownTimers + pool.inspectWorkers({ q: 'timers' }).reduce((n, t) => n + t, 0);
}

/**
 * Addresses the hive's threads hold: `main`, the main thread's system's
 * (actors, inboxes, reply addresses and, on a pooled hive, the records of
 * the workers' actors); `workers`, each worker's, in order (none inline).
 */
export function addressesHeld(hive: Hive): { main: number; workers: number[] } {
  const pool = poolOf(hive);
  return { main: systemOf(hive).endpointCount, workers: pool === null ? [] : pool.inspectWorkers({ q: 'endpoints' }) };
}

/**
 * Regions of memory lent to actors' memories, on every thread of the hive:
 * the main thread's memory pool and, on a pooled hive, each worker's (its
 * actors' memories are cut from its own pool).
 */
export function lentRegions(hive: Hive): number {
  const pool = poolOf(hive);
  const main = systemOf(hive).memoryPoolStats.lentRegions;
  return pool === null ? main : pool.inspectWorkers({ q: 'memoryPool' }).reduce((n, s) => n + s.lentRegions, main);
}

/**
 * The counters of the spawn tree made for actor `root`, from whichever thread
 * holds it (a tree's actors run on one thread); all 0 once the tree counts
 * nothing any more (its thread then drops it).
 */
export function treeCounters(hive: Hive, root: number): TreeCounters {
  const pool = poolOf(hive);
  const found = [inspectActor(systemOf(hive), 0, { q: 'tree', root }), ...(pool === null ? [] : pool.inspectWorkers({ q: 'tree', root }))].filter((t) => t !== null);
  if (found.length > 1) throw new Error(`two threads hold a tree made for actor ${root}`);
  return found[0] ?? { root, actors: 0, pages: 0, elements: 0, queuedBytes: 0, entries: 0 };
}
