/**
 * Attacks on the MemoryPool (second pass, adversarial): regions lent twice,
 * given back twice, used after dispose, restores that fail half-way, the
 * room of a region past the memory's size, imported memories.
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Func, Instance, Memory, MemoryPool, Module, SnapshotError, Suspend, Trap, i32, restore, snapshot } from './index.js';

const PAGE = 65536;

/** A guest with a memory of `pages` pages (at most 8) that can touch it every way. */
function prober(pages: number): Module {
  return new Module(wat(`(module
    (memory (export "mem") ${pages} 8)
    (data $d "\\01\\02\\03\\04\\05\\06\\07\\08\\09")
    (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
    (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
    (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
    (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`));
}

type X = {
  load8(a: number): number;
  load64(a: number): bigint;
  store8(a: number, v: number): void;
  store64(a: number, v: bigint): void;
  fill(d: number, v: number, n: number): void;
  copy(d: number, s: number, n: number): void;
  init(d: number, s: number, n: number): void;
  grow(n: number): number;
};

function make(m: Module, pool: MemoryPool, opts: Record<string, unknown> = {}): { i: Instance; x: X; mem: Memory } {
  const i = new Instance(m, {}, { memoryPool: pool, ...opts });
  return { i, x: i.exports as unknown as X, mem: i.getExport('mem') as Memory };
}

describe('MemoryPool under attack', () => {
  it('keeps a guest out of the room past its size: a 3-page memory in a 4-page region traps at page 3 for every access', () => {
    const pool = new MemoryPool({ slabBytes: 16 * PAGE, maxRegionPages: 4 });
    const a = make(prober(3), pool);
    const b = make(prober(3), pool);
    expect(a.mem.u8.length).toBe(4 * PAGE);
    expect(a.mem.byteLength).toBe(3 * PAGE);
    const end = 3 * PAGE;
    expect(() => a.x.load8(end)).toThrow(Trap);
    expect(() => a.x.store8(end, 1)).toThrow(Trap);
    expect(() => a.x.load64(end - 7)).toThrow(Trap);
    expect(() => a.x.store64(end - 4, -1n)).toThrow(Trap);
    expect(() => a.x.fill(end - 1, 0x55, 2)).toThrow(Trap);
    expect(() => a.x.copy(end - 1, 0, 2)).toThrow(Trap);
    expect(() => a.x.copy(0, end - 1, 2)).toThrow(Trap);
    expect(() => a.x.init(end - 1, 0, 2)).toThrow(Trap);
    // Nothing was written into the room (bulk instructions check before writing), so growth finds zeros there.
    expect(a.mem.u8.subarray(end).every((v) => v === 0)).toBe(true);
    expect(a.x.grow(1)).toBe(3);
    expect(a.x.load64(end)).toBe(0n);
    expect(b.mem.u8.every((v) => v === 0)).toBe(true);
  });

  it('give a disposed instance\'s region to exactly one next memory, however often it is disposed', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const m = prober(1);
    const a = make(m, pool);
    a.i.dispose();
    a.i.dispose();
    a.mem.release();
    expect(pool.stats()).toMatchObject({ lentRegions: 0, freeRegions: 1 });
    const b = make(m, pool);
    const c = make(m, pool);
    expect(c.mem.u8.byteOffset).not.toBe(b.mem.u8.byteOffset);
    b.x.fill(0, 0xbb, PAGE);
    expect(c.mem.u8.some((v) => v === 0xbb)).toBe(false);
    // The disposed instance's exports reach nothing.
    expect(() => a.x.load8(0)).toThrow(Trap);
    expect(() => a.x.store8(0, 1)).toThrow(Trap);
    expect(() => a.x.fill(0, 1, 0)).not.toThrow(); // n = 0 at address 0 is in bounds of an empty memory
    expect(() => a.x.fill(0, 1, 1)).toThrow(Trap);
    expect(a.x.grow(1)).toBe(-1);
    expect(b.mem.u8.every((v) => v === 0xbb)).toBe(true);
  });

  it('never give a region back twice when the memory grew out of it (or moved for .buffer) and is then disposed', () => {
    const pool = new MemoryPool({ slabBytes: 8 * PAGE, maxRegionPages: 1 });
    const m = prober(1);
    const a = make(m, pool);
    expect(a.x.grow(1)).toBe(1); // out of its region
    const b = make(m, pool); // takes A's old region
    const c = make(m, pool);
    void c.mem.buffer; // C moves out too
    const d = make(m, pool); // takes C's old region
    a.i.dispose();
    c.i.dispose();
    const e = make(m, pool);
    const f = make(m, pool);
    const offsets = [b, d, e, f].map((x) => x.mem.u8.byteOffset);
    expect(new Set(offsets).size).toBe(4);
    expect(pool.stats().lentRegions).toBe(4);
  });

  it('leave an imported memory alone when the importer is disposed, and trap the importer once the exporter is', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const a = make(prober(1), pool);
    const user = new Module(wat(`(module (import "a" "mem" (memory 1))
      (data (i32.const 8) "imp")
      (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))`));
    const b = new Instance(user, { a: { mem: a.mem } }, { memoryPool: pool });
    expect(a.x.load8(8)).toBe(0x69); // 'i'
    b.dispose();
    expect(a.mem.byteLength).toBe(PAGE);
    expect(pool.stats().lentRegions).toBe(1);
    a.i.dispose();
    const next = make(prober(1), pool); // A's region, zeroed
    next.x.store8(8, 0x77);
    expect(() => (b.exports.load8 as (a: number) => number)(8)).toThrow(Trap);
  });

  it('make a memory released by a host call mid-function fail its grow and trap its next load, never reaching the next owner', () => {
    // A host import disposes the calling instance, a new instance takes the region, and the guest goes on.
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    let self: Instance | null = null;
    let other: { x: X; mem: Memory } | null = null;
    const kill = Func.host({ params: [], results: [] }, () => {
      self!.dispose();
      other = make(prober(1), pool);
      other.mem.u8.fill(0xcc);
      return [];
    });
    const m = new Module(wat(`(module (import "h" "kill" (func $kill))
      (memory (export "mem") 1 8)
      (func (export "go") (result i32)
        (call $kill)
        (drop (memory.grow (i32.const 1)))
        (i32.load8_u (i32.const 100))))`));
    self = new Instance(m, { h: { kill } }, { memoryPool: pool });
    expect(() => (self!.exports.go as () => number)()).toThrow(Trap);
    expect(other!.mem.u8.every((v) => v === 0xcc)).toBe(true);
  });

  it('end a call paused in a host function of a disposed instance with a trapped outcome at resume (no throw, no write to the next owner)', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const wait = Func.host({ params: [], results: [0x7f] } as never, () => new Suspend());
    const m = new Module(wat(`(module (import "h" "wait" (func $wait (result i32)))
      (memory (export "mem") 1)
      (func (export "go") (i32.store (i32.const 64) (call $wait))))`));
    const a = new Instance(m, { h: { wait } }, { memoryPool: pool });
    expect(a.call('go', []).kind).toBe('waiting');
    a.dispose();
    const next = make(prober(1), pool);
    next.mem.u8.fill(0x5a);
    const out = a.resume({ results: [i32(-1)] });
    expect(out.kind).toBe('trapped');
    expect(next.mem.u8.every((v) => v === 0x5a)).toBe(true);
  });

  it('restore a snapshot into a reused region with its all-zero pages zero (not the last owner\'s bytes)', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 4 });
    const m = prober(3);
    const src = new Instance(m);
    (src.exports as unknown as X).store8(PAGE + 3, 9); // one page of three holds anything
    const snap = snapshot(src);
    const dirty = make(m, pool);
    dirty.x.fill(0, 0xee, 3 * PAGE);
    const region = dirty.mem.u8;
    dirty.i.dispose();
    const back = restore(m, snap, {}, { memoryPool: pool });
    const mem = back.getExport('mem') as Memory;
    expect(mem.pooled).toBe(true);
    // The restored memory is in the dirty one's region (the attack is not vacuous).
    expect(mem.u8.buffer).toBe(region.buffer);
    expect(mem.u8.byteOffset).toBe(region.byteOffset);
    const bytes = mem.bytes();
    expect(bytes[PAGE + 3]).toBe(9);
    expect(bytes.filter((v) => v !== 0).length).toBe(1);
    expect(snapshot(back)).toEqual(snap);
  });

  // What broke: vm/snapshot.ts restore() makes the Instance (its memories take pool regions) and then load()
  // throws SnapshotError (here: more pages than maxMemoryPages) without disposing it, so each failed restore leaves
  // its region lent for as long as the pool lives (lentRegions 3 after 3 attempts, expected 0). The actor system's
  // restore passes the hive's pool to it (system.ts instantiate calls `make` outside its try), so a hostile or
  // over-limit actor snapshot leaks one region per restore attempt.
  it('regression: a restore that fails after its instance is made gives the region back to the pool (over-limit pages)', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const m = prober(1);
    const src = new Instance(m);
    (src.exports.grow as (n: number) => number)(2);
    const snap = snapshot(src);
    for (let k = 0; k < 3; k++) {
      expect(() => restore(m, snap, {}, { memoryPool: pool, maxMemoryPages: 1 })).toThrow(SnapshotError);
    }
    expect(pool.stats().lentRegions).toBe(0);
  });

  // What broke, the same cause as above: a page index that is not increasing is found in load(), after the instance
  // took its region.
  it('regression: a restore refused for a malformed memory page list gives the region back to the pool', () => {
    const pool = new MemoryPool({ slabBytes: 4 * PAGE, maxRegionPages: 1 });
    const m = prober(1);
    const src = new Instance(m);
    (src.exports as unknown as X).store8(5, 1);
    const good = snapshot(src);
    // A restore into another module's instance would be refused before instantiation (hash), so the snapshot is
    // cut instead: any change inside the compressed body fails in load(), after the memory was made.
    let refused = 0;
    for (let at = good.length - 40; at < good.length; at++) {
      const bad = good.slice();
      bad[at] ^= 0xff;
      try {
        restore(m, bad, {}, { memoryPool: pool }).dispose();
      } catch {
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(pool.stats().lentRegions).toBe(0);
  });
});
