/**
 * Native services (`Hive.service`): guests granted one at spawn find it by
 * name and call it with the call ABI; the rest of the hive cannot reach it.
 * Runs in every project (inline, serializing, one and two workers: the probe
 * then runs on a worker and the service on the main thread).
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../scheduler/index.js';
import { Hive, NameTakenError, NotFoundError, SERVICE_BASE, Status, decode, type ServiceContext } from './index.js';
import { cmd, conformance, forge, guest, settle, testHive } from '../../test/helpers/hive.js';
import { wat } from '../../test/helpers/wat.js';

/** A probe's call: [status, decoded answer or null]. */
async function call(probe: Parameters<typeof cmd>[0], to: number, request: unknown, timeout = -1): Promise<[number, unknown]> {
  const [status, bytes] = (await cmd(probe, 'call', to, request, timeout)) as [number, Uint8Array | null];
  return [status, bytes === null ? null : decode(bytes)];
}

describe('services', () => {
  it('a granted actor finds a service by name and calls it with [method, request]; the handler gets the decoded request and the caller', async () => {
    const { hive } = testHive();
    const seen: ServiceContext[] = [];
    hive.service('math', {
      add: ([a, b]: [number, number], ctx) => (seen.push(ctx), a + b),
      later: async (n: number) => {
        await new Promise((r) => setTimeout(r, 1));
        return { twice: n * 2 };
      },
    });
    const p = hive.spawn('probe', { services: ['math'], name: 'asker' });
    const math = (await cmd(p, 'lookup', 'math')) as number;
    expect(math).toBe(SERVICE_BASE);
    expect(await call(p, math, ['add', [2, 3]])).toEqual([expect.any(Number), [0, 5]]);
    expect(await call(p, math, ['later', 21])).toEqual([expect.any(Number), [0, { twice: 42 }]]);
    expect(seen).toEqual([{ service: 'math', caller: p.id, callerName: 'asker', grants: ['math'], callId: `${p.id}:1` }]);
    hive.close();
  });

  it('an actor not granted a service finds nothing: lookup, call and send get NOT_FOUND at every address of the range, and the handler never runs', async () => {
    const { hive } = testHive();
    let runs = 0;
    hive.service('secret', { get: () => (runs++, 'the secret') });
    hive.service('public', { get: () => 'public' });
    const stranger = hive.spawn('probe');
    const other = hive.spawn('probe', { services: ['public'] });
    expect(await cmd(stranger, 'lookup', 'secret')).toBe(Status.NOT_FOUND);
    expect(await cmd(other, 'lookup', 'secret')).toBe(Status.NOT_FOUND);
    // Guessing: the first addresses of the range (where the services' own addresses are too), and its last.
    const guesses = [...Array.from({ length: 8 }, (_, i) => SERVICE_BASE + i), 0x7fffffff];
    for (const to of guesses) {
      expect((await call(stranger, to, ['get', null], 1000))[0]).toBe(Status.NOT_FOUND);
      expect(await cmd(stranger, 'send', to, ['get', null], 0)).toBe(Status.NOT_FOUND);
    }
    // The granted one reaches its own grant at SERVICE_BASE + 0 ('public'), and nothing past it.
    expect((await call(other, SERVICE_BASE, ['get', null]))[1]).toEqual([0, 'public']);
    expect((await call(other, SERVICE_BASE + 1, ['get', null], 1000))[0]).toBe(Status.NOT_FOUND);
    await settle(hive);
    expect(runs).toBe(0);
    hive.close();
  });

  it('answers failures with a status and a text, never a trap: a handler that throws or rejects (FAILED), no such method (BAD_ARGUMENT), a request refused by its schema (INVALID)', async () => {
    const { hive } = testHive();
    hive.service(
      'f',
      {
        boom: () => {
          throw new Error('boom');
        },
        reject: () => Promise.reject(new Error('rejected')),
        typed: (n: number) => n,
      },
      { schemas: { typed: { request: (v: unknown) => typeof v === 'number' || 'a number' } } },
    );
    const p = hive.spawn('probe', { services: ['f'] });
    expect((await call(p, SERVICE_BASE, ['boom', null]))[1]).toEqual([Status.FAILED, 'boom']);
    expect((await call(p, SERVICE_BASE, ['reject', null]))[1]).toEqual([Status.FAILED, 'rejected']);
    expect((await call(p, SERVICE_BASE, ['nope', null]))[1]).toEqual([Status.BAD_ARGUMENT, 'service f has no method nope']);
    expect((await call(p, SERVICE_BASE, ['typed', 'x']))[1]).toEqual([Status.INVALID, expect.stringContaining('a number')]);
    expect((await call(p, SERVICE_BASE, ['typed', 7]))[1]).toEqual([0, 7]);
    // A request that is not [method, request] is refused before it is sent.
    expect((await call(p, SERVICE_BASE, 'boom'))[0]).toBe(Status.BAD_ARGUMENT);
    expect((await call(p, SERVICE_BASE, ['boom', null, 99]))[0]).toBe(Status.BAD_ARGUMENT); // (a call number of its own)
    // The actor lives on.
    expect(await cmd(p, 'inc')).toBe(1);
    hive.close();
  });

  it('a service that asks for it (failures: \'trap\') ends a caller whose call failed, as a trap would; refusals are still answered', async () => {
    const { hive } = testHive();
    hive.service('strict', { boom: () => Promise.reject(new Error('no way')), ok: () => 1 }, { failures: 'trap' });
    const p = hive.spawn('probe', { services: ['strict'] });
    expect((await call(p, SERVICE_BASE, ['ok', null]))[1]).toEqual([0, 1]);
    expect((await call(p, SERVICE_BASE, ['nope', null]))[1]).toEqual([Status.BAD_ARGUMENT, 'service strict has no method nope']);
    void cmd(p, 'call', SERVICE_BASE, ['boom', null], -1).catch(() => {});
    expect(await p.exited).toBe('trap: service strict: no way');
    expect(() => hive.service('bad', { m: () => 1 }, { failures: 'maybe' as never })).toThrow(RangeError);
    hive.close();
  });

  it('refuses grants of services that are not registered, and a second service of one name', () => {
    const { hive } = testHive();
    hive.service('one', { m: () => 1 });
    expect(() => hive.spawn('probe', { services: ['two'] })).toThrow(NotFoundError);
    expect(() => hive.spawn('probe', { services: ['one', 'one'] })).toThrow(RangeError);
    expect(() => hive.service('one', { m: () => 2 })).toThrow(NameTakenError);
    hive.close();
  });

  it('a closed service is gone: its waiting callers and later calls get NOT_FOUND', async () => {
    const { hive } = testHive();
    const never = new Promise<never>(() => {});
    const svc = hive.service('slow', { wait: () => never });
    const p = hive.spawn('probe', { services: ['slow'] });
    const pending = call(p, SERVICE_BASE, ['wait', null]);
    await settle(hive);
    expect(svc.running).toBe(1);
    svc.close();
    expect((await pending)[0]).toBe(Status.NOT_FOUND);
    expect((await call(p, SERVICE_BASE, ['wait', null]))[0]).toBe(Status.NOT_FOUND);
    expect(await cmd(p, 'lookup', 'slow')).toBe(Status.NOT_FOUND);
    hive.close();
  });

  it('bounds what waits: past `concurrency` running and `maxQueue` waiting, a caller waits for room and gets FULL when its timeout passes', async () => {
    const { hive, clock } = testHive();
    const gates: (() => void)[] = [];
    const svc = hive.service('gate', { pass: () => new Promise<string>((r) => gates.push(() => r('passed'))) }, { concurrency: 1, maxQueue: 1 });
    const probes = [0, 1, 2].map(() => hive.spawn('probe', { services: ['gate'] }));
    const first = call(probes[0]!, SERVICE_BASE, ['pass', null]);
    await settle(hive);
    const second = call(probes[1]!, SERVICE_BASE, ['pass', null]);
    await settle(hive);
    expect([svc.running, svc.queued]).toEqual([1, 1]);
    const third = call(probes[2]!, SERVICE_BASE, ['pass', null], 50);
    await settle(hive);
    clock.advance(60);
    // Its one deadline covers the wait for room and for the answer: FULL or TIMEOUT, whichever fires first.
    expect([Status.FULL, Status.TIMEOUT]).toContain((await third)[0]);
    expect([svc.running, svc.queued, gates.length]).toEqual([1, 1, 1]);
    gates.shift()!();
    expect((await first)[1]).toEqual([0, 'passed']);
    await settle(hive);
    gates.shift()!();
    expect((await second)[1]).toEqual([0, 'passed']);
    await settle(hive);
    expect([svc.running, svc.queued, gates.length]).toEqual([0, 0, 0]); // the third never ran
    hive.close();
  });

  it('answers TIMEOUT when a handler takes longer than the service\'s timeout; the handler keeps its slot until it settles', async () => {
    const { hive, clock } = testHive();
    let finish = (): void => {};
    const svc = hive.service('t', { slow: () => new Promise<number>((r) => (finish = () => r(1))) }, { timeout: 100, concurrency: 1 });
    const p = hive.spawn('probe', { services: ['t'] });
    const pending = call(p, SERVICE_BASE, ['slow', null]);
    await settle(hive);
    clock.advance(150);
    expect((await pending)[1]).toEqual([Status.TIMEOUT, 'the service did not answer within 100 ms']);
    expect(svc.running).toBe(1);
    finish();
    await settle(hive);
    expect(svc.running).toBe(0);
    hive.close();
  });

  it('the host calls a service itself with Service.call (typed, through MessagePack and the schemas)', async () => {
    const { hive } = testHive();
    const svc = hive.service('echo', { twice: (s: string) => s + s });
    const out: string = await svc.call('twice', 'ab');
    expect(out).toBe('abab');
    hive.close();
  });
});

describe('services and snapshots', () => {
  /** A hive on a manual clock with the probe defined and a counting service registered. */
  const hiveWith = (idempotent: boolean): { hive: Hive; ran: string[]; release: () => void } => {
    const hive = new Hive(conformance({ logger: pino({ level: 'silent' }), clock: new ManualClock(1_700_000_000_000) }));
    hive.define('probe', guest('probe'));
    const ran: string[] = [];
    let release = (): void => {};
    // (A caller's grants are told to the handler, a restored one's too, on any thread.)
    hive.service('counter', { inc: (_: null, ctx) => (ran.push(ctx.grants.join() === 'counter' ? ctx.callId : `grants ${ctx.grants.join()}`), new Promise<number>((r) => (release = () => r(ran.length)))) }, { idempotent });
    return { hive, ran, get release() { return release; } } as never;
  };

  it('a call pending when its caller is snapshotted is answered INTERRUPTED after the restore, and the handler does not run again', async () => {
    const one = hiveWith(false);
    const p = one.hive.spawn('probe', { services: ['counter'] });
    void cmd(p, 'call', SERVICE_BASE, ['inc', null], -1).catch(() => {});
    await settle(one.hive);
    expect(one.ran).toEqual([`${p.id}:1`]);
    const bytes = one.hive.snapshot(p);
    one.hive.close();
    const two = hiveWith(false);
    // The restored probe answers the command it was running to the old hive's reply address: a dead letter here.
    const dead: unknown[] = [];
    two.hive.on('deadLetter', (d) => dead.push(decode(d.bytes)));
    const q = two.hive.restore(bytes, { services: ['counter'] });
    await settle(two.hive);
    expect(two.ran).toEqual([]);
    expect(dead).toHaveLength(1);
    const [status, answer] = dead[0] as [number, Uint8Array];
    expect([status, decode(answer)]).toEqual([expect.any(Number), [Status.INTERRUPTED, expect.stringContaining('not idempotent')]]);
    // Its next call gets the next number: call ids survive the snapshot.
    const next = call(q, SERVICE_BASE, ['inc', null]);
    await settle(two.hive);
    expect(two.ran).toEqual([`${p.id}:2`]);
    two.release();
    expect((await next)[1]).toEqual([0, 1]);
    two.hive.close();
  });

  it('an idempotent service gets a pending call again after the restore, with the same call id', async () => {
    const one = hiveWith(true);
    const p = one.hive.spawn('probe', { services: ['counter'] });
    void cmd(p, 'call', SERVICE_BASE, ['inc', null], -1).catch(() => {});
    await settle(one.hive);
    const bytes = one.hive.snapshot(p);
    one.hive.close();
    const two = hiveWith(true);
    two.hive.restore(bytes, { services: ['counter'] });
    await settle(two.hive);
    expect(two.ran).toEqual([`${p.id}:1`]);
    two.hive.close();
  });
});

describe('services that run in each worker', () => {
  it('a service declared to run in each worker answers an actor on a worker from that worker (and an inline hive from the main thread)', async () => {
    const { hive } = testHive();
    const svc = await hive.workerService('fnv', { module: 'test/fixtures/fnv-service.mjs' });
    const p = hive.spawn('probe', { services: ['fnv'] });
    expect((await call(p, SERVICE_BASE, ['fnv', 'hive']))[1]).toEqual([0, 0x2cb45133]);
    const onWorker = hive.workerOf(p) !== null;
    // Until its worker has loaded the module, the calls go to the main thread's copy (thread 0): up to 10 s on a loaded machine.
    let thread = 0;
    for (let i = 0; i < 1000 && (thread === 0) === onWorker; i++) {
      thread = ((await call(p, SERVICE_BASE, ['thread', null]))[1] as [number, number])[1];
      if ((thread === 0) === onWorker) await new Promise((r) => setTimeout(r, 10));
    }
    expect(thread !== 0).toBe(onWorker);
    expect(await svc.call('thread', null as never)).toBe(0); // the host's calls run on the main thread
    svc.close();
    await settle(hive);
    expect((await call(p, SERVICE_BASE, ['fnv', 'x'], 1000))[0]).toBe(Status.NOT_FOUND);
    hive.close();
  });
});

describe('the AssemblyScript SDK\'s service client (test/guests/svc.ts)', () => {
  /** The svc guest's report: it looks up `service` and calls `method` with 0 .. n-1. */
  const run = async (hive: Hive, services: string[], init: { service: string; method: string; n: number }): Promise<unknown> => {
    const box = hive.inbox();
    hive.spawn('svc', { services, init: { ...init, report: box.ref } });
    const r = await box.next({ timeout: 10_000 });
    box.close();
    return r;
  };

  it('finds a granted service, calls it with typed requests and decodes the typed responses; failures set lastStatus and serviceError, and a service not granted is not found', async () => {
    const { hive } = testHive();
    hive.define('svc', guest('svc'));
    hive.service('math', {
      square: async (n: number) => BigInt(n) * BigInt(n),
      odd: (n: number) => {
        if (n % 2 === 0) throw new Error(`${n} is even`);
        return n;
      },
    });
    hive.service('other', { square: (n: number) => n });
    expect(await run(hive, ['math'], { service: 'math', method: 'square', n: 100 })).toEqual({ lookup: 0, ok: 100, sum: 328350, last: 0, error: '' });
    // Half fail: the last call (n = 9) succeeds; the failures' texts come through serviceError.
    expect(await run(hive, ['other', 'math'], { service: 'math', method: 'odd', n: 10 })).toEqual({ lookup: 0, ok: 5, sum: 25, last: 0, error: '8 is even' });
    expect(await run(hive, ['math'], { service: 'math', method: 'odd', n: 1 })).toEqual({ lookup: 0, ok: 0, sum: 0, last: Status.FAILED, error: '0 is even' });
    expect(await run(hive, ['math'], { service: 'math', method: 'nope', n: 1 })).toEqual({ lookup: 0, ok: 0, sum: 0, last: Status.BAD_ARGUMENT, error: 'service math has no method nope' });
    expect(await run(hive, ['other'], { service: 'math', method: 'square', n: 1 })).toEqual({ lookup: Status.NOT_FOUND });
    hive.close();
  });
});

describe('grants and children', () => {
  /** A guest that spawns `svc` with its own init message and the spawn flags given, then waits. */
  const parent = (flags: number): Uint8Array =>
    wat(`(module
      (import "hive" "size" (func $size (result i32)))
      (import "hive" "read" (func $read (param i32 i32) (result i32)))
      (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
      (import "hive" "receive" (func $receive (param i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "svc")
      (func (export "main") (local $n i32)
        (local.set $n (call $size))
        (drop (call $read (i32.const 1024) (local.get $n)))
        (drop (call $spawn (i32.const 0) (i32.const 3) (i32.const 1024) (local.get $n) (i32.const ${flags})))
        (drop (call $receive (i32.const -1)))))`);

  it('a child gets its parent\'s grants only when spawned with the SERVICES flag', async () => {
    const { hive } = testHive();
    hive.define('svc', guest('svc'));
    hive.service('math', { square: (n: number) => n * n });
    for (const [flags, report] of [
      [2, { lookup: 0, ok: 3, sum: 5, last: 0, error: '' }],
      [0, { lookup: Status.NOT_FOUND }],
      [1, { lookup: Status.NOT_FOUND }], // LINK alone passes nothing on
    ] as const) {
      const box = hive.inbox();
      hive.spawn(parent(flags), { services: ['math'], init: { service: 'math', method: 'square', n: 3, report: box.ref } });
      expect(await box.next({ timeout: 10_000 })).toEqual(report);
      box.close();
    }
    hive.close();
  });
});

describe('grants and restores', () => {
  it('a snapshot grants itself nothing: restored, an actor keeps (at their addresses) the services the host grants again, and a forged list gains it none', async () => {
    const { hive } = testHive();
    hive.service('a', { who: () => 'a' });
    hive.service('b', { who: () => 'b' });
    hive.service('secret', { who: () => 'secret' });
    const p = hive.spawn('probe', { services: ['a', 'b'] });
    expect((await call(p, SERVICE_BASE + 1, ['who', null]))[1]).toEqual([0, 'b']);
    await settle(hive);
    const bytes = hive.snapshot(p);
    await p.stop();
    // Not granted again: nothing (its addresses answer NOT_FOUND, lookup finds nothing).
    const none = hive.restore(bytes, { id: 'new' });
    expect((await call(none, SERVICE_BASE, ['who', null], 1000))[0]).toBe(Status.NOT_FOUND);
    expect(await cmd(none, 'lookup', 'a')).toBe(Status.NOT_FOUND);
    // 'b' granted again: it keeps its address (SERVICE_BASE + 1); 'a' is gone; 'secret', not in the snapshot, is not added.
    const some = hive.restore(bytes, { id: 'new', services: ['b', 'secret'] });
    expect((await call(some, SERVICE_BASE + 1, ['who', null]))[1]).toEqual([0, 'b']);
    expect((await call(some, SERVICE_BASE, ['who', null], 1000))[0]).toBe(Status.NOT_FOUND);
    expect(await cmd(some, 'lookup', 'b')).toBe(SERVICE_BASE + 1);
    expect(await cmd(some, 'lookup', 'secret')).toBe(Status.NOT_FOUND);
    // A forged snapshot listing 'secret' gets it only if the host grants it.
    const forged = forge(bytes, (body) => (body['services'] = ['secret', 'b']));
    const f = hive.restore(forged, { id: 'new', services: ['b'] });
    expect((await call(f, SERVICE_BASE, ['who', null], 1000))[0]).toBe(Status.NOT_FOUND);
    expect((await call(f, SERVICE_BASE + 1, ['who', null]))[1]).toEqual([0, 'b']);
    hive.close();
  });

  it('a supervisor\'s child gets its spec\'s services, and again when it restarts from its snapshot', async () => {
    const { hive } = testHive();
    hive.service('a', { who: () => 'a' });
    const restarts: string[] = [];
    hive.on('restarted', (e) => restarts.push(e.child));
    const sup = hive.supervise({ children: [{ id: 'c', module: 'probe', services: ['a'], from: 'snapshot' }] });
    const first = sup.child('c')!;
    expect((await call(first, SERVICE_BASE, ['who', null]))[1]).toEqual([0, 'a']);
    await settle(hive);
    first.snapshot();
    first.kill();
    for (let i = 0; i < 50 && restarts.length === 0; i++) await settle(hive);
    expect(restarts).toEqual(['c']);
    const again = sup.child('c');
    expect((await call(again!, SERVICE_BASE, ['who', null]))[1]).toEqual([0, 'a']);
    hive.close();
  });
});
