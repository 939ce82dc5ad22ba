/**
 * An actor as bytes: its VM (an engine snapshot), mailbox and signal queue,
 * current message, name, links, monitors, trap-exit flag, random generator,
 * and what it was waiting for (a receive or sleep with the time left, a call
 * with its reply address, a send to a full mailbox, a host call). Format in
 * docs/snapshot-format.md ("Actor snapshots"). Restoring checks every field:
 * the bytes may come from anywhere.
 */
import { MAX_SERVICES, SERVICE_BASE, grantsOnRestore } from './service.js';
import { ACTOR_SNAPSHOT_FORMAT, ID_MAX, arr, bool, bytes, fail, int, obj, packActor, packActorAsync, readActorSnapshot, str } from './snapshot-format.js';
import { restore as restoreVm, snapshot as snapshotVm, snapshotAsync as snapshotVmAsync, SnapshotError, Suspend, Trap, type Instance, type MemoryPool, type Value, type Module, type Imports } from '../vm/index.js';
import { Actor, type ActorHost, type Wait } from './actor.js';
import { lowerLimits, Tree, type ActorLimits } from './limits.js';
import type { ActorSchema } from './codec.js';
import { Kind, Status, type Envelope } from './envelope.js';
import { HiveStateError, NameTakenError } from './errors.js';
import type { ModuleDef, WasiGrant } from './types.js';
import type { Binding } from '../bindings/binding.js';
import { isProcess, type Endpoint } from './process.js';
import { Rng } from './rng.js';
import type { ActorRef } from './ref.js';

/**
 * @internal What snapshotting and restoring an actor ask of the actor system
 * (system.ts implements it; this file does not import it).
 */
export interface SnapshotHost extends ActorHost {
  allocId(): number;
  readonly idsBelow: number;
  reserveIdsBelow(n: number): void;
  claimId(id: number): void;
  newTree(root: number): Tree;
  endpoint(id: number): Endpoint | undefined;
  resumeSend(a: Actor, to: number, bytes: Uint8Array, left: number): void;
  resumeCall(a: Actor, replyId: number, target: number, request: Uint8Array | null, left: number): void;
  addEndpoint(e: Endpoint): void;
  limitsFor(def: ModuleDef, own: Partial<ActorLimits> | undefined): ActorLimits;
  treeOf(t: ActorRef | number): Tree;
  instantiate(actor: Actor, make: (imports: Imports, opts: { maxMemoryPages: number; maxTableElements: number; maxCallDepth: number; maxStackBytes: number; data: unknown; memoryPool: MemoryPool }) => Instance, extra?: Imports): void;
  checkRoom(tree: Tree | null, pages: number, elements?: number): void;
  admit(a: Actor): void;
  maySignal(a: Actor, to: number): boolean;
  /** Links `a` with an actor of another thread (a pooled hive), both ways; false when it is not there (a worker learns later: see ActorSystem.linkRemote). */
  linkRemote(a: Actor, to: number, missing: 'drop' | 'signal'): boolean;
  /** The tree a message of an actor that moved counts against where it lands (its key from the thread it left); null: none. */
  payerMoved(key: number): Tree | null;
  /** Starts monitor `ref` of `a` on an actor of another thread (its side answers DOWN noproc if gone); false when it is not one. */
  monitorRemote(a: Actor, ref: number, target: number): boolean;
  reopenReply(owner: Actor, id: number, target: number): boolean;
  registerName(actor: Actor, name: string): number;
  lookupName(name: string): number | undefined;
  dropTree(t: Tree): void;
}

type EnvelopeTuple = [kind: number, from: number, bytes: Uint8Array, ref: number];

/** Options of `Hive.restore`. */
export interface RestoreActorOptions {
  /** The module to restore into (default: the module defined in this hive with the snapshot's name or hash). */
  module?: Module | Uint8Array | string;
  /** Keep the snapshot's id (default; fails when the id is in use) or take a new one. */
  id?: 'same' | 'new';
  /** The name to register (default: the snapshot's; null: none). Fails when the name is taken. */
  name?: string | null;
  /**
   * Links to actors not in this hive: dropped (default), or turned into
   * exit signals `noproc` as Erlang does for links to dead processes.
   */
  missingLinks?: 'drop' | 'signal';
  /**
   * Puts the restored actor in the spawn tree of this live actor (default: a
   * tree of its own). Under the hive's `signals: 'tree'` its saved links are
   * restored only with actors of its tree; others count as missing.
   */
  tree?: ActorRef | number;
  /**
   * The actor's other bindings, new objects of the kinds it had (e.g. a new
   * `Wasi` with this host's streams and directories): each continues from the
   * state saved under its name. Missing ones, or ones the snapshot has no
   * state for, are refused with a SnapshotError.
   */
  bindings?: Binding[];
  /**
   * The services the host grants the restored actor. A snapshot is
   * untrusted and grants nothing by itself: of the services it lists, those
   * named here keep their addresses, the others answer NOT_FOUND (default:
   * none). Names not in the snapshot are not added (addresses are the
   * actor's own).
   */
  services?: readonly string[];
  /** WASI for an actor that had it: a new `Wasi` with these streams and `dirs` continues from its saved state (shorthand for `bindings: [new Wasi(...)]`). */
  wasi?: WasiGrant;
  limits?: Partial<ActorLimits>;
  schema?: ActorSchema;
  imports?: Imports;
  /**
   * @internal The actor moves between the worker threads of one hive: its
   * links, monitors and watchers are kept as they are (the other sides hold
   * its id, which it keeps), and the calls it owes answers to are `callers`.
   */
  moved?: { readonly callers: readonly number[]; readonly payers?: readonly number[] };
  /** @internal The id it takes (a worker restoring what the main thread placed there, which chose it). */
  at?: number;
  /** @internal No base for incremental snapshots (no page hashes): a durable actor's checkpoints are whole. */
  untracked?: boolean;
  /**
   * @internal Ms of the clock since the snapshot was taken, off the time a
   * receive or sleep had left (a durable actor woken from passivation: its
   * timer was due at the time it was due, not as long after it came back).
   */
  elapsedMs?: number;
  /** @internal Whether the actor it was snapshotted from lives (known on the main thread; a worker cannot see other threads' actors). */
  originalLives?: boolean;
}

function tuple(e: Envelope): EnvelopeTuple {
  return [e.kind, e.from, e.bytes, e.ref];
}

function valueTuple(v: Value): [string, unknown] {
  switch (v.type) {
    case 'i32':
    case 'i64':
      return [v.type, v.value];
    case 'f32':
    case 'f64':
      return [v.type, v.bits];
    default:
      throw new HiveStateError('cannot snapshot an actor waiting to be resumed with a reference value');
  }
}

/**
 * @internal Snapshots an actor that is not running (`moving`: to restore on
 * another thread and drop here, so the engine keeps no base for incremental
 * snapshots: no page hashes).
 */
export function snapshotActor(hive: SnapshotHost, a: Actor, moving = false): Uint8Array {
  const body = actorBody(hive, a);
  body['vm'] = snapshotVm(a.instance!, moving ? { track: false } : {});
  const out = packActor(body);
  a.snapshotTaken(out);
  return out;
}

/**
 * @internal `snapshotActor` (moving) whose memory, stack and tables are
 * compressed on libuv's thread pool: the state is taken now, the bytes come
 * when compressed (a durable actor's checkpoint: it does not hold up the
 * thread).
 */
export async function snapshotActorAsync(hive: SnapshotHost, a: Actor): Promise<Uint8Array> {
  const body = actorBody(hive, a);
  body['vm'] = await snapshotVmAsync(a.instance!);
  // Each copy of a large memory in a turn of its own (see DurableActors: a checkpoint does not hold the thread long).
  await nextTurn();
  return packActorAsync(body, nextTurn);
}

/**
 * @internal The next turn of the event loop, after its timers and I/O: a
 * large snapshot or record is made in several turns (durable checkpoints).
 * (One setImmediate set from an I/O callback runs in the same turn, before
 * any I/O; one set from there runs in the next.)
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** An actor's snapshot, but for its VM's (`vm`): everything copied or immutable. */
function actorBody(hive: SnapshotHost, a: Actor): Record<string, unknown> {
  if (a.state === 'exited') throw new HiveStateError(`actor ${a.id} has exited`);
  if (a.state === 'running') throw new HiveStateError(`actor ${a.id} is running: snapshot it between slices, not from its own host calls`);
  const now = hive.clock.now();
  const left = (deadline: number): number | null => (deadline === Infinity ? null : Math.max(0, deadline - now));
  const w = a.wait;
  let wait: Record<string, unknown> | null = null;
  if (w !== null) {
    switch (w.kind) {
      case 'receive':
      case 'sleep':
        wait = { kind: w.kind, left: left(w.deadline) };
        break;
      case 'call':
        // The request, until the callee took it (restoring sends it again).
        wait = { kind: 'call', left: left(w.deadline), reply: w.replyId, target: w.target, request: w.request };
        break;
      case 'send':
        wait = { kind: 'send', left: left(w.deadline), to: w.to, bytes: w.bytes };
        break;
      case 'link':
        wait = { kind: 'link', to: w.to };
        break;
      case 'exit':
        wait = { kind: 'exit', to: w.to, reason: w.reason };
        break;
      case 'hive':
        // Answered when what is in flight is delivered, which a hive's snapshot does first.
        throw new HiveStateError(`actor ${a.id} waits for the hive's answer to its ${w.request}: snapshot it once answered`);
      case 'host':
        wait = { kind: 'host' };
        break;
    }
  }
  // Its other bindings' states first: a binding's save() is the host's code, and may end the actor.
  const bindings = a.bindings.length > 0 ? Object.fromEntries(a.bindings.map((x) => [x.name, x.save()])) : null;
  if (!a.alive) throw new HiveStateError(`actor ${a.id} exited while its snapshot was taken (one of its bindings ended it when saving)`);
  const body = {
    format: ACTOR_SNAPSHOT_FORMAT,
    id: a.id,
    name: a.name,
    module: { name: a.def.name, hash: a.def.hash },
    limits: { ...a.limits },
    started: a.started,
    // The start function: still to run, or paused in it (absent: it has returned, or there is none).
    ...(a.startFn !== null ? { start: a.starting ? 'running' : 'pending' } : {}),
    resume: a.resumeWith === null ? null : a.resumeWith.map(valueTuple),
    resumeError: a.resumeError === null ? null : String(a.resumeError instanceof Error ? a.resumeError.message : a.resumeError),
    wait,
    current: a.current === null ? null : tuple(a.current),
    replyTo: a.replyTo,
    mailbox: a.mailbox.toArray().map(tuple),
    signals: a.signals.toArray().map(tuple),
    trapExit: a.trapExit,
    links: [...a.links],
    monitors: [...a.monitors].map(([ref, target]) => [ref, target]),
    monitoredBy: [...a.monitoredBy].map(([watcher, refs]) => [watcher, [...refs]]),
    nextMonitorRef: a.nextMonitorRef,
    rng: [...a.rng.s],
    // The states of its other bindings (a Wasi...), by name; absent when it has none.
    ...(bindings !== null ? { bindings } : {}),
    // The services it was granted (by name: it addresses them by index) and its calls to them so far; absent when none.
    ...(a.services.length > 0 ? { services: [...a.services] } : {}),
    ...(a.serviceCalls > 0 ? { serviceCalls: a.serviceCalls } : {}),
    // Ids below this were given out by its hive: the hive restoring it gives out none of them (the actor may hold any in its memory).
    idsBelow: hive.idsBelow,
  };
  return body;
}

// ---------------------------------------------------------------------------
// Reading (untrusted): the checks of each field are snapshot-format.ts's.

function envelope(v: unknown, what: string, maxBytes: number): Envelope {
  const t = arr(v, what, 4);
  if (t.length !== 4) fail(`${what} must have 4 fields`);
  const kind = int(t[0], `${what} kind`, 0, 3) as Envelope['kind'];
  return { kind, from: int(t[1], `${what} sender`, 0, ID_MAX), bytes: bytes(t[2], `${what} payload`, maxBytes), ref: int(t[3], `${what} ref`, 0, ID_MAX) };
}

function value(v: unknown, what: string): Value {
  const t = arr(v, what, 2);
  const type = str(t[0], `${what} type`);
  const x = t[1];
  switch (type) {
    case 'i32':
      return { type, value: int(x, what, -0x80000000, 0x7fffffff) };
    case 'f32':
      return { type, bits: int(x, what, 0, 0xffffffff) };
    case 'i64':
    case 'f64': {
      const b = typeof x === 'bigint' ? x : typeof x === 'number' && Number.isSafeInteger(x) ? BigInt(x) : fail(`${what} must be a 64-bit integer`);
      return type === 'i64' ? { type, value: BigInt.asIntN(64, b) } : { type, bits: BigInt.asUintN(64, b) };
    }
    default:
      fail(`${what} has an unknown type`);
  }
}

/** @internal Restores an actor from bytes into the hive. */
export function restoreActor(hive: SnapshotHost, data: Uint8Array, def: ModuleDef, options: RestoreActorOptions): Actor {
  const r = restoreActorParts(hive, data, def, options);
  r.attach();
  r.resume();
  return r.actor;
}

/**
 * @internal Restores an actor in three steps: the actor and its name now;
 * its links and monitors with the actors present at `attach`; what it waits
 * for at `resume`. A group restored together makes all its actors first, so
 * that their links and monitors to each other are found.
 */
export function restoreActorParts(hive: SnapshotHost, data: Uint8Array, def: ModuleDef, options: RestoreActorOptions): { actor: Actor; attach(): void; resume(): void } {
  const b = readActorSnapshot(data);
  const maxBytes = hive.maxMessageBytes;
  const m = obj(b['module'], 'module');
  const hash = str(m['hash'], 'module hash');
  if (hash !== def.hash) throw new SnapshotError(`the snapshot is of another module (module SHA-256 ${hash}, this module ${def.hash})`);

  const oldId = int(b['id'], 'id', 1, SERVICE_BASE - 1);
  // Written since format 1 was extended; absent from older snapshots.
  const idsBelow = b['idsBelow'] === undefined ? oldId + 1 : int(b['idsBelow'], 'idsBelow', 1, ID_MAX + 1);
  let id = oldId;
  if (options.at !== undefined) {
    id = options.at;
    if (hive.endpoint(id) !== undefined) throw new HiveStateError(`id ${id} is in use in this hive: restore with { id: 'new' }, or stop the actor that has it`);
  } else if (options.id === 'new') id = hive.allocId();
  else if (hive.endpoint(oldId) !== undefined) throw new HiveStateError(`id ${oldId} is in use in this hive: restore with { id: 'new' }, or stop the actor that has it`);

  const name = options.name !== undefined ? options.name : b['name'] === null ? null : str(b['name'], 'name');
  if (name !== null) {
    const holder = hive.lookupName(name);
    if (holder !== undefined) throw new NameTakenError(name, holder);
    if (name.length === 0 || Buffer.byteLength(name) > 255) fail('name must be 1 to 255 bytes');
  }

  // The hive's limits (with the definition's and the restore's), lowered by
  // the snapshot's where those are lower: never raised by the bytes.
  const lim = obj(b['limits'], 'limits');
  const saved: Partial<ActorLimits> = {};
  for (const [k, v] of Object.entries(lim)) saved[k as keyof ActorLimits] = int(v, `limits.${k}`, 1, Number.MAX_SAFE_INTEGER);
  const limits = lowerLimits(hive.limitsFor(def, options.limits), saved);
  const rngWords = arr(b['rng'], 'rng', 4).map((x, i) => int(x, `rng[${i}]`, 0, 0xffffffff));
  if (rngWords.length !== 4) fail('rng must have 4 words');

  const started = bool(b['started'], 'started');
  const start = b['start'] === undefined ? null : str(b['start'], 'start');
  if (start !== null && start !== 'pending' && start !== 'running') fail(`start must be 'pending' or 'running'`);
  if (start !== null && started) fail('an actor whose main has started has no start function left to run');
  const resume = b['resume'] === null ? null : arr(b['resume'], 'resume', 1000).map((v, i) => value(v, `resume[${i}]`));
  const resumeError = b['resumeError'] === null ? null : str(b['resumeError'], 'resumeError');
  const current = b['current'] === null ? null : envelope(b['current'], 'current', maxBytes);
  // Absent from snapshots written before it was saved: the current message's sender, as `reply` used.
  const replyTo = b['replyTo'] === undefined ? current?.from ?? 0 : int(b['replyTo'], 'replyTo', 0, ID_MAX);
  const mailbox = arr(b['mailbox'], 'mailbox', limits.mailbox).map((v, i) => envelope(v, `mailbox[${i}]`, maxBytes));
  // Moved within its hive: its waiting messages count against their senders' trees again, here (see emigrate).
  const payers = options.moved?.payers;
  if (payers !== undefined) {
    for (let i = 0; i < mailbox.length && i < payers.length; i++) if (payers[i]! !== 0) mailbox[i]!.payer = hive.payerMoved(payers[i]!);
  }
  const mailboxBytes = mailbox.reduce((n, e) => n + e.bytes.length, 0);
  if (mailbox.length > 1 && mailboxBytes > limits.mailboxBytes) fail(`mailbox holds more than ${limits.mailboxBytes} bytes`);
  // Signals of links and monitors besides those of `exit` and noproc monitors (Actor.pushSignal).
  const maxSignals = limits.maxSignals + limits.maxLinks + limits.maxMonitors;
  const signals = arr(b['signals'], 'signals', maxSignals).map((v, i) => envelope(v, `signals[${i}]`, maxBytes));
  if (mailbox.some((e) => e.kind !== Kind.MESSAGE)) fail('mailbox holds only ordinary messages');
  if (signals.some((e) => e.kind !== Kind.EXIT && e.kind !== Kind.DOWN)) fail('the signal queue holds only exit and down messages');
  const trapExit = bool(b['trapExit'], 'trapExit');
  const links = arr(b['links'], 'links', limits.maxLinks).map((v, i) => int(v, `links[${i}]`, 1, ID_MAX));
  const monitors = arr(b['monitors'], 'monitors', limits.maxMonitors).map((v, i) => {
    const t = arr(v, `monitors[${i}]`, 2);
    return [int(t[0], 'monitor ref', 1, ID_MAX), int(t[1], 'monitor target', 0, ID_MAX)] as const;
  });
  const monitoredBy = arr(b['monitoredBy'], 'monitoredBy', 1 << 24).map((v, i) => {
    const t = arr(v, `monitoredBy[${i}]`, 2);
    return [int(t[0], 'watcher', 1, ID_MAX), arr(t[1], 'watcher refs', 1 << 24).map((r) => int(r, 'watcher ref', 1, ID_MAX))] as const;
  });
  const nextMonitorRef = int(b['nextMonitorRef'], 'nextMonitorRef', 1, ID_MAX);
  const wait = b['wait'] === null ? null : obj(b['wait'], 'wait');
  const listed = b['services'] === undefined ? [] : arr(b['services'], 'services', MAX_SERVICES).map((v, i) => (v === null ? null : str(v, `services[${i}]`)));
  if (listed.some((n) => n !== null && (n.length === 0 || Buffer.byteLength(n) > 255))) fail('a service name is 1 to 255 bytes');
  const named = listed.filter((n) => n !== null);
  if (new Set(named).size !== named.length) fail('services lists each service once');
  // A snapshot cannot grant itself services: it keeps (at their addresses) those the host grants again, unless it moves within its hive.
  const services = options.moved !== undefined ? listed : grantsOnRestore(listed, options.services);
  const serviceCalls = b['serviceCalls'] === undefined ? 0 : int(b['serviceCalls'], 'serviceCalls', 0, Number.MAX_SAFE_INTEGER);
  const vm = bytes(b['vm'], 'vm', Number.MAX_SAFE_INTEGER);
  if (!started && start !== 'running' && (wait !== null || resume !== null || resumeError !== null)) fail('an actor that has not started cannot wait');
  if (wait !== null && (resume !== null || resumeError !== null)) fail('an actor cannot both wait and be woken');

  // The VM (checked by the engine), with this actor's imports.
  // A restored actor is a tree of its own (the host restored it), unless the host puts it in one.
  const tree = options.tree === undefined ? null : hive.treeOf(options.tree);
  // Its other bindings continue from their saved states (before its VM is made: their imports are built for it).
  const states = b['bindings'] === undefined ? {} : obj(b['bindings'], 'bindings');
  const given = options.bindings ?? [];
  for (const name of Object.keys(states)) {
    if (!given.some((x) => x.name === name)) throw new SnapshotError(`the actor had the binding "${name}": pass one in { bindings } to restore it`);
  }
  for (const x of given) {
    if (!Object.hasOwn(states, x.name)) throw new SnapshotError(`the snapshot holds no state for the binding "${x.name}"`);
    x.restore(states[x.name]);
  }
  const a = new Actor(hive, id, def, limits, options.schema ?? def.options.schema, new Rng(new Uint32Array(rngWords)), tree ?? hive.newTree(id), given);
  a.grantServices(services, serviceCalls);
  try {
    // (A moved actor's snapshot is no one's: not a base for its incremental snapshots, no page hashes.)
    hive.instantiate(a, (imports, o) => restoreVm(def.module, vm, imports, options.moved !== undefined || options.untracked === true ? { ...o, track: false } : o), options.imports);
  } catch (e) {
    if (tree === null) hive.dropTree(a.tree); // made for it (regression: refused restores left their trees)
    throw e;
  }
  const inst = a.instance!;
  // A snapshot refused from here on gives the memories' regions back to the pool, and its tree if made for it.
  let plan: WaitPlan;
  try {
    if (start !== null && inst.startFunction === null) fail('the module has no start function to run');
    if (!started && start !== 'running' && inst.status !== 'idle') fail('an actor that has not started has a paused call');
    if (start === 'running' && inst.status === 'idle') fail('an actor in its start function has no paused call');
    let pages = 0;
    for (const mem of inst.inst.memories.slice(def.module.ast.numImportedMemories)) pages += mem.pages;
    let elements = 0;
    for (const t of inst.inst.tables.slice(def.module.ast.numImportedTables)) elements += t.length;
    hive.checkRoom(tree, pages, elements);
    if (started && inst.status === 'idle') fail('a started actor has no paused call');
    if (wait !== null && inst.status !== 'waiting') fail('a waiting actor is not paused in a host call');
    if (resume !== null && inst.status !== 'waiting') fail('an actor to be resumed with results is not paused in a host call');
    // What it waits for, checked in full before the actor is registered: from
    // here on nothing may fail (a failure would leave a half-restored actor).
    plan = waitPlan(wait, inst, maxBytes);
    if (options.elapsedMs !== undefined && options.elapsedMs > 0 && (plan.kind === 'receive' || plan.kind === 'sleep') && plan.left !== Infinity) {
      plan = { kind: plan.kind, left: Math.max(0, plan.left - options.elapsedMs) };
    }
  } catch (e) {
    inst.dispose(); // its memories' regions go back to the pool
    if (tree === null) hive.dropTree(a.tree);
    throw e;
  }

  a.restoreState({ started, startPending: start !== null, starting: start === 'running', resumeWith: resume, resumeError, current, replyTo, mailbox, signals, trapExit, nextMonitorRef });

  hive.reserveIdsBelow(idsBelow);
  hive.claimId(id);
  hive.addEndpoint(a);
  hive.admit(a);
  if (name !== null) hive.registerName(a, name);

  const attach = (): void => {
  if (options.moved !== undefined) {
    // Moved within its hive: every other side still holds its id, wherever it runs.
    for (const l of links) a.links.add(l);
    for (const [ref, target] of monitors) a.monitors.set(ref, target);
    for (const [watcher, refs] of monitoredBy) a.monitoredBy.set(watcher, new Set(refs));
    for (const c of options.moved.callers) a.callers.add(c);
    return;
  }
  // Links and monitors with whoever is in this hive. The snapshot's links are
  // untrusted (a link is a way to send an exit signal): only those a guest of
  // its tree could make are restored, under the hive's `signals` policy.
  for (const l of links) {
    const peer = hive.endpoint(l === oldId ? id : l);
    if (isProcess(peer) && peer.alive && hive.maySignal(a, peer.id)) {
      a.links.add(peer.id);
      peer.links.add(id);
    } else if (!isProcess(peer) && hive.maySignal(a, l) && hive.linkRemote(a, l, options.missingLinks ?? 'drop')) {
      // linked with an actor on a worker thread
    } else if (options.missingLinks === 'signal') {
      a.exitSignal(l, 'noproc', false);
    }
  }
  for (const [ref, target] of monitors) {
    const t = hive.endpoint(target);
    if (isProcess(t) && t.alive) {
      a.monitors.set(ref, target);
      let refs = t.monitoredBy.get(id);
      if (refs === undefined) t.monitoredBy.set(id, (refs = new Set()));
      refs.add(ref);
    } else if (!hive.monitorRemote(a, ref, target)) {
      a.down(ref, target, 'noproc');
    }
  }
  // Monitors on it move to the restored actor only when the one it was is
  // gone: a copy made beside a living original leaves them on the original
  // (a monitor is one reference to one process, and fires once).
  const original = id === oldId ? undefined : hive.endpoint(oldId);
  if (!(options.originalLives ?? (isProcess(original) && original.alive))) {
    for (const [watcher, refs] of monitoredBy) {
      const w = hive.endpoint(watcher);
      if (!(w instanceof Actor) || !w.alive) continue;
      const kept = refs.filter((r) => w.monitors.get(r) === oldId);
      for (const r of kept) w.monitors.set(r, id);
      if (kept.length > 0) a.monitoredBy.set(watcher, new Set(kept));
    }
  }
  };
  const carryOn = (): void => {
    if (!a.alive) return; // a noproc signal ended it

    const now = hive.clock.now();
    switch (plan.kind) {
      case 'none':
        a.makeReady();
        break;
      case 'receive': {
        const env = a.take();
        if (env !== undefined) {
          a.received(env);
          a.wakeWithI32(env.bytes.length);
          break;
        }
        const w: Wait = { kind: 'receive', deadline: now + plan.left, timer: null };
        a.park(w, () => a.wakeWithI32(Status.TIMEOUT));
        break;
      }
      case 'sleep': {
        const w: Wait = { kind: 'sleep', deadline: plan.left === Infinity ? now : now + plan.left, timer: null };
        a.park(w, () => a.wakeWith([]));
        break;
      }
      case 'send':
        hive.resumeSend(a, plan.to, plan.bytes, plan.left);
        break;
      case 'call':
        hive.resumeCall(a, plan.reply, plan.target, plan.request, plan.left);
        break;
      case 'link':
      case 'exit': {
        // Asked again: the answer to the original request went to the actor this one was snapshotted from.
        const st = plan.kind === 'link' ? hive.guestLink(a, plan.to) : hive.guestExit(a, plan.to, plan.reason);
        if (typeof st === 'number') a.wakeWithI32(st);
        break;
      }
      case 'host': {
        // The promise was not saved: ask the host function again, with the same arguments.
        const pending = inst.pending!;
        let r: ReturnType<NonNullable<typeof pending.func.host>>;
        try {
          r = pending.func.host!(pending.args, inst.inst);
        } catch (e) {
          a.failWith(e);
          break;
        }
        if (Array.isArray(r)) a.wakeWith(r);
        else if (r instanceof Suspend) {
          // As in a slice: a user import may not pause the actor with its own Suspend.
          a.failWith(new Trap(`host function ${pending.module}.${pending.name} suspended the actor, which only the hive may do`));
        } else a.awaitHost(r);
        break;
      }
    }
  };
  return { actor: a, attach, resume: carryOn };
}

/** What a restored actor waits for, with times left (Infinity: no deadline). */
type WaitPlan =
  | { kind: 'none' }
  | { kind: 'receive' | 'sleep'; left: number }
  | { kind: 'send'; to: number; bytes: Uint8Array; left: number }
  | { kind: 'call'; reply: number; target: number; request: Uint8Array | null; left: number }
  | { kind: 'link'; to: number }
  | { kind: 'exit'; to: number; reason: string }
  | { kind: 'host' };

/** Checks a snapshot's `wait` against the paused VM; throws SnapshotError. */
function waitPlan(wait: Record<string, unknown> | null, inst: Instance, maxBytes: number): WaitPlan {
  if (wait === null) return { kind: 'none' };
  const kind = str(wait['kind'], 'wait kind');
  const left = kind === 'host' || wait['left'] === null ? Infinity : int(wait['left'], 'time left', 0, Number.MAX_SAFE_INTEGER);
  const pending = inst.pending!;
  const expect = (...names: string[]): void => {
    if (pending.module !== 'hive' || !names.includes(pending.name)) fail(`the actor waits in a ${kind} but its VM is paused in ${pending.module}.${pending.name}`);
  };
  switch (kind) {
    case 'receive':
    case 'sleep':
      expect(kind);
      return { kind, left };
    case 'send':
      expect('send', 'reply');
      return { kind, to: int(wait['to'], 'send target', 0, ID_MAX), bytes: bytes(wait['bytes'], 'send payload', maxBytes), left };
    case 'call': {
      expect('call');
      const reply = int(wait['reply'], 'reply address', 1, ID_MAX);
      const target = int(wait['target'], 'call target', 0, ID_MAX);
      const request = wait['request'] === null ? null : bytes(wait['request'], 'call request', maxBytes);
      return { kind, reply, target, request, left };
    }
    case 'link':
      expect('link');
      return { kind, to: int(wait['to'], 'link target', 0, ID_MAX) };
    case 'exit': {
      expect('exit');
      const reason = str(wait['reason'], 'exit reason');
      if (Buffer.byteLength(reason) > 1024) fail('exit reason is longer than 1024 bytes');
      return { kind, to: int(wait['to'], 'exit target', 0, ID_MAX), reason };
    }
    case 'host':
      // Only the host's own functions are asked again: a paused `hive` import is the runtime's, and saved as its own kind.
      if (pending.module === 'hive') fail(`the actor waits on a host function but its VM is paused in hive.${pending.name}`);
      if (pending.func.host === null) fail('the pending host call is not a host function');
      return { kind };
    default:
      fail(`unknown wait kind '${kind}'`);
  }
}
