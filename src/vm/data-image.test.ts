/**
 * The data segment image (Module.dataImage, Instance initData) and the
 * shared array of segments after instantiation (Module.datasAfterInit,
 * copied on write by data.drop), under attack: overlapping segments, offsets
 * read from globals that differ between instances, segments out of bounds,
 * empty segments at the edge, imported memories, regions reused from a
 * pool, passive segments dropped by one instance of several.
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Global, Instance, Memory, MemoryPool, Module, Trap, i32, restore, snapshot } from './index.js';

const PAGE = 65536;

/** A module with `segments` (WAT data fields) on its own memory, and the same on an imported one (applied segment by segment). */
function pair(segments: string, pages = 1, extra = ''): { own: Module; imported: Module } {
  const body = `${segments} ${extra}`;
  return {
    own: new Module(wat(`(module (import "g" "off" (global $off i32)) (memory (export "mem") ${pages}) ${body})`)),
    imported: new Module(wat(`(module (import "g" "off" (global $off i32)) (import "m" "mem" (memory ${pages})) ${body})`)),
  };
}

/** The memory bytes each way of applying the segments gives (or the error thrown). */
function both(p: { own: Module; imported: Module }, off: number, pages = 1, pool?: MemoryPool): { own: Uint8Array | Error; imported: Uint8Array | Error } {
  const g = new Global({ type: 'i32', mutable: false }, i32(off));
  let own: Uint8Array | Error;
  try {
    own = (new Instance(p.own, { g: { off: g } }, { memoryPool: pool }).getExport('mem') as Memory).bytes().slice();
  } catch (e) {
    own = e as Error;
  }
  const mem = new Memory({ initial: pages });
  let imported: Uint8Array | Error;
  try {
    new Instance(p.imported, { g: { off: g }, m: { mem } });
    imported = mem.bytes().slice();
  } catch (e) {
    imported = e as Error;
  }
  return { own, imported };
}

function expectSame(r: { own: Uint8Array | Error; imported: Uint8Array | Error }): void {
  if (r.imported instanceof Error) {
    expect(r.own).toBeInstanceOf(r.imported.constructor);
    return;
  }
  expect(r.own).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(r.own as Uint8Array).equals(Buffer.from(r.imported))).toBe(true);
}

describe('the data image of a module', () => {
  it('gives overlapping segments the bytes of the last, as segment-by-segment application does, in every instance', () => {
    const p = pair(`(data (i32.const 10) "aaaaaaaaaa") (data (i32.const 14) "BB") (data (i32.const 5) "ccccccc") (data (i32.const 100) "d") (data (i32.const 12) "")`);
    for (let k = 0; k < 3; k++) {
      const r = both(p, 0);
      expectSame(r);
      expect(Buffer.from((r.own as Uint8Array).subarray(5, 20)).toString('latin1')).toBe('cccccccaaBBaaaa');
    }
  });

  it('applies offsets read from a global per instance: a second instance with another offset does not get the first one\'s image', () => {
    const p = pair(`(data (global.get $off) "xyz") (data (i32.const 0) "head")`);
    for (const off of [100, 200, 100, 0, 1, 65533, 300]) {
      const r = both(p, off);
      expectSame(r);
      const b = r.own as Uint8Array;
      // "head" comes after, at 0: it wins where they overlap.
      if (off >= 4) expect(Buffer.from(b.subarray(off, off + 3)).toString('latin1')).toBe('xyz');
      expect(Buffer.from(b.subarray(0, 4)).toString('latin1')).toBe('head');
      // Nothing at the first instance's offset unless it is this one's.
      if (off !== 100 && off > 7) expect(b[100]).toBe(0);
    }
  });

  it('traps on a segment out of bounds for this instance (offset from a global), after one that fitted made the image, and the next fitting one is right', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const p = pair(`(data (global.get $off) "xyz") (data (i32.const 0) "head")`);
    expectSame(both(p, 10, 1, pool));
    for (const off of [65534, 65536, 0x7fffffff, -1, -3]) {
      const r = both(p, off, 1, pool);
      expect(r.own).toBeInstanceOf(Trap);
      expect(r.imported).toBeInstanceOf(Trap);
    }
    expect(pool.stats().lentRegions).toBe(1); // the first instance's only: the failed ones gave theirs back
    const r = both(p, 20, 1, pool);
    expectSame(r);
    expect(Buffer.from((r.own as Uint8Array).subarray(20, 23)).toString('latin1')).toBe('xyz');
    expect((r.own as Uint8Array)[10]).toBe(0);
  });

  it('traps on an empty segment past the end (also at offset 2^32-1), and accepts one exactly at the end', () => {
    for (const [off, traps] of [[PAGE, false], [PAGE + 1, true], [-1, true]] as const) {
      const p = pair(`(data (i32.const 0) "a") (data (i32.const ${off}) "")`);
      const r = both(p, 0);
      if (traps) {
        expect(r.own).toBeInstanceOf(Trap);
        expect(r.imported).toBeInstanceOf(Trap);
      } else expectSame(r);
    }
  });

  it('leaves the segments before the failing one applied to an imported memory, as the spec orders them', () => {
    const p = pair(`(data (i32.const 0) "first") (data (i32.const 65535) "xx") (data (i32.const 10) "never")`);
    const mem = new Memory({ initial: 1 });
    const g = new Global({ type: 'i32', mutable: false }, i32(0));
    expect(() => new Instance(p.imported, { g: { off: g }, m: { mem } })).toThrow(Trap);
    expect(Buffer.from(mem.u8.subarray(0, 5)).toString('latin1')).toBe('first');
    expect(mem.u8[10]).toBe(0);
    expect(() => new Instance(p.own, { g: { off: g } })).toThrow(Trap);
  });

  it('gives an instance in a reused pool region exactly the image (the gaps zero, not the last owner\'s bytes)', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const p = pair(`(data (i32.const 16) "abc") (data (i32.const 4000) "def")`, 1, `(func (export "scribble") (memory.fill (i32.const 0) (i32.const 0xee) (i32.const 65536)))`);
    const g = new Global({ type: 'i32', mutable: false }, i32(0));
    const ref = both(p, 0).imported as Uint8Array;
    for (let k = 0; k < 4; k++) {
      const inst = new Instance(p.own, { g: { off: g } }, { memoryPool: pool });
      const mem = inst.getExport('mem') as Memory;
      expect(Buffer.from(mem.bytes()).equals(Buffer.from(ref))).toBe(true);
      (inst.exports.scribble as () => void)();
      inst.dispose();
    }
  });
});

describe('passive segments shared by the instances of a module', () => {
  const m = new Module(wat(`(module (memory (export "mem") 1)
    (data $p "passive!") (data $a (i32.const 0) "active")
    (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
    (func (export "initActive") (param i32 i32 i32) (memory.init $a (local.get 0) (local.get 1) (local.get 2)))
    (func (export "drop") (data.drop $p))
    (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))`));
  type X = { init(d: number, s: number, n: number): void; initActive(d: number, s: number, n: number): void; drop(): void; load8(a: number): number };

  it('stay whole for the others when one instance drops one (before and after the others were made), and after a restore', () => {
    const a = new Instance(m);
    const b = new Instance(m);
    const xa = a.exports as unknown as X;
    const xb = b.exports as unknown as X;
    xa.drop();
    xa.drop(); // twice is allowed
    expect(() => xa.init(100, 0, 1)).toThrow(Trap);
    xa.init(100, 0, 0); // n = 0 at offset 0 of a dropped segment is in bounds
    xb.init(100, 0, 8);
    expect(xb.load8(107)).toBe('!'.charCodeAt(0));
    const c = new Instance(m);
    (c.exports as unknown as X).init(200, 2, 6);
    expect((c.exports as unknown as X).load8(200)).toBe('s'.charCodeAt(0));
    expect(m.datasAfterInit()[0]).not.toBeNull();
    expect(Buffer.from(m.datasAfterInit()[0]!).toString('latin1')).toBe('passive!');
    // A snapshot keeps A's drop; the restored copy drops nothing of the module's.
    const back = restore(m, snapshot(a));
    expect(() => (back.exports as unknown as X).init(0, 0, 1)).toThrow(Trap);
    (back.exports as unknown as X).drop();
    (new Instance(m).exports as unknown as X).init(300, 0, 1);
    const fresh = restore(m, snapshot(b));
    (fresh.exports as unknown as X).init(400, 0, 8);
    expect((fresh.exports as unknown as X).load8(400)).toBe('p'.charCodeAt(0));
  });

  it('treat an active segment as dropped in every instance: memory.init of it traps unless empty at offset 0', () => {
    for (let k = 0; k < 3; k++) {
      const x = new Instance(m).exports as unknown as X;
      x.initActive(0, 0, 0);
      expect(() => x.initActive(0, 0, 1)).toThrow(Trap);
      expect(() => x.initActive(0, 1, 0)).toThrow(Trap);
    }
  });

  it('refuse writes through the module\'s shared array (it is frozen)', () => {
    const arr = m.datasAfterInit();
    expect(Object.isFrozen(arr)).toBe(true);
    expect(() => {
      arr[0] = null;
    }).toThrow(TypeError);
  });
});

