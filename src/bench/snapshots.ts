/**
 * Snapshot and restore: time and size for memories of 1, 16 and 64 MiB,
 * with a little of the memory touched (one page in 64) or all of it. The
 * instance is paused in a loop (out of fuel), so each snapshot holds a
 * paused call. Touched pages hold pseudo-random words (the worst case for
 * compression), or small pseudo-random numbers (compressible, as program
 * data often is). An incremental snapshot is taken after one page changed.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

import { median } from './measure.js';
import { packageRoot } from './kernels.js';
import { Instance, Module, restore, snapshot, type Memory } from '../vm/index.js';

/** One memory size and touch pattern. */
export interface SnapshotResult {
  readonly memoryMiB: number;
  /** 'little': one page in 64 holds random words; 'lot': every page does; 'lot, compressible': every page holds small numbers, as program data often does. */
  readonly touched: 'little' | 'lot' | 'lot, compressible';
  readonly touchedPages: number;
  /** Median ms of a full snapshot, and its size. */
  readonly snapshotMs: number;
  readonly bytes: number;
  /** Median ms to restore it into a new instance. */
  readonly restoreMs: number;
  /** Median ms of an incremental snapshot after one page changed, and its size. */
  readonly incrementalMs: number;
  readonly incrementalBytes: number;
}

const PAGE = 65536;

/** Writes pseudo-random words (a 32-bit LCG) into page p; `small` keeps them below 1000. */
function scribble(mem: Memory, p: number, seed: number, small = false): void {
  const words = new Int32Array(mem.buffer, p * PAGE, PAGE / 4);
  let x = (seed * 2654435761 + p) | 0;
  for (let i = 0; i < words.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    words[i] = small ? (x >>> 22) : x;
  }
}

function time(f: () => void, samples: number): number {
  const t: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

/** Runs the snapshot benchmark for the given memory sizes (MiB). */
export function benchSnapshots(sizesMiB: readonly number[] = [1, 16, 64], samples = 5): SnapshotResult[] {
  const bytes = new Uint8Array(readFileSync(join(packageRoot(), 'bench', 'snapshot', 'memory.wasm')));
  const module = new Module(bytes);
  const out: SnapshotResult[] = [];
  for (const mib of sizesMiB) {
    for (const touched of ['little', 'lot', 'lot, compressible'] as const) {
      const inst = new Instance(module);
      const pages = mib * 16;
      (inst.exports['grow'] as (n: number) => number)(pages - 1);
      const mem = inst.getExport('memory') as Memory;
      let touchedPages = 0;
      for (let p = 0; p < pages; p += touched === 'little' ? 64 : 1) {
        scribble(mem, p, 1, touched === 'lot, compressible');
        touchedPages++;
      }
      inst.fuel = 1000;
      if (inst.call('spin').kind !== 'out-of-fuel') throw new Error('snapshot bench: the loop did not pause');

      let snap: Uint8Array = new Uint8Array();
      const snapshotMs = time(() => {
        snap = snapshot(inst);
      }, samples);
      let restored: Instance | null = null;
      const restoreMs = time(() => {
        restored = restore(module, snap);
      }, samples);
      const back = (restored as Instance | null)?.getExport('memory') as Memory | undefined;
      if (back === undefined || !Buffer.from(back.bytes()).equals(Buffer.from(mem.bytes()))) {
        throw new Error(`snapshot bench: the restored memory of ${mib} MiB differs`);
      }

      let inc: Uint8Array = new Uint8Array();
      const incTimes: number[] = [];
      for (let k = 0; k < samples; k++) {
        scribble(mem, (k * 7) % pages, 100 + k);
        const t0 = process.hrtime.bigint();
        inc = snapshot(inst, { incremental: true });
        incTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const incrementalMs = median(incTimes);
      out.push({ memoryMiB: mib, touched, touchedPages, snapshotMs, bytes: snap.length, restoreMs, incrementalMs, incrementalBytes: inc.length });
    }
  }
  return out;
}
