/**
 * The built-in HTTP service: outbound requests to an allow-list of origins
 * only, with bounded request and response sizes and a deadline. Redirects
 * are never followed (a 3xx is answered as it is), so a request cannot leave
 * the allowed origins.
 */
import { HiveStatus } from '../hive/abi.js';
import { defineService, ServiceError, type ServiceContext, type ServiceDefinition } from '../service.js';

/** Options of `http`. */
export interface HttpOptions {
  /** Origins requests may go to, as `new URL(url).origin` writes them (e.g. "http://127.0.0.1:8080"); any other is NOT_FOUND. */
  allow: readonly string[];
  /** Largest response (body, and header names and values), in bytes (default 1 MiB; past it, TOO_LARGE). */
  maxResponseBytes?: number;
  /** Largest request (URL, header names and values, body), in bytes (default 1 MiB; past it, TOO_LARGE). */
  maxRequestBytes?: number;
  /** Ms of wall-clock time for the whole exchange, body included (default 10,000; past it, TIMEOUT). Network time is real time: this does not follow the hive's clock. */
  timeoutMs?: number;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Requests in flight at once (default 8); more wait in the service's queue. */
  concurrency?: number;
  /**
   * Bytes of response bodies the service reads per second, all requests
   * together (default 8 MiB/s): the reading runs on the hive's thread, and
   * an allowed origin answering large bodies fast would otherwise keep it
   * busy. A token bucket holding 1/20 of a second's bytes (at least 16 KiB):
   * a body's reader waits (on a timer) for the bucket before each read, and
   * the connection's backpressure holds the rest at the server. The wait
   * counts toward `timeoutMs`.
   */
  maxBytesPerSecond?: number;
}

/** A request of `http.fetch`. */
export interface HttpRequest {
  url: string;
  /** GET (default), HEAD, POST, PUT, PATCH or DELETE. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | null;
}

/** The answer of `http.fetch`: header names in lower case (repeated headers joined with ", "). */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The methods of `http`, as the host's `Service.call` types them. */
export interface HttpHandlers {
  readonly [method: string]: (request: never, ctx: ServiceContext) => Promise<unknown>;
  /** Sends a request to an allowed origin and answers its response (3xx included, not followed). */
  fetch(request: HttpRequest, ctx: ServiceContext): Promise<HttpResponse>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Headers the connection owns: a guest does not set them (Host would reach another site behind an allowed origin). */
const REFUSED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-authorization', 'proxy-connection']);

/**
 * A token bucket of bytes: `rate` per second, up to `burst` saved. A reader
 * waits until the bucket is not empty, then takes what it read (the bucket
 * may go below zero: the next reader waits longer).
 */
class Bucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }

  /** Resolves once the bucket is not empty (at once when `signal` aborts). */
  async ready(signal: AbortSignal): Promise<void> {
    for (this.refill(); this.tokens <= 0 && !signal.aborted; this.refill()) {
      const ms = Math.max(1, Math.ceil((-this.tokens * 1000) / this.rate));
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done);
      });
    }
  }

  take(bytes: number): void {
    this.refill();
    this.tokens -= bytes;
  }
}

/** A positive integer option, or its default. */
function bound(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`http: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

const bad = (message: string): ServiceError => new ServiceError(HiveStatus.BAD_ARGUMENT, message);

/**
 * The HTTP service: `fetch({ url, method?, headers?, body? })` answers
 * `{ status, headers, body }`. A URL whose origin is not in `allow` is
 * NOT_FOUND (as if it did not exist); a malformed URL, a scheme other than
 * http: or https:, another method, or a header the connection owns is
 * BAD_ARGUMENT; sizes past their bound are TOO_LARGE (the response stream is
 * cancelled); a request past `timeoutMs` is aborted with TIMEOUT; a failure
 * of the network is FAILED. Response bodies are read at most
 * `maxBytesPerSecond`, across the service's requests. Not idempotent: a request pending when its
 * caller is snapshotted is not sent again.
 */
export function http(options: HttpOptions): ServiceDefinition<HttpHandlers> {
  if (!Array.isArray(options?.allow)) throw new TypeError('http: allow is an array of origins');
  const allowed = new Set<string>();
  for (const entry of options.allow) {
    let u: URL;
    try {
      u = new URL(entry);
    } catch {
      throw new TypeError(`http: not an origin: ${JSON.stringify(entry)}`);
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '' || entry.endsWith('/')) {
      throw new TypeError(`http: an allowed origin is scheme://host[:port], got ${JSON.stringify(entry)}`);
    }
    allowed.add(u.origin);
  }
  const maxResponse = bound('maxResponseBytes', options.maxResponseBytes, 1 << 20);
  const maxRequest = bound('maxRequestBytes', options.maxRequestBytes, 1 << 20);
  const timeoutMs = bound('timeoutMs', options.timeoutMs, 10_000);
  const concurrency = bound('concurrency', options.concurrency, 8);
  const rate = bound('maxBytesPerSecond', options.maxBytesPerSecond, 8 * 1024 * 1024);
  const bucket = new Bucket(rate, Math.max(16 * 1024, Math.floor(rate / 20)));
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== 'function') throw new TypeError('http: no fetch: pass options.fetch');

  const handlers: HttpHandlers = {
    fetch: async (request) => {
      const req = request as unknown;
      if (typeof req !== 'object' || req === null || Array.isArray(req)) throw bad('fetch takes { url, method?, headers?, body? }');
      const { url, method: givenMethod, headers: givenHeaders, body } = req as Record<string, unknown>;
      if (typeof url !== 'string') throw bad('url is a string');
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw bad('url is not a URL');
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw bad('url is http: or https:');
      if (!allowed.has(target.origin)) throw new ServiceError(HiveStatus.NOT_FOUND, `no such origin: ${target.origin}`);
      if (!(givenMethod === undefined || givenMethod === null || typeof givenMethod === 'string')) throw bad('method is a string');
      const method = (givenMethod ?? 'GET').toUpperCase();
      if (!METHODS.has(method)) throw bad(`method is one of ${[...METHODS].join(', ')}`);
      let size = Buffer.byteLength(url, 'utf8');
      const headers = new Headers();
      if (givenHeaders !== undefined && givenHeaders !== null) {
        if (typeof givenHeaders !== 'object' || Array.isArray(givenHeaders) || givenHeaders instanceof Uint8Array) throw bad('headers is a map of strings');
        for (const [k, v] of Object.entries(givenHeaders)) {
          if (typeof v !== 'string') throw bad(`header ${JSON.stringify(k)} is not a string`);
          if (REFUSED_HEADERS.has(k.toLowerCase()) || k.toLowerCase().startsWith('proxy-')) throw bad(`header ${JSON.stringify(k)} is set by the connection`);
          try {
            headers.append(k, v);
          } catch {
            throw bad(`not a valid header: ${JSON.stringify(k)}`);
          }
          size += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
        }
      }
      if (!(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) throw bad('body is a string or bytes');
      if (body !== undefined && body !== null && (method === 'GET' || method === 'HEAD')) throw bad(`a ${method} request has no body`);
      size += typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body instanceof Uint8Array ? body.byteLength : 0;
      if (size > maxRequest) throw new ServiceError(HiveStatus.TOO_LARGE, `a request has at most ${maxRequest} bytes`);

      const abort = new AbortController();
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, timeoutMs);
      const failed = (e: unknown): Error => {
        if (e instanceof ServiceError) return e;
        if (timedOut) return new ServiceError(HiveStatus.TIMEOUT, `no response within ${timeoutMs} ms`);
        const cause = (e as { cause?: { message?: unknown } } | null)?.cause?.message;
        return new Error(`fetch failed: ${e instanceof Error ? e.message : String(e)}${typeof cause === 'string' ? ` (${cause})` : ''}`);
      };
      try {
        let res: Response;
        try {
          res = await fetchFn(target.href, { method, headers, body: body === null || body === undefined ? undefined : (body as string | Uint8Array<ArrayBuffer>), redirect: 'manual', signal: abort.signal });
        } catch (e) {
          throw failed(e);
        }
        const out = new Map<string, string>();
        let received = 0;
        for (const [k, v] of res.headers) {
          const was = out.get(k);
          out.set(k, was === undefined ? v : `${was}, ${v}`);
          received += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
        }
        const tooLarge = (): ServiceError => new ServiceError(HiveStatus.TOO_LARGE, `a response has at most ${maxResponse} bytes`);
        const declared = Number(res.headers.get('content-length') ?? NaN);
        if (received > maxResponse || received + declared > maxResponse) {
          await res.body?.cancel().catch(() => {});
          throw tooLarge();
        }
        const chunks: Uint8Array[] = [];
        let bodyBytes = 0;
        if (res.body !== null) {
          const reader = res.body.getReader();
          try {
            for (;;) {
              await bucket.ready(abort.signal);
              const { done, value } = await reader.read();
              if (done) break;
              bucket.take(value.byteLength);
              bodyBytes += value.byteLength;
              if (received + bodyBytes > maxResponse) {
                await reader.cancel().catch(() => {});
                throw tooLarge();
              }
              chunks.push(value);
            }
          } catch (e) {
            throw failed(e);
          } finally {
            reader.releaseLock();
          }
        }
        const all = new Uint8Array(bodyBytes);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.byteLength;
        }
        return { status: res.status, headers: Object.fromEntries(out), body: all };
      } finally {
        clearTimeout(deadline);
      }
    },
  };
  return defineService({ handlers, options: { concurrency } });
}
