import { describe, expect, it } from 'vitest';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';
import { gatedTransport } from '../../test/helpers/gated-transport.js';
import { systemOf } from './hive.js';

function within<T>(p: Promise<T>, ms = 300): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe('scratch', () => {
  it('link ack after linker killed', async () => {
    const gate = gatedTransport();
    const { hive } = testHive({ transport: gate.factory, signals: 'open' });
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await settle(hive);
    gate.hold = (s) => s.t === 'ack' && s.to === a.id && s.from === b.id;
    void cmd(a, 'link', b.id).catch(() => {});
    await settle(hive);
    expect(a.info()?.waiting).toBe('link');
    expect(gate.held).toBe(1);
    expect(b.info()?.links).toEqual([a.id]);
    a.kill();
    gate.release();
    await settle(hive);
    console.log('b', b.info(), await within(b.exited, 50));
    hive.close();
  });
  it('close with host call in flight', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    await settle(hive);
    const p = a.call(['echo', 1], { timeout: Infinity }).then(() => 'resolved', (e: Error) => e.name);
    hive.close();
    console.log('call', await within(p));
  });
  it('close with sendWait blocked', async () => {
    const { hive } = testHive({ limits: { mailbox: 1 } });
    const a = hive.spawn('probe');
    await settle(hive);
    void cmd(a, 'sleep', 100000).catch(() => {});
    await settle(hive);
    a.send(['echo', 1]);
    const p = a.sendWait(['echo', 2], { timeout: Infinity }).then(() => 'resolved', (e: Error) => e.name);
    await settle(hive);
    console.log('mailbox', a.info());
    hive.close();
    console.log('sendWait', await within(p));
  });
  it('callers leak', async () => {
    const { hive, clock } = testHive();
    const a = hive.spawn('probe');
    await settle(hive);
    const p = a.call(['echo', 1], { timeout: 10 }).then(() => 'resolved', (e: Error) => e.name);
    clock.advance(20);
    console.log('call', await p);
    await settle(hive);
    console.log('callers', systemOf(hive).actor(a.id)!.callers.size, (systemOf(hive) as unknown as { pending: Map<number, unknown> }).pending.size);
    hive.close();
  });
});
