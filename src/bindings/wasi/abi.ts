/**
 * The WASI preview1 ABI: errno values, flags, rights, and the byte layouts of
 * the structures the guest and the host exchange through linear memory, as
 * wasi-libc's <wasi/api.h> (wasi_snapshot_preview1.witx) defines them.
 */

/** Error numbers (`__wasi_errno_t`). Only the ones this implementation returns are named. */
export const Errno = {
  SUCCESS: 0,
  TOOBIG: 1,
  ACCES: 2,
  AGAIN: 6,
  BADF: 8,
  BUSY: 10,
  DQUOT: 19,
  EXIST: 20,
  FAULT: 21,
  FBIG: 22,
  ILSEQ: 25,
  INTR: 27,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  MFILE: 33,
  MLINK: 34,
  NAMETOOLONG: 37,
  NFILE: 41,
  NOENT: 44,
  NOMEM: 48,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSOCK: 57,
  NOTSUP: 58,
  NXIO: 60,
  OVERFLOW: 61,
  PERM: 63,
  PIPE: 64,
  ROFS: 69,
  SPIPE: 70,
  TXTBSY: 74,
  XDEV: 75,
  NOTCAPABLE: 76,
} as const;

/** WASI errno of a Node.js system error code ("ENOENT" ...); EIO for codes with no counterpart. */
export function errnoOfCode(code: string): number {
  switch (code) {
    case 'E2BIG': return Errno.TOOBIG;
    case 'EACCES': return Errno.ACCES;
    case 'EAGAIN': return Errno.AGAIN;
    case 'EBADF': return Errno.BADF;
    case 'EBUSY': return Errno.BUSY;
    case 'EDQUOT': return Errno.DQUOT;
    case 'EEXIST': return Errno.EXIST;
    case 'EFBIG': return Errno.FBIG;
    case 'EINTR': return Errno.INTR;
    case 'EINVAL': return Errno.INVAL;
    case 'EISDIR': return Errno.ISDIR;
    case 'ELOOP': return Errno.LOOP;
    case 'EMFILE': return Errno.MFILE;
    case 'EMLINK': return Errno.MLINK;
    case 'ENAMETOOLONG': return Errno.NAMETOOLONG;
    case 'ENFILE': return Errno.NFILE;
    case 'ENOENT': return Errno.NOENT;
    case 'ENOMEM': return Errno.NOMEM;
    case 'ENOSPC': return Errno.NOSPC;
    case 'ENOSYS': return Errno.NOSYS;
    case 'ENOTDIR': return Errno.NOTDIR;
    case 'ENOTEMPTY': return Errno.NOTEMPTY;
    case 'ENOTSUP':
    case 'EOPNOTSUPP': return Errno.NOTSUP;
    case 'ENXIO': return Errno.NXIO;
    case 'EOVERFLOW': return Errno.OVERFLOW;
    case 'EPERM': return Errno.PERM;
    case 'EPIPE': return Errno.PIPE;
    case 'EROFS': return Errno.ROFS;
    case 'ESPIPE': return Errno.SPIPE;
    case 'ETXTBSY': return Errno.TXTBSY;
    case 'EXDEV': return Errno.XDEV;
    default: return Errno.IO;
  }
}

export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

export const FileType = {
  UNKNOWN: 0,
  BLOCK_DEVICE: 1,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
  SOCKET_DGRAM: 5,
  SOCKET_STREAM: 6,
  SYMBOLIC_LINK: 7,
} as const;

export const Whence = { SET: 0, CUR: 1, END: 2 } as const;

export const FdFlags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const ALL_FDFLAGS = 0x1f;

export const OFlags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const FstFlags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;

export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const SUBSCRIPTION_CLOCK_ABSTIME = 1;

/**
 * Rights (`__wasi_rights_t`). All 30 defined bits fit below 2^30, so rights
 * are plain numbers and JS bitwise operators work on them.
 */
export const Rights = {
  FD_DATASYNC: 1 << 0,
  FD_READ: 1 << 1,
  FD_SEEK: 1 << 2,
  FD_FDSTAT_SET_FLAGS: 1 << 3,
  FD_SYNC: 1 << 4,
  FD_TELL: 1 << 5,
  FD_WRITE: 1 << 6,
  FD_ADVISE: 1 << 7,
  FD_ALLOCATE: 1 << 8,
  PATH_CREATE_DIRECTORY: 1 << 9,
  PATH_CREATE_FILE: 1 << 10,
  PATH_LINK_SOURCE: 1 << 11,
  PATH_LINK_TARGET: 1 << 12,
  PATH_OPEN: 1 << 13,
  FD_READDIR: 1 << 14,
  PATH_READLINK: 1 << 15,
  PATH_RENAME_SOURCE: 1 << 16,
  PATH_RENAME_TARGET: 1 << 17,
  PATH_FILESTAT_GET: 1 << 18,
  PATH_FILESTAT_SET_SIZE: 1 << 19,
  PATH_FILESTAT_SET_TIMES: 1 << 20,
  FD_FILESTAT_GET: 1 << 21,
  FD_FILESTAT_SET_SIZE: 1 << 22,
  FD_FILESTAT_SET_TIMES: 1 << 23,
  PATH_SYMLINK: 1 << 24,
  PATH_REMOVE_DIRECTORY: 1 << 25,
  PATH_UNLINK_FILE: 1 << 26,
  POLL_FD_READWRITE: 1 << 27,
  SOCK_SHUTDOWN: 1 << 28,
  SOCK_ACCEPT: 1 << 29,
} as const;

export const ALL_RIGHTS = (1 << 30) - 1;

/** Rights of a regular file descriptor: everything that applies to a file's contents. */
export const FILE_RIGHTS =
  Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC |
  Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_GET |
  Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES | Rights.POLL_FD_READWRITE;

/** Rights of a directory descriptor: the path operations under it, and listing it. */
export const DIR_RIGHTS =
  Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_ADVISE | Rights.PATH_CREATE_DIRECTORY |
  Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE | Rights.PATH_LINK_TARGET | Rights.PATH_OPEN |
  Rights.FD_READDIR | Rights.PATH_READLINK | Rights.PATH_RENAME_SOURCE | Rights.PATH_RENAME_TARGET |
  Rights.PATH_FILESTAT_GET | Rights.PATH_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_TIMES |
  Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_TIMES | Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY |
  Rights.PATH_UNLINK_FILE;

/**
 * Rights of a terminal, as node:wasi (uvwasi's RIGHTS_TTY_BASE) reports them
 * for stdio. No FD_SEEK or FD_TELL: wasi-libc's isatty() looks for exactly
 * that, so guests line-buffer stdout as on a terminal.
 */
export const TTY_RIGHTS =
  Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_WRITE | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;

/** Byte sizes of the structures in linear memory (offsets are given where they are read or written). */
export const Size = {
  IOVEC: 8,
  FDSTAT: 24,
  FILESTAT: 64,
  PRESTAT: 8,
  DIRENT: 24,
  SUBSCRIPTION: 48,
  EVENT: 32,
} as const;
