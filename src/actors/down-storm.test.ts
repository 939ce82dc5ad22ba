/**
 * An actor monitored 100,000 times (a tree's `maxTreeEntries`, reachable by
 * one guest: its actors monitor one of their own, or any actor, since
 * monitors are open) exits: the host makes 100,000 DOWN messages at once,
 * unpaid. Each was encoded with msgpackr (about 1.1 µs each): the exit held
 * the event loop 157 ms (measured), and the guest can repeat it. Now the
 * encoded `from` and `reason` are shared: 54-88 ms (the rest is the
 * messages themselves, bounded by `maxTreeEntries`).
 */
import { describe, expect, it } from 'vitest';
import { settle, testHive } from '../../test/helpers/hive.js';
import { counters, treeOf } from '../../test/helpers/inspect.js';
import { wat } from '../../test/helpers/wat.js';
import { encode, Pid } from './codec.js';
import { systemOf } from './hive.js';

/** Spawns a copy of itself with its init (a pid), then monitors that pid 1,000 times (its maxMonitors), and sleeps. */
const WATCHER = wat(`(module
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (import "hive" "read" (func $read (param i32 i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "watcher")
  (func (export "main") (local $i i32)
    (drop (call $read (i32.const 0) (i32.const 4)))
    (drop (call $spawn (i32.const 16) (i32.const 7) (i32.const 0) (i32.const 4) (i32.const 0)))
    (loop $l (drop (call $monitor (i32.load (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (loop $again (call $sleep (i32.const 1000000)) (br $again))))`);

describe('down messages of an actor monitored many times', () => {
  it('are the bytes msgpackr writes for {ref, from, reason}, whatever the ref and the reason', () => {
    const { hive } = testHive();
    const reasons = ['', 'normal', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(200),  'y'.repeat(300), 'trap: integer divide by zero'];
    for (const reason of reasons) {
      for (const ref of [1, 127, 128, 255, 256, 65_535, 65_536, 0x7fffffff]) {
        for (const from of [1, 300, 0x7fffffff]) {
          expect(new Uint8Array(systemOf(hive).encodeDown(ref, from, reason))).toEqual(new Uint8Array(encode({ ref, from: new Pid(from), reason })));
        }
      }
    }
    hive.close();
  });

  // What broke: every DOWN message of an exit was encoded from scratch.
  it('regression: the exit of an actor monitored 100,000 times held the event loop 157 ms, most of it encoding its DOWN messages one by one', async () => {
    // The default maxTreeEntries is 20,000 now (so one exit makes at most that many); the regression is at 100,000.
    const { hive } = testHive({ hiveLimits: { maxTreeEntries: 100_000 } });
    hive.define('watcher', WATCHER);
    const victim = hive.spawn('counter');
    await settle(hive);
    const init = new Uint8Array(4);
    new DataView(init.buffer).setInt32(0, victim.id, true);
    const root = hive.spawn('watcher', { init });
    for (let i = 0; i < 400 && treeOf(hive, root).entries < 100_000; i++) await settle(hive, 1);
    expect(treeOf(hive, root).entries).toBe(100_000);
    // The payloads of one exit: measured 110-176 ms with msgpackr each, 27-41 ms now.
    let t = performance.now();
    for (let ref = 1; ref <= 100_000; ref++) systemOf(hive).encodeDown(ref, victim.id, 'killed');
    // A loose guard against going back to encoding each from scratch (the figures are the bench's to measure).
    expect(performance.now() - t).toBeLessThan(400);
    // The exit itself: measured 157-162 ms before, 54-88 ms after (the rest is
    // the 100,000 envelopes and queue entries, bounded by maxTreeEntries).
    t = performance.now();
    victim.kill();
    expect(performance.now() - t).toBeLessThan(1000);
    await settle(hive);
    // All 100,000 arrived, as DOWN messages now (1,000 to each watcher).
    expect(treeOf(hive, root).entries).toBe(100_000);
    expect(counters(hive, root).signals).toBe(1000);
    hive.close();
  }, 60_000);
});
