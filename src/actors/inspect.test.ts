/**
 * The inspection seam tests read actors through (test/helpers/inspect.ts,
 * src/actors/inspect.ts): the same answers from the thread that holds the
 * actor, inline or on a worker, and failures for what is not there.
 */
import { describe, expect, it } from 'vitest';
import { ActorExitedError } from './index.js';
import { settle, testHive } from '../../test/helpers/hive.js';
import { counters, inspect, memoryBytes, pendingTimers, treeOf, word } from '../../test/helpers/inspect.js';
import { wat } from '../../test/helpers/wat.js';

/** Stores 0x11223344 at 8, then waits for a message for 100 s of the hive's clock (a timer) and again for ever. */
const STORER = wat(`(module (import "hive" "receive" (func $receive (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (i32.store (i32.const 8) (i32.const 0x11223344))
    (drop (call $receive (i32.const 100000)))
    (loop (drop (call $receive (i32.const -1))) (br 0))))`);

describe('reading an actor through the inspection seam', () => {
  it('reads what the guest stored, its counters and its tree\'s, from the thread that holds it', async () => {
    const { hive } = testHive();
    const a = hive.spawn(STORER);
    await settle(hive);
    expect(word(hive, a, 8)).toBe(0x11223344);
    expect([...memoryBytes(hive, a, 8, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    const c = counters(hive, a);
    expect(c.alive).toBe(true);
    expect(c.memoryBytes).toBe(65536);
    expect(c.fuelUsed).toBeGreaterThan(0);
    expect(treeOf(hive, a)).toEqual({ root: a.id, actors: 1, pages: 1 + Math.floor(c.stackBytes / 65536), elements: 0, queuedBytes: 0, entries: 0 });
    hive.close();
  });

  it('counts a timer an actor holds on the thread that holds it, and none once it is gone', async () => {
    const { hive, clock } = testHive();
    expect(pendingTimers(hive, clock)).toBe(0);
    const a = hive.spawn(STORER);
    await settle(hive);
    expect(pendingTimers(hive, clock)).toBe(1);
    a.kill();
    await settle(hive);
    expect(pendingTimers(hive, clock)).toBe(0);
    hive.close();
  });

  it('fails with ActorExitedError for an actor that is gone, and for bytes outside its memory', async () => {
    const { hive } = testHive();
    const a = hive.spawn(STORER);
    await settle(hive);
    // (A RangeError inline; from a worker, an Error naming it: the pool passes on a few error classes only.)
    expect(() => memoryBytes(hive, a, 65534, 4)).toThrow(/outside actor \d+'s memory/);
    expect(() => inspect(hive, a, { q: 'memory', offset: -1, length: 1 })).toThrow(/outside actor \d+'s memory/);
    a.kill();
    await settle(hive);
    expect(() => counters(hive, a)).toThrow(ActorExitedError);
    hive.close();
  });
});
