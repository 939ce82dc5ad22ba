/**
 * Attacks: durable actors (durable-attacks.ts). Each runs in a child process
 * with a 256 MiB heap (harness.ts), its hive keeping durable actors in a
 * FileStore (fsync on) in a temp dir, and must meet the bars of issue 10:
 * the host survives, the unrelated counter answers with p99 < 50 ms, RSS
 * stays within the bound of bounds.ts, no acknowledged message is lost, and
 * the attack's own checks (the durable actor's mailbox, its restarts, the
 * monitors recorded on it, what it received against what was acknowledged).
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['durable-flood', '1,120 guests send and call a durable actor that drains only after 1,000 ms: FULL past its limits, every acknowledged message received'],
  ['durable-1mib-messages', '64 guests of two tenants send 1 MiB messages to a durable actor that never receives'],
  ['durable-crash-loop', '64 guests send to a durable actor that traps on every message, crash restarts on'],
  ['durable-checkpoint-memory', '32 guests send small messages to a durable actor of 16 MiB, checkpointed after each'],
  ['durable-monitor-flip', 'a guest monitors and demonitors a durable actor in a loop while 16 others keep it journaling'],
];

describe('attacks: durable actors', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
