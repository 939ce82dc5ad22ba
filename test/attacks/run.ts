/**
 * Runs attacks from the command line, one after the other, and prints their
 * figures and missed bars (for the before/after table of README.md):
 *   node --import tsx test/attacks/run.ts [attack...]   (default: all)
 * Set ATTACK_REPORT=file to keep the JSON lines.
 */
import { ATTACK_BARS } from './bounds.js';
import { figures, missed, runAttack } from './harness.js';

const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : Object.keys(ATTACK_BARS)) {
  const bars = ATTACK_BARS[name];
  if (bars === undefined) throw new Error(`no attack named '${name}'`);
  const run = await runAttack(name);
  const miss = missed(run, bars);
  console.log(`${miss.length === 0 ? 'HOLDS ' : 'FAILS '} ${figures(run)}`);
  for (const m of miss) console.log(`        - ${m}`);
}
