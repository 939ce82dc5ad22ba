/**
 * The parts of the WebAssembly JS API that wasmhive uses to compare its
 * engine with V8's (the benchmarks, the demo, the spec runner's V8 engine,
 * differential tests). Node 20's type definitions do not declare them.
 */
declare namespace WebAssembly {
  type Bytes = ArrayBufferView | ArrayBuffer;
  type ImportObject = Record<string, Record<string, unknown>>;
  interface Descriptor { module?: string; name: string; kind: 'function' | 'table' | 'memory' | 'global' }
  class Module {
    constructor(bytes: Bytes);
    static imports(m: Module): Required<Descriptor>[];
    static exports(m: Module): Descriptor[];
    static customSections(m: Module, name: string): ArrayBuffer[];
  }
  class Instance {
    constructor(m: Module, imports?: ImportObject);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(d: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Table {
    constructor(d: { element: 'anyfunc' | 'funcref' | 'externref'; initial: number; maximum?: number }, value?: unknown);
    readonly length: number;
    get(i: number): unknown;
    set(i: number, v?: unknown): void;
    grow(delta: number, v?: unknown): number;
  }
  class Global {
    constructor(d: { value: 'i32' | 'i64' | 'f32' | 'f64' | 'externref' | 'anyfunc' | 'funcref'; mutable?: boolean }, v?: unknown);
    value: unknown;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  function validate(bytes: Bytes): boolean;
  function compile(bytes: Bytes): Promise<Module>;
  function instantiate(bytes: Bytes, imports?: ImportObject): Promise<{ module: Module; instance: Instance }>;
  function instantiate(module: Module, imports?: ImportObject): Promise<Instance>;
}
