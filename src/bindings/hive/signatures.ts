/**
 * The signature of every import of the guest ABI, version 1, as data: the
 * import objects are built from these tables (a function's implementation
 * is typed by its row), and a test checks them against docs/guest-abi.md.
 */
import { ValType, type FuncType } from '../../vm/index.js';

/** The value types the ABI uses. */
export type AbiType = 'i32' | 'i64' | 'f64';

/** One import: its parameter and result types, and whether a module's start function may call it. */
export interface AbiSignature {
  readonly params: readonly AbiType[];
  readonly results: readonly AbiType[];
  /** Callable from the start function, before `main` (the others trap there: the actor does not exist yet). */
  readonly fromStart?: true;
}

const i32 = 'i32';
const i64 = 'i64';
const f64 = 'f64';

/** Every function of the import module `hive`, version 1 (docs/guest-abi.md). */
export const HIVE_V1_SIGNATURES = {
  // Messages
  receive: { params: [i32], results: [i32] },
  size: { params: [], results: [i32] },
  read: { params: [i32, i32], results: [i32] },
  kind: { params: [], results: [i32] },
  sender: { params: [], results: [i32] },
  send: { params: [i32, i32, i32, i32], results: [i32] },
  reply: { params: [i32, i32], results: [i32] },
  call: { params: [i32, i32, i32, i32], results: [i32] },
  // Processes
  self: { params: [], results: [i32] },
  spawn: { params: [i32, i32, i32, i32, i32], results: [i32] },
  link: { params: [i32], results: [i32] },
  unlink: { params: [i32], results: [i32] },
  monitor: { params: [i32], results: [i32] },
  demonitor: { params: [i32], results: [i32] },
  exit: { params: [i32, i32, i32], results: [i32] },
  trap_exit: { params: [i32], results: [i32] },
  // Names
  register: { params: [i32, i32], results: [i32] },
  unregister: { params: [], results: [i32] },
  lookup: { params: [i32, i32], results: [i32] },
  // Time, randomness, logs
  sleep: { params: [i32], results: [] },
  now: { params: [], results: [i64] },
  random: { params: [i32, i32], results: [] },
  log: { params: [i32, i32, i32], results: [] },
  // It touches nothing: a start function may check it.
  abi_version: { params: [], results: [i32], fromStart: true },
} as const satisfies Record<string, AbiSignature>;

/**
 * AssemblyScript's own imports from `env` (docs/guest-abi.md, "AssemblyScript's
 * own imports"), given to every actor; all may be called from the start
 * function, where AssemblyScript's top-level code runs.
 */
export const ASSEMBLYSCRIPT_ENV_SIGNATURES = {
  abort: { params: [i32, i32, i32, i32], results: [], fromStart: true },
  trace: { params: [i32, i32, f64, f64, f64, f64, f64], results: [], fromStart: true },
  seed: { params: [], results: [f64], fromStart: true },
} as const satisfies Record<string, AbiSignature>;

/** The `hive` functions by name. */
export type HiveFunctionName = keyof typeof HIVE_V1_SIGNATURES;
/** The `env` functions by name. */
export type EnvFunctionName = keyof typeof ASSEMBLYSCRIPT_ENV_SIGNATURES;

const VAL_TYPE: Record<AbiType, ValType> = { i32: ValType.i32, i64: ValType.i64, f64: ValType.f64 };

function makeType(sig: AbiSignature): FuncType {
  return Object.freeze({ params: Object.freeze(sig.params.map((t) => VAL_TYPE[t])), results: Object.freeze(sig.results.map((t) => VAL_TYPE[t])) }) as FuncType;
}

/**
 * The function types of the tables' rows, made once (and frozen) when this
 * module loads: every actor's imports share them, so the engine computes
 * each one's canonical id once, not once per spawn.
 */
const TABLE_TYPES: ReadonlyMap<AbiSignature, FuncType> = new Map(
  [...Object.values(HIVE_V1_SIGNATURES), ...Object.values(ASSEMBLYSCRIPT_ENV_SIGNATURES)].map((sig) => [sig, makeType(sig)] as const),
);

/** The engine's function type of a signature. */
export function funcType(sig: AbiSignature): FuncType {
  return TABLE_TYPES.get(sig) ?? makeType(sig);
}
