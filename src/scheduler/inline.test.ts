import { describe, expect, it } from 'vitest';

import { InlineExecutor } from './inline.js';
import type { Runnable } from './executor.js';

/** A runnable that is always ready, counting its slices. */
function spinner(): Runnable & { slices: number } {
  const r = {
    slices: 0,
    runSlice(): boolean {
      r.slices++;
      return true;
    },
  };
  return r;
}

describe('the inline executor', () => {
  it('runs ready runnables in turn, one slice each per round', async () => {
    const ex = new InlineExecutor();
    const order: string[] = [];
    const make = (name: string, slices: number): Runnable => {
      let left = slices;
      return {
        runSlice(): boolean {
          order.push(name);
          return --left > 0;
        },
      };
    };
    ex.schedule(make('a', 3));
    ex.schedule(make('b', 1));
    ex.schedule(make('c', 2));
    await ex.idle();
    expect(order).toEqual(['a', 'b', 'c', 'a', 'c', 'a']);
    ex.close();
  });

  it('gives each group one slice per round, its runnables taking turns within it', async () => {
    const ex = new InlineExecutor();
    const order: string[] = [];
    const tree = {};
    const make = (name: string, slices: number, group?: object): Runnable => {
      let left = slices;
      return {
        group,
        runSlice(): boolean {
          order.push(name);
          return --left > 0;
        },
      };
    };
    // A group of three always-ready runnables and one on its own: the group gets no more turns than the single one.
    ex.schedule(make('a1', 2, tree));
    ex.schedule(make('a2', 2, tree));
    ex.schedule(make('a3', 2, tree));
    ex.schedule(make('b', 3));
    await ex.idle();
    expect(order).toEqual(['a1', 'b', 'a2', 'b', 'a3', 'b', 'a1', 'a2', 'a3']);
    ex.close();
  });

  it('hands the thread back to the event loop while runnables spin forever', async () => {
    const ex = new InlineExecutor({ maxBusyMs: 1 });
    const s = spinner();
    ex.schedule(s);
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        if (++ticks === 5) resolve();
        else setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
    });
    expect(ticks).toBe(5);
    expect(s.slices).toBeGreaterThan(0);
    ex.close();
  });

  // What broke: a host call answered while ten actors spun waited for the
  // rest of the executor's busy period (4 ms) before the host saw the answer.
  it('yields after the current slice when asked to (a host promise was settled)', async () => {
    const ex = new InlineExecutor({ maxBusyMs: 2_000 });
    const spinners = [spinner(), spinner(), spinner()];
    for (const s of spinners) ex.schedule(s);
    const answered = new Promise<void>((resolve) => {
      ex.schedule({
        runSlice(): boolean {
          ex.yieldSoon();
          resolve();
          return false;
        },
      });
    });
    await answered;
    // Without the yield, the loop would have spun for two seconds first.
    const total = spinners.reduce((n, s) => n + s.slices, 0);
    expect(total).toBeLessThanOrEqual(3);
    ex.close();
  });

  it('drops queued runnables when closed, and idle() then resolves', async () => {
    const ex = new InlineExecutor();
    const s = spinner();
    ex.schedule(s);
    ex.close();
    await ex.idle();
    await new Promise((r) => setImmediate(r));
    expect(s.slices).toBe(0);
  });
});
