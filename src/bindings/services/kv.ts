/**
 * The built-in key-value service: one namespace per calling actor, stored
 * behind `KvStore` (in memory by default), every size and count bounded (the
 * store's total too: namespaces outlive their actors), and
 * idempotent: each write is recorded under its call id, so a call sent again
 * after its caller was restored (in this hive or another on the same store)
 * is answered from the record instead of being applied twice.
 */
import { HiveStatus } from '../hive/abi.js';
import { defineService, ServiceError, type ServiceContext, type ServiceDefinition } from '../service.js';
import { encodedSize } from './size.js';

/** One change of a `KvStore.write`: `value` is stored under `key` of `namespace`; `undefined` deletes the key. */
export interface KvWrite {
  readonly namespace: string;
  readonly key: string;
  readonly value: unknown;
}

/**
 * Where `kv` keeps its data: namespaces of keys (strings) to values (decoded
 * MessagePack values: null, booleans, numbers, bigints, strings,
 * Uint8Arrays, arrays, plain objects, Dates, pids). The hive has no durable
 * store of its own: `memoryKvStore()` forgets everything with the process,
 * and a host that wants the data to last passes its own (backed by a file or
 * a database; it serializes values itself, e.g. with the actors' `encode`
 * and `decode`). Namespaces starting with `#` belong to `kv` itself (its
 * call records). Every method may be called while others are pending.
 *
 * What a store must bound itself: `kv` bounds each namespace (keys, key and
 * value sizes, call records) but not how many namespaces there are, and
 * namespaces outlive their actors (an actor restored from a snapshot finds
 * its data), so many actors, each writing a little, can fill any store. A
 * store bounds the total it holds (memory, disk) and answers `'full'` to a
 * write that would pass it, changing nothing; `kv` answers its caller LIMIT
 * ("the store is full"). A write that only deletes should never be `'full'`,
 * so that a full store can be emptied. And a store answers `keys` from an
 * ordered index (in time about the log of the namespace's size plus the
 * keys answered), not by sorting the namespace on each call: actors may
 * list in a loop.
 */
export interface KvStore {
  /** The value under a key, or undefined when there is none. */
  get(namespace: string, key: string): Promise<unknown>;
  /** How many keys a namespace holds. */
  count(namespace: string): Promise<number>;
  /** The first `limit` keys of a namespace that start with `prefix` and sort after `after` (when given), in JavaScript's string order. */
  keys(namespace: string, prefix: string, limit: number, after?: string): Promise<string[]>;
  /**
   * Applies every change at once, or none: nothing changes (and it resolves
   * false) when `unless` names a key that exists at that moment, and nothing
   * changes (and it resolves `'full'`) when the changes would pass what the
   * store may hold. Resolves true once the changes are stored.
   */
  write(changes: readonly KvWrite[], unless?: { readonly namespace: string; readonly key: string }): Promise<boolean | 'full'>;
}

/**
 * Bytes a `memoryKvStore` counts for each key beyond the key's and value's
 * own (its Map entry, its slot in the sorted keys), and for each namespace
 * (its Map and list): a spawn bomb of actors writing one small value each
 * costs the host this much per value, not just the value's few bytes.
 */
const KEY_OVERHEAD = 64;
const SPACE_OVERHEAD = 256;

/** One namespace of a `memoryKvStore`: its entries, and their keys sorted. */
interface Space {
  readonly entries: Map<string, { readonly value: unknown; readonly size: number }>;
  readonly sorted: string[];
  /** Bytes of its entries (as counted against maxBytesPerNamespace). */
  bytes: number;
}

/** The index of the first string of a sorted list that is not below `key` (or, `strict`, above it). */
function search(sorted: readonly string[], key: string, strict = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = sorted[mid]!;
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A `KvStore` in memory: namespaces of Maps, gone with the process. Values
 * are kept as they are given (not copied: a caller does not change a value
 * after storing it). Each namespace keeps its keys sorted as they are
 * written, so that a listing costs about the log of the namespace's size
 * plus the keys it answers.
 *
 * `maxBytes` (default 64 MiB) bounds what it holds in all namespaces (the
 * call records of `kv` included): each key counts its UTF-8 bytes, its
 * value's MessagePack bytes and 64 bytes more, each namespace 256 bytes. A
 * write that would pass it changes nothing and resolves `'full'`; a write
 * that holds no more than before (one that deletes) is always applied.
 * `maxBytesPerNamespace` (default 4 MiB) bounds one namespace the same way
 * (one actor's data, or its call records), so that one tenant cannot fill
 * the store and leave the others only LIMIT.
 */
export function memoryKvStore(options: { maxBytes?: number; maxBytesPerNamespace?: number } = {}): KvStore {
  const maxBytes = bound('maxBytes', options.maxBytes, 64 * 1024 * 1024);
  const maxPerSpace = bound('maxBytesPerNamespace', options.maxBytesPerNamespace, 4 * 1024 * 1024);
  const spaces = new Map<string, Space>();
  let held = 0;
  return {
    get: async (namespace, key) => spaces.get(namespace)?.entries.get(key)?.value,
    count: async (namespace) => spaces.get(namespace)?.entries.size ?? 0,
    keys: async (namespace, prefix, limit, after) => {
      const sorted = spaces.get(namespace)?.sorted;
      if (sorted === undefined) return [];
      let i = search(sorted, prefix);
      // (An `after` below the prefix is below all its keys.)
      if (after !== undefined && after >= prefix) i = Math.max(i, search(sorted, after, true));
      const out: string[] = [];
      for (; i < sorted.length && out.length < limit && sorted[i]!.startsWith(prefix); i++) out.push(sorted[i]!);
      return out;
    },
    write: async (changes, unless) => {
      if (unless !== undefined && spaces.get(unless.namespace)?.entries.has(unless.key) === true) return false;
      // What each changed key comes to (the last change of a key wins), and the bytes held after.
      const after = new Map<string, Map<string, { value: unknown; size: number } | undefined>>();
      let delta = 0;
      const grows = new Map<string, number>();
      for (const c of changes) {
        let space = after.get(c.namespace);
        if (space === undefined) after.set(c.namespace, (space = new Map()));
        const was = space.has(c.key) ? space.get(c.key) : spaces.get(c.namespace)?.entries.get(c.key);
        const now = c.value === undefined ? undefined : { value: c.value, size: Buffer.byteLength(c.key, 'utf8') + encodedSize(c.value, maxBytes) + KEY_OVERHEAD };
        const d = (now?.size ?? 0) - (was?.size ?? 0);
        delta += d;
        grows.set(c.namespace, (grows.get(c.namespace) ?? 0) + d);
        space.set(c.key, now);
      }
      // One namespace (one actor's data, or its call records) holds at most its share: one tenant cannot fill the store for all.
      for (const [namespace, d] of grows) if (d > 0 && (spaces.get(namespace)?.bytes ?? 0) + d > maxPerSpace) return 'full';
      for (const [namespace, changed] of after) {
        const before = spaces.get(namespace)?.entries;
        let count = before?.size ?? 0;
        for (const [key, now] of changed) count += (now !== undefined ? 1 : 0) - (before?.has(key) === true ? 1 : 0);
        if ((before?.size ?? 0) === 0 && count > 0) delta += SPACE_OVERHEAD;
        if ((before?.size ?? 0) > 0 && count === 0) delta -= SPACE_OVERHEAD;
      }
      if (delta > 0 && held + delta > maxBytes) return 'full';
      for (const [namespace, changed] of after) {
        let space = spaces.get(namespace);
        for (const [key, now] of changed) {
          if (now === undefined) {
            if (space?.entries.delete(key) === true) space.sorted.splice(search(space.sorted, key), 1);
            continue;
          }
          if (space === undefined) spaces.set(namespace, (space = { entries: new Map(), sorted: [], bytes: 0 }));
          if (!space.entries.has(key)) space.sorted.splice(search(space.sorted, key), 0, key);
          space.entries.set(key, now);
        }
        if (space !== undefined) space.bytes += grows.get(namespace) ?? 0;
        if (space?.entries.size === 0) spaces.delete(namespace);
      }
      held += delta;
      return true;
    },
  };
}

/** Options of `kv`. Every bound is refused with a ServiceError: TOO_LARGE for sizes, LIMIT for counts. */
export interface KvOptions {
  /**
   * Where the data is kept (default: a new `memoryKvStore()`, one per
   * service, holding at most 64 MiB in all; past it, LIMIT "the store is
   * full"). A store bounds its total itself: see `KvStore`.
   */
  store?: KvStore;
  /** Longest key, in bytes of UTF-8 (default 1 KiB). */
  maxKeyBytes?: number;
  /**
   * Largest value, in bytes of its MessagePack form (default 64 KiB): what
   * one `get` answers at most, as `maxListedBytes` bounds one `keys`.
   */
  maxValueBytes?: number;
  /** Keys a namespace (an actor) may hold (default 10,000). */
  maxKeysPerNamespace?: number;
  /** Keys one `keys` call answers at most (default 100); the next ones are read with `keys([prefix, lastKey])`. */
  maxKeysListed?: number;
  /**
   * Bytes of MessagePack one `keys` call answers at most (default 64 KiB):
   * the listing stops before the key that would pass it (but answers at
   * least one key); the caller reads on with `keys([prefix, lastKey])`.
   */
  maxListedBytes?: number;
  /** Call records kept per namespace for idempotency (default 1,000): the oldest go first. */
  maxCallRecords?: number;
}

/** The methods of `kv`, as the host's `Service.call` types them. */
export interface KvHandlers {
  readonly [method: string]: (request: never, ctx: ServiceContext) => Promise<unknown>;
  /** The value of a key, or null. */
  get(key: string, ctx: ServiceContext): Promise<unknown>;
  /** Stores a value under a key. */
  put(request: [key: string, value: unknown], ctx: ServiceContext): Promise<null>;
  /** Deletes a key: whether it was there. */
  delete(key: string, ctx: ServiceContext): Promise<boolean>;
  /** The caller's keys starting with a prefix (and sorting after `after`), sorted, at most `maxKeysListed` of them and `maxListedBytes` in all. */
  keys(request: string | null | [prefix: string, after?: string], ctx: ServiceContext): Promise<string[]>;
  /** Adds `by` (default 1) to the number under a key (missing: 0) and answers the sum. */
  incr(request: string | [key: string, by?: number], ctx: ServiceContext): Promise<number>;
}

/** Prefix of the namespaces of `kv`'s call records (no actor's namespace starts with it). */
const RECORDS = '#calls/';

/** What a write did, as recorded under its call id. */
interface CallRecord {
  /** The method and key of the call: a call id reused by an actor of a new hive for another call is not a duplicate. */
  m: string;
  k: string;
  /** The answer. */
  r: unknown;
}

/** A positive integer option, or its default. */
function bound(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`kv: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * The key-value service: `get(key)`, `put([key, value])`, `delete(key)`,
 * `keys(prefix?)`, `incr([key, by?])`, each in the caller's own namespace
 * (its pid as a string; "host" for the host's own calls). Idempotent: a
 * write whose call id was recorded (the same call sent again after a
 * restore) answers the recorded result and changes nothing. The host's own
 * calls (`Service.call`) all have the call id "host" and are not recorded.
 * A write the store has no room for is LIMIT ("the store is full"), but for
 * a delete, which a full store still applies (unrecorded).
 */
export function kv(options: KvOptions = {}): ServiceDefinition<KvHandlers> {
  const store = options.store ?? memoryKvStore();
  const maxKeyBytes = bound('maxKeyBytes', options.maxKeyBytes, 1024);
  const maxValueBytes = bound('maxValueBytes', options.maxValueBytes, 64 * 1024);
  const maxKeys = bound('maxKeysPerNamespace', options.maxKeysPerNamespace, 10_000);
  const maxListed = bound('maxKeysListed', options.maxKeysListed, 100);
  const maxListedBytes = bound('maxListedBytes', options.maxListedBytes, 64 * 1024);
  const maxRecords = bound('maxCallRecords', options.maxCallRecords, 1000);

  /** Writes of one namespace run one after the other (an incr reads, then writes). */
  const queues = new Map<string, Promise<void>>();
  const serially = <T>(namespace: string, fn: () => Promise<T>): Promise<T> => {
    const run = (queues.get(namespace) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    queues.set(namespace, tail);
    void tail.then(() => {
      if (queues.get(namespace) === tail) queues.delete(namespace);
    });
    return run;
  };

  /** A store's answer to a write: LIMIT when it is full. */
  const stored = (done: boolean | 'full'): boolean => {
    if (done === 'full') throw new ServiceError(HiveStatus.LIMIT, 'the store is full');
    return done;
  };

  const namespaceOf = (ctx: ServiceContext): string => (ctx.caller === 0 ? 'host' : String(ctx.caller));

  const checkKey = (key: unknown): string => {
    if (typeof key !== 'string' || key.length === 0) throw new ServiceError(HiveStatus.BAD_ARGUMENT, 'a key is a non-empty string');
    if (Buffer.byteLength(key, 'utf8') > maxKeyBytes) throw new ServiceError(HiveStatus.TOO_LARGE, `a key has at most ${maxKeyBytes} bytes`);
    return key;
  };

  /**
   * Runs a write once per call id: answers the recorded result of a call
   * already applied; otherwise `apply` says what to change and answer, and
   * the changes are stored with the call's record (dropping the oldest
   * records past the bound) in one write.
   */
  const write = <T>(ctx: ServiceContext, method: string, key: string, apply: (ns: string) => Promise<{ changes: KvWrite[]; result: T }>): Promise<T> => {
    const ns = namespaceOf(ctx);
    return serially(ns, async () => {
      const id = /^(\d+):(\d+)$/.exec(ctx.callId);
      if (ctx.caller === 0 || id === null) {
        const { changes, result } = await apply(ns);
        if (changes.length > 0) stored(await store.write(changes));
        return result;
      }
      const records = RECORDS + ns;
      // Sorted by the call's number (padded), then by the whole id.
      const recordKey = `${id[2]!.padStart(16, '0')}/${ctx.callId}`;
      const seen = (await store.get(records, recordKey)) as CallRecord | undefined;
      const duplicate = (r: CallRecord | undefined): r is CallRecord => r !== undefined && r.m === method && r.k === key;
      if (duplicate(seen)) return seen.r as T;
      const { changes, result } = await apply(ns);
      const recorded = await store.count(records);
      if (seen === undefined && recorded >= maxRecords) {
        for (const old of await store.keys(records, '', recorded - maxRecords + 1)) changes.push({ namespace: records, key: old, value: undefined });
      }
      changes.push({ namespace: records, key: recordKey, value: { m: method, k: key, r: result } satisfies CallRecord });
      // A record written meanwhile (the same call, sent again to a kv of another hive on this store) wins.
      const unless = seen === undefined ? { namespace: records, key: recordKey } : undefined;
      let done = await store.write(changes, unless);
      // A full store still deletes (so that it can be emptied), without the record: a delete
      // sent again after a restore then finds the key gone and answers false.
      if (done === 'full' && method === 'delete') done = await store.write(changes.filter((c) => c.value === undefined), unless);
      if (stored(done)) return result;
      const other = (await store.get(records, recordKey)) as CallRecord | undefined;
      if (duplicate(other)) return other.r as T;
      throw new Error('kv: the call was recorded meanwhile for another method or key');
    });
  };

  const handlers: KvHandlers = {
    get: async (key, ctx) => {
      const v = await store.get(namespaceOf(ctx), checkKey(key));
      return v === undefined ? null : v;
    },

    put: async (request, ctx) => {
      const [key, value] = pair(request, 'put', '[key, value]');
      checkKey(key);
      if (encodedSize(value, maxValueBytes) > maxValueBytes) throw new ServiceError(HiveStatus.TOO_LARGE, `a value has at most ${maxValueBytes} bytes of MessagePack`);
      return write(ctx, 'put', key as string, async (ns) => {
        if ((await store.get(ns, key as string)) === undefined && (await store.count(ns)) >= maxKeys) {
          throw new ServiceError(HiveStatus.LIMIT, `a namespace holds at most ${maxKeys} keys`);
        }
        return { changes: [{ namespace: ns, key: key as string, value }], result: null };
      });
    },

    delete: async (key, ctx) => {
      checkKey(key);
      return write(ctx, 'delete', key, async (ns) => {
        const was = (await store.get(ns, key)) !== undefined;
        return { changes: was ? [{ namespace: ns, key, value: undefined }] : [], result: was };
      });
    },

    keys: async (request, ctx) => {
      let prefix: unknown = '';
      let after: unknown;
      if (Array.isArray(request)) [prefix = '', after] = request as unknown[];
      else if (request !== null && request !== undefined) prefix = request;
      if (typeof prefix !== 'string' || !(after === undefined || after === null || typeof after === 'string')) {
        throw new ServiceError(HiveStatus.BAD_ARGUMENT, 'keys takes a prefix, or [prefix, after] (strings)');
      }
      if (Buffer.byteLength(prefix, 'utf8') > maxKeyBytes) throw new ServiceError(HiveStatus.TOO_LARGE, `a key has at most ${maxKeyBytes} bytes`);
      const keys = await store.keys(namespaceOf(ctx), prefix, maxListed, after ?? undefined);
      // The answer's bytes: its array's header, then each key's string.
      let bytes = keys.length < 16 ? 1 : keys.length < 0x10000 ? 3 : 5;
      for (let i = 0; i < keys.length; i++) {
        bytes += encodedSize(keys[i], maxListedBytes);
        if (bytes > maxListedBytes && i > 0) return keys.slice(0, i);
      }
      return keys;
    },

    incr: async (request, ctx) => {
      const [key, given] = typeof request === 'string' ? [request, undefined] : pair(request, 'incr', '[key, by?]', true);
      const by = given ?? 1;
      checkKey(key);
      if (typeof by !== 'number' || !Number.isFinite(by)) throw new ServiceError(HiveStatus.BAD_ARGUMENT, 'incr adds a finite number');
      return write(ctx, 'incr', key as string, async (ns) => {
        const now = await store.get(ns, key as string);
        if (now !== undefined && typeof now !== 'number') throw new ServiceError(HiveStatus.INVALID, `the value of ${JSON.stringify(key)} is not a number`);
        if (now === undefined && (await store.count(ns)) >= maxKeys) throw new ServiceError(HiveStatus.LIMIT, `a namespace holds at most ${maxKeys} keys`);
        const sum = (now ?? 0) + by;
        if (!Number.isFinite(sum)) throw new ServiceError(HiveStatus.INVALID, 'the sum is not a finite number');
        return { changes: [{ namespace: ns, key: key as string, value: sum }], result: sum };
      });
    },
  };
  return defineService({ handlers, options: { idempotent: true } });
}

/** A request `[a, b]` (or `[a]` when `optional`), or BAD_ARGUMENT. */
function pair(request: unknown, method: string, shape: string, optional = false): [unknown, unknown] {
  if (!Array.isArray(request) || request.length > 2 || request.length < (optional ? 1 : 2)) throw new ServiceError(HiveStatus.BAD_ARGUMENT, `${method} takes ${shape}`);
  return [request[0], request[1]];
}
