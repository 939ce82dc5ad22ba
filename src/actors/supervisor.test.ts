import { describe, expect, it } from 'vitest';
import type { RestartEvent } from './index.js';
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
    await crash(hive, 'child-0');
    const after = pids(hive, 3);
    for (let i = 0; i < 3; i++) {
      expect(after[i]).toBeDefined();
      expect(after[i]).not.toBe(before[i]);
    }
    // Restarted in order: ids grow with the start order.
    expect([...after].sort((x, y) => x! - y!)).toEqual(after);
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

  it('refuses bad specs', () => {
    const { hive } = testHive();
    expect(() => hive.supervise({ children: [{ id: 'a', module: 'probe' }, { id: 'a', module: 'probe' }] })).toThrow(/two children/);
    expect(() => hive.supervise({ strategy: 'all-for-none' as never, children: [] })).toThrow(/strategy/);
    expect(() => hive.supervise({ children: [{ id: 'a', module: 'nope.wasm' }] })).toThrow(/no module named/);
    hive.close();
  });
});
