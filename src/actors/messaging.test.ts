import { describe, expect, it } from 'vitest';
import { decode, encode, CallTimeoutError, MailboxFullError, NameTakenError, ActorExitedError, Status, type DeadLetter } from './index.js';
import { cmd, guest, settle, testHive } from '../../test/helpers/hive.js';
import { SERIALIZING } from '../../test/helpers/serializing-transport.js';

describe('the WasmBox counter', () => {
  it('counts up and down and answers value=N', async () => {
    const { hive } = testHive();
    const counter = hive.spawn<string, string>('counter');
    expect(await counter.call('up')).toBe('value=1');
    expect(await counter.call('up')).toBe('value=2');
    expect(await counter.call('down')).toBe('value=1');
    expect(await counter.call('down')).toBe('value=0');
    expect(await counter.call('down')).toBe('value=-1');
    hive.close();
  });

  it('ignores other messages, so a call about them times out on the hive clock', async () => {
    const { hive, clock } = testHive();
    const counter = hive.spawn<string, string>('counter');
    const p = counter.call('sideways', { timeout: 250 });
    await settle(hive);
    clock.advance(249);
    await settle(hive);
    let settled = false;
    void p.then(() => (settled = true), () => (settled = true));
    await settle(hive);
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(p).rejects.toBeInstanceOf(CallTimeoutError);
    expect(await counter.call('up')).toBe('value=1');
    hive.close();
  });
});

describe('ping-pong between two wasm actors', () => {
  it('makes 2,000 round trips in order and reports to a host inbox', async () => {
    const { hive } = testHive();
    const inbox = hive.inbox<number>();
    const pong = hive.spawn('pong');
    const ping = hive.spawn('ping', { init: { peer: pong, n: 2000, report: inbox.ref } });
    const got = await inbox.receive();
    expect(got.value).toBe(2000);
    expect(got.from).toBe(ping.id);
    expect(await ping.exited).toBe('normal');
    expect(pong.alive).toBe(true);
    hive.close();
  });

  it('echoes every byte unchanged, whatever the payload', async () => {
    const { hive } = testHive();
    const pong = hive.spawn('pong');
    for (const n of [0, 1, 1023, 1024, 1025, 70_000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 7 + n) & 255);
      expect(await pong.call(bytes, { raw: true })).toEqual(bytes);
    }
    hive.close();
  });
});

describe('a ring of 1,000 actors', () => {
  // 100,000 hops inline; 10,000 over the conformance run's serializing transport, whose deliveries on macrotasks are far slower.
  const rounds = SERIALIZING ? 10 : 100;
  it(`passes a token ${rounds} times round (${rounds * 1000} hops), spawned by the guest itself`, async () => {
    const { hive } = testHive();
    const inbox = hive.inbox<number>();
    const exits: string[] = [];
    hive.on('exited', (e) => exits.push(e.reason));
    hive.spawn('ring', { init: { n: 1000, rounds, report: inbox.ref } });
    expect(await inbox.next()).toBe(rounds * 1000);
    await settle(hive);
    // The leader sends "stop" round: every node returns from main.
    expect(exits.length).toBe(1000);
    expect(exits.every((r) => r === 'normal')).toBe(true);
    expect(hive.actorIds()).toEqual([]);
    hive.close();
  }, 120_000);
});

describe('names', () => {
  it('registers at spawn, finds by name, refuses a taken name, frees it on exit', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe', { name: 'alice' });
    expect(hive.whereis('alice')?.id).toBe(a.id);
    expect(a.name).toBe('alice');
    expect(() => hive.spawn('probe', { name: 'alice' })).toThrow(NameTakenError);
    const b = hive.spawn('probe');
    expect(await cmd(b, 'lookup', 'alice')).toBe(a.id);
    expect(await cmd(b, 'lookup', 'nobody')).toBe(Status.NOT_FOUND);
    expect(await cmd(b, 'register', 'alice')).toBe(Status.TAKEN);
    expect(await cmd(b, 'register', 'bob')).toBe(Status.OK);
    expect(await cmd(b, 'register', 'bob2')).toBe(Status.TAKEN); // one name per actor
    expect(hive.whereis('bob')?.id).toBe(b.id);
    a.kill();
    expect(hive.whereis('alice')).toBeUndefined();
    expect(await cmd(b, 'lookup', 'alice')).toBe(Status.NOT_FOUND);
    expect(await cmd(b, 'unregister')).toBe(Status.OK);
    expect(await cmd(b, 'unregister')).toBe(Status.NOT_FOUND);
    expect(hive.whereis('bob')).toBeUndefined();
    expect(await cmd(b, 'register', '')).toBe(Status.BAD_ARGUMENT);
    hive.close();
  });
});

describe('request and reply', () => {
  it('a guest calls another guest and gets the answer', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    const [st, answer] = (await cmd(a, 'call', b.id, ['echo', 'hi'], -1)) as [number, Uint8Array];
    expect(st).toBe(Status.OK);
    expect(decode(answer)).toBe('hi');
    hive.close();
  });

  it('a guest call times out on the hive clock, and the late answer goes to dead letters', async () => {
    const { hive, clock } = testHive();
    const dead: DeadLetter[] = [];
    hive.on('deadLetter', (d) => dead.push(d));
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    const p = cmd(a, 'call', b.id, ['sleep', 1000], 100);
    await settle(hive);
    clock.advance(100);
    expect(await p).toEqual([Status.TIMEOUT, null]);
    clock.advance(900);
    await settle(hive);
    expect(dead.length).toBe(1);
    expect(decode(dead[0]!.bytes)).toBe('slept');
    expect(dead[0]!.from).toBe(b.id);
    hive.close();
  });

  it('a guest call fails with NOT_FOUND when the callee does not exist or exits without answering', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe');
    expect(await cmd(a, 'call', 99_999, ['echo', 1], -1)).toEqual([Status.NOT_FOUND, null]);
    expect(await cmd(a, 'call', b.id, ['exit', b.id, 'bye'], -1)).toEqual([Status.NOT_FOUND, null]);
    expect(await b.exited).toBe('bye');
    hive.close();
  });

  it('a host call rejects when the actor exits before answering, or does not exist', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    await expect(a.call(['exit', a.id, 'gone'])).rejects.toBeInstanceOf(ActorExitedError);
    await expect(a.call(['echo', 1])).rejects.toBeInstanceOf(ActorExitedError);
    expect(() => a.send(['echo', 1])).toThrow(ActorExitedError);
    hive.close();
  });

  it('a reply goes to the address given as sender', async () => {
    const { hive } = testHive();
    const inbox = hive.inbox();
    const a = hive.spawn('probe');
    a.send(['echo', { x: [1, 2, 3] }], { from: inbox });
    const got = await inbox.receive();
    expect(got.from).toBe(a.id);
    expect(got.value).toEqual({ x: [1, 2, 3] });
    hive.close();
  });
});

describe('full mailboxes', () => {
  it('the host\'s send waits for room in a full mailbox; sendWait waits up to a timeout, then MailboxFullError (nothing sent)', async () => {
    const { hive, clock } = testHive();
    const inbox = hive.inbox();
    const a = hive.spawn('probe', { limits: { mailbox: 3 } });
    const sleeping = cmd(a, 'sleep', 1000); // busy: messages pile up
    await settle(hive);
    for (let i = 0; i < 3; i++) a.send(['echo', i], { from: inbox });
    a.send(['echo', 3], { from: inbox }); // full: it waits for room, in order
    await expect(a.sendWait(['echo', 9], { from: inbox, timeout: 0 })).rejects.toBeInstanceOf(MailboxFullError);
    const waiting = a.sendWait(['echo', 4], { from: inbox });
    const timedOut = a.sendWait(['echo', 5], { from: inbox, timeout: 10 });
    clock.advance(10);
    await expect(timedOut).rejects.toBeInstanceOf(MailboxFullError);
    clock.advance(990);
    expect(await sleeping).toBe('slept');
    await waiting;
    const got: unknown[] = [];
    for (let i = 0; i < 5; i++) got.push((await inbox.receive()).value);
    // Every acknowledged message arrived, in order; the refused ones did not.
    expect(got).toEqual([0, 1, 2, 3, 4]);
    await settle(hive);
    expect(inbox.size).toBe(0);
    hive.close();
  });

  it('a guest sender gets FULL with no timeout, or waits until the receiver makes room', async () => {
    const { hive, clock } = testHive();
    const sink = hive.spawn('probe', { limits: { mailbox: 2 } });
    const src = hive.spawn('probe');
    const nap = cmd(sink, 'sleep', 500);
    await settle(hive);
    expect(await cmd(src, 'flood', sink.id, 5, 0)).toEqual({ ok: 2, full: 3, notfound: 0, other: 0 });
    // With a timeout of -1 the sender waits: it finishes once the sink drains its mailbox.
    const flood = cmd(src, 'flood', sink.id, 4, -1);
    await settle(hive);
    clock.advance(500);
    await nap;
    expect(await flood).toEqual({ ok: 4, full: 0, notfound: 0, other: 0 });
    hive.close();
  });

  it('a guest sender waiting for room gets NOT_FOUND when the receiver exits', async () => {
    const { hive } = testHive();
    const sink = hive.spawn('probe', { limits: { mailbox: 1 } });
    const src = hive.spawn('probe');
    void cmd(sink, 'sleep', 500).catch(() => {});
    await settle(hive);
    const flood = cmd(src, 'flood', sink.id, 3, -1);
    await settle(hive);
    sink.kill();
    expect(await flood).toEqual({ ok: 1, full: 0, notfound: 2, other: 0 });
    hive.close();
  });
});

describe('messages are MessagePack at the boundary', () => {
  it('round-trips host values through a guest unchanged', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const values = [null, true, false, 0, -1, 127, 128, -33, 65535, -2147483648, 4294967295, 1.5, -0.25, 'héllo ✓', '', [1, [2, [3]]], { a: 1, b: 'two', c: [true] }, new Uint8Array([1, 2, 3])];
    for (const v of values) expect(await cmd(a, 'echo', v)).toEqual(v);
    hive.close();
  });

  it('refuses a message over maxMessageBytes', async () => {
    const { hive } = testHive({ maxMessageBytes: 1000 });
    const a = hive.spawn('probe');
    expect(() => a.send(new Uint8Array(1001))).toThrow(/larger than the limit/);
    expect(await cmd(a, 'echo', new Uint8Array(900))).toEqual(new Uint8Array(900));
    hive.close();
  });

  it('encodes ActorRefs and inboxes in messages as pids', () => {
    const { hive } = testHive();
    const inbox = hive.inbox();
    const bytes = encode({ to: inbox.ref });
    expect([...bytes.slice(4)]).toEqual([0xd6, 1, 0, 0, 0, inbox.id]);
    hive.close();
  });

  it('spawning from bytes, a Module or a file path all work', async () => {
    const { hive } = testHive();
    const fromModule = hive.spawn<string, string>(guest('counter'));
    const fromFile = hive.spawn<string, string>('test/guests/counter.wasm');
    expect(await fromModule.call('up')).toBe('value=1');
    expect(await fromFile.call('down')).toBe('value=-1');
    hive.close();
  });
});
