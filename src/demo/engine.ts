/**
 * `wasmhive demo engine`: a short tour of the engine on
 * `examples/engine/demo.wasm`: calls checked against V8's own WebAssembly,
 * a trap with its wasm stack trace, recursion 100,000 deep, the raw
 * `Func.invoke` handle that returns an outcome instead of throwing, and a
 * running call paused by fuel, snapshotted to bytes, restored into a freshly
 * compiled module and finished there.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instance, Module, Trap, i32, readSnapshot, restore, snapshot, type Func } from '../vm/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the demo; returns the exit code. */
export async function main(_argv: string[] = []): Promise<number> {
  const path = join(root, 'examples', 'engine', 'demo.wasm');
  const bytes = readFileSync(path);
  const say = (s = '') => process.stdout.write(s + '\n');

  say(`wasmhive engine demo: ${path}`);
  const t0 = performance.now();
  const module = new Module(bytes);
  // Call depth is a per-instance limit (200,000 by default); this demo raises it.
  const instance = new Instance(module, {}, { maxCallDepth: 2_000_000 });
  say(`compiled and instantiated in ${(performance.now() - t0).toFixed(1)} ms; exports: ${instance.exportNames().join(', ')}`);

  const v8 = (await WebAssembly.instantiate(bytes)).instance.exports as Record<string, (...a: unknown[]) => unknown>;
  const ours = instance.exports as Record<string, (...a: unknown[]) => unknown>;
  let ok = true;
  const check = (label: string, a: unknown, b: unknown) => {
    const same = a === b;
    ok &&= same;
    say(`  ${label.padEnd(22)} wasmhive ${String(a).padEnd(22)} V8 ${String(b)}${same ? '' : '   <-- MISMATCH'}`);
  };

  say('\n1. Calls, compared with V8 running the same bytes:');
  check('fac(20)', ours.fac!(20n), v8.fac!(20n));
  check('squares(10000)', ours.squares!(10000), v8.squares!(10000));
  check('average(100, 7)', ours.average!(100, 7), v8.average!(100, 7));

  say('\n2. A trap is a typed error with the spec message and a wasm stack trace:');
  try {
    ours.average!(1, 0);
    ok = false;
  } catch (e) {
    if (!(e instanceof Trap)) throw e;
    say(`  ${e.name}: ${e.message}`);
    for (const f of e.wasmStack) say(`    at ${f.name} (func ${f.func})`);
  }

  say('\n3. Explicit frames: recursion 100,000 deep does not touch the JS stack:');
  const t1 = performance.now();
  check('depth(100000)', ours.depth!(100_000), 100_000);
  say(`  (${(performance.now() - t1).toFixed(1)} ms; V8's own stack overflows long before 1,000,000: `
    + `${overflows(() => v8.depth!(1_000_000)) ? 'it did' : 'it did not'}; wasmhive at 1,000,000: ${ours.depth!(1_000_000)})`);

  say('\n4. The low-level handle returns an outcome instead of throwing:');
  const average = instance.getExport('average') as Func;
  say(`  invoke([100, 7]) -> ${JSON.stringify(average.invoke([i32(100), i32(7)]))}`);
  const out = average.invoke([i32(1), i32(0)]);
  say(`  invoke([1, 0])   -> { kind: '${out.kind}', trap: '${out.kind === 'trapped' ? out.trap.message : ''}' }`);

  say('\n5. A running call is a value: pause it with fuel, snapshot it, finish it elsewhere:');
  const paused = new Instance(module, {}, { maxCallDepth: 2_000_000 });
  paused.fuel = 300_000;
  const first = paused.call('depth', [i32(100_000)]);
  const bytesOut = snapshot(paused);
  const info = readSnapshot(bytesOut);
  say(`  depth(100000) with 300,000 units of fuel: ${first.kind}, ${info.frames.length.toLocaleString('en')} frames deep`);
  say(`  snapshot: ${bytesOut.length.toLocaleString('en')} bytes (memory, ${info.stackBytes.toLocaleString('en')} bytes of stack, frames, fuel)`);
  const again = restore(new Module(bytes), bytesOut, {}, { maxCallDepth: 2_000_000 });
  const done = again.resume({ fuel: Infinity });
  check('finished after restore', done.kind === 'done' ? (done.results[0] as { value: number }).value : done.kind, 100_000);
  say(`  fuel used in all: ${again.fuelUsed.toLocaleString('en')} units, the same as without the pause: ${countFuel(module) === again.fuelUsed}`);

  say(ok ? '\nAll results agree with V8.' : '\nSome results differ from V8!');
  return ok ? 0 : 1;
}

/** Fuel an uninterrupted depth(100000) uses. */
function countFuel(module: Module): number {
  const i = new Instance(module, {}, { maxCallDepth: 2_000_000 });
  i.call('depth', [i32(100_000)]);
  return i.fuelUsed;
}

function overflows(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return e instanceof RangeError;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
