/**
 * Differential execution of one WebAssembly module on V8 (Node's own
 * `WebAssembly`) and on our engine (`src/vm`), for the fuzz driver
 * (`scripts/fuzz-v8.mjs`) and the fixed-corpus test (`test/fuzz-corpus.test.ts`).
 *
 * Both runs see the same host functions: every import of the
 * `fuzzing-support` module that binaryen's `wasm-opt -ttf` emits (`log-i32`,
 * `log-i64`, `log-f32`, `log-f64`, ...) records its arguments in an event
 * log; `call-export` also calls an export of the instance back (the same one
 * on both sides), up to 3 deep. Every exported function is then called in export order, with zero
 * arguments (`hangLimitInitializer`, if exported, is called before each, as
 * binaryen's own harness does, so fuzz modules stay bounded), and each call's
 * results or trap go into the same log. At the end the exported memories and
 * globals are read. Two runs agree when their logs agree (floats compared by
 * value and sign, any NaN matching any NaN; traps by kind), and their
 * memories and globals agree (memory bytes exactly, except where both sides
 * hold a NaN at the same place: the spec lets arithmetic NaN bits differ).
 *
 * Stack exhaustion is "exhausted" on both sides (V8's RangeError, our
 * Exhaustion). The run stops at the first exhaustion, since the two engines'
 * limits differ; a run where only one side exhausted is reported as
 * `exhaustion-diff`, not as a mismatch.
 */
import { Exhaustion, Func, Global, Instance, Memory, Module, f32FromBits, f64FromBits, type Value } from '../src/vm/index.js';

export interface Run {
  /** 'ok', or why the module did not compile (any reason: both engines must just agree that it does not). */
  compile: string;
  /** Events in order: calls, host calls, results, traps. */
  events: string[];
  /** Full trap messages, by event index, for reports. */
  messages: Record<number, string>;
  /** Whether the run stopped at a stack exhaustion. */
  exhausted: boolean;
  /** Exported memories' contents, by export name. */
  memories: Record<string, Uint8Array>;
  /** Exported globals' values, by export name. */
  globals: Record<string, string>;
  /** Milliseconds spent running (compile included). */
  ms: number;
}

export interface Mismatch {
  kind: string;
  detail: string;
}

const TYPE_NAMES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref' };

/** A JS value in a log or result as text: numbers by value and sign (any NaN is "NaN"), BigInts with "n", references by null-ness. */
export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : String(v);
  if (v === null || v === undefined) return 'null';
  return 'ref';
}

function showValue(v: Value): string {
  switch (v.type) {
    case 'i32':
      return show(v.value);
    case 'i64':
      return show(v.value);
    case 'f32':
      return show(f32FromBits(v.bits));
    case 'f64':
      return show(f64FromBits(v.bits));
    default:
      return show(v.value);
  }
}

/** A trap message of either engine as a kind both share. */
export function trapKind(msg: string): string {
  const m = msg.toLowerCase();
  if (m.includes('unreachable')) return 'unreachable';
  if (m.includes('memory access out of bounds') || m.includes('out of bounds memory access') || m.includes('data segment')) return 'memory-oob';
  if (m.includes('divide by zero') || m.includes('remainder by zero')) return 'div-by-zero';
  if (m.includes('integer overflow') || m.includes('unrepresentable') || m.includes('invalid conversion to integer')) return 'int-overflow';
  if (m.includes('table index is out of bounds') || m.includes('out of bounds table access') || m.includes('undefined element') || m.includes('element segment')) return 'table-oob';
  if (m.includes('signature mismatch') || m.includes('null function') || m.includes('uninitialized element') || m.includes('indirect call type mismatch')) return 'indirect-call';
  return `other`;
}

function zeroJs(t: string): unknown {
  return t === 'i64' ? 0n : t === 'funcref' || t === 'externref' ? null : 0;
}

function zeroValue(t: number): Value {
  switch (t) {
    case 0x7f: return { type: 'i32', value: 0 };
    case 0x7e: return { type: 'i64', value: 0n };
    case 0x7d: return { type: 'f32', bits: 0 };
    case 0x7c: return { type: 'f64', bits: 0n };
    case 0x70: return { type: 'funcref', value: null };
    default: return { type: 'externref', value: null };
  }
}

/** Parameter and result types of every function (imports first), read with our decoder, which V8 need not be given. */
function funcTypes(mod: Module): { params: string[]; results: string[] }[] {
  const ast = mod.ast;
  const out: { params: string[]; results: string[] }[] = [];
  for (const imp of ast.imports) {
    if (imp.desc.kind === 'func') {
      const t = ast.types[imp.desc.type]!;
      out.push({ params: t.params.map((x) => TYPE_NAMES[x]!), results: t.results.map((x) => TYPE_NAMES[x]!) });
    }
  }
  for (const ti of ast.funcs) {
    const t = ast.types[ti]!;
    out.push({ params: t.params.map((x) => TYPE_NAMES[x]!), results: t.results.map((x) => TYPE_NAMES[x]!) });
  }
  return out;
}

const HANG = 'hangLimitInitializer';
/** The host import that calls an export back (its argument picks which); nested at most MAX_NESTED deep. */
const CALL_EXPORT = 'call-export';
const MAX_NESTED = 3;

function empty(): Run {
  return { compile: 'ok', events: [], messages: {}, exhausted: false, memories: {}, globals: {}, ms: 0 };
}

function isV8Exhaustion(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** Runs a module on V8. `types` are the functions' types (from our decoder) when it could decode the module. */
/**
 * Records a trap or an exhaustion into a run's event log; returns true for an
 * exhaustion (the caller stops calling exports then).
 */
function trapRecorder(run: Run, isExhaustion: (e: unknown) => boolean): (e: unknown) => boolean {
  const ev = run.events;
  return (e) => {
    if (isExhaustion(e)) {
      ev.push('exhausted');
      run.exhausted = true;
      return true;
    }
    const msg = e instanceof Error ? e.message : String(e);
    run.messages[ev.length] = msg;
    ev.push(`trap ${trapKind(msg)}`);
    return false;
  };
}

export function runV8(bytes: Uint8Array): Run {
  const run = empty();
  const t0 = performance.now();
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(bytes);
  } catch (e) {
    run.compile = `invalid: ${(e as Error).message}`;
    return run;
  }
  let types: { params: string[]; results: string[] }[] | null = null;
  try {
    types = funcTypes(new Module(bytes, { features: { tailCall: true } }));
  } catch {
    // our engine rejects it: the comparison reports that; V8's run needs the export types only for arguments
  }
  const ev = run.events;
  const imports: WebAssembly.ImportObject = {};
  const exportedFuncs = WebAssembly.Module.exports(mod).filter((e) => e.kind === 'function' && e.name !== HANG).map((e) => e.name);
  const funcIndex = types === null ? null : exportFuncIndices(bytes);
  let exps: Record<string, unknown> = {};
  let nested = 0;
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.kind !== 'function') {
      run.compile = `unsupported import ${imp.module}.${imp.name} (${imp.kind})`;
      return run;
    }
    const name = imp.name;
    (imports[imp.module] ??= {})[name] = (...args: unknown[]) => {
      ev.push(`${name}(${args.map(show).join(', ')})`);
      if (name === CALL_EXPORT && nested < MAX_NESTED && exportedFuncs.length > 0) {
        const x = exportedFuncs[((args[0] as number) >>> 0) % exportedFuncs.length]!;
        const t = types !== null && funcIndex !== null ? types[funcIndex.get(x)!] : undefined;
        nested++;
        try {
          (exps[x] as (...a: unknown[]) => unknown)(...(t === undefined ? [] : t.params.map(zeroJs)));
        } finally {
          nested--;
        }
      }
    };
  }
  const trap = trapRecorder(run, isV8Exhaustion);
  let inst: WebAssembly.Instance;
  try {
    inst = new WebAssembly.Instance(mod, imports);
  } catch (e) {
    ev.push('instantiate');
    trap(e);
    run.ms = performance.now() - t0;
    return run;
  }
  exps = inst.exports;
  const hang = typeof exps[HANG] === 'function' ? (exps[HANG] as (...a: unknown[]) => void) : null;
  const hangType = types !== null && funcIndex !== null && funcIndex.has(HANG) ? types[funcIndex.get(HANG)!] : undefined;
  for (const exp of WebAssembly.Module.exports(mod)) {
    if (exp.kind !== 'function' || exp.name === HANG) continue;
    const f = exps[exp.name] as (...a: unknown[]) => unknown;
    const t = types !== null && funcIndex !== null ? types[funcIndex.get(exp.name)!] : undefined;
    const args = t === undefined ? [] : t.params.map(zeroJs);
    ev.push(`call ${exp.name}`);
    try {
      if (hang !== null) hang(...(hangType === undefined ? [] : hangType.params.map(zeroJs)));
      const r = f(...args);
      const rs = t !== undefined && t.results.length > 1 ? (r as unknown[]) : t !== undefined && t.results.length === 0 ? [] : [r];
      ev.push(`= ${rs.map(show).join(', ')}`);
    } catch (e) {
      if (trap(e)) break;
    }
  }
  for (const exp of WebAssembly.Module.exports(mod)) {
    const x = exps[exp.name];
    if (exp.kind === 'memory') run.memories[exp.name] = new Uint8Array((x as WebAssembly.Memory).buffer).slice();
    else if (exp.kind === 'global') run.globals[exp.name] = show((x as WebAssembly.Global).value);
  }
  run.ms = performance.now() - t0;
  return run;
}

/** Export name -> function index, from our decoder. */
function exportFuncIndices(bytes: Uint8Array): Map<string, number> {
  const m = new Module(bytes, { features: { tailCall: true } });
  const out = new Map<string, number>();
  for (const e of m.ast.exports) if (e.kind === 'func') out.set(e.name, e.index);
  return out;
}

/** Runs a module on our engine. */
export function runOurs(bytes: Uint8Array, opts: { maxCallDepth?: number; tailCall?: boolean; tier?: 'interpreter' | 'auto' | 'compiled' } = {}): Run {
  const run = empty();
  const t0 = performance.now();
  let mod: Module;
  try {
    mod = new Module(bytes, { features: { tailCall: opts.tailCall === true }, tier: opts.tier });
  } catch (e) {
    run.compile = `invalid: ${(e as Error).message}`;
    const at = (e as { offset?: number }).offset;
    if (at !== undefined && at >= 0 && at < bytes.length) run.compile += ` (at ${at}: byte 0x${bytes[at]!.toString(16)})`;
    return run;
  }
  const ev = run.events;
  const imports: Record<string, Record<string, Func>> = {};
  const ast = mod.ast;
  const exportedFuncs = ast.exports.filter((e) => e.kind === 'func' && e.name !== HANG).map((e) => e.name);
  let nested = 0;
  // eslint-disable-next-line prefer-const
  let inst: Instance;
  for (const imp of ast.imports) {
    if (imp.desc.kind !== 'func') {
      run.compile = `unsupported import ${imp.module}.${imp.name} (${imp.desc.kind})`;
      return run;
    }
    const name = imp.name;
    (imports[imp.module] ??= {})[name] = Func.host(ast.types[imp.desc.type]!, (args) => {
      ev.push(`${name}(${args.map(showValue).join(', ')})`);
      if (name === CALL_EXPORT && nested < MAX_NESTED && exportedFuncs.length > 0 && args[0]!.type === 'i32') {
        const f = inst.getExport(exportedFuncs[(args[0]!.value >>> 0) % exportedFuncs.length]!) as Func;
        nested++;
        const out = f.invoke(f.type.params.map(zeroValue));
        nested--;
        if (out.kind === 'trapped') throw out.trap;
      }
      return [];
    });
  }
  const trap = trapRecorder(run, (e) => e instanceof Exhaustion);
  try {
    inst = new Instance(mod, imports, { maxCallDepth: opts.maxCallDepth ?? 20_000 });
  } catch (e) {
    ev.push('instantiate');
    trap(e);
    run.ms = performance.now() - t0;
    return run;
  }
  const hang = inst.getExport(HANG);
  for (const e of ast.exports) {
    if (e.kind !== 'func' || e.name === HANG) continue;
    const f = inst.getExport(e.name) as Func;
    ev.push(`call ${e.name}`);
    if (hang instanceof Func) {
      const o = hang.invoke(hang.type.params.map(zeroValue));
      if (o.kind === 'trapped') {
        if (trap(o.trap)) break;
        continue;
      }
    }
    const out = f.invoke(f.type.params.map(zeroValue));
    if (out.kind === 'trapped') {
      if (trap(out.trap)) break;
    } else ev.push(`= ${out.results.map(showValue).join(', ')}`);
  }
  for (const e of ast.exports) {
    const x = inst.getExport(e.name);
    if (x instanceof Memory) run.memories[e.name] = x.bytes().slice();
    else if (x instanceof Global) {
      const v = x.get();
      run.globals[e.name] = showValue(v);
    }
  }
  run.ms = performance.now() - t0;
  return run;
}

function isF32NaN(b: Uint8Array, i: number): boolean {
  if (i < 0 || i + 4 > b.length) return false;
  const hi = b[i + 3]!, next = b[i + 2]!;
  return (hi & 0x7f) === 0x7f && (next & 0x80) !== 0 && (b[i]! | b[i + 1]! | (next & 0x7f)) !== 0;
}

function isF64NaN(b: Uint8Array, i: number): boolean {
  if (i < 0 || i + 8 > b.length) return false;
  const hi = b[i + 7]!, next = b[i + 6]!;
  if ((hi & 0x7f) !== 0x7f || (next & 0xf0) !== 0xf0) return false;
  return (b[i]! | b[i + 1]! | b[i + 2]! | b[i + 3]! | b[i + 4]! | b[i + 5]! | (next & 0x0f)) !== 0;
}

/** Whether a differing byte at i lies inside a float that is a NaN in both memories. */
function nanExplains(a: Uint8Array, b: Uint8Array, i: number): boolean {
  for (let s = i - 3; s <= i; s++) if (isF32NaN(a, s) && isF32NaN(b, s)) return true;
  for (let s = i - 7; s <= i; s++) if (isF64NaN(a, s) && isF64NaN(b, s)) return true;
  return false;
}

/** Compares a V8 run (`a`) with ours (`b`). Returns null when they agree. */
export function compareRuns(a: Run, b: Run): Mismatch | null {
  const aOk = a.compile === 'ok', bOk = b.compile === 'ok';
  if (aOk !== bOk) {
    // V8 also runs proposals beyond 2.0 (legacy exceptions, tail calls, ...): a byte flip can make one.
    const ext = aOk && /illegal opcode.*byte 0x(6|7|8|9|12|13|18|19|d3|d4|d5|d6|fb|fd|fe)\)$/.test(b.compile);
    return { kind: ext ? 'v8-extension' : 'compile', detail: `V8: ${a.compile}\nours: ${b.compile}` };
  }
  if (!aOk) return null;
  const n = Math.max(a.events.length, b.events.length);
  for (let i = 0; i < n; i++) {
    const x = a.events[i], y = b.events[i];
    if (x === y) continue;
    const ctx = a.events.slice(Math.max(0, i - 6), i).map((e) => `  ${e}`).join('\n');
    const detail = `event ${i}:\n${ctx}\n  V8:   ${x ?? '(end)'}${a.messages[i] ? ` (${a.messages[i]})` : ''}\n  ours: ${y ?? '(end)'}${b.messages[i] ? ` (${b.messages[i]})` : ''}`;
    if (x === 'exhausted' || y === 'exhausted') return { kind: 'exhaustion-diff', detail };
    if (x?.startsWith('trap ') && y?.startsWith('trap ')) return { kind: 'trap-kind', detail };
    return { kind: 'events', detail };
  }
  if (a.exhausted || b.exhausted) return null; // partial side effects depend on stack limits
  for (const name of new Set([...Object.keys(a.globals), ...Object.keys(b.globals)])) {
    if (a.globals[name] !== b.globals[name]) return { kind: 'global', detail: `global ${name}: V8 ${a.globals[name]}, ours ${b.globals[name]}` };
  }
  for (const name of new Set([...Object.keys(a.memories), ...Object.keys(b.memories)])) {
    const x = a.memories[name], y = b.memories[name];
    if (x === undefined || y === undefined || x.length !== y.length) {
      return { kind: 'memory', detail: `memory ${name}: V8 ${x?.length} bytes, ours ${y?.length} bytes` };
    }
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== y[i] && !nanExplains(x, y, i)) {
        const hex = (m: Uint8Array) => Array.from(m.subarray(Math.max(0, i - 8), i + 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
        return { kind: 'memory', detail: `memory ${name} differs at byte ${i}:\n  V8:   ${hex(x)}\n  ours: ${hex(y)}` };
      }
    }
  }
  return null;
}
