/**
 * The relay protocol: every signal that passes between the parties of a
 * hive (actors, host mailboxes, reply addresses, supervisors, the host) is
 * one of these envelopes, handed to the router (router.ts) and delivered
 * later, never by a synchronous call into the receiver. They are plain data
 * (numbers, strings, bytes), so a transport may serialize them
 * (`encodeSignal`/`decodeSignal`): a worker boundary carries exactly these.
 *
 * Each envelope names its sender's address (`from`) and its receiver's
 * (`to`); transports keep the order of envelopes between one sender and one
 * receiver (FIFO per pair, as Erlang guarantees), and nothing else.
 *
 * Requests whose outcome only the receiver's side can decide (room in a
 * mailbox, a schema, whether it is still alive) carry a sequence number
 * `seq` (> 0), and the receiver's side answers with an `ack` carrying it.
 */
import type { MessagePort } from 'node:worker_threads';
import { decode, encode } from './codec.js';
import type { ActorLimits, HiveLimits } from './limits.js';
import type { MemoryPoolStats } from '../vm/index.js';

/**
 * An ordinary message (or a call's request, whose `from` is the call's reply
 * address), for a mailbox. `sender` is the actor that sent it (0: the host),
 * which a reply address checks; `payer` the spawn tree whose bytes it counts
 * against while it waits (0: none): its number on the sender's thread, or,
 * sent to another thread, `(thread + 1) * 2^32 + number` (see treeKey;
 * the receiving thread gives the bytes back with a RefundControl). `until`: the time of the
 * hive's clock until which the sender waits for room when the mailbox is
 * full (0: answer FULL at once; -1: for ever). With `seq` > 0 the receiver's side answers with an `ack`; a
 * message refused without one (the host's sends) is a dead letter.
 */
export interface MessageSignal {
  readonly t: 'message';
  readonly from: number;
  readonly to: number;
  readonly sender: number;
  readonly payer: number;
  readonly bytes: Uint8Array;
  readonly until: number;
  readonly seq: number;
  /** A call's request: `from` is its reply address, which fails (NOT_FOUND) if the receiver exits before answering. */
  readonly call: boolean;
}

/** The sender exited: its message `seq`, if it still waits for room at the receiver, is withdrawn (a restored copy of the sender sends it again). */
export interface WithdrawSignal {
  readonly t: 'withdraw';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
}

/** The answer to a request: a guest ABI status (or, for `lookup` and `spawn`, an id). */
export interface AckSignal {
  readonly t: 'ack';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly status: number;
}

/**
 * An exit signal (Erlang's exit/2): `linked` when the sender exited and was
 * linked to the receiver (the receiver drops its side of the link), else
 * sent with `exit`; `kill` from `exit` cannot be trapped.
 */
export interface ExitSignal {
  readonly t: 'exit';
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly linked: boolean;
  readonly seq: number;
}

/** Asks the receiver to link with the sender (answered with an `ack`). */
export interface LinkSignal {
  readonly t: 'link';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
}

/** The sender dropped its link with the receiver. */
export interface UnlinkSignal {
  readonly t: 'unlink';
  readonly from: number;
  readonly to: number;
}

/** The sender monitors the receiver under reference `ref` (a `down` comes back when it exits, at once when it is gone). */
export interface MonitorSignal {
  readonly t: 'monitor';
  readonly from: number;
  readonly to: number;
  readonly ref: number;
  /**
   * 0, or the sequence number of an `ack` the receiver's side sends once it
   * recorded the monitor (when it is gone, the `noproc` down is the answer):
   * a watcher on another partition keeps room for that down in its signal
   * queue until one of the two comes (system.ts `monitor`). It is `-ref`,
   * apart from the positive numbers of the watcher's requests.
   */
  readonly seq: number;
}

/** The sender dropped its monitor `ref` of the receiver. */
export interface DemonitorSignal {
  readonly t: 'demonitor';
  readonly from: number;
  readonly to: number;
  readonly ref: number;
}

/** The monitored process `from` exited (or never was: `noproc`): the watcher's monitor `ref` fired. */
export interface DownSignal {
  readonly t: 'down';
  readonly from: number;
  readonly to: number;
  readonly ref: number;
  readonly reason: string;
}

/**
 * The address of the hive itself, to which an actor sends what only the
 * hive decides: names (`register`, `unregister`, `lookup`) and `spawn`.
 * (As a message's `sender`, 0 is the host.)
 */
export const HIVE_ADDRESS = 0;

/** Asks the hive to register the sender under `name` (answered with an `ack`: OK, TAKEN, or NOT_FOUND when the sender is gone). */
export interface RegisterSignal {
  readonly t: 'register';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly name: string;
}

/** The sender dropped its name (it decided that at once: a name is its own; not answered). */
export interface UnregisterSignal {
  readonly t: 'unregister';
  readonly from: number;
  readonly to: number;
  readonly name: string;
}

/** Asks the hive for the address registered under `name` (answered with an `ack` whose status is the address, or NOT_FOUND). */
export interface LookupSignal {
  readonly t: 'lookup';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly name: string;
}

/**
 * Asks the hive to start an actor of `module`, a child of the sender (in
 * its spawn tree; `link`: linked to it), with the init message `init` (null:
 * none). Answered with `spawned`.
 */
export interface SpawnSignal {
  readonly t: 'spawn';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly module: string;
  readonly init: Uint8Array | null;
  readonly link: boolean;
  /** The child is granted the spawner's services (the SERVICES flag). */
  readonly services: boolean;
}

/**
 * The answer to a `spawn`: the child's address (> 0) or a negative status
 * (LIMIT, SPAWN_FAILED, NO_MODULE, INVALID, TOO_LARGE, NOT_FOUND when the
 * spawner is gone), and what the child holds, which the spawner pays for.
 */
export interface SpawnedSignal {
  readonly t: 'spawned';
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly status: number;
  /** Bytes of the child's memories (0 unless it was made). */
  readonly memoryBytes: number;
  /** Elements of the child's tables (0 unless it was made). */
  readonly tableElements: number;
}

/** Every envelope of the protocol. */
export type Signal =
  | MessageSignal
  | AckSignal
  | WithdrawSignal
  | ExitSignal
  | LinkSignal
  | UnlinkSignal
  | MonitorSignal
  | DemonitorSignal
  | DownSignal
  | RegisterSignal
  | UnregisterSignal
  | LookupSignal
  | SpawnSignal
  | SpawnedSignal;

/** The names of the envelope types. */
export const SIGNAL_TYPES = ['message', 'ack', 'withdraw', 'exit', 'link', 'unlink', 'monitor', 'demonitor', 'down', 'register', 'unregister', 'lookup', 'spawn', 'spawned'] as const satisfies readonly Signal['t'][];

/** An envelope as bytes (MessagePack of its fields). */
export function encodeSignal(s: Signal): Uint8Array {
  return encode(s);
}

/** Bytes back to an envelope; throws MessageDecodeError for malformed bytes and a RangeError for anything that is not an envelope. */
export function decodeSignal(bytes: Uint8Array): Signal {
  const v = decode(bytes) as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || !(SIGNAL_TYPES as readonly unknown[]).includes(v['t'])) throw new RangeError('not a relay envelope');
  for (const k of ['from', 'to']) if (!Number.isInteger(v[k])) throw new RangeError(`relay envelope without ${k}`);
  return v as unknown as Signal;
}

// ---------------------------------------------------------------------------
// The wire form of relay envelopes between threads: a fixed layout per type,
// read off one field table (no MessagePack of keys), so the main thread can
// route a record by the receiver in its header without decoding the rest.

/** How one field of an envelope is written: a number (float64), a flag, UTF-8 text, bytes, or bytes or null. */
type FieldKind = 'num' | 'bool' | 'str' | 'bytes' | 'bytes?';

/** The fields of each envelope type after `t` and `to` (which the record header holds), in wire order. */
export const SIGNAL_FIELDS: { readonly [T in Signal['t']]: readonly (readonly [Exclude<keyof Extract<Signal, { t: T }>, 't' | 'to'>, FieldKind])[] } = {
  message: [['from', 'num'], ['sender', 'num'], ['payer', 'num'], ['until', 'num'], ['seq', 'num'], ['call', 'bool'], ['bytes', 'bytes']],
  ack: [['from', 'num'], ['seq', 'num'], ['status', 'num']],
  withdraw: [['from', 'num'], ['seq', 'num']],
  exit: [['from', 'num'], ['reason', 'str'], ['linked', 'bool'], ['seq', 'num']],
  link: [['from', 'num'], ['seq', 'num']],
  unlink: [['from', 'num']],
  monitor: [['from', 'num'], ['ref', 'num'], ['seq', 'num']],
  demonitor: [['from', 'num'], ['ref', 'num']],
  down: [['from', 'num'], ['ref', 'num'], ['reason', 'str']],
  register: [['from', 'num'], ['seq', 'num'], ['name', 'str']],
  unregister: [['from', 'num'], ['name', 'str']],
  lookup: [['from', 'num'], ['seq', 'num'], ['name', 'str']],
  spawn: [['from', 'num'], ['seq', 'num'], ['module', 'str'], ['init', 'bytes?'], ['link', 'bool'], ['services', 'bool']],
  spawned: [['from', 'num'], ['seq', 'num'], ['status', 'num'], ['memoryBytes', 'num'], ['tableElements', 'num']],
};

/** Bytes of a wire record's header: kind (u8), envelope type (u8), 2 spare, receiver (u32, little-endian). */
export const WIRE_HEADER_BYTES = 8;
/** Kinds of wire records. */
export const enum WireKind {
  /** A relay envelope (`Signal`), in the layout of SIGNAL_FIELDS. */
  SIGNAL = 1,
  /** A pool control envelope (`PoolControl`), as MessagePack. */
  CONTROL = 2,
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** An envelope as a wire record (header and fields). */
export function writeSignal(s: Signal): Uint8Array {
  // The two that carry a workload (a message and its ack) are written without the table's generic walk; the bytes
  // are the same (protocol.test.ts checks both against writeSignalByTable).
  if (s.t === 'message') return writeMessage(s);
  if (s.t === 'ack') return writeAck(s);
  return writeSignalByTable(s);
}

// Offsets of a message's fields after the header, in the order of SIGNAL_FIELDS.message.
const M_FROM = WIRE_HEADER_BYTES;
const M_SENDER = M_FROM + 8;
const M_PAYER = M_SENDER + 8;
const M_UNTIL = M_PAYER + 8;
const M_SEQ = M_UNTIL + 8;
const M_CALL = M_SEQ + 8;
const M_LENGTH = M_CALL + 1;
const M_BYTES = M_LENGTH + 4;
const MESSAGE_TYPE = SIGNAL_TYPES.indexOf('message');
// An ack's fields after the header.
const A_FROM = WIRE_HEADER_BYTES;
const A_SEQ = A_FROM + 8;
const A_STATUS = A_SEQ + 8;
const ACK_BYTES = A_STATUS + 8;
const ACK_TYPE = SIGNAL_TYPES.indexOf('ack');

/** A signal record of `size` bytes with its header written (kind, type, receiver); the fields are the caller's. */
function signalRecord(size: number, type: number, to: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = WireKind.SIGNAL;
  out[1] = type;
  // (As wireReceiver reads it: a u32, little-endian; no DataView for four bytes.)
  const u = to >>> 0;
  out[4] = u & 0xff;
  out[5] = (u >>> 8) & 0xff;
  out[6] = (u >>> 16) & 0xff;
  out[7] = u >>> 24;
  return out;
}

function writeMessage(s: MessageSignal): Uint8Array {
  const n = s.bytes.length;
  const out = signalRecord(M_BYTES + n, MESSAGE_TYPE, s.to);
  const dv = new DataView(out.buffer);
  dv.setFloat64(M_FROM, s.from, true);
  dv.setFloat64(M_SENDER, s.sender, true);
  dv.setFloat64(M_PAYER, s.payer, true);
  dv.setFloat64(M_UNTIL, s.until, true);
  dv.setFloat64(M_SEQ, s.seq, true);
  out[M_CALL] = s.call ? 1 : 0;
  dv.setUint32(M_LENGTH, n, true);
  out.set(s.bytes, M_BYTES);
  return out;
}

function writeAck(s: AckSignal): Uint8Array {
  const out = signalRecord(ACK_BYTES, ACK_TYPE, s.to);
  const dv = new DataView(out.buffer);
  dv.setFloat64(A_FROM, s.from, true);
  dv.setFloat64(A_SEQ, s.seq, true);
  dv.setFloat64(A_STATUS, s.status, true);
  return out;
}

/** @internal Any envelope as a wire record, by walking SIGNAL_FIELDS (the layout's definition). */
export function writeSignalByTable(s: Signal): Uint8Array {
  const fields = SIGNAL_FIELDS[s.t];
  const texts: Uint8Array[] = [];
  let size = WIRE_HEADER_BYTES;
  for (const [name, kind] of fields) {
    const v = (s as unknown as Record<string, unknown>)[name];
    if (kind === 'num') size += 8;
    else if (kind === 'bool') size += 1;
    else if (kind === 'str') {
      const b = utf8.encode(v as string);
      texts.push(b);
      size += 4 + b.length;
    } else size += 4 + (v === null ? 0 : (v as Uint8Array).length);
  }
  const out = signalRecord(size, SIGNAL_TYPES.indexOf(s.t), s.to);
  const dv = new DataView(out.buffer);
  let at = WIRE_HEADER_BYTES;
  let t = 0;
  for (const [name, kind] of fields) {
    const v = (s as unknown as Record<string, unknown>)[name];
    if (kind === 'num') {
      dv.setFloat64(at, v as number, true);
      at += 8;
    } else if (kind === 'bool') {
      out[at++] = v ? 1 : 0;
    } else {
      const b = kind === 'str' ? texts[t++]! : (v as Uint8Array | null);
      // bytes? writes null as length 0xffffffff.
      dv.setUint32(at, b === null ? 0xffffffff : b.length, true);
      at += 4;
      if (b !== null) {
        out.set(b, at);
        at += b.length;
      }
    }
  }
  return out;
}

/** The receiver named in a wire record's header. */
export function wireReceiver(record: Uint8Array): number {
  return (record[4]! | (record[5]! << 8) | (record[6]! << 16) | (record[7]! << 24)) >>> 0;
}

/** A wire record back to its envelope (bytes fields are views into `record`); throws RangeError when it is not one. */
export function readSignal(record: Uint8Array): Signal {
  if (record[0] === WireKind.SIGNAL) {
    // As written by writeMessage and writeAck (the same layout as the table's), with the fields in the order the
    // senders' own objects have them.
    if (record[1] === MESSAGE_TYPE && record.length >= M_BYTES) {
      const dv = new DataView(record.buffer, record.byteOffset, record.byteLength);
      const n = dv.getUint32(M_LENGTH, true);
      if (M_BYTES + n > record.length) throw new RangeError('truncated relay envelope record');
      return {
        t: 'message',
        from: dv.getFloat64(M_FROM, true),
        to: wireReceiver(record),
        sender: dv.getFloat64(M_SENDER, true),
        payer: dv.getFloat64(M_PAYER, true),
        bytes: record.subarray(M_BYTES, M_BYTES + n),
        until: dv.getFloat64(M_UNTIL, true),
        seq: dv.getFloat64(M_SEQ, true),
        call: record[M_CALL] === 1,
      };
    }
    if (record[1] === ACK_TYPE && record.length >= ACK_BYTES) {
      const dv = new DataView(record.buffer, record.byteOffset, record.byteLength);
      return { t: 'ack', from: dv.getFloat64(A_FROM, true), to: wireReceiver(record), seq: dv.getFloat64(A_SEQ, true), status: dv.getFloat64(A_STATUS, true) };
    }
  }
  return readSignalByTable(record);
}

/** @internal A wire record back to its envelope by walking SIGNAL_FIELDS; throws RangeError when it is not one. */
export function readSignalByTable(record: Uint8Array): Signal {
  const type = SIGNAL_TYPES[record[1]!];
  if (record[0] !== WireKind.SIGNAL || type === undefined) throw new RangeError('not a relay envelope record');
  const dv = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const s: Record<string, unknown> = { t: type, to: wireReceiver(record) };
  let at = WIRE_HEADER_BYTES;
  for (const [name, kind] of SIGNAL_FIELDS[type]) {
    if (kind === 'num') {
      s[name] = dv.getFloat64(at, true);
      at += 8;
    } else if (kind === 'bool') {
      s[name] = record[at++] === 1;
    } else {
      const n = dv.getUint32(at, true);
      at += 4;
      if (n === 0xffffffff && kind === 'bytes?') {
        s[name] = null;
        continue;
      }
      if (at + n > record.length) throw new RangeError('truncated relay envelope record');
      const b = record.subarray(at, at + n);
      s[name] = kind === 'str' ? fromUtf8.decode(b) : b;
      at += n;
    }
  }
  return s as unknown as Signal;
}

// ---------------------------------------------------------------------------
// The pool's control envelopes: between the main thread and the worker
// threads of a hive with `workers` (pool.ts, pool-worker.ts). MessagePack.

/** Limits a definition or spawn sets, as plain data. */
export type LimitsData = Record<string, number>;

/** main → worker: the hive's services, [name, address, idempotent] (sent when they change, and to a worker as it starts): guests' grants name them. */
export interface ServicesControl {
  readonly t: 'services';
  readonly table: readonly (readonly [string, number, boolean])[];
}

/** Where a service declared to run in each worker is loaded from: an ES module (a URL) and its export (a ServiceDefinition or an object of handlers), with options that cross threads. */
export interface WorkerServiceModule {
  readonly url: string;
  readonly export: string;
  readonly options: { concurrency?: number; maxQueue?: number; maxQueueBytes?: number; timeout?: number; idempotent?: boolean; failures?: 'answer' | 'trap' };
}

/** main → worker: a service to run in the worker too, under its address (sent when it is registered, and to a worker as it starts). */
export interface ServiceModuleControl {
  readonly t: 'service-module';
  readonly name: string;
  readonly id: number;
  readonly module: WorkerServiceModule;
}

/** main → worker: a module the worker may start actors of (sent once per worker; named ones to every worker). */
/** A module's compile options as they cross to a worker (CompileOptions: features, tier). */
export interface CompileOptionsData {
  readonly features: Readonly<Record<string, boolean>>;
  readonly tier: 'interpreter' | 'auto' | 'compiled';
}

export interface DefineControl {
  readonly t: 'define';
  readonly hash: string;
  readonly name: string | null;
  readonly bytes: Uint8Array;
  /**
   * The options the module was compiled with on the main thread (its
   * features, its tier), for the worker to compile it the same way. One
   * worker keeps one compiled module per hash: the same bytes compiled with
   * other options go on with the first (features only decide what
   * validates, and every tier gives the same results).
   */
  readonly compile: CompileOptionsData;
  readonly limits: LimitsData | null;
  /**
   * The definition's host functions (module, field, key): run on the main
   * thread, called from the worker (see HostFunctions), so that a guest's
   * spawn of it on the worker gets them; absent when it has none, or imports
   * that are not plain functions (then only the main thread can run it).
   */
  readonly hostImports?: readonly (readonly [string, string, number])[];
}

/** main → worker: start an actor (answered with `answer`). */
export interface StartControl {
  readonly t: 'start';
  readonly req: number;
  readonly id: number;
  readonly hash: string;
  readonly name: string | null;
  readonly init: Uint8Array | null;
  /** An actor of the tree to start it in (0: a tree of its own). */
  readonly tree: number;
  /** A process of the main thread (a supervisor) it is linked to from the start (0: none). */
  readonly linkTo: number;
  readonly limits: LimitsData | null;
  /** Host functions it imports, which stay on the main thread: [module, field, import-set key]. */
  readonly hostImports: readonly (readonly [string, string, number])[];
  /** The services it is granted, by name. */
  readonly services: readonly string[];
}

/** main → worker: end an actor now with `reason`, trapping exits or not (the host's kill, a supervisor's shutdown). */
export interface TerminateControl {
  readonly t: 'terminate';
  readonly id: number;
  readonly reason: string;
}

/**
 * main → worker: ids the worker gives out from now on (a block of `count`
 * from `first`; count 0: none). `below`: first, the worker drops the ids
 * below it from its blocks (a restore reserved them). `none`: no block is
 * left to give (the end of the id space): none will come, and a spawn
 * that finds no id left is refused (LimitError 'ids').
 */
export interface IdsControl {
  readonly t: 'ids';
  readonly first: number;
  readonly count: number;
  readonly below?: number;
  readonly none?: boolean;
}

/**
 * main → worker: a request answered synchronously (the main thread waits for
 * the `answer`). `freeze`, `drain` and `thaw` hold a worker still for a group
 * snapshot across threads: frozen, it runs no slice and no timer and does not
 * return to its event loop, but takes what its rings bring and answers the
 * main thread; `drain` answers its rings' counts (FrozenCounts), `thaw` lets
 * it go on (see Pool.snapshotAcross).
 */
export interface RequestControl {
  readonly t: 'request';
  readonly req: number;
  readonly op: 'snapshot' | 'info' | 'terminate' | 'link' | 'idle' | 'load' | 'emigrate' | 'immigrate' | 'ping' | 'inspect' | 'snapshot-group' | 'freeze' | 'drain' | 'thaw' | 'restore' | 'restore-group' | 'fenced';
  readonly id: number;
  readonly bytes: Uint8Array | null;
  /** For `inspect`, the query (an InspectQuery). */
  readonly options: Record<string, unknown> | null;
}

/**
 * A frozen worker's counts (answer to `freeze` and `drain`): per ring to and
 * from another worker, [slot, records sent, records received, records waiting
 * in its overflow queue].
 */
export interface FrozenCounts {
  readonly peers: readonly (readonly [number, number, number, number])[];
}

/**
 * @internal A question about one actor, answered by the thread that holds it
 * (an `inspect` request on a pooled hive, inspect.ts inline): tests read a
 * pooled hive's actors through it as they read an inline hive's through its
 * system. A fixed set of named queries answered with plain data, so that
 * nothing the asker sends is run. `memory`: `length` bytes of its exported
 * memory from `offset`; `counters`: its counters and its tree's
 * (ActorCounters); `shapes`: the own property names of its instance's
 * memories and tables; `limits`: the limits it runs under. The thread's own questions (ThreadQuery) need no
 * actor (a worker answers them for id 0).
 */
export type InspectQuery =
  | { readonly q: 'memory'; readonly offset: number; readonly length: number }
  | { readonly q: 'counters' }
  | { readonly q: 'shapes' }
  | { readonly q: 'limits' }
  | ThreadQuery;

/**
 * @internal A question about the thread asked rather than one actor:
 * `timers`, the timers pending on its clock; `endpoints`, the addresses its
 * system holds (actors, inboxes, reply addresses, records of other threads'
 * actors); `memoryPool`, the counts of the memory pool its actors' memories
 * are cut from (each thread has its own); `tree`, the counters of its spawn
 * tree made for actor `root` (null: none, or one that counts nothing any
 * more and was dropped); `moves`, a worker's entries for actors away from
 * their home worker and fences for their moves (a worker's only).
 */
export type ThreadQuery = { readonly q: 'timers' } | { readonly q: 'endpoints' } | { readonly q: 'memoryPool' } | { readonly q: 'tree'; readonly root: number } | { readonly q: 'moves' };

/** @internal The counters of a spawn tree (limits.ts `Tree`), as plain data. */
export interface TreeCounters {
  readonly root: number;
  readonly actors: number;
  readonly pages: number;
  readonly elements: number;
  readonly queuedBytes: number;
  readonly entries: number;
}

/** @internal What an actor holds and has spent, as plain data (the answer to `counters`). */
export interface ActorCounters {
  readonly alive: boolean;
  /** Fuel used since its instance was made (0 before it has one). */
  readonly fuelUsed: number;
  /** Fuel left of its slice (negative: a debt the next slices pay). */
  readonly fuelLeft: number;
  /** Bytes of value stack its instance holds. */
  readonly stackBytes: number;
  /** Bytes of its exported memory (0: none). */
  readonly memoryBytes: number;
  /** Elements of its instance's tables, all together. */
  readonly tableElements: number;
  /** Bytes of its current message (the last one received, its call's answer or its init), null when it holds none. */
  readonly currentBytes: number | null;
  /** Reply addresses of calls to it not yet answered. */
  readonly callers: number;
  readonly links: number;
  readonly monitors: number;
  /** Actors monitoring it (each once, however many monitors it holds). */
  readonly monitoredBy: number;
  /** Signals (EXIT, DOWN) waiting in its queue. */
  readonly signals: number;
  /** Senders waiting for room in its mailbox. */
  readonly blockedSenders: number;
  readonly tree: TreeCounters;
}

/** @internal The answer to each InspectQuery, by its `q`. */
export interface InspectAnswers {
  readonly memory: Uint8Array;
  readonly counters: ActorCounters;
  readonly shapes: { readonly memories: readonly (readonly string[])[]; readonly tables: readonly (readonly string[])[] };
  readonly timers: number;
  readonly endpoints: number;
  readonly memoryPool: MemoryPoolStats;
  readonly tree: TreeCounters | null;
  readonly moves: { readonly away: number; readonly fences: number };
  readonly limits: Readonly<Record<string, number>>;
}

/** main → worker: the hive's manual clock moved to `now` (a worker's manual clock follows it). */
export interface TimeControl {
  readonly t: 'time';
  readonly now: number;
}

/** main → worker: stop (the hive closes). */
export interface CloseControl {
  readonly t: 'close';
}

/** worker → main: the answer to `start` or `request`. */
export interface AnswerControl {
  readonly t: 'answer';
  readonly req: number;
  readonly ok: boolean;
  readonly value: unknown;
  /** The error's class name, message, and for a LimitError its limit and bound. */
  readonly error: { readonly name: string; readonly message: string; readonly limit?: string; readonly value?: number; readonly phase?: string } | null;
}

/** worker → main: an actor began on the worker (a guest's spawn, a restore). */
export interface BornControl {
  readonly t: 'born';
  readonly id: number;
  readonly name: string | null;
  readonly hash: string;
  /** The root of its spawn tree. */
  readonly tree: number;
  readonly mailbox: number;
  /** The services it was granted (absent: none; null: a grant withdrawn at a restore). */
  readonly services?: readonly (string | null)[];
}

/** worker → main: an actor of the worker exited. */
export interface DiedControl {
  readonly t: 'died';
  readonly id: number;
  readonly name: string | null;
  readonly reason: string;
  readonly fuelUsed: number;
  /** The trap's message and phase, when it trapped. */
  readonly trap: { readonly message: string; readonly phase: string } | null;
}

/** worker → main: a `limit` or `deadLetter` event of the worker's actors (payload as the event's, without refs). */
export interface EventControl {
  readonly t: 'event';
  readonly event: 'limit' | 'deadLetter';
  readonly payload: Record<string, unknown>;
}

/** worker → main: a log line of the worker's actors (pino's JSON), written to the hive's logger's destination. */
export interface LogControl {
  readonly t: 'log';
  readonly line: string;
}

/** worker → main: the worker's block of ids runs low. */
export interface WantIdsControl {
  readonly t: 'want-ids';
}

/**
 * main → every worker: actor `id` leaves its home worker `home` (it moves):
 * envelopes to it go through the main thread from now on. Each other
 * worker sends `home` a `fence` for it over their ring, after everything it
 * sent it there directly.
 */
export interface AwayControl {
  readonly t: 'away';
  readonly id: number;
  readonly home: number;
  /** Whether the home worker waits for the fences (a move); false: the address is taken up elsewhere after its actor exited (a restore). */
  readonly fence: boolean;
}

/**
 * main → every worker: actor `id` moved; what the main thread was told of
 * its ties (links, monitors, calls) is the main thread's to answer for from
 * now on: a worker forgets what it recorded of them (its rings' traffic).
 */
export interface MovedControl {
  readonly t: 'moved';
  readonly id: number;
}

/**
 * main → every worker: actor `id`, which was away from its home worker (see
 * AwayControl), exited: envelopes to it go by the block table again (its
 * home worker answers for the address now), and what was kept for its moves
 * (the away entry, fences) is dropped. Ids are never given out twice.
 */
export interface ForgetControl {
  readonly t: 'forget';
  readonly id: number;
}

/**
 * To the thread of spawn tree `key` (see treeKey; worker → worker over their
 * ring, else through the main thread): messages it sent another thread left
 * their mailboxes there (taken, refused, dropped) or came back in: `delta`
 * bytes to add to its queued bytes (negative: given back).
 */
export interface RefundControl {
  readonly t: 'refund';
  readonly key: number;
  readonly delta: number;
}

/**
 * The key of spawn tree `serial` of partition `thread` (0: the main thread)
 * in messages to other threads (MessageSignal.payer), with the sending
 * thread's count of worker deaths (`epoch`, modulo TREE_KEY_EPOCHS: bytes
 * sent before a death are forgiven at it, and their refunds are ignored).
 * Under 2^53: 32 bits of tree number, 11 of partition, 10 of epoch.
 */
export function treeKey(thread: number, serial: number, epoch: number): number {
  return ((epoch % TREE_KEY_EPOCHS) * TREE_KEY_THREADS + (thread % (TREE_KEY_THREADS - 1)) + 1) * TREE_KEY_THREAD + serial;
}

/** The partition (0: main), tree number and epoch of a key made by treeKey; null for a plain tree number (same thread). */
export function treeOfKey(key: number): { thread: number; serial: number; epoch: number } | null {
  if (key < TREE_KEY_THREAD) return null;
  const high = Math.floor(key / TREE_KEY_THREAD);
  return { thread: (high % TREE_KEY_THREADS) - 1, serial: key % TREE_KEY_THREAD, epoch: Math.floor(high / TREE_KEY_THREADS) };
}

const TREE_KEY_THREAD = 2 ** 32;
const TREE_KEY_THREADS = 2 ** 11;
/** Epochs a key tells apart (see treeKey). */
export const TREE_KEY_EPOCHS = 2 ** 10;

/** worker → worker: nothing more comes over this ring for actor `id` (see AwayControl). */
export interface FenceControl {
  readonly t: 'fence';
  readonly id: number;
}

/**
 * main → every live worker: worker `slot` died. Its actors (`dead`, and
 * any other address of its blocks that is not away) exit with `reason`:
 * what they owed this worker's actors over the rings between the two
 * workers is answered here.
 */
export interface LostControl {
  readonly t: 'lost';
  readonly slot: number;
  readonly dead: readonly number[];
  readonly reason: string;
}

/** Every pool control envelope. */
export type PoolControl = DefineControl | ServicesControl | ServiceModuleControl | StartControl | TerminateControl | IdsControl | RequestControl | TimeControl | CloseControl | AnswerControl | BornControl | DiedControl | EventControl | LogControl | WantIdsControl | AwayControl | MovedControl | FenceControl | LostControl | RefundControl | ForgetControl;

/** A control envelope as a wire record. */
export function writeControl(c: PoolControl): Uint8Array {
  const body = encode(c);
  const out = new Uint8Array(WIRE_HEADER_BYTES + body.length);
  out[0] = WireKind.CONTROL;
  out.set(body, WIRE_HEADER_BYTES);
  return out;
}

/** A wire record back to its control envelope. */
export function readControl(record: Uint8Array): PoolControl {
  const v = decode(record.subarray(WIRE_HEADER_BYTES)) as PoolControl;
  if (typeof v !== 'object' || v === null || typeof v.t !== 'string') throw new RangeError('not a pool control record');
  return v;
}

// ---------------------------------------------------------------------------
// Starting partitions: what the main thread hands worker threads (by postMessage).

/** What the main thread hands a thread's agent (piscina's task): its index and its port. */
export interface AgentTask {
  readonly index: number;
  readonly port: MessagePort;
}

/** What the main thread tells an agent over its port. */
export type AgentMessage = { readonly t: 'partition'; readonly task: PartitionTask } | { readonly t: 'stop' };

/** The rings between a worker and another one (envelopes between their actors go directly). */
export interface PeerRings {
  /** The other worker's slot. */
  readonly slot: number;
  /** this worker → it, and it → this worker. */
  readonly out: SharedArrayBuffer;
  readonly in: SharedArrayBuffer;
  /** Its doorbell (rung after writing to it). */
  readonly bell: SharedArrayBuffer;
}

/** The first id of the blocks the main thread hands workers (2^30); ids below are the main thread's. */
export const BLOCK_IDS = 0x40000000;
/** Ids in a block. */
export const ID_BLOCK = 1 << 16;
/** Bytes of the shared block table: one byte (the owner's slot, 0: the main thread) per block of ids from BLOCK_IDS to 2^31. */
export const BLOCK_TABLE_BYTES = 0x40000000 / ID_BLOCK;

/** The index in the block table of the block that holds `id` (an id from BLOCK_IDS up). */
export function blockIndex(id: number): number {
  return Math.floor((id - BLOCK_IDS) / ID_BLOCK);
}

/** The worker slot whose block holds `id`, from the shared block table (0: the main thread, or no worker). */
export function blockOwner(table: Uint8Array, id: number): number {
  if (id < BLOCK_IDS) return 0;
  const i = blockIndex(id);
  return i < table.length ? table[i]! : 0;
}

/** What the main thread hands a worker's partition task. */
export interface PartitionTask {
  /** Its slot (1..workers). */
  readonly slot: number;
  /**
   * Its number among the hive's partitions, never given to another (treeKey):
   * its slot for one that started with the hive, above the workers' count for
   * one that replaced a dead one (whose slot it took).
   */
  readonly tag: number;
  /** main → worker ring, and worker → main ring. */
  readonly down: SharedArrayBuffer;
  readonly up: SharedArrayBuffer;
  /** Its doorbell: every ring it reads rings it (see Doorbell). */
  readonly bell: SharedArrayBuffer;
  /** The rings to and from each other worker that started with the hive (a replacement worker has none: it goes through the main thread). */
  readonly peers: readonly PeerRings[];
  /** The shared block table (BLOCK_TABLE_BYTES): which worker each block of ids was given to. */
  readonly blocks: SharedArrayBuffer;
  /** One Uint32 word: the hive's idsBelow, kept by the main thread as it rises (a worker's snapshots record it). */
  readonly idsBelow: SharedArrayBuffer;
  /** Int32 words: [READY, THREAD_ID]. */
  readonly state: SharedArrayBuffer;
  readonly seed: string;
  readonly maxMessageBytes: number;
  readonly limits: ActorLimits;
  readonly hiveLimits: HiveLimits;
  readonly signals: 'tree' | 'open';
  readonly logLevel: string;
  /** The time of the hive's manual clock, which the worker's follows (null: the system clock). */
  readonly manualClock: number | null;
  /** One Int32 word: the hive's live actors, counted by every thread. */
  readonly actors: SharedArrayBuffer;
  /** Two Int32 words: the second and the log lines of actors written in it, hive-wide (logLinesPerSecond). */
  readonly logWindow: SharedArrayBuffer;
  /**
   * The port over which the worker calls the host functions given to its
   * actors, which stay on the main thread (comlink: `HostFunctions`).
   */
  readonly hostPort: MessagePort;
}

/** What the main thread serves a worker over `PartitionTask.hostPort` (with comlink). */
export interface HostFunctions {
  /** Calls the host function `module.field` of import set `key` with the guest's arguments. */
  call(key: number, module: string, field: string, args: unknown[]): unknown;
}

/** Word indices of `PartitionTask.state`. */
export const STATE_READY = 0;
export const STATE_THREAD = 1;

