/**
 * How long a slice of each attacker takes: each guest runs alone in a fresh
 * hive (default limits, logs off) for a second, and the fuel it used per
 * millisecond of wall time gives the time of one default slice (20,000
 * fuel). Fuel is meant to measure host time; a guest whose slices take much
 * longer than a plain loop's is doing host work it does not pay for.
 *   node --import tsx test/attacks/slices.ts [guest...]
 */
import { pino } from 'pino';
import { Hive } from '../../src/actors/index.js';
import { guest } from './attacks.js';

/** Guests that attack alone (no init message needed), with the modules they spawn. */
const ALONE: Record<string, string[]> = {
  'spinner': [],
  'monitor-noproc': [],
  'monitor-self': [],
  'demonitor-scan': [],
  'killer': [],
  'forger': ['echo'],
  'log-flood': [],
  'table-grow': [],
  'bulk-memory': [],
  'bomb': [],
};

const SLICE = 20_000;
const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : Object.keys(ALONE)) {
  const hive = new Hive({ logger: pino({ level: 'silent' }) });
  for (const g of [name, ...(ALONE[name] ?? [])]) hive.define(g, guest(g));
  const ref = hive.spawn(name);
  let longest = 0;
  const t0 = performance.now();
  let last = t0;
  while (performance.now() - t0 < 1000) {
    await new Promise((r) => setImmediate(r));
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }
  const ms = performance.now() - t0;
  const fuel = ref.info()?.fuelUsed ?? NaN;
  const perMs = fuel / ms;
  console.log(`${name.padEnd(16)} fuel/ms ${String(Math.round(perMs)).padStart(8)}   ms per slice ${(SLICE / perMs).toFixed(2).padStart(8)}   longest event-loop turn ${longest.toFixed(1)} ms`);
  hive.close();
}
