/**
 * Attacks: spawning. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['spawn-bomb', 'actors spawning actors spawning actors'],
  ['spawn-start-fuel', 'spawns in a loop of a module whose start function burns ~10M fuel'],
  ['spawn-huge-init', 'spawns in a loop with ~1 MiB init messages never read'],
  ['register-names', 'spawns in a loop of actors that each register a 255-byte name'],
];

describe('attacks: spawning', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
