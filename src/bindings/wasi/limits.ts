/**
 * Every bound the WASI binding puts on one guest, in one table (each is
 * documented where it is enforced). None is configurable: each is far above
 * what a normal program needs.
 */
import { MAX_FDS } from './fds.js';
import { IOV_MAX, PATH_MAX } from './memory.js';
import { MAX_DIR_ENTRIES, MAX_FILE_OFFSET, MAX_IO_BYTES, MAX_SUBSCRIPTIONS } from './preview1.js';
import { MAX_LINKS, MAX_WALK } from './sandbox.js';

/** The WASI binding's limits and what a guest gets past each. */
export const WASI_LIMITS = Object.freeze({
  /** Open descriptors (stdio and preopens included): EMFILE. */
  fds: MAX_FDS,
  /** iovecs per read or write call: EINVAL. */
  iovecs: IOV_MAX,
  /** Bytes a read or write call moves: a short count. */
  ioBytesPerCall: MAX_IO_BYTES,
  /** The largest file offset and size: seeks past it EOVERFLOW, sizes EFBIG, reads and writes a short count there, then EFBIG for writes. */
  fileOffset: MAX_FILE_OFFSET,
  /** Mounts of one Wasi (each is a preopened descriptor beside stdio): RangeError when constructed with more. */
  mounts: MAX_FDS - 3,
  /** Bytes of a path argument: ENAMETOOLONG. */
  pathBytes: PATH_MAX,
  /** Symbolic links expanded in one resolution: ELOOP. */
  linksPerResolution: MAX_LINKS,
  /** Components walked in one resolution, links' included: ENAMETOOLONG. */
  componentsPerResolution: MAX_WALK,
  /** Entries of a directory fd_readdir lists: EOVERFLOW. */
  directoryEntries: MAX_DIR_ENTRIES,
  /** Subscriptions of one poll_oneoff: EINVAL. */
  pollSubscriptions: MAX_SUBSCRIPTIONS,
});
