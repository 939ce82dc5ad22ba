/**
 * Senders waiting for room in a full mailbox (issue 10, second pass). Each
 * sender that stopped waiting (its timeout passed, it exited) was taken out
 * of the queue by rebuilding it, O(senders waiting): a tree's 2,000 actors
 * blocked on one mailbox with a 1 ms timeout held the event loop 68 ms each
 * time their timeouts passed together, and 20,000 (the hive's actors) 7 s.
 */
import { describe, expect, it } from 'vitest';
import { Mailbox } from './mailbox.js';
import { MESSAGE_OVERHEAD, Tree } from './limits.js';
import { Kind, Status } from './envelope.js';
import type { BlockedSend } from './process.js';

function sender(tree: Tree, log: number[], n: number): BlockedSend {
  return { env: { kind: Kind.MESSAGE, from: n, bytes: new Uint8Array(1), ref: 0, payer: tree }, done: (st) => log.push(st === Status.OK ? n : -n) };
}

describe('senders waiting for room', () => {
  // What broke: Mailbox.unblock rebuilt the queue of waiting senders.
  it('regression: unblocking a waiting sender took time proportional to the senders waiting (20,000 timing out together: 7 s); now each takes constant time', () => {
    const tree = new Tree(1);
    const box = new Mailbox(1, 1 << 20);
    box.push({ kind: Kind.MESSAGE, from: 1, bytes: new Uint8Array(1), ref: 0 });
    const log: number[] = [];
    const waiting: BlockedSend[] = [];
    for (let i = 1; i <= 20_000; i++) {
      const b = sender(tree, log, i);
      waiting.push(b);
      box.block(b);
    }
    expect(tree.queuedBytes).toBe(20_000 * (1 + MESSAGE_OVERHEAD));
    const t = performance.now();
    for (const b of waiting) box.unblock(b);
    const ms = performance.now() - t;
    expect(ms).toBeLessThan(500); // measured: 6,563-7,011 ms before, 18-55 ms after
    expect(box.blocked).toBe(0);
    expect(tree.queuedBytes).toBe(0);
    expect(log).toEqual([]);
  });

  it('senders that stopped waiting are passed over: the others are admitted in order, and the queue does not grow while the receiver never takes a message', () => {
    const tree = new Tree(1);
    const box = new Mailbox(1, 1 << 20);
    box.push({ kind: Kind.MESSAGE, from: 1, bytes: new Uint8Array(1), ref: 0 });
    const log: number[] = [];
    // 100,000 senders come and go (block, then time out), with three that stay.
    const stay = [sender(tree, log, 1), sender(tree, log, 2), sender(tree, log, 3)];
    box.block(stay[0]!);
    for (let i = 0; i < 100_000; i++) {
      const b = sender(tree, log, 10 + i);
      box.block(b);
      if (i === 500) box.block(stay[1]!);
      box.unblock(b);
      box.unblock(b); // twice: no effect
    }
    box.block(stay[2]!);
    expect(box.blocked).toBe(3);
    expect((box as unknown as { waiting: { length: number } }).waiting.length).toBeLessThan(64);
    expect(tree.queuedBytes).toBe(3 * (1 + MESSAGE_OVERHEAD));
    expect(box.fits(1)).toBe(false);
    for (let i = 0; i < 3; i++) box.shift();
    expect(log).toEqual([1, 2, 3]);
    box.shift();
    box.drain(() => {});
    expect(tree.queuedBytes).toBe(0);
    expect(box.blocked).toBe(0);
    expect(box.fits(1)).toBe(true);
  });

  it('a receiver going away fails only the senders still waiting', () => {
    const tree = new Tree(1);
    const box = new Mailbox(1, 1 << 20);
    box.push({ kind: Kind.MESSAGE, from: 1, bytes: new Uint8Array(1), ref: 0 });
    const log: number[] = [];
    const s = [1, 2, 3].map((n) => sender(tree, log, n));
    for (const b of s) box.block(b);
    box.unblock(s[1]!);
    box.failWaiting();
    expect(log).toEqual([-1, -3]);
    box.drain(() => {});
    expect(tree.queuedBytes).toBe(0);
  });
});
