/**
 * A saved state may come from an untrusted file: Wasi.restore checks every
 * field and refuses anything malformed with a WasiStateError that names the
 * field, never with another kind of error, never by crashing later.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory } from '../../vm/index.js';
import { callWasi } from '../../../test/programs/harness.js';
import { Wasi, WasiStateError, type WasiState } from './index.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-states-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
mkdirSync(join(temp, 'mount', 'sub'), { recursive: true });
writeFileSync(join(temp, 'mount', 'file.txt'), 'hello');
const MOUNTS = { '/m': join(temp, 'mount') };

/** A valid state with a bit of everything: env, a mount, an open file at an offset, an open directory, a renumbered stream. */
function richState(): WasiState {
  const w = new Wasi({ args: ['p', 'q'], env: { A: '1', B: '2' }, seed: 's', mounts: MOUNTS });
  const memory = new Memory({ initial: 1 });
  w.bind(memory, () => 77);
  const put = (at: number, s: string) => new TextEncoder().encodeInto(s, memory.u8.subarray(at)).written;
  expect(callWasi(w, 'path_open', 3, 0, 100, put(100, 'file.txt'), 0, 0x26n, 0n, 0, 0)).toBe(0); // fd 4
  expect(callWasi(w, 'path_open', 3, 0, 100, put(100, 'sub'), 2, 0x4000n, 0n, 0, 0)).toBe(0); // fd 5
  expect(callWasi(w, 'fd_seek', 4, 3n, 0, 0)).toBe(0);
  expect(callWasi(w, 'fd_renumber', 2, 5)).toBe(0); // stderr onto fd 5 (closing the directory there)
  expect(callWasi(w, 'path_open', 3, 0, 100, put(100, 'sub'), 2, 0x4000n, 0n, 0, 0)).toBe(0); // fd 2 now
  expect(callWasi(w, 'random_get', 200, 10)).toBe(0);
  const s = w.save();
  w.close();
  return s;
}

/** Restores, closing what a successful restore opened. Returns the error thrown, or null. */
function restoreError(state: unknown): unknown {
  try {
    Wasi.restore(state, { mounts: MOUNTS }).close();
    return null;
  } catch (e) {
    return e;
  }
}

describe('Wasi.restore refuses malformed states', () => {
  it('restores the valid one it starts from', () => {
    const s = richState();
    expect(s.fds.map((f) => [f.fd, f.kind])).toEqual([[0, 'stdio'], [1, 'stdio'], [2, 'dir'], [3, 'dir'], [4, 'file'], [5, 'stdio']]);
    expect(restoreError(s)).toBeNull();
    expect(restoreError(unpack(pack(s)))).toBeNull();
  });

  const cases: [string, (s: any) => unknown, RegExp][] = [
    ['null', () => null, /^state: expected an object, got null/],
    ['an array', () => [], /^state: expected an object/],
    ['a Map', (s) => new Map(Object.entries(s)), /^state: expected a plain object/],
    ['another version', (s) => ({ ...s, version: 2 }), /^state\.version: expected 1, got 2/],
    ['a missing field', ({ fds: _fds, ...s }) => s, /^state: missing field "fds"/],
    ['an unknown field', (s) => ({ ...s, extra: 1 }), /^state: unknown field "extra"/],
    ['a "__proto__" field', (s) => JSON.parse(JSON.stringify(s).replace('{"version"', '{"__proto__":{"x":1},"version"')), /unknown field "__proto__"/],
    ['a number argument', (s) => ({ ...s, args: ['a', 5] }), /^state\.args\[1\]: expected a string, got 5/],
    ['an argument with NUL', (s) => ({ ...s, args: ['a\0b'] }), /^state\.args\[0\]: expected a string without NUL/],
    ['an env triple', (s) => ({ ...s, env: [['A', '1', 'x']] }), /^state\.env\[0\]: expected a \[name, value\] pair/],
    ['an env name with "="', (s) => ({ ...s, env: [['A=B', '1']] }), /^state\.env\[0\]\[0\]: expected a variable name without "="/],
    ['an env name twice', (s) => ({ ...s, env: [['A', '1'], ['A', '2']] }), /^state\.env: variable "A" appears twice/],
    ['an unknown clock', (s) => ({ ...s, clock: { mode: 'sundial' } }), /^state\.clock\.mode: expected "virtual" or "real"/],
    ['a real clock with extra fields', (s) => ({ ...s, clock: { ...s.clock, mode: 'real' } }), /^state\.clock: unknown field/],
    ['a negative nsPerUnit', (s) => ({ ...s, clock: { ...s.clock, nsPerUnit: -1 } }), /^state\.clock\.nsPerUnit/],
    ['an infinite nsPerUnit', (s) => ({ ...s, clock: { ...s.clock, nsPerUnit: Infinity } }), /^state\.clock\.nsPerUnit/],
    ['a start time as a number', (s) => ({ ...s, clock: { ...s.clock, startTime: 5 } }), /^state\.clock\.startTime: expected a decimal string/],
    ['a negative start time', (s) => ({ ...s, clock: { ...s.clock, startTime: '-1' } }), /^state\.clock\.startTime/],
    ['a start time past 2^64', (s) => ({ ...s, clock: { ...s.clock, startTime: '18446744073709551616' } }), /^state\.clock\.startTime: expected a time below 2\^64/],
    ['a sleep time with a leading zero', (s) => ({ ...s, clock: { ...s.clock, slept: '01' } }), /^state\.clock\.slept/],
    ['a fractional random position', (s) => ({ ...s, random: { ...s.random, position: 1.5 } }), /^state\.random\.position: expected an integer/],
    ['a bigint random position', (s) => ({ ...s, random: { ...s.random, position: 5n } }), /^state\.random\.position: expected an integer in \[0, \d+\], got 5/],
    ['a seed that is a number', (s) => ({ ...s, random: { ...s.random, seed: 0 } }), /^state\.random\.seed: expected a string/],
    ['a negative byte count', (s) => ({ ...s, stats: { ...s.stats, stdoutBytes: -1 } }), /^state\.stats\.stdoutBytes/],
    ['stats as a Date', (s) => ({ ...s, stats: new Date() }), /^state\.stats: expected a plain object/],
    ['an exit code past u32', (s) => ({ ...s, exitCode: 2 ** 32 }), /^state\.exitCode/],
    ['a mount twice', (s) => ({ ...s, mounts: ['/m', '/m'] }), /^state\.mounts: mount "\/m" appears twice/],
    ['an empty mount name', (s) => ({ ...s, mounts: [''] }), /^state\.mounts\[0\]/],
    ['a descriptor twice', (s) => ({ ...s, fds: [...s.fds, s.fds[0]] }), /^state\.fds: descriptor "0" appears twice/],
    ['a negative descriptor', (s) => ({ ...s, fds: [{ ...s.fds[0], fd: -1 }] }), /^state\.fds\[0\]\.fd/],
    ['a socket', (s) => ({ ...s, fds: [{ ...s.fds[0], kind: 'socket' }] }), /^state\.fds\[0\]\.kind: expected "stdio", "dir" or "file"/],
    ['a fourth stdio stream', (s) => ({ ...s, fds: [{ ...s.fds[0], stream: 3 }] }), /^state\.fds\[0\]\.stream/],
    ['rights beyond preview1', (s) => ({ ...s, fds: [{ ...s.fds[0], rightsBase: 2 ** 30 }] }), /^state\.fds\[0\]\.rightsBase/],
    ['unknown fdflags', (s) => ({ ...s, fds: [{ ...s.fds[0], flags: 32 }] }), /^state\.fds\[0\]\.flags/],
    ['a file path climbing out', (s) => ({ ...s, fds: [{ ...s.fds[4], path: '../file.txt' }] }), /^state\.fds\[0\]\.path: expected a path below the mount/],
    ['an absolute file path', (s) => ({ ...s, fds: [{ ...s.fds[4], path: '/etc/passwd' }] }), /^state\.fds\[0\]\.path/],
    ['a file at the mount root', (s) => ({ ...s, fds: [{ ...s.fds[4], path: '' }] }), /^state\.fds\[0\]\.path: expected the path of a file/],
    ['a file in an unknown mount', (s) => ({ ...s, fds: [{ ...s.fds[4], mount: '/elsewhere' }] }), /^state\.fds\[0\]\.mount: expected one of state\.mounts/],
    ['a negative offset', (s) => ({ ...s, fds: [{ ...s.fds[4], offset: -1 }] }), /^state\.fds\[0\]\.offset/],
    ['preopen as a string', (s) => ({ ...s, fds: [{ ...s.fds[3], preopen: 'yes' }] }), /^state\.fds\[0\]\.preopen: expected a boolean/],
    ['a file that is a directory field set', (s) => ({ ...s, fds: [{ ...s.fds[4], preopen: true }] }), /^state\.fds\[0\]: unknown field "preopen"/],
    ['a huge argument list', (s) => ({ ...s, args: new Array(100_000).fill('') }), /^state\.args: expected at most 65536 elements/],
  ];
  for (const [what, mutate, message] of cases) {
    it(`with ${what}`, () => {
      const e = restoreError(mutate(richState()));
      expect(e).toBeInstanceOf(WasiStateError);
      expect((e as Error).message).toMatch(message);
    });
  }
});

/** Every path to a value inside a JSON-like tree, as key lists. */
function paths(x: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(x)) x.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (x !== null && typeof x === 'object') for (const [k, v] of Object.entries(x)) out.push(...paths(v, [...at, k]));
  return out;
}

/** A copy of `x` with the value at `path` replaced (or deleted when `value` is `DELETE`). */
const DELETE = Symbol('delete');
function edit(x: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [k, ...rest] = path;
  const copy: any = Array.isArray(x) ? [...x] : { ...(x as object) };
  if (rest.length === 0 && value === DELETE) {
    if (Array.isArray(copy)) copy.splice(k as number, 1);
    else delete copy[k!];
  } else copy[k!] = edit(copy[k!], rest, value);
  return copy;
}

describe('fuzz: whatever the bytes, restore gives a Wasi or a WasiStateError', () => {
  const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true });

  it('on arbitrary values', () => {
    fc.assert(
      fc.property(anything, (x) => {
        const e = restoreError(x);
        if (e !== null) expect(e).toBeInstanceOf(WasiStateError);
      }),
      { numRuns: 500 },
    );
  });

  it('on a valid state with one part replaced, removed or mangled, sent through MessagePack', () => {
    const base = richState();
    const all = paths(base);
    const replacement = fc.oneof(
      anything,
      fc.constant(DELETE),
      fc.constantFrom(-1, 0, 1, 2, 3, 5, 2 ** 30, 2 ** 53, 0.5, NaN, '', '0', '..', '/m', 'file.txt', 'sub', 'virtual', 'real', 'seeded', 'file', 'dir', 'stdio', true, null),
    );
    let restored = 0;
    fc.assert(
      fc.property(fc.nat(all.length - 1), replacement, fc.boolean(), (i, value, viaMsgpack) => {
        let state = edit(base, all[i]!, value);
        if (viaMsgpack) {
          try {
            state = unpack(pack(state));
          } catch {
            return; // not encodable: nothing to restore
          }
        }
        const e = restoreError(state);
        if (e === null) restored++;
        else expect(e).toBeInstanceOf(WasiStateError);
      }),
      { numRuns: 1500 },
    );
    expect(restored).toBeGreaterThan(0); // some edits are harmless (an arg, an env value, a seed)
  });
});
