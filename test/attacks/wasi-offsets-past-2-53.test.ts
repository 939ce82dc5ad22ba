/**
 * Attack: a guest seeks near 2^53 and writes, on a file system that takes
 * such offsets (tmpfs allows files up to 2^63 bytes, sparse). Descriptor
 * offsets are JS numbers, exact only up to 2^53 - 1: before the fix a write
 * at 2^53 - 3 left the offset at 2^53 + 2 and the next write landed at a
 * rounded offset (silently not where the guest asked), and a read across
 * 2^53 of a large sparse file the host left in the mount threw node:fs's
 * RangeError through the binding (a trap, not an errno). Now reads and
 * writes stop at 2^53 - 1: a short count, then EFBIG for a write (as a file
 * size limit gives) and 0 bytes for a read.
 *
 * Needs a tmpfs (/dev/shm): on ext4 the kernel refuses offsets past 16 TiB
 * itself (EFBIG), so the test has nothing to show there and is skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rig } from './wasi-rig.js';

const SHM = '/dev/shm';
const hasTmpfs = existsSync(SHM) && statSync(SHM).isDirectory();
const temp = hasTmpfs ? mkdtempSync(join(SHM, 'wasmhive-offsets-')) : '';
afterAll(() => {
  if (temp !== '') rmSync(temp, { recursive: true, force: true });
});

const TOP = 2n ** 53n - 1n; // the largest offset a descriptor keeps exactly
const EFBIG = 22;

/** Calls fd_write or fd_pwrite with one iovec of `data`; returns [errno, bytes written]. */
function io(rig: Rig, fn: 'fd_write' | 'fd_pwrite' | 'fd_pread', fd: number, len: number, ...offset: bigint[]): [number, number] {
  const dv = new DataView(rig.memory.buffer);
  dv.setUint32(0, 1024, true);
  dv.setUint32(4, len, true);
  // A second iovec, so that a read or write goes on past the first one's end.
  dv.setUint32(8, 2048, true);
  dv.setUint32(12, len, true);
  const errno = rig.call(fn, fd, 0, 2, ...offset, 16);
  return [errno, dv.getUint32(16, true)];
}

describe.skipIf(!hasTmpfs)('offsets near 2^53 on tmpfs', () => {
  it('a write stops at 2^53 - 1 and the next one is EFBIG (was: offset 2^53 + 2, then a write at a rounded offset)', () => {
    const mount = mkdtempSync(join(temp, 'm-'));
    const rig = new Rig(mount);
    const f = rig.open(3, 'f', 1 /* CREAT */);
    expect(f).toBeGreaterThan(3);
    expect(rig.call('fd_seek', f, TOP - 2n, 0, 64)).toBe(0);
    expect(io(rig, 'fd_write', f, 5)).toEqual([0, 2]); // two bytes fit below 2^53 - 1
    expect(rig.call('fd_tell', f, 64)).toBe(0);
    expect(new DataView(rig.memory.buffer).getBigUint64(64, true)).toBe(TOP);
    expect(io(rig, 'fd_write', f, 5)[0]).toBe(EFBIG);
    expect(io(rig, 'fd_pwrite', f, 5, TOP)[0]).toBe(EFBIG);
    expect(io(rig, 'fd_pwrite', f, 5, TOP - 1n)).toEqual([0, 1]);
    expect(BigInt(statSync(join(mount, 'f'), { bigint: true }).size)).toBe(TOP);
    rig.wasi.close();
  });

  it('a read across 2^53 of a huge sparse file gives a short count (was: node:fs RangeError thrown through the binding)', () => {
    const mount = mkdtempSync(join(temp, 'm-'));
    writeFileSync(join(mount, 'huge'), '');
    // The host left it there (node:fs refuses such a size itself: coreutils' truncate makes it).
    execFileSync('truncate', ['-s', String(2n ** 53n + 1024n), join(mount, 'huge')]);
    const rig = new Rig(mount);
    const f = rig.open(3, 'huge');
    expect(f).toBeGreaterThan(3);
    expect(io(rig, 'fd_pread', f, 4, TOP - 1n)).toEqual([0, 1]);
    expect(io(rig, 'fd_pread', f, 4, TOP)).toEqual([0, 0]);
    expect(rig.call('fd_seek', f, TOP - 1n, 0, 64)).toBe(0);
    const dv = new DataView(rig.memory.buffer);
    dv.setUint32(0, 1024, true);
    dv.setUint32(4, 4, true);
    dv.setUint32(8, 2048, true);
    dv.setUint32(12, 4, true);
    expect(rig.call('fd_read', f, 0, 2, 16)).toBe(0);
    expect(dv.getUint32(16, true)).toBe(1);
    rig.wasi.close();
  });
});
