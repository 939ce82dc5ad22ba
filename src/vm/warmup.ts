/**
 * A warm-up for the interpreter's loop (`run` in interp.ts).
 *
 * V8 compiles `run` (in the background: 0.3 s to several seconds on a loaded
 * machine) with the type feedback it has when the loop becomes hot. A path
 * that had not run by then has no feedback, so when a guest later reaches it
 * the compiled code is thrown away ("Insufficient type feedback", "wrong call
 * target", "out of bounds") and every guest runs 10-200 times slower until V8
 * has compiled it again. The warm-up runs every path a guest can reach, rare
 * ends first (traps, waits, lowering at a call in two instances, tail calls,
 * bulk instructions paid in parts, a module without memory), then every
 * internal opcode (src/vm/warmup/warmup.wat, made by scripts/build-warmup.mjs)
 * over operands that are large, negative, non-finite and equal, with the
 * finite fuel and the slices of a hive. test/attacks/README.md ("The JIT")
 * has the deoptimizations this removed and how they were found.
 */
import { Module } from './module.js';
import { Instance } from './instance.js';
import { i32, toJs, type Value } from './values.js';
import { Func, Suspend } from './runtime.js';
import { ValType } from './types.js';
import { Trap } from './errors.js';
import type { Outcome } from './api.js';
import { WARMUP_BARE_WASM, WARMUP_WASM } from './warmup/warmup-wasm.js';

let warmed = false;

/** Bytes of a base64 string. */
function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** @internal The warm-up module (compiled anew on each call). */
export function warmUpModule(tier: 'interpreter' | 'compiled' = 'interpreter'): Module {
  return new Module(fromBase64(WARMUP_WASM), { features: { multiMemory: true, tailCall: true }, tier });
}

/**
 * The warm-up module's imports: a host function that answers, one that
 * traps, one that waits. `fast`: as `Func.hostI32` functions, called with
 * plain numbers (a hive's imports are; the loop compiled having seen only
 * the other kind was dropped at a hive's first import: measured, the
 * ping-pong benchmark then ran at half speed in some processes).
 */
function warmUpImports(fast = false) {
  const type = { params: [ValType.i32], results: [ValType.i32] };
  const answer = (x: number): number => x;
  const trap = (): never => {
    throw new Trap('warm-up: a host function that traps');
  };
  const wait = (): Suspend => new Suspend('warm-up');
  return {
    warmup: fast
      ? { host: Func.hostI32(type, answer), host_trap: Func.hostI32(type, trap), host_wait: Func.hostI32(type, wait) }
      : { host: answer, host_trap: trap, host_wait: wait },
  };
}

/**
 * Fuel for the warm-up's calls: finite, below the loop's share (FUEL_SLICE in interp.ts), so that
 * the loop's fuel is a heap number as in a hive's slices (the machine's fuel field holds doubles;
 * with Infinity the loop gets a small integer, and V8's feedback on fuel would be too narrow).
 */
const FUEL = 100_000_000;

/** Fuel per slice of `main` (the hive's default slice). */
const SLICE = 20_000;

/** Calls an export that must trap. */
function mustTrap(inst: Instance, name: string, args: Value[]): void {
  if (inst.func(name).invoke(args).kind !== 'trapped') throw new Error(`warm-up: ${name} did not trap`);
}

/** Ends a pausable call: resumes it (with `results` when it waits on the host) until it is done. */
function finish(inst: Instance, out: Outcome, name: string, results: Value[] = []): Extract<Outcome, { kind: 'done' }> {
  for (let n = 0; n < 8 && out.kind !== 'done'; n++) {
    if (out.kind === 'out-of-fuel') out = inst.resume({ fuel: FUEL });
    else if (out.kind === 'waiting') out = inst.resume({ results });
    else break;
  }
  if (out.kind !== 'done') throw new Error(`warm-up: ${name} ended with ${out.kind}`);
  return out as Extract<Outcome, { kind: 'done' }>;
}

/** @internal Runs the warm-up module once; returns `main`'s result. Throws if it did not run as planned. */
export function runWarmUp(rounds = 2): number {
  const inst = new Instance(warmUpModule(), warmUpImports());
  inst.fuel = FUEL;
  // The rare ends first, each once or twice, while the loop is still cold: V8 compiles `run` (in
  // the background) with the feedback it has when the loop becomes hot, in `main` below, so every
  // path must have run by then; one that runs only later costs a deoptimization and a new compile.
  // Deep calls: the value stack grows; then both ways of "call stack exhausted" (call depth, stack
  // bytes), and a tail call's frame past the stack.
  const deep = inst.func('deep').invoke([i32(300)]);
  if (deep.kind !== 'done') throw new Error(`warm-up: deep ended with ${deep.kind}`);
  // (One with a memory limit, as a hive sets: the instances' memories and tables have both kinds of limit field.)
  for (const limits of [{ maxCallDepth: 20 }, { maxStackBytes: 8192, maxMemoryPages: 16 }]) {
    const small = new Instance(inst.module, warmUpImports(), limits);
    small.fuel = FUEL;
    mustTrap(small, 'deep', [i32(300)]);
    if (limits.maxStackBytes !== undefined) mustTrap(small, 'tail_wide', [i32(1)]);
  }
  // Callees lowered at the call (by call and by tail call), tail calls into frames with locals and
  // into a frame larger than the stack so far.
  for (const name of ['lazy', 'tail_locals', 'tail_wide']) finish(inst, inst.call(name, [i32(3)]), name);
  // The same lowering at the call in an instance of another module: each instance's machine has its
  // own `lower` function, and a loop compiled having seen only one would be dropped ("wrong call
  // target") at the first lowering in every new guest.
  const other = new Instance(warmUpModule(), warmUpImports());
  other.fuel = FUEL;
  finish(other, other.call('lazy', [i32(3)]), 'lazy');
  // A module with no memory, table or global (many guests have none).
  const bare = new Instance(new Module(fromBase64(WARMUP_BARE_WASM), { features: { tailCall: true } }), {});
  bare.fuel = FUEL;
  if (toJs(finish(bare, bare.call('main', [i32(50)]), 'bare').results[0]!) !== 51) throw new Error('warm-up: the bare module miscounted');
  // Host functions that wait (a pause at a call and at a tail call) and that trap; of both kinds.
  const fast = new Instance(inst.module, warmUpImports(true));
  fast.fuel = FUEL;
  for (const x of [inst, fast]) {
    for (const name of ['host_wait_call', 'host_wait_tail']) finish(x, x.call(name, [i32(3)]), name, [i32(4)]);
    for (const name of ['host_trap_call', 'host_trap_tail']) mustTrap(x, name, [i32(1)]);
  }
  // call_indirect and return_call_indirect: a null element, past the table, the wrong type.
  for (const name of ['ind_call', 'ind_tail']) for (const i of [15, 40]) mustTrap(inst, name, [i32(i)]);
  for (const name of ['ind_call_type', 'ind_tail_type']) mustTrap(inst, name, [i32(0)]);
  for (const [name, args] of [['trap_unreachable', []], ['trap_oob', [i32(-8)]], ['trap_div', [i32(0)]]] as const) mustTrap(inst, name, [...args]);
  // Bulk instructions that cost more than the fuel at hand (memory.fill 1,024 units, table.fill
  // 512): paid in parts, paused inside, resumed inside; and out of fuel inside a call that cannot pause.
  inst.fuel = 300;
  let bulk = inst.call('bulk', [i32(7)]);
  for (let n = 0; bulk.kind === 'out-of-fuel' && n < 8; n++) bulk = inst.resume({ fuel: 300 });
  finish(inst, bulk, 'bulk');
  inst.fuel = 300;
  mustTrap(inst, 'bulk', [i32(7)]);
  inst.fuel = 50;
  mustTrap(inst, 'deep', [i32(300)]); // out of fuel at a call, where the call cannot pause
  // The compiled tier: the loop calls compiled functions (at a call, and where it enters or resumes one), each a
  // function of its own; a loop compiled having seen one would be dropped ("wrong call target") at the next. So
  // several compiled functions are called from the loop, paused in and resumed (out of fuel, waiting on the host),
  // and trapping.
  const compiled = new Instance(warmUpModule('compiled'), warmUpImports());
  compiled.fuel = FUEL;
  for (const name of ['lazy', 'tail_locals']) finish(compiled, compiled.call(name, [i32(3)]), name);
  for (const name of ['host_wait_call']) finish(compiled, compiled.call(name, [i32(3)]), name, [i32(4)]);
  for (const name of ['ind_call', 'ind_call_type']) mustTrap(compiled, name, [i32(name === 'ind_call' ? 40 : 0)]);
  finish(compiled, compiled.call('deep', [i32(300)]), 'deep (compiled)');
  // (Small functions only: a hive that never compiles should not pay V8 for optimizing big generated ones.)
  compiled.fuel = 50;
  finish(compiled, compiled.call('deep', [i32(300)]), 'deep (compiled, out of fuel)');
  // Every instruction over the operand tables, in slices of SLICE units of fuel as a hive runs
  // guests (paused and resumed: the paths out of the loop and back in, with the fuel a hive gives).
  // One round with host functions called with plain numbers (Func.hostI32), before the loop is hot.
  fast.fuel = FUEL;
  finish(fast, fast.call('main', [i32(1)]), 'main (fast host functions)');
  inst.fuel = 997;
  let out = inst.call('main', [i32(rounds)]);
  for (let n = 0; out.kind === 'out-of-fuel' && n < 10_000; n++) out = inst.resume({ fuel: n < 2 ? 1999 : SLICE });
  return toJs(finish(inst, out, 'main').results[0]!) as number;
}

/**
 * Warms up the interpreter: runs a small module that executes every kind of
 * internal instruction and every rare end of one (tens of milliseconds idle,
 * a few hundred on a loaded machine, once per process; later calls do
 * nothing), so that V8 compiles the interpreter's loop for all of them.
 * Without it, the first guest that reaches a path not seen before makes V8
 * drop the compiled loop and compile it again, which slows every guest down
 * for up to seconds. Worth calling early in a long-lived process (`Hive`
 * calls it); V8 finishes the compile in the background after it returns.
 */
export function warmUp(): void {
  if (warmed) return;
  warmed = true;
  runWarmUp();
}
