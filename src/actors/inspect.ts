/**
 * @internal Answers the inspection queries (protocol.ts `InspectQuery`) about
 * an actor of this thread's system: on a worker for the main thread's
 * `inspect` requests (pool-worker.ts), and inline for tests
 * (test/helpers/inspect.ts). One function for both, so that a test reads the
 * same answer whichever thread holds the actor. Not part of the API (not
 * exported from index.ts).
 */
import { ManualClock } from '../scheduler/index.js';
import { ActorExitedError } from './errors.js';
import type { ActorCounters, InspectAnswers, InspectQuery, TreeCounters } from './protocol.js';
import type { Tree } from './limits.js';
import type { ActorSystem } from './system.js';

/**
 * @internal The answer of `system` to `query` about its actor `id`. Throws
 * ActorExitedError when it holds no such actor (as a snapshot of it would),
 * and RangeError for a memory range outside the actor's memory.
 */
export function inspectActor<Q extends InspectQuery>(system: ActorSystem, id: number, query: Q): InspectAnswers[Q['q']] {
  return answer(system, id, query) as InspectAnswers[Q['q']];
}

function answer(system: ActorSystem, id: number, query: InspectQuery): InspectAnswers[InspectQuery['q']] {
  // The thread's own questions: no actor needed (a worker answers them for id 0).
  if (query.q === 'endpoints') return system.endpointCount;
  if (query.q === 'memoryPool') return system.memoryPoolStats;
  if (query.q === 'tree') {
    const t = system.treesOf(query.root)[0];
    return t === undefined ? null : treeCounters(t);
  }
  if (query.q === 'timers') {
    const clock = system.clock;
    // Only a manual clock counts its timers (tests run on one).
    if (!(clock instanceof ManualClock)) throw new RangeError('the timers of a system clock are not counted');
    return clock.timers;
  }
  const a = system.actor(id);
  if (a === undefined) throw new ActorExitedError(id, 'noproc');
  switch (query.q) {
    case 'memory': {
      const m = a.memory();
      const { offset, length } = query;
      if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= m.byteLength)) {
        throw new RangeError(`bytes [${offset}, ${offset}+${length}) are outside actor ${id}'s memory (${m.byteLength} bytes)`);
      }
      // A copy: the view is the actor's (pooled) region.
      return m.u8.slice(offset, offset + length);
    }
    case 'counters': {
      const inst = a.instance;
      const t = a.tree;
      const counters: ActorCounters = {
        alive: a.alive,
        fuelUsed: inst?.fuelUsed ?? 0,
        fuelLeft: inst?.fuel ?? 0,
        stackBytes: inst?.stackBytes ?? 0,
        memoryBytes: a.mem?.byteLength ?? 0,
        tableElements: inst === null ? 0 : inst.inst.tables.reduce((n, table) => n + table.length, 0),
        currentBytes: a.current?.bytes.length ?? null,
        callers: a.callers.size,
        links: a.links.size,
        monitors: a.monitors.size,
        monitoredBy: a.monitoredBy.size,
        signals: a.signals.length,
        blockedSenders: a.mailbox.blocked,
        tree: treeCounters(t),
      };
      return counters;
    }
    case 'shapes': {
      const inst = a.instance;
      return {
        memories: inst === null ? [] : inst.inst.memories.map((m) => Object.getOwnPropertyNames(m)),
        tables: inst === null ? [] : inst.inst.tables.map((t) => Object.getOwnPropertyNames(t)),
      };
    }
    case 'limits':
      return { ...a.limits };
    default:
      throw new RangeError(`no inspection query '${(query as { q: unknown }).q}'`);
  }
}

/** A spawn tree's counters, as plain data. */
function treeCounters(t: Tree): TreeCounters {
  return { root: t.root, actors: t.actors, pages: t.pages, elements: t.elements, queuedBytes: t.queuedBytes, entries: t.entries };
}
