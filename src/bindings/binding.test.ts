/**
 * The binding contract: imports are built per caller, so a host function
 * learns who calls it; the imports of several bindings are put together,
 * and two bindings claiming one module are refused; WASI follows the
 * contract, and its state goes through save() and restore() as plain data.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Instance, LinkError, Memory, Trap, ValType, instantiate, type Value } from '../vm/index.js';
import { wat } from '../../test/helpers/wat.js';
import { bindingImports, hostBinding, hostFunction, type Binding, type BindingContext, type LogLevel } from './binding.js';
import { Wasi, WasiStateError } from './wasi/index.js';

/** A caller for tests: an instance the test makes after the imports (as a host does), its fuel counted by the engine. */
class TestCaller implements BindingContext {
  inst: Instance | null = null;
  charged = 0;
  /** Fuel of the runs before this instance (a restored guest's fuel goes on). */
  fuelBefore = 0;
  readonly lines: [LogLevel, string][] = [];
  readonly clock = { now: () => 1_700_000_000_000 };
  readonly random = { fill: (b: Uint8Array) => b.fill(7), float: () => 0.5 };
  readonly logger = { log: (level: LogLevel, msg: string) => void this.lines.push([level, msg]) };

  constructor(readonly caller: number) {}

  memory(): Memory {
    const m = this.inst?.getExport('memory');
    if (!(m instanceof Memory)) throw new Trap('the caller exports no memory named "memory"');
    return m;
  }

  charge(units: number): void {
    this.charged += Math.ceil(units);
    this.inst?.charge(Math.ceil(units));
  }

  fuelUsed(): number {
    return this.fuelBefore + (this.inst?.fuelUsed ?? 0);
  }
}

const i32 = (value: number): Value => ({ type: 'i32', value });

describe('a host function knows its caller', () => {
  const WHO = wat(`(module
    (import "app" "whoami" (func $who (result i32)))
    (import "app" "poke" (func $poke (param i32)))
    (memory (export "memory") 1)
    (func (export "who") (result i32) (call $who))
    (func (export "poke") (param i32) (call $poke (local.get 0))))`);

  /** Two functions: the caller's id, and writing 0xAB into the caller's memory at an address (paying 5 units). */
  const app = hostBinding('app', 'app', {
    whoami: hostFunction({ params: [], results: [ValType.i32] }, (ctx) => [i32(ctx.caller)]),
    poke: hostFunction({ params: [ValType.i32], results: [] }, (ctx, args) => {
      ctx.charge(5);
      ctx.memory().u8[(args[0] as { value: number }).value] = 0xab;
      return [];
    }),
  });

  it('each caller gets functions bound to its own context: its id, its memory, its fuel', () => {
    const a = new TestCaller(7);
    const b = new TestCaller(42);
    a.inst = instantiate(WHO, bindingImports([app], a));
    b.inst = instantiate(WHO, bindingImports([app], b));
    const who = (c: TestCaller) => {
      const out = c.inst!.func('who').invoke([]);
      if (out.kind !== 'done') throw out.trap;
      return (out.results[0] as { value: number }).value;
    };
    expect(who(a)).toBe(7);
    expect(who(b)).toBe(42);
    expect(b.inst.func('poke').invoke([i32(3)]).kind).toBe('done');
    expect((b.inst.getExport('memory') as Memory).u8[3]).toBe(0xab);
    expect((a.inst.getExport('memory') as Memory).u8[3]).toBe(0);
    expect([a.charged, b.charged]).toEqual([0, 5]);
  });

  it('a stateless binding saves as null and refuses a state to restore with a TypeError', () => {
    expect(app.save()).toBeNull();
    expect(() => app.restore(null)).not.toThrow();
    expect(() => app.restore({ x: 1 })).toThrow(TypeError);
  });
});

describe('bindingImports', () => {
  const one = (name: string, module: string): Binding => hostBinding(name, module, { f: hostFunction({ params: [], results: [] }, () => []) });

  it('puts the modules of several bindings together', () => {
    const imports = bindingImports([one('a', 'm1'), one('b', 'm2'), new Wasi()], new TestCaller(1));
    expect(Object.keys(imports).sort()).toEqual(['m1', 'm2', 'wasi_snapshot_preview1']);
  });

  it('refuses two bindings that provide one import module, with a LinkError naming the module and both bindings', () => {
    const run = () => bindingImports([one('first', 'env'), one('second', 'env')], new TestCaller(1));
    expect(run).toThrow(LinkError);
    expect(run).toThrow('the import module "env" is provided by two bindings, "first" and "second"');
  });

  it('refuses two bindings of one name (a snapshot keeps their states by name), with a LinkError', () => {
    const run = () => bindingImports([one('twin', 'm1'), one('twin', 'm2')], new TestCaller(1));
    expect(run).toThrow(LinkError);
    expect(run).toThrow('two bindings are named "twin"');
  });
});

/**
 * A WASI guest with no state of its own between calls: `tick` writes to
 * memory 0..24 the virtual time, 8 random bytes and 8 bytes of stdin, and
 * writes them to stdout; it returns the OR of the errnos.
 */
const TICKER = wat(`(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "\\10\\00\\00\\00\\08\\00\\00\\00")  ;; iovec: 8 bytes at 16 (stdin)
  (data (i32.const 120) "\\00\\00\\00\\00\\18\\00\\00\\00")  ;; iovec: 24 bytes at 0 (to stdout)
  (func (export "tick") (result i32)
    (i32.or (i32.or (i32.or
      (call $clock (i32.const 1) (i64.const 0) (i32.const 0))
      (call $random (i32.const 8) (i32.const 8)))
      (call $read (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
      (call $write (i32.const 1) (i32.const 120) (i32.const 1) (i32.const 204)))))`);

const STDIN = new TextEncoder().encode('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

/** Runs `ticks` ticks of TICKER on a Wasi through the contract; returns the caller (its fuel so far). */
function tick(wasi: Wasi, caller: TestCaller, ticks: number): void {
  caller.inst = instantiate(TICKER, bindingImports([wasi], caller));
  for (let t = 0; t < ticks; t++) {
    const out = caller.inst.func('tick').invoke([]);
    if (out.kind !== 'done') throw out.trap;
    expect((out.results[0] as { value: number }).value).toBe(0);
  }
}

describe('WASI through the contract', () => {
  const options = { seed: 'contract', nsPerUnit: 3, args: ['ticker'], env: { MODE: 'x' } };

  it('charges its host work to the caller and runs its clock on the caller\'s fuel', () => {
    const caller = new TestCaller(5);
    caller.fuelBefore = 1_000_000; // the caller's fuel so far
    const wasi = new Wasi({ ...options, stdin: STDIN });
    tick(wasi, caller, 1);
    expect(caller.charged).toBeGreaterThan(0);
    // The monotonic time the guest read: 3 ns per unit of the caller's fuel (the tick itself used a few hundred units).
    const seen = new DataView((caller.inst!.getExport('memory') as Memory).buffer).getBigUint64(0, true);
    expect(seen).toBeGreaterThanOrEqual(3_000_000n);
    expect(seen).toBeLessThan(3_000_000n + 3n * 10_000n);
    wasi.close();
  });

  it('a save() carried as MessagePack and restore()d into a new Wasi continues exactly as an uninterrupted run', () => {
    const wholeOut: Uint8Array[] = [];
    const whole = new Wasi({ ...options, stdin: STDIN, stdout: (b) => wholeOut.push(b) });
    const wholeCaller = new TestCaller(9);
    tick(whole, wholeCaller, 6);

    const out: Uint8Array[] = [];
    const first = new Wasi({ ...options, stdin: STDIN, stdout: (b) => out.push(b) });
    const caller = new TestCaller(9);
    tick(first, caller, 3);
    const saved = pack(first.save());
    first.close();

    // The host side again (streams), but none of the settings: they come from the state.
    const second = new Wasi({ stdin: STDIN, stdout: (b) => out.push(b) });
    const asBinding: Binding = second; // through the contract, as a host restoring an actor does
    asBinding.restore(unpack(saved));
    caller.fuelBefore = caller.inst!.fuelUsed; // a new instance; the guest's fuel goes on, as a VM snapshot restores it
    tick(second, caller, 3);

    expect(Buffer.concat(out)).toEqual(Buffer.concat(wholeOut));
    expect(second.save()).toEqual(whole.save());
    second.close();
    whole.close();
  });

  it('a state that does not fit is refused with WasiStateError and leaves the Wasi as it was', () => {
    const wasi = new Wasi({ ...options, stdin: STDIN });
    tick(wasi, new TestCaller(1), 1);
    const before = wasi.save();
    expect(() => wasi.restore({ ...before, version: 99 })).toThrow(WasiStateError);
    expect(() => wasi.restore({ ...before, mounts: ['/data'] })).toThrow('the saved state has mount "/data", which this Wasi was not made with');
    expect(() => wasi.restore('not a state')).toThrow(WasiStateError);
    expect(wasi.save()).toEqual(before);
    tick(wasi, new TestCaller(1), 1); // still runs
    wasi.close();
  });
});
