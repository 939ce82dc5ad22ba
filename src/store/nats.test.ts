/**
 * NatsStore: the Store contract against a real NATS server (the one of
 * NATS_URL, else a nats-server of our own: see nats-server.test-helper.ts;
 * with neither, these tests are skipped), then what is particular to NATS:
 * large values in chunks, trims that fall inside an append, a second writer,
 * what an interrupted trim leaves, a server restart, a lost connection.
 * Each test works in a bucket of its own (a unique prefix), so a shared
 * server is fine.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeContract, b, text, all, code } from './contract.test-helper.js';
import { NatsStore, type NatsStoreOptions } from './nats.js';
import { freePort, natsServerAvailable, natsServerBinary, NO_NATS_SERVER, startLocalNatsServer, startNatsServer, type LocalNatsServer, type NatsServer } from './nats-server.test-helper.js';
import { MAX_VALUE_BYTES, StoreError, type JournalEntry } from './store.js';

// Decided when the file is collected; the servers themselves are started in beforeAll (and stopped in
// afterAll) of the describes that use them, so a run that skips them starts none.
const available = natsServerAvailable();
if (!available) console.warn(`NatsStore tests skipped: ${NO_NATS_SERVER}`);
const noBinary = natsServerBinary() === null;
if (available && noBinary) console.warn('NatsStore restart and connection-loss tests skipped: they start a nats-server of their own, and none is on PATH');

let places = 0;
/** A bucket prefix no other test (or earlier run on a shared server) uses. */
function uniqueBucket(): string {
  return `t${process.pid}x${Date.now().toString(36)}x${(places++).toString(36)}`;
}




function pattern(n: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt * 7 + (i >>> 8)) & 0xff;
  return out;
}

/** Opens a store in a bucket of its own; `use` gets it and a way to open another on the same bucket; the bucket is destroyed after. */
async function withBucket(url: string, options: Partial<NatsStoreOptions>, use: (store: NatsStore, another: () => Promise<NatsStore>, bucket: string) => Promise<void>): Promise<void> {
  const bucket = uniqueBucket();
  const opened: NatsStore[] = [];
  const open = async (): Promise<NatsStore> => {
    const s = await NatsStore.connect({ servers: url, bucket, ...options });
    opened.push(s);
    return s;
  };
  try {
    await use(await open(), open, bucket);
  } finally {
    for (const s of opened) await s.close();
    await (await NatsStore.connect({ servers: url, bucket })).destroy();
  }
}

/** The subjects (with message counts) of a bucket's journal stream under `filter`, seen with a connection of the test's own. */
async function subjects(url: string, bucket: string, filter: string): Promise<Record<string, number>> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(`${bucket}_journals`, { subjects_filter: filter })).state.subjects ?? {};
  } finally {
    await nc.close();
  }
}

/** Starts the shared server before the tests of the describe it is called in, and stops it after them. */
function sharedServer(): { readonly url: string } {
  let server: NatsServer | null = null;
  beforeAll(async () => {
    server = await startNatsServer();
    if (server === null) throw new Error(NO_NATS_SERVER);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url(): string {
      return server!.url;
    },
  };
}

describe.skipIf(!available)('NatsStore', () => {
  const shared = sharedServer();
  let url = '';
  beforeAll(() => {
    url = shared.url;
  });

  storeContract('NatsStore', {
    persistent: true,
    fresh: async () => {
      const bucket = uniqueBucket();
      return {
        open: () => NatsStore.connect({ servers: url, bucket }),
        dispose: async () => (await NatsStore.connect({ servers: url, bucket })).destroy(),
      };
    },
  });

  it('refuses to connect to a server that is not there, with StoreError io', async () => {
    const port = await freePort();
    const e = await NatsStore.connect({ servers: `nats://127.0.0.1:${port}`, timeout: 1000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('io');
    expect((e as StoreError).cause).toBeDefined();
  });

  it('refuses bad options with a TypeError', async () => {
    await expect(NatsStore.connect({ servers: url, bucket: 'a.b' })).rejects.toThrow(TypeError);
    await expect(NatsStore.connect({ servers: url, replicas: 0 })).rejects.toThrow(TypeError);
    await expect(NatsStore.connect({})).rejects.toThrow(TypeError);
    await expect(NatsStore.connect({ servers: url, maxMessageBytes: 100 })).rejects.toThrow(TypeError);
    await expect(NatsStore.connect({ servers: url, bucket: uniqueBucket(), maxMessageBytes: 1 << 30 })).rejects.toThrow(TypeError);
  });

  it('keeps values larger than a message in chunks, never torn, and leaves no chunks behind', async () => {
    await withBucket(url, { maxMessageBytes: 1024 }, async (store, another, bucket) => {
      const big = pattern(10_500, 1);
      await store.put('big.key*', big);
      expect(await store.get('big.key*')).toEqual(big);
      expect(Object.values(await subjects(url, bucket, `${bucket}.c.r.>`))).toEqual([11]);
      // Replaced by another large value: the old chunks go.
      const bigger = pattern(20_001, 2);
      await store.put('big.key*', bigger);
      expect(Object.values(await subjects(url, bucket, `${bucket}.c.r.>`))).toEqual([20]);
      // A second store sees it, and knows of its chunks: its small write removes them.
      const other = await another();
      expect(await other.get('big.key*')).toEqual(bigger);
      await other.put('big.key*', b(7));
      expect(await store.get('big.key*')).toEqual(b(7));
      expect(await subjects(url, bucket, `${bucket}.c.r.>`)).toEqual({});
      // Values at the edge of one message.
      for (const n of [1022, 1023, 1024, 1025, 2048, 2049]) {
        await store.put(`edge${n}`, pattern(n, n));
        expect(await other.get(`edge${n}`)).toEqual(pattern(n, n));
      }
      await store.put('gone', pattern(5000, 3));
      await store.delete('gone');
      expect(await store.get('gone')).toBeNull();
      expect(await all(store.keys('gone'))).toEqual([]);
      // Concurrent reads while the value is being replaced see the old or the new one, whole.
      const versions = [pattern(4321, 10), pattern(6543, 11), b(1, 2), pattern(3000, 12)];
      await store.put('race', versions[0]!);
      const reads: Promise<Uint8Array | null>[] = [];
      for (const v of versions.slice(1)) {
        const w = store.put('race', v);
        reads.push(other.get('race'), other.get('race'));
        await w;
      }
      for (const r of await Promise.all(reads)) expect(versions.some((v) => r !== null && Buffer.from(v).equals(r))).toBe(true);
    });
  });

  it('stores a value of MAX_VALUE_BYTES with the default message size, and refuses a larger one', async () => {
    await withBucket(url, {}, async (store, another) => {
      const huge = pattern(MAX_VALUE_BYTES, 5);
      await store.put('huge', huge);
      const back = await (await another()).get('huge');
      expect(back?.length).toBe(MAX_VALUE_BYTES);
      expect(Buffer.from(back!).equals(huge)).toBe(true);
      expect(await code(store.put('huge2', new Uint8Array(MAX_VALUE_BYTES + 1)))).toBe('too-large');
      expect(await code(store.append('j', [{ seq: 1, bytes: new Uint8Array(MAX_VALUE_BYTES + 1) }]))).toBe('too-large');
      await expect(store.put('huge2', 'text' as unknown as Uint8Array)).rejects.toThrow(TypeError);
    });
  }, 120_000);

  it('journals large appends in chunks, and trims them away', async () => {
    await withBucket(url, { maxMessageBytes: 1024 }, async (store, another, bucket) => {
      const e = (seq: number, n: number): JournalEntry => ({ seq, bytes: pattern(n, seq) });
      await store.append('j/1', [e(1, 10), e(2, 3000), e(3, 5)]);
      await store.append('j/1', [e(4, 2500)]);
      await store.append('j/1', [e(5, 10)]);
      const other = await another();
      expect(await other.read('j/1')).toEqual([e(1, 10), e(2, 3000), e(3, 5), e(4, 2500), e(5, 10)]);
      expect(await other.read('j/1', 3)).toEqual([e(4, 2500), e(5, 10)]);
      await store.trim('j/1', 2); // inside the first append
      expect(await other.read('j/1')).toEqual([e(3, 5), e(4, 2500), e(5, 10)]);
      await store.trim('j/1', 3); // the first append goes, with its chunks
      expect(await other.read('j/1')).toEqual([e(4, 2500), e(5, 10)]);
      expect(Object.values(await subjects(url, bucket, `${bucket}.c.j.>`))).toEqual([3]);
      await store.trim('j/1', 5);
      expect(await other.read('j/1')).toEqual([]);
      expect(await subjects(url, bucket, `${bucket}.c.j.>`)).toEqual({});
      expect(await subjects(url, bucket, `${bucket}.j.>`)).toEqual({});
      expect(await code(other.append('j/1', [e(5, 1)]))).toBe('bad-seq');
      await other.append('j/1', [e(6, 1)]);
      expect(await store.read('j/1')).toEqual([e(6, 1)]);
    });
  });

  it('reads and trims long journals (past the first messages, read through a consumer)', async () => {
    await withBucket(url, { maxMessageBytes: 1024 }, async (store, another) => {
      const e = (seq: number): JournalEntry => ({ seq, bytes: pattern(seq % 7 === 0 ? 1500 : 10, seq) });
      const model: JournalEntry[] = [];
      for (let call = 0; call < 60; call++) {
        const add = [e(2 * call + 1), e(2 * call + 2)];
        await store.append('long', add);
        model.push(...add);
      }
      await store.append('other', [e(1)]); // interleaved in the stream, not in the journal
      const other = await another();
      expect(await other.read('long')).toEqual(model);
      expect(await other.read('long', 85)).toEqual(model.filter((x) => x.seq > 85));
      await store.trim('long', 75); // inside the 38th call
      expect(await other.read('long')).toEqual(model.filter((x) => x.seq > 75));
      await other.trim('long', 100);
      expect(await store.read('long')).toEqual(model.filter((x) => x.seq > 100));
      expect(await store.read('other')).toEqual([e(1)]);
    });
  });

  it('trims inside an append, remembers it, and still appends after a trim beyond the last seq', async () => {
    await withBucket(url, {}, async (store, another) => {
      const e = (seq: number): JournalEntry => ({ seq, bytes: b(seq) });
      await store.append('a.b', [e(1), e(2), e(3)]);
      await store.append('a.b', [e(4), e(5)]);
      await store.trim('a.b', 2);
      expect(await store.read('a.b')).toEqual([e(3), e(4), e(5)]);
      await store.trim('a.b', 1); // lower than before: changes nothing
      const other = await another();
      expect(await other.read('a.b')).toEqual([e(3), e(4), e(5)]);
      expect(await other.read('a.b', 4)).toEqual([e(5)]);
      await other.trim('a.b', 4); // drops the first append, and half of the second
      expect(await store.read('a.b')).toEqual([e(5)]);
      expect(await all(store.journals())).toEqual(['a.b']);
      await store.trim('a.b', 100); // beyond the last seq (5)
      expect(await all(other.journals())).toEqual([]);
      expect(await other.read('a.b')).toEqual([]);
      expect(await code(other.append('a.b', [e(5)]))).toBe('bad-seq');
      await other.append('a.b', [e(6), e(7)]); // above the last seq, though below the trim point: kept
      expect(await store.read('a.b')).toEqual([e(6), e(7)]);
      expect(await all(store.journals('a'))).toEqual(['a.b']);
      await store.trim('nothing-here', 3);
      expect(await store.read('nothing-here')).toEqual([]);
    });
  });

  it('checks seqs against a second writer of the same journal', async () => {
    await withBucket(url, {}, async (a, another) => {
      const e = (seq: number): JournalEntry => ({ seq, bytes: b(seq) });
      const bStore = await another();
      await a.append('j', [e(1)]);
      await bStore.append('j', [e(2)]);
      // a's view of the journal is stale (last 1): the server refuses its append, a reads again and checks.
      expect(await code(a.append('j', [e(2)]))).toBe('bad-seq');
      await a.append('j', [e(3)]);
      await bStore.trim('j', 3);
      expect(await code(a.append('j', [e(3)]))).toBe('bad-seq');
      await a.append('j', [e(4)]);
      expect(await bStore.read('j')).toEqual([e(4)]);
      // Both see the journal emptied, then b appends and empties it again: a must not take 5 for new.
      await a.trim('j', 4);
      await bStore.append('j', [e(5)]);
      await bStore.trim('j', 5);
      expect(await code(a.append('j', [e(5)]))).toBe('bad-seq');
      await a.append('j', [e(6)]);
      expect(await bStore.read('j')).toEqual([e(6)]);
      // Many appends to one journal from one store, not awaited in turn: they go in call order.
      await Promise.all(Array.from({ length: 50 }, (_, i) => a.append('k', [e(i + 1)])));
      expect((await bStore.read('k')).map((x) => x.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });

  it('drops what an interrupted trim left (its marker written, its purge not done)', async () => {
    await withBucket(url, {}, async (store, another, bucket) => {
      const e = (seq: number): JournalEntry => ({ seq, bytes: b(seq) });
      await store.append('j', [e(1), e(2)]);
      await store.append('j', [e(3)]);
      // What trim('j', 3) writes before it purges, written by hand.
      const nc = await connect({ servers: url });
      const { jetstream } = await import('@nats-io/jetstream');
      const { headers } = await import('@nats-io/transport-node');
      const h = headers();
      h.set('Wasmhive-Last', '3');
      h.set('Wasmhive-Trimmed', '3');
      h.set('Nats-Rollup', 'sub');
      await jetstream(nc).publish(`${bucket}.t.${Buffer.from('j').toString('base64url')}`, new Uint8Array(0), { headers: h });
      await nc.close();
      const other = await another();
      expect(await other.read('j')).toEqual([]);
      expect(await all(other.journals())).toEqual([]);
      expect(await code(other.append('j', [e(3)]))).toBe('bad-seq');
      await other.append('j', [e(4)]);
      expect(await store.read('j')).toEqual([e(4)]);
      expect(await all(store.journals())).toEqual(['j']);
      await other.trim('j', 2);
      expect(await store.read('j')).toEqual([e(4)]);
      await other.trim('j', 4);
      expect(await subjects(url, bucket, `${bucket}.j.>`)).toEqual({});
    });
  });

  it('ignores subjects it did not write when listing', async () => {
    await withBucket(url, {}, async (store, _another, bucket) => {
      await store.put('k', b(1));
      const nc = await connect({ servers: url });
      const { Kvm } = await import('@nats-io/kv');
      const { jetstream } = await import('@nats-io/jetstream');
      const kv = await new Kvm(jetstream(nc)).open(bucket);
      await kv.put('not=base64url', b(2)); // '=' is not in base64url
      await kv.put('YQ==', b(3)); // padded: not how this store encodes 'a'
      await nc.close();
      expect(await all(store.keys())).toEqual(['k']);
    });
  });
});

// Servers of their own, stopped and started again: these need the binary, whatever NATS_URL says.
describe.skipIf(noBinary)('NatsStore with a server of its own', () => {
  let local: LocalNatsServer | null = null;
  afterAll(async () => {
    await local?.stop();
  });

  it('survives a server restart: the data is there, for the store that was connected and a new one', async () => {
    local = await startLocalNatsServer();
    const srv = local!;
    await withBucket(srv.url, { timeout: 2000 }, async (store, another) => {
      await store.put('r', text('record'));
      await store.put('big', pattern(3 * 1024 * 1024, 9));
      await store.append('j', [{ seq: 1, bytes: text('one') }, { seq: 2, bytes: text('two') }]);
      await store.append('j', [{ seq: 3, bytes: text('three') }]);
      await store.trim('j', 1);
      await srv.halt();
      await srv.resume();
      // The client reconnects by itself (retry while it does).
      let got: Uint8Array | null = null;
      for (let i = 0; i < 50; i++) {
        try {
          got = await store.get('r');
          break;
        } catch (e) {
          if (!(e instanceof StoreError) || e.code !== 'io') throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(got).toEqual(text('record'));
      for (const s of [store, await another()]) {
        // (Buffer.equals: toEqual walks 3 MiB element by element, for seconds.)
        expect(Buffer.from((await s.get('big'))!).equals(pattern(3 * 1024 * 1024, 9))).toBe(true);
        expect(await s.read('j')).toEqual([{ seq: 2, bytes: text('two') }, { seq: 3, bytes: text('three') }]);
        expect(await all(s.keys())).toEqual(['big', 'r']);
        expect(await all(s.journals())).toEqual(['j']);
      }
      expect(await code(store.append('j', [{ seq: 3, bytes: b() }]))).toBe('bad-seq');
    });
  });

  it('fails with StoreError io, not a hang, while the server is away, and works again when it is back', async () => {
    local ??= await startLocalNatsServer();
    const srv = local!;
    await withBucket(srv.url, { timeout: 500 }, async (store) => {
      await store.put('k', b(1));
      await store.append('j', [{ seq: 1, bytes: b(1) }]);
      await srv.halt();
      const started = Date.now();
      // All at once (code() takes each failure as it comes).
      const calls: [string, Promise<string>][] = [
        ['get', code(store.get('k'))],
        ['put', code(store.put('k', b(2)))],
        ['delete', code(store.delete('x'))],
        ['append', code(store.append('j', [{ seq: 2, bytes: b(2) }]))],
        ['read', code(store.read('j'))],
        ['trim', code(store.trim('j', 1))],
        ['keys', code(all(store.keys()))],
        ['journals', code(all(store.journals()))],
      ];
      for (const [name, p] of calls) expect([name, await p]).toEqual([name, 'io']);
      expect(Date.now() - started).toBeLessThan(5_000);
      const cause = await store.get('k').catch((e: unknown) => e);
      expect((cause as StoreError).cause).toBeDefined();
      await srv.resume();
      let back = false;
      for (let i = 0; i < 50 && !back; i++) {
        back = (await code(store.get('k'))) === 'resolved';
        if (!back) await new Promise((r) => setTimeout(r, 200));
      }
      expect(back).toBe(true);
      // The put that failed may or may not have landed; the journal is whole and goes on from what it holds.
      const seqs = (await store.read('j')).map((x) => x.seq);
      expect([[1], [1, 2]]).toContainEqual(seqs);
      await store.append('j', [{ seq: 3, bytes: b(3) }]);
      expect((await store.read('j')).map((x) => x.seq)).toEqual([...seqs, 3]);
    });
  });

  it('closes promptly while the server is away', async () => {
    local ??= await startLocalNatsServer();
    const srv = local!;
    await srv.resume();
    const bucket = uniqueBucket();
    const store = await NatsStore.connect({ servers: srv.url, bucket, timeout: 500 });
    await store.put('k', b(1));
    await srv.halt();
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await code(store.get('k'))).toBe('closed');
  });
});

// Throughput against the test's server, only on request (it is not a test, and it takes a while):
//   WASMHIVE_NATS_BENCH=1 npx vitest run --project unit src/store/nats.test.ts -t throughput
if (available && process.env['WASMHIVE_NATS_BENCH']) {
  describe('NatsStore throughput', () => {
    const shared = sharedServer();
    it('puts and appends of 1 KiB, awaited in turn and 100 at once', async () => {
      const url = shared.url;
      await withBucket(url, {}, async (store) => {
        const value = pattern(1024, 1);
        const rate = async (label: string, n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> => {
          let next = 0;
          const started = performance.now();
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (next < n) await op(next++);
            }),
          );
          const s = (performance.now() - started) / 1000;
          console.log(`${label}: ${n} in ${s.toFixed(2)} s = ${Math.round(n / s)}/s`);
        };
        await rate('put 1 KiB, in turn', 3000, 1, (i) => store.put(`p${i % 500}`, value));
        await rate('put 1 KiB, 100 at once', 20000, 100, (i) => store.put(`q${i % 5000}`, value));
        await rate('get 1 KiB, in turn', 3000, 1, (i) => store.get(`p${i % 500}`));
        await rate('append 1 KiB, in turn (one journal)', 3000, 1, (i) => store.append('a', [{ seq: i + 1, bytes: value }]));
        // 100 journals, one writer each (calls on one journal run in turn anyway).
        const seqs = new Array<number>(100).fill(0);
        await rate('append 1 KiB, 100 at once (100 journals)', 20000, 100, (i) => {
          const j = i % 100;
          return store.append(`b${j}`, [{ seq: ++seqs[j]!, bytes: value }]);
        });
        const started = performance.now();
        const entries = await store.read('a');
        console.log(`read of a journal of ${entries.length} appends: ${(performance.now() - started).toFixed(0)} ms`);
        const t2 = performance.now();
        await store.trim('a', 2999);
        console.log(`trim inside it (one message kept): ${(performance.now() - t2).toFixed(0)} ms`);
        const t3 = performance.now();
        const keys = await all(store.keys());
        console.log(`keys(): ${keys.length} in ${(performance.now() - t3).toFixed(0)} ms`);
      });
    }, 600_000);
  });
}
