import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Hive } from './hive.js';
import type { ActorRef } from './ref.js';
import { MemoryStore, type Store } from '../store/index.js';
import { encode } from './codec.js';
import type { DurableOptions } from './types.js';
import { conformance } from '../../test/helpers/hive.js';
import { ManualClock } from '../scheduler/index.js';
import { decode } from './codec.js';
import { wat } from '../../test/helpers/wat.js';

const counter = readFileSync(new URL('../../test/guests/counter.wasm', import.meta.url));
const probe = readFileSync(new URL('../../test/guests/probe.wasm', import.meta.url));
const quiet = pino({ level: 'silent' });

function hive(store: MemoryStore, more: Partial<DurableOptions> = {}): Hive {
  // On the serializing transport too (the conformance run); not on workers (durable actors run inline for now).
  const h = new Hive(conformance({ logger: quiet, durable: { store, ...more } }));
  h.define('counter', counter);
  return h;
}

/** A hive on a manual clock with the probe guest, whose durable actors passivate only when told to. */
function probeHive(store: MemoryStore, clock: ManualClock): Hive {
  const h = new Hive(conformance({ logger: quiet, clock, durable: { store, passivateAfterMs: Infinity } }));
  h.define('probe', probe);
  return h;
}

/** A store whose puts take `ms` (a slow fsync), or fail while `failing()` says so. */
function slowPuts(store: MemoryStore, ms: number, failing: () => boolean = () => false): Store {
  const put = store.put.bind(store);
  store.put = async (k, v) => {
    await new Promise((r) => setTimeout(r, ms));
    if (failing()) throw new Error('disk full');
    return put(k, v);
  };
  return store;
}

/** A durable probe on a manual clock, and an inbox for its answers. */
async function waitingProbe(): Promise<{ store: MemoryStore; clock: ManualClock; a: Hive; p: ActorRef; box: ReturnType<Hive['inbox']> }> {
  const store = new MemoryStore();
  const clock = new ManualClock(1_000_000);
  const a = probeHive(store, clock);
  const p = await a.durable('p', 'probe');
  return { store, clock, a, p, box: a.inbox() };
}

/** Sends a counter "up", waits until it handled it, and passivates it. */
async function upAndPassivate(a: Hive, c: ActorRef): Promise<void> {
  await c.sendWait('up');
  await a.idle();
  expect(await a.passivate(c)).toBe(true);
}

// In the pool's conformance runs the durable actors run on the main thread, the other actors on the workers.
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

  it('replay a journaled call without its answer reaching a new call (regression: a reply address given out again after recovery got the replayed answer)', async () => {
    const store = new MemoryStore();
    const a = hive(store, { checkpointEvery: 1_000_000, checkpointMs: 1e9 });
    const c = await a.durable('c1', 'counter');
    expect(await c.call('up')).toBe('value=1');
    expect(await c.call('up')).toBe('value=2');
    a.close();
    const b = hive(store);
    await b.recover();
    const again = await b.durable('c1', 'counter');
    expect(await again.call('up')).toBe('value=3');
    expect(await again.call('up')).toBe('value=4');
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
    await upAndPassivate(a, c);
    expect(a.actorIds()).not.toContain(c.id);
    expect(await c.call('up')).toBe('value=2');
    expect(a.actorIds()).toContain(c.id);
    a.close();
  });

  it('passivate at rest while their checkpoint is still being put, resolving once it is (regression: passivate waited forever)', async () => {
    const store = new MemoryStore();
    const put = store.put.bind(store);
    store.put = async (k, v) => {
      await new Promise((r) => setTimeout(r, 30));
      return put(k, v);
    };
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    await c.sendWait('up');
    await a.idle();
    // Its checkpoint (after 'up') is being put: at rest, it passivates without a snapshot, once that put is done.
    expect(await a.passivate(c)).toBe(true);
    expect(await a.passivate(c)).toBe(false);
    expect(await c.call('up')).toBe('value=2');
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

  it('keep their timers through passivation: a receive with a deadline wakes them at that time, restored, and times out', async () => {
    const { clock, a, p, box } = await waitingProbe();
    // The probe waits in receive for 5 s, then answers the inbox [status, ...].
    await p.sendWait(['receive', 5_000], { from: box });
    await a.idle();
    expect(await a.passivate(p)).toBe(true);
    expect(a.actorIds()).not.toContain(p.id);
    clock.advance(4_000);
    await a.idle();
    expect(a.actorIds()).not.toContain(p.id);
    expect(box.size).toBe(0);
    clock.advance(1_000);
    // Its wake timer restored it (the store read is asynchronous); a manual clock fires the receive's timer, due now, when moved.
    while (!a.actorIds().includes(p.id)) await new Promise((r) => setTimeout(r, 1));
    expect(p.info()?.waiting).toBe('receive');
    clock.advance(0);
    const [status] = decode((await box.receive({ timeout: 5_000 })).bytes) as [number];
    expect(status).toBe(-1); // TIMEOUT, at its deadline
    expect(a.actorIds()).toContain(p.id);
    a.close();
  });

  it('keep their timers through a restart: recover sets the timer of a passivated actor that waited with a deadline', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(1_000_000);
    const a = probeHive(store, clock);
    const p = await a.durable('p', 'probe');
    await p.sendWait(['receive', 10_000], { from: a.inbox() });
    await a.idle();
    expect(await a.passivate(p)).toBe(true);
    a.close();
    clock.advance(3_000);
    const b = probeHive(store, clock);
    expect(await b.recover()).toMatchObject({ actors: 1, restored: 0 });
    clock.advance(6_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(b.actorIds()).not.toContain(p.id);
    clock.advance(1);
    while (!b.actorIds().includes(p.id)) await new Promise((r) => setTimeout(r, 1));
    clock.advance(0);
    await b.idle();
    // Timed out at its deadline (its answer went to the old hive's inbox, a dead letter): it waits for commands again.
    expect(b.ref(p.id).info()?.waiting).toBe('receive');
    expect(await b.ref(p.id).call(['echo', 7])).toBe(7);
    b.close();
  });

  it('are restored by a monitor: the watcher sees the real exit, not noproc', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    a.define('probe', probe);
    const c = await a.durable('c1', 'counter');
    await upAndPassivate(a, c);
    const box = a.inbox();
    const watcher = a.spawn(probe, { init: { report: box.ref } });
    await box.receive({ timeout: 5_000 }); // its init report
    expect(typeof (await watcher.call(['monitor', c.id]))).toBe('number');
    await a.idle();
    expect(a.actorIds()).toContain(c.id);
    c.kill();
    const down = decode((await box.receive({ timeout: 5_000 })).bytes) as { kind: string; from: { id: number }; reason: string };
    expect(down).toMatchObject({ kind: 'down', from: { id: c.id }, reason: 'killed' });
    a.close();
  });

  it('are killed when passivated: restored, then killed, leaving a tombstone', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('c1', 'counter');
    await upAndPassivate(a, c);
    c.kill();
    await new Promise((r) => setTimeout(r, 20));
    await a.idle();
    expect(a.actorIds()).not.toContain(c.id);
    const fresh = await a.durable('c1', 'counter');
    expect(fresh.id).not.toBe(c.id);
    expect(await fresh.call('up')).toBe('value=1');
    a.close();
  });

  it('stay live when their deadline is due soon', async () => {
    const { a, p, box } = await waitingProbe();
    await p.sendWait(['receive', 500], { from: box });
    await a.idle();
    expect(await a.passivate(p)).toBe(false);
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

  it('leave a tombstone when they exit: the key starts a new actor, whose journal numbers on', async () => {
    const store = new MemoryStore();
    const a = hive(store, { checkpointEvery: 1_000_000, checkpointMs: 1e9 });
    const c = await a.durable('c1', 'counter');
    for (let i = 0; i < 3; i++) await c.sendWait('up');
    c.kill();
    await c.exited;
    await new Promise((r) => setTimeout(r, 10));
    const fresh = await a.durable('c1', 'counter');
    expect(fresh.id).not.toBe(c.id);
    expect(await fresh.call('up')).toBe('value=1');
    await a.idle();
    a.close();
    const b = hive(store);
    expect(await b.recover()).toMatchObject({ actors: 1 });
    expect(await (await b.durable('c1', 'counter')).call('up')).toBe('value=2');
    b.close();
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

describe('durable actors on a hive with workers', () => {
  it('run on the main thread, and actors on workers reach them, passivated or not', async () => {
    const store = new MemoryStore();
    const a = new Hive({ logger: quiet, workers: 1, durable: { store, passivateAfterMs: Infinity } });
    try {
      a.define('counter', counter);
      const c = await a.durable('c1', 'counter');
      expect(a.workerOf(c)).toBeNull();
      await upAndPassivate(a, c);
      const p = a.spawn(probe, { worker: 0 });
      expect(a.workerOf(p)).toBe(0);
      // The probe on the worker sends "up" to the passivated counter: acknowledged once journaled.
      for (let i = 0; i < 3; i++) expect(await p.call(['send', c.id, 'up', 5_000])).toBe(0);
      expect(await c.call('up')).toBe('value=5');
    } finally {
      a.close();
    }
  });
});

describe('durable actors, regressions', () => {
  it('do not roll back a timer: after a receive timed out, passivation takes its state now (regression: the stale checkpoint came back and answered its timeout again, forever)', async () => {
    const { clock, a, p, box } = await waitingProbe();
    await p.sendWait(['receive', 5_000], { from: box });
    await a.idle();
    clock.advance(5_000);
    await a.idle();
    expect((decode((await box.receive({ timeout: 0 })).bytes) as number[])[0]).toBe(-1);
    expect(await a.passivate(p)).toBe(true);
    // No wake timer is left (its deadline passed live); a command finds it waiting for commands.
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(box.size).toBe(0);
    expect(await p.call(['echo', 7])).toBe(7);
    a.close();
  });

  it('start a new actor for a key whose actor was just killed (regression: its old record, the tombstone not yet put, brought it back)', async () => {
    const store = slowPuts(new MemoryStore(), 30);
    const a = hive(store as MemoryStore, { checkpointEvery: 1_000_000, checkpointMs: 1e9 });
    const c = await a.durable('k', 'counter');
    for (let i = 0; i < 3; i++) await c.sendWait('up');
    c.kill();
    await c.exited;
    const fresh = await a.durable('k', 'counter');
    expect(fresh.id).not.toBe(c.id);
    expect(await fresh.call('up')).toBe('value=1');
    for (let i = 0; i < 5; i++) await fresh.sendWait('up');
    await a.idle();
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const b = hive(store as MemoryStore);
    expect(await b.recover()).toMatchObject({ actors: 1 });
    expect(await (await b.durable('k', 'counter')).call('up')).toBe('value=7');
    b.close();
  });

  it('reject durable() when the first record cannot be written (regression: it resolved, and what was acknowledged after was lost)', async () => {
    let failing = true;
    const store = slowPuts(new MemoryStore(), 0, () => failing);
    const a = hive(store as MemoryStore);
    await expect(a.durable('k', 'counter')).rejects.toThrow(/could not be written/);
    expect(a.actorIds()).toEqual([]);
    failing = false;
    const c = await a.durable('k', 'counter');
    expect(await c.call('up')).toBe('value=1');
    a.close();
  });

  it('recover the other actors when one record is malformed, and refuse ids and numbers out of range (regression: one bad record stopped recovery, and the others\' ids were given out again)', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const good = await a.durable('good', 'counter');
    await good.sendWait('up');
    await a.idle();
    a.close();
    await new Promise((r) => setTimeout(r, 10));
    const base = { v: 1, module: 'counter', services: [], seq: 0, ids: 1, snapshot: null, init: null, seed: '0' };
    await store.put('actor/a-garbage', Uint8Array.of(0xc1));
    await store.put('actor/b-version', encode({ ...base, key: 'b-version', id: 7, v: 2 }));
    await store.put('actor/c-id-zero', encode({ ...base, key: 'c-id-zero', id: 0 }));
    await store.put('actor/d-id-huge', encode({ ...base, key: 'd-id-huge', id: 2 ** 40 }));
    await store.put('actor/e-ids-huge', encode({ ...base, key: 'e-ids-huge', id: 9, ids: 2 ** 31 }));
    await store.put('actor/f-seq-negative', encode({ ...base, key: 'f-seq-negative', id: 10, seq: -5 }));
    const b = hive(store);
    expect(await b.recover()).toMatchObject({ actors: 1 });
    const again = await b.durable('good', 'counter');
    expect(again.id).toBe(good.id);
    expect(await again.call('up')).toBe('value=2');
    // The hive still gives out ids, none of the recovered one's.
    const other = b.spawn(counter);
    expect(other.id).toBeGreaterThan(good.id);
    b.close();
  });

  it('refuse messages past the mailbox limit of an actor that does not take them (regression: journaled messages were delivered past it, without bound)', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    a.define('spinner', probe, { limits: { mailbox: 4 } });
    const p = await a.durable('p', 'spinner');
    await p.sendWait(['spin', -1]);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => p.sendWait(['echo', 1])));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.length - refused.length).toBeLessThanOrEqual(4);
    expect(refused.length).toBeGreaterThanOrEqual(16);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/full/i);
    expect(p.info()!.mailbox).toBeLessThanOrEqual(4);
    a.close();
  });

  it('are restored by a guest\'s link and exit signal, like a message (regression: the guest got NOT_FOUND and nothing was sent)', async () => {
    const store = new MemoryStore();
    const a = new Hive(conformance({ logger: quiet, signals: 'open', durable: { store, passivateAfterMs: Infinity } }));
    a.define('counter', counter);
    const c = await a.durable('c1', 'counter');
    await upAndPassivate(a, c);
    const p = a.spawn(probe);
    expect(await p.call(['link', c.id])).toBe(0);
    expect(await c.call('up')).toBe('value=2');
    await a.idle();
    expect(await a.passivate(c)).toBe(false); // linked: it stays
    const d = await a.durable('d1', 'counter');
    await upAndPassivate(a, d);
    expect(await p.call(['exit', d.id, 'kill'])).toBe(0);
    expect(await d.exited).toBe('killed');
    a.close();
  });

  it('resolve ref.exited of an actor passivated, restored, then killed (regression: the ref kept the first instance\'s exit, which never came)', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('k', 'counter');
    expect(c.alive).toBe(true);
    await upAndPassivate(a, c);
    expect(await c.call('up')).toBe('value=2');
    c.kill();
    expect(await c.exited).toBe('killed');
    a.close();
  });

  it('refuse an empty key, and an id given out before recover()', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    await expect(a.durable('', 'counter')).rejects.toThrow(RangeError);
    const c = await a.durable('k', 'counter');
    a.close();
    const b = hive(store);
    b.inbox(); // takes the id the durable actor had
    expect(c.id).toBe(1);
    expect(await b.recover()).toMatchObject({ actors: 0 });
    b.close();
  });

  it('look alive while passivated: ref.exited waits for their real exit (regression: it resolved noproc at once)', async () => {
    const store = new MemoryStore();
    const a = hive(store);
    const c = await a.durable('k', 'counter');
    await upAndPassivate(a, c);
    let exited: string | null = null;
    void c.exited.then((r) => (exited = r));
    expect(c.alive).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(exited).toBeNull();
    expect(await c.call('up')).toBe('value=2');
    c.kill();
    await new Promise((r) => setTimeout(r, 10));
    expect(exited).toBe('killed');
    a.close();
  });
});

describe('durable actors under attack (regressions of test/attacks/durable-attacks.ts)', () => {
  it('apply a demonitor after the monitor it undoes when both wait for the actor (regression: the demonitor overtook the held monitor, which stayed for ever)', async () => {
    const store = new MemoryStore();
    const append = store.append.bind(store);
    store.append = async (key, entries) => {
      await new Promise((r) => setTimeout(r, 30));
      return append(key, entries);
    };
    const clock = new ManualClock(1_000_000);
    const a = probeHive(store, clock);
    const p = await a.durable('p', 'probe');
    // p journals a message (slowly): the monitor and the demonitor of a guest, made in one slice, wait for it,
    // in the order they came.
    p.send(['inc']);
    const flipper = a.spawn(wat(`(module
      (import "hive" "read" (func $read (param i32 i32) (result i32)))
      (import "hive" "monitor" (func $monitor (param i32) (result i32)))
      (import "hive" "demonitor" (func $demonitor (param i32) (result i32)))
      (import "hive" "receive" (func $receive (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "main")
        (drop (call $read (i32.const 0) (i32.const 4)))
        (drop (call $demonitor (call $monitor (i32.load (i32.const 0)))))
        (drop (call $receive (i32.const -1)))))`), { init: new Uint8Array(new Uint32Array([p.id]).buffer) });
    await new Promise((r) => setTimeout(r, 100));
    expect(flipper.alive).toBe(true);
    await a.idle();
    // Nothing monitors p: it passivates.
    expect(await a.passivate(p)).toBe(true);
    a.close();
  });

  it('take no more bytes than mailboxBytes for a busy actor, counting those on their way to its journal (regression: appended messages went in past it)', async () => {
    const store = new MemoryStore();
    const a = new Hive(conformance({ logger: quiet, durable: { store, passivateAfterMs: Infinity } }));
    a.define('probe', probe, { limits: { mailboxBytes: 8_192 } });
    const p = await a.durable('p', 'probe');
    // Busy for good: it never takes another message.
    p.send(['spin', -1]);
    const kib = 'x'.repeat(1_000);
    // All at once: most are on their way to the journal when the later ones come.
    const sent = await Promise.allSettled(Array.from({ length: 40 }, () => p.sendWait(['echo', kib], { timeout: 0 })));
    const ok = sent.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(9);
    for (const r of sent) if (r.status === 'rejected') expect((r.reason as Error).name).toBe('MailboxFullError');
    expect((await p.info())?.mailboxBytes).toBeLessThanOrEqual(8_192 + 1_100);
    a.close();
  });

  it('resolve an exited promise taken before they were passivated or restarted after a crash, when they really exit (regression: it never resolved)', async () => {
    const store = new MemoryStore();
    const a = new Hive(conformance({ logger: quiet, durable: { store, restart: true, passivateAfterMs: Infinity } }));
    a.define('probe', probe);
    const p = await a.durable('p', 'probe');
    const before = p.exited;
    await a.idle();
    expect(await a.passivate(p)).toBe(true);
    expect(await p.call(['inc'])).toBe(1);
    const beforeCrash = p.exited;
    await p.sendWait(['trap', 'unreachable']);
    expect(await p.call(['get'])).toBe(1);
    p.kill();
    expect(await before).toBe('killed');
    expect(await beforeCrash).toBe('killed');
    a.close();
  });
});

/** A hive of durable probes that are restarted after a crash (DurableOptions.restart), checkpointed only when told to. */
function restartHive(store: MemoryStore, restart: DurableOptions['restart'] = true): Hive {
  const h = new Hive(conformance({ logger: quiet, durable: { store, restart, checkpointEvery: 1_000_000, checkpointMs: 1e9, passivateAfterMs: Infinity } }));
  h.define('probe', probe);
  return h;
}

describe('durable actors restarted after a crash', () => {
  it('carry on under the same id from their last checkpoint and the journal since, without the message they crashed on', async () => {
    const store = new MemoryStore();
    const a = restartHive(store);
    const events: string[] = [];
    a.on('exited', (e) => events.push(`exited ${e.reason}`));
    a.on('restarted', (e) => events.push(`restarted ${e.child} ${e.old} ${e.ref.id} ${e.from} ${e.reason.slice(0, 4)}`));
    const p = await a.durable('p', 'probe');
    for (let i = 1; i <= 3; i++) expect(await p.call(['inc'])).toBe(i);
    await a.checkpoint(p);
    expect(await p.call(['inc'])).toBe(4);
    await p.sendWait(['trap', 'unreachable']);
    await p.sendWait(['inc']);
    // The checkpoint (3), then the journal since: inc (4), the trap skipped, inc (5); then this call.
    expect(await p.call(['inc'])).toBe(6);
    expect(p.alive).toBe(true);
    expect(events).toEqual([`restarted p ${p.id} ${p.id} checkpoint trap`]);
    a.close();
  });

  it('fail the call they crashed on, and answer the calls waiting behind it', async () => {
    const store = new MemoryStore();
    const a = restartHive(store);
    const p = await a.durable('p', 'probe');
    expect(await p.call(['inc'])).toBe(1);
    const crash = p.call(['trap', 'unreachable']);
    const next = p.call(['inc']);
    await expect(crash).rejects.toMatchObject({ name: 'ActorExitedError' });
    expect(await next).toBe(2);
    a.close();
  });

  it('exit as without restarts past maxRestarts crashes in withinMs, leaving a tombstone', async () => {
    const store = new MemoryStore();
    const a = restartHive(store, { maxRestarts: 2, withinMs: 60_000 });
    let restarts = 0;
    a.on('restarted', () => restarts++);
    const p = await a.durable('p', 'probe');
    expect(await p.call(['inc'])).toBe(1);
    for (let i = 0; i < 2; i++) {
      await p.sendWait(['trap', 'unreachable']);
      expect(await p.call(['get'])).toBe(1);
    }
    expect(restarts).toBe(2);
    await p.sendWait(['trap', 'unreachable']);
    expect(await p.exited).toMatch(/^trap: /);
    // Its key starts a new actor.
    const q = await a.durable('p', 'probe');
    expect(q.id).not.toBe(p.id);
    expect(await q.call(['get'])).toBe(0);
    a.close();
  });

  it('crash and restart again when a recovery replays the message they crashed on, its checkpoint not written: the same state', async () => {
    let failing = false;
    const store = new MemoryStore();
    slowPuts(store, 0, () => failing);
    const a = restartHive(store);
    const p = await a.durable('p', 'probe');
    expect(await p.call(['inc'])).toBe(1);
    // The checkpoint a restart takes fails: the journal keeps inc, the trap, inc.
    failing = true;
    await p.sendWait(['trap', 'unreachable']);
    expect(await p.call(['inc'])).toBe(2);
    await a.idle();
    a.close();
    failing = false;
    const b = restartHive(store);
    const restarts: string[] = [];
    b.on('restarted', (e) => restarts.push(e.child));
    await b.recover();
    const again = await b.durable('p', 'probe');
    expect(again.id).toBe(p.id);
    expect(await again.call(['get'])).toBe(2);
    expect(restarts).toEqual(['p']);
    b.close();
  });

  it('are checkpointed past the message they crashed on: a recovery does not meet it again', async () => {
    const store = new MemoryStore();
    const a = restartHive(store);
    const p = await a.durable('p', 'probe');
    expect(await p.call(['inc'])).toBe(1);
    await p.sendWait(['trap', 'unreachable']);
    expect(await p.call(['get'])).toBe(1);
    await a.idle();
    // The checkpoint after the restart is put (the puts of a MemoryStore take a turn of the event loop).
    await new Promise((r) => setTimeout(r, 20));
    a.close();
    const b = restartHive(store);
    let restarts = 0;
    b.on('restarted', () => restarts++);
    await b.recover();
    const again = await b.durable('p', 'probe');
    expect(await again.call(['inc'])).toBe(2);
    expect(restarts).toBe(0);
    b.close();
  });

  it('are not restarted when the option is off: a crash ends them (the default)', async () => {
    const store = new MemoryStore();
    const a = restartHive(store, false);
    const p = await a.durable('p', 'probe');
    await p.sendWait(['trap', 'unreachable']);
    expect(await p.exited).toMatch(/^trap: /);
    a.close();
  });
});
