/**
 * FileStore: the Store contract, then what a directory of segment files adds:
 * reopening, torn tails, corruption, compaction (also stopped halfway as by
 * a crash), group commit, the lock, close, and the size of the index. The
 * crashes of a real process killed with SIGKILL are in file-crash.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { storeContract, b, text, all, code } from './contract.test-helper.js';
import { FileStore, type CompactionStep, type FileStoreOptions } from './file.js';
import { StoreError, type JournalEntry } from './store.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fileTs = fileURLToPath(new URL('./file.ts', import.meta.url));
const child = fileURLToPath(new URL('./file-child.test-helper.ts', import.meta.url));


const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhive-file-'));
  made.push(dir);
  return dir;
}



async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** What a store should hold. */
interface Model {
  records: Map<string, Uint8Array>;
  journals: Map<string, JournalEntry[]>;
}

function model(): Model {
  return { records: new Map(), journals: new Map() };
}

async function expectHolds(store: FileStore, m: Model): Promise<void> {
  expect(await all(store.keys())).toEqual([...m.records.keys()].sort());
  for (const [k, v] of m.records) {
    const got = await store.get(k);
    // (toEqual walks a typed array element by element: seconds for megabytes)
    if (v.length > 10_000) expect(got !== null && Buffer.from(v).equals(got), k).toBe(true);
    else expect(got, k).toEqual(v);
  }
  expect(await all(store.journals())).toEqual([...m.journals].filter(([, e]) => e.length > 0).map(([n]) => n).sort());
  for (const [n, e] of m.journals) expect(await store.read(n), n).toEqual(e);
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/**
 * Writes `rounds` rounds of overwrites, deletes, appends and trims over 40
 * keys and 5 journals (values of 50 to 250 bytes), into the store and the
 * model. Most of what it writes is dead by the end.
 */
async function churn(store: FileStore, m: Model, rounds: number, seed = 1): Promise<void> {
  const rnd = random(seed);
  const last = new Map<string, number>();
  for (const [n, e] of m.journals) last.set(n, e.length === 0 ? 0 : e[e.length - 1]!.seq);
  for (let r = 0; r < rounds; r++) {
    const calls: Promise<void>[] = [];
    for (let k = 0; k < 40; k++) {
      const key = `key/${k}`;
      if (rnd() < 0.1) {
        calls.push(store.delete(key));
        m.records.delete(key);
      } else {
        const v = new Uint8Array(50 + Math.floor(rnd() * 200)).fill((r * 40 + k) & 255);
        calls.push(store.put(key, v));
        m.records.set(key, v);
      }
    }
    for (let j = 0; j < 5; j++) {
      const name = `journal/${j}`;
      const seq = (last.get(name) ?? 0) + 1 + Math.floor(rnd() * 3);
      const bytes = new Uint8Array(20 + Math.floor(rnd() * 100)).fill(seq & 255);
      calls.push(store.append(name, [{ seq, bytes }]));
      last.set(name, seq);
      const entries = m.journals.get(name) ?? [];
      entries.push({ seq, bytes });
      if (rnd() < 0.2) {
        const upTo = seq - 1 - Math.floor(rnd() * 3);
        calls.push(store.trim(name, upTo));
        m.journals.set(name, entries.filter((e) => e.seq > upTo));
      } else {
        m.journals.set(name, entries);
      }
    }
    await Promise.all(calls);
  }
}

storeContract('FileStore', {
  persistent: true,
  fresh: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmhive-file-'));
    return { open: () => FileStore.open(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
  },
});

// Again with segments of 1 KiB and eager compaction, so that the random operations roll and compact all the time.
storeContract('FileStore with tiny segments', {
  persistent: true,
  fresh: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmhive-file-'));
    return {
      open: () => FileStore.open(dir, { durability: 'none', segmentBytes: 1024, compactRatio: 0.2 }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

describe('FileStore on disk', () => {
  it('keeps everything across close and reopen: records, deletes, journals, trims, a value larger than a segment', async () => {
    const dir = await tempDir();
    const options: FileStoreOptions = { segmentBytes: 64 * 1024, durability: 'none' };
    let store = await FileStore.open(dir, options);
    const m = model();
    await churn(store, m, 30);
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i * 7);
    await store.put('big', big);
    m.records.set('big', big);
    await store.put('ключ/😀', text('unicode'));
    m.records.set('ключ/😀', text('unicode'));
    await store.close();
    store = await FileStore.open(dir, options);
    await expectHolds(store, m);
    await churn(store, m, 5, 2);
    await store.close();
    store = await FileStore.open(dir, options);
    await expectHolds(store, m);
    await store.close();
  });

  it('shows a write to reads as soon as it is called, before it resolves', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    const put = store.put('k', b(1));
    const append = store.append('j', [{ seq: 1, bytes: b(2) }]);
    expect(await store.get('k')).toEqual(b(1));
    expect(await store.read('j')).toEqual([{ seq: 1, bytes: b(2) }]);
    await Promise.all([put, append]);
    const del = store.delete('k');
    expect(await store.get('k')).toBeNull();
    await del;
    await store.close();
  });

  it('writes the calls of one tick with one write and one fdatasync, and resolves them after it', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    await store.put('warm', b(0)); // starts the first segment
    const before = store.stats();
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => store.put(`k${i}`, new Uint8Array(1024).fill(i))),
      ...Array.from({ length: 10 }, (_, i) => store.append(`j${i}`, [{ seq: 1, bytes: b(i) }])),
    ]);
    const after = store.stats();
    expect(after.batches - before.batches).toBe(1);
    expect(after.syncs - before.syncs).toBe(1);
    for (let i = 0; i < 5; i++) await store.put('seq', b(i));
    expect(store.stats().batches - after.batches).toBe(5);
    expect(store.stats().syncs - after.syncs).toBe(5);
    await store.close();
  });

  it('with durability none, still writes before resolving, but never calls fdatasync for a write', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir, { durability: 'none' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k${i}`, b(i))));
    expect(store.stats()).toMatchObject({ batches: 1, syncs: 0 });
    expect((await stat(join(dir, '00000001.seg'))).size).toBe(store.stats().bytes);
    await store.close();
  });

  it('keeps the last of concurrent writes to one key, in call order', async () => {
    const dir = await tempDir();
    let store = await FileStore.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('k', b(i))));
    await Promise.all([store.put('d', b(1)), store.delete('d'), store.put('e', b(1)), store.delete('e'), store.put('e', b(2))]);
    await store.close();
    store = await FileStore.open(dir);
    expect(await store.get('k')).toEqual(b(19));
    expect(await store.get('d')).toBeNull();
    expect(await store.get('e')).toEqual(b(2));
    await store.close();
  });
});

describe('FileStore after a crash', () => {
  it('reopens a segment cut at any byte of its last record to the record before, and writes on after it', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    await store.put('a', text('first'));
    await store.append('j', [{ seq: 1, bytes: text('one') }]);
    const before = store.stats().bytes;
    await store.put('b', text('the last record, to be torn'));
    const after = store.stats().bytes;
    await store.close();
    const whole = await readFile(join(dir, '00000001.seg'));
    expect(whole.length).toBe(after);
    for (let cut = before; cut < after; cut++) {
      const copy = await tempDir();
      await writeFile(join(copy, '00000001.seg'), whole.subarray(0, cut));
      let r = await FileStore.open(copy);
      expect(r.stats().truncatedBytes, `cut at ${cut}`).toBe(cut - before);
      expect(await r.get('a')).toEqual(text('first'));
      expect(await r.read('j')).toEqual([{ seq: 1, bytes: text('one') }]);
      expect(await r.get('b')).toBeNull();
      await r.put('c', text('after'));
      await r.close();
      r = await FileStore.open(copy);
      expect(r.stats().truncatedBytes).toBe(0);
      expect(await all(r.keys())).toEqual(['a', 'c']);
      expect(await r.get('c')).toEqual(text('after'));
      await r.close();
    }
  });

  it('cuts garbage after the last whole record (random bytes, zeros, half a frame)', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    await store.put('a', text('kept'));
    await store.put('b', text('kept too'));
    await store.close();
    const whole = await readFile(join(dir, '00000001.seg'));
    const rnd = random(9);
    const garbage = [
      Uint8Array.from({ length: 3000 }, () => Math.floor(rnd() * 256)),
      new Uint8Array(4096),
      whole.subarray(16, 16 + 20), // the start of a frame header
      whole.subarray(16 + 28 + 1 + 4, whole.length - 1), // a copy of the last frame, short of its last byte
    ];
    for (const g of garbage) {
      const copy = await tempDir();
      await writeFile(join(copy, '00000001.seg'), Buffer.concat([whole, g]));
      const r = await FileStore.open(copy);
      expect(await r.get('a')).toEqual(text('kept'));
      expect(await r.get('b')).toEqual(text('kept too'));
      await r.close();
      expect((await stat(join(copy, '00000001.seg'))).size).toBe(whole.length);
    }
  });

  it('starts a new segment over one whose header a crash cut short', async () => {
    const dir = await tempDir();
    let store = await FileStore.open(dir);
    await store.put('a', b(1));
    await store.close();
    await writeFile(join(dir, '00000002.seg'), b(0x57, 0x48, 0x53)); // the crash came while the next segment was started
    store = await FileStore.open(dir);
    expect(await store.get('a')).toEqual(b(1));
    await store.put('b', b(2));
    await store.close();
    store = await FileStore.open(dir);
    expect(await all(store.keys())).toEqual(['a', 'b']);
    await store.close();
  });

  it("refuses to open over a bit flipped in the middle of a segment: StoreError 'corrupt'", async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir, { segmentBytes: 1024 });
    for (let i = 0; i < 30; i++) await store.put(`k${i}`, new Uint8Array(100).fill(i));
    await store.close();
    const names = await segments(dir);
    expect(names.length).toBeGreaterThan(2);
    // In the newest segment, a value byte of its first record, a length in the header of its first record;
    // in an older segment, its last byte (that is no torn tail: a later segment was started after it).
    const cases: Array<[string, (bytes: Buffer) => void]> = [
      [names[names.length - 1]!, (x) => (x[16 + 28 + 3 + 10]! ^= 0x10)],
      [names[names.length - 1]!, (x) => (x[16 + 9]! ^= 0x01)],
      [names[0]!, (x) => (x[x.length - 1]! ^= 0x80)],
    ];
    for (const [name, flip] of cases) {
      const copy = await tempDir();
      for (const n of names) {
        const bytes = await readFile(join(dir, n));
        if (n === name) flip(bytes);
        await writeFile(join(copy, n), bytes);
      }
      const err = await FileStore.open(copy).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'corrupt', message: expect.stringContaining(name) });
      // ... and leaves the directory as it was, unlocked
      expect((await readdir(copy)).sort()).toEqual(names);
    }
  });

  it("answers a get whose bytes changed on disk since the open with StoreError 'corrupt', never with them", async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    await store.put('a', text('hello'));
    await store.put('b', text('world'));
    const path = join(dir, '00000001.seg');
    const bytes = await readFile(path);
    bytes[16 + 28 + 1 + 2]! ^= 0x01; // 'l' of hello
    await writeFile(path, bytes);
    expect(await code(store.get('a'))).toBe('corrupt');
    expect(await store.get('b')).toEqual(text('world'));
    await store.close();
  });
});

describe('FileStore compaction', () => {
  it('keeps every record and journal entry, drops the dead ones, and shrinks the files', async () => {
    const dir = await tempDir();
    const options: FileStoreOptions = { segmentBytes: 8 * 1024, autoCompact: false, durability: 'none' };
    let store = await FileStore.open(dir, options);
    const m = model();
    await churn(store, m, 60);
    const before = store.stats();
    expect(before.segments).toBeGreaterThan(20);
    await store.compact();
    const after = store.stats();
    expect(after.compactions).toBeGreaterThan(0);
    expect(after.bytes).toBeLessThan(before.bytes / 5);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.bytes - after.liveBytes).toBe(16 * after.segments); // nothing dead but the headers
    expect(after.segments).toBeLessThanOrEqual(Math.ceil(after.bytes / (8 * 1024)) + 1);
    await expectHolds(store, m);
    await store.close();
    expect((await readdir(dir)).filter((n) => !n.endsWith('.seg'))).toEqual([]);
    let onDisk = 0;
    for (const n of await segments(dir)) onDisk += (await stat(join(dir, n))).size;
    expect(onDisk).toBe(after.bytes);
    store = await FileStore.open(dir, options);
    await expectHolds(store, m);
    await churn(store, m, 5, 3);
    await store.close();
    store = await FileStore.open(dir, options);
    await expectHolds(store, m);
    await store.close();
  });

  it('runs by itself once segments are dead enough, and keeps the number of files small', async () => {
    const dir = await tempDir();
    const options: FileStoreOptions = { segmentBytes: 256 * 1024, durability: 'none' };
    let store = await FileStore.open(dir, options);
    const value = (round: number, k: number): Uint8Array => new Uint8Array(200).fill((round + k) & 255);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20_000; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, k) => store.put(`actor/${i + k}`, value(round, i + k))));
    }
    await store.close(); // waits for a compaction in progress
    expect(store.stats().compactions).toBeGreaterThan(0);
    const live = store.stats().liveBytes;
    const files = await segments(dir);
    // 20,000 keys of 200 bytes are about 5 MiB: about 20 segments of 256 KiB, not 20,000 files.
    expect(files.length).toBeLessThanOrEqual(Math.ceil(live / (256 * 1024)) * 2 + 4);
    expect((await readdir(dir)).length).toBe(files.length);
    store = await FileStore.open(dir, options);
    expect(store.stats().records).toBe(20_000);
    for (const i of [0, 1, 9_999, 19_999]) expect(await store.get(`actor/${i}`)).toEqual(value(3, i));
    await store.close();
  });

  it('keeps a delete when its segment is compacted while the put it hides is in an older segment', async () => {
    const dir = await tempDir();
    const options: FileStoreOptions = { segmentBytes: 4096, compactRatio: 0.5, durability: 'none' };
    let store = await FileStore.open(dir, options);
    await store.put('hidden', new Uint8Array(100).fill(1));
    for (let i = 0; i < 36; i++) await store.put(`live/${i}`, new Uint8Array(80).fill(i)); // fills the first segment, all live
    await store.delete('hidden');
    for (let i = 0; i < 200; i++) await store.put('churn', new Uint8Array(100).fill(i)); // later segments, nearly all dead
    await store.close();
    expect(store.stats().compactions).toBeGreaterThan(0);
    expect(await segments(dir)).toContain('00000001.seg'); // the put is still on disk ...
    store = await FileStore.open(dir, options);
    expect(await store.get('hidden')).toBeNull(); // ... and stays hidden
    expect(await store.get('churn')).toEqual(new Uint8Array(100).fill(199));
    await store.compact(); // now with the first segment: the put and the delete both go
    expect(await store.get('hidden')).toBeNull();
    await store.close();
    store = await FileStore.open(dir, options);
    expect(await store.get('hidden')).toBeNull();
    expect((await all(store.keys())).length).toBe(37);
    await store.close();
  });

  it('deletes segments that hold nothing live, leaving no file for an empty store', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir, { segmentBytes: 1024, autoCompact: false });
    for (let i = 0; i < 40; i++) await store.put(`k${i}`, new Uint8Array(100));
    for (let i = 0; i < 40; i++) await store.delete(`k${i}`);
    await store.append('j', [{ seq: 1, bytes: b(1) }, { seq: 2, bytes: b(2) }]);
    await store.trim('j', 2);
    await store.compact();
    // What is left is the trim, which remembers the journal's last seq.
    expect(store.stats().records).toBe(0);
    expect(store.stats().liveBytes).toBeLessThan(100);
    expect((await segments(dir)).length).toBe(1);
    await store.close();
    const again = await FileStore.open(dir);
    expect(await all(again.keys())).toEqual([]);
    expect(await code(again.append('j', [{ seq: 2, bytes: b() }]))).toBe('bad-seq');
    await again.close();
  });

  it('serves callers while it runs, in pieces', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir, { segmentBytes: 1024 * 1024, autoCompact: false, durability: 'none' });
    const value = new Uint8Array(1000).fill(3);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 30_000; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, k) => store.put(`k${i + k}`, value)));
    }
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    let compacted = false;
    const compaction = store.compact().then(() => (compacted = true));
    let servedDuring = 0;
    for (let i = 0; i < 20 && !compacted; i++) {
      await store.put(`during${i}`, b(i));
      expect(await store.get('k123')).toEqual(value);
      if (!compacted) servedDuring++;
    }
    await compaction;
    clearInterval(timer);
    expect(store.stats().compactions).toBeGreaterThan(0);
    expect(servedDuring).toBeGreaterThan(0);
    expect(worst).toBeLessThan(250); // no long stall of the event loop (generous for a loaded machine)
    await store.close();
  });

  it('lets the writes made while it copies win over the copies, and has them on disk before an old segment goes', async () => {
    const dir = await tempDir();
    const m = model();
    let during: Promise<void> | null = null;
    let settled = false;
    const options: FileStoreOptions = { segmentBytes: 4096, autoCompact: false, durability: 'fsync' };
    const store: FileStore = await FileStore.open(dir, {
      ...options,
      compactionStep: async (step) => {
        if (step === 'synced' && during === null) {
          // Overwrites, deletes, appends and trims of what was copied, not awaited here.
          const rnd = random(77);
          const calls: Promise<void>[] = [];
          for (let k = 0; k < 40; k++) {
            const key = `key/${k}`;
            if (k % 7 === 0) {
              calls.push(store.delete(key));
              m.records.delete(key);
            } else {
              const v = new Uint8Array(10 + Math.floor(rnd() * 50)).fill(200 + (k % 50));
              calls.push(store.put(key, v));
              m.records.set(key, v);
            }
          }
          for (const [name, entries] of m.journals) {
            const seq = (entries[entries.length - 1]?.seq ?? 1000) + 1;
            calls.push(store.append(name, [{ seq, bytes: b(seq & 255) }]));
            calls.push(store.trim(name, seq - 2));
            m.journals.set(name, [...entries, { seq, bytes: b(seq & 255) }].filter((e) => e.seq > seq - 2));
          }
          during = Promise.all(calls).then(() => {
            settled = true;
          });
        }
        if (step === 'unlinked') expect(settled).toBe(true);
      },
    });
    await churn(store, m, 30);
    await store.compact();
    await during;
    await expectHolds(store, m);
    await store.close();
    const again = await FileStore.open(dir, options);
    await expectHolds(again, m);
    await again.close();
  });

  for (const step of ['chunk', 'synced', 'renamed', 'repointed', 'unlinked'] as const satisfies readonly CompactionStep[]) {
    it(`loses nothing when stopped after its step "${step}" as by a crash, and finishes on the next open`, async () => {
      const dir = await tempDir();
      let crash = false;
      const options: FileStoreOptions = { segmentBytes: 4096, autoCompact: false, durability: 'none' };
      const store = await FileStore.open(dir, {
        ...options,
        compactionStep: (s) => {
          if (crash && s === step) throw new Error(`crash after ${s}`);
        },
      });
      const m = model();
      await churn(store, m, 30);
      const segmentsBefore = await segments(dir);
      crash = true;
      const err = await store.compact().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'io', message: expect.stringContaining(`crash after ${step}`) });
      expect(await code(store.put('x', b()))).toBe('io'); // the store stopped
      await store.close();
      const left = await readdir(dir);
      if (step === 'chunk' || step === 'synced') expect(left.some((n) => n.endsWith('.seg.tmp'))).toBe(true);
      if (step === 'unlinked') expect((await segments(dir)).length).toBeLessThan(segmentsBefore.length + 1);
      let again = await FileStore.open(dir, options);
      expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
      await expectHolds(again, m);
      await again.compact();
      await expectHolds(again, m);
      await churn(again, m, 3, 5);
      await again.close();
      again = await FileStore.open(dir, options);
      await expectHolds(again, m);
      await again.close();
    });
  }
});

describe('FileStore lock and lifetime', () => {
  it("refuses a second open of the directory, from this process or another, with StoreError 'io'", async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    await store.put('a', b(1));
    const second = await FileStore.open(dir).catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'io', message: expect.stringContaining('in use by this process') });
    const script = `const { FileStore } = await import(${JSON.stringify(fileTs)});
      try { await FileStore.open(${JSON.stringify(dir)}); console.log('opened'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    expect(stdout).toContain(`io: file store ${dir} is in use by process ${process.pid}`);
    expect(await store.get('a')).toEqual(b(1));
    await store.close();
    const reopened = await FileStore.open(dir);
    expect(await reopened.get('a')).toEqual(b(1));
    await reopened.close();
  });

  it('takes over the lock of a process that is gone, or of a pid now used by another process', async () => {
    const dir = await tempDir();
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.pid)']);
    const gone = Number(stdout.trim());
    await writeFile(join(dir, 'LOCK'), `${gone} 12345\n`);
    await writeFile(join(dir, `LOCK.${gone}.0123456789ab`), `${gone} 12345\n`); // it died making one
    let store = await FileStore.open(dir);
    expect((await readdir(dir)).filter((n) => n.startsWith('LOCK'))).toEqual(['LOCK']);
    await store.close();
    await writeFile(join(dir, 'LOCK'), `${process.pid} 1\n`); // our pid, but a process that started at another time
    store = await FileStore.open(dir);
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    await store.close();
    expect((await readdir(dir)).includes('LOCK')).toBe(false);
    await writeFile(join(dir, 'LOCK'), ''); // not ours, and fresh: someone is taking it
    expect(await code(FileStore.open(dir))).toBe('io');
  });

  it('finishes the writes in flight on close, then rejects every call with closed', async () => {
    const dir = await tempDir();
    const store = await FileStore.open(dir);
    const put = store.put('k', b(1));
    const append = store.append('j', [{ seq: 1, bytes: b(2) }]);
    const closing = store.close();
    expect(await code(store.put('late', b()))).toBe('closed');
    await Promise.all([put, append, closing]);
    await store.close();
    expect(await code(store.get('k'))).toBe('closed');
    expect(await code(store.read('j'))).toBe('closed');
    expect(await code(store.trim('j', 1))).toBe('closed');
    expect(await code(store.delete('k'))).toBe('closed');
    expect(await code(all(store.keys()))).toBe('closed');
    expect(await code(all(store.journals()))).toBe('closed');
    expect(await code(store.compact())).toBe('closed');
    const again = await FileStore.open(dir);
    expect(await again.get('k')).toEqual(b(1));
    expect(await again.read('j')).toEqual([{ seq: 1, bytes: b(2) }]);
    await again.close();
  });

  it('checks its options', async () => {
    const dir = await tempDir();
    await expect(FileStore.open(dir, { segmentBytes: 10 })).rejects.toThrow(RangeError);
    await expect(FileStore.open(dir, { compactRatio: 0 })).rejects.toThrow(RangeError);
    await expect(FileStore.open(dir, { durability: 'always' as 'fsync' })).rejects.toThrow(TypeError);
  });
});

describe('FileStore index', () => {
  it('takes under 200 bytes of memory per key of 30 bytes, values left on disk (100,000 keys, measured in a child process)', async () => {
    const dir = await tempDir();
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, 'index', dir, '100000', '100'], { cwd: root });
    const got = JSON.parse(stdout.trim()) as { keys: number; bytesPerKey: number; segments: number };
    expect(got.keys).toBe(100_000);
    expect(got.segments).toBe(1); // 100,000 keys of 100 bytes: one file
    expect(got.bytesPerKey).toBeGreaterThan(20); // (it measured something)
    expect(got.bytesPerKey).toBeLessThan(200);
  });
});
