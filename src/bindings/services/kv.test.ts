/**
 * The kv service, its handlers called directly with a made-up context:
 * namespaces, bounds, and idempotency by call id.
 */
import { describe, expect, it, vi } from 'vitest';
import { HiveStatus } from '../hive/abi.js';
import type { ServiceContext } from '../service.js';
import { kv, memoryKvStore, type KvStore } from './kv.js';
import { encodedSize } from './size.js';
import { encode, Pid } from '../../actors/codec.js';
import { status } from './status-of.test-helper.js';

/** The context of call number `n` of actor `caller` (0: the host). */
const ctx = (caller: number, n = 0): ServiceContext => ({ service: 'kv', caller, callerName: null, grants: caller === 0 ? [] : ['kv'], callId: caller === 0 ? 'host' : `${caller}:${n}` });

/** Calls of one actor, numbered as its runtime numbers them. */
function actor(caller: number): (n?: number) => ServiceContext {
  let n = 0;
  return (again?: number) => ctx(caller, again ?? ++n);
}


describe('kv', () => {
  it('gets, puts, deletes, lists sorted keys by prefix and increments, in the caller\'s namespace', async () => {
    const { handlers: h } = kv();
    const a = actor(5);
    expect(await h.get('x', a())).toBe(null);
    expect(await h.put(['x', { deep: [1, 'two', new Uint8Array([3])] }], a())).toBe(null);
    expect(await h.get('x', a())).toEqual({ deep: [1, 'two', new Uint8Array([3])] });
    await h.put(['b/2', 2], a());
    await h.put(['b/1', 1], a());
    expect(await h.keys('b/', a())).toEqual(['b/1', 'b/2']);
    expect(await h.keys(null, a())).toEqual(['b/1', 'b/2', 'x']);
    expect(await h.delete('x', a())).toBe(true);
    expect(await h.delete('x', a())).toBe(false);
    expect(await h.get('x', a())).toBe(null);
    expect(await h.incr(['n'], a())).toBe(1);
    expect(await h.incr(['n', 41], a())).toBe(42);
    expect(await h.incr('n', a())).toBe(43);
    expect(await h.incr(['n', -0.5], a())).toBe(42.5);
  });

  it('keeps each caller\'s keys apart: actors by pid, the host under "host"', async () => {
    const store = memoryKvStore();
    const { handlers: h } = kv({ store });
    await h.put(['k', 'five'], ctx(5, 1));
    await h.put(['k', 'six'], ctx(6, 1));
    await h.put(['k', 'host'], ctx(0));
    expect(await h.get('k', ctx(5, 2))).toBe('five');
    expect(await h.get('k', ctx(6, 2))).toBe('six');
    expect(await h.get('k', ctx(0))).toBe('host');
    expect(await h.get('k', ctx(7, 1))).toBe(null);
    expect(await h.keys('', ctx(7, 2))).toEqual([]);
    expect(await h.delete('k', ctx(7, 3))).toBe(false);
    expect(await h.get('k', ctx(5, 3))).toBe('five');
    expect([await store.get('5', 'k'), await store.get('6', 'k'), await store.get('host', 'k')]).toEqual(['five', 'six', 'host']);
  });

  it('refuses a key longer than maxKeyBytes (in UTF-8) with TOO_LARGE, for every method', async () => {
    const { handlers: h } = kv({ maxKeyBytes: 8 });
    const a = actor(5);
    await h.put(['12345678', 1], a());
    await h.put(['éééé', 1], a()); // 8 bytes
    expect(await status(h.put(['123456789', 1], a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.put(['ééééé', 1], a()))).toBe(HiveStatus.TOO_LARGE); // 5 chars, 10 bytes
    expect(await status(h.get('123456789', a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.delete('123456789', a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.incr(['123456789'], a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.keys('123456789', a()))).toBe(HiveStatus.TOO_LARGE);
  });

  it('refuses a value larger than maxValueBytes of MessagePack with TOO_LARGE', async () => {
    const { handlers: h } = kv({ maxValueBytes: 100 });
    const a = actor(5);
    // A bin of 97 bytes is 99 bytes of MessagePack (header 2); 98 bytes of string is 100 (header 2).
    await h.put(['bin', new Uint8Array(97)], a());
    await h.put(['str', 'x'.repeat(98)], a());
    expect(await status(h.put(['bin', new Uint8Array(99)], a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.put(['str', 'x'.repeat(99)], a()))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(h.put(['arr', Array.from({ length: 40 }, () => 'ab')], a()))).toBe(HiveStatus.TOO_LARGE);
    expect((await h.get('bin', a())) as Uint8Array).toHaveLength(97);
    expect(await h.get('arr', a())).toBe(null);
  });

  it('refuses a new key past maxKeysPerNamespace with LIMIT (put and incr); existing keys still change, other namespaces are not counted', async () => {
    const { handlers: h } = kv({ maxKeysPerNamespace: 3 });
    const a = actor(5);
    for (const k of ['a', 'b', 'c']) await h.put([k, 0], a());
    expect(await status(h.put(['d', 0], a()))).toBe(HiveStatus.LIMIT);
    expect(await status(h.incr(['d'], a()))).toBe(HiveStatus.LIMIT);
    await h.put(['a', 'changed'], a());
    expect(await h.incr(['b'], a())).toBe(1);
    await h.put(['d', 0], ctx(6, 1));
    await h.delete('c', a());
    await h.put(['d', 0], a());
    expect(await h.keys('', a())).toEqual(['a', 'b', 'd']);
  });

  it('lists at most maxKeysListed keys; the next ones come with keys([prefix, after])', async () => {
    const { handlers: h } = kv({ maxKeysListed: 2 });
    const a = actor(5);
    for (const k of ['p5', 'p1', 'q', 'p3', 'p4', 'p2']) await h.put([k, 0], a());
    expect(await h.keys('p', a())).toEqual(['p1', 'p2']);
    expect(await h.keys(['p', 'p2'], a())).toEqual(['p3', 'p4']);
    expect(await h.keys(['p', 'p4'], a())).toEqual(['p5']);
    expect(await h.keys(['p', 'p5'], a())).toEqual([]);
  });

  it('lists at most 100 keys by default', async () => {
    const store = memoryKvStore();
    const { handlers: h } = kv({ store });
    await store.write(Array.from({ length: 150 }, (_, i) => ({ namespace: '5', key: `k${String(i).padStart(3, '0')}`, value: i })));
    const first = await h.keys('', ctx(5, 1));
    expect(first).toHaveLength(100);
    expect(await h.keys(['', first.at(-1)!], ctx(5, 2))).toHaveLength(50);
  });

  it('stops a listing before the key that would pass maxListedBytes (default 64 KiB) of MessagePack; the caller pages on with [prefix, after]', async () => {
    const store = memoryKvStore();
    const { handlers: h } = kv({ store, maxListedBytes: 100 });
    // Keys of 30 bytes are 31 bytes of MessagePack: a header of 1 and 3 keys are 94 bytes, a 4th would be 125.
    const keys = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(30));
    await store.write(keys.map((key) => ({ namespace: '5', key, value: 0 })));
    const pages: string[][] = [];
    for (let after: string | undefined; ; ) {
      const page = await h.keys(['', after], ctx(5, pages.length + 1));
      if (page.length === 0) break;
      pages.push(page);
      after = page.at(-1);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    expect(pages.flat()).toEqual(keys);
    // A key longer than the bound alone is still answered (one at a time).
    await store.write([{ namespace: '6', key: 'k'.repeat(200), value: 0 }, { namespace: '6', key: 'l'.repeat(200), value: 0 }]);
    expect(await h.keys('', ctx(6, 1))).toEqual(['k'.repeat(200)]);
    // By default: 63 keys of 1 KiB (1,027 bytes each, after a header of 3) fit in 64 KiB, not 64.
    const big = memoryKvStore();
    await big.write(Array.from({ length: 100 }, (_, i) => ({ namespace: '5', key: `${String(i).padStart(2, '0')}`.padEnd(1024, 'x'), value: 0 })));
    expect(await kv({ store: big }).handlers.keys('', ctx(5, 1))).toHaveLength(63);
  });

  it('answers a listing from keys kept sorted as they are written: it sorts nothing and looks at no more keys than it answers', async () => {
    const store = memoryKvStore();
    await store.write(Array.from({ length: 10_000 }, (_, i) => ({ namespace: '5', key: `key/${(i * 7919) % 10_000}`, value: 0 })));
    const sort = vi.spyOn(Array.prototype, 'sort');
    const startsWith = vi.spyOn(String.prototype, 'startsWith');
    try {
      expect(await store.keys('5', '', 3)).toEqual(['key/0', 'key/1', 'key/10']);
      expect(await store.keys('5', 'key/99', 5, 'key/9989')).toEqual(['key/999', 'key/9990', 'key/9991', 'key/9992', 'key/9993']);
      expect(sort).not.toHaveBeenCalled();
      // (8 for the keys answered; the old sort-every-key listing made 20,000.)
      expect(startsWith.mock.calls.length).toBeLessThan(100);
    } finally {
      sort.mockRestore();
      startsWith.mockRestore();
    }
  });

  it('lists as a sort of every key would, whatever was written and deleted', async () => {
    const store = memoryKvStore();
    const keys = new Set<string>();
    let seed = 1;
    const rand = (n: number): number => ((seed = (seed * 48271) % 0x7fffffff), seed % n);
    const alphabet = ['a', 'b', 'ab', 'é', '\u{1f600}', '/', ''];
    const key = (): string => Array.from({ length: 1 + rand(4) }, () => alphabet[rand(alphabet.length)]).join('') || 'z';
    for (let round = 0; round < 300; round++) {
      const changes = Array.from({ length: 1 + rand(5) }, () => ({ namespace: 'n', key: key(), value: rand(3) === 0 ? undefined : round }));
      await store.write(changes);
      for (const c of changes) c.value === undefined ? keys.delete(c.key) : keys.add(c.key);
      const prefix = rand(2) === 0 ? '' : key().slice(0, 1 + rand(2));
      const after = rand(2) === 0 ? undefined : key();
      const limit = 1 + rand(20);
      const expected = [...keys].filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort().slice(0, limit);
      expect(await store.keys('n', prefix, limit, after)).toEqual(expected);
    }
    expect(await store.count('n')).toBe(keys.size);
  });

  it('incr counts a missing key as 0, refuses a value that is not a number (INVALID) and a `by` that is not a finite number (BAD_ARGUMENT)', async () => {
    const { handlers: h } = kv();
    const a = actor(5);
    await h.put(['s', 'text'], a());
    expect(await status(h.incr(['s'], a()))).toBe(HiveStatus.INVALID);
    expect(await h.get('s', a())).toBe('text');
    expect(await status(h.incr(['n', 'one' as never], a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.incr(['n', Infinity], a()))).toBe(HiveStatus.BAD_ARGUMENT);
    await h.put(['big', Number.MAX_VALUE], a());
    expect(await status(h.incr(['big', Number.MAX_VALUE], a()))).toBe(HiveStatus.INVALID);
    expect(await h.incr(['n', null as never], a())).toBe(1);
  });

  it('refuses malformed requests with BAD_ARGUMENT', async () => {
    const { handlers: h } = kv();
    const a = actor(5);
    expect(await status(h.get(7 as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.get('', a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.put('k' as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.put(['k'] as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.put(['k', 1, 2] as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.keys(5 as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(h.incr([] as never, a()))).toBe(HiveStatus.BAD_ARGUMENT);
  });

  it('applies a write once per call id: the same call again answers the recorded result and changes nothing', async () => {
    const { handlers: h } = kv();
    expect(await h.incr(['n', 1], ctx(5, 1))).toBe(1);
    expect(await h.incr(['n', 1], ctx(5, 1))).toBe(1);
    expect(await h.incr(['n', 1], ctx(5, 2))).toBe(2);
    expect(await h.get('n', ctx(5, 3))).toBe(2);
    await h.put(['k', 'first'], ctx(5, 4));
    await h.put(['k', 'second'], ctx(5, 5));
    await h.put(['k', 'first'], ctx(5, 4)); // sent again: not applied over the later put
    expect(await h.get('k', ctx(5, 6))).toBe('second');
    expect(await h.delete('k', ctx(5, 7))).toBe(true);
    await h.put(['k', 'back'], ctx(5, 8));
    expect(await h.delete('k', ctx(5, 7))).toBe(true);
    expect(await h.get('k', ctx(5, 9))).toBe('back');
    // Another actor's call with the same number is another call.
    expect(await h.incr(['n', 1], ctx(6, 1))).toBe(1);
  });

  it('dedupes across kv services sharing a store (a caller restored into another hive)', async () => {
    const store = memoryKvStore();
    const one = kv({ store }).handlers;
    const two = kv({ store }).handlers;
    expect(await one.incr(['n', 10], ctx(5, 3))).toBe(10);
    expect(await two.incr(['n', 10], ctx(5, 3))).toBe(10);
    expect(await store.get('5', 'n')).toBe(10);
    expect(await two.incr(['n', 10], ctx(5, 4))).toBe(20);
  });

  it('a recorded call id reused for another method or key (an actor of a new hive with the same pid) is applied', async () => {
    const { handlers: h } = kv();
    expect(await h.incr(['a'], ctx(5, 1))).toBe(1);
    expect(await h.incr(['b'], ctx(5, 1))).toBe(1);
    await h.put(['b', 'x'], ctx(5, 1));
    expect(await h.get('b', ctx(5, 2))).toBe('x');
  });

  it('never dedupes the host\'s own calls (they all have the id "host")', async () => {
    const { handlers: h } = kv();
    expect(await h.incr(['n'], ctx(0))).toBe(1);
    expect(await h.incr(['n'], ctx(0))).toBe(2);
  });

  it('keeps at most maxCallRecords call records per namespace, dropping the oldest', async () => {
    const store = memoryKvStore();
    const { handlers: h } = kv({ store, maxCallRecords: 3 });
    for (let n = 1; n <= 4; n++) expect(await h.incr(['n'], ctx(5, n))).toBe(n);
    expect(await store.count('#calls/5')).toBe(3);
    expect(await h.incr(['n'], ctx(5, 2))).toBe(2); // still recorded
    expect(await h.incr(['n'], ctx(5, 1))).toBe(5); // forgotten: applied again
    expect(await store.count('#calls/5')).toBe(3);
    // Another namespace has its own records.
    expect(await h.incr(['n'], ctx(6, 1))).toBe(1);
    expect(await store.count('#calls/5')).toBe(3);
  });

  it('records a write and its result in one atomic write, so that a duplicate arriving meanwhile from another kv answers the recorded result', async () => {
    const mem = memoryKvStore();
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    let writes = 0;
    const slow: KvStore = { ...mem, write: async (c, u) => (writes++, await gate, mem.write(c, u)) };
    const one = kv({ store: slow }).handlers;
    const two = kv({ store: mem }).handlers;
    const first = one.incr(['n', 1], ctx(5, 1));
    await new Promise((r) => setImmediate(r));
    expect(writes).toBe(1);
    // The other kv runs the same call first: its write lands, the first one's (conditional) write is then refused.
    expect(await two.incr(['n', 1], ctx(5, 1))).toBe(1);
    release();
    expect(await first).toBe(1);
    expect(await mem.get('5', 'n')).toBe(1);
  });

  it('runs one namespace\'s writes one after the other (concurrent increments all count)', async () => {
    const { handlers: h } = kv();
    const sums = await Promise.all(Array.from({ length: 50 }, () => h.incr(['n'], ctx(0))));
    expect(sums.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('memoryKvStore holds at most maxBytes (default 64 MiB) in all namespaces: a write past it is "full" and changes nothing; a delete still applies', async () => {
    const store = memoryKvStore();
    // Values of 64 KiB of MessagePack, each in a namespace of its own (about 64.3 KiB counted with its key and namespace).
    const value = new Uint8Array(64 * 1024 - 3);
    let stored = 0;
    let full: boolean | 'full' = true;
    while (stored < 2000 && (full = await store.write([{ namespace: String(stored), key: 'k', value }])) === true) stored++;
    expect(full).toBe('full');
    expect(stored).toBeGreaterThan(1000);
    expect(stored).toBeLessThan(1024);
    expect(await store.get(String(stored), 'k')).toBe(undefined);
    // A write of several changes is refused whole.
    expect(await store.write([{ namespace: '0', key: 'k', value: undefined }, { namespace: 'x', key: 'k', value }, { namespace: 'y', key: 'k', value }])).toBe('full');
    expect(await store.get('0', 'k')).toBe(value);
    // Deleting frees room.
    expect(await store.write([{ namespace: '0', key: 'k', value: undefined }])).toBe(true);
    expect(await store.write([{ namespace: 'x', key: 'k', value }])).toBe(true);
    expect(await store.write([{ namespace: 'y', key: 'k', value }])).toBe('full');
  });

  it('answers LIMIT "the store is full" once many actors, one value each, fill the store; a delete still applies', async () => {
    const store = memoryKvStore({ maxBytes: 20_000 });
    const { handlers: h } = kv({ store });
    let actor = 1;
    while (actor < 1000 && (await status(h.put(['k', 'v'.repeat(100)], ctx(actor, 1)))) === 'ok') actor++;
    expect(actor).toBeGreaterThan(10);
    expect(actor).toBeLessThan(1000);
    await expect(h.put(['k', 'v'], ctx(actor, 1))).rejects.toThrow('the store is full');
    expect(await status(h.put(['big', 'v'.repeat(2000)], ctx(1, 2)))).toBe(HiveStatus.LIMIT);
    expect(await h.get('k', ctx(actor, 2))).toBe(null);
    expect(await h.get('k', ctx(1, 3))).toBe('v'.repeat(100));
    // A full store still deletes, and then has room again.
    expect(await h.delete('k', ctx(1, 4))).toBe(true);
    expect(await h.get('k', ctx(1, 5))).toBe(null);
    expect(await h.put(['k', 'v'], ctx(actor, 3))).toBe(null);
    // A store of the host's own that is full is answered the same.
    const mine: KvStore = { ...memoryKvStore(), write: async () => 'full' };
    expect(await status(kv({ store: mine }).handlers.put(['k', 1], ctx(5, 1)))).toBe(HiveStatus.LIMIT);
    expect(await status(kv({ store: mine }).handlers.incr('k', ctx(0)))).toBe(HiveStatus.LIMIT);
  });

  it('refuses options that are not positive integers', () => {
    expect(() => kv({ maxKeyBytes: 0 })).toThrow(RangeError);
    expect(() => kv({ maxCallRecords: 1.5 })).toThrow(RangeError);
    expect(() => kv({ maxListedBytes: 0 })).toThrow(RangeError);
    expect(() => memoryKvStore({ maxBytes: -1 })).toThrow(RangeError);
  });
});

describe('encodedSize', () => {
  it('is the size of the hive\'s MessagePack encoding of decoded values (Dates at most 15)', () => {
    const values: unknown[] = [
      null, true, 0, 127, 128, -32, -33, 255, 256, -128, -129, 65535, 65536, -32768, -32769, 2 ** 32 - 1, -(2 ** 31), 2 ** 32, -(2 ** 31) - 1, 1.5, 10n ** 18n,
      '', 'a'.repeat(31), 'a'.repeat(32), 'é'.repeat(200), 'x'.repeat(70_000),
      new Uint8Array(0), new Uint8Array(300), new Uint8Array(70_000),
      [], Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 70_000 }, () => 0),
      { a: 1, b: [1, { c: 'd' }], e: undefined }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      new Map<unknown, unknown>([[1, 'one'], ['two', [2]]]), new Pid(7), [new Pid(-1), { p: new Pid(3) }],
    ];
    // (In an array, so that bytes are encoded as bin, not passed through; the array's header is 1 byte.)
    for (const v of values) expect([v, encodedSize(v, Infinity)]).toEqual([v, encode([v]).length - 1]);
    expect(encodedSize(new Date(0), Infinity)).toBeGreaterThanOrEqual(encode([new Date(0)]).length - 1);
    expect(encodedSize(new Date(1.5), Infinity)).toBe(15);
  });

  it('stops counting past its limit', () => {
    expect(encodedSize(Array.from({ length: 1000 }, () => 'x'.repeat(10)), 50)).toBeLessThan(100);
  });

  it('regression: one actor could fill the whole store and leave every other tenant only LIMIT; now a namespace holds at most maxBytesPerNamespace', async () => {
    const { handlers: h } = kv({ store: memoryKvStore({ maxBytes: 1 << 20, maxBytesPerNamespace: 256 << 10 }) });
    const hog = actor(5);
    const value = 'v'.repeat(60_000);
    let stored = 0;
    for (let i = 0; i < 50; i++) if ((await status(h.put([`k${i}`, value], hog()))) === 'ok') stored++;
    // About 256 KiB of 60 KB values: 4 of them; the fifth and later are refused.
    expect(stored).toBe(4);
    expect(await status(h.put(['more', value], hog()))).toBe(HiveStatus.LIMIT);
    // Another tenant still has its share, and the hog may still delete (and then write again).
    const other = actor(6);
    for (let i = 0; i < 4; i++) expect(await status(h.put([`k${i}`, value], other()))).toBe('ok');
    expect(await h.delete('k0', hog())).toBe(true);
    expect(await status(h.put(['k0', value], hog()))).toBe('ok');
  });
});

