/**
 * Attacks: exit signals and links. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['kill-guessing', 'a guest killing pids by guessing them: a supervised tree and the counter survive'],
  ['link-and-crash', 'actors that link to every pid they can guess and crash, spawned in a loop'],
];

describe('attacks: exit signals and links', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
