/**
 * The attacks, by name: what each one sets up in the child's hive (see
 * child.ts). The guests are WAT sources in ./guests, assembled here with the
 * npm `wabt` package. An attack returns counters the child reports (what the
 * attacker managed, what the hive refused); the bars are in bounds.ts and
 * harness.ts. Everything runs on the hive's default configuration.
 */
import { readFileSync } from 'node:fs';
import { createBrotliCompress, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import type { Hive, ActorRef } from '../../src/actors/index.js';
import type { Module } from '../../src/vm/index.js';
import { wat } from '../helpers/wat.js';
import { SERVICE_ATTACKS } from './services-attacks.js';
import { DURABLE_ATTACKS, DURABLE_HIVES, type HiveSetup } from './durable-attacks.js';

/** What an attack gets from the child. */
export interface AttackContext {
  hive: Hive;
  /** The unrelated counter the probe calls. */
  counter: ActorRef;
  /** Counters the child reports in its result line (attacks add their own). */
  counters: Record<string, number | string>;
  /** Records an error the host got (by its class name) under a counter. */
  caught(key: string, e: unknown): void;
}

/** A running attack: `sample` runs every 50 ms (counters that change), `stop` at the end. */
export interface Running {
  sample?(): void;
  stop?(): void;
}

/** An attack: sets itself up in the hive and starts. */
export type Attack = (ctx: AttackContext) => Running | void | Promise<Running | void>;

/** A guest of ./guests, assembled (each attack assembles its few guests once). */
export function guest(name: string): Uint8Array {
  return wat(readFileSync(new URL(`./guests/${name}.wat`, import.meta.url), 'utf8'));
}

/** Little-endian u32 words as bytes (init messages of the guests). */
function words(...ws: number[]): Uint8Array {
  const b = new Uint8Array(ws.length * 4);
  const v = new DataView(b.buffer);
  ws.forEach((w, i) => v.setInt32(i * 4, w, true));
  return b;
}

/** The init message of guests/spawner.wat: spawn `module` (with `init`) up to `max` times (0: for ever). */
function spawnerInit(module: string, init: Uint8Array | null = null, max = 0): Uint8Array {
  const name = new TextEncoder().encode(module);
  const head = words(max, name.length, init === null ? -1 : init.length);
  const out = new Uint8Array(head.length + name.length + (init?.length ?? 0));
  out.set(head, 0);
  out.set(name, head.length);
  if (init !== null) out.set(init, head.length + name.length);
  return out;
}

/**
 * What the guests of the attacks in this file are given to the hive as: their
 * bytes (the hive compiles them with the default tier), or, when the child is
 * asked for a tier (ATTACK_TIER, see child.ts), a Module of that tier.
 */
let compileGuest: (bytes: Uint8Array) => Uint8Array | Module = (b) => b;

/** Makes the attacks of this file give the hive their guests compiled by `compile` (child.ts: with ATTACK_TIER). */
export function setGuestCompiler(compile: (bytes: Uint8Array) => Module): void {
  compileGuest = compile;
}

/** Defines guests of ./guests under their file names. */
function define(hive: Hive, ...names: string[]): void {
  for (const n of names) if (!hive.modules.has(n)) hive.define(n, compileGuest(guest(n)));
}

/** Largest value of a counter so far. */
function peak(c: AttackContext['counters'], key: string, value: number): void {
  const prev = c[key];
  if (typeof prev !== 'number' || value > prev) c[key] = value;
}

/** Internal queues of an actor, read for the report only (tolerant of the runtime's changes). */
function queues(hive: Hive, id: number): { signals: number; monitors: number; mailbox: number } | undefined {
  const a = hive.ref(id).info();
  if (a === undefined) return undefined;
  return { signals: a.signals, monitors: a.monitors, mailbox: a.mailbox };
}

/** Reports the attacker's queues at their largest, and whether it is alive. */
function watch(ctx: AttackContext, ref: ActorRef, label = 'attacker'): () => void {
  void ref.exited.then((reason) => (ctx.counters[`${label}Exit`] = reason.slice(0, 120)));
  return () => {
    const q = queues(ctx.hive, ref.id);
    ctx.counters[`${label}Alive`] = ref.alive ? 1 : 0;
    if (q === undefined) return;
    peak(ctx.counters, `${label}MaxSignals`, q.signals);
    peak(ctx.counters, `${label}MaxMonitors`, q.monitors);
    peak(ctx.counters, `${label}MaxMailbox`, q.mailbox);
  };
}

/** Spawns `module` from a guest spawner and reports how many actors are alive. */
function spawning(ctx: AttackContext, module: string, init: Uint8Array | null = null, max = 0): Running {
  define(ctx.hive, 'spawner', module);
  const spawner = ctx.hive.spawn('spawner', { init: spawnerInit(module, init, max) });
  return { sample: watch(ctx, spawner, 'spawner') };
}

/** Spawns one attacker from a guest file (its module named after the file). */
function one(ctx: AttackContext, name: string, init?: Uint8Array): ActorRef {
  define(ctx.hive, name);
  return ctx.hive.spawn(name, init === undefined ? {} : { init });
}

const snapshotPackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'bigint' });
const vmPackr = new Packr({ useRecords: false, variableMapSize: true });
const vmUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const ACTOR_MAGIC = 8; // "WHACTOR\0"
const VM_HEADER = 48; // "WHSNAP", versions, flags, module SHA-256

/**
 * Crafts an actor snapshot from a real one: decodes the actor body and the
 * engine snapshot inside it (docs/snapshot-format.md), lets `edit` change
 * them, and encodes them again.
 */
function craft(bytes: Uint8Array, edit: (body: Record<string, any>, vm: Record<string, any>) => void): Uint8Array {
  const body = snapshotPackr.unpack(bytes.subarray(ACTOR_MAGIC)) as Record<string, any>;
  const vmBytes = body['vm'] as Uint8Array;
  const vm = vmUnpackr.unpack(vmBytes.subarray(VM_HEADER)) as Record<string, any>;
  edit(body, vm);
  const vmBody = vmPackr.pack(vm);
  const newVm = new Uint8Array(VM_HEADER + vmBody.length);
  newVm.set(vmBytes.subarray(0, VM_HEADER), 0);
  newVm.set(vmBody, VM_HEADER);
  body['vm'] = newVm;
  const packed = snapshotPackr.pack(body);
  const out = new Uint8Array(ACTOR_MAGIC + packed.length);
  out.set(bytes.subarray(0, ACTOR_MAGIC), 0);
  out.set(packed, ACTOR_MAGIC);
  return out;
}

/** A snapshot of a spinning actor (taken between its slices), which is then killed. */
async function spinnerSnapshot(ctx: AttackContext): Promise<Uint8Array> {
  define(ctx.hive, 'spinner');
  const s = ctx.hive.spawn('spinner');
  await new Promise((r) => setTimeout(r, 20));
  const bytes = s.snapshot();
  s.kill();
  return bytes;
}

/** Restores crafted bytes now and every 250 ms, counting what the host got. */
function restoring(ctx: AttackContext, bytes: Uint8Array): Running {
  const attempt = (): void => {
    ctx.counters['restores'] = Number(ctx.counters['restores'] ?? 0) + 1;
    try {
      ctx.hive.restore(bytes, { id: 'new' });
      ctx.counters['restored'] = Number(ctx.counters['restored'] ?? 0) + 1;
    } catch (e) {
      ctx.caught('restoreError', e);
    }
  };
  ctx.counters['snapshotBytes'] = bytes.length;
  attempt();
  const timer = setInterval(attempt, 250);
  return { stop: () => clearInterval(timer) };
}

/** Every attack, by name (the names the tests and README use). */
export const ATTACKS: Record<string, Attack> = {
  /** No attack: the figures of the counter alone (the control). */
  'baseline': () => undefined,

  /** A guest that spins for ever (the control for CPU-bound attackers: one slice at a time). */
  'spinner': (ctx) => ({ sample: watch(ctx, one(ctx, 'spinner')) }),

  /** Not a guest's attack: the host itself blocks its event loop 100 ms every 500 ms (the control that the probe sees stalls). */
  'host-stall': () => {
    const timer = setInterval(() => {
      for (const until = performance.now() + 100; performance.now() < until; );
    }, 500);
    return { stop: () => clearInterval(timer) };
  },

  /** monitor() of pids that do not exist, in a loop, never receiving the DOWNs. */
  'monitor-noproc': (ctx) => ({ sample: watch(ctx, one(ctx, 'monitor-noproc')) }),

  /** monitor() of itself, in a loop. */
  'monitor-self': (ctx) => ({ sample: watch(ctx, one(ctx, 'monitor-self')) }),

  /** exit(pid, reason) in a loop to two actors that trap exits and never receive: its own child and one of the host's. */
  'exit-to-trapper': (ctx) => {
    define(ctx.hive, 'trapper');
    const victim = ctx.hive.spawn('trapper');
    const spawned: number[] = [];
    const onSpawn = (e: { id: number }): void => void spawned.push(e.id);
    ctx.hive.on('spawned', onSpawn);
    const attacker = one(ctx, 'exit-flood', words(victim.id));
    const w1 = watch(ctx, victim, 'victim');
    const w2 = watch(ctx, attacker);
    return {
      sample: () => {
        w1();
        w2();
        const child = spawned.find((id) => id > attacker.id); // the attacker's own trapper
        const q = child === undefined ? undefined : queues(ctx.hive, child);
        if (q !== undefined) peak(ctx.counters, 'childMaxSignals', q.signals);
      },
      stop: () => ctx.hive.off('spawned', onSpawn),
    };
  },

  /** A long signal queue, and demonitor() of a reference that matches nothing in a loop (each scans it). */
  'demonitor-scan': (ctx) => ({ sample: watch(ctx, one(ctx, 'demonitor-scan')) }),

  /** Actors spawning copies of themselves, for ever. */
  'spawn-bomb': (ctx) => {
    define(ctx.hive, 'bomb');
    ctx.hive.spawn('bomb');
  },

  /** Spawns, in a loop, a module whose start function burns ~10M fuel. */
  'spawn-start-fuel': (ctx) => spawning(ctx, 'burner'),

  /** Spawns, in a loop, actors with an init message of 1 MiB less 64 bytes (the spawner's own init holds it, within maxMessageBytes) that they never read. */
  'spawn-huge-init': (ctx) => spawning(ctx, 'sleeper', new Uint8Array((1 << 20) - 64).fill(0x5a)),

  /** Spawns, in a loop, actors that each register a 255-byte name. */
  'register-names': (ctx) => spawning(ctx, 'namer'),

  /** A guest flooding a host inbox (never read) with 64 KiB messages. */
  'host-inbox-flood': (ctx) => {
    const inbox = ctx.hive.inbox();
    const attacker = one(ctx, 'flood', words(65536, 1, inbox.id));
    const w = watch(ctx, attacker);
    return {
      sample: () => {
        w();
        peak(ctx.counters, 'inboxMaxMessages', inbox.size);
      },
    };
  },

  /** 1 MiB messages, as fast as possible, into one mailbox that is never read (10,000 x 1 MiB = 10 GiB unless bytes are bounded). */
  'mailbox-1mib-messages': (ctx) => {
    define(ctx.hive, 'sleeper');
    const sink = ctx.hive.spawn('sleeper');
    one(ctx, 'flood', words(1 << 20, 1, sink.id));
    return { sample: watch(ctx, sink, 'sink') };
  },

  /** 8 senders of 1 MiB messages (spawned by one guest: one tenant) round robin into 8 mailboxes, of the host's actors, never read. */
  'mailbox-many-senders': (ctx) => {
    define(ctx.hive, 'sleeper', 'flood');
    const sinks = Array.from({ length: 8 }, () => ctx.hive.spawn('sleeper'));
    const r = spawning(ctx, 'flood', words(1 << 20, sinks.length, ...sinks.map((s) => s.id)), 8);
    return {
      sample: () => {
        r.sample?.();
        let total = 0;
        for (const s of sinks) total += queues(ctx.hive, s.id)?.mailbox ?? 0;
        peak(ctx.counters, 'sinksMaxMessages', total);
      },
    };
  },

  /** Sends 1 MiB messages to itself (never receiving) until full, and on. */
  'send-to-self': (ctx) => ({ sample: watch(ctx, one(ctx, 'flood', words(1 << 20, 1, 0))) }),

  /** log() of 8 KiB lines in a loop, on the default logger (pino to stdout, a pipe the harness drains). */
  'log-flood': (ctx) => ({ sample: watch(ctx, one(ctx, 'log-flood')) }),

  /** Replies forged to reply-address ids guessed in sequence while the host calls the counter (the probe checks every answer). */
  'forged-replies': (ctx) => {
    define(ctx.hive, 'echo');
    return { sample: watch(ctx, one(ctx, 'forger')) };
  },

  /** 200 actors calling, with a 1 ms timeout, a sink that never answers and a pid that does not exist. */
  'call-timeouts': (ctx) => {
    define(ctx.hive, 'sleeper', 'caller');
    const sink = ctx.hive.spawn('sleeper');
    const r = spawning(ctx, 'caller', words(sink.id), 200);
    const w = watch(ctx, sink, 'sink');
    return { sample: () => (r.sample?.(), w()) };
  },

  /** table.grow by 10M elements on each of 24 tables, in a loop. */
  'table-grow': (ctx) => ({ sample: watch(ctx, one(ctx, 'table-grow')) }),

  /** A module declaring 24 tables of 10M elements: spawned once by the host, then by a guest in a loop. */
  'table-declare': (ctx) => {
    define(ctx.hive, 'huge-tables');
    try {
      ctx.hive.spawn('huge-tables');
      ctx.counters['hostSpawn'] = 'spawned';
    } catch (e) {
      ctx.caught('hostSpawn', e);
    }
    return spawning(ctx, 'huge-tables');
  },

  /** A br_table of 65,000 targets, spawned by the host and run in a loop (V8 accepts it: so must we). */
  'br-table-65000': (ctx) => {
    const targets = Array.from({ length: 65_000 }, (_, i) => (i % 2 === 0 ? '$a' : '$b')).join(' ');
    // The source is generated: 65,000 labels would be a 300 KB file.
    const text = `(module (memory (export "memory") 1)
      (func (export "main") (local $i i32)
        (loop $again
          (block $b (block $a
            (br_table ${targets} $a (i32.and (local.get $i) (i32.const 0xffff)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $again))))`;
    try {
      const ref = ctx.hive.spawn(compileGuest(wat(text)));
      ctx.counters['hostSpawn'] = 'spawned';
      const w = watch(ctx, ref, 'brTable');
      return {
        sample: () => {
          w();
          const fuel = ref.info()?.fuelUsed;
          if (fuel !== undefined) ctx.counters['brTableFuel'] = fuel;
        },
      };
    } catch (e) {
      ctx.caught('hostSpawn', e);
    }
  },

  /** A call in a loop to a function with 50,000 i64 locals (V8's limit): each call's frame is 100,000 words to clear. */
  'many-locals': (ctx) => {
    // The source is generated: 50,000 local declarations.
    const text = `(module (memory (export "memory") 1)
      (func $wide (local ${' i64'.repeat(50_000).trim()}))
      (func (export "main") (loop $again (call $wide) (br $again))))`;
    try {
      const ref = ctx.hive.spawn(compileGuest(wat(text)));
      ctx.counters['hostSpawn'] = 'spawned';
      return { sample: watch(ctx, ref) };
    } catch (e) {
      ctx.caught('hostSpawn', e);
    }
  },

  /** Restores a spinner's snapshot whose limits say fuelPerSlice 2^53-1 (one slice would never end). */
  'snapshot-fuel-limit': async (ctx) => {
    const bytes = craft(await spinnerSnapshot(ctx), (body) => {
      body['limits'].fuelPerSlice = Number.MAX_SAFE_INTEGER;
    });
    return restoring(ctx, bytes);
  },

  /** Restores a snapshot whose limits say maxMemoryPages 65,536, its memory 4 GiB of 0x01 in a Brotli bomb (~0.8 MB). */
  'snapshot-memory-bomb': async (ctx) => {
    const pages = 65536;
    const index = new Uint32Array(pages).map((_, i) => i);
    const data = await bomb(pages * 65536);
    const bytes = craft(await spinnerSnapshot(ctx), (body, vm) => {
      body['limits'].maxMemoryPages = pages;
      vm['memories'][0] = { pages, index: new Uint8Array(index.buffer), data };
    });
    return restoring(ctx, bytes);
  },

  /** Guesses pids and sends them exit signals `kill` and `boom`: the counter and a supervised tree must survive. */
  'kill-guessing': (ctx) => {
    define(ctx.hive, 'sleeper', 'trapper');
    const sup = ctx.hive.supervise({
      strategy: 'one-for-one',
      children: [
        { id: 'a', module: 'sleeper' },
        { id: 'b', module: 'trapper' },
        { id: 'inner', supervisor: { children: [{ id: 'c', module: 'sleeper' }] } },
      ],
    });
    const first = JSON.stringify(sup.which());
    let restarts = 0;
    ctx.hive.on('restarted', () => restarts++);
    one(ctx, 'killer');
    return {
      sample: () => {
        ctx.counters['supervisorAlive'] = sup.alive ? 1 : 0;
        ctx.counters['restarts'] = restarts;
        ctx.counters['treeUnchanged'] = JSON.stringify(sup.which()) === first ? 1 : 0;
      },
    };
  },

  /** Actors that link to every pid they can guess and then crash, spawned in a loop. */
  'link-and-crash': (ctx) => spawning(ctx, 'linker'),

  /** Actors that grow their memory to the default maximum and write all of it, spawned in a loop. */
  'memory-grow-many': (ctx) => spawning(ctx, 'grower'),

  /** 4 actors doing memory.fill (16 MiB) and memory.copy (8 MiB) in a loop. */
  'bulk-memory': (ctx) => {
    define(ctx.hive, 'bulk-memory');
    for (let i = 0; i < 4; i++) ctx.hive.spawn('bulk-memory');
  },

  /** Actors that recurse 9,900 frames deep (500 locals each) and park there, spawned in a loop. */
  'deep-recursion': (ctx) => spawning(ctx, 'deep'),

  /** Attacks on native services (services-attacks.ts). */
  ...SERVICE_ATTACKS,

  /** Attacks on durable actors (durable-attacks.ts). */
  ...DURABLE_ATTACKS,
};

/**
 * The hives of the attacks that need more than `new Hive()` (child.ts makes
 * the others so): the durable attacks' store (durable-attacks.ts).
 */
export const HIVES: Record<string, () => Promise<HiveSetup>> = {
  ...DURABLE_HIVES,
};
export type { HiveSetup };

/** `n` bytes of 0x01 as one Brotli stream (compressed 64 MiB at a time, so the host never holds them all). */
async function bomb(n: number): Promise<Uint8Array> {
  const chunk = Buffer.alloc(64 << 20, 1);
  const enc = createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 1 } });
  const parts: Buffer[] = [];
  enc.on('data', (d: Buffer) => parts.push(d));
  const ended = new Promise((r) => enc.on('end', r));
  for (let left = n; left > 0; left -= chunk.length) {
    if (!enc.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => enc.once('drain', r));
  }
  enc.end();
  await ended;
  return Buffer.concat(parts);
}
