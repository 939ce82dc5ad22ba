/**
 * The fd_write iovec flood of issue 10 (finding 6): a guest with 16 MiB of
 * memory passed many iovecs aliasing all of it, and the host allocated their
 * whole total (2 GiB for 128 iovecs: +2 GiB RSS, 2.8 s) for stdout, or wrote
 * it all to a file in one call (2 GiB, 14 s of a blocked event loop). Now a
 * read or write call moves at most MAX_IO_BYTES (a short count, which POSIX
 * allows and libc loops over), whatever the iovecs. Each case runs in a child
 * process (wasi-iovec-flood.child.ts) so that its memory is measured alone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_IO_BYTES } from '../../src/bindings/wasi/preview1.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function flood(target: 'stdout' | 'file', iovecs: number) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=256', '--import', 'tsx', 'test/attacks/wasi-iovec-flood.child.ts', target, String(iovecs)],
    { cwd: root },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as {
    errno: number; written: number; fileBytes: number | null; sinkMax: number; ms: number; rssGrowthMiB: number; arrayBuffersGrowthMiB: number;
  };
}

describe('fd_write with 1024 iovecs each aliasing all 16 MiB of the guest\'s memory', () => {
  it('to stdout: hands the sink at most 1 MiB, and host memory stays flat (was: 2 GiB allocated for 128 iovecs)', async () => {
    const r = await flood('stdout', 1024);
    expect(r.errno).toBe(0);
    expect(r.written).toBe(MAX_IO_BYTES);
    expect(r.sinkMax).toBe(MAX_IO_BYTES);
    expect(r.arrayBuffersGrowthMiB).toBeLessThanOrEqual(8);
    expect(r.rssGrowthMiB).toBeLessThanOrEqual(64);
    expect(r.ms).toBeLessThan(500);
  });

  it('to a file: writes at most 1 MiB in one call (was: 2 GiB for 128 iovecs, 14 s in one call)', async () => {
    const r = await flood('file', 1024);
    expect(r.errno).toBe(0);
    expect(r.written).toBe(MAX_IO_BYTES);
    expect(r.fileBytes).toBe(MAX_IO_BYTES);
    expect(r.arrayBuffersGrowthMiB).toBeLessThanOrEqual(8);
    expect(r.rssGrowthMiB).toBeLessThanOrEqual(64);
    expect(r.ms).toBeLessThan(1000);
  });
});
