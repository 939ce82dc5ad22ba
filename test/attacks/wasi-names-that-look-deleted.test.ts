/**
 * Attack: names that fool the save of descriptors. A descriptor is saved as
 * the path where the kernel says its file now is (readlink of
 * /proc/self/fd/N), and the kernel marks a removed name by appending
 * " (deleted)". A guest can end its own names with that text: before the fix
 * a directory "x (deleted)" held open was saved as the mount's root (restored
 * bound to the wrong directory, silently), and a file "g (deleted)" held open
 * was saved with the path "" (a snapshot the guest made unrestorable). A
 * name starting with ".." ("..x") was taken for one outside the mount and
 * saved as the root too. Now such a path is kept only when resolving it
 * again finds that very file (device and inode).
 */
import { linkSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Wasi } from '../../src/bindings/index.js';
import { callWasi } from '../programs/harness.js';
import { O, Rig, canaryTree } from './wasi-rig.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-deleted-names-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The inode of what descriptor `fd` of `w` is open on (fd_filestat_get into `rig`'s memory). */
function inodeOf(rig: Rig, w: Wasi, fd: number): bigint {
  expect(callWasi(w, 'fd_filestat_get', fd, 512)).toBe(0);
  return new DataView(rig.memory.buffer).getBigUint64(512 + 8, true);
}

describe('descriptors on names that end with " (deleted)" or start with ".."', () => {
  it('are saved at their own paths and restored on the same files (was: saved as the root, or as "" and unrestorable)', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const names = ['x (deleted)', '..x', 'sub/y (deleted)'];
    expect(rig.mkdir(3, 'sub')).toBe(0);
    const dirs = names.map((n) => {
      expect(rig.mkdir(3, n)).toBe(0);
      return rig.open(3, n, O.DIRECTORY);
    });
    const file = rig.open(3, 'g (deleted)', O.CREAT);
    const all = [...dirs, file];
    for (const fd of all) expect(fd).toBeGreaterThan(3);
    const state = rig.wasi.save();
    expect(state.fds.filter((f) => f.kind !== 'stdio' && f.fd > 3).map((f) => ('path' in f ? f.path : null))).toEqual([...names, 'g (deleted)']);
    const restored = Wasi.restore(state, { mounts: { '/box': t.mount } });
    restored.bind(rig.memory);
    for (const fd of all) expect(inodeOf(rig, restored, fd)).toBe(inodeOf(rig, rig.wasi, fd));
    restored.close();
    rig.wasi.close();
  });

  it('are not confused with the name without the mark: a removed file is saved where it was opened', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const f = rig.open(3, 'g', O.CREAT);
    expect(rig.write(f, 'first')).toBe(0);
    linkSync(join(t.mount, 'g'), join(t.mount, 'kept')); // another name for it: nlink stays 1 after the unlink
    expect(rig.unlink(3, 'g')).toBe(0);
    const other = rig.open(3, 'g', O.CREAT); // a new file under the old name
    expect(other).toBeGreaterThan(f);
    const saved = rig.wasi.save().fds.find((s) => s.fd === f);
    // The kernel says "g (deleted)"; "g" now names another file, so neither is taken: the path it was opened by is kept.
    expect(saved).toMatchObject({ kind: 'file', path: 'g' });
    expect(statSync(join(t.mount, 'kept')).nlink).toBe(1);
    rig.wasi.close();
  });
});
