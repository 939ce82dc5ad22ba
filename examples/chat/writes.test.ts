/**
 * How the server writes to its sockets (startChat's `flushGapMs`): a socket
 * written to recently waits out the gap, and its frames leave together; one
 * written to rarely is written at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChat } from './server.mjs';
import { Client } from './client.test-helper.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-writes-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Milliseconds from a ping to its pong. */
async function pingMs(c: Client): Promise<number> {
  const t = performance.now();
  await c.ask({ type: 'ping' });
  return performance.now() - t;
}

describe('chat writes', () => {
  it('holds a frame for a socket written less than the gap ago until the gap has passed, and writes at once after it', async () => {
    const chat = await startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'gap'), workers: 0, quiet: true, flushGapMs: 400 });
    try {
      const c = await Client.hello(chat.wsUrl, 'ann');
      try {
        // The welcome was just written: the pong waits for the rest of the 400 ms.
        expect(await pingMs(c)).toBeGreaterThan(250);
        await new Promise((r) => setTimeout(r, 500));
        // Nothing written for 500 ms: at once.
        expect(await pingMs(c)).toBeLessThan(200);
      } finally {
        c.close();
      }
    } finally {
      await chat.close();
    }
  });

  it('writes at the end of each turn with a gap of 0', async () => {
    const chat = await startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'none'), workers: 0, quiet: true, flushGapMs: 0 });
    try {
      const c = await Client.hello(chat.wsUrl, 'bob');
      try {
        for (let i = 0; i < 3; i++) expect(await pingMs(c)).toBeLessThan(200);
      } finally {
        c.close();
      }
    } finally {
      await chat.close();
    }
  });

  it('refuses a gap that is not a number of milliseconds', async () => {
    await expect(startChat({ port: 0, host: '127.0.0.1', data: join(dir, 'bad'), quiet: true, flushGapMs: -1 })).rejects.toThrow(RangeError);
  });
});
