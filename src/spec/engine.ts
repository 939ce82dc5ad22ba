/**
 * The seam between the conformance runner and an engine. The runner only
 * knows this interface; adapters for wasmhive's own VM (`engines/wasmhive.ts`)
 * and for V8's `WebAssembly` (`engines/v8.ts`) implement it, so the same
 * scripts can check the engine and, with V8, the runner itself.
 */
import type { SpecTypeName, SpecValue } from './values.js';

/** Features beyond WebAssembly 2.0 that a script needs (mirrors the VM's `Features`). */
export interface SpecFeatures {
  multiMemory?: boolean;
  tailCall?: boolean;
  extendedConst?: boolean;
}

/**
 * Which phase an engine error belongs to. `compile` is for engines that cannot
 * tell malformed from invalid (V8's CompileError); it satisfies both
 * assert_malformed and assert_invalid.
 */
export type ErrorKind = 'decode' | 'validate' | 'compile' | 'link' | 'trap' | 'exhaustion';

/** An engine error the runner understands. */
export interface ClassifiedError {
  kind: ErrorKind;
  message: string;
}

/** External values an engine accepts as imports, keyed by module name then field name. Opaque to the runner. */
export type ImportObject = Record<string, Record<string, unknown>>;

/** An instantiated module. Methods throw engine errors (see {@link SpecEngine.classify}) on traps. */
export interface EngineInstance {
  /**
   * Calls the exported function `field`. `resultTypes`, when the script knows
   * them, are the function's result types (adapters may use them; they must
   * not be needed for correctness of a correct engine).
   */
  invoke(field: string, args: SpecValue[], resultTypes?: SpecTypeName[]): SpecValue[];
  /** Reads the exported global `field`; `type`, when the script knows it, is the global's value type (same caveat as for `invoke`). */
  get(field: string, type?: SpecTypeName): SpecValue;
  /** All exports as external values this engine accepts as imports (for `register`). */
  exports(): Record<string, unknown>;
}

/** A compiled (decoded and validated) module. */
export interface EngineModule {
  /** Instantiates with the given imports; throws link errors, or traps from segment initialisation and the start function. */
  instantiate(imports: ImportObject): EngineInstance;
}

/** An engine the runner can drive. */
export interface SpecEngine {
  /** Short name for reports (`wasmhive`, `v8`). */
  readonly name: string;
  /** Decodes and validates; throws decode/validation errors. */
  compile(bytes: Uint8Array, features: SpecFeatures): EngineModule;
  /** A fresh `spectest` module's exports (print functions, globals, table, memory), as the testsuite expects. */
  spectest(): Record<string, unknown>;
  /** Classifies an error thrown by this engine, or returns undefined when it is not an engine error (a bug). */
  classify(error: unknown): ClassifiedError | undefined;
}
