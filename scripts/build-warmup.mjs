#!/usr/bin/env node
// Generates the interpreter's warm-up module (src/vm/warmup/warmup.wat), builds it to
// warmup.wasm with the wabt package, and writes warmup-wasm.ts (the same bytes, base64,
// so the engine needs no file access to load it). See src/vm/warmup.ts for why it exists.
//
// The module runs every wasm instruction in each operand shape the lowering (src/vm/lower.ts)
// turns into a different internal opcode: operands from locals, constants and stack slots,
// i32 immediates, results written to locals, compare-and-branch after br_if and if, address
// folding into loads and stores, constants in frame slots (functions with a loop) and not.
// Each is run over a table of operands that includes values beyond 2^30, negative ones,
// NaN, infinities, -0 and subnormals, and with equal operands, so V8's type feedback for `run`
// is general. rare() adds the rare ends of calls and bulk instructions (run first by warmup.ts),
// and a second, bare module (no memory, table or global) is written beside it.
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'src/vm/warmup');

// ---- operand tables (in memory 0, pairs a[i], b[i]) --------------------------------------

// Zero comes first and the second operand of row i is the first of row i-1, so that the first rows
// already take both sides of every branch: V8 starts compiling `run` once its feedback has been
// stable for a while, which may be before the last rows (see warmup.ts).
const I32 = [0, 0x7fffffff, -0x80000000, 0x40000001, -0x40000001, 0xdeadbeef | 0, -7, 1, 31, 33, 123456789, 2, -1, 0x12345678, 65535, 3];
const I64 = [
  0n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x123456789abcdef0n, -0x40000001n, 0x100000000n, -7n, 1n,
  63n, 33n, 0xffffffffn, 2n, -1n, 0x7fffffffn, 65535n, 3n,
];
const F = [NaN, Infinity, -Infinity, -0, 1.5, -2.5, 3e9, -1e-40, 0.49999997, 2.5, 1e300, -3.5, 9.3e18, 1, 0, -1];
const N = 16;
const rot = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);
const tables = {
  i32a: I32, i32b: rot(I32, 15),
  i64a: I64, i64b: rot(I64, 15),
  f32a: F, f32b: rot(F, 3),
  f64a: F, f64b: rot(F, 9),
};
const BASE = { i32a: 0x100, i32b: 0x140, i64a: 0x180, i64b: 0x200, f32a: 0x280, f32b: 0x2c0, f64a: 0x300, f64b: 0x380 };
const SCRATCH = 0x400; // 0x400..0x4ff: loads and stores

function dataBytes() {
  const buf = Buffer.alloc(0x400);
  tables.i32a.forEach((v, i) => buf.writeInt32LE(v, BASE.i32a + 4 * i));
  tables.i32b.forEach((v, i) => buf.writeInt32LE(v, BASE.i32b + 4 * i));
  tables.i64a.forEach((v, i) => buf.writeBigInt64LE(BigInt.asIntN(64, v), BASE.i64a + 8 * i));
  tables.i64b.forEach((v, i) => buf.writeBigInt64LE(BigInt.asIntN(64, v), BASE.i64b + 8 * i));
  tables.f32a.forEach((v, i) => buf.writeFloatLE(v, BASE.f32a + 4 * i));
  tables.f32b.forEach((v, i) => buf.writeFloatLE(v, BASE.f32b + 4 * i));
  tables.f64a.forEach((v, i) => buf.writeDoubleLE(v, BASE.f64a + 8 * i));
  tables.f64b.forEach((v, i) => buf.writeDoubleLE(v, BASE.f64b + 8 * i));
  return buf.subarray(0x100);
}
const watBytes = (b) => [...b].map((x) => '\\' + x.toString(16).padStart(2, '0')).join('');

// ---- code ---------------------------------------------------------------------------------

const out = [];
const emit = (s) => out.push(s);

const I32_BIN = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const I32_CMP = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const I32_IMM = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', ...I32_CMP];
const I32_UN = ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s'];
const I64_BIN = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const I64_UN = ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'];
const F_BIN = ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'];
const F_CMP = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
const F_UN = ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt'];

/** Mixes an i32 result into $s (an I32_XOR with both operands in locals). */
const mix = (expr) => `    (local.set $r ${expr})\n    (local.set $s (i32.xor (local.get $s) (local.get $r)))`;

function i32ops() {
  emit('  (func $i32ops (param $a i32) (param $b i32) (result i32) (local $r i32) (local $s i32)');
  for (const o of [...I32_BIN, ...I32_CMP]) {
    emit(mix(`(i32.${o} (local.get $a) (local.get $b))`));
    // the result into a stack slot, then used from there
    emit(`    (local.set $s (i32.add (i32.${o} (local.get $b) (local.get $a)) (local.get $s)))`);
  }
  for (const o of I32_IMM) {
    emit(mix(`(i32.${o} (local.get $a) (i32.const 0x5a5a5a5b))`));
    emit(mix(`(i32.${o} (local.get $b) (i32.const -3))`));
    emit(mix(`(i32.${o} (i32.const 7) (local.get $b))`)); // commutative ones become immediate forms
  }
  for (const o of I32_UN) emit(mix(`(i32.${o} (local.get $a))`));
  // division: not by zero, not INT_MIN / -1
  emit(`    (if (local.get $b) (then`);
  emit(mix('(i32.div_u (local.get $a) (local.get $b))'));
  emit(mix('(i32.rem_u (local.get $a) (local.get $b))'));
  emit(mix('(i32.rem_s (local.get $a) (local.get $b))'));
  emit(`      (if (i32.or (i32.ne (local.get $a) (i32.const 0x80000000)) (i32.ne (local.get $b) (i32.const -1))) (then`);
  emit(mix('(i32.div_s (local.get $a) (local.get $b))'));
  emit(`      ))))`);
  // compare-and-branch: br_if (branch when true) and if (branch when false), register and immediate
  for (const o of I32_CMP) {
    emit(`    (block (br_if 0 (i32.${o} (local.get $a) (local.get $b))) (local.set $s (i32.add (local.get $s) (i32.const 1))))`);
    emit(`    (block (br_if 0 (i32.${o} (local.get $a) (i32.const 0x40000001))) (local.set $s (i32.add (local.get $s) (i32.const 3))))`);
    emit(`    (if (i32.${o} (local.get $a) (local.get $b)) (then (local.set $s (i32.sub (local.get $s) (i32.const 5)))))`);
    emit(`    (if (i32.${o} (local.get $b) (i32.const -2)) (then (local.set $s (i32.sub (local.get $s) (i32.const 9)))))`);
  }
  emit(`    (block (br_if 0 (i32.eqz (local.get $a))) (local.set $s (i32.add (local.get $s) (i32.const 1))))`);
  emit(`    (if (i32.eqz (local.get $b)) (then (local.set $s (i32.add (local.get $s) (i32.const 1)))))`);
  // plain conditional branches on a value, select, constants, copies
  emit(`    (block (br_if 0 (local.get $a)) (local.set $s (i32.add (local.get $s) (i32.const 1))))`);
  emit(`    (if (local.get $b) (then (local.set $s (i32.add (local.get $s) (i32.const 1)))) (else (local.set $s (i32.sub (local.get $s) (i32.const 1)))))`);
  emit(mix('(select (local.get $a) (local.get $b) (local.get $s))'));
  emit(mix('(select (local.get $b) (local.get $s) (local.get $a))')); // $a is 0 in one row: the second operand
  emit(`    (local.set $r (i32.const 0x7fff0000)) (local.set $s (i32.xor (local.get $s) (local.get $r)))`);
  emit(`    (local.set $r (local.get $a)) (local.set $s (i32.xor (local.get $s) (local.get $r)))`);
  emit(`    (global.set $g (i32.add (global.get $g) (local.get $s)))`);
  emit('    (local.get $s))');
}

function i64ops() {
  emit('  (func $i64ops (param $a i64) (param $b i64) (result i64) (local $r i64) (local $s i64) (local $c i32)');
  const mix64 = (expr) => `    (local.set $r ${expr})\n    (local.set $s (i64.xor (local.get $s) (local.get $r)))`;
  for (const o of I64_BIN) {
    emit(mix64(`(i64.${o} (local.get $a) (local.get $b))`));
    emit(mix64(`(i64.${o} (local.get $b) (i64.const 0x40000001))`));
  }
  for (const o of I32_CMP) emit(`    (local.set $c (i32.add (local.get $c) (i64.${o} (local.get $a) (local.get $b))))`);
  for (const o of I64_UN) emit(mix64(`(i64.${o} (local.get $a))`));
  emit(`    (local.set $c (i32.add (local.get $c) (i64.eqz (local.get $b))))`);
  emit(`    (if (i64.ne (local.get $b) (i64.const 0)) (then`);
  for (const o of ['div_u', 'rem_u', 'rem_s']) {
    emit(mix64(`(i64.${o} (local.get $a) (local.get $b))`));
    emit(mix64(`(i64.${o} (local.get $b) (local.get $b))`));
  }
  emit(`      (if (i32.or (i64.ne (local.get $a) (i64.const 0x8000000000000000)) (i64.ne (local.get $b) (i64.const -1))) (then`);
  emit(mix64('(i64.div_s (local.get $a) (local.get $b))'));
  emit(`      ))))`);
  emit(`    (block (br_if 0 (i64.eqz (local.get $a))) (local.set $c (i32.add (local.get $c) (i32.const 1))))`);
  emit(`    (if (i64.eqz (local.get $b)) (then (local.set $c (i32.add (local.get $c) (i32.const 1)))))`);
  emit(`    (local.set $r (i64.const 0x123456789)) (local.set $s (i64.add (local.get $s) (local.get $r)))`);
  emit(`    (global.set $g64 (i64.add (global.get $g64) (local.get $s)))`);
  emit('    (i64.add (local.get $s) (i64.extend_i32_u (local.get $c))))');
}

function fops(t) {
  emit(`  (func $${t}ops (param $a ${t}) (param $b ${t}) (result i32) (local $r ${t}) (local $s ${t}) (local $c i32)`);
  for (const o of F_BIN) {
    emit(`    (local.set $r (${t}.${o} (local.get $a) (local.get $b)))`);
    emit(`    (local.set $s (${t}.add (local.get $s) (local.get $r)))`);
  }
  for (const o of F_UN) {
    emit(`    (local.set $r (${t}.${o} (local.get $a)))`);
    emit(`    (local.set $s (${t}.sub (local.get $s) (local.get $r)))`);
  }
  for (const o of F_CMP) emit(`    (local.set $c (i32.add (local.get $c) (${t}.${o} (local.get $a) (local.get $b))))`);
  if (t === 'f64') {
    for (const o of F_CMP) {
      emit(`    (block (br_if 0 (f64.${o} (local.get $a) (local.get $b))) (local.set $c (i32.add (local.get $c) (i32.const 1))))`);
      emit(`    (if (f64.${o} (local.get $a) (local.get $b)) (then (local.set $c (i32.add (local.get $c) (i32.const 3)))))`);
    }
  }
  emit(`    (i32.add (local.get $c) (${t === 'f32' ? 'i32.reinterpret_f32' : 'i32.wrap_i64 (i64.reinterpret_f64'} (local.get $s))${t === 'f64' ? ')' : ''}))`);
}

function conv() {
  emit('  (func $conv (param $i i32) (param $l i64) (param $f f32) (param $d f64) (result i32) (local $s i64) (local $c i32) (local $x f64)');
  const add = (expr) => `    (local.set $s (i64.add (local.get $s) ${expr}))`;
  const addI = (expr) => `    (local.set $c (i32.add (local.get $c) ${expr}))`;
  const addF = (expr) => `    (local.set $x (f64.add (local.get $x) ${expr}))`;
  // trapping truncations, guarded by their range (NaN fails both comparisons)
  const ranges = {
    i32_s: ['-2147483648', '2147483648'], i32_u: ['-0.99', '4294967296'],
    i64_s: ['-9223372036854775808', '9223372036854775808'], i64_u: ['-0.99', '18446744073709551616'],
  };
  for (const [to, sg] of [['i32', 's'], ['i32', 'u'], ['i64', 's'], ['i64', 'u']]) {
    const [lo, hi] = ranges[`${to}_${sg}`];
    for (const from of ['f32', 'f64']) {
      const v = from === 'f32' ? '$f' : '$d';
      const body = to === 'i32' ? addI(`(i32.trunc_${from}_${sg} (local.get ${v}))`) : add(`(i64.trunc_${from}_${sg} (local.get ${v}))`);
      emit(`    (if (${from}.ge (local.get ${v}) (${from}.const ${lo})) (then (if (${from}.lt (local.get ${v}) (${from}.const ${hi})) (then\n${body}))))`);
      emit(to === 'i32' ? addI(`(i32.trunc_sat_${from}_${sg} (local.get ${v}))`) : add(`(i64.trunc_sat_${from}_${sg} (local.get ${v}))`));
    }
  }
  emit(add('(i64.extend_i32_s (local.get $i))'));
  emit(add('(i64.extend_i32_u (local.get $i))'));
  emit(addI('(i32.wrap_i64 (local.get $l))'));
  for (const t of ['f32', 'f64']) {
    for (const [from, v] of [['i32', '$i'], ['i64', '$l']]) {
      for (const sg of ['s', 'u']) {
        const e = `(${t}.convert_${from}_${sg} (local.get ${v}))`;
        emit(addF(t === 'f32' ? `(f64.promote_f32 ${e})` : e));
      }
    }
  }
  emit(addF('(f64.promote_f32 (local.get $f))'));
  emit(addI('(i32.reinterpret_f32 (f32.demote_f64 (local.get $d)))'));
  emit(addI('(i32.reinterpret_f32 (f32.demote_f64 (local.get $x)))'));
  emit(add('(i64.reinterpret_f64 (f64.reinterpret_i64 (local.get $l)))'));
  emit('    (i32.add (local.get $c) (i32.wrap_i64 (local.get $s))))');
}

function memops() {
  // $p: an address in the scratch area; $v: a value to store
  emit('  (func $mem (param $p i32) (param $v i64) (result i32) (local $c i32) (local $l i64) (local $q i32)');
  const loads32 = ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'];
  const loads64 = ['i64.load', 'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u'];
  emit(`    (i64.store (local.get $p) (local.get $v))`);
  emit(`    (i64.store offset=8 (i32.add (local.get $p) (i32.const 8)) (local.get $v))`);
  emit(`    (i32.store (i32.add (local.get $p) (i32.const 4)) (i32.wrap_i64 (local.get $v)))`);
  emit(`    (i32.store offset=2 (local.get $p) (i32.const 0x80000001))`);
  emit(`    (i32.store8 offset=5 (local.get $p) (i32.wrap_i64 (local.get $v)))`);
  emit(`    (i32.store16 (i32.add (local.get $p) (i32.const 6)) (i32.const -2))`);
  emit(`    (i64.store8 (local.get $p) (local.get $v))`);
  emit(`    (i64.store16 offset=10 (local.get $p) (local.get $v))`);
  emit(`    (i64.store32 (i32.add (local.get $p) (i32.const 12)) (local.get $v))`);
  emit(`    (f32.store offset=16 (local.get $p) (f32.reinterpret_i32 (i32.wrap_i64 (local.get $v))))`);
  emit(`    (f64.store offset=24 (local.get $p) (f64.reinterpret_i64 (local.get $v)))`);
  emit(`    (local.set $q (i32.add (local.get $p) (i32.const 1)))`);
  emit(`    (i32.store (local.get $q) (i32.add (local.get $c) (i32.load (local.get $p))))`); // value in a slot: no folding
  for (const o of loads32) {
    emit(`    (local.set $c (i32.add (local.get $c) (${o} (local.get $q))))`);
    emit(`    (local.set $c (i32.add (local.get $c) (${o} offset=3 (i32.add (local.get $p) (i32.const 9)))))`);
  }
  for (const o of loads64) {
    emit(`    (local.set $l (i64.add (local.get $l) (${o} (local.get $q))))`);
    emit(`    (local.set $l (i64.add (local.get $l) (${o} offset=7 (i32.add (local.get $p) (i32.const 1)))))`);
  }
  emit(`    (local.set $c (i32.add (local.get $c) (i32.reinterpret_f32 (f32.load offset=16 (local.get $p)))))`);
  emit(`    (local.set $l (i64.add (local.get $l) (i64.reinterpret_f64 (f64.load offset=24 (local.get $p)))))`);
  // the second memory (multi-memory): generic accesses
  emit(`    (i32.store $m1 (local.get $p) (local.get $c))`);
  emit(`    (i64.store $m1 offset=8 (local.get $p) (local.get $v))`);
  emit(`    (i32.store8 $m1 offset=3 (local.get $p) (local.get $c))`);
  emit(`    (f64.store $m1 offset=16 (local.get $p) (f64.reinterpret_i64 (local.get $l)))`);
  emit(`    (local.set $c (i32.add (local.get $c) (i32.load $m1 (local.get $q))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (i32.load16_s $m1 (local.get $q))))`);
  emit(`    (local.set $l (i64.add (local.get $l) (i64.load $m1 offset=8 (local.get $p))))`);
  emit(`    (local.set $l (i64.add (local.get $l) (i64.load8_u $m1 offset=9 (local.get $p))))`);
  emit(`    (local.set $l (i64.add (local.get $l) (i64.reinterpret_f64 (f64.load $m1 offset=16 (local.get $p)))))`);
  // bulk memory
  emit(`    (memory.fill (i32.add (local.get $p) (i32.const 32)) (local.get $c) (i32.const 16))`);
  emit(`    (memory.copy (i32.add (local.get $p) (i32.const 40)) (local.get $p) (i32.const 24))`);
  emit(`    (memory.copy $m1 $m0 (local.get $p) (local.get $q) (i32.const 8))`);
  emit(`    (memory.init $pd (i32.add (local.get $p) (i32.const 48)) (i32.and (local.get $c) (i32.const 3)) (i32.const 4))`);
  emit(`    (local.set $c (i32.add (local.get $c) (memory.size)))`);
  emit(`    (local.set $c (i32.add (local.get $c) (memory.size $m1)))`);
  emit(`    (local.set $c (i32.add (local.get $c) (memory.grow (i32.and (local.get $c) (i32.const 1)))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (memory.grow $m1 (i32.const 0))))`);
  emit('    (i32.add (local.get $c) (i32.wrap_i64 (local.get $l))))');
}

function tableops() {
  emit('  (func $tab (param $i i32) (result i32) (local $c i32) (local $f funcref)');
  emit(`    (local.set $f (table.get $t (i32.and (local.get $i) (i32.const 3))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (ref.is_null (local.get $f))))`);
  emit(`    (table.set $t (i32.const 5) (local.get $f))`);
  emit(`    (table.set $t (i32.const 6) (ref.func $leaf))`);
  emit(`    (global.set $gf (ref.func $leaf2))`);
  emit(`    (local.set $c (i32.add (local.get $c) (ref.is_null (global.get $gf))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (table.size $t)))`);
  emit(`    (local.set $c (i32.add (local.get $c) (table.grow $t (ref.null func) (i32.and (local.get $i) (i32.const 1)))))`);
  emit(`    (table.fill $t (i32.const 7) (global.get $gf) (i32.const 2))`);
  emit(`    (table.copy $t $t (i32.const 9) (i32.const 0) (i32.const 3))`);
  emit(`    (table.init $t $pe (i32.const 12) (i32.const 0) (i32.const 2))`);
  emit(`    (local.set $c (i32.add (local.get $c) (call_indirect $t (type $ii) (local.get $i) (i32.and (local.get $i) (i32.const 1)))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (call $tail (local.get $i))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (call $tailind (local.get $i))))`);
  emit('    (local.get $c))');
}

function callops() {
  emit('  (type $ii (func (param i32) (result i32)))');
  emit('  (func $leaf (type $ii) (i32.add (local.get 0) (i32.const 1)))');
  emit('  (func $leaf2 (type $ii) (return (i32.mul (local.get 0) (i32.const 3))))');
  emit('  (func $void (param i32) (global.set $g (local.get 0)))');
  emit('  (func $multi (param i32 i64) (result i32 i64 f64) (local.get 0) (local.get 1) (f64.const 0.5))');
  emit('  (func $tail (param i32) (result i32) (return_call $leaf (i32.add (local.get 0) (i32.const 2))))');
  emit('  (func $tailind (param i32) (result i32) (return_call_indirect $t (type $ii) (local.get 0) (i32.const 1)))');
  emit('  (func $tailhost (param i32) (result i32) (return_call $host (local.get 0)))');
  emit('  (func $calls (param $i i32) (param $l i64) (result i32) (local $c i32) (local $k i32)');
  emit(`    (local.set $c (call $host (local.get $i)))`);
  emit(`    (local.set $c (i32.add (local.get $c) (call $tailhost (local.get $i))))`);
  emit(`    (call $void (local.get $c))`);
  emit(`    (call $multi (local.get $i) (local.get $l)) (drop) (drop) (drop)`);
  emit(`    (local.set $c (i32.add (local.get $c) (call $leaf2 (local.get $c))))`);
  // br_table, to labels with and without values to move
  emit(`    (local.set $k (i32.and (local.get $i) (i32.const 3)))`);
  emit(`    (local.set $c (i32.add (local.get $c)
      (block $b0 (result i32)
        (drop (block $b1 (result i32)
          (drop (block $b2 (result i32)
            (br_table $b2 $b1 $b0 $b2 (i32.const 17) (local.get $k))))
          (return (i32.const 4))))
        (i32.const 9))))`);
  emit(`    (block $x (br_table $x $x (local.get $k)))`);
  // branches carrying values (moves), a loop with a branch out
  emit(`    (local.set $c (i32.add (local.get $c) (block (result i32) (br_if 0 (local.get $i) (local.get $k)) (drop) (i32.const 5))))`);
  emit(`    (local.set $c (i32.add (local.get $c) (block (result i32) (br 0 (local.get $k)))))`);
  emit(`    (block $out (loop $l (br_if $out (i32.ge_u (local.get $k) (i32.const 6))) (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $l)))`);
  emit(`    (if (result i32) (local.get $k) (then (i32.const 1)) (else (i32.const 2)))`);
  emit(`    (i32.add (local.get $c)))`);
}

/**
 * The rare ends of calls and bulk instructions, each run by runWarmUp (warmup.ts) once or twice:
 * calls whose callee is lowered at the call (bodies up to 16 KiB are lowered on their first call), tail
 * calls into a frame with locals and into a frame larger than the stack, host functions that trap
 * or wait (by call and by tail call), call_indirect and return_call_indirect of a null element, an
 * index past the table and the wrong type, and bulk instructions too costly for the fuel at hand
 * (paid in parts, paused inside and resumed inside).
 */
function rare() {
  emit('  (type $v (func (param i32)))');
  emit(`  (func $wide (param i32) (result i32) (local ${'i64 '.repeat(1100).trim()}) (i32.add (local.get 0) (i32.const 1)))`);
  emit('  (func $locals (param i32) (result i32) (local i32 i64 f64) (local.set 1 (i32.const 7)) (i32.add (local.get 0) (local.get 1)))');
  emit('  (func $fresh1 (param i32) (result i32) (i32.add (local.get 0) (i32.const 5)))');
  emit('  (func $fresh2 (param i32) (result i32) (i32.add (local.get 0) (i32.const 6)))');
  emit('  (func $fresh3 (param i32) (result i32) (local i64) (i32.add (local.get 0) (i32.const 7)))');
  emit('  (func $tailfresh (param i32) (result i32) (return_call $fresh3 (local.get 0)))');
  emit('  (func (export "lazy") (param $i i32) (result i32) (local $c i32)');
  emit('    (local.set $c (call $fresh1 (local.get $i)))');
  emit('    (local.set $c (i32.add (local.get $c) (call $fresh2 (local.get $i))))');
  emit('    (i32.add (local.get $c) (call $tailfresh (local.get $i))))');
  emit('  (func (export "tail_locals") (param i32) (result i32) (return_call $locals (local.get 0)))');
  emit('  (func (export "tail_wide") (param i32) (result i32) (return_call $wide (local.get 0)))');
  emit('  (func (export "host_trap_call") (param i32) (result i32) (i32.add (call $host_trap (local.get 0)) (i32.const 1)))');
  emit('  (func (export "host_trap_tail") (param i32) (result i32) (return_call $host_trap (local.get 0)))');
  emit('  (func (export "host_wait_call") (param i32) (result i32) (i32.add (call $host_wait (local.get 0)) (i32.const 1)))');
  emit('  (func (export "host_wait_tail") (param i32) (result i32) (return_call $host_wait (local.get 0)))');
  emit('  (func (export "ind_call") (param i32) (result i32) (call_indirect $t (type $ii) (local.get 0) (local.get 0)))');
  emit('  (func (export "ind_tail") (param i32) (result i32) (return_call_indirect $t (type $ii) (local.get 0) (local.get 0)))');
  emit('  (func (export "ind_call_type") (param i32) (call_indirect $t (type $v) (local.get 0) (local.get 0)))');
  emit('  (func (export "ind_tail_type") (param i32) (return_call_indirect $t (type $v) (local.get 0) (local.get 0)))');
  emit('  (func (export "bulk") (param $v i32) (result i32)');
  emit('    (memory.fill $m1 (i32.const 0) (local.get $v) (i32.const 65536))'); // not $m0: main's operand tables are there
  emit('    (table.fill $tb (i32.const 0) (ref.null func) (i32.const 4096))');
  emit('    (i32.add (i32.load8_u $m1 (i32.const 100)) (table.size $tb)))');
}

function main() {
  // A loop: its constants live in frame slots.
  emit('  (func $main (export "main") (param $rounds i32) (result i32) (local $i i32) (local $c i32) (local $j i32) (local $l i64) (local $d f64)');
  emit(`    (loop $round
    (local.set $i (i32.const 0))
    (loop $each
      (local.set $j (i32.shl (local.get $i) (i32.const 2)))
      (local.set $c (i32.add (local.get $c) (call $i32ops (i32.load offset=${BASE.i32a} (local.get $j)) (i32.load offset=${BASE.i32b} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $f32ops (f32.load offset=${BASE.f32a} (local.get $j)) (f32.load offset=${BASE.f32b} (local.get $j)))))
      (local.set $j (i32.shl (local.get $i) (i32.const 3)))
      (local.set $l (i64.add (local.get $l) (call $i64ops (i64.load offset=${BASE.i64a} (local.get $j)) (i64.load offset=${BASE.i64b} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $f64ops (f64.load offset=${BASE.f64a} (local.get $j)) (f64.load offset=${BASE.f64b} (local.get $j)))))
      ;; equal operands: the other side of every comparison and compare-and-branch (a == b is never in the tables above)
      (local.set $c (i32.add (local.get $c) (call $i32ops (i32.load offset=${BASE.i32a} (i32.shl (local.get $i) (i32.const 2))) (i32.load offset=${BASE.i32a} (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $c (i32.add (local.get $c) (call $f32ops (f32.load offset=${BASE.f32a} (i32.shl (local.get $i) (i32.const 2))) (f32.load offset=${BASE.f32a} (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $l (i64.add (local.get $l) (call $i64ops (i64.load offset=${BASE.i64a} (local.get $j)) (i64.load offset=${BASE.i64a} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $f64ops (f64.load offset=${BASE.f64a} (local.get $j)) (f64.load offset=${BASE.f64a} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $conv (i32.load offset=${BASE.i32a} (local.get $j)) (i64.load offset=${BASE.i64a} (local.get $j))
        (f32.load offset=${BASE.f32a} (i32.shl (local.get $i) (i32.const 2))) (f64.load offset=${BASE.f64a} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $mem (i32.add (i32.const ${SCRATCH}) (i32.and (local.get $j) (i32.const 0x38))) (i64.load offset=${BASE.i64b} (local.get $j)))))
      (local.set $c (i32.add (local.get $c) (call $tab (local.get $i))))
      (local.set $c (i32.add (local.get $c) (call $calls (local.get $i) (local.get $l))))
      ;; constants from slots: i64, f64, and an i32 that no immediate form absorbs
      (local.set $l (i64.mul (local.get $l) (i64.const 0x9e3779b97f4a7c15)))
      (local.set $d (f64.add (local.get $d) (f64.const 0.25)))
      (local.set $c (i32.div_u (local.get $c) (i32.const 3)))
      (br_if $each (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${N}))))
    (br_if $round (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (data.drop $pd)
    (elem.drop $pe)
    (i32.add (local.get $c) (i32.add (i32.wrap_i64 (local.get $l)) (i32.trunc_sat_f64_s (local.get $d)))))`);
  // Traps: each run once, so that the paths out of the loop have feedback too.
  emit('  (func (export "trap_unreachable") (unreachable))');
  emit('  (func (export "trap_oob") (param i32) (result i32) (i32.load offset=4 (local.get 0)))');
  emit('  (func (export "trap_div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))');
  // Recursion with wide frames: grows the value stack (the paths that reload it after a call) and, run
  // with small limits, ends in "call stack exhausted" both ways (depth and stack bytes).
  emit(`  (func $deep (export "deep") (param $n i32) (result i32) (local ${'i64 '.repeat(40).trim()})
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
      (else (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))`);
}

emit(';; Generated by scripts/build-warmup.mjs: do not edit. See src/vm/warmup.ts.');
emit('(module');
emit('  (import "warmup" "host" (func $host (param i32) (result i32)))');
emit('  (import "warmup" "host_trap" (func $host_trap (param i32) (result i32)))');
emit('  (import "warmup" "host_wait" (func $host_wait (param i32) (result i32)))');
emit('  (memory $m0 1 2)');
emit('  (memory $m1 1)'); // no maximum: memories and tables of both kinds (a field of Memory and Table holds a number or undefined)
emit('  (table $t 16 32 funcref)');
emit('  (table $tb 4096 funcref)');
emit('  (global $g (mut i32) (i32.const 0))');
emit('  (global $g64 (mut i64) (i64.const 0))');
emit('  (global $gf (mut funcref) (ref.null func))');
emit(`  (data (memory $m0) (i32.const 0x100) "${watBytes(dataBytes())}")`);
emit('  (data $pd "\\01\\02\\03\\04\\05\\06\\07\\08")');
emit('  (elem (table $t) (i32.const 0) func $leaf $leaf2 $leaf $leaf2)');
emit('  (elem $pe func $leaf2 $leaf)');
emit('  (elem declare func $leaf $leaf2)');
callops();
i32ops();
i64ops();
fops('f32');
fops('f64');
conv();
memops();
tableops();
rare();
main();
emit(')');

const wat = out.join('\n') + '\n';
writeFileSync(join(dir, 'warmup.wat'), wat);
const wabt = await wabtInit();
const m = wabt.parseWat('warmup.wat', wat, { multi_memory: true, tail_call: true });
m.resolveNames();
m.validate({ multi_memory: true, tail_call: true });
const bin = Buffer.from(m.toBinary({}).buffer);
m.destroy();
writeFileSync(join(dir, 'warmup.wasm'), bin);
// A second, bare module: no memory, table or global (the loop's view of memory 0 is then a stand-in,
// and V8 must have seen both), a loop with a call, and a tail call.
const bareWat = `(module
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $last (param i32) (result i32) (return_call $inc (local.get 0)))
  (func (export "main") (param $n i32) (result i32) (local $i i32)
    (loop $l (local.set $i (call $inc (local.get $i))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $last (local.get $i))))
`;
const bm = wabt.parseWat('bare.wat', bareWat, { tail_call: true });
bm.validate({ tail_call: true });
const bare = Buffer.from(bm.toBinary({}).buffer);
bm.destroy();
writeFileSync(
  join(dir, 'warmup-wasm.ts'),
  `// Generated by scripts/build-warmup.mjs from warmup.wat: do not edit.\n` +
    `/** The warm-up module's bytes, base64 (${bin.length} bytes). */\n` +
    `export const WARMUP_WASM = '${bin.toString('base64')}';\n` +
    `/** A bare module (no memory, table or global; its source is in build-warmup.mjs), base64 (${bare.length} bytes). */\n` +
    `export const WARMUP_BARE_WASM = '${bare.toString('base64')}';\n`,
);
console.log(`built src/vm/warmup/warmup.wasm (${bin.length} bytes) and the bare module (${bare.length} bytes)`);
