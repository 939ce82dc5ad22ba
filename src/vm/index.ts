/**
 * The engine: a WebAssembly 2.0 interpreter with explicit frames.
 *
 * Pipeline: decode (bytes -> ModuleAst) -> validate (typing rules, stack
 * heights) -> lower (function bodies -> compact Int32Array code, on first
 * call) -> run (one loop over explicit frames). The surface is close to the
 * WebAssembly JS API (`Module`, `Instance`, `Memory`, `Table`, `Global`),
 * plus `Func.invoke`, which takes raw values and returns an `Outcome`.
 * This folder knows nothing of actors.
 */
export { Module, compile, type CompileOptions } from './module.js';
export { Instance, instantiate, funcOfJs, type Imports, type ImportValue, type ExportValue, type InstanceOptions } from './instance.js';
export { Func, Memory, Table, Global, type HostFn } from './runtime.js';
export type { Outcome, Features } from './api.js';
export { WasmError, DecodeError, ValidationError, LinkError, Trap, Exhaustion, SnapshotError, type StackFrame } from './errors.js';
export { i32, i64, f32, f64, f32bits, f64bits, f32FromBits, f64FromBits, toJs, fromJs, type Value, type ValueTypeName } from './values.js';
export { ValType, type FuncType } from './types.js';
export { decodeModule } from './decode.js';
export { validateModule } from './validate.js';
export { disassemble } from './disasm.js';
