/**
 * The cost of fuel metering. The interpreter pays for fuel with a
 * subtraction and a check at each branch and call (see chargeRuns in
 * src/vm/lower.ts), and the compiled tier's code does the same. To measure
 * what that costs, this loads a second copy of the built engine with those
 * statements taken out of the interpreter loop and out of the code the
 * compiled tier writes, and times the kernels on both copies in one run,
 * alternating samples, in either tier.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { median } from './measure.js';
import { loadKernelBytes, type Kernel } from './kernels.js';
import type * as Vm from '../vm/index.js';

type VmModule = typeof Vm;
type RunFn = (n: number) => unknown;

/** One kernel timed with and without metering. */
export interface MeteringResult {
  readonly kernel: string;
  readonly n: number;
  /** Median ms of one run(n) on the engine as built (metered: every call counts fuel). */
  readonly meteredMs: number;
  /** Median ms with the metering statements taken out. */
  readonly unmeteredMs: number;
  /** meteredMs / unmeteredMs - 1. */
  readonly cost: number;
}

/** The statements removed: the fuel subtractions and the checks that follow them. */
const STRIP = [/fuel -= [^;]+;/g, /if \(fuel < 0\)\s*break exec;/g];

/**
 * The same in the compiled tier's generator (compile.js: the templates of the
 * code it writes), in both of its shapes: a branch's payment and its check,
 * the entry's payment, a br_table's, and (the switch shape) the check at the
 * head of the block loop. [pattern, replacement].
 */
const STRIP_COMPILED: [RegExp, string][] = [
  // The structured shape (see compile.ts): a branch's payment and check, a br_table's, the entry's.
  [/fuel = \(fuel - \$\{cost\}\) \| 0; if \(fuel < 0\) \{ b = \$\{T\}; break sw; \} /g, ''],
  [/fuel = \(fuel - BT\[t \+ 1\]\) \| 0; const tb = BT\[t\]; if \(fuel < 0\) \{ b = tb; break sw; \}/g, 'const tb = BT[t];'],
  [/fuel = \(fuel - \$\{lw\.entry\}\) \| 0; if \(fuel < 0\) b = 1;/g, ''],
  // The switch shape.
  [/fuel = \(fuel - \$\{cost\}\) \| 0; if \(fuel >= 0\) continue; b = \$\{curBlock\}; continue L;/g, 'continue;'],
  [/fuel = \(fuel - \$\{cost\}\) \| 0; /g, ''],
  [/fuel = \(fuel - BT\[t \+ 1\]\) \| 0; /g, ''],
  [/fuel = \(fuel - \$\{lw\.entry\}\) \| 0; /g, ''],
  [/`  if \(fuel < 0\) \{`/g, '`  if (false) {`'],
];

/**
 * The engine with metering taken out, as a module loaded from a copy of the
 * built `dist/vm` (inside `dist`, so that its imports of packages resolve).
 * Throws when the engine was not built (running from TypeScript sources)
 * or when the loop no longer has the statements this removes.
 */
export async function loadUnmetered(): Promise<VmModule> {
  const here = dirname(fileURLToPath(import.meta.url));
  const vmDir = join(here, '..', 'vm');
  const interp = join(vmDir, 'interp.js');
  if (!existsSync(interp)) throw new Error('the metering comparison needs the built engine (npm run build)');
  const copy = join(here, '..', '.unmetered', 'vm');
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(vmDir, copy, { recursive: true });
  let src = readFileSync(interp, 'utf8');
  for (const re of STRIP) {
    const n = src.match(re)?.length ?? 0;
    if (n < 10) throw new Error(`metering: expected many matches of ${re} in interp.js, found ${n}`);
    src = src.replace(re, '');
  }
  writeFileSync(join(copy, 'interp.js'), src);
  const compile = join(vmDir, 'compiled', 'compile.js');
  let gen = readFileSync(compile, 'utf8');
  for (const [re, by] of STRIP_COMPILED) {
    if (!re.test(gen)) throw new Error(`metering: no match of ${re} in compiled/compile.js`);
    gen = gen.replace(re, by);
  }
  writeFileSync(join(copy, 'compiled', 'compile.js'), gen);
  return (await import(pathToFileURL(join(copy, 'index.js')).href)) as VmModule;
}

function runOf(vm: VmModule, bytes: Uint8Array, tier: Tier): RunFn {
  const inst = new vm.Instance(new vm.Module(bytes, { tier }), {});
  return inst.exports['run'] as RunFn;
}

type Tier = 'interpreter' | 'auto';

/**
 * Times each kernel on both engines in `tier` ('auto': the compiled tier, once
 * the warm-up call made the kernel hot): `samples` alternating samples of one
 * call each, after one warm-up call.
 */
export async function benchMetering(kernels: readonly Kernel[], dir: string, nOf: (k: Kernel) => number, samples: number, tier: Tier = 'interpreter'): Promise<MeteringResult[]> {
  const metered = await import('../vm/index.js');
  const unmetered = await loadUnmetered();
  const out: MeteringResult[] = [];
  for (const k of kernels) {
    const bytes = loadKernelBytes(k, dir);
    const n = nOf(k);
    const a = runOf(metered, bytes, tier);
    const b = runOf(unmetered, bytes, tier);
    const want = a(n);
    if (!Object.is(b(n), want)) throw new Error(`metering: ${k.name} gives different results with and without metering`);
    const ta: number[] = [];
    const tb: number[] = [];
    for (let s = 0; s < samples; s++) {
      for (const [run, times] of s % 2 === 0 ? ([[a, ta], [b, tb]] as const) : ([[b, tb], [a, ta]] as const)) {
        const t0 = process.hrtime.bigint();
        run(n);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const meteredMs = median(ta);
    const unmeteredMs = median(tb);
    out.push({ kernel: k.name, n, meteredMs, unmeteredMs, cost: meteredMs / unmeteredMs - 1 });
  }
  return out;
}
