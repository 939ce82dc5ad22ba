/**
 * Every attack with its bars beyond the common ones (harness.ts): the RSS
 * bound (MiB) and, for some, what must hold of the attack's counters. An RSS
 * bound is the child's RSS under no attack plus what the hive's default
 * limits (src/actors/limits.ts) let the attack hold, rounded up.
 */
import { BASE_RSS_MB, atMost, type Bars, type ChildResult } from './harness.js';

type Counters = ChildResult['counters'];
import { SERVICE_BARS } from './services-attacks.js';
import { DURABLE_BARS } from './durable-attacks.js';


/** A host error must be one of the runtime's typed errors, never a raw RangeError or TypeError from inside it. */
function typed(c: Counters, key: string): string[] {
  const v = c[key];
  if (typeof v !== 'string' || v === 'spawned') return [];
  return /^(RangeError|TypeError|Error|ReferenceError):/.test(v) ? [`${key}: an untyped error: ${v}`] : [];
}

/** The counters that must have a value. */
function equal(c: Counters, want: Counters): string[] {
  return Object.entries(want)
    .filter(([k, v]) => c[k] !== v)
    .map(([k, v]) => `${k} is ${String(c[k])}, not ${String(v)}`);
}


const BASE = BASE_RSS_MB;

/** The bars of each attack, by name (names of attacks.ts). */
export const ATTACK_BARS: Record<string, Bars> = {
  'baseline': { rssMB: BASE },
  // Signal queues, monitors and links are bounded per actor (1,000 each by default): small.
  'monitor-noproc': { rssMB: BASE + 50, check: (c) => atMost(c, { attackerMaxSignals: 1000 }) },
  'monitor-self': { rssMB: BASE + 50, check: (c) => atMost(c, { attackerMaxMonitors: 1000 }) },
  'exit-to-trapper': { rssMB: BASE + 50, check: (c) => atMost(c, { victimMaxSignals: 1000, childMaxSignals: 1000 }) },
  'demonitor-scan': { rssMB: BASE + 50, check: (c) => atMost(c, { attackerMaxSignals: 1000 }) },
  // One spawn tree holds at most 2,000 actors (~100 KiB each idle: one 64 KiB page and the instance).
  'spawn-bomb': { rssMB: BASE + 300 },
  'spawn-start-fuel': { rssMB: BASE + 100 },
  // Init messages waiting to be read must count somewhere (as the tree's 64 MiB of queued bytes would), on top of the actors.
  'spawn-huge-init': { rssMB: BASE + 300 },
  'register-names': { rssMB: BASE + 300 },
  // Queued bytes of one tree: 64 MiB by default (mailboxes, inboxes, blocked sends), and buffers in flight.
  // The counters' bounds: 64 MiB in messages of 64 KiB or 1 MiB.
  'host-inbox-flood': { rssMB: BASE + 100, check: (c) => atMost(c, { inboxMaxMessages: 1024 }) }, // 64 MiB of 64 KiB
  'mailbox-1mib-messages': { rssMB: BASE + 100, check: (c) => atMost(c, { sinkMaxMailbox: 64 }) },
  'mailbox-many-senders': { rssMB: BASE + 100, check: (c) => atMost(c, { sinksMaxMessages: 64 }) },
  'send-to-self': { rssMB: BASE + 100, check: (c) => atMost(c, { attackerMaxMailbox: 64 }) },
  // Log lines per second are bounded (100 per actor): nothing piles up.
  'log-flood': { rssMB: BASE + 50 },
  'forged-replies': { rssMB: BASE + 50 },
  'call-timeouts': { rssMB: BASE + 100 },
  // Table elements per actor: 65,536 by default (8 bytes each at most).
  'table-grow': { rssMB: BASE + 100 },
  'table-declare': { rssMB: BASE + 100, check: (c) => typed(c, 'hostSpawn') },
  // The simplest CPU-bound guest: one slice at a time, nothing held.
  'spinner': { rssMB: BASE + 50 },
  // V8 accepts a br_table of 65,000 targets: the actor must spawn and run.
  'br-table-65000': { rssMB: BASE + 100, check: (c) => equal(c, { hostSpawn: 'spawned', brTableAlive: 1 }) },
  // Clearing a frame's locals is host work too: the actor must run (or be refused with a typed error), not block the loop.
  'many-locals': { rssMB: BASE + 100, check: (c) => typed(c, 'hostSpawn') },
  // A restored actor runs under the hive's limits: a spinner, 1 page; a bomb refused before it expands.
  'snapshot-fuel-limit': { rssMB: BASE + 50, check: (c) => typed(c, 'restoreError') },
  'snapshot-memory-bomb': { rssMB: BASE + 100, check: (c) => typed(c, 'restoreError') },
  // The default exit policy: a supervised tree (and the counter) survive a guest that guesses pids.
  'kill-guessing': { rssMB: BASE + 50, check: (c) => equal(c, { supervisorAlive: 1, treeUnchanged: 1, restarts: 0 }) },
  'link-and-crash': { rssMB: BASE + 100 },
  // One tree's memory: 4,096 pages (256 MiB) by default (docs/security.md), all of it written, and a grow's copy.
  'memory-grow-many': { rssMB: BASE + 400 },
  // 4 actors of 16 MiB.
  'bulk-memory': { rssMB: BASE + 100 },
  // 2,000 actors parked 9,900 frames deep: what their value stacks hold (40 MB each here) must be bounded too.
  'deep-recursion': { rssMB: BASE + 400 },
  // Native services (services-attacks.ts).
  ...SERVICE_BARS,
  // Durable actors (durable-attacks.ts).
  ...DURABLE_BARS,
};
