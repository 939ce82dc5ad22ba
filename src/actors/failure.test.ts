import { describe, expect, it } from 'vitest';
import { Pid, Status, type ExitEvent } from './index.js';
import { cmd, settle, testHive } from '../../test/helpers/hive.js';

type Report = { kind: string; from: Pid; reason?: string; ref?: number };

describe('traps are contained to one actor', () => {
  it('a trapping actor exits with the trap as reason; the others carry on', async () => {
    const { hive } = testHive();
    const crashed: ExitEvent[] = [];
    hive.on('crashed', (e) => crashed.push(e));
    const bystander = hive.spawn<string, string>('counter');
    for (const [what, reason] of [
      ['div0', 'trap: integer divide by zero'],
      ['unreachable', 'trap: unreachable'],
      ['oob', 'trap: out of bounds memory access'],
    ] as const) {
      const a = hive.spawn('probe');
      void a.call(['trap', what]).catch(() => {});
      expect(await a.exited).toBe(reason);
      expect(a.alive).toBe(false);
    }
    const b = hive.spawn('probe');
    void b.call(['trap', 'abort']).catch(() => {});
    expect(await b.exited).toMatch(/^abort: .* at .*:\d+:\d+$/);
    expect(crashed.map((e) => e.reason.split(':')[0])).toEqual(['trap', 'trap', 'trap', 'abort']);
    expect(crashed[0]!.trap?.message).toBe('integer divide by zero');
    expect(await bystander.call('up')).toBe('value=1');
    hive.close();
  });

  it('an endless loop in a start function runs in the actor\'s own slices; a missing main fails the spawn, not the hive', async () => {
    const { hive } = testHive();
    const { wat } = await import('../../test/helpers/wat.js');
    const looping = await wat('(module (func $s (loop (br 0))) (start $s) (func (export "main")))');
    const spinner = hive.spawn(looping);
    const bystander = hive.spawn<string, string>('counter');
    expect(await bystander.call('up')).toBe('value=1');
    spinner.kill();
    expect(await spinner.exited).toBe('killed');
    const noMain = await wat('(module (memory (export "memory") 1))');
    expect(() => hive.spawn(noMain)).toThrow(/must export a function "main"/);
    const wrongAbi = await wat('(module (global (export "hive_abi_version") i32 (i32.const 2)) (func (export "main")))');
    expect(() => hive.spawn(wrongAbi)).toThrow(/ABI version 2/);
    const badImport = await wat('(module (import "hive" "receive" (func (param i64) (result i32))) (func (export "main")))');
    expect(() => hive.spawn(badImport)).toThrow(/import/);
    const unknownImport = await wat('(module (import "hive" "teleport" (func)) (func (export "main")))');
    expect(() => hive.spawn(unknownImport)).toThrow(/teleport/);
    expect(hive.actorIds()).toEqual([bystander.id]);
    hive.close();
  });

  it('a guest that runs past its memory limit sees memory.grow fail', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe', { limits: { maxMemoryPages: 8 } });
    const pages = (await cmd(a, 'grow', 0)) as number;
    expect(await cmd(a, 'grow', 8 - pages)).toBe(pages);
    expect(await cmd(a, 'grow', 1)).toBe(-1);
    expect(a.alive).toBe(true);
    hive.close();
  });
});

describe('links', () => {
  it('an abnormal exit propagates along links both ways, and on along chains', async () => {
    const { hive } = testHive({ signals: 'open' });
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    const c = hive.spawn('probe');
    expect(await cmd(a, 'link', b.id)).toBe(Status.OK);
    expect(await cmd(c, 'link', b.id)).toBe(Status.OK);
    void a.call(['trap', 'div0']).catch(() => {});
    expect(await a.exited).toBe('trap: integer divide by zero');
    expect(await b.exited).toBe('trap: integer divide by zero');
    expect(await c.exited).toBe('trap: integer divide by zero');
    hive.close();
  });

  it('a normal exit does not end linked actors', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await cmd(b, 'link', a.id);
    void a.call(['exit', a.id, 'normal']).catch(() => {});
    expect(await a.exited).toBe('normal');
    await settle(hive);
    expect(b.alive).toBe(true);
    expect(b.info()!.links).toEqual([]);
    hive.close();
  });

  it('unlink removes the link both ways; link to nobody is NOT_FOUND', async () => {
    const { hive } = testHive({ signals: 'open' });
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await cmd(a, 'link', b.id);
    expect(b.info()!.links).toEqual([a.id]);
    expect(await cmd(b, 'unlink', a.id)).toBe(Status.OK);
    expect(a.info()!.links).toEqual([]);
    void a.call(['trap', 'unreachable']).catch(() => {});
    await a.exited;
    await settle(hive);
    expect(b.alive).toBe(true);
    expect(await cmd(b, 'link', 424242)).toBe(Status.NOT_FOUND);
    hive.close();
  });

  it('spawn with the link flag links parent and child atomically', async () => {
    const { hive } = testHive();
    const parent = hive.spawn('probe');
    const child = (await cmd(parent, 'spawn', 'probe', null, true)) as number;
    expect(child).toBeGreaterThan(0);
    expect(hive.ref(child).info()!.links).toEqual([parent.id]);
    hive.ref(child).kill();
    expect(await parent.exited).toBe('killed');
    hive.close();
  });

  it('spawn reports unknown modules and bad init', async () => {
    const { hive } = testHive();
    const p = hive.spawn('probe');
    expect(await cmd(p, 'spawn', 'no-such-module', null, false)).toBe(Status.NO_MODULE);
    hive.close();
  });
});

describe('trapped exits', () => {
  it('an actor that traps exits gets them as EXIT messages and lives on', async () => {
    const { hive } = testHive({ signals: 'open' });
    const inbox = hive.inbox<Report>();
    const watcher = hive.spawn('probe');
    const worker = hive.spawn('probe');
    await cmd(watcher, 'report', inbox.ref);
    expect(await cmd(watcher, 'trap_exit', true)).toBe(0);
    await cmd(watcher, 'link', worker.id);
    void worker.call(['trap', 'div0']).catch(() => {});
    const r = await inbox.next();
    expect(r).toEqual({ kind: 'exit', from: new Pid(worker.id), reason: 'trap: integer divide by zero' });
    expect(watcher.alive).toBe(true);
    // Normal exits arrive too when trapping.
    const w2 = hive.spawn('probe');
    await cmd(watcher, 'link', w2.id);
    void w2.call(['exit', w2.id, 'normal']).catch(() => {});
    expect(await inbox.next()).toEqual({ kind: 'exit', from: new Pid(w2.id), reason: 'normal' });
    expect(await cmd(watcher, 'trap_exit', false)).toBe(1);
    hive.close();
  });

  it('exit with reason kill cannot be trapped; the killed actor\'s links see killed', async () => {
    const { hive } = testHive({ signals: 'open' });
    const inbox = hive.inbox<Report>();
    const target = hive.spawn('probe');
    const friend = hive.spawn('probe');
    const killer = hive.spawn('probe');
    await cmd(target, 'trap_exit', true);
    await cmd(friend, 'trap_exit', true);
    await cmd(friend, 'report', inbox.ref);
    await cmd(friend, 'link', target.id);
    expect(await cmd(killer, 'exit', target.id, 'kill')).toBe(Status.OK);
    expect(await target.exited).toBe('killed');
    expect(await inbox.next()).toEqual({ kind: 'exit', from: new Pid(target.id), reason: 'killed' });
    hive.close();
  });

  it('exit signals overtake ordinary messages waiting in the mailbox', async () => {
    const { hive, clock } = testHive({ signals: 'open' });
    const inbox = hive.inbox<Report | number>();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    await cmd(a, 'trap_exit', true);
    await cmd(a, 'report', inbox.ref);
    await cmd(a, 'link', b.id);
    const nap = cmd(a, 'sleep', 100);
    await settle(hive);
    for (let i = 0; i < 3; i++) a.send(['echo', i], { from: inbox });
    void b.call(['trap', 'unreachable']).catch(() => {});
    await b.exited;
    clock.advance(100);
    await nap;
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push(await inbox.next());
    expect(seen).toEqual([{ kind: 'exit', from: new Pid(b.id), reason: 'trap: unreachable' }, 0, 1, 2]);
    hive.close();
  });

  it('stop sends shutdown: a trapping actor gets a message, and is killed after the timeout', async () => {
    const { hive, clock } = testHive();
    const inbox = hive.inbox<Report>();
    const a = hive.spawn('probe');
    await cmd(a, 'trap_exit', true);
    await cmd(a, 'report', inbox.ref);
    const stopped = a.stop({ timeout: 1000 });
    expect(await inbox.next()).toEqual({ kind: 'exit', from: new Pid(0), reason: 'shutdown' });
    clock.advance(1000);
    expect(await stopped).toBe('killed');
    const b = hive.spawn('probe');
    expect(await b.stop()).toBe('shutdown');
    hive.close();
  });
});

describe('monitors', () => {
  it('a monitor delivers one DOWN message with the reason', async () => {
    const { hive } = testHive();
    const inbox = hive.inbox<Report>();
    const watcher = hive.spawn('probe');
    const target = hive.spawn('probe');
    await cmd(watcher, 'report', inbox.ref);
    const ref = (await cmd(watcher, 'monitor', target.id)) as number;
    expect(ref).toBeGreaterThan(0);
    void target.call(['exit', target.id, 'done here']).catch(() => {});
    expect(await inbox.next()).toEqual({ kind: 'down', from: new Pid(target.id), reason: 'done here', ref });
    // Monitors are one way: the watcher lives, even for abnormal exits.
    const t2 = hive.spawn('probe');
    const ref2 = (await cmd(watcher, 'monitor', t2.id)) as number;
    void t2.call(['trap', 'div0']).catch(() => {});
    expect(await inbox.next()).toEqual({ kind: 'down', from: new Pid(t2.id), reason: 'trap: integer divide by zero', ref: ref2 });
    expect(watcher.alive).toBe(true);
    hive.close();
  });

  it('monitoring an actor that does not exist gives DOWN noproc at once', async () => {
    const { hive } = testHive();
    const inbox = hive.inbox<Report>();
    const watcher = hive.spawn('probe');
    await cmd(watcher, 'report', inbox.ref);
    const ref = (await cmd(watcher, 'monitor', 31337)) as number;
    expect(await inbox.next()).toEqual({ kind: 'down', from: new Pid(31337), reason: 'noproc', ref });
    hive.close();
  });

  it('demonitor stops it: no DOWN message', async () => {
    const { hive } = testHive();
    const inbox = hive.inbox<Report>();
    const watcher = hive.spawn('probe');
    const target = hive.spawn('probe');
    await cmd(watcher, 'report', inbox.ref);
    const ref = (await cmd(watcher, 'monitor', target.id)) as number;
    expect(await cmd(watcher, 'demonitor', ref)).toBe(Status.OK);
    expect(await cmd(watcher, 'demonitor', ref)).toBe(Status.NOT_FOUND);
    target.kill();
    await settle(hive);
    expect(inbox.size).toBe(0);
    hive.close();
  });
});
