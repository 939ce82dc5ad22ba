/**
 * The attacks on durable actors (`Hive.durable`, README "Durable actors"),
 * registered in attacks.ts and bounds.ts like the others. A guest cannot make
 * a durable actor (only the host's `hive.durable` does): what it reaches is
 * the host's durable actors, by pid, with messages, calls and monitors
 * (links and exit signals too under `signals: 'open'`; the default, 'tree',
 * refuses them across trees). So each attack has the host make one durable
 * actor (a module of ./guests, `durable-*.wat`) and guests go at it.
 *
 * The hive: the default configuration plus durable actors kept in a FileStore
 * (the embedded default, fsync on) in a new temp dir (`DURABLE_HIVES`, which
 * child.ts uses for these attacks instead of `new Hive()`), with
 * DurableOptions' defaults (checkpointEvery 1, maxPending 1,024; crash
 * restarts off, and on with their defaults, 3 in 5,000 ms, for the crash
 * loop). The store is closed and the dir removed when the hive is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorRef, DurableOptions, Hive, HiveOptions } from '../../src/actors/index.js';
import type * as HiveInternals from '../../src/actors/hive.js';
import type * as Stores from '../../src/store/index.js';
import { wat } from '../helpers/wat.js';
import { BASE_RSS_MB, STORE_DIR_PREFIX, atLeast, atMost, type Bars } from './harness.js';

/** What an attack gets from the child (the same shape as attacks.ts's AttackContext). */
interface Context {
  hive: Hive;
  counter: ActorRef;
  counters: Record<string, number | string>;
  caught(key: string, e: unknown): void;
}
interface Running {
  sample?(): void;
  stop?(): void;
}

/** A hive made for one attack (child.ts): its options, and what to do once it is closed. */
export interface HiveSetup {
  options: HiveOptions;
  /** After `hive.close()`: closes what the options hold (the store) and removes its files. */
  close(): Promise<void>;
}

/** The stores of the hives open (the last: the hive under attack; child.ts's diagnostic prewarm opens a second), for their counters. */
const openStores: Stores.FileStore[] = [];
/** The store of the hive under attack. */
const current = (): Stores.FileStore | null => openStores.at(-1) ?? null;

/**
 * A FileStore (fsync on, its defaults) in a new temp dir, and a hive keeping
 * its durable actors there with DurableOptions' defaults and `durable`. The
 * built package (dist/), as child.ts imports the hive (typed as src/).
 */
function fileStoreHive(durable: Partial<DurableOptions> = {}): () => Promise<HiveSetup> {
  return async () => {
    const { FileStore } = (await import('../../dist/store/index.js' as string)) as typeof Stores;
    // Named after this process: the harness removes what a child that died left (harness.ts, STORE_DIR_PREFIX).
    const dir = mkdtempSync(join(tmpdir(), `${STORE_DIR_PREFIX}${process.pid}-`));
    const opened = await FileStore.open(dir);
    openStores.push(opened);
    return {
      options: { durable: { store: opened, ...durable } },
      close: async () => {
        openStores.splice(openStores.indexOf(opened), 1);
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

/** The hive's internals, read for the report only (dist/, as the hive). */
async function internals(): Promise<typeof HiveInternals> {
  return (await import('../../dist/actors/hive.js' as string)) as typeof HiveInternals;
}

function define(hive: Hive, ...names: string[]): void {
  for (const n of names) if (!hive.modules.has(n)) hive.define(n, wat(readFileSync(new URL(`./guests/${n}.wat`, import.meta.url), 'utf8')));
}

function peak(c: Context['counters'], key: string, value: number): void {
  const prev = c[key];
  if (typeof prev !== 'number' || value > prev) c[key] = value;
}

/** Little-endian u32 words as bytes (init messages of the guests). */
function words(...ws: number[]): Uint8Array {
  const b = new Uint8Array(ws.length * 4);
  const v = new DataView(b.buffer);
  ws.forEach((w, i) => v.setInt32(i * 4, w, true));
  return b;
}

/**
 * The init message of guests/durable-sender.wat: `to`, send or call, `size`
 * bytes, report to `reportTo` at `endAt` (hive clock ms; 0: never) or, with
 * `stopWhenGone`, at the first NOT_FOUND.
 */
function senderInit(o: { to: number; mode: 'send' | 'call'; size: number; reportTo?: number; endAt?: number; stopWhenGone?: boolean }): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setInt32(0, o.to, true);
  v.setInt32(4, (o.mode === 'send' ? 0 : 1) | (o.stopWhenGone === true ? 2 : 0), true);
  v.setInt32(8, o.size, true);
  v.setInt32(12, o.reportTo ?? 0, true);
  v.setBigInt64(16, BigInt(o.endAt ?? 0), true);
  return b;
}

/** The init message of guests/spawner.wat (attacks.ts): spawn `module` with `init`, `max` times. */
function spawnerInit(module: string, init: Uint8Array, max: number): Uint8Array {
  const name = new TextEncoder().encode(module);
  const head = words(max, name.length, init.length);
  const out = new Uint8Array(head.length + name.length + init.length);
  out.set(head, 0);
  out.set(name, head.length);
  out.set(init, head.length + name.length);
  return out;
}

/**
 * A tenant: a host-spawned guests/spawner.wat (a spawn tree of its own)
 * spawning `n` durable-sender children with `init`. Reports whether it is
 * alive and how many children it has spawned.
 */
function tenant(ctx: Context, label: string, n: number, init: Uint8Array): { ref: ActorRef; sample(): void; stop(): void } {
  define(ctx.hive, 'spawner', 'durable-sender');
  const ref = ctx.hive.spawn('spawner', { init: spawnerInit('durable-sender', init, n) });
  let spawned = 0;
  const onSpawn = (e: { ref: ActorRef }): void => {
    if (e.ref.info()?.tree === ref.id) spawned++;
  };
  ctx.hive.on('spawned', onSpawn);
  return {
    ref,
    sample() {
      ctx.counters[`${label}Alive`] = ref.alive ? 1 : 0;
      ctx.counters[`${label}Spawned`] = spawned;
    },
    stop: () => ctx.hive.off('spawned', onSpawn),
  };
}

/**
 * The victim's queues at their largest (info() of a live actor: undefined
 * while passivated), whether it is alive, and how and when it exited (the
 * `exited` event: a ref's `exited` read before a crash restart does not
 * resolve, see durable-crash-loop).
 */
function watchVictim(ctx: Context, ref: ActorRef): () => void {
  const start = Date.now();
  const onExit = (e: { id: number; reason: string }): void => {
    if (e.id !== ref.id) return;
    ctx.counters['victimExit'] = e.reason.slice(0, 120);
    ctx.counters['victimExitedAtMs'] = Date.now() - start;
    ctx.hive.off('exited', onExit);
  };
  ctx.hive.on('exited', onExit);
  return () => {
    ctx.counters['victimAlive'] = ref.alive ? 1 : 0;
    const i = ref.info();
    if (i === undefined) return;
    peak(ctx.counters, 'victimMaxMailbox', i.mailbox);
    peak(ctx.counters, 'victimMaxMailboxMB', Math.round((i.mailboxBytes / 1048576) * 10) / 10);
    peak(ctx.counters, 'victimMaxSignals', i.signals);
  };
}

/** The store's figures (MiB written to its files, group commits, fsyncs). */
function storeFigures(ctx: Context): void {
  const store = current();
  if (store === null) return;
  const s = store.stats();
  ctx.counters['storeMB'] = Math.round(s.bytes / 1048576);
  ctx.counters['storeBatches'] = s.batches;
  ctx.counters['storeSyncs'] = s.syncs;
}

/** Checkpoint puts: their number and the largest record (MiB), counted at the store (the records of durable actors are under `actor/`). */
function countPuts(ctx: Context): void {
  const s = current();
  if (s === null) return;
  const put = s.put.bind(s);
  let puts = 0;
  s.put = async (key, value) => {
    if (key.startsWith('actor/')) {
      ctx.counters['checkpointPuts'] = ++puts;
      peak(ctx.counters, 'checkpointMaxMB', Math.round((value.length / 1048576) * 10) / 10);
    }
    return put(key, value);
  };
}

/**
 * The durable attacks' hives, by attack name: child.ts makes the hive of these
 * attacks from them (and closes what they hold after the hive).
 */
export const DURABLE_HIVES: Record<string, () => Promise<HiveSetup>> = {
  'durable-flood': fileStoreHive(),
  'durable-1mib-messages': fileStoreHive(),
  'durable-crash-loop': fileStoreHive({ restart: true }),
  'durable-checkpoint-memory': fileStoreHive(),
  'durable-monitor-flip': fileStoreHive(),
};

/** The time of the attack's phases in durable-flood (ms after it starts; the probe runs 2,000). */
const FLOOD_WAKE_MS = 1_000;
const FLOOD_END_MS = 1_500;

/** The attacks, by name (added to attacks.ts's ATTACKS). */
export const DURABLE_ATTACKS: Record<string, (ctx: Context) => Running | void | Promise<Running | void>> = {
  /**
   * A durable actor that does not receive for its first 1,000 ms (then
   * drains its mailbox and counts what it got), flooded by two tenants of
   * 560 guests each (1,120 messages can be on their way to its journal at
   * once: past maxPending), one sending, one calling (timeout 0: taken, not
   * answered), 16-byte messages, until 1,500 ms. Past the mailbox limit
   * (10,000) or maxPending (1,024) the senders must get FULL; every message
   * acknowledged (a send's OK, a call's request taken) must reach the actor:
   * what it counts must be what its senders were told was taken.
   */
  'durable-flood': async (ctx) => {
    define(ctx.hive, 'durable-sink');
    const inbox = ctx.hive.inbox();
    const start = Date.now();
    const victim = await ctx.hive.durable('victim', 'durable-sink', { init: words(FLOOD_WAKE_MS, 50, inbox.id) });
    const endAt = start + FLOOD_END_MS;
    const senders = tenant(ctx, 'senders', 560, senderInit({ to: victim.id, mode: 'send', size: 16, reportTo: inbox.id, endAt }));
    const callers = tenant(ctx, 'callers', 560, senderInit({ to: victim.id, mode: 'call', size: 16, reportTo: inbox.id, endAt }));
    const w = watchVictim(ctx, victim);
    const c = ctx.counters;
    c['taken'] = c['full'] = c['other'] = c['reports'] = 0;
    c['received'] = -1;
    // The reports: the victim's count (4 bytes), and each sender's [taken, full, other] (12 bytes).
    void (async () => {
      for await (const m of inbox) {
        const v = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
        if (m.from === victim.id && m.bytes.length === 4) {
          c['received'] = v.getUint32(0, true);
          c['receivedAtMs'] = Date.now() - start;
        } else if (m.bytes.length === 12) {
          c['taken'] = (c['taken'] as number) + v.getUint32(0, true);
          c['full'] = (c['full'] as number) + v.getUint32(4, true);
          c['other'] = (c['other'] as number) + v.getUint32(8, true);
          c['reports'] = (c['reports'] as number) + 1;
        }
      }
    })().catch((e: unknown) => ctx.caught('inboxError', e));
    return {
      sample: () => {
        w();
        senders.sample();
        callers.sample();
        storeFigures(ctx);
      },
      stop: () => (senders.stop(), callers.stop()),
    };
  },

  /**
   * A durable actor that never receives, sent 1 MiB messages (timeout 0) by
   * two tenants of 32 guests each: while a batch is on its way to the
   * journal, the messages behind it must be refused once the mailbox's
   * bytes (mailboxBytes, 16 MiB), counting those on their way, are full.
   */
  'durable-1mib-messages': async (ctx) => {
    define(ctx.hive, 'durable-sink');
    const victim = await ctx.hive.durable('victim', 'durable-sink', { init: words(-1, 0, 0) });
    const init = senderInit({ to: victim.id, mode: 'send', size: 1 << 20 });
    const tenants = [tenant(ctx, 'tenantA', 32, init), tenant(ctx, 'tenantB', 32, init)];
    const w = watchVictim(ctx, victim);
    return {
      sample: () => {
        w();
        for (const t of tenants) t.sample();
        storeFigures(ctx);
      },
      stop: () => tenants.forEach((t) => t.stop()),
    };
  },

  /**
   * A durable actor, crash restarts on (their defaults: 3 in 5,000 ms), that
   * traps on every message, sent to by a tenant of 64 guests until it is
   * gone: it must be restarted at most 3 times and then exit (a tombstone),
   * and its senders then get NOT_FOUND (and stop: 64 guests sending to a pid
   * that does not exist, for ever, would be another attack).
   */
  'durable-crash-loop': async (ctx) => {
    define(ctx.hive, 'durable-trapper');
    let restarts = 0;
    const onRestart = (e: { supervisor: number; child: string }): void => {
      if (e.supervisor === 0 && e.child === 'victim') ctx.counters['restarts'] = ++restarts;
    };
    ctx.hive.on('restarted', onRestart);
    ctx.counters['restarts'] = 0;
    const victim = await ctx.hive.durable('victim', 'durable-trapper');
    // Read now, while its first instance runs: whether it resolves when the actor, restarted, exits (it does not).
    ctx.counters['refExitedResolved'] = 0;
    void victim.exited.then(() => (ctx.counters['refExitedResolved'] = 1));
    const inbox = ctx.hive.inbox();
    const t = tenant(ctx, 'senders', 64, senderInit({ to: victim.id, mode: 'send', size: 16, reportTo: inbox.id, stopWhenGone: true }));
    const w = watchVictim(ctx, victim);
    // The senders' reports, once the actor is gone: [taken, full, other (NOT_FOUND...)].
    const c = ctx.counters;
    c['taken'] = c['full'] = c['other'] = c['reports'] = 0;
    void (async () => {
      for await (const m of inbox) {
        const v = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
        c['taken'] = (c['taken'] as number) + v.getUint32(0, true);
        c['full'] = (c['full'] as number) + v.getUint32(4, true);
        c['other'] = (c['other'] as number) + v.getUint32(8, true);
        c['reports'] = (c['reports'] as number) + 1;
      }
    })().catch((e: unknown) => ctx.caught('inboxError', e));
    return {
      sample: () => {
        w();
        t.sample();
        storeFigures(ctx);
      },
      stop: () => (t.stop(), ctx.hive.off('restarted', onRestart)),
    };
  },

  /**
   * A durable actor holding 16 MiB of random bytes (the default
   * maxMemoryPages; made in the set-up, not measured), checkpointed after
   * every message (checkpointEvery's default): a tenant of 32 guests sends
   * it 16-byte messages for ever. Each message they get journaled makes the
   * host snapshot (and compress) 16 MiB on its thread and put it.
   */
  'durable-checkpoint-memory': async (ctx) => {
    define(ctx.hive, 'durable-big');
    countPuts(ctx);
    const victim = await ctx.hive.durable('victim', 'durable-big');
    // Its memory filled (its start, ~16M units of fuel paid in slices), it waits in receive.
    const ready = Date.now() + 10_000;
    while (victim.info()?.waiting !== 'receive' && Date.now() < ready) await new Promise((r) => setTimeout(r, 10));
    ctx.counters['victimPages'] = victim.info()?.memoryPages ?? -1;
    ctx.counters['checkpointPuts'] = 0;
    const t = tenant(ctx, 'senders', 32, senderInit({ to: victim.id, mode: 'send', size: 16 }));
    const w = watchVictim(ctx, victim);
    return {
      sample: () => {
        w();
        t.sample();
        storeFigures(ctx);
      },
      stop: t.stop,
    };
  },

  /**
   * A durable actor that receives (and counts) what it is sent, kept busy
   * journaling by a tenant of 16 guests sending it 16-byte messages, and a
   * guest that monitors it and drops the monitor at once, in a loop (it
   * never holds more than one monitor). A monitor of a durable actor waits
   * behind its messages on their way to the journal; the demonitor must not
   * leave it behind on the actor: the monitors recorded on the actor must
   * stay within what its watchers hold (1 here; maxMonitors, 1,000, each).
   */
  'durable-monitor-flip': async (ctx) => {
    define(ctx.hive, 'durable-sink', 'monitor-flip');
    const { systemOf } = await internals();
    const system = systemOf(ctx.hive);
    const victim = await ctx.hive.durable('victim', 'durable-sink', { init: words(0, -1, 0) });
    const t = tenant(ctx, 'senders', 16, senderInit({ to: victim.id, mode: 'send', size: 16 }));
    const flipper = ctx.hive.spawn('monitor-flip', { init: words(victim.id) });
    void flipper.exited.then((reason) => (ctx.counters['flipperExit'] = reason.slice(0, 120)));
    const w = watchVictim(ctx, victim);
    countPuts(ctx);
    return {
      sample: () => {
        w();
        t.sample();
        storeFigures(ctx);
        ctx.counters['flipperAlive'] = flipper.alive ? 1 : 0;
        // The monitors recorded on the victim (its side: watcher -> refs), read from the hive's internals.
        const a = system.actor(victim.id);
        if (a !== undefined) {
          let refs = 0;
          for (const [, set] of a.monitoredBy) refs += set.size;
          peak(ctx.counters, 'victimMaxMonitoredBy', refs);
        }
      },
      stop: t.stop,
    };
  },
};




const BASE = BASE_RSS_MB;

/** The bars of the durable attacks (added to bounds.ts's ATTACK_BARS). */
export const DURABLE_BARS: Record<string, Bars> = {
  // 1,120 actors of one page (~100 KiB each), a mailbox of 10,000 small messages. Every message acknowledged
  // reached the actor (and no more: each one it got was acknowledged); the limits were reached (FULL).
  'durable-flood': {
    rssMB: BASE + 150,
    check: (c) => [
      ...atMost(c, { victimMaxMailbox: 10_000, victimMaxMailboxMB: 16 }),
      ...atLeast(c, { taken: 1, full: 1, reports: 1, victimAlive: 1 }),
      ...(c['received'] !== c['taken'] ? [`the durable actor received ${String(c['received'])} messages, its senders were told ${String(c['taken'])} were taken`] : []),
    ],
  },
  // The mailbox's bytes (16 MiB) hold, counting messages on their way to the journal; 64 senders' memories of 17 pages.
  'durable-1mib-messages': { rssMB: BASE + 150, check: (c) => [...atMost(c, { victimMaxMailboxMB: 17 }), ...atLeast(c, { victimMaxMailbox: 1, tenantAAlive: 1, tenantBAlive: 1 })] },
  // At most maxRestarts (3) restarts, then it exits.
  'durable-crash-loop': {
    rssMB: BASE + 50,
    check: (c) => [
      ...atMost(c, { restarts: 3 }),
      ...atLeast(c, { restarts: 1 }),
      ...(c['victimAlive'] !== 0 || !String(c['victimExit']).startsWith('trap') ? [`the crashing durable actor did not exit trapped (alive ${String(c['victimAlive'])}, exit ${String(c['victimExit'])})`] : []),
    ],
  },
  // One checkpoint at a time: the snapshot of 16 MiB, its record and the store's frame, besides the actor's own
  // 16 MiB (and the buffers of the last ones, until V8 collects them).
  'durable-checkpoint-memory': { rssMB: BASE + 200, check: (c) => atLeast(c, { victimPages: 256, checkpointPuts: 1, victimAlive: 1 }) },
  // The monitors recorded on the durable actor: as many as its watchers hold (1), never more than maxMonitors (1,000).
  'durable-monitor-flip': { rssMB: BASE + 50, check: (c) => [...atMost(c, { victimMaxMonitoredBy: 1000 }), ...atLeast(c, { flipperAlive: 1, victimAlive: 1 })] },
};
