/**
 * The chat server (in this process, 2 worker threads) when one of its worker
 * threads dies while clients post steadily in two rooms: the sessions on
 * that thread exit with `worker-crashed` and the server closes their
 * WebSockets with 1011; those clients (ChatClient of cli.mjs) reconnect by
 * themselves and post again; the clients whose sessions were on the other
 * thread are served on without a break (no close, every post acknowledged);
 * every acknowledged post is in its room's history; a new client is served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from './cli.mjs';
import { startChat } from './server.mjs';

interface Message {
  type: 'message';
  room: string;
  id: number;
  name: string;
  text: string;
}
type Frame = { type: string; ref?: string; room?: string; id?: number; code?: string; history?: Message[] };
type Chat = { wsUrl: string; hive: { on(event: 'exited', f: (e: { id: number; reason: string }) => void): void }; close(): Promise<void> };
type Thread = { threadId: number; terminate(): Promise<number> };

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Resolves when `cond` holds (checked every 10 ms); rejects after `ms`. */
async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const from = Date.now();
  while (!cond()) {
    if (Date.now() - from > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The Worker of thread `i` of the hive's pool. The server imports the built
 * package (dist/): its Hive is dist's, whose internals dist's poolOf reads;
 * a Hive of the sources is read by the sources' poolOf.
 */
async function poolThread(hive: object, i: number): Promise<Thread | undefined> {
  const dist = (await import('../../dist/index.js')) as { Hive: new (...a: never[]) => object };
  const mod = (hive instanceof dist.Hive ? await import('../../dist/actors/hive.js') : await import('../../src/actors/hive.js')) as unknown as {
    poolOf(h: object): { thread(i: number): Thread | undefined } | null;
  };
  const pool = mod.poolOf(hive);
  if (pool === null) throw new Error('the hive has no worker pool');
  return pool.thread(i);
}

/** A client posting every `everyMs` to its room while `on`, and what came of it. */
class Poster {
  readonly client: ChatClient;
  readonly acked: { id: number; text: string; at: number }[] = [];
  /** Posts whose answer was an error, or whose connection went first. */
  readonly refused: Frame[] = [];
  readonly lost: string[] = [];
  readonly closes: number[] = [];
  #n = 0;
  #timer: NodeJS.Timeout | null = null;
  #outstanding = 0;

  constructor(
    url: string,
    readonly name: string,
    readonly room: string,
  ) {
    this.client = new ChatClient({ url, name, rooms: [room], minBackoffMs: 50, maxBackoffMs: 400 });
    this.client.on('disconnected', ({ code }: { code: number }) => this.closes.push(code));
    cleanup.push(() => this.client.close());
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => this.#post(), everyMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Resolves once every post sent has been answered (or lost with its connection). */
  settled(): Promise<void> {
    return until(`${this.name}'s posts to be answered`, () => this.#outstanding === 0);
  }

  #post(): void {
    if (!this.client.ready) return;
    const text = `${this.name} ${++this.#n}`;
    this.#outstanding++;
    (this.client.post(this.room, text) as Promise<Frame>).then(
      (f) => {
        this.#outstanding--;
        if (f.type === 'ack') this.acked.push({ id: f.id!, text, at: Date.now() });
        else this.refused.push(f);
      },
      () => {
        this.#outstanding--;
        this.lost.push(text);
      },
    );
  }
}

describe('the chat server when a worker thread dies', () => {
  it('closes the connections of the sessions on it (1011), which reconnect and post again; the others are served on; no acknowledged post is lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chat-worker-kill-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const chat = (await startChat({ port: 0, host: '127.0.0.1', data: dir, workers: 2, quiet: true })) as Chat;
    let closed = false;
    cleanup.push(() => (closed ? undefined : chat.close()));

    // Three posters in each room; the sessions go to the least loaded thread, so both threads have some.
    const posters = ['red', 'blue'].flatMap((room) => [1, 2, 3].map((i) => new Poster(chat.wsUrl, `${room}-${i}`, room)));
    await Promise.all(posters.map((p) => p.client.start()));
    for (const p of posters) p.start(150);
    await until('every poster to have 4 posts acknowledged', () => posters.every((p) => p.acked.length >= 4));

    // (A thread is known once its agent said hello: at once, a moment after the start.)
    let thread: Thread | undefined;
    for (const from = Date.now(); (thread = await poolThread(chat.hive, 0)) === undefined && Date.now() - from < 10_000; ) await new Promise((r) => setTimeout(r, 10));
    expect(thread).toBeDefined();
    const crashed: number[] = [];
    chat.hive.on('exited', (e) => {
      if (e.reason === 'worker-crashed') crashed.push(e.id);
    });
    const killedAt = Date.now();
    await thread!.terminate();

    // The clients whose sessions were on the thread see their connection closed with 1011; the others keep theirs.
    await until('a client to be disconnected', () => posters.some((p) => p.closes.length > 0));
    // (Every session of the thread is told at once; a moment for the closes to arrive.)
    await until('the closes to stop coming', (() => {
      let last = -1;
      let since = Date.now();
      return () => {
        const n = posters.reduce((k, p) => k + p.closes.length, 0);
        if (n !== last) [last, since] = [n, Date.now()];
        return Date.now() - since > 300;
      };
    })());
    const victims = posters.filter((p) => p.closes.length > 0);
    const survivors = posters.filter((p) => p.closes.length === 0);
    expect(victims.length).toBeGreaterThan(0);
    expect(survivors.length).toBeGreaterThan(0);
    for (const v of victims) expect(v.closes, v.name).toEqual([1011]);
    // Their sessions (and only actors of that thread: no room, no directory) exited with worker-crashed.
    expect(crashed.length).toBe(victims.length);

    // The victims reconnect by themselves and post again; the survivors keep posting.
    await until('the victims to be back', () => victims.every((v) => v.client.ready && v.client.connections === 2));
    await until('every poster to have 3 posts acknowledged since the kill', () => posters.every((p) => p.acked.filter((a) => a.at > killedAt).length >= 3));
    for (const p of posters) p.stop();
    await Promise.all(posters.map((p) => p.settled()));

    // The survivors were served throughout: every post acknowledged, none refused or lost, no long gap between acks.
    for (const s of survivors) {
      expect(s.closes, s.name).toEqual([]);
      expect(s.refused, s.name).toEqual([]);
      expect(s.lost, s.name).toEqual([]);
      const gaps = s.acked.slice(1).map((a, i) => a.at - s.acked[i]!.at);
      expect(Math.max(...gaps), `${s.name}: the longest time between two acks`).toBeLessThan(2_000);
    }
    // A victim's posts: acknowledged, or lost with its connection (at most those in flight); none refused.
    for (const v of victims) {
      expect(v.refused, v.name).toEqual([]);
      expect(v.client.connections, v.name).toBe(2);
    }

    // Every acknowledged post is in its room's history, with its id, text and author; ids 1, 2, ... each once.
    const auditor = new ChatClient({ url: chat.wsUrl, name: 'auditor', reconnect: false });
    cleanup.push(() => auditor.close());
    await auditor.start();
    for (const room of ['red', 'blue']) {
      const joined = (await auditor.join(room)) as Frame;
      expect(joined.type).toBe('joined');
      const history = joined.history!;
      const acked = posters.filter((p) => p.room === room).flatMap((p) => p.acked.map((a) => ({ ...a, name: p.name })));
      expect(acked.length, `${room}: posts within the history's length`).toBeLessThan(100);
      expect(history.map((m) => m.id)).toEqual(history.map((_, i) => i + 1));
      const byId = new Map(history.map((m) => [m.id, m]));
      for (const a of acked) expect(byId.get(a.id), `${room}#${a.id}`).toMatchObject({ room, id: a.id, name: a.name, text: a.text });
      // Of the history, nothing was posted twice.
      expect(new Set(history.map((m) => m.text)).size).toBe(history.length);
    }

    // A new client is served (its session on either thread, the new one included).
    const late = posters.map((_, i) => new ChatClient({ url: chat.wsUrl, name: `late-${i}`, rooms: ['red'], reconnect: false }));
    for (const c of late) cleanup.push(() => c.close());
    await Promise.all(late.map((c) => c.start()));
    for (const c of late) expect(((await c.post('red', `${c.name} here`)) as Frame).type).toBe('ack');

    closed = true;
    await chat.close();
  }, 60_000);
});
