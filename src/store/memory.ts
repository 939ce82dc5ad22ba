/**
 * A store in this process's memory, for tests and for hives that want
 * passivation without persistence: it keeps the contract except that
 * nothing survives the process.
 */
import { checkEntries, checkKey, checkValue, StoreError, type JournalEntry, type Store } from './store.js';

interface Journal {
  entries: JournalEntry[];
  last: number;
}

/** A Store in memory (copies in and out, so callers cannot change what it holds). */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #records = new Map<string, Uint8Array>();
  readonly #journals = new Map<string, Journal>();
  #closed = false;

  #open(): void {
    if (this.#closed) throw new StoreError('closed', 'the memory store is closed');
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.#open();
    checkKey(key);
    const v = this.#records.get(key);
    return v === undefined ? null : v.slice();
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#open();
    checkKey(key);
    checkValue(value);
    this.#records.set(key, value.slice());
  }

  async delete(key: string): Promise<void> {
    this.#open();
    checkKey(key);
    this.#records.delete(key);
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    this.#open();
    const out = [...this.#records.keys()].filter((k) => k.startsWith(prefix)).sort();
    yield* out;
  }

  async append(journal: string, entries: readonly JournalEntry[]): Promise<void> {
    this.#open();
    checkKey(journal, 'journal');
    const j = this.#journals.get(journal) ?? { entries: [], last: 0 };
    checkEntries(journal, entries, j.last);
    if (entries.length === 0) return;
    for (const e of entries) j.entries.push({ seq: e.seq, bytes: e.bytes.slice() });
    j.last = entries[entries.length - 1]!.seq;
    this.#journals.set(journal, j);
  }

  async read(journal: string, after = 0): Promise<JournalEntry[]> {
    this.#open();
    checkKey(journal, 'journal');
    const j = this.#journals.get(journal);
    if (j === undefined) return [];
    return j.entries.filter((e) => e.seq > after).map((e) => ({ seq: e.seq, bytes: e.bytes.slice() }));
  }

  async trim(journal: string, upTo: number): Promise<void> {
    this.#open();
    checkKey(journal, 'journal');
    const j = this.#journals.get(journal);
    if (j === undefined) return;
    j.entries = j.entries.filter((e) => e.seq > upTo);
  }

  async *journals(prefix = ''): AsyncIterable<string> {
    this.#open();
    const out = [...this.#journals].filter(([name, j]) => j.entries.length > 0 && name.startsWith(prefix)).map(([name]) => name).sort();
    yield* out;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
