/**
 * The guest's view of the host file system: mounts (guest path -> host
 * directory) and the resolution of guest paths inside them.
 *
 * What is guaranteed: whatever the guest does through WASI (renames, link
 * swaps, stale descriptors, `..`, links made anywhere), no host path outside
 * its mount is read, written, listed or stat'ed. How:
 *
 * - Every directory the binding works in is a host file descriptor held open
 *   (a mount's root, each directory descriptor, each directory on the way
 *   during a resolution), reached as `/proc/self/fd/N/`: the kernel resolves
 *   what follows relative to the directory itself, wherever it has been moved
 *   since. No host path is stored and used again later.
 * - A guest path is resolved one component at a time against what is on disk
 *   at the time of use. Each directory on the way is opened with
 *   O_DIRECTORY|O_NOFOLLOW (and its identity checked against the lstat just
 *   made); symbolic links are expanded here, their targets continuing from the
 *   link's own directory; an absolute target is refused (ENOTCAPABLE).
 * - `..` is not lexical: it opens the parent of the directory on disk, and is
 *   refused (ENOTCAPABLE) at the mount's root, recognised by its identity
 *   (device and inode), not by its path.
 * - The last component is handed to the host as `/proc/self/fd/N/<name>`
 *   with operations that do not follow a link there (lstat, O_NOFOLLOW,
 *   lutimes, unlink, rename ...).
 * - A guest cannot move anything out of its mount: rename and link targets are
 *   resolved the same way, and mounts may not overlap (a guest could move a
 *   directory from one into the other, and climb from there) nor move things
 *   between each other (EXDEV).
 *
 * All of this is synchronous: no other guest operation runs between a check
 * and its use. Another host process changing the tree at the same time can
 * make a walk fail (ENOTDIR, ELOOP, or EAGAIN when a directory on the way is
 * no longer the one just checked), not lead it out, with one exception, not
 * protected: a directory the guest holds (a descriptor, or the walk's current
 * directory) that another process moves out of the mount stays reachable,
 * and `..` climbs from where it now is. Mounting a directory grants
 * everything below it, including hard links and file systems mounted there.
 *
 * Needs Linux's /proc/self/fd: where it is missing, mounting fails (it never
 * falls back to path-based resolution).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Errno, FileType, OFlags, Rights } from './abi.js';
import { fail } from './memory.js';

const PROC_FD = '/proc/self/fd';
/** What the kernel appends to the path of a descriptor whose name was removed. */
const DELETED = ' (deleted)';

/** The host path of `name` (or the directory itself, for null) in the directory held open as host descriptor `dir`. */
export function procPath(dir: number, name: string | null): string {
  return `${PROC_FD}/${dir}/${name ?? '.'}`;
}

/** POSIX's SYMLOOP_MAX: more link expansions than this in one resolution is ELOOP. */
export const MAX_LINKS = 40;
/**
 * Names and ".." walked in one resolution, links' included, before giving up
 * with ENAMETOOLONG. Each costs a few system calls (10-30 us), so this bounds
 * the time one resolution holds the thread: with 4,096, the worst case (all
 * real directories and "..") measured 90 ms median and 137 ms at most on a
 * loaded 2-core machine (path_rename and path_link resolve two paths), too
 * long beside other guests; 1,024 is a quarter of that and still far more
 * than a real path has (PATH_MAX is 4,096 bytes, so at most 2,048 names).
 */
export const MAX_WALK = 1024;

const isName = (c: string): boolean => c !== '' && c !== '.';

/** A file's identity on the host: its device and inode. */
export interface Identity {
  dev: bigint;
  ino: bigint;
}

const sameId = (a: Identity, b: Identity): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * A resolved guest path: the directory it is in (a host descriptor, held
 * until `release`) and its last component, or null when the path names that
 * directory itself ("." or ".." last).
 */
export class Resolved {
  /** The host descriptor of the directory holding the entry. */
  readonly dir: number;
  /** The entry's name in `dir` (no "/", never "." or ".."), or null for `dir` itself. */
  readonly name: string | null;
  /** Whether the guest path ended with "/" or "/." (the entry must be a directory). */
  readonly slash: boolean;
  /** The mount it is in. */
  readonly mount: Mount;
  private readonly owned: boolean;

  constructor(mount: Mount, dir: number, owned: boolean, name: string | null, slash: boolean) {
    this.mount = mount;
    this.dir = dir;
    this.owned = owned;
    this.name = name;
    this.slash = slash;
  }

  /** The host path to operate on: through /proc, keeping the guest's trailing slash so that "file/" fails as POSIX says. */
  get host(): string {
    return procPath(this.dir, this.name) + (this.slash && this.name !== null ? '/' : '');
  }

  /** Closes the directory's descriptor when the resolution opened it. */
  release(): void {
    if (this.owned) closeQuietly(this.dir);
  }
}

/** A host directory visible to the guest under `guestPath`. Holds its root open until `close`. */
export class Mount {
  /** The path the guest sees (its preopen name), e.g. "/data". */
  readonly guestPath: string;
  /** The host directory as it was mounted, a real path (for messages; never used to reach files). */
  readonly hostRoot: string;
  private rootFd: number;
  private readonly rootId: Identity;

  private constructor(guestPath: string, hostRoot: string, rootFd: number, rootId: Identity) {
    this.guestPath = guestPath;
    this.hostRoot = hostRoot;
    this.rootFd = rootFd;
    this.rootId = rootId;
  }

  /**
   * Opens the host directory `hostDir` as the mount `guestPath`. Throws a
   * plain Error when it is not a directory, or when /proc/self/fd is not
   * available (the sandbox needs it, and does not work without it).
   */
  static open(guestPath: string, hostDir: string): Mount {
    if (guestPath.length === 0 || guestPath.includes('\0')) throw new TypeError(`invalid guest path ${JSON.stringify(guestPath)} for a mount`);
    const hostRoot = fs.realpathSync(hostDir);
    const fd = fs.openSync(hostRoot, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      const id = idOf(fs.fstatSync(fd, { bigint: true }));
      let viaProc: Identity | null = null;
      try {
        viaProc = idOf(fs.statSync(procPath(fd, null), { bigint: true }));
      } catch {
        // handled below
      }
      if (viaProc === null || !sameId(id, viaProc)) {
        throw new Error(`mount ${guestPath}: directories can only be mounted where /proc/self/fd is available (Linux): the sandbox needs it`);
      }
      return new Mount(guestPath, hostRoot, fd, id);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The host descriptor of the root (borrowed: the mount keeps it). */
  get root(): number {
    if (this.rootFd < 0) throw new Error(`mount ${this.guestPath} is closed`);
    return this.rootFd;
  }

  /** Whether the directory held as host descriptor `fd` is this mount's root (by identity). */
  isRoot(fd: number): boolean {
    return sameId(idOf(fs.fstatSync(fd, { bigint: true })), this.rootId);
  }

  /** Whether two mounts' host directories overlap (one is the other, or inside it). */
  overlaps(other: Mount): boolean {
    const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith('/') ? b : b + '/');
    return inside(this.hostRoot, other.hostRoot) || inside(other.hostRoot, this.hostRoot);
  }

  /** A new host descriptor on the directory `dir` itself (for a new directory descriptor). */
  reopenDir(dir: number): number {
    return openDirectory(procPath(dir, null), idOf(fs.fstatSync(dir, { bigint: true })));
  }

  /**
   * Resolves the guest path `path` from the directory held as `start` (a
   * descriptor inside this mount; borrowed). The last component is a
   * symbolic link's target when `followLast`, and the link itself otherwise
   * (a trailing slash always follows, as in POSIX). `step` is called for
   * each component walked (to charge for it). Throws SyscallError:
   * ENOTCAPABLE for absolute paths, absolute link targets and `..` above the
   * root; ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG as POSIX would.
   */
  resolve(start: number, path: string, followLast: boolean, step?: () => void): Resolved {
    if (path.length === 0) fail(Errno.NOENT);
    if (path.startsWith('/')) fail(Errno.NOTCAPABLE);
    const slash = path.endsWith('/') || path.endsWith('/.');
    let cur = start;
    let owned = false;
    const moveTo = (next: number): void => {
      if (owned) closeQuietly(cur);
      cur = next;
      owned = true;
    };
    try {
      // Components still to walk, last one first, so that a link's target goes in front of the rest.
      const pending = path.split('/').reverse();
      let names = pending.filter(isName).length; // components in `pending` that are not "" or "."
      let links = 0;
      let walked = 0;
      while (pending.length > 0) {
        step?.();
        const c = pending.pop()!;
        if (!isName(c)) continue;
        // Only names and ".." cost system calls; "" and "." are bounded by PATH_MAX per link target.
        if (++walked > MAX_WALK) fail(Errno.NAMETOOLONG);
        names--;
        if (c === '..') {
          if (this.isRoot(cur)) fail(Errno.NOTCAPABLE);
          moveTo(openDirectory(procPath(cur, '..'), null));
          continue;
        }
        const last = names === 0;
        if (last && !followLast && !slash) return new Resolved(this, cur, owned, c, slash);
        const at = procPath(cur, c);
        const st = lstatOrNull(at);
        if (st === null) {
          if (last) return new Resolved(this, cur, owned, c, slash);
          fail(Errno.NOENT);
        }
        if (st.isSymbolicLink()) {
          if (++links > MAX_LINKS) fail(Errno.LOOP);
          const target = fs.readlinkSync(at, 'utf8');
          if (target.startsWith('/')) fail(Errno.NOTCAPABLE);
          if (target === '') fail(Errno.NOENT);
          for (const t of target.split('/').reverse()) {
            pending.push(t);
            if (isName(t)) names++;
          }
          continue;
        }
        if (last) return new Resolved(this, cur, owned, c, slash);
        if (!st.isDirectory()) fail(Errno.NOTDIR);
        moveTo(openDirectory(at, idOf(st)));
      }
      return new Resolved(this, cur, owned, null, slash);
    } catch (e) {
      if (owned) closeQuietly(cur);
      throw e;
    }
  }

  /**
   * Where the file or directory held as host descriptor `fd` now is, as a
   * path below the root ("" for the root), or null when the kernel cannot
   * say (deleted, or no longer below the root). Used to save descriptors
   * only: resolution never goes through it.
   *
   * The kernel's answer (readlink of /proc/self/fd/N) is a string the guest
   * shapes with its names: " (deleted)" at its end may be the kernel's mark
   * of a removed name or part of the name itself, so then the candidate path
   * is resolved and kept only if it names this very file (identity).
   */
  pathOf(fd: number): string | null {
    let at: string, root: string, st: fs.BigIntStats;
    try {
      at = fs.readlinkSync(`${PROC_FD}/${fd}`, 'utf8');
      root = fs.readlinkSync(`${PROC_FD}/${this.root}`, 'utf8');
      st = fs.fstatSync(fd, { bigint: true });
    } catch {
      return null;
    }
    if (st.nlink === 0n) return null; // removed: no name leads to it
    const below = (p: string): string | null => {
      if (p === root) return '';
      const rel = nodePath.relative(root, p);
      return rel === '' || rel === '..' || rel.startsWith('../') || nodePath.isAbsolute(rel) ? null : rel;
    };
    if (!at.endsWith(DELETED)) return below(at);
    for (const candidate of [at, at.slice(0, -DELETED.length)]) {
      const rel = below(candidate);
      if (rel !== null && this.names(rel, idOf(st))) return rel;
    }
    return null;
  }

  /** Whether the path `rel` below the root names the file `id` now (resolved as a guest path, not following a last link). */
  private names(rel: string, id: Identity): boolean {
    let r: Resolved | null = null;
    try {
      r = this.resolve(this.root, rel === '' ? '.' : rel, false);
      const st = lstatOrNull(r.host);
      return st !== null && sameId(idOf(st), id);
    } catch {
      return false;
    } finally {
      r?.release();
    }
  }

  /** Closes the root's descriptor. */
  close(): void {
    if (this.rootFd >= 0) closeQuietly(this.rootFd);
    this.rootFd = -1;
  }
}

/**
 * Opens a directory (never a link to one) and checks it is the one `expected`
 * names, when given: a mismatch means the tree changed under us (another
 * process), and the walk stops (EAGAIN) rather than go on somewhere else.
 */
export function openDirectory(path: string, expected: Identity | fs.BigIntStats | null): number {
  const c = fs.constants;
  const fd = fs.openSync(path, c.O_RDONLY | c.O_DIRECTORY | c.O_NOFOLLOW);
  if (expected !== null) {
    let ok = false;
    try {
      ok = sameId(idOf(fs.fstatSync(fd, { bigint: true })), { dev: expected.dev, ino: expected.ino });
    } finally {
      if (!ok) closeQuietly(fd);
    }
    if (!ok) fail(Errno.AGAIN);
  }
  return fd;
}

function idOf(s: fs.BigIntStats): Identity {
  return { dev: s.dev, ino: s.ino };
}

/** lstat, or null when nothing is there. */
export function lstatOrNull(path: string): fs.BigIntStats | null {
  try {
    return fs.lstatSync(path, { bigint: true });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return null;
    throw e;
  }
}

/** Closes a host descriptor, ignoring one already closed. */
export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}

/**
 * Whether a link target, made in a directory `depth` levels below the root,
 * stays inside the mount read lexically. Only a courtesy to host programs
 * that may follow the guest's links: the binding's own resolution does not
 * rely on it (a link moved elsewhere means something else).
 */
export function targetStaysInside(depth: number, target: string): boolean {
  if (target.startsWith('/')) return false;
  for (const c of target.split('/')) {
    if (c === '..') {
      if (--depth < 0) return false;
    } else if (c !== '' && c !== '.') depth++;
  }
  return true;
}

/** WASI file type of a Node file status or directory entry. */
export function fileTypeOf(s: fs.Stats | fs.BigIntStats | fs.Dirent): number {
  if (s.isFile()) return FileType.REGULAR_FILE;
  if (s.isDirectory()) return FileType.DIRECTORY;
  if (s.isSymbolicLink()) return FileType.SYMBOLIC_LINK;
  if (s.isCharacterDevice()) return FileType.CHARACTER_DEVICE;
  if (s.isBlockDevice()) return FileType.BLOCK_DEVICE;
  if (s.isSocket()) return FileType.SOCKET_STREAM;
  return FileType.UNKNOWN;
}

/** A `filestat` as the guest sees it. */
export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** The filestat of a Node file status. */
export function filestatOf(s: fs.BigIntStats): Filestat {
  return {
    dev: s.dev,
    ino: s.ino,
    filetype: fileTypeOf(s),
    nlink: s.nlink,
    size: s.size,
    atim: s.atimeNs,
    mtim: s.mtimeNs,
    ctim: s.ctimeNs,
  };
}

/** Rights that need a host descriptor opened for writing. */
export const WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE;

/**
 * Opens a resolved file on the host: the access mode follows the rights,
 * `oflags` are WASI's (CREAT, EXCL, TRUNC), and a link in the last place is
 * never followed (resolution already followed it if it was asked to).
 * O_NONBLOCK keeps a FIFO the host left in the mount from blocking the
 * process at open (it does nothing to regular files).
 */
export function openFile(host: string, rights: number, oflags: number): number {
  const c = fs.constants;
  const read = (rights & (Rights.FD_READ | Rights.FD_READDIR)) !== 0;
  const write = (rights & WRITE_RIGHTS) !== 0;
  let flags = (write ? (read ? c.O_RDWR : c.O_WRONLY) : c.O_RDONLY) | c.O_NOFOLLOW | c.O_NONBLOCK;
  if (oflags & OFlags.CREAT) flags |= c.O_CREAT;
  if (oflags & OFlags.EXCL) flags |= c.O_EXCL;
  if (oflags & OFlags.TRUNC) flags |= c.O_TRUNC;
  return fs.openSync(host, flags, 0o666);
}
