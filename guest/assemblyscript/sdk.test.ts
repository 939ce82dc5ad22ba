// Tests of the AssemblyScript SDK and the guest programs, without the actor
// runtime: each guest is instantiated with Node's WebAssembly and a fake
// `hive` import object that plays a script of messages and records calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr, addExtension } from 'msgpackr';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM build script without type declarations
import { ROOT, compileGuest, guestSources } from './build.mjs';

// ---------------------------------------------------------------------------
// MessagePack as the host speaks it, with pids as extension type 1.
// ---------------------------------------------------------------------------

class Pid {
  constructor(readonly id: number) {}
}

addExtension({
  Class: Pid,
  type: 1,
  pack(p: Pid) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(p.id);
    return b;
  },
  unpack(b: Uint8Array) {
    return new Pid(Buffer.from(b).readInt32BE(0));
  },
});

const packr = new Packr({ useRecords: false });
const pack = (v: unknown): Uint8Array => new Uint8Array(packr.pack(v));
const unpack = (b: Uint8Array): unknown => packr.unpack(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// ---------------------------------------------------------------------------
// The fake hive
// ---------------------------------------------------------------------------

const MESSAGE = 0;
const EXIT = 1;
const DOWN = 2;
const INIT = 3;

interface Msg {
  kind: number;
  sender: number;
  bytes: Uint8Array;
}

interface Call {
  fn: string;
  [key: string]: unknown;
}

/** Thrown by receive(-1) on an empty queue: ends the run. */
class Stop extends Error {}
/** Thrown by exit(self, ...): the guest does not continue. */
class Exited extends Error {
  constructor(readonly reason: string) {
    super(`exited: ${reason}`);
  }
}
/** Thrown by env.abort. */
class Aborted extends Error {}

interface FakeOptions {
  self?: number;
  init?: Msg | null;
  queue?: Msg[];
  sendStatus?: (to: number, bytes: Uint8Array, timeout: number) => number;
  onCall?: (to: number, bytes: Uint8Array, timeout: number) => number | Uint8Array;
  spawnPids?: number[];
  lookup?: number;
  now?: bigint;
}

interface Run {
  calls: Call[];
  /** send and reply, in order: { fn, to, bytes, timeout } */
  out: { fn: string; to: number; bytes: Uint8Array; timeout: number }[];
  ended: 'returned' | 'stopped' | 'exited' | 'trapped' | 'aborted';
  error?: unknown;
  instance: WebAssembly.Instance;
}

const wasmCache = new Map<string, WebAssembly.Module>();
function guestModule(path: string): WebAssembly.Module {
  let m = wasmCache.get(path);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(join(ROOT, path)));
    wasmCache.set(path, m);
  }
  return m;
}

function run(path: string, opts: FakeOptions = {}): Run {
  const self = opts.self ?? 1;
  const queue = [...(opts.queue ?? [])];
  let current: Msg | null = opts.init ?? null;
  let trapping = false;
  const spawnPids = [...(opts.spawnPids ?? [])];
  let nextPid = 1000;
  const calls: Call[] = [];
  const out: Run['out'] = [];
  let memory: WebAssembly.Memory | null = null;

  const mem = (): Uint8Array => new Uint8Array(memory!.buffer);
  const bytesAt = (ptr: number, len: number): Uint8Array => {
    const m = mem();
    if (ptr < 0 || len < 0 || ptr + len > m.length) throw new RangeError('out of bounds memory access');
    return m.slice(ptr, ptr + len);
  };
  const strAt = (ptr: number, len: number): string => new TextDecoder('utf-8', { fatal: true }).decode(bytesAt(ptr, len));
  // An AssemblyScript string object: UTF-16, byte length at ptr - 4.
  const asString = (ptr: number): string | null => {
    if (ptr === 0) return null;
    const len = new DataView(memory!.buffer).getUint32(ptr - 4, true);
    return Buffer.from(mem().slice(ptr, ptr + len)).toString('utf16le');
  };

  const hive = {
    receive(timeout: number): number {
      calls.push({ fn: 'receive', timeout });
      const next = queue.shift();
      if (!next) {
        if (timeout === -1) throw new Stop('queue empty');
        return -1;
      }
      current = next;
      return next.bytes.length;
    },
    size: (): number => (current ? current.bytes.length : -2),
    read(ptr: number, len: number): number {
      if (!current) return -2;
      const n = Math.min(len, current.bytes.length);
      mem().set(current.bytes.subarray(0, n), ptr);
      return n;
    },
    kind: (): number => (current ? current.kind : -2),
    sender: (): number => (current ? current.sender : 0),
    send(to: number, ptr: number, len: number, timeout: number): number {
      const bytes = bytesAt(ptr, len);
      calls.push({ fn: 'send', to, bytes, timeout });
      const status = opts.sendStatus ? opts.sendStatus(to, bytes, timeout) : 0;
      if (status === 0) out.push({ fn: 'send', to, bytes, timeout });
      return status;
    },
    reply(ptr: number, len: number): number {
      const bytes = bytesAt(ptr, len);
      calls.push({ fn: 'reply', bytes });
      if (!current) return -2;
      out.push({ fn: 'reply', to: current.sender, bytes, timeout: -1 });
      return 0;
    },
    call(to: number, ptr: number, len: number, timeout: number): number {
      const bytes = bytesAt(ptr, len);
      calls.push({ fn: 'call', to, bytes, timeout });
      const r = opts.onCall ? opts.onCall(to, bytes, timeout) : -2;
      if (typeof r === 'number') return r;
      current = { kind: MESSAGE, sender: to, bytes: r };
      return r.length;
    },
    self: (): number => self,
    spawn(mp: number, ml: number, ip: number, il: number, flags: number): number {
      const module = strAt(mp, ml);
      const init = il === -1 ? null : bytesAt(ip, il);
      const pid = spawnPids.length ? spawnPids.shift()! : nextPid++;
      calls.push({ fn: 'spawn', module, init, flags, pid });
      return pid;
    },
    register(p: number, l: number): number {
      calls.push({ fn: 'register', name: strAt(p, l) });
      return 0;
    },
    unregister(): number {
      calls.push({ fn: 'unregister' });
      return 0;
    },
    lookup(p: number, l: number): number {
      calls.push({ fn: 'lookup', name: strAt(p, l) });
      return opts.lookup ?? -2;
    },
    link(pid: number): number {
      calls.push({ fn: 'link', pid });
      return 0;
    },
    unlink(pid: number): number {
      calls.push({ fn: 'unlink', pid });
      return 0;
    },
    monitor(pid: number): number {
      calls.push({ fn: 'monitor', pid });
      return 7;
    },
    demonitor(ref: number): number {
      calls.push({ fn: 'demonitor', ref });
      return ref === 7 ? 0 : -2;
    },
    exit(pid: number, p: number, l: number): number {
      const reason = strAt(p, l);
      calls.push({ fn: 'exit', pid, reason });
      if (pid === self) throw new Exited(reason);
      return 0;
    },
    trap_exit(on: number): number {
      calls.push({ fn: 'trap_exit', on });
      const prev = trapping;
      trapping = on !== 0;
      return prev ? 1 : 0;
    },
    sleep(ms: number): void {
      calls.push({ fn: 'sleep', ms });
    },
    now: (): bigint => opts.now ?? 1_700_000_000_123n,
    random(ptr: number, len: number): void {
      calls.push({ fn: 'random', len });
      const m = mem();
      for (let i = 0; i < len; i++) m[ptr + i] = (i * 7 + 1) & 255;
    },
    log(level: number, p: number, l: number): void {
      calls.push({ fn: 'log', level, text: strAt(p, l) });
    },
    abi_version: (): number => 1,
  };
  const env = {
    abort(msg: number, file: number, line: number, column: number): never {
      calls.push({ fn: 'abort', msg: asString(msg), file: asString(file), line, column });
      throw new Aborted(`abort: ${asString(msg)}`);
    },
    trace(msg: number, n: number): void {
      calls.push({ fn: 'trace', msg: asString(msg), n });
    },
    seed: (): number => 42,
  };

  const instance = new WebAssembly.Instance(guestModule(path), { hive, env });
  memory = instance.exports.memory as WebAssembly.Memory;
  let ended: Run['ended'] = 'returned';
  let error: unknown;
  try {
    (instance.exports.main as () => void)();
  } catch (e) {
    error = e;
    if (e instanceof Stop) ended = 'stopped';
    else if (e instanceof Exited) ended = 'exited';
    else if (e instanceof Aborted) ended = 'aborted';
    else if (e instanceof WebAssembly.RuntimeError) ended = 'trapped';
    else throw e;
  }
  return { calls, out, ended, error, instance };
}

const msg = (value: unknown, sender = 100, kind = MESSAGE): Msg => ({ kind, sender, bytes: pack(value) });
const raw = (bytes: Uint8Array, sender = 100, kind = MESSAGE): Msg => ({ kind, sender, bytes });

// ---------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------

describe('build', () => {
  it('the committed .wasm files are up to date with their sources (and the build is deterministic)', async () => {
    const sources: string[] = guestSources();
    expect(sources).toEqual(expect.arrayContaining([
      'test/guests/counter.ts', 'test/guests/pong.ts', 'test/guests/ping.ts', 'test/guests/ring.ts',
      'test/guests/spinner.ts', 'test/guests/probe.ts', 'examples/counter/counter.ts',
    ]));
    for (const source of sources) {
      const built: Uint8Array = await compileGuest(source);
      const committed = readFileSync(join(ROOT, source.replace(/\.ts$/, '.wasm')));
      expect(Buffer.compare(Buffer.from(built), committed), `${source} is stale: run node guest/assemblyscript/build.mjs`).toBe(0);
    }
    // Twice in one process gives the same bytes too.
    expect(hex(await compileGuest('test/guests/ring.ts'))).toBe(hex(await compileGuest('test/guests/ring.ts')));
  }, 120_000);

  it('guests import only hive.* and env.abort/trace/seed, and export main and memory', () => {
    const allowedHive = new Set([
      'receive', 'size', 'read', 'kind', 'sender', 'send', 'reply', 'call', 'self', 'spawn', 'register',
      'unregister', 'lookup', 'link', 'unlink', 'monitor', 'demonitor', 'exit', 'trap_exit', 'sleep', 'now',
      'random', 'log', 'abi_version',
    ]);
    for (const source of guestSources() as string[]) {
      const mod = guestModule(source.replace(/\.ts$/, '.wasm'));
      for (const imp of WebAssembly.Module.imports(mod)) {
        if (imp.module === 'hive') expect(allowedHive.has(imp.name), `${source}: hive.${imp.name}`).toBe(true);
        else expect(['env.abort', 'env.trace', 'env.seed'], source).toContain(`${imp.module}.${imp.name}`);
      }
      const exports = WebAssembly.Module.exports(mod);
      expect(exports).toContainEqual({ name: 'main', kind: 'function' });
      expect(exports).toContainEqual({ name: 'memory', kind: 'memory' });
    }
  });
});

// ---------------------------------------------------------------------------
// Counter, pong, ping, ring, spinner
// ---------------------------------------------------------------------------

describe('counter', () => {
  for (const path of ['test/guests/counter.wasm', 'examples/counter/counter.wasm']) {
    it(`${path}: up, up, down -> value=1, value=2, value=1; other messages ignored`, () => {
      const r = run(path, {
        queue: [msg('up', 5), msg('sideways', 5), msg(42, 5), raw(fromHex('c1'), 5), msg('up', 6), msg('down', 7)],
      });
      expect(r.ended).toBe('stopped');
      expect(r.out.map((o) => o.fn)).toEqual(['reply', 'reply', 'reply']);
      expect(r.out.map((o) => o.to)).toEqual([5, 6, 7]);
      expect(r.out.map((o) => unpack(o.bytes))).toEqual(['value=1', 'value=2', 'value=1']);
    });
  }

  it('keeps counting over many messages (the GC frees memory)', () => {
    const queue: Msg[] = [];
    for (let i = 0; i < 20_000; i++) queue.push(msg(i % 3 === 2 ? 'down' : 'up'));
    const r = run('test/guests/counter.wasm', { queue });
    expect(r.ended).toBe('stopped');
    expect(unpack(r.out[r.out.length - 1]!.bytes)).toBe(`value=${20_000 - 2 * Math.floor(20_000 / 3)}`);
    expect((r.instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBeLessThanOrEqual(4 * 65536);
  });
});

describe('pong', () => {
  it('answers every message with the same bytes', () => {
    const big = new Uint8Array(5000).map((_, i) => i & 255);
    const payloads = [pack(1), pack('hello'), new Uint8Array(0), fromHex('c1 ff 00'), big, pack({ a: [1, 2] })];
    const r = run('test/guests/pong.wasm', { queue: payloads.map((p, i) => raw(p, 10 + i)) });
    expect(r.ended).toBe('stopped');
    expect(r.out.map((o) => o.fn)).toEqual(payloads.map(() => 'reply'));
    expect(r.out.map((o) => o.to)).toEqual(payloads.map((_, i) => 10 + i));
    expect(r.out.map((o) => hex(o.bytes))).toEqual(payloads.map(hex));
  });
});

describe('ping', () => {
  it('sends 0..n-1 to peer, waits for each answer, reports n and returns', () => {
    const r = run('test/guests/ping.wasm', {
      init: msg({ peer: new Pid(2), n: 3, report: new Pid(3) }, 9, INIT),
      queue: [msg(0, 2), msg(1, 2), msg(2, 2)],
    });
    expect(r.ended).toBe('returned');
    expect(r.out.map((o) => [o.to, unpack(o.bytes), o.fn])).toEqual([
      [2, 0, 'send'], [2, 1, 'send'], [2, 2, 'send'], [3, 3, 'send'],
    ]);
    // Strictly alternating: send, receive, send, receive, ...
    expect(r.calls.filter((c) => c.fn === 'send' || c.fn === 'receive').map((c) => c.fn)).toEqual([
      'send', 'receive', 'send', 'receive', 'send', 'receive', 'send',
    ]);
  });

  it('exits with a reason when it has no init message', () => {
    const r = run('test/guests/ping.wasm', {});
    expect(r.ended).toBe('exited');
    expect((r.error as Exited).reason).toBe('ping: no init message');
  });
});

describe('ring', () => {
  it('the leader spawns n-1 chained nodes, runs the rounds, reports n*rounds, stops the ring', () => {
    const r = run('test/guests/ring.wasm', {
      self: 1,
      spawnPids: [11, 12, 13],
      init: msg({ n: 4, rounds: 2, report: new Pid(99) }, 50, INIT),
      // The token comes back after passing the 3 other nodes: 0 -> 3, 4 -> 7.
      queue: [msg(3, 11), msg(7, 11), msg('stop', 11)],
    });
    expect(r.ended).toBe('returned');
    const spawns = r.calls.filter((c) => c.fn === 'spawn');
    expect(spawns.map((c) => [c.module, c.flags, unpack(c.init as Uint8Array)])).toEqual([
      ['ring', 0, { next: new Pid(1) }],
      ['ring', 0, { next: new Pid(11) }],
      ['ring', 0, { next: new Pid(12) }],
    ]);
    expect(r.out.map((o) => [o.to, unpack(o.bytes)])).toEqual([
      [13, 0],
      [13, 4],
      [99, 8],
      [13, 'stop'],
    ]);
  });

  it('a ring of one: the leader is its own next', () => {
    const r = run('test/guests/ring.wasm', {
      self: 1,
      init: msg({ n: 1, rounds: 3, report: new Pid(99) }, 50, INIT),
      queue: [msg(0, 1), msg(1, 1), msg(2, 1), msg('stop', 1)],
    });
    expect(r.ended).toBe('returned');
    expect(r.calls.filter((c) => c.fn === 'spawn')).toEqual([]);
    expect(r.out.map((o) => [o.to, unpack(o.bytes)])).toEqual([[1, 0], [1, 1], [1, 2], [99, 3], [1, 'stop']]);
  });

  it('a node forwards token+1 and stop, then returns', () => {
    const r = run('test/guests/ring.wasm', {
      self: 12,
      init: msg({ next: new Pid(11) }, 1, INIT),
      queue: [msg(5, 13), msg('junk', 13), msg(2 ** 40, 13), msg('stop', 13)],
    });
    expect(r.ended).toBe('returned');
    expect(r.out.map((o) => [o.to, unpack(o.bytes)])).toEqual([[11, 6], [11, 2n ** 40n + 1n], [11, 'stop']]);
  });
});

describe('spinner', () => {
  it('exports a mutable global the loop increments (checked on the repo VM with fuel)', async () => {
    const bytes = readFileSync(join(ROOT, 'test/guests/spinner.wasm'));
    const mod = guestModule('test/guests/spinner.wasm');
    expect(WebAssembly.Module.exports(mod)).toContainEqual({ name: 'spins', kind: 'global' });
    const vm = await import('../../src/vm/index.js');
    const inst = new vm.Instance(vm.compile(bytes), {}, { fuel: 10_000 });
    const outcome = inst.call('main');
    expect(outcome.kind).toBe('out-of-fuel');
    const spins = (inst.exports.spins as { value: bigint }).value;
    expect(spins).toBeGreaterThan(100n);
    inst.resume({ fuel: 10_000 });
    expect((inst.exports.spins as { value: bigint }).value).toBeGreaterThan(spins);
  });
});

describe('the repo VM accepts every guest', () => {
  it('decodes, validates and instantiates each one', async () => {
    const vm = await import('../../src/vm/index.js');
    for (const source of guestSources() as string[]) {
      const bytes = readFileSync(join(ROOT, source.replace(/\.ts$/, '.wasm')));
      const mod = vm.compile(bytes);
      const imports: Record<string, Record<string, unknown>> = { hive: {}, env: {} };
      for (const imp of WebAssembly.Module.imports(guestModule(source.replace(/\.ts$/, '.wasm')))) {
        imports[imp.module]![imp.name] = () => { throw new Error('not called'); };
      }
      expect(() => new vm.Instance(mod, imports as never), source).not.toThrow();
    }
  });
});

// ---------------------------------------------------------------------------
// Probe
// ---------------------------------------------------------------------------

const CLIENT = 100;

/** Runs the probe on commands (from CLIENT); returns the run and the decoded answers to CLIENT. */
function probe(cmds: (unknown[] | Msg)[], opts: FakeOptions = {}): Run & { answers: unknown[] } {
  const queue = cmds.map((c) => (Array.isArray(c) ? msg(c, CLIENT) : c));
  const r = run('test/guests/probe.wasm', { ...opts, queue });
  const answers = r.out.filter((o) => o.to === CLIENT).map((o) => {
    try {
      return unpack(o.bytes);
    } catch {
      return { undecodable: hex(o.bytes) };
    }
  });
  return { ...r, answers };
}

function echoBytes(payload: Uint8Array): Uint8Array {
  const cmd = new Uint8Array([0x92, ...pack('echo'), ...payload]);
  const r = probe([raw(cmd)]);
  expect(r.ended).toBe('stopped');
  expect(r.out).toHaveLength(1);
  return r.out[0]!.bytes;
}

describe('msgpack round trips (probe echo)', () => {
  const smallest = [
    null, true, false,
    0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31),
    1.5, -0.25, 0.1, 1e300, -1e-300, 2 ** 40, Infinity, -Infinity,
    '', 'a', 'é漢字🎉', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(65535), 'z'.repeat(65536),
    new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7), new Uint8Array(70_000).fill(9),
    [], [1, [2, [3, []]]], Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 70_000 }, (_, i) => i & 1),
  ];
  it('values msgpackr encodes in their smallest form come back byte for byte', () => {
    for (const v of smallest) {
      const bytes = pack(v);
      expect(hex(echoBytes(bytes)), `echo ${String(v).slice(0, 40)}`).toBe(hex(bytes));
    }
  });

  it('maps, nested values and NaN come back equal', () => {
    const values = [
      { a: 1 },
      { a: { b: [1, 'x', null, { c: true }] }, é: -5, empty: {}, bin: new Uint8Array([0xff]) },
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i * 1000])),
      [{ x: [new Pid(3), 'y'] }],
    ];
    for (const v of values) expect(unpack(echoBytes(pack(v)))).toEqual(v);
    expect(Number.isNaN(unpack(echoBytes(pack(NaN))))).toBe(true);
  });

  it('64-bit integers', () => {
    const big = [2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 31n) - 1n, -(2n ** 63n), 2n ** 64n - 1n];
    for (const v of big) expect(unpack(echoBytes(pack(v))), String(v)).toBe(v);
    // Re-encoded in the smallest form.
    expect(hex(echoBytes(fromHex('d3 00000000 00000005')))).toBe('05');
    expect(hex(echoBytes(fromHex('cf 00000000 ffffffff')))).toBe('ceffffffff');
    expect(hex(echoBytes(fromHex('d3 ffffffff ffffffff')))).toBe('ff');
    expect(hex(echoBytes(fromHex('d3 00000001 00000000')))).toBe('cf0000000100000000');
  });

  it('every int and float format decodes', () => {
    const cases: [string, string][] = [
      ['cc 05', '05'], ['cd 00 05', '05'], ['ce 00 00 00 05', '05'], ['d0 05', '05'], ['d1 ff fe', 'fe'],
      ['d2 ff ff ff 7f', 'd1ff7f'], ['d0 80', 'd080'], ['e0', 'e0'],
      ['ca 3f c0 00 00', 'ca3fc00000'], ['cb 3f f8 00 00 00 00 00 00', 'cb3ff8000000000000'],
      ['d9 01 61', 'a161'], ['da 00 01 61', 'a161'], ['db 00 00 00 01 61', 'a161'],
      ['c5 00 01 aa', 'c401aa'], ['c6 00 00 00 01 aa', 'c401aa'],
      ['dc 00 01 01', '9101'], ['dd 00 00 00 01 01', '9101'],
      ['de 00 01 a1 61 01', '81a16101'], ['df 00 00 00 01 a1 61 01', '81a16101'],
    ];
    for (const [input, output] of cases) expect(hex(echoBytes(fromHex(input))), input).toBe(output);
    expect(unpack(echoBytes(fromHex('ca 3f c0 00 00')))).toBe(1.5);
  });

  it('pids (ext type 1, 4 bytes big-endian) and other extensions', () => {
    for (const id of [1, 42, 2 ** 31 - 1]) {
      const bytes = pack(new Pid(id));
      expect(hex(bytes)).toBe(`d601${id.toString(16).padStart(8, '0')}`);
      expect(hex(echoBytes(bytes))).toBe(hex(bytes));
      expect(unpack(echoBytes(bytes))).toEqual(new Pid(id));
    }
    expect(hex(echoBytes(fromHex('c7 04 01 00 00 00 07')))).toBe('d60100000007');
    for (const ext of ['d4 05 aa', 'd5 05 aa bb', 'd7 05 0102030405060708', 'c7 03 05 01 02 03', 'c7 00 7f']) {
      expect(hex(echoBytes(fromHex(ext))), ext).toBe(fromHex(ext).reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''));
    }
  });

  it('malformed input is refused without trapping', () => {
    const bad = ['c1', 'a5 61 62', 'dc 03 e8', 'c4 05 01', '92 01', 'd6 01 00', '91'.repeat(300) + 'c0', 'cb 00'];
    for (const b of bad) {
      const cmd = new Uint8Array([0x92, ...pack('echo'), ...fromHex(b)]);
      const r = probe([raw(cmd)]);
      expect(r.ended, b).toBe('stopped');
      expect(r.answers, b).toEqual([{ error: 'bad arguments: echo' }]);
    }
    const r = probe([raw(fromHex('c1')), raw(fromHex('90')), raw(fromHex('91 01')), ['nope']]);
    expect(r.answers).toEqual([
      { error: 'bad command: not a non-empty array' },
      { error: 'bad command: not a non-empty array' },
      { error: 'bad command: no name' },
      { error: 'unknown command: nope' },
    ]);
  });
});

describe('probe commands call the right imports', () => {
  it('self, send, flood', () => {
    const statuses = [0, -3, -2, -8, 0];
    let i = 0;
    const r = probe(
      [['self'], ['send', new Pid(9), 'hi', 5], ['send', 9, { a: [1] }, -1], ['flood', new Pid(8), 5, 0]],
      { self: 77, sendStatus: (to) => (to === 8 ? statuses[i++]! : 0) },
    );
    expect(r.answers).toEqual([77, 0, 0, { ok: 2, full: 1, notfound: 1, other: 1 }]);
    const sends = r.calls.filter((c) => c.fn === 'send' && c.to !== CLIENT);
    expect(sends.slice(0, 2).map((c) => [c.to, hex(c.bytes as Uint8Array), c.timeout])).toEqual([
      [9, hex(pack('hi')), 5],
      [9, hex(pack({ a: [1] })), -1],
    ]);
    expect(sends.slice(2).map((c) => [c.to, unpack(c.bytes as Uint8Array), c.timeout])).toEqual(
      [0, 1, 2, 3, 4].map((n) => [8, n, 0]),
    );
    // Answers go to the sender of the command with send(..., -1).
    expect(r.calls.filter((c) => c.fn === 'send' && c.to === CLIENT).every((c) => c.timeout === -1)).toBe(true);
  });

  it('call', () => {
    const r = probe([['call', new Pid(9), 'q', 100], ['call', new Pid(10), 1, 0]], {
      onCall: (to, bytes) => (to === 9 && unpack(bytes) === 'q' ? pack('answer') : -1),
    });
    expect(r.calls.filter((c) => c.fn === 'call').map((c) => [c.to, unpack(c.bytes as Uint8Array), c.timeout])).toEqual([
      [9, 'q', 100],
      [10, 1, 0],
    ]);
    expect(r.answers).toEqual([[0, new Uint8Array(pack('answer'))], [-1, null]]);
  });

  it('spawn, register, unregister, lookup', () => {
    const init = pack({ next: new Pid(1) });
    const r = probe(
      [['spawn', 'ring', init, true], ['spawn', 'other', null, false], ['spawn', 'x'], ['register', 'svc'], ['unregister'], ['lookup', 'svc']],
      { spawnPids: [21, 22, 23], lookup: 42 },
    );
    expect(r.answers).toEqual([21, 22, 23, 0, 0, 42]);
    expect(r.calls.filter((c) => c.fn === 'spawn').map((c) => [c.module, c.init && hex(c.init as Uint8Array), c.flags])).toEqual([
      ['ring', hex(init), 1],
      ['other', null, 0],
      ['x', null, 0],
    ]);
    expect(r.calls.filter((c) => c.fn === 'register' || c.fn === 'lookup' || c.fn === 'unregister')).toEqual([
      { fn: 'register', name: 'svc' }, { fn: 'unregister' }, { fn: 'lookup', name: 'svc' },
    ]);
  });

  it('link, unlink, monitor, demonitor, exit, trap_exit', () => {
    const r = probe(
      [['link', new Pid(5)], ['unlink', 5], ['monitor', new Pid(6)], ['demonitor', 7], ['demonitor', 8],
        ['trap_exit', true], ['trap_exit', false], ['exit', new Pid(5), 'bye'], ['exit', new Pid(1), 'done'], ['self']],
      { self: 1 },
    );
    expect(r.answers).toEqual([0, 0, 7, 0, -2, 0, 1, 0]);
    expect(r.calls.filter((c) => ['link', 'unlink', 'monitor', 'demonitor', 'trap_exit', 'exit'].includes(c.fn))).toEqual([
      { fn: 'link', pid: 5 }, { fn: 'unlink', pid: 5 }, { fn: 'monitor', pid: 6 }, { fn: 'demonitor', ref: 7 },
      { fn: 'demonitor', ref: 8 }, { fn: 'trap_exit', on: 1 }, { fn: 'trap_exit', on: 0 },
      { fn: 'exit', pid: 5, reason: 'bye' }, { fn: 'exit', pid: 1, reason: 'done' },
    ]);
    expect(r.ended).toBe('exited');
  });

  it('sleep, now, random, log, abi_version, size, kind, sender', () => {
    const r = probe([['sleep', 25], ['now'], ['random', 5], ['log', 30, 'héllo'], ['abi_version'], ['size'], ['kind'], ['sender']]);
    expect(r.answers).toEqual([
      'slept', 1_700_000_000_123n, new Uint8Array([1, 8, 15, 22, 29]), 0, 1, pack(['size']).length, 0, CLIENT,
    ]);
    expect(r.calls.filter((c) => ['sleep', 'random', 'log'].includes(c.fn))).toEqual([
      { fn: 'sleep', ms: 25 }, { fn: 'random', len: 5 }, { fn: 'log', level: 30, text: 'héllo' },
    ]);
  });

  it('receive takes the next message and answers the command sender', () => {
    const r = probe([['receive', -1], msg('next', 55), ['receive', 10], raw(pack('exit!'), 56, EXIT), ['receive', 0]]);
    expect(r.answers).toEqual([
      [pack('next').length, MESSAGE, new Pid(55), new Uint8Array(pack('next'))],
      [pack('exit!').length, EXIT, new Pid(56), new Uint8Array(pack('exit!'))],
      [-1, null, null, null],
    ]);
    expect(r.calls.filter((c) => c.fn === 'receive').map((c) => c.timeout)).toEqual([-1, -1, -1, 10, -1, 0, -1]);
  });

  it('report: exit, down and init signals go to the reporter', () => {
    const r = probe(
      [
        msg({ from: new Pid(8), reason: 'ignored' }, 8, EXIT),
        ['report', new Pid(50)],
        msg({ from: new Pid(8), reason: 'boom' }, 8, EXIT),
        msg({ ref: 7, from: new Pid(9), reason: 'noproc' }, 9, DOWN),
      ],
    );
    expect(r.answers).toEqual([0]);
    expect(r.out.filter((o) => o.to === 50).map((o) => unpack(o.bytes))).toEqual([
      { kind: 'exit', from: new Pid(8), reason: 'boom' },
      { kind: 'down', from: new Pid(9), reason: 'noproc', ref: 7 },
    ]);
    const withInit = probe([], { init: msg({ report: new Pid(51), x: 1 }, 3, INIT) });
    expect(withInit.out.map((o) => [o.to, unpack(o.bytes)])).toEqual([
      [51, { kind: 'init', from: new Pid(3), payload: new Uint8Array(pack({ report: new Pid(51), x: 1 })) }],
    ]);
    // An init without a reporter is ignored.
    expect(probe([['self']], { init: msg('hello', 3, INIT) }).out.map((o) => o.to)).toEqual([CLIENT]);
  });

  it('inc, get, grow, spin', () => {
    const r = probe([['inc'], ['inc'], ['get'], ['grow', 2], ['spin', 1000], ['spin', 0]]);
    const pages = (r.answers[3] as number);
    expect(r.answers).toEqual([1, 2, 2, pages, 'spun', 'spun']);
    expect(pages).toBeGreaterThan(0);
    expect((r.instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBeGreaterThanOrEqual((pages + 2) * 65536);
    expect((r.instance.exports.spins as WebAssembly.Global).value).toBe(1000n);
  });

  it('trap: unreachable, div0, oob, abort', () => {
    const expected: Record<string, RegExp> = { unreachable: /unreachable/, div0: /divide by zero/, oob: /out of bounds/ };
    for (const [what, message] of Object.entries(expected)) {
      const r = probe([['trap', what], ['self']]);
      expect(r.ended, what).toBe('trapped');
      expect(String((r.error as Error).message)).toMatch(message);
      expect(r.answers).toEqual([]);
    }
    const r = probe([['trap', 'abort']]);
    expect(r.ended).toBe('aborted');
    expect(r.calls.find((c) => c.fn === 'abort')).toMatchObject({ msg: 'probe: abort requested', file: 'test/guests/probe.ts' });
  });
});

// ---------------------------------------------------------------------------
// Typed helpers
// ---------------------------------------------------------------------------

describe('typed helpers (encode<T> / decode<T>)', () => {
  const typed = (cmds: (unknown[] | Msg)[], opts: FakeOptions = {}) => {
    const queue = cmds.map((c) => (Array.isArray(c) ? msg(c, CLIENT) : c));
    const r = run('test/guests/typed.wasm', { ...opts, queue });
    expect(r.ended).toBe('stopped');
    return r.out.filter((o) => o.to === CLIENT).map((o) => unpack(o.bytes));
  };

  it('integers are range checked per type', () => {
    const cases: [string, unknown, boolean, unknown?][] = [
      ['bool', true, true], ['bool', 1, false, false],
      ['i8', -128, true], ['i8', 127, true], ['i8', 128, false, 0], ['i8', -129, false, 0],
      ['u8', 255, true], ['u8', -1, false, 0], ['u8', 256, false, 0],
      ['i16', -32768, true], ['i16', 32768, false, 0], ['u16', 65535, true], ['u16', 65536, false, 0],
      ['i32', -(2 ** 31), true], ['i32', 2 ** 31 - 1, true], ['i32', 2 ** 31, false, 0], ['i32', 1.5, false, 0], ['i32', 'x', false, 0],
      ['u32', 2 ** 32 - 1, true], ['u32', 2 ** 32, false, 0],
      ['i64', -(2n ** 63n), true], ['i64', 2n ** 63n - 1n, true], ['i64', 2n ** 63n, false, 0], ['i64', 2 ** 40, true, 2n ** 40n],
      ['u64', 2n ** 64n - 1n, true], ['u64', -1, false, 0],
    ];
    const answers = typed(cases.map(([t, v]) => [t, v]));
    cases.forEach(([t, v, ok, back], i) => {
      expect(answers[i], `${t} ${String(v)}`).toEqual([ok, back === undefined ? v : back]);
    });
  });

  it('floats, strings, bins, arrays, values', () => {
    const cases: [string, unknown, boolean, unknown?][] = [
      ['f64', 0.1, true], ['f64', 3, true], ['f32', 1.5, true], ['f32', 'x', false, 0],
      ['string', 'héllo 🎉', true], ['string', null, false, ''], ['string', 5, false, ''],
      ['string?', null, true], ['string?', 'x', true], ['string?', 5, false, null],
      ['bin', new Uint8Array([1, 2, 3]), true], ['bin', 'x', false, new Uint8Array(0)],
      ['i32[]', [1, -2, 3], true], ['i32[]', [1, 'x'], false, [1, 0]], ['string[]', ['a', 'é'], true],
      ['i32[][]', [[1], [], [2, 3]], true],
      ['value', { a: [1, new Pid(4)], b: null }, true],
    ];
    const answers = typed(cases.map(([t, v]) => [t, v]));
    cases.forEach(([t, v, ok, back], i) => {
      expect(answers[i], `${t} ${String(v)}`).toEqual([ok, back === undefined ? v : back]);
    });
  });

  it('initValue, receive<T>, call<Req,Res> and lastStatus', () => {
    expect(typed([['init']], { init: msg(['a', 'b'], 1, INIT) })).toEqual([[['a', 'b'], 0]]);
    expect(typed([['init']])).toEqual([[[], -2]]);
    expect(typed([['init']], { init: msg(5, 1, INIT) })).toEqual([[[], -100]]);
    expect(typed([['recv_i32', 0], msg(41, 7), ['recv_i32', 0], msg('x', 7), ['recv_str', 0], msg('ok', 7), ['recv_i32', 0]])).toEqual([
      [41, 0], [0, -100], ['ok', 0], [0, -1],
    ]);
    const calls: unknown[] = [];
    const answers = typed([['call', new Pid(9), 'ping'], ['call', new Pid(10), 'ping'], ['call', new Pid(11), 'ping']], {
      onCall: (to, bytes, timeout) => {
        calls.push([to, unpack(bytes), timeout]);
        return to === 9 ? pack('pong') : to === 10 ? pack(3) : -2;
      },
    });
    expect(calls).toEqual([[9, 'ping', 100], [10, 'ping', 100], [11, 'ping', 100]]);
    expect(answers).toEqual([['pong', 0], ['', -100], ['', -2]]);
  });
});

// ---------------------------------------------------------------------------
// Allocation-free paths (test/guests/wire.ts)
// ---------------------------------------------------------------------------

describe('send<T>, reply<T>, receive<T> and call<Req,Res> through scratch memory', () => {
  // Each [type, value] command is answered twice: send<T> (scalars and short strings skip the
  // Encoder), then sendBytes(encode<T>) (the Encoder). Returns the pairs as hex.
  const wire = (cmds: (unknown[] | Msg)[], opts: FakeOptions = {}): Run => {
    const queue = cmds.map((c) => (Array.isArray(c) ? msg(c, CLIENT) : c));
    const r = run('test/guests/wire.wasm', { ...opts, queue });
    expect(r.ended).toBe('stopped');
    return r;
  };
  const pairs = (r: Run): [string, string][] => {
    const out = r.out.map((o) => hex(o.bytes));
    return Array.from({ length: out.length / 2 }, (_, i) => [out[2 * i]!, out[2 * i + 1]!]);
  };
  const strings = [
    '', 'a', 'up', 'value=12', 'é漢字🎉', '\u0000a\u0000',
    // Header boundaries (31/32 and 255/256 bytes), the largest header a length could need
    // (11 units: up to 33 bytes), the scratch limit (84/85 units), and the one-pass limit (21845 units).
    ...[10, 11, 31, 32, 84, 85, 255, 256, 21845, 21846, 70_000].flatMap((n) => ['x'.repeat(n), 'é'.repeat(n), '漢'.repeat(n >> 1)]),
  ];

  it('scalars and strings are written as msgpackr writes them, and as encode<T> does', () => {
    const cases: [string, unknown, string?][] = [
      ['bool', true], ['bool', false],
      ...[0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31)]
        .map((v): [string, unknown] => ['i32', v]),
      ['i8', -128], ['u8', 255], ['i16', -300], ['u16', 65535], ['u32', 2 ** 32 - 1],
      ['i64', -(2n ** 63n)], ['i64', 2n ** 32n, 'cf0000000100000000' /* smallest form; msgpackr writes a BigInt as d3 */], ['u64', 2n ** 64n - 1n],
      ['f64', 1.5], ['f64', 1e300], ['f64', -0.1], ['f64', 3, 'cb4008000000000000'],
      ['f32', 1.5, 'ca3fc00000'], ['f32', -2, 'cac0000000'],
      ...strings.map((s): [string, unknown] => ['string', s]),
      ['string?', null], ['string?', 'x'],
    ];
    for (const command of ['send', 'reply']) {
      const r = wire(cases.map(([t, v]) => (command === 'reply' ? ['reply', t, v] : [t, v])));
      expect(r.out.every((o) => o.fn === command && o.to === CLIENT), command).toBe(true);
      pairs(r).forEach(([fast, encoder], i) => {
        const [t, v, expected] = cases[i]!;
        const label = `${command} ${t} ${String(v).slice(0, 20)}`;
        expect(fast, label).toBe(encoder);
        expect(fast, label).toBe(expected ?? hex(pack(v)));
      });
    }
  });

  it('Decoder.readStringPtr gives a str\'s UTF-8 bytes in place, which Encoder.rawAt writes back; anything else is an error', () => {
    const values: unknown[] = ['', 'a', 'é漢字🎉', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(256), 'z'.repeat(70_000), 5, null, new Uint8Array([1, 2])];
    const r = wire(values.map((v) => ['strptr', v]));
    expect(r.out.map((o) => unpack(o.bytes))).toEqual(values.map((v) => (typeof v === 'string' ? [true, Buffer.byteLength(v), v] : [false, 0, null])));
  });

  it('unpaired surrogates are written as U+FFFD by both paths', () => {
    const [[fast, encoder]] = pairs(wire([['surrogates']]));
    expect(fast).toBe(encoder);
    expect(fast).toBe('af' + '61' + 'efbfbd' + '62' + 'efbfbd' + 'f09f8e89' + 'efbfbd');
  });

  it('receive<T> takes what the Decoder takes; another type, trailing bytes or a truncated value is DECODE_ERROR', () => {
    const DECODE_ERROR = -100;
    // [type, payload (hex), answer [ok, value, status]]
    const cases: [string, string, unknown[]][] = [
      ['i32', '05', [true, 5, 0]], ['i32', 'cd 01 00', [true, 256, 0]], ['i32', 'd2 80 00 00 00', [true, -(2 ** 31), 0]],
      ['i32', 'cb 40 08 00 00 00 00 00 00', [true, 3, 0]], ['i32', 'cb 3f f8 00 00 00 00 00 00', [false, 0, DECODE_ERROR]],
      ['i32', 'ce 80 00 00 00', [false, 0, DECODE_ERROR]], ['i32', 'cd 01', [false, 0, DECODE_ERROR]],
      ['i32', '', [false, 0, DECODE_ERROR]], ['i32', 'a1 78', [false, 0, DECODE_ERROR]], ['i32', 'c0', [false, 0, DECODE_ERROR]],
      // Trailing bytes: DECODE_ERROR, with the first value (as the Decoder path has always returned).
      ['i32', '05 05', [false, 5, DECODE_ERROR]], ['i32', '07' + '00'.repeat(40), [false, 7, DECODE_ERROR]],
      ['u8', 'cc ff', [true, 255, 0]], ['u8', 'cd 01 00', [false, 0, DECODE_ERROR]], ['i8', 'ff', [true, -1, 0]],
      ['u64', 'cf ff ff ff ff ff ff ff ff', [true, 2n ** 64n - 1n, 0]], ['i64', 'cf ff ff ff ff ff ff ff ff', [false, 0, DECODE_ERROR]],
      ['u64', 'ff', [false, 0, DECODE_ERROR]],
      ['bool', 'c3', [true, true, 0]], ['bool', 'c2', [true, false, 0]], ['bool', '01', [false, false, DECODE_ERROR]],
      ['f64', 'ca 3f c0 00 00', [true, 1.5, 0]], ['f64', 'cf ff ff ff ff ff ff ff ff', [true, 2 ** 64, 0]], ['f64', 'a0', [false, 0, DECODE_ERROR]],
      ['f32', 'cb 3f f8 00 00 00 00 00 00', [true, 1.5, 0]],
      ['string', 'a2 75 70', [true, 'up', 0]], ['string', 'd9 02 75 70', [true, 'up', 0]], ['string', 'da 00 02 75 70', [true, 'up', 0]],
      ['string', 'db 00 00 00 02 75 70', [true, 'up', 0]], ['string', 'a3 e6 bc a2', [true, '漢', 0]],
      ['string', 'a3 75 70', [false, '', DECODE_ERROR]], ['string', 'db ff ff ff ff', [false, '', DECODE_ERROR]], ['string', 'd9', [false, '', DECODE_ERROR]],
      ['string', 'a2 75 70 00', [false, 'up', DECODE_ERROR]], ['string', '05', [false, '', DECODE_ERROR]], ['string', 'c0', [false, '', DECODE_ERROR]],
      ['string?', 'c0', [true, null, 0]], ['string?', 'a1 78', [true, 'x', 0]],
    ];
    const cmds: (unknown[] | Msg)[] = cases.flatMap(([t, payload]) => [['recv', t], raw(fromHex(payload))]);
    const r = wire(cmds);
    const answers = r.out.map((o) => unpack(o.bytes));
    cases.forEach(([t, payload, answer], i) => expect(answers[i], `${t} ${payload}`).toEqual(answer));
    // Strings of every length come back whole (above 256 bytes the message goes to heap memory, then back to scratch).
    const long = wire(strings.flatMap((s) => [['recv', 'string'], msg(s)]));
    expect(long.out.map((o) => unpack(o.bytes))).toEqual(strings.map((s) => [true, s, 0]));
  });

  it('call<i32, i32> and call<string, string> send through scratch and decode the answer', () => {
    const seen: string[] = [];
    const r = wire(
      [['call_i32', new Pid(9), 300], ['call_i32', new Pid(10), -7], ['call_i32', new Pid(11), 1],
        ['call_str', new Pid(9), 'hi'], ['call_str', new Pid(10), 'x'.repeat(100)], ['call_str', new Pid(11), 'é']],
      {
        onCall: (to, bytes) => {
          seen.push(hex(bytes));
          return to === 9 ? bytes : to === 10 ? pack([1]) : -2;
        },
      },
    );
    expect(seen).toEqual([hex(pack(300)), hex(pack(-7)), hex(pack(1)), hex(pack('hi')), hex(pack('x'.repeat(100))), hex(pack('é'))]);
    expect(r.out.map((o) => unpack(o.bytes))).toEqual([[300, 0], [0, -100], [0, -2], ['hi', 0], ['', -100], ['', -2]]);
  });
});

// ---------------------------------------------------------------------------
// Cost (fuel = instructions, on the repo VM)
// ---------------------------------------------------------------------------

describe('per-message cost of the SDK', () => {
  /**
   * The guest's own fuel per message on the repo VM (the hive's import
   * charges are not counted: the SDK does not set them). `answer` plays the
   * hive: it gives the next message for receive, or null to stop.
   */
  async function fuelPerMessage(path: string, init: Uint8Array | null, next: (sent: Uint8Array | null) => Uint8Array | null, n: number): Promise<number> {
    const vm = await import('../../src/vm/index.js');
    const bytes = readFileSync(join(ROOT, path));
    let current: Uint8Array | null = init;
    let kind = init ? INIT : MESSAGE;
    let sent: Uint8Array | null = null;
    let memory: { bytes(): Uint8Array } | null = null;
    const copy = (p: number, l: number): Uint8Array => memory!.bytes().slice(p, p + l);
    const hive: Record<string, (...a: number[]) => number> = {
      kind: () => (current ? kind : -2),
      size: () => (current ? current.length : -2),
      sender: () => 2,
      read: (p, l) => {
        const k = Math.min(l, current!.length);
        memory!.bytes().set(current!.subarray(0, k), p);
        return k;
      },
      send: (_to, p, l) => { sent = copy(p, l); return 0; },
      reply: (p, l) => { sent = copy(p, l); return 0; },
      receive: () => {
        const m = next(sent);
        if (m === null) throw new Stop('done');
        current = m;
        kind = MESSAGE;
        return m.length;
      },
    };
    const imports: Record<string, Record<string, unknown>> = { hive: {}, env: {} };
    for (const imp of WebAssembly.Module.imports(guestModule(path))) {
      imports[imp.module]![imp.name] = hive[imp.name] ?? (() => { throw new Error(`not faked: ${imp.module}.${imp.name}`); });
    }
    const inst = new vm.Instance(vm.compile(bytes), imports as never, { fuel: 1e12 });
    memory = inst.exports.memory as unknown as { bytes(): Uint8Array };
    const out = inst.call('main');
    // ping returns after its report; counter runs until the fake hive stops it (a trap from the host function).
    expect(['done', 'trapped']).toContain(out.kind);
    return inst.fuelUsed / n;
  }

  it('a ping round trip (send<i32> then receive<i32>) costs the guest at most 190 fuel (it cost 699 before the scratch paths; 94 with them)', async () => {
    const n = 2000;
    const fuel = await fuelPerMessage('test/guests/ping.wasm', pack({ peer: new Pid(2), n, report: new Pid(3) }), (sent) => sent, n);
    expect(fuel).toBeLessThanOrEqual(190);
  });

  it('a counter message (receive<string>, reply<string>) costs the guest at most 2,000 fuel (2,242 before; 1,642 with them, mostly the allocator)', async () => {
    const n = 2000;
    let left = n;
    const fuel = await fuelPerMessage('examples/counter/counter.wasm', null, () => (left-- > 0 ? pack(left % 3 === 0 ? 'down' : 'up') : null), n);
    expect(fuel).toBeLessThanOrEqual(2000);
  });
});
