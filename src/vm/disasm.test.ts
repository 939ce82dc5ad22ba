import { describe, expect, it } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Module, disassemble } from './index.js';

describe('disassembler', () => {
  it('prints a body with names from the opcode table, immediates and nesting', () => {
    const m = new Module(wat(`(module (memory 1)
      (func $f (param i32) (result i64)
        (if (result i64) (i32.eqz (local.get 0))
          (then (i64.const 1))
          (else (i64.load offset=8 (local.get 0))))))`));
    expect(disassemble(m.ast, 0).split('\n')).toEqual([
      '  local.get 0',
      '  i32.eqz',
      '  if (result i64)',
      '    i64.const 0x0000000000000001',
      '  else',
      '    local.get 0',
      '    i64.load align=8 offset=8',
      '  end',
      'end',
    ]);
  });

  it('refuses an index that is not a defined function', () => {
    const m = new Module(wat('(module (import "m" "f" (func)))'));
    expect(() => disassemble(m.ast, 0)).toThrow(RangeError);
  });
});
