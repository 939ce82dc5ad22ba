/**
 * The built-in services (src/bindings/services: kv, timer, http) served to
 * guests through a hive: probes granted them call them with the call ABI.
 * Runs in every project (inline, serializing, one and two workers).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kind, Pid, SERVICE_BASE, Status, decode, type ActorRef, type Hive } from './index.js';
import { http, kv, memoryKvStore, timer, type KvStore, type KvWrite } from '../bindings/index.js';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';

/** A probe's call to the service it finds under `name`: [status, decoded answer or null]. */
async function call(probe: ActorRef, name: string, method: string, request: unknown): Promise<[number, unknown]> {
  const to = (await cmd(probe, 'lookup', name)) as number;
  const [status, bytes] = (await cmd(probe, 'call', to, [method, request], -1)) as [number, Uint8Array | null];
  return [status, bytes === null ? null : decode(bytes)];
}

/** The answer `[status, body]` of a probe's call. */
const answer = async (probe: ActorRef, name: string, method: string, request: unknown): Promise<unknown> => (await call(probe, name, method, request))[1];

describe('built-in services in a hive', () => {
  it('kv: two actors\' namespaces are separate, and the host has its own', async () => {
    const { hive } = testHive();
    const store = memoryKvStore();
    const svc = hive.service('kv', kv({ store }));
    const a = hive.spawn('probe', { services: ['kv'] });
    const b = hive.spawn('probe', { services: ['kv'] });
    expect(await answer(a, 'kv', 'put', ['k', 'from a'])).toEqual([Status.OK, null]);
    expect(await answer(b, 'kv', 'put', ['k', { from: 'b', bytes: new Uint8Array([1, 2]) }])).toEqual([Status.OK, null]);
    expect(await answer(a, 'kv', 'get', 'k')).toEqual([Status.OK, 'from a']);
    expect(await answer(b, 'kv', 'get', 'k')).toEqual([Status.OK, { from: 'b', bytes: new Uint8Array([1, 2]) }]);
    expect(await answer(a, 'kv', 'incr', ['n', 2])).toEqual([Status.OK, 2]);
    expect(await answer(b, 'kv', 'incr', ['n'])).toEqual([Status.OK, 1]);
    expect(await answer(a, 'kv', 'keys', null)).toEqual([Status.OK, ['k', 'n']]);
    expect(await answer(b, 'kv', 'delete', 'k')).toEqual([Status.OK, true]);
    expect(await answer(a, 'kv', 'get', 'k')).toEqual([Status.OK, 'from a']);
    expect(await answer(a, 'kv', 'incr', ['k'])).toEqual([Status.INVALID, expect.stringContaining('not a number')]);
    expect(await svc.call('get', 'k')).toBe(null);
    await svc.call('put', ['k', 'host']);
    expect(await store.get('host', 'k')).toBe('host');
    expect(await store.get(String(a.id), 'k')).toBe('from a');
    hive.close();
  });

  it('kv: bounds are answered with their status (TOO_LARGE, LIMIT)', async () => {
    const { hive } = testHive();
    hive.service('kv', kv({ maxKeyBytes: 4, maxValueBytes: 16, maxKeysPerNamespace: 1 }));
    const a = hive.spawn('probe', { services: ['kv'] });
    expect((await call(a, 'kv', 'put', ['toolong', 1]))[1]).toEqual([Status.TOO_LARGE, expect.any(String)]);
    expect((await call(a, 'kv', 'put', ['k', 'x'.repeat(20)]))[1]).toEqual([Status.TOO_LARGE, expect.any(String)]);
    expect((await call(a, 'kv', 'put', ['k', 1]))[1]).toEqual([Status.OK, null]);
    expect((await call(a, 'kv', 'put', ['j', 1]))[1]).toEqual([Status.LIMIT, expect.any(String)]);
    hive.close();
  });

  it('timer: a message sent by `after` arrives in the probe\'s mailbox once the clock reaches it; `every` repeats until cancelled', async () => {
    const { hive, clock } = testHive();
    hive.service('timer', timer());
    const p = hive.spawn('probe', { services: ['timer'] });
    const [, [status, id]] = (await call(p, 'timer', 'after', [100, { wake: 'up' }])) as [number, [number, number]];
    expect([status, Number.isInteger(id)]).toEqual([Status.OK, true]);
    // The probe waits in a receive (else its main loop would take the message for a command).
    const received = cmd(p, 'receive', 1000);
    await settle(hive);
    clock.advance(99);
    await settle(hive);
    let early = false;
    void received.then(() => (early = true));
    await settle(hive);
    expect(early).toBe(false);
    clock.advance(1);
    const [size, kind, sender, payload] = (await received) as [number, number, Pid, Uint8Array];
    // From the service's own address (in the services' range).
    expect([kind, sender instanceof Pid && sender.id >= SERVICE_BASE, size]).toEqual([Kind.MESSAGE, true, payload.length]);
    expect(decode(payload)).toEqual({ wake: 'up' });

    const [, [, tick]] = (await call(p, 'timer', 'every', [50, 'tick'])) as [number, [number, number]];
    for (let i = 0; i < 2; i++) {
      const r = cmd(p, 'receive', 1000);
      await settle(hive);
      clock.advance(50);
      expect(decode(((await r) as [number, number, number, Uint8Array])[3])).toBe('tick');
    }
    expect(await answer(p, 'timer', 'cancel', tick)).toEqual([Status.OK, true]);
    const none = cmd(p, 'receive', 200);
    await settle(hive);
    clock.advance(200);
    expect(await none).toEqual([Status.TIMEOUT, null, null, null]);
    expect((await call(p, 'timer', 'every', [0, 'x']))[1]).toEqual([Status.BAD_ARGUMENT, expect.any(String)]);
    hive.close();
  });

  describe('http', () => {
    let server: Server;
    let origin = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.setHeader('x-path', req.url ?? '');
        res.end('hello from the host');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('fetches from an allowed origin on 127.0.0.1; another origin is NOT_FOUND', async () => {
      const { hive } = testHive();
      hive.service('http', http({ allow: [origin] }));
      const p = hive.spawn('probe', { services: ['http'] });
      const [status, res] = (await answer(p, 'http', 'fetch', { url: `${origin}/path?q=1` })) as [number, { status: number; headers: Record<string, string>; body: Uint8Array }];
      expect(status).toBe(Status.OK);
      expect(res.status).toBe(200);
      expect(res.headers['x-path']).toBe('/path?q=1');
      expect(new TextDecoder().decode(res.body)).toBe('hello from the host');
      const port = Number(new URL(origin).port);
      expect(await answer(p, 'http', 'fetch', { url: `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}/` })).toEqual([Status.NOT_FOUND, expect.any(String)]);
      expect(await answer(p, 'http', 'fetch', { url: `http://localhost:${port}/` })).toEqual([Status.NOT_FOUND, expect.any(String)]);
      hive.close();
    });
  });

  it('a kv call pending when its caller is snapshotted, restored into another hive on the same store, is not applied twice', async () => {
    const mem = memoryKvStore();
    // Writes wait for `release`; every write's changes are kept.
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    let writeStarted = (): void => {};
    const started = new Promise<void>((r) => (writeStarted = r));
    const writes: KvWrite[][] = [];
    const store: KvStore = {
      ...mem,
      write: async (changes, unless) => {
        writeStarted();
        await gate;
        const done = await mem.write(changes, unless);
        if (done) writes.push([...changes]);
        return done;
      },
    };
    /** The writes of the counter (not of kv's call records). */
    const counterWrites = (): KvWrite[] => writes.flat().filter((c) => !c.namespace.startsWith('#'));

    const one = testHive();
    one.hive.service('kv', kv({ store }));
    const p = one.hive.spawn('probe', { services: ['kv'] });
    const first = cmd(p, 'call', (await cmd(p, 'lookup', 'kv')) as number, ['incr', ['n', 1]], -1);
    await started; // the handler has run; its write waits
    await settle(one.hive);
    const bytes = one.hive.snapshot(p);
    release();
    const [, firstAnswer] = (await first) as [number, Uint8Array];
    expect(decode(firstAnswer)).toEqual([Status.OK, 1]);
    expect(counterWrites()).toEqual([{ namespace: String(p.id), key: 'n', value: 1 }]);
    one.hive.close();

    const two = testHive();
    two.hive.service('kv', kv({ store }));
    // The restored probe answers the command it was running to the old hive's reply address: a dead letter here.
    const dead: unknown[] = [];
    two.hive.on('deadLetter', (d) => dead.push(decode(d.bytes)));
    const q = two.hive.restore(bytes, { services: ['kv'] }); // (a snapshot grants itself nothing: the host grants kv again)
    expect(q.id).toBe(p.id);
    for (let i = 0; i < 20 && dead.length === 0; i++) await settle(two.hive);
    // The call was sent again (kv is idempotent) and answered from its record.
    expect(dead).toHaveLength(1);
    const [, again] = dead[0] as [number, Uint8Array];
    expect(decode(again)).toEqual([Status.OK, 1]);
    expect(counterWrites()).toHaveLength(1);
    expect(await mem.get(String(p.id), 'n')).toBe(1);
    // The restored actor's next call counts on.
    expect(await answer(q, 'kv', 'incr', ['n', 1])).toEqual([Status.OK, 2]);
    await closeAll(two.hive);
  });
});

async function closeAll(hive: Hive): Promise<void> {
  await settle(hive, 1);
  hive.close();
}
