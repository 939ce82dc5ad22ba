/**
 * The engine: a WebAssembly 2.0 interpreter with explicit frames.
 *
 * Pipeline: decode (bytes -> ModuleAst) -> validate (typing rules, stack
 * heights) -> lower (function bodies -> compact Int32Array code, on first
 * call) -> run (one loop over explicit frames). The surface is close to the
 * WebAssembly JS API (`Module`, `Instance`, `Memory`, `Table`, `Global`),
 * plus `Func.invoke`, which takes raw values and returns a `Completion`, and
 * `Instance.call` / `resume`, calls that can pause (out of fuel, or waiting
 * on a host function) and continue.
 * This folder knows nothing of actors.
 */
export { Module, compile, type CompileOptions } from './module.js';
export { Instance, instantiate, funcOfJs, type Imports, type ImportValue, type ExportValue, type InstanceOptions, type ResumeInput } from './instance.js';
export { Func, Memory, MemoryPool, type MemoryPoolOptions, type MemoryPoolStats, Table, Global, Suspend, type HostCaller, type HostFn, type I32HostFn, type HostResult, type GrowthBudget } from './runtime.js';
export type { Outcome, Completion, HostCall, Features } from './api.js';
export { WasmError, DecodeError, ValidationError, LinkError, Trap, Exhaustion, SnapshotError, StateError, type StackFrame } from './errors.js';
export { i32, i64, f32, f64, f32bits, f64bits, f32FromBits, f64FromBits, toJs, fromJs, type Value, type ValueTypeName } from './values.js';
export { ValType, type FuncType } from './types.js';
export { snapshot, snapshotAsync, restore, readSnapshot, snapshotHostState, SNAPSHOT_FORMAT, CODE_VERSION, type SnapshotOptions, type RestoreOptions, type SnapshotInfo, type ReadSnapshotOptions, type ExternCodec } from './snapshot.js';
export { decodeModule } from './decode.js';
export { validateModule } from './validate.js';
export { disassemble, disassembleLowered } from './disasm.js';
/** Warms up the interpreter so that V8 optimizes its loop for every instruction (once per process; `Hive` calls it). */
export { warmUp } from './warmup.js';
