/**
 * Attacks on the WASI sandbox that held when tried against 90ad8e8 (kept as
 * regression tests): the guest has one mount, "/box" at fd 3, with canaries
 * beside it and links the host left pointing out (see wasi-rig.ts), and
 * tries every path call and descriptor trick to reach past it. Each test
 * names the attack; the assertions are what the guest gets and what the
 * host's tree shows.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Wasi, WasiStateError } from '../../src/bindings/index.js';
import { CANARY, E, O, Rig, canaryTree } from './wasi-rig.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-hostile-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const EBUSY = 10, EINVAL = 28, EPERM = 63, EISDIR = 31;

describe('hard links', () => {
  it('of a link the host left pointing out: the copy is a link like it, refused wherever it is followed from', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.mkdir(3, 'deep')).toBe(E.SUCCESS);
    expect(rig.link(3, 'host-rel', false, 3, 'deep/copy')).toBe(E.SUCCESS); // link(2) does not follow: a second name for the link
    expect(rig.link(3, 'host-abs', true, 3, 'through')).toBe(E.NOTCAPABLE); // following it is refused
    // From deeper, "../beside" would name a directory inside if read lexically: it is followed from where it is.
    writeFileSync(join(t.mount, 'beside'), 'inside');
    expect(rig.open(3, 'deep/copy/secret.txt')).toBe(-E.NOTDIR); // deep/../beside is the file "beside" in the mount
    expect(rig.open(3, 'host-rel/secret.txt')).toBe(-E.NOTCAPABLE);
    expect(rig.stat(3, 'deep/copy', true)).toBe(E.SUCCESS); // deep/../beside: the file inside
    expect(rig.link(3, 'deep', false, 3, 'dir-link')).toBe(EPERM); // directories cannot be hard-linked
    expect(readdirSync(t.base).sort()).toEqual(t.outsideNames);
    rig.wasi.close();
  });
});

describe('renames', () => {
  it('of a directory into itself, of the root by any name, and over "." are refused', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.mkdir(3, 'a')).toBe(E.SUCCESS);
    expect(rig.mkdir(3, 'a/b')).toBe(E.SUCCESS);
    expect(rig.symlink('.', 3, 'self')).toBe(E.SUCCESS);
    expect(rig.rename(3, 'a', 3, 'a/b/c')).toBe(EINVAL);
    for (const root of ['.', 'a/..', 'self/', 'a/b/../..']) expect(rig.rename(3, root, 3, 'moved'), root).toBe(EBUSY);
    expect(rig.rename(3, 'a', 3, '.')).toBe(EBUSY);
    expect(rig.rename(3, 'a', 3, '../a')).toBe(E.NOTCAPABLE);
    expect(rig.rename(3, 'a', 3, 'host-rel/a')).toBe(E.NOTCAPABLE);
    expect(rig.rmdir(3, 'self/')).toBe(EBUSY);
    expect(readdirSync(t.mount).sort()).toEqual(['a', 'host-abs', 'host-rel', 'self']);
    expect(readdirSync(t.base).sort()).toEqual(t.outsideNames);
    rig.wasi.close();
  });
});

describe('descriptor numbers', () => {
  it('of the preopen closed or renumbered over: the number then names what replaced it, never the mount again', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const f = rig.open(3, 'f', O.CREAT);
    expect(rig.call('fd_renumber', f, 3)).toBe(E.SUCCESS);
    expect(rig.call('fd_prestat_get', 3, 64)).toBe(E.BADF);
    expect(rig.mkdir(3, 'x')).toBe(54); // ENOTDIR: 3 is the file now
    expect(rig.close(3)).toBe(E.SUCCESS);
    expect(rig.mkdir(3, 'x')).toBe(E.BADF);
    expect(rig.call('fd_renumber', 1, 0x7fffffff)).toBe(E.BADF); // only onto an open descriptor
    rig.wasi.close();
  });

  it('of a removed directory: nothing can be made in it, and ".." still climbs inside', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.mkdir(3, 'a')).toBe(E.SUCCESS);
    expect(rig.mkdir(3, 'a/b')).toBe(E.SUCCESS);
    const d = rig.open(3, 'a/b', O.DIRECTORY);
    expect(rig.rmdir(3, 'a/b')).toBe(E.SUCCESS);
    expect(rig.open(d, 'x', O.CREAT)).toBe(-E.NOENT);
    expect(rig.mkdir(d, 'x')).toBe(E.NOENT);
    expect(rig.readdir(d)).toEqual(['.', '..']);
    const up = rig.open(d, '..', O.DIRECTORY);
    expect(up).toBeGreaterThan(d);
    expect(rig.readdir(up)).toEqual(['.', '..']); // "a", now empty
    expect(rig.open(d, '../../..', O.DIRECTORY)).toBe(-E.NOTCAPABLE);
    expect(rig.wasi.save().fds.find((s) => s.fd === d)).toMatchObject({ kind: 'dir', path: 'a/b' }); // where it was opened
    rig.wasi.close();
  });
});

describe('odd paths', () => {
  it('with flags, slashes, "." and ".." in odd places stay inside and give errnos', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.open(3, '..', O.CREAT)).toBe(-E.NOTCAPABLE);
    expect(rig.open(3, '.', O.CREAT | O.EXCL)).toBe(-E.EXIST);
    expect(rig.open(3, '.', O.TRUNC)).toBe(-EISDIR);
    expect(rig.open(3, 'new/', O.CREAT)).toBe(-EISDIR); // a trailing slash names a directory: no file made
    expect(rig.open(3, 'host-abs', O.CREAT, false)).toBe(-E.LOOP);
    expect(rig.open(3, 'host-abs/', O.DIRECTORY, false)).toBe(-E.NOTCAPABLE); // a trailing slash follows, and is refused
    expect(rig.open(3, 'a//./../../beside', O.DIRECTORY)).toBe(-E.NOENT); // "a" does not exist: no lexical shortcut
    expect(rig.mkdir(3, 'a')).toBe(E.SUCCESS);
    expect(rig.open(3, 'a//./../../beside', O.DIRECTORY)).toBe(-E.NOTCAPABLE);
    expect(rig.symlink('loop', 3, 'loop')).toBe(E.SUCCESS);
    expect(rig.open(3, 'loop')).toBe(-E.LOOP);
    expect(rig.stat(3, 'loop/', false)).toBe(E.LOOP);
    expect(rig.symlink('', 3, 'empty')).toBe(E.NOENT);
    expect(rig.symlink('a/../..', 3, 'out')).toBe(E.NOTCAPABLE);
    expect(readdirSync(t.base).sort()).toEqual(t.outsideNames);
    expect(readFileSync(join(t.beside, 'secret.txt'), 'utf8')).toContain(CANARY);
    rig.wasi.close();
  });
});

describe('a crafted or tampered saved state', () => {
  it('with a link put on the way of a saved directory since the save is refused, inside or out', () => {
    const t = canaryTree(temp);
    mkdirSync(join(t.mount, 'a/b'), { recursive: true });
    const rig = new Rig(t.mount);
    const d = rig.open(3, 'a/b', O.DIRECTORY);
    expect(d).toBeGreaterThan(3);
    const state = rig.wasi.save();
    rig.wasi.close();
    rmSync(join(t.mount, 'a'), { recursive: true });
    symlinkSync('..', join(t.mount, 'a')); // a/b would be the mount's parent's "b"
    mkdirSync(join(t.base, 'b'));
    expect(() => Wasi.restore(state, { mounts: { '/box': t.mount } })).toThrow(/fd 4 \(\/box\/a\/b\): it does not resolve inside the mount/);
    rmSync(join(t.mount, 'a'));
    symlinkSync(t.base, join(t.mount, 'a'));
    expect(() => Wasi.restore(state, { mounts: { '/box': t.mount } })).toThrow(WasiStateError);
    const tampered = { ...state, fds: state.fds.map((f) => (f.fd === d ? { ...f, path: '../beside' } : f)) };
    expect(() => Wasi.restore(tampered, { mounts: { '/box': t.mount } })).toThrow(/no empty, "." or ".." components/);
  });
});

describe('mounts', () => {
  it('more than the descriptor table holds are refused with a plain error, holding no host descriptor (was: an internal errno thrown, the last root left open)', () => {
    const dirs = Array.from({ length: 1022 }, (_, i) => mkdtempSync(join(temp, `many-${i}-`)));
    const before = readdirSync('/proc/self/fd').length;
    expect(() => new Wasi({ mounts: Object.fromEntries(dirs.map((d, i) => [`/m${i}`, d])) })).toThrow(/mounts: at most 1021/);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
    const w = new Wasi({ mounts: Object.fromEntries(dirs.slice(0, 1021).map((d, i) => [`/m${i}`, d])) });
    expect(w.save().fds).toHaveLength(1024);
    w.close();
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});
