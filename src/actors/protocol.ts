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
import { decode, encode } from './codec.js';

/**
 * An ordinary message (or a call's request, whose `from` is the call's reply
 * address), for a mailbox. `sender` is the actor that sent it (0: the host),
 * which a reply address checks; `payer` the root of the spawn tree whose
 * bytes it counts against while it waits (0: none). `until`: the time of the
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
