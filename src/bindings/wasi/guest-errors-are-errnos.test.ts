/**
 * Whatever a guest passes, every preview1 function answers with an errno:
 * bad pointers and lengths give EFAULT, operations that make no sense give
 * the errno POSIX would, and nothing throws into the host (only proc_exit
 * unwinds, with a WasiExit). Also: the functions have exactly the
 * signatures wasi-libc imports them with.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory, Module, type Func } from '../../vm/index.js';
import { callWasi as call, programBytes, runOnWasmhive } from '../../../test/programs/harness.js';
import { DIR_RIGHTS, FILE_RIGHTS } from './abi.js';
import { PREVIEW1_SIGNATURES, Wasi, WasiExit } from './index.js';

const EFAULT = 21;
const PAGE = 65536;
type Name = keyof typeof PREVIEW1_SIGNATURES;
const NAMES = Object.keys(PREVIEW1_SIGNATURES) as Name[];

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-errno-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));


/** A Wasi bound to a fresh one-page memory, with one mount (fd 3) holding a file "f.txt". */
function setup(): { wasi: Wasi; memory: Memory; mount: string } {
  const mount = mkdtempSync(join(temp, 'mount-'));
  writeFileSync(join(mount, 'f.txt'), 'contents');
  const wasi = new Wasi({ args: ['prog', 'arg'], env: { A: 'b' }, mounts: { '/m': mount } });
  const memory = new Memory({ initial: 1 });
  wasi.bind(memory);
  return { wasi, memory, mount };
}

describe('syscalls.c: every function from inside a guest', () => {
  it('links all 46 imports of wasi-libc with exactly our signatures', () => {
    const mod = new Module(programBytes('syscalls'));
    const wasi = new Wasi();
    const ours = wasi.imports.wasi_snapshot_preview1!;
    expect(Object.keys(ours).sort()).toEqual([...NAMES].sort());
    expect(NAMES).toHaveLength(46);
    const imported = mod.ast.imports.filter((i) => i.module === 'wasi_snapshot_preview1');
    expect(imported.map((i) => i.name).sort()).toEqual([...NAMES].sort());
    for (const imp of imported) {
      if (imp.desc.kind !== 'func') throw new Error(`${imp.name} is not a function import`);
      expect((ours[imp.name] as Func).type, imp.name).toEqual(mod.ast.types[imp.desc.type]);
    }
  });

  it('gets the errno each call should give', () => {
    const r = runOnWasmhive('syscalls', { args: ['syscalls'] });
    expect(r.trap).toBeUndefined();
    expect(r.exitCode).toBe(17);
    const got = Object.fromEntries(r.stdout.split('\n').filter((l) => /: -?\d+$/.test(l)).map((l) => [l.slice(0, l.lastIndexOf(':')), Number(l.slice(l.lastIndexOf(':') + 2))]));
    const SUCCESS = 0, BADF = 8, INVAL = 28, NOSYS = 52, NOTDIR = 54, NOTSOCK = 57, SPIPE = 70, NOTCAPABLE = 76;
    expect(got).toEqual({
      'args_sizes_get': SUCCESS,
      'args_sizes_get(bad)': EFAULT,
      'args_get(bad)': EFAULT,
      'environ_sizes_get': SUCCESS,
      'environ_get(bad)': EFAULT,
      'clock_res_get(monotonic)': SUCCESS,
      'clock_res_get(99)': INVAL,
      'clock_time_get(realtime)': SUCCESS,
      'clock_time_get(99)': INVAL,
      'clock_time_get(bad)': EFAULT,
      'fd_fdstat_get(stdout)': SUCCESS,
      'fd_fdstat_get(99)': BADF,
      'fd_fdstat_get(bad)': EFAULT,
      'fd_fdstat_set_flags(stdout, nonblock)': SUCCESS,
      'fd_fdstat_set_flags(stdout, 0x100)': INVAL,
      'fd_fdstat_set_rights(stdout, more)': NOTCAPABLE,
      'fd_filestat_get(stdout)': SUCCESS,
      'fd_filestat_get(bad)': EFAULT,
      'fd_filestat_set_size(stdout)': NOTCAPABLE,
      'fd_filestat_set_times(stdout)': NOTCAPABLE,
      'fd_advise(stdout)': NOTCAPABLE,
      'fd_allocate(stdout)': NOTCAPABLE,
      'fd_datasync(stdout)': NOTCAPABLE,
      'fd_sync(stdout)': NOTCAPABLE,
      'fd_write(stdout, empty)': SUCCESS,
      'fd_write(stdout, bad iovec array)': EFAULT,
      'fd_write(stdout, bad buffer)': EFAULT,
      'fd_write(stdout, bad count out)': EFAULT,
      'fd_write(stdout, 100000 iovecs)': INVAL,
      'fd_write(stdin)': BADF,
      'fd_write(99)': BADF,
      'fd_read(stdin)': SUCCESS,
      'fd_read(stdout)': BADF,
      'fd_pread(stdin)': SPIPE,
      'fd_pwrite(stdout)': SPIPE,
      'fd_seek(stdout)': SPIPE,
      'fd_tell(stdout)': SPIPE,
      'fd_readdir(stdout)': NOTDIR,
      'fd_prestat_get(3)': BADF,
      'fd_prestat_dir_name(0)': BADF,
      'fd_renumber(99, 1)': BADF,
      'fd_close(99)': BADF,
      'path_open(stdout)': NOTDIR,
      'path_open(99)': BADF,
      'path_create_directory(stdout)': NOTDIR,
      'path_filestat_get(stdout)': NOTDIR,
      'path_filestat_set_times(stdout)': NOTDIR,
      'path_link(stdout)': NOTDIR,
      'path_readlink(stdout)': NOTDIR,
      'path_remove_directory(stdout)': NOTDIR,
      'path_rename(stdout)': NOTDIR,
      'path_symlink(stdout)': NOTDIR,
      'path_unlink_file(stdout)': NOTDIR,
      'poll_oneoff(clock)': SUCCESS,
      'poll_oneoff(clock, stdout)': SUCCESS,
      'poll_oneoff(clock, fd 99)': SUCCESS,
      'poll_oneoff(none)': INVAL,
      'poll_oneoff(bad)': EFAULT,
      'random_get': SUCCESS,
      'random_get(bad)': EFAULT,
      'sched_yield': SUCCESS,
      'proc_raise': NOSYS,
      'sock_accept(stdout)': NOTSOCK,
      'sock_accept(99)': BADF,
      'sock_recv(stdout)': NOTSOCK,
      'sock_send(stdout)': NOTSOCK,
      'sock_shutdown(stdout)': NOTSOCK,
      'fd_fdstat_set_rights(stdin, none)': SUCCESS,
      'fd_read(stdin) without rights': BADF,
      'fd_renumber(2, 0)': SUCCESS,
      'fd_write(2) after renumbering': BADF,
      'fd_close(0)': SUCCESS,
      'fd_close(0) again': BADF,
    });
    // stdio is a terminal to the guest: a character device that cannot seek, so wasi-libc line-buffers stdout.
    expect(r.stdout).toContain('stdout filetype 2, can seek 0, can tell 0, can write 1');
    expect(r.stdout).toContain('events 1: userdata 7 error 0 type 0');
    expect(r.stdout).toContain('events 1: userdata 8 type 2'); // a ready descriptor fires before the timer
    expect(r.stdout).toContain('events 1: userdata 8 error 8');
  });
});

describe('bad pointers and lengths give EFAULT', () => {
  const BAD = -16; // 0xfffffff0
  const cases: [Name, (number | bigint)[]][] = [
    ['args_sizes_get', [BAD, 0]],
    ['args_sizes_get', [0, PAGE - 2]],
    ['args_get', [BAD, 64]],
    ['args_get', [0, PAGE - 4]],
    ['environ_sizes_get', [0, BAD]],
    ['environ_get', [PAGE, 64]],
    ['clock_res_get', [1, PAGE - 4]],
    ['clock_time_get', [1, 0n, PAGE - 7]],
    ['clock_time_get', [0, 0n, BAD]],
    ['random_get', [PAGE - 8, 9]],
    ['random_get', [BAD, 1]],
    ['fd_write', [1, BAD, 1, 0]],
    ['fd_write', [1, 256, 1, PAGE]],
    ['fd_read', [0, BAD, 1, 0]],
    ['fd_fdstat_get', [1, PAGE - 23]],
    ['fd_filestat_get', [3, PAGE - 63]],
    ['fd_prestat_get', [3, BAD]],
    ['fd_prestat_dir_name', [3, PAGE - 1, 2]],
    ['fd_readdir', [3, PAGE - 10, 20, 0n, 0]],
    ['fd_readdir', [3, 0, 20, 0n, BAD]],
    ['path_open', [3, 0, BAD, 5, 0, 2n, 0n, 0, 0]],
    ['path_open', [3, 0, 512, 5, 0, 2n, 0n, 0, PAGE]],
    ['path_filestat_get', [3, 0, 512, 5, PAGE - 8]],
    ['path_create_directory', [3, PAGE - 2, 5]],
    ['path_readlink', [3, 512, 5, BAD, 10, 0]],
    ['poll_oneoff', [BAD, 0, 1, 0]],
    ['poll_oneoff', [0, PAGE - 31, 1, 64]],
    ['poll_oneoff', [0, 64, 1, BAD]],
  ];
  for (const [name, args] of cases) {
    it(`${name}(${args.map(String).join(', ')})`, () => {
      const { wasi, memory } = setup();
      const dv = new DataView(memory.buffer);
      dv.setUint32(256, PAGE - 2, true); // an iovec at 256 whose buffer runs off the end
      dv.setUint32(260, 4, true);
      new TextEncoder().encodeInto('f.txt', memory.u8.subarray(512));
      expect(call(wasi, name, ...args)).toBe(EFAULT);
      wasi.close();
    });
  }

  it('accepts a range that ends exactly at the end of memory', () => {
    const { wasi, memory } = setup();
    expect(call(wasi, 'clock_time_get', 1, 0n, PAGE - 8)).toBe(0);
    expect(call(wasi, 'random_get', PAGE - 16, 16)).toBe(0);
    expect(memory.u8.subarray(PAGE - 16).some((b) => b !== 0)).toBe(true);
  });

  it('sees memory the guest grew, even when growing replaced the buffer', () => {
    const { wasi, memory } = setup();
    const before = memory.buffer;
    expect(call(wasi, 'random_get', PAGE, 16)).toBe(EFAULT);
    memory.grow(64);
    expect(memory.buffer).not.toBe(before);
    expect(call(wasi, 'clock_time_get', 0, 0n, 64 * PAGE)).toBe(0);
    // The default start time, 2024-01-01T00:00:00Z, as ns.
    expect(new DataView(memory.buffer).getBigUint64(64 * PAGE, true)).toBe(1_704_067_200_000_000_000n);
    expect(call(wasi, 'clock_time_get', 0, 0n, 65 * PAGE - 4)).toBe(EFAULT);
  });

  it('traps with a clear message when no memory is bound', () => {
    const wasi = new Wasi();
    expect(() => call(wasi, 'random_get', 0, 4)).toThrow(/no memory is bound/);
    expect(call(wasi, 'sched_yield')).toBe(0); // functions that need no memory still work
  });
});

describe('fuzz: any arguments to any function give an errno', () => {
  // Paths for (pointer, length) arguments to land on, one per 16-byte slot: names, "..", links, escapes.
  const PATHS = ['f.txt', 'd', 'd/e', '..', '../x', '.', 'link', 'd/../f.txt', '/etc/passwd', 'a/b/c', 'd/f', 'new', 'd/new2', 'f.txt/', 'link/x', 'd/e/../../..'];
  /** Where path functions take directory descriptors, (pointer, length) pairs of paths, and flags. */
  const ROLES: Partial<Record<Name, { fds: number[]; paths: number[]; flags?: number[] }>> = {
    path_create_directory: { fds: [0], paths: [1] },
    path_filestat_get: { fds: [0], paths: [2] },
    path_filestat_set_times: { fds: [0], paths: [2] },
    path_link: { fds: [0, 4], paths: [2, 5] },
    path_open: { fds: [0], paths: [2], flags: [1, 4, 7, 8] }, // dirflags, oflags, fdflags, and the result pointer
    path_readlink: { fds: [0], paths: [1] },
    path_remove_directory: { fds: [0], paths: [1] },
    path_rename: { fds: [0, 3], paths: [1, 4] },
    path_symlink: { fds: [2], paths: [0, 3] },
    path_unlink_file: { fds: [0], paths: [1] },
    // Not biased towards the preopen: closing it or dropping its rights early would leave nothing for the path functions.
    fd_close: { fds: [], paths: [] },
    fd_renumber: { fds: [], paths: [] },
    fd_fdstat_set_rights: { fds: [], paths: [] },
  };
  const i32 = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 4 }, // descriptors, flags, small counts
    fc.constantFrom(16, 64, 256, 4096, -1, -16, PAGE - 1, PAGE, PAGE + 8, 0x7fffffff, -0x80000000),
    fc.integer({ min: 0, max: PAGE }),
    fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  );
  // Descriptors: mostly the mount's preopen (3), stdio, and what gets opened after the preopen.
  const fd = fc.oneof({ arbitrary: fc.constant(3), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 6 }), weight: 4 }, i32);
  // Offsets, sizes, times and rights: mostly small ones a directory can grant (read, read+write, ...).
  const i64 = fc.oneof(
    { arbitrary: fc.constantFrom(0n, 1n, 2n, 0x42n, 0x46n, 4096n), weight: 4 },
    fc.constantFrom(-1n, 0x3fffffffn, 1n << 62n),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  );
  const slot = fc.oneof({ arbitrary: fc.integer({ min: 0, max: PATHS.length - 1 }), weight: 6 }, fc.constant(-1));
  const callArb = fc.constantFrom(...NAMES).chain((name) => {
    const roles = ROLES[name] ?? { fds: /^(fd|sock)_/.test(name) ? [0] : [], paths: [] };
    const args = [...PREVIEW1_SIGNATURES[name]].map((c, i) =>
      c === 'I' ? i64 : roles.fds.includes(i) ? fd : roles.flags?.includes(i) ? fc.oneof({ arbitrary: fc.integer({ min: 0, max: 15 }), weight: 6 }, i32) : i32,
    );
    return fc.tuple(fc.tuple(...args), fc.array(slot, { minLength: 2, maxLength: 2 })).map(([a, slots]): [Name, (number | bigint)[]] => {
      const out = [...a];
      roles.paths.forEach((at, k) => {
        const s = slots[k]!;
        if (s >= 0) [out[at], out[at + 1]] = [16 * s, PATHS[s]!.length];
      });
      return [name, out];
    });
  });

  it('never throws into the host, and stays inside its mount', () => {
    const outside = join(temp, 'outside.txt');
    writeFileSync(outside, 'untouched');
    const parent = mkdtempSync(join(temp, 'fuzz-'));
    const mount = join(parent, 'mount');
    fc.assert(
      fc.property(fc.array(callArb, { maxLength: 40 }), fc.uint8Array({ minLength: 256, maxLength: 256 }), (calls, noise) => {
        rmSync(mount, { recursive: true, force: true });
        mkdirSync(join(mount, 'd'), { recursive: true });
        writeFileSync(join(mount, 'f.txt'), 'contents');
        const wasi = new Wasi({ args: ['a', 'b'], env: { K: 'v' }, stdin: new Uint8Array(100), mounts: { '/m': mount } });
        const memory = new Memory({ initial: 1 });
        wasi.bind(memory, () => 1000);
        PATHS.forEach((p, i) => new TextEncoder().encodeInto(p, memory.u8.subarray(16 * i)));
        memory.u8.set(noise, 512);
        try {
          // fd 4: the file f.txt, fd 5: the directory d, so that random calls reach real host objects.
          const all = BigInt(DIR_RIGHTS | FILE_RIGHTS);
          expect(call(wasi, 'path_open', 3, 0, 0, 5, 0, BigInt(FILE_RIGHTS), 0n, 0, 1000)).toBe(0);
          expect(call(wasi, 'path_open', 3, 0, 16, 1, 2, BigInt(DIR_RIGHTS), all, 0, 1000)).toBe(0);
          for (const [name, args] of calls) {
            let errno: number;
            try {
              errno = call(wasi, name, ...args);
            } catch (e) {
              expect(name).toBe('proc_exit');
              expect(e).toBeInstanceOf(WasiExit);
              continue;
            }
            expect(Number.isInteger(errno) && errno >= 0 && errno <= 76, `${name} gave ${errno}`).toBe(true);
          }
        } finally {
          wasi.close();
        }
      }),
      { numRuns: 1000 },
    );
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
    expect(readdirSync(parent)).toEqual(['mount']);
  });
});
