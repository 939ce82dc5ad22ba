/**
 * The server's warm-up (startChat's `warmUp`, on by default for
 * `npm run chat`): it runs its own clients through WebSockets, sessions and
 * rooms before it is announced, and leaves nothing a user can see: no room in
 * the directory, no room's history, nothing in the store after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from 'wasmhive';
import { startChat } from './server.mjs';
import { Client } from './client.test-helper.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-warm-up-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The keys of the durable actors in the store (the directory's and the rooms'). */
async function storeKeys(): Promise<string[]> {
  const store = await FileStore.open(dir);
  try {
    const keys: string[] = [];
    for await (const k of store.keys()) keys.push(k);
    return keys.sort();
  } finally {
    await store.close();
  }
}

/** What the warm-up ran: `clients`, at least `minPosts` posts, each acknowledged and delivered to the `members` of its room. */
function expectWarmedUp(chat: Awaited<ReturnType<typeof startChat>>, want: { clients: number; members: number; minPosts: number }): void {
  const w = chat.warmedUp!;
  expect(w.rounds).toBe(2);
  expect(w.clients).toBe(want.clients);
  expect(w.posts).toBeGreaterThanOrEqual(want.minPosts);
  expect(w.acks).toBe(w.posts);
  expect(w.deliveries).toBe(w.posts * want.members);
}

describe('chat warm-up', () => {
  it('posts through its own clients and rooms, every post acknowledged and delivered to its room\'s 20 members', async () => {
    const chat = await startChat({ port: 0, host: '127.0.0.1', data: dir, workers: 1, quiet: true, warmUp: true });
    try {
      expectWarmedUp(chat, { clients: 100, members: 20, minPosts: 1_500 });
      // Nothing of it shows: the directory lists no room, and a room of the warm-up's name is a new one.
      const c = await Client.hello(chat.wsUrl, 'ann');
      try {
        expect((await c.ask({ type: 'rooms' })).rooms).toEqual([]);
        const joined = await c.ask({ type: 'join', room: 'w0' });
        expect(joined.type).toBe('joined');
        expect(joined.history).toEqual([]);
        expect(joined.members).toEqual(['ann']);
      } finally {
        c.close();
      }
    } finally {
      await chat.close();
    }
  }, 60_000);

  it('takes no more connections than the server allows', async () => {
    const chat = await startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'few'), workers: 1, quiet: true, warmUp: true, maxConnections: 10 });
    try {
      // One room of all ten.
      expectWarmedUp(chat, { clients: 10, members: 10, minPosts: 100 });
    } finally {
      await chat.close();
    }
  }, 60_000);

  it('leaves no room behind: after a restart (and a second warm-up) only the rooms users made are there', async () => {
    // Each warm-up room leaves its tombstone (a killed durable actor's record), under the same five keys every time.
    expect(await storeKeys()).toEqual(['actor/directory', 'actor/room:w0', ...[0, 1, 2, 3, 4].map((i) => `actor/warm-up:w${i}`)]);
    const chat = await startChat({ port: 0, host: '127.0.0.1', data: dir, workers: 1, quiet: true, warmUp: true });
    try {
      const c = await Client.hello(chat.wsUrl, 'bob');
      try {
        expect((await c.ask({ type: 'rooms' })).rooms).toEqual(['w0']);
      } finally {
        c.close();
      }
    } finally {
      await chat.close();
    }
    expect(await storeKeys()).toEqual(['actor/directory', 'actor/room:w0', ...[0, 1, 2, 3, 4].map((i) => `actor/warm-up:w${i}`)]);
  }, 60_000);
});
