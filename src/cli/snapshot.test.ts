/**
 * `wasmhive run`, `resume` and `inspect` against snapshots and programs
 * that would take too much: a memory cap on run and resume (refused with
 * its own exit code), and `inspect`, which must end with a message and an
 * exit code on any file, never an uncaught exception (issue 10: a crafted
 * 2.4 KB snapshot used 2-3.4 GB and died with a RangeError).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { wat } from '../../test/helpers/wat.js';
import { Instance, Module, i32, snapshot } from '../vm/index.js';
import { main } from './main.js';
import { DEFAULT_MAX_MEMORY_PAGES, EXIT_LIMIT, EXIT_OUT_OF_FUEL } from './run.js';

const out: string[] = [];
beforeEach(() => {
  out.length = 0;
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const tmp = mkdtempSync(join(tmpdir(), 'wasmhive-cli-snap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A WASI command that grows its memory by 40 pages (exit 7 if it cannot), then spins. */
const GROWER = join(tmp, 'grower.wasm');
writeFileSync(
  GROWER,
  wat(`(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start")
      (if (i32.lt_s (memory.grow (i32.const 40)) (i32.const 0)) (then (call $exit (i32.const 7))))
      (i32.store (i32.const 1000000) (i32.const 1))
      (loop $l (br $l))))`),
);

describe('wasmhive run and resume: a memory cap', () => {
  it('run: --max-memory-pages makes memory.grow fail past it; the default is documented', async () => {
    expect(await main(['run', '--max-memory-pages', '16', GROWER])).toBe(7);
    expect(await main(['run', '--fuel', '50000', GROWER])).toBe(EXIT_OUT_OF_FUEL);
    expect(await main(['run', '--max-memory-pages', '0', GROWER])).toBe(2);
    expect(await main(['run', '--max-memory-pages', '65537', GROWER])).toBe(2);
    out.length = 0;
    expect(await main(['run', '--help'])).toBe(0);
    expect(out.join('\n')).toContain(`--max-memory-pages N    pages of 64 KiB the program's memory may have (default ${DEFAULT_MAX_MEMORY_PAGES}`);
  });

  it('resume: refuses a snapshot whose memory is over --max-memory-pages with a SnapshotError and exit code 3', async () => {
    const dir = join(tmp, 'snaps');
    expect(await main(['run', '--fuel', '200000', '--snapshot-every', '100000', '--snapshot-dir', dir, GROWER])).toBe(EXIT_OUT_OF_FUEL);
    const snap = join(dir, readdirSync(dir).sort()[0]!);
    out.length = 0;
    expect(await main(['resume', '--max-memory-pages', '16', '--module', GROWER, snap])).toBe(EXIT_LIMIT);
    expect(out.join('\n')).toMatch(/SnapshotError: snapshot over budget: memory 0 has 41 pages, more than the limit of 16 pages/);
    expect(await main(['resume', '--fuel', '100000', '--module', GROWER, snap])).toBe(EXIT_OUT_OF_FUEL);
    out.length = 0;
    expect(await main(['resume', '--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/--max-memory-pages N[\s\S]*exit 3/);
  });
});

describe('wasmhive inspect on any file', () => {
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
  const module = new Module(wat(`(module (memory 1)
    (func $f (export "f") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))`));
  const a = new Instance(module);
  a.fuel = 20;
  a.call('f', [i32(1000)]);
  const snap = snapshot(a, { host: { wasi: { args: ['x'], stats: { stdoutBytes: 3 } }, program: 'p' } });
  const withBody = (b: unknown): Uint8Array => {
    const enc = packr.pack(b);
    const bytes = new Uint8Array(48 + enc.length);
    bytes.set(snap.subarray(0, 48));
    bytes.set(enc, 48);
    return bytes;
  };
  const file = join(tmp, 'x.whsnap');
  const inspect = async (bytes: Uint8Array, ...opts: string[]): Promise<number> => {
    writeFileSync(file, bytes);
    return main(['inspect', ...opts, file]);
  };

  it('crafted snapshot for inspect (a frames bomb): exit 3 naming the budget, in little memory', async () => {
    const b = unpackr.unpack(snap.subarray(48)) as Record<string, unknown>;
    b['frames'] = new Uint8Array(brotliCompressSync(new Uint8Array(128 << 20), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }));
    const rss = process.memoryUsage().rss;
    expect(await inspect(withBody(b))).toBe(EXIT_LIMIT);
    expect(out.join('\n')).toMatch(/limit maxFrames/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    expect(await inspect(snap)).toBe(0);
    expect(await inspect(snap, '--max-frames', '2')).toBe(EXIT_LIMIT);
  });

  it('a deeply nested host state is a malformed snapshot (exit 2), not a crash', async () => {
    // host last, as { wasi: 0 }; the final 0 becomes 100,000 nested one-element arrays (0x91) around a 1.
    const b = unpackr.unpack(snap.subarray(48)) as Record<string, unknown>;
    delete b['host'];
    b['host'] = { wasi: 0 };
    const flat = withBody(b);
    expect(flat[flat.length - 1]).toBe(0);
    const bytes = new Uint8Array(flat.length + 100_000);
    bytes.set(flat.subarray(0, flat.length - 1));
    bytes.fill(0x91, flat.length - 1, flat.length - 1 + 100_000);
    bytes[bytes.length - 1] = 1;
    expect(await inspect(bytes, '--json')).toBe(2);
    expect(out.join('\n')).toMatch(/SnapshotError: malformed snapshot/);
  });

  it('ends every mutated snapshot with exit 0, 2 or 3 and never throws', async () => {
    const strange: unknown[] = [-1, 2 ** 32, NaN, 'x', null, [], {}, new Uint8Array(9), [[[]]], { a: { b: { c: 1 } } }];
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), async (pick, how, flips) => {
        let bytes: Uint8Array;
        if (how % 2 === 0) {
          const b = unpackr.unpack(snap.subarray(48)) as Record<string, unknown>;
          const leaves: { parent: Record<string, unknown>; key: string }[] = [];
          const walk = (x: unknown): void => {
            if (x instanceof Uint8Array || x === null || typeof x !== 'object') return;
            for (const [k, v] of Object.entries(x)) {
              leaves.push({ parent: x as Record<string, unknown>, key: k });
              walk(v);
            }
          };
          walk(b);
          const leaf = leaves[pick % leaves.length]!;
          leaf.parent[leaf.key] = strange[(how >> 1) % strange.length];
          bytes = withBody(b);
        } else {
          bytes = snap.slice();
          for (const [pos, val] of flips) bytes[pos % bytes.length] = val;
          if (pick % 4 === 0) bytes = bytes.subarray(0, pick % bytes.length);
        }
        const code = await inspect(bytes, ...(how % 3 === 0 ? ['--json'] : []));
        expect([0, 2, 3]).toContain(code);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
