/**
 * The wire layout of relay envelopes between threads (protocol.ts): the
 * written-out encoders of the hot envelopes give the table's bytes, and
 * every envelope reads back as it was written.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SIGNAL_FIELDS, SIGNAL_TYPES, readSignal, readSignalByTable, writeSignal, writeSignalByTable, type Signal } from './protocol.js';

const field = (kind: string): fc.Arbitrary<unknown> => {
  switch (kind) {
    case 'num':
      return fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.double());
    case 'bool':
      return fc.boolean();
    case 'str':
      return fc.string();
    case 'bytes':
      return fc.uint8Array({ maxLength: 64 });
    case 'bytes?':
      return fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null });
    default:
      throw new Error(`no arbitrary for field kind ${kind}`);
  }
};

/** Any envelope of any type, its fields as SIGNAL_FIELDS lists them. */
const signal: fc.Arbitrary<Signal> = fc.constantFrom(...SIGNAL_TYPES).chain((t) =>
  fc
    .record(Object.fromEntries([['to', fc.integer({ min: 0, max: 2 ** 32 - 1 })], ...SIGNAL_FIELDS[t].map(([name, kind]) => [name, field(kind)])]) as Record<string, fc.Arbitrary<unknown>>)
    .map((fields) => ({ t, ...fields }) as unknown as Signal),
);

describe('relay envelopes on the wire', () => {
  it('are written by the hot paths (message, ack) byte for byte as the table lays them out, and read back as written (a property)', () => {
    fc.assert(
      fc.property(signal, (s) => {
        const bytes = writeSignal(s);
        expect(bytes).toEqual(writeSignalByTable(s));
        expect(readSignal(bytes)).toEqual(readSignalByTable(bytes));
        expect(readSignal(bytes)).toEqual(s);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses a message or ack record cut short with a RangeError, as the table reader does', () => {
    for (const s of [
      { t: 'message', from: 1, to: 2, sender: 1, payer: 0, bytes: new Uint8Array([1, 2, 3]), until: 0, seq: 0, call: false },
      { t: 'ack', from: 2, to: 1, seq: 7, status: 0 },
    ] satisfies Signal[]) {
      const bytes = writeSignal(s);
      for (let n = 0; n < bytes.length; n++) expect(() => readSignal(bytes.subarray(0, n))).toThrow(RangeError);
    }
  });
});
