/**
 * The hive binding over a fake port: it answers through the port for the
 * caller its context names, pauses with the port's Suspends, applies the
 * rules of every import (none before main, none after a decided exit, the
 * slice ends where charged work spent it) and charges the documented costs.
 * The actor system's own tests (src/actors) run the same binding over the
 * real port.
 */
import { describe, expect, it } from 'vitest';
import { Instance, Memory, Suspend, Trap, instantiate, type Outcome, type Value } from '../../vm/index.js';
import { wat } from '../../../test/helpers/wat.js';
import type { BindingContext, LogLevel } from '../binding.js';
import { HIVE_FUEL, HiveAbi, HiveStatus, MAX_LOG_BYTES, type CurrentMessage, type HivePort, type SpawnOutcome } from './index.js';

const PARKED = new Suspend('parked');
const ENDED = new Suspend('slice ended');

/** A port that records what it was asked and answers as the test sets it. */
class FakePort implements HivePort {
  started = true;
  /** The exit decided while the actor runs, if any. */
  decided: string | null = null;
  slicesSpent = false;
  kept: Value[] | null = null;
  maxMessageBytes = 100;
  message: CurrentMessage | null = null;
  readonly asked: string[] = [];
  readonly sent: [number, number[], number][] = [];

  exitDecided(): Suspend | null {
    return this.decided === null ? null : new Suspend({ exit: this.decided });
  }
  endSlice(results: Value[]): Suspend | null {
    if (!this.slicesSpent) return null;
    this.kept = results;
    return ENDED;
  }
  current(): CurrentMessage | null {
    return this.message;
  }

  get replyTo(): number {
    return this.message?.from ?? 0;
  }
  receive(timeout: number): number | Suspend {
    this.asked.push(`receive ${timeout}`);
    return timeout === 0 ? HiveStatus.TIMEOUT : PARKED;
  }
  send(to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    this.sent.push([to, [...bytes], timeout]);
    return HiveStatus.OK;
  }
  reply(bytes: Uint8Array): number | Suspend {
    return this.send(this.message!.from, bytes, -1);
  }
  call(to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    this.sent.push([to, [...bytes], timeout]);
    return PARKED;
  }
  spawn(module: string, init: Uint8Array | null, flags: number, paid: (made: SpawnOutcome) => void): number {
    this.asked.push(`spawn ${module} ${init === null ? 'no init' : init.length} flags ${flags}`);
    paid({ status: 77, memoryBytes: 65536, tableElements: 80 });
    return 77;
  }
  link(pid: number): number {
    this.asked.push(`link ${pid}`);
    return HiveStatus.OK;
  }
  unlink(pid: number): void {
    this.asked.push(`unlink ${pid}`);
  }
  monitor(pid: number): number {
    this.asked.push(`monitor ${pid}`);
    return 1;
  }
  queuedSignals = 0;
  demonitor(ref: number): number {
    this.asked.push(`demonitor ${ref}`);
    return HiveStatus.OK;
  }
  exitSelf(reason: string): Suspend {
    return new Suspend({ exit: reason });
  }
  exit(to: number, reason: string): number {
    this.asked.push(`exit ${to} ${reason}`);
    return HiveStatus.OK;
  }
  trapExit(on: boolean): boolean {
    this.asked.push(`trap_exit ${on}`);
    return false;
  }
  register(name: string): number {
    this.asked.push(`register ${name}`);
    return HiveStatus.OK;
  }
  unregister(): number {
    return HiveStatus.NOT_FOUND;
  }
  lookup(name: string): number {
    this.asked.push(`lookup ${name}`);
    return name === 'known' ? 12 : HiveStatus.NOT_FOUND;
  }
  sleep(ms: number): Suspend {
    this.asked.push(`sleep ${ms}`);
    return PARKED;
  }
}

/** The caller: an instance made after its imports, its charges counted. */
class Caller implements BindingContext {
  inst!: Instance;
  charged: number[] = [];
  readonly lines: [LogLevel, string, object | undefined][] = [];
  readonly clock = { now: () => 1234.9 };
  readonly random = { fill: (b: Uint8Array) => b.fill(9), float: () => 0.25 };
  readonly logger = { log: (level: LogLevel, msg: string, obj?: object) => void this.lines.push([level, msg, obj]) };
  constructor(readonly caller: number) {}
  memory(): Memory {
    return this.inst.getExport('memory') as Memory;
  }
  charge(units: number): void {
    this.charged.push(units);
  }
  fuelUsed(): number {
    return 0;
  }
}

const GUEST = wat(`(module
  (import "hive" "self" (func $self (result i32)))
  (import "hive" "receive" (func $receive (param i32) (result i32)))
  (import "hive" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "hive" "reply" (func $reply (param i32 i32) (result i32)))
  (import "hive" "spawn" (func $spawn (param i32 i32 i32 i32 i32) (result i32)))
  (import "hive" "lookup" (func $lookup (param i32 i32) (result i32)))
  (import "hive" "exit" (func $exit (param i32 i32 i32) (result i32)))
  (import "hive" "now" (func $now (result i64)))
  (import "hive" "random" (func $random (param i32 i32)))
  (import "hive" "log" (func $log (param i32 i32 i32)))
  (import "hive" "abi_version" (func $abi_version (result i32)))
  (import "env" "seed" (func $seed (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "known")
  (data (i32.const 16) "worker")
  (data (i32.const 32) "bye")
  (func (export "self") (result i32) (call $self))
  (func (export "receive") (param i32) (result i32) (call $receive (local.get 0)))
  (func (export "send") (param i32 i32) (result i32) (call $send (i32.const 5) (i32.const 0) (local.get 0) (local.get 1)))
  (func (export "reply") (param i32) (result i32) (call $reply (i32.const 0) (local.get 0)))
  (func (export "spawn") (result i32) (call $spawn (i32.const 16) (i32.const 6) (i32.const 0) (i32.const 5) (i32.const 1)))
  (func (export "spawn_flags") (result i32) (call $spawn (i32.const 16) (i32.const 6) (i32.const 0) (i32.const -1) (i32.const 4)))
  (func (export "spawn_services") (result i32) (call $spawn (i32.const 16) (i32.const 6) (i32.const 0) (i32.const -1) (i32.const 3)))
  (func (export "lookup") (param i32) (result i32) (call $lookup (i32.const 0) (local.get 0)))
  (func (export "exit") (param i32) (result i32) (call $exit (local.get 0) (i32.const 32) (i32.const 3)))
  (func (export "now") (result i64) (call $now))
  (func (export "random") (call $random (i32.const 100) (i32.const 40)))
  (func (export "log") (param i32 i32) (call $log (local.get 0) (i32.const 1000) (local.get 1)))
  (func (export "abi_version") (result i32) (call $abi_version))
  (func (export "seed") (result f64) (call $seed)))`);

function setUp(id = 3) {
  const port = new FakePort();
  const ctx = new Caller(id);
  ctx.inst = instantiate(GUEST, new HiveAbi().importsFor(ctx), { data: HiveAbi.callerFor(port, ctx) });
  const run = (name: string, ...args: number[]): Outcome => ctx.inst.call(name, args.map((value) => ({ type: 'i32', value })));
  const result = (name: string, ...args: number[]): number | bigint => {
    const out = run(name, ...args);
    if (out.kind !== 'done') throw new Error(`${name}: ${out.kind}`);
    return (out.results[0] as { value: number | bigint }).value;
  };
  return { port, ctx, run, result };
}

/** The Suspend an outcome waits on. */
function waitingOn(out: Outcome): unknown {
  if (out.kind !== 'waiting') throw new Error(`expected waiting, got ${out.kind}`);
  return out.call.answer;
}

describe('the hive binding over a port', () => {
  it('answers for the caller its context names, and pauses with the port\'s Suspend', () => {
    const { port, result, run } = setUp(42);
    expect(result('self')).toBe(42);
    expect(result('receive', 0)).toBe(HiveStatus.TIMEOUT);
    expect(waitingOn(run('receive', -1))).toBe(PARKED);
    expect(port.asked).toEqual(['receive 0', 'receive -1']);
  });

  it('traps an import called before main, except abi_version and env helpers', () => {
    const { port, run, result } = setUp();
    port.started = false;
    const out = run('self');
    expect(out.kind).toBe('trapped');
    expect((out as { trap: Trap }).trap.message).toContain('hive.self called from the start function: the actor does not exist yet');
    expect(result('abi_version')).toBe(1);
    expect(run('seed').kind).toBe('done');
  });

  it('does nothing once the exit is decided: the import ends the actor through the port and the port is not asked', () => {
    const { port, run } = setUp();
    port.decided = 'killed';
    expect(waitingOn(run('send', 4, -1))).toEqual(new Suspend({ exit: 'killed' }));
    expect(port.sent).toEqual([]);
  });

  it('charges 40 for an import, and 1 per 16 bytes copied; a message over maxMessageBytes is TOO_LARGE before it is copied or paid for', () => {
    const { port, ctx, result } = setUp();
    expect(result('send', 40, 7)).toBe(HiveStatus.OK);
    expect(ctx.charged).toEqual([HIVE_FUEL.IMPORT_FUEL, 2]);
    expect(port.sent).toEqual([[5, [...ctx.memory().u8.subarray(0, 40)], 7]]);
    ctx.charged = [];
    expect(result('send', 101, 0)).toBe(HiveStatus.TOO_LARGE);
    expect(ctx.charged).toEqual([HIVE_FUEL.IMPORT_FUEL]);
    expect(result('abi_version')).toBe(1);
    expect(ctx.charged).toEqual([HIVE_FUEL.IMPORT_FUEL]); // abi_version costs only its call
  });

  it('ends the slice at an import whose charged work spent it, keeping its results for the port', () => {
    const { port, run } = setUp();
    port.slicesSpent = true;
    expect(waitingOn(run('lookup', 5))).toBe(ENDED);
    expect(port.kept).toEqual([{ type: 'i32', value: 12 }]);
  });

  it('replies to the sender of the current message, and says NOT_FOUND without paying for a copy when there is none', () => {
    const { port, ctx, result } = setUp();
    expect(result('reply', 3)).toBe(HiveStatus.NOT_FOUND);
    expect(ctx.charged).toEqual([HIVE_FUEL.IMPORT_FUEL]);
    port.message = { kind: 0, from: 8, bytes: new Uint8Array(0) };
    expect(result('reply', 3)).toBe(HiveStatus.OK);
    expect(port.sent).toEqual([[8, [107, 110, 111], -1]]);
  });

  it('spawns through the port and pays the fixed cost, the name, the init message and the new actor\'s memory and tables', () => {
    const { port, ctx, result } = setUp();
    expect(result('spawn')).toBe(77);
    expect(port.asked).toEqual(['spawn worker 5 flags 1']);
    // 40, 6 bytes of name, 5/16 of a unit of init (dropped), 10,000, 65,536/64 + 80/8.
    expect(ctx.charged).toEqual([40, 6, HIVE_FUEL.SPAWN_FUEL, 1024 + 10]);
    expect(result('spawn_flags')).toBe(HiveStatus.BAD_ARGUMENT); // no flag 4
    const two = setUp(3);
    expect(two.result('spawn_services')).toBe(77); // LINK | SERVICES
    expect(two.port.asked).toEqual(['spawn worker no init flags 3']);
  });

  it('exits with the reason when the pid is the caller\'s own, and signals another pid through the port', () => {
    expect(waitingOn(setUp(3).run('exit', 3))).toEqual(new Suspend({ exit: 'bye' }));
    const { port, result } = setUp(3);
    expect(result('exit', 4)).toBe(HiveStatus.OK);
    expect(port.asked).toEqual(['exit 4 bye']);
  });

  it('reads the clock and the random generator of the context', () => {
    const { ctx, result, run } = setUp();
    expect(result('now')).toBe(1234n);
    expect(run('random').kind).toBe('done');
    expect([...ctx.memory().u8.subarray(99, 141)]).toEqual([0, ...new Array(40).fill(9), 0]);
    expect(ctx.charged).toEqual([40, 40, 40]);
  });

  it('logs through the context\'s logger, a line over 8 KiB cut and marked', () => {
    const { ctx, run } = setUp();
    ctx.memory().u8.fill(0x61, 1000, 1000 + MAX_LOG_BYTES + 10);
    expect(run('log', 40, MAX_LOG_BYTES + 10).kind).toBe('done');
    expect(ctx.lines).toEqual([['warn', `${'a'.repeat(MAX_LOG_BYTES)}…`, undefined]]);
    expect(ctx.charged).toEqual([40, HIVE_FUEL.LOG_FUEL + MAX_LOG_BYTES]);
  });
});
