/**
 * Child process of wasi-iovec-flood.test.ts (run with `node --import tsx`):
 * a guest with 16 MiB of memory calls fd_write once with `IOVECS` iovecs
 * that all alias its whole memory, to stdout (a sink that keeps nothing) or
 * to a file in a mount. Prints one JSON line: bytes the call wrote, the
 * largest chunk the sink got, the call's time, and the peak RSS and
 * ArrayBuffer memory seen during the call, each against the value before it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instantiate, type Memory } from '../../src/vm/index.js';
import { Wasi } from '../../src/bindings/index.js';
import { wat } from '../helpers/wat.js';

const target = process.argv[2] === 'file' ? 'file' : 'stdout';
const IOVECS = Number(process.argv[3] ?? 128);
const PAGES = 256; // 16 MiB

const dir = mkdtempSync(join(tmpdir(), 'wasmhive-iovec-'));
let sinkMax = 0;
let peakRss = 0;
let peakAb = 0;
const sample = () => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakAb = Math.max(peakAb, m.arrayBuffers);
};
const wasi = new Wasi({
  mounts: { '/box': dir },
  stdout: (b) => {
    sinkMax = Math.max(sinkMax, b.length);
    sample();
  },
});
// iovecs at 0: each { ptr 0, len 16 MiB }; the file "out" opened at fd 4 by "open"; nwritten at 8 * IOVECS.
const inst = instantiate(
  wat(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") ${PAGES} ${PAGES})
  (data (i32.const 65536) "out")
  (func (export "open") (result i32)
    (call $open (i32.const 3) (i32.const 0) (i32.const 65536) (i32.const 3) (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 65540)))
  (func (export "flood") (param $fd i32) (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store (i32.mul (local.get $i) (i32.const 8)) (i32.const 0))
      (i32.store (i32.add (i32.mul (local.get $i) (i32.const 8)) (i32.const 4)) (i32.const ${PAGES * 65536}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $write (local.get $fd) (i32.const 0) (local.get $n) (i32.mul (local.get $n) (i32.const 8)))))`),
  wasi.imports,
);
const memory = inst.getExport('memory') as Memory;
wasi.bind(memory);
let fd = 1;
if (target === 'file') {
  const r = inst.func('open').invoke([]);
  if (r.kind !== 'done' || (r.results[0] as { value: number }).value !== 0) throw new Error('open failed');
  fd = new DataView(memory.buffer).getUint32(65540, true);
}
globalThis.gc?.();
const before = process.memoryUsage();
peakRss = before.rss;
peakAb = before.arrayBuffers;
const t = performance.now();
const out = inst.func('flood').invoke([{ type: 'i32', value: fd }, { type: 'i32', value: IOVECS }]);
const ms = performance.now() - t;
sample();
const result =
  out.kind === 'done'
    ? { errno: (out.results[0] as { value: number }).value, written: new DataView(memory.buffer).getUint32(8 * IOVECS, true) }
    : { trap: out.trap.message };
const fileBytes = target === 'file' ? statSync(join(dir, 'out')).size : null;
wasi.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    target,
    iovecs: IOVECS,
    ...result,
    fileBytes,
    sinkMax,
    ms: Math.round(ms),
    rssGrowthMiB: Math.round((peakRss - before.rss) / 2 ** 20),
    arrayBuffersGrowthMiB: Math.round((peakAb - before.arrayBuffers) / 2 ** 20),
  }),
);
