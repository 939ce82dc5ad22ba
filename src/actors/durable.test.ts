import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Hive } from './hive.js';
import { MemoryStore } from '../store/index.js';
import type { DurableOptions } from './durable.js';

const counter = readFileSync(new URL('../../test/guests/counter.wasm', import.meta.url));
const quiet = pino({ level: 'silent' });

function hive(store: MemoryStore, more: Partial<DurableOptions> = {}): Hive {
  const h = new Hive({ logger: quiet, durable: { store, ...more } });
  h.define('counter', counter);
  return h;
}

describe('durable actors', () => {
  it('keep their state across hives: a new hive on the same store carries on from the last checkpoint', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    for (let i = 0; i < 5; i++) await c.sendWait('up');
    expect(await c.call('up')).toBe('value=6');
    await a.idle();
    a.close();
    const b = hive(store);
    await b.recover();
    const again = await b.durable('c1', 'counter');
    expect(again.id).toBe(c.id);
    expect(await again.call('up')).toBe('value=7');
    b.close();
  });

  it('replay the journal after a crash: acknowledged messages that no checkpoint covers take effect once', async () => {
    const store = new MemoryStore();
    const a = hive(store, { checkpointEvery: 1_000_000, checkpointMs: 1e9 });
    const c = await a.durable('c1', 'counter');
    for (let i = 0; i < 10; i++) await c.sendWait('up');
    await a.idle();
    // A crash: the hive is dropped with 10 messages journaled and no checkpoint since the first.
    a.close();
    expect((await store.read('c1')).length).toBe(10);
    const b = hive(store);
    const r = await b.recover();
    expect(r).toMatchObject({ actors: 1, restored: 1, replayed: 10 });
    const again = await b.durable('c1', 'counter');
    expect(await again.call('up')).toBe('value=11');
    b.close();
  });

  it('trim the journal once a checkpoint covers it', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    for (let i = 0; i < 3; i++) await c.sendWait('up');
    await a.idle();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.read('c1')).toEqual([]);
    a.close();
  });

  it('passivate an idle actor and bring it back on the next message, with the same id and state', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    await c.sendWait('up');
    await a.idle();
    expect(await a.passivate(c)).toBe(true);
    expect(a.actorIds()).not.toContain(c.id);
    expect(await c.call('up')).toBe('value=2');
    expect(a.actorIds()).toContain(c.id);
    a.close();
  });

  it('passivate by themselves after passivateAfterMs idle', async () => {
    const store = new MemoryStore();
    const a = hive(store, { passivateAfterMs: 30 });
    const c = await a.durable('c1', 'counter');
    await c.sendWait('up');
    await new Promise((r) => setTimeout(r, 150));
    expect(a.actorIds()).not.toContain(c.id);
    await c.sendWait('up');
    expect(await c.call('up')).toBe('value=3');
    a.close();
  });

  it('keep messages sent while being restored, in order', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    await a.idle();
    expect(await a.passivate(c)).toBe(true);
    const sends = Array.from({ length: 20 }, () => c.sendWait('up'));
    const last = c.call('down');
    await Promise.all(sends);
    expect(await last).toBe('value=19');
    a.close();
  });

  it('refuse a key of another module and a hive with no durable store', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    a.define('other', counter);
    await a.durable('k', 'counter');
    await expect(a.durable('k', 'other')).rejects.toThrow(/of module "counter"/);
    a.close();
    const plain = new Hive({ logger: quiet });
    await expect(async () => plain.durable('k', 'counter')).rejects.toThrow(/no durable actors/);
    plain.close();
  });
});
