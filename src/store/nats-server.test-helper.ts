/**
 * A NATS server for the NatsStore tests: the one `NATS_URL` names (tests
 * isolate themselves there by a unique bucket prefix), else a `nats-server
 * -js` of our own on a free loopback port with a temporary store directory
 * (when the binary is on PATH), else null, and the tests are skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A server to test against. */
export interface NatsServer {
  /** Where to connect, e.g. `nats://127.0.0.1:4222`. */
  readonly url: string;
  /** Whether this process started it (so `restart` and `kill` can be used). */
  readonly local: boolean;
  /** Stops the server (if this process started it) and removes its store directory. */
  stop(): Promise<void>;
}

/** A server this process started: it can also be stopped and started again on the same port and store directory. */
export interface LocalNatsServer extends NatsServer {
  readonly local: true;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the process (SIGTERM, then SIGKILL), keeping the store directory. */
  halt(): Promise<void>;
  /** Starts it again (after `halt`; nothing if it runs) on the same port and store directory. */
  resume(): Promise<void>;
}

/** The path of the nats-server binary on PATH, or null. */
export function natsServerBinary(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why `startNatsServer` gives null, for the skip message. */
export const NO_NATS_SERVER = 'no NATS server: set NATS_URL, or put nats-server on PATH (Debian: apt-get install nats-server)';

/** Whether `startNatsServer` will find or start a server (NATS_URL is set, or the binary is on PATH): for skipIf at collection time. */
export function natsServerAvailable(): boolean {
  const url = process.env['NATS_URL'];
  return (url !== undefined && url !== '') || natsServerBinary() !== null;
}

/** The server of `NATS_URL`, else one of our own, else null (then skip). */
export async function startNatsServer(): Promise<NatsServer | null> {
  const url = process.env['NATS_URL'];
  if (url !== undefined && url !== '') return { url, local: false, stop: async () => {} };
  return startLocalNatsServer();
}

/** A `nats-server -js` of our own on a free loopback port, or null if the binary is not on PATH. */
export async function startLocalNatsServer(): Promise<LocalNatsServer | null> {
  const bin = natsServerBinary();
  if (bin === null) return null;
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'wasmhive-nats-'));
  let child: ChildProcess | null = null;
  let log = '';
  // If the test process dies, take the server with it.
  const onExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', onExit);

  const running = (): boolean => child !== null && child.exitCode === null && child.signalCode === null;

  const launch = async (): Promise<void> => {
    if (running()) return;
    log = '';
    const c = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const keep = (d: Buffer): void => {
      log = (log + d.toString()).slice(-8000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    let exited = false;
    c.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 15_000;
    while (!(await accepts(port))) {
      if (exited) throw new Error(`nats-server exited at start:\n${log}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`nats-server did not accept connections on port ${port} in 15 s:\n${log}`);
      }
      await sleep(50);
    }
  };

  const halt = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    local: true,
    port,
    storeDir,
    halt,
    resume: launch,
    stop: async () => {
      await halt();
      process.removeListener('exit', onExit);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
