import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { DecodeError, Exhaustion, Instance, LinkError, Memory, Module, Trap, ValidationError, i32 } from './index.js';

/** Runs f and returns how long it took, in ms. */
function timed(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

describe('hostile and oversized modules', () => {
  it('refuses a 4 GiB initial memory above the instance limit with Exhaustion, fast', () => {
    const m = new Module(wat('(module (memory 65536))'));
    const ms = timed(() => expect(() => new Instance(m, {}, { maxMemoryPages: 1024 })).toThrow(Exhaustion));
    expect(ms).toBeLessThan(1000);
  });

  it('lets memory.grow fail with -1 at the instance limit, below the declared maximum', () => {
    const i = new Instance(new Module(wat(`(module (memory 1 100)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`)), {}, { maxMemoryPages: 4 });
    const grow = i.exports.grow as (n: number) => number;
    expect(grow(3)).toBe(1);
    expect(grow(1)).toBe(-1);
    expect(grow(0xffffffff)).toBe(-1);
  });

  it('refuses a table of 2^32-1 elements with Exhaustion instead of allocating', () => {
    const m = new Module(wat('(module (table 0xffffffff funcref))'));
    expect(() => new Instance(m)).toThrow(Exhaustion);
  });

  it('lets table.grow fail with -1 past the limit', () => {
    const i = new Instance(new Module(wat(`(module (table 1 funcref)
      (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))`)), {}, { maxTableElements: 100 });
    const grow = i.exports.grow as (n: number) => number;
    expect(grow(99)).toBe(1);
    expect(grow(1)).toBe(-1);
    expect(grow(0x7fffffff)).toBe(-1);
  });

  it('traps out-of-bounds data segments at instantiation, before the start function', () => {
    const m = new Module(wat(`(module (memory 1) (data (i32.const 0xffffff00) "abc")
      (func $start unreachable) (start $start))`));
    expect(() => new Instance(m)).toThrow(/out of bounds memory access/);
  });

  it('gives a typed error for garbage, truncated and empty input', () => {
    expect(() => new Module(new Uint8Array([]))).toThrow(DecodeError);
    expect(() => new Module(new Uint8Array(1000).fill(0xff))).toThrow(DecodeError);
    const good = wat('(module (func (export "f") (result i32) i32.const 1))');
    // A prefix ending exactly at a section boundary is a valid module; every other prefix is malformed.
    let valid = 0;
    for (let n = 0; n < good.length; n++) {
      try {
        new Module(good.subarray(0, n));
        valid++;
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
    expect(valid).toBeLessThanOrEqual(5);
  });

  it('gives a ValidationError, not a crash, for a type-incorrect body', () => {
    const bytes = wat('(module (func (result i32) i32.const 1))');
    // Patch i32.const (0x41) into i64.const (0x42): the body now returns an i64.
    const at = bytes.lastIndexOf(0x41);
    const bad = bytes.slice();
    bad[at] = 0x42;
    expect(() => new Module(bad)).toThrow(ValidationError);
  });

  it('reports an unknown import as a LinkError', () => {
    const m = new Module(wat('(module (import "env" "f" (func)))'));
    expect(() => new Instance(m, {})).toThrow(LinkError);
    expect(() => new Instance(m, { env: { f: new Memory({ initial: 1 }) } })).toThrow(/incompatible import type/);
  });

  it('contains a host function that throws a non-Error value as a trap', () => {
    const i = new Instance(new Module(wat(`(module (import "env" "f" (func))
      (func (export "g") (call 0)))`)), { env: { f: () => { throw 42; } } });
    const out = i.func('g').invoke([]);
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') expect(out.trap).toBeInstanceOf(Trap);
  });

  it('contains a host function returning the wrong value type as a trap', () => {
    const i = new Instance(new Module(wat(`(module (import "env" "f" (func (result i32)))
      (func (export "g") (result i32) (call 0)))`)), { env: { f: () => [] as unknown as number } });
    // A JS function gets the import's type; `[]` converts to 0 as in the JS API.
    expect(i.func('g').invoke([])).toEqual({ kind: 'done', results: [i32(0)] });
  });

  it('bounds the value stack: a huge frame recursing ends in Exhaustion', () => {
    const locals = Array.from({ length: 5000 }, () => 'i64').join(' ');
    const i = new Instance(new Module(wat(`(module (func $r (export "r") (local ${locals}) call $r))`)), {}, { maxStackBytes: 8 * 1024 * 1024 });
    const out = i.func('r').invoke([]);
    expect(out.kind === 'trapped' && out.trap).toBeInstanceOf(Exhaustion);
  });
});

describe('recursion through the host', () => {
  it('ends endless wasm -> host -> wasm recursion in Exhaustion, and the instance stays usable', () => {
    let self: Instance;
    self = new Instance(new Module(wat(`(module (import "env" "again" (func $again (param i32) (result i32)))
      (func (export "f") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (call $again (i32.sub (local.get 0) (i32.const 1)))))))`)), {
      env: { again: (n: number) => (self.exports.f as (n: number) => number)(n) },
    });
    expect((self.exports.f as (n: number) => number)(100)).toBe(0);
    const out = self.func('f').invoke([i32(10_000_000)]);
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') expect(out.trap).toBeInstanceOf(Exhaustion);
    expect((self.exports.f as (n: number) => number)(5)).toBe(0);
  });
});

describe('memory growth', () => {
  it('grows page by page to 64 MiB with few reallocations, new pages zeroed and old bytes kept', () => {
    const i = new Instance(new Module(wat(`(module (memory (export "mem") 1)
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`)));
    const grow = i.exports.grow as () => number;
    const poke = i.exports.poke as (a: number, v: number) => void;
    const peek = i.exports.peek as (a: number) => number;
    poke(65535, 42);
    const mem = i.getExport('mem') as Memory;
    const buffers = new Set<ArrayBufferLike>([mem.buffer]);
    for (let p = 1; p < 1024; p++) {
      expect(grow()).toBe(p);
      poke(p * 65536 + 7, p & 0xff);
      buffers.add(mem.buffer);
    }
    expect(mem.pages).toBe(1024);
    expect(mem.byteLength).toBe(64 * 1024 * 1024);
    expect(mem.bytes().length).toBe(64 * 1024 * 1024);
    expect(peek(65535)).toBe(42);
    expect(peek(1023 * 65536 + 7)).toBe(1023 & 0xff);
    expect(peek(1023 * 65536 + 8)).toBe(0);
    expect(() => peek(64 * 1024 * 1024)).toThrow('out of bounds memory access');
    // The backing store doubles: 11 buffers for 1,024 grows, not 1,024 copies
    // of a growing memory (which took 22 s to reach 64 MiB).
    expect(buffers.size).toBeLessThanOrEqual(12);
  });
});

describe('implementation limits', () => {
  /** A module whose only type has `n` i32 params (hand-encoded: WAT would be large). */
  function typeWithParams(n: number): Uint8Array {
    const leb = (x: number): number[] => {
      const out: number[] = [];
      do {
        let b = x & 0x7f;
        x >>>= 7;
        if (x !== 0) b |= 0x80;
        out.push(b);
      } while (x !== 0);
      return out;
    };
    const body = [1, 0x60, ...leb(n), ...new Array<number>(n).fill(0x7f), 0];
    return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, ...leb(body.length), ...body]);
  }

  it('accepts function types of up to 1,000 params and refuses more with a DecodeError', () => {
    expect(() => new Module(typeWithParams(1000))).not.toThrow();
    expect(() => new Module(typeWithParams(100_000))).toThrow(DecodeError);
    expect(() => new Module(typeWithParams(100_000))).toThrow(/more than the limit of 1000/);
  });
});

describe('lowering stays linear on adversarial code', () => {
  // Each body keeps 200,000 values pending on the stack and then repeats an
  // instruction 200,000 times that used to rescan them all: 4 * 10^10 steps
  // on first call (measured at 60,000: 4 to 12 s a test; at 200,000 about
  // ten times that), a hang in practice. The timeout is the hang guard;
  // linear lowering takes about a second.
  const N = 200_000;
  const run = (body: string, tail: string) => {
    const text = `(module (func (export "f") (param i32) (local i32 i32) ${body} ${tail}))`;
    const i = new Instance(new Module(wat(text)));
    expect(i.func('f').invoke([i32(1)]).kind).toBe('done');
  };
  const pending = 'local.get 0 '.repeat(N);
  const drops = 'drop '.repeat(N);

  it('enters many blocks with many values pending', () => run(pending + '(block) '.repeat(N), drops), 20_000);
  it('runs many ifs with many values pending', () => run(pending + '(if (i32.const 0) (then)) '.repeat(N), drops), 20_000);
  it('sets another local many times with many references pending', () => run(pending + '(local.set 2 (local.get 1)) '.repeat(N), drops), 20_000);
  it('sets the referenced local many times', () => run(pending + '(local.set 0 (local.get 1)) '.repeat(N), drops), 20_000);
});
