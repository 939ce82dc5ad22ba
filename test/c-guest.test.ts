// The C example actor (examples/c-counter/counter.c, on guest/c/wasmhive.h,
// built by scripts/build-c-guests.sh) in a hive: host calls get the answers
// the source says, sends change its state, and bad requests get an answer,
// not a crash.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Module } from '../src/vm/index.js';
import { testHive } from './helpers/hive.js';

const counterModule = new Module(readFileSync(new URL('../examples/c-counter/counter.wasm', import.meta.url)));

function spawnCounter() {
  const { hive } = testHive();
  hive.define('c-counter', counterModule);
  return { hive, counter: hive.spawn<unknown, unknown>('c-counter') };
}

describe('C guest: examples/c-counter', () => {
  it('imports only hive functions and exports main and memory', () => {
    const m = new WebAssembly.Module(readFileSync(new URL('../examples/c-counter/counter.wasm', import.meta.url)));
    expect(WebAssembly.Module.imports(m).every((i) => i.module === 'hive' && i.kind === 'function')).toBe(true);
    expect(WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(['main:function', 'memory:memory']);
  });

  it('answers "up" and "down" with the count, as the AssemblyScript counter does', async () => {
    const { hive, counter } = spawnCounter();
    expect(await counter.call('up')).toBe('value=1');
    expect(await counter.call('up')).toBe('value=2');
    expect(await counter.call('down')).toBe('value=1');
    expect(await counter.call('down')).toBe('value=0');
    expect(await counter.call('down')).toBe('value=-1');
    await hive.close();
  });

  it('adds integers of every width the host sends (int, float64 for large numbers, int64 as BigInt)', async () => {
    const { hive, counter } = spawnCounter();
    expect(await counter.call(['add', 41])).toBe(41);
    expect(await counter.call(['add', -50])).toBe(-9);
    expect(await counter.call(['add', 2 ** 40])).toBe(2 ** 40 - 9); // sent as float64
    expect(await counter.call(['add', -(2 ** 40)])).toBe(-9);
    expect(await counter.call(['add', 1.5])).toEqual(['error', 'add takes an integer']);
    expect(await counter.call(['add', 'one'])).toEqual(['error', 'add takes an integer']);
    expect(await counter.call(['add', 2n ** 63n - 1n])).toEqual(2n ** 63n - 10n); // int64 beyond 2^53 comes back as a BigInt
    expect(await counter.call(['add', 100])).toEqual(['error', 'overflow']);
    await hive.close();
  });

  it('"get" answers a map with the count, its own pid and the requests seen; sends count too', async () => {
    const { hive, counter } = spawnCounter();
    counter.send('up');
    counter.send('up');
    counter.send(['add', 10]);
    expect(await counter.call('get')).toEqual({ count: 12, self: counter.id, seen: 4 });
    await hive.close();
  });

  it('answers unknown, malformed and oversized requests with an error and keeps running', async () => {
    const { hive, counter } = spawnCounter();
    expect(await counter.call('sideways')).toEqual(['error', 'unknown request']);
    expect(await counter.call(['add', 1, 2])).toEqual(['error', 'unknown request']);
    expect(await counter.call({ up: 1 })).toEqual(['error', 'unknown request']);
    // Bytes pass through unencoded: ["add" and then nothing.
    expect(await counter.call(new Uint8Array([0x92, 0xa3, 0x61, 0x64, 0x64]))).toEqual(['error', 'add takes an integer']);
    expect(await counter.call(new Uint8Array([0xc1]))).toEqual(['error', 'unknown request']);
    expect(await counter.call(new Uint8Array([0xa2, 0x75, 0x70, 0x00]))).toEqual(['error', 'trailing bytes']); // "up", then a byte
    expect(await counter.call('x'.repeat(2000))).toEqual(['error', 'request too large']);
    expect(await counter.call('up')).toBe('value=1');
    expect(counter.info()?.state).not.toBe('exited');
    await hive.close();
  });
});
