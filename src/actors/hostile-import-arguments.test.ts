/**
 * Bad arguments to every `hive` import (issue 10, second pass): a guest
 * calling the imports with random values (negative sizes, lengths past the
 * end of memory, pointers at its last byte, timeouts of 2^31-1, pids that
 * are reply addresses, inboxes, itself) gets statuses or traps; the host
 * never throws, never logs an internal error, and the hive closes cleanly
 * with its counters back at 0.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { settle, testHive } from '../../test/helpers/hive.js';
import { treeCounters } from '../../test/helpers/inspect.js';
import { wat } from '../../test/helpers/wat.js';
import { poolOf, systemOf } from './hive.js';

/** The `hive` imports: name, parameter count, whether they return an i32 (`now` returns an i64). */
const IMPORTS: [name: string, params: number, result: 'i32' | 'i64' | null][] = [
  ['receive', 1, 'i32'], ['size', 0, 'i32'], ['read', 2, 'i32'], ['kind', 0, 'i32'], ['sender', 0, 'i32'],
  ['send', 4, 'i32'], ['reply', 2, 'i32'], ['call', 4, 'i32'], ['self', 0, 'i32'], ['spawn', 5, 'i32'],
  ['register', 2, 'i32'], ['unregister', 0, 'i32'], ['lookup', 2, 'i32'], ['link', 1, 'i32'], ['unlink', 1, 'i32'],
  ['monitor', 1, 'i32'], ['demonitor', 1, 'i32'], ['exit', 3, 'i32'], ['trap_exit', 1, 'i32'], ['sleep', 1, null],
  ['now', 0, 'i64'], ['random', 2, null], ['log', 3, null], ['abi_version', 0, 'i32'],
];

/** Values an attacker tries: edges of i32, of the one page of memory, small pids (the host's actors, inboxes, reply addresses). */
/** Mostly small values, so that a run gets past its first calls (a bad pointer traps) and does something. */
const VALUE = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(-1, -2, 255, 256, 65_535, 65_536, 65_532, 65_537, 0x7fffffff, -0x80000000, 1 << 20, (1 << 20) + 1) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);

const CALL = fc.record({ fn: fc.nat(IMPORTS.length - 1), args: fc.array(VALUE, { minLength: 5, maxLength: 5 }) });

/** A guest making these calls in order, then a few more times in a loop (its children run the same program). */
function attacker(calls: { fn: number; args: number[] }[]): Uint8Array {
  const imports = IMPORTS.map(([name, n, r]) => `(import "hive" "${name}" (func $${name} (param ${'i32 '.repeat(n)}) ${r === null ? '' : `(result ${r})`}))`).join('\n');
  const body = calls
    .map(({ fn, args }) => {
      const [name, n, r] = IMPORTS[fn]!;
      const call = `(call $${name} ${args.slice(0, n).map((a) => `(i32.const ${a})`).join(' ')})`;
      return r === null ? call : `(drop ${call})`;
    })
    .join('\n');
  return wat(`(module ${imports}
    (memory (export "memory") 1)
    (data (i32.const 0) "attacker")
    (func (export "main") (local $i i32)
      (loop $again
        ${body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))))`);
}

describe('bad arguments to the hive imports', () => {
  it('random calls with hostile arguments give statuses or traps: no host exception, no internal error, counters back at 0', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(CALL, { minLength: 1, maxLength: 16 }), async (calls) => {
        const lines: string[] = [];
        const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
        const { hive, clock } = testHive({ logger: pino({ level: 'warn' }, sink), hiveLimits: { maxTreeActors: 20 } });
        hive.define('attacker', attacker(calls));
        const reasons: string[] = [];
        hive.on('exited', (e) => reasons.push(e.reason));
        const inbox = hive.inbox(); // an address besides actors
        const bystander = hive.spawn('counter');
        const a = hive.spawn('attacker');
        // Inline, the tree itself (kept after its thread drops it, so a count below 0 shows); on a pooled hive,
        // read from the attacker's worker (0s once that thread dropped it).
        const held = poolOf(hive) === null ? systemOf(hive).actor(a.id)!.tree : null;
        void bystander.call('inc').catch(() => {}); // a reply address in flight
        for (let i = 0; i < 5; i++) {
          await settle(hive, 1);
          clock.advance(1000);
        }
        // A host call to the bystander still works.
        expect(bystander.alive).toBe(true);
        // Once every actor has exited and the inbox is closed, nothing is counted against the attacker's tree
        // (its messages in the bystander's mailbox or held as its current message, and in the inbox, included).
        inbox.close();
        for (const id of hive.actorIds()) hive.ref(id).kill();
        await settle(hive, 1);
        const tree = held ?? treeCounters(hive, a.id);
        expect({ actors: tree.actors, pages: tree.pages, queuedBytes: tree.queuedBytes, entries: tree.entries }).toEqual({ actors: 0, pages: 0, queuedBytes: 0, entries: 0 });
        hive.close();
        expect(reasons.filter((r) => r.includes('internal error'))).toEqual([]);
        expect(lines.filter((l) => l.includes('"level":50') || l.includes('internal error'))).toEqual([]);
      }),
      { numRuns: 300, seed: 11 },
    );
  }, 120_000);
});
