/**
 * Test helper for the WASI attack tests: a Wasi with one mount, driven the
 * way a guest drives it (preview1 functions called with pointers into a
 * small memory), and a host tree with canaries beside the mount.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Memory } from '../../src/vm/index.js';
import { Wasi, WasiStateError } from '../../src/bindings/index.js';
import { DIR_RIGHTS, FILE_RIGHTS } from '../../src/bindings/wasi/abi.js';
import { callWasi } from '../programs/harness.js';

/** Rights a test asks for: everything a file or directory can have. */
export const ALL = BigInt(DIR_RIGHTS | FILE_RIGHTS);
/** Rights to open a directory with. */
export const DIR = BigInt(DIR_RIGHTS);
/** oflags. */
export const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
/** Errnos the tests name. */
export const E = { SUCCESS: 0, BADF: 8, EXIST: 20, LOOP: 32, NOENT: 44, NOTDIR: 54, NOTCAPABLE: 76, XDEV: 75 } as const;
/** Bytes every canary file holds (and that no guest may ever see). */
export const CANARY = 'CANARY-7f3a9c';

/**
 * A fresh host tree under `parent`: `base/mount` (to be mounted, empty), and
 * beside it canary files and a canary directory, plus links the host left in
 * the mount that point out (one absolute, one relative).
 */
export function canaryTree(parent: string) {
  const base = mkdtempSync(join(parent, 'tree-'));
  const mount = join(base, 'mount');
  const beside = join(base, 'beside');
  mkdirSync(mount);
  mkdirSync(beside);
  writeFileSync(join(beside, 'secret.txt'), `${CANARY} beside/secret.txt`);
  writeFileSync(join(base, 'secret.txt'), `${CANARY} secret.txt in the mount's parent`);
  symlinkSync(beside, join(mount, 'host-abs'));
  symlinkSync('../beside', join(mount, 'host-rel'));
  return { base, mount, beside, outsideNames: readdirSync(base).sort() };
}

/** A Wasi with `mount` as "/box" (fd 3) over a one-page memory, and the preview1 calls as methods. */
export class Rig {
  readonly memory = new Memory({ initial: 1 });
  /** Where strings go for one call: reset at each. */
  private at = 0;
  private current: Wasi;
  private readonly mount: string;
  private readonly charge: ((units: number) => void) | undefined;

  constructor(mount: string, charge?: (units: number) => void) {
    this.mount = mount;
    this.charge = charge;
    this.current = new Wasi({ mounts: { '/box': mount } });
    this.current.bind(this.memory, undefined, charge);
  }

  /** The Wasi the calls go to (a new one after `restore`). */
  get wasi(): Wasi {
    return this.current;
  }

  /**
   * Saves the Wasi and continues on one restored from that state, as a
   * snapshot taken and resumed would. 'refused' (the old Wasi kept) when the
   * state does not fit the tree any more (a WasiStateError).
   */
  restore(): 'restored' | 'refused' {
    let next: Wasi;
    try {
      next = Wasi.restore(this.current.save(), { mounts: { '/box': this.mount } });
    } catch (e) {
      if (e instanceof WasiStateError) return 'refused';
      throw e;
    }
    this.current.close();
    this.current = next;
    next.bind(this.memory, undefined, this.charge);
    return 'restored';
  }

  call(name: string, ...args: (number | bigint)[]): number {
    return callWasi(this.wasi, name, ...args);
  }

  /** Puts `s` into the scratch area; returns [ptr, len]. */
  private str(s: string): [number, number] {
    const bytes = new TextEncoder().encode(s);
    const ptr = 4096 + this.at;
    this.memory.u8.set(bytes, ptr);
    this.at += bytes.length + 1;
    return [ptr, bytes.length];
  }

  private dv(): DataView {
    return new DataView(this.memory.buffer);
  }

  private begin(): void {
    this.at = 0;
  }

  mkdir(fd: number, path: string): number {
    this.begin();
    return this.call('path_create_directory', fd, ...this.str(path));
  }
  rmdir(fd: number, path: string): number {
    this.begin();
    return this.call('path_remove_directory', fd, ...this.str(path));
  }
  unlink(fd: number, path: string): number {
    this.begin();
    return this.call('path_unlink_file', fd, ...this.str(path));
  }
  symlink(target: string, fd: number, path: string): number {
    this.begin();
    return this.call('path_symlink', ...this.str(target), fd, ...this.str(path));
  }
  rename(fd: number, path: string, fd2: number, path2: string): number {
    this.begin();
    return this.call('path_rename', fd, ...this.str(path), fd2, ...this.str(path2));
  }
  link(fd: number, path: string, follow: boolean, fd2: number, path2: string): number {
    this.begin();
    return this.call('path_link', fd, follow ? 1 : 0, ...this.str(path), fd2, ...this.str(path2));
  }
  /** The new descriptor, or minus the errno. Rights default to a directory's with O.DIRECTORY, else everything. */
  open(fd: number, path: string, oflags = 0, follow = true, rights = oflags & O.DIRECTORY ? DIR : ALL): number {
    this.begin();
    const errno = this.call('path_open', fd, follow ? 1 : 0, ...this.str(path), oflags, rights, ALL, 0, 64);
    return errno === 0 ? this.dv().getUint32(64, true) : -errno;
  }
  stat(fd: number, path: string, follow = true): number {
    this.begin();
    return this.call('path_filestat_get', fd, follow ? 1 : 0, ...this.str(path), 128);
  }
  setTimes(fd: number, path: string, follow = true): number {
    this.begin();
    // MTIM_NOW | ATIM_NOW
    return this.call('path_filestat_set_times', fd, follow ? 1 : 0, ...this.str(path), 0n, 0n, 2 | 8);
  }
  fstat(fd: number): number {
    return this.call('fd_filestat_get', fd, 128);
  }
  /** The link's target, or minus the errno. */
  readlink(fd: number, path: string): string | number {
    this.begin();
    const errno = this.call('path_readlink', fd, ...this.str(path), 8192, 4096, 64);
    if (errno !== 0) return -errno;
    return Buffer.from(this.memory.u8.subarray(8192, 8192 + this.dv().getUint32(64, true))).toString();
  }
  /** The names a full listing gives, or minus the errno. */
  readdir(fd: number): string[] | number {
    const names: string[] = [];
    let cookie = 0n;
    for (let round = 0; round < 10_000; round++) {
      const errno = this.call('fd_readdir', fd, 16384, 4096, cookie, 64);
      if (errno !== 0) return -errno;
      const used = this.dv().getUint32(64, true);
      let p = 16384;
      let complete = 0;
      while (p + 24 <= 16384 + used) {
        const len = this.dv().getUint32(p + 16, true);
        if (p + 24 + len > 16384 + used) break;
        names.push(Buffer.from(this.memory.u8.subarray(p + 24, p + 24 + len)).toString());
        cookie = this.dv().getBigUint64(p, true);
        p += 24 + len;
        complete++;
      }
      if (used < 4096) return names;
      if (complete === 0) throw new Error('a directory entry did not fit 4096 bytes');
    }
    throw new Error('listing did not end');
  }
  /** Up to `n` bytes read, or minus the errno. */
  read(fd: number, n = 256): Buffer | number {
    const dv = this.dv();
    dv.setUint32(32, 20480, true);
    dv.setUint32(36, n, true);
    const errno = this.call('fd_read', fd, 32, 1, 64);
    if (errno !== 0) return -errno;
    return Buffer.from(this.memory.u8.subarray(20480, 20480 + dv.getUint32(64, true)));
  }
  write(fd: number, data: string): number {
    this.begin();
    const [ptr, len] = this.str(data);
    const dv = this.dv();
    dv.setUint32(32, ptr, true);
    dv.setUint32(36, len, true);
    return this.call('fd_write', fd, 32, 1, 64);
  }
  close(fd: number): number {
    return this.call('fd_close', fd);
  }
}
