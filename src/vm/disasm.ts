/**
 * A disassembler for function bodies, driven by the opcode table: prints
 * each instruction's text name and immediates, indented by nesting.
 */
import { CodeReader } from './reader.js';
import { BLOCK_EMPTY, Imm, Op, blockValType } from './opcodes.js';
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
