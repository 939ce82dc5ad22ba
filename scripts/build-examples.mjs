#!/usr/bin/env node
// Rebuilds the committed .wasm files of examples/ and bench/snapshot from their .wat sources,
// with the wabt package from npm (a dev dependency; no system tools needed).
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wabt = await wabtInit();
for (const dir of ['examples/engine', 'bench/snapshot']) {
  for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith('.wat'))) {
    const src = join(root, dir, f);
    const m = wabt.parseWat(f, readFileSync(src, 'utf8'));
    m.resolveNames();
    m.validate();
    const out = src.replace(/\.wat$/, '.wasm');
    writeFileSync(out, Buffer.from(m.toBinary({ write_debug_names: true }).buffer));
    m.destroy();
    console.log(`built ${out}`);
  }
}
