/**
 * Hives with worker threads (`workers`): placement, moves between workers,
 * and what a worker's death does. The rest of the API is the conformance
 * suite's (vitest projects workers-1 and workers-2).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Hive, WorkerPool, HiveStateError } from './index.js';
import { guest, cmd, settle } from '../../test/helpers/hive.js';

const threads = new WorkerPool({ threads: 2 });
afterAll(() => threads.close());

function pooled(): Hive {
  const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }) });
  for (const g of ['probe', 'counter', 'ping', 'pong']) hive.define(g, guest(g));
  return hive;
}

describe('placement', () => {
  it('puts each new actor on the worker with the fewest actors, and a guest\'s children beside it', async () => {
    const hive = pooled();
    const refs = Array.from({ length: 6 }, () => hive.spawn('probe'));
    const per = [0, 0];
    for (const r of refs) per[hive.workerOf(r)!]!++;
    expect(per).toEqual([3, 3]);
    const child = (await cmd(refs[0]!, 'spawn', 'counter')) as number;
    expect(child).toBeGreaterThan(0);
    await settle(hive);
    expect(hive.workerOf(child)).toBe(hive.workerOf(refs[0]!));
    hive.close();
  });

  it('runs on the main thread what needs it: an actor with host imports', () => {
    const hive = pooled();
    const a = hive.spawn('probe', { imports: { env: { f: () => 1 } } });
    expect(hive.workerOf(a)).toBeNull();
    hive.close();
  });
});

describe('moving an actor between workers', () => {
  it('carries a counter to the other worker with its state; calls go on there', async () => {
    const hive = pooled();
    const c = hive.spawn('counter');
    expect(await c.call('up')).toBe('value=1');
    const from = hive.workerOf(c)!;
    await hive.migrate(c, 1 - from);
    expect(hive.workerOf(c)).toBe(1 - from);
    expect(await c.call('up')).toBe('value=2');
    await hive.migrate(c, from);
    expect(await c.call('up')).toBe('value=3');
    hive.close();
  });

  it('loses, duplicates and reorders none of the messages sent to it while it moves', async () => {
    const hive = pooled();
    const c = hive.spawn('counter');
    const answers: Promise<unknown>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 25; i++) answers.push(c.call('up'));
      await hive.migrate(c, round % 2);
    }
    const got = await Promise.all(answers);
    expect(got).toEqual(Array.from({ length: 500 }, (_, i) => `value=${i + 1}`));
    hive.close();
  });

  it('refuses to move an actor of the main thread, or in a hive without workers', async () => {
    const hive = pooled();
    const a = hive.spawn('probe', { imports: { env: { f: () => 1 } } });
    await expect(hive.migrate(a, 0)).rejects.toBeInstanceOf(HiveStateError);
    hive.close();
    const inline = new Hive({ logger: pino({ level: 'silent' }) });
    await expect(inline.migrate(1, 0)).rejects.toBeInstanceOf(HiveStateError);
    inline.close();
  });
});
