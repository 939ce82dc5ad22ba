/**
 * The http service, its handler called directly, against local servers on
 * 127.0.0.1: the allow-list, sizes, the deadline, and redirects not followed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiveStatus } from '../hive/abi.js';
import { ServiceError, type ServiceContext } from '../service.js';
import { http, type HttpRequest, type HttpResponse } from './http.js';
import { status } from './status-of.test-helper.js';

const ctx: ServiceContext = { service: 'http', caller: 5, callerName: null, grants: ['http'], callId: '5:1' };

/** A local server; `origin` is its http://127.0.0.1:port. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}


describe('http', () => {
  let main: Awaited<ReturnType<typeof serve>>;
  let other: Awaited<ReturnType<typeof serve>>;
  /** Responses of `main` whose body was cut short (the client went away before the end). */
  let aborted = 0;

  beforeAll(async () => {
    main = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/echo') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.setHeader('x-method', req.method!);
          res.setHeader('x-got', req.headers['x-test'] ?? '');
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.end(Buffer.concat(chunks));
        });
      } else if (url.pathname === '/big') {
        // Streams n bytes (no n: forever) in 1 KiB chunks, without a content-length.
        let left = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : Infinity;
        res.on('close', () => {
          if (!res.writableFinished) aborted++;
        });
        const more = (): void => {
          while (left > 0 && !res.destroyed) {
            const k = Math.min(1024, left);
            left -= k;
            if (!res.write(Buffer.alloc(k, 0x61))) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      } else if (url.pathname === '/declared') {
        res.setHeader('content-length', '5000');
        res.end(Buffer.alloc(5000));
      } else if (url.pathname === '/redirect') {
        res.statusCode = 302;
        res.setHeader('location', `${other.origin}/landed`);
        res.end('moved');
      } else if (url.pathname === '/hang') {
        // Never answers.
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    other = await serve((_req, res) => res.end('other'));
  });

  afterAll(async () => {
    main.server.closeAllConnections();
    other.server.closeAllConnections();
    await Promise.all([main, other].map(({ server }) => new Promise((r) => server.close(r))));
  });

  const fetchWith = (request: HttpRequest, options: Partial<Parameters<typeof http>[0]> = {}): Promise<HttpResponse> => http({ allow: [main.origin], ...options }).handlers.fetch(request, ctx);

  it('sends a request to an allowed origin and answers status, lower-case headers and body', async () => {
    const res = await fetchWith({ url: `${main.origin}/echo`, method: 'post', headers: { 'X-Test': 'yes' }, body: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers['x-method']).toBe('POST');
    expect(res.headers['x-got']).toBe('yes');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    expect(new TextDecoder().decode(res.body)).toBe('hello');
    const bytes = await fetchWith({ url: `${main.origin}/echo`, method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    expect(bytes.body).toEqual(new Uint8Array([1, 2, 3]));
    const missing = await fetchWith({ url: `${main.origin}/nothing` });
    expect([missing.status, missing.body.length]).toEqual([404, 0]);
  });

  it('answers NOT_FOUND for an origin not in the allow-list (compared exactly), and sends nothing', async () => {
    const before = other.hits.length;
    expect(await status(fetchWith({ url: `${other.origin}/` }))).toBe(HiveStatus.NOT_FOUND);
    const port = new URL(main.origin).port;
    expect(await status(fetchWith({ url: `http://localhost:${port}/echo` }))).toBe(HiveStatus.NOT_FOUND);
    expect(await status(fetchWith({ url: `https://127.0.0.1:${port}/echo` }))).toBe(HiveStatus.NOT_FOUND);
    expect(other.hits.length).toBe(before);
    // The same origin written differently is the same origin.
    expect((await fetchWith({ url: `HTTP://127.0.0.1:${port}/echo?x#y` })).status).toBe(200);
  });

  it('refuses a malformed URL, a scheme other than http and https, another method, a body on GET, and headers the connection owns with BAD_ARGUMENT', async () => {
    expect(await status(fetchWith({ url: 'not a url' }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: 42 as never }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: 'ftp://127.0.0.1/x' }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: 'file:///etc/passwd' }))).toBe(HiveStatus.BAD_ARGUMENT);
    for (const method of ['CONNECT', 'TRACE', 'OPTIONS', 'FOO']) expect(await status(fetchWith({ url: `${main.origin}/echo`, method }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, body: 'x' }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, headers: { Host: 'elsewhere' } }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, headers: { 'bad name': 'x' } }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, headers: { a: 1 as never } }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, method: 'POST', body: 5 as never }))).toBe(HiveStatus.BAD_ARGUMENT);
    expect(await status(fetchWith(null as never))).toBe(HiveStatus.BAD_ARGUMENT);
  });

  it('does not follow a redirect: the 3xx is answered as it is, and its target gets no request', async () => {
    const before = other.hits.length;
    const res = await fetchWith({ url: `${main.origin}/redirect` });
    expect(res.status).toBe(302);
    expect(res.headers['location']).toBe(`${other.origin}/landed`);
    expect(new TextDecoder().decode(res.body)).toBe('moved');
    expect(other.hits.length).toBe(before);
  });

  it('stops reading a response past maxResponseBytes with TOO_LARGE and cancels its stream', async () => {
    const n = 64 * 1024;
    const ok = await fetchWith({ url: `${main.origin}/big?n=${n}` }, { maxResponseBytes: n + 1024 });
    expect(ok.body.length).toBe(n);
    const abortedBefore = aborted;
    // A response that never ends: only the cancel ends it.
    expect(await status(fetchWith({ url: `${main.origin}/big` }, { maxResponseBytes: n }))).toBe(HiveStatus.TOO_LARGE);
    // The server sees its response cut off.
    await expect.poll(() => aborted).toBe(abortedBefore + 1);
    // A declared content-length past the bound is refused before reading.
    expect(await status(fetchWith({ url: `${main.origin}/declared` }, { maxResponseBytes: 4000 }))).toBe(HiveStatus.TOO_LARGE);
  });

  it('refuses a request larger than maxRequestBytes with TOO_LARGE, before sending it', async () => {
    const before = main.hits.length;
    expect(await status(fetchWith({ url: `${main.origin}/echo`, method: 'POST', body: 'x'.repeat(200) }, { maxRequestBytes: 200 }))).toBe(HiveStatus.TOO_LARGE);
    expect(await status(fetchWith({ url: `${main.origin}/echo`, headers: { 'x-big': 'y'.repeat(300) } }, { maxRequestBytes: 200 }))).toBe(HiveStatus.TOO_LARGE);
    expect(main.hits.length).toBe(before);
    expect((await fetchWith({ url: `${main.origin}/echo`, method: 'POST', body: 'x'.repeat(100) }, { maxRequestBytes: 200 })).body.length).toBe(100);
  });

  it('aborts a request that takes longer than timeoutMs with TIMEOUT', async () => {
    const t0 = Date.now();
    expect(await status(fetchWith({ url: `${main.origin}/hang` }, { timeoutMs: 200 }))).toBe(HiveStatus.TIMEOUT);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('reads response bodies at most maxBytesPerSecond, across the service\'s requests', async () => {
    const mib = 1024 * 1024;
    const svc = http({ allow: [main.origin], maxBytesPerSecond: 4 * mib, maxResponseBytes: 4 * mib });
    // 2 MiB at 4 MiB/s, less the bucket's 1/20 s: at least ~0.45 s (here, unthrottled, a few ms).
    let t0 = performance.now();
    expect((await svc.handlers.fetch({ url: `${main.origin}/big?n=${2 * mib}` }, ctx)).body.length).toBe(2 * mib);
    expect(performance.now() - t0).toBeGreaterThan(350);
    // Two requests of 1 MiB at once share the rate.
    t0 = performance.now();
    const both = await Promise.all([1, 2].map(() => svc.handlers.fetch({ url: `${main.origin}/big?n=${mib}` }, ctx)));
    expect(both.map((r) => r.body.length)).toEqual([mib, mib]);
    expect(performance.now() - t0).toBeGreaterThan(350);
  });

  it('answers TIMEOUT at the deadline while a body waits for the rate (the wait is cut short)', async () => {
    const t0 = Date.now();
    expect(await status(fetchWith({ url: `${main.origin}/big?n=${1024 * 1024}` }, { maxBytesPerSecond: 16 * 1024, timeoutMs: 300 }))).toBe(HiveStatus.TIMEOUT);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('runs at most 8 requests at once by default', () => {
    expect(http({ allow: [] }).options?.concurrency).toBe(8);
    expect(http({ allow: [], concurrency: 3 }).options?.concurrency).toBe(3);
    expect(() => http({ allow: [], maxBytesPerSecond: 0 })).toThrow(RangeError);
  });

  it('answers a network failure with a plain error (FAILED)', async () => {
    const closed = await serve(() => {});
    const origin = closed.origin;
    await new Promise((r) => closed.server.close(r));
    await expect(http({ allow: [origin] }).handlers.fetch({ url: `${origin}/` }, ctx)).rejects.toThrow(/fetch failed/);
    await expect(http({ allow: [origin] }).handlers.fetch({ url: `${origin}/` }, ctx)).rejects.not.toBeInstanceOf(ServiceError);
  });

  it('uses the fetch it is given, with redirect: manual', async () => {
    const seen: RequestInit[] = [];
    const fake = (async (_url: string, init: RequestInit) => (seen.push(init), new Response('fake', { status: 201 }))) as unknown as typeof fetch;
    const res = await http({ allow: ['https://example.com'], fetch: fake }).handlers.fetch({ url: 'https://example.com/x' }, ctx);
    expect([res.status, new TextDecoder().decode(res.body)]).toEqual([201, 'fake']);
    expect(seen[0]!.redirect).toBe('manual');
  });

  it('refuses allow-list entries that are not origins', () => {
    expect(() => http({ allow: ['http://127.0.0.1:8080/path'] })).toThrow(TypeError);
    expect(() => http({ allow: ['http://127.0.0.1:8080/'] })).toThrow(TypeError);
    expect(() => http({ allow: ['ftp://127.0.0.1'] })).toThrow(TypeError);
    expect(() => http({ allow: ['nope'] })).toThrow(TypeError);
    expect(() => http({ allow: ['http://127.0.0.1:8080'], timeoutMs: 0 })).toThrow(RangeError);
    expect(() => http({} as never)).toThrow(TypeError);
  });
});
