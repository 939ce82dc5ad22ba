/**
 * How messages are encoded: MessagePack through msgpackr (plain maps, no
 * msgpackr-specific records, so any MessagePack decoder reads them), with
 * actor ids as extension type 1 (4 bytes, big-endian). `Uint8Array`s pass
 * through as they are. Schemas check values at the boundary: Standard Schema
 * (zod, valibot, arktype...), an object with `parse`, or a predicate.
 */
import { Packr, addExtension } from 'msgpackr';
import { SchemaError } from './errors.js';

/** An actor id inside a message (what a guest's pid decodes to on the host). */
export class Pid {
  constructor(readonly id: number) {}
  toString(): string {
    return `<${this.id}>`;
  }
}

/** Extension type of pids in MessagePack (docs/guest-abi.md). */
export const PID_EXT = 1;

function pidBytes(id: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(id | 0, 0);
  return b;
}

/** Classes other than Pid that encode as pids (ActorRef); registered by the module that defines them. */
export function encodeAsPid<T extends { readonly id: number }>(cls: new (...args: any[]) => T): void {
  addExtension({ Class: cls, type: PID_EXT, pack: (v: T) => pidBytes(v.id), unpack: (b: Uint8Array) => new Pid(Buffer.from(b).readInt32BE(0)) });
  // The last registration of a type decides decoding: keep it Pid's.
  registerPid();
}

function registerPid(): void {
  addExtension({ Class: Pid, type: PID_EXT, pack: (v: Pid) => pidBytes(v.id), unpack: (b: Uint8Array) => new Pid(Buffer.from(b).readInt32BE(0)) });
}
registerPid();

// 64-bit integers decode as numbers when they are safe integers, as BigInts otherwise ('auto' is
// supported by msgpackr but missing from its type declarations).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'auto' as 'number' });

/** Encodes a message: bytes as they are, anything else as MessagePack. */
export function encode(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return packr.pack(value);
}

/** Decodes MessagePack bytes (throws a RangeError/Error from msgpackr when they are not). */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
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
