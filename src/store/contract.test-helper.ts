/**
 * The Store contract as tests, for every store (memory.test.ts,
 * file.test.ts, nats.test.ts call `storeContract`): the same laws, and a
 * model-based property test against a plain model. `open` makes a store
 * over the test's place; calling it again on the same place (after
 * `close`) must show what was written, for a persistent store.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, StoreError, type JournalEntry, type Store } from './store.js';

/** A store under test: `open()` opens (or reopens) it over one place; `fresh()` gives a new, empty place. */
export interface StoreUnderTest {
  fresh(): Promise<{ open(): Promise<Store>; dispose?(): Promise<void> }>;
  /** Whether what was written survives close and reopen. */
  persistent: boolean;
  /** Runs of the property test (default 60). */
  runs?: number;
}

/** Bytes of these numbers. */
export const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
/** UTF-8 bytes of a string. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Everything an async iterable gives. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The StoreError code a promise rejects with, or 'resolved'. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreError) return e.code;
    throw e;
  }
  return 'resolved';
}

async function withStore(s: StoreUnderTest, f: (store: Store, reopen: () => Promise<Store>) => Promise<void>): Promise<void> {
  const place = await s.fresh();
  let store = await place.open();
  try {
    await f(store, async () => {
      await store.close();
      store = await place.open();
      return store;
    });
  } finally {
    await store.close();
    await place.dispose?.();
  }
}

/** Defines the contract's tests for one kind of store. */
export function storeContract(name: string, s: StoreUnderTest): void {
  describe(`${name} keeps the Store contract`, () => {
    it('gets what was put, replaces it, and forgets it when deleted', async () => {
      await withStore(s, async (store) => {
        expect(await store.get('a')).toBeNull();
        await store.put('a', b(1, 2, 3));
        expect(await store.get('a')).toEqual(b(1, 2, 3));
        await store.put('a', b());
        expect(await store.get('a')).toEqual(b());
        await store.delete('a');
        expect(await store.get('a')).toBeNull();
        await store.delete('never-there');
      });
    });

    it('does not let a caller change what it holds by changing the bytes it gave or got', async () => {
      await withStore(s, async (store) => {
        const v = b(1, 2, 3);
        await store.put('k', v);
        v[0] = 9;
        const got = (await store.get('k'))!;
        expect(got).toEqual(b(1, 2, 3));
        got[1] = 9;
        expect(await store.get('k')).toEqual(b(1, 2, 3));
      });
    });

    it('takes any well-formed key up to the limit, as distinct keys, and lists them by prefix in order', async () => {
      await withStore(s, async (store, reopen) => {
        const keys = ['a', 'a/b', 'a.b', 'a b', 'a*', 'a>', '..', '/', 'ü/ключ', '😀', 'x'.repeat(MAX_KEY_LENGTH), 'A', '%2F', 'a%2Fb', '_', '-'];
        for (const [i, k] of keys.entries()) await store.put(k, b(i));
        for (const [i, k] of keys.entries()) expect(await store.get(k)).toEqual(b(i));
        expect(await all(store.keys())).toEqual([...keys].sort());
        expect(await all(store.keys('a'))).toEqual(keys.filter((k) => k.startsWith('a')).sort());
        expect(await all(store.keys('zz'))).toEqual([]);
        if (s.persistent) {
          const again = await reopen();
          expect(await all(again.keys())).toEqual([...keys].sort());
          for (const [i, k] of keys.entries()) expect(await again.get(k)).toEqual(b(i));
        }
      });
    });

    it('refuses bad keys and values with a typed error', async () => {
      await withStore(s, async (store) => {
        expect(await code(store.put('', b()))).toBe('bad-key');
        expect(await code(store.get('x'.repeat(MAX_KEY_LENGTH + 1)))).toBe('bad-key');
        expect(await code(store.put('\ud800', b()))).toBe('bad-key');
        expect(await code(store.append('', [{ seq: 1, bytes: b() }]))).toBe('bad-key');
        expect(await code(store.put(42 as unknown as string, b()))).toBe('bad-key');
      });
    });

    it('appends journal entries in order, reads after a seq, and trims', async () => {
      await withStore(s, async (store, reopen) => {
        expect(await store.read('j')).toEqual([]);
        await store.append('j', [{ seq: 1, bytes: b(1) }, { seq: 2, bytes: b(2) }]);
        await store.append('j', [{ seq: 5, bytes: b(5) }]);
        await store.append('j', []);
        expect(await store.read('j')).toEqual([{ seq: 1, bytes: b(1) }, { seq: 2, bytes: b(2) }, { seq: 5, bytes: b(5) }]);
        expect(await store.read('j', 1)).toEqual([{ seq: 2, bytes: b(2) }, { seq: 5, bytes: b(5) }]);
        expect(await store.read('j', 5)).toEqual([]);
        await store.trim('j', 2);
        expect(await store.read('j')).toEqual([{ seq: 5, bytes: b(5) }]);
        const again = s.persistent ? await reopen() : store;
        expect(await again.read('j')).toEqual([{ seq: 5, bytes: b(5) }]);
        await again.append('j', [{ seq: 6, bytes: b(6) }]);
        expect((await again.read('j')).map((e) => e.seq)).toEqual([5, 6]);
      });
    });

    it('refuses a seq at or below the last one, also after a trim that emptied the journal and a reopen, appending nothing of that call', async () => {
      await withStore(s, async (store, reopen) => {
        await store.append('j', [{ seq: 3, bytes: b(3) }]);
        expect(await code(store.append('j', [{ seq: 4, bytes: b(4) }, { seq: 4, bytes: b(4) }]))).toBe('bad-seq');
        expect(await code(store.append('j', [{ seq: 3, bytes: b(3) }]))).toBe('bad-seq');
        expect(await code(store.append('j', [{ seq: 0.5, bytes: b() }]))).toBe('bad-seq');
        expect((await store.read('j')).map((e) => e.seq)).toEqual([3]);
        await store.trim('j', 3);
        expect(await all(store.journals())).toEqual([]);
        const again = s.persistent ? await reopen() : store;
        expect(await code(again.append('j', [{ seq: 2, bytes: b(2) }]))).toBe('bad-seq');
        await again.append('j', [{ seq: 4, bytes: b(4) }]);
        expect((await again.read('j')).map((e) => e.seq)).toEqual([4]);
      });
    });

    it('lists the journals that hold entries, by prefix, in order', async () => {
      await withStore(s, async (store) => {
        for (const j of ['b', 'a/1', 'a/2', 'c']) await store.append(j, [{ seq: 1, bytes: text(j) }]);
        await store.trim('c', 1);
        expect(await all(store.journals())).toEqual(['a/1', 'a/2', 'b']);
        expect(await all(store.journals('a/'))).toEqual(['a/1', 'a/2']);
      });
    });

    it('keeps many concurrent writes, each where it was put', async () => {
      await withStore(s, async (store, reopen) => {
        const n = 300;
        await Promise.all(Array.from({ length: n }, (_, i) => store.put(`k${i}`, text(`v${i}`))));
        await Promise.all(Array.from({ length: 30 }, (_, j) => store.append(`j${j}`, Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, bytes: text(`${j}.${i}`) })))));
        const again = s.persistent ? await reopen() : store;
        for (let i = 0; i < n; i++) expect(await again.get(`k${i}`)).toEqual(text(`v${i}`));
        for (let j = 0; j < 30; j++) expect((await again.read(`j${j}`)).length).toBe(10);
      });
    });

    it('rejects every call after close with StoreError closed', async () => {
      const place = await s.fresh();
      const store = await place.open();
      await store.close();
      expect(await code(store.get('a'))).toBe('closed');
      expect(await code(store.put('a', b()))).toBe('closed');
      expect(await code(store.append('j', [{ seq: 1, bytes: b() }]))).toBe('closed');
      await place.dispose?.();
    });

    it('behaves as a map of records and a map of journals under random operations (model-based)', async () => {
      type Op =
        | { t: 'put'; k: string; v: number[] }
        | { t: 'delete'; k: string }
        | { t: 'append'; j: string; n: number; size: number }
        | { t: 'trim'; j: string; back: number }
        | { t: 'reopen' };
      const key = fc.constantFrom('a', 'b', 'a/b', 'ü', 'x.y', 'x y');
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ t: fc.constant('put' as const), k: key, v: fc.array(fc.nat(255), { maxLength: 40 }) }),
        fc.record({ t: fc.constant('delete' as const), k: key }),
        fc.record({ t: fc.constant('append' as const), j: key, n: fc.integer({ min: 1, max: 4 }), size: fc.nat(300) }),
        fc.record({ t: fc.constant('trim' as const), j: key, back: fc.nat(3) }),
        fc.constant({ t: 'reopen' as const }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
          await withStore(s, async (first, reopen) => {
            let store = first;
            const records = new Map<string, Uint8Array>();
            const journals = new Map<string, { entries: JournalEntry[]; last: number }>();
            for (const o of ops) {
              if (o.t === 'put') {
                await store.put(o.k, b(...o.v));
                records.set(o.k, b(...o.v));
              } else if (o.t === 'delete') {
                await store.delete(o.k);
                records.delete(o.k);
              } else if (o.t === 'append') {
                const j = journals.get(o.j) ?? { entries: [], last: 0 };
                const add = Array.from({ length: o.n }, (_, i) => ({ seq: j.last + 1 + i * 2, bytes: new Uint8Array(o.size).fill(i) }));
                await store.append(o.j, add);
                j.entries.push(...add);
                j.last = add[add.length - 1]!.seq;
                journals.set(o.j, j);
              } else if (o.t === 'trim') {
                const j = journals.get(o.j);
                const upTo = j === undefined ? 0 : j.last - o.back;
                await store.trim(o.j, upTo);
                if (j !== undefined) j.entries = j.entries.filter((e) => e.seq > upTo);
              } else if (s.persistent) {
                store = await reopen();
              }
            }
            expect(await all(store.keys())).toEqual([...records.keys()].sort());
            for (const [k, v] of records) expect(await store.get(k)).toEqual(v);
            expect(await all(store.journals())).toEqual([...journals].filter(([, j]) => j.entries.length > 0).map(([n]) => n).sort());
            for (const [n, j] of journals) expect(await store.read(n)).toEqual(j.entries);
          });
        }),
        { numRuns: s.runs ?? 60 },
      );
    });
  });
}
