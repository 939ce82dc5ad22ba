/**
 * The compiled tier: functions that run often are compiled from their
 * lowered code to JavaScript (see compile.ts), and run with the same frames,
 * fuel, pauses and traps as the interpreter. `tierUpPolicy` is what an
 * instance installs on its machine (`Machine.tierUp`).
 */
import type { Inst } from '../runtime.js';
import type { CompiledCode, Lowered } from '../internal-code.js';
import { compileFunction } from './compile.js';
import { funcTypeOf, type ModuleAst } from '../types.js';

/** The value types of a defined function's locals, parameters first (CompileContext.localTypes). */
export function localTypes(ast: ModuleAst, funcIdx: number): number[] {
  const out: number[] = [...funcTypeOf(ast, funcIdx).params];
  for (const l of ast.codes[funcIdx - ast.numImportedFuncs]!.locals) for (let i = 0; i < l.count; i++) out.push(l.type);
  return out;
}

export { compileFunction, type CompiledFn, type CompileResult, JS_STACK_BUDGET } from './compile.js';

/** Which tier runs a module's functions: the interpreter only, compiled once hot, or compiled before their first run. */
export type Tier = 'interpreter' | 'auto' | 'compiled';

/**
 * Heat at which a function is compiled, with tier 'auto': an entry from
 * outside or a resume adds 100 (see enterCompiled in interp.ts); a call from
 * compiled code compiles it at once (a callee of hot code is hot).
 */
export const HOT = 200;

/** The machine's tier-up hook for a tier (Machine.tierUp): counts heat, and compiles a function once it is hot. */
export function tierUpPolicy(tier: Exclude<Tier, 'interpreter'>): (inst: Inst, funcIdx: number, lw: Lowered, heat: number) => CompiledCode | null | undefined {
  const threshold = tier === 'compiled' ? 1 : HOT;
  return (inst, funcIdx, lw, add) => {
    const heat = (lw.heat ?? 0) + add;
    lw.heat = heat;
    if (heat < threshold) return undefined;
    const r = compileFunction(lw, { fn: funcIdx, numImportedFuncs: inst.module.ast.numImportedFuncs, localTypes: localTypes(inst.module.ast, funcIdx) });
    const code = r.ok ? (r.fn as unknown as CompiledCode) : null;
    lw.compiled = code;
    return code;
  };
}
