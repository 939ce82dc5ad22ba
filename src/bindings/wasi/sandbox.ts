/**
 * The guest's view of the host file system: mounts (guest path -> host
 * directory) and the resolution of guest paths inside them.
 *
 * A guest path never resolves outside its mount. Resolution walks the path
 * one component at a time on our side, expanding symbolic links itself, and
 * refuses absolute paths, `..` above the mount's root and links whose target
 * is absolute or climbs above the root (ENOTCAPABLE). The host calls then get
 * a path with no symbolic link left except, where the operation asks not to
 * follow one, the last component; files are opened with O_NOFOLLOW so that
 * even that one is not followed. This assumes the host does not change the
 * mounted trees concurrently; it protects the host from the guest.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Errno, FileType, OFlags, Rights } from './abi.js';
import { fail } from './memory.js';

/** A host directory visible to the guest under `guestPath`. */
export interface Mount {
  /** The path the guest sees (its preopen name), e.g. "/data". */
  readonly guestPath: string;
  /** The host directory, as a real path (no symbolic links). */
  readonly hostRoot: string;
}

/** A resolved guest path: its mount and its components below the mount's root. */
export interface Located {
  mount: Mount;
  /** Components below the root, no "", "." or ".."; empty for the root itself. */
  parts: string[];
  /** The host path. It keeps a trailing slash the guest wrote, so that "file/" fails as POSIX says. */
  host: string;
}

/** Makes a mount, checking that the host directory exists. Throws a plain Error when it does not. */
export function makeMount(guestPath: string, hostDir: string): Mount {
  if (guestPath.length === 0 || guestPath.includes('\0')) throw new TypeError(`invalid guest path ${JSON.stringify(guestPath)} for a mount`);
  const hostRoot = fs.realpathSync(hostDir);
  if (!fs.statSync(hostRoot).isDirectory()) throw new Error(`mount ${guestPath}: ${hostDir} is not a directory`);
  return { guestPath, hostRoot };
}

/** The host path of components below a mount's root. */
export function hostPath(mount: Mount, parts: readonly string[]): string {
  return parts.length === 0 ? mount.hostRoot : nodePath.join(mount.hostRoot, ...parts);
}

/** POSIX's SYMLOOP_MAX: more link expansions than this in one resolution is ELOOP. */
const MAX_LINKS = 40;
/** Components walked in one resolution, links included, before giving up with ENAMETOOLONG: bounds the host's work. */
const MAX_WALK = 16384;

const isName = (c: string): boolean => c !== '' && c !== '.';

/**
 * Resolves `path` relative to the directory `base` (components below the
 * mount's root). The last component is a symbolic link's target when
 * `followLast`, and the link itself otherwise (a trailing slash always
 * follows, as in POSIX).
 */
export function resolvePath(mount: Mount, base: readonly string[], path: string, followLast: boolean): Located {
  if (path.length === 0) fail(Errno.NOENT);
  if (path.startsWith('/')) fail(Errno.NOTCAPABLE);
  const trailingSlash = path.endsWith('/');
  const out = [...base];
  // Components still to walk, last one first, so that a link's target goes in front of the rest.
  const pending = path.split('/').reverse();
  let names = pending.filter(isName).length; // components in `pending` that are not "" or "."
  let links = 0;
  let walked = 0;
  while (pending.length > 0) {
    if (++walked > MAX_WALK) fail(Errno.NAMETOOLONG);
    const c = pending.pop()!;
    if (!isName(c)) continue;
    names--;
    if (c === '..') {
      if (out.length === 0) fail(Errno.NOTCAPABLE);
      out.pop();
      continue;
    }
    out.push(c);
    if (names === 0 && !followLast && !trailingSlash) continue;
    const target = linkTarget(hostPath(mount, out));
    if (target === null) continue;
    if (++links > MAX_LINKS) fail(Errno.LOOP);
    if (target.startsWith('/')) fail(Errno.NOTCAPABLE);
    out.pop();
    for (const t of target.split('/').reverse()) {
      pending.push(t);
      if (isName(t)) names++;
    }
  }
  const host = hostPath(mount, out);
  return { mount, parts: out, host: trailingSlash && out.length > 0 ? host + '/' : host };
}

/** The target of a symbolic link, or null when `host` is not one (or does not exist: the operation itself will say so). */
function linkTarget(host: string): string | null {
  try {
    return fs.readlinkSync(host, 'utf8');
  } catch {
    return null;
  }
}

/** Whether a link target, taken relative to the directory `dir` (components below the root), stays inside the mount. */
export function targetStaysInside(dir: readonly string[], target: string): boolean {
  if (target.startsWith('/')) return false;
  let depth = dir.length;
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
 */
export function openFile(host: string, rights: number, oflags: number): number {
  const c = fs.constants;
  const read = (rights & (Rights.FD_READ | Rights.FD_READDIR)) !== 0;
  const write = (rights & WRITE_RIGHTS) !== 0;
  let flags = (write ? (read ? c.O_RDWR : c.O_WRONLY) : c.O_RDONLY) | c.O_NOFOLLOW;
  if (oflags & OFlags.CREAT) flags |= c.O_CREAT;
  if (oflags & OFlags.EXCL) flags |= c.O_EXCL;
  if (oflags & OFlags.TRUNC) flags |= c.O_TRUNC;
  return fs.openSync(host, flags, 0o666);
}
