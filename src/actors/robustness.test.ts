/**
 * The hive stays whole when its users or its input misbehave: listeners that
 * throw, malformed snapshots, messages to addresses without a mailbox,
 * addresses that close under a waiting caller, a hive closed with work in
 * flight. Each test is named after what broke.
 */
import { describe, expect, it } from 'vitest';

import { SnapshotError } from '../vm/index.js';
import { HiveStateError, type DeadLetter } from './index.js';
import { cmd, forge, settle, testHive } from '../../test/helpers/hive.js';
import { systemOf } from './hive.js';
import { addressesHeld, pendingTimers } from '../../test/helpers/inspect.js';


describe('event listeners that throw', () => {
  it('an exited listener that throws leaves no exit promise pending and no linked actor alive', async () => {
    const { hive } = testHive({ signals: 'open' });
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(a, 'link', b.id)).toBe(0);
    hive.on('exited', () => {
      throw new Error('listener bug');
    });
    let later = 0;
    hive.on('exited', () => later++);
    a.kill();
    expect(await a.exited).toBe('killed');
    expect(await b.exited).toBe('killed');
    // Each listener ran for each exit, the one after the thrower too.
    expect(later).toBe(2);
    expect(hive.actorIds()).toEqual([]);
    hive.close();
  });

  it('a crashed listener that throws during a slice does not stop the other actors', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const counter = hive.spawn<string, string>('counter');
    await settle(hive);
    hive.on('crashed', () => {
      throw new Error('listener bug');
    });
    void cmd(a, 'trap', 'div0').catch(() => undefined);
    expect(await a.exited).toMatch(/^trap: /);
    expect(await counter.call('up', { timeout: Infinity })).toBe('value=1');
    hive.close();
  });
});

describe('restoring bad snapshots', () => {
  it('a snapshot with a bad wait is refused and leaves nothing behind: no actor, no name, no links', async () => {
    const { hive } = testHive({ signals: 'open' });
    const peer = hive.spawn('probe');
    const a = hive.spawn('probe', { name: 'victim' });
    await settle(hive);
    await cmd(peer, 'trap_exit', true); // it outlives a's stop
    await cmd(a, 'link', peer.id);
    await cmd(a, 'monitor', peer.id);
    await settle(hive); // back in its receive
    const snap = a.snapshot();
    await a.stop();
    await settle(hive);
    expect(peer.info()!.links).toEqual([]);
    for (const edit of [
      (b: Record<string, any>) => (b['wait']['left'] = -5),
      (b: Record<string, any>) => (b['wait']['kind'] = 'bogus'),
      (b: Record<string, any>) => (b['wait'] = { kind: 'sleep', left: 10 }),
      (b: Record<string, any>) => (b['wait'] = { kind: 'call', left: null, reply: 0, target: peer.id, request: null }),
      (b: Record<string, any>) => (b['wait'] = { kind: 'send', left: null, to: peer.id, bytes: 'not bytes' }),
    ]) {
      expect(() => hive.restore(forge(snap, edit))).toThrow(SnapshotError);
      expect(hive.actorIds()).toEqual([peer.id]);
      expect(hive.whereis('victim')).toBeUndefined();
      expect(peer.info()!.links).toEqual([]);
    }
    // The genuine snapshot still restores under its id and name.
    const back = hive.restore(snap);
    expect(back.id).toBe(a.id);
    expect(hive.whereis('victim')?.id).toBe(a.id);
    expect(peer.info()!.links).toEqual([a.id]);
    expect(await cmd(back, 'echo', 'still here')).toBe('still here');
    hive.close();
  });

  it('a forged snapshot that waits on a host function while paused in a hive import is refused without running it', async () => {
    const { hive } = testHive();
    const target = hive.spawn('probe');
    const a = hive.spawn('probe');
    await settle(hive);
    const snap = a.snapshot(); // paused in hive.receive
    await a.stop();
    let delivered = 0;
    hive.on('deadLetter', () => delivered++);
    const forged = forge(snap, (b) => (b['wait'] = { kind: 'host' }));
    expect(() => hive.restore(forged)).toThrow(/paused in hive\.receive/);
    expect(hive.actorIds()).toEqual([target.id]);
    expect(delivered).toBe(0);
    hive.close();
  });
});

describe('copies of a living actor', () => {
  it('a copy restored beside its living original leaves monitors on the original: one DOWN per monitor', async () => {
    const { hive } = testHive();
    const box = hive.inbox<Record<string, any>>();
    const watcher = hive.spawn('probe', { init: { report: box.ref } });
    const original = hive.spawn('counter');
    await settle(hive);
    expect((await box.next()).kind).toBe('init');
    const ref = await cmd(watcher, 'monitor', original.id);
    const copy = hive.restore(original.snapshot(), { id: 'new', name: null });
    await settle(hive);
    copy.kill();
    await settle(hive);
    expect(box.size).toBe(0); // the copy was not monitored
    original.kill();
    await settle(hive);
    const down = await box.next();
    expect(down).toMatchObject({ kind: 'down', ref, reason: 'killed' });
    expect(down['from'].id).toBe(original.id);
    expect(box.size).toBe(0);
    hive.close();
  });
});

describe('addresses without a mailbox, and addresses that close', () => {
  it('a message to a supervisor is refused (NOT_FOUND) and reported as a dead letter, not acknowledged and dropped', async () => {
    const { hive } = testHive();
    const sup = hive.supervise({ children: [] });
    const p = hive.spawn('probe');
    await settle(hive);
    const dead: DeadLetter[] = [];
    hive.on('deadLetter', (d) => dead.push(d));
    expect(await cmd(p, 'send', sup.id, 'hello', 0)).toBe(-2);
    expect(dead).toMatchObject([{ from: p.id, to: sup.id, reason: 'no mailbox' }]);
    const [status] = (await cmd(p, 'call', sup.id, 'hello', -1)) as [number, unknown];
    expect(status).toBe(-2);
    // From the host: a clear error at once, not a call that never settles.
    await expect(hive.ref(sup.id).call('x', { timeout: Infinity })).rejects.toThrow(HiveStateError);
    expect(() => hive.ref(sup.id).send('x')).toThrow(/is a supervisor/);
    hive.close();
  });

  it('a guest call to an inbox fails (NOT_FOUND) when the inbox closes, instead of waiting forever', async () => {
    const { hive } = testHive();
    const box = hive.inbox();
    const p = hive.spawn('probe');
    await settle(hive);
    const answer = cmd(p, 'call', box.id, 'ping', -1);
    await box.receive(); // the request arrived; nobody answers it
    box.close();
    const [status] = (await answer) as [number, unknown];
    expect(status).toBe(-2);
    hive.close();
  });

  // On workers, a ref made on the main thread for a worker's reply address (`hive.ref(m.from)`) goes when the
  // call it answers ends (the main thread sees its answer pass), not only when it is collected.
  it('reply addresses and closed inboxes leave no entries behind after thousands of calls', async () => {
    const { hive, clock } = testHive();
    const box = hive.inbox<string>();
    const p = hive.spawn('probe');
    await settle(hive);
    const internals = systemOf(hive) as unknown as { refs: Map<number, unknown> };
    const serve = (async (): Promise<void> => {
      for await (const m of box) hive.ref(m.from).send('pong');
    })();
    for (let i = 0; i < 1000; i++) await cmd(p, 'call', box.id, 'ping', -1);
    for (let i = 0; i < 200; i++) hive.inbox().close();
    // probe (on a pooled hive, the main thread's record of it), the box, and the reply address of the
    // probe's command calls in flight (none); on a pooled hive the probe's worker holds the probe only
    // (the reply addresses of its calls to the box were made there).
    const held = addressesHeld(hive);
    expect(held.main).toBe(2);
    expect(held.workers.reduce((n, w) => n + w, 0)).toBe(held.workers.length === 0 ? 0 : 1);
    expect(internals.refs.size).toBeLessThanOrEqual(3);
    expect(pendingTimers(hive, clock)).toBe(0);
    hive.close();
    await serve;
  });
});

describe('refs of actors that are gone', () => {
  it('stop() on an actor that already exited resolves with its exit reason, not noproc', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    await settle(hive);
    a.kill();
    expect(await a.stop()).toBe('killed');
    expect(await hive.ref(999_999).stop()).toBe('noproc');
    hive.close();
  });
});

describe('closing a hive', () => {
  it('closing a hive restarts no supervised child and settles every receive waiting on an inbox', async () => {
    const { hive } = testHive();
    const sup = hive.supervise({ strategy: 'one-for-one', children: [{ id: 'a', module: 'counter' }, { id: 'b', module: 'counter' }] });
    await settle(hive);
    const events: string[] = [];
    hive.on('restarted', () => events.push('restarted'));
    hive.on('spawned', () => events.push('spawned'));
    const box = hive.inbox();
    const waiting = box.receive();
    let iterated = false;
    const loop = (async (): Promise<void> => {
      for await (const _ of box) void _;
      iterated = true;
    })();
    hive.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await loop;
    expect(iterated).toBe(true);
    expect(events).toEqual([]);
    expect(sup.alive).toBe(false);
    expect(hive.actorIds()).toEqual([]);
    expect(() => hive.spawn('counter')).toThrow(HiveStateError);
  });
});
