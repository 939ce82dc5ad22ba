/**
 * A WASI call's host work is bounded, whatever the guest passes, and paid in
 * fuel when the host gives Wasi.bind a charge hook: bytes per read or write
 * (MAX_IO_BYTES), entries per listing (MAX_DIR_ENTRIES), subscriptions per
 * poll (MAX_SUBSCRIPTIONS), components per path resolution (MAX_WALK). And
 * the binding leaves no host descriptor open behind it.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory } from '../../vm/index.js';
import { callWasi as call } from '../../../test/programs/harness.js';
import { DIR_RIGHTS, FILE_RIGHTS } from './abi.js';
import { Wasi } from './index.js';
import { MAX_DIR_ENTRIES, MAX_IO_BYTES, MAX_SUBSCRIPTIONS } from './preview1.js';
import { MAX_WALK } from './sandbox.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-bounds-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const EOVERFLOW = 61, EINVAL = 28, ENAMETOOLONG = 37;
const RIGHTS = BigInt(DIR_RIGHTS | FILE_RIGHTS);

/** A Wasi with a fresh directory at fd 3, 8 MiB of memory, and the fuel it charged. */
function rig(options: { stdin?: Uint8Array; charge?: boolean } = {}) {
  const dir = mkdtempSync(join(temp, 'm-'));
  const charged = { units: 0, calls: 0 };
  const out: number[] = [];
  const wasi = new Wasi({ mounts: { '/m': dir }, stdin: options.stdin, stdout: (b) => out.push(b.length) });
  const memory = new Memory({ initial: 128 });
  wasi.bind(memory, undefined, options.charge === false ? undefined : (n) => {
    expect(Number.isSafeInteger(n) && n > 0).toBe(true);
    charged.units += n;
    charged.calls++;
  });
  const dv = () => new DataView(memory.buffer);
  const put = (at: number, s: string) => new TextEncoder().encodeInto(s, memory.u8.subarray(at)).written;
  /** Opens a file (or with oflags 2, DIRECTORY, a directory): the new fd, or minus the errno. */
  const open = (path: string, oflags = 0): number => {
    const n = put(100, path);
    const errno = call(wasi, 'path_open', 3, 1, 100, n, oflags, oflags & 2 ? BigInt(DIR_RIGHTS) : RIGHTS, RIGHTS, 0, 200);
    return errno === 0 ? dv().getUint32(200, true) : -errno;
  };
  /** One call of `fn` with one iovec of `len` bytes at 1 MiB; returns [errno, count]. */
  const io = (fn: string, fd: number, len: number, ...rest: (number | bigint)[]): [number, number] => {
    dv().setUint32(0, 1 << 20, true);
    dv().setUint32(4, len, true);
    const errno = call(wasi, fn, fd, 0, 1, ...rest, 16);
    return [errno, dv().getUint32(16, true)];
  };
  return { dir, wasi, memory, charged, out, dv, put, open, io };
}

describe('bytes per read or write', () => {
  it('are at most MAX_IO_BYTES a call, and a guest looping on short counts gets everything', () => {
    const r = rig();
    const fd = r.open('big', 1 /* CREAT */);
    expect(fd).toBeGreaterThan(3);
    const want = 3 * MAX_IO_BYTES + 5;
    const counts: number[] = [];
    for (let done = 0; done < want; ) {
      const [errno, n] = r.io('fd_write', fd, want - done);
      expect(errno).toBe(0);
      counts.push(n);
      done += n;
    }
    expect(counts).toEqual([MAX_IO_BYTES, MAX_IO_BYTES, MAX_IO_BYTES, 5]);
    expect(r.io('fd_pwrite', fd, want, 0n)).toEqual([0, MAX_IO_BYTES]);
    expect(r.io('fd_pread', fd, want, 0n)).toEqual([0, MAX_IO_BYTES]);
    expect(call(r.wasi, 'fd_seek', fd, 0n, 0, 32)).toBe(0);
    expect(r.io('fd_read', fd, want)).toEqual([0, MAX_IO_BYTES]);
    expect(r.io('fd_write', 1, want)).toEqual([0, MAX_IO_BYTES]);
    expect(r.out).toEqual([MAX_IO_BYTES]);
    r.wasi.close();
  });

  it('from stdin, too', () => {
    const r = rig({ stdin: new Uint8Array(2 * MAX_IO_BYTES + 1) });
    expect(r.io('fd_read', 0, 3 * MAX_IO_BYTES)).toEqual([0, MAX_IO_BYTES]);
    r.wasi.close();
  });
});

describe('directory listings', () => {
  it(`of more than MAX_DIR_ENTRIES (${MAX_DIR_ENTRIES}) entries are refused with EOVERFLOW, in bounded time, and paid (was: the refused listing free, again and again)`, () => {
    const r = rig();
    const big = join(r.dir, 'big');
    mkdirSync(big);
    // "." and ".." count: MAX_DIR_ENTRIES - 2 names list, one more does not.
    for (let i = 0; i < MAX_DIR_ENTRIES - 2; i++) symlinkSync('x', join(big, `f${i}`)); // one system call each
    const fd = r.open('big', 2 /* DIRECTORY */);
    expect(fd).toBeGreaterThan(3);
    const readdir = () => call(r.wasi, 'fd_readdir', fd, 4096, 4096, 0n, 16);
    r.charged.units = 0;
    expect(readdir()).toBe(0);
    const listed = r.charged.units;
    expect(listed).toBeGreaterThanOrEqual((MAX_DIR_ENTRIES - 2) * 200); // 200 units an entry read
    writeFileSync(join(big, 'one-more'), '');
    r.charged.units = 0;
    const t = performance.now();
    expect(readdir()).toBe(EOVERFLOW);
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r.charged.units).toBeGreaterThanOrEqual((MAX_DIR_ENTRIES - 2) * 200);
    r.wasi.close();
  });
});

describe('poll_oneoff', () => {
  it(`takes at most MAX_SUBSCRIPTIONS (${MAX_SUBSCRIPTIONS}) subscriptions (EINVAL beyond)`, () => {
    const r = rig();
    // Subscriptions at 1 MiB: each an fd_read on stdin (type 1), always ready.
    for (let i = 0; i <= MAX_SUBSCRIPTIONS; i++) {
      r.dv().setUint8((1 << 20) + i * 48 + 8, 1);
      r.dv().setUint32((1 << 20) + i * 48 + 16, 0, true);
    }
    const poll = (n: number) => call(r.wasi, 'poll_oneoff', 1 << 20, 2 << 20, n, 16);
    expect(poll(MAX_SUBSCRIPTIONS)).toBe(0);
    expect(r.dv().getUint32(16, true)).toBe(MAX_SUBSCRIPTIONS);
    expect(poll(MAX_SUBSCRIPTIONS + 1)).toBe(EINVAL);
    r.wasi.close();
  });
});

describe('path resolution', () => {
  it(`walks at most MAX_WALK (${MAX_WALK}) components, links included (ENAMETOOLONG beyond), in bounded time`, () => {
    const r = rig();
    // Each link's target is 200 "d/.." then the next link: three of them are over MAX_WALK names.
    mkdirSync(join(r.dir, 'd'));
    for (let i = 0; i < 3; i++) symlinkSync('d/../'.repeat(200) + (i === 2 ? 'end' : `l${i + 1}`), join(r.dir, `l${i}`));
    writeFileSync(join(r.dir, 'end'), '');
    const stat = (path: string) => {
      const n = r.put(100, path);
      return call(r.wasi, 'path_filestat_get', 3, 1, 100, n, 300);
    };
    expect(stat('l1')).toBe(0); // 2 links: about 800 names and ".."
    // "." and empty components cost no system call and are not counted.
    expect(stat('./'.repeat(1500) + 'end')).toBe(0);
    const t = performance.now();
    expect(stat('l0')).toBe(ENAMETOOLONG);
    expect(performance.now() - t).toBeLessThan(1000);
    r.wasi.close();
  });
});

describe('fuel for host work', () => {
  /** A fixed mix of calls; returns the fuel charged. */
  function work(charge = true): number {
    const r = rig({ charge });
    mkdirSync(join(r.dir, 'a/b/c'), { recursive: true });
    for (let i = 0; i < 10; i++) writeFileSync(join(r.dir, 'a', `f${i}`), 'x');
    const fd = r.open('a/b/c/../../f1');
    expect(fd).toBeGreaterThan(3);
    r.io('fd_write', fd, 64 * 1024);
    r.io('fd_write', 1, 64 * 1024);
    const d = r.open('a', 2);
    call(r.wasi, 'fd_readdir', d, 4096, 4096, 0n, 16);
    call(r.wasi, 'random_get', 4096, 1000);
    r.wasi.close();
    return r.charged.units;
  }

  it('is charged through the hook, the same for the same work, and not at all without a hook', () => {
    const units = work();
    expect(units).toBeGreaterThan(2 * 1024 + 1000); // 128 KiB at 64 bytes a unit, and 1000 random bytes
    expect(work()).toBe(units);
    const none = rig({ charge: false });
    expect(none.io('fd_write', 1, 64 * 1024)).toEqual([0, 64 * 1024]);
    expect(none.charged.units).toBe(0);
    none.wasi.close();
  });

  it('grows with the bytes moved and the components walked', () => {
    const r = rig();
    const fd = r.open('f', 1);
    r.charged.units = 0;
    r.io('fd_write', fd, 1000);
    const small = r.charged.units;
    r.charged.units = 0;
    r.io('fd_write', fd, MAX_IO_BYTES);
    expect(r.charged.units - small).toBeGreaterThan(MAX_IO_BYTES / 64 - 100); // 64 bytes a unit
    mkdirSync(join(r.dir, 'd/d/d/d/d/d'), { recursive: true });
    const walk = (p: string) => {
      r.charged.units = 0;
      call(r.wasi, 'path_filestat_get', 3, 1, 100, r.put(100, p), 300);
      return r.charged.units;
    };
    expect(walk('d/d/d/d/d/d')).toBeGreaterThan(walk('d') + 4 * 500);
    r.wasi.close();
  });
});

describe('host descriptors', () => {
  const count = () => readdirSync('/proc/self/fd').length;

  it('are all closed again: failed resolutions hold none, and close() releases the rest', () => {
    const before = count();
    const r = rig();
    mkdirSync(join(r.dir, 'a/b'), { recursive: true });
    symlinkSync('..', join(r.dir, 'a/up'));
    const during = count();
    for (let i = 0; i < 200; i++) {
      expect(r.open('a/b/../up/../../x')).toBe(-76); // walks three directories, then is refused
      expect(r.open('a/b/nothing/x')).toBe(-44);
    }
    expect(count()).toBe(during);
    const fds = Array.from({ length: 50 }, (_, i) => r.open(i % 2 ? 'a/b' : 'a', 2));
    expect(count()).toBe(during + 50);
    for (const fd of fds.slice(0, 25)) expect(call(r.wasi, 'fd_close', fd)).toBe(0);
    expect(count()).toBe(during + 25);
    r.wasi.close();
    expect(count()).toBe(before);
  });
});
