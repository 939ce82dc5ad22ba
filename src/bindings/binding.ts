/**
 * The contract every binding follows. A binding is a set of import modules
 * plus the host-side state behind them. Its imports are built for one caller
 * (a `BindingContext`: who calls, its memory, its fuel, its clock, its random
 * generator, its logger), so a host function always knows its caller, the
 * way a host function in wazero receives the calling `api.Module` and one in
 * wasmtime receives its `Caller`. Its state saves to plain data, so that a
 * snapshot of the caller can carry it, and restores from it.
 *
 * The hive ABI (`./hive`) and WASI (`./wasi`) both follow it; so can a
 * host's own functions (`hostFunction`, `hostBinding`). `bindingImports`
 * puts the imports of several bindings together for one caller.
 */
import { Func, LinkError, type FuncType, type HostResult, type Imports, type Memory, type Value } from '../vm/index.js';

/** pino's level names, which bindings log at. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The caller's clock (injected by the host, so time is deterministic in tests). */
export interface BindingClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The caller's own random generator (seeded by the host: deterministic for a given seed). */
export interface BindingRandom {
  /** Fills the bytes with random bytes. */
  fill(bytes: Uint8Array): void;
  /** A float in [0, 1). */
  float(): number;
}

/** Where a binding writes lines about its caller (the host's logger, with the caller's identity, rate-limited by the host). */
export interface BindingLogger {
  log(level: LogLevel, msg: string, obj?: object): void;
}

/**
 * What a binding's imports are built for: one caller. Everything is read
 * when a host function runs, not when the imports are built (the caller's
 * instance is made from those imports, so its memory exists only later).
 */
export interface BindingContext {
  /** The calling actor's id; 0 when the caller is not an actor (an instance the host runs itself). */
  readonly caller: number;
  /** The caller's exported memory ("memory"); traps when it exports none. Call it from host functions only. */
  memory(): Memory;
  /**
   * Charges the caller fuel for host work, in units of about one instruction
   * (fractions are rounded up; the balance may go below zero, a debt its next
   * slices pay).
   */
  charge(units: number): void;
  /** Fuel units the caller has used in all, across snapshots (virtual clocks run on it). */
  fuelUsed(): number;
  readonly clock: BindingClock;
  readonly random: BindingRandom;
  readonly logger: BindingLogger;
}

/**
 * A binding: import modules for a guest, built per caller, with state that
 * saves to plain data. `S` is the type of its saved state: plain data
 * (objects, arrays, strings, numbers, booleans, null) that MessagePack and
 * JSON carry unchanged.
 */
export interface Binding<S = unknown> {
  /** Names the binding in errors and its state in snapshots (e.g. `wasi`). */
  readonly name: string;
  /** The import modules for one caller: `{ module: { name: Func } }`. */
  importsFor(ctx: BindingContext): Imports;
  /** Its state, as plain data; the binding is unchanged. */
  save(): S;
  /**
   * Continues from a state `save()` gave, before `importsFor`. The state may
   * come from an untrusted snapshot: anything malformed throws a typed error
   * (the binding's own, e.g. WasiStateError), never a crash later.
   */
  restore(state: unknown): void;
  /** Releases what it holds on the host (descriptors, handles) when its caller is gone; optional. */
  close?(): void;
}

/**
 * Puts the imports of several bindings together for one caller. Two
 * bindings that provide one import module are refused with a LinkError
 * naming both (a module is one binding's; merging them would let one
 * silently replace the other's functions), and so are two bindings of one
 * name (a snapshot keeps each binding's state under its name).
 */
export function bindingImports(bindings: readonly Binding[], ctx: BindingContext): Imports {
  const out: Imports = {};
  const owner = new Map<string, string>();
  const names = new Set<string>();
  for (const b of bindings) {
    if (names.has(b.name)) throw new LinkError(`two bindings are named "${b.name}": a caller's bindings need distinct names`);
    names.add(b.name);
    for (const [mod, fields] of Object.entries(b.importsFor(ctx))) {
      const other = owner.get(mod);
      if (other !== undefined) throw new LinkError(`the import module "${mod}" is provided by two bindings, "${other}" and "${b.name}"`);
      owner.set(mod, b.name);
      out[mod] = fields;
    }
  }
  return out;
}

/** A host function that is told its caller: `fn(ctx, args)` returns what any host function returns. */
export interface HostFunction {
  readonly type: FuncType;
  readonly fn: (ctx: BindingContext, args: Value[]) => HostResult;
}

/**
 * A host function of the given type that receives its caller's context
 * before its raw arguments, so it may read the caller's memory, charge its
 * fuel or act on its behalf:
 *
 * ```ts
 * const whoami = hostFunction({ params: [], results: [ValType.i32] }, (ctx) => [i32(ctx.caller)]);
 * const app = hostBinding('app', 'myapp', { whoami }); // a guest imports "myapp" "whoami"
 * const imports = bindingImports([app, new Wasi()], ctx); // what a host does for each caller
 * ```
 */
export function hostFunction(type: FuncType, fn: (ctx: BindingContext, args: Value[]) => HostResult): HostFunction {
  return { type: { params: [...type.params], results: [...type.results] }, fn };
}

/**
 * A binding of plain host functions, all in one import module, with no state
 * of its own (it saves as null). Each caller gets its own functions, bound to
 * its context.
 */
export function hostBinding(name: string, module: string, functions: Readonly<Record<string, HostFunction>>): Binding<null> {
  const table = Object.entries(functions);
  return {
    name,
    importsFor(ctx: BindingContext): Imports {
      const fields: Record<string, Func> = {};
      for (const [field, { type, fn }] of table) fields[field] = Func.host(type, (args) => fn(ctx, args));
      return { [module]: fields };
    },
    save: () => null,
    restore(state: unknown): void {
      if (state !== null && state !== undefined) throw new TypeError(`binding ${name} has no state to restore, got ${typeof state}`);
    },
  };
}
