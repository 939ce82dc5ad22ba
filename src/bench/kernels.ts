/**
 * The benchmark kernels: which modules exist under `bench/kernels`, what each
 * stresses, the input size each is run at, and how to find and load them.
 *
 * Every kernel is a freestanding C program built into a module that imports
 * nothing and exports `run(n)`, returning a checksum (see bench/README.md).
 * Sizes are chosen so that one `run(n)` takes very roughly 0.2–2 s on the
 * wasmhive interpreter; V8 runs the same `n` (repeated if it is too fast to
 * time), so the two times measure the same work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The WebAssembly type of a kernel's `run` result, and so the JS type it comes back as. */
export type ResultType = 'i32' | 'i64' | 'f64';

/** One benchmark kernel. */
export interface Kernel {
  /** Name, also the file name: `bench/kernels/<name>.wasm`. */
  readonly name: string;
  /** What the kernel stresses, a few words for the table. */
  readonly stresses: string;
  /** Result type of `run`. */
  readonly result: ResultType;
  /** `n` for a full benchmark run. */
  readonly n: number;
  /** `n` for `--quick`. */
  readonly quickN: number;
  /** `n` for the smoke test: one call must take well under a second on the interpreter. */
  readonly testN: number;
}

/** All kernels, in the order the table prints them. */
export const KERNELS: readonly Kernel[] = [
  { name: 'crc32', stresses: 'i32 ALU', result: 'i32', n: 2_000_000, quickN: 200_000, testN: 5_000 },
  { name: 'sieve', stresses: 'i32 + byte stores', result: 'i32', n: 4_194_304, quickN: 400_000, testN: 10_000 },
  { name: 'hash64', stresses: 'i64 mul/xor/shift', result: 'i64', n: 1_000_000, quickN: 100_000, testN: 1_000 },
  { name: 'millerrabin', stresses: 'i64 mul/rem_u', result: 'i64', n: 40_000, quickN: 4_000, testN: 100 },
  { name: 'mandelbrot', stresses: 'f64 arithmetic', result: 'i32', n: 400, quickN: 128, testN: 24 },
  { name: 'nbody', stresses: 'f64 + sqrt via memory', result: 'f64', n: 50_000, quickN: 5_000, testN: 100 },
  { name: 'matmul', stresses: 'f32 loads/stores', result: 'f64', n: 256, quickN: 96, testN: 16 },
  { name: 'sort', stresses: 'random access + branches', result: 'i32', n: 400_000, quickN: 40_000, testN: 1_000 },
  { name: 'memops', stresses: 'loads/stores 8-64 bit, bulk', result: 'i64', n: 256, quickN: 24, testN: 1 },
  { name: 'fib', stresses: 'direct calls', result: 'i32', n: 32, quickN: 26, testN: 15 },
  { name: 'indirect', stresses: 'call_indirect', result: 'i32', n: 2_500_000, quickN: 250_000, testN: 2_000 },
];

/**
 * The package root: the nearest directory above this file holding the
 * `package.json` of wasmhive. Works from `src/bench` (vitest) and from
 * `dist/bench` (after `tsc`) alike.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const { name } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
        if (name === 'wasmhive') return dir;
      } catch {
        // not ours (or unreadable): keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the wasmhive package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The directory holding the kernels' `.c` sources and built `.wasm` modules. */
export function kernelsDir(): string {
  return join(packageRoot(), 'bench', 'kernels');
}

/** The bytes of a kernel's built module. Throws with a hint if it has not been built. */
export function loadKernelBytes(kernel: Kernel, dir: string = kernelsDir()): Uint8Array {
  const file = join(dir, `${kernel.name}.wasm`);
  if (!existsSync(file)) {
    throw new Error(`bench: ${file} is missing; rebuild the kernels with bench/kernels/build.sh`);
  }
  return new Uint8Array(readFileSync(file));
}

/**
 * The kernels whose name matches the filter: a comma-separated list of
 * names or substrings of names. No filter selects all of them.
 */
export function selectKernels(filter: string | undefined): Kernel[] {
  if (filter === undefined || filter === '') return [...KERNELS];
  const parts = filter.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return KERNELS.filter((k) => parts.some((p) => k.name === p || k.name.includes(p)));
}
