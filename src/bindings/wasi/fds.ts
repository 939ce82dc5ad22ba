/**
 * The guest's file descriptor table. A descriptor is a stdio stream, a
 * directory inside a mount, or an open file inside a mount; each carries its
 * WASI rights and flags. Files and directories each hold a host file
 * descriptor: a descriptor is bound to the file or directory itself (its
 * identity), wherever it is moved, never to the path it was opened by.
 */
import { Errno, Rights } from './abi.js';
import { fail } from './memory.js';
import { closeQuietly, type Mount } from './sandbox.js';

interface Common {
  rightsBase: number;
  rightsInheriting: number;
  /** fdflags (APPEND, NONBLOCK, ...). */
  flags: number;
}

/** One of the three standard streams: 0 stdin, 1 stdout, 2 stderr (whatever descriptor number it now has). */
export interface StdioFd extends Common {
  kind: 'stdio';
  stream: 0 | 1 | 2;
}

/** A directory inside a mount. */
export interface DirFd extends Common {
  kind: 'dir';
  mount: Mount;
  /** The host descriptor of the directory (opened O_DIRECTORY); paths under it resolve from it. */
  host: number;
  /** Its path below the mount's root when it was opened, saved only if the kernel cannot tell where it is now. */
  openedAs: string;
  /** Whether this is the mount's preopened descriptor (reported by fd_prestat_get). */
  preopen: boolean;
}

/** An open file inside a mount. */
export interface FileFd extends Common {
  kind: 'file';
  mount: Mount;
  /** Its path below the mount's root when it was opened, saved only if the kernel cannot tell where it is now (deleted). */
  openedAs: string;
  /** The host file descriptor. */
  host: number;
  /** WASI file type of what was opened (a regular file, or a device a mount happens to contain). */
  filetype: number;
  /** The current offset. */
  offset: number;
}

export type FdEntry = StdioFd | DirFd | FileFd;

/** More open descriptors than this is EMFILE: a guest cannot exhaust the host's descriptors. */
export const MAX_FDS = 1024;

/** Descriptor numbers to entries. */
export class FdTable {
  private readonly map = new Map<number, FdEntry>();

  /** The entry of `fd`, or EBADF. */
  get(fd: number): FdEntry {
    return this.map.get(fd) ?? fail(Errno.BADF);
  }

  /**
   * The entry of `fd` when it has every right in `rights`, else ENOTCAPABLE;
   * EBADF when it lacks FD_READ or FD_WRITE (reading a write-only descriptor
   * is EBADF in POSIX, and programs test for that).
   */
  need(fd: number, rights: number): FdEntry {
    const e = this.get(fd);
    const missing = rights & ~e.rightsBase;
    if (missing !== 0) fail(missing & (Rights.FD_READ | Rights.FD_WRITE) ? Errno.BADF : Errno.NOTCAPABLE);
    return e;
  }

  /** The directory entry of `fd` with `rights`: ENOTDIR when it is not a directory. */
  dir(fd: number, rights: number): DirFd {
    const e = this.get(fd);
    if (e.kind !== 'dir') fail(Errno.NOTDIR);
    if ((rights & ~e.rightsBase) !== 0) fail(Errno.NOTCAPABLE);
    return e;
  }

  has(fd: number): boolean {
    return this.map.has(fd);
  }

  /** Puts `entry` at `fd` (which must be free). */
  set(fd: number, entry: FdEntry): void {
    this.map.set(fd, entry);
  }

  /** Adds `entry` at the lowest free descriptor number, as POSIX open does. EMFILE when the table is full. */
  add(entry: FdEntry): number {
    if (this.map.size >= MAX_FDS) fail(Errno.MFILE);
    let fd = 0;
    while (this.map.has(fd)) fd++;
    this.map.set(fd, entry);
    return fd;
  }

  /** Removes `fd`, closing its host descriptor. EBADF when it is not open. */
  close(fd: number): void {
    const e = this.get(fd);
    this.map.delete(fd);
    if (e.kind !== 'stdio') closeQuietly(e.host);
  }

  /** Moves `from` to `to`, closing what `to` was. Both must be open. */
  renumber(from: number, to: number): void {
    const e = this.get(from);
    this.get(to);
    if (from === to) return;
    this.close(to);
    this.map.delete(from);
    this.map.set(to, e);
  }

  /** Every descriptor, in increasing order. */
  entries(): [number, FdEntry][] {
    return [...this.map.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Closes every host descriptor and empties the table. */
  closeAll(): void {
    for (const e of this.map.values()) if (e.kind !== 'stdio') closeQuietly(e.host);
    this.map.clear();
  }
}
