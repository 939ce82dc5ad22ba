/**
 * The functions of `wasi_snapshot_preview1`, one method each, and the table
 * that turns them into host functions for the engine.
 *
 * Each method takes the raw arguments (i32 as a number, i64 as a bigint),
 * decodes what it needs from guest memory, does the work, and returns an
 * errno. Failures deep inside throw `SyscallError`; the boundary turns those,
 * and Node's system errors, into the errno the guest sees. Anything else that
 * escapes is a bug or a host callback's failure, and traps the guest.
 */
import * as fs from 'node:fs';
import { Func, Trap, ValType, type Memory, type Value } from '../../vm/index.js';
import {
  ALL_FDFLAGS, ALL_RIGHTS, ClockId, DIR_RIGHTS, Errno, EventType, FILE_RIGHTS, FdFlags, FileType, FstFlags,
  LOOKUP_SYMLINK_FOLLOW, OFlags, Rights, Size, SUBSCRIPTION_CLOCK_ABSTIME, Whence, errnoOfCode,
} from './abi.js';
import type { WasiClock } from './clock.js';
import { WasiExit } from './errors.js';
import { FdTable, type DirFd, type FdEntry, type FileFd } from './fds.js';
import { GuestMemory, SyscallError, encodeUtf8, fail, type Iovec } from './memory.js';
import type { WasiRandom } from './random.js';
import {
  WRITE_RIGHTS, closeQuietly, fileTypeOf, filestatOf, lstatOrNull, openDirectory, openFile, procPath, targetStaysInside,
  type Filestat, type Resolved,
} from './sandbox.js';

/**
 * Every preview1 function with its parameters, 'i' for i32 and 'I' for i64,
 * exactly as wasi-libc imports them. All return an i32 errno except
 * `proc_exit`, which returns nothing.
 */
export const PREVIEW1_SIGNATURES = {
  args_get: 'ii',
  args_sizes_get: 'ii',
  environ_get: 'ii',
  environ_sizes_get: 'ii',
  clock_res_get: 'ii',
  clock_time_get: 'iIi',
  fd_advise: 'iIIi',
  fd_allocate: 'iII',
  fd_close: 'i',
  fd_datasync: 'i',
  fd_fdstat_get: 'ii',
  fd_fdstat_set_flags: 'ii',
  fd_fdstat_set_rights: 'iII',
  fd_filestat_get: 'ii',
  fd_filestat_set_size: 'iI',
  fd_filestat_set_times: 'iIIi',
  fd_pread: 'iiiIi',
  fd_prestat_get: 'ii',
  fd_prestat_dir_name: 'iii',
  fd_pwrite: 'iiiIi',
  fd_read: 'iiii',
  fd_readdir: 'iiiIi',
  fd_renumber: 'ii',
  fd_seek: 'iIii',
  fd_sync: 'i',
  fd_tell: 'ii',
  fd_write: 'iiii',
  path_create_directory: 'iii',
  path_filestat_get: 'iiiii',
  path_filestat_set_times: 'iiiiIIi',
  path_link: 'iiiiiii',
  path_open: 'iiiiiIIii',
  path_readlink: 'iiiiii',
  path_remove_directory: 'iii',
  path_rename: 'iiiiii',
  path_symlink: 'iiiii',
  path_unlink_file: 'iii',
  poll_oneoff: 'iiii',
  proc_exit: 'i',
  proc_raise: 'i',
  sched_yield: '',
  random_get: 'ii',
  sock_accept: 'iii',
  sock_recv: 'iiiiii',
  sock_send: 'iiiii',
  sock_shutdown: 'ii',
} as const;

type Signatures = typeof PREVIEW1_SIGNATURES;
type ArgsOf<S extends string> = S extends `i${infer R}` ? [number, ...ArgsOf<R>] : S extends `I${infer R}` ? [bigint, ...ArgsOf<R>] : [];
/** The shape of an implementation: one method per function, raw arguments in, errno out. */
type Preview1Functions = { [K in keyof Signatures]: (...args: ArgsOf<Signatures[K]>) => number };

/** Standard input: the whole input as bytes, or a function that fills `buf` and returns how many bytes it gave (0 at the end). */
export type StdinSource = Uint8Array | ((buf: Uint8Array) => number);
/** Where the guest's output goes. The bytes are the sink's to keep. */
export type OutputSink = (bytes: Uint8Array) => void;

/** Byte counts of the standard streams. */
export interface WasiStats {
  stdinBytes: number;
  stdoutBytes: number;
  stderrBytes: number;
}

/** Everything the functions work on. */
export interface Preview1Config {
  args: string[];
  env: [string, string][];
  clock: WasiClock;
  random: WasiRandom;
  fds: FdTable;
  stats: WasiStats;
  stdin?: StdinSource;
  stdout?: OutputSink;
  stderr?: OutputSink;
}

/**
 * The largest file offset and size a guest reaches (2^53 - 1, the largest
 * exact JS number): seeks past it are EOVERFLOW, sizes EFBIG, and reads and
 * writes stop at it (a short count, then EFBIG for a write).
 */
export const MAX_FILE_OFFSET = Number.MAX_SAFE_INTEGER;
const MAX_OFFSET = BigInt(MAX_FILE_OFFSET);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
/** A pointer, length, descriptor or count argument: an i32 read as unsigned. */
const u = (x: number): number => x >>> 0;
/** Bytes asked of a stdin function per read: a short read is always allowed, and this bounds the scratch buffer. */
const STDIN_CHUNK = 1 << 16;

/**
 * Bytes one read or write call moves at most (fd_read, fd_pread, fd_write,
 * fd_pwrite, stdin and stdout included): more is a short count, which POSIX
 * allows and libc loops over. Bounds both the host's time in one call and
 * what it allocates (stdout's copy for its sink), whatever iovecs the guest
 * passes (1024 iovecs may all alias the same 16 MiB).
 */
export const MAX_IO_BYTES = 1 << 20;
/**
 * Entries of one directory listing. A larger directory cannot be listed
 * (fd_readdir gives EOVERFLOW): the listing is read whole, sorted, when a
 * pass starts, so this bounds that call's time and memory (measured: a full
 * listing of 255-byte names took 393 ms and kept 20 MiB until the next
 * pass, on a loaded 2-core machine; paid 200 fuel units an entry read).
 */
export const MAX_DIR_ENTRIES = 1 << 16;
/** Subscriptions of one poll_oneoff call; more is EINVAL. */
export const MAX_SUBSCRIPTIONS = 4096;

/**
 * Fuel for host work, charged through the hook given to Wasi.bind (none, and
 * nothing is charged, without one). One unit is about one instruction of
 * the engine; a system call is a few microseconds.
 */
const FUEL = {
  /** Each component walked in a path resolution (an lstat, an open, an fstat and a close at most). */
  PATH_STEP: 500,
  /** Each byte of a path argument decoded. */
  PATH_BYTE: 1,
  /** Bytes read or written per unit, as the bulk memory instructions count them. */
  BYTES_PER_UNIT: 64,
  /** Each call that reads or writes, besides its bytes (the system call). */
  IO_CALL: 200,
  /** Each directory entry read from the host or written to the guest. */
  DIRENT: 200,
  /** Each poll subscription. */
  SUBSCRIPTION: 20,
  /** Random bytes per unit. */
  RANDOM_BYTES_PER_UNIT: 1,
} as const;

/** The preview1 functions over one guest's state. */
export class Preview1 implements Preview1Functions {
  /** The guest's memory; set by Wasi.bind. */
  memory: Memory | null = null;
  /** Where the memory is found when no Memory is bound (Wasi.importsFor: the binding context's, once the instance exists). */
  memorySource: (() => Memory) | null = null;
  /** Charges the instance fuel for host work (Wasi.bind's hook); null: nothing is charged. */
  charge: ((units: number) => void) | null = null;
  /** The guest's exit code, once it called proc_exit. */
  exitCode: number | null = null;
  readonly fds: FdTable;
  readonly stats: WasiStats;
  /** Replaced when a saved state is restored. */
  clock: WasiClock;
  random: WasiRandom;
  private readonly cfg: Preview1Config;
  /** argv and environ strings, NUL-terminated, encoded once. */
  private readonly argv: Uint8Array[];
  private readonly environ: Uint8Array[];
  /**
   * The listing of the latest fd_readdir pass, and its descriptor. One only:
   * 1024 descriptors each holding a listing of MAX_DIR_ENTRIES would be a lot
   * of host memory. A pass interleaved with another's on a second descriptor
   * reads its listing again.
   */
  private listing: { dir: DirFd; entries: DirEntry[] } | null = null;

  constructor(cfg: Preview1Config) {
    this.cfg = cfg;
    this.fds = cfg.fds;
    this.stats = cfg.stats;
    this.clock = cfg.clock;
    this.random = cfg.random;
    this.argv = cfg.args.map((a) => encodeUtf8(a + '\0'));
    this.environ = cfg.env.map(([k, v]) => encodeUtf8(`${k}=${v}\0`));
  }

  /**
   * The functions as engine host functions, by name, for `{ wasi_snapshot_preview1: ... }`.
   * Each call runs on `target()` (default this one), so that a Wasi can put a
   * restored state in place under functions it has handed out.
   */
  hostFunctions(target: () => Preview1 = () => this): Record<string, Func> {
    const out: Record<string, Func> = {};
    for (const [name, sig] of Object.entries(PREVIEW1_SIGNATURES)) {
      const method = Preview1.prototype[name as keyof Signatures] as (...a: (number | bigint)[]) => number;
      const impl = (...a: (number | bigint)[]): number => method.apply(target(), a);
      const params = [...sig].map((c) => (c === 'I' ? ValType.i64 : ValType.i32));
      const results = name === 'proc_exit' ? [] : [ValType.i32];
      out[name] = Func.host({ params, results }, (args: Value[]) => {
        const errno = callSyscall(impl, args.map((a) => (a as { value: number | bigint }).value));
        return results.length === 0 ? [] : [{ type: 'i32', value: errno }];
      });
    }
    return out;
  }

  /** Charges `units` of fuel (rounded up) when a hook is bound. */
  private pay(units: number): void {
    if (this.charge !== null && units > 0) this.charge(Math.ceil(units));
  }

  /** Charges for moving `bytes` between guest memory and the host. */
  private payIo(bytes: number): void {
    this.pay(FUEL.IO_CALL + bytes / FUEL.BYTES_PER_UNIT);
  }

  private mem(): GuestMemory {
    if (this.memory === null && this.memorySource !== null) return new GuestMemory(this.memorySource());
    if (this.memory === null) throw new Trap('WASI: no memory is bound (call Wasi.bind with the instance\'s memory before running it)');
    return new GuestMemory(this.memory);
  }

  // -------------------------------------------------------------------------
  // Arguments and environment

  args_sizes_get(countPtr: number, sizePtr: number): number {
    return this.sizes(this.argv, u(countPtr), u(sizePtr));
  }
  args_get(ptrs: number, buf: number): number {
    return this.strings(this.argv, u(ptrs), u(buf));
  }
  environ_sizes_get(countPtr: number, sizePtr: number): number {
    return this.sizes(this.environ, u(countPtr), u(sizePtr));
  }
  environ_get(ptrs: number, buf: number): number {
    return this.strings(this.environ, u(ptrs), u(buf));
  }

  private sizes(list: Uint8Array[], countPtr: number, sizePtr: number): number {
    const m = this.mem();
    m.setU32(countPtr, list.length);
    m.setU32(sizePtr, list.reduce((n, s) => n + s.length, 0));
    return Errno.SUCCESS;
  }

  private strings(list: Uint8Array[], ptrs: number, buf: number): number {
    const m = this.mem();
    m.check(ptrs, 4 * list.length);
    m.check(buf, list.reduce((n, s) => n + s.length, 0));
    let at = buf;
    list.forEach((s, i) => {
      m.setU32(ptrs + 4 * i, at);
      m.write(at, s);
      at += s.length;
    });
    return Errno.SUCCESS;
  }

  // -------------------------------------------------------------------------
  // Clocks, randomness, scheduling, exit

  clock_res_get(id: number, out: number): number {
    const m = this.mem();
    m.setU64(u(out), this.clock.resolution(u(id)) ?? fail(Errno.INVAL));
    return Errno.SUCCESS;
  }

  clock_time_get(id: number, _precision: bigint, out: number): number {
    const m = this.mem();
    m.check(u(out), 8);
    m.setU64(u(out), this.clock.now(u(id)) ?? fail(Errno.INVAL));
    return Errno.SUCCESS;
  }

  random_get(buf: number, len: number): number {
    const bytes = this.mem().bytes(u(buf), u(len));
    this.pay(bytes.length / FUEL.RANDOM_BYTES_PER_UNIT);
    this.random.fill(bytes);
    return Errno.SUCCESS;
  }

  sched_yield(): number {
    return Errno.SUCCESS;
  }

  proc_exit(code: number): number {
    this.exitCode = u(code);
    throw new WasiExit(this.exitCode);
  }

  proc_raise(_signal: number): number {
    // Signals do not exist for a WASI guest; abort() traps with `unreachable` instead.
    return Errno.NOSYS;
  }

  /**
   * Waits for the first of the subscribed events. Descriptor subscriptions
   * are always ready (stdio and files never block here). Otherwise the clock
   * sleeps until the earliest clock subscription's deadline: a virtual clock
   * jumps there at once.
   */
  poll_oneoff(inPtr: number, outPtr: number, count: number, countOut: number): number {
    const m = this.mem();
    const n = u(count);
    if (n === 0 || n > MAX_SUBSCRIPTIONS) fail(Errno.INVAL);
    this.pay(n * FUEL.SUBSCRIPTION);
    const ins = u(inPtr), outs = u(outPtr);
    m.check(ins, n * Size.SUBSCRIPTION);
    m.check(outs, n * Size.EVENT);
    m.check(u(countOut), 4);

    interface Event { index: number; userdata: bigint; error: number; type: number; nbytes: bigint }
    const ready: Event[] = [];
    const timers: { index: number; userdata: bigint; delta: bigint }[] = [];
    for (let i = 0; i < n; i++) {
      const s = ins + i * Size.SUBSCRIPTION;
      const userdata = m.u64At(s);
      const type = m.u8At(s + 8);
      if (type === EventType.CLOCK) {
        const id = m.u32At(s + 16);
        const timeout = m.u64At(s + 24);
        const abs = (m.u16At(s + 40) & SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
        const now = id === ClockId.REALTIME || id === ClockId.MONOTONIC ? this.clock.now(id) : null;
        if (now === null) {
          // CPU-time clocks do not advance while sleeping: waiting on them is not supported.
          const error = id === ClockId.PROCESS_CPUTIME || id === ClockId.THREAD_CPUTIME ? Errno.NOTSUP : Errno.INVAL;
          ready.push({ index: i, userdata, error, type, nbytes: 0n });
        } else {
          timers.push({ index: i, userdata, delta: abs ? timeout - now : timeout });
        }
      } else if (type === EventType.FD_READ || type === EventType.FD_WRITE) {
        ready.push({ index: i, userdata, type, ...this.readiness(m.u32At(s + 16), type) });
      } else {
        fail(Errno.INVAL);
      }
    }

    const events = ready; // descriptor and error events; expired timers join them
    if (timers.length > 0) {
      // With something already ready, only timers already expired fire; otherwise sleep until the first one.
      let until = 0n;
      if (ready.length === 0) {
        until = timers.reduce((a, t) => (t.delta < a ? t.delta : a), timers[0]!.delta);
        if (until > 0n) this.clock.sleep(until);
      }
      for (const t of timers) if (t.delta <= until) events.push({ ...t, error: 0, type: EventType.CLOCK, nbytes: 0n });
    }
    events.sort((a, b) => a.index - b.index);
    m.bytes(outs, events.length * Size.EVENT).fill(0);
    events.forEach((e, k) => {
      const p = outs + k * Size.EVENT;
      m.setU64(p, e.userdata);
      m.setU16(p + 8, e.error);
      m.setU8(p + 10, e.type);
      m.setU64(p + 16, e.nbytes);
    });
    m.setU32(u(countOut), events.length);
    return Errno.SUCCESS;
  }

  /** Whether a descriptor subscription fires: with an error, or ready with the bytes available (0 when unknown). */
  private readiness(fd: number, type: number): { error: number; nbytes: bigint } {
    const e = this.fdOrNull(fd);
    if (e === null) return { error: Errno.BADF, nbytes: 0n };
    if ((e.rightsBase & Rights.POLL_FD_READWRITE) === 0) return { error: Errno.NOTCAPABLE, nbytes: 0n };
    let nbytes = 0n;
    if (type === EventType.FD_READ) {
      const stdin = this.cfg.stdin;
      if (e.kind === 'stdio' && e.stream === 0 && stdin instanceof Uint8Array) {
        nbytes = BigInt(Math.max(0, stdin.length - this.stats.stdinBytes));
      } else if (e.kind === 'file') {
        nbytes = BigInt(Math.max(0, Number(fs.fstatSync(e.host).size) - e.offset));
      }
    }
    return { error: Errno.SUCCESS, nbytes };
  }

  private fdOrNull(fd: number): FdEntry | null {
    return this.fds.has(fd) ? this.fds.get(fd) : null;
  }

  // -------------------------------------------------------------------------
  // Descriptors

  fd_close(fd: number): number {
    this.fds.close(u(fd));
    return Errno.SUCCESS;
  }

  fd_renumber(from: number, to: number): number {
    this.fds.renumber(u(from), u(to));
    return Errno.SUCCESS;
  }

  fd_fdstat_get(fd: number, out: number): number {
    const m = this.mem();
    const e = this.fds.get(u(fd));
    const p = u(out);
    m.bytes(p, Size.FDSTAT).fill(0);
    m.setU8(p, e.kind === 'stdio' ? FileType.CHARACTER_DEVICE : e.kind === 'dir' ? FileType.DIRECTORY : e.filetype);
    m.setU16(p + 2, e.flags);
    m.setU64(p + 8, e.rightsBase);
    m.setU64(p + 16, e.rightsInheriting);
    return Errno.SUCCESS;
  }

  fd_fdstat_set_flags(fd: number, flags: number): number {
    const e = this.fds.need(u(fd), Rights.FD_FDSTAT_SET_FLAGS);
    if ((u(flags) & ~ALL_FDFLAGS) !== 0) fail(Errno.INVAL);
    // Only APPEND changes what we do; the sync flags are kept for fdstat (writes go straight to the host anyway).
    e.flags = u(flags);
    return Errno.SUCCESS;
  }

  fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint): number {
    const e = this.fds.get(u(fd));
    const b = u64(base), i = u64(inheriting);
    // Rights can only be dropped, never added.
    if (b > BigInt(ALL_RIGHTS) || i > BigInt(ALL_RIGHTS)) fail(Errno.NOTCAPABLE);
    if ((Number(b) & ~e.rightsBase) !== 0 || (Number(i) & ~e.rightsInheriting) !== 0) fail(Errno.NOTCAPABLE);
    e.rightsBase = Number(b);
    e.rightsInheriting = Number(i);
    return Errno.SUCCESS;
  }

  fd_prestat_get(fd: number, out: number): number {
    const m = this.mem();
    const name = this.preopenName(u(fd));
    m.bytes(u(out), Size.PRESTAT).fill(0);
    m.setU8(u(out), 0); // preopentype: dir
    m.setU32(u(out) + 4, name.length);
    return Errno.SUCCESS;
  }

  fd_prestat_dir_name(fd: number, path: number, len: number): number {
    const m = this.mem();
    const name = this.preopenName(u(fd));
    if (u(len) < name.length) fail(Errno.NAMETOOLONG);
    m.write(u(path), name);
    return Errno.SUCCESS;
  }

  /** The guest path of a preopened directory; EBADF for any other descriptor (wasi-libc stops its preopen scan there). */
  private preopenName(fd: number): Uint8Array {
    const e = this.fds.get(fd);
    if (e.kind !== 'dir' || !e.preopen) fail(Errno.BADF);
    return encodeUtf8(e.mount.guestPath);
  }

  fd_advise(fd: number, _offset: bigint, _len: bigint, advice: number): number {
    this.fds.need(u(fd), Rights.FD_ADVISE);
    if (u(advice) > 5) fail(Errno.INVAL);
    return Errno.SUCCESS;
  }

  fd_allocate(fd: number, offset: bigint, len: bigint): number {
    const e = this.file(u(fd), Rights.FD_ALLOCATE);
    const end = u64(offset) + u64(len);
    if (end > MAX_OFFSET) fail(Errno.FBIG);
    // Node has no posix_fallocate; extending the file gives the same guarantee for the guest (later writes fit).
    if (end > fs.fstatSync(e.host, { bigint: true }).size) fs.ftruncateSync(e.host, Number(end));
    return Errno.SUCCESS;
  }

  fd_datasync(fd: number): number {
    const e = this.fds.need(u(fd), Rights.FD_DATASYNC);
    if (e.kind === 'file') fs.fdatasyncSync(e.host);
    return Errno.SUCCESS;
  }

  fd_sync(fd: number): number {
    const e = this.fds.need(u(fd), Rights.FD_SYNC);
    if (e.kind === 'file') fs.fsyncSync(e.host);
    return Errno.SUCCESS;
  }

  fd_filestat_get(fd: number, out: number): number {
    const m = this.mem();
    const e = this.fds.need(u(fd), Rights.FD_FILESTAT_GET);
    m.check(u(out), Size.FILESTAT);
    let st: Filestat;
    if (e.kind === 'stdio') {
      st = { dev: 0n, ino: 0n, filetype: FileType.CHARACTER_DEVICE, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
    } else {
      st = filestatOf(fs.fstatSync(e.host, { bigint: true }));
    }
    writeFilestat(m, u(out), st);
    return Errno.SUCCESS;
  }

  fd_filestat_set_size(fd: number, size: bigint): number {
    const e = this.file(u(fd), Rights.FD_FILESTAT_SET_SIZE);
    const n = u64(size);
    if (n > MAX_OFFSET) fail(Errno.FBIG);
    fs.ftruncateSync(e.host, Number(n));
    return Errno.SUCCESS;
  }

  fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, flags: number): number {
    const e = this.fds.need(u(fd), Rights.FD_FILESTAT_SET_TIMES);
    if (e.kind === 'file') {
      this.setTimes(() => fs.fstatSync(e.host, { bigint: true }), (a, m) => fs.futimesSync(e.host, a, m), atim, mtim, flags);
    } else if (e.kind === 'dir') {
      this.setTimes(() => fs.fstatSync(e.host, { bigint: true }), (a, m) => fs.futimesSync(e.host, a, m), atim, mtim, flags);
    }
    return Errno.SUCCESS;
  }

  /** Applies fst_flags: each time is the given one, "now" on the WASI clock (so virtual under a virtual clock), or unchanged. */
  private setTimes(current: () => fs.BigIntStats, apply: (atime: number, mtime: number) => void, atim: bigint, mtim: bigint, flags: number): void {
    const f = u(flags);
    if ((f & ~0xf) !== 0) fail(Errno.INVAL);
    if ((f & FstFlags.ATIM && f & FstFlags.ATIM_NOW) || (f & FstFlags.MTIM && f & FstFlags.MTIM_NOW)) fail(Errno.INVAL);
    if (f === 0) return;
    const now = this.clock.now(ClockId.REALTIME)!;
    let st: fs.BigIntStats | undefined;
    const a = f & FstFlags.ATIM ? u64(atim) : f & FstFlags.ATIM_NOW ? now : (st ??= current()).atimeNs;
    const m = f & FstFlags.MTIM ? u64(mtim) : f & FstFlags.MTIM_NOW ? now : (st ??= current()).mtimeNs;
    apply(Number(a) / 1e9, Number(m) / 1e9);
  }

  fd_read(fd: number, iovs: number, count: number, nread: number): number {
    const m = this.mem();
    const e = this.fds.get(u(fd));
    if (e.kind === 'dir') fail(Errno.ISDIR);
    this.fds.need(u(fd), Rights.FD_READ);
    const vecs = capped(m.iovecs(u(iovs), u(count)));
    m.check(u(nread), 4);
    this.payIo(total(vecs));
    let n: number;
    if (e.kind === 'stdio') {
      n = this.readStdin(m, vecs);
    } else {
      n = readFile(e.host, m, capped(vecs, room(e.offset)), e.offset);
      e.offset += n;
    }
    m.setU32(u(nread), n);
    return Errno.SUCCESS;
  }

  fd_pread(fd: number, iovs: number, count: number, offset: bigint, nread: number): number {
    const m = this.mem();
    const e = this.positional(u(fd), Rights.FD_READ);
    const vecs = capped(m.iovecs(u(iovs), u(count)));
    m.check(u(nread), 4);
    this.payIo(total(vecs));
    const at = offsetArg(offset);
    m.setU32(u(nread), readFile(e.host, m, capped(vecs, room(at)), at));
    return Errno.SUCCESS;
  }

  fd_write(fd: number, iovs: number, count: number, nwritten: number): number {
    const m = this.mem();
    const e = this.fds.need(u(fd), Rights.FD_WRITE);
    const vecs = capped(m.iovecs(u(iovs), u(count)));
    m.check(u(nwritten), 4);
    this.payIo(total(vecs));
    let n: number;
    if (e.kind === 'stdio') {
      n = this.writeStdout(e.stream, m, vecs);
    } else if (e.kind === 'dir') {
      return fail(Errno.ISDIR);
    } else {
      const at = e.flags & FdFlags.APPEND ? Number(fs.fstatSync(e.host).size) : e.offset;
      n = writeFile(e.host, m, fitting(vecs, at), at);
      e.offset = at + n;
    }
    m.setU32(u(nwritten), n);
    return Errno.SUCCESS;
  }

  fd_pwrite(fd: number, iovs: number, count: number, offset: bigint, nwritten: number): number {
    const m = this.mem();
    const e = this.positional(u(fd), Rights.FD_WRITE);
    const vecs = capped(m.iovecs(u(iovs), u(count)));
    m.check(u(nwritten), 4);
    this.payIo(total(vecs));
    const at = offsetArg(offset);
    m.setU32(u(nwritten), writeFile(e.host, m, fitting(vecs, at), at));
    return Errno.SUCCESS;
  }

  fd_seek(fd: number, offset: bigint, whence: number, out: number): number {
    const m = this.mem();
    const e = this.fds.get(u(fd));
    if (e.kind === 'stdio') fail(Errno.SPIPE);
    // A seek that only asks where we are needs only FD_TELL.
    this.fds.need(u(fd), offset === 0n && u(whence) === Whence.CUR ? Rights.FD_TELL : Rights.FD_SEEK);
    m.check(u(out), 8);
    if (e.kind !== 'file') return fail(Errno.BADF);
    let base: number;
    switch (u(whence)) {
      case Whence.SET: base = 0; break;
      case Whence.CUR: base = e.offset; break;
      case Whence.END: base = Number(fs.fstatSync(e.host).size); break;
      default: return fail(Errno.INVAL);
    }
    const to = BigInt(base) + offset;
    if (to < 0n) fail(Errno.INVAL);
    if (to > MAX_OFFSET) fail(Errno.OVERFLOW);
    e.offset = Number(to);
    m.setU64(u(out), to);
    return Errno.SUCCESS;
  }

  fd_tell(fd: number, out: number): number {
    const m = this.mem();
    const e = this.fds.get(u(fd));
    if (e.kind === 'stdio') fail(Errno.SPIPE);
    this.fds.need(u(fd), Rights.FD_TELL);
    if (e.kind !== 'file') return fail(Errno.BADF);
    m.setU64(u(out), e.offset);
    return Errno.SUCCESS;
  }

  /**
   * Directory entries from `cookie` on, packed as dirents; the last one is
   * cut off at the end of the buffer, which tells the guest to ask again.
   * Entries come sorted by name after "." and "..", so listings are the same
   * on every host. A listing is read when a pass starts (cookie 0) and kept
   * for the rest of the pass: the guest sees one consistent listing, and a
   * large directory read in small pieces is read from the host once.
   */
  fd_readdir(fd: number, buf: number, len: number, cookie: bigint, bufused: number): number {
    const m = this.mem();
    const e = this.fds.get(u(fd));
    if (e.kind !== 'dir') fail(Errno.NOTDIR);
    this.fds.need(u(fd), Rights.FD_READDIR);
    const start = u(buf), size = u(len);
    m.check(start, size);
    m.check(u(bufused), 4);
    if (this.listing === null || this.listing.dir !== e || cookie === 0n) {
      this.listing = null;
      // Every entry read is paid, also when the listing is refused (EOVERFLOW) after 65,534 of them.
      let read = 0;
      let entries: DirEntry[];
      try {
        entries = listDirectory(e, () => read++);
      } finally {
        this.pay(read * FUEL.DIRENT);
      }
      this.listing = { dir: e, entries };
    }
    const list = this.listing.entries;
    let used = 0;
    const header = new Uint8Array(Size.DIRENT);
    const dv = new DataView(header.buffer);
    const first = u64(cookie) > BigInt(list.length) ? list.length : Number(u64(cookie));
    for (let i = first; i < list.length && used < size; i++) {
      const d = list[i]!;
      const name = encodeUtf8(d.name);
      this.pay(FUEL.DIRENT + name.length);
      header.fill(0);
      dv.setBigUint64(0, BigInt(i + 1), true); // d_next: the cookie of the entry after this one
      dv.setBigUint64(8, inodeOf(e, d.name), true);
      dv.setUint32(16, name.length, true);
      dv.setUint8(20, d.type);
      for (const part of [header, name]) {
        const n = Math.min(part.length, size - used);
        m.write(start + used, part.subarray(0, n));
        used += n;
      }
    }
    m.setU32(u(bufused), used);
    return Errno.SUCCESS;
  }

  // -------------------------------------------------------------------------
  // Paths. Each resolves its path from the directory descriptor's host
  // descriptor (see sandbox.ts) and works on the entry through /proc, never
  // following a link in the last place unless resolution already did.

  path_open(dirFd: number, dirflags: number, path: number, len: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, out: number): number {
    const m = this.mem();
    const o = u(oflags), ff = u(fdflags);
    const d = this.fds.dir(u(dirFd), Rights.PATH_OPEN | (o & OFlags.CREAT ? Rights.PATH_CREATE_FILE : 0) | (o & OFlags.TRUNC ? Rights.PATH_FILESTAT_SET_SIZE : 0));
    m.check(u(out), 4);
    const p = m.path(u(path), u(len));
    if ((o & ~0xf) !== 0 || (ff & ~ALL_FDFLAGS) !== 0) fail(Errno.INVAL);
    // The new descriptor's rights must be among those the directory passes on.
    const b = u64(base), i = u64(inheriting);
    if (b > BigInt(ALL_RIGHTS) || i > BigInt(ALL_RIGHTS)) fail(Errno.NOTCAPABLE);
    const rb = Number(b), ri = Number(i);
    if ((rb & ~d.rightsInheriting) !== 0 || (ri & ~d.rightsInheriting) !== 0) fail(Errno.NOTCAPABLE);

    const entry = this.walk(d, p, (u(dirflags) & LOOKUP_SYMLINK_FOLLOW) !== 0, (r): DirFd | FileFd => {
      const st = lstatOrNull(r.host);
      if (st !== null && o & OFlags.CREAT && o & OFlags.EXCL) fail(Errno.EXIST);
      if (st !== null && st.isDirectory()) {
        if (o & (OFlags.CREAT | OFlags.TRUNC) || rb & WRITE_RIGHTS) fail(Errno.ISDIR);
        const host = openDirectory(r.host, st);
        return { kind: 'dir', mount: r.mount, host, openedAs: r.mount.pathOf(host) ?? '', preopen: false, rightsBase: rb & DIR_RIGHTS, rightsInheriting: ri, flags: ff };
      }
      if (st !== null && st.isSymbolicLink()) fail(Errno.LOOP); // not following it (POSIX O_NOFOLLOW)
      if (o & OFlags.DIRECTORY) fail(st === null ? Errno.NOENT : Errno.NOTDIR);
      const host = openFile(r.host, rb, o);
      try {
        const s = fs.fstatSync(host);
        return { kind: 'file', mount: r.mount, host, openedAs: r.mount.pathOf(host) ?? '', filetype: fileTypeOf(s), offset: 0, rightsBase: rb & FILE_RIGHTS, rightsInheriting: ri, flags: ff };
      } catch (err) {
        closeQuietly(host);
        throw err;
      }
    });
    let fd: number;
    try {
      fd = this.fds.add(entry);
    } catch (err) {
      closeQuietly(entry.host);
      throw err;
    }
    m.setU32(u(out), fd);
    return Errno.SUCCESS;
  }

  path_create_directory(fd: number, path: number, len: number): number {
    this.at(fd, Rights.PATH_CREATE_DIRECTORY, path, len, false, (r) => {
      if (r.name === null) fail(Errno.EXIST);
      fs.mkdirSync(r.host);
    });
    return Errno.SUCCESS;
  }

  path_remove_directory(fd: number, path: number, len: number): number {
    this.at(fd, Rights.PATH_REMOVE_DIRECTORY, path, len, false, (r) => {
      if (r.name === null) fail(Errno.BUSY); // "." or "..": a mount's root, or a directory in use as the base
      fs.rmdirSync(r.host);
    });
    return Errno.SUCCESS;
  }

  path_unlink_file(fd: number, path: number, len: number): number {
    this.at(fd, Rights.PATH_UNLINK_FILE, path, len, false, (r) => {
      if (r.name === null) fail(Errno.ISDIR);
      fs.unlinkSync(r.host);
    });
    return Errno.SUCCESS;
  }

  path_filestat_get(fd: number, flags: number, path: number, len: number, out: number): number {
    const m = this.mem();
    m.check(u(out), Size.FILESTAT);
    // lstat: resolution has already followed the last link if asked to; a link left is one not to follow.
    const st = this.at(fd, Rights.PATH_FILESTAT_GET, path, len, (u(flags) & LOOKUP_SYMLINK_FOLLOW) !== 0, (r) => fs.lstatSync(r.host, { bigint: true }));
    writeFilestat(m, u(out), filestatOf(st));
    return Errno.SUCCESS;
  }

  path_filestat_set_times(fd: number, flags: number, path: number, len: number, atim: bigint, mtim: bigint, fstFlags: number): number {
    this.at(fd, Rights.PATH_FILESTAT_SET_TIMES, path, len, (u(flags) & LOOKUP_SYMLINK_FOLLOW) !== 0, (r) => {
      this.setTimes(() => fs.lstatSync(r.host, { bigint: true }), (a, m) => fs.lutimesSync(r.host, a, m), atim, mtim, fstFlags);
    });
    return Errno.SUCCESS;
  }

  path_readlink(fd: number, path: number, len: number, buf: number, bufLen: number, bufused: number): number {
    const m = this.mem();
    m.check(u(buf), u(bufLen));
    m.check(u(bufused), 4);
    const target = this.at(fd, Rights.PATH_READLINK, path, len, false, (r) => {
      if (r.name === null) fail(Errno.INVAL);
      return fs.readlinkSync(r.host, { encoding: 'buffer' });
    });
    // Truncated to the buffer, as POSIX readlink does.
    const n = Math.min(target.length, u(bufLen));
    m.write(u(buf), target.subarray(0, n));
    m.setU32(u(bufused), n);
    return Errno.SUCCESS;
  }

  path_symlink(target: number, targetLen: number, fd: number, path: number, len: number): number {
    const t = this.mem().path(u(target), u(targetLen));
    this.at(fd, Rights.PATH_SYMLINK, path, len, false, (r) => {
      if (r.name === null) fail(Errno.EXIST);
      // A link the guest makes must point inside its mount where it is made, so that
      // host programs (which may follow it) are not led outside. The binding's own
      // resolution does not rely on this: a link moved elsewhere points elsewhere.
      const here = r.mount.pathOf(r.dir);
      if (here === null || !targetStaysInside(here === '' ? 0 : here.split('/').length, t)) fail(Errno.NOTCAPABLE);
      fs.symlinkSync(t, r.host);
    });
    return Errno.SUCCESS;
  }

  path_link(oldFd: number, oldFlags: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number): number {
    this.at(oldFd, Rights.PATH_LINK_SOURCE, oldPath, oldLen, (u(oldFlags) & LOOKUP_SYMLINK_FOLLOW) !== 0, (from) =>
      this.at(newFd, Rights.PATH_LINK_TARGET, newPath, newLen, false, (to) => {
        if (from.mount !== to.mount) fail(Errno.XDEV); // mounts stay apart: nothing moves between them
        if (to.name === null) fail(Errno.EXIST);
        if (from.name === null) fail(Errno.PERM); // a directory
        fs.linkSync(from.host, to.host);
      }),
    );
    return Errno.SUCCESS;
  }

  path_rename(oldFd: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number): number {
    this.at(oldFd, Rights.PATH_RENAME_SOURCE, oldPath, oldLen, false, (from) =>
      this.at(newFd, Rights.PATH_RENAME_TARGET, newPath, newLen, false, (to) => {
        if (from.name === null || to.name === null) fail(Errno.BUSY);
        if (from.mount !== to.mount) fail(Errno.XDEV);
        fs.renameSync(from.host, to.host);
      }),
    );
    return Errno.SUCCESS;
  }

  /** Runs `f` on the guest path (ptr, len) resolved under directory descriptor `fd`, which must have `rights`. */
  private at<T>(fd: number, rights: number, path: number, len: number, followLast: boolean, f: (r: Resolved) => T): T {
    const d = this.fds.dir(u(fd), rights);
    return this.walk(d, this.mem().path(u(path), u(len)), followLast, f);
  }

  /** Resolves `path` from the directory `d`, runs `f` on it, and releases what the resolution holds. */
  private walk<T>(d: DirFd, path: string, followLast: boolean, f: (r: Resolved) => T): T {
    this.pay(path.length * FUEL.PATH_BYTE);
    const r = d.mount.resolve(d.host, path, followLast, () => this.pay(FUEL.PATH_STEP));
    try {
      return f(r);
    } finally {
      r.release();
    }
  }

  // -------------------------------------------------------------------------
  // Sockets: preview1 has no way to create one, so no descriptor is ever a socket.

  sock_accept(fd: number, _flags: number, _out: number): number {
    return this.notSocket(fd);
  }
  sock_recv(fd: number, _iovs: number, _count: number, _flags: number, _nread: number, _oflags: number): number {
    return this.notSocket(fd);
  }
  sock_send(fd: number, _iovs: number, _count: number, _flags: number, _nwritten: number): number {
    return this.notSocket(fd);
  }
  sock_shutdown(fd: number, _how: number): number {
    return this.notSocket(fd);
  }

  private notSocket(fd: number): number {
    this.fds.get(u(fd));
    return Errno.NOTSOCK;
  }

  // -------------------------------------------------------------------------
  // Helpers

  /** A file descriptor with `rights` (EBADF for stdio and directories: the operation needs a file). */
  private file(fd: number, rights: number): FileFd {
    const e = this.fds.need(fd, rights);
    if (e.kind !== 'file') fail(e.kind === 'dir' ? Errno.ISDIR : Errno.BADF);
    return e;
  }

  /** A file for pread/pwrite: stdio cannot seek (ESPIPE); FD_SEEK is needed besides `rights`. */
  private positional(fd: number, rights: number): FileFd {
    const e = this.fds.get(fd);
    if (e.kind === 'stdio') fail(Errno.SPIPE);
    if (e.kind === 'dir') fail(Errno.ISDIR);
    this.fds.need(fd, rights | Rights.FD_SEEK);
    return e;
  }

  /** Reads stdin into the iovecs. A function source is asked once per call (like a pipe, a read returns what is there). */
  private readStdin(m: GuestMemory, vecs: Iovec[]): number {
    const src = this.cfg.stdin;
    let total = 0;
    for (const v of vecs) {
      if (v.len === 0) continue;
      let n: number;
      if (src === undefined) {
        n = 0;
      } else if (src instanceof Uint8Array) {
        const from = Math.min(this.stats.stdinBytes, src.length);
        n = Math.min(v.len, src.length - from);
        m.u8.set(src.subarray(from, from + n), v.ptr);
      } else {
        const scratch = new Uint8Array(Math.min(v.len, STDIN_CHUNK));
        n = src(scratch);
        if (!(Number.isInteger(n) && n >= 0 && n <= scratch.length)) {
          throw new TypeError(`stdin function returned ${n} for a buffer of ${scratch.length} bytes`);
        }
        m.u8.set(scratch.subarray(0, n), v.ptr);
      }
      total += n;
      this.stats.stdinBytes += n;
      if (n < v.len || !(src instanceof Uint8Array)) break;
    }
    return total;
  }

  /** Gathers the iovecs (at most MAX_IO_BYTES: see `capped`) and hands them to the stream's sink in one piece. */
  private writeStdout(stream: 0 | 1 | 2, m: GuestMemory, vecs: Iovec[]): number {
    const total = vecs.reduce((n, v) => n + v.len, 0);
    const sink = stream === 1 ? this.cfg.stdout : this.cfg.stderr;
    if (sink !== undefined && total > 0) {
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const v of vecs) {
        bytes.set(m.u8.subarray(v.ptr, v.ptr + v.len), at);
        at += v.len;
      }
      sink(bytes);
    }
    if (stream === 1) this.stats.stdoutBytes += total;
    else this.stats.stderrBytes += total;
    return total;
  }
}

/** Runs one syscall, turning the failures a guest may cause into errnos. */
function callSyscall(impl: (...a: (number | bigint)[]) => number, args: (number | bigint)[]): number {
  try {
    return impl(...args);
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    if (e instanceof Trap) throw e; // proc_exit's WasiExit, or no memory bound
    const code = (e as { code?: unknown } | null)?.code;
    // Node's system errors carry the POSIX name ("ENOENT"); its own argument errors ("ERR_...") are bugs.
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return errnoOfCode(code);
    throw e;
  }
}

/** An i64 file offset argument for pread/pwrite: below 2^53 (EINVAL otherwise, which also covers negative ones). */
function offsetArg(x: bigint): number {
  const v = u64(x);
  if (v > MAX_OFFSET) fail(Errno.INVAL);
  return Number(v);
}

/** Node's readSync/writeSync take at most 2^31-1 bytes per call. */
const IO_CHUNK = 1 << 30;

function readFile(host: number, m: GuestMemory, vecs: Iovec[], at: number): number {
  let total = 0;
  for (const v of vecs) {
    for (let done = 0; done < v.len; ) {
      const n = fs.readSync(host, m.u8, v.ptr + done, Math.min(IO_CHUNK, v.len - done), at + total);
      if (n === 0) return total;
      done += n;
      total += n;
    }
  }
  return total;
}

function writeFile(host: number, m: GuestMemory, vecs: Iovec[], at: number): number {
  let total = 0;
  for (const v of vecs) {
    for (let done = 0; done < v.len; ) {
      const n = fs.writeSync(host, m.u8, v.ptr + done, Math.min(IO_CHUNK, v.len - done), at + total);
      done += n;
      total += n;
    }
  }
  return total;
}

/** A directory entry for fd_readdir: its name and WASI file type. */
interface DirEntry {
  name: string;
  type: number;
}

/**
 * A directory's entries: ".", "..", then the rest sorted by name (UTF-16
 * order: the same on every host). EOVERFLOW past MAX_DIR_ENTRIES. `read` is
 * called for each entry read from the host.
 */
function listDirectory(d: DirFd, read: () => void): DirEntry[] {
  const names: fs.Dirent[] = [];
  const dir = fs.opendirSync(procPath(d.host, null));
  try {
    for (let n = dir.readSync(); n !== null; n = dir.readSync()) {
      read();
      if (names.length >= MAX_DIR_ENTRIES - 2) fail(Errno.OVERFLOW);
      names.push(n);
    }
  } finally {
    dir.closeSync();
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [
    { name: '.', type: FileType.DIRECTORY },
    { name: '..', type: FileType.DIRECTORY },
    ...names.map((n) => ({ name: n.name, type: fileTypeOf(n) })),
  ];
}

/** The inode number of a directory entry for fd_readdir; 0 if it vanished meanwhile. The root's ".." shows the root again (its parent is outside the mount). */
function inodeOf(d: DirFd, name: string): bigint {
  try {
    if (name === '.' || (name === '..' && d.mount.isRoot(d.host))) return fs.fstatSync(d.host, { bigint: true }).ino;
    return fs.lstatSync(procPath(d.host, name), { bigint: true }).ino;
  } catch {
    return 0n;
  }
}

/** The iovecs cut to `limit` bytes in all (MAX_IO_BYTES by default): a longer read or write is a short one. */
function capped(vecs: Iovec[], limit = MAX_IO_BYTES): Iovec[] {
  const out: Iovec[] = [];
  let left = limit;
  for (const v of vecs) {
    if (left === 0) break;
    const len = Math.min(v.len, left);
    out.push({ ptr: v.ptr, len });
    left -= len;
  }
  return out;
}

/**
 * Bytes from file offset `at` up to the largest offset a descriptor keeps
 * (2^53 - 1). Reads and writes stop there: past it offsets are not exact
 * JS numbers (a file system such as tmpfs would take a write at 2^53 + 2,
 * and the next one would land at a rounded offset), and node:fs refuses to
 * read at them (a RangeError, not an errno).
 */
function room(at: number): number {
  return Math.max(0, MAX_FILE_OFFSET - at);
}

/** The iovecs of a write at `at`, cut at the largest offset; EFBIG when nothing fits (as a file size limit gives). */
function fitting(vecs: Iovec[], at: number): Iovec[] {
  const fit = capped(vecs, room(at));
  if (total(fit) === 0 && total(vecs) > 0) fail(Errno.FBIG);
  return fit;
}

function total(vecs: Iovec[]): number {
  return vecs.reduce((n, v) => n + v.len, 0);
}

function writeFilestat(m: GuestMemory, p: number, s: Filestat): void {
  m.bytes(p, Size.FILESTAT).fill(0);
  m.setU64(p, s.dev);
  m.setU64(p + 8, s.ino);
  m.setU8(p + 16, s.filetype);
  m.setU64(p + 24, s.nlink);
  m.setU64(p + 32, s.size);
  m.setU64(p + 40, s.atim);
  m.setU64(p + 48, s.mtim);
  m.setU64(p + 56, s.ctim);
}
