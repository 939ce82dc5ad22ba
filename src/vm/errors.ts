/**
 * Errors of the engine, one class per phase. Messages use the texts of the
 * WebAssembly specification's reference interpreter ("unexpected end",
 * "type mismatch", "integer divide by zero", ...), so that a user can look
 * them up and the spec testsuite can compare them.
 */

/** Base class of every error the engine reports. */
export class WasmError extends Error {
  /** The phase that failed. */
  readonly phase: 'decode' | 'validate' | 'link' | 'trap' | 'exhaustion' | 'snapshot' | 'state';
  constructor(phase: WasmError['phase'], message: string) {
    super(message);
    this.phase = phase;
    this.name = new.target.name;
  }
}

/** The bytes are not a well-formed WebAssembly binary. `offset` is where decoding stopped. */
export class DecodeError extends WasmError {
  readonly offset: number;
  constructor(message: string, offset = -1) {
    super('decode', message);
    this.offset = offset;
  }
}

/** The module is well-formed but breaks a typing rule. `func` is the defined-function index when the rule broke inside a body. */
export class ValidationError extends WasmError {
  readonly func: number;
  readonly offset: number;
  constructor(message: string, func = -1, offset = -1) {
    super('validate', message);
    this.func = func;
    this.offset = offset;
  }
}

/** Instantiation could not match the module's imports ("unknown import", "incompatible import type"). */
export class LinkError extends WasmError {
  constructor(message: string) {
    super('link', message);
  }
}

/** One frame of a wasm stack trace. */
export interface StackFrame {
  /** Function index in its module's function index space. */
  func: number;
  /** Name from the `name` section, or `func[N]`. */
  name: string;
  /** Offset in the lowered code of the function, for diagnostics. */
  pc: number;
}

/** The guest trapped ("unreachable", "integer divide by zero", "out of bounds memory access", ...). */
export class Trap extends WasmError {
  /** Wasm frames, innermost first. */
  wasmStack: StackFrame[];
  constructor(message: string, wasmStack: StackFrame[] = [], phase: 'trap' | 'exhaustion' = 'trap') {
    super(phase, message);
    this.wasmStack = wasmStack;
    if (wasmStack.length > 0) this.setWasmStack(wasmStack, wasmStack.length);
  }

  /** Sets the wasm frames (innermost first) of a trap that happened `depth` calls deep, and its `stack` text. */
  setWasmStack(frames: StackFrame[], depth: number): void {
    this.wasmStack = frames;
    this.stack = `${this.name}: ${this.message}\n` + formatFrames(frames, depth);
  }
}

/** Stack trace lines, with runs of the same frame folded into one line. */
function formatFrames(frames: StackFrame[], total: number): string {
  const lines: string[] = [];
  for (let i = 0; i < frames.length; ) {
    const f = frames[i]!;
    let j = i + 1;
    while (j < frames.length && frames[j]!.func === f.func && frames[j]!.pc === f.pc) j++;
    lines.push(`    at ${f.name} (wasm-function[${f.func}]:pc=${f.pc})` + (j - i > 1 ? ` x${j - i}` : ''));
    i = j;
  }
  if (total > frames.length) lines.push(`    ... ${total - frames.length} more frames`);
  return lines.join('\n');
}

/** A resource limit ran out ("call stack exhausted"). A kind of trap: the instance stays usable. */
export class Exhaustion extends Trap {
  constructor(message: string, wasmStack: StackFrame[] = []) {
    super(message, wasmStack, 'exhaustion');
  }
}

/** Snapshot bytes could not be read or do not fit the module. */
export class SnapshotError extends WasmError {
  /**
   * The limit the snapshot exceeds (an option's name, such as
   * `maxMemoryPages` or `maxFrames`), or null when it is malformed or of
   * another module: a host may treat "too big for here" differently.
   */
  readonly budget: string | null;
  constructor(message: string, budget: string | null = null) {
    super('snapshot', message);
    this.budget = budget;
  }
}

/** The host asked an instance for something its state does not allow (calling it while a call is paused, resuming one that is not). */
export class StateError extends WasmError {
  constructor(message: string) {
    super('state', message);
  }
}
