/**
 * The message codec: our own MessagePack (msgpack.ts), with pids as extension
 * 1 of this codec only. msgpackr is imported here as the reference the bytes
 * are compared with (without any extension: what an application using
 * msgpackr itself has).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr, pack as globalPack, unpack as globalUnpack } from 'msgpackr';
import { decode, MessageDecodeError, encode, MessageEncodeError, Pid, PID_EXT, PID_ID } from './codec.js';
import { DEFAULT_MAX_DEPTH, MessagePack } from './msgpack.js';
import { testHive } from '../../test/helpers/hive.js';

/** msgpackr as the codec used it (without extensions). */
const reference = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'auto' as 'number' });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));
/** A value nested in n arrays. */
function nested(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('encoding writes the bytes msgpackr writes (useRecords: false)', () => {
  const ints = [0, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 2 ** 70];
  const numbers = [...ints, ...ints.map((n) => -n), -0, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31) - 1, 0.5, -1.5, 0.1, 1e300, 5e-324, 3.4028234663852886e38, 16_777_217, NaN, Infinity, -Infinity];
  const bigints = [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n];
  const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65_535), 'x'.repeat(65_536), 'é'.repeat(15), 'é'.repeat(16), 'é'.repeat(100), 'é'.repeat(127), 'é'.repeat(128), '€'.repeat(10), '€'.repeat(11), '€'.repeat(85), '€'.repeat(86), '€'.repeat(21_845), '€'.repeat(21_846), '😀', 'a😀b'.repeat(40), '\u0000\uffff', '\ufeffBOM'];
  const dates = [0, 1, 999, 1000, -1, -999, -1000, -1001, 2 ** 32 * 1000 - 1, 2 ** 32 * 1000, 2 ** 34 * 1000, 8.64e15, -8.64e15, 1_700_000_000_123].map((t) => new Date(t));
  const containers: unknown[] = [
    [],
    [1, 'a', null, true, false],
    Array.from({ length: 15 }, (_, i) => i),
    Array.from({ length: 16 }, (_, i) => i),
    Array.from({ length: 65_536 }, () => 0),
    {},
    { op: 'add', n: 1 },
    Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
    Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])),
    Object.fromEntries(Array.from({ length: 65_536 }, (_, i) => [`k${i}`, i])),
    Object.assign(Object.create(null) as object, { a: 1 }),
    { '1': 'numeric key', 'with space': [{ deep: { deeper: [] } }] },
    new Map<unknown, unknown>([[1, 2], ['a', 3], [true, null], [[1], 'array key']]),
    new Uint8Array([1, 2, 3]),
    new Uint8Array(255),
    new Uint8Array(256),
    new Uint8Array(65_536),
    Buffer.from('buffer bytes'),
    new Uint8Array(new ArrayBuffer(16), 4, 8),
  ];

  it.each([...numbers, ...bigints, ...strings, ...dates, ...containers, null, true, false].map((v, i) => [i, v]))('value %i', (_, v) => {
    // Inside an array: a Uint8Array at the top passes through `encode` as it is.
    expect(hex(encode([v]))).toBe(hex(reference.pack([v])));
  });

  it('the integers msgpackr writes as floats (outside [-2^31, 2^32)) stay floats, -0 is the integer 0', () => {
    expect(hex(encode(2 ** 32))).toBe('cb41f0000000000000');
    expect(hex(encode(-(2 ** 31) - 1))).toBe('cbc1e0000000200000');
    expect(hex(encode(2 ** 31))).toBe('ce80000000');
    expect(hex(encode(-0))).toBe('00');
    expect(hex(encode(2 ** 53))).toBe('cb4340000000000000');
  });

  it('for arbitrary JSON-like values with bigints, bytes and dates (a property)', () => {
    const scalar = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.maxSafeInteger(),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.string({ unit: 'binary', maxLength: 80 }).filter((s) => !LONE_SURROGATE.test(s)),
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.date({ noInvalidDate: true }),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 20 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 20, noNullPrototype: true })),
    }));
    fc.assert(
      fc.property(value, (v) => {
        expect(hex(encode({ v }))).toBe(hex(reference.pack({ v })));
      }),
      { numRuns: 500 },
    );
  });
});

/** What a value decodes to after encoding: -0 is 0, 64-bit ints in [-2^53, 2^53] are numbers, undefined properties are left out, lone surrogates are U+FFFD. */
function normalized(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
  if (typeof v === 'string') return v.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : normalized(x)));
  if (v instanceof Uint8Array || v instanceof Date || v instanceof Pid) return v;
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      if (k === '__proto__') Object.defineProperty(out, k, { value: normalized(x), writable: true, enumerable: true, configurable: true });
      else out[k] = normalized(x);
    }
    return out;
  }
  return v === undefined ? null : v;
}

describe('decoding what was encoded', () => {
  it('gives the value back, for arbitrary JSON-like values with bigints, bytes, dates and pids (a property)', () => {
    const scalar = fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.date({ noInvalidDate: true }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((id) => new Pid(id)),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 20 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 20, noNullPrototype: true })),
    }));
    fc.assert(
      fc.property(value, (v) => {
        if (v instanceof Uint8Array) return; // passes through `encode` as it is
        expect(decode(encode(v))).toStrictEqual(normalized(v));
      }),
      { numRuns: 500 },
    );
  });

  it('reads every MessagePack form, as msgpackr reads the standard ones', () => {
    const forms = [
      'c0', 'c2', 'c3', '7f', 'e0', 'ff', 'ccff', 'cd0102', 'ceffffffff', 'cf0000000000000001', 'd080', 'd1ff7f', 'd280000000', 'd3ffffffffffffffff',
      'ca3dcccccd', 'ca7fc00000', 'cb3fb999999999999a',
      'a3616263', 'd903616263', 'da0003616263', 'db00000003616263', 'a0',
      'c403010203', 'c50003010203', 'c600000003010203',
      '920102', 'dc00020102', 'dd000000020102',
      '81a16101', 'de0001a16101', 'df00000001a16101', '8101a161', '81c001', '81c3c2',
      'd6ff00000001', 'd7ff003d090000000000', 'c70cff3b8b87c0ffffffffffffffff', 'c70cff00000000000007dba8218000',
    ];
    for (const h of forms) expect(decode(bytes(h)), h).toStrictEqual(reference.unpack(bytes(h)));
  });

  it('reads 64-bit integers as numbers up to 2^53 in magnitude, as bigints beyond', () => {
    expect(decode(bytes('cf0020000000000000'))).toBe(2 ** 53);
    expect(decode(bytes('cf0020000000000001'))).toBe(2n ** 53n + 1n);
    expect(decode(bytes('cfffffffffffffffff'))).toBe(2n ** 64n - 1n);
    expect(decode(bytes('d3ffe0000000000000'))).toBe(-(2 ** 53));
    expect(decode(bytes('d3ffe0000000000001'))).toBe(-(2 ** 53) + 1);
    expect(decode(bytes('d3ffdfffffffffffff'))).toBe(-(2n ** 53n) - 1n);
    expect(decode(bytes('d38000000000000000'))).toBe(-(2n ** 63n));
    expect(decode(bytes('d37fffffffffffffff'))).toBe(2n ** 63n - 1n);
  });

  it('reads a float32 exactly', () => {
    expect(decode(bytes('ca3dcccccd'))).toBe(Math.fround(0.1));
  });

  it('gives bytes as a copy, not a view of the message', () => {
    const msg = encode({ b: new Uint8Array([1, 2, 3]) });
    const v = decode(msg) as { b: Uint8Array };
    v.b[0] = 99;
    expect((decode(msg) as { b: Uint8Array }).b).toStrictEqual(new Uint8Array([1, 2, 3]));
    expect(v.b.constructor).toBe(Uint8Array);
  });

  it('makes a __proto__ key an own property: the prototype and Object.prototype stay untouched', () => {
    // {"__proto__": {"polluted": 1}}
    const v = decode(bytes('81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 01')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toStrictEqual({ polluted: 1 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(v['polluted']).toBeUndefined();
    // And it encodes back as the same bytes.
    expect(hex(encode(v))).toBe('81a95f5f70726f746f5f5f81a8706f6c6c75746564' + '01');
  });

  it('reads maps with scalar keys as objects with the keys as text, as msgpackr does', () => {
    expect(decode(encode(new Map<unknown, unknown>([[1, 'a'], [true, 'b'], [null, 'c'], ['s', 'd']])))).toStrictEqual({ '1': 'a', true: 'b', null: 'c', s: 'd' });
  });

  it('keeps equal map keys of different messages apart from their values (the key cache)', () => {
    for (let i = 0; i < 5000; i++) {
      const key = `k${i % 300}`;
      expect(decode(encode({ [key]: i, 'é': i }))).toStrictEqual({ [key]: i, 'é': i });
    }
  });
});

describe('pids', () => {
  it('are extension 1 with 4 bytes, big-endian, signed (the bytes msgpackr wrote with the old registration)', () => {
    expect(PID_EXT).toBe(1);
    expect(hex(encode(new Pid(0x01020304)))).toBe('d60101020304');
    expect(hex(encode(new Pid(0x7fffffff)))).toBe('d6017fffffff');
    expect(hex(encode(new Pid(-1)))).toBe('d601ffffffff');
    expect(decode(bytes('d60101020304'))).toStrictEqual(new Pid(0x01020304));
    expect(decode(bytes('d601ffffffff'))).toStrictEqual(new Pid(-1));
    // Any form of extension 1 with 4 bytes.
    expect(decode(bytes('c7040101020304'))).toStrictEqual(new Pid(0x01020304));
  });

  it('are what any object with the PID_ID symbol encodes as', () => {
    class Handle {
      constructor(readonly id: number) {}
      get [PID_ID](): number {
        return this.id;
      }
    }
    expect(hex(encode([new Handle(5)]))).toBe('91d60100000005');
  });

  it('are what ActorRefs and Inboxes encode as', () => {
    const { hive } = testHive();
    const inbox = hive.inbox();
    const ref = hive.ref(inbox.id);
    expect(decode(encode({ inbox, ref }))).toStrictEqual({ inbox: new Pid(inbox.id), ref: new Pid(inbox.id) });
    hive.close();
  });

  it('refuse ids that are not 32-bit integers', () => {
    for (const id of [2 ** 31, -(2 ** 31) - 1, 1.5, NaN]) expect(() => encode({ to: new Pid(id) })).toThrow(MessageEncodeError);
    expect(() => encode({ to: new Pid(2 ** 31) })).toThrow(/not an actor id: 2147483648\) at \$\.to$/);
  });

  it('of a length other than 4 bytes are refused', () => {
    expect(() => decode(bytes('d50101 02'))).toThrow(MessageDecodeError);
    expect(() => decode(bytes('d50101 02'))).toThrow(/a pid has 4 bytes, not 2/);
  });

  it('in EXIT and DOWN payloads are the bytes hive.ts builds ({from, reason}; {ref, from, reason})', () => {
    const str = (s: string): string => hex(reference.pack(s));
    for (const from of [1, 300, 0x7fffffff]) {
      const pid = `d601${from.toString(16).padStart(8, '0')}`;
      for (const reason of ['', 'normal', 'x'.repeat(40), 'é'.repeat(200)]) {
        expect(hex(encode({ from: new Pid(from), reason }))).toBe(`82a466726f6d${pid}a6726561736f6e${str(reason)}`);
        for (const ref of [1, 127, 128, 255, 256, 65_535, 65_536, 0x7fffffff]) {
          // DOWN_HEAD (fixmap 3, "ref"), then ref as the shortest unsigned integer.
          expect(hex(encode({ ref, from: new Pid(from), reason }))).toBe(`83a3726566${hex(reference.pack(ref))}a466726f6d${pid}a6726561736f6e${str(reason)}`);
        }
      }
    }
  });
});

describe("the application's own msgpackr", () => {
  // What broke: codec.ts registered the pid extension with msgpackr's addExtension, which is process-global.
  it('regression: encoding a pid registered extension 1 in the global msgpackr, so the application read its own ext-1 data as our Pid and wrote our Pids as ext 1', () => {
    expect(hex(encode(new Pid(7)))).toBe('d60100000007');
    expect(decode(bytes('d60100000007'))).toStrictEqual(new Pid(7));
    // msgpackr knows no extension 1: its data is not turned into our Pid...
    expect(() => globalUnpack(bytes('d60100000007'))).toThrow(/Unknown extension type 1/);
    expect(() => reference.unpack(bytes('d60100000007'))).toThrow(/Unknown extension type 1/);
    // ...and our classes are not written as extension 1 (msgpackr writes a Pid as the object it is).
    expect(hex(reference.pack(new Pid(7)))).toBe(hex(reference.pack({ id: 7 })));
    expect(globalUnpack(globalPack(new Pid(7)))).toStrictEqual({ id: 7 });
  });
});

describe('values without a MessagePack form', () => {
  class Point {
    x = 1;
  }
  const cases: [string, unknown, string, RegExp][] = [
    ['a function', { a: () => 1 }, '$.a', /a function/],
    ['a symbol', [1, Symbol('s')], '$[1]', /a symbol/],
    ['a Set', { a: [1, { b: new Set([1]) }] }, '$.a[1].b', /a Set/],
    ['an Error', { e: new Error('x') }, '$.e', /an Error/],
    ['a RegExp', /x/, '$', /a RegExp/],
    ['a class instance', { 'odd key': new Point() }, '$["odd key"]', /a Point/],
    ['a typed array other than Uint8Array', { a: new Uint16Array(2) }, '$.a', /a Uint16Array/],
    ['an invalid Date', { d: new Date(NaN) }, '$.d', /an invalid Date/],
    ['a bigint beyond 64 bits', { n: 2n ** 64n }, '$.n', /outside the 64-bit range/],
    ['a bigint below -2^63', [-(2n ** 63n) - 1n], '$[0]', /outside the 64-bit range/],
    ['a Map value', new Map([['k', new WeakMap()]]), '$.get("k")', /a WeakMap/],
  ];
  it.each(cases)('%s is an MessageEncodeError naming where it is', (_, value, path, what) => {
    let error: unknown;
    try {
      encode(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MessageEncodeError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as MessageEncodeError).path).toBe(path);
    expect((error as Error).message).toMatch(what);
  });

  it('regression: messages the old codec (msgpackr) wrote with undefined, kept in older snapshots, decode again (ext 0 with a zero byte is undefined)', () => {
    expect(decode(bytes('d40000'))).toBe(undefined);
    expect(decode(bytes('82a161d40000a16201'))).toEqual({ a: undefined, b: 1 });
  });

  it('undefined is nil, and a property whose value is undefined is left out (as JSON does)', () => {
    expect(hex(encode(undefined))).toBe('c0');
    expect(hex(encode([undefined]))).toBe('91c0');
    expect(hex(encode({ a: undefined, b: 1 }))).toBe(hex(encode({ b: 1 })));
    // 16 keys reserve a map16 header; one left out makes it a fixmap.
    const o: Record<string, unknown> = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
    o['k3'] = undefined;
    const { k3: _k3, ...rest } = o;
    expect(hex(encode(o))).toBe(hex(reference.pack(rest)));
    expect(decode(encode(o))).toStrictEqual(rest);
  });

  it('a lone surrogate in a string is U+FFFD (valid UTF-8; msgpackr writes invalid UTF-8)', () => {
    expect(hex(encode('a\ud800b'))).toBe('a561efbfbd62');
    expect(decode(encode('x'.repeat(100) + '\udc00'))).toBe('x'.repeat(100) + '\ufffd');
  });
});

describe('limits', () => {
  it(`nests ${DEFAULT_MAX_DEPTH} arrays and maps by default, both ways, and refuses one more`, () => {
    const deepest = encode(nested(DEFAULT_MAX_DEPTH));
    expect(deepest.length).toBe(DEFAULT_MAX_DEPTH + 1);
    expect(decode(deepest)).toStrictEqual(nested(DEFAULT_MAX_DEPTH));
    expect(() => encode(nested(DEFAULT_MAX_DEPTH + 1))).toThrow(MessageEncodeError);
    expect(() => encode(nested(DEFAULT_MAX_DEPTH + 1))).toThrow(/nested deeper than 512/);
    const tooDeep = new Uint8Array(DEFAULT_MAX_DEPTH + 2).fill(0x91);
    tooDeep[DEFAULT_MAX_DEPTH + 1] = 0x01;
    expect(() => decode(tooDeep)).toThrow(MessageDecodeError);
    expect(() => decode(tooDeep)).toThrow(/nested deeper than 512/);
    // Maps count too.
    let m: unknown = 1;
    for (let i = 0; i < DEFAULT_MAX_DEPTH + 1; i++) m = { m };
    expect(() => encode(m)).toThrow(/nested deeper than 512/);
  });

  it('attack: 1 MiB of nested arrays is a MessageDecodeError, not a stack overflow (msgpackr: RangeError, maximum call stack size exceeded)', () => {
    const attack = new Uint8Array(1 << 20).fill(0x91);
    attack[attack.length - 1] = 0x01;
    expect(() => reference.unpack(attack)).toThrow(RangeError);
    const t = performance.now();
    expect(() => decode(attack)).toThrow(MessageDecodeError);
    expect(performance.now() - t).toBeLessThan(100);
  });

  it('attack: 100,000 nested arrays is an MessageEncodeError, not a stack overflow', () => {
    expect(() => encode(nested(100_000))).toThrow(MessageEncodeError);
  });

  it('a cycle is an MessageEncodeError naming it, not a stack overflow (msgpackr: RangeError)', () => {
    const a: Record<string, unknown> = { list: [] };
    (a['list'] as unknown[]).push({ back: a });
    expect(() => reference.pack(a)).toThrow(RangeError);
    expect(() => encode(a)).toThrow(MessageEncodeError);
    expect(() => encode(a)).toThrow('cannot encode a cyclic reference (to $) at $.list[0].back');
    const m = new Map<string, unknown>();
    m.set('self', [m]);
    expect(() => encode({ m })).toThrow('cannot encode a cyclic reference (to $.m) at $.m.get("self")[0]');
  });

  it('a value met twice without a cycle is written twice', () => {
    const shared = { x: 1 };
    expect(decode(encode([shared, shared, { shared }]))).toStrictEqual([{ x: 1 }, { x: 1 }, { shared: { x: 1 } }]);
  });

  it('maxDepth is an option, checked', () => {
    const mp = new MessagePack({ maxDepth: 2 });
    expect(mp.decode(mp.encode([[1]]))).toStrictEqual([[1]]);
    expect(() => mp.encode([[[1]]])).toThrow(MessageEncodeError);
    expect(() => mp.decode(bytes('91919101'))).toThrow(MessageDecodeError);
    for (const maxDepth of [0, 1.5, -1, 10_001]) expect(() => new MessagePack({ maxDepth })).toThrow(RangeError);
  });

  it('extension types are 0 to 127, each given once', () => {
    const ext = { encode: () => undefined, decode: () => null };
    expect(() => new MessagePack({ extensions: [{ type: -1, ...ext }] })).toThrow(RangeError);
    expect(() => new MessagePack({ extensions: [{ type: 128, ...ext }] })).toThrow(RangeError);
    expect(() => new MessagePack({ extensions: [{ type: 3, ...ext }, { type: 3, ...ext }] })).toThrow(/given twice/);
  });
});

describe('malformed input is a MessageDecodeError', () => {
  it.each([
    ['nothing', '', /truncated: a value was expected/],
    ['0xc1', 'c1', /0xc1 is never used/],
    ['bytes left after the value', '0102', /1 bytes left after the value/],
    ['a str32 longer than the message (refused before allocating)', 'dbffffffff6162', /truncated: a string of 4294967295 bytes needs 4294967295 bytes, 2 are left/],
    ['a bin32 longer than the message', 'c6ffffffff00', /truncated: bytes of length 4294967295/],
    ['an ext32 longer than the message', 'c9ffffffff01', /truncated: an extension of 4294967295 bytes/],
    ['an array32 of more elements than bytes left', 'ddffffffff01', /truncated: an array of 4294967295 elements/],
    ['a map32 of more entries than bytes left', 'dfffffffff0101', /truncated: a map of 4294967295 entries/],
    ['a string that is not UTF-8', 'a2c328', /not valid UTF-8/],
    ['a long string that is not UTF-8', `d950${'61'.repeat(79)}ff`, /not valid UTF-8/],
    ['a map key that is an array', '81910101', /a map key must be a string or a scalar, not an Array/],
    ['a map key that is bytes', '81c4016101', /not a Uint8Array/],
    ['an unknown extension', 'd50501ff', /unknown extension type 5/],
    ['an extension 0 that is not msgpackr\'s undefined', 'd40001', /unknown extension type 0/],
    ['a timestamp of 2 bytes', 'd5ff0001', /a timestamp has 4, 8 or 12 bytes, not 2/],
    ['a timestamp with 10^9 nanoseconds', 'c70cff3b9aca00000000000000000000', /1000000000 nanoseconds/],
    ['a timestamp beyond the range of Date', 'c70cff000000007fffffffffffffff', /outside the range of Date/],
  ])('%s', (_, h, message) => {
    let error: unknown;
    try {
      decode(bytes(h));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MessageDecodeError);
    expect((error as Error).message).toMatch(message);
    expect(typeof (error as MessageDecodeError).offset).toBe('number');
  });

  it('every truncation of a valid message', () => {
    const values = [{ op: 'add', n: 1, list: [1.5, -(2 ** 40), 2n ** 63n, 'é€😀', new Uint8Array(300)], when: new Date(1), to: new Pid(9) }, 'x'.repeat(70_000), [new Map([[1, 2]])], -1, 2 ** 32 - 1, Math.fround(0.5)];
    for (const v of values) {
      const whole = encode(v);
      for (let n = 0; n < whole.length; n += n < 1000 ? 1 : 997) expect(() => decode(whole.subarray(0, n)), `${n} of ${whole.length} bytes`).toThrow(MessageDecodeError);
      expect(() => decode(whole.subarray(0, whole.length - 1))).toThrow(MessageDecodeError);
    }
  });

  it('random bytes decode or throw a MessageDecodeError, never anything else (a property)', () => {
    const valid = fc.constantFrom(...[{ a: [1, 'b', new Uint8Array(3)] }, [new Pid(1), new Date(5), 2n ** 60n], 'text', 1.5].map((v) => encode(v)));
    const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, i, x]) => {
      const c = b.slice();
      c[i % c.length] = x;
      return c;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (b) => {
        try {
          decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(MessageDecodeError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the encoder', () => {
  it('returns arrays it does not write again', () => {
    const a = encode({ a: 'first' });
    const before = hex(a);
    encode({ b: 'second, and longer than the first' });
    encode('x'.repeat(200_000));
    expect(hex(a)).toBe(before);
  });

  it('encodes from inside a getter of the value it is encoding', () => {
    const inner = { n: 1 };
    const v = {
      get nested(): Uint8Array {
        return encode(inner) as Uint8Array;
      },
    };
    expect(decode(encode(v))).toStrictEqual({ nested: new Uint8Array(encode(inner)) });
  });

  it('passes bytes through at the top level', () => {
    const b = new Uint8Array([0xc1]);
    expect(encode(b)).toBe(b);
  });
});

describe('speed', () => {
  /** Best time per call, in ns, of f over rounds. */
  function best(f: () => unknown, rounds = 7, n = 10_000): number {
    let min = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) f();
      min = Math.min(min, Number(process.hrtime.bigint() - t) / n);
    }
    return min;
  }

  it('of a small message is within 2x of msgpackr, both ways', () => {
    const m = { op: 'add', n: 1 };
    const ours = encode(m);
    const theirs = reference.pack(m);
    // Interleaved, best of several rounds: the machine may be busy.
    const ratios = [0, 1, 2].map(() => [best(() => encode(m)) / best(() => reference.pack(m)), best(() => decode(ours)) / best(() => reference.unpack(theirs))] as const);
    expect(Math.min(...ratios.map((r) => r[0]))).toBeLessThan(2);
    expect(Math.min(...ratios.map((r) => r[1]))).toBeLessThan(2);
  });
});
