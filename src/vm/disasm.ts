/**
 * Disassemblers: of function bodies, driven by the opcode table (opcodes.ts),
 * printing each instruction's text name and immediates, indented by nesting;
 * and of lowered code, driven by the internal instruction set table (isa.ts).
 */
import { CodeReader } from './reader.js';
import { BLOCK_EMPTY, Imm, OPS, Op, blockValType } from './opcodes.js';
import { ISA, forEachTarget, insnLength, operandAt, type Insn } from './isa.js';
import { valTypeName, type ModuleAst } from './types.js';

/** The instructions of defined function `funcIdx` (in the function index space) as text, one per line. */
export function disassemble(ast: ModuleAst, funcIdx: number): string {
  const body = ast.codes[funcIdx - ast.numImportedFuncs];
  if (body === undefined) throw new RangeError(`no defined function ${funcIdx}`);
  const r = new CodeReader(ast.bytes, body.start, body.end);
  const lines: string[] = [];
  let depth = 1;
  while (r.pos < r.end) {
    const info = r.next();
    if (info.id === Op.end || info.id === Op.else) depth--;
    if (depth < 0) break;
    lines.push('  '.repeat(depth) + info.name + immediates(r, info.imm));
    if (info.id === Op.block || info.id === Op.loop || info.id === Op.if || info.id === Op.else) depth++;
  }
  return lines.join('\n');
}

function immediates(r: CodeReader, imm: number): string {
  switch (imm) {
    case Imm.none: return '';
    case Imm.block: return r.a === BLOCK_EMPTY ? '' : r.a < 0 ? ` (result ${valTypeName(blockValType(r.a))})` : ` (type ${r.a})`;
    case Imm.brTable: return ` ${r.targets.join(' ')} ${r.a}`;
    case Imm.callIndirect: case Imm.memInit: case Imm.memCopy: case Imm.tableInit: case Imm.tableCopy: return ` ${r.a} ${r.b}`;
    case Imm.memarg: return ` align=${1 << r.a} offset=${r.b >>> 0}`;
    case Imm.i64: case Imm.f64: return ` 0x${(r.hi >>> 0).toString(16).padStart(8, '0')}${(r.lo >>> 0).toString(16).padStart(8, '0')}`;
    case Imm.f32: return ` 0x${(r.a >>> 0).toString(16)}`;
    case Imm.selectT: return ` (result ${r.types.map(valTypeName).join(' ')})`;
    default: return ` ${r.a}`;
  }
}

/**
 * Lowered code (an internal function's `code`, see lower.ts) as text, one
 * instruction per line, driven by the instruction set table (isa.ts): its pc,
 * its mnemonic, then its operands by kind. Slots print as `s<i>` (slot i of
 * the frame: word 2i from fp; locals first, then constant slots, then the
 * operand stack), a destination before `<-`; branch targets as `@<pc>` with
 * the fuel the branch charges; other immediates as `kind=value`.
 *
 *     12: i32.add s4 <- s2, s3
 *     16: br_if_lt_s_i s4, 100, @4 fuel=-1
 */
export function disassembleLowered(code: Int32Array): string {
  const lines: string[] = [];
  const width = String(Math.max(code.length - 1, 0)).length;
  for (let pc = 0; pc < code.length; ) {
    const head = `${String(pc).padStart(width)}: `;
    const insn = ISA[code[pc]!];
    if (insn === undefined) {
      lines.push(`${head}.word ${code[pc]}`);
      pc++;
      continue;
    }
    const len = insnLength(code, pc);
    if (!(pc + len <= code.length)) {
      lines.push(`${head}${insn.mnemonic} (truncated: ${code.length - pc} of ${Number.isNaN(len) ? '?' : len} words)`);
      break;
    }
    lines.push(head + insnText(insn, code, pc));
    pc += len;
  }
  return lines.join('\n');
}

function slot(w: number): string {
  return w >= 0 && (w & 1) === 0 ? `s${w >> 1}` : `word${w}`;
}

function insnText(insn: Insn, code: Int32Array, pc: number): string {
  const dests: string[] = [];
  const items: string[] = [];
  // MEM_ACCESS_M: its wasm opcode says whether `x` is a destination (a load) or an address (a store).
  const wasmAt = operandAt(insn.op, 'wasmOp');
  const wasmOp = wasmAt > 0 ? OPS[code[pc + wasmAt]!] : undefined;
  const loadsIntoX = wasmOp !== undefined && wasmOp.name.includes('.load');
  insn.operands.forEach((o, i) => {
    const v = code[pc + 1 + i]!;
    switch (o.kind) {
      case 'd': dests.push(slot(v)); return;
      case 'x': (loadsIntoX ? dests : items).push(slot(v)); return;
      case 'a': case 'b': case 'c': case 'y': items.push(slot(v)); return;
      case 'base': items.push(`base=${slot(v)}`); return;
      case 'imm32': items.push(String(v)); return;
      case 'lo': items.push(`0x${hex32(code[pc + 2 + i]!)}${hex32(v)}`); return; // `hi` follows `lo`
      case 'hi': case 'pad': return;
      case 'offset': items.push(`offset=${v >>> 0}`); return;
      case 'target': items.push(`@${v}`); return;
      case 'fuel':
        if (insn.operands[i - 1]?.kind === 'target') items[items.length - 1] += ` fuel=${v}`;
        else items.push(`fuel=${v}`);
        return;
      case 'n': if (!insn.targets) items.push(`n=${v}`); return;
      case 'global': items.push(`global=${v >> 1}`); return;
      case 'globalIdx': items.push(`global=${v}`); return;
      case 'wasmOp': items.push(OPS[v]?.name ?? `wasmOp=${v}`); return;
      default: items.push(`${o.kind}=${v}`); // func, type, table, mem, seg, k
    }
  });
  if (insn.targets) {
    // BR_TABLE: n+1 targets (the last one the default), then their fuel words.
    const entries: string[] = [];
    forEachTarget(code, pc, (t, f) => entries.push(`@${code[t]} fuel=${code[f]}`));
    entries[entries.length - 1] = `default ${entries[entries.length - 1]}`;
    items.push(`[${entries.join(', ')}]`);
  }
  let text = insn.mnemonic;
  if (dests.length > 0) text += ` ${dests.join(', ')} <-`;
  if (items.length > 0) text += ` ${items.join(', ')}`;
  return text;
}

function hex32(w: number): string {
  return (w >>> 0).toString(16).padStart(8, '0');
}
