/**
 * The cost of fuel metering. The interpreter pays for fuel with a
 * subtraction and a check at each branch and call (see chargeRuns in
 * src/vm/lower.ts). To measure what that costs, this loads a second copy of
 * the built engine with those statements taken out of the interpreter loop,
 * and times the kernels on both copies in one run, alternating samples.
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
  return (await import(pathToFileURL(join(copy, 'index.js')).href)) as VmModule;
}

function runOf(vm: VmModule, bytes: Uint8Array): RunFn {
  const inst = new vm.Instance(new vm.Module(bytes), {});
  return inst.exports['run'] as RunFn;
}

/** Times each kernel on both engines: `samples` alternating samples of one call each, after one warm-up call. */
export async function benchMetering(kernels: readonly Kernel[], dir: string, nOf: (k: Kernel) => number, samples: number): Promise<MeteringResult[]> {
  const metered = await import('../vm/index.js');
  const unmetered = await loadUnmetered();
  const out: MeteringResult[] = [];
  for (const k of kernels) {
    const bytes = loadKernelBytes(k, dir);
    const n = nOf(k);
    const a = runOf(metered, bytes);
    const b = runOf(unmetered, bytes);
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
