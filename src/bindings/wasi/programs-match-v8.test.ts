/**
 * Real C programs (test/programs, built with wasi-libc) give exactly the
 * same stdout, stderr and exit code on our engine with our Wasi as on V8
 * with Node's own node:wasi. Each case also pins something about the output
 * itself, so that two equally broken runs cannot pass.
 */
import { describe, expect, it } from 'vitest';
import { runOnV8, runOnWasmhive, type RunResult } from '../../../test/programs/harness.js';

interface Case {
  program: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array;
  exitCode: number;
  /** A line the output must contain. */
  contains: string;
}

const text = new TextEncoder();
const CASES: Case[] = [
  { program: 'hello', args: ['hello', 'wörld', '', '7'], env: { GREETING: 'hi there', EMPTY: '', 'WITH=': 'x' }, exitCode: 7, contains: 'GREETING is hi there' },
  { program: 'hello', args: ['hello'], exitCode: 0, contains: 'environ has 0 entries' },
  { program: 'i64', exitCode: 0, contains: 'fnv1a("a") = af63dc4c8601ec8c' },
  { program: 'float', exitCode: 0, contains: 'strtod("0x1.8p3") = 12 (0x1.8p+3)' },
  { program: 'qsort', exitCode: 0, contains: 'strings: apple apricot banana cherry date elderberry fig grape kiwi lime mango pear' },
  { program: 'recurse', exitCode: 0, contains: 'ackermann(3, 6) = 509' },
  { program: 'bigmalloc', exitCode: 0, contains: 'contents kept=1' },
  { program: 'stdin', stdin: text.encode('one two\nthree\n\n  four  \n'.repeat(1000)), exitCode: 0, contains: 'bytes=24000 lines=4000 words=4000' },
  { program: 'stdin', stdin: new Uint8Array(0), exitCode: 3, contains: 'bytes=0 lines=0 words=0' },
  { program: 'stdin', stdin: Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256), exitCode: 0, contains: 'bytes=100000' },
  { program: 'compute', exitCode: 0, contains: 'queens(9) = 352' },
];

function comparable(r: RunResult) {
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, trap: r.trap };
}

describe('test programs on our engine and Wasi give what V8 with node:wasi gives', () => {
  for (const c of CASES) {
    const label = `${c.program} ${JSON.stringify(c.args ?? [])}${c.stdin ? ` with ${c.stdin.length} bytes of stdin` : ''}`;
    it(label, async () => {
      const args = c.args ?? [c.program];
      // Node's WASI object rejects env names with "=", so V8 gets only the valid ones; ours must refuse the bad one.
      const env = Object.fromEntries(Object.entries(c.env ?? {}).filter(([k]) => !k.includes('=')));
      if (c.env && Object.keys(c.env).length !== Object.keys(env).length) {
        expect(() => runOnWasmhive(c.program, { args, env: c.env })).toThrow(/invalid variable name/);
      }
      const ours = runOnWasmhive(c.program, { args, env, stdin: c.stdin });
      const v8 = await runOnV8(c.program, { args, env, stdin: c.stdin });
      expect(comparable(ours)).toEqual(comparable(v8));
      expect(ours.exitCode).toBe(c.exitCode);
      expect(ours.wasi.exitCode).toBe(c.exitCode === 0 ? null : c.exitCode);
      expect(ours.stdout).toContain(c.contains);
      expect(ours.wasi.stats).toEqual({
        stdinBytes: c.stdin?.length ?? 0,
        stdoutBytes: Buffer.byteLength(ours.stdout),
        stderrBytes: Buffer.byteLength(ours.stderr),
      });
    });
  }
});
