/**
 * Tests of the runner's command semantics, against a scripted fake engine:
 * which error class each assertion accepts, message mismatches counted apart
 * from failures, skipped text modules, named and registered modules, failed
 * modules making later commands fail, and robustness against engine bugs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassifiedError, EngineInstance, ErrorKind, ImportObject, SpecEngine } from './engine.js';
import { runScript, type ScriptResult } from './runner.js';
import type { JsonCommand } from './script.js';
import type { SpecValue } from './values.js';

/** An error the fake engine throws; `kind` says how it classifies. */
class FakeError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

type FakeFn = (args: SpecValue[], imports: ImportObject) => SpecValue[];

/** A fake module: what compiling and instantiating it does, and its exports. */
interface FakeModule {
  compile?: () => void;
  instantiate?: (imports: ImportObject) => void;
  funcs?: Record<string, FakeFn>;
  globals?: Record<string, SpecValue>;
}

const i32 = (value: number): SpecValue => ({ type: 'i32', value });
const fail = (kind: ErrorKind, message: string) => (): never => {
  throw new FakeError(kind, message);
};

/** Fake modules by the text of their ".wasm" file. */
const MODULES: Record<string, FakeModule> = {
  ok: {
    funcs: {
      one: () => [i32(1)],
      minus1: () => [i32(-1)],
      nan: () => [{ type: 'f32', bits: 0x7fc00000 }],
      id: (args) => args,
      trap: fail('trap', 'integer divide by zero'),
      exhaust: fail('exhaustion', 'call stack exhausted'),
      bug: () => {
        throw new TypeError('engine bug');
      },
    },
    globals: { g: i32(42) },
  },
  decodeError: { compile: fail('decode', 'unexpected end of section') },
  validateError: { compile: fail('validate', 'type mismatch') },
  linkError: { instantiate: fail('link', 'unknown import: m.f') },
  startTrap: { instantiate: fail('trap', 'unreachable executed') },
  compileBug: {
    compile: () => {
      throw new RangeError('engine bug at compile');
    },
  },
  /** Needs `reg.answer` from a registered module and re-exports its result. */
  importer: {
    instantiate: (imports) => {
      if (imports['reg']?.['answer'] === undefined) throw new FakeError('link', 'unknown import: reg.answer');
    },
    funcs: { viaImport: (_args, imports) => (imports['reg']!['answer'] as FakeFn)([], imports) },
  },
  exporter: { funcs: { answer: () => [i32(42)] } },
};

class FakeEngine implements SpecEngine {
  readonly name = 'fake';
  compile(bytes: Uint8Array) {
    const def = MODULES[new TextDecoder().decode(bytes)];
    if (def === undefined) throw new FakeError('decode', 'no such fake module');
    def.compile?.();
    return {
      instantiate: (imports: ImportObject): EngineInstance => {
        def.instantiate?.(imports);
        return {
          invoke: (field, args) => {
            const f = def.funcs?.[field];
            if (f === undefined) throw new FakeError('link', `no export ${field}`);
            return f(args, imports);
          },
          get: (field) => {
            const g = def.globals?.[field];
            if (g === undefined) throw new FakeError('link', `no global ${field}`);
            return g;
          },
          exports: () => ({ ...def.funcs }),
        };
      },
    };
  }
  spectest(): Record<string, unknown> {
    return {};
  }
  classify(e: unknown): ClassifiedError | undefined {
    return e instanceof FakeError ? { kind: e.kind, message: e.message } : undefined;
  }
}

const work = mkdtempSync(join(tmpdir(), 'wasmhive-spec-runner-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
for (const name of Object.keys(MODULES)) writeFileSync(join(work, `${name}.wasm`), name);

let scriptCount = 0;
/** Writes a script of the given commands (lines numbered from 1) and runs it on the fake engine. */
function run(commands: Omit<JsonCommand, 'line'>[]): ScriptResult {
  const name = `s${scriptCount++}`;
  const json = join(work, `${name}.json`);
  writeFileSync(json, JSON.stringify({ source_filename: `${name}.wast`, commands: commands.map((c, i) => ({ line: i + 1, ...c })) }));
  return runScript(new FakeEngine(), { name, dir: work, json });
}

const mod = (file: string, name?: string): Omit<JsonCommand, 'line'> => ({ type: 'module', filename: `${file}.wasm`, ...(name ? { name } : {}) });
const invoke = (field: string, args: JsonCommand['expected'] = [], module?: string) => ({ type: 'invoke' as const, field, args, ...(module ? { module } : {}) });

describe('assert_return', () => {
  it('passes on a bit-exact result and fails with both values on a different one', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_return', action: invoke('minus1'), expected: [{ type: 'i32', value: '4294967295' }] },
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'i32', value: '2' }] },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 1]);
    expect(r.failures[0]).toMatchObject({ line: 3, command: 'assert_return' });
    expect(r.failures[0]!.reason).toContain('expected i32:2');
    expect(r.failures[0]!.reason).toContain('got i32:1');
  });

  it('passes arguments through and checks NaN classes, result count and type', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_return', action: invoke('nan'), expected: [{ type: 'f32', value: 'nan:canonical' }] },
      { type: 'assert_return', action: invoke('id', [{ type: 'f64', value: '1' }]), expected: [{ type: 'f64', value: '1' }] },
      { type: 'assert_return', action: invoke('id', [{ type: 'externref', value: '7' }]), expected: [{ type: 'externref', value: '7' }] },
      { type: 'assert_return', action: invoke('one'), expected: [] },
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'f32', value: '1' }] },
    ]);
    expect([r.passed, r.failed]).toEqual([4, 2]);
    expect(r.failures.map((f) => f.line)).toEqual([5, 6]);
  });

  it('reads exported globals with get actions', () => {
    const r = run([mod('ok'), { type: 'assert_return', action: { type: 'get', field: 'g' }, expected: [{ type: 'i32', value: '42' }] }]);
    expect([r.passed, r.failed]).toEqual([2, 0]);
  });

  it('fails when the action traps', () => {
    const r = run([mod('ok'), { type: 'assert_return', action: invoke('trap'), expected: [{ type: 'i32', value: '0' }] }]);
    expect(r.failed).toBe(1);
    expect(r.failures[0]!.reason).toContain('integer divide by zero');
  });
});

describe('error assertions', () => {
  it('assert_trap needs a trap: not results, not exhaustion', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_trap', action: invoke('trap'), text: 'integer divide by zero', expected: [] },
      { type: 'assert_trap', action: invoke('one'), text: 'integer divide by zero', expected: [{ type: 'i32' }] },
      { type: 'assert_trap', action: invoke('exhaust'), text: 'call stack exhausted', expected: [] },
    ]);
    expect([r.passed, r.failed, r.msgMismatch]).toEqual([2, 2, 0]);
  });

  it('assert_exhaustion needs exhaustion, not a plain trap', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_exhaustion', action: invoke('exhaust'), text: 'call stack exhausted', expected: [] },
      { type: 'assert_exhaustion', action: invoke('trap'), text: 'call stack exhausted', expected: [] },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 1]);
  });

  it('counts a message that does not start with the expected text as a mismatch, not a failure', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_trap', action: invoke('trap'), text: 'integer divide', expected: [] },
      { type: 'assert_trap', action: invoke('trap'), text: 'integer overflow', expected: [] },
    ]);
    expect([r.passed, r.failed, r.msgMismatch]).toEqual([3, 0, 1]);
    expect(r.mismatches).toEqual([{ line: 3, command: 'assert_trap', expected: 'integer overflow', actual: 'integer divide by zero' }]);
  });

  it('assert_malformed needs a decode error and assert_invalid a validation error', () => {
    const r = run([
      { type: 'assert_malformed', filename: 'decodeError.wasm', module_type: 'binary', text: 'unexpected end' },
      { type: 'assert_malformed', filename: 'validateError.wasm', module_type: 'binary', text: 'type mismatch' },
      { type: 'assert_invalid', filename: 'validateError.wasm', module_type: 'binary', text: 'type mismatch' },
      { type: 'assert_invalid', filename: 'decodeError.wasm', module_type: 'binary', text: 'unexpected end' },
      { type: 'assert_invalid', filename: 'ok.wasm', module_type: 'binary', text: 'type mismatch' },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 3]);
    expect(r.failures.map((f) => f.line)).toEqual([2, 4, 5]);
  });

  it('assert_unlinkable needs a link error and assert_uninstantiable a trap while instantiating', () => {
    const r = run([
      { type: 'assert_unlinkable', filename: 'linkError.wasm', module_type: 'binary', text: 'unknown import' },
      { type: 'assert_unlinkable', filename: 'startTrap.wasm', module_type: 'binary', text: 'unknown import' },
      { type: 'assert_uninstantiable', filename: 'startTrap.wasm', module_type: 'binary', text: 'unreachable' },
      { type: 'assert_uninstantiable', filename: 'ok.wasm', module_type: 'binary', text: 'unreachable' },
      { type: 'assert_uninstantiable', filename: 'decodeError.wasm', module_type: 'binary', text: 'unreachable' },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 3]);
    expect(r.failures.map((f) => f.line)).toEqual([2, 4, 5]);
  });

  it('skips text modules', () => {
    const r = run([
      { type: 'assert_malformed', filename: 'x.wat', module_type: 'text', text: 'unexpected token' },
      { type: 'assert_invalid', filename: 'y.wat', module_type: 'text', text: 'type mismatch' },
    ]);
    expect([r.passed, r.failed, r.skipped]).toEqual([0, 0, 2]);
  });
});

describe('modules', () => {
  it('makes every command on a module that failed to instantiate fail, until the next module', () => {
    const r = run([
      mod('linkError'),
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'i32', value: '1' }] },
      { type: 'action', action: invoke('one'), expected: [{ type: 'i32' }] },
      mod('ok'),
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'i32', value: '1' }] },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 3]);
    expect(r.failures[1]!.reason).toContain('module at line 1');
  });

  it('binds names, registers modules for import, and resolves actions by module name', () => {
    const r = run([
      mod('importer', '$before'), // reg.answer is not registered yet
      mod('exporter', '$E'),
      mod('ok'),
      { type: 'register', name: '$E', as: 'reg' },
      mod('importer', '$I'),
      mod('ok'),
      { type: 'assert_return', action: invoke('viaImport', [], '$I'), expected: [{ type: 'i32', value: '42' }] },
      { type: 'assert_return', action: invoke('answer', [], '$E'), expected: [{ type: 'i32', value: '42' }] },
      { type: 'assert_return', action: invoke('one', [], '$before'), expected: [{ type: 'i32', value: '1' }] },
      { type: 'assert_return', action: invoke('one', [], '$nobody'), expected: [{ type: 'i32', value: '1' }] },
      { type: 'register', as: 'current' },
    ]);
    expect(r.failures.map((f) => f.line)).toEqual([1, 9, 10]);
    expect(r.passed).toBe(8);
  });
});

describe('robustness', () => {
  it('fails a command on an unexpected engine exception, with its message, and goes on', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_return', action: invoke('bug'), expected: [] },
      { type: 'assert_trap', action: invoke('bug'), text: 'x', expected: [] },
      { type: 'assert_malformed', filename: 'compileBug.wasm', module_type: 'binary', text: 'x' },
      mod('compileBug'),
      mod('ok'),
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'i32', value: '1' }] },
    ]);
    expect([r.passed, r.failed]).toEqual([3, 4]);
    expect(r.failures[0]!.reason).toContain('TypeError: engine bug');
    expect(r.failures[2]!.reason).toContain('RangeError: engine bug at compile');
  });

  it('fails on unknown commands and malformed values without stopping', () => {
    const r = run([
      mod('ok'),
      { type: 'assert_frobnicated' },
      { type: 'assert_return', action: invoke('id', [{ type: 'i32', value: 'twelve' }]), expected: [] },
      { type: 'assert_return', action: invoke('one'), expected: [{ type: 'i32', value: '1' }] },
    ]);
    expect([r.passed, r.failed]).toEqual([2, 2]);
  });

  it('reports a script that cannot be loaded as one failure instead of throwing', () => {
    const r = runScript(new FakeEngine(), { name: 'missing', dir: work, json: join(work, 'missing.json') });
    expect([r.passed, r.failed]).toEqual([0, 1]);
    expect(r.failures[0]!.command).toBe('script');
  });
});
