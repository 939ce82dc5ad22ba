/**
 * The standard streams: stdin from bytes or from a function (asked once per
 * read, like a pipe), stdout and stderr to sinks that get their own copy of
 * the bytes, and byte counters for all three.
 */
import { describe, expect, it } from 'vitest';
import { instantiate, Memory } from '../../vm/index.js';
import { callWasi as call, programBytes, runOnWasmhive } from '../../../test/programs/harness.js';
import { Wasi, WasiExit, type WasiOptions } from './index.js';

/** A Wasi on a fresh one-page memory. */
function bound(options: WasiOptions) {
  const wasi = new Wasi(options);
  const memory = new Memory({ initial: 1 });
  wasi.bind(memory);
  const dv = new DataView(memory.buffer);
  /** Puts iovecs [ptr, len]... at 0 and returns their count. */
  const iovecs = (...vecs: [number, number][]) => {
    vecs.forEach(([p, n], i) => {
      dv.setUint32(8 * i, p, true);
      dv.setUint32(8 * i + 4, n, true);
    });
    return vecs.length;
  };
  return { wasi, memory, dv, iovecs };
}

describe('stdin', () => {
  const input = new TextEncoder().encode('alpha beta\ngamma\n\tdelta epsilon zeta\n'.repeat(700));

  it('gives stdin.c the same result from a function handing out a few bytes at a time as from bytes', () => {
    const whole = runOnWasmhive('stdin', { stdin: input });
    let at = 0;
    const asked: number[] = [];
    const piecewise = runOnWasmhive('stdin', {
      stdin: (buf) => {
        asked.push(buf.length);
        const n = Math.min(buf.length, 1 + (at % 7), input.length - at);
        buf.set(input.subarray(at, at + n));
        at += n;
        return n;
      },
    });
    expect(whole.stdout).toContain(`bytes=${input.length} lines=2100 words=4200`);
    expect(piecewise.stdout).toBe(whole.stdout);
    expect(piecewise.wasi.stats.stdinBytes).toBe(input.length);
    expect(asked.length).toBeGreaterThan(input.length / 7); // once per read, never looping to fill the buffer
    expect(asked.at(-1)).toBeGreaterThan(0);
  });

  it('reads bytes across iovecs, then reports the end as 0 bytes', () => {
    const { wasi, memory, dv, iovecs } = bound({ stdin: new TextEncoder().encode('0123456789') });
    const n = iovecs([100, 4], [200, 0], [300, 4]);
    expect(call(wasi, 'fd_read', 0, 0, n, 50)).toBe(0);
    expect(dv.getUint32(50, true)).toBe(8);
    expect(Buffer.from(memory.u8.subarray(100, 104)).toString()).toBe('0123');
    expect(Buffer.from(memory.u8.subarray(300, 304)).toString()).toBe('4567');
    expect(call(wasi, 'fd_read', 0, 0, n, 50)).toBe(0);
    expect(dv.getUint32(50, true)).toBe(2);
    expect(call(wasi, 'fd_read', 0, 0, n, 50)).toBe(0);
    expect(dv.getUint32(50, true)).toBe(0);
    expect(wasi.stats.stdinBytes).toBe(10);
  });

  it('is empty when none is given', () => {
    const r = runOnWasmhive('stdin');
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('bytes=0 lines=0 words=0');
  });

  it('traps the guest when a stdin function returns an impossible count', () => {
    for (const bad of [-1, 1.5, Number.NaN, 1 << 20]) {
      const r = runOnWasmhive('stdin', { stdin: () => bad });
      expect(r.exitCode).toBeNull();
      expect(r.trap).toMatch(/stdin function returned/);
    }
  });
});

describe('stdout and stderr', () => {
  it('hand each sink a copy of one write, gathered from all its iovecs', () => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const { wasi, memory, dv, iovecs } = bound({ stdout: (b) => out.push(b), stderr: (b) => err.push(b) });
    new TextEncoder().encodeInto('hello, world', memory.u8.subarray(100));
    const n = iovecs([100, 5], [105, 2], [107, 5]);
    expect(call(wasi, 'fd_write', 1, 0, n, 50)).toBe(0);
    expect(dv.getUint32(50, true)).toBe(12);
    expect(call(wasi, 'fd_write', 2, 0, 1, 50)).toBe(0);
    memory.u8.fill(0x21, 100, 112); // the guest reuses its buffer
    expect(out.map((b) => Buffer.from(b).toString())).toEqual(['hello, world']);
    expect(err.map((b) => Buffer.from(b).toString())).toEqual(['hello']);
    expect(wasi.stats).toEqual({ stdinBytes: 0, stdoutBytes: 12, stderrBytes: 5 });
  });

  it('count what is written even with no sink', () => {
    const withSinks = runOnWasmhive('hello', { args: ['hello', '5'] });
    const quiet = new Wasi({ args: ['hello', '5'] });
    const inst = instantiate(programBytes('hello'), quiet.imports);
    quiet.bind(inst.getExport('memory') as Memory);
    const out = inst.func('_start').invoke([]);
    expect(out.kind === 'trapped' && out.trap instanceof WasiExit && out.trap.code).toBe(5);
    expect(quiet.stats.stdoutBytes).toBe(Buffer.byteLength(withSinks.stdout));
    expect(quiet.stats.stderrBytes).toBe(Buffer.byteLength(withSinks.stderr));
    expect(quiet.stats.stderrBytes).toBeGreaterThan(0);
  });

  it('follow their stream when renumbered, and stop when closed', () => {
    const err: string[] = [];
    const { wasi, memory, iovecs } = bound({ stderr: (b) => err.push(Buffer.from(b).toString()) });
    new TextEncoder().encodeInto('x', memory.u8.subarray(100));
    const n = iovecs([100, 1]);
    expect(call(wasi, 'fd_renumber', 2, 1)).toBe(0); // fd 1 is now stderr
    expect(call(wasi, 'fd_write', 1, 0, n, 50)).toBe(0);
    expect(call(wasi, 'fd_write', 2, 0, n, 50)).toBe(8);
    expect(call(wasi, 'fd_close', 1)).toBe(0);
    expect(call(wasi, 'fd_write', 1, 0, n, 50)).toBe(8);
    expect(err).toEqual(['x']);
    expect(wasi.stats.stderrBytes).toBe(1);
  });
});
