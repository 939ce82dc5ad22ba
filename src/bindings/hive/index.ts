/**
 * The guest ABI `hive`, version 1, as a binding (docs/guest-abi.md is the
 * contract). `HiveAbi` builds one actor's imports (`hive`, and
 * AssemblyScript's `env` helpers) from the signature tables, over a
 * `HivePort`: the interface the actor system implements for the calling
 * actor. This folder does not know the actor system; the actor system
 * (src/actors/abi.ts) depends on it.
 *
 * Split by capability: messages.ts, processes.ts, names.ts, time.ts,
 * random.ts, log.ts; the numbers of the ABI (statuses, kinds, caps, fuel) are
 * in abi.ts, the signatures in signatures.ts.
 */
export { HiveAbi } from './binding.js';
export type { HivePort, CurrentMessage, SpawnOutcome } from './port.js';
export { ABI_VERSION, HiveStatus, MessageKind, MAX_NAME_BYTES, MAX_REASON_BYTES, MAX_LOG_BYTES, HIVE_FUEL, SPAWN_LINK, SPAWN_SERVICES } from './abi.js';
export { HIVE_V1_SIGNATURES, ASSEMBLYSCRIPT_ENV_SIGNATURES, type AbiSignature, type AbiType } from './signatures.js';
/** Results for an actor system resuming a parked import: one i32 (shared for small values), or none. */
export { i32Result, NO_RESULTS } from './guest.js';
