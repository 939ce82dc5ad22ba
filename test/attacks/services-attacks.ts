/**
 * The attacks on native services (`Hive.service`, the built-ins `kv`,
 * `timer`, `http`), registered in attacks.ts and bounds.ts like the others:
 * guests granted a service flood it, hold what it keeps for them, or make it
 * hold host resources (memory, sockets, timers). Each runs in the child of
 * harness.ts against a hive with the default configuration, the services
 * with their default options.
 *
 * The guests (./guests): `svc-spawner` (a tenant: spawns its children with
 * the SERVICES flag, so they get its grants) and `svc-flood` (calls or sends
 * one request to one service address in a loop; see each file).
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Packr } from 'msgpackr';
import type { ActorRef, Hive } from '../../src/actors/index.js';
import type * as Bindings from '../../src/bindings/index.js';
import { wat } from '../helpers/wat.js';
import { BASE_RSS_MB, atLeast, atMost, type Bars } from './harness.js';

/** What an attack gets from the child (the same shape as attacks.ts's AttackContext). */
interface Context {
  hive: Hive;
  counter: ActorRef;
  counters: Record<string, number | string>;
  caught(key: string, e: unknown): void;
}
interface Running {
  sample?(): void;
  stop?(): void;
}

/** The first address of the services' range (SERVICE_BASE): a child's grant i is at SERVICE_BASE + i. */
const SERVICE_BASE = 0x7fff0000;
/** The spawn flag that gives a child its parent's services. */
const SERVICES = 2;

/**
 * The built-in services as the child's hive knows them: the built package
 * (dist/), as child.ts imports the hive (typed as src/).
 */
async function builtins(): Promise<typeof Bindings> {
  return (await import('../../dist/bindings/index.js' as string)) as typeof Bindings;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const pack = (v: unknown): Uint8Array => new Uint8Array(packr.pack(v));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function define(hive: Hive, ...names: string[]): void {
  for (const n of names) if (!hive.modules.has(n)) hive.define(n, wat(readFileSync(new URL(`./guests/${n}.wat`, import.meta.url), 'utf8')));
}

function peak(c: Context['counters'], key: string, value: number): void {
  const prev = c[key];
  if (typeof prev !== 'number' || value > prev) c[key] = value;
}

/** The init message of guests/svc-flood.wat. */
function floodInit(o: { to: number; mode: 'call' | 'send'; timeout: number; count?: number; then?: 'sleep' | 'receive' | 'exit'; hexAt?: number; fill?: number; request: Uint8Array }): Uint8Array {
  const head = new Int32Array([o.to, o.mode === 'call' ? 0 : 1, o.timeout, o.count ?? 0, ['sleep', 'receive', 'exit'].indexOf(o.then ?? 'sleep'), o.hexAt ?? -1, o.fill ?? 0, o.request.length]);
  const out = new Uint8Array(32 + o.request.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(o.request, 32);
  return out;
}

/** The init message of guests/svc-spawner.wat: `max` children of `module` with `init`, spawned with `flags`. */
function spawnerInit(max: number, flags: number, module: string, init: Uint8Array | null): Uint8Array {
  const name = utf8(module);
  const head = new Int32Array([max, flags, name.length, init === null ? -1 : init.length]);
  const out = new Uint8Array(16 + name.length + (init?.length ?? 0));
  out.set(new Uint8Array(head.buffer), 0);
  out.set(name, 16);
  if (init !== null) out.set(init, 16 + name.length);
  return out;
}

/**
 * A tenant: a host-spawned svc-spawner granted `services`, spawning `n`
 * svc-flood children with the SERVICES flag (so they reach the services at
 * the tenant's addresses). Reports the tenant's tree and a few children's
 * mailboxes.
 */
function tenant(ctx: Context, label: string, services: string[], n: number, childInit: Uint8Array): { ref: ActorRef; sample(): void; stop(): void } {
  define(ctx.hive, 'svc-spawner', 'svc-flood');
  const children: number[] = [];
  const ref = ctx.hive.spawn('svc-spawner', { services, init: spawnerInit(n, SERVICES, 'svc-flood', childInit) });
  // Its children are the next actors spawned after it (a few of them are watched).
  const onSpawn = (e: { id: number }): void => {
    if (e.id > ref.id && children.length < 8) children.push(e.id);
  };
  ctx.hive.on('spawned', onSpawn);
  void ref.exited.then((reason) => (ctx.counters[`${label}Exit`] = reason.slice(0, 120)));
  return {
    ref,
    sample() {
      ctx.counters[`${label}Alive`] = ref.alive ? 1 : 0;
      for (const id of children) {
        const info = ctx.hive.ref(id).info();
        if (info !== undefined) peak(ctx.counters, `${label}ChildMaxMailbox`, info.mailbox);
      }
    },
    stop: () => ctx.hive.off('spawned', onSpawn),
  };
}

/** Sockets this process holds open (fds whose link is `socket:[...]`). */
function openSockets(): number {
  let n = 0;
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return -1;
  }
  return n;
}

/** Bytes this process has read (from /proc/self/io: files, pipes and sockets). */
function readBytes(): number {
  try {
    return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * A slow HTTP server in a process of its own (so that its work is not the
 * host's): `/slow` sends its headers and then one byte every 200 ms, for
 * ever; `/big` sends 8 MiB as fast as it can, without a content-length;
 * `/ok` answers 900 KiB. Resolves with its origin once it listens.
 */
async function slowServer(): Promise<{ origin: string; proc: ChildProcess }> {
  const code = `
    const http = require('node:http');
    const big = Buffer.alloc(64 << 10, 0x61);
    const ok = Buffer.alloc(900 << 10, 0x62);
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const t = setInterval(() => res.write('x'), 200);
        res.on('close', () => clearInterval(t));
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let left = 128;
        const more = () => { while (left > 0) { left--; if (!res.write(big)) return res.once('drain', more); } res.end(); };
        res.on('error', () => {});
        more();
      } else {
        res.writeHead(200, { 'content-length': ok.length });
        res.end(ok);
      }
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  `;
  const proc = spawnProcess(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  // The server stands for the network, not for the host: it runs at the lowest priority, so that
  // what is measured is the host's own work (the child runs at niceness -10, which it inherits).
  try {
    setPriority(proc.pid!, 19);
  } catch {
    // not allowed here: it shares the machine at the child's priority
  }
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    proc.on('exit', (code) => reject(new Error(`the slow server exited (${code})`)));
  });
  proc.stdout!.resume();
  return { origin: `http://127.0.0.1:${port}`, proc };
}

/**
 * The http service (default options) allowing the origin of a slow server of
 * its own (see slowServer), and tenants of svc-flood actors fetching paths
 * of it: [label, actors, call (timeout -1) or send (timeout 0), path].
 */
async function httpFlood(ctx: Context, tenants: [label: string, n: number, mode: 'call' | 'send', path: string][]): Promise<Running> {
  const { http } = await builtins();
  const { origin, proc } = await slowServer();
  // Node loads its fetch (undici) on first use, ~100-200 ms of the event loop: a host using the
  // http service has paid that before a guest calls it, so the attack starts after one fetch.
  await (await fetch(`${origin}/ok`)).arrayBuffer();
  const socketsBase = openSockets();
  const readBase = readBytes();
  ctx.counters['socketsBase'] = socketsBase;
  const svc = ctx.hive.service('http', http({ allow: [origin] }));
  const running = tenants.map(([label, n, mode, path]) => tenant(ctx, label, ['http'], n, floodInit({ to: SERVICE_BASE, mode, timeout: mode === 'call' ? -1 : 0, request: pack(['fetch', { url: `${origin}${path}` }]) })));
  return {
    sample: () => {
      for (const t of running) t.sample();
      peak(ctx.counters, 'httpRunningMax', svc.running);
      peak(ctx.counters, 'httpQueuedMax', svc.queued);
      peak(ctx.counters, 'socketsOverBaseMax', openSockets() - socketsBase);
      ctx.counters['bytesReadMB'] = Math.round((readBytes() - readBase) / 1048576);
    },
    stop: () => {
      for (const t of running) t.stop();
      proc.stdin!.end(); // the server exits (and its connections close)
      proc.kill();
    },
  };
}

/** The attacks, by name (added to attacks.ts's ATTACKS). */
export const SERVICE_ATTACKS: Record<string, (ctx: Context) => Running | void | Promise<Running | void>> = {
  /**
   * A slow service (each call takes 100 ms, its `timeout` 50 ms: every call
   * leaves its handler running past its answer), default queue bounds: two
   * tenants of 200 actors each, one calling it for ever with 64 KiB requests
   * (timeout -1: they wait for room), one sending to it (20 ms for room).
   */
  'service-slow-flood': (ctx) => {
    let handled = 0;
    const svc = ctx.hive.service(
      'slow',
      {
        wait: async () => {
          handled++;
          await new Promise((r) => setTimeout(r, 100));
          return 'done';
        },
      },
      { timeout: 50 },
    );
    const request = Uint8Array.of(0x92, 0xa4, ...utf8('wait')); // ["wait", bin of 64 KiB] (the guest appends the bin)
    const callers = tenant(ctx, 'callers', ['slow'], 200, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, request, fill: 64 << 10 }));
    const senders = tenant(ctx, 'senders', ['slow'], 200, floodInit({ to: SERVICE_BASE, mode: 'send', timeout: 20, request, fill: 64 << 10 }));
    return {
      sample: () => {
        callers.sample();
        senders.sample();
        peak(ctx.counters, 'slowRunningMax', svc.running);
        peak(ctx.counters, 'slowQueuedMax', svc.queued);
        ctx.counters['slowHandled'] = handled;
      },
      stop: () => (callers.stop(), senders.stop()),
    };
  },

  /**
   * A service whose handler answers 1 MiB (less 64 bytes) to every call (the
   * host's own service): a tenant of 200 actors calls it for ever and never
   * reads an answer (each waits as the caller's current message).
   */
  'service-large-answers': (ctx) => {
    const answer = new Uint8Array((1 << 20) - 64).fill(0x33);
    let handled = 0;
    ctx.hive.service('big', { get: () => (handled++, answer) });
    const t = tenant(ctx, 'callers', ['big'], 200, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, request: pack(['get', null]) }));
    return {
      sample: () => {
        t.sample();
        ctx.counters['bigHandled'] = handled;
      },
      stop: t.stop,
    };
  },

  /**
   * The timer service, default options: a tenant of 100 actors each makes
   * 100 timers `every([10, "tick"])` (the defaults' most: 100 per actor,
   * 10,000 in all, every 10 ms, the shortest period; the first version of
   * this attack, every 1 ms, crashed the host) and never reads a message.
   */
  'service-timer-bomb': async (ctx) => {
    const { timer, defineService } = await builtins();
    const def = timer();
    let made = 0;
    const every = def.handlers.every;
    ctx.hive.service('timer', defineService({ ...def, handlers: { ...def.handlers, every: (r: never, c: Bindings.ServiceContext) => { const id = every(r, c); made++; return id; } } }));
    const t = tenant(ctx, 'ticked', ['timer'], 100, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, count: 100, then: 'sleep', request: pack(['every', [10, 'tick']]) }));
    return {
      sample: () => {
        t.sample();
        ctx.counters['timersMade'] = made;
      },
      stop: t.stop,
    };
  },

  /**
   * The timer service, default options: a tenant of 100 actors each makes
   * 100 timers `after([2^31 - 1, <60 KiB>])` (just under the default
   * maxMessageBytes: 1 MiB messages, the first version of this attack, are
   * refused now): the messages wait in the timer service for 24 days, up to
   * its bounds on bytes held (per actor and in all).
   */
  'service-timer-held-messages': async (ctx) => {
    const { timer, defineService } = await builtins();
    const def = timer();
    let made = 0;
    const after = def.handlers.after;
    const fill = 60 << 10;
    // Counted when the timer is made (the handler returned: it throws when refused).
    ctx.hive.service('timer', defineService({ ...def, handlers: { ...def.handlers, after: (r: never, c: Bindings.ServiceContext) => { const id = after(r, c); made++; return id; } } }));
    // ["after", [0x7fffffff, bin]] (the guest appends the bin).
    const request = Uint8Array.of(0x92, 0xa5, ...utf8('after'), 0x92, 0xce, 0x7f, 0xff, 0xff, 0xff);
    const t = tenant(ctx, 'holders', ['timer'], 100, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, count: 100, then: 'sleep', request, fill }));
    return {
      sample: () => {
        t.sample();
        ctx.counters['timersMade'] = made;
        ctx.counters['timerBytesHeld'] = made * fill;
      },
      stop: t.stop,
    };
  },

  /**
   * The kv service, default options: a tenant of 50 actors each puts values
   * of 65,000 bytes (within maxValueBytes) under new keys until its
   * namespace is full (maxKeysPerNamespace, 10,000 keys: 650 MB an actor).
   */
  'service-kv-bomb': async (ctx) => {
    const { kv, defineService } = await builtins();
    const def = kv();
    let stored = 0;
    let refused = 0;
    const put = def.handlers.put;
    ctx.hive.service(
      'kv',
      defineService({
        ...def,
        handlers: {
          ...def.handlers,
          put: async (r: never, c: Bindings.ServiceContext) => {
            try {
              const out = await put(r, c);
              stored++;
              return out;
            } catch (e) {
              refused++;
              throw e;
            }
          },
        },
      }),
    );
    // ["put", ["00000000", bin of 65,000]]: the key's 8 hex digits at 7, the bin appended by the guest.
    const request = Uint8Array.of(0x92, 0xa3, ...utf8('put'), 0x92, 0xa8, ...utf8('00000000'));
    const t = tenant(ctx, 'writers', ['kv'], 50, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, count: 10_000, then: 'sleep', request, hexAt: 7, fill: 65_000 }));
    return {
      sample: () => {
        t.sample();
        ctx.counters['kvPuts'] = stored;
        ctx.counters['kvRefused'] = refused;
        ctx.counters['kvBytesStored'] = stored * 65_000;
      },
      stop: t.stop,
    };
  },

  /**
   * The kv service, default options: a tenant's children spawned in a loop
   * (never more than 2,000 alive), each putting one value of 65,000 bytes
   * and exiting. Every namespace holds one key, far within its bound; the
   * namespaces of exited actors are never dropped.
   */
  'service-kv-namespaces': async (ctx) => {
    const { kv, defineService } = await builtins();
    const def = kv();
    let stored = 0;
    const put = def.handlers.put;
    ctx.hive.service('kv', defineService({ ...def, handlers: { ...def.handlers, put: async (r: never, c: Bindings.ServiceContext) => { const out = await put(r, c); stored++; return out; } } }));
    const request = Uint8Array.of(0x92, 0xa3, ...utf8('put'), 0x92, 0xa8, ...utf8('00000000'));
    const t = tenant(ctx, 'writers', ['kv'], 1_000_000, floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, count: 1, then: 'exit', request, fill: 65_000 }));
    let exited = 0;
    const onExit = (): void => void exited++;
    ctx.hive.on('exited', onExit);
    return {
      sample: () => {
        t.sample();
        ctx.counters['kvPuts'] = stored;
        ctx.counters['kvBytesStored'] = stored * 65_000;
        ctx.counters['actorsExited'] = exited;
      },
      stop: () => (t.stop(), ctx.hive.off('exited', onExit)),
    };
  },

  /**
   * The kv service, default options, on a store where each of 8 tenants
   * (actors the host spawned, each a tree of its own) already holds 10,000
   * keys of 1,000 bytes (what it could put itself: within the bounds): each
   * calls `keys("")` in a loop (each call sorts its 10,000 keys and answers
   * 1,000 of them, ~1 MB).
   */
  'service-kv-keys': async (ctx) => {
    const { kv, memoryKvStore } = await builtins();
    const store = memoryKvStore();
    ctx.hive.service('kv', kv({ store }));
    define(ctx.hive, 'svc-flood');
    const prefix = 'k'.repeat(992);
    const tenants: ActorRef[] = [];
    for (let i = 0; i < 8; i++) {
      const ref = ctx.hive.spawn('svc-flood', { services: ['kv'], init: floodInit({ to: SERVICE_BASE, mode: 'call', timeout: -1, request: pack(['keys', '']) }) });
      // (Before its first slice: the spawn returns first.)
      await store.write(Array.from({ length: 10_000 }, (_, k) => ({ namespace: String(ref.id), key: prefix + String(k).padStart(8, '0'), value: k })));
      tenants.push(ref);
    }
    let calls = 0;
    const keys = store.keys;
    store.keys = async (...a) => (calls++, keys(...a));
    return {
      sample: () => {
        ctx.counters['keysCalls'] = calls;
        ctx.counters['tenantsAlive'] = tenants.filter((t) => t.alive).length;
      },
    };
  },

  /**
   * The http service, default options, allowed one origin: a slow server (a
   * process of its own) whose `/slow` sends its headers and then a byte every
   * 200 ms, never ending (the service's 10 s deadline ends each request). Two
   * tenants: 200 actors calling it for ever, 100 sending to it without
   * waiting for room. The process's sockets are counted.
   */
  'service-http-slow': (ctx) => httpFlood(ctx, [
    ['callers', 200, 'call', '/slow'],
    ['senders', 100, 'send', '/slow'],
  ]),

  /**
   * The same service and server, its fast answers: 100 actors sending to
   * `/big` (8 MiB as fast as the server writes it: past maxResponseBytes,
   * cancelled after 1 MiB) without waiting for room, and 50 calling `/ok`
   * (900 KiB answers, within the bound).
   */
  'service-http-large': (ctx) => httpFlood(ctx, [
    ['big', 100, 'send', '/big'],
    ['ok', 50, 'call', '/ok'],
  ]),
};




const BASE = BASE_RSS_MB;

/** The bars of the service attacks (added to bounds.ts's ATTACK_BARS). */
export const SERVICE_BARS: Record<string, Bars> = {
  // A service's queue: 64 running (each holding its 64 KiB request), 1,000 or 16 MiB waiting; the
  // callers waiting for room count against their trees (64 MiB each, two trees). It must go on serving.
  'service-slow-flood': { rssMB: BASE + 250, check: (c) => [...atMost(c, { slowRunningMax: 64, slowQueuedMax: 1000 }), ...atLeast(c, { slowHandled: 64, callersAlive: 1, sendersAlive: 1 })] },
  // Answers count against the caller's tree while they are its current message (64 MiB).
  'service-large-answers': { rssMB: BASE + 150, check: (c) => atLeast(c, { bigHandled: 1, callersAlive: 1 }) },
  // 10,000 timers of 4-byte messages, and what they sent: the tree's actors' mailboxes (bounded
  // per actor) and nothing else; a full mailbox must not make the host hold more.
  'service-timer-bomb': { rssMB: BASE + 100, check: (c) => atLeast(c, { timersMade: 1 }) },
  // What the timers hold must be bounded as a tree's messages are (64 MiB), not 10,000 x 1 MiB.
  'service-timer-held-messages': { rssMB: BASE + 150, check: (c) => [...atLeast(c, { timersMade: 1 }), ...atMost(c, { timerBytesHeld: 64 << 20 })] },
  // What one tenant stores in kv must be bounded (as its tree's memory is: 256 MiB), not 650 MB an actor.
  'service-kv-bomb': { rssMB: BASE + 300, check: (c) => [...atLeast(c, { kvPuts: 1 }), ...atMost(c, { kvBytesStored: 256 << 20 })] },
  // As service-kv-bomb: one tenant's data, however many actors it spread it over, must be bounded.
  'service-kv-namespaces': { rssMB: BASE + 300, check: (c) => [...atLeast(c, { kvPuts: 1 }), ...atMost(c, { kvBytesStored: 256 << 20 })] },
  // What the store holds is the setup's (8 x 10,000 keys of 1 KB); each call's work must not hold the event loop.
  'service-kv-keys': { rssMB: BASE + 150, check: (c) => atLeast(c, { keysCalls: 1, tenantsAlive: 8 }) },
  // 16 requests in flight (the http service's concurrency) hold 16 sockets (and, for a while, those
  // of requests just cancelled: measured up to 31 over the process's own) and 16 MiB of responses.
  'service-http-slow': { rssMB: BASE + 150, check: (c) => [...atMost(c, { httpRunningMax: 16, httpQueuedMax: 1000, socketsOverBaseMax: 40 }), ...atLeast(c, { callersAlive: 1, sendersAlive: 1 })] },
  'service-http-large': { rssMB: BASE + 150, check: (c) => [...atMost(c, { httpRunningMax: 16, httpQueuedMax: 1000, socketsOverBaseMax: 40 }), ...atLeast(c, { bigAlive: 1, okAlive: 1 })] },
};
