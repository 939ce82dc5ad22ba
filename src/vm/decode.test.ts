import { describe, it, expect } from 'vitest';
import { specRoot } from '../spec/script.js';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Features } from './api.js';
import { decodeModule, MAX_LOCALS } from './decode.js';
import { DecodeError } from './errors.js';
import type { ModuleAst } from './types.js';

// ---- Building modules by hand ----

type Bytes = number[];

function u32(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Bytes {
  const b = [...new TextEncoder().encode(s)];
  return u32(b.length).concat(b);
}

function vec(items: Bytes[]): Bytes {
  return u32(items.length).concat(...items);
}

function section(id: number, payload: Bytes): Bytes {
  return [id].concat(u32(payload.length), payload);
}

function body(locals: Bytes[], code: Bytes): Bytes {
  const b = vec(locals).concat(code);
  return u32(b.length).concat(b);
}

const HEADER: Bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function wasm(...sections: Bytes[]): Uint8Array {
  return Uint8Array.from(HEADER.concat(...sections));
}

const I32 = 0x7f;
const FUNCREF = 0x70;
const EXTERNREF = 0x6f;
const END = 0x0b;
const TYPE_VOID = section(1, vec([[0x60, 0, 0]]));
const ONE_FUNC = section(3, vec([[0]]));

/** A module with one function `() -> ()` whose body is `code` (which must end with `end`). */
function funcModule(code: Bytes, locals: Bytes[] = [], features?: Features): ModuleAst {
  return decodeModule(wasm(TYPE_VOID, ONE_FUNC, section(10, vec([body(locals, code)]))), features);
}

/** The DecodeError `f` throws; fails the test when it throws nothing or something else. */
function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError, but decoding succeeded');
}

/** Decodes, and reports any error that is not a DecodeError (a decoder bug). */
function decodeOrDecodeError(bytes: Uint8Array): void {
  try {
    decodeModule(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

/**
 * A module using every section and segment encoding: imports of each kind,
 * tables of both reference types, the 8 element and 3 data encodings, data
 * count, start, custom sections before and after, and a name section.
 */
function kitchenSink(): Uint8Array {
  const i32Const0: Bytes = [0x41, 0x00, END];
  const refFunc0: Bytes = [0xd2, 0x00, END];
  return wasm(
    section(0, str('first').concat([1, 2, 3])),
    section(1, vec([[0x60, 0, 0], [0x60, 1, I32, 1, I32]])),
    section(2, vec([
      str('env').concat(str('f'), [0x00, 0x01]),
      str('env').concat(str('t'), [0x01, EXTERNREF, 0x00, 0x01]),
      str('env').concat(str('m'), [0x02, 0x01, 0x01, 0x02]),
      str('env').concat(str('g'), [0x03, I32, 0x00]),
    ])),
    section(3, vec([[0x00], [0x01]])),
    section(4, vec([[FUNCREF, 0x00, 0x04]])),
    section(6, vec([[I32, 0x01].concat(i32Const0)])),
    section(7, vec([str('run').concat([0x00, 0x01]), str('mem').concat([0x02, 0x00])])),
    section(8, u32(1)),
    section(9, vec([
      [0x00].concat(i32Const0, vec([[0x01], [0x02]])),
      [0x01, 0x00].concat(vec([[0x01]])),
      [0x02, 0x01].concat(i32Const0, [0x00], vec([[0x02]])),
      [0x03, 0x00].concat(vec([[0x01]])),
      [0x04].concat(i32Const0, vec([refFunc0, [0xd0, FUNCREF, END]])),
      [0x05, FUNCREF].concat(vec([refFunc0])),
      [0x06, 0x01].concat(i32Const0, [EXTERNREF], vec([[0xd0, EXTERNREF, END]])),
      [0x07, FUNCREF].concat(vec([refFunc0])),
    ])),
    section(12, u32(3)),
    section(10, vec([
      body([], [0x01, END]),
      body([[0x02, I32], [0x01, 0x7e]], [0x20, 0x00, 0xfc, 0x09, 0x01, END]),
    ])),
    section(11, vec([
      [0x00].concat(i32Const0, str('abc')),
      [0x01].concat(str('passive')),
      [0x02, 0x00].concat(i32Const0, str('xy')),
    ])),
    // Name subsections have the shape of sections: module name, function names, local names.
    section(0, str('name').concat(
      section(0, str('sink')),
      section(1, vec([u32(1).concat(str('main')), u32(2).concat(str('helper'))])),
      section(2, vec([u32(2).concat(vec([u32(1).concat(str('x'))]))])),
    )),
    section(0, str('last')),
  );
}

// ---- The spec testsuite ----

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC_DIR = specRoot(REPO_ROOT);

interface Command {
  type: string;
  line: number;
  filename?: string;
  text?: string;
  module_type?: 'binary' | 'text';
}

interface Script {
  label: string;
  dir: string;
  commands: Command[];
  features: Features;
}

/** Features each proposal's scripts need. */
const PROPOSALS: Record<string, Features> = {
  'tail-call': { tailCall: true },
  'extended-const': { extendedConst: true },
  'multi-memory': { multiMemory: true },
};

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && !n.startsWith('simd_'))
    .sort();
}

function loadScripts(): Script[] {
  const scripts: Script[] = [];
  const add = (label: string, dir: string, name: string, features: Features) => {
    const file = join(dir, `${name}.json`);
    if (!existsSync(file)) return;
    const commands = (JSON.parse(readFileSync(file, 'utf8')) as { commands: Command[] }).commands;
    scripts.push({ label, dir, commands, features });
  };
  for (const name of subdirs(join(SPEC_DIR, 'core'))) add(name, join(SPEC_DIR, 'core', name), name, {});
  for (const [proposal, features] of Object.entries(PROPOSALS)) {
    const base = join(SPEC_DIR, 'proposals', proposal);
    for (const name of subdirs(base)) add(`${proposal}/${name}`, join(base, name), name, features);
  }
  return scripts;
}

const WELL_FORMED = new Set(['module', 'assert_invalid', 'assert_unlinkable', 'assert_uninstantiable']);

/** Totals over all scripts, for the summary test. */
const tally = { malformedPassed: 0, malformedFailed: 0, wellFormedDecoded: 0, wellFormedFailed: 0 };

/** Runs one script's binary modules through the decoder; returns its failures, one line each. */
function runScript(script: Script): string[] {
  const failures: string[] = [];
  for (const cmd of script.commands) {
    const checksMalformed = cmd.type === 'assert_malformed';
    if (!checksMalformed && !WELL_FORMED.has(cmd.type)) continue;
    if (cmd.module_type === 'text' || cmd.filename === undefined || !cmd.filename.endsWith('.wasm')) continue;
    const where = `${script.label}.wast:${cmd.line} (${cmd.filename})`;
    const bytes = new Uint8Array(readFileSync(join(script.dir, cmd.filename)));
    let error: unknown = null;
    try {
      decodeModule(bytes, script.features);
    } catch (e) {
      error = e;
    }
    const got = error === null ? 'no error' : error instanceof DecodeError ? `"${error.message}"` : String(error);
    if (checksMalformed) {
      const ok = error instanceof DecodeError && error.message.startsWith(cmd.text ?? '\0');
      if (ok) tally.malformedPassed++;
      else {
        tally.malformedFailed++;
        failures.push(`${where}: expected "${cmd.text}", got ${got}`);
      }
    } else if (error === null) {
      tally.wellFormedDecoded++;
    } else {
      tally.wellFormedFailed++;
      failures.push(`${where}: ${cmd.type} module must decode, got ${got}`);
    }
  }
  return failures;
}

describe('decoding the spec testsuite', () => {
  const scripts = loadScripts();

  it(`finds the converted testsuite (set WASM_SPEC_DIR; looked in ${SPEC_DIR})`, () => {
    expect(existsSync(join(SPEC_DIR, 'core')), `no spec testsuite at ${SPEC_DIR}`).toBe(true);
    expect(scripts.length).toBeGreaterThan(80);
  });

  for (const script of scripts) {
    it(`rejects ${script.label}'s malformed binaries with the spec's message and decodes its other binaries`, () => {
      expect(runScript(script)).toEqual([]);
    });
  }

  it('covered every binary assert_malformed and well-formed module', () => {
    console.log(
      `spec testsuite: assert_malformed ${tally.malformedPassed} passed, ${tally.malformedFailed} failed; ` +
        `well-formed modules ${tally.wellFormedDecoded} decoded, ${tally.wellFormedFailed} failed`,
    );
    expect(tally.malformedPassed).toBeGreaterThan(600);
    expect(tally.wellFormedDecoded).toBeGreaterThan(1000);
  });
});

// ---- What the decoder produces ----

describe('the decoded module', () => {
  it('holds every section of a module that uses them all', () => {
    const m = decodeModule(kitchenSink());
    expect(m.types).toEqual([{ params: [], results: [] }, { params: [I32], results: [I32] }]);
    expect(m.imports.map((i) => i.desc.kind)).toEqual(['func', 'table', 'memory', 'global']);
    expect(m.imports[1]!.desc).toEqual({ kind: 'table', type: { elem: EXTERNREF, limits: { min: 1 } } });
    expect(m.imports[2]!.desc).toEqual({ kind: 'memory', type: { limits: { min: 1, max: 2 } } });
    expect(m.imports[3]!.desc).toEqual({ kind: 'global', type: { type: I32, mutable: false } });
    expect([m.numImportedFuncs, m.numImportedTables, m.numImportedMemories, m.numImportedGlobals]).toEqual([1, 1, 1, 1]);
    expect(m.funcs).toEqual([0, 1]);
    expect(m.tables).toEqual([{ elem: FUNCREF, limits: { min: 4 } }]);
    expect(m.globals[0]!.type).toEqual({ type: I32, mutable: true });
    expect(m.exports).toEqual([
      { name: 'run', kind: 'func', index: 1 },
      { name: 'mem', kind: 'memory', index: 0 },
    ]);
    expect(m.start).toBe(1);
    expect(m.dataCount).toBe(3);
    expect(m.customs.map((c) => c.name)).toEqual(['first', 'name', 'last']);
    expect([...m.customs[0]!.data]).toEqual([1, 2, 3]);
  });

  it('keeps constant expressions as byte ranges that include their end', () => {
    const m = decodeModule(kitchenSink());
    const init = m.globals[0]!.init;
    expect([...m.bytes.subarray(init.start, init.end)]).toEqual([0x41, 0x00, END]);
  });

  it('decodes all 8 element segment encodings', () => {
    const e = decodeModule(kitchenSink()).elems;
    expect(e.map((s) => [s.mode, s.table, s.offset !== null, s.type])).toEqual([
      ['active', 0, true, FUNCREF],
      ['passive', 0, false, FUNCREF],
      ['active', 1, true, FUNCREF],
      ['declarative', 0, false, FUNCREF],
      ['active', 0, true, FUNCREF],
      ['passive', 0, false, FUNCREF],
      ['active', 1, true, EXTERNREF],
      ['declarative', 0, false, FUNCREF],
    ]);
    expect(e.slice(0, 4).map((s) => [s.funcs, s.init])).toEqual([[[1, 2], []], [[1], []], [[2], []], [[1], []]]);
    for (const s of e.slice(4)) expect(s.funcs).toBeNull();
    expect(e.slice(4).map((s) => s.init.length)).toEqual([2, 1, 1, 1]);
  });

  it('decodes all 3 data segment encodings', () => {
    const d = decodeModule(kitchenSink()).datas;
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    expect(d.map((s) => [s.mode, s.memory, s.offset !== null, text(s.bytes)])).toEqual([
      ['active', 0, true, 'abc'],
      ['passive', 0, false, 'passive'],
      ['active', 0, true, 'xy'],
    ]);
  });

  it('keeps function bodies as run-length locals and the byte range of their code', () => {
    const m = decodeModule(kitchenSink());
    const b = m.codes[1]!;
    expect(b.locals).toEqual([{ count: 2, type: I32 }, { count: 1, type: 0x7e }]);
    expect(b.localCount).toBe(3);
    expect([...m.bytes.subarray(b.start, b.end)]).toEqual([0x20, 0x00, 0xfc, 0x09, 0x01, END]);
  });

  it('reads the name section: module, function and local names', () => {
    const names = decodeModule(kitchenSink()).names!;
    expect(names.module).toBe('sink');
    expect(names.functions).toEqual(new Map([[1, 'main'], [2, 'helper']]));
    expect(names.locals).toEqual(new Map([[2, new Map([[1, 'x']])]]));
  });

  it('ignores a broken name section, keeping the names read before the break', () => {
    const funcNames = vec([u32(0).concat(str('good')), u32(1).concat([0x05, 0x62, 0x61])]); // second name cut short
    const m = decodeModule(wasm(
      TYPE_VOID, ONE_FUNC, section(10, vec([body([], [END])])),
      section(0, str('name').concat([0x01], u32(funcNames.length), funcNames)),
    ));
    expect(m.names!.functions).toEqual(new Map([[0, 'good']]));
    const garbage = decodeModule(wasm(section(0, str('name').concat([0x01, 0xff, 0xff, 0xff, 0xff, 0x0f]))));
    expect(garbage.names!.functions.size).toBe(0);
  });

  it('has no names when there is no name section', () => {
    expect(decodeModule(wasm()).names).toBeNull();
  });
});

// ---- Rules the testsuite does not pin down ----

describe('well-formedness rules', () => {
  it('accepts return_call only with the tail-call feature', () => {
    const code = [0x12, 0x00, END];
    expect(decodeError(() => funcModule(code)).message).toBe('illegal opcode');
    expect(funcModule(code, [], { tailCall: true }).codes).toHaveLength(1);
  });

  it('reads a memory index in memargs and memory instructions with multi-memory', () => {
    // i32.load with bit 6 set and memory 1, memory.size 1, drop both.
    const code = [0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x3f, 0x01, 0x1a, 0x1a, END];
    expect(funcModule(code, [], { multiMemory: true }).codes).toHaveLength(1);
    expect(decodeError(() => funcModule(code)).message).toBe('malformed memop flags');
  });

  it('decodes a second memory without multi-memory (the validator rejects it)', () => {
    expect(decodeModule(wasm(section(5, vec([[0x00, 0x01], [0x00, 0x01]])))).memories).toHaveLength(2);
  });

  it('rejects a repeated or misplaced section', () => {
    expect(decodeError(() => decodeModule(wasm(TYPE_VOID, TYPE_VOID))).message).toBe('unexpected content after last section');
    expect(decodeError(() => decodeModule(wasm(ONE_FUNC, TYPE_VOID))).message).toBe('unexpected content after last section');
  });

  it('takes an else outside an if as a missing end', () => {
    expect(decodeError(() => funcModule([0x02, 0x40, 0x05, END, END])).message).toBe('END opcode expected');
    expect(decodeError(() => funcModule([0x41, 0x00, 0x04, 0x40, 0x05, 0x05, END, END])).message).toBe('END opcode expected');
  });

  it('rejects a block type that is neither empty, a value type nor a type index', () => {
    expect(decodeError(() => funcModule([0x02, 0x7a, END, END])).message).toBe('malformed value type');
    expect(decodeError(() => funcModule([0x02, 0xff, 0x7f, END, END])).message).toBe('malformed value type');
    expect(funcModule([0x02, 0x7f, 0x41, 0x00, END, 0x1a, END]).codes).toHaveLength(1);
  });

  it('rejects an element kind other than funcref', () => {
    const seg = [0x01, 0x01].concat(vec([]));
    expect(decodeError(() => decodeModule(wasm(section(9, vec([seg]))))).message).toBe('malformed element kind');
  });

  it('rejects unknown element and data segment flags', () => {
    expect(decodeError(() => decodeModule(wasm(section(9, vec([[0x08]]))))).message).toBe('malformed elements segment kind');
    expect(decodeError(() => decodeModule(wasm(section(11, vec([[0x03]]))))).message).toBe('malformed data segment kind');
  });

  it('reports bytes after a function body\'s final end as a size mismatch', () => {
    expect(decodeError(() => funcModule([END, 0x01])).message).toBe('section size mismatch');
  });
});

// ---- Hostile input ----

describe('hostile input', () => {
  /** Offsets where a section ends: a prefix cut there can be a well-formed module. */
  function sectionEnds(bytes: Uint8Array): Set<number> {
    const ends = new Set<number>([8]);
    let p = 8;
    while (p < bytes.length) {
      p++;
      let size = 0;
      let mul = 1;
      let b: number;
      do {
        b = bytes[p++]!;
        size += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      p += size;
      ends.add(p);
    }
    return ends;
  }

  function specModule(path: string): Uint8Array {
    return new Uint8Array(readFileSync(join(SPEC_DIR, 'core', path)));
  }

  const SAMPLES: [string, () => Uint8Array][] = [
    ['the kitchen-sink module', kitchenSink],
    ['block.0.wasm', () => specModule('block/block.0.wasm')],
    ['call_indirect.0.wasm', () => specModule('call_indirect/call_indirect.0.wasm')],
    ['names.2.wasm', () => specModule('names/names.2.wasm')],
  ];

  for (const [label, load] of SAMPLES) {
    it(`rejects every truncation of ${label} with a DecodeError, quickly`, () => {
      const bytes = load();
      decodeModule(bytes);
      const ends = sectionEnds(bytes);
      const t0 = performance.now();
      for (let n = 0; n < bytes.length; n++) {
        const prefix = bytes.subarray(0, n);
        if (ends.has(n)) decodeOrDecodeError(prefix);
        else decodeError(() => decodeModule(prefix));
      }
      expect(performance.now() - t0).toBeLessThan(5_000);
    });
  }

  it('either decodes or throws a DecodeError on randomly mutated modules', () => {
    const bases = SAMPLES.map(([, load]) => load());
    fc.assert(
      fc.property(
        fc.nat(bases.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (which, mutations) => {
          const bytes = bases[which]!.slice();
          for (const [at, value] of mutations) bytes[8 + (at % (bytes.length - 8))] = value;
          decodeOrDecodeError(bytes);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('either decodes or throws a DecodeError on random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        decodeOrDecodeError(Uint8Array.from(HEADER.concat([...tail])));
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses a count of 0xFFFFFFFF without allocating for it', () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0x0f];
    const cases: Uint8Array[] = [
      wasm(section(1, huge)), // type vector
      wasm(section(0, huge)), // custom section name length
      wasm(section(11, [0x01, 0x01].concat(huge))), // data bytes
      wasm(section(9, [0x01, 0x01, 0x00].concat(huge))), // element function indices
      wasm(TYPE_VOID, ONE_FUNC, section(10, vec([u32(7).concat(huge, [0x01, END])]))), // locals vector
      wasm(TYPE_VOID, ONE_FUNC, section(10, vec([body([], [0x41, 0x00, 0x0e].concat(huge, [END]))]))), // br_table
      wasm(TYPE_VOID, ONE_FUNC, section(10, vec([body([], [0x1c].concat(huge, [END]))]))), // typed select
    ];
    const t0 = performance.now();
    for (const bytes of cases) expect(decodeError(() => decodeModule(bytes)).message).toBe('length out of bounds');
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('decodes a body nested 100,000 blocks deep without overflowing the stack', () => {
    const depth = 100_000;
    const code: Bytes = new Array<number>(depth * 3 + 1);
    for (let i = 0; i < depth; i++) {
      code[2 * i] = 0x02;
      code[2 * i + 1] = 0x40;
      code[2 * depth + i] = END;
    }
    code[3 * depth] = END;
    const m = funcModule(code);
    expect(m.codes[0]!.end).toBe(m.bytes.length);
    // The same nesting without its ends runs out of input instead.
    const open = code.slice(0, 2 * depth);
    expect(decodeError(() => funcModule(open)).message).toMatch(/^unexpected end/);
  });

  it('rejects absurd local counts as too many locals', () => {
    const tooMany = (locals: Bytes[]) => decodeError(() => funcModule([END], locals)).message;
    expect(tooMany([u32(0xffffffff).concat([I32])])).toBe('too many locals');
    expect(tooMany([u32(0xffffffff).concat([I32]), u32(0xffffffff).concat([I32])])).toBe('too many locals');
    expect(tooMany([u32(MAX_LOCALS).concat([I32]), u32(1).concat([I32])])).toBe('too many locals');
    expect(funcModule([END], [u32(MAX_LOCALS).concat([I32])]).codes[0]!.localCount).toBe(MAX_LOCALS);
  });
});
