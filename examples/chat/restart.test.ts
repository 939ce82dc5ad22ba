/**
 * The chat server restarted on its data directory, as a child process
 * (`node examples/chat/server.mjs --port P --data DIR --workers 1`):
 *
 * - killed with SIGKILL (a crash) while its clients' posts are in flight,
 *   then started again on the same directory and port: the clients
 *   (ChatClient of cli.mjs, and the terminal client itself) reconnect by
 *   themselves; every post that was acknowledged, and every message a client
 *   was shown, is in its room's history with its id, text and author; the
 *   ids of a room are 1, 2, 3, ... with no gap nor repeat, no post is there
 *   twice; the list of rooms is intact; posting works again;
 * - stopped with SIGTERM: it closes its connections (1001) and exits 0, and
 *   starts again with its history.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from './cli.mjs';

const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));
const cliScript = fileURLToPath(new URL('./cli.mjs', import.meta.url));

interface Message {
  type: 'message';
  room: string;
  id: number;
  name: string;
  text: string;
  ts: number;
}
type Frame = { type: string; ref?: string; room?: string; id?: number; code?: string; message?: string; history?: Message[]; rooms?: string[]; members?: string[] };

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chat-restart-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port free now (the server is started on it twice). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Resolves when `cond` holds (checked every 10 ms); rejects after `ms`. */
async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const from = Date.now();
  while (!cond()) {
    if (Date.now() - from > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts the server as a child process; resolves once it says it listens. */
async function startServer(dir: string, port: number): Promise<Server> {
  const child = spawn(process.execPath, [serverScript, '--port', String(port), '--data', dir, '--workers', '1', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not listen in 30 s: ${stderr}`)), 30_000);
    child.stdout!.on('data', (s: string) => {
      out += s;
      if (/chat: http:\/\/\S+:\d+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before listening: ${stderr}`));
    });
  });
  const port2 = Number(/chat: http:\/\/\S+:(\d+)/.exec(out)![1]);
  expect(port2).toBe(port);
  return { child, url: `ws://127.0.0.1:${port}/ws`, exited, stderr: () => stderr };
}

/** A client that reconnects quickly; closed after the test. */
function client(url: string, name: string, rooms: string[]): ChatClient {
  const c = new ChatClient({ url, name, rooms, minBackoffMs: 50, maxBackoffMs: 400 });
  cleanup.push(() => c.close());
  return c;
}

/** The answer of a request, which must be of type `type`. */
async function answer(p: Promise<Frame>, type: string): Promise<Frame> {
  const f = await p;
  expect(f, JSON.stringify(f)).toMatchObject({ type });
  return f;
}

/** A room's history as a fresh connection sees it. */
async function histories(url: string, rooms: string[]): Promise<{ history: Map<string, Message[]>; rooms: string[] }> {
  const c = new ChatClient({ url, name: 'auditor', reconnect: false });
  await c.start();
  const history = new Map<string, Message[]>();
  for (const r of rooms) history.set(r, (await answer(c.join(r), 'joined')).history!);
  const all = (await answer(c.request({ type: 'rooms' }), 'rooms')).rooms!;
  c.close();
  return { history, rooms: all };
}

/** Checks a room's history: ids 1, 2, ... in order, each post once. */
function expectWellFormed(room: string, history: Message[]): void {
  expect(history.length).toBeLessThan(100); // (all of the room's messages: none dropped from the history)
  expect(
    history.map((m) => m.id),
    room,
  ).toEqual(history.map((_, i) => i + 1));
  const texts = history.map((m) => `${m.name}\u0000${m.text}`);
  expect(new Set(texts).size, `${room}: a post twice`).toBe(texts.length);
  for (const m of history) expect(m).toMatchObject({ type: 'message', room });
}

/** A terminal client (cli.mjs --print-json) fed through its stdin. */
function terminalClient(url: string, name: string, room: string) {
  const child = spawn(process.execPath, [cliScript, '--name', name, '--room', room, '--url', url, '--print-json', '--drain-ms', '5000'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const frames: Frame[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) frames.push(JSON.parse(l) as Frame);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanup.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  /** The messages it printed: in `message` frames, and in the histories of `joined` (after a reconnection). */
  const messages = () => frames.flatMap((f) => (f.type === 'message' ? [f as unknown as Message] : f.type === 'joined' ? f.history! : []));
  return { child, frames, messages, stderr: () => stderr, exited, type: (line: string) => child.stdin!.write(`${line}\n`) };
}

describe('the chat server restarted on its data', () => {
  it('killed (SIGKILL) with posts in flight, it has every acknowledged post after a restart; its clients reconnect by themselves and post again', async () => {
    const dir = await tempDir();
    const port = await freePort();
    let server = await startServer(dir, port);
    const url = server.url;

    // ann in alpha and beta, bob in alpha, cat and dan in beta; "quiet" is made and left empty.
    const ann = client(url, 'ann', ['alpha', 'beta']);
    const bob = client(url, 'bob', ['alpha']);
    const cat = client(url, 'cat', ['beta']);
    const dan = client(url, 'dan', ['beta', 'quiet']);
    const posters: [ChatClient, string][] = [
      [ann, 'alpha'],
      [ann, 'beta'],
      [bob, 'alpha'],
      [cat, 'beta'],
      [dan, 'beta'],
    ];
    const everyone = [ann, bob, cat, dan];
    await Promise.all(everyone.map((c) => c.start()));
    const eve = terminalClient(url, 'eve', 'alpha');
    await until('the terminal client to join', () => eve.frames.some((f) => f.type === 'joined'));

    // What the server acknowledged, and what the clients were shown, before the crash.
    const acked = new Map<string, { room: string; id: number; name: string; text: string }>();
    const shown = new Map<string, Message>();
    for (const c of everyone) c.on('message', (m: Message) => shown.set(`${m.room}#${m.id}`, m));
    let n = 0;
    const post = (c: ChatClient, room: string): Promise<Frame | null> => {
      const text = `${c.name} in ${room}: ${++n}`;
      return (c.post(room, text) as Promise<Frame>).then(
        (f) => {
          if (f.type === 'ack') acked.set(`${room}#${f.id}`, { room, id: f.id!, name: c.name, text });
          return f;
        },
        () => null, // the connection went first: not known whether the server took it
      );
    };

    // A first round, all acknowledged.
    for (const f of await Promise.all(posters.flatMap(([c, room]) => [1, 2, 3].map(() => post(c, room))))) expect(f).toMatchObject({ type: 'ack' });
    expect(acked.size).toBe(15);

    // A second round of 6 posts per client and room (ann's 6 + 12 are within the budget's burst of 20), killed once a few are acknowledged.
    const before = acked.size;
    let unansweredAtKill = -1;
    const second = posters.flatMap(([c, room]) => Array.from({ length: 6 }, () => post(c, room)));
    let killed = false;
    await until('a few acks of the second round', () => {
      if (!killed && acked.size >= before + 3) {
        server.child.kill('SIGKILL');
        killed = true;
        unansweredAtKill = second.length - (acked.size - before);
      }
      return killed;
    });
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const outcomes = await Promise.all(second);
    expect(unansweredAtKill).toBeGreaterThan(0);
    // An answer was an ack or nothing: no post was refused.
    for (const f of outcomes) if (f !== null) expect(f).toMatchObject({ type: 'ack' });
    const ackedBeforeCrash = new Map(acked);
    const shownBeforeCrash = new Map(shown);
    expect(ackedBeforeCrash.size).toBeGreaterThanOrEqual(18);
    await until('every client to see the connection go', () => everyone.every((c) => !c.ready));
    // A line typed while the server is down is posted once it is back.
    eve.type('typed while the server was down');

    server = await startServer(dir, port);
    await Promise.all(everyone.map((c) => c.whenReady()));
    for (const c of everyone) expect(c.connections).toBeGreaterThanOrEqual(2);

    const { history, rooms } = await histories(url, ['alpha', 'beta', 'quiet']);
    expect(rooms).toEqual(expect.arrayContaining(['alpha', 'beta', 'quiet']));
    expect(rooms).toEqual([...rooms].sort());
    for (const [room, h] of history) expectWellFormed(room, h);
    expect(history.get('quiet')).toEqual([]);
    const byKey = new Map([...history.values()].flat().map((m) => [`${m.room}#${m.id}`, m]));
    for (const [key, a] of ackedBeforeCrash) expect(byKey.get(key), `acknowledged ${key}`).toMatchObject({ room: a.room, id: a.id, name: a.name, text: a.text });
    for (const [key, m] of shownBeforeCrash) expect(byKey.get(key), `shown ${key}`).toMatchObject({ room: m.room, id: m.id, name: m.name, text: m.text });

    // Posting works again: ids go on from the history's last, and the other members get the post.
    const last = (room: string) => history.get(room)!.at(-1)!.id;
    const bobGot = new Promise<Message>((resolve) => bob.on('message', (m: Message) => m.text === 'ann again' && resolve(m)));
    const again = await answer(ann.post('alpha', 'ann again'), 'ack');
    expect(again.id).toBeGreaterThan(last('alpha'));
    expect(await bobGot).toMatchObject({ room: 'alpha', id: again.id, name: 'ann' });
    expect((await answer(cat.post('beta', 'cat again'), 'ack')).id).toBeGreaterThan(last('beta'));

    // The terminal client reconnected too: it posted the line typed during the outage (once), it sees the new posts,
    // and it exits 0 at the end of its input once its posts are acknowledged.
    eve.type('eve after the restart');
    await until('the terminal client to see its posts and ann\'s', () =>
      ['typed while the server was down', 'eve after the restart', 'ann again'].every((t) => eve.messages().some((m) => m.text === t)),
    );
    eve.child.stdin!.end();
    expect(await eve.exited).toBe(0);
    expect(eve.stderr()).toMatch(/reconnected/);
    const alpha = (await histories(url, ['alpha'])).history.get('alpha')!;
    expectWellFormed('alpha', alpha);
    expect(alpha.filter((m) => m.name === 'eve').map((m) => m.text)).toEqual(['typed while the server was down', 'eve after the restart']);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('stopped (SIGTERM), it closes its connections and exits 0, and starts again with its history', async () => {
    const dir = await tempDir();
    const port = await freePort();
    let server = await startServer(dir, port);
    const ann = new ChatClient({ url: server.url, name: 'ann', rooms: ['lobby'], reconnect: false });
    cleanup.push(() => ann.close());
    await ann.start();
    const closed = new Promise<number>((resolve) => ann.once('disconnected', ({ code }: { code: number }) => resolve(code)));
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await answer(ann.post('lobby', `post ${i}`), 'ack')).id!);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(await closed).toBe(1001);

    server = await startServer(dir, port);
    const { history, rooms } = await histories(server.url, ['lobby']);
    expect(rooms).toEqual(['lobby']);
    expect(history.get('lobby')!.map((m) => [m.id, m.name, m.text])).toEqual(ids.map((id, i) => [id, 'ann', `post ${i + 1}`]));
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  }, 30_000);
});
