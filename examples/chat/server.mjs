#!/usr/bin/env node
// The chat server: HTTP for the page (public/), a WebSocket endpoint (/ws)
// for the protocol (README.md), and a hive of AssemblyScript actors: the
// directory and the rooms, durable, on the main thread; a session per
// connection on the worker pool.
//
//   node examples/chat/server.mjs [--port 8080] [--host H] [--data ./data] [--store nats://host:4222]
//                                 [--bucket wasmhive-chat] [--workers N] [--max-connections 10000] [--no-warm-up]
//                                 [--tier interpreter|auto|compiled] [--quiet]
// (--workers: default one fewer than the machine's cores, at least 1; 0 runs every actor on the main thread;
// --no-warm-up: announce the server at once, without running its own traffic first: see warmUp below)
//
// As a module: `startChat(options)` (the tests and load.mjs use it).
import { createServer } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import pino from 'pino';
import { FileStore, Hive, NatsStore, ServiceError, Status } from 'wasmhive';
import { moderation } from './moderation.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The protocol's bounds (README.md, "Bounds and errors"); the actors keep theirs (rate, rooms, history) to the same figures. */
export const LIMITS = Object.freeze({
  maxFrameBytes: 8 * 1024,
  maxTextChars: 1000,
  postsPerSecond: 10,
  postBurst: 20,
  maxRooms: 10,
  historyLength: 100,
  maxNameChars: 32,
  maxRoomChars: 32,
});
/** Frames above this close the connection (ws answers 1009); between maxFrameBytes and this, an error. */
const MAX_PAYLOAD = 64 * 1024;
/** A connection whose unsent output passes this is closed (a client that does not read). */
const MAX_BUFFERED = 4 << 20;
/**
 * The least time between two writes to one socket (startChat's
 * `flushGapMs`). Every write to a socket is a system call, on loopback with
 * the receiver's TCP work in it: at the load tool's 24,000 deliveries a
 * second, one write per delivery took a quarter of the main thread. Frames
 * for a socket that was written less than this ago wait and go out
 * together; a socket written to rarely is written at once (at the end of
 * the event loop's turn). Measured with the load tool on 2 cores: 20 ms
 * took the server from 102% to 89% of a core, p50 from 5 to 15 ms, p99
 * from 45 to 34 ms; 0 writes every turn.
 */
const FLUSH_GAP_MS = 20;
/** How long a connection may take to say hello (startChat's `helloMs`). */
const HELLO_MS = 10_000;
const HEARTBEAT_MS = 30_000;
const NAME = /^[A-Za-z0-9_.-](?:[A-Za-z0-9_. -]*[A-Za-z0-9_.-])?$/;
const ROOM = /^[a-z0-9_-]+$/;
const REF_CHARS = 64;
/**
 * Requests of a connection on their way into its session's mailbox: past
 * PAUSE_AT the server stops reading its socket (TCP holds the client back),
 * and reads again below RESUME_AT. So a client that sends faster than its
 * session takes its requests costs the server a bounded amount of memory.
 */
const PAUSE_AT = 64;
const RESUME_AT = 16;
/** A session that takes none of its requests for this long is stuck: its connection is closed. */
const SESSION_STUCK_MS = 30_000;

function validRef(ref) {
  return typeof ref === 'string' && ref.length <= REF_CHARS * 2 && chars(ref) <= REF_CHARS && ref.isWellFormed();
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

/**
 * Worker threads by default: one core fewer than the machine has (at least
 * one), since the main thread is busy too (the rooms, the WebSockets). On 2
 * cores, 2 workers measured a p99 five times as long as 1 (the threads
 * queued for the cores).
 */
export function defaultWorkers() {
  return Math.max(1, availableParallelism() - 1);
}

/** The length of a string in characters (code points). */
function chars(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function validName(name) {
  return typeof name === 'string' && name.length <= LIMITS.maxNameChars * 2 && chars(name) <= LIMITS.maxNameChars && NAME.test(name);
}

function validRoom(room) {
  return typeof room === 'string' && room.length >= 1 && room.length <= LIMITS.maxRoomChars && ROOM.test(room);
}

/**
 * Starts the chat: opens the store, the hive (recovering the rooms), the HTTP
 * and WebSocket server. Resolves once it listens.
 * `store` a `nats://` URL: the rooms are kept in NATS JetStream, in the bucket `bucket` (default `wasmhive-chat`).
 * `warmUp`: before it resolves, the server runs traffic of its own through every path (see `warmUpChat`); the
 * result's `warmedUp` says what it ran (null without).
 * `tier`: the engine tier of the actors (HiveOptions.tier). `flushGapMs`: the least time between two writes to a
 * socket (default FLUSH_GAP_MS).
 * @param {{ port?: number, host?: string, data?: string, store?: string, bucket?: string, workers?: number, maxConnections?: number, helloMs?: number, passivateAfterMs?: number, quiet?: boolean, warmUp?: boolean, tier?: 'interpreter' | 'auto' | 'compiled', flushGapMs?: number, logger?: import('pino').Logger }} [options]
 */
export async function startChat(options = {}) {
  const { port = 8080, host, data = './data', workers = defaultWorkers(), maxConnections = 10_000, helloMs = HELLO_MS, passivateAfterMs = 60_000, quiet = false, warmUp = false, tier = 'interpreter', flushGapMs = FLUSH_GAP_MS } = options;
  if (!(Number.isFinite(flushGapMs) && flushGapMs >= 0)) throw new RangeError(`flushGapMs: a number of milliseconds >= 0, not ${flushGapMs}`);
  const log = options.logger ?? pino({ level: quiet ? 'silent' : (process.env.WASMHIVE_LOG_LEVEL ?? 'info') }, pino.destination({ fd: 2, sync: false }));
  const store = options.store !== undefined && /^nats:\/\//.test(options.store)
    ? await NatsStore.connect({ servers: options.store, bucket: options.bucket ?? 'wasmhive-chat' })
    : await FileStore.open(options.store ?? data);

  let hive;
  let http;
  let wss;
  const connections = new Set();
  /** While the server warms up: the token its own clients present (`/ws?warm-up=TOKEN`), their directory and its `open`. */
  let warming = null;
  try {
    hive = new Hive({
      workers,
      tier,
      logger: log,
      // A room is checkpointed every 64 posts or 2 s of activity; idle a minute with nobody in it, it is passivated;
      // one that crashes is restarted from its last checkpoint without the message it crashed on (3 times in 10 s at most).
      durable: { store, checkpointEvery: 64, checkpointMs: 2_000, passivateAfterMs, restart: { maxRestarts: 3, withinMs: 10_000 } },
    });
    for (const m of ['directory', 'room', 'session']) hive.define(m, join(HERE, `${m}.wasm`));
    hive.service('moderation', moderation(), { concurrency: 64, timeout: 2_000 });
    hive.service('rooms', {
      // Makes (or restores, or wakes) a room's durable actor: called by the directory only.
      async open(name, { caller }) {
        if (!validRoom(name)) throw new ServiceError(Status.BAD_ARGUMENT, 'not a room name');
        // The warm-up's directory has rooms of its own (see warmUpChat).
        if (warming !== null && caller === warming.directory?.id) return warming.open(name);
        return hive.durable(`room:${name}`, 'room', { init: name, services: ['moderation'] });
      },
    }, { concurrency: 16, timeout: 10_000, idempotent: true });
    const recovered = await hive.recover();
    // The rooms' frames come through the gateway (see Outboxes); opened after recover (it takes an id).
    const outboxes = new Outboxes(flushGapMs);
    const gateway = hive.inbox({ name: 'gateway', maxMessages: 10_000, maxBytes: 64 << 20 });
    void outboxes.pump(gateway, log);
    const directory = await hive.durable('directory', 'directory', { services: ['rooms'] });
    log.info(recovered, 'chat: recovered');

    const files = await publicFiles();
    // A socket that does not finish its request (or its WebSocket upgrade) within helloMs is closed, and there are
    // at most maxConnections and a few (pages being fetched) sockets at once.
    http = createServer({ requestTimeout: helloMs, headersTimeout: helloMs, connectionsCheckingInterval: Math.min(helloMs, 1_000) }, (req, res) => serveFile(files, req, res));
    http.maxConnections = maxConnections + 64;
    // (Node times out a request whose headers it has begun to read; a socket that sends nothing, or never ends
    // its request line, is closed here.)
    const silent = new Map();
    http.on('connection', (socket) => {
      silent.set(socket, setTimeout(() => socket.destroy(), helloMs));
      socket.once('close', () => {
        clearTimeout(silent.get(socket));
        silent.delete(socket);
      });
    });
    const spoke = (socket) => {
      clearTimeout(silent.get(socket));
      silent.delete(socket);
    };
    http.on('request', (req) => spoke(req.socket));
    http.on('upgrade', (req, socket) => spoke(socket));
    wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: MAX_PAYLOAD });
    wss.on('connection', (ws, req) => {
      if (connections.size >= maxConnections) {
        ws.close(1013, 'too many connections');
        return;
      }
      const own = warming !== null && req.url === `/ws?warm-up=${warming.token}`;
      const c = new Connection(ws, hive, own ? warming.directory : directory, outboxes, log, helloMs);
      connections.add(c);
      ws.once('close', () => connections.delete(c));
    });
    const heartbeat = setInterval(() => {
      for (const c of connections) c.heartbeat();
    }, HEARTBEAT_MS);
    heartbeat.unref();
    await new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const bound = http.address().port;
    const shown = host === undefined || host === '::' || host === '0.0.0.0' ? 'localhost' : host;
    let warmedUp = null;
    if (warmUp && maxConnections > 0) {
      const token = randomBytes(16).toString('hex');
      const a = http.address().address;
      const at = a === '::' || a === '0.0.0.0' ? '127.0.0.1' : a.includes(':') ? `[${a}]` : a;
      // Its clients take connections like anyone's: never more than the server allows.
      const clients = Math.min(WARM_UP.clients, maxConnections);
      try {
        const t = performance.now();
        const total = { rounds: WARM_UP.rounds, clients, posts: 0, acks: 0, deliveries: 0, expected: 0, ms: 0 };
        for (let round = 0; round < WARM_UP.rounds; round++) {
          const r = await warmUpChat(hive, `ws://${at}:${bound}/ws?warm-up=${token}`, clients, (w) => {
            warming = { token, ...w };
          });
          for (const k of ['posts', 'acks', 'deliveries', 'expected']) total[k] += r[k];
        }
        total.ms = Math.round(performance.now() - t);
        warmedUp = total;
        log.info(warmedUp, 'chat: warmed up');
      } catch (err) {
        // Only a matter of speed: the server is served cold rather than not at all.
        log.warn({ err }, 'chat: the warm-up failed; serving without it');
      } finally {
        warming = null;
      }
    }
    let closing = null;
    return {
      url: `http://${shown}:${bound}/`,
      wsUrl: `ws://${shown}:${bound}/ws`,
      port: bound,
      hive,
      /** What the warm-up ran (startChat's `warmUp`), or null. */
      warmedUp,
      /** Stops accepting, closes every connection (1001), the hive and the store. */
      close() {
        closing ??= (async () => {
          clearInterval(heartbeat);
          for (const c of connections) c.close(1001, 'server going away');
          await new Promise((resolve) => wss.close(() => resolve()));
          await new Promise((resolve) => http.close(() => resolve()));
          http.closeAllConnections?.();
          await hive.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    for (const c of connections) c.close(1011, 'server failed to start');
    wss?.close();
    http?.close();
    await hive?.close();
    await store.close();
    throw e;
  }
}

/**
 * The warm-up's traffic: clients, in rooms, posting at a rate for a time (the
 * load tool's mix: 20 a room), in rounds. Measured with the load tool: with
 * 40 clients in 2 rooms for 1.5 s (540 posts), the first second of the load
 * had p99 47-152 ms; with 100 in 5 for 2 s (1,800 posts), 36-81 ms and once
 * 240 ms: the code run once per post must run often enough for V8 to
 * optimize it. And twice: the end of a round (its connections, sessions and
 * rooms going) changes the shapes of objects the hot code was optimized
 * for, and V8 threw that code away when the load began (60 "wrong map"
 * deoptimizations in the first seconds with one round of 2 s, 19 with two
 * of 1 s; node --trace-deopt).
 */
const WARM_UP = Object.freeze({ rounds: 2, clients: 100, rooms: 5, postsPerSecond: 9, ms: 1_000, setupMs: 20_000, drainMs: 5_000 });

/**
 * Runs the server's own traffic through it before it is announced: clients
 * on loopback, each through a WebSocket, a session and a room like any other,
 * posting for WARM_UP.ms. A fresh process runs its JavaScript in V8's slow
 * tiers at first and spends a core compiling it: measured with the load tool
 * (200 clients, 24,000 deliveries a second), the first second of traffic on a
 * cold server queued deliveries for 200-600 ms, when a warm one answers
 * within 30. The warm-up pays that second before anyone is served.
 *
 * Its clients present the token of `url` and get a directory of their own
 * (`started` tells the server which, and how its rooms are opened). Their
 * rooms are the durable actors `warm-up:w0` to `warm-up:w4`: the server's
 * directory never lists them, and they are killed at the end (a killed
 * durable actor leaves only its tombstone in the store, under the same keys
 * every time; one left alive by a crash is opened and killed by the next
 * warm-up). Resolves with what ran.
 */
async function warmUpChat(hive, url, clientCount, started) {
  const t = performance.now();
  const rooms = new Map();
  const directory = hive.spawn('directory', { services: ['rooms'] });
  started({
    directory,
    async open(name) {
      const ref = await hive.durable(`warm-up:${name}`, 'room', { init: name, services: ['moderation'] });
      rooms.set(name, ref);
      return ref;
    },
  });
  const clients = [];
  /** Posts sent, acknowledged, messages received; `expected`: each post times the members of its room. */
  const counts = { posts: 0, acks: 0, deliveries: 0, expected: 0 };
  try {
    const deadline = Date.now() + WARM_UP.setupMs;
    const roomCount = Math.max(1, Math.round((WARM_UP.rooms * clientCount) / WARM_UP.clients));
    const members = (r) => Math.floor(clientCount / roomCount) + (r < clientCount % roomCount ? 1 : 0);
    for (let i = 0; i < clientCount; i++) clients.push(warmUpClient(url, i, `w${i % roomCount}`, members(i % roomCount), counts, deadline));
    await Promise.all(clients.map((c) => c.joined));
    const period = 1000 / WARM_UP.postsPerSecond;
    const t0 = performance.now();
    await new Promise((resolve) => {
      const tick = setInterval(() => {
        const t = performance.now() - t0;
        if (t >= WARM_UP.ms) {
          clearInterval(tick);
          resolve();
          return;
        }
        for (let i = 0; i < clients.length; i++) {
          const c = clients[i];
          // Client i posts at i / clients of a period, then every period.
          while (c.sent * period + (i * period) / clients.length <= t) c.post();
        }
      }, 5);
    });
    const drained = Date.now() + WARM_UP.drainMs;
    // Every post acknowledged and delivered to each member of its room.
    while ((counts.acks < counts.posts || counts.deliveries < counts.expected) && Date.now() < drained) await new Promise((r) => setTimeout(r, 10));
  } finally {
    for (const c of clients) c.close();
    directory.kill();
    for (const ref of rooms.values()) ref.kill();
    await Promise.allSettled([directory.exited, ...[...rooms.values()].map((r) => r.exited)]);
  }
  return { ...counts, clients: clients.length, ms: Math.round(performance.now() - t) };
}

/** One client of the warm-up: says hello, joins `room` (of `members` clients), then `post()` sends one post; counts acks and deliveries. */
function warmUpClient(url, i, room, members, counts, deadline) {
  const ws = new WebSocket(url);
  let joinedResolve;
  let joinedReject;
  const joined = new Promise((resolve, reject) => {
    joinedResolve = resolve;
    joinedReject = reject;
  });
  const timer = setTimeout(() => joinedReject(new Error('chat: the warm-up could not join its room')), Math.max(0, deadline - Date.now()));
  ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: `warm-up-${i}` })));
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString('utf8'));
    if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room }));
    else if (f.type === 'joined') {
      clearTimeout(timer);
      joinedResolve();
    } else if (f.type === 'ack') counts.acks++;
    else if (f.type === 'message') counts.deliveries++;
    else if (f.type === 'error' && f.code !== 'rate_limited') joinedReject(new Error(`chat: the warm-up was refused: ${f.code} ${f.message}`));
  });
  ws.on('error', (err) => joinedReject(err));
  ws.on('close', () => joinedReject(new Error('chat: a warm-up connection closed')));
  const c = {
    joined,
    sent: 0,
    post() {
      c.sent++;
      counts.posts++;
      counts.expected += members;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'post', room, text: `warm-up ${i} ${c.sent}` }));
    },
    close() {
      clearTimeout(timer);
      joined.catch(() => {});
      ws.terminate();
    },
  };
  return c;
}

/** The files of public/, by URL path ('/' is index.html); nothing else is served. */
async function publicFiles() {
  const dir = join(HERE, 'public');
  const files = new Map();
  for (const f of await readdir(dir)) {
    const type = TYPES[extname(f)];
    if (type !== undefined) files.set(`/${f}`, { path: join(dir, f), type });
  }
  const index = files.get('/index.html');
  if (index !== undefined) files.set('/', index);
  return files;
}

function serveFile(files, req, res) {
  const path = (req.url ?? '/').split('?')[0];
  const f = files.get(path);
  if ((req.method !== 'GET' && req.method !== 'HEAD') || f === undefined) {
    res.writeHead(f === undefined ? 404 : 405, { 'content-type': 'text/plain' }).end(f === undefined ? 'not found\n' : 'method not allowed\n');
    return;
  }
  readFile(f.path).then(
    (body) => res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(req.method === 'HEAD' ? undefined : body),
    () => res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot read the file\n'),
  );
}

/**
 * The connections by outbox (the id of the inbox that takes their session's
 * frames), and the gateway: an inbox registered as "gateway" that takes the
 * rooms' frames, each message [frame, [outbox, ...], ...], and writes each
 * frame to those connections. A socket is written at most once a turn of the
 * event loop, and at least FLUSH_GAP_MS after its last write: the frames
 * for it in between leave in one write.
 */
class Outboxes {
  #byId = new Map();
  /** When each socket was last written (uncorked), performance.now(). */
  #lastFlush = new WeakMap();
  /** Sockets corked this turn, written at its end. */
  #now = [];
  /** Sockets corked until their due time ([ws, due]), and the timer of the earliest. */
  #later = [];
  #timer = null;
  #timerDue = Infinity;
  #flushNow = () => {
    const list = this.#now;
    this.#now = [];
    for (const ws of list) this.#flush(ws);
  };
  #flushDue = () => {
    this.#timer = null;
    this.#timerDue = Infinity;
    const now = performance.now();
    const keep = [];
    for (const e of this.#later) {
      if (e[1] <= now + 0.5) this.#flush(e[0]);
      else keep.push(e);
    }
    this.#later = keep;
    for (const e of keep) this.#arm(e[1]);
  };

  #flush(ws) {
    this.#lastFlush.set(ws, performance.now());
    ws._socket?.uncork();
  }

  #arm(due) {
    if (due >= this.#timerDue) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(this.#flushDue, Math.max(0, due - performance.now()));
    this.#timer.unref();
  }

  #gap;

  constructor(gapMs) {
    this.#gap = gapMs;
  }

  add(id, connection) {
    this.#byId.set(id, connection);
  }

  delete(id) {
    this.#byId.delete(id);
  }

  /**
   * Writes a frame (JSON text: a string or UTF-8 bytes) to a WebSocket. Its
   * socket is corked: written at the end of the turn, or, when it was
   * written less than the gap ago, at that distance from the last write.
   */
  write(ws, frame) {
    const socket = ws._socket;
    // ws keeps its socket in `_socket` (ws 8); without it, the frame goes as ws sends it.
    if (socket != null && socket.writableCorked === 0) {
      socket.cork();
      const due = (this.#lastFlush.get(ws) ?? -Infinity) + this.#gap;
      if (due <= performance.now()) {
        this.#now.push(ws);
        if (this.#now.length === 1) setImmediate(this.#flushNow);
      } else {
        this.#later.push([ws, due]);
        this.#arm(due);
      }
    }
    ws.send(frame, { binary: false });
  }

  /** Takes the gateway's messages until it is closed. */
  async pump(gateway, log) {
    for await (const m of gateway) {
      let parts;
      try {
        parts = m.value;
      } catch (err) {
        log.warn({ err, from: m.from }, 'chat: a gateway message that is not MessagePack');
        continue;
      }
      if (!Array.isArray(parts)) continue;
      for (let i = 0; i + 1 < parts.length; i += 2) {
        const frame = parts[i];
        const to = parts[i + 1];
        if (!(frame instanceof Uint8Array) || !Array.isArray(to)) continue;
        for (const id of to) this.#byId.get(id)?.send(frame);
      }
    }
  }
}

/** One WebSocket connection: checks what the client sends and hands it to its session; writes what the session sends back. */
class Connection {
  #ws;
  #hive;
  #directory;
  #log;
  #session = null;
  #inbox = null;
  #alive = true;
  #closed = false;
  /** Requests sent to the session and not yet in its mailbox; whether the socket is paused for them. */
  #inflight = 0;
  #paused = false;
  #hello;
  #outboxes;

  constructor(ws, hive, directory, outboxes, log, helloMs) {
    this.#ws = ws;
    this.#outboxes = outboxes;
    this.#hive = hive;
    this.#directory = directory;
    this.#log = log;
    this.#hello = setTimeout(() => this.close(1008, 'hello expected'), helloMs);
    ws.on('message', (data, binary) => this.#onFrame(data, binary));
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('error', (err) => log.debug({ err }, 'chat: connection error'));
    ws.once('close', () => this.#ended());
  }

  /** Sends a ping; a connection that did not answer the last one is dropped. */
  heartbeat() {
    if (!this.#alive) {
      this.#ws.terminate();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  close(code, reason) {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, reason);
    this.#ended();
  }

  #ended() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#hello);
    // Its rooms see the session go (their monitors), and take it out.
    if (this.#session?.alive) this.#session.kill();
    if (this.#inbox !== null) {
      this.#outboxes.delete(this.#inbox.id);
      this.#inbox.close();
    }
  }

  /** Writes a frame (JSON text) to the client; one that does not read is dropped past MAX_BUFFERED. */
  send(frame) {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#outboxes.write(this.#ws, frame);
    if (this.#ws.bufferedAmount > MAX_BUFFERED) this.close(1013, 'too slow: output not read');
  }

  #error(code, message, req) {
    const e = { type: 'error', code, message };
    if (req !== undefined && typeof req.room === 'string' && req.room.length <= LIMITS.maxRoomChars * 4) e.room = req.room;
    if (req !== undefined && validRef(req.ref)) e.ref = req.ref;
    this.send(JSON.stringify(e));
  }

  #onFrame(data, binary) {
    if (this.#closed) return;
    if (binary) return this.#error('bad_request', 'frames are JSON text');
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > LIMITS.maxFrameBytes) return this.#error('too_large', `a frame is at most ${LIMITS.maxFrameBytes} bytes`);
    let req;
    try {
      req = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString('utf8'));
    } catch {
      return this.#error('bad_json', 'not JSON');
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) return this.#error('bad_json', 'a frame is a JSON object');
    if (req.ref !== undefined && !validRef(req.ref)) return this.#error('bad_request', `ref is a string of at most ${REF_CHARS} characters, well-formed Unicode`);
    const ref = req.ref ?? '';
    if (typeof req.type !== 'string') return this.#error('bad_request', 'a frame has a type', req);
    if (req.type === 'ping') return this.send(JSON.stringify(req.ref === undefined ? { type: 'pong' } : { type: 'pong', ref }));
    if (req.type === 'hello') return this.#helloed(req);
    if (!['rooms', 'join', 'leave', 'post'].includes(req.type)) return this.#error('bad_request', `unknown type ${JSON.stringify(req.type.slice(0, 32))}`, req);
    if (this.#session === null) return this.#error('hello_first', 'say hello first', req);
    if (req.type === 'rooms') return this.#toSession(['rooms', ref]);
    if (!validRoom(req.room)) return this.#error('bad_room', `a room name is 1-${LIMITS.maxRoomChars} characters: a-z, 0-9, - and _`, req);
    if (req.type === 'join' || req.type === 'leave') return this.#toSession([req.type, req.room, ref]);
    const text = req.text;
    if (typeof text !== 'string') return this.#error('bad_request', 'a post has a text', req);
    if (chars(text) > LIMITS.maxTextChars) return this.#error('too_large', `a post is at most ${LIMITS.maxTextChars} characters`, req);
    if (text.trim().length === 0) return this.#error('bad_request', 'a post is not empty', req);
    if (!text.isWellFormed()) return this.#error('bad_request', 'a post is well-formed Unicode', req);
    this.#toSession(['post', req.room, text, Date.now(), ref]);
  }

  #helloed(req) {
    if (this.#session !== null) return this.#error('bad_request', 'hello only once', req);
    if (!validName(req.name)) return this.#error('bad_name', `a name is 1-${LIMITS.maxNameChars} characters: letters, digits, _, -, . and spaces inside`, req);
    clearTimeout(this.#hello);
    try {
      this.#inbox = this.#hive.inbox({ maxMessages: 10_000, maxBytes: 8 << 20 });
      this.#session = this.#hive.spawn('session', { init: { name: req.name, out: this.#inbox.ref, dir: this.#directory } });
    } catch (err) {
      // (A full hive, or one closing: the connection goes, the server stays.)
      this.#log.warn({ err }, 'chat: cannot start a session');
      this.#inbox?.close();
      this.#inbox = null;
      return this.close(1013, 'cannot start a session');
    }
    const inbox = this.#inbox;
    const welcome = { type: 'welcome', name: req.name, limits: LIMITS };
    if (req.ref !== undefined) welcome.ref = req.ref;
    this.#outboxes.add(inbox.id, this);
    this.send(JSON.stringify(welcome));
    void this.#pump(inbox);
    void this.#session.exited.then((reason) => {
      if (!this.#closed) {
        this.#log.warn({ reason }, 'chat: a session ended');
        this.close(1011, 'session ended');
      }
    });
  }

  async #pump(inbox) {
    for await (const m of inbox) this.send(m.bytes);
  }

  #toSession(msg) {
    this.#inflight++;
    if (this.#inflight >= PAUSE_AT && !this.#paused) {
      this.#paused = true;
      this.#ws.pause();
    }
    this.#session.sendWait(msg, { timeout: SESSION_STUCK_MS }).then(
      () => {
        this.#inflight--;
        if (this.#paused && this.#inflight <= RESUME_AT && !this.#closed) {
          this.#paused = false;
          this.#ws.resume();
        }
      },
      (err) => {
        this.#inflight--;
        if (this.#closed) return;
        this.#log.warn({ err }, 'chat: the session took no request');
        this.close(1011, 'session ended');
      },
    );
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string' },
      data: { type: 'string', default: './data' },
      store: { type: 'string' },
      bucket: { type: 'string' },
      workers: { type: 'string', default: String(defaultWorkers()) },
      'max-connections': { type: 'string', default: '10000' },
      'no-warm-up': { type: 'boolean', default: false },
      tier: { type: 'string', default: 'interpreter' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const int = (v, what) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${what} takes a non-negative integer, not ${JSON.stringify(v)}`);
    return n;
  };
  const chat = await startChat({
    port: int(values.port, 'port'),
    host: values.host,
    data: values.data,
    store: values.store,
    bucket: values.bucket,
    workers: int(values.workers, 'workers'),
    maxConnections: int(values['max-connections'], 'max-connections'),
    warmUp: !values['no-warm-up'],
    tier: values.tier,
    quiet: values.quiet,
  });
  console.log(`chat: ${chat.url.replace(/\/$/, '')}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    chat.close().then(() => process.exit(0), (err) => {
      console.error('chat: closing failed:', err);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`chat: ${err?.message ?? err}`);
    process.exit(1);
  });
}
