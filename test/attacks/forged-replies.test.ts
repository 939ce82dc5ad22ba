/**
 * Attacks: reply addresses. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['forged-replies', 'replies forged to reply-address ids guessed in sequence while the host calls another actor'],
  ['call-timeouts', '200 actors calling with a 1 ms timeout a sink that never answers and a pid that does not exist'],
];

describe('attacks: reply addresses', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
