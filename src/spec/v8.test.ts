/**
 * Checks the runner against a reference engine: V8's own WebAssembly, through
 * the V8 adapter, must pass a handful of core scripts completely (so failures
 * our engine gets on them are the engine's, not the runner's), and a corrupted
 * V8 must fail them. Also checks that the adapter's wrapper keeps NaN payloads
 * and v128 values intact.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SpecEngine } from './engine.js';
import { encodeWrapper, V8Engine } from './engines/v8.js';
import { formatDetails } from './report.js';
import { runScript } from './runner.js';
import { discoverScripts, specRoot } from './script.js';

const coreDir = join(specRoot(fileURLToPath(new URL('../..', import.meta.url))), 'core');
const haveSuite = existsSync(coreDir);
const SCRIPTS = ['i32', 'i64', 'f32', 'f64', 'conversions', 'call_indirect', 'imports', 'linking', 'ref_func', 'table_get', 'float_exprs', 'simd_lane', 'simd_f32x4_arith'];

/** V8, but every i32 result comes back with its lowest bit flipped. */
class CorruptV8 extends V8Engine {
  override compile(bytes: Uint8Array, features: object) {
    const mod = super.compile(bytes, features);
    return {
      instantiate: (imports: Record<string, Record<string, unknown>>) => {
        const inst = mod.instantiate(imports);
        return {
          invoke: (field: string, args: Parameters<typeof inst.invoke>[1], types?: Parameters<typeof inst.invoke>[2]) =>
            inst.invoke(field, args, types).map((v) => (v.type === 'i32' ? { type: 'i32' as const, value: v.value ^ 1 } : v)),
          get: inst.get.bind(inst),
          exports: inst.exports.bind(inst),
        };
      },
    };
  }
}

function runNamed(engine: SpecEngine, name: string) {
  const script = discoverScripts(join(coreDir, name))[0]!;
  return runScript(engine, script);
}

describe.skipIf(!haveSuite)('the runner on V8', () => {
  for (const name of SCRIPTS) {
    it(`V8 passes every command of ${name}`, () => {
      const r = runNamed(new V8Engine(), name);
      expect(r.failed, formatDetails(r)).toBe(0);
      expect(r.passed).toBeGreaterThan(0);
    });
  }

  it('a V8 with corrupted i32 results fails the i32 script', () => {
    const r = runNamed(new CorruptV8(), 'i32');
    expect(r.failed).toBeGreaterThan(300);
  });
});

describe('the V8 adapter', () => {
  const engine = new V8Engine();
  const identity = (type: number): Uint8Array =>
    // (module (func (export "f") (param T) (result T) local.get 0))
    new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, type, 1, type, 3, 2, 1, 0, 7, 5, 1, 1, 0x66, 0, 0, 10, 6, 1, 4, 0, 0x20, 0, 0x0b]);

  it('keeps f32 and f64 NaN payloads through calls', () => {
    const f32 = engine.compile(identity(0x7d), {}).instantiate({});
    expect(f32.invoke('f', [{ type: 'f32', bits: 0x7fa00001 }], ['f32'])).toEqual([{ type: 'f32', bits: 0x7fa00001 }]);
    const f64 = engine.compile(identity(0x7c), {}).instantiate({});
    expect(f64.invoke('f', [{ type: 'f64', bits: 0xfff4000000000001n }], ['f64'])).toEqual([{ type: 'f64', bits: 0xfff4000000000001n }]);
  });

  it('passes v128 values through calls', () => {
    const v = engine.compile(identity(0x7b), {}).instantiate({});
    const bits = 0x0123456789abcdef_fedcba9876543210n;
    expect(v.invoke('f', [{ type: 'v128', bits }], ['v128'])).toEqual([{ type: 'v128', bits }]);
  });

  it('encodes wrapper modules V8 accepts for every type', () => {
    const all = ['i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'] as const;
    expect(() => new WebAssembly.Module(encodeWrapper([...all], [...all].reverse()))).not.toThrow();
  });
});
