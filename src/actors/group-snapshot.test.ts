/**
 * Group snapshots: actors that know each other's ids snapshotted together at
 * one point, and restored together into another hive, where they carry on.
 */
import { describe, expect, it } from 'vitest';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';
import { HiveStateError, NameTakenError } from './errors.js';
import { SERVICE_BASE } from './service.js';
import { SnapshotError } from '../vm/index.js';
import { Packr } from 'msgpackr';

describe('group snapshots', () => {
  it('a ping-pong snapshotted together mid-exchange finishes in another hive with the same counts as without the move', async () => {
    const exchange = async (move: boolean): Promise<{ report: number; pongFuel: number }> => {
      const one = testHive();
      let inbox = one.hive.inbox<number>();
      const pong = one.hive.spawn('pong', { name: 'pong' });
      const ping = one.hive.spawn('ping', { init: { peer: pong, n: 5000, report: inbox.ref } });
      let hive = one.hive;
      if (move) {
        // Part of the way: the exchange is in flight between the two when they are taken.
        await new Promise((r) => setImmediate(r));
        expect(ping.alive).toBe(true);
        const bytes = one.hive.snapshotGroup([ping, pong]);
        one.hive.close();
        const two = testHive();
        inbox = two.hive.inbox<number>({ id: inbox.id });
        const [p1, p2] = two.hive.restoreGroup(bytes);
        expect([p1!.id, p2!.id]).toEqual([ping.id, pong.id]);
        expect(two.hive.whereis('pong')?.id).toBe(pong.id);
        hive = two.hive;
      }
      const report = await inbox.next();
      await settle(hive);
      const pongFuel = hive.ref(pong.id).info()!.fuelUsed;
      hive.close();
      return { report, pongFuel };
    };
    const whole = await exchange(false);
    expect(whole.report).toBe(5000);
    const moved = await exchange(true);
    expect(moved).toEqual(whole);
  });

  it('keeps the links and monitors between its actors (no noproc signals), and restores nothing when an id is in use', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe', { name: 'a' });
    const b = hive.spawn('probe', { name: 'b', tree: a }); // one spawn tree: they may link (signals: 'tree')
    await settle(hive);
    expect(await cmd(a, 'trap_exit', true)).toBe(0);
    expect(await cmd(a, 'link', b.id)).toBe(0);
    const ref = await cmd(a, 'monitor', b.id);
    expect(ref).toBeGreaterThan(0);
    await settle(hive);
    const bytes = hive.snapshotGroup([a, b]);
    // The same ids are still in use here: refused, and nothing was made.
    const before = hive.actorIds().length;
    expect(() => hive.restoreGroup(bytes)).toThrow(HiveStateError);
    expect(hive.actorIds().length).toBe(before);

    const two = testHive({ signals: 'tree' });
    const [a2, b2] = two.hive.restoreGroup(bytes);
    await settle(two.hive);
    expect(a2!.info()!.links).toEqual([b2!.id]);
    expect(b2!.info()!.links).toEqual([a2!.id]);
    expect(a2!.info()!.monitors).toBe(1);
    expect(a2!.info()!.signals).toBe(0); // no noproc DOWN or EXIT: its peer was there when it was attached
    // The monitor fires, and the link signals (a traps exits: it lives on), when b exits in the new hive.
    b2!.kill();
    await settle(two.hive);
    expect(a2!.alive).toBe(true);
    expect(a2!.info()!.links).toEqual([]);
    expect(a2!.info()!.monitors).toBe(0);
    // A name taken in the target hive refuses the whole group.
    const three = testHive({ firstId: 1000 }); // ids apart from the group's: only the name collides
    three.hive.inbox({ name: 'b' }); // (an inbox: on a pool an actor's id would come from the workers' blocks, as the group's did)
    expect(() => three.hive.restoreGroup(bytes)).toThrow(NameTakenError);
    expect(three.hive.whereis('a')).toBeUndefined();
    for (const h of [hive, two.hive, three.hive]) h.close();
  });

  it('refuses bytes that are not a group snapshot with a SnapshotError', () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    expect(() => hive.restoreGroup(hive.snapshot(a))).toThrow(SnapshotError);
    expect(() => hive.restoreGroup(new Uint8Array(3))).toThrow(SnapshotError);
    const g = hive.snapshotGroup([a]);
    const cut = g.slice(0, g.length - 5);
    expect(() => hive.restoreGroup(cut)).toThrow(SnapshotError);
    hive.close();
  });
});

describe('limits of ids and of group snapshots', () => {
  it('a hive that gave out its last id refuses more: the host gets LimitError("ids"), a guest LIMIT', async () => {
    // (The last ids below the services' range: SERVICE_BASE and above are no actor's.)
    const { hive } = testHive({ firstId: SERVICE_BASE - 2 });
    const probe = hive.spawn('probe'); // the second to last id
    await settle(hive);
    expect(probe.id).toBe(SERVICE_BASE - 2);
    // The last id goes to the reply address of this call; the probe's spawn then finds none left.
    expect(await cmd(probe, 'spawn', 'counter', null, false)).toBe(-10);
    expect(() => hive.spawn('probe')).toThrow(/limit ids/);
    expect(() => hive.inbox()).toThrow(/limit ids/);
    hive.close();
  });

  it('a crafted group snapshot listing more actors than the hive may hold is refused before any is read', () => {
    const { hive } = testHive({ hiveLimits: { maxActors: 10 } });
    const a = hive.spawn('probe');
    const one = hive.snapshotGroup([a]);
    const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
    const body = packr.pack({ format: 1, actors: Array.from({ length: 11 }, () => new Uint8Array(1)) });
    const forged = new Uint8Array(8 + body.length);
    forged.set(one.subarray(0, 8));
    forged.set(body, 8);
    expect(() => hive.restoreGroup(forged)).toThrow(/more than 10 items/);
    expect(hive.actorIds()).toEqual([a.id]);
    hive.close();
  });
});
