/**
 * Files: a guest sees only its mounts, works in them as in a POSIX
 * directory, and cannot reach anything outside them, not with absolute
 * paths, `..`, links it makes, or links the host left in the mount.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory } from '../../vm/index.js';
import { callWasi as call, runOnWasmhive } from '../../../test/programs/harness.js';
import { DIR_RIGHTS, FILE_RIGHTS, Rights } from './abi.js';
import { Wasi } from './index.js';
import { SyscallError } from './memory.js';
import { Mount } from './sandbox.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-files-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A fresh directory tree: `mount` (to be mounted) next to `outside`, which holds a secret. */
function tree() {
  const base = mkdtempSync(join(temp, 'tree-'));
  const mount = join(base, 'mount');
  const outside = join(base, 'outside');
  mkdirSync(mount);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(base, 'outside.txt'), 'outside');
  return { base, mount, outside };
}

describe('files.c in a mounted directory', () => {
  it('creates, writes, reads back, seeks, lists, renames and removes, and every way out is refused', () => {
    const { base, mount, outside } = tree();
    symlinkSync(outside, join(mount, 'abs-escape')); // left by the host: absolute, pointing out
    symlinkSync('../outside', join(mount, 'rel-escape')); // relative, climbing out
    const r = runOnWasmhive('files', { args: ['files', '/sandbox', 'abs-escape', 'rel-escape'], mounts: { '/sandbox': mount } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('files: 0 failures');
    expect(lines).toContain('first line after overwrite: line ONEf the notes');
    expect(lines).toContain('size by stat: 109, regular file: 1');
    expect(lines).toContain('pread gave "ine 2 of", offset still 0');
    expect(lines).toContain('read gave "appended"');
    expect(lines).toContain('ls work/sub: a.txt b.txt c.txt renamed.txt');
    expect(lines).toContain('link target: sub/renamed.txt');
    const refusals = lines.filter((l) => / refused: /.test(l) && !/ (File exists|No such file or directory|Not a directory|Directory not empty|Invalid argument)$/.test(l));
    expect(refusals).toEqual([
      'open ../outside.txt: refused: Capabilities insufficient',
      'create work/../../escaped.txt: refused: Capabilities insufficient',
      'open /etc/passwd: refused: Capabilities insufficient',
      'mkdir ../escaped-dir: refused: Capabilities insufficient',
      'symlink to ../../outside.txt: refused: Capabilities insufficient',
      'symlink to /etc/passwd: refused: Capabilities insufficient',
      'rename out of the mount: refused: Capabilities insufficient',
      'stat ..: refused: Capabilities insufficient',
      '[host link abs-escape] read through it: refused: Capabilities insufficient',
      '[host link abs-escape] open it: refused: Capabilities insufficient',
      '[host link rel-escape] read through it: refused: Capabilities insufficient',
      '[host link rel-escape] open it: refused: Capabilities insufficient',
    ]);
    // On the host: the mount holds what the program left, and nothing outside it changed.
    expect(readdirSync(mount).sort()).toEqual(['abs-escape', 'rel-escape', 'result.txt']);
    expect(readFileSync(join(mount, 'result.txt'), 'utf8')).toBe('written by files.c\n');
    expect(readdirSync(base).sort()).toEqual(['mount', 'outside', 'outside.txt']);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(base, 'outside.txt'), 'utf8')).toBe('outside');
    expect(r.stdout).not.toContain('secret');
  });

  it('has no file access at all without mounts', () => {
    const r = runOnWasmhive('files', { args: ['files', '/sandbox'] });
    expect(r.exitCode).toBe(1);
    expect(r.trap).toBeUndefined();
    expect(r.stdout).toContain('mkdir work: FAILED: Capabilities insufficient');
    expect(r.stdout).toContain('create work/notes.txt: FAILED: Capabilities insufficient');
    expect(r.stdout).not.toMatch(/: ok$/m);
    const wasi = new Wasi();
    wasi.bind(new Memory({ initial: 1 }));
    expect(call(wasi, 'fd_prestat_get', 3, 0)).toBe(8); // EBADF: wasi-libc finds no preopens
  });
});

describe('preopens', () => {
  it('are fds 3, 4, ... in the order given, named by their guest paths', () => {
    const a = tree(), b = tree();
    const wasi = new Wasi({ mounts: { '/data': a.mount, '.': b.mount } });
    const memory = new Memory({ initial: 1 });
    wasi.bind(memory);
    const names: string[] = [];
    for (let fd = 3; call(wasi, 'fd_prestat_get', fd, 0) === 0; fd++) {
      const len = new DataView(memory.buffer).getUint32(4, true);
      expect(call(wasi, 'fd_prestat_dir_name', fd, 16, len)).toBe(0);
      names.push(Buffer.from(memory.u8.subarray(16, 16 + len)).toString());
    }
    expect(names).toEqual(['/data', '.']);
    expect(call(wasi, 'fd_prestat_dir_name', 3, 16, 2)).toBe(37); // ENAMETOOLONG: the buffer is too small
  });

  it('refuse a host directory that does not exist', () => {
    expect(() => new Wasi({ mounts: { '/x': join(temp, 'no-such-dir') } })).toThrow(/ENOENT/);
  });
});

describe('path resolution', () => {
  const ENOTCAPABLE = 76, ELOOP = 32;
  /** The components below the root that `path` resolves to from the root (as the old lexical resolver reported them). */
  const resolvePath = (m: Mount, base: string[], path: string, follow: boolean) => {
    const r = m.resolve(m.root, [...base, path].join('/'), follow);
    try {
      const dir = m.pathOf(r.dir)!;
      return { parts: [...(dir === '' ? [] : dir.split('/')), ...(r.name === null ? [] : [r.name])] };
    } finally {
      r.release();
    }
  };
  const mounts: Mount[] = [];
  const makeMount = (g: string, host: string) => {
    const m = Mount.open(g, host);
    mounts.push(m);
    return m;
  };
  afterAll(() => mounts.forEach((m) => m.close()));
  const errnoOf = (f: () => unknown): number | null => {
    try {
      f();
      return null;
    } catch (e) {
      if (e instanceof SyscallError) return e.errno;
      throw e;
    }
  };

  it('follows links inside the mount and refuses any that lead out', () => {
    const { mount, outside } = tree();
    mkdirSync(join(mount, 'a/b'), { recursive: true });
    writeFileSync(join(mount, 'a/b/file'), 'x');
    symlinkSync('a/b', join(mount, 'to-b'));
    symlinkSync('../b/file', join(mount, 'a/b/up-and-back')); // a/b/../b/file
    symlinkSync('to-b/up-and-back', join(mount, 'chain'));
    symlinkSync(outside, join(mount, 'absolute'));
    symlinkSync('a/../..', join(mount, 'climb'));
    symlinkSync('loop2', join(mount, 'loop1'));
    symlinkSync('loop1', join(mount, 'loop2'));
    const m = makeMount('/m', mount);
    expect(resolvePath(m, [], 'chain', true).parts).toEqual(['a', 'b', 'file']);
    expect(resolvePath(m, [], 'chain', false).parts).toEqual(['chain']); // the link itself
    expect(resolvePath(m, [], 'to-b/../b/./file', true).parts).toEqual(['a', 'b', 'file']);
    expect(resolvePath(m, ['a'], '../a/b', true).parts).toEqual(['a', 'b']);
    expect(resolvePath(m, [], 'to-b/', false).parts).toEqual(['a', 'b']); // a trailing slash follows
    expect(errnoOf(() => resolvePath(m, [], 'absolute/secret.txt', true))).toBe(ENOTCAPABLE);
    expect(errnoOf(() => resolvePath(m, [], 'climb/outside/secret.txt', true))).toBe(ENOTCAPABLE);
    expect(errnoOf(() => resolvePath(m, [], '../mount/a', true))).toBe(ENOTCAPABLE); // even coming back in
    expect(errnoOf(() => resolvePath(m, [], '/a', true))).toBe(ENOTCAPABLE);
    expect(errnoOf(() => resolvePath(m, [], 'loop1', true))).toBe(ELOOP);
    expect(errnoOf(() => resolvePath(m, [], '', true))).toBe(44);
  });

  it('bounds its work on long paths and deep link chains', () => {
    const { mount } = tree();
    const m = makeMount('/m', mount);
    // 40 links in a chain resolve; 41 are a loop as far as POSIX is concerned.
    for (let i = 0; i < 41; i++) symlinkSync(i === 0 ? '.' : `l${i - 1}`, join(mount, `l${i}`));
    expect(resolvePath(m, [], 'l39', true).parts).toEqual([]);
    expect(errnoOf(() => resolvePath(m, [], 'l40', true))).toBe(ELOOP);
    const t = performance.now();
    expect(resolvePath(m, [], './'.repeat(2000) + 'x', false).parts).toEqual(['x']);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('descriptors on files and directories', () => {
  /** A Wasi with `mount` at fd 3, on a fresh memory; `open` opens a path under it and returns the new fd. */
  function rig(mount: string) {
    const wasi = new Wasi({ mounts: { '/m': mount } });
    const memory = new Memory({ initial: 1 });
    wasi.bind(memory);
    const dv = () => new DataView(memory.buffer);
    const put = (at: number, s: string) => new TextEncoder().encodeInto(s, memory.u8.subarray(at)).written;
    const open = (path: string, oflags: number, rights: number, fdflags = 0, dirflags = 1): number => {
      const n = put(1000, path);
      const errno = call(wasi, 'path_open', 3, dirflags, 1000, n, oflags, BigInt(rights), BigInt(DIR_RIGHTS | FILE_RIGHTS), fdflags, 2000);
      return errno === 0 ? dv().getUint32(2000, true) : -errno;
    };
    const write = (fd: number, s: string) => {
      const n = put(3000, s);
      dv().setUint32(0, 3000, true);
      dv().setUint32(4, n, true);
      return call(wasi, 'fd_write', fd, 0, 1, 8);
    };
    return { wasi, memory, dv, put, open, write };
  }

  it('appends at the end whatever the offset, and reports the new offset', () => {
    const { mount } = tree();
    writeFileSync(join(mount, 'log'), 'start\n');
    const { wasi, dv, open, write } = rig(mount);
    const fd = open('log', 0, FILE_RIGHTS, 1 /* APPEND */);
    expect(fd).toBe(4);
    expect(call(wasi, 'fd_seek', fd, 0n, 0, 16)).toBe(0);
    expect(write(fd, 'more\n')).toBe(0);
    expect(call(wasi, 'fd_tell', fd, 16)).toBe(0);
    expect(dv().getBigUint64(16, true)).toBe(11n);
    expect(readFileSync(join(mount, 'log'), 'utf8')).toBe('start\nmore\n');
  });

  it('gives the rights asked for, within what applies, and enforces them', () => {
    const { mount } = tree();
    writeFileSync(join(mount, 'ro'), 'read only');
    const { wasi, dv, open, write } = rig(mount);
    const fd = open('ro', 0, Rights.FD_READ | Rights.PATH_OPEN);
    expect(call(wasi, 'fd_fdstat_get', fd, 16)).toBe(0);
    expect(dv().getUint8(16)).toBe(4); // regular file
    expect(Number(dv().getBigUint64(24, true))).toBe(Rights.FD_READ); // PATH_OPEN does not apply to a file
    expect(write(fd, 'x')).toBe(8); // EBADF: not open for writing
    expect(call(wasi, 'fd_seek', fd, 1n, 0, 16)).toBe(76); // ENOTCAPABLE: no FD_SEEK
    expect(open('ro', 0, 1 << 29)).toBe(-76); // SOCK_ACCEPT is not among what the directory passes on
    expect(open('.', 0, Rights.FD_WRITE)).toBe(-31); // EISDIR
    expect(readFileSync(join(mount, 'ro'), 'utf8')).toBe('read only');
  });

  it('opens a link itself only when asked not to follow it, and then refuses (ELOOP)', () => {
    const { mount } = tree();
    writeFileSync(join(mount, 'target'), 'x');
    symlinkSync('target', join(mount, 'link'));
    const { open } = rig(mount);
    expect(open('link', 0, Rights.FD_READ, 0, 1)).toBeGreaterThan(0);
    expect(open('link', 0, Rights.FD_READ, 0, 0)).toBe(-32);
    expect(open('link', 1 | 4, Rights.FD_READ, 0, 0)).toBe(-20); // CREAT|EXCL on an existing name: EEXIST
  });

  it('lists a directory sorted, in pieces as small as the buffer, resuming at cookies', () => {
    const { mount } = tree();
    for (const n of ['zeta', 'alpha', 'mu', 'beta']) writeFileSync(join(mount, n), n);
    mkdirSync(join(mount, 'dir'));
    const { wasi, memory, dv } = rig(mount);
    /** One pass over the directory; `midway` runs after the third entry. */
    const pass = (midway = () => {}) => {
      const names: string[] = [];
      let cookie = 0n;
      // A 40-byte buffer holds at most one 24-byte header and part of a second entry.
      for (let round = 0; round < 50; round++) {
        expect(call(wasi, 'fd_readdir', 3, 100, 40, cookie, 16)).toBe(0);
        const used = dv().getUint32(16, true);
        if (used < 24) break;
        const len = dv().getUint32(100 + 16, true);
        if (24 + len > used) throw new Error('an entry did not fit a 40-byte buffer');
        names.push(`${Buffer.from(memory.u8.subarray(124, 124 + len)).toString()}:${dv().getUint8(100 + 20)}`);
        cookie = dv().getBigUint64(100, true);
        if (names.length === 3) midway();
      }
      return names;
    };
    const listing = ['.:3', '..:3', 'alpha:4', 'beta:4', 'dir:3', 'mu:4', 'zeta:4'];
    // A file made during a pass shows in the next one: a pass sees one listing.
    expect(pass(() => writeFileSync(join(mount, 'gamma'), ''))).toEqual(listing);
    expect(pass()).toEqual([...listing.slice(0, 4), 'dir:3', 'gamma:4', 'mu:4', 'zeta:4']);
  });

  it('keeps the mount root: it cannot be removed, renamed or unlinked', () => {
    const { mount } = tree();
    const { wasi, put } = rig(mount);
    const n = put(1000, '.');
    expect(call(wasi, 'path_remove_directory', 3, 1000, n)).toBe(10); // EBUSY
    expect(call(wasi, 'path_unlink_file', 3, 1000, n)).toBe(31); // EISDIR
    put(1100, 'x');
    expect(call(wasi, 'path_rename', 3, 1000, n, 3, 1100, 1)).toBe(10);
    expect(existsSync(mount)).toBe(true);
  });
});
