#!/usr/bin/env node
/**
 * A terminal client of the chat (the protocol is in README.md).
 *
 *   node examples/chat/cli.mjs --name ann --room lobby [--url ws://localhost:8080/ws] [--print-json]
 *
 * The url defaults to $CHAT_URL, else ws://localhost:8080/ws. `--room` may be
 * given more than once (the last one is where typed lines go); without it the
 * client joins `lobby`.
 *
 * It says hello, joins, prints the history and then what happens:
 *
 *   [12:04] bob: hi                   a message (of a room other than the current
 *   [12:04] #random bob: hi           one: with its name)
 *   * bob joined (3 here)             presence
 *   ! rate_limited: ...               an error
 *
 * A line typed is posted to the current room; commands: /join room, /leave
 * [room], /rooms, /switch room, /who, /quit, /help. The client paces its posts
 * to the server's budget (the `limits` of `welcome`), so a pasted or piped
 * batch of lines is posted whole, not refused.
 *
 * When the connection goes (the server restarted, or closed it), the client
 * reconnects by itself (after 0.5 s, doubling to 5 s), says hello again,
 * re-joins its rooms and prints only the messages whose ids it has not printed.
 * A post sent but not acknowledged when the connection went is looked for in
 * the history of the re-join (by name and text, past the last id seen when it
 * was sent) and posted again only if it is not there.
 *
 * With stdin not a terminal it reads the lines from stdin (commands too), in
 * order: a `/join` is answered before the lines after it are read. At the end
 * of stdin, or on /quit, it waits (10 s at most, `--drain-ms`) until its posts
 * are acknowledged and have come back as messages, then exits 0. `--print-json`
 * prints each frame received as one JSON line on stdout instead (its own
 * notices go to stderr), for tests and scripts.
 *
 * Exit codes: 0 on /quit or end of input; 2 on a bad argument, a name the
 * server refused, or a first room it refused.
 *
 * `ChatClient`, exported, is the connection with its reconnection (the tests
 * use it).
 */
import { EventEmitter } from 'node:events';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import { WebSocket } from 'ws';

/**
 * A connection to the chat that reconnects by itself: hello, then the rooms
 * joined (re-joined after a reconnection).
 *
 * Events: `frame` (f, raw) every frame received; `message` (m, { history })
 * a message whose id was not seen before in its room (history: it came in a
 * `joined`); `joined` (f) a `joined` answer, before its messages are emitted;
 * `presence` (f); `fault` (f) an error frame that answers no request of
 * `request`; `ready` ({ reconnected }) once welcomed and the rooms re-joined;
 * `disconnected` ({ code, reason, delayMs }) the connection went, a new one is
 * tried after delayMs; `fatal` (Error) the client gave up (bad name); `closed`.
 */
export class ChatClient extends EventEmitter {
  /** The rooms joined (re-joined after a reconnection), in the order joined. */
  rooms = new Set();
  /** Each joined room's members, as last told. */
  members = new Map();
  /** The highest message id seen, per room. */
  lastId = new Map();
  /** `welcome`'s limits (null before the first). */
  limits = null;
  /** Whether the client is welcomed and has re-joined its rooms. */
  ready = false;
  /** Connections made (1 after the first). */
  connections = 0;

  #url;
  #name;
  #reconnect;
  #minBackoffMs;
  #maxBackoffMs;
  #heartbeatMs;
  #backoffMs;
  #ws = null;
  #refs = 0;
  /** ref -> { resolve, reject } of the requests without an answer yet. */
  #waiting = new Map();
  /** Rooms whose join this connection has asked and not been answered: their messages wait in a buffer. */
  #joining = new Map();
  #timer = null;
  #heartbeat = null;
  #pongDue = 0;
  #closed = false;
  #readyWaiters = [];

  /**
   * @param {{ url: string, name: string, rooms?: string[], reconnect?: boolean, minBackoffMs?: number, maxBackoffMs?: number, heartbeatMs?: number }} options
   */
  constructor({ url, name, rooms = [], reconnect = true, minBackoffMs = 500, maxBackoffMs = 5000, heartbeatMs = 15_000 }) {
    super();
    this.#url = url;
    this.#name = name;
    for (const r of rooms) this.rooms.add(r);
    this.#reconnect = reconnect;
    this.#minBackoffMs = minBackoffMs;
    this.#maxBackoffMs = maxBackoffMs;
    this.#heartbeatMs = heartbeatMs;
    this.#backoffMs = minBackoffMs;
  }

  get name() {
    return this.#name;
  }

  /** Connects (once); resolves when first ready. */
  start() {
    if (this.#ws === null && this.#timer === null && !this.#closed) this.#connect();
    return this.whenReady();
  }

  /** Resolves when the client is ready (at once if it is); rejects if it is closed first. */
  whenReady() {
    if (this.ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('closed'));
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /**
   * Sends a request with a fresh `ref`; resolves with the first frame that
   * carries it back (an answer or an `error`). Rejects if the connection goes
   * first (the request may or may not have been done), or is not open.
   */
  request(frame) {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    const ref = `r${++this.#refs}`;
    return new Promise((resolve, reject) => {
      this.#waiting.set(ref, { resolve, reject });
      ws.send(JSON.stringify({ ...frame, ref }));
    });
  }

  /** Joins a room (the client re-joins it after a reconnection); resolves with the answer (`joined` or `error`). */
  async join(room) {
    const f = await this.#join(room);
    if (f.type === 'joined') this.rooms.add(room);
    return f;
  }

  /** Leaves a room; resolves with the answer (`left` or `error`). */
  async leave(room) {
    this.rooms.delete(room);
    const f = await this.request({ type: 'leave', room });
    if (f.type === 'left') this.members.delete(room);
    return f;
  }

  /** Posts; resolves with `ack` or `error`. */
  post(room, text) {
    return this.request({ type: 'post', room, text });
  }

  /** Closes for good. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.ready = false;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    this.#timer = null;
    const ws = this.#ws;
    this.#ws = null;
    if (ws !== null) {
      ws.removeAllListeners('message');
      ws.close(1000);
      // A server that does not answer the close is not waited for.
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    this.#failWaiting(new Error('closed'));
    for (const w of this.#readyWaiters.splice(0)) w.reject(new Error('closed'));
    this.emit('closed');
  }

  #join(room) {
    this.#joining.set(room, []);
    return this.request({ type: 'join', room }).finally(() => {
      // A join that failed (or whose connection went): its buffered messages are dropped with it.
      if (this.#joining.get(room)?.length === 0) this.#joining.delete(room);
    });
  }

  #connect() {
    this.#timer = null;
    this.connections++;
    const ws = new WebSocket(this.#url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.#ws = ws;
    ws.on('open', () => void this.#opened(ws));
    ws.on('message', (data) => this.#frame(data.toString()));
    ws.on('pong', () => {});
    ws.on('error', () => {}); // 'close' follows
    ws.on('close', (code, reason) => this.#gone(ws, code, reason.toString()));
  }

  async #opened(ws) {
    try {
      const welcome = await this.request({ type: 'hello', name: this.#name });
      if (welcome.type !== 'welcome') {
        // The server refused the name: no use trying again.
        this.emit('fatal', Object.assign(new Error(`${welcome.code}: ${welcome.message}`), { frame: welcome }));
        this.close();
        return;
      }
      this.limits = welcome.limits;
      this.#startHeartbeat(ws);
      for (const room of [...this.rooms]) {
        const f = await this.#join(room);
        if (f.type !== 'joined') {
          // A room that cannot be re-joined now (unavailable): the connection is started again later.
          if (f.code === 'unavailable') throw Object.assign(new Error('unavailable'), { frame: f });
          this.rooms.delete(room);
          this.emit('fault', f);
        }
      }
    } catch {
      // The connection went (its close schedules the next), or a room was unavailable.
      if (this.#ws === ws) ws.terminate();
      return;
    }
    if (this.#ws !== ws) return;
    this.#backoffMs = this.#minBackoffMs;
    this.ready = true;
    this.emit('ready', { reconnected: this.connections > 1 });
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
  }

  #startHeartbeat(ws) {
    clearInterval(this.#heartbeat);
    if (this.#heartbeatMs <= 0) return;
    this.#pongDue = 0;
    // A ping each period; a server that has not answered the previous one by the next is taken as gone.
    this.#heartbeat = setInterval(() => {
      if (this.#ws !== ws) return;
      if (this.#pongDue !== 0) {
        ws.terminate();
        return;
      }
      this.#pongDue = Date.now();
      this.request({ type: 'ping' }).then(
        () => (this.#pongDue = 0),
        () => {},
      );
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #gone(ws, code, reason) {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.ready = false;
    clearInterval(this.#heartbeat);
    this.#joining.clear();
    this.#failWaiting(new Error(`disconnected (${code})`));
    if (this.#closed) return;
    if (!this.#reconnect) {
      this.emit('disconnected', { code, reason, delayMs: null });
      this.close();
      return;
    }
    const delayMs = this.#backoffMs;
    this.#backoffMs = Math.min(this.#maxBackoffMs, this.#backoffMs * 2);
    this.emit('disconnected', { code, reason, delayMs });
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #failWaiting(err) {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) w.reject(err);
  }

  #frame(raw) {
    let f;
    try {
      f = JSON.parse(raw);
    } catch {
      return;
    }
    if (f === null || typeof f !== 'object') return;
    this.emit('frame', f, raw);
    switch (f.type) {
      case 'message': {
        const buffer = this.#joining.get(f.room);
        if (buffer !== undefined) buffer.push(f);
        else this.#message(f, false);
        break;
      }
      case 'joined': {
        this.members.set(f.room, Array.isArray(f.members) ? f.members : []);
        this.emit('joined', f);
        const buffered = this.#joining.get(f.room) ?? [];
        this.#joining.delete(f.room);
        for (const m of Array.isArray(f.history) ? f.history : []) this.#message(m, true);
        for (const m of buffered) this.#message(m, false);
        break;
      }
      case 'presence':
        if (Array.isArray(f.members)) this.members.set(f.room, f.members);
        this.emit('presence', f);
        break;
      case 'left':
        this.members.delete(f.room);
        break;
    }
    if (typeof f.ref === 'string') {
      const w = this.#waiting.get(f.ref);
      if (w !== undefined) {
        this.#waiting.delete(f.ref);
        w.resolve(f);
        return;
      }
    }
    if (f.type === 'error') this.emit('fault', f);
  }

  #message(m, history) {
    const last = this.lastId.get(m.room) ?? 0;
    if (!(m.id > last)) return;
    this.lastId.set(m.room, m.id);
    this.emit('message', m, { history });
  }
}

// ---------------------------------------------------------------------------
// The terminal client

const HELP = `commands:
  /join room      join a room (made if it does not exist); lines then go there
  /leave [room]   leave a room (the current one by default)
  /rooms          list the rooms
  /switch room    send lines to this room (joined)
  /who            who is in the current room
  /quit           leave (after the posts are acknowledged)
  /help           this
anything else is posted to the current room`;

function usage(message) {
  process.stderr.write(`${message}\nusage: node examples/chat/cli.mjs --name NAME [--room ROOM]... [--url ws://host:port/ws] [--print-json] [--drain-ms MS]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let values;
  try {
    ({ values } = parseCommandLine({
      args: argv,
      options: {
        name: { type: 'string' },
        room: { type: 'string', multiple: true, default: [] },
        url: { type: 'string', default: process.env['CHAT_URL'] || 'ws://localhost:8080/ws' },
        'print-json': { type: 'boolean', default: false },
        'drain-ms': { type: 'string', default: '10000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) {
    process.stdout.write(`usage: node examples/chat/cli.mjs --name NAME [--room ROOM]... [--url URL] [--print-json]\n${HELP}\n`);
    process.exit(0);
  }
  const o = { name: values.name ?? null, rooms: [...values.room], url: values.url, printJson: values['print-json'], drainMs: Number(values['drain-ms']) };
  if (o.name === null) usage('--name is required');
  if (!/^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$/.test(o.name)) usage('a name is 1-32 letters, digits, _ - . (and spaces inside)');
  if (o.rooms.length === 0) o.rooms.push('lobby');
  for (const r of o.rooms) if (!/^[a-z0-9_-]{1,32}$/.test(r)) usage(`bad room ${JSON.stringify(r)}: 1-32 of a-z 0-9 - _`);
  if (!(Number.isFinite(o.drainMs) && o.drainMs >= 0)) usage('--drain-ms is a number of milliseconds');
  return o;
}

const hhmm = (ts) => {
  const d = new Date(typeof ts === 'number' ? ts : Date.now());
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // A reader that went (`| head`) ends the client.
  process.stdout.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const client = new ChatClient({ url: opts.url, name: opts.name, rooms: [...new Set(opts.rooms)] });
  let current = opts.rooms[opts.rooms.length - 1];
  let rl = null;

  const prompt = () => `${current ?? '(no room)'}> `;
  /** A line of the conversation on stdout: none in --print-json mode, where the frames are printed instead. */
  const say = (line) => {
    if (opts.printJson) return;
    write(line);
  };
  /** A notice of the client's own (a command's answer, a reconnection): stdout, or stderr in --print-json mode. */
  const notice = (line) => {
    if (opts.printJson) process.stderr.write(`${line}\n`);
    else write(line);
  };
  const write = (line) => {
    if (rl !== null && interactive) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
      process.stdout.write(`${line}\n`);
      rl.setPrompt(prompt());
      rl.prompt(true);
    } else process.stdout.write(`${line}\n`);
  };

  // --- posts: paced to the server's budget, re-sent after a reconnection when the server did not take them
  /** Lines to post, in order: { room, text, afterId }. */
  const queue = [];
  /** Posts sent and not answered. */
  const inFlight = new Set();
  /** Posts whose connection went before the answer: looked for in the next join's history. */
  const uncertain = [];
  /** Acked posts whose message has not come back yet: room -> Set of ids. */
  const echoes = new Map();
  let tokens = 0;
  let refilled = performance.now();
  let pumpTimer = null;
  let progress = () => {};

  const budget = () => {
    const l = client.limits ?? { postsPerSecond: 10, postBurst: 20 };
    // A little under the server's own bucket, so that jitter on the way does not get a post refused.
    return { rate: Math.max(0.5, l.postsPerSecond * 0.9), burst: Math.max(1, l.postBurst - 2) };
  };
  client.on('ready', () => {
    // A new session has a full budget.
    tokens = budget().burst;
    refilled = performance.now();
  });

  const pump = () => {
    pumpTimer = null;
    const { rate, burst } = budget();
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - refilled) / 1000) * rate);
    refilled = now;
    while (queue.length > 0 && client.ready) {
      const p = queue[0];
      if (!client.rooms.has(p.room)) {
        queue.shift();
        notice(`! not_joined: not posted to ${p.room}: ${p.text}`);
        continue;
      }
      if (tokens < 1) {
        pumpTimer = setTimeout(pump, Math.ceil(((1 - tokens) / rate) * 1000));
        return;
      }
      tokens -= 1;
      queue.shift();
      send(p);
    }
    progress();
  };
  const schedule = (ms = 0) => {
    if (pumpTimer === null) pumpTimer = setTimeout(pump, ms);
  };
  const send = (p) => {
    p.afterId = client.lastId.get(p.room) ?? 0;
    inFlight.add(p);
    client.post(p.room, p.text).then(
      (f) => {
        inFlight.delete(p);
        if (f.type === 'ack') {
          if (!((client.lastId.get(f.room) ?? 0) >= f.id)) {
            if (!echoes.has(f.room)) echoes.set(f.room, new Set());
            echoes.get(f.room).add(f.id);
          }
        } else if (f.code === 'rate_limited') {
          // Dropped by the server: again, once the budget allows.
          queue.unshift(p);
          tokens = 0;
          schedule(Math.ceil(1000 / budget().rate));
        } else say(`! ${f.code}: ${f.message}`);
        progress();
      },
      () => {
        inFlight.delete(p);
        uncertain.push(p);
        progress();
      },
    );
  };
  client.on('joined', (f) => {
    // Posts whose answer the connection lost: in the history (by this name and text, after the id seen at sending), or posted again.
    const mine = (Array.isArray(f.history) ? f.history : []).filter((m) => m.name === opts.name);
    const again = [];
    for (let i = 0; i < uncertain.length; ) {
      const p = uncertain[i];
      if (p.room !== f.room) {
        i++;
        continue;
      }
      uncertain.splice(i, 1);
      const k = mine.findIndex((m) => m.id > p.afterId && m.text === p.text);
      if (k >= 0) mine.splice(k, 1);
      else again.push(p);
    }
    queue.unshift(...again);
  });
  client.on('ready', () => schedule());

  // --- what the server says
  client.on('frame', (f, raw) => {
    if (opts.printJson) process.stdout.write(`${raw.includes('\n') ? JSON.stringify(f) : raw}\n`);
  });
  client.on('message', (m) => {
    echoes.get(m.room)?.delete(m.id);
    if (echoes.get(m.room)?.size === 0) echoes.delete(m.room);
    progress();
    if (opts.printJson) return;
    const where = m.room !== current ? `#${m.room} ` : '';
    say(`[${hhmm(m.ts)}] ${where}${m.name}: ${m.text}`);
  });
  client.on('presence', (f) => {
    const n = Array.isArray(f.members) ? f.members.length : 0;
    const where = f.room !== current ? ` #${f.room}` : '';
    say(`*${where} ${f.name} ${f.event === 'join' ? 'joined' : 'left'} (${n} here)`);
  });
  client.on('fault', (f) => say(`! ${f.code}: ${f.message}${f.room !== undefined ? ` (${f.room})` : ''}`));
  client.on('disconnected', ({ code, delayMs }) => notice(`* disconnected (${code}); reconnecting in ${(delayMs / 1000).toFixed(1)} s`));
  let welcomed = false;
  client.on('ready', ({ reconnected }) => {
    if (reconnected) notice(`* reconnected${client.rooms.size > 0 ? `: ${[...client.rooms].join(', ')}` : ''}`);
    welcomed = true;
    progress();
  });
  client.on('fatal', (err) => {
    process.stderr.write(`! ${err.message}\n`);
    process.exit(2);
  });

  // --- first connection: the rooms of the command line
  const startJoins = new Set(client.rooms);
  client.on('joined', (f) => {
    if (!startJoins.delete(f.room)) return;
    const members = Array.isArray(f.members) ? f.members : [];
    notice(`* joined ${f.room} (${members.length} here: ${members.join(', ')})`);
  });
  client.on('fault', (f) => {
    // A room of the command line the server refused: nothing to do.
    if (!welcomed && f.room !== undefined && startJoins.has(f.room) && f.code !== 'unavailable') process.exit(2);
  });
  client.start().catch(() => {});

  // --- commands and lines, in order
  const drained = () => welcomed && queue.length === 0 && inFlight.size === 0 && uncertain.length === 0 && echoes.size === 0;
  const quit = async () => {
    if (!drained()) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, opts.drainMs);
        progress = () => {
          if (drained()) {
            clearTimeout(timer);
            resolve();
          }
        };
        progress();
      });
      if (!drained()) notice(`! gave up waiting: ${queue.length + inFlight.size + uncertain.length} posts not acknowledged, ${[...echoes.values()].reduce((n, s) => n + s.size, 0)} not come back`);
    }
    client.close();
    rl?.close();
    process.stdin.destroy();
    process.exit(0);
  };
  const connected = () => client.whenReady();

  const command = async (line) => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const arg = args[0];
    switch (cmd) {
      case '/help':
        notice(HELP);
        return;
      case '/quit':
        return quit();
      case '/who': {
        if (current === null) return notice('! not in a room (/join room)');
        const members = client.members.get(current) ?? [];
        notice(`* ${members.length} here in ${current}: ${members.join(', ')}`);
        return;
      }
      case '/rooms': {
        await connected();
        const f = await client.request({ type: 'rooms' }).catch(() => null);
        if (f === null) return command(line);
        if (f.type === 'error') return say(`! ${f.code}: ${f.message}`);
        notice(`* rooms: ${f.rooms.map((r) => (r === current ? `${r} (current)` : client.rooms.has(r) ? `${r} (joined)` : r)).join(', ') || '(none)'}`);
        return;
      }
      case '/join': {
        if (arg === undefined) return notice('! usage: /join room');
        await connected();
        const f = await client.join(arg).catch(() => null);
        if (f === null) return command(line); // the connection went: again, once back
        if (f.type === 'error') return say(`! ${f.code}: ${f.message}`);
        current = arg;
        const members = Array.isArray(f.members) ? f.members : [];
        notice(`* joined ${arg} (${members.length} here: ${members.join(', ')})`);
        return;
      }
      case '/leave': {
        const room = arg ?? current;
        if (room === null || !client.rooms.has(room)) return notice(`! not in ${room ?? 'a room'}`);
        // The lines typed for the room before are posted first.
        const from = performance.now();
        while ((queue.some((p) => p.room === room) || [...inFlight].some((p) => p.room === room) || uncertain.some((p) => p.room === room)) && performance.now() - from < opts.drainMs) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await connected();
        const f = await client.leave(room).catch(() => null);
        if (f !== null && f.type === 'error' && f.code !== 'not_joined') say(`! ${f.code}: ${f.message}`);
        if (current === room) current = [...client.rooms].at(-1) ?? null;
        notice(`* left ${room}${current !== null ? `; now in ${current}` : ''}`);
        return;
      }
      case '/switch': {
        if (arg === undefined || !client.rooms.has(arg)) return notice(`! not in ${arg ?? 'a room'} (/join ${arg ?? 'room'})`);
        current = arg;
        notice(`* now in ${current}`);
        return;
      }
      default:
        notice(`! unknown command ${cmd} (/help)`);
    }
  };
  const handle = async (line) => {
    if (line.startsWith('/') && !line.startsWith('//')) return command(line);
    // A line that starts with two slashes is posted with one.
    const text = line.startsWith('//') ? line.slice(1) : line;
    if (text.trim() === '') return;
    if (current === null) return notice('! not in a room (/join room)');
    queue.push({ room: current, text, afterId: 0 });
    schedule();
  };

  const lines = [];
  let reading = false;
  let ended = false;
  const drive = async () => {
    if (reading) return;
    reading = true;
    while (lines.length > 0) await handle(lines.shift());
    reading = false;
    if (ended) await quit();
  };
  rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  if (interactive) {
    rl.setPrompt(prompt());
    rl.prompt();
  }
  rl.on('line', (line) => {
    // At a terminal, /quit does not wait behind a command waiting for the server.
    if (interactive && line.trim() === '/quit') return void quit();
    lines.push(line);
    void drive();
    if (interactive) {
      rl.setPrompt(prompt());
      rl.prompt();
    }
  });
  rl.on('SIGINT', () => void quit());
  rl.on('close', () => {
    ended = true;
    void drive();
  });
  process.on('SIGTERM', () => {
    client.close();
    process.exit(0);
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
