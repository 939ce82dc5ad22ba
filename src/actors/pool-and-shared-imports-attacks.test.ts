/**
 * Attacks on today's actor-side changes (issue 11): pooled memories given
 * back at exit and on failed spawns and restores, the shared `hive` imports
 * that find their actor through their caller, and names as envelopes.
 */
import { describe, expect, it } from 'vitest';
import { cmd, forge, settle, testHive, readsInternals } from '../../test/helpers/hive.js';
import { wat } from '../../test/helpers/wat.js';
import { gatedTransport } from '../../test/helpers/gated-transport.js';
import { counters, lentRegions, memoryBytes } from '../../test/helpers/inspect.js';
import { Func, Instance, Module, i32, type MemoryPool } from '../vm/index.js';
import { systemOf } from './hive.js';
import type { Hive } from './hive.js';

const OK = 0;
const NOT_FOUND = -2;

/** The hive's memory pool (private to its actor system; read here to count regions). */
function poolOf(hive: Hive): MemoryPool {
  return (systemOf(hive) as unknown as { memoryPool: MemoryPool }).memoryPool;
}

/** Spawn trees the hive keeps (private; read here to see what a failed restore leaves). */
function treeCount(hive: Hive): number {
  return (systemOf(hive) as unknown as { trees: Map<number, unknown> }).trees.size;
}

/** An actor that fills its one page with 0xab (and grows by `grow` pages, filling them too), then waits forever. */
const writer = (grow = 0) => wat(`(module
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (drop (memory.grow (i32.const ${grow})))
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.mul (memory.size) (i32.const 65536)))
    (drop (call $receive (i32.const -1)))))`);

/** An actor that traps unless every byte of its page is zero, then returns (a normal exit). */
const reader = wat(`(module
  (memory (export "memory") 1)
  (func (export "main") (local $i i32)
    (loop $l
      (if (i64.ne (i64.load (local.get $i)) (i64.const 0)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 65536))))))`);

/** Edits an actor snapshot into one not started, with a start function pending (its VM is refused after it is made). */
function notStarted(b: Record<string, unknown>): void {
  b['started'] = false;
  b['start'] = 'pending';
  b['wait'] = null;
  b['resume'] = null;
  b['resumeError'] = null;
}

/** A snapshot of a writer actor (growing `grow` pages), and a second hive with the writer defined to restore it into. */
async function writerSnapshot(grow: number): Promise<{ bytes: Uint8Array; two: ReturnType<typeof testHive> }> {
  const one = testHive();
  one.hive.define('writer', writer(grow));
  const w = one.hive.spawn('writer');
  await settle(one.hive);
  const bytes = one.hive.snapshot(w);
  await one.hive.close();
  const two = testHive();
  two.hive.define('writer', writer(grow));
  return { bytes, two };
}

async function exitsOf(hive: Hive, run: () => Promise<void>): Promise<string[]> {
  const reasons: string[] = [];
  const off = (e: { reason: string }): void => void reasons.push(e.reason);
  hive.on('exited', off);
  await run();
  return reasons;
}

describe('pooled memories of actors', () => {
  it('give the regions of actors killed while parked to new actors zeroed (no byte of the dead is readable)', async () => {
    const { hive } = testHive();
    hive.define('writer', writer());
    hive.define('reader', reader);
    const writers = Array.from({ length: 20 }, () => hive.spawn('writer'));
    await settle(hive);
    // Counted on every thread (on a pooled hive, the actors' memories are in their workers' pools).
    const lent = lentRegions(hive);
    expect(lent).toBeGreaterThanOrEqual(20);
    for (const w of writers) w.kill();
    await settle(hive);
    expect(lentRegions(hive)).toBe(lent - 20);
    const reasons = await exitsOf(hive, async () => {
      for (let i = 0; i < 20; i++) hive.spawn('reader');
      await settle(hive, 6);
    });
    expect(reasons).toEqual(Array(20).fill('normal'));
    await hive.close();
  });

  it('give back the region of a spawn refused after instantiation (no main, a wrong ABI version) or crashing in its start function', async () => {
    const { hive } = testHive();
    const before = poolOf(hive).stats().lentRegions;
    const refused = [
      wat(`(module (memory (export "memory") 1) (func (export "other")))`),
      wat(`(module (memory (export "memory") 1) (global (export "hive_abi_version") i32 (i32.const 99)) (func (export "main")))`),
    ];
    for (const [i, bytes] of refused.entries()) {
      hive.define(`bad${i}`, bytes);
      for (let k = 0; k < 3; k++) expect(() => hive.spawn(`bad${i}`)).toThrow();
    }
    expect(poolOf(hive).stats().lentRegions).toBe(before);
    // A start function runs in the actor's own slices: the spawn succeeds and the actor crashes.
    hive.define('startTraps', wat(`(module (memory (export "memory") 1) (func $s unreachable) (start $s) (func (export "main")))`));
    hive.define('startCallsHive', wat(`(module (import "hive" "self" (func $self (result i32))) (memory (export "memory") 1) (func $s (drop (call $self))) (start $s) (func (export "main")))`));
    const reasons = await exitsOf(hive, async () => {
      for (let k = 0; k < 3; k++) {
        hive.spawn('startTraps');
        hive.spawn('startCallsHive');
      }
      await settle(hive);
    });
    expect(reasons.length).toBe(6);
    expect(reasons.every((r) => r !== 'normal')).toBe(true);
    expect(poolOf(hive).stats().lentRegions).toBe(before);
    await hive.close();
  });

  it('give back the regions of a guest\'s children whose start function traps (they crash after the spawn answered)', async () => {
    const { hive } = testHive();
    hive.define('failing', wat(`(module (memory (export "memory") 1) (func $s unreachable) (start $s) (func (export "main")))`));
    const p = hive.spawn('probe');
    await settle(hive);
    const before = poolOf(hive).stats().lentRegions;
    const reasons = await exitsOf(hive, async () => {
      for (let k = 0; k < 5; k++) expect(await cmd(p, 'spawn', 'failing', null, false)).toBeGreaterThan(0); // an id (a status is < 0)
      await settle(hive);
    });
    expect(reasons.length).toBe(5);
    expect(poolOf(hive).stats().lentRegions).toBe(before);
    await hive.close();
  });

  // What broke: a restore refused by the VM's load (here: a memory of 3 pages restored under maxMemoryPages 2,
  // "snapshot over budget") throws out of vm/snapshot.ts restore() after `new Instance` took a region of the hive's
  // pool; ActorSystem.instantiate calls `make` outside its try/dispose, and restoreActorParts's dispose covers only
  // the checks after it. Each refused restore leaves one region lent (3 attempts: lentRegions 3, expected 0).
  it('regression: a restore refused for its VM (over maxMemoryPages) leaves no region of the hive\'s pool lent', async () => {
    const { bytes, two } = await writerSnapshot(2);
    for (let k = 0; k < 3; k++) expect(() => two.hive.restore(bytes, { limits: { maxMemoryPages: 2 } })).toThrow(/maxMemoryPages|pages/);
    expect(poolOf(two.hive).stats().lentRegions).toBe(0);
    await two.hive.close();
  });

  it('a restore refused after its VM is made (a start function pending that the module lacks) gives its region back', async () => {
    const { bytes, two } = await writerSnapshot(0);
    // An actor not started, with a start function to run that its module lacks: refused by restoreActorParts's
    // checks after the VM is made.
    const idle = forge(bytes, notStarted);
    for (let k = 0; k < 3; k++) expect(() => two.hive.restore(idle)).toThrow();
    expect(poolOf(two.hive).stats().lentRegions).toBe(0);
    await two.hive.close();
  });

  // What broke: restoreActorParts makes a new spawn tree (ActorSystem.newTree puts it in `trees`) for the
  // actor before the checks that can refuse it; a refused restore never removes it (no actor of it ever exits, and it
  // is not an orphan), so each refused restore leaves one Tree in the hive for its lifetime.
  it('regression: a refused restore leaves no spawn tree behind', async () => {
    const { bytes, two } = await writerSnapshot(0);
    const bad = forge(bytes, notStarted);
    const before = treeCount(two.hive);
    for (let k = 0; k < 3; k++) expect(() => two.hive.restore(bad)).toThrow();
    expect(treeCount(two.hive)).toBe(before);
    await two.hive.close();
  });

  // What broke (older than the memory pool): ActorSystem.start makes the spawn tree of a host spawn
  // (newTree puts it in `trees`) before instantiating; a spawn refused by instantiation (LinkError: no main) leaves
  // the tree in the hive for its lifetime (3 refused spawns: 3 trees, expected 0).
  it('regression: a host spawn refused at instantiation leaves no spawn tree behind', async () => {
    const { hive } = testHive();
    hive.define('nomain', wat(`(module (memory (export "memory") 1) (func (export "other")))`));
    const before = treeCount(hive);
    for (let k = 0; k < 3; k++) expect(() => hive.spawn('nomain')).toThrow(/main/);
    expect(treeCount(hive)).toBe(before);
    await hive.close();
  });

  // What broke, the same cause as the single restore above: in a group restore the second actor's VM is
  // refused by load() (3 pages over the hive's maxMemoryPages 2); the first one made is discarded and gives its
  // region back, but the refused one's region stays lent (lentRegions 1, expected 0).
  it('regression: a group restore refused half-way (the second VM over maxMemoryPages) leaves no region lent, no name, no tree', async () => {
    const one = testHive();
    one.hive.define('small', writer(0));
    one.hive.define('big', writer(2));
    const a = one.hive.spawn('small', { name: 'first' });
    const b = one.hive.spawn('big', { name: 'second' });
    await settle(one.hive);
    const group = one.hive.snapshotGroup([a, b]);
    await one.hive.close();
    const two = testHive({ limits: { maxMemoryPages: 2 } });
    two.hive.define('small', writer(0));
    two.hive.define('big', writer(2));
    const trees = treeCount(two.hive);
    expect(() => two.hive.restoreGroup(group)).toThrow(/pages/);
    expect(two.hive.whereis('first')).toBeUndefined();
    expect(two.hive.whereis('second')).toBeUndefined();
    expect(two.hive.actorIds()).toEqual([]);
    expect(treeCount(two.hive)).toBe(trees);
    expect(poolOf(two.hive).stats().lentRegions).toBe(0);
    await two.hive.close();
  });

  it('a group restore refused half-way leaves the names and ids free for a later restore of the same group', async () => {
    const one = testHive();
    one.hive.define('small', writer(0));
    one.hive.define('big', writer(2));
    const a = one.hive.spawn('small', { name: 'first' });
    const b = one.hive.spawn('big', { name: 'second' });
    await settle(one.hive);
    const group = one.hive.snapshotGroup([a, b]);
    await one.hive.close();
    const two = testHive({ limits: { maxMemoryPages: 2 } });
    two.hive.define('small', writer(0));
    two.hive.define('big', writer(2));
    expect(() => two.hive.restoreGroup(group)).toThrow(/pages/);
    const three = testHive();
    three.hive.define('small', writer(0));
    three.hive.define('big', writer(2));
    const refs = three.hive.restoreGroup(group);
    expect(refs.map((r) => r.id)).toEqual([a.id, b.id]);
    expect(three.hive.whereis('first')?.id).toBe(a.id);
    await settle(three.hive);
    // (Read on whichever thread holds it: a pooled hive restores the group onto a worker.)
    expect(counters(three.hive, b).memoryBytes).toBe(3 * 65536);
    expect(memoryBytes(three.hive, b, 0, 3 * 65536).every((v) => v === 0xab)).toBe(true);
    await two.hive.close();
    await three.hive.close();
  });

  // What broke: snapshotActor (snapshot.ts) saves the actor's bindings before its VM; a binding whose
  // save() kills the actor (host code, synchronously: the actor is parked, so it is finished at once and its
  // instance released) makes `snapshotVm(a.instance!)` read null: hive.snapshot throws a bare TypeError ("Cannot read
  // properties of null (reading 'machine')") instead of a typed error (ActorExitedError) or a snapshot.
  it('regression: an actor killed by its own binding while its snapshot is being taken gives a typed error, not a TypeError', async () => {
    const { hive } = testHive();
    let self: { kill(): void } | null = null;
    const binding = { name: 'killer', importsFor: () => ({}), save: () => (self!.kill(), null), restore: () => {} };
    const a = hive.spawn('probe', { bindings: [binding] } as never);
    self = a;
    await settle(hive);
    let thrown: unknown = null;
    try {
      hive.snapshot(a);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).not.toBeInstanceOf(TypeError);
    await settle(hive);
    expect(hive.actorIds()).toEqual([]);
    expect(poolOf(hive).stats().lentRegions).toBe(0);
    await hive.close();
  });

  // (Not on workers: it compares the two actors' memory regions as objects of this thread.)
  it.skipIf(readsInternals)('an actor killed while parked in a host import\'s Promise: the late answer writes nothing and the next owner of its region is untouched', async () => {
    let resolveIt: (v: unknown) => void = () => {};
    const wait = Func.host({ params: [], results: [0x7f] } as never, () => new Promise((r) => (resolveIt = r)) as never);
    const { hive } = testHive();
    hive.define('parker', wat(`(module (import "host" "wait" (func $wait (result i32)))
      (memory (export "memory") 1)
      (func (export "main") (i32.store (i32.const 0) (call $wait))))`), { imports: { host: { wait } } });
    hive.define('writer', writer());
    const p = hive.spawn('parker');
    await settle(hive);
    expect(p.info()!.waiting).toBe('host');
    const old = systemOf(hive).actor(p.id)!.memory().u8;
    p.kill();
    await settle(hive);
    const w = hive.spawn('writer');
    await settle(hive);
    resolveIt([i32(0x11223344)]);
    await settle(hive);
    const mem = systemOf(hive).actor(w.id)!.memory();
    // The writer has the parker's old region (the attack is not vacuous), and its bytes only.
    expect(mem.u8.buffer).toBe(old.buffer);
    expect(mem.u8.byteOffset).toBe(old.byteOffset);
    expect(mem.u8.subarray(0, mem.byteLength).every((v) => v === 0xab)).toBe(true);
    await hive.close();
  });
});

/** A guest that exports its own `hive.self` import as "leak", and a function calling it. */
const leaker = wat(`(module (import "hive" "self" (func $self (result i32))) (import "hive" "receive" (func $receive (param i32) (result i32)))
  (memory (export "memory") 1)
  (export "leak" (func $self))
  (func (export "whoami") (result i32) (call $self))
  (func (export "main") (drop (call $receive (i32.const -1)))))`);

describe('shared hive imports find their actor through their caller', () => {
  // (Not on workers: these take a Func out of an actor's instance, which stays on its worker.)
  it.skipIf(readsInternals)('an import taken out of an actor acts for no one outside an actor: Func.invoke and a plain instance trap', async () => {
    const { hive } = testHive();
    hive.define('leaker', leaker);
    const a = hive.spawn('leaker');
    await settle(hive);
    const inst = systemOf(hive).actor(a.id)!.instance!;
    const leak = inst.getExport('leak') as Func;
    const out = leak.invoke([]);
    expect(out.kind).toBe('trapped');
    if (out.kind === 'trapped') expect(out.trap.message).toMatch(/not an actor/);
    const plain = new Instance(new Module(wat(`(module (import "x" "self" (func $s (result i32))) (func (export "go") (result i32) (call $s)))`)), { x: { self: leak } });
    const o2 = plain.call('go', []);
    expect(o2.kind).toBe('trapped');
    await hive.close();
  });

  it.skipIf(readsInternals)('an import taken out of actor A and given to actor B acts for B (its caller), never for A', async () => {
    const { hive } = testHive();
    hive.define('leaker', leaker);
    const a = hive.spawn('leaker');
    await settle(hive);
    const leak = systemOf(hive).actor(a.id)!.instance!.getExport('leak') as Func;
    hive.define('user', wat(`(module (import "x" "self" (func $xself (result i32))) (import "hive" "self" (func $self (result i32)))
      (memory (export "memory") 1)
      (func (export "main") (if (i32.ne (call $xself) (call $self)) (then unreachable))))`), { imports: { x: { self: leak } } });
    const reasons = await exitsOf(hive, async () => {
      hive.spawn('user');
      await settle(hive);
    });
    expect(reasons).toEqual(['normal']);
    await hive.close();
  });
});

describe('names as envelopes to the hive', () => {
  it('register, unregister, register another name, and the first again: each answer and lookup agrees with the table', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(a, 'register', 'one')).toBe(OK);
    expect(await cmd(a, 'unregister')).toBe(OK);
    expect(await cmd(a, 'register', 'two')).toBe(OK);
    await settle(hive);
    expect(await cmd(b, 'lookup', 'two')).toBe(a.id);
    expect(await cmd(b, 'lookup', 'one')).toBe(NOT_FOUND);
    expect(await cmd(b, 'register', 'one')).toBe(OK);
    expect(await cmd(a, 'unregister')).toBe(OK);
    expect(await cmd(a, 'register', 'one')).toBeLessThan(0); // B has it
    expect(await cmd(a, 'register', 'two')).toBe(OK);
    expect(hive.whereis('one')?.id).toBe(b.id);
    expect(hive.whereis('two')?.id).toBe(a.id);
    await hive.close();
  });

  it('a guest cannot register the name of a host inbox, and its lookup finds the inbox', async () => {
    const { hive } = testHive();
    const box = hive.inbox({ name: 'desk' });
    const a = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(a, 'register', 'desk')).toBeLessThan(0);
    expect(await cmd(a, 'lookup', 'desk')).toBe(box.id);
    box.close();
    await settle(hive);
    expect(await cmd(a, 'lookup', 'desk')).toBe(NOT_FOUND);
    expect(await cmd(a, 'register', 'desk')).toBe(OK);
    await hive.close();
  });

  it('a restore of an actor whose name a guest took meanwhile is refused, and the guest keeps the name', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(a, 'register', 'spot')).toBe(OK);
    const bytes = hive.snapshot(a);
    a.kill();
    await settle(hive);
    expect(await cmd(b, 'register', 'spot')).toBe(OK);
    expect(() => hive.restore(bytes)).toThrow();
    expect(hive.whereis('spot')?.id).toBe(b.id);
    expect(await cmd(b, 'lookup', 'spot')).toBe(b.id);
    await hive.close();
  });

  // What broke: the hive's side of `unregister` (onUnregister: names.remove(name, from)) trusts that the
  // address is still the one that unregistered. An unregister still in flight when its actor exits, and arriving
  // after the host gave the dead actor's address and name to an inbox (hive.inbox({ id, name }), the documented way
  // to stand in for an actor's address; it does not flush the transport, unlike restore), drops the inbox's name:
  // whereis('spot') is undefined afterwards (expected the inbox), and a guest can then register it.
  it('regression: an unregister arriving after its actor exited does not drop the name of an inbox that took the actor\'s address and name', async () => {
    const gate = gatedTransport();
    const { hive } = testHive({ transport: gate.factory });
    const a = hive.spawn('probe');
    await settle(hive);
    expect(await cmd(a, 'register', 'spot')).toBe(OK);
    gate.hold = (sig) => sig.t === 'unregister';
    expect(await cmd(a, 'unregister')).toBe(OK);
    expect(gate.held).toBe(1);
    a.kill();
    await settle(hive);
    expect(systemOf(hive).actor(a.id)).toBeUndefined();
    const box = hive.inbox({ id: a.id, name: 'spot' });
    expect(hive.whereis('spot')?.id).toBe(box.id);
    gate.hold = null;
    gate.release();
    await settle(hive);
    expect(hive.whereis('spot')?.id).toBe(box.id);
    await hive.close();
  });

  it('a register or spawn arriving after its actor exited, at an address an inbox took meanwhile, names and makes nothing', async () => {
    const gate = gatedTransport();
    const { hive } = testHive({ transport: gate.factory });
    const a = hive.spawn('probe');
    await settle(hive);
    gate.hold = (sig) => sig.t === 'register' || sig.t === 'spawn';
    void cmd(a, 'register', 'late').catch(() => {});
    await settle(hive);
    expect(gate.held).toBe(1);
    const count = hive.actorIds().length;
    a.kill();
    await settle(hive);
    const box = hive.inbox({ id: a.id });
    gate.hold = null;
    gate.release();
    await settle(hive);
    expect(hive.whereis('late')).toBeUndefined();
    expect(hive.actorIds().length).toBe(count - 1);
    box.close();
    await hive.close();
  });
});
