/**
 * The attack harness's controls: a hive under no attack meets every bar,
 * and a host that stalls its own event loop is caught by the probe (so a
 * passing attack is not a probe that cannot fail).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTACKS } from './attacks.js';
import { holds } from './bars.js';
import { figures, missed, runAttack } from './harness.js';
import { ATTACK_BARS } from './bounds.js';

describe('attack harness', () => {
  it('every attack has bars and a test', () => {
    const tests = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.test.ts') && f !== 'harness.test.ts');
    const named = new Set(tests.flatMap((f) => [...readFileSync(new URL(f, import.meta.url), 'utf8').matchAll(/\['([a-z0-9-]+)', '/g)].map((m) => m[1])));
    const controls = ['baseline', 'host-stall'];
    expect(Object.keys(ATTACKS).filter((a) => !controls.includes(a) && (ATTACK_BARS[a] === undefined || !named.has(a)))).toEqual([]);
    expect(Object.keys(ATTACK_BARS).filter((a) => !(a in ATTACKS))).toEqual([]);
  });

  it('a hive with only the counter meets every bar', async () => {
    await holds('baseline', ATTACK_BARS['baseline']!);
  });

  it('a host that blocks its event loop 100 ms every 500 ms misses the latency bar', async () => {
    const run = await runAttack('host-stall', { seconds: 1.5 });
    console.log(figures(run));
    expect(run.result?.latencyMs.p99 ?? 0, figures(run)).toBeGreaterThanOrEqual(50);
    expect(missed(run, { rssMB: 300 }).some((m) => m.startsWith('p99 latency'))).toBe(true);
  });
});
