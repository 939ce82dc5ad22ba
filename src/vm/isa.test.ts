import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENDS_RUN, K, OPERANDS, insnLength, isCondBranch, runCost } from './interp.js';
import { GENERATED_BEGIN, GENERATED_END, ISA, forEachTarget, opcode, opcodeEnumSource, operandAt, type SlotType } from './isa.js';
import { Module } from './module.js';
import { OPS, op } from './opcodes.js';
import { warmUpModule } from './warmup.js';

/**
 * The values OPERANDS, ENDS_RUN and isCondBranch had when they were set by
 * hand in interp.ts (before they were derived from the table in isa.ts).
 * Lowered code, snapshots (CODE_VERSION) and fuel counts depend on them:
 * changing one of them is changing the internal code, not a refactoring.
 * (A new instruction adds its values here, at its opcode.)
 */
const LEGACY_OPERANDS = [
  0, 2, 3, 3, -1, 0, 1, 2, 2, 4, 2, 2, 3, 4, 2, 2, 2, 2, // UNREACHABLE .. GLOBAL_SET_EXT
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, // LOAD_32 .. STORE_16
  1, 2, 5, 1, 5, 4, 6, 2, 3, // MEMORY_SIZE .. MEMORY_GROW_M
  3, 3, 2, 4, 4, 5, 5, 1, 2, 2, // TABLE_GET .. REF_FUNC
  2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, // i32
  2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, // i64
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, // f32 / f64 comparisons
  2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, // f32 arithmetic
  2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, // f64 arithmetic
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, // MOV32 .. I64_TRUNC_SAT_F64_U
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, // I32_ADD_I .. I32_GE_U_I
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, // BR_IF_EQ .. BR_IF_GE_U_I
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, // BR_IF_F64_EQ .. BR_IF_I64_NEZ
  2, 4, // RETURN_CALL, RETURN_CALL_INDIRECT
];
/** UNREACHABLE, BR, BR_TABLE, RETURN0, RETURN1, RETURN_N, RETURN_CALL, RETURN_CALL_INDIRECT. */
const LEGACY_ENDS_RUN = [0, 1, 4, 5, 6, 7, 237, 238];
/** BR_IF, BR_UNLESS, BR_IF_EQ .. BR_IF_I64_NEZ. */
const LEGACY_COND_BRANCH = [2, 3, ...Array.from({ length: 236 - 203 + 1 }, (_, i) => 203 + i)];
/** Instructions paid in parts (snapshot.ts's PAID_IN_PARTS): MEMORY_GROW, MEMORY_INIT, MEMORY_COPY, MEMORY_FILL, MEMORY_GROW_M, TABLE_GROW .. TABLE_INIT. */
const LEGACY_PAID_IN_PARTS = [35, 36, 38, 39, 42, 46, 47, 48, 49];
/** Calls: opcode -> [func or type operand, base operand] offsets from pc (CALL, CALL_INDIRECT, RETURN_CALL, RETURN_CALL_INDIRECT). */
const LEGACY_CALLS = new Map([[8, [1, 2]], [9, [1, 4]], [237, [1, 2]], [238, [1, 4]]]);

function legacyInsnLength(code: Int32Array, pc: number): number {
  const n = LEGACY_OPERANDS[code[pc]!]!;
  return n >= 0 ? 1 + n : 3 + 2 * (code[pc + 2]! + 1);
}

function legacyRunCost(code: Int32Array, pc: number): number {
  let c = 0;
  while (pc < code.length) {
    c++;
    if (LEGACY_ENDS_RUN.includes(code[pc]!)) break;
    pc += legacyInsnLength(code, pc);
  }
  return c;
}

/** Lowered code of every defined function of the warm-up module (nearly every opcode) and of the benchmark kernels. */
function loweredSamples(): Int32Array[] {
  const out: Int32Array[] = [];
  const add = (m: Module) => {
    m.lowerAll();
    for (const lw of m.lowered) out.push(lw!.code);
  };
  add(warmUpModule());
  const dir = fileURLToPath(new URL('../../bench/kernels/', import.meta.url));
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.wasm')).sort()) add(new Module(readFileSync(dir + f)));
  return out;
}

describe('the instruction set tables keep their hand-set values', () => {
  it('OPERANDS', () => {
    expect(LEGACY_OPERANDS.length).toBe(239);
    expect(Array.from(OPERANDS)).toEqual(LEGACY_OPERANDS);
  });

  it('ENDS_RUN', () => {
    expect(ENDS_RUN.length).toBe(LEGACY_OPERANDS.length);
    expect([...ENDS_RUN.keys()].filter((o) => ENDS_RUN[o] === 1)).toEqual(LEGACY_ENDS_RUN);
  });

  it('isCondBranch', () => {
    const cond: number[] = [];
    for (let o = -2; o < LEGACY_OPERANDS.length + 4; o++) if (isCondBranch(o)) cond.push(o);
    expect(cond).toEqual(LEGACY_COND_BRANCH);
  });

  it('calls and instructions paid in parts', () => {
    expect(ISA.filter((i) => i.pauses === 'parts').map((i) => i.op)).toEqual(LEGACY_PAID_IN_PARTS);
    expect(ISA.filter((i) => i.call).map((i) => i.op)).toEqual([...LEGACY_CALLS.keys()]);
    for (const [o, [callee, base]] of LEGACY_CALLS) {
      expect(Math.max(operandAt(o, 'func'), operandAt(o, 'type'))).toBe(callee);
      expect(operandAt(o, 'base')).toBe(base);
    }
  });

  it('insnLength and runCost on lowered code', () => {
    let insns = 0;
    for (const code of loweredSamples()) {
      for (let pc = 0; pc < code.length; pc += legacyInsnLength(code, pc)) {
        expect(insnLength(code, pc)).toBe(legacyInsnLength(code, pc));
        expect(runCost(code, pc)).toBe(legacyRunCost(code, pc));
        insns++;
      }
    }
    expect(insns).toBeGreaterThan(2_000);
  });
});

describe('the generated opcode enum', () => {
  const interp = readFileSync(fileURLToPath(new URL('./interp.ts', import.meta.url)), 'utf8');

  it('in interp.ts is what scripts/gen-isa.mjs writes from the table', () => {
    const begin = interp.indexOf(GENERATED_BEGIN);
    const end = interp.indexOf(GENERATED_END, begin);
    expect(begin).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(begin);
    // On failure: run `node scripts/gen-isa.mjs`.
    expect(interp.slice(begin, interp.indexOf('\n', end) + 1)).toBe(opcodeEnumSource());
  });

  it('the script itself finds it up to date', () => {
    const script = fileURLToPath(new URL('../../scripts/gen-isa.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(out).toContain(`up to date (${ISA.length} opcodes)`);
  });

  it('agrees with the table: same names, numbered in row order', () => {
    const decl = interp.slice(interp.indexOf('export const enum K {'), interp.indexOf('  COUNT,'));
    expect([...decl.matchAll(/^ {2}([A-Z][A-Z0-9_]*),/gm)].map((m) => m[1])).toEqual(ISA.map((i) => i.name));
    expect(K.COUNT).toBe(ISA.length);
    ISA.forEach((i, n) => expect(i.op).toBe(n));
    const some: [number, string][] = [
      [K.UNREACHABLE, 'UNREACHABLE'], [K.BR_TABLE, 'BR_TABLE'], [K.CALL, 'CALL'], [K.GLOBAL_SET_EXT, 'GLOBAL_SET_EXT'],
      [K.LOAD_32, 'LOAD_32'], [K.STORE_16, 'STORE_16'], [K.MEM_ACCESS_M, 'MEM_ACCESS_M'], [K.ELEM_DROP, 'ELEM_DROP'],
      [K.I32_ROTR, 'I32_ROTR'], [K.I64_EQZ, 'I64_EQZ'], [K.F64_COPYSIGN, 'F64_COPYSIGN'], [K.MOV32, 'MOV32'],
      [K.I64_TRUNC_SAT_F64_U, 'I64_TRUNC_SAT_F64_U'], [K.I32_ADD_I, 'I32_ADD_I'], [K.BR_IF_EQ, 'BR_IF_EQ'],
      [K.BR_IF_I64_NEZ, 'BR_IF_I64_NEZ'], [K.RETURN_CALL_INDIRECT, 'RETURN_CALL_INDIRECT'],
    ];
    for (const [k, name] of some) expect([name, k]).toEqual([name, opcode(name)]);
    expect(() => opcode('NO_SUCH_OP')).toThrow(/NO_SUCH_OP/);
  });
});

describe('the table is consistent', () => {
  const kinds = (o: number) => ISA[o]!.operands.map((x) => x.kind);

  it('slots have types where the opcode fixes them, and nothing else has one', () => {
    for (const i of ISA) {
      for (const o of i.operands) {
        const slot = ['d', 'a', 'b', 'c', 'x', 'y', 'base'].includes(o.kind);
        const fixed = slot && !['x', 'y', 'base'].includes(o.kind);
        expect([i.name, o.kind, o.type !== null]).toEqual([i.name, o.kind, fixed]);
      }
      // At most one destination, first.
      expect(kinds(i.op).filter((k) => k === 'd').length).toBeLessThanOrEqual(1);
      if (kinds(i.op).includes('d')) expect([i.name, kinds(i.op)[0]]).toEqual([i.name, 'd']);
    }
  });

  it('branches have targets and fuel; flags agree with each other', () => {
    for (const i of ISA) {
      const k = kinds(i.op);
      const n = (x: string) => k.filter((y) => y === x).length;
      expect([i.name, i.branch]).toEqual([i.name, i.targets || n('target') === 1]);
      expect([i.name, n('fuel')]).toEqual([i.name, n('target')]);
      if (n('target') === 1) expect([i.name, k.indexOf('fuel')]).toEqual([i.name, k.indexOf('target') + 1]);
      if (i.condBranch) {
        expect([i.name, i.branch, i.endsRun, k.slice(-2)]).toEqual([i.name, true, false, ['target', 'fuel']]);
      }
      // A run ends at every instruction after which the next one cannot run next.
      expect([i.name, i.endsRun]).toEqual([i.name, (i.branch && !i.condBranch) || i.returns || i.name === 'UNREACHABLE']);
      if (i.call) {
        expect([i.name, i.pauses, i.mayTrap, n('base')]).toEqual([i.name, 'call', true, 1]);
        expect([i.name, n('func') + n('type')]).toEqual([i.name, 1]);
      }
      if (i.pauses === 'call') expect(i.call).toBe(true);
      if (i.pauses === 'parts') expect([i.name, i.mayTrap]).toEqual([i.name, true]);
      if (i.targets) expect(k.at(-1)).toBe('n');
      if (i.load || i.store) expect([i.name, i.mayTrap]).toEqual([i.name, true]);
      if (i.mnemonic !== i.name.toLowerCase()) expect(i.mnemonic).toMatch(/^[if](32|64)\./);
      // The truncations' classification (source, signedness, saturation) agrees with their names.
      const t = /^I(32|64)_TRUNC_(SAT_)?F(32|64)_([SU])$/.exec(i.name);
      expect([i.name, i.trunc]).toEqual([i.name, t === null ? null : { from: `f${t[3]}`, to: `i${t[1]}`, signed: t[4] === 'S', sat: t[2] !== undefined }]);
    }
    expect(ISA.filter((i) => i.trunc !== null).length).toBe(16);
  });

  it('the wasm column: each wasm instruction once, with the types of its stack signature', () => {
    // What a slot type accepts of a wasm value type: raw words carry several (`w32`: also the low word of an i64, for narrow stores).
    const fits: Record<SlotType, string[]> = { i32: ['i32'], i64: ['i64'], f32: ['f32'], f64: ['f64'], ref: ['ref'], w32: ['i32', 'f32', 'i64'], w64: ['i64', 'f64'], any: [] };
    const name = (t: number) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' } as Record<number, string>)[t] ?? 'ref';
    const seen = new Set<string>();
    for (const i of ISA) {
      for (const w of i.wasm) {
        expect(seen.has(w)).toBe(false);
        seen.add(w);
        const info = OPS[op(w)]!;
        const slots = i.operands.filter((o) => o.type !== null);
        const dst = slots.filter((o) => o.kind === 'd');
        const src = slots.filter((o) => o.kind !== 'd');
        const pops = w === 'ref.is_null' ? ['ref'] : info.pops!.map(name);
        const pushes = w === 'ref.is_null' ? ['i32'] : info.pushes!.map(name);
        expect([w, src.length, dst.length]).toEqual([w, pops.length, pushes.length]);
        src.forEach((o, j) => expect([w, o.kind, o.type, fits[o.type!].includes(pops[j]!)]).toEqual([w, o.kind, o.type, true]));
        dst.forEach((o, j) => expect([w, o.kind, o.type, fits[o.type!].includes(pushes[j]!)]).toEqual([w, o.kind, o.type, true]));
        if (i.load || i.store) expect(kinds(i.op).slice(-2)).toEqual(['k', 'offset']);
      }
    }
    expect(seen.size).toBeGreaterThan(150);
  });

  it('superinstructions fuse an instruction of the table, with the same operand types', () => {
    for (const i of ISA.filter((x) => x.of !== null)) {
      const base = ISA[opcode(i.of!)]!;
      const types = (x: typeof i) => x.operands.filter((o) => o.kind !== 'd' && o.type !== null).map((o) => o.type);
      if (i.branch) {
        // Compare-and-branch: the comparison's sources (an immediate stays an immediate), then `target fuel`.
        expect([i.name, types(i)]).toEqual([i.name, types(base)]);
        expect(base.operands[0]).toEqual({ kind: 'd', type: 'i32' });
      } else {
        // Immediate form: `b` becomes an `imm32`.
        expect([i.name, kinds(i.op)]).toEqual([i.name, ['d', 'a', 'imm32']]);
        expect([i.name, kinds(base.op)]).toEqual([i.name, ['d', 'a', 'b']]);
        expect(base.wasm[0]).toMatch(/^i32\./);
        expect(i.when).toBe(true);
      }
    }
    expect(ISA.filter((x) => x.of !== null && !x.when).map((x) => x.name)).toEqual(['BR_IFNOT_F64_EQ', 'BR_IFNOT_F64_NE', 'BR_IFNOT_F64_LT', 'BR_IFNOT_F64_GT', 'BR_IFNOT_F64_LE', 'BR_IFNOT_F64_GE', 'BR_IF_I64_NEZ']);
  });

  it('forEachTarget finds every target and fuel word of lowered code', () => {
    for (const code of loweredSamples()) {
      for (let pc = 0; pc < code.length; pc += insnLength(code, pc)) {
        const found: number[] = [];
        forEachTarget(code, pc, (t, f) => found.push(t - pc, f - pc));
        const o = code[pc]!;
        const len = insnLength(code, pc);
        // Before the table: BR `target fuel`; conditional branches end `target fuel`; BR_TABLE `c n target*(n+1) fuel*(n+1)`.
        let want: number[] = [];
        if (o === K.BR) want = [1, 2];
        else if (isCondBranch(o)) want = [len - 2, len - 1];
        else if (o === K.BR_TABLE) for (let k = 0; k <= code[pc + 2]!; k++) want.push(3 + k, 4 + code[pc + 2]! + k);
        expect(found).toEqual(want);
      }
    }
  });
});
