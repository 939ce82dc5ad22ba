/**
 * Attacks: snapshots carrying their own limits. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['snapshot-fuel-limit', 'restoring a snapshot whose limits say fuelPerSlice 2^53-1'],
  ['snapshot-memory-bomb', 'restoring a snapshot whose limits say maxMemoryPages 65,536, with a Brotli-bomb memory of 4 GiB'],
];

describe('attacks: snapshots carrying their own limits', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
