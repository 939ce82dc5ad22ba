/**
 * The modules of a hive: those defined under a name (guests spawn them by
 * it, snapshots find theirs by name and hash), and those the host spawns
 * directly (a Module, bytes, a file path), each made into a `ModuleDef`
 * once.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createHash } from 'node:crypto';
import { Module, SnapshotError, type CompileOptions } from '../vm/index.js';
import { HiveStateError, NotFoundError } from './errors.js';
import type { ActorOptions, ModuleDef } from './types.js';

/** @internal The module definitions of one hive. */
export class ModuleRegistry {
  private readonly defs = new Map<string, ModuleDef>();
  private readonly anonymous = new WeakMap<Module, ModuleDef>();
  private readonly files = new Map<string, ModuleDef>();
  /** SHA-256 of each module's bytes, computed once. */
  private readonly hashes = new WeakMap<Module, string>();

  /** `options`: how the modules it compiles itself (from bytes, from a file) are compiled (HiveOptions.tier). */
  constructor(private readonly options: CompileOptions = {}) {}

  /** Defines a module under a name (1 to 255 bytes of UTF-8, not defined already). */
  define(name: string, source: Module | Uint8Array | string, options: ActorOptions): void {
    // The guest ABI reads module names of up to 255 bytes.
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255) throw new RangeError('a module name is 1 to 255 bytes of UTF-8');
    if (this.defs.has(name)) throw new HiveStateError(`a module named '${name}' is defined already`);
    const module = source instanceof Module ? source : new Module(typeof source === 'string' ? readFileSync(source) : source, this.options);
    this.defs.set(name, { name, module, hash: this.hash(module), options });
  }

  /** The definitions, by name. */
  get named(): ReadonlyMap<string, ModuleDef> {
    return this.defs;
  }

  /** The definition a guest spawns by name. */
  byName(name: string): ModuleDef | undefined {
    return this.defs.get(name);
  }

  /**
   * The definition of what the host spawns: a compiled module, bytes, the
   * name of a defined module, or a path to a `.wasm` file (read once).
   * Throws NotFoundError, DecodeError, ValidationError.
   */
  resolve(source: Module | Uint8Array | string): ModuleDef {
    if (source instanceof Module) {
      let d = this.anonymous.get(source);
      if (d === undefined) this.anonymous.set(source, (d = { name: null, module: source, hash: this.hash(source), options: {} }));
      return d;
    }
    if (typeof source === 'string') {
      const named = this.defs.get(source);
      if (named !== undefined) return named;
      const path = resolvePath(source);
      let d = this.files.get(path);
      if (d === undefined) {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(path);
        } catch (e) {
          throw new NotFoundError(`no module named '${source}' is defined, and no file '${source}' can be read (${(e as Error).message})`);
        }
        const module = new Module(bytes, this.options);
        this.files.set(path, (d = { name: null, module, hash: this.hash(module), options: {} }));
      }
      return d;
    }
    const module = new Module(source, this.options);
    return { name: null, module, hash: this.hash(module), options: {} };
  }

  /** The defined module a snapshot was taken of: by its name and hash, or by its hash alone. Throws SnapshotError. */
  forSnapshot(name: string | null, hash: string): ModuleDef {
    if (name !== null) {
      const d = this.defs.get(name);
      if (d !== undefined && d.hash === hash) return d;
    }
    for (const d of this.defs.values()) if (d.hash === hash) return d;
    throw new SnapshotError(`the snapshot's module${name === null ? '' : ` '${name}'`} (SHA-256 ${hash}) is not defined in this hive: define it, or pass { module }`);
  }

  /** SHA-256 of a module's bytes, hex. */
  hash(m: Module): string {
    let h = this.hashes.get(m);
    if (h === undefined) this.hashes.set(m, (h = createHash('sha256').update(m.ast.bytes).digest('hex')));
    return h;
  }
}
