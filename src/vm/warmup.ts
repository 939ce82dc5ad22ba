/**
 * A warm-up for the interpreter's loop (`run` in interp.ts).
 *
 * V8 optimizes `run` with the type feedback of whatever code ran first. A
 * `case` that never ran has no feedback, so when a guest later reaches it the
 * optimized code is thrown away ("Insufficient type feedback") and the huge
 * function runs unoptimized until V8 has compiled it again, for tens to
 * hundreds of milliseconds. Running a small module that executes every
 * internal opcode (src/vm/warmup/warmup.wat, made by scripts/build-warmup.mjs),
 * with large, negative and non-finite operands so that the feedback is general,
 * before `run` is first optimized avoids that.
 */
import { Module } from './module.js';
import { Instance } from './instance.js';
import { i32, toJs } from './values.js';
import { WARMUP_WASM } from './warmup/warmup-wasm.js';

let warmed = false;

/** @internal The warm-up module (compiled anew on each call). */
export function warmUpModule(): Module {
  const bin = atob(WARMUP_WASM);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Module(bytes, { features: { multiMemory: true, tailCall: true } });
}

/** @internal Runs the warm-up module once; returns `main`'s result. Throws if it did not run as planned. */
export function runWarmUp(rounds = 2): number {
  const inst = new Instance(warmUpModule(), { warmup: { host: (x: number) => x } });
  // Paused and resumed (out of fuel) a few times: the paths out of the loop and back in.
  inst.fuel = 997;
  let out = inst.call('main', [i32(rounds)]);
  for (let n = 0; out.kind === 'out-of-fuel' && n < 3; n++) out = inst.resume({ fuel: n < 2 ? 1999 : Infinity });
  if (out.kind === 'out-of-fuel') out = inst.resume({ fuel: Infinity });
  if (out.kind !== 'done') throw new Error(`warm-up: main ended with ${out.kind}`);
  // Traps, once each.
  for (const [name, args] of [['trap_unreachable', []], ['trap_oob', [i32(-8)]], ['trap_div', [i32(0)]]] as const) {
    const r = inst.func(name).invoke([...args]);
    if (r.kind !== 'trapped') throw new Error(`warm-up: ${name} did not trap`);
  }
  // Deep calls: the value stack grows; then both ways of "call stack exhausted" (call depth, stack bytes).
  const deep = inst.func('deep').invoke([i32(300)]);
  if (deep.kind !== 'done') throw new Error(`warm-up: deep ended with ${deep.kind}`);
  for (const limits of [{ maxCallDepth: 20 }, { maxStackBytes: 8192 }]) {
    const small = new Instance(inst.module, { warmup: { host: (x: number) => x } }, limits);
    if (small.func('deep').invoke([i32(300)]).kind !== 'trapped') throw new Error('warm-up: deep did not exhaust the stack');
  }
  return toJs(out.results[0]!) as number;
}

/**
 * Warms up the interpreter: runs a small module that executes every kind of
 * internal instruction once or a few times (a few milliseconds, once per
 * process; later calls do nothing), so that V8 optimizes the interpreter's
 * loop for all of them. Without it, the first guest that uses an instruction
 * not seen before makes V8 drop the optimized loop and compile it again,
 * which slows every guest down for up to a few hundred milliseconds. Worth
 * calling early in a long-lived process (`Hive` calls it).
 */
export function warmUp(): void {
  if (warmed) return;
  warmed = true;
  runWarmUp();
}
