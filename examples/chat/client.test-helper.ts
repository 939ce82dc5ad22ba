/**
 * A WebSocket client of the chat for its tests: it keeps every frame it gets
 * (parsed; a frame that is not JSON is kept as `__not_json`, a binary one as
 * `__binary`) for `take` to find, and asks with refs.
 */
import WebSocket from 'ws';
import { expect } from 'vitest';

/** A frame of the protocol (README.md). */
export type Frame = { type: string; [k: string]: unknown };

/** A connection to the chat (see the header). */
export class Client {
  readonly frames: Frame[] = [];
  /** Every frame's text as it came. */
  readonly raw: string[] = [];
  keepRaw = false;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  static refs = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      const text = data.toString();
      if (this.keepRaw) this.raw.push(text);
      let f: Frame;
      try {
        f = JSON.parse(text) as Frame;
      } catch {
        f = { type: '__not_json', text };
      }
      if (binary) f = { type: '__binary', text };
      const i = this.#waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(f);
      else this.frames.push(f);
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  static async hello(url: string, name: string): Promise<Client> {
    const c = await Client.open(url);
    c.send({ type: 'hello', name });
    await c.take((f) => f.type === 'welcome');
    return c;
  }

  send(frame: object | string | Buffer): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  take(pred: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(t);
          resolve(f);
        },
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`no frame as expected within ${ms} ms; got ${JSON.stringify(this.frames.slice(-5)).slice(0, 500)}`));
      }, ms);
      this.#waiters.push(w);
    });
  }

  /** Sends a request with a fresh ref and takes the frame that carries it back. */
  async ask(req: object, ms = 10_000): Promise<Frame> {
    const ref = `a${++Client.refs}`;
    this.send({ ...req, ref });
    return this.take((f) => f.ref === ref, ms);
  }

  /** The error code a request gets. */
  async errorOf(req: object): Promise<string> {
    const f = await this.ask(req);
    expect(f.type).toBe('error');
    return f.code as string;
  }

  /** Whether the connection is still served: a ping is answered within `ms`. */
  async answers(ms = 5_000): Promise<boolean> {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    return this.ask({ type: 'ping' }, ms).then((f) => f.type === 'pong', () => false);
  }

  /** Drops what came so far. */
  clear(): void {
    this.frames.length = 0;
  }

  close(): void {
    this.ws.close();
  }
}
