#!/usr/bin/env node
/**
 * A load generator for the chat: many clients posting steadily, and what
 * reached them.
 *
 *   node examples/chat/load.mjs --clients 200 --rooms 10 --seconds 20 [--rate 6] [--workers W] [--url ws://host:port/ws] [--json FILE]
 *
 * Without --url it starts a server of its own in a child process
 * (`node examples/chat/server.mjs --port 0 --data TMP --quiet [--workers W]`,
 * its data in a fresh temporary directory, deleted after), and stops it with
 * SIGTERM at the end. --workers is passed to that server (ignored with --url);
 * --server FILE starts another script than server.mjs (with the same arguments).
 *
 * What it does: N WebSocket clients, `load-<i>`, client i in room
 * `load-<i % R>`. Once every client has joined, each posts `--rate` posts a
 * second (default 6: 200 clients in 10 rooms, 20 members a room, aim at
 * 200 x 6 x 20 = 24,000 deliveries a second; under the server's budget of
 * 10 a second per connection) for --seconds S, its first post at a random
 * moment of its first period so that the clients do not post in step. One
 * interval ticks every client. A generator that fell behind (its event loop
 * stalled) posts what it owes at once, at most one second's worth (the
 * budget's burst absorbs that); beyond that it skips posts, and says so.
 * Then it waits for the deliveries to drain: until every answer and every
 * expected delivery arrived, or 10 s passed.
 *
 * A post's text carries this run's tag, the client's index, a sequence
 * number and the time it was sent (performance.now() of this process, which
 * is where it is received too).
 *
 * The figures:
 *   sent      posts sent in the window, whether answered or not (an
 *             unanswered one is reported on stderr; it is not expected anywhere).
 *   expected  over the posts acknowledged (`ack`), the members of the post's
 *             room: every client joined before the posting started and none
 *             leaves, so the clients of that room (the author included). A
 *             post refused with an `error` (rate_limited, ...) is expected nowhere.
 *   delivered `message` frames received that are a post of this run, each
 *             (post, receiver) counted once; duplicates are counted apart
 *             (stderr), as are messages of this run in a room they were not
 *             posted to.
 *   lost      expected - delivered (negative if posts not acknowledged by the
 *             end were delivered anyway).
 *   deliveriesPerSecond  delivered / the posting window (S seconds, the time
 *             over which posts were sent). Deliveries that arrive during the
 *             drain, after the window, count in `delivered`: the summary says
 *             how many came in the window itself and how long the drain took,
 *             so that a server that falls behind shows it.
 *   p50Ms, p99Ms  post-to-receipt times over all deliveries (including
 *             the generator's own delays: it shares the machine with the server).
 *             The summary also gives the p99 of the posts sent in each second
 *             of the window, which shows whether a tail is a moment (a cold
 *             start, a pause) or the whole run.
 * Errors (by code) and closed connections are reported on stderr; the CPU
 * used by the generator and by the server (its process, from /proc, when it
 * is its own child) over the window is in the summary.
 *
 * --json FILE writes exactly { sent, delivered, expected, lost,
 * deliveriesPerSecond, p50Ms, p99Ms } (null where there is no figure).
 * The exit code is 0 unless the run could not be made at all (no server, no
 * client joined), then 1; 2 for a bad argument.
 */
import { parseArgs as parseCommandLine } from 'node:util';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const DRAIN_MS = 10_000;
const SETUP_MS = 60_000;
const CONNECT_CONCURRENCY = 20;
const TICK_MS = 5;

function usage(message) {
  process.stderr.write(`${message}\nusage: node examples/chat/load.mjs --clients N --rooms R --seconds S [--rate P] [--workers W] [--url URL] [--json FILE]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let values;
  try {
    ({ values } = parseCommandLine({
      args: argv,
      options: {
        clients: { type: 'string', default: '200' },
        rooms: { type: 'string', default: '10' },
        seconds: { type: 'string', default: '10' },
        rate: { type: 'string', default: '6' },
        workers: { type: 'string' },
        url: { type: 'string' },
        json: { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage('');
  const number = (name, min) => {
    const n = Number(values[name]);
    if (!(Number.isFinite(n) && n >= min)) usage(`--${name}: a number >= ${min}`);
    return n;
  };
  const o = {
    clients: Math.floor(number('clients', 1)),
    rooms: Math.floor(number('rooms', 1)),
    seconds: number('seconds', 0.1),
    rate: number('rate', 0.01),
    workers: values.workers === undefined ? null : Math.floor(number('workers', 0)),
    url: values.url ?? null,
    json: values.json ?? null,
    server: values.server ?? null,
  };
  if (o.rooms > o.clients) usage('--rooms must not exceed --clients');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// The server

/** Starts server.mjs in a child process; resolves with its ws url. */
async function startServer(dataDir) {
  const script = opts.server ?? fileURLToPath(new URL('./server.mjs', import.meta.url));
  const args = [script, '--port', '0', '--data', dataDir, '--quiet', ...(opts.workers !== null ? ['--workers', String(opts.workers)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.setEncoding('utf8');
  let errTail = '';
  child.stderr.on('data', (s) => {
    errTail = (errTail + s).slice(-4000);
    for (const l of s.split('\n')) if (l !== '') log(`server: ${l}`);
  });
  child.stdout.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not say where it listens in ${SETUP_MS / 1000} s`)), SETUP_MS);
    const onData = (s) => {
      out += s;
      const m = /chat: (https?):\/\/([^\s/]+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume(); // whatever else it prints is not read
      resolve(`${m[1] === 'https' ? 'wss' : 'ws'}://${m[2]}/ws`);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before listening${errTail !== '' ? `:\n${errTail}` : ''}`));
    });
  });
  return { child, url };
}

/** SIGTERM, then SIGKILL after 10 s; resolves with how it ended. */
async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const ended = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const how = await ended;
  clearTimeout(timer);
  return how;
}

/** CPU seconds used by a process so far (Linux /proc), or null. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of stat (here from the 3rd), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// The clients

const tag = `L${Math.random().toString(36).slice(2, 8)}`;
const roomNames = Array.from({ length: opts.rooms }, (_, r) => `load-${r}`);
/** Clients per room. */
const roomSize = new Array(opts.rooms).fill(0);
const clients = [];

const stats = {
  sent: 0,
  acked: 0,
  refused: 0,
  expected: 0,
  delivered: 0,
  deliveredInWindow: 0,
  duplicates: 0,
  misrouted: 0,
  foreign: 0,
  skipped: 0,
  errors: new Map(),
  closes: new Map(),
  lastDeliveryAt: 0,
};
/** A copy of `a` in an array twice as long. */
function doubled(a) {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
let latencies = new Float64Array(1 << 16);
let sentAts = new Float64Array(1 << 16);
let posting = false;
let windowEnd = Infinity;
let windowStart = 0;

const countError = (code) => stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);

function onFrame(c, data) {
  const now = performance.now();
  let f;
  try {
    f = JSON.parse(data);
  } catch {
    countError('(frame not JSON)');
    return;
  }
  switch (f.type) {
    case 'message': {
      const text = f.text;
      if (typeof text !== 'string' || !text.startsWith(tag)) {
        stats.foreign++;
        return;
      }
      // `<tag> <author> <seq> <sent at>`
      const s1 = text.indexOf(' ');
      const s2 = text.indexOf(' ', s1 + 1);
      const s3 = text.indexOf(' ', s2 + 1);
      const author = Number(text.slice(s1 + 1, s2));
      const seq = Number(text.slice(s2 + 1, s3));
      const sentAt = Number(text.slice(s3 + 1));
      const a = clients[author];
      if (a === undefined || !(seq >= 0 && seq < a.seq)) {
        stats.foreign++;
        return;
      }
      if (f.room !== a.room) {
        stats.misrouted++;
        return;
      }
      const key = author * 1_000_000 + seq;
      if (c.seen.has(key)) {
        stats.duplicates++;
        return;
      }
      c.seen.add(key);
      if (stats.delivered === latencies.length) {
        latencies = doubled(latencies);
        sentAts = doubled(sentAts);
      }
      sentAts[stats.delivered] = sentAt;
      latencies[stats.delivered++] = now - sentAt;
      if (now <= windowEnd) stats.deliveredInWindow++;
      stats.lastDeliveryAt = now;
      return;
    }
    case 'ack':
      if (f.ref !== undefined) {
        c.answered++;
        stats.acked++;
        stats.expected += roomSize[c.roomIndex];
      }
      return;
    case 'error':
      countError(f.code);
      if (f.ref !== undefined && f.ref !== 'hello' && f.ref !== 'join') {
        c.answered++;
        stats.refused++;
      } else if (f.ref === 'hello' || f.ref === 'join') c.fail?.(new Error(`${f.ref}: ${f.code}: ${f.message}`));
      return;
    case 'welcome':
      if (f.ref === 'hello') c.ws.send(JSON.stringify({ type: 'join', room: c.room, ref: 'join' }));
      return;
    case 'joined':
      if (f.ref === 'join') {
        c.joined = true;
        c.done?.();
      }
      return;
    default:
      // presence, pong, rooms, left: not counted.
      return;
  }
}

function connect(i) {
  const roomIndex = i % opts.rooms;
  const c = { i, name: `load-${i}`, roomIndex, room: roomNames[roomIndex], ws: null, joined: false, closed: false, seq: 0, answered: 0, next: 0, seen: new Set(), done: null, fail: null };
  clients[i] = c;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no join in 30 s')), 30_000);
    c.done = () => {
      clearTimeout(timer);
      c.done = c.fail = null;
      resolve();
    };
    c.fail = (err) => {
      clearTimeout(timer);
      c.done = c.fail = null;
      reject(err);
    };
    const ws = new WebSocket(opts.url ?? serverUrl, { perMessageDeflate: false, skipUTF8Validation: true });
    c.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: c.name, ref: 'hello' })));
    ws.on('message', (data) => onFrame(c, data));
    ws.on('error', (err) => c.fail?.(err));
    ws.on('close', (code) => {
      c.closed = true;
      c.fail?.(new Error(`closed (${code}) before joining`));
      if (posting || stats.sent > 0) stats.closes.set(code, (stats.closes.get(code) ?? 0) + 1);
    });
  });
}

/** Connects every client, CONNECT_CONCURRENCY at a time. */
async function connectAll() {
  let nextIndex = 0;
  const failures = [];
  const worker = async () => {
    while (nextIndex < opts.clients) {
      const i = nextIndex++;
      try {
        await connect(i);
        roomSize[clients[i].roomIndex]++;
      } catch (err) {
        failures.push(`load-${i}: ${err.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, opts.clients) }, worker));
  return failures;
}

/** The p99 latency of the deliveries of the posts sent in each second of the window (where the tail comes from). */
function bySecond() {
  const seconds = Math.ceil(opts.seconds);
  const buckets = Array.from({ length: seconds }, () => []);
  for (let i = 0; i < stats.delivered; i++) {
    const s = Math.floor((sentAts[i] - windowStart) / 1000);
    if (s >= 0 && s < seconds) buckets[s].push(latencies[i]);
  }
  return buckets.map((b) => (b.length === 0 ? '-' : String(Math.round(percentile(b.sort((x, y) => x - y), 0.99)))));
}

/** Posts for `seconds`, every joined client at `rate`, one interval ticking all. */
function postFor(seconds) {
  const period = 1000 / opts.rate;
  const live = clients.filter((c) => c.joined);
  const start = performance.now() + 20;
  const end = start + seconds * 1000;
  windowEnd = end;
  windowStart = start;
  for (const c of live) c.next = start + Math.random() * period;
  posting = true;
  return new Promise((resolve) => {
    const tick = () => {
      const now = Math.min(performance.now(), end);
      for (let k = 0; k < live.length; k++) {
        const c = live[k];
        if (c.next > now) continue;
        if (c.closed) continue;
        // More than a second behind: those posts are skipped, not sent in a burst.
        if (now - c.next > 1000) {
          const behind = Math.floor((now - c.next - 1000) / period) + 1;
          stats.skipped += behind;
          c.next += behind * period;
        }
        while (c.next <= now) {
          const seq = c.seq++;
          c.ws.send(`{"type":"post","room":"${c.room}","text":"${tag} ${c.i} ${seq} ${performance.now().toFixed(3)}","ref":"${seq}"}`);
          stats.sent++;
          c.next += period;
        }
      }
      if (performance.now() >= end) {
        clearInterval(interval);
        posting = false;
        resolve(performance.now() - start);
      }
    };
    const interval = setInterval(tick, TICK_MS);
  });
}

/** Waits until every post is answered and every expected delivery arrived, or DRAIN_MS. Resolves with the ms waited. */
async function drain() {
  const from = performance.now();
  while (performance.now() - from < DRAIN_MS) {
    if (stats.acked + stats.refused >= stats.sent && stats.delivered >= stats.expected) break;
    await sleep(20);
  }
  return performance.now() - from;
}

// ---------------------------------------------------------------------------

const percentile = (sorted, p) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]);
const round = (x, digits) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

let stopping = false;
let serverUrl = null;
let server = null;
let dataDir = null;
let exitCode = 0;
try {
  if (opts.url === null) {
    dataDir = await mkdtemp(join(tmpdir(), 'chat-load-'));
    const started = await startServer(dataDir);
    server = started.child;
    serverUrl = started.url;
    server.on('exit', (code, signal) => {
      if (!stopping) log(`! the server exited during the run (${signal ?? code})`);
    });
  }
  const url = opts.url ?? serverUrl;
  if (opts.rate > 10) log(`note: --rate ${opts.rate} is over the server's budget of 10 posts a second per connection: expect rate_limited`);
  log(`load: ${opts.clients} clients in ${opts.rooms} rooms at ${opts.rate} posts/s each for ${opts.seconds} s on ${url}${server !== null ? ` (server pid ${server.pid}${opts.workers !== null ? `, --workers ${opts.workers}` : ''})` : ''}`);

  const setupFrom = performance.now();
  const failures = await connectAll();
  const joined = clients.filter((c) => c.joined).length;
  log(`joined: ${joined}/${opts.clients} in ${((performance.now() - setupFrom) / 1000).toFixed(1)} s`);
  if (failures.length > 0) log(`! ${failures.length} clients did not join: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; ...' : ''}`);
  if (joined === 0) throw new Error('no client joined');

  const cpu0 = process.cpuUsage();
  const serverCpu0 = server !== null ? cpuOf(server.pid) : null;
  const windowMs = await postFor(opts.seconds);
  const cpu1 = process.cpuUsage(cpu0);
  const serverCpu1 = server !== null ? cpuOf(server.pid) : null;
  const drainMs = await drain();

  // (Before the sort below, which reorders `latencies` in place.)
  const perSecond = bySecond();
  const sorted = latencies.subarray(0, stats.delivered).sort();
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  const unanswered = stats.sent - stats.acked - stats.refused;
  const result = {
    sent: stats.sent,
    delivered: stats.delivered,
    expected: stats.expected,
    lost: stats.expected - stats.delivered,
    deliveriesPerSecond: round(stats.delivered / opts.seconds, 1),
    p50Ms: round(p50, 2),
    p99Ms: round(p99, 2),
  };
  const maxLatency = stats.delivered > 0 ? sorted[stats.delivered - 1] : null;
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  const lines = [
    `posting window: ${opts.seconds} s (measured ${(windowMs / 1000).toFixed(2)} s); drain after it: ${(drainMs / 1000).toFixed(2)} s${stats.acked + stats.refused >= stats.sent && stats.delivered >= stats.expected ? '' : ' (gave up)'}`,
    `sent:      ${result.sent} posts (acked ${stats.acked}, refused ${stats.refused}, unanswered ${unanswered}${stats.skipped > 0 ? `; ${stats.skipped} skipped: the generator fell behind` : ''})`,
    `expected:  ${result.expected} deliveries (acked posts x members of their room)`,
    `delivered: ${result.delivered} (${stats.deliveredInWindow} within the window)`,
    `lost:      ${result.lost}`,
    `rate:      ${result.deliveriesPerSecond} deliveries/s (delivered / ${opts.seconds} s window; within the window alone ${round(stats.deliveredInWindow / opts.seconds, 1)}/s); posts acked ${round(stats.acked / opts.seconds, 1)}/s`,
    `latency:   p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${round(maxLatency, 1)} ms (post to receipt)`,
    `p99 of the posts of each second of the window (ms): ${perSecond.join(' ')}`,
    `cpu over the window: generator ${pct((cpu1.user + cpu1.system) / 1e6 / (windowMs / 1000))} of a core${serverCpu0 !== null && serverCpu1 !== null ? `, server ${pct((serverCpu1 - serverCpu0) / (windowMs / 1000))} of a core` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (stats.errors.size > 0) log(`errors: ${[...stats.errors].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (stats.duplicates > 0) log(`! duplicates: ${stats.duplicates} messages received again by the same client`);
  if (stats.misrouted > 0) log(`! misrouted: ${stats.misrouted} messages of this run in a room they were not posted to`);
  if (unanswered > 0) log(`! unanswered: ${unanswered} posts had neither ack nor error at the end`);
  if (stats.closes.size > 0) log(`! connections closed during the run: ${[...stats.closes].map(([k, v]) => `code ${k}: ${v}`).join(', ')}`);
  if (opts.json !== null) await writeFile(opts.json, `${JSON.stringify(result)}\n`);
} catch (err) {
  log(`! load: ${err.message}`);
  exitCode = 1;
}

stopping = true;
for (const c of clients) c?.ws?.terminate();
if (server !== null) {
  const how = await stopServer(server);
  if (how.code !== 0) log(`! the server ended with ${how.signal ?? `code ${how.code}`}`);
}
if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
process.exit(exitCode);
