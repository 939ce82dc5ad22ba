/**
 * The chat on a NATS JetStream store (`--store nats://...`): what was posted
 * is there after a restart of the chat server. Against the server NATS_URL
 * names, or a `nats-server -js` of the test's own; skipped (and reported so)
 * when there is neither (`.ci/run` starts one).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { natsServerAvailable, startNatsServer } from '../../src/store/nats-server.test-helper.js';
import { startChat } from './server.mjs';

type Frame = { type: string; [k: string]: unknown };

/** Says hello as `name`, joins `room`, sends `posts` and waits for their acks; resolves with the joined frame. */
async function visit(url: string, name: string, room: string, posts: string[]): Promise<Frame> {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const until = async (pred: (f: Frame) => boolean): Promise<Frame> => {
    for (let i = 0; i < 1_000; i++) {
      const f = frames.find(pred);
      if (f !== undefined) return f;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no such frame; got ${JSON.stringify(frames).slice(0, 400)}`);
  };
  ws.send(JSON.stringify({ type: 'hello', name }));
  ws.send(JSON.stringify({ type: 'join', room }));
  const joined = await until((f) => f.type === 'joined' || f.type === 'error');
  for (const [i, text] of posts.entries()) {
    ws.send(JSON.stringify({ type: 'post', room, text, ref: `p${i}` }));
    expect(await until((f) => f.ref === `p${i}`)).toMatchObject({ type: 'ack' });
  }
  ws.close();
  return joined;
}

describe.skipIf(!natsServerAvailable() && process.env['NATS_URL'] === undefined)('chat on NATS JetStream', () => {
  it('keeps the rooms and their history across a restart of the chat server', async () => {
    const nats = await startNatsServer();
    if (nats === null) throw new Error('no NATS server');
    const bucket = `chat-${randomUUID().slice(0, 8)}`;
    try {
      const first = await startChat({ port: 0, host: '127.0.0.1', store: nats.url, bucket, workers: 1, quiet: true });
      try {
        expect(await visit(first.wsUrl, 'ann', 'lobby', ['one', 'two', 'three'])).toMatchObject({ type: 'joined', history: [] });
      } finally {
        await first.close();
      }
      const second = await startChat({ port: 0, host: '127.0.0.1', store: nats.url, bucket, workers: 1, quiet: true });
      try {
        const joined = await visit(second.wsUrl, 'bob', 'lobby', ['four']);
        expect((joined.history as Frame[]).map((m) => [m.id, m.name, m.text])).toEqual([[1, 'ann', 'one'], [2, 'ann', 'two'], [3, 'ann', 'three']]);
      } finally {
        await second.close();
      }
    } finally {
      await nats.stop();
    }
  });
});
