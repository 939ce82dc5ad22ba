/**
 * A channel between two threads of a pooled hive (the main thread and a
 * worker, or two workers): two shared-memory rings (scheduler/ring.ts), one
 * each way, carrying wire records (protocol.ts: relay envelopes and pool
 * control envelopes).
 *
 * What the ring does not: records larger than a ring holds are cut into
 * parts (a PART record per piece, the last piece in the record's own
 * header), and records that find the ring full wait in an overflow queue
 * (in order) until the reader makes room, so a writer never blocks its
 * thread and never drops what it was given. The rings are FIFO and one
 * thread writes each, so parts of one record are never interleaved with
 * another record's.
 */
import { RingReader, RingWriter, createRing, type RingWait } from '../scheduler/ring.js';

/** The kind byte of a part of a record too large for one ring record (the record's last piece carries its own header). */
const PART = 3;
/** Bytes of a part record's header (kind and 3 spare bytes). */
const PART_HEADER = 4;

/** The shared memory of one channel: the ring each way. */
export interface ChannelBuffers {
  /** main → worker. */
  readonly down: SharedArrayBuffer;
  /** worker → main. */
  readonly up: SharedArrayBuffer;
}

/** Makes the buffers of a channel (each ring `capacity` bytes). */
export function createChannelBuffers(capacity = 1 << 22): ChannelBuffers {
  return { down: createRing(capacity), up: createRing(capacity) };
}

/** One end of a channel: writes records one way, reads them the other. */
export class Channel {
  private readonly writer: RingWriter;
  private readonly reader: RingReader;
  /** Records (or parts) that found the ring full, in order. */
  private readonly overflow: Uint8Array[] = [];
  /**
   * Records sent and not yet written: they are written together (one
   * publication, one wake-up of the reader) at the end of the current task
   * (a microtask), or when `flush` is called (after each slice, before
   * waiting for an answer).
   */
  private outbox: Uint8Array[] = [];
  private flushQueued = false;
  private readonly flushSoon: () => void;
  private flushing = false;
  /** Parts read of a record not complete yet. */
  private parts: Uint8Array[] = [];
  private readonly chunk: number;
  private closedHere = false;
  /** Whole records sent and received (a pooled hive's idle check compares them across the channel). */
  sent = 0;
  received = 0;

  constructor(
    out: SharedArrayBuffer,
    inbound: SharedArrayBuffer,
    /** Whether a park of this end keeps the thread alive (a worker's: yes; the main thread's: no). */
    private readonly keepAlive: boolean,
    /** The other thread's doorbell, when it reads several channels (a worker: see Doorbell). */
    bell?: SharedArrayBuffer,
    /**
     * Called at once (once per batch) when something waits in the outbox; it
     * sees that `flush` is called soon. Default: a microtask flushes. A
     * thread with several channels flushes them together, in an order of its
     * own (see WorkerPartition.flushAll).
     */
    flushSoon?: () => void,
  ) {
    const flushNow = (): void => this.flush();
    this.flushSoon = flushSoon ?? ((): void => queueMicrotask(flushNow));
    this.writer = new RingWriter(out, bell === undefined ? {} : { bell });
    this.reader = new RingReader(inbound);
    // A quarter of a ring per piece: a piece always fits once the reader caught up.
    this.chunk = Math.floor(this.writer.maxRecord / 2) & ~3;
  }

  /** Records waiting for room in the ring (a backlog the reader has not caught up with). */
  get backlog(): number {
    return this.overflow.length;
  }

  /** Sends one record (its header written by the caller); never blocks, never drops (until closed). */
  send(record: Uint8Array): void {
    if (this.closedHere) return;
    this.sent++;
    if (record.length <= this.writer.maxRecord) {
      this.put(record);
      return;
    }
    // Pieces: all but the last as PART records, the last with the record's own header.
    const header = record.subarray(0, 8);
    let at = 8;
    const body = record.length - 8;
    const pieces = Math.ceil(body / this.chunk);
    for (let i = 0; i < pieces - 1; i++) {
      const piece = new Uint8Array(PART_HEADER + this.chunk);
      piece[0] = PART;
      piece.set(record.subarray(at, at + this.chunk), PART_HEADER);
      this.put(piece);
      at += this.chunk;
    }
    const last = new Uint8Array(8 + (record.length - at));
    last.set(header);
    last.set(record.subarray(at), 8);
    this.put(last);
  }

  private put(record: Uint8Array): void {
    this.outbox.push(record);
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.flushSoon();
    }
  }

  /** Writes what was sent (see `outbox`); what does not fit waits in the overflow queue. */
  flush(): void {
    this.flushQueued = false;
    const out = this.outbox;
    if (out.length === 0) return;
    this.outbox = [];
    if (this.writer.closed || this.closedHere) return; // the other thread is gone: nothing it could read
    let n = 0;
    if (this.overflow.length === 0) {
      try {
        n = this.writer.writeMany(out);
      } catch {
        return; // closed under us
      }
      if (n === out.length) return;
    }
    for (let i = n; i < out.length; i++) this.overflow.push(out[i]!);
    if (!this.flushing) void this.flushOverflow();
  }

  private async flushOverflow(): Promise<void> {
    this.flushing = true;
    try {
      while (this.overflow.length > 0 && !this.closedHere) {
        const n = this.writer.writeMany(this.overflow);
        if (n > 0) {
          this.overflow.splice(0, n);
          continue;
        }
        const w = await this.writer.waitWritable(this.overflow[0]!.length, undefined, this.keepAlive);
        if (w === 'closed') break;
      }
    } catch {
      // The ring was closed under us (the other thread is gone): what waits is dropped with it.
    } finally {
      this.flushing = false;
      if (this.closedHere || this.writer.closed) this.overflow.length = 0;
    }
  }

  /**
   * Reads the records there now (whole ones: pieces are put back together)
   * and hands each to `take`; returns how many it handed.
   */
  receive(take: (record: Uint8Array) => void): number {
    const got = this.reader.readMany();
    let n = 0;
    for (const r of got) {
      if (r[0] === PART) {
        this.parts.push(r.subarray(PART_HEADER));
        continue;
      }
      if (this.parts.length > 0) {
        const parts = this.parts;
        this.parts = [];
        let size = r.length;
        for (const p of parts) size += p.length;
        const whole = new Uint8Array(size);
        whole.set(r.subarray(0, 8));
        let at = 8;
        for (const p of parts) {
          whole.set(p, at);
          at += p.length;
        }
        whole.set(r.subarray(8), at);
        this.received++;
        take(whole);
      } else {
        this.received++;
        take(r);
      }
      n++;
    }
    return n;
  }

  /** Whether a record is waiting to be read (one atomic load each way). */
  get readable(): boolean {
    return this.reader.used > 0;
  }

  /** `readable` as a hint without synchronization (RingReader.mayHaveRecords): may be stale. */
  get mayBeReadable(): boolean {
    return this.reader.mayHaveRecords;
  }

  /** Waits until a record is there (spin, then park without blocking the thread). */
  waitReadable(): Promise<RingWait> {
    return this.reader.waitReadable(undefined, this.keepAlive);
  }

  /** Blocks the thread until a record is there or `timeoutMs` passes (for a request the caller must answer synchronously). */
  waitReadableSync(timeoutMs: number): RingWait {
    return this.reader.waitReadableSync(timeoutMs);
  }

  /**
   * Writes what it can of the overflow queue now, without waiting (a thread
   * blocked waiting for the other end's answer calls it, since the queue
   * otherwise drains only from its event loop).
   */
  pushOverflow(): void {
    this.flush();
    if (this.overflow.length === 0 || this.writer.closed) return;
    try {
      const n = this.writer.writeMany(this.overflow);
      if (n > 0) this.overflow.splice(0, n);
    } catch {
      // closed under us
    }
  }

  /** Wakes this end's asynchronous wait after a synchronous one (see RingEnd.wakeWaiters). */
  wakeReader(): void {
    this.reader.wakeWaiters();
  }

  /** Whether the other end (or this one) closed it. */
  get closed(): boolean {
    return this.closedHere || this.writer.closed;
  }

  /** Closes both rings (the other end's waits return). */
  close(): void {
    this.closedHere = true;
    this.overflow.length = 0;
    this.outbox = [];
    this.writer.close();
    this.reader.close();
  }
}
