/**
 * The chat's protocol (README.md, "Protocol"), against the server in this
 * process (one worker thread): every request and its answers, every bound
 * and error code, that a client's bad input answers that client and
 * disturbs nobody else, and that a room that crashes is restarted from its
 * checkpoint with its history and members.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChat } from './server.mjs';
import { Client, type Frame } from './client.test-helper.js';

type Chat = Awaited<ReturnType<typeof startChat>>;


const error = (code: string) => (f: Frame) => f.type === 'error' && f.code === code;

let dir: string;
let chat: Chat;
let url: string;
const clients: Client[] = [];

async function hello(name: string): Promise<Client> {
  const c = await Client.hello(url, name);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-protocol-'));
  chat = await startChat({ port: 0, host: '127.0.0.1', data: dir, workers: 1, quiet: true, helloMs: 1_000 });
  url = chat.wsUrl;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await chat?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('chat protocol: hello', () => {
  it('welcomes a name with the server\'s limits', async () => {
    const c = await Client.open(url);
    clients.push(c);
    c.send({ type: 'hello', name: 'ann', ref: 'h' });
    const w = await c.take((f) => f.type === 'welcome');
    expect(w).toEqual({
      type: 'welcome', name: 'ann', ref: 'h',
      limits: { maxFrameBytes: 8192, maxTextChars: 1000, postsPerSecond: 10, postBurst: 20, maxRooms: 10, historyLength: 100, maxNameChars: 32, maxRoomChars: 32 },
    });
    expect(await c.errorOf({ type: 'hello', name: 'ann' })).toBe('bad_request');
  });

  it('refuses names that are empty, too long, padded, or of other characters, and anything before hello', async () => {
    const c = await Client.open(url);
    clients.push(c);
    for (const name of ['', 'x'.repeat(33), ' ann', 'ann ', 'a\nb', 'ann<b>', 42, null]) {
      expect(await c.errorOf({ type: 'hello', name })).toBe('bad_name');
    }
    for (const type of ['rooms', 'join', 'leave', 'post']) expect(await c.errorOf({ type, room: 'lobby', text: 'hi' })).toBe('hello_first');
    c.send({ type: 'hello', name: 'Ann B. Smith-Jones_2' });
    expect((await c.take((f) => f.type === 'welcome')).name).toBe('Ann B. Smith-Jones_2');
    c.send({ type: 'hello', name: 'x'.repeat(32) });
    expect((await c.take((f) => f.type === 'error')).code).toBe('bad_request');
  });

  it('closes a connection that does not say hello in time (1008)', async () => {
    const c = await Client.open(url);
    expect((await c.closed).code).toBe(1008);
  });
});

describe('chat protocol: frames', () => {
  it('answers frames that are not JSON objects, or have no known type, with an error, and goes on', async () => {
    const c = await hello('frames');
    c.send('not json');
    expect((await c.take(error('bad_json'))).message).toBe('not JSON');
    c.send('[1,2]');
    await c.take(error('bad_json'));
    c.send('"text"');
    await c.take(error('bad_json'));
    c.send(Buffer.from('{"type":"ping"}'));
    c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    await c.take(error('bad_request'));
    expect(await c.errorOf({ type: 'nope' })).toBe('bad_request');
    expect(await c.errorOf({ kind: 'ping' })).toBe('bad_request');
    c.send({ type: 'ping', ref: 'x'.repeat(65) });
    await c.take(error('bad_request'));
    expect(await c.ask({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('answers a frame over 8 KiB with too_large and keeps the connection; closes it past 64 KiB (1009)', async () => {
    const c = await hello('big');
    c.send({ type: 'post', room: 'lobby', text: 'x'.repeat(9_000) });
    await c.take(error('too_large'));
    expect(await c.ask({ type: 'ping' })).toMatchObject({ type: 'pong' });
    c.send({ type: 'post', room: 'lobby', text: 'x'.repeat(70_000) });
    expect((await c.closed).code).toBe(1009);
  });
});

describe('chat protocol: rooms', () => {
  it('makes a room on join, lists it, and answers joined with its history and members', async () => {
    const a = await hello('ann');
    const joined = await a.ask({ type: 'join', room: 'r-join' });
    expect(joined).toMatchObject({ type: 'joined', room: 'r-join', history: [], members: ['ann'] });
    const rooms = await a.ask({ type: 'rooms' });
    expect(rooms.type).toBe('rooms');
    expect(rooms.rooms).toContain('r-join');
    expect([...(rooms.rooms as string[])].sort()).toEqual(rooms.rooms);
    // Joining again answers again, without a second membership.
    expect(await a.ask({ type: 'join', room: 'r-join' })).toMatchObject({ members: ['ann'] });
  });

  it('refuses room names that are empty, too long, or of other characters', async () => {
    const a = await hello('rooms');
    for (const room of ['', 'R', 'a'.repeat(33), '../x', 'a b', 'é', 7]) expect(await a.errorOf({ type: 'join', room })).toBe('bad_room');
    expect(await a.errorOf({ type: 'leave', room: 'Lobby' })).toBe('bad_room');
    expect(await a.ask({ type: 'join', room: 'a'.repeat(32) })).toMatchObject({ type: 'joined' });
  });

  it('tells the members who joins and who leaves, a closed connection included', async () => {
    const a = await hello('pa');
    const b = await hello('pb');
    await a.ask({ type: 'join', room: 'r-presence' });
    expect(await b.ask({ type: 'join', room: 'r-presence' })).toMatchObject({ members: ['pa', 'pb'] });
    expect(await a.take((f) => f.type === 'presence')).toEqual({ type: 'presence', room: 'r-presence', name: 'pb', event: 'join', members: ['pa', 'pb'] });
    expect(await b.ask({ type: 'leave', room: 'r-presence' })).toEqual({ type: 'left', room: 'r-presence', ref: expect.any(String) });
    expect(await a.take((f) => f.type === 'presence')).toMatchObject({ name: 'pb', event: 'leave', members: ['pa'] });
    expect(await b.errorOf({ type: 'leave', room: 'r-presence' })).toBe('not_joined');
    await b.ask({ type: 'join', room: 'r-presence' });
    await a.take((f) => f.type === 'presence' && f.event === 'join');
    b.close();
    expect(await a.take((f) => f.type === 'presence')).toMatchObject({ name: 'pb', event: 'leave', members: ['pa'] });
  });

  it('lets a connection be in at most 10 rooms at once', async () => {
    const a = await hello('many');
    for (let i = 0; i < 10; i++) await a.ask({ type: 'join', room: `r-many-${i}` });
    expect(await a.errorOf({ type: 'join', room: 'r-many-10' })).toBe('too_many_rooms');
    expect(await a.ask({ type: 'join', room: 'r-many-3' })).toMatchObject({ type: 'joined' });
    await a.ask({ type: 'leave', room: 'r-many-0' });
    expect(await a.ask({ type: 'join', room: 'r-many-10' })).toMatchObject({ type: 'joined' });
  });
});

describe('chat protocol: posts', () => {
  it('acknowledges a post with its id once journaled, and sends it to every member, the author too', async () => {
    const a = await hello('ann');
    const b = await hello('bob');
    await a.ask({ type: 'join', room: 'r-post' });
    await b.ask({ type: 'join', room: 'r-post' });
    const ack = await a.ask({ type: 'post', room: 'r-post', text: 'hello "bob"\n\\ \u0001 ☃ 🐝' });
    expect(ack).toEqual({ type: 'ack', room: 'r-post', id: 1, ref: expect.any(String) });
    for (const c of [a, b]) {
      const m = await c.take((f) => f.type === 'message');
      expect(m).toEqual({ type: 'message', room: 'r-post', id: 1, name: 'ann', text: 'hello "bob"\n\\ \u0001 ☃ 🐝', ts: expect.any(Number) });
      expect(Math.abs((m.ts as number) - Date.now())).toBeLessThan(10_000);
    }
    expect(await b.ask({ type: 'post', room: 'r-post', text: 'hi' })).toMatchObject({ type: 'ack', id: 2 });
    expect(await a.take((f) => f.type === 'message')).toMatchObject({ id: 2, name: 'bob', text: 'hi' });
  });

  it('refuses posts without text, empty, over 1,000 characters, not well-formed, or to a room not joined', async () => {
    const a = await hello('poster');
    await a.ask({ type: 'join', room: 'r-bad-post' });
    expect(await a.errorOf({ type: 'post', room: 'r-bad-post' })).toBe('bad_request');
    expect(await a.errorOf({ type: 'post', room: 'r-bad-post', text: 5 })).toBe('bad_request');
    expect(await a.errorOf({ type: 'post', room: 'r-bad-post', text: ' \n\t' })).toBe('bad_request');
    expect(await a.errorOf({ type: 'post', room: 'r-bad-post', text: 'x'.repeat(1_001) })).toBe('too_large');
    expect(await a.errorOf({ type: 'post', room: 'r-bad-post', text: 'x\ud800y' })).toBe('bad_request');
    expect(await a.errorOf({ type: 'post', room: 'r-elsewhere', text: 'hi' })).toBe('not_joined');
    // 1,000 characters, counted as code points (each 🐝 is two UTF-16 units).
    expect(await a.ask({ type: 'post', room: 'r-bad-post', text: '🐝'.repeat(1_000) })).toMatchObject({ type: 'ack', id: 1 });
  });

  it('masks blocked words, and rejects a post that is mostly links (moderation, a service granted to rooms only)', async () => {
    const a = await hello('mod');
    await a.ask({ type: 'join', room: 'r-mod' });
    await a.ask({ type: 'post', room: 'r-mod', text: 'well Darn it, heck' });
    expect((await a.take((f) => f.type === 'message')).text).toBe('well **** it, ****');
    const rejected = await a.ask({ type: 'post', room: 'r-mod', text: 'http://a.example http://b.example www.c.example look' });
    expect(rejected).toMatchObject({ type: 'error', code: 'rejected', room: 'r-mod' });
  });

  it('allows bursts of 20 requests, 10 a second after: joins, leaves and lists count as posts do', async () => {
    const a = await hello('burst');
    await a.ask({ type: 'join', room: 'r-burst' });
    for (let i = 0; i < 26; i++) a.send({ type: 'post', room: 'r-burst', text: `p${i}`, ref: `b${i}` });
    const answers = await Promise.all(Array.from({ length: 26 }, (_, i) => a.take((f) => f.ref === `b${i}`)));
    const acked = answers.filter((f) => f.type === 'ack').length;
    const limited = answers.filter((f) => f.type === 'error' && f.code === 'rate_limited').length;
    expect(acked + limited).toBe(26);
    // The burst less the join, plus what the bucket refilled while the 26 went through (10 a second).
    expect(acked).toBeGreaterThanOrEqual(19);
    expect(acked).toBeLessThanOrEqual(22);
    expect(await a.errorOf({ type: 'rooms' })).toBe('rate_limited');
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.ask({ type: 'post', room: 'r-burst', text: 'later' })).toMatchObject({ type: 'ack' });
  });

  it('keeps the last 100 messages: a join gets them, oldest first', async () => {
    const posters = await Promise.all(Array.from({ length: 6 }, (_, i) => hello(`h${i}`)));
    for (const p of posters) await p.ask({ type: 'join', room: 'r-history' });
    // 6 connections x 18 posts: within each one's burst.
    await Promise.all(posters.map(async (p, i) => {
      for (let j = 0; j < 18; j++) expect(await p.ask({ type: 'post', room: 'r-history', text: `${i}.${j}` })).toMatchObject({ type: 'ack' });
    }));
    const late = await hello('late');
    const joined = await late.ask({ type: 'join', room: 'r-history' });
    const history = joined.history as { id: number }[];
    expect(history.map((m) => m.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 9));
  });
});

describe('chat protocol: isolation', () => {
  it('answers a flood of bad input to its sender only: another client posts and reads on as before', async () => {
    const bad = await hello('flood');
    const a = await hello('calm-a');
    const b = await hello('calm-b');
    await a.ask({ type: 'join', room: 'r-calm' });
    await b.ask({ type: 'join', room: 'r-calm' });
    let errors = 0;
    bad.ws.on('message', () => errors++);
    for (let i = 0; i < 300; i++) {
      bad.send(i % 3 === 0 ? '{' : i % 3 === 1 ? { type: 'post', room: 'r-calm', text: 'x' } : { type: 'join', room: 'BAD' });
      if (i % 30 === 0) bad.send({ type: 'post', room: 'r-calm', text: 'y'.repeat(8_500) });
    }
    for (let i = 0; i < 10; i++) {
      expect(await a.ask({ type: 'post', room: 'r-calm', text: `calm ${i}` })).toMatchObject({ type: 'ack', id: i + 1 });
      expect(await b.take((f) => f.type === 'message')).toMatchObject({ id: i + 1, text: `calm ${i}` });
    }
    expect(b.frames.filter((f) => f.type === 'error')).toEqual([]);
    await expect.poll(() => errors, { timeout: 10_000 }).toBe(310);
    expect(bad.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes connections past maxConnections (1013)', async () => {
    const small = await startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'small'), workers: 0, quiet: true, maxConnections: 2 });
    try {
      const a = await Client.hello(small.wsUrl, 'a');
      const b = await Client.hello(small.wsUrl, 'b');
      const c = await Client.open(small.wsUrl);
      expect((await c.closed).code).toBe(1013);
      a.close();
      await a.closed;
      await expect.poll(async () => {
        const d = await Client.open(small.wsUrl);
        d.send({ type: 'ping' });
        const got = await Promise.race([d.take((f) => f.type === 'pong', 2_000).then(() => 'pong'), d.closed.then((x) => x.code)]);
        d.close();
        return got;
      }, { timeout: 10_000 }).toBe('pong');
      b.close();
    } finally {
      await small.close();
    }
  });
});

describe('chat server', () => {
  it('serves the page and its files, and nothing else', async () => {
    const base = chat.url;
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    const js = await fetch(new URL('app.js', base));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const path of ['server.mjs', '../server.mjs', '%2e%2e/server.mjs', 'public/app.js', 'nope']) expect((await fetch(new URL(path, base))).status).toBe(404);
    expect((await fetch(base, { method: 'POST' })).status).toBe(405);
  });

  it('passivates a room nobody is in, and brings it back with its history on the next join', async () => {
    const quick = await startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'passivate'), workers: 1, quiet: true, passivateAfterMs: 200 });
    try {
      const a = await Client.hello(quick.wsUrl, 'pa');
      await a.ask({ type: 'join', room: 'idle' });
      for (let i = 1; i <= 3; i++) await a.ask({ type: 'post', room: 'idle', text: `m${i}` });
      const room = await quick.hive.durable('room:idle', 'room');
      a.close();
      // Alone, it had monitors (of its member): once the member left, nothing keeps it.
      await expect.poll(() => room.info() === undefined, { timeout: 10_000 }).toBe(true);
      expect(room.alive).toBe(true);
      const b = await Client.hello(quick.wsUrl, 'pb');
      const joined = await b.ask({ type: 'join', room: 'idle' });
      expect((joined.history as { text: string }[]).map((m) => m.text)).toEqual(['m1', 'm2', 'm3']);
      expect(await b.ask({ type: 'post', room: 'idle', text: 'm4' })).toMatchObject({ type: 'ack', id: 4 });
      b.close();
    } finally {
      await quick.close();
    }
  });

  it('restarts a room that crashed from its checkpoint: its history, members and ids carry on', async () => {
    const a = await hello('crash-a');
    const b = await hello('crash-b');
    await a.ask({ type: 'join', room: 'r-crash' });
    await b.ask({ type: 'join', room: 'r-crash' });
    for (let i = 1; i <= 3; i++) expect(await a.ask({ type: 'post', room: 'r-crash', text: `before ${i}` })).toMatchObject({ id: i });
    const restarted: string[] = [];
    chat.hive.on('restarted', (e: { child: string }) => restarted.push(e.child));
    // A request no session sends: the room crashes on it ("let it crash"), and is restarted without it.
    const room = await chat.hive.durable('room:r-crash', 'room');
    await room.sendWait(['post', 'garbage']);
    await expect.poll(() => restarted, { timeout: 10_000 }).toEqual(['room:r-crash']);
    expect(room.alive).toBe(true);
    expect(await b.ask({ type: 'post', room: 'r-crash', text: 'after' })).toMatchObject({ type: 'ack', id: 4 });
    // Both still members: the post reaches both, after the three before it.
    for (const c of [a, b]) {
      const ids: number[] = [];
      while (!ids.includes(4)) ids.push((await c.take((f) => f.type === 'message' && f.room === 'r-crash')).id as number);
      expect(ids.filter((id) => id === 4)).toEqual([4]);
    }
    const late = await hello('crash-late');
    const joined = await late.ask({ type: 'join', room: 'r-crash' });
    expect((joined.history as { text: string }[]).map((m) => m.text)).toEqual(['before 1', 'before 2', 'before 3', 'after']);
    expect(joined.members).toEqual(['crash-a', 'crash-b', 'crash-late']);
  });
});
