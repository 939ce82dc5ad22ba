import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { insnLength } from './interp.js';
import { runWarmUp, warmUp, warmUpModule } from './warmup.js';
import { WARMUP_WASM } from './warmup/warmup-wasm.js';

/** Internal opcode names in numbering order, and those that have a `case` in `run`, read from interp.ts. */
function opcodeNames(): { names: string[]; inRun: Set<string> } {
  const src = readFileSync(fileURLToPath(new URL('./interp.ts', import.meta.url)), 'utf8');
  const decl = src.slice(src.indexOf('export const enum K {'), src.indexOf('  COUNT,'));
  const names = [...decl.matchAll(/^\s+([A-Z][A-Z0-9_]*),/gm)].map((m) => m[1]!);
  const body = src.slice(src.indexOf('function run('), src.indexOf('function withTrace('));
  const inRun = new Set([...body.matchAll(/case K\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
  return { names, inRun };
}

/** The internal opcodes present in the lowered code of every function of the warm-up module. */
function warmUpCoverage(): { covered: string[]; missing: string[]; ratio: number } {
  const { names, inRun } = opcodeNames();
  const module = warmUpModule();
  module.lowerAll();
  const seen = new Set<number>();
  for (const lw of module.lowered) {
    const code = lw!.code;
    for (let pc = 0; pc < code.length; pc += insnLength(code, pc)) seen.add(code[pc]!);
  }
  const all = names.filter((n) => inRun.has(n));
  const covered = all.filter((n) => seen.has(names.indexOf(n)));
  return { covered, missing: all.filter((n) => !seen.has(names.indexOf(n))), ratio: covered.length / all.length };
}

describe('warm-up module', () => {
  it('every opcode of run is named in the enum, and the enum is complete', () => {
    const { names, inRun } = opcodeNames();
    expect(names.length).toBeGreaterThan(200);
    expect(names.filter((n) => !inRun.has(n))).toEqual([]);
  });

  it('lowers to nearly all internal opcodes', () => {
    const { missing, ratio } = warmUpCoverage();
    // MOV32 is never emitted: the lowering makes reinterpretations and i32.wrap_i64 free.
    expect(missing).toEqual(['MOV32']);
    expect(ratio).toBeGreaterThanOrEqual(0.99);
  });

  it('runs without trapping, with the same result every time', () => {
    expect(WARMUP_WASM.length).toBeGreaterThan(0);
    const a = runWarmUp(1);
    expect(runWarmUp(1)).toBe(a);
    expect(Number.isInteger(runWarmUp(3))).toBe(true);
  });

  it('warmUp is idempotent', () => {
    expect(() => warmUp()).not.toThrow();
    expect(() => warmUp()).not.toThrow();
  });
});
