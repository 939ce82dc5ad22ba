/**
 * How messages are encoded: MessagePack (msgpack.ts: plain maps, so any
 * MessagePack decoder reads them), with actor ids as extension type 1 (4
 * bytes, big-endian, signed). `Uint8Array`s pass through as they are. The
 * pid extension belongs to this module's codec only: nothing process-global
 * (msgpackr's `addExtension`) is touched, so an application using msgpackr
 * itself reads and writes its own extension 1 as before. Schemas check values
 * at the boundary: Standard Schema (zod, valibot, arktype...), an object with
 * `parse`, or a predicate.
 */
import { MessagePack, type Extension } from './msgpack.js';
import { SchemaError } from './errors.js';

export { MessageEncodeError, MessageDecodeError } from './msgpack.js';

/**
 * The id of an object that encodes as a pid: `Pid`, and the host's handles
 * (`ActorRef`, `Inbox`) have a getter for it.
 */
export const PID_ID: unique symbol = Symbol('wasmhive.pid');

/** An actor id inside a message (what a guest's pid decodes to on the host). */
export class Pid {
  constructor(readonly id: number) {}
  get [PID_ID](): number {
    return this.id;
  }
  toString(): string {
    return `<${this.id}>`;
  }
}

/** Extension type of pids in MessagePack (docs/guest-abi.md). */
export const PID_EXT = 1;

const pidExtension: Extension = {
  type: PID_EXT,
  encode(value) {
    const id: unknown = (value as { [PID_ID]?: unknown })[PID_ID];
    if (id === undefined) return undefined;
    if (!(typeof id === 'number' && Number.isInteger(id) && id >= -0x8000_0000 && id <= 0x7fff_ffff)) throw new RangeError(`not an actor id: ${String(id)}`);
    return Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
  },
  decode(data) {
    if (data.length !== 4) throw new RangeError(`a pid has 4 bytes, not ${data.length}`);
    return new Pid((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!);
  },
};

// One codec for the module's functions: its only state is a scratch buffer
// that no result shares, so what it writes never depends on earlier calls.
const codec = new MessagePack({ extensions: [pidExtension] });

/** Encodes a message: bytes as they are, anything else as MessagePack (throws MessageEncodeError naming where a value has no MessagePack form). */
export function encode(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return codec.encode(value);
}

/** Decodes MessagePack bytes holding one value (throws MessageDecodeError when they do not). */
export function decode(bytes: Uint8Array): unknown {
  return codec.decode(bytes);
}

/** What may check messages: a Standard Schema, a `parse`-style schema, or a predicate returning true, false or an error text. */
export type Schema<T = unknown> =
  | { readonly '~standard': { validate(value: unknown): unknown } }
  | { parse(value: unknown): T }
  | ((value: unknown) => boolean | string | undefined | void);

/** Schemas of one actor's messages: what it accepts (`in`), what it answers (`out`), its init message (`init`). */
export interface ActorSchema {
  in?: Schema;
  out?: Schema;
  init?: Schema;
}

/** Checks a value; returns the issues found (empty when it matches). */
export function checkSchema(schema: Schema, value: unknown): string[] {
  try {
    if (typeof schema === 'function') {
      const r = schema(value);
      if (r === true || r === undefined) return [];
      return [typeof r === 'string' ? r : 'rejected by the predicate'];
    }
    if ('~standard' in schema) {
      const r = schema['~standard'].validate(value) as { issues?: readonly { message: string; path?: readonly unknown[] }[] } | PromiseLike<unknown>;
      if (typeof (r as PromiseLike<unknown>).then === 'function') return ['asynchronous schemas are not supported at the message boundary'];
      const issues = (r as { issues?: readonly { message: string; path?: readonly unknown[] }[] }).issues;
      if (!issues) return [];
      return issues.map((i) => (i.path && i.path.length > 0 ? `${i.path.map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String((p as { key: unknown }).key) : String(p))).join('.')}: ${i.message}` : i.message));
    }
    schema.parse(value);
    return [];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}

/** Throws a SchemaError when the value does not match. */
export function assertSchema(schema: Schema | undefined, value: unknown, direction: 'in' | 'out' | 'init', pid: number): void {
  if (schema === undefined) return;
  const issues = checkSchema(schema, value);
  if (issues.length > 0) throw new SchemaError(direction, pid, issues);
}

/** Checks encoded bytes against a schema: issues, or a decoding failure. */
export function checkBytes(schema: Schema, bytes: Uint8Array): string[] {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (e) {
    return [`not MessagePack: ${e instanceof Error ? e.message : String(e)}`];
  }
  return checkSchema(schema, value);
}
