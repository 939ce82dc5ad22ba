/**
 * Attacks: mailbox floods. Each runs in a child process with a 256 MiB heap
 * (harness.ts) and must meet the bars of issue 10: the host survives, the
 * unrelated counter answers with p99 < 50 ms, RSS stays within the bound
 * of bounds.ts, no acknowledged message is lost.
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['host-inbox-flood', 'a guest flooding a host inbox with 64 KiB messages'],
  ['mailbox-1mib-messages', '1 MiB messages into one mailbox never read'],
  ['mailbox-many-senders', '8 senders of 1 MiB messages into 8 mailboxes never read'],
  ['send-to-self', '1 MiB messages to itself until full, and on'],
];

describe('attacks: mailbox floods', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
