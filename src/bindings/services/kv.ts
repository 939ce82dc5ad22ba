/**
 * The built-in key-value service: one namespace per calling actor, stored
 * behind `KvStore` (in memory by default), every size and count bounded, and
 * idempotent: each write is recorded under its call id, so a call sent again
 * after its caller was restored (in this hive or another on the same store)
 * is answered from the record instead of being applied twice.
 */
import { HiveStatus } from '../hive/abi.js';
import { defineService, ServiceError, type ServiceContext, type ServiceDefinition } from '../service.js';

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
   * false) when `unless` names a key that exists at that moment. Resolves
   * true once the changes are stored.
   */
  write(changes: readonly KvWrite[], unless?: { readonly namespace: string; readonly key: string }): Promise<boolean>;
}

/** A `KvStore` in memory: namespaces of Maps, gone with the process. Values are kept as they are given (not copied). */
export function memoryKvStore(): KvStore {
  const spaces = new Map<string, Map<string, unknown>>();
  return {
    get: async (namespace, key) => spaces.get(namespace)?.get(key),
    count: async (namespace) => spaces.get(namespace)?.size ?? 0,
    keys: async (namespace, prefix, limit, after) => {
      const space = spaces.get(namespace);
      if (space === undefined) return [];
      const out: string[] = [];
      for (const k of space.keys()) if (k.startsWith(prefix) && (after === undefined || k > after)) out.push(k);
      return out.sort().slice(0, Math.max(0, limit));
    },
    write: async (changes, unless) => {
      if (unless !== undefined && spaces.get(unless.namespace)?.has(unless.key) === true) return false;
      for (const c of changes) {
        let space = spaces.get(c.namespace);
        if (c.value === undefined) {
          space?.delete(c.key);
          if (space?.size === 0) spaces.delete(c.namespace);
          continue;
        }
        if (space === undefined) spaces.set(c.namespace, (space = new Map()));
        space.set(c.key, c.value);
      }
      return true;
    },
  };
}

/** Options of `kv`. Every bound is refused with a ServiceError: TOO_LARGE for sizes, LIMIT for counts. */
export interface KvOptions {
  /** Where the data is kept (default: a new `memoryKvStore()`, one per service). */
  store?: KvStore;
  /** Longest key, in bytes of UTF-8 (default 1 KiB). */
  maxKeyBytes?: number;
  /** Largest value, in bytes of its MessagePack form (default 64 KiB). */
  maxValueBytes?: number;
  /** Keys a namespace (an actor) may hold (default 10,000). */
  maxKeysPerNamespace?: number;
  /** Keys one `keys` call answers at most (default 1,000); the next ones are read with `keys([prefix, lastKey])`. */
  maxKeysListed?: number;
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
  /** The caller's keys starting with a prefix (and sorting after `after`), sorted, at most `maxKeysListed`. */
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
 */
export function kv(options: KvOptions = {}): ServiceDefinition<KvHandlers> {
  const store = options.store ?? memoryKvStore();
  const maxKeyBytes = bound('maxKeyBytes', options.maxKeyBytes, 1024);
  const maxValueBytes = bound('maxValueBytes', options.maxValueBytes, 64 * 1024);
  const maxKeys = bound('maxKeysPerNamespace', options.maxKeysPerNamespace, 10_000);
  const maxListed = bound('maxKeysListed', options.maxKeysListed, 1000);
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
        if (changes.length > 0) await store.write(changes);
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
      if (await store.write(changes, seen === undefined ? { namespace: records, key: recordKey } : undefined)) return result;
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
      return store.keys(namespaceOf(ctx), prefix, maxListed, after ?? undefined);
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

/** Bytes of a MessagePack header for a length: 1 (a fix type) below `fix`, then 1 (when the type has an 8-bit form), 2 or 4 bytes of length after the type byte. */
function header(n: number, fix: number, has8: boolean): number {
  if (n < fix) return 1;
  if (has8 && n < 0x100) return 2;
  return n < 0x10000 ? 3 : 5;
}

/**
 * The size of a decoded value's MessagePack form, as the hive encodes it
 * (Dates counted at their largest, 15 bytes; other objects, such as pids, as
 * a 4-byte extension); stops counting once past `limit`.
 */
export function encodedSize(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (v === null || v === undefined || typeof v === 'boolean') total += 1;
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -0x8000_0000 && v < 0x1_0000_0000) {
        total += v >= -32 && v < 128 ? 1 : v >= -128 && v < 256 ? 2 : v >= -32768 && v < 65536 ? 3 : 5;
      } else total += 9;
    } else if (typeof v === 'bigint') total += 9;
    else if (typeof v === 'string') {
      const n = Buffer.byteLength(v, 'utf8');
      total += header(n, 32, true) + n;
    } else if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
      const n = v.byteLength;
      total += (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n;
    } else if (Array.isArray(v)) {
      total += header(v.length, 16, false);
      for (const x of v) stack.push(x);
    } else if (v instanceof Map) {
      total += header(v.size, 16, false);
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Date) total += 15;
    else if (typeof v === 'object') {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        total += 6;
        continue;
      }
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      total += header(entries.length, 16, false);
      for (const [k, x] of entries) stack.push(k, x);
    } else total += 9;
  }
  return total;
}
