/**
 * `wasmhive run` (the built CLI, in its own process) gives the same stdout,
 * stderr and exit code as V8's own WebAssembly running the same program
 * through node:wasi: C programs heavy in i64 arithmetic, floats and printf,
 * qsort with function pointers, deep recursion, large malloc, stdin.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { PROGRAMS_DIR, runOnV8 } from './programs/harness.js';

const bin = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'wasmhive.js');

interface Case {
  program: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array;
  /** Something the output must contain, so that two equally broken runs cannot agree. */
  contains: string;
}

const CASES: Case[] = [
  { program: 'hello', args: ['one', 'two words', '5'], env: { GREETING: 'hi' }, contains: 'GREETING is hi' },
  { program: 'i64', contains: 'fnv1a("a") = af63dc4c8601ec8c' },
  { program: 'float', contains: 'strtod("0x1.8p3") = 12' },
  { program: 'qsort', contains: 'strings: apple apricot' },
  { program: 'recurse', contains: 'ackermann(3, 6) = 509' },
  { program: 'bigmalloc', contains: 'contents kept=1' },
  { program: 'stdin', stdin: new TextEncoder().encode('a b\nc\n'.repeat(5000)), contains: 'lines=10000' },
  { program: 'compute', contains: 'queens(9) = 352' },
];

describe('wasmhive run gives what V8 with node:wasi gives', () => {
  it.each(CASES.map((c) => [c.program, c] as const))('%s', async (_name, c) => {
    const prog = join(PROGRAMS_DIR, `${c.program}.wasm`);
    const envArgs = Object.entries(c.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const ours = spawnSync(process.execPath, [bin, 'run', ...envArgs, prog, ...(c.args ?? [])], { input: c.stdin ?? new Uint8Array(0), maxBuffer: 64 << 20 });
    const v8 = await runOnV8(c.program, { args: [`${c.program}.wasm`, ...(c.args ?? [])], env: c.env, stdin: c.stdin });
    expect(v8.trap).toBeUndefined();
    expect({ stdout: ours.stdout.toString(), stderr: ours.stderr.toString(), exitCode: ours.status }).toEqual({ stdout: v8.stdout, stderr: v8.stderr, exitCode: v8.exitCode });
    expect(ours.stdout.toString()).toContain(c.contains);
  }, 60_000);
});
