/**
 * Attacks: tables. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['table-grow', 'table.grow to 10M elements on 24 tables, in a loop'],
  ['table-declare', 'a module declaring 24 tables of 10M elements, spawned by the host and by a guest in a loop'],
];

describe('attacks: tables', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
