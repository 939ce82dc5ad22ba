/**
 * A Store on NATS JetStream (server 2.9 or later), for hives whose actors
 * must outlive the machine they ran on: records in a JetStream Key-Value
 * bucket, journals in a stream. The NATS client packages are loaded by
 * `NatsStore.connect` only, so a hive that never uses NATS never loads them.
 *
 * Mapping, for a bucket prefix P (option `bucket`, default 'wasmhive'):
 * - Names. A key or journal name becomes the base64url (no padding) of its
 *   UTF-8 bytes, one subject token: reversible, and valid in a KV key and a
 *   subject whatever the name holds ('.', '*', '>', spaces, '/'). Tokens do
 *   not keep prefixes, so `keys(prefix)` and `journals(prefix)` list the
 *   subjects, decode, filter and sort here.
 * - Records: the KV bucket P (stream KV_P, history 1), KV key = encoded key.
 *   The value is one tag byte then either the bytes (tag 0) or, for a value
 *   too large for one message, a small JSON head (tag 1) naming the stream
 *   sequences of its chunks, kept on subject P.c.r.<key> of the journal
 *   stream. `delete` purges the KV subject (no tombstone is left behind).
 * - Journals: the stream P_journals. Each `append` call is one message on
 *   P.j.<journal> holding all its entries (headers Wasmhive-First/-Last/
 *   -Count: the first and last entry seq, their number), published with
 *   Nats-Expected-Last-Subject-Sequence so that a second writer, or a stale
 *   view of the journal, is refused by the server rather than interleaved.
 *   An append too large for one message goes to chunks on P.c.j.<journal>
 *   first, then the message holds a head naming them.
 *   `trim` purges the messages whose entries are all at or below `upTo`
 *   (a subject-filtered purge bounded by stream sequence). What the journal
 *   must still remember goes in a marker on P.t.<journal>, one message kept
 *   by a rollup: its last seq (for append's check once every entry is
 *   gone) and the trim point (for a message that holds entries on both
 *   sides of it; those below are dropped when read).
 *   `read` fetches a journal's first messages by direct get, the rest (a
 *   long journal) through an ephemeral consumer it deletes after.
 * - Listing: `keys` and `journals` ask the server for the subjects of the
 *   stream (one request, paged by the client for very many): a cost in the
 *   number of keys or journals of the bucket, whatever the prefix.
 *
 * What a crash (of this process, or of the connection) leaves:
 * - a record as it was or as last written: the KV message is the switch;
 *   chunks of a value not yet pointed at are garbage, never visible (and
 *   purged by the next write of that key from a store that knows of them);
 * - each journal a prefix of what was appended, whole calls only: an
 *   append is one message (its chunks, if any, are only reachable through
 *   it); a trim writes its marker before purging, so a crash in between
 *   leaves entries that reads drop anyway.
 * Durability is the server's: an acknowledged write is in the stream's
 * store (file storage, `replicas` copies); with one replica a machine crash
 * can lose what the server had not yet synced (JetStream syncs file blocks
 * periodically: see the server's sync_interval).
 *
 * Concurrency: one writer per key and per journal is the runtime's usage.
 * One NatsStore runs the calls on a key, or on a journal, one after another
 * in call order. Between stores the expected-last-sequence headers keep
 * journals whole (a call that meets another writer's append re-reads the
 * journal and checks its seqs again). Two stores writing the same key at
 * once race as last-writer-wins for values of one message; for larger ones
 * that is not supported (one may purge the chunks the other's head is
 * about to name: the record then reads as 'corrupt' until written again),
 * and chunks may be left over.
 *
 * Every call that reaches the server is bounded by `timeout` per request
 * (connection refused, server gone, no JetStream): it fails with
 * StoreError 'io' and the client's error as cause.
 */
import type { MsgHdrs, NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { ConsumerConfig, JetStreamClient, JetStreamManager, StoredMsg, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { checkEntries, checkKey, checkValue, StoreError, type JournalEntry, type Store } from './store.js';

/** How to reach the server, and where in it the store lives. */
export interface NatsStoreOptions {
  /** Server URL(s), e.g. 'nats://127.0.0.1:4222' (unless `connection` is given). */
  servers?: string | string[];
  /** An open connection to use instead; the store then leaves it open on `close`. */
  connection?: NatsConnection;
  /** Further options for the connection the store opens (credentials, TLS, name...). */
  connectOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** The KV bucket's name, and the prefix of the journal stream's name and subjects ([A-Za-z0-9_-]). Default 'wasmhive'. */
  bucket?: string;
  /** Copies the server keeps of the bucket and the stream when it creates them (1 to 5; default 1). */
  replicas?: number;
  /** Milliseconds each request to the server may take before the call fails with StoreError 'io' (default 5000). */
  timeout?: number;
  /**
   * Largest message the store writes, in bytes (default: the server's
   * max_payload less 4 KiB for headers); larger values and appends are
   * written in chunks of this size. For tests, mostly.
   */
  maxMessageBytes?: number;
}

const DEFAULT_BUCKET = 'wasmhive';
const DEFAULT_TIMEOUT = 5_000;
/** Room left in a message for the headers that go with the payload. */
const HEADER_ROOM = 4096;
/** Requests in flight at once when writing or reading chunks, or checking journals. */
const WINDOW = 8;
/** Messages of a journal read by direct gets before a scan switches to a consumer. */
const WALK_BY_GETS = 16;
/** How many journals' last seqs one store remembers (the rest are read again when needed). */
const JOURNAL_CACHE = 4096;
/** JetStream's error code for a failed Nats-Expected-Last-Subject-Sequence check. */
const WRONG_LAST_SEQUENCE = 10071;
/** JetStream's error code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

const H_FIRST = 'Wasmhive-First';
const H_LAST = 'Wasmhive-Last';
const H_COUNT = 'Wasmhive-Count';
const H_CHUNKED = 'Wasmhive-Chunked';
const H_CHUNK = 'Wasmhive-Chunk';
const H_TRIMMED = 'Wasmhive-Trimmed';

const TAG_INLINE = 0;
const TAG_CHUNKED = 1;

/** A message of the journal stream, as read by a get or through a consumer. */
interface Msg {
  seq: number;
  subject: string;
  data: Uint8Array;
  header?: MsgHdrs | undefined;
}

/** Where the chunks of a large value are: their stream sequences, in order, each `chunk` bytes but the last. */
interface ChunkHead {
  size: number;
  chunk: number;
  seqs: number[];
}

/** What one store knows of a journal between calls. */
interface JournalState {
  /** Stream sequence of the journal's last message (0: no message), for the expected-last-subject-sequence check. */
  subjSeq: number;
  /** Last entry seq in the messages (0: none). */
  jLast: number;
  /** The trim marker, if any. */
  marker: { seq: number; last: number; trimmed: number } | null;
}

type HeadersFn = () => MsgHdrs;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The subject token of a key or journal name. */
function encodeName(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** The name of a subject token, or null for one this store did not write. */
function decodeName(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  let name: string;
  try {
    name = utf8.decode(Buffer.from(token, 'base64url'));
  } catch {
    return null;
  }
  return encodeName(name) === token ? name : null;
}

/** All entries of one append, as one payload: count (u32), then per entry seq (f64), length (u32), bytes. */
function encodeEntries(entries: readonly JournalEntry[]): Uint8Array {
  let size = 4;
  for (const e of entries) size += 12 + e.bytes.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, entries.length);
  let at = 4;
  for (const e of entries) {
    view.setFloat64(at, e.seq);
    view.setUint32(at + 8, e.bytes.length);
    out.set(e.bytes, at + 12);
    at += 12 + e.bytes.length;
  }
  return out;
}

function decodeEntries(bytes: Uint8Array, where: string): JournalEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (): StoreError => new StoreError('corrupt', `${where}: malformed entries`);
  if (bytes.length < 4) throw bad();
  const count = view.getUint32(0);
  const out: JournalEntry[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 12 > bytes.length) throw bad();
    const seq = view.getFloat64(at);
    const length = view.getUint32(at + 8);
    if (!Number.isSafeInteger(seq) || at + 12 + length > bytes.length) throw bad();
    // A plain Uint8Array of its own (the message data may be a Buffer over a larger one).
    out.push({ seq, bytes: new Uint8Array(bytes.subarray(at + 12, at + 12 + length)) });
    at += 12 + length;
  }
  if (at !== bytes.length) throw bad();
  return out;
}

function encodeHead(head: ChunkHead): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(head));
}

function decodeHead(bytes: Uint8Array, where: string): ChunkHead {
  let head: unknown;
  try {
    head = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new StoreError('corrupt', `${where}: malformed chunk head`, { cause: e });
  }
  const h = head as Partial<ChunkHead> | null;
  if (
    h === null ||
    typeof h !== 'object' ||
    !Number.isSafeInteger(h.size) ||
    !Number.isSafeInteger(h.chunk) ||
    !(h.chunk! > 0) ||
    !Array.isArray(h.seqs) ||
    h.seqs.length !== Math.ceil(h.size! / h.chunk!) ||
    !h.seqs.every((s) => Number.isSafeInteger(s) && s > 0)
  ) {
    throw new StoreError('corrupt', `${where}: malformed chunk head`);
  }
  return h as ChunkHead;
}

/** A numeric header this store wrote. */
function headerNumber(m: Msg, name: string, where: string): number {
  const text = m.header?.get(name) ?? '';
  const v = text === '' ? NaN : Number(text);
  if (!Number.isSafeInteger(v)) throw new StoreError('corrupt', `${where}: message ${m.seq} lacks a valid ${name} header`);
  return v;
}

function isWrongLastSequence(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === WRONG_LAST_SEQUENCE;
}

function isStreamNotFound(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === STREAM_NOT_FOUND || (e as { name?: unknown } | null)?.name === 'StreamNotFoundError';
}

function asStoreError(what: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new StoreError('io', `NATS store: ${what}: ${message}`, { cause: e });
}

/** Runs `f` over `items` with at most `limit` at once, in order of start; rejects with the first failure (after the rest settle). */
async function eachLimited<T>(items: readonly T[], limit: number, f: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        await f(items[i]!, i);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { e: unknown }).e;
}

/** The internals `connect` hands to the constructor. */
interface Parts {
  nc: NatsConnection;
  owned: boolean;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  headers: HeadersFn;
  prefix: string;
  stream: string;
  direct: boolean;
  maxMessage: number;
  timeout: number;
  chunkedKeys: Set<string>;
}

/** A Store on NATS JetStream: see the header of this file for the mapping and what a crash leaves. */
export class NatsStore implements Store {
  readonly kind = 'nats';
  readonly #nc: NatsConnection;
  readonly #owned: boolean;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #kv: KV;
  readonly #headers: HeadersFn;
  readonly #prefix: string;
  readonly #stream: string;
  readonly #kvStream: string;
  /** Whether reads may use direct gets (one replica: they are then as fresh as the leader's). */
  readonly #direct: boolean;
  readonly #maxMessage: number;
  readonly #timeout: number;
  /** Encoded keys that may have chunks on P.c.r.<key> (seeded from the stream at connect). */
  readonly #chunkedKeys: Set<string>;
  /** Per key and per journal, the tail of the calls queued on it. */
  readonly #lanes = new Map<string, Promise<void>>();
  /** Per journal (insertion order = least recently used first), what this store knows of it. */
  readonly #journalStates = new Map<string, JournalState>();
  readonly #inflight = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;

  private constructor(p: Parts) {
    this.#nc = p.nc;
    this.#owned = p.owned;
    this.#js = p.js;
    this.#jsm = p.jsm;
    this.#kv = p.kv;
    this.#headers = p.headers;
    this.#prefix = p.prefix;
    this.#stream = p.stream;
    this.#kvStream = `KV_${p.prefix}`;
    this.#direct = p.direct;
    this.#maxMessage = p.maxMessage;
    this.#timeout = p.timeout;
    this.#chunkedKeys = p.chunkedKeys;
  }

  /**
   * Connects (or uses `options.connection`), creates the KV bucket and the
   * journal stream if they do not exist, and resolves to the store.
   * Failures to reach the server are StoreError 'io'.
   */
  static async connect(options: NatsStoreOptions): Promise<NatsStore> {
    const prefix = options.bucket ?? DEFAULT_BUCKET;
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(prefix)) throw new TypeError(`NatsStore: bucket must be 1 to 128 of [A-Za-z0-9_-], got ${JSON.stringify(prefix)}`);
    const replicas = options.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new TypeError(`NatsStore: replicas must be an integer from 1 to 5, got ${replicas}`);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    if (!(timeout > 0 && Number.isFinite(timeout))) throw new TypeError(`NatsStore: timeout must be a positive number of milliseconds, got ${timeout}`);
    if (options.connection === undefined && (options.servers === undefined || options.servers.length === 0)) throw new TypeError('NatsStore: give servers or connection');
    // (At least 1 KiB: the head of a MAX_VALUE_BYTES value then still fits in one message. The upper bound is the server's.)
    const asked = options.maxMessageBytes;
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1024)) throw new TypeError(`NatsStore: maxMessageBytes must be an integer of at least 1024, got ${asked}`);

    let transport: typeof import('@nats-io/transport-node');
    let jetstreamModule: typeof import('@nats-io/jetstream');
    let kvModule: typeof import('@nats-io/kv');
    try {
      [transport, jetstreamModule, kvModule] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('@nats-io/kv')]);
    } catch (e) {
      throw new StoreError('io', 'NatsStore needs the packages @nats-io/transport-node, @nats-io/jetstream and @nats-io/kv', { cause: e });
    }

    let nc: NatsConnection;
    const owned = options.connection === undefined;
    if (options.connection !== undefined) {
      nc = options.connection;
    } else {
      try {
        // Reconnect for ever: while the server is away calls fail with 'io' after `timeout`, and work again once it is back.
        nc = await transport.connect({ maxReconnectAttempts: -1, timeout, ...options.connectOptions, servers: options.servers });
      } catch (e) {
        throw asStoreError(`connecting to ${String(options.servers)}`, e);
      }
    }
    try {
      const payloadCeiling = (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM;
      if (asked !== undefined && asked > payloadCeiling) throw new TypeError(`NatsStore: maxMessageBytes must be at most ${payloadCeiling} (the server's max_payload less ${HEADER_ROOM}), got ${asked}`);
      const jsm = await jetstreamModule.jetstreamManager(nc, { timeout });
      const js = jetstreamModule.jetstream(nc, { timeout });
      // With replicas, a direct get may be answered by a replica that lags: read through the leader then.
      const kv = await new kvModule.Kvm(js).create(prefix, { history: 1, replicas, allow_direct: replicas === 1, timeout });
      const stream = `${prefix}_journals`;
      const subjects = [`${prefix}.j.>`, `${prefix}.t.>`, `${prefix}.c.>`];
      let info: StreamInfo;
      try {
        info = await jsm.streams.info(stream);
      } catch (e) {
        if (!isStreamNotFound(e)) throw e;
        const config: Partial<StreamConfig> & { name: string } = {
          name: stream,
          subjects,
          num_replicas: replicas,
          allow_rollup_hdrs: true,
          allow_direct: replicas === 1,
          deny_purge: false,
          deny_delete: false,
        };
        info = await jsm.streams.add(config);
      }
      const c = info.config;
      if (!subjects.every((s) => c.subjects?.includes(s)) || c.allow_rollup_hdrs !== true || c.deny_purge === true || (c.max_msgs_per_subject ?? -1) > 0 || (c.max_age ?? 0) > 0) {
        throw new StoreError('io', `NATS store: stream ${stream} exists with a configuration this store cannot use (it needs subjects ${subjects.join(', ')}, rollup headers, purges, and no per-subject or age limits)`);
      }
      const direct = c.allow_direct === true && (c.num_replicas ?? 1) <= 1;

      const ceiling = Math.min(payloadCeiling, (c.max_msg_size ?? -1) > 0 ? c.max_msg_size - HEADER_ROOM : Infinity);
      const maxMessage = asked ?? ceiling;
      if (maxMessage < 1024 || maxMessage > ceiling) throw new TypeError(`NatsStore: stream ${stream} takes messages of at most ${c.max_msg_size} bytes: too few (maxMessageBytes ${maxMessage})`);

      const chunked = await jsm.streams.info(stream, { subjects_filter: `${prefix}.c.r.>` });
      const chunkedKeys = new Set(Object.keys(chunked.state.subjects ?? {}).map((s) => s.slice(`${prefix}.c.r.`.length)));

      return new NatsStore({ nc, owned, js, jsm, kv, headers: transport.headers, prefix, stream, direct, maxMessage, timeout, chunkedKeys });
    } catch (e) {
      if (owned) await nc.close().catch(() => {});
      if (e instanceof TypeError) throw e;
      throw asStoreError(`opening bucket ${prefix}`, e);
    }
  }

  // ---- plumbing ----

  #checkOpen(): void {
    if (this.#closing !== null) throw new StoreError('closed', 'the NATS store is closed');
  }

  /**
   * Runs one call: after the calls queued on `lane` (a key or journal; null:
   * none), counted as in progress for `close`, its failures as StoreError.
   */
  #run<T>(what: string, lane: string | null, f: () => Promise<T>): Promise<T> {
    let run: Promise<T>;
    if (lane === null) {
      run = f();
    } else {
      const before = this.#lanes.get(lane) ?? Promise.resolve();
      run = before.then(f);
      const tail = run.then(
        () => {},
        () => {},
      );
      this.#lanes.set(lane, tail);
      void tail.then(() => {
        if (this.#lanes.get(lane) === tail) this.#lanes.delete(lane);
      });
    }
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    return run.catch((e: unknown) => {
      throw asStoreError(what, e);
    });
  }

  /** One message of the journal stream, by sequence, last on a subject, or next on a subject from a sequence. */
  #get(query: { seq: number } | { last_by_subj: string } | { next_by_subj: string; seq: number }): Promise<StoredMsg | null> {
    if (this.#direct) return this.#jsm.direct.getMessage(this.#stream, query);
    // The stream API (answered by the leader) takes next_by_subj too, though the client's type does not say so.
    return this.#jsm.streams.getMessage(this.#stream, query as { seq: number });
  }

  /**
   * The messages on `subject`, in order: the first few by direct gets (one
   * request each: servers before 2.11 have no batched get), the rest, if
   * there are more, through a consumer of our own (a few requests, then the
   * messages in batches: ten times faster for a long journal).
   */
  async *#walk(subject: string): AsyncGenerator<Msg> {
    let seq = 0;
    for (let n = 0; n < WALK_BY_GETS; n++) {
      const m = await this.#get({ next_by_subj: subject, seq });
      if (m === null) return;
      yield m;
      seq = m.seq + 1;
    }
    const last = await this.#get({ last_by_subj: subject });
    if (last === null || last.seq < seq) return;
    yield* this.#consume(subject, seq, last.seq);
  }

  /** The messages on `subject` from stream sequence `from` to `until`, through an ephemeral consumer (deleted after). */
  async *#consume(subject: string, from: number, until: number): AsyncGenerator<Msg> {
    const info = await this.#jsm.consumers.add(this.#stream, {
      filter_subject: subject,
      deliver_policy: 'by_start_sequence' as ConsumerConfig['deliver_policy'],
      opt_start_seq: from,
      ack_policy: 'none' as ConsumerConfig['ack_policy'],
      mem_storage: true,
      num_replicas: 1,
      // Should the delete below not happen (connection lost), the server drops it soon by itself.
      inactive_threshold: Math.max(this.#timeout * 2, 5_000) * 1_000_000,
    });
    try {
      const consumer = this.#js.consumers.getConsumerFromInfo(info);
      let seq = from;
      while (seq <= until) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: 128, expires: this.#timeout });
        for await (const m of batch) {
          got++;
          seq = m.seq + 1;
          yield { seq: m.seq, subject: m.subject, data: m.data, header: m.headers };
          if (m.seq >= until) break;
        }
        // Nothing came within the timeout: the rest was purged meanwhile (or the server is away).
        if (got === 0) break;
      }
    } finally {
      await this.#jsm.consumers.delete(this.#stream, info.name).catch(() => {});
    }
  }

  /** Purges the messages on `subject` with a stream sequence below `before` (all of them if undefined). */
  async #purge(stream: string, subject: string, before?: number): Promise<void> {
    if (before !== undefined && before <= 1) return;
    await this.#jsm.streams.purge(stream, before === undefined ? { filter: subject } : { filter: subject, seq: before });
  }

  /** Writes `bytes` as chunks on `subject`, and says where they are. */
  async #writeChunks(subject: string, bytes: Uint8Array): Promise<ChunkHead> {
    const chunk = this.#maxMessage;
    const seqs = new Array<number>(Math.ceil(bytes.length / chunk)).fill(0);
    await eachLimited(seqs, WINDOW, async (_, i) => {
      const h = this.#headers();
      h.set(H_CHUNK, String(i));
      const ack = await this.#js.publish(subject, bytes.subarray(i * chunk, (i + 1) * chunk), { headers: h });
      seqs[i] = ack.seq;
    });
    return { size: bytes.length, chunk, seqs };
  }

  /** The bytes the chunks of `head` hold, or null if one is missing (purged, or never written). */
  async #readChunks(subject: string, head: ChunkHead, where: string): Promise<Uint8Array | null> {
    const out = new Uint8Array(head.size);
    let missing = false;
    await eachLimited(head.seqs, WINDOW, async (seq, i) => {
      if (missing) return;
      const m = await this.#get({ seq });
      if (m === null || m.subject !== subject || m.header?.get(H_CHUNK) !== String(i)) {
        missing = true;
        return;
      }
      const expected = Math.min(head.chunk, head.size - i * head.chunk);
      if (m.data.length !== expected) throw new StoreError('corrupt', `${where}: chunk ${i} holds ${m.data.length} bytes, expected ${expected}`);
      out.set(m.data, i * head.chunk);
    });
    return missing ? null : out;
  }

  #jSubject(enc: string): string {
    return `${this.#prefix}.j.${enc}`;
  }

  #tSubject(enc: string): string {
    return `${this.#prefix}.t.${enc}`;
  }

  #chunkSubject(kind: 'r' | 'j', enc: string): string {
    return `${this.#prefix}.c.${kind}.${enc}`;
  }

  // ---- records ----

  async get(key: string): Promise<Uint8Array | null> {
    this.#checkOpen();
    checkKey(key);
    const enc = encodeName(key);
    return this.#run(`get ${JSON.stringify(key)}`, null, async () => {
      let previous = -1;
      for (let attempt = 0; ; attempt++) {
        if (attempt === 10) throw new StoreError('io', `record ${JSON.stringify(key)}: replaced ten times while being read`);
        const entry = await this.#kv.get(enc);
        if (entry === null || entry.operation !== 'PUT') return null;
        const v = entry.value;
        const where = `record ${JSON.stringify(key)}`;
        if (v.length === 0) throw new StoreError('corrupt', `${where}: empty KV value (not written by this store)`);
        if (v[0] === TAG_INLINE) return new Uint8Array(v.subarray(1));
        if (v[0] !== TAG_CHUNKED) throw new StoreError('corrupt', `${where}: unknown value tag ${v[0]}`);
        const bytes = await this.#readChunks(this.#chunkSubject('r', enc), decodeHead(v.subarray(1), where), where);
        if (bytes !== null) return bytes;
        // A put replaced the value (and purged its chunks) while we read them: read the new one.
        // The same head twice with chunks missing is damage, not a race.
        if (entry.revision === previous) throw new StoreError('corrupt', `${where}: chunks missing`);
        previous = entry.revision;
      }
    });
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    checkValue(value);
    const enc = encodeName(key);
    // Copied now: the caller may change its bytes as soon as we return the promise.
    const inline = value.length + 1 <= this.#maxMessage;
    let data: Uint8Array;
    if (inline) {
      data = new Uint8Array(value.length + 1);
      data[0] = TAG_INLINE;
      data.set(value, 1);
    } else {
      data = value.slice();
    }
    return this.#run(`put ${JSON.stringify(key)}`, `r:${key}`, async () => {
      const chunks = this.#chunkSubject('r', enc);
      if (inline) {
        await this.#kv.put(enc, data);
        if (this.#chunkedKeys.has(enc)) {
          await this.#purge(this.#stream, chunks);
          this.#chunkedKeys.delete(enc);
        }
        return;
      }
      this.#chunkedKeys.add(enc);
      const head = await this.#writeChunks(chunks, data);
      const json = encodeHead(head);
      const record = new Uint8Array(json.length + 1);
      record[0] = TAG_CHUNKED;
      record.set(json, 1);
      await this.#kv.put(enc, record);
      // The older values' chunks (and any left by an interrupted put) all precede this value's.
      await this.#purge(this.#stream, chunks, head.seqs[0]);
    });
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    const enc = encodeName(key);
    return this.#run(`delete ${JSON.stringify(key)}`, `r:${key}`, async () => {
      // A purge rather than the KV's delete marker: nothing is left of a deleted key.
      await this.#purge(this.#kvStream, `$KV.${this.#prefix}.${enc}`);
      if (this.#chunkedKeys.has(enc)) {
        await this.#purge(this.#stream, this.#chunkSubject('r', enc));
        this.#chunkedKeys.delete(enc);
      }
    });
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    this.#checkOpen();
    const out = await this.#run('keys', null, async () => {
      // history 1 and no delete markers: the subjects in the KV stream are exactly the keys.
      const subjectPrefix = `$KV.${this.#prefix}.`;
      const info = await this.#jsm.streams.info(this.#kvStream, { subjects_filter: `${subjectPrefix}>` });
      return this.#names(info, subjectPrefix, prefix);
    });
    yield* out;
  }

  /** The decoded names of the subjects in `info` under `subjectPrefix` that start with `prefix`, sorted. */
  #names(info: StreamInfo, subjectPrefix: string, prefix: string): string[] {
    const out: string[] = [];
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      if (count <= 0 || !subject.startsWith(subjectPrefix)) continue;
      const name = decodeName(subject.slice(subjectPrefix.length));
      if (name !== null && name.startsWith(prefix)) out.push(name);
    }
    // Default sort: by UTF-16 code units, as the contract says.
    return out.sort();
  }

  // ---- journals ----

  /** What this store knows of a journal, read from the stream if it does not. */
  async #journalState(journal: string, enc: string): Promise<JournalState> {
    const known = this.#journalStates.get(journal);
    if (known !== undefined) {
      this.#journalStates.delete(journal);
      this.#journalStates.set(journal, known);
      return known;
    }
    const where = `journal ${JSON.stringify(journal)}`;
    const [last, marker] = await Promise.all([this.#get({ last_by_subj: this.#jSubject(enc) }), this.#get({ last_by_subj: this.#tSubject(enc) })]);
    const state: JournalState = {
      subjSeq: last?.seq ?? 0,
      jLast: last === null ? 0 : headerNumber(last, H_LAST, where),
      marker: marker === null ? null : { seq: marker.seq, last: headerNumber(marker, H_LAST, where), trimmed: headerNumber(marker, H_TRIMMED, where) },
    };
    this.#rememberJournal(journal, state);
    return state;
  }

  #rememberJournal(journal: string, state: JournalState): void {
    this.#journalStates.delete(journal);
    this.#journalStates.set(journal, state);
    if (this.#journalStates.size > JOURNAL_CACHE) this.#journalStates.delete(this.#journalStates.keys().next().value!);
  }

  async append(journal: string, entries: readonly JournalEntry[]): Promise<void> {
    this.#checkOpen();
    checkKey(journal, 'journal');
    // Checked and copied now (the seqs as a run above 0; against the journal's last seq below, once it is known).
    checkEntries(journal, entries, 0);
    if (entries.length === 0) return;
    const first = entries[0]!.seq;
    const last = entries[entries.length - 1]!.seq;
    const payload = encodeEntries(entries);
    const enc = encodeName(journal);
    const where = `journal ${JSON.stringify(journal)}`;
    return this.#run(`append to ${where}`, `j:${journal}`, async () => {
      let head: ChunkHead | null = null;
      for (let attempt = 0; ; attempt++) {
        // A journal known to be empty is read again: its last seq is then in the marker only, which the
        // server's expected-last-subject-sequence check (on the journal's subject) does not cover.
        if (this.#journalStates.get(journal)?.subjSeq === 0) this.#journalStates.delete(journal);
        const state = await this.#journalState(journal, enc);
        const known = Math.max(state.jLast, state.marker?.last ?? 0);
        if (first <= known) throw new StoreError('bad-seq', `${where}: entry seq ${first} after ${known} (expected a safe integer above it)`);
        let body = payload;
        if (payload.length > this.#maxMessage) {
          head ??= await this.#writeChunks(this.#chunkSubject('j', enc), payload);
          body = encodeHead(head);
        }
        const h = this.#headers();
        h.set(H_FIRST, String(first));
        h.set(H_LAST, String(last));
        h.set(H_COUNT, String(entries.length));
        if (head !== null) h.set(H_CHUNKED, String(payload.length));
        let seq: number;
        try {
          seq = (await this.#js.publish(this.#jSubject(enc), body, { headers: h, expect: { lastSubjectSequence: state.subjSeq } })).seq;
        } catch (e) {
          // Whatever happened, what we knew of the journal may be stale now.
          this.#journalStates.delete(journal);
          // Someone else appended or trimmed: read the journal again and check the seqs against it.
          if (isWrongLastSequence(e) && attempt < 3) continue;
          throw e;
        }
        const wasEmpty = state.subjSeq === 0;
        state.subjSeq = seq;
        state.jLast = last;
        const marker = state.marker;
        if (marker !== null && marker.trimmed >= marker.last && wasEmpty) {
          // The marker of a trim that emptied the journal: the last seq is in the messages again, and
          // the marker would drop nothing now (every message it dropped is purged: the journal was empty).
          try {
            await this.#purge(this.#stream, this.#tSubject(enc), marker.seq + 1);
            state.marker = null;
          } catch {
            // Harmless to keep (it drops nothing appended after it); the append itself is done.
            this.#journalStates.delete(journal);
          }
        }
        return;
      }
    });
  }

  /** The entries a journal message holds. */
  async #entriesOf(m: Msg, enc: string, where: string): Promise<JournalEntry[]> {
    if (!m.header?.get(H_CHUNKED)) return decodeEntries(m.data, where);
    const bytes = await this.#readChunks(this.#chunkSubject('j', enc), decodeHead(m.data, where), where);
    if (bytes === null) throw new StoreError('corrupt', `${where}: chunks of message ${m.seq} missing`);
    return decodeEntries(bytes, where);
  }

  async read(journal: string, after = 0): Promise<JournalEntry[]> {
    this.#checkOpen();
    checkKey(journal, 'journal');
    const enc = encodeName(journal);
    const where = `journal ${JSON.stringify(journal)}`;
    return this.#run(`read ${where}`, `j:${journal}`, async () => {
      const walk = async (): Promise<Msg[]> => {
        const out: Msg[] = [];
        for await (const m of this.#walk(this.#jSubject(enc))) out.push(m);
        return out;
      };
      const [marker, messages] = await Promise.all([this.#get({ last_by_subj: this.#tSubject(enc) }), walk()]);
      const floor = Math.max(after, marker === null ? 0 : headerNumber(marker, H_TRIMMED, where));
      const out: JournalEntry[] = [];
      for (const m of messages) {
        if (headerNumber(m, H_LAST, where) <= floor) continue;
        for (const e of await this.#entriesOf(m, enc, where)) if (e.seq > floor) out.push(e);
      }
      return out;
    });
  }

  async trim(journal: string, upTo: number): Promise<void> {
    this.#checkOpen();
    checkKey(journal, 'journal');
    if (typeof upTo !== 'number' || Number.isNaN(upTo)) throw new StoreError('bad-seq', `journal ${JSON.stringify(journal)}: trim up to ${String(upTo)} (expected a number)`);
    const enc = encodeName(journal);
    const where = `journal ${JSON.stringify(journal)}`;
    return this.#run(`trim ${where}`, `j:${journal}`, async () => {
      for (let attempt = 0; ; attempt++) {
        // Read afresh: a trim decides what to purge from what the journal holds (another store may have appended).
        this.#journalStates.delete(journal);
        const state = await this.#journalState(journal, enc);
        if (state.subjSeq === 0) return; // no entries (or no journal)
        const last = Math.max(state.jLast, state.marker?.last ?? 0);
        const trimmed = state.marker?.trimmed ?? 0;
        try {
          if (Math.max(upTo, trimmed) >= state.jLast) {
            // Every entry goes. The marker first (it keeps the last seq), then the purges.
            // (A marker may already drop them all: left by a trim interrupted before its purges.)
            const seq = await this.#writeMarker(enc, state, last, last);
            await this.#purge(this.#stream, this.#jSubject(enc), state.subjSeq + 1);
            // Chunks are written before the message that points at them: these all belong to purged messages.
            await this.#purge(this.#stream, this.#chunkSubject('j', enc), state.subjSeq + 1);
            this.#rememberJournal(journal, { subjSeq: 0, jLast: 0, marker: { seq, last, trimmed: last } });
            return;
          }
          const floor = Math.max(trimmed, upTo);
          // The first message with an entry above the trim point: it stays, and so does every later one.
          let firstSeq = 0;
          let keep: Msg | null = null;
          for await (const m of this.#walk(this.#jSubject(enc))) {
            if (firstSeq === 0) firstSeq = m.seq;
            if (headerNumber(m, H_LAST, where) > floor) {
              keep = m;
              break;
            }
          }
          if (keep === null) throw Object.assign(new Error('journal changed under trim'), { code: WRONG_LAST_SEQUENCE });
          if (headerNumber(keep, H_FIRST, where) <= floor && floor > trimmed) {
            // It also holds entries at or below the trim point: a marker says to drop them when read.
            const seq = await this.#writeMarker(enc, state, last, floor);
            state.marker = { seq, last, trimmed: floor };
          }
          if (keep.seq > firstSeq) {
            await this.#purge(this.#stream, this.#jSubject(enc), keep.seq);
            let chunksFrom = keep.seq;
            if (keep.header?.get(H_CHUNKED)) chunksFrom = Math.min(...decodeHead(keep.data, where).seqs);
            await this.#purge(this.#stream, this.#chunkSubject('j', enc), chunksFrom);
          }
          return;
        } catch (e) {
          this.#journalStates.delete(journal);
          if (isWrongLastSequence(e) && attempt < 3) continue;
          throw e;
        }
      }
    });
  }

  /** Replaces the journal's trim marker (a rollup keeps only the newest), and gives its stream sequence. */
  async #writeMarker(enc: string, state: JournalState, last: number, trimmed: number): Promise<number> {
    const h = this.#headers();
    h.set(H_LAST, String(last));
    h.set(H_TRIMMED, String(trimmed));
    h.set('Nats-Rollup', 'sub');
    const ack = await this.#js.publish(this.#tSubject(enc), new Uint8Array(0), { headers: h, expect: { lastSubjectSequence: state.marker?.seq ?? 0 } });
    return ack.seq;
  }

  async *journals(prefix = ''): AsyncIterable<string> {
    this.#checkOpen();
    const out = await this.#run('journals', null, async () => {
      const jPrefix = `${this.#prefix}.j.`;
      const tPrefix = `${this.#prefix}.t.`;
      const [jInfo, tInfo] = await Promise.all([
        this.#jsm.streams.info(this.#stream, { subjects_filter: `${jPrefix}>` }),
        this.#jsm.streams.info(this.#stream, { subjects_filter: `${tPrefix}>` }),
      ]);
      const names = this.#names(jInfo, jPrefix, prefix);
      const marked = new Set(this.#names(tInfo, tPrefix, prefix));
      // A journal with messages holds entries unless a marker drops them all: only after a crash
      // between a trim's marker and its purge. Only journals with a marker need a look.
      const hidden = new Set<string>();
      await eachLimited(
        names.filter((n) => marked.has(n)),
        WINDOW,
        async (name) => {
          const enc = encodeName(name);
          const where = `journal ${JSON.stringify(name)}`;
          const [last, marker] = await Promise.all([this.#get({ last_by_subj: this.#jSubject(enc) }), this.#get({ last_by_subj: this.#tSubject(enc) })]);
          if (last === null || (marker !== null && headerNumber(last, H_LAST, where) <= headerNumber(marker, H_TRIMMED, where))) hidden.add(name);
        },
      );
      return names.filter((n) => !hidden.has(n));
    });
    yield* out;
  }

  // ---- lifecycle ----

  /** Waits for the calls in progress, then drains and closes the connection if the store opened it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#inflight]);
      if (!this.#owned || this.#nc.isClosed()) return;
      // Draining waits for the server; if it is gone, just close.
      let timer: NodeJS.Timeout | undefined;
      const drained = this.#nc.drain().then(
        () => true,
        () => false,
      );
      const gaveUp = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#timeout);
      });
      const ok = await Promise.race([drained, gaveUp]);
      clearTimeout(timer);
      if (!ok) await this.#nc.close().catch(() => {});
    })();
    return this.#closing;
  }

  /** Deletes the bucket and the journal stream (everything this store holds), then closes. */
  async destroy(): Promise<void> {
    this.#checkOpen();
    await this.#run('destroy', null, async () => {
      await Promise.all([this.#jsm.streams.delete(this.#kvStream), this.#jsm.streams.delete(this.#stream)]);
    });
    await this.close();
  }
}
