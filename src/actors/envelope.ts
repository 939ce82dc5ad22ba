/**
 * What travels between actors: envelopes (kind, sender, bytes), the status
 * codes of the guest ABI, and the queue that mailboxes are made of.
 */

import { HiveStatus, MessageKind } from '../bindings/hive/index.js';
import type { Tree } from './limits.js';

/** Kinds of messages, as the guest ABI numbers them (docs/guest-abi.md): the hive binding's table. */
export const Kind = MessageKind;
/** A message kind. */
export type Kind = (typeof Kind)[keyof typeof Kind];

/** One message in a mailbox. `ref` is the monitor reference of a DOWN message (0 otherwise). */
export interface Envelope {
  kind: Kind;
  from: number;
  bytes: Uint8Array;
  ref: number;
  /** The spawn tree whose actor sent it (its bytes count against the tree while it waits); none for the host's. */
  payer?: Tree | null;
  /** A request to a service: the calling actor (its `from` is the call's reply address, or the actor itself for a send). */
  sender?: number;
}

/** Statuses the guest ABI returns (docs/guest-abi.md): the hive binding's table. */
export const Status = HiveStatus;

/** Exit reasons that are not failures: `normal` and `shutdown`. */
export function isNormalExit(reason: string): boolean {
  return reason === 'normal' || reason === 'shutdown';
}

/** A FIFO queue on a growable ring buffer: O(1) push and shift; `remove` and `removeAll` compact it in place (they allocate nothing). */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(4);
  private head = 0;
  length = 0;

  push(v: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & (this.items.length - 1)] = v;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return v;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Removes the first item matching; true when one was removed. O(n). */
  remove(pred: (v: T) => boolean): boolean {
    const items = this.items;
    const mask = items.length - 1;
    for (let i = 0; i < this.length; i++) {
      if (!pred(items[(this.head + i) & mask]!)) continue;
      for (let j = i; j < this.length - 1; j++) items[(this.head + j) & mask] = items[(this.head + j + 1) & mask];
      items[(this.head + this.length - 1) & mask] = undefined;
      this.length--;
      this.removed(1);
      return true;
    }
    return false;
  }

  /**
   * Removes every item matching, keeping the others in order; returns how
   * many went. O(n), and no allocation: a guest's `demonitor` scans its
   * signal queue with it (copying the queue each time made a demonitor loop
   * over 1,000 queued signals collect garbage 150 times a second).
   */
  removeAll(pred: (v: T) => boolean): number {
    const items = this.items;
    const mask = items.length - 1;
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      const v = items[(this.head + i) & mask]!;
      if (pred(v)) continue;
      if (kept !== i) items[(this.head + kept) & mask] = v;
      kept++;
    }
    const gone = this.length - kept;
    for (let i = kept; i < this.length; i++) items[(this.head + i) & mask] = undefined;
    this.length = kept;
    if (gone > 0) this.removed(gone);
    return gone;
  }

  /** `n` items were removed by `remove` or `removeAll` (for subclasses that count). */
  protected removed(_n: number): void {}

  clear(): void {
    this.items = new Array(4);
    this.head = 0;
    this.length = 0;
  }

  toArray(): T[] {
    const out: T[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.items[(this.head + i) & (this.items.length - 1)]!;
    return out;
  }

  private grow(): void {
    const old = this.items;
    const next: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

/** A queue whose length is also counted in a spawn tree's `entries` (an actor's signal queue). */
export class CountedDeque<T> extends Deque<T> {
  constructor(private readonly tree: Tree) {
    super();
  }
  override push(v: T): void {
    super.push(v);
    this.tree.entries++;
  }
  override shift(): T | undefined {
    const v = super.shift();
    if (v !== undefined) this.tree.entries--;
    return v;
  }
  override clear(): void {
    this.tree.entries -= this.length;
    super.clear();
  }
  protected override removed(n: number): void {
    this.tree.entries -= n;
  }
}
