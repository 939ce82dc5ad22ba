import { describe, expect, it } from 'vitest';
import { Status, type RestartEvent } from './index.js';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';

const children = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ id: `c${i}`, module: 'probe', name: `child-${i}`, ...extra }));

/** Crashes a running child and waits until the supervisor has reacted. */
async function crash(hive: ReturnType<typeof testHive>['hive'], name: string): Promise<void> {
  const ref = hive.whereis(name)!;
  void ref.call(['trap', 'div0']).catch(() => {});
  await ref.exited;
  await settle(hive);
}

const pids = (hive: ReturnType<typeof testHive>['hive'], n: number) => Array.from({ length: n }, (_, i) => hive.whereis(`child-${i}`)?.id);

describe('supervisors', () => {
  it('one-for-one restarts only the child that failed, with its name', async () => {
    const { hive } = testHive();
    const restarted: RestartEvent[] = [];
    hive.on('restarted', (e) => restarted.push(e));
    const sup = hive.supervise({ strategy: 'one-for-one', children: children(3) });
    const before = pids(hive, 3);
    await crash(hive, 'child-1');
    const after = pids(hive, 3);
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(after[1]).toBeDefined();
    expect(after[1]).not.toBe(before[1]);
    expect(restarted.map((e) => [e.child, e.old, e.ref.id, e.reason, e.from])).toEqual([['c1', before[1], after[1], 'trap: integer divide by zero', 'initial']]);
    expect(await cmd(hive.whereis('child-1')!, 'self')).toBe(after[1]);
    expect(sup.alive).toBe(true);
    await sup.stop();
    expect(pids(hive, 3)).toEqual([undefined, undefined, undefined]);
    hive.close();
  });

  it('one-for-all restarts every child when one fails', async () => {
    const { hive } = testHive();
    const sup = hive.supervise({ strategy: 'one-for-all', children: children(3) });
    const before = pids(hive, 3);
    // The order they start in (ids do not tell it on a pool: each worker gives out ids from blocks of its own).
    const started: number[] = [];
    hive.on('spawned', (e) => started.push(e.id));
    await crash(hive, 'child-0');
    const after = pids(hive, 3);
    for (let i = 0; i < 3; i++) {
      expect(after[i]).toBeDefined();
      expect(after[i]).not.toBe(before[i]);
    }
    // Restarted in order.
    expect(started).toEqual(after);
    expect(sup.alive).toBe(true);
    hive.close();
  });

  it('rest-for-one restarts the failed child and those started after it', async () => {
    const { hive } = testHive();
    hive.supervise({ strategy: 'rest-for-one', children: children(4) });
    const before = pids(hive, 4);
    await crash(hive, 'child-1');
    const after = pids(hive, 4);
    expect(after[0]).toBe(before[0]);
    for (let i = 1; i < 4; i++) expect(after[i]).not.toBe(before[i]);
    hive.close();
  });

  it('past its restart intensity a supervisor stops its children and exits with shutdown', async () => {
    const { hive, clock } = testHive();
    const sup = hive.supervise({ strategy: 'one-for-one', maxRestarts: 2, withinMs: 1000, children: children(2) });
    await crash(hive, 'child-0');
    clock.advance(400);
    await crash(hive, 'child-0');
    clock.advance(700); // the first restart is now older than the period: it no longer counts
    await crash(hive, 'child-1');
    expect(sup.alive).toBe(true);
    clock.advance(100);
    await crash(hive, 'child-0'); // three restarts within 1000 ms
    expect(await sup.exited).toBe('shutdown');
    expect(pids(hive, 2)).toEqual([undefined, undefined]);
    expect(hive.actorIds()).toEqual([]);
    hive.close();
  });

  it('transient children restart only after failures, temporary ones never', async () => {
    const { hive } = testHive();
    hive.supervise({
      children: [
        { id: 't', module: 'probe', name: 'transient', restart: 'transient' },
        { id: 'x', module: 'probe', name: 'temporary', restart: 'temporary' },
      ],
    });
    const t = hive.whereis('transient')!;
    void t.call(['exit', t.id, 'normal']).catch(() => {});
    await t.exited;
    await settle(hive);
    expect(hive.whereis('transient')).toBeUndefined();
    const x = hive.whereis('temporary')!;
    void x.call(['trap', 'div0']).catch(() => {});
    await x.exited;
    await settle(hive);
    expect(hive.whereis('temporary')).toBeUndefined();
    hive.close();
  });

  it('restarts a child from its last snapshot, with the same id and its state', async () => {
    const { hive } = testHive();
    const sup = hive.supervise({ children: [{ id: 'acc', module: 'probe', name: 'acc', from: 'snapshot' }] });
    const acc = hive.whereis('acc')!;
    for (let i = 0; i < 3; i++) await cmd(acc, 'inc');
    sup.checkpoint('acc');
    await cmd(acc, 'inc');
    expect(await cmd(acc, 'get')).toBe(4);
    await crash(hive, 'acc');
    const again = hive.whereis('acc')!;
    expect(again.id).toBe(acc.id);
    expect(await cmd(again, 'get')).toBe(3);
    hive.close();
  });

  it('checkpoints a child periodically on the hive clock', async () => {
    const { hive, clock } = testHive();
    hive.supervise({ children: [{ id: 'acc', module: 'probe', name: 'acc', from: 'snapshot', checkpointEvery: 100 }] });
    const acc = hive.whereis('acc')!;
    await cmd(acc, 'inc');
    await cmd(acc, 'inc');
    clock.advance(100);
    await cmd(acc, 'inc');
    await crash(hive, 'acc');
    expect(await cmd(hive.whereis('acc')!, 'get')).toBe(2);
    hive.close();
  });

  it('nested supervisors: an inner one that gives up is restarted by the outer one', async () => {
    const { hive } = testHive();
    const outer = hive.supervise({
      strategy: 'one-for-one',
      children: [{ id: 'inner', supervisor: { maxRestarts: 0, children: [{ id: 'w', module: 'probe', name: 'worker' }] } }],
    });
    const inner = outer.childSupervisor('inner')!;
    const w = hive.whereis('worker')!;
    await crash(hive, 'worker');
    expect(await inner.exited).toBe('shutdown');
    const inner2 = outer.childSupervisor('inner')!;
    expect(inner2).toBeDefined();
    expect(inner2.id).not.toBe(inner.id);
    const w2 = hive.whereis('worker')!;
    expect(w2.id).not.toBe(w.id);
    expect(await cmd(w2, 'inc')).toBe(1);
    hive.close();
  });

  it('one_for_all restarts a sibling that was running when the group restart began', async () => {
    const { hive } = testHive({ signals: 'open' });
    const restarted: RestartEvent[] = [];
    hive.on('restarted', (e) => restarted.push(e));
    const sup = hive.supervise({ strategy: 'one-for-all', children: [{ id: 'a', module: 'probe' }, { id: 'b', module: 'probe' }] });
    const a = sup.child('a')!;
    const b = sup.child('b')!;
    // a's slice makes b fail, so a is running when the supervisor stops it.
    void cmd(a, 'exit', b.id, 'boom').catch(() => {});
    await a.exited;
    await settle(hive);
    const after = sup.which();
    expect(after.every((c) => c.pid !== null)).toBe(true);
    expect(after[0]!.pid).not.toBe(a.id);
    expect(after[1]!.pid).not.toBe(b.id);
    expect(after[0]!.pid!).toBeLessThan(after[1]!.pid!); // in start order
    // Each once, after both had exited.
    expect(restarted.map((e) => [e.child, e.old, e.ref.id, e.reason])).toEqual([
      ['a', a.id, after[0]!.pid, 'shutdown'],
      ['b', b.id, after[1]!.pid, 'boom'],
    ]);
    expect(await cmd(sup.child('a')!, 'inc')).toBe(1);
    expect(hive.actorIds().sort()).toEqual(after.map((c) => c.pid).sort());
    hive.close();
  });

  it('rest_for_one restarts a later sibling that was running when the group restart began', async () => {
    const { hive } = testHive({ signals: 'open' });
    const sup = hive.supervise({ strategy: 'rest-for-one', children: [{ id: 'x', module: 'probe' }, { id: 'b', module: 'probe' }, { id: 'a', module: 'probe' }] });
    const [x, b, a] = [sup.child('x')!, sup.child('b')!, sup.child('a')!];
    const started: number[] = [];
    hive.on('spawned', (e) => started.push(e.id));
    void cmd(a, 'exit', b.id, 'boom').catch(() => {});
    await a.exited;
    await settle(hive);
    const after = sup.which().map((c) => c.pid);
    expect(after[0]).toBe(x.id);
    expect(after[1]).not.toBeNull();
    expect(after[2]).not.toBeNull();
    expect(after[1]).not.toBe(b.id);
    expect(after[2]).not.toBe(a.id);
    // b restarted before a (the start order, not the ids: on a pool each worker gives out ids of its own).
    expect(started).toEqual([after[1], after[2]]);
    hive.close();
  });

  it('restarted events of group siblings report the id each had before the restart', async () => {
    const { hive } = testHive();
    const restarted: RestartEvent[] = [];
    hive.on('restarted', (e) => restarted.push(e));
    hive.supervise({ strategy: 'one-for-all', children: children(3) });
    const before = pids(hive, 3);
    await crash(hive, 'child-1');
    const after = pids(hive, 3);
    expect(restarted.map((e) => [e.child, e.old, e.ref.id, e.reason])).toEqual([
      ['c0', before[0], after[0], 'shutdown'],
      ['c1', before[1], after[1], 'trap: integer divide by zero'],
      ['c2', before[2], after[2], 'shutdown'],
    ]);
    hive.close();
  });

  it('stopping a nested supervisor also stops grandchildren that trap exits', async () => {
    const { hive } = testHive();
    const top = hive.supervise({ children: [{ id: 'inner', supervisor: { children: [{ id: 'w', module: 'probe' }, { id: 'w2', module: 'probe' }] } }] });
    const inner = top.childSupervisor('inner')!;
    const w = inner.child('w')!;
    const w2 = inner.child('w2')!;
    await cmd(w, 'trap_exit', true);
    const order: number[] = [];
    hive.on('exited', (e) => order.push(e.id));
    expect(await top.stop()).toBe('shutdown');
    await settle(hive);
    expect(inner.alive).toBe(false);
    expect(w.alive).toBe(false);
    expect(hive.actorIds()).toEqual([]);
    expect(order).toEqual([w2.id, w.id]); // last started first
    hive.close();
  });

  it('a supervisor that is killed stops its children, also those that trap exits', async () => {
    const { hive } = testHive({ signals: 'open' });
    const sup = hive.supervise({ children: [{ id: 'inner', supervisor: { children: [{ id: 'w', module: 'probe' }] } }, { id: 'v', module: 'probe' }] });
    const w = sup.childSupervisor('inner')!.child('w')!;
    const v = sup.child('v')!;
    await cmd(w, 'trap_exit', true);
    await cmd(v, 'trap_exit', true);
    const killer = hive.spawn('probe');
    expect(await cmd(killer, 'exit', sup.id, 'kill')).toBe(0);
    expect(await sup.exited).toBe('killed');
    await settle(hive);
    expect(w.alive).toBe(false);
    expect(v.alive).toBe(false);
    expect(hive.actorIds()).toEqual([killer.id]);
    hive.close();
  });

  it('a nested supervisor that gives up while its child is running exits after that child, and is restarted', async () => {
    const { hive } = testHive({ signals: 'open' });
    const outer = hive.supervise({
      children: [{ id: 'inner', supervisor: { maxRestarts: 0, children: [{ id: 'a', module: 'probe', name: 'wa' }, { id: 'b', module: 'probe', name: 'wb' }] } }],
    });
    const inner = outer.childSupervisor('inner')!;
    const a = hive.whereis('wa')!;
    const b = hive.whereis('wb')!;
    // a's slice makes b fail: the inner supervisor gives up while a is running (and holds its name).
    void cmd(a, 'exit', b.id, 'boom').catch(() => {});
    expect(await inner.exited).toBe('shutdown');
    expect(a.alive).toBe(false);
    await settle(hive);
    expect(outer.alive).toBe(true);
    const inner2 = outer.childSupervisor('inner')!;
    expect(inner2.which().every((c) => c.pid !== null)).toBe(true);
    expect(await cmd(hive.whereis('wa')!, 'inc')).toBe(1);
    hive.close();
  });

  it('a supervisor ignores the exits of processes that linked to it, and exit signals other than kill', async () => {
    const { hive } = testHive({ signals: 'open' });
    const sup = hive.supervise({ children: [{ id: 'w', module: 'probe' }] });
    const w = sup.child('w')!;
    const stranger = hive.spawn('probe');
    expect(await cmd(stranger, 'link', sup.id)).toBe(0);
    expect(await cmd(stranger, 'exit', sup.id, 'boom')).toBe(0);
    void cmd(stranger, 'trap', 'div0').catch(() => {});
    expect(await stranger.exited).toBe('trap: integer divide by zero');
    await settle(hive);
    expect(sup.alive).toBe(true);
    expect(sup.which()).toEqual([{ id: 'w', pid: w.id }]);
    hive.close();
  });

  it('a child that calls exit on its supervisor is not taken for exited', async () => {
    const { hive } = testHive({ signals: 'open' });
    const restarted: RestartEvent[] = [];
    hive.on('restarted', (e) => restarted.push(e));
    const sup = hive.supervise({ children: [{ id: 'w', module: 'probe' }] });
    const w = sup.child('w')!;
    expect(await cmd(w, 'exit', sup.id, 'boom')).toBe(0);
    await settle(hive);
    expect(sup.alive).toBe(true);
    expect(restarted).toEqual([]);
    expect(sup.which()).toEqual([{ id: 'w', pid: w.id }]);
    expect(hive.actorIds()).toEqual([w.id]);
    hive.close();
  });

  it('a nested supervisor still ends when its parent is killed', async () => {
    const { hive } = testHive({ signals: 'open' });
    const top = hive.supervise({ children: [{ id: 'inner', supervisor: { children: [{ id: 'w', module: 'probe' }] } }] });
    const inner = top.childSupervisor('inner')!;
    const killer = hive.spawn('probe');
    await cmd(killer, 'exit', top.id, 'kill');
    expect(await inner.exited).toBe('shutdown');
    expect(hive.actorIds()).toEqual([killer.id]);
    hive.close();
  });

  // What broke: pids are small sequential numbers, and any guest could kill
  // any of them, supervisors included (a whole supervision tree with one call).
  it('regression: a guest killed a supervisor; by default it cannot signal or link to one, nor to actors of other spawn trees', async () => {
    const { hive } = testHive();
    const sup = hive.supervise({ children: [{ id: 'w', module: 'probe' }] });
    const w = sup.child('w')!;
    const attacker = hive.spawn('probe');
    await settle(hive);
    // Whatever it tries, the supervisor and its child look as if they did not exist.
    expect(await cmd(attacker, 'exit', sup.id, 'kill')).toBe(Status.NOT_FOUND);
    expect(await cmd(attacker, 'exit', w.id, 'kill')).toBe(Status.NOT_FOUND);
    expect(await cmd(attacker, 'link', sup.id)).toBe(Status.NOT_FOUND);
    expect(await cmd(attacker, 'link', w.id)).toBe(Status.NOT_FOUND);
    // Linking, then crashing, is not a way round it either.
    void cmd(attacker, 'trap', 'div0').catch(() => {});
    await attacker.exited;
    await settle(hive);
    expect(sup.alive).toBe(true);
    expect(sup.which()).toEqual([{ id: 'w', pid: w.id }]);
    // Within its own tree a guest signals as Erlang's do: a child it spawned.
    const parent = hive.spawn('probe');
    await settle(hive);
    const child = (await cmd(parent, 'spawn', 'probe', null, false)) as number;
    expect(child).toBeGreaterThan(0);
    expect(await cmd(parent, 'exit', child, 'kill')).toBe(0);
    await settle(hive);
    expect(hive.ref(child).alive).toBe(false);
    // The host may put an actor into another's tree (a group), or open the policy for the hive.
    const peer = hive.spawn('probe', { tree: parent });
    await settle(hive);
    expect(await cmd(parent, 'link', peer.id)).toBe(0);
    hive.close();
  });

  it('refuses bad specs', () => {
    const { hive } = testHive();
    expect(() => hive.supervise({ children: [{ id: 'a', module: 'probe' }, { id: 'a', module: 'probe' }] })).toThrow(/two children/);
    expect(() => hive.supervise({ strategy: 'all-for-none' as never, children: [] })).toThrow(/strategy/);
    expect(() => hive.supervise({ children: [{ id: 'a', module: 'nope.wasm' }] })).toThrow(/no module named/);
    hive.close();
  });
});
