/**
 * A directory or file descriptor is bound to what it was opened on, not to
 * the path it was opened by: it follows a rename, and a link put in the old
 * place does not redirect it. Saved, it is recorded where the kernel says it
 * is now; restored, it is bound to what that path names then. Mounting needs
 * /proc/self/fd, and fails (closed) without it.
 */
import type * as FS from 'node:fs';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Memory } from '../../vm/index.js';
import { callWasi as call } from '../../../test/programs/harness.js';
import { DIR_RIGHTS, FILE_RIGHTS } from './abi.js';
import { Wasi, WasiStateError } from './index.js';

/** When set, node:fs behaves as on a system without /proc. */
const noProc = vi.hoisted(() => ({ on: false }));
/** Runs after each lstat the binding makes: a stand-in for another process changing the tree at the worst moment. */
const afterLstat = vi.hoisted(() => ({ hook: null as null | ((path: string) => void) }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof FS>();
  const statSync = ((p: FS.PathLike, o?: FS.StatSyncOptions) => {
    if (noProc.on && String(p).startsWith('/proc/')) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${String(p)}'`), { code: 'ENOENT' });
    return real.statSync(p, o);
  }) as typeof real.statSync;
  const lstatSync = ((p: FS.PathLike, o?: FS.StatSyncOptions) => {
    const st = real.lstatSync(p, o);
    afterLstat.hook?.(String(p));
    return st;
  }) as typeof real.lstatSync;
  const fs = { ...real, statSync, lstatSync };
  return { ...fs, default: fs };
});

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-bound-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function rig(dir: string) {
  const wasi = new Wasi({ mounts: { '/m': dir } });
  const memory = new Memory({ initial: 1 });
  wasi.bind(memory);
  const put = (at: number, s: string) => new TextEncoder().encodeInto(s, memory.u8.subarray(at)).written;
  const open = (fd: number, path: string, dir = false): number => {
    const errno = call(wasi, 'path_open', fd, 0, 100, put(100, path), dir ? 2 : 0, BigInt(dir ? DIR_RIGHTS : FILE_RIGHTS), BigInt(DIR_RIGHTS | FILE_RIGHTS), 0, 200);
    return errno === 0 ? new DataView(memory.buffer).getUint32(200, true) : -errno;
  };
  const read = (fd: number): string => {
    const dv = new DataView(memory.buffer);
    dv.setUint32(0, 1000, true);
    dv.setUint32(4, 100, true);
    expect(call(wasi, 'fd_read', fd, 0, 1, 8)).toBe(0);
    return Buffer.from(memory.u8.subarray(1000, 1000 + dv.getUint32(8, true))).toString();
  };
  return { wasi, open, read };
}

describe('a directory descriptor', () => {
  it('follows its directory through a rename, and is saved and restored at its new path', () => {
    const dir = mkdtempSync(join(temp, 'm-'));
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'f'), 'in a');
    const r = rig(dir);
    const d = r.open(3, 'a', true);
    renameSync(join(dir, 'a'), join(dir, 'b'));
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'f'), 'in other');
    symlinkSync('other', join(dir, 'a')); // "a" now leads elsewhere: the descriptor does not care
    expect(r.read(r.open(d, 'f'))).toBe('in a');
    const state = r.wasi.save();
    expect(state.fds.find((f) => f.fd === d)).toMatchObject({ kind: 'dir', path: 'b' });
    r.wasi.close();

    const back = Wasi.restore(state, { mounts: { '/m': dir } });
    const memory = new Memory({ initial: 1 });
    back.bind(memory);
    memory.u8.set(Buffer.from('f'), 100);
    expect(call(back, 'path_open', d, 0, 100, 1, 0, BigInt(FILE_RIGHTS), 0n, 0, 200)).toBe(0);
    const f = new DataView(memory.buffer).getUint32(200, true);
    const dv = new DataView(memory.buffer);
    dv.setUint32(0, 1000, true);
    dv.setUint32(4, 100, true);
    expect(call(back, 'fd_read', f, 0, 1, 8)).toBe(0);
    expect(Buffer.from(memory.u8.subarray(1000, 1000 + dv.getUint32(8, true))).toString()).toBe('in a');
    back.close();
  });
});

describe('a file descriptor', () => {
  it('is saved where its file now is, or where it was opened when the file is gone', () => {
    const dir = mkdtempSync(join(temp, 'm-'));
    writeFileSync(join(dir, 'x'), 'x');
    writeFileSync(join(dir, 'y'), 'y');
    const r = rig(dir);
    const x = r.open(3, 'x');
    const y = r.open(3, 'y');
    renameSync(join(dir, 'x'), join(dir, 'x2'));
    unlinkSync(join(dir, 'y'));
    const fds = r.wasi.save().fds;
    expect(fds.find((f) => f.fd === x)).toMatchObject({ kind: 'file', path: 'x2' });
    expect(fds.find((f) => f.fd === y)).toMatchObject({ kind: 'file', path: 'y' });
    expect(() => Wasi.restore(r.wasi.save(), { mounts: { '/m': dir } })).toThrow(WasiStateError);
    writeFileSync(join(dir, 'y'), 'a new y');
    const back = Wasi.restore(r.wasi.save(), { mounts: { '/m': dir } });
    back.close();
    r.wasi.close();
    expect(readFileSync(join(dir, 'x2'), 'utf8')).toBe('x');
  });
});

describe('mounting', () => {
  it('fails, saying why, where /proc/self/fd is not available (no unsafe fallback)', () => {
    const dir = mkdtempSync(join(temp, 'm-'));
    noProc.on = true;
    try {
      expect(() => new Wasi({ mounts: { '/m': dir } })).toThrow(/\/proc\/self\/fd/);
    } finally {
      noProc.on = false;
    }
    new Wasi({ mounts: { '/m': dir } }).close();
  });
});

describe('a swap between the check and the use', () => {
  /** A mount with a/f and b/f, a secret beside it, and `swap` run once, right after the binding lstats `name`. */
  function swapped(name: string, swap: (dir: string, outside: string) => void) {
    const base = mkdtempSync(join(temp, 'swap-'));
    const dir = join(base, 'mount');
    const outside = join(base, 'outside');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'));
    mkdirSync(outside);
    writeFileSync(join(dir, 'a', 'f'), 'a/f');
    writeFileSync(join(dir, 'b', 'f'), 'b/f');
    writeFileSync(join(outside, 'f'), 'SECRET');
    const r = rig(dir);
    let done = false;
    afterLstat.hook = (p) => {
      if (!done && p.startsWith('/proc/self/fd/') && p.endsWith(`/${name}`)) {
        done = true;
        swap(dir, outside);
      }
    };
    try {
      return { r, fd: r.open(3, name === 'f' ? 'a/f' : `${name}/f`), swappedAtAll: () => done };
    } finally {
      afterLstat.hook = null;
    }
  }

  it('of a directory on the way for a link out: the walk refuses (ENOTDIR, from O_DIRECTORY|O_NOFOLLOW), never follows it', () => {
    const { r, fd, swappedAtAll } = swapped('a', (dir, outside) => {
      renameSync(join(dir, 'a'), join(dir, 'a-moved'));
      symlinkSync(outside, join(dir, 'a'));
    });
    expect(swappedAtAll()).toBe(true);
    expect(fd).toBe(-54);
    r.wasi.close();
  });

  it('of a directory on the way for another directory: the walk stops (EAGAIN), not going on somewhere else', () => {
    const { r, fd } = swapped('a', (dir) => {
      renameSync(join(dir, 'a'), join(dir, 'a-moved'));
      renameSync(join(dir, 'b'), join(dir, 'a'));
    });
    expect(fd).toBe(-6);
    r.wasi.close();
  });

  it('of the file itself for a link out: the open refuses (ELOOP)', () => {
    const { r, fd } = swapped('f', (dir, outside) => {
      unlinkSync(join(dir, 'a', 'f'));
      symlinkSync(join(outside, 'f'), join(dir, 'a', 'f'));
    });
    expect(fd).toBe(-32);
    r.wasi.close();
  });
});
