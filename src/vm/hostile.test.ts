/**
 * Regressions of issue 10 (a hostile guest takes the host down), engine
 * side: each test is named after what broke. Host time is asserted in work
 * per slice (deterministic) rather than in milliseconds; the milliseconds
 * were measured separately and are in the note.
 */
import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Exhaustion, Instance, Module, i32, restore, snapshot } from './index.js';
import { MAX_TABLE_ELEMENTS } from './runtime.js';
import { uleb as leb } from '../../test/helpers/leb.js';


/**
 * A module exporting f(i32) -> i32 whose body is a br_table of `n` targets
 * (plus the default) over two blocks: target k goes out of block (k mod 3 === 0 ? 1 : 0),
 * and the two exits return different values. Built by hand: WAT of 65,000 labels is slow to assemble.
 */
function brTableModule(n: number): Uint8Array {
  const body: number[] = [0x00, 0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0e, ...leb(n)];
  for (let k = 0; k < n; k++) body.push(k % 3 === 0 ? 1 : 0);
  body.push(1, 0x0b, 0x41, 11, 0x0f, 0x0b, 0x41, 22, 0x0b);
  const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
  const code: number[] = [];
  code.push(1, ...leb(body.length));
  for (const b of body) code.push(b);
  const out: number[] = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  for (const s of [section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), section(3, [1, 0]), section(7, [1, 1, 0x66, 0, 0])]) for (const b of s) out.push(b);
  const cs = section(10, code);
  for (const b of cs) out.push(b);
  return new Uint8Array(out);
}

describe('hostile guests: engine regressions (issue 10)', () => {
  it('br_table with 65,000 targets (threw a RangeError from an argument spread) runs as V8 runs it, also at 65,520, the most V8 accepts', () => {
    for (const n of [65_000, 65_520]) {
      const bytes = brTableModule(n);
      const ours = new Instance(new Module(bytes)).exports.f as (x: number) => number;
      const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as (x: number) => number;
      for (const x of [0, 1, 2, 3, 4, 5, 32_767, 32_768, n - 2, n - 1, n, n + 1, -1, 2 ** 31 - 1]) expect(ours(x), `n=${n}, x=${x}`).toBe(v8(x));
    }
  });

  it('br_table with 1,000,000 targets, past what V8 accepts, runs too, lowered with the compilation rather than in the first call\'s slice', () => {
    const module = new Module(brTableModule(1_000_000));
    expect(module.lowered[0]).toBeDefined();
    const f = new Instance(module).exports.f as (x: number) => number;
    expect([0, 1, 999_999, 1_000_000].map(f)).toEqual([22, 11, 22, 22]);
    // A small body is still lowered at its first call.
    expect(new Module(brTableModule(1_000)).lowered[0]).toBeUndefined();
  });

  it('table.grow by 10M on 24 tables (froze the event loop for 12 s, 3 GB) stops at the instance limit across all its tables, growing in parts no larger than the slice pays for', () => {
    const text = `(module ${Array.from({ length: 24 }, (_, i) => `(table $t${i} 0 funcref)`).join(' ')}
      (func (export "grow") (param $n i32) (result i32) (local $s i32)
        ${Array.from({ length: 24 }, (_, i) => `(local.set $s (i32.add (local.get $s) (i32.eq (table.grow $t${i} (ref.null func) (local.get $n)) (i32.const -1))))`).join('\n')}
        (local.get $s)))`;
    const module = new Module(wat(text));
    // 10M each: every one fails at once, before allocating, costing no more than its instruction.
    const a = new Instance(module);
    a.fuel = 20_000;
    expect(a.call('grow', [i32(10_000_000)])).toEqual({ kind: 'done', results: [i32(24)] });
    expect(a.fuelUsed).toBeLessThan(200);
    expect(a.inst.tables.every((t) => t.length === 0)).toBe(true);
    // 100,000 each: the first ten fit the 1,000,000 elements of the instance, in slices of 20,000 elements at most.
    const b = new Instance(module);
    b.fuel = 20_000;
    let out = b.call('grow', [i32(100_000)]);
    let slices = 1;
    let before = 0;
    while (out.kind === 'out-of-fuel') {
      const now = b.inst.tables.reduce((n, t) => n + t.length, 0);
      expect(now - before).toBeLessThanOrEqual(20_000);
      before = now;
      out = b.resume({ fuel: 20_000 });
      slices++;
    }
    expect(out).toEqual({ kind: 'done', results: [i32(14)] });
    expect(b.inst.tables.map((t) => t.length)).toEqual([...Array(10).fill(100_000), ...Array(14).fill(0)]);
    expect(slices).toBeGreaterThanOrEqual(50);
    expect(MAX_TABLE_ELEMENTS).toBe(1_000_000);
  });

  it('declared tables of 24 x 10M elements (took 2.9 s and 1.8 GB to instantiate) fail with Exhaustion before anything is allocated', () => {
    const module = new Module(wat(`(module ${Array.from({ length: 24 }, () => `(table 10000000 funcref)`).join(' ')})`));
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    expect(() => new Instance(module)).toThrow(Exhaustion);
    expect(() => new Instance(module)).toThrow(/tables of 240000000 elements in all exceed the instance's limit of 1000000/);
    // Loose bounds (the machine is shared): before, 2.9 s and 1.8 GB.
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    // Within the limit, split between tables, they instantiate; one element more does not.
    expect(() => new Instance(new Module(wat(`(module (table 600000 funcref) (table 400000 externref))`)))).not.toThrow();
    expect(() => new Instance(new Module(wat(`(module (table 600000 funcref) (table 400001 externref))`)))).toThrow(Exhaustion);
  });

  it('memory.fill over all of memory in a slice of 20,000 (a slice ran the whole fill) does at most 20,000 x 64 bytes per slice, and a snapshot taken inside it restores and finishes alike', () => {
    const module = new Module(wat(`(module (memory 256)
      (func (export "fill") (param $v i32) (result i32)
        (memory.fill (i32.const 0) (local.get $v) (i32.const 16777216))
        (memory.copy (i32.const 3) (i32.const 0) (i32.const 8388608))
        (i32.load (i32.const 16777212))))`));
    const whole = new Instance(module);
    expect(whole.call('fill', [i32(9)])).toEqual({ kind: 'done', results: [i32(0x09090909)] });
    const a = new Instance(module);
    a.fuel = 20_000;
    let out = a.call('fill', [i32(9)]);
    const mem = a.inst.memories[0]!;
    let k = 0;
    while (out.kind === 'out-of-fuel' && k < 5) {
      const filled = mem.bytes().indexOf(0);
      expect(filled).toBeLessThanOrEqual(20_000 * 64 * (k + 1));
      out = a.resume({ fuel: 20_000 });
      k++;
    }
    expect(out.kind).toBe('out-of-fuel');
    // Mid-fill (14 slices of 1,280,000 bytes fill 16 MiB): snapshot, restore, finish in other slices.
    expect(a.machine.part).toBeGreaterThan(0);
    const b = restore(module, snapshot(a));
    let o2 = b.resume({ fuel: 7_777 });
    while (o2.kind === 'out-of-fuel') o2 = b.resume({ fuel: 7_777 });
    while (out.kind === 'out-of-fuel') out = a.resume({ fuel: 20_000 });
    expect(o2).toEqual(out);
    expect(out).toEqual({ kind: 'done', results: [i32(0x09090909)] });
    expect(b.fuelUsed).toBe(whole.fuelUsed);
    expect(a.fuelUsed).toBe(whole.fuelUsed);
    expect(Buffer.from(b.inst.memories[0]!.bytes()).equals(Buffer.from(whole.inst.memories[0]!.bytes()))).toBe(true);
  });
});
