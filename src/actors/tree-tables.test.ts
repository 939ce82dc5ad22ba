/**
 * Table elements of a spawn tree (issue 10, second pass). `maxTableElements`
 * bounds one actor's tables, but nothing bounded a tree's: a guest whose
 * actors each grow a table to the actor's limit and spawn a copy of
 * themselves made the host hold 65,536 slots per actor on the JS heap:
 * measured, 1,000 actors of one tree held 621 MB of heap (2,000, the tree's
 * bound, twice that: past a 256 MiB heap), where a tree's memories are
 * bounded to 256 MiB by `maxTreeMemoryPages`. With the default
 * `maxTreeTableElements` the same tree holds 47 MB.
 */
import { describe, expect, it } from 'vitest';
import { settle, testHive } from '../../test/helpers/hive.js';
import { counters, fuelUsed, treeOf, word } from '../../test/helpers/inspect.js';
import { wat } from '../../test/helpers/wat.js';
import { DEFAULT_HIVE_LIMITS } from './limits.js';
import { Status } from './envelope.js';
import type { Hive } from './hive.js';

/** Grows its table by 65,536 (the actor's default limit), stores the result at 0, spawns a copy of itself (status at 4), sleeps. */
const GROWER = wat(`(module
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (data (i32.const 16) "grower")
  (func (export "main")
    (i32.store (i32.const 0) (table.grow $t (ref.null func) (i32.const 65536)))
    (i32.store (i32.const 4) (call $spawn (i32.const 16) (i32.const 6) (i32.const 0) (i32.const -1) (i32.const 0)))
    (loop $again (call $sleep (i32.const 1000000)) (br $again))))`);

/** A module declaring a table of 40,000 elements. */
const DECLARER = wat(`(module
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (table $t 40000 funcref)
  (func (export "main") (loop $again (call $sleep (i32.const 1000000)) (br $again))))`);

/** Table elements of the live actors (from the threads that hold them). */
function elements(hive: Hive): number {
  let n = 0;
  for (const id of hive.actorIds()) n += counters(hive, id).tableElements;
  return n;
}

describe('table elements of a spawn tree', () => {
  // What broke: table elements were bounded per actor only.
  it('regression: a tree of actors each growing a table to its limit held 65,536 slots per actor; maxTreeTableElements now bounds the tree (table.grow returns -1)', async () => {
    const limit = 200_000;
    const { hive } = testHive({ hiveLimits: { maxTreeActors: 12, maxTreeTableElements: limit } });
    hive.define('grower', GROWER);
    const events: string[] = [];
    hive.on('limit', (e) => events.push(e.limit));
    const root = hive.spawn('grower');
    await settle(hive, 6);
    const tree = treeOf(hive, root);
    expect(tree.actors).toBe(12);
    expect(elements(hive)).toBeLessThanOrEqual(limit);
    expect(tree.elements).toBe(elements(hive));
    const grown = hive.actorIds().map((id) => word(hive, id, 0));
    expect(grown.filter((r) => r === 0).length).toBe(3);
    expect(grown.filter((r) => r === -1).length).toBe(9);
    expect(events).toContain('maxTreeTableElements');
    // The tree's elements come back as its actors exit (its last actor, the root, is read before it goes).
    for (const id of hive.actorIds()) if (id !== root.id) hive.ref(id).kill();
    await settle(hive);
    expect(treeOf(hive, root).elements).toBe(counters(hive, root).tableElements);
    root.kill();
    await settle(hive);
    hive.close();
  });

  it('a guest spawning a module whose tables would pass the tree\'s bound gets LIMIT; the host gets LimitError', async () => {
    const { hive } = testHive({ hiveLimits: { maxTreeTableElements: 100_000 } });
    hive.define('declarer', DECLARER);
    const probe = hive.spawn('probe');
    await settle(hive);
    const { cmd } = await import('../../test/helpers/hive.js');
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await cmd(probe, 'spawn', 'declarer', null, false));
    expect(got.slice(0, 2).every((s) => (s as number) > 0)).toBe(true);
    expect(got[2]).toBe(Status.LIMIT);
    const a = hive.spawn('declarer');
    expect(() => hive.spawn('declarer', { tree: a })).not.toThrow();
    expect(() => hive.spawn('declarer', { tree: a })).toThrow(/maxTreeTableElements/);
    hive.close();
  });

  // What broke: a spawn paid for the new actor's memory but not for its tables (allocated and set by the host).
  it('regression: a spawn did not pay for the new actor\'s tables; now 1 unit per 8 elements, as table.fill', async () => {
    const { hive } = testHive();
    hive.define('declarer', DECLARER);
    hive.define('bare', wat(`(module (import "hive" "sleep" (func $sleep (param i32))) (memory (export "memory") 1)
      (func (export "main") (loop $again (call $sleep (i32.const 1000000)) (br $again))))`));
    const { cmd } = await import('../../test/helpers/hive.js');
    const costOf = async (module: string): Promise<number> => {
      const probe = hive.spawn('probe');
      await settle(hive);
      await cmd(probe, 'spawn', module, null, false); // warms the probe's code path
      const before = fuelUsed(hive, probe);
      await cmd(probe, 'spawn', module, null, false);
      return fuelUsed(hive, probe) - before;
    };
    const bare = await costOf('bare');
    const declarer = await costOf('declarer');
    // Besides the tables, the probe's own work differs a little (the names, the pids it encodes): about 100 units.
    expect(declarer - bare).toBeGreaterThanOrEqual(40_000 / 8);
    expect(declarer - bare).toBeLessThan(40_000 / 8 + 300);
    hive.close();
  });

  it('the default bound leaves room for 64 actors at the actor\'s own default limit', () => {
    expect(DEFAULT_HIVE_LIMITS.maxTreeTableElements).toBe(64 * 65_536);
  });
});
