/**
 * Closing a hive while envelopes are in flight (issue 11, the relay seam):
 * whatever the actors and the host were doing, every promise the host holds
 * (calls, sendWait, receives, exit promises) settles when the hive closes,
 * and nothing is delivered or emitted after close() returns. Random
 * sequences of operations, cut at a random point by close(), over the
 * inline transport and the serializing one with several seeds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settle, testHive } from '../../test/helpers/hive.js';
import { SERIALIZING, serializingTransport } from '../../test/helpers/serializing-transport.js';
import { inlineTransport, type TransportFactory } from './router.js';

type Op =
  | { op: 'call' | 'sendWait' | 'send' | 'link' | 'monitor' | 'sendBox' | 'callPeer' | 'sleep'; a: number; b: number }
  | { op: 'kill' | 'stop'; a: number }
  | { op: 'settle' | 'receiveBox' }
  | { op: 'advance'; ms: number };

const who = fc.nat(3);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('call' as const, 'sendWait' as const, 'send' as const, 'link' as const, 'monitor' as const, 'sendBox' as const, 'callPeer' as const, 'sleep' as const), a: who, b: who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('kill' as const, 'stop' as const), a: who }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('settle' as const, 'receiveBox' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 50 }) }) },
);

async function run(ops: Op[], transport: TransportFactory): Promise<void> {
  const { hive, clock } = testHive({ signals: 'open', transport, limits: { mailbox: 2 } });
  const box = hive.inbox({ maxMessages: 2 });
  const probes = [0, 1, 2, 3].map(() => hive.spawn('probe'));
  let unsettled = 0;
  const track = (p: Promise<unknown>): void => {
    unsettled++;
    p.then(
      () => unsettled--,
      () => unsettled--,
    );
  };
  for (const p of probes) track(p.exited);
  await settle(hive, 1);
  for (const o of ops) {
    const a = 'a' in o ? probes[o.a]! : null;
    const b = 'b' in o ? probes[o.b]! : null;
    try {
      switch (o.op) {
        case 'call': track(a!.call(['echo', 1], { timeout: Infinity })); break;
        case 'sendWait': track(a!.sendWait(['inc'], { timeout: Infinity })); break;
        case 'send': a!.send(['inc']); break;
        case 'link': track(a!.call(['link', b!.id], { timeout: Infinity })); break;
        case 'monitor': track(a!.call(['monitor', b!.id], { timeout: Infinity })); break;
        case 'sendBox': track(a!.call(['send', box.id, 'x', -1], { timeout: Infinity })); break;
        case 'callPeer': track(a!.call(['call', b!.id, ['echo', 2], -1], { timeout: Infinity })); break;
        case 'sleep': track(a!.call(['sleep', 1000], { timeout: Infinity })); break;
        case 'kill': a!.kill(); break;
        case 'stop': track(a!.stop({ timeout: 20 })); break;
        case 'settle': await settle(hive, 1); break;
        case 'receiveBox': track(box.receive()); break;
        case 'advance': clock.advance(o.ms); break;
      }
    } catch {
      // A host call on an actor that exited throws or rejects: either is fine here.
    }
  }
  const events: string[] = [];
  hive.close();
  for (const e of ['exited', 'deadLetter', 'spawned', 'restarted'] as const) hive.on(e, () => events.push(e));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  clock.advance(10_000);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  expect(unsettled, 'host promises left pending by close()').toBe(0);
  expect(events, 'events after close() returned').toEqual([]);
}

const transports: [string, () => TransportFactory][] = SERIALIZING
  ? [['the serializing transport, seed 5', () => serializingTransport(5)], ['the serializing transport, seed 99', () => serializingTransport(99)]]
  : [['the inline transport', () => inlineTransport], ['the serializing transport, seed 2', () => serializingTransport(2)]];

describe('hive.close() at a random point', () => {
  for (const [name, make] of transports) {
    it(`over ${name}: every promise the host holds settles, and nothing is emitted after close() returns`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => run(ops, make())),
        { numRuns: 60, seed: 3 },
      );
    }, 120_000);
  }
});
