#!/usr/bin/env node
// Generates the internal opcode numbers, `const enum K`, from the instruction set table in
// src/vm/isa.ts, and writes them into src/vm/interp.ts between the GENERATED markers (in the
// file of the interpreter's loop, so that every `case K.X` there is a literal under every
// compiler: see the header of isa.ts).
//
//   node scripts/gen-isa.mjs           rewrites the enum in interp.ts
//   node scripts/gen-isa.mjs --check   exits 1, writing nothing, when interp.ts is stale
//
// isa.ts imports nothing, and is loaded here with tsx (a dev dependency). src/vm/isa.test.ts
// fails when the committed enum is not what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'src/vm/interp.ts');

const isa = await tsImport('../src/vm/isa.ts', import.meta.url);
const src = readFileSync(target, 'utf8');
const begin = src.indexOf(isa.GENERATED_BEGIN);
const end = src.indexOf(isa.GENERATED_END, begin);
if (begin < 0 || end < 0) {
  console.error(`gen-isa: ${target} has no "${isa.GENERATED_BEGIN}" ... "${isa.GENERATED_END}" lines`);
  process.exit(2);
}
const lineEnd = src.indexOf('\n', end);
const out = src.slice(0, begin) + isa.opcodeEnumSource() + (lineEnd < 0 ? '' : src.slice(lineEnd + 1));

if (process.argv.includes('--check')) {
  if (out !== src) {
    console.error('gen-isa: the enum in src/vm/interp.ts is stale: run `node scripts/gen-isa.mjs`');
    process.exit(1);
  }
  console.log(`gen-isa: src/vm/interp.ts is up to date (${isa.ISA.length} opcodes)`);
} else if (out === src) {
  console.log(`gen-isa: src/vm/interp.ts unchanged (${isa.ISA.length} opcodes)`);
} else {
  writeFileSync(target, out);
  console.log(`gen-isa: wrote the enum of ${isa.ISA.length} opcodes into src/vm/interp.ts`);
}
