/**
 * The {@link SpecEngine} over wasmhive's own VM (`src/vm`): compiles with
 * `new Module`, instantiates with `new Instance`, calls through
 * `Func.invoke` (raw values in and out, traps as outcomes) and classifies the
 * VM's error classes.
 */
import {
  DecodeError,
  Exhaustion,
  Func,
  Global,
  Instance,
  LinkError,
  Memory,
  Module,
  Table,
  Trap,
  ValidationError,
  ValType,
  type Imports,
  type InstanceOptions,
  type Value,
} from '../../vm/index.js';
import type { ClassifiedError, EngineInstance, EngineModule, ImportObject, SpecEngine, SpecFeatures } from '../engine.js';
import type { SpecTypeName, SpecValue } from '../values.js';

function toEngine(v: SpecValue): Value {
  if (v.type === 'v128') throw new Error('v128 values are not supported by the wasmhive engine yet');
  return v;
}

class WasmhiveInstance implements EngineInstance {
  constructor(private readonly instance: Instance) {}

  invoke(field: string, args: SpecValue[], _resultTypes?: SpecTypeName[]): SpecValue[] {
    const f = this.instance.getExport(field);
    if (!(f instanceof Func)) throw new Error(`no exported function ${JSON.stringify(field)}`);
    const outcome = f.invoke(args.map(toEngine));
    if (outcome.kind === 'trapped') throw outcome.trap;
    return outcome.results;
  }

  get(field: string, _type?: SpecTypeName): SpecValue {
    const g = this.instance.getExport(field);
    if (!(g instanceof Global)) throw new Error(`no exported global ${JSON.stringify(field)}`);
    return g.get();
  }

  exports(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.instance.exportNames()) out[name] = this.instance.getExport(name);
    return out;
  }
}

/** Options of the wasmhive adapter. */
export interface WasmhiveEngineOptions {
  /** Passed to every `Instance` (e.g. `maxCallDepth`). */
  instance?: InstanceOptions;
  /** Which tier runs the functions (`CompileOptions.tier`); 'compiled' compiles every function at its first call. */
  tier?: 'interpreter' | 'auto' | 'compiled';
}

/** The adapter for wasmhive's VM. */
export class WasmhiveEngine implements SpecEngine {
  readonly name: string;
  constructor(private readonly options: WasmhiveEngineOptions = {}) {
    this.name = options.tier === undefined || options.tier === 'interpreter' ? 'wasmhive' : `wasmhive (${options.tier} tier)`;
  }

  compile(bytes: Uint8Array, features: SpecFeatures): EngineModule {
    const module = new Module(bytes, { features, tier: this.options.tier });
    return {
      instantiate: (imports: ImportObject) => new WasmhiveInstance(new Instance(module, imports as Imports, this.options.instance)),
    };
  }

  spectest(): Record<string, unknown> {
    const print = (params: ValType[]): Func => Func.host({ params, results: [] }, () => []);
    const { i32, i64, f32, f64 } = ValType;
    return {
      print: print([]),
      print_i32: print([i32]),
      print_i64: print([i64]),
      print_f32: print([f32]),
      print_f64: print([f64]),
      print_i32_f32: print([i32, f32]),
      print_f64_f64: print([f64, f64]),
      global_i32: new Global({ type: 'i32' }, { type: 'i32', value: 666 }),
      global_i64: new Global({ type: 'i64' }, { type: 'i64', value: 666n }),
      global_f32: new Global({ type: 'f32' }, { type: 'f32', bits: 0x4426a666 }), // 666.6 as f32
      global_f64: new Global({ type: 'f64' }, { type: 'f64', bits: 0x4084d4cccccccccdn }), // 666.6
      table: new Table({ element: 'funcref', initial: 10, maximum: 20 }),
      memory: new Memory({ initial: 1, maximum: 2 }),
    };
  }

  classify(error: unknown): ClassifiedError | undefined {
    if (error instanceof Exhaustion) return { kind: 'exhaustion', message: error.message };
    if (error instanceof Trap) return { kind: 'trap', message: error.message };
    if (error instanceof LinkError) return { kind: 'link', message: error.message };
    if (error instanceof ValidationError) return { kind: 'validate', message: error.message };
    if (error instanceof DecodeError) return { kind: 'decode', message: error.message };
    return undefined;
  }
}
