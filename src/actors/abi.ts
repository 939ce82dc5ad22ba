/**
 * The guest ABI `hive` of one actor: the binding in src/bindings/hive (its
 * signature tables, argument checks, costs and rules) over a port that this
 * file implements with today's `Actor` and `Hive`. docs/guest-abi.md is the
 * contract. Imports that wait park the actor (the port returns PARK after
 * setting `actor.wait`); the scheduler resumes it with the import's result
 * when the wait is over.
 */
import type { Imports, Suspend, Value } from '../vm/index.js';
import { bindingImports, type Binding, type BindingContext } from '../bindings/binding.js';
import { HiveAbi, HiveStatus, i32Result, NO_RESULTS, type HivePort, type SpawnOutcome } from '../bindings/hive/index.js';
import { Actor, ExitRequest, PARK, YIELD, type Wait } from './actor.js';
import { Status } from './envelope.js';

export { ABI_VERSION, MAX_NAME_BYTES, MAX_REASON_BYTES, MAX_LOG_BYTES } from '../bindings/hive/index.js';

/** The hive's statuses, checked here to be the ABI's (a type error when they differ). */
const S: typeof HiveStatus = Status;

const NOT_MADE: SpawnOutcome = { status: 0, memoryBytes: 0, tableElements: 0 };

/**
 * Builds the `hive` module (and `env` helpers) for one actor, with the
 * imports of its other bindings (e.g. a Wasi), all for the same context. A
 * binding providing `hive`, `env` or another binding's module is a LinkError.
 */
export function hiveImports(actor: Actor, bindings: readonly Binding[] = []): Imports {
  const ctx = contextOf(actor);
  return bindingImports([new HiveAbi(new ActorPort(actor)), ...bindings], ctx);
}

/** What the binding reads of the calling actor. */
function contextOf(actor: Actor): BindingContext {
  return {
    caller: actor.id,
    memory: () => actor.memory(),
    charge: (units) => actor.charge(units),
    fuelUsed: () => actor.instance?.fuelUsed ?? actor.finalFuel,
    clock: { now: () => actor.hive.clock.now() },
    random: { fill: (bytes) => actor.rng.fill(bytes), float: () => actor.rng.float() },
    logger: { log: (level, msg, obj) => actor.log(level, msg, obj) },
  };
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
    this.actor.resumeWith = results;
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

  private timerFor(deadline: number, fire: () => void) {
    return deadline === Infinity ? null : this.actor.hive.clock.setTimer(deadline, fire);
  }

  receive(timeout: number): number | typeof PARK {
    const actor = this.actor;
    const env = actor.take();
    if (env !== undefined) {
      actor.received(env);
      return env.bytes.length;
    }
    if (timeout === 0) return S.TIMEOUT;
    const deadline = this.deadlineOf(timeout);
    const w: Wait & { kind: 'receive' } = {
      kind: 'receive',
      deadline,
      timer: this.timerFor(deadline, () => {
        if (actor.wait !== w) return;
        w.timer = null;
        actor.wakeWith(i32Result(S.TIMEOUT));
      }),
    };
    actor.wait = w;
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

  spawn(module: string, init: Uint8Array | null, link: boolean): SpawnOutcome {
    const hive = this.actor.hive;
    const st = hive.spawnFromGuest(this.actor, module, init, link);
    const child = st > 0 ? hive.actor(st) : undefined;
    if (child === undefined || child.instance === null) return { ...NOT_MADE, status: st };
    let memoryBytes = 0;
    for (const m of child.instance.inst.memories) memoryBytes += m.byteLength;
    let tableElements = 0;
    for (const t of child.instance.inst.tables) tableElements += t.length;
    return { status: st, memoryBytes, tableElements };
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

  get queuedSignals(): number {
    return this.actor.signals.length;
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
    const prev = this.actor.trapExit;
    this.actor.trapExit = on;
    return prev;
  }

  register(name: string): number {
    return this.actor.hive.registerName(this.actor, name);
  }

  unregister(): number {
    return this.actor.hive.unregisterName(this.actor);
  }

  lookup(name: string): number {
    return this.actor.hive.lookupName(name) ?? S.NOT_FOUND;
  }

  sleep(ms: number): typeof PARK {
    const actor = this.actor;
    const clock = actor.hive.clock;
    const deadline = clock.now() + ms;
    const w: Wait & { kind: 'sleep' } = {
      kind: 'sleep',
      deadline,
      timer: clock.setTimer(deadline, () => {
        if (actor.wait !== w) return;
        w.timer = null;
        actor.wakeWith(NO_RESULTS);
      }),
    };
    actor.wait = w;
    return PARK;
  }
}
