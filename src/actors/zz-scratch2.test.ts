import { describe, expect, it } from 'vitest';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';
import { systemOf } from './hive.js';

describe('scratch2', () => {
  it('kill+restore half link', async () => {
    const { hive } = testHive({ signals: 'open' });
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(b, 'trap_exit', true)).toBe(0);
    expect(await cmd(a, 'link', b.id)).toBe(0);
    const snap = hive.snapshot(a);
    a.kill();
    const r = hive.restore(snap);
    await settle(hive);
    console.log('restored links', r.info()?.links, 'b links', b.info()?.links);
    hive.close();
  });
  it('kill+restore monitor', async () => {
    const { hive } = testHive({ signals: 'open' });
    const a = hive.spawn('probe');
    const w = hive.spawn('probe');
    await settle(hive);
    const ref = await cmd(w, 'monitor', a.id);
    const snap = hive.snapshot(a);
    a.kill();
    const r = hive.restore(snap);
    await settle(hive);
    console.log('w monitors', w.info()?.monitors, 'w signals', w.info()?.signals, 'r monitoredBy', [...systemOf(hive).actor(r.id)!.monitoredBy]);
    hive.close();
  });
  it('blocked send duplicated by move', async () => {
    const { hive, clock } = testHive();
    const box = hive.inbox({ maxMessages: 1 });
    const a = hive.spawn('probe');
    await settle(hive);
    box.ref.send('first');
    void cmd(a, 'send', box.id, 'X', -1).catch(() => {});
    await settle(hive);
    console.log('a waits', a.info()?.waiting);
    const snap = hive.snapshot(a);
    a.kill();
    hive.restore(snap);
    await settle(hive);
    const got: unknown[] = [];
    while (box.size > 0) { got.push((await box.receive()).value); await settle(hive); }
    console.log('inbox got', got);
    hive.close();
  });
});
