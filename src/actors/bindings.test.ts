/**
 * Actors given other bindings besides `hive`: a WASI actor (its stdout,
 * its state carried by its snapshots), and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { settle, testHive } from '../../test/helpers/hive.js';
import { wat } from '../../test/helpers/wat.js';
import { Wasi } from '../bindings/index.js';
import { LinkError, SnapshotError } from '../vm/index.js';
import { hostBinding, hostFunction } from '../bindings/binding.js';
import { ValType } from '../vm/index.js';

/** Answers each request with "ok" after writing "hello N\n" to its WASI stdout, N counting its requests (in its memory). */
const GREETER = wat(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello 0\\n")
  (data (i32.const 200) "\\a2ok")
  (func (export "main")
    (loop $serve
      (drop (call $receive (i32.const -1)))
      ;; the digit counts the requests
      (i32.store8 (i32.const 106) (i32.add (i32.load8_u (i32.const 106)) (i32.const 1)))
      (i32.store (i32.const 0) (i32.const 100))
      (i32.store (i32.const 4) (i32.const 8))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (drop (call $reply (i32.const 200) (i32.const 3)))
      (br $serve))))`);

function collect(): { sink: (b: Uint8Array) => void; text: () => string } {
  const parts: Uint8Array[] = [];
  return { sink: (b) => void parts.push(b.slice()), text: () => Buffer.concat(parts).toString() };
}

describe('bindings of an actor', () => {
  it('an actor given a Wasi writes to its stdout, and its snapshot carries the WASI state to a new Wasi', async () => {
    const one = testHive();
    const out = collect();
    const a = one.hive.spawn<string, string>(GREETER, { bindings: [new Wasi({ stdout: out.sink })] });
    expect(await a.call('go')).toBe('ok');
    expect(await a.call('go')).toBe('ok');
    expect(out.text()).toBe('hello 1\nhello 2\n');
    await settle(one.hive);
    const snap = one.hive.snapshot(a);

    const two = testHive();
    // Its WASI state is in the snapshot: restoring needs a Wasi to take it.
    expect(() => two.hive.restore(snap, { module: GREETER })).toThrow(SnapshotError);
    expect(() => two.hive.restore(snap, { module: GREETER })).toThrow(/binding "wasi"/);
    expect(two.hive.actorIds()).toEqual([]);
    const out2 = collect();
    const b = two.hive.restore<string, string>(snap, { module: GREETER, bindings: [new Wasi({ stdout: out2.sink })] });
    expect(await b.call('go')).toBe('ok');
    expect(out2.text()).toBe('hello 3\n');
    one.hive.close();
    two.hive.close();
  });

  it('WASI is a grant like services: spawned with { wasi } the actor has it (and keeps it across a restore given { wasi }), without it a WASI program fails to link', async () => {
    const one = testHive();
    expect(() => one.hive.spawn(GREETER)).toThrow(LinkError);
    const out = collect();
    const a = one.hive.spawn<string, string>(GREETER, { wasi: { args: ['greeter'], stdout: out.sink } });
    expect(await a.call('go')).toBe('ok');
    expect(out.text()).toBe('hello 1\n');
    await settle(one.hive);
    const snap = one.hive.snapshot(a);
    const two = testHive();
    expect(() => two.hive.restore(snap, { module: GREETER })).toThrow(/binding "wasi"/);
    const out2 = collect();
    const b = two.hive.restore<string, string>(snap, { module: GREETER, wasi: { stdout: out2.sink } });
    expect(await b.call('go')).toBe('ok');
    expect(out2.text()).toBe('hello 2\n');
    one.hive.close();
    two.hive.close();
  });

  it('refuses a binding that claims the hive module, or two bindings of one name, with a LinkError', () => {
    const { hive } = testHive();
    const fake = hostBinding('mine', 'hive', { self: hostFunction({ params: [], results: [ValType.i32] }, () => [{ type: 'i32', value: 7 }]) });
    expect(() => hive.spawn(GREETER, { bindings: [new Wasi(), fake] })).toThrow(LinkError);
    expect(() => hive.spawn(GREETER, { bindings: [new Wasi(), new Wasi()] })).toThrow(LinkError);
    expect(hive.actorIds()).toEqual([]);
    hive.close();
  });

  it('a snapshot without the state of a binding given to restore is refused', async () => {
    const { hive } = testHive();
    const plain = wat(`(module
      (import "hive" "receive" (func $receive (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "main") (drop (call $receive (i32.const -1)))))`);
    const a = hive.spawn(plain);
    await settle(hive);
    const snap = hive.snapshot(a);
    a.kill();
    expect(() => hive.restore(snap, { module: plain, bindings: [new Wasi()] })).toThrow(/no state for the binding "wasi"/);
    hive.close();
  });
});
