/**
 * Regressions found by differential fuzzing against V8 (scripts/fuzz-v8.mjs).
 * Each test is named after what broke; each module is run on our engine and
 * on V8's WebAssembly, and both must give the same results.
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Instance, Module } from './index.js';

type Exports = Record<string, (...args: unknown[]) => unknown>;

function both(text: string): { ours: Exports; v8: Exports } {
  const bytes = wat(text);
  const ours = new Instance(new Module(bytes)).exports as Exports;
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Exports;
  return { ours, v8 };
}

/** Calls `name` with each argument list on both engines and expects equal results (or equal trap messages' presence). */
function agree(e: { ours: Exports; v8: Exports }, name: string, argLists: unknown[][]): void {
  for (const args of argLists) {
    let want: unknown, got: unknown;
    try {
      want = e.v8[name]!(...args);
    } catch (err) {
      want = `trap`;
    }
    try {
      got = e.ours[name]!(...args);
    } catch (err) {
      got = `trap`;
    }
    expect(got, `${name}(${args.join(', ')})`).toEqual(want);
  }
}

describe('lowering: a dropped result is not fused with the entry that replaces it', () => {
  // The lowering remembers the last instruction's result (to fuse a comparison
  // into br_if/if, an address add into a load/store, a result into local.set).
  // `drop` popped that result but left it remembered, so a local.get or a
  // constant pushed at the same height was taken for it.
  const e = both(`(module
    (memory 1)
    (data (i32.const 0) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00")
    (func (export "br_if-local") (param i32 i32) (result i32)
      (block $b
        (drop (i32.eq (local.get 0) (local.get 0)))
        (br_if $b (local.get 1))
        (return (i32.const 7)))
      (i32.const 9))
    (func (export "br_if-const") (param i32) (result i32)
      (block $b
        (drop (i32.lt_s (local.get 0) (i32.const 5)))
        (br_if $b (i32.const 0))
        (return (i32.const 7)))
      (i32.const 9))
    (func (export "if-local") (param i32 i32) (result i32)
      (drop (i32.eqz (local.get 0)))
      (if (result i32) (local.get 1) (then (i32.const 1)) (else (i32.const 2))))
    (func (export "if-const") (param i32) (result i32)
      (drop (i32.ne (local.get 0) (i32.const 3)))
      (if (result i32) (i32.const 1) (then (i32.const 1)) (else (i32.const 2))))
    (func (export "load-address") (param i32 i32) (result i32)
      (drop (i32.add (local.get 0) (i32.const 4)))
      (i32.load (local.get 1)))
    (func (export "store-address") (param i32 i32) (result i32)
      (drop (i32.add (local.get 0) (i32.const 4)))
      (i32.store (local.get 1) (i32.const 55))
      (i32.add (i32.load (local.get 1)) (i32.mul (i32.load (i32.add (local.get 0) (i32.const 4))) (i32.const 100))))
  )`);

  it('br_if after a dropped comparison tests its own condition', () => {
    agree(e, 'br_if-local', [[0, 0], [0, 1], [1, 0], [1, 1]]);
    agree(e, 'br_if-const', [[0], [9]]);
  });

  it('if after a dropped comparison tests its own condition', () => {
    agree(e, 'if-local', [[0, 0], [0, 1], [1, 0], [1, 1]]);
    agree(e, 'if-const', [[0], [3]]);
  });

  it('a load after a dropped address add uses its own address', () => {
    agree(e, 'load-address', [[0, 8], [8, 0], [0, 12]]);
  });

  it('a store after a dropped address add uses its own address', () => {
    const f = both(`(module (memory 1)
      (func (export "s") (param i32 i32) (result i32)
        (drop (i32.add (local.get 0) (i32.const 4)))
        (i32.store (local.get 1) (i32.const 55))
        (i32.add (i32.load (local.get 1)) (i32.mul (i32.load (i32.add (local.get 0) (i32.const 4))) (i32.const 100)))))`);
    agree(f, 's', [[0, 8], [16, 32]]);
    agree(e, 'store-address', [[0, 8]]);
  });
});

describe('calls back into an instance from outside it', () => {
  // A host function (or another instance) that called an export of the
  // instance that was calling it got a frame at the machine's `top`, which
  // only covered the outermost frame: it overwrote the live frames of the
  // calls in between (here: $inner's locals).
  const text = `(module
    (import "env" "cb" (func $cb (param i32) (result i32)))
    (func $inner (param i32) (result i32) (local i32 i32 i32)
      (local.set 1 (i32.const 111)) (local.set 2 (i32.const 222)) (local.set 3 (i32.const 333))
      (drop (call $cb (local.get 0)))
      (i32.add (local.get 1) (i32.add (local.get 2) (local.get 3))))
    (func (export "outer") (param i32) (result i32)
      (i32.add (i32.const 1000) (call $inner (local.get 0))))
    (func (export "leaf") (param i32) (result i32) (local i32 i32 i32 i32 i32 i32)
      (local.set 1 (i32.const -1)) (local.set 2 (i32.const -1)) (local.set 3 (i32.const -1))
      (local.set 4 (i32.const -1)) (local.set 5 (i32.const -1)) (local.set 6 (i32.const -1))
      (local.get 0)))`;

  it('a host function calling an export of its caller keeps the caller frames intact', () => {
    const bytes = wat(text);
    let vex: Exports | undefined, oex: Exports | undefined;
    vex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { cb: (x: number) => vex!.leaf!(x) } }).exports as Exports;
    oex = new Instance(new Module(bytes), { env: { cb: (x: number) => oex!.leaf!(x) } }).exports as Exports;
    expect(vex.outer!(5)).toBe(1666);
    expect(oex.outer!(5)).toBe(1666);
  });

  it('a call back through another instance keeps the caller frames intact', () => {
    const bytes = wat(text);
    // B imports A's `leaf` and exports a function that calls it; A's callback is B's function.
    const b = wat(`(module (import "a" "leaf" (func $leaf (param i32) (result i32)))
      (func (export "cb") (param i32) (result i32) (local i64 i64) (call $leaf (local.get 0))))`);
    let aex: Exports | undefined;
    const bInst = new Instance(new Module(b), { a: { leaf: (x: number) => aex!.leaf!(x) } });
    aex = new Instance(new Module(bytes), { env: { cb: bInst.getExport('cb')! } }).exports as Exports;
    expect(aex.outer!(5)).toBe(1666);
  });
});
