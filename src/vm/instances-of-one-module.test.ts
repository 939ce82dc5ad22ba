/**
 * What instances of one module share (the module's type ids, export index,
 * and the words of constant expressions that read nothing of an instance)
 * and what each keeps its own, and where memories keep their bytes: made
 * cheap because an actor runtime makes one instance per spawn (issue 11,
 * "spawn scale").
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Func, Global, Instance, Memory, Module, ValType, type FuncType } from './index.js';
import { SHARED_STORE_MAX, canonicalTypeId } from './runtime.js';

describe('instances of one module', () => {
  const module = new Module(
    wat(`(module
      (import "env" "base" (global $base i32))
      (global $g (mut i32) (i32.const 7))
      (global $h (mut i64) (i64.const -5))
      (global $from (mut i32) (global.get $base))
      (memory (export "mem") 1)
      (data (i32.const 16) "hi")
      (func (export "get") (result i32) (global.get $g))
      (func (export "set") (param i32) (global.set $g (local.get 0)))
      (func (export "h") (result i64) (global.get $h))
      (func (export "from") (result i32) (global.get $from)))`),
  );
  const make = (base: number): Instance => new Instance(module, { env: { base: new Global({ type: 'i32' }, { type: 'i32', value: base }) } });

  it('each have their own globals, initialised alike, though the module keeps the initial words', () => {
    const a = make(1);
    const b = make(2);
    (a.exports.set as (v: number) => void)(99);
    expect((a.exports.get as () => number)()).toBe(99);
    expect((b.exports.get as () => number)()).toBe(7);
    expect((make(3).exports.get as () => number)()).toBe(7);
    expect((b.exports.h as () => bigint)()).toBe(-5n);
  });

  it('each read an imported global in an initialiser from their own imports', () => {
    expect((make(41).exports.from as () => number)()).toBe(41);
    expect((make(42).exports.from as () => number)()).toBe(42);
  });

  it('each have their own memory with the data segments applied', () => {
    const a = make(0);
    const b = make(0);
    const ma = a.getExport('mem') as Memory;
    const mb = b.getExport('mem') as Memory;
    expect(ma).not.toBe(mb);
    ma.u8[16] = 0x41;
    expect(String.fromCharCode(mb.u8[16]!, mb.u8[17]!)).toBe('hi');
  });

  it('make their exports object once, on first use, and give the same object after', () => {
    const a = make(0);
    const e = a.exports;
    expect(a.exports).toBe(e);
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.keys(e)).toEqual(['mem', 'get', 'set', 'h', 'from']);
    expect(a.exportNames()).toEqual(['mem', 'get', 'set', 'h', 'from']);
    expect(a.getExport('nope')).toBeUndefined();
    expect(e.mem).toBe(a.getExport('mem'));
  });
});

describe('a memory store', () => {
  it('is a SharedArrayBuffer up to SHARED_STORE_MAX (V8 then starts no full collection for it) and an ArrayBuffer past it', () => {
    const small = new Memory({ initial: SHARED_STORE_MAX / 65536 });
    const large = new Memory({ initial: SHARED_STORE_MAX / 65536 + 1 });
    expect(small.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(large.buffer).toBeInstanceOf(ArrayBuffer);
    // Growing past the bound moves the bytes to an ArrayBuffer.
    small.u8[65535] = 9;
    expect(small.grow(1)).toBe(SHARED_STORE_MAX / 65536);
    expect(small.buffer).toBeInstanceOf(ArrayBuffer);
    expect(small.u8[65535]).toBe(9);
  });

  it('in shared memory still traps on an access past the memory size', () => {
    const i = new Instance(new Module(wat(`(module (memory 1 4) (func (export "peek") (param i32) (result i32) (i32.load (local.get 0))))`)));
    const peek = i.exports.peek as (a: number) => number;
    expect(peek(65532)).toBe(0);
    expect(() => peek(65533)).toThrow(/out of bounds/);
  });
});

describe('a function type', () => {
  it('has one canonical id whether frozen, fresh, or of a module', () => {
    const frozen: FuncType = Object.freeze({ params: Object.freeze([ValType.i32]) as ValType[], results: Object.freeze([ValType.i64]) as ValType[] });
    const fresh: FuncType = { params: [ValType.i32], results: [ValType.i64] };
    const id = canonicalTypeId(frozen);
    expect(canonicalTypeId(frozen)).toBe(id);
    expect(canonicalTypeId(fresh)).toBe(id);
    expect(canonicalTypeId({ params: [ValType.i64], results: [ValType.i64] })).not.toBe(id);
    const m = new Module(wat(`(module (type (func (param i32) (result i64))))`));
    expect(m.typeIds[0]).toBe(id);
    // A host function of a frozen type links where the import has the same type.
    const f = Func.host(frozen, () => [{ type: 'i64', value: 5n }]);
    const i = new Instance(new Module(wat(`(module (import "h" "f" (func $f (param i32) (result i64))) (func (export "g") (result i64) (call $f (i32.const 1))))`)), { h: { f } });
    expect((i.exports.g as () => bigint)()).toBe(5n);
  });
});
