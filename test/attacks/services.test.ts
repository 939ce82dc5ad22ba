/**
 * Attacks: native services (services-attacks.ts). Each runs in a child
 * process with a 256 MiB heap (harness.ts) and must meet the bars of issue
 * 10: the host survives, the unrelated counter answers with p99 < 50 ms,
 * RSS stays within the bound of bounds.ts, no acknowledged message is lost,
 * and the attack's own checks (a service's queue and concurrency, sockets).
 */
import { describe, it } from 'vitest';
import { ATTACK_TIMEOUT_MS, holds } from './bars.js';
import { ATTACK_BARS } from './bounds.js';

const ATTACKS: [name: string, what: string][] = [
  ['service-slow-flood', '400 actors of two tenants call and send 64 KiB requests to a slow service for ever'],
  ['service-large-answers', '200 actors call a service that answers 1 MiB, and never read the answers'],
  ['service-timer-bomb', '100 actors make 100 timers each, every 10 ms (the shortest period), and never read a message'],
  ['service-timer-held-messages', '100 actors make 100 timers each, due in 24 days, with 60 KiB messages'],
  ['service-kv-bomb', '50 actors put 65,000-byte values under new keys until their namespaces are full'],
  ['service-kv-namespaces', 'a tenant spawns actors in a loop that each put one 65,000-byte value and exit'],
  ['service-kv-keys', '8 tenants holding 10,000 keys of 1 KB each list their keys in a loop'],
  ['service-http-slow', '300 actors call and send fetches to an allowed server that trickles a byte every 200 ms'],
  ['service-http-large', '150 actors fetch 8 MiB (past maxResponseBytes) and 900 KiB responses from an allowed local server'],
];

describe('attacks: native services', () => {
  for (const [name, what] of ATTACKS) {
    it(`${name}: ${what}`, async () => {
      await holds(name, ATTACK_BARS[name]!);
    }, ATTACK_TIMEOUT_MS);
  }
});
