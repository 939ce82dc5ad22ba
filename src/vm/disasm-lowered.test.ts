import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { K, insnLength } from './interp.js';
import { ISA } from './isa.js';
import { Module, disassembleLowered } from './index.js';
import { warmUpModule } from './warmup.js';

describe('disassembler of lowered code', () => {
  const m = new Module(wat(`(module (memory 1) (table 1 funcref) (global $g (mut i64) (i64.const 0))
    (func $sum (param $n i32) (result i32) (local $i i32) (local $s i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
          (local.set $s (i32.add (local.get $s) (i32.load offset=8 (i32.add (local.get $i) (i32.const 4)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $s))
    (func $misc (param i32 i64) (result i64)
      (global.set $g (i64.const 0x123456789))
      (i64.store offset=16 (local.get 0) (local.get 1))
      (block $a (block $b (br_table $a $b $a (local.get 0))) (global.set $g (local.get 1)))
      (drop (call $sum (local.get 0)))
      (i64.add (global.get $g) (local.get 1))))`));

  it('prints a loop: slots, immediates, address folding, compare-and-branch with its fuel', () => {
    // Slots: $n s0, $i s1, $s s2, then the operand stack. The loop's run is 5 instructions: the taken
    // branch out pays the run at 21 (1) less the rest of its own run (4).
    expect(disassembleLowered(m.lower(0).code).split('\n')).toEqual([
      ' 0: br_if_ge_s s1, s0, @21 fuel=-3',
      ' 5: load_32 s4 <- s1, k=4, offset=8',
      '10: i32.add s2 <- s2, s4',
      '14: i32.add_i s1 <- s1, 1',
      '18: br @0 fuel=5',
      '21: return1 s2',
    ]);
  });

  it('prints 64-bit constants, globals, stores, br_table, calls', () => {
    expect(disassembleLowered(m.lower(1).code).split('\n')).toEqual([
      ' 0: const64 s2 <- 0x0000000123456789',
      ' 4: global_set global=0, s2',
      ' 7: store_64 s0, s1, k=0, offset=16',
      '12: br_table s0, [@24 fuel=5, @21 fuel=6, default @24 fuel=5]',
      '21: global_set global=0, s1',
      '24: copy s2 <- s0',
      '27: call func=0, base=s2',
      '30: global_get s2 <- global=0',
      '33: i64.add s2 <- s2, s1',
      '37: return1 s2',
    ]);
  });

  it('prints every instruction of the warm-up module (nearly every opcode), one line each', () => {
    const w = warmUpModule();
    w.lowerAll();
    const seen = new Set<string>();
    for (const lw of w.lowered) {
      const code = lw!.code;
      const lines = disassembleLowered(code).split('\n');
      let pc = 0;
      for (const line of lines) {
        const insn = ISA[code[pc]!]!;
        expect(line).toMatch(new RegExp(`^ *${pc}: ${insn.mnemonic.replace('.', '\\.')}( |$)`));
        seen.add(insn.name);
        pc += insnLength(code, pc);
      }
      expect(pc).toBe(code.length);
    }
    expect(seen.size).toBeGreaterThan(ISA.length * 0.9);
    expect(seen.has('MEM_ACCESS_M')).toBe(true);
  });

  it('shows which slot a load on another memory writes', () => {
    const w = warmUpModule();
    w.lowerAll();
    const text = w.lowered.map((lw) => disassembleLowered(lw!.code)).join('\n');
    expect(text).toMatch(/: mem_access_m s\d+ <- i64\.load8_u, mem=1, s\d+, k=0, offset=\d+$/m);
    expect(text).toMatch(/: mem_access_m i32\.store8, mem=1, s\d+, s\d+, k=0, offset=\d+$/m);
  });

  it('marks words that are no instruction, and stops at a truncated one', () => {
    expect(disassembleLowered(Int32Array.of(K.RETURN0, 9999, K.RETURN1, 4))).toBe('0: return0\n1: .word 9999\n2: return1 s2');
    expect(disassembleLowered(Int32Array.of(K.BR_TABLE, 0, 3, 5))).toBe('0: br_table (truncated: 4 of 11 words)');
    expect(disassembleLowered(Int32Array.of(K.CONST64, 2, 1))).toBe('0: const64 (truncated: 3 of 4 words)');
    expect(disassembleLowered(new Int32Array(0))).toBe('');
  });
});
