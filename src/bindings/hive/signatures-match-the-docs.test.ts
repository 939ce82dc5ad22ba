/**
 * The signature tables are the contract of docs/guest-abi.md as data: every
 * import the document lists is in them with the documented types, nothing
 * else is, and the imports the binding builds have exactly the types of the
 * tables.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Func, ValType } from '../../vm/index.js';
import type { BindingContext } from '../binding.js';
import { ASSEMBLYSCRIPT_ENV_SIGNATURES, HIVE_V1_SIGNATURES, HiveAbi, type AbiSignature } from './index.js';

const DOC = readFileSync(new URL('../../../docs/guest-abi.md', import.meta.url), 'utf8');

/** The `hive` functions of the document: `### \`name(a: i32, b: i32) -> i64\`` headings. */
function documented(): Map<string, { params: string[]; results: string[] }> {
  const out = new Map<string, { params: string[]; results: string[] }>();
  for (const m of DOC.matchAll(/^### `(\w+)\(([^)]*)\) -> (\w+)`$/gm)) {
    const params = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((p) => p.split(':')[1]!.trim());
    out.set(m[1]!, { params, results: m[3] === 'void' ? [] : [m[3]!] });
  }
  return out;
}

const NAME: Record<number, string> = { [ValType.i32]: 'i32', [ValType.i64]: 'i64', [ValType.f64]: 'f64' };

describe('HIVE_V1_SIGNATURES', () => {
  const doc = documented();

  it('the document lists the 24 functions of version 1', () => {
    expect(doc.size).toBe(24);
  });

  it('has every function of the document, with the documented parameter and result types, and no other', () => {
    const table = Object.fromEntries(Object.entries(HIVE_V1_SIGNATURES).map(([k, v]: [string, AbiSignature]) => [k, { params: [...v.params], results: [...v.results] }]));
    expect(table).toEqual(Object.fromEntries(doc));
  });

  it('lets only abi_version run from a start function, as the document says', () => {
    const early = Object.entries(HIVE_V1_SIGNATURES).filter(([, s]: [string, AbiSignature]) => s.fromStart === true).map(([k]) => k);
    expect(early).toEqual(['abi_version']);
    expect(DOC).toContain('every one but `abi_version` traps');
  });

  it('has AssemblyScript\'s env helpers as the document describes them, all callable from the start function', () => {
    expect(DOC).toContain('`env.abort(msg, file, line, column)`');
    expect(DOC).toContain('`env.trace(msg, n, a0..a4)`');
    expect(DOC).toContain('`env.seed() -> f64`');
    expect(DOC).toContain('These three\nmay be called from the start function');
    expect(ASSEMBLYSCRIPT_ENV_SIGNATURES).toEqual({
      abort: { params: ['i32', 'i32', 'i32', 'i32'], results: [], fromStart: true },
      trace: { params: ['i32', 'i32', 'f64', 'f64', 'f64', 'f64', 'f64'], results: [], fromStart: true },
      seed: { params: [], results: ['f64'], fromStart: true },
    });
  });
});

describe('the imports HiveAbi builds', () => {
  // Building the imports calls nothing on the context.
  const untouched = new Proxy({}, { get: (_, key) => { throw new Error(`touched ${String(key)} while building`); } });
  const imports = new HiveAbi().importsFor(untouched as BindingContext);

  const typesOf = (mod: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(mod ?? {}).map(([k, f]) => {
      expect(f).toBeInstanceOf(Func);
      expect((f as Func).host).not.toBeNull();
      const t = (f as Func).type;
      return [k, { params: t.params.map((p) => NAME[p]), results: t.results.map((r) => NAME[r]) }];
    }));
  const rows = (table: Record<string, AbiSignature>) => Object.fromEntries(Object.entries(table).map(([k, v]) => [k, { params: [...v.params], results: [...v.results] }]));

  it('are the modules hive and env, nothing else', () => {
    expect(Object.keys(imports).sort()).toEqual(['env', 'hive']);
  });

  it('have exactly the functions and types of the tables', () => {
    expect(typesOf(imports['hive'])).toEqual(rows(HIVE_V1_SIGNATURES));
    expect(typesOf(imports['env'])).toEqual(rows(ASSEMBLYSCRIPT_ENV_SIGNATURES));
  });
});
