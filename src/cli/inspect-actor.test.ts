/**
 * `wasmhive inspect` of actor snapshots (issue 11: it refused them with "bad
 * magic"). It shows the actor's state and its VM's, within the budget that
 * issue 10 gave inspect: a bomb inside is refused with exit 3, a malformed
 * snapshot with exit 2, and no file makes it throw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forge, settle, testHive } from '../../test/helpers/hive.js';
import { wat } from '../../test/helpers/wat.js';
import { main } from './main.js';
import { EXIT_LIMIT } from './run.js';

const out: string[] = [];
beforeEach(() => {
  out.length = 0;
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const tmp = mkdtempSync(join(tmpdir(), 'wasmhive-cli-actor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'actor.whsnap');
const inspect = async (bytes: Uint8Array, ...opts: string[]): Promise<number> => {
  writeFileSync(file, bytes);
  return main(['inspect', ...opts, file]);
};

/**
 * A guest with 2 pages of memory that monitors itself, takes one message,
 * then sleeps 5 s in a function of its own (2 frames): messages sent
 * meanwhile wait in its mailbox.
 */
const KEEPER = wat(`(module
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "monitor" (func $monitor (param i32) (result i32)))
  (import "hive" "sleep" (func $sleep (param i32)))
  (memory (export "memory") 2)
  (func $nap (call $sleep (i32.const 5000)))
  (func (export "main")
    (drop (call $monitor (call $self)))
    (drop (call $receive (i32.const -1)))
    (call $nap)
    (loop (drop (call $receive (i32.const -1))) (br 0))))`);

/** A snapshot of the keeper asleep with 1 s gone and two messages (3 and 5 bytes of MessagePack) waiting. */
async function keeperSnapshot(): Promise<{ bytes: Uint8Array; id: number }> {
  const { hive, clock } = testHive();
  try {
    const ref = hive.spawn(KEEPER, { name: 'keeper' });
    await settle(hive);
    ref.send('a');
    await settle(hive);
    ref.send('bb');
    ref.send('dddd');
    clock.advance(1000);
    await settle(hive);
    return { bytes: hive.snapshot(ref), id: ref.id };
  } finally {
    hive.close();
  }
}

const snap = await keeperSnapshot();

/** The engine snapshot inside an actor snapshot, with its body (after the 48-byte header) edited. */
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
function editVm(vm: Uint8Array, edit: (body: Record<string, unknown>) => void): Uint8Array {
  const body = unpackr.unpack(vm.subarray(48)) as Record<string, unknown>;
  edit(body);
  const enc = packr.pack(body);
  const bytes = new Uint8Array(48 + enc.length);
  bytes.set(vm.subarray(0, 48));
  bytes.set(enc, 48);
  return bytes;
}

/** The snapshot with its field `key` moved to the end of the body and given the MessagePack bytes `tail` (for shapes no encoder writes). */
function withRawTail(key: string, tail: number[]): Uint8Array {
  const moved = forge(snap.bytes, (b) => {
    delete b[key];
    b[key] = 0;
  });
  expect(moved[moved.length - 1]).toBe(0);
  const bytes = new Uint8Array(moved.length - 1 + tail.length);
  bytes.set(moved.subarray(0, moved.length - 1));
  bytes.set(tail, moved.length - 1);
  return bytes;
}

describe('wasmhive inspect of an actor snapshot', () => {
  it('shows the actor (id, name, module, limits, what it waits for, mailbox, monitors) and then its VM', async () => {
    expect(await inspect(snap.bytes)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`actor snapshot ${file}: ${snap.bytes.length} bytes, format 1`);
    expect(text).toContain(`actor ${snap.id}, name "keeper"`);
    expect(text).toMatch(/module \(no name\) sha256 [0-9a-f]{64}\n/);
    expect(text).toMatch(/limits: .*fuelPerSlice 20000.*maxMemoryPages 256/);
    expect(text).toContain('state: sleeping (4000 ms left)');
    expect(text).toContain(`mailbox: 2 messages, 8 bytes: message from 0 (3 bytes), message from 0 (5 bytes)`);
    expect(text).toContain('signals: 0 exit, 0 down, 0 bytes; trap exit off');
    expect(text).toContain('links (0)');
    expect(text).toContain(`monitors held (1): ref 1 on ${snap.id}`);
    expect(text).toContain(`monitored by (1): ${snap.id} (refs 1)`);
    // The VM, as for an engine snapshot, indented under the actor.
    expect(text).toMatch(/engine snapshot: \d+ bytes, format 1, code version \d+\n {2}module sha256 [0-9a-f]{64}\n {2}status: paused: waiting on a host call/);
    expect(text).toContain('  memory 0: 2 pages (0.13 MiB)');
    expect(text).toMatch(/ {2}frames \(2, innermost first\):\n {4}#1 nap \(func \d+\) pc=\d+\n {4}#0 main/);
    expect(text).toContain('  pending call: hive.sleep');
  });

  it('--json prints the same as one object, with the VM inside', async () => {
    expect(await inspect(snap.bytes, '--json')).toBe(0);
    const info = JSON.parse(out.join('\n'));
    expect(info).toMatchObject({
      kind: 'actor',
      bytes: snap.bytes.length,
      format: 1,
      id: snap.id,
      name: 'keeper',
      started: true,
      start: null,
      wait: { kind: 'sleep', leftMs: 4000 },
      current: { kind: 'message', from: 0, bytes: 2 },
      mailbox: { messages: 2, bytes: 8 },
      signals: { exit: 0, down: 0, bytes: 0, first: [] },
      trapExit: false,
      links: [],
      monitors: [{ ref: 1, target: snap.id }],
      vm: { status: 'waiting', memories: [{ pages: 2 }], pending: { module: 'hive', name: 'sleep' } },
    });
    expect(info.module.hash).toBe(info.vm.moduleHash);
    expect(info.limits.mailbox).toBe(10_000);
  });

  it('crafted actor snapshot for inspect (a frames bomb in its VM): exit 3 naming the budget, in little memory', async () => {
    const bomb = forge(snap.bytes, (b) => {
      b['vm'] = editVm(b['vm'], (v) => {
        v['frames'] = new Uint8Array(brotliCompressSync(new Uint8Array(128 << 20), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }));
      });
    });
    const rss = process.memoryUsage().rss;
    expect(await inspect(bomb)).toBe(EXIT_LIMIT);
    expect(out.join('\n')).toMatch(/SnapshotError: snapshot over budget: .*limit maxFrames/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    // --max-frames is the budget of the VM inside too.
    expect(await inspect(snap.bytes, '--max-frames', '2')).toBe(0);
    out.length = 0;
    expect(await inspect(snap.bytes, '--max-frames', '1')).toBe(EXIT_LIMIT);
    expect(out.join('\n')).toMatch(/limit maxFrames/);
  });

  // Each: the bytes, and what the message says. All are malformed: exit 2, one line, no stack trace.
  const MALFORMED: [string, () => Uint8Array, RegExp][] = [
    ['a field of the wrong type', () => forge(snap.bytes, (b) => void (b['mailbox'] = 'x')), /malformed actor snapshot: mailbox must be an array/],
    ['a message of the wrong kind', () => forge(snap.bytes, (b) => void (b['mailbox'][0][0] = 9)), /mailbox\[0\] kind must be an integer from 0 to 3/],
    ['a format from the future', () => forge(snap.bytes, (b) => void (b['format'] = 2)), /actor snapshot format 2 is not supported/],
    ['a VM of another module', () => forge(snap.bytes, (b) => void (b['module'].hash = '0'.repeat(64))), /is not its VM's/],
    ['a VM that is not a snapshot', () => forge(snap.bytes, (b) => void (b['vm'] = new Uint8Array(64))), /not a wasmhive snapshot \(bad magic\)/],
    ['a truncated body', () => snap.bytes.subarray(0, snap.bytes.length >> 1), /malformed actor snapshot: cannot decode the body/],
    ['only the magic', () => snap.bytes.subarray(0, 8), /malformed actor snapshot/],
    ['a mailbox of 100,000 nested arrays', () => withRawTail('mailbox', [...new Array<number>(100_000).fill(0x91), 0x01]), /malformed actor snapshot/],
    ['a mailbox claiming 4 billion messages it does not hold', () => withRawTail('mailbox', [0xdd, 0xff, 0xff, 0xff, 0xff]), /malformed actor snapshot/],
  ];
  it.each(MALFORMED)('a malformed actor snapshot (%s) exits 2 with a SnapshotError message, never a crash', async (_what, make, message) => {
    for (const json of [[], ['--json']]) {
      out.length = 0;
      expect(await inspect(make(), ...json)).toBe(2);
      const text = out.join('\n');
      expect(text).toMatch(/^wasmhive inspect: SnapshotError: /);
      expect(text).toMatch(message);
      expect(text).not.toMatch(/\n\s+at /);
    }
  });

  it('ends every mutated actor snapshot with exit 0, 2 or 3 and never throws', async () => {
    const strange: unknown[] = [-1, 2 ** 32, NaN, 'x', null, [], {}, new Uint8Array(9), [[[]]], { a: { b: 1 } }, 2n ** 62n];
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), async (pick, how, flips) => {
        let bytes: Uint8Array;
        if (how % 2 === 0) {
          bytes = forge(snap.bytes, (b) => {
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
          });
        } else {
          bytes = snap.bytes.slice();
          for (const [pos, val] of flips) bytes[pos % bytes.length] = val;
          if (pick % 4 === 0) bytes = bytes.subarray(0, pick % bytes.length);
        }
        const code = await inspect(bytes, ...(how % 3 === 0 ? ['--json'] : []));
        expect([0, 2, 3]).toContain(code);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('shows each actor of a group snapshot, and refuses a truncated one with exit 2', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe', { name: 'left' });
    const b = hive.spawn('probe', { name: 'right' });
    await settle(hive);
    const group = hive.snapshotGroup([a, b]);
    hive.close();
    expect(await inspect(group)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`group snapshot ${file}: ${group.length} bytes, 2 actors`);
    expect(text).toContain('name "left"');
    expect(text).toContain('name "right"');
    out.length = 0;
    expect(await inspect(group, '--json')).toBe(0);
    const info = JSON.parse(out.join('\n'));
    expect(info.kind).toBe('group');
    expect(info.actors.map((x: { name: string }) => x.name)).toEqual(['left', 'right']);
    expect(await inspect(group.subarray(0, group.length - 7))).toBe(2);
  });
});

