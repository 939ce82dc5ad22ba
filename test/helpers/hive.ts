/**
 * Helpers for tests of the actor runtime: the committed guest modules
 * (test/guests, built by guest/assemblyscript/build.mjs), a quiet hive on a
 * manual clock, and the probe guest's command calls.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Packr } from 'msgpackr';
import { Module } from '../../src/vm/index.js';
import { ManualClock } from '../../src/scheduler/index.js';
import { afterAll, beforeAll } from 'vitest';
import { Hive, WorkerPool, type ActorRef, type HiveOptions } from '../../src/actors/index.js';
import { SERIALIZING, serializingTransport } from './serializing-transport.js';

const modules = new Map<string, Module>();

/** A guest module of test/guests, compiled once. */
export function guest(name: string): Module {
  let m = modules.get(name);
  if (m === undefined) {
    m = new Module(readFileSync(fileURLToPath(new URL(`../guests/${name}.wasm`, import.meta.url))));
    modules.set(name, m);
  }
  return m;
}

/**
 * The transport of this test run: inline (default), or, in the executor
 * conformance run (`WASMHIVE_TRANSPORT=serializing`), one that serializes
 * every envelope and delivers it later in a shuffled causal order.
 */
export function conformance(options: HiveOptions = {}): HiveOptions {
  if (WORKERS > 0 && options.workers === undefined && options.transport === undefined) return { ...options, workers: sharedThreads() };
  return SERIALIZING && options.transport === undefined ? { ...options, transport: serializingTransport() } : options;
}

/** Worker threads of this test run's hives: 0 (inline), or 1 or 2 in the pool's conformance runs (`WASMHIVE_WORKERS`). */
export const WORKERS = Number(process.env['WASMHIVE_WORKERS'] ?? 0);

/**
 * Tests skipped in the pool's conformance runs (reported as skipped, never as
 * passed): `readsInternals`, the test reaches into the hive's internals in a
 * way that cannot cross to a worker thread: it steps the hive's executor by
 * hand (a pooled hive's actors run on the workers' executors), spies on the
 * system's methods, or holds engine objects of an actor (its memory region,
 * a Func of its instance); it runs in the inline and serializing runs. (An
 * actor's memory, fuel, limits and counters, and its tree's, are read on any
 * thread through test/helpers/inspect.ts.)
 */
export const readsInternals = WORKERS > 0;

/** The threads every hive of a test file shares in the pool's conformance runs (started once, closed after the file). */
let threads: WorkerPool | null = null;
function sharedThreads(): WorkerPool {
  threads ??= new WorkerPool({ threads: WORKERS });
  return threads;
}
if (WORKERS > 0) {
  // The threads start (load and compile the runtime) before the file's first test, not inside its first spawn.
  beforeAll(() => sharedThreads().ready());
  afterAll(() => threads?.close());
}

/** A hive on a manual clock (unless one is given), with logs off and the test guests defined by name (on this run's transport). */
export function testHive(options: HiveOptions = {}): { hive: Hive; clock: ManualClock } {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(1_700_000_000_000);
  const hive = new Hive(conformance({ logger: pino({ level: 'silent' }), ...options, clock }));
  for (const g of ['probe', 'counter', 'ping', 'pong', 'ring', 'spinner']) hive.define(g, guest(g));
  return { hive, clock };
}

/** Runs a probe command and resolves with its answer. */
export function cmd(probe: ActorRef, ...command: unknown[]): Promise<unknown> {
  return probe.call(command, { timeout: Infinity });
}

/** Lets the hive run until every actor waits, `rounds` times over (for work that enables more work across event-loop turns). */
export async function settle(hive: Hive, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await hive.idle();
    await new Promise((r) => setImmediate(r));
  }
}

const snapshotPackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'bigint' });

/** Rewrites the MessagePack body of an actor snapshot (after its 8-byte magic), as an attacker crafting one would. */
export function forge(snapshot: Uint8Array, edit: (body: Record<string, any>) => void): Uint8Array {
  const body = snapshotPackr.unpack(snapshot.subarray(8)) as Record<string, any>;
  edit(body);
  const packed = snapshotPackr.pack(body);
  const out = new Uint8Array(8 + packed.length);
  out.set(snapshot.subarray(0, 8));
  out.set(packed, 8);
  return out;
}
