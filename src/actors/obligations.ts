/**
 * What the actors of a worker thread owe the rest of a pooled hive, as a
 * thread sees it cross its rings: answers to requests (acks), answers to
 * calls, exit signals along links, DOWN messages to monitors. The main
 * thread records what passes through it (pool.ts), and each worker what it
 * sends to and takes from another worker directly (pool-worker.ts); an
 * envelope takes one way or the other, so no entry is held by both the main
 * thread and a worker. When a worker dies, nothing it owed would ever come:
 * each live thread sends what its table holds instead, in the dead actors'
 * names, with the reason `worker-crashed`. Entries go as the answers pass,
 * so what is held is what is outstanding.
 */
import { Status } from './envelope.js';
import type { Signal } from './protocol.js';

/** @internal The outstanding obligations between partitions. */
export class Obligations {
  /** Requests awaiting an ack: `requester/seq` -> [acker, requester, seq]. */
  private readonly acks = new Map<string, [number, number, number]>();
  /** Calls awaiting an answer: reply address -> callee. */
  private readonly calls = new Map<number, number>();
  /** Links: id -> the ids it is linked with (both ways). */
  private readonly links = new Map<number, Set<number>>();
  /** Monitors: target -> `watcher/ref` -> [watcher, ref]. */
  private readonly monitors = new Map<number, Map<string, [number, number]>>();

  /** Requests this thread's actors sent (a worker's table, see `sent`): seq -> [acker, requester]. One system numbers them: the number alone is the key. */
  private readonly acksOut = new Map<number, [number, number]>();

  /**
   * A worker's side (the main thread sees both directions pass, see
   * `passed`): an envelope this thread's actor sent straight to another
   * worker. Only what that worker's actors would owe is kept here: answers
   * to this thread's requests, calls and monitors, and links (both ways).
   */
  sent(s: Signal): void {
    switch (s.t) {
      case 'message':
        if (s.seq !== 0) this.acksOut.set(s.seq, [s.to, s.sender]);
        if (s.call) this.calls.set(s.from, s.to);
        return;
      case 'link':
        this.acksOut.set(s.seq, [s.to, s.from]);
        this.link(s.from, s.to);
        return;
      case 'exit':
        if (s.seq !== 0) this.acksOut.set(s.seq, [s.to, s.from]);
        if (s.linked) this.unlink(s.from, s.to);
        return;
      case 'unlink':
        this.unlink(s.from, s.to);
        return;
      case 'monitor':
      case 'demonitor':
        this.passed(s);
        return;
      default:
        return;
    }
  }

  /** A worker's side: an envelope that came straight from another worker (see `sent`). */
  took(s: Signal): void {
    switch (s.t) {
      case 'ack': {
        const e = this.acksOut.get(s.seq);
        if (e !== undefined && e[1] === s.to) this.acksOut.delete(s.seq);
        return;
      }
      case 'message':
        if (this.calls.get(s.to) === s.sender) this.calls.delete(s.to); // the answer to a call
        return;
      case 'link':
        this.link(s.from, s.to);
        return;
      case 'exit':
        if (s.linked) this.unlink(s.from, s.to);
        return;
      case 'unlink':
      case 'down':
        this.passed(s);
        return;
      default:
        return;
    }
  }

  /**
   * Notes an envelope passing between partitions. Returns the reply address
   * of the call it ends (its answer, the callee's DOWN, the caller giving
   * up: that address is closed, or closes as it takes it), 0 for any other.
   */
  passed(s: Signal): number {
    switch (s.t) {
      case 'message': {
        if (s.seq !== 0) this.acks.set(`${s.sender}/${s.seq}`, [s.to, s.sender, s.seq]);
        if (s.call) {
          this.calls.set(s.from, s.to);
          return 0;
        }
        // The answer: from the callee, or from the host (a reply address takes either, see ReplyTo.accepts).
        const callee = this.calls.get(s.to);
        if (callee === undefined || (callee !== s.sender && s.sender !== 0)) return 0;
        this.calls.delete(s.to);
        return s.to;
      }
      case 'ack':
        this.acks.delete(`${s.to}/${s.seq}`);
        return 0;
      case 'link':
        this.acks.set(`${s.from}/${s.seq}`, [s.to, s.from, s.seq]);
        this.link(s.from, s.to);
        return 0;
      case 'exit':
        if (s.seq !== 0) this.acks.set(`${s.from}/${s.seq}`, [s.to, s.from, s.seq]);
        if (s.linked) this.unlink(s.from, s.to);
        return 0;
      case 'unlink':
        this.unlink(s.from, s.to);
        return 0;
      case 'monitor': {
        let m = this.monitors.get(s.to);
        if (m === undefined) this.monitors.set(s.to, (m = new Map()));
        m.set(`${s.from}/${s.ref}`, [s.from, s.ref]);
        return 0;
      }
      case 'demonitor':
        if (s.ref === 0) return this.calls.delete(s.from) ? s.from : 0; // a caller gave up
        this.dropMonitor(s.to, s.from, s.ref);
        return 0;
      case 'down':
        if (s.ref === 0) return this.calls.delete(s.to) ? s.to : 0; // the callee is gone
        this.dropMonitor(s.from, s.to, s.ref);
        return 0;
      default:
        return 0;
    }
  }

  /**
   * What an actor that moved between threads is tied to (links, monitors it
   * holds and is held by, calls it owes): made on one thread, not seen
   * crossing, and crossing threads from now on.
   */
  moved(id: number, t: { links: readonly number[]; monitors: readonly (readonly [number, number])[]; watchers: readonly (readonly [number, number])[]; callers: readonly number[] }): void {
    for (const peer of t.links) this.link(id, peer);
    for (const [ref, target] of t.monitors) this.passed({ t: 'monitor', from: id, to: target, ref, seq: 0 });
    for (const [watcher, ref] of t.watchers) this.passed({ t: 'monitor', from: watcher, to: id, ref, seq: 0 });
    for (const reply of t.callers) this.calls.set(reply, id);
  }

  /** A link made outside envelopes (a host's link with a worker's actor). */
  link(a: number, b: number): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      let set = this.links.get(x);
      if (set === undefined) this.links.set(x, (set = new Set()));
      set.add(y);
    }
  }

  private unlink(a: number, b: number): void {
    this.unlinkOne(a, b);
    this.unlinkOne(b, a);
  }

  private unlinkOne(a: number, b: number): void {
    const set = this.links.get(a);
    if (set === undefined) return;
    set.delete(b);
    if (set.size === 0) this.links.delete(a);
  }

  private dropMonitor(target: number, watcher: number, ref: number): void {
    const m = this.monitors.get(target);
    m?.delete(`${watcher}/${ref}`);
    if (m !== undefined && m.size === 0) this.monitors.delete(target);
  }

  /** An actor exited normally (its worker told its links and monitors): what is held about it goes. */
  forget(id: number): void {
    const peers = this.links.get(id);
    if (peers !== undefined) for (const p of peers) this.unlinkOne(p, id);
    this.links.delete(id);
    this.monitors.delete(id);
  }

  /**
   * Actor `id` moved beside the addresses for which `here` holds: the acks
   * and answers between it and them go within that thread from now on (they
   * never pass this one), so the entries for them are forgotten.
   */
  joined(id: number, here: (id: number) => boolean): void {
    for (const [key, [acker, requester]] of this.acks) if ((acker === id && here(requester)) || (requester === id && here(acker))) this.acks.delete(key);
    for (const [reply, callee] of this.calls) if (callee === id && here(reply)) this.calls.delete(reply);
  }

  /** Forgets every entry that names `id` (its ties are held elsewhere from now on: it moved). */
  drop(id: number): void {
    for (const [key, [acker, requester]] of this.acks) if (acker === id || requester === id) this.acks.delete(key);
    for (const [seq, [acker, requester]] of this.acksOut) if (acker === id || requester === id) this.acksOut.delete(seq);
    for (const [reply, callee] of this.calls) if (reply === id || callee === id) this.calls.delete(reply);
    this.forget(id);
    for (const [target, m] of this.monitors) {
      for (const [key, [watcher]] of m) if (watcher === id) m.delete(key);
      if (m.size === 0) this.monitors.delete(target);
    }
  }

  /**
   * The envelopes that the addresses for which `dead(id)` holds will never
   * send (their worker died), to send in their stead; forgets them.
   */
  owedBy(dead: (id: number) => boolean, reason: string): Signal[] {
    const out: Signal[] = [];
    const deadActors = new Set<number>();
    for (const id of this.links.keys()) if (dead(id)) deadActors.add(id);
    for (const id of this.monitors.keys()) if (dead(id)) deadActors.add(id);
    for (const [key, [acker, requester, seq]] of this.acks) {
      if (!dead(acker)) continue;
      this.acks.delete(key);
      if (!dead(requester)) out.push({ t: 'ack', from: acker, to: requester, seq, status: Status.NOT_FOUND });
    }
    for (const [seq, [acker, requester]] of this.acksOut) {
      if (!dead(acker)) continue;
      this.acksOut.delete(seq);
      if (!dead(requester)) out.push({ t: 'ack', from: acker, to: requester, seq, status: Status.NOT_FOUND });
    }
    for (const [reply, callee] of this.calls) {
      if (!dead(callee)) continue;
      this.calls.delete(reply);
      if (!dead(reply)) out.push({ t: 'down', from: callee, to: reply, ref: 0, reason });
    }
    for (const id of deadActors) {
      for (const peer of this.links.get(id) ?? []) {
        if (!dead(peer)) out.push({ t: 'exit', from: id, to: peer, reason, linked: true, seq: 0 });
        this.unlinkOne(peer, id);
      }
      this.links.delete(id);
      for (const [watcher, ref] of this.monitors.get(id)?.values() ?? []) {
        if (!dead(watcher)) out.push({ t: 'down', from: id, to: watcher, ref, reason });
      }
      this.monitors.delete(id);
    }
    return out;
  }

  /** Entries held (tests check nothing is left behind). */
  get size(): number {
    let n = this.acks.size + this.acksOut.size + this.calls.size;
    for (const s of this.links.values()) n += s.size;
    for (const m of this.monitors.values()) n += m.size;
    return n;
  }
}
