/**
 * `wasmhive inspect` of an actor snapshot (docs/snapshot-format.md, "Actor
 * snapshots"): the actor's own state (module, id, name, limits, what it waits
 * for, mailbox and signal queue, links and monitors) and, inside it, the
 * engine snapshot of its VM, read as `inspect` reads any engine snapshot.
 *
 * The bytes are untrusted. The outer layer is decoded by the actor runtime
 * (`readActorSnapshot`: it allocates in proportion to the file, nothing is
 * compressed there); the only compressed part is inside the engine snapshot,
 * which `readSnapshot` reads within its `maxFrames` budget. Every field shown
 * is checked for its shape first: a wrong one is a SnapshotError (malformed),
 * never a crash or a made-up value.
 */
import { readSnapshot, type SnapshotInfo } from '../vm/index.js';
// The format's checks and outer layer are the runtime's own (snapshot-format.ts loads no more of the actor runtime).
import { ID_MAX, arr, bool, bytes as bin, fail, int, isActorSnapshot, isGroupSnapshot, obj, readActorSnapshot, readGroupSnapshot, str } from '../actors/snapshot-format.js';

export { isActorSnapshot, isGroupSnapshot };

/** A message of the mailbox, the signal queue or the current one, as shown: its kind, sender and size. */
export interface MessageInfo {
  kind: string;
  from: number;
  bytes: number;
}

/** What an actor snapshot holds, as `wasmhive inspect` shows it (`--json` prints this object). */
export interface ActorSnapshotInfo {
  kind: 'actor';
  /** Bytes of the whole snapshot. */
  bytes: number;
  format: number;
  id: number;
  name: string | null;
  module: { name: string | null; hash: string };
  /** The limits the actor ran under (a restore can only lower the hive's with them). */
  limits: Record<string, number>;
  started: boolean;
  /** Its start function: still to run, running (the VM is paused in it), or none left. */
  start: 'pending' | 'running' | null;
  /** What it waits for; `leftMs` null: no timeout. */
  wait:
    | { kind: 'receive' | 'sleep'; leftMs: number | null }
    | { kind: 'call'; leftMs: number | null; target: number; reply: number; undeliveredRequestBytes: number | null }
    | { kind: 'send'; leftMs: number | null; to: number; bytes: number }
    | { kind: 'host' }
    | null;
  /** Values the paused import returns when it next runs (it was woken), or null. */
  resumeValues: number | null;
  resumeError: string | null;
  current: MessageInfo | null;
  mailbox: { messages: number; bytes: number; first: MessageInfo[] };
  signals: { exit: number; down: number; bytes: number; first: MessageInfo[] };
  trapExit: boolean;
  links: number[];
  monitors: { ref: number; target: number }[];
  monitoredBy: { watcher: number; refs: number[] }[];
  nextMonitorRef: number;
  /** The engine snapshot of its VM. */
  vm: SnapshotInfo;
}

/** Messages listed one by one in `first` (the counts cover them all). */
const FIRST_MESSAGES = 10;
/** Message kinds by number (src/actors/envelope.ts `Kind`, docs/guest-abi.md). */
const KIND_NAMES = ['message', 'exit', 'down', 'init'] as const;
function strOrNull(v: unknown, what: string): string | null {
  return v === null ? null : str(v, what);
}
function left(v: unknown): number | null {
  return v === null ? null : int(v, 'time left', 0, Number.MAX_SAFE_INTEGER);
}

function message(v: unknown, what: string): MessageInfo {
  const t = arr(v, what);
  if (t.length !== 4) fail(`${what} must have 4 fields`);
  return { kind: KIND_NAMES[int(t[0], `${what} kind`, 0, KIND_NAMES.length - 1)]!, from: int(t[1], `${what} sender`, 0, ID_MAX), bytes: bin(t[2], `${what} payload`).length };
}

function waitInfo(v: unknown): ActorSnapshotInfo['wait'] {
  if (v === null) return null;
  const w = obj(v, 'wait');
  const kind = str(w['kind'], 'wait kind');
  switch (kind) {
    case 'receive':
    case 'sleep':
      return { kind, leftMs: left(w['left']) };
    case 'call':
      return {
        kind,
        leftMs: left(w['left']),
        target: int(w['target'], 'call target', 0, ID_MAX),
        reply: int(w['reply'], 'reply address', 1, ID_MAX),
        undeliveredRequestBytes: w['request'] === null ? null : bin(w['request'], 'call request').length,
      };
    case 'send':
      return { kind, leftMs: left(w['left']), to: int(w['to'], 'send target', 0, ID_MAX), bytes: bin(w['bytes'], 'send payload').length };
    case 'host':
      return { kind };
    default:
      fail(`unknown wait kind ${JSON.stringify(kind)}`);
  }
}

/** Most actors of a group `inspect` reads (a crafted group cannot make it read millions). */
const MAX_GROUP_ACTORS = 20_000;

/** The actor snapshots of a group snapshot, each read as `readActorSnapshotInfo` reads one. */
export async function readGroupSnapshotInfo(bytes: Uint8Array, maxFrames: number | undefined): Promise<ActorSnapshotInfo[]> {
  const parts = readGroupSnapshot(bytes, MAX_GROUP_ACTORS);
  const out: ActorSnapshotInfo[] = [];
  for (const p of parts) out.push(await readActorSnapshotInfo(p, maxFrames));
  return out;
}

/**
 * Reads an actor snapshot for display, within the budget of `readSnapshot`
 * (`maxFrames`, for its engine snapshot). Throws SnapshotError (with `budget`
 * set when over it), whatever the bytes.
 */
export async function readActorSnapshotInfo(bytes: Uint8Array, maxFrames: number | undefined): Promise<ActorSnapshotInfo> {
  const b = readActorSnapshot(bytes);
  const m = obj(b['module'], 'module');
  const limits: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(b['limits'], 'limits'))) limits[k] = int(v, `limits.${k}`, 0, Number.MAX_SAFE_INTEGER);
  const start = b['start'] === undefined ? null : str(b['start'], 'start');
  if (start !== null && start !== 'pending' && start !== 'running') fail(`start must be 'pending' or 'running'`);
  const mailbox = arr(b['mailbox'], 'mailbox').map((e, i) => message(e, `mailbox[${i}]`));
  const signals = arr(b['signals'], 'signals').map((e, i) => message(e, `signals[${i}]`));
  const sum = (ms: MessageInfo[]): number => ms.reduce((n, e) => n + e.bytes, 0);
  const info: Omit<ActorSnapshotInfo, 'vm'> = {
    kind: 'actor',
    bytes: bytes.length,
    format: int(b['format'], 'format', 0, 1 << 30),
    id: int(b['id'], 'id', 1, ID_MAX),
    name: strOrNull(b['name'], 'name'),
    module: { name: strOrNull(m['name'] ?? null, 'module name'), hash: str(m['hash'], 'module hash') },
    limits,
    started: bool(b['started'], 'started'),
    start,
    wait: waitInfo(b['wait']),
    resumeValues: b['resume'] === null ? null : arr(b['resume'], 'resume').length,
    resumeError: strOrNull(b['resumeError'], 'resumeError'),
    current: b['current'] === null ? null : message(b['current'], 'current'),
    mailbox: { messages: mailbox.length, bytes: sum(mailbox), first: mailbox.slice(0, FIRST_MESSAGES) },
    signals: {
      exit: signals.filter((e) => e.kind === 'exit').length,
      down: signals.filter((e) => e.kind === 'down').length,
      bytes: sum(signals),
      first: signals.slice(0, FIRST_MESSAGES),
    },
    trapExit: bool(b['trapExit'], 'trapExit'),
    links: arr(b['links'], 'links').map((v, i) => int(v, `links[${i}]`, 1, ID_MAX)),
    monitors: arr(b['monitors'], 'monitors').map((v, i) => {
      const t = arr(v, `monitors[${i}]`);
      return { ref: int(t[0], `monitors[${i}] ref`, 1, ID_MAX), target: int(t[1], `monitors[${i}] target`, 0, ID_MAX) };
    }),
    monitoredBy: arr(b['monitoredBy'], 'monitoredBy').map((v, i) => {
      const t = arr(v, `monitoredBy[${i}]`);
      return { watcher: int(t[0], `monitoredBy[${i}] watcher`, 1, ID_MAX), refs: arr(t[1], `monitoredBy[${i}] refs`).map((r) => int(r, 'watcher ref', 1, ID_MAX)) };
    }),
    nextMonitorRef: int(b['nextMonitorRef'], 'nextMonitorRef', 1, ID_MAX),
  };
  const vm = readSnapshot(bin(b['vm'], 'vm'), { maxFrames });
  // The same module twice: restoring would refuse a snapshot whose two layers disagree.
  if (vm.moduleHash !== info.module.hash) fail(`the actor's module (SHA-256 ${info.module.hash}) is not its VM's (SHA-256 ${vm.moduleHash})`);
  return { ...info, vm };
}

/** Up to `n` items joined, then how many more. */
function some<T>(items: readonly T[], show: (x: T) => string, n = 10): string {
  const shown = items.slice(0, n).map(show).join(', ');
  return items.length > n ? `${shown}, ... ${items.length - n} more` : shown;
}

/** `1 message`, `2 messages`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function ms(leftMs: number | null): string {
  return leftMs === null ? 'no timeout' : `${leftMs} ms left`;
}

/** What the actor was doing, in words. */
function stateLine(a: ActorSnapshotInfo): string {
  const w = a.wait;
  if (w !== null) {
    switch (w.kind) {
      case 'receive':
        return `waiting in receive (${ms(w.leftMs)})`;
      case 'sleep':
        return `sleeping (${ms(w.leftMs)})`;
      case 'call':
        return `waiting in a call to ${w.target}, reply address ${w.reply} (${ms(w.leftMs)})${w.undeliveredRequestBytes === null ? '' : `; its request of ${w.undeliveredRequestBytes} bytes waits for room`}`;
      case 'send':
        return `waiting for room to send ${w.bytes} bytes to ${w.to} (${ms(w.leftMs)})`;
      case 'host':
        return 'waiting on a host function (asked again on restore)';
    }
  }
  if (a.start === 'pending') return 'not started: its start function is still to run';
  if (a.start === 'running') return 'in its start function';
  if (!a.started) return 'not started: main is still to be called';
  if (a.resumeError !== null) return `ready to run: its host call failed (${JSON.stringify(a.resumeError)})`;
  return a.resumeValues === null ? 'ready to run' : `ready to run: woken with ${a.resumeValues} result(s)`;
}

/** The text `wasmhive inspect` prints for an actor snapshot; `vmLines` gives the engine snapshot's own lines. */
export function actorLines(a: ActorSnapshotInfo, path: string, vmLines: (info: SnapshotInfo) => string[]): string[] {
  const msg = (e: MessageInfo): string => `${e.kind} from ${e.from} (${e.bytes} bytes)`;
  const lines = [
    `actor snapshot ${path}: ${a.bytes} bytes, format ${a.format}`,
    `actor ${a.id}${a.name === null ? ', no name' : `, name ${JSON.stringify(a.name)}`}`,
    `module ${a.module.name === null ? '(no name)' : JSON.stringify(a.module.name)} sha256 ${a.module.hash}`,
    `limits: ${Object.entries(a.limits).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `state: ${stateLine(a)}`,
    `current message: ${a.current === null ? 'none' : msg(a.current)}`,
    `mailbox: ${count(a.mailbox.messages, 'message')}, ${a.mailbox.bytes} bytes${a.mailbox.messages > 0 ? `: ${some(a.mailbox.first, msg)}${a.mailbox.messages > a.mailbox.first.length ? `, ... ${a.mailbox.messages - a.mailbox.first.length} more` : ''}` : ''}`,
    `signals: ${a.signals.exit} exit, ${a.signals.down} down, ${a.signals.bytes} bytes; trap exit ${a.trapExit ? 'on' : 'off'}`,
    `links (${a.links.length})${a.links.length > 0 ? `: ${some(a.links, String)}` : ''}`,
    `monitors held (${a.monitors.length})${a.monitors.length > 0 ? `: ${some(a.monitors, (m) => `ref ${m.ref} on ${m.target}`)}` : ''}`,
    `monitored by (${a.monitoredBy.length})${a.monitoredBy.length > 0 ? `: ${some(a.monitoredBy, (m) => `${m.watcher} (refs ${some(m.refs, String, 5)})`)}` : ''}`,
    `engine snapshot: ${a.vm.bytes} bytes, format ${a.vm.format}, code version ${a.vm.codeVersion}`,
    ...vmLines(a.vm).map((l) => `  ${l}`),
  ];
  return lines;
}
