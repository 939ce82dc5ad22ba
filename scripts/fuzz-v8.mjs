#!/usr/bin/env node
/**
 * Differential fuzzing of our engine (src/vm) against V8's WebAssembly.
 *
 *   node scripts/fuzz-v8.mjs --count N --seed S [--out DIR] [--jobs J]
 *                            [--timeout MS] [--min-bytes B] [--max-bytes B]
 *                            [--gen mix|ttf|stack] [--tail-call] [--mutate P] [--tier interpreter|auto|compiled]
 *   node scripts/fuzz-v8.mjs --file case.wasm      (re-run one module, print both logs)
 *   node scripts/fuzz-v8.mjs --corpus DIR --count N --seed S   (make a fixed corpus, see makeCorpus)
 *
 * Two generators, alternating by default (--gen mix): binaryen's -ttf, and
 * our own stack-code generator (scripts/fuzz-gen.mjs, no binaryen needed)
 * that writes the stack shapes binaryen's trees rarely have. --tail-call
 * lets the stack generator make tail calls too (beyond 2.0; our engine runs
 * them with its tailCall feature on). --tier: which of our tiers runs the
 * modules (the interpreter by default; `compiled` compiles every function).
 *
 * The -ttf cases need binaryen's `wasm-opt` on PATH (Debian: `apt-get
 * install binaryen`; made with version 108). Case i of seed S feeds
 * `wasm-opt -ttf` ("translate to fuzz") with random bytes from a PRNG seeded
 * by (S, i), restricted to WebAssembly 2.0 without SIMD (mvp +
 * mutable-globals + sign-ext + nontrapping-float-to-int + bulk-memory +
 * multivalue; reference-types in 30% of the cases, where binaryen 108 often
 * types ref.func as externref, so both engines must reject the module), with
 * binaryen's `--denan` pass in most cases (so NaN bits, which the spec lets
 * engines choose, cannot steer control flow) and an optimization pass
 * (-O1..-O4, -Os, -Oz, --fuzz-passes) in 60%. Every case is reproducible
 * from the seed alone.
 *
 * Each module runs in a worker thread on V8 and then on our engine (see
 * scripts/fuzz-compare.ts for what is compared); a worker that takes longer
 * than --timeout is ended and the case counted as a timeout (a hang on our
 * side only, with V8 fast, is reported). Failing cases go to --out (default
 * $TMPDIR/wasmhive-fuzz) as <seed>-<i>.wasm with <seed>-<i>.txt.
 *
 * Our engine is TypeScript: this script loads it through tsx's loader.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';
import { generateStackModule, prng } from './fuzz-gen.mjs';

register();
const here = dirname(fileURLToPath(import.meta.url));
const compareUrl = pathToFileURL(join(here, 'fuzz-compare.ts')).href;

const BASE_FLAGS = ['--mvp-features', '--enable-mutable-globals', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
  '--enable-bulk-memory', '--enable-multivalue'];

const OPT = ['-O1', '-O2', '-O3', '-Os', '-Oz', '--fuzz-passes', '-O4'];

/**
 * --mutate P: with probability P, changes 1-3 bytes of case i's module
 * (flip, overwrite, insert or delete), so decoders and validators are
 * compared too (both must accept, or both reject).
 */
function mutate(gen, seed, i, p) {
  const rnd = prng((Math.imul(seed >>> 0, 0x27d4eb2f) ^ Math.imul(i + 7, 0x165667b1)) >>> 0);
  if (rnd() >= p) return gen;
  const b = [...gen.wasm];
  const what = [];
  for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
    const at = 8 + Math.floor(rnd() * (b.length - 8));
    const q = rnd();
    if (q < 0.4) b[at] ^= 1 << Math.floor(rnd() * 8), what.push(`flip@${at}`);
    else if (q < 0.7) b[at] = Math.floor(rnd() * 256), what.push(`set@${at}`);
    else if (q < 0.85) b.splice(at, 0, Math.floor(rnd() * 256)), what.push(`insert@${at}`);
    else b.splice(at, 1), what.push(`delete@${at}`);
  }
  return { wasm: new Uint8Array(b), flags: [...gen.flags, `mutated: ${what.join(' ')}`] };
}


/** The wasm-opt flags and input bytes of case i of seed s. */
export function caseInput(seed, i, minBytes = 1000, maxBytes = 12000) {
  const rnd = prng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b));
  const n = minBytes + Math.floor(rnd() * (maxBytes - minBytes));
  const bytes = new Uint8Array(n);
  for (let k = 0; k < n; k++) bytes[k] = Math.floor(rnd() * 256);
  const flags = [...BASE_FLAGS];
  if (rnd() < 0.3) flags.push('--enable-reference-types');
  if (rnd() < 0.75) flags.push('--denan');
  // Optimized code has other shapes: values left on the stack (StackIR), tees, selects, br_if with values.
  if (rnd() < 0.6) flags.push(OPT[Math.floor(rnd() * OPT.length)]);
  return { bytes, flags };
}

/** The module of case i of seed s: from our stack-code generator (scripts/fuzz-gen.mjs) or binaryen's -ttf. */
export function generate(seed, i, dir, minBytes, maxBytes, gen = 'mix', tailCall = false) {
  const stack = gen === 'stack' || (gen === 'mix' && i % 2 === 1);
  if (stack) {
    const s = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
    return { wasm: generateStackModule(s, { tailCall }), flags: [`stack generator, seed ${s}${tailCall ? ', tail calls' : ''}`] };
  }
  const { bytes, flags } = caseInput(seed, i, minBytes, maxBytes);
  const inp = join(dir, `in-${seed}-${i}.dat`);
  const out = join(dir, `out-${seed}-${i}.wasm`);
  writeFileSync(inp, bytes);
  execFileSync('wasm-opt', ['-ttf', inp, '-o', out, ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wasm = readFileSync(out);
  rmSync(inp);
  rmSync(out);
  return { wasm: new Uint8Array(wasm), flags };
}

function args() {
  const a = process.argv.slice(2);
  const o = { count: 100, seed: 1, out: join(tmpdir(), 'wasmhive-fuzz'), jobs: 2, timeout: 20000, minBytes: 1000, maxBytes: 12000, file: null, gen: 'mix', corpus: null, tailCall: false, mutate: 0, tier: 'interpreter' };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    const v = a[i + 1];
    if (k === '--count') o.count = Number(v), i++;
    else if (k === '--seed') o.seed = Number(v), i++;
    else if (k === '--out') o.out = v, i++;
    else if (k === '--jobs') o.jobs = Number(v), i++;
    else if (k === '--timeout') o.timeout = Number(v), i++;
    else if (k === '--min-bytes') o.minBytes = Number(v), i++;
    else if (k === '--max-bytes') o.maxBytes = Number(v), i++;
    else if (k === '--file') o.file = v, i++;
    else if (k === '--gen') o.gen = v, i++;
    else if (k === '--corpus') o.corpus = v, i++;
    else if (k === '--tail-call') o.tailCall = true;
    else if (k === '--tier') o.tier = v, i++;
    else if (k === '--mutate') o.mutate = Number(v), i++;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

// ---- worker: runs one module on both engines per message -------------------

async function workerMain() {
  const { runV8, runOurs } = await import(compareUrl);
  parentPort.on('message', ({ id, wasm, tailCall, tier }) => {
    const v8 = runV8(wasm);
    parentPort.postMessage({ id, phase: 'v8', run: v8 });
    const ours = runOurs(wasm, { tailCall, tier });
    parentPort.postMessage({ id, phase: 'ours', run: ours });
  });
  parentPort.postMessage({ phase: 'ready' });
}

// ---- main ------------------------------------------------------------------

class Runner {
  constructor(timeout) {
    this.timeout = timeout;
    this.worker = null;
  }

  async start() {
    this.worker = new Worker(fileURLToPath(import.meta.url));
    this.worker.unref();
    await new Promise((res, rej) => {
      const on = (m) => {
        if (m.phase === 'ready') {
          this.worker.off('message', on);
          res();
        }
      };
      this.worker.on('message', on);
      this.worker.once('error', rej);
    });
  }

  /** Runs one module: { v8, ours } runs, or { timeout: 'v8' | 'ours', v8? }. */
  async run(id, wasm, tailCall = false, tier = "interpreter") {
    if (this.worker === null) await this.start();
    const w = this.worker;
    return new Promise((resolve) => {
      let v8 = null;
      const timer = setTimeout(async () => {
        w.off('message', on);
        w.off('error', onErr);
        this.worker = null;
        await w.terminate();
        resolve({ timeout: v8 === null ? 'v8' : 'ours', v8 });
      }, this.timeout);
      const onErr = (e) => {
        clearTimeout(timer);
        w.off('message', on);
        this.worker = null;
        void w.terminate();
        resolve({ error: String(e && e.stack || e), v8 });
      };
      const on = (m) => {
        if (m.id !== id) return;
        if (m.phase === 'v8') v8 = m.run;
        else {
          clearTimeout(timer);
          w.off('message', on);
          w.off('error', onErr);
          resolve({ v8, ours: m.run });
        }
      };
      w.on('message', on);
      w.once('error', onErr);
      w.postMessage({ id, wasm, tailCall, tier });
    });
  }

  async close() {
    if (this.worker !== null) await this.worker.terminate();
  }
}

/**
 * --corpus DIR: keeps the first --count cases of --seed (case numbers in
 * order) that both engines agree on and run fast (V8 under 30 ms, ours under
 * 150 ms) and that are at most 12 KB, as DIR/<seed>-<i>.wasm, and writes
 * DIR/manifest.json with each file's generator flags (merged with what is there).
 */
async function makeCorpus(o, compareRuns) {
  const { runV8, runOurs } = await import(compareUrl);
  mkdirSync(o.corpus, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'fuzz-gen-'));
  const mpath = join(o.corpus, 'manifest.json');
  const manifest = existsSync(mpath) ? JSON.parse(readFileSync(mpath, 'utf8')) : {};
  let kept = 0;
  let total = 0;
  for (let i = 0; kept < o.count; i++) {
    let gen;
    try {
      gen = generate(o.seed, i, tmp, o.minBytes, o.maxBytes, o.gen, o.tailCall);
    } catch {
      continue;
    }
    if (gen.wasm.length > 12 * 1024) continue;
    const a = runV8(gen.wasm);
    const b = runOurs(gen.wasm, { tailCall: o.tailCall, tier: o.tier });
    if (a.ms > 30 || b.ms > 150 || a.exhausted || b.exhausted || compareRuns(a, b) !== null) continue;
    const name = `${o.seed}-${i}.wasm`;
    writeFileSync(join(o.corpus, name), gen.wasm);
    manifest[name] = gen.flags.join(' ');
    kept++;
    total += gen.wasm.length;
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(mpath, JSON.stringify(manifest, null, 1) + '\n');
  console.log(`kept ${kept} modules, ${total} bytes`);
}

async function main() {
  const o = args();
  const { compareRuns } = await import(compareUrl);
  if (o.file !== null) {
    const wasm = new Uint8Array(readFileSync(o.file));
    const { runV8, runOurs } = await import(compareUrl);
    const a = runV8(wasm);
    const b = runOurs(wasm, { tailCall: o.tailCall, tier: o.tier });
    console.log('V8:', a.compile, `${a.ms.toFixed(1)} ms`);
    a.events.forEach((e, i) => console.log(`  ${e}${a.messages[i] ? ` (${a.messages[i]})` : ''}`));
    console.log('ours:', b.compile, `${b.ms.toFixed(1)} ms`);
    b.events.forEach((e, i) => console.log(`  ${e}${b.messages[i] ? ` (${b.messages[i]})` : ''}`));
    const mm = compareRuns(a, b);
    console.log(mm === null ? 'agree' : `MISMATCH ${mm.kind}\n${mm.detail}`);
    process.exit(mm === null ? 0 : 1);
  }
  if (o.corpus !== null) {
    await makeCorpus(o, compareRuns);
    return;
  }
  mkdirSync(o.out, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'fuzz-gen-'));
  const stats = { cases: 0, agree: 0, invalidBoth: 0, mismatch: 0, exhaustionDiff: 0, v8Extension: 0, timeoutV8: 0, timeoutOurs: 0, genFail: 0, workerError: 0 };
  const byKind = {};
  const t0 = Date.now();
  let next = 0;
  let v8ms = 0, oursMs = 0;
  const report = (name, wasm, kind, detail, flags) => {
    writeFileSync(join(o.out, `${name}.wasm`), wasm);
    writeFileSync(join(o.out, `${name}.txt`), `case ${name}\nwasm-opt flags: ${flags.join(' ')}\nkind: ${kind}\n${detail}\n`);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    console.log(`[${name}] ${kind}: ${detail.split('\n').slice(0, 12).join('\n    ')}`);
  };
  async function lane() {
    const r = new Runner(o.timeout);
    for (;;) {
      const i = next++;
      if (i >= o.count) break;
      const name = `${o.seed}-${i}`;
      let gen;
      try {
        gen = generate(o.seed, i, tmp, o.minBytes, o.maxBytes, o.gen, o.tailCall);
      } catch (e) {
        stats.genFail++;
        continue;
      }
      if (o.mutate > 0) gen = mutate(gen, o.seed, i, o.mutate);
      stats.cases++;
      const res = await r.run(i, gen.wasm, o.tailCall, o.tier);
      if (res.error) {
        stats.workerError++;
        report(name, gen.wasm, 'worker-error', res.error, gen.flags);
        continue;
      }
      if (res.timeout) {
        if (res.timeout === 'v8') stats.timeoutV8++;
        else {
          stats.timeoutOurs++;
          if (res.v8 && res.v8.ms < o.timeout / 100) {
            report(name, gen.wasm, 'slow', `V8 took ${res.v8.ms.toFixed(1)} ms, ours over ${o.timeout} ms`, gen.flags);
          }
        }
        continue;
      }
      v8ms += res.v8.ms;
      oursMs += res.ours.ms;
      const mm = compareRuns(res.v8, res.ours);
      if (mm === null) {
        if (res.v8.compile === 'ok') stats.agree++;
        else stats.invalidBoth++;
      } else if (mm.kind === 'exhaustion-diff') stats.exhaustionDiff++;
      else if (mm.kind === 'v8-extension') stats.v8Extension++;
      else {
        stats.mismatch++;
        report(name, gen.wasm, mm.kind, mm.detail, gen.flags);
      }
      if (stats.cases % 100 === 0) {
        console.log(`... ${stats.cases} cases, ${stats.mismatch} mismatches, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    await r.close();
  }
  await Promise.all(Array.from({ length: o.jobs }, lane));
  rmSync(tmp, { recursive: true, force: true });
  console.log(JSON.stringify({ seed: o.seed, ...stats, byKind, v8ms: Math.round(v8ms), oursMs: Math.round(oursMs), seconds: Math.round((Date.now() - t0) / 1000) }));
  console.log(`${stats.agree + stats.invalidBoth} passed, ${stats.mismatch} failed`);
  process.exit(stats.mismatch > 0 ? 1 : 0);
}

if (!isMainThread) await workerMain();
else if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
