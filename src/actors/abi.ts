/**
 * The guest ABI `hive` of one actor: the binding in src/bindings/hive (its
 * signature tables, argument checks, costs and rules) over a port that this
 * file implements with today's `Actor` and `Hive`. docs/guest-abi.md is the
 * contract. Imports that wait park the actor (the port returns PARK after
 * setting `actor.wait`); the scheduler resumes it with the import's result
 * when the wait is over.
 */
import type { Imports, Memory, Suspend, Value } from '../vm/index.js';
import { bindingImports, type Binding, type BindingClock, type BindingContext, type BindingLogger, type BindingRandom, type LogLevel } from '../bindings/binding.js';
import { HiveAbi, HiveStatus, NO_RESULTS, SPAWN_LINK, SPAWN_SERVICES, type HivePort, type SpawnOutcome } from '../bindings/hive/index.js';
import { Actor, ExitRequest, PARK, YIELD } from './actor.js';
import { Status } from './envelope.js';

export { ABI_VERSION, MAX_NAME_BYTES, MAX_REASON_BYTES, MAX_LOG_BYTES } from '../bindings/hive/index.js';

/** The hive's statuses, checked here to be the ABI's (a type error when they differ). */
const S: typeof HiveStatus = Status;

/**
 * The imports of one actor: the `hive` module and `env` helpers (shared by
 * every actor of its hive: `hive` is the hive's HiveAbi), with the imports
 * of its other bindings (e.g. a Wasi), all for the same context; and the
 * data its instance is made with, through which the shared imports reach the
 * actor. A binding providing `hive`, `env` or another binding's module is a
 * LinkError.
 */
export function hiveImports(actor: Actor, hive: HiveAbi, bindings: readonly Binding[] = []): { imports: Imports; data: unknown } {
  const ctx = new ActorContext(actor);
  const data = HiveAbi.callerFor(new ActorPort(actor), ctx);
  const imports = bindings.length === 0 ? hive.importsFor(ctx) : bindingImports([hive, ...bindings], ctx);
  return { imports, data };
}

/** What the bindings read of the calling actor (one object: its clock, random generator and logger are itself). */
class ActorContext implements BindingContext, BindingClock, BindingRandom, BindingLogger {
  constructor(private readonly actor: Actor) {}

  get caller(): number {
    return this.actor.id;
  }

  memory(): Memory {
    return this.actor.memory();
  }

  charge(units: number): void {
    this.actor.charge(units);
  }

  fuelUsed(): number {
    return this.actor.instance?.fuelUsed ?? this.actor.finalFuel;
  }

  get clock(): BindingClock {
    return this;
  }

  now(): number {
    return this.actor.hive.clock.now();
  }

  get random(): BindingRandom {
    return this;
  }

  fill(bytes: Uint8Array): void {
    this.actor.rng.fill(bytes);
  }

  float(): number {
    return this.actor.rng.float();
  }

  get logger(): BindingLogger {
    return this;
  }

  log(level: LogLevel, msg: string, obj?: object): void {
    this.actor.log(level, msg, obj);
  }
}

/** The port of one actor, over `Actor` and `Hive`. */
class ActorPort implements HivePort {
  constructor(private readonly actor: Actor) {}

  get started(): boolean {
    return this.actor.started;
  }

  exitDecided(): ExitRequest | null {
    const reason = this.actor.pendingExit;
    return reason === null ? null : new ExitRequest(reason);
  }

  endSlice(results: Value[]): typeof YIELD | null {
    if (!this.actor.sliceSpent) return null;
    this.actor.resumeNextSliceWith(results);
    return YIELD;
  }

  get maxMessageBytes(): number {
    return this.actor.hive.maxMessageBytes;
  }

  get replyTo(): number {
    return this.actor.replyTo;
  }

  current(): { kind: number; from: number; bytes: Uint8Array } | null {
    return this.actor.current;
  }

  /** The deadline of a timeout, or Infinity (-1 or any negative: wait forever). */
  private deadlineOf(timeout: number): number {
    return timeout < 0 ? Infinity : this.actor.hive.clock.now() + timeout;
  }

  receive(timeout: number): number | typeof PARK {
    const actor = this.actor;
    const env = actor.take();
    if (env !== undefined) {
      actor.received(env);
      return env.bytes.length;
    }
    if (timeout === 0) return S.TIMEOUT;
    actor.park({ kind: 'receive', deadline: this.deadlineOf(timeout), timer: null }, () => actor.wakeWithI32(S.TIMEOUT));
    return PARK;
  }

  /** Sends: a status, or parks until the receiver's side answers (OK, FULL after the timeout, NOT_FOUND, INVALID). */
  send(to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    return this.actor.hive.guestSend(this.actor, to, bytes, timeout);
  }

  reply(bytes: Uint8Array): number | Suspend {
    return this.send(this.actor.replyTo, bytes, -1);
  }

  call(to: number, bytes: Uint8Array, timeout: number): number | Suspend {
    return this.actor.hive.guestCall(this.actor, to, bytes, timeout);
  }

  spawn(module: string, init: Uint8Array | null, flags: number, paid: (made: SpawnOutcome) => void): number | Suspend {
    return this.actor.hive.guestSpawn(this.actor, module, init, (flags & SPAWN_LINK) !== 0, (flags & SPAWN_SERVICES) !== 0, paid);
  }

  link(pid: number): number | Suspend {
    return this.actor.hive.guestLink(this.actor, pid);
  }

  unlink(pid: number): void {
    this.actor.hive.unlink(this.actor, pid);
  }

  monitor(pid: number): number {
    return this.actor.hive.monitor(this.actor, pid);
  }

  /**
   * Its queued signals, and the downs it awaits from other partitions (see
   * Actor.downsAwaited): a down counts the same whether it came back from
   * another thread yet or not, so demonitor's fuel does not depend on the
   * threads' timing.
   */
  get queuedSignals(): number {
    return this.actor.signals.length + this.actor.downsAwaited.size;
  }

  demonitor(ref: number): number {
    return this.actor.hive.demonitor(this.actor, ref);
  }

  exitSelf(reason: string): ExitRequest {
    return new ExitRequest(reason);
  }

  exit(to: number, reason: string): number | Suspend {
    return this.actor.hive.guestExit(this.actor, to, reason);
  }

  trapExit(on: boolean): boolean {
    return this.actor.setTrapExit(on);
  }

  register(name: string): number | Suspend {
    return this.actor.hive.guestRegister(this.actor, name);
  }

  unregister(): number {
    return this.actor.hive.guestUnregister(this.actor);
  }

  lookup(name: string): number | Suspend {
    return this.actor.hive.guestLookup(this.actor, name);
  }

  sleep(ms: number): typeof PARK {
    const actor = this.actor;
    actor.park({ kind: 'sleep', deadline: actor.hive.clock.now() + ms, timer: null }, () => actor.wakeWith(NO_RESULTS));
    return PARK;
  }
}
