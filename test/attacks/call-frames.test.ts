/**
 * Attacks: call frames. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['deep-recursion', 'actors recursing 9,900 frames deep (500 locals each) and parking there, spawned in a loop'],
  ['many-locals', 'a call in a loop to a function with 50,000 i64 locals'],
];

/** Tiers the attacks also run with (besides the hive's default). */
const TIERS = ['auto', 'compiled'] as const;

describe('attacks: call frames', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
  // The same bars with the compiled tier's code (docs/architecture.md, "Tiers"), whose limits these attacks reach.
  for (const tier of TIERS) {
    for (const [name, what] of ATTACKS) {
      it(`${name} (tier ${tier}): ${what}`, async () => {
        await holds(name, ATTACK_BARS[name]!, { tier });
      }, ATTACK_TIMEOUT_MS);
    }
  }
});
