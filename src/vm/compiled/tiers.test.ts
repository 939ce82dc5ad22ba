/**
 * The compiled tier agrees with the interpreter: the same results, the same
 * fuel used, the same snapshot bytes at the same cut, the same traps with
 * the same wasm stacks, whichever tier ran and wherever a run was cut and
 * moved to the other tier. (The spec suite with every function compiled is
 * in test/spec.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Instance, Memory, Module, Suspend, i32, i64, restore, snapshot, snapshotHostState, toJs, type Features, type Outcome } from '../index.js';
import { compileFunction, MAX_NEST, SKIP_INIT } from './compile.js';
import { funcTypeOf } from '../types.js';
import { Wasi, WasiExit } from '../../bindings/index.js';
import { programBytes } from '../../../test/programs/harness.js';
import { wat } from '../../../test/helpers/wat.js';
import { kernelsDir, KERNELS } from '../../bench/kernels.js';
import { localTypes, type Tier } from './index.js';
import { ROOT_SLICE } from '../interp.js';

const TIERS: readonly Tier[] = ['interpreter', 'auto', 'compiled'];
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Ending {
  stdout: string;
  exit: number | string;
  memory: Buffer;
  used: number;
  /** Snapshot bytes at each cut, in order. */
  snaps: Uint8Array[];
}

/**
 * Runs a WASI program to its end; at each cut (fuel counts) it snapshots,
 * restores into a fresh module of the next tier in `tiers` (cycling), and goes on.
 */
function runCut(name: string, cuts: readonly number[], tiers: readonly Tier[]): Ending {
  const bytes = programBytes(name);
  const out: Uint8Array[] = [];
  const io = { stdout: (b: Uint8Array) => out.push(b.slice()), stderr: () => {} };
  let wasi = new Wasi({ args: [name], env: {}, seed: 7, ...io });
  let t = 0;
  let inst = new Instance(new Module(bytes, { tier: tiers[t++ % tiers.length] }), wasi.imports);
  const bind = (): void => {
    const i = inst;
    wasi.bind(i.getExport('memory') as Memory, () => i.fuelUsed);
  };
  bind();
  const left = [...cuts];
  const snaps: Uint8Array[] = [];
  inst.fuel = left.length > 0 ? left.shift()! : Infinity;
  let o: Outcome = inst.call('_start');
  while (o.kind === 'out-of-fuel') {
    const snap = snapshot(inst, { host: { wasi: wasi.save() } });
    snaps.push(snap);
    wasi.close();
    wasi = Wasi.restore(snapshotHostState(snap)['wasi'], io);
    inst = restore(new Module(bytes, { tier: tiers[t++ % tiers.length] }), snap, wasi.imports);
    bind();
    o = inst.resume({ fuel: left.length > 0 ? left.shift()! : Infinity });
  }
  wasi.close();
  const exit = o.kind === 'done' ? 0 : o.kind === 'trapped' ? (o.trap instanceof WasiExit ? o.trap.code : o.trap.message) : o.kind;
  return { stdout: Buffer.concat(out).toString('utf8'), exit, memory: Buffer.from((inst.getExport('memory') as Memory).bytes()), used: inst.fuelUsed, snaps };
}

const PROGRAMS = ['compute', 'qsort', 'i64', 'float', 'recurse', 'hello'];

describe('the compiled tier runs C programs as the interpreter does', () => {
  const whole = new Map(PROGRAMS.map((p) => [p, runCut(p, [], ['interpreter'])] as const));

  it.each(PROGRAMS)('%s: same output, exit, memory and fuel in every tier', (name) => {
    const w = whole.get(name)!;
    expect(typeof w.exit, String(w.exit)).toBe('number');
    for (const tier of ['auto', 'compiled'] as const) {
      const e = runCut(name, [], [tier]);
      expect(e.exit, tier).toEqual(w.exit);
      expect(e.stdout, tier).toEqual(w.stdout);
      expect(e.used, tier).toEqual(w.used);
      expect(e.memory.equals(w.memory), tier).toBe(true);
    }
  });

  it.each(PROGRAMS)('%s: cut at random instruction counts and moved between tiers, it ends as an uninterrupted run', (name) => {
    const w = whole.get(name)!;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: Math.max(2, Math.floor(w.used / 3)) }), { minLength: 1, maxLength: 4 }),
        fc.shuffledSubarray([...TIERS], { minLength: 2 }),
        (cuts, tiers) => {
          const e = runCut(name, cuts, tiers);
          expect(e.exit).toEqual(w.exit);
          expect(e.stdout).toEqual(w.stdout);
          expect(e.used).toEqual(w.used);
          expect(e.memory.equals(w.memory)).toBe(true);
        },
      ),
      { numRuns: name === 'compute' ? 4 : 10 },
    );
  }, 120_000);

  it.each(PROGRAMS)('%s: the snapshot at a cut has the same bytes whichever tier ran up to it', (name) => {
    const w = whole.get(name)!;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: Math.max(2, Math.floor(w.used / 3)) }), { minLength: 1, maxLength: 3 }), (cuts) => {
        const a = runCut(name, cuts, ['interpreter']);
        const b = runCut(name, cuts, ['compiled']);
        expect(b.snaps.length).toBe(a.snaps.length);
        for (let i = 0; i < a.snaps.length; i++) expect(Buffer.from(b.snaps[i]!).equals(Buffer.from(a.snaps[i]!)), `snapshot ${i}`).toBe(true);
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});

describe('what the compiled tier compiles', () => {
  /** Every defined function of a module: compiled, or why not. */
  function compileAll(bytes: Uint8Array, features?: Features): string[] {
    let mod: Module;
    try {
      mod = new Module(bytes, { features });
    } catch {
      return []; // an invalid module of the spec suite
    }
    const ast = mod.ast;
    const out: string[] = [];
    for (let d = 0; d < ast.funcs.length; d++) {
      const fn = d + ast.numImportedFuncs;
      const types = [...funcTypeOf(ast, fn).params];
      for (const l of ast.codes[d]!.locals) for (let i = 0; i < l.count; i++) types.push(l.type);
      const r = compileFunction(mod.lower(fn), { fn, numImportedFuncs: ast.numImportedFuncs, localTypes: types });
      if (!r.ok) out.push(`func ${fn}: ${r.reason}`);
      // Structured flow is the fast shape: a function that falls back to the switch would be a silent slowdown.
      else if (r.source.includes('sw: switch')) out.push(`func ${fn}: the switch shape`);
    }
    return out;
  }

  // What broke: generated code with a syntax error (i64 shifts) made new Function throw, and the function silently
  // stayed interpreted: the spec suite and the kernels passed, only slower.
  it('regression: every function of the kernels, C programs, test guests, examples and spec modules compiles, with structured flow (tail calls and giants aside)', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.wasm')) files.push(join(dir, e.name));
      }
    };
    for (const dir of ['bench/kernels', 'bench/coremark', 'test/programs', 'test/guests', 'examples', 'test/spec-suite']) walk(join(ROOT, dir));
    expect(files.length).toBeGreaterThan(1_000);
    const failed: string[] = [];
    for (const f of files) {
      const features = { multiMemory: true, tailCall: true, extendedConst: true } as Features;
      for (const why of compileAll(readFileSync(f), features)) if (!/tail call|words of code/.test(why)) failed.push(`${f}: ${why}`);
    }
    expect(failed.slice(0, 20)).toEqual([]);
  }, 120_000);
});

describe('regressions of the compiled tier', () => {
  it('regression: a call going on from the explicit frames kept its fuel by settling it into a reserve in debt (hello cut at 260 paused elsewhere)', () => {
    const a = runCut('hello', [260], ['interpreter']);
    const b = runCut('hello', [260], ['compiled']);
    expect(Buffer.from(b.snaps[0]!).equals(Buffer.from(a.snaps[0]!))).toBe(true);
  });

  it('regression: a function returning several values wrote its locals back over its results (found by the fuzz corpus on the compiled tier)', () => {
    const bytes = wat(`(module (func (export "three") (param i32) (result f64 i64 i32) (local f64 i64)
      (local.set 1 (f64.const 2.5)) (local.set 2 (i64.const 7)) (local.set 0 (i32.const 9))
      (f64.const 65424) (i64.const 123) (i32.const -105)))`);
    for (const tier of ['interpreter', 'compiled'] as const) {
      const o = new Instance(new Module(bytes, { tier }), {}).call('three', [i32(1)]);
      if (o.kind !== 'done') throw new Error(o.kind);
      expect(o.results.map(toJs), tier).toEqual([65424, 123n, -105]);
    }
  });

  it('regression: a callee that grew the stack and paused left its compiled callers writing their locals into the old stack', () => {
    // Each frame keeps a local (n * 7) live across its call; the stack (1 KiB to start) grows on the way down.
    const bytes = wat(`(module (import "host" "wait" (func $wait (result i32)))
      (func $down (export "down") (param $n i32) (result i32) (local $keep i32)
        (local.set $keep (i32.mul (local.get $n) (i32.const 7)))
        (if (result i32) (i32.eqz (local.get $n))
          (then (call $wait))
          (else (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (local.get $keep))))))`);
    const imports = { host: { wait: () => new Suspend('bottom') } };
    const runs = (['interpreter', 'compiled'] as const).map((tier) => {
      const inst = new Instance(new Module(bytes, { tier }), imports);
      expect(inst.call('down', [i32(300)]).kind).toBe('waiting');
      const snap = snapshot(inst);
      const r = restore(new Module(bytes, { tier: tier === 'compiled' ? 'interpreter' : 'compiled' }), snap, imports).resume({ results: [i32(1)] });
      if (r.kind !== 'done') throw new Error(r.kind);
      return { snap: Buffer.from(snap), result: toJs(r.results[0]!) };
    });
    expect(runs[0]!.result).toBe(1 + (7 * 300 * 301) / 2);
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('the root of a chain of compiled frames, called again when its fuel share is spent', () => {
  // A loop of about 3 x ROOT_SLICE fuel in one call: the compiled root returns (UW_AGAIN) and is called again at
  // the run it stopped before, three times or so; locals of every kind live across those returns.
  const bytes = wat(`(module (memory 1)
    (func (export "spin") (param $n i32) (result i64) (local $i i32) (local $a i64) (local $x f64) (local $y f32)
      (local.set $x (f64.const 1.5)) (local.set $y (f32.const 0.25))
      (loop $l
        (local.set $a (i64.add (i64.mul (local.get $a) (i64.const 6364136223846793005)) (i64.extend_i32_u (local.get $i))))
        (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.999)) (f64.convert_i32_s (local.get $i))))
        (local.set $y (f32.add (local.get $y) (f32.const 1)))
        (i32.store (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc)) (local.get $i))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (i64.add (local.get $a) (i64.add (i64.trunc_sat_f64_s (local.get $x)) (i64.trunc_sat_f32_s (local.get $y))))))`);
  const N = 2_500_000;

  it('gives the interpreter\'s result and fuel, run whole', () => {
    const runs = (['interpreter', 'compiled'] as const).map((tier) => {
      const inst = new Instance(new Module(bytes, { tier }), {});
      inst.fuel = 1e9;
      const o = inst.call('spin', [i32(N)]);
      if (o.kind !== 'done') throw new Error(`${tier}: ${o.kind}`);
      return { result: toJs(o.results[0]!), used: inst.fuelUsed };
    });
    expect(runs[0]!.used).toBeGreaterThan(3 * ROOT_SLICE);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('pauses where the interpreter does, with the same snapshot bytes, at cuts around the ends of its shares', () => {
    const cuts = [ROOT_SLICE - 3, 1, ROOT_SLICE + 5, 7, ROOT_SLICE - 1];
    const runs = (['interpreter', 'compiled'] as const).map((tier) => {
      const inst = new Instance(new Module(bytes, { tier }), {});
      const snaps: Buffer[] = [];
      const left = [...cuts];
      inst.fuel = left.shift()!;
      let o = inst.call('spin', [i32(N)]);
      while (o.kind === 'out-of-fuel') {
        snaps.push(Buffer.from(snapshot(inst)));
        o = inst.resume({ fuel: left.length > 0 ? left.shift()! : 1e9 });
      }
      if (o.kind !== 'done') throw new Error(`${tier}: ${o.kind}`);
      return { snaps, used: inst.fuelUsed, result: toJs(o.results[0]!) };
    });
    expect(runs[1]!.snaps.length).toBe(cuts.length);
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('the compiled tier runs the benchmark kernels as the interpreter does', () => {
  it.each(KERNELS.map((k) => k.name))('%s: same result and fuel, run whole and in slices of random sizes', (name) => {
    const k = KERNELS.find((x) => x.name === name)!;
    const bytes = readFileSync(join(kernelsDir(), `${name}.wasm`));
    const run = (tier: Tier, slices: number[]): { result: unknown; used: number } => {
      const inst = new Instance(new Module(bytes, { tier }), {});
      const left = [...slices];
      inst.fuel = left.length > 0 ? left.shift()! : Infinity;
      let o = inst.call('run', [i32(k.testN)]);
      while (o.kind === 'out-of-fuel') o = inst.resume({ fuel: left.length > 0 ? left.shift()! : 1 + (inst.fuelUsed % 997) });
      if (o.kind !== 'done') throw new Error(`${name} (${tier}): ${o.kind}`);
      return { result: toJs(o.results[0]!), used: inst.fuelUsed };
    };
    const w = run('interpreter', []);
    for (const tier of ['auto', 'compiled'] as const) expect(run(tier, []), tier).toEqual(w);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 20 }), (slices) => {
        expect(run('compiled', slices)).toEqual(w);
      }),
      { numRuns: 5 },
    );
  }, 60_000);
});

describe('traps, pauses and deep calls in compiled code', () => {
  const calls = wat(`(module
    (import "host" "wait" (func $wait (param i32) (result i32)))
    (memory 1)
    (func $inner (param i32) (result i32)
      (if (i32.eqz (local.get 0)) (then (unreachable)))
      (i32.load (i32.mul (local.get 0) (i32.const 65536))))
    (func $middle (export "middle") (param i32) (result i32)
      (i32.add (call $inner (local.get 0)) (i32.const 1)))
    (func (export "outer") (param i32) (result i32)
      (i32.mul (call $middle (local.get 0)) (i32.const 2)))
    (func $down (export "down") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
    (func (export "waits") (param i32) (result i32)
      (local i32)
      (local.set 1 (i32.const 10))
      (i32.add (call $wait (local.get 0)) (local.get 1))))`);
  const imports = { host: { wait: (x: number) => (x === 0 ? new Suspend('test') : x * 3) } };

  it('a trap in a compiled callee has the interpreter\'s message and wasm stack', () => {
    for (const arg of [0, 5]) {
      const traps = (['interpreter', 'compiled'] as const).map((tier) => {
        const o = new Instance(new Module(calls, { tier }), imports).call('outer', [i32(arg)]);
        expect(o.kind).toBe('trapped');
        if (o.kind !== 'trapped') throw new Error('no trap');
        return { message: o.trap.message, stack: o.trap.wasmStack };
      });
      expect(traps[1]).toEqual(traps[0]);
      expect(traps[0]!.stack.map((f) => f.name)).toEqual(['inner', 'middle', 'outer']);
    }
  });

  it('recursion far deeper than the JS stack allows runs in compiled code, and the depth limit is the interpreter\'s', () => {
    for (const tier of ['interpreter', 'compiled'] as const) {
      const inst = new Instance(new Module(calls, { tier }), imports);
      const o = inst.call('down', [i32(150_000)]);
      expect(o.kind, tier).toBe('done');
      if (o.kind === 'done') expect(toJs(o.results[0]!), tier).toBe(150_000);
    }
    const limits = (['interpreter', 'compiled'] as const).map((tier) => {
      const o = new Instance(new Module(calls, { tier }), imports, { maxCallDepth: 5_000 }).call('down', [i32(10_000)]);
      if (o.kind !== 'trapped') throw new Error(`${tier}: ${o.kind}`);
      return { message: o.trap.message, frames: o.trap.wasmStack.length, used: 0 };
    });
    expect(limits[1]).toEqual(limits[0]);
    expect(limits[0]!.message).toBe('call stack exhausted');
  });

  it('recursion past the JS stack budget (going on from the explicit frames) pauses where the interpreter does, with the same snapshot bytes', () => {
    // 'down' 3,000 deep: the chain of compiled frames reaches JS_STACK_BUDGET a few times (UW_DEEP), and the loop
    // goes on with the chain's fuel share (run's `share`). Cut at random fuel counts, metered all along.
    const full = new Instance(new Module(calls, { tier: 'interpreter' }), imports);
    full.fuel = 1e9;
    expect(full.call('down', [i32(3_000)]).kind).toBe('done');
    const total = full.fuelUsed;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: Math.floor(total / 2) }), { minLength: 1, maxLength: 4 }), (cuts) => {
        const runs = (['interpreter', 'compiled'] as const).map((tier) => {
          const inst = new Instance(new Module(calls, { tier }), imports);
          const snaps: Buffer[] = [];
          const left = [...cuts];
          inst.fuel = left.shift()!;
          let o = inst.call('down', [i32(3_000)]);
          while (o.kind === 'out-of-fuel') {
            snaps.push(Buffer.from(snapshot(inst)));
            o = inst.resume({ fuel: left.length > 0 ? left.shift()! : 1e9 });
          }
          if (o.kind !== 'done') throw new Error(`${tier}: ${o.kind}`);
          return { snaps, used: inst.fuelUsed, result: toJs(o.results[0]!) };
        });
        expect(runs[1]).toEqual(runs[0]);
      }),
      { numRuns: 8 },
    );
  });

  it('operand slots kept in variables leave S as the interpreter does (dead words included): pauses after calls and cuts at random fuel', () => {
    // The callee writes operand slots of every kind above its caller's call base; the caller keeps values in
    // operand slots across its calls (in a loop of one block and a loop of several), then waits on the host.
    const bytes = wat(`(module (import "host" "wait" (func $wait (param i32) (result i32)))
      (func $leaf (param i32) (result i32) (local i64 f64)
        (local.set 1 (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 0x123456789)))
        (local.set 2 (f64.mul (f64.convert_i32_s (local.get 0)) (f64.const 1.5)))
        (drop (i64.rem_u (local.get 1) (i64.const 1000003)))
        (drop (f64.add (local.get 2) (f64.const 0.25)))
        (i32.add (i32.wrap_i64 (i64.shr_u (local.get 1) (i64.const 7))) (i32.trunc_f64_s (local.get 2))))
      (func (export "go") (param i32) (result i32) (local i32 f64 i64)
        (loop
          (local.set 2 (f64.add (local.get 2) (f64.convert_i32_s (i32.add (i32.const 5) (call $leaf (local.get 1))))))
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
        (loop
          (local.set 3 (i64.add (local.get 3) (i64.mul (i64.extend_i32_u (local.get 1)) (i64.const 3))))
          (if (i32.and (local.get 1) (i32.const 1)) (then (local.set 3 (i64.rotl (local.get 3) (i64.const 5)))))
          (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
          (br_if 0 (local.get 1)))
        (i32.add (call $wait (i32.wrap_i64 (i64.add (local.get 3) (i64.trunc_f64_s (local.get 2))))) (i32.const 3))))`);
    const imports = { host: { wait: () => new Suspend('w') } };
    const full = new Instance(new Module(bytes, { tier: 'interpreter' }), imports);
    full.fuel = 1e9;
    expect(full.call('go', [i32(60)]).kind).toBe('waiting');
    const total = full.fuelUsed;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: total }), { maxLength: 3 }), (cuts) => {
        const runs = (['interpreter', 'compiled'] as const).map((tier) => {
          const inst = new Instance(new Module(bytes, { tier }), imports);
          const snaps: Buffer[] = [];
          const left = [...cuts];
          inst.fuel = left.length > 0 ? left.shift()! : 1e9;
          let o = inst.call('go', [i32(60)]);
          while (o.kind === 'out-of-fuel') {
            snaps.push(Buffer.from(snapshot(inst)));
            o = inst.resume({ fuel: left.length > 0 ? left.shift()! : 1e9 });
          }
          expect(o.kind).toBe('waiting');
          snaps.push(Buffer.from(snapshot(inst)));
          const r = inst.resume({ results: [i32(100)] });
          if (r.kind !== 'done') throw new Error(`${tier}: ${r.kind}`);
          return { snaps, used: inst.fuelUsed, result: toJs(r.results[0]!) };
        });
        expect(runs[1]).toEqual(runs[0]);
      }),
      { numRuns: 10 },
    );
  });

  it('a compiled frame waiting on the host pauses, snapshots and resumes as the interpreter\'s', () => {
    const runs = (['interpreter', 'compiled'] as const).map((tier) => {
      const inst = new Instance(new Module(calls, { tier }), imports);
      // Hot first, so that 'waits' is compiled before it pauses.
      for (let i = 1; i < 4; i++) inst.call('waits', [i32(i)]);
      const o = inst.call('waits', [i32(0)]);
      expect(o.kind).toBe('waiting');
      const snap = snapshot(inst);
      const back = restore(new Module(calls, { tier }), snap, imports);
      const r = back.resume({ results: [i32(32)] });
      if (r.kind !== 'done') throw new Error(`${tier}: ${r.kind}`);
      return { snap: Buffer.from(snap), result: toJs(r.results[0]!), used: back.fuelUsed };
    });
    expect(runs[1]!.result).toBe(42);
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('the two shapes of generated code', () => {
  // Loops, forward branches, a br_table and a call inside a loop: every kind of branch of both shapes.
  const bytes = wat(`(module (memory 1)
    (func $f (export "f") (param $n i32) (result i32) (local $i i32) (local $acc i32)
      (block $out
        (loop $l
          (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
          (block $b3 (block $b2 (block $b1 (block $b0
            (br_table $b0 $b1 $b2 $b3 (i32.and (local.get $i) (i32.const 3))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 1))) (br $b3))
            (local.set $acc (i32.mul (local.get $acc) (i32.const 3))) (br $b3))
            (local.set $acc (call $g (local.get $acc))))
          (i32.store (i32.const 0) (local.get $acc))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (local.get $acc))
    (func $g (param i32) (result i32)
      (if (result i32) (i32.gt_u (local.get 0) (i32.const 1000)) (then (i32.shr_u (local.get 0) (i32.const 1))) (else (i32.add (local.get 0) (i32.const 7))))))`);

  /** A module whose functions are compiled in `shape` before they run (the structured one is the default). */
  function shaped(shape: 'structured' | 'switch' | null): Module {
    const mod = new Module(bytes, { tier: shape === null ? 'interpreter' : 'compiled' });
    if (shape === null) return mod;
    const ast = mod.ast;
    for (let d = 0; d < ast.funcs.length; d++) {
      const fn = d + ast.numImportedFuncs;
      const lw = mod.lower(fn);
      const r = compileFunction(lw, { fn, numImportedFuncs: ast.numImportedFuncs, localTypes: localTypes(ast, fn), shape });
      if (!r.ok) throw new Error(r.reason);
      expect(r.source.includes('sw: switch'), shape).toBe(shape === 'switch');
      (lw as { compiled?: unknown }).compiled = r.fn;
    }
    return mod;
  }

  it('both shapes, cut at every fuel count, leave the interpreter\'s snapshot bytes and end as it does', () => {
    const whole = new Instance(shaped(null), {});
    const o = whole.call('f', [i32(40)]);
    if (o.kind !== 'done') throw new Error(o.kind);
    const used = whole.fuelUsed;
    expect(used).toBeGreaterThan(100);
    let paused = 0;
    for (let k = 1; k < used; k++) {
      const snaps = ([null, 'structured', 'switch'] as const).map((shape) => {
        const inst = new Instance(shaped(shape), {});
        inst.fuel = k;
        // (Fuel is paid a run ahead and a forward branch may give some back: a few counts below `used` end the run.)
        const first = inst.call('f', [i32(40)]);
        if (first.kind === 'done') {
          expect(toJs(first.results[0]!), `${shape} at ${k}`).toBe(toJs(o.results[0]!));
          return Buffer.from(`done ${inst.fuelUsed}`);
        }
        expect(first.kind).toBe('out-of-fuel');
        const snap = snapshot(inst);
        const r = restore(shaped(shape), snap, {}).resume({ fuel: Infinity });
        if (r.kind !== 'done') throw new Error(`${shape} at ${k}: ${r.kind}`);
        expect(toJs(r.results[0]!), `${shape} at ${k}`).toBe(toJs(o.results[0]!));
        return Buffer.from(snap);
      });
      expect(snaps[1]!.equals(snaps[0]!), `structured at ${k}`).toBe(true);
      expect(snaps[2]!.equals(snaps[0]!), `switch at ${k}`).toBe(true);
      if (!snaps[0]!.toString('latin1').startsWith('done')) paused++;
    }
    expect(paused).toBeGreaterThan(used - 20);
  });
});

describe('limits of the structured shape', () => {
  // A call ends a block, so n calls in a row are n + 1 blocks in one sequence: n labelled blocks deep.
  const calls = (n: number): Uint8Array =>
    wat(`(module (global $g (mut i32) (i32.const 0))
      (func $inc (global.set $g (i32.add (global.get $g) (i32.const 1))))
      (func (export "f") (result i32) ${'(call $inc) '.repeat(n)} (global.get $g)))`);

  it.each([MAX_NEST - 2, MAX_NEST + 200])('%i calls in a row: compiled (structured up to the nesting limit, else the switch), they run as interpreted', (n) => {
    const bytes = calls(n);
    const mod = new Module(bytes, { tier: 'compiled' });
    const r = compileFunction(mod.lower(1), { fn: 1, numImportedFuncs: 0, localTypes: [] });
    if (!r.ok) throw new Error(r.reason);
    expect(r.source.includes('sw: switch')).toBe(n + 1 > MAX_NEST);
    for (const tier of ['interpreter', 'compiled'] as const) {
      const inst = new Instance(new Module(bytes, { tier }), {});
      inst.fuel = 1e7;
      const o = inst.call('f');
      if (o.kind !== 'done') throw new Error(`${tier}: ${o.kind}`);
      expect(toJs(o.results[0]!), tier).toBe(n);
    }
  });
});

describe('memory accesses of compiled code (no check of their own: the view of exactly the memory throws)', () => {
  const bytes = wat(`(module (memory (export "mem") 1 4)
    (func (export "st64") (param $a i32) (i64.store (local.get $a) (i64.const -1)))
    (func (export "stf64") (param $a i32) (f64.store (local.get $a) (f64.const -1)))
    (func (export "st32") (param $a i32) (i32.store (local.get $a) (i32.const -1)))
    (func (export "st16") (param $a i32) (i32.store16 (local.get $a) (i32.const -1)))
    (func (export "ld64") (param $a i32) (result i64) (i64.load (local.get $a)))
    (func (export "ld8") (param $a i32) (result i32) (i32.load8_u offset=1 (local.get $a)))
    (func (export "grow") (param $n i32) (result i32) (memory.grow (local.get $n))))`);

  it('a store that reaches past the end traps and writes none of its bytes, at every address near the end, as interpreted', () => {
    for (const f of ['st64', 'stf64', 'st32', 'st16', 'ld64', 'ld8']) {
      for (let a = 65536 - 10; a <= 65536 + 2; a++) {
        const runs = (['interpreter', 'compiled'] as const).map((tier) => {
          const inst = new Instance(new Module(bytes, { tier }), {});
          const o = inst.call(f, [i32(a)]);
          const mem = (inst.getExport('mem') as Memory).bytes();
          return { kind: o.kind, trap: o.kind === 'trapped' ? o.trap.message : '', tail: Buffer.from(mem.subarray(65536 - 16)).toString('hex') };
        });
        expect(runs[1], `${f}(${a})`).toEqual(runs[0]);
      }
    }
  });

  it('after a grow (by the guest or the host), the new pages are reachable and the end moves', () => {
    for (const tier of ['interpreter', 'compiled'] as const) {
      const inst = new Instance(new Module(bytes, { tier }), {});
      expect(inst.call('st32', [i32(70000)]).kind, tier).toBe('trapped');
      const g = inst.call('grow', [i32(1)]);
      if (g.kind !== 'done') throw new Error(g.kind);
      expect(inst.call('st32', [i32(70000)]).kind, tier).toBe('done');
      expect(inst.call('st32', [i32(131072 - 3)]).kind, tier).toBe('trapped');
      (inst.getExport('mem') as Memory).grow(1);
      expect(inst.call('st32', [i32(131072 - 3)]).kind, tier).toBe('done');
      expect(inst.call('st32', [i32(196608 - 3)]).kind, tier).toBe('trapped');
    }
  });
});

describe('calls that skip the words their callee writes at entry (SKIP_INIT)', () => {
  // $f's entry words (six locals it never writes: 12 words) are still in place when it is called again from the
  // same place with nothing called between (the third loop skips them); $g, called between at the same base,
  // writes its locals over them, so that the next call of $f must write them again (a caller that skipped them
  // whenever anything had been called since fails this at the 47th fuel count); a host call between two calls
  // resets it as any other call does. Cut at every fuel count, the snapshots (which hold the
  // frames' words, dead ones too) must be the interpreter's.
  const bytes = wat(`(module (import "host" "three" (func $three (result i32 i32 i32)))
    (func $f (param $x i32) (result i32) (local i32 i32 i32 i32 i32 i32)
      (i32.add (i32.mul (local.get $x) (i32.const 3)) (i32.const 7)))
    (func $g (param $x i32) (result i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local i32 i32 i32 i32)
      (local.set $a (i32.const 11)) (local.set $b (i32.const 12)) (local.set $c (i32.const 13)) (local.set $d (i32.const 14))
      (i32.add (local.get $x) (i32.add (i32.add (local.get $a) (local.get $b)) (i32.add (local.get $c) (local.get $d)))))
    (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
      ;; a host call between two calls from one place
      (loop $l
        (local.set $s (call $f (local.get $i)))
        (call $three) (drop) (drop) (local.set $s (i32.add (local.get $s)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      ;; $g's locals over them
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $f (local.get $i))))
        (local.set $s (i32.add (local.get $s) (call $g (local.get $i))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      ;; nothing between: skipped
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $f (local.get $i))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.get $s)))`);
  const imports = { host: { three: () => [i32(101), i32(102), i32(103)] } };

  it('the compiled run skips them where it may, and leaves the interpreter\'s snapshot bytes at every fuel count', () => {
    const mod = new Module(bytes, { tier: 'compiled' });
    const src = (fn: number): string => {
      const r = compileFunction(mod.lower(fn), { fn, numImportedFuncs: mod.ast.numImportedFuncs, localTypes: localTypes(mod.ast, fn) });
      if (!r.ok) throw new Error(r.reason);
      return r.source;
    };
    // The caller passes SKIP_INIT at its calls of $f, and $f has entry words to skip.
    expect(src(3)).toContain(`? ${SKIP_INIT} : 0`);
    expect(src(1)).toContain(`if (entry === 0) {`);
    const whole = new Instance(new Module(bytes, { tier: 'interpreter' }), imports);
    const o = whole.call('run', [i32(3)]);
    if (o.kind !== 'done') throw new Error(o.kind);
    const used = whole.fuelUsed;
    for (let k = 1; k < used; k++) {
      const snaps = (['interpreter', 'compiled'] as const).map((tier) => {
        const inst = new Instance(new Module(bytes, { tier }), imports);
        inst.fuel = k;
        const first = inst.call('run', [i32(3)]);
        if (first.kind === 'done') return Buffer.from(`done ${toJs(first.results[0]!)}`);
        expect(first.kind).toBe('out-of-fuel');
        return Buffer.from(snapshot(inst));
      });
      expect(snaps[1]!.equals(snaps[0]!), `at ${k}`).toBe(true);
    }
  });
});

describe('select without a branch (a mask from the condition)', () => {
  const bytes = wat(`(module
    (func (export "sel64") (param $c i32) (param $a i64) (param $b i64) (result i64) (select (local.get $a) (local.get $b) (local.get $c)))
    (func (export "sel32") (param $c i32) (param $a i32) (param $b i32) (result i32) (select (local.get $a) (local.get $b) (local.get $c))))`);
  const insts = (['interpreter', 'compiled'] as const).map((tier) => new Instance(new Module(bytes, { tier }), {}));

  it('property: any condition (0, INT_MIN, -1 among them) picks as interpreted', () => {
    const cond = fc.oneof(fc.constantFrom(0, 1, -1, -2147483648, 2147483647), fc.integer({ min: -2147483648, max: 2147483647 }));
    fc.assert(
      fc.property(cond, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.integer({ min: -2147483648, max: 2147483647 }), (c, a, b, x) => {
        const got = insts.map((inst) => {
          const o64 = inst.call('sel64', [i32(c), i64(a), i64(b)]);
          const o32 = inst.call('sel32', [i32(c), i32(x), i32(~x)]);
          if (o64.kind !== 'done' || o32.kind !== 'done') throw new Error('trapped');
          return [toJs(o64.results[0]!), toJs(o32.results[0]!)];
        });
        expect(got[1]).toEqual(got[0]);
        expect(got[0]).toEqual([c !== 0 ? a : b, c !== 0 ? x : ~x]);
      }),
      { numRuns: 300 },
    );
  });
});
