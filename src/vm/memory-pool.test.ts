import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Func, Global, Instance, Memory, MemoryPool, Module, Table, Trap, i32, restore, snapshot } from './index.js';

const PAGE = 65536;

/** The reference a table element holds. */
function ref(v: unknown): unknown {
  return (v as { value: unknown }).value;
}

/** Whether two byte arrays are equal (faster than toEqual on pages of bytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** A guest that can touch its memory with every kind of access (a passive segment for memory.init). */
const probe = new Module(wat(`(module
  (memory (export "mem") 1 8)
  (data $d "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "load32off") (param i32) (result i32) (i32.load offset=65535 (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))`));

type Probe = {
  load8(a: number): number;
  load16(a: number): number;
  load32(a: number): number;
  load64(a: number): bigint;
  load32off(a: number): number;
  store8(a: number, v: number): void;
  store32(a: number, v: number): void;
  store64(a: number, v: bigint): void;
  fill(d: number, v: number, n: number): void;
  copy(d: number, s: number, n: number): void;
  init(d: number, s: number, n: number): void;
  grow(n: number): number;
  size(): number;
};

function probeIn(pool: MemoryPool | undefined): { i: Instance; x: Probe; mem: Memory } {
  const i = new Instance(probe, {}, { memoryPool: pool });
  return { i, x: i.exports as unknown as Probe, mem: i.getExport('mem') as Memory };
}

/** Every access a guest can make around the end of its memory: each out-of-bounds one must trap. */
function attackTheEnd(x: Probe, size: number): void {
  for (let a = size - 1; a <= size + 8; a++) {
    const fits = (w: number) => a + w <= size;
    const expectAccess = (w: number, f: () => unknown) => (fits(w) ? expect(f).not.toThrow() : expect(f).toThrow(Trap));
    expectAccess(1, () => x.load8(a));
    expectAccess(2, () => x.load16(a));
    expectAccess(4, () => x.load32(a));
    expectAccess(8, () => x.load64(a));
    expectAccess(1, () => x.store8(a, 0x77));
    expectAccess(4, () => x.store32(a, 0x77777777));
    expectAccess(8, () => x.store64(a, 0x7777777777777777n));
    expect(() => x.load32off(a - 65535 + 4)).toThrow(Trap);
    expect(() => x.fill(a, 0x66, 9)).toThrow(Trap);
    expect(() => x.copy(a, 0, 9)).toThrow(Trap);
    expect(() => x.copy(0, a, 9)).toThrow(Trap);
    expect(() => x.init(a, 0, 9)).toThrow(Trap);
  }
  // Addresses that wrap or sit far past the end.
  for (const a of [0xffffffff, 0xfffffff8, 0x80000000, size + PAGE]) {
    expect(() => x.load8(a)).toThrow(Trap);
    expect(() => x.store64(a, -1n)).toThrow(Trap);
  }
}

describe('memories of a MemoryPool', () => {
  it('give each memory views of exactly its own region, next to its neighbour in one slab', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const a = probeIn(pool).mem;
    const b = probeIn(pool).mem;
    expect(a.pooled && b.pooled).toBe(true);
    expect(a.u8.length).toBe(PAGE);
    expect(a.dv.byteLength).toBe(PAGE);
    expect(b.u8.byteOffset).toBe(a.u8.byteOffset + PAGE);
    expect(b.u8.buffer).toBe(a.u8.buffer);
    expect(pool.stats()).toEqual({ slabs: 1, heldBytes: 4 * PAGE, lentRegions: 2, lentBytes: 2 * PAGE, freeRegions: 0 });
  });

  it('keep a guest out of its neighbour\'s region by every load, store and bulk instruction across its end', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const a = probeIn(pool);
    const b = probeIn(pool);
    expect(b.mem.u8.byteOffset).toBe(a.mem.u8.byteOffset + PAGE);
    b.mem.u8.fill(0xaa);
    attackTheEnd(a.x, PAGE);
    expect(b.mem.u8.every((v) => v === 0xaa)).toBe(true);
    // Nothing of B is readable through A: A sees its own bytes only (zero, or what A wrote).
    expect(a.mem.u8.some((v) => v === 0xaa)).toBe(false);
    // And the other way: B's addresses start at its own region, not at the slab's (where A is).
    a.mem.u8.fill(0x11);
    expect(b.x.load8(0)).toBe(0xaa);
    b.x.store64(0, 0x2222222222222222n);
    b.x.fill(0, 0x22, PAGE);
    b.x.copy(0, 8, PAGE - 8);
    attackTheEnd(b.x, PAGE);
    expect(a.mem.u8.every((v) => v === 0x11)).toBe(true);
    expect(b.x.load32(0)).toBe(0x22222222);
  });

  it('keep a guest out of its neighbour after it grew out of its region, and give the zeroed region to the next memory', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const a = probeIn(pool);
    const b = probeIn(pool);
    a.mem.u8.fill(0x5a);
    const region = { buffer: a.mem.u8.buffer, offset: a.mem.u8.byteOffset };
    expect(a.x.grow(1)).toBe(1);
    expect(a.mem.pooled).toBe(false);
    expect(a.mem.u8.buffer).not.toBe(region.buffer);
    expect(pool.stats().freeRegions).toBe(1);
    // The next memory gets A's old region, zeroed; A's writes cannot reach it.
    const c = probeIn(pool);
    expect(c.mem.u8.buffer).toBe(region.buffer);
    expect(c.mem.u8.byteOffset).toBe(region.offset);
    expect(c.mem.u8.every((v) => v === 0)).toBe(true);
    b.mem.u8.fill(0xbb);
    c.mem.u8.fill(0xcc);
    attackTheEnd(a.x, 2 * PAGE);
    a.x.fill(0, 0x11, 2 * PAGE);
    expect(b.mem.u8.every((v) => v === 0xbb)).toBe(true);
    expect(c.mem.u8.every((v) => v === 0xcc)).toBe(true);
    attackTheEnd(c.x, PAGE);
    expect(b.mem.u8.every((v) => v === 0xbb)).toBe(true);
  });

  it('keep their contents when they grow out of their region', () => {
    const pool = new MemoryPool({ maxRegionPages: 4 });
    const mem = new Memory({ initial: 3, maximum: 8, pool });
    for (let k = 0; k < 3 * PAGE; k += 997) mem.u8[k] = k & 0xff;
    const before = mem.bytes().slice();
    expect(mem.grow(1)).toBe(3); // 4 pages: still within its region (the room of 3 pages)
    expect(mem.pooled).toBe(true);
    mem.u8[3 * PAGE + 5] = 9;
    const four = mem.bytes().slice();
    expect(mem.grow(1)).toBe(4); // 5 pages: out of the region
    expect(mem.pooled).toBe(false);
    expect(mem.byteLength).toBe(5 * PAGE);
    expect(same(mem.bytes().subarray(0, 3 * PAGE), before)).toBe(true);
    expect(same(mem.bytes().subarray(0, 4 * PAGE), four)).toBe(true);
    expect(mem.bytes().subarray(4 * PAGE).every((v) => v === 0)).toBe(true);
    expect(pool.stats()).toMatchObject({ lentRegions: 0, freeRegions: 1 });
  });

  it('give a released region to the next memory zeroed, all of it (also bytes a host wrote past the size)', () => {
    const pool = new MemoryPool({ maxRegionPages: 4 });
    const m = new Memory({ initial: 3, pool });
    expect(m.u8.length).toBe(4 * PAGE); // the region is the memory's room
    m.u8.fill(0xff);
    const where = { buffer: m.u8.buffer, offset: m.u8.byteOffset };
    m.release();
    const n = new Memory({ initial: 4, pool });
    expect(n.u8.buffer).toBe(where.buffer);
    expect(n.u8.byteOffset).toBe(where.offset);
    expect(n.u8.every((v) => v === 0)).toBe(true);
    // Scattered bytes (some host pages written, some not): all zero for the next owner.
    for (let k = 4095; k < n.u8.length; k += 3 * 4096 + 1) n.u8[k] = 1;
    n.release();
    const o = new Memory({ initial: 4, pool });
    expect(o.u8.byteOffset).toBe(where.offset);
    expect(o.u8.every((v) => v === 0)).toBe(true);
  });

  it('make a released memory unusable: every access traps, growth fails, and the next owner of its region stays unreachable', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const a = probeIn(pool);
    a.x.store32(100, 1234);
    a.i.dispose();
    a.i.dispose(); // idempotent
    expect(a.mem.byteLength).toBe(0);
    expect(a.mem.u8.length).toBe(0);
    expect(a.x.size()).toBe(0);
    expect(a.x.grow(1)).toBe(-1);
    const d = probeIn(pool);
    expect(d.mem.u8.every((v) => v === 0)).toBe(true);
    d.mem.u8.fill(0xdd);
    for (const addr of [0, 100, PAGE - 8]) {
      expect(() => a.x.load8(addr)).toThrow(Trap);
      expect(() => a.x.load64(addr)).toThrow(Trap);
      expect(() => a.x.store8(addr, 1)).toThrow(Trap);
    }
    expect(() => a.x.fill(0, 1, 1)).toThrow(Trap);
    expect(() => a.x.copy(0, 1, 1)).toThrow(Trap);
    expect(() => a.x.init(0, 0, 1)).toThrow(Trap);
    expect(() => a.mem.buffer).not.toThrow();
    expect(a.mem.buffer.byteLength).toBe(0);
    expect(d.mem.u8.every((v) => v === 0xdd)).toBe(true);
  });

  it('make a memory released inside a host call trap at the guest\'s next access, though a new memory took its region', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    let self: Instance | null = null;
    let next: Memory | null = null;
    const m = new Module(wat(`(module
      (import "host" "exit" (func $exit))
      (memory 1)
      (func (export "run") (result i32)
        (i32.store (i32.const 8) (i32.const 42))
        (call $exit)
        (i32.load (i32.const 8))))`));
    self = new Instance(m, {
      host: {
        exit: () => {
          self!.dispose();
          next = new Memory({ initial: 1, pool });
          next.u8.fill(0x42);
        },
      },
    }, { memoryPool: pool });
    const region = (self.inst.memories[0]!).u8.byteOffset;
    expect(() => (self!.exports.run as () => number)()).toThrow(/out of bounds memory access/);
    expect(next!.u8.byteOffset).toBe(region);
    expect(next!.u8.every((v) => v === 0x42)).toBe(true);
  });

  it('come back to the pool when the instantiation fails (a data segment out of bounds, a start function that traps)', () => {
    const pool = new MemoryPool();
    const oob = new Module(wat(`(module (memory 1) (data (i32.const 0) "ok") (data (i32.const 65535) "no"))`));
    const trapping = new Module(wat(`(module (memory 2) (func $s unreachable) (start $s))`));
    for (let k = 0; k < 3; k++) {
      expect(() => new Instance(oob, {}, { memoryPool: pool })).toThrow(/out of bounds memory access/);
      expect(() => new Instance(trapping, {}, { memoryPool: pool })).toThrow(Trap);
    }
    expect(pool.stats()).toMatchObject({ lentRegions: 0, lentBytes: 0 });
  });

  it('hold at most maxBytes of slabs, and give memories past it stores of their own', () => {
    const pool = new MemoryPool({ slabBytes: 2 * PAGE, maxBytes: 2 * PAGE, maxRegionPages: 1 });
    const ms = [0, 1, 2].map(() => new Memory({ initial: 1, pool }));
    expect(ms.map((m) => m.pooled)).toEqual([true, true, false]);
    expect(pool.stats()).toMatchObject({ slabs: 1, heldBytes: 2 * PAGE, lentRegions: 2 });
    // Larger than the largest region, or empty: a store of its own.
    expect(new Memory({ initial: 2, pool }).pooled).toBe(false);
    expect(new Memory({ initial: 0, pool }).pooled).toBe(false);
    ms[0]!.release();
    expect(new Memory({ initial: 1, pool }).pooled).toBe(true);
  });

  it('give a slab back to the host once none of its regions is lent, and never lend from it again', () => {
    const pool = new MemoryPool({ slabBytes: 2 * PAGE, maxRegionPages: 1 });
    const [a, b, c] = [0, 1, 2].map(() => new Memory({ initial: 1, pool }));
    const first = a!.u8.buffer;
    expect(b!.u8.buffer).toBe(first);
    expect(c!.u8.buffer).not.toBe(first);
    expect(pool.stats()).toMatchObject({ slabs: 2, heldBytes: 4 * PAGE });
    a!.release();
    expect(pool.stats()).toMatchObject({ slabs: 2, lentRegions: 2, freeRegions: 1 });
    b!.release();
    expect(pool.stats()).toEqual({ slabs: 1, heldBytes: 2 * PAGE, lentRegions: 1, lentBytes: PAGE, freeRegions: 0 });
    const later = [0, 1, 2].map(() => new Memory({ initial: 1, pool }));
    expect(later.every((m) => m.pooled && m.u8.buffer !== first)).toBe(true);
    // The slab regions are cut from stays, even with none lent.
    for (const m of [c!, ...later]) m.release();
    expect(pool.stats()).toMatchObject({ slabs: 1, lentRegions: 0 });
  });

  it('keep the tail of a slab too small for a region as smaller regions', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 4 });
    const one = new Memory({ initial: 1, pool }); // pages 0 of slab 1
    const four = new Memory({ initial: 4, pool }); // slab 2; pages 1-2 and 3 of slab 1 become free regions of 2 and 1 pages
    expect(one.u8.buffer).not.toBe(four.u8.buffer);
    expect(pool.stats()).toMatchObject({ slabs: 2, lentRegions: 2, freeRegions: 2 });
    const two = new Memory({ initial: 2, pool });
    expect(two.u8.buffer).toBe(one.u8.buffer);
    expect(two.u8.byteOffset).toBe(PAGE);
    expect(new Memory({ initial: 1, pool }).u8.byteOffset).toBe(3 * PAGE);
  });

  it('refuse limits that do not fit together with a RangeError', () => {
    expect(() => new MemoryPool({ maxRegionPages: 3 })).toThrow(RangeError);
    expect(() => new MemoryPool({ maxRegionPages: 0 })).toThrow(RangeError);
    expect(() => new MemoryPool({ slabBytes: 3 * PAGE, maxRegionPages: 2 })).toThrow(RangeError);
    expect(() => new MemoryPool({ slabBytes: 0 })).toThrow(RangeError);
    expect(() => new MemoryPool({ maxBytes: -1 })).toThrow(RangeError);
  });

  it('never hand out the slab as a memory\'s buffer: the memory moves to a store of its own', () => {
    const pool = new MemoryPool();
    const m = new Memory({ initial: 1, pool });
    m.u8[5] = 7;
    const buf = m.buffer;
    expect(m.pooled).toBe(false);
    expect(buf.byteLength).toBe(PAGE);
    expect(new Uint8Array(buf)[5]).toBe(7);
    expect(m.u8.buffer).toBe(buf);
    expect(pool.stats()).toMatchObject({ lentRegions: 0, freeRegions: 1 });
  });

  it('give byte-identical snapshots to a pooled and an unpooled instance, and restore into a pool', () => {
    const m = new Module(wat(`(module
      (memory (export "mem") 1 4)
      (global $g (mut i32) (i32.const 7))
      (data (i32.const 16) "hello")
      (func (export "work") (param i32)
        (i32.store (i32.const 40000) (local.get 0))
        (global.set $g (local.get 0))
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.const 70000) (local.get 0))))`));
    const pool = new MemoryPool({ maxRegionPages: 1 });
    const plain = new Instance(m);
    const pooled = new Instance(m, {}, { memoryPool: pool });
    const s0 = snapshot(plain);
    expect(snapshot(pooled)).toEqual(s0);
    (plain.exports.work as (n: number) => void)(99);
    (pooled.exports.work as (n: number) => void)(99);
    const s1 = snapshot(plain);
    expect(snapshot(pooled)).toEqual(s1);
    const back = restore(m, s0, {}, { memoryPool: pool });
    expect((back.getExport('mem') as Memory).pooled).toBe(true);
    expect(snapshot(back)).toEqual(s0);
    const back1 = restore(m, s1, {}, { memoryPool: pool });
    expect(snapshot(back1)).toEqual(s1);
  });
});

describe('functions and globals made on first need', () => {
  const m = new Module(wat(`(module
    (table (export "t") 2 funcref)
    (elem (i32.const 0) $a $b)
    (global $g (export "g") (mut i32) (i32.const 5))
    (global $h (export "h") i64 (i64.const 9))
    (func $a (export "a") (result i32) (i32.const 1))
    (func $b (result i32) (i32.const 2))
    (func $c (result i32) (i32.const 3))
    (func $d (export "d") (result i32) (call $c))
    (func (export "getg") (result i32) (global.get $g))
    (func (export "setg") (param i32) (global.set $g (local.get 0))))`));

  it('keep their identity: the same Func or Global each time, from exports, tables and the start function', () => {
    const i = new Instance(m);
    expect(i.getExport('a')).toBe(i.getExport('a'));
    expect(i.func('d')).toBe(i.getExport('d'));
    expect(i.exports.a).toBe(i.exports.a);
    const t = i.getExport('t') as Table;
    expect(ref(t.get(0))).toBe(i.getExport('a'));
    expect(ref(t.get(1))).toBeInstanceOf(Func);
    expect(ref(t.get(1))).toBe(ref(t.get(1)));
    expect(i.getExport('g')).toBeInstanceOf(Global);
    expect(i.getExport('g')).toBe(i.getExport('g'));
    expect(i.getExport('h')).toBe(i.getExport('h'));
  });

  it('make a lazily made Global read and write the words the guest uses', () => {
    const i = new Instance(m);
    const x = i.exports as { getg(): number; setg(v: number): void };
    x.setg(11);
    const g = i.getExport('g') as Global;
    expect(g.value).toBe(11);
    g.set(i32(12));
    expect(x.getg()).toBe(12);
    expect((i.getExport('h') as Global).value).toBe(9n);
  });

  it('leave functions called only by index without a Func', () => {
    const i = new Instance(m);
    expect((i.exports.d as () => number)()).toBe(3);
    // $c (index 2) is neither exported nor in a table: nothing needed its Func.
    expect(i.inst.funcs[2]).toBe(null);
  });
});
