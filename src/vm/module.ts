/**
 * A compiled module: decoded and validated once, instantiated many times.
 * Function bodies are lowered lazily, on their first call, and the lowered
 * code is shared by every instance of the module; bodies larger than
 * EAGER_LOWER_BYTES are lowered here, with the compilation.
 */
import { decodeModule } from './decode.js';
import { validateModule } from './validate.js';
import { lowerFunction, type Lowered } from './lower.js';
import { canonicalTypeId } from './runtime.js';
import type { Features } from './api.js';
import type { ConstExpr, ExternKind, ModuleAst, ValidatedModule } from './types.js';

/**
 * Bodies of more bytes than this (16 KiB) are lowered when the module is
 * compiled, not at their first call: lowering takes time linear in the body
 * (286 ms measured for one br_table of 1,000,000 targets), which at a first
 * call would be spent inside a guest's slice, unmetered. Compiling is the
 * host's act, paid in time linear in the module's bytes anyway.
 */
export const EAGER_LOWER_BYTES = 16 * 1024;

/** Options for compiling a module. */
export interface CompileOptions {
  features?: Features;
  /**
   * Which tier runs the module's functions (see docs/architecture.md, "Tiers"):
   * 'interpreter' (the default, for now), 'auto' (a function is compiled to
   * JavaScript once it is hot: 3-10x faster compute, but a new guest's first
   * seconds run slower, see there) or 'compiled' (every function at its first
   * call: for testing the compiled tier). Results, fuel used, pauses, traps and
   * snapshot bytes are the same in every tier.
   */
  tier?: 'interpreter' | 'auto' | 'compiled';
}

/** A validated WebAssembly module. Construction throws DecodeError or ValidationError. */
export class Module {
  readonly ast: ModuleAst;
  readonly validated: ValidatedModule;
  readonly features: Features;
  /** Which tier runs its functions (CompileOptions.tier). */
  readonly tier: 'interpreter' | 'auto' | 'compiled';
  /** Lowered code per defined function, filled on first call. */
  readonly lowered: (Lowered | undefined)[];
  /**
   * Globals read and written through their Global object, not the instance's
   * words: imported mutable globals (shared with others), and every global of
   * a reference type (a slot id is only meaningful in one instance).
   */
  readonly extGlobals: ReadonlySet<number>;
  /**
   * @internal Canonical type id of each type index, shared (read only) by
   * every instance: computed per instance, it was a string key per type per
   * spawn.
   */
  readonly typeIds: Int32Array;
  /** @internal The function imports, in order (the function index space starts with them): named in every pause at a host call. */
  readonly funcImports: readonly { readonly module: string; readonly name: string }[];
  /** @internal Exports by name, in order: what `Instance.getExport` resolves in an instance. */
  readonly exportIndex: ReadonlyMap<string, { readonly kind: ExternKind; readonly index: number }>;
  /**
   * Words of the constant expressions that read nothing of an instance (no
   * `global.get`, no `ref.func`), evaluated by the first instance and then
   * reused: most globals' initialisers, most segments' offsets.
   */
  private readonly constWords = new Map<ConstExpr, readonly number[]>();

  constructor(bytes: Uint8Array | ArrayBuffer, options: CompileOptions = {}) {
    // Copy, so that later changes to the caller's buffer cannot change a validated module.
    const own = new Uint8Array(bytes instanceof ArrayBuffer ? bytes.slice(0) : bytes.slice());
    this.features = { ...options.features };
    this.tier = options.tier ?? 'interpreter';
    if (this.tier !== 'interpreter' && this.tier !== 'auto' && this.tier !== 'compiled') throw new TypeError(`unknown tier ${JSON.stringify(this.tier)}`);
    this.ast = decodeModule(own, this.features);
    this.validated = validateModule(this.ast, this.features);

    this.lowered = new Array(this.ast.funcs.length);
    const ext = new Set<number>();
    let g = 0;
    for (const imp of this.ast.imports) {
      if (imp.desc.kind === 'global') {
        if (imp.desc.type.mutable || isRefType(imp.desc.type.type)) ext.add(g);
        g++;
      }
    }
    for (const def of this.ast.globals) {
      if (isRefType(def.type.type)) ext.add(g);
      g++;
    }
    this.extGlobals = ext;
    this.typeIds = Int32Array.from(this.ast.types, (t) => canonicalTypeId(t));
    this.funcImports = this.ast.imports.filter((i) => i.desc.kind === 'func');
    this.exportIndex = new Map(this.ast.exports.map((e) => [e.name, { kind: e.kind, index: e.index }]));
    this.ast.codes.forEach((body, i) => {
      if (body.end - body.start <= EAGER_LOWER_BYTES) return;
      try {
        this.lower(this.ast.numImportedFuncs + i);
      } catch {
        // Lowering fails only on an engine gap; left to the first call, which reports it as a trap.
      }
    });
  }

  /** Lowers (once) and returns the code of function `funcIdx`. */
  lower(funcIdx: number): Lowered {
    const d = funcIdx - this.ast.numImportedFuncs;
    let lw = this.lowered[d];
    if (lw === undefined) {
      lw = lowerFunction(this.validated, funcIdx, this.extGlobals);
      this.lowered[d] = lw;
    }
    return lw;
  }

  /** @internal The words of a constant expression that reads nothing of an instance, once an instance evaluated it; else undefined. */
  constantWords(e: ConstExpr): readonly number[] | undefined {
    return this.constWords.get(e);
  }

  /**
   * @internal The active data segments of memory 0 laid out as one image, for
   * a module that defines its memory: `offsets` of each segment (-1: not an
   * active segment of memory 0), and the bytes from `start` as the segments
   * leave them, in order. An instance whose offsets are these, and whose
   * memory holds the whole image, copies it at once instead of segment by
   * segment (a fresh memory is zero between them). `constant`: the offsets
   * read nothing of an instance (no `global.get`), so they are these in every
   * instance. Undefined until the first instance made it; null when the module
   * has none worth making.
   */
  dataImage: { readonly offsets: Int32Array; readonly start: number; readonly bytes: Uint8Array; readonly constant: boolean } | null | undefined = undefined;

  private afterInit: readonly (Uint8Array | null)[] | null = null;

  /** @internal `funcName` as a function of its own, shared by the module's instances (Inst.funcName). */
  readonly funcNameOf = (idx: number): string => this.funcName(idx);

  /**
   * @internal The data segments of an instance once its active segments are
   * applied (and so dropped): null for those, the bytes of passive ones. One
   * array shared by the module's instances until one drops a segment
   * (Inst.datasShared).
   */
  datasAfterInit(): (Uint8Array | null)[] {
    this.afterInit ??= Object.freeze(this.ast.datas.map((d) => (d.mode === 'active' ? null : d.bytes)));
    return this.afterInit as (Uint8Array | null)[];
  }

  /** @internal Records the words of a constant expression that reads nothing of an instance (see `constantWords`). */
  keepConstantWords(e: ConstExpr, words: readonly number[]): void {
    this.constWords.set(e, words);
  }

  /** Lowers every function now (instead of on first call). */
  lowerAll(): void {
    for (let i = 0; i < this.ast.funcs.length; i++) this.lower(this.ast.numImportedFuncs + i);
  }

  /** The module's imports, in order. */
  imports(): { module: string; name: string; kind: ExternKind }[] {
    return this.ast.imports.map((i) => ({ module: i.module, name: i.name, kind: i.desc.kind }));
  }

  /** The module's exports, in order. */
  exports(): { name: string; kind: ExternKind }[] {
    return this.ast.exports.map((e) => ({ name: e.name, kind: e.kind }));
  }

  /** Payloads of the custom sections with this name. */
  customSections(name: string): Uint8Array[] {
    return this.ast.customs.filter((c) => c.name === name).map((c) => c.data);
  }

  /** A function's name for stack traces: from the name section, else its export name, else `func[N]`. */
  funcName(idx: number): string {
    const n = this.ast.names?.functions.get(idx);
    if (n !== undefined) return n;
    const e = this.ast.exports.find((x) => x.kind === 'func' && x.index === idx);
    return e !== undefined ? e.name : `func[${idx}]`;
  }
}

function isRefType(t: number): boolean {
  return t === 0x70 || t === 0x6f;
}

/** Decodes and validates `bytes` (the same as `new Module(bytes, options)`). */
export function compile(bytes: Uint8Array | ArrayBuffer, options?: CompileOptions): Module {
  return new Module(bytes, options);
}
