/**
 * The outer layer of actor and group snapshots (docs/snapshot-format.md,
 * "Actor snapshots"): magic bytes, format numbers, MessagePack bodies, and
 * the checks every reader of their untrusted fields makes (the restore in
 * snapshot.ts, `wasmhive inspect` in src/cli). A wrong field is a
 * SnapshotError ("malformed actor snapshot: ..."), never a crash.
 */
import { Packr } from 'msgpackr';
import { SnapshotError } from '../vm/index.js';

/** First bytes of an actor snapshot ("WHACTOR\0"). */
const ACTOR_MAGIC = new Uint8Array([0x57, 0x48, 0x41, 0x43, 0x54, 0x4f, 0x52, 0x00]);
/** Version of the actor snapshot format. */
export const ACTOR_SNAPSHOT_FORMAT = 1;
/** First bytes of a group snapshot ("WHGROUP\0"). */
const GROUP_MAGIC = new Uint8Array([0x57, 0x48, 0x47, 0x52, 0x4f, 0x55, 0x50, 0x00]);
/** Version of the group snapshot format. */
export const GROUP_SNAPSHOT_FORMAT = 1;
/** The largest actor id. */
export const ID_MAX = 0x7fffffff;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'bigint' });

/** Throws the SnapshotError of a malformed field. */
export function fail(what: string): never {
  throw new SnapshotError(`malformed actor snapshot: ${what}`);
}
/** An integer from min to max (a large one may be MessagePack int64, which decodes as a bigint). */
export function int(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'bigint' && v >= BigInt(min) && v <= BigInt(max) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(`${what} must be an integer from ${min} to ${max}`);
  return n;
}
/** A boolean. */
export function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(`${what} must be a boolean`);
  return v;
}
/** A string. */
export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a string`);
  return v;
}
/** Bytes, at most `max`. */
export function bytes(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be bytes`);
  if (v.length > max) fail(`${what} is larger than ${max} bytes`);
  return v;
}
/** An array of at most `max` items. */
export function arr(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): unknown[] {
  if (!Array.isArray(v)) fail(`${what} must be an array`);
  if (v.length > max) fail(`${what} has more than ${max} items`);
  return v;
}
/** A map (a plain object). */
export function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) fail(`${what} must be a map`);
  return v as Record<string, unknown>;
}

function startsWith(data: Uint8Array, magic: Uint8Array): boolean {
  return data instanceof Uint8Array && data.length >= magic.length && magic.every((b, i) => data[i] === b);
}

/** Whether `bytes` start as an actor snapshot does (the rest is checked when read). */
export function isActorSnapshot(data: Uint8Array): boolean {
  return startsWith(data, ACTOR_MAGIC);
}

/** Whether `bytes` start as a group snapshot does. */
export function isGroupSnapshot(data: Uint8Array): boolean {
  return startsWith(data, GROUP_MAGIC);
}

function pack(magic: Uint8Array, body: unknown): Uint8Array {
  return withMagic(magic, packr.pack(body));
}

/** @internal `packActor` in two turns of the event loop: the body encoded, then copied after its magic (a large snapshot takes a while to copy). */
export async function packActorAsync(body: Record<string, unknown>, turn: () => Promise<void>): Promise<Uint8Array> {
  const packed = packr.pack(body);
  await turn();
  return withMagic(ACTOR_MAGIC, packed);
}

function withMagic(magic: Uint8Array, packed: Uint8Array): Uint8Array {
  // Not zeroed first (every byte is written below): a snapshot of a large memory is large.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(magic.length + packed.length).buffer, 0, magic.length + packed.length);
  out.set(magic, 0);
  out.set(packed, magic.length);
  return out;
}

/** @internal An actor snapshot of a body (snapshot.ts makes the body). */
export function packActor(body: Record<string, unknown>): Uint8Array {
  return pack(ACTOR_MAGIC, body);
}

/** @internal A group snapshot: its actors' snapshots, taken at one point (nothing in flight between them). */
export function packGroup(actors: Uint8Array[]): Uint8Array {
  return pack(GROUP_MAGIC, { format: GROUP_SNAPSHOT_FORMAT, actors });
}

/** The body after `magic`, a map with `format` = `version`. Throws SnapshotError. */
function readBody(data: Uint8Array, magic: Uint8Array, kind: 'actor' | 'group', version: number): Record<string, unknown> {
  if (!startsWith(data, magic)) throw new SnapshotError(`not ${kind === 'actor' ? 'an actor' : 'a group'} snapshot (bad magic bytes)`);
  let body: unknown;
  try {
    body = packr.unpack(data.subarray(magic.length));
  } catch (e) {
    fail(`cannot decode the ${kind === 'actor' ? 'body' : 'group'} (${e instanceof Error ? e.message : String(e)})`);
  }
  const b = obj(body, kind === 'actor' ? 'body' : 'group');
  const format = int(b['format'], kind === 'actor' ? 'format' : 'group format', 0, 1 << 30);
  if (format !== version) throw new SnapshotError(`${kind} snapshot format ${format} is not supported (this runtime reads format ${version})`);
  return b;
}

/** Decodes the outer layer of an actor snapshot: its body, whose fields are still to be checked. Throws SnapshotError. */
export function readActorSnapshot(data: Uint8Array): Record<string, unknown> {
  return readBody(data, ACTOR_MAGIC, 'actor', ACTOR_SNAPSHOT_FORMAT);
}

/** The actor snapshots in a group snapshot (each still to be checked as one); at most `maxActors` of them. Throws SnapshotError. */
export function readGroupSnapshot(data: Uint8Array, maxActors: number): Uint8Array[] {
  const b = readBody(data, GROUP_MAGIC, 'group', GROUP_SNAPSHOT_FORMAT);
  const actors = arr(b['actors'], 'group actors', maxActors).map((v, i) => bytes(v, `group actor ${i}`));
  if (actors.length === 0) fail('a group snapshot holds at least one actor');
  return actors;
}
