import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Exhaustion, Instance, Module, Trap, f64bits, i32, i64 } from './index.js';

function inst(text: string, imports = {}, options = {}): Instance {
  return new Instance(new Module(wat(text)), imports, options);
}

describe('interpreter', () => {
  it('adds, with local.get forwarding and local.set fused into the producer', () => {
    const i = inst(`(module (func (export "f") (param i32 i32) (result i32) (local i32)
      local.get 0 local.get 1 i32.add local.set 2 local.get 2 local.get 2 i32.mul))`);
    expect((i.exports.f as Function)(3, 4)).toBe(49);
  });

  it('runs a loop with a fused compare-and-branch', () => {
    const i = inst(`(module (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (block $done (loop $top
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
      local.get $s))`);
    expect((i.exports.sum as Function)(100)).toBe(4950);
  });

  it('keeps a pending local.get when the local is overwritten later', () => {
    const i = inst(`(module (func (export "f") (param i32) (result i32)
      local.get 0
      i32.const 5 local.set 0
      local.get 0 i32.sub))`);
    expect((i.exports.f as Function)(10)).toBe(5);
  });

  it('computes i64 arithmetic without losing bits', () => {
    const i = inst(`(module
      (func (export "mul") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
      (func (export "div") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
      (func (export "rotl") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rotl))`);
    const mul = i.func('mul');
    const r = mul.invoke([i64(0x123456789abcdefn), i64(0xfedcba987654321n)]);
    expect(r).toEqual({ kind: 'done', results: [i64(BigInt.asIntN(64, 0x123456789abcdefn * 0xfedcba987654321n))] });
    expect((i.exports.div as Function)(-7000000000000n, 3n)).toBe(-2333333333333n);
    expect((i.exports.rotl as Function)(0x8000000000000001n, 4n)).toBe(0x18n);
  });

  it('moves f64 NaN payloads bit-exactly through locals and calls', () => {
    const i = inst(`(module
      (func $id (param f64) (result f64) local.get 0)
      (func (export "f") (param f64) (result f64) local.get 0 call $id))`);
    const nan = 0x7ff0000000000001n; // signalling NaN
    expect(i.func('f').invoke([f64bits(nan)])).toEqual({ kind: 'done', results: [f64bits(nan)] });
  });

  it('recurses 100,000 deep without overflowing the JS stack', () => {
    const i = inst(`(module (func $r (export "r") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))`);
    expect((i.exports.r as Function)(100_000)).toBe(100_000);
  });

  it('starts an instance with 1 KiB of value stack, and grows it and its frame records under a run waiting on the host', () => {
    // Machines start small (256 words, 16 frame records) so that idle actors are cheap. Here a host callback
    // recurses 200 deep, past both, while `outer` waits on it: the stack is reallocated under outer's run,
    // which must go on with its own locals (111 + 222) from the new stack and the callback's result.
    let self: Instance | undefined;
    self = inst(`(module (import "env" "cb" (func $cb (param i32) (result i32)))
      (func $down (export "down") (param i32) (result i32) (local i64 i64 i64 i64)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (local.get 0) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
      (func (export "outer") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.const 111)) (local.set 2 (i32.const 222))
        (i32.add (call $cb (local.get 0)) (i32.add (local.get 1) (local.get 2)))))`,
      { env: { cb: (n: number) => (self!.exports.down as (n: number) => number)(n) } });
    expect(self.stackBytes).toBe(1024);
    expect((self.exports.outer as Function)(200)).toBe((200 * 201) / 2 + 333);
    expect(self.stackBytes).toBeGreaterThan(1024);
  });

  it('reports endless recursion as Exhaustion at the configured depth', () => {
    const i = inst(`(module (func $r (export "r") call $r))`, {}, { maxCallDepth: 1000 });
    const out = i.func('r').invoke([]);
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') {
      expect(out.trap).toBeInstanceOf(Exhaustion);
      expect(out.trap.message).toBe('call stack exhausted');
    }
  });

  it('gives traps the spec message and a wasm stack trace with function names', () => {
    const i = inst(`(module
      (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func $outer (export "outer") (param i32) (result i32) (call $inner (local.get 0))))`);
    const out = i.func('outer').invoke([i32(0)]);
    expect(out.kind).toBe('trapped');
    if (out.kind !== 'trapped') return;
    expect(out.trap).toBeInstanceOf(Trap);
    expect(out.trap.message).toBe('integer divide by zero');
    expect(out.trap.wasmStack.map((f) => f.name)).toEqual(['inner', 'outer']);
    // The instance stays usable after a trap.
    expect(i.func('outer').invoke([i32(1)])).toEqual({ kind: 'done', results: [i32(1)] });
  });

  it('returns multiple values from blocks and functions', () => {
    const i = inst(`(module (func (export "swap") (param i32 i32) (result i32 i32)
      (block (result i32 i32) local.get 1 local.get 0)))`);
    expect((i.exports.swap as Function)(1, 2)).toEqual([2, 1]);
  });

  it('calls host functions and lets them trap the guest', () => {
    const i = inst(`(module (import "env" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32) (call $f (local.get 0))))`, {
      env: { f: (x: number) => { if (x < 0) throw new Error('negative'); return x * 2; } },
    });
    expect((i.exports.g as Function)(21)).toBe(42);
    const out = i.func('g').invoke([i32(-1)]);
    expect(out.kind === 'trapped' && out.trap.message).toMatch(/negative/);
  });

  it('grows memory and fails memory.grow cleanly past the maximum', () => {
    const i = inst(`(module (memory 1 2)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))`);
    const grow = i.exports.grow as Function;
    expect(grow(1)).toBe(1);
    expect(grow(1)).toBe(-1);
    (i.exports.store as Function)(65536 + 8, 1234);
    expect((i.exports.load as Function)(65536 + 8)).toBe(1234);
    expect(() => (i.exports.load as Function)(2 * 65536 - 2)).toThrow('out of bounds memory access');
  });
});

describe('compare-and-branch fusion', () => {
  const cmps = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
  const funcs = cmps.flatMap((c) => [
    `(func (export "br_if_${c}") (param f64 f64) (result i32)
       (block $b (br_if $b (f64.${c} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))`,
    `(func (export "if_${c}") (param f64 f64) (result i32)
       (if (result i32) (f64.${c} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))`,
  ]);
  funcs.push(
    `(func (export "br_if_i64_eqz") (param i64) (result i32)
       (block $b (br_if $b (i64.eqz (local.get 0))) (return (i32.const 0))) (i32.const 1))`,
    `(func (export "if_i64_eqz") (param i64) (result i32)
       (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))`,
  );
  const bytes = wat(`(module ${funcs.join('\n')})`);
  const ours = new Instance(new Module(bytes)).exports as Record<string, Function>;
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Record<string, Function>;
  const values = [NaN, -Infinity, -1.5, -0, 0, 1, 1.5, Infinity];

  it('branches on f64 comparisons as V8 does, NaN included, for br_if and if', () => {
    for (const c of cmps) {
      for (const x of values) {
        for (const y of values) {
          for (const form of ['br_if', 'if']) {
            expect(ours[`${form}_${c}`]!(x, y), `${form} f64.${c}(${x}, ${y})`).toBe(v8[`${form}_${c}`]!(x, y));
          }
        }
      }
    }
  });

  it('branches on i64.eqz for br_if and if', () => {
    for (const x of [0n, 1n, -1n, 1n << 32n, 1n << 63n]) {
      expect(ours.br_if_i64_eqz!(x)).toBe(x === 0n ? 1 : 0);
      expect(ours.if_i64_eqz!(x)).toBe(x === 0n ? 1 : 0);
    }
  });
});

describe('API shorthands', () => {
  it('compiles and instantiates bytes in one call', async () => {
    const { compile, instantiate } = await import('./index.js');
    const bytes = wat('(module (func (export "two") (result i32) i32.const 2))');
    expect((instantiate(bytes).exports.two as Function)()).toBe(2);
    expect((instantiate(compile(bytes)).exports.two as Function)()).toBe(2);
  });
});
