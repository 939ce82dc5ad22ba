/**
 * The contract every store keeps (memory, filesystem, NATS JetStream):
 * records under string keys, and journals of numbered entries. The durable
 * actors of src/actors keep an actor's last checkpoint as a record and the
 * messages accepted since as its journal; this folder knows nothing of
 * actors.
 */

/** One entry of a journal: its number (chosen by the writer, strictly increasing in one journal) and its bytes. */
export interface JournalEntry {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

/**
 * Where durable state lives. Every method resolves once what it did is
 * durable as far as the store promises (`durability`), and a crash at any
 * point leaves each record either as it was or as last written, never torn,
 * and each journal a prefix of what was appended to it (an append that did
 * not resolve may be missing, whole entries only).
 *
 * Keys and journal names are strings of 1 to `MAX_KEY_LENGTH` UTF-8 bytes
 * of any characters (a store encodes them as it needs); a bad one is a
 * `StoreError` with code 'bad-key'. Values up to `MAX_VALUE_BYTES`.
 */
export interface Store {
  /** What kind of store ('memory', 'file', 'nats'), for logs and errors. */
  readonly kind: string;
  /** The record under `key`, or null. */
  get(key: string): Promise<Uint8Array | null>;
  /** Writes the record under `key`, replacing any: atomically, a crash leaves the old one or the new one. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Removes the record under `key` (nothing if there is none). */
  delete(key: string): Promise<void>;
  /** The keys of the records that start with `prefix` (default: all), in ascending order of their UTF-16 code units. */
  keys(prefix?: string): AsyncIterable<string>;
  /**
   * Appends entries to a journal, in order. Their `seq` must be positive
   * safe integers, strictly increasing, and above every entry the journal
   * holds or held before a trim (else StoreError 'bad-seq', and nothing of
   * the call is appended).
   */
  append(journal: string, entries: readonly JournalEntry[]): Promise<void>;
  /** The entries of a journal with `seq > after`, in order ([] for a journal that does not exist). */
  read(journal: string, after?: number): Promise<JournalEntry[]>;
  /** Drops the entries with `seq <= upTo` (the journal remembers its last seq for `append`'s check). */
  trim(journal: string, upTo: number): Promise<void>;
  /** The names of the journals that hold at least one entry and start with `prefix` (default: all), in ascending order. */
  journals(prefix?: string): AsyncIterable<string>;
  /** Finishes what is in progress, then releases files, connections and timers; later calls reject with StoreError 'closed'. */
  close(): Promise<void>;
}

/** Longest key or journal name, in UTF-8 bytes. */
export const MAX_KEY_LENGTH = 1024;
/** Largest record value or journal entry, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;

/** What went wrong in a store. */
export type StoreErrorCode = 'bad-key' | 'bad-seq' | 'too-large' | 'closed' | 'corrupt' | 'io';

/** A store's typed failure: `code` says which. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(readonly code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const encoder = new TextEncoder();

/** Throws StoreError 'bad-key' unless `key` is a usable key or journal name. */
export function checkKey(key: string, what = 'key'): void {
  if (typeof key !== 'string' || key.length === 0) throw new StoreError('bad-key', `${what}: expected a non-empty string`);
  if (key.length > MAX_KEY_LENGTH || encoder.encode(key).length > MAX_KEY_LENGTH) throw new StoreError('bad-key', `${what}: longer than ${MAX_KEY_LENGTH} UTF-8 bytes`);
  if ((key as { isWellFormed?(): boolean }).isWellFormed?.() === false) throw new StoreError('bad-key', `${what}: not well-formed UTF-16 (a lone surrogate)`);
}

/** Throws StoreError 'too-large' for a value over MAX_VALUE_BYTES, TypeError for anything but bytes. */
export function checkValue(value: Uint8Array, what = 'value'): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (value.length > MAX_VALUE_BYTES) throw new StoreError('too-large', `${what}: ${value.length} bytes, more than ${MAX_VALUE_BYTES}`);
}

/**
 * Throws StoreError 'bad-seq' unless `entries` are numbered strictly
 * increasing from above `last` (the journal's last seq, 0 for none).
 */
export function checkEntries(journal: string, entries: readonly JournalEntry[], last: number): void {
  let prev = last;
  for (const e of entries) {
    if (!Number.isSafeInteger(e.seq) || e.seq <= prev) throw new StoreError('bad-seq', `journal ${JSON.stringify(journal)}: entry seq ${e.seq} after ${prev} (expected a safe integer above it)`);
    checkValue(e.bytes, `journal ${JSON.stringify(journal)} entry ${e.seq}`);
    prev = e.seq;
  }
}
