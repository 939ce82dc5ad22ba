/**
 * The numbers of the guest ABI `hive`, version 1 (docs/guest-abi.md): its
 * version, statuses, message kinds, the caps on strings, and the fuel its
 * host work costs. The actor system answers with these statuses; guests and
 * SDKs are built against them.
 */

/** Version of the guest ABI this runtime implements. */
export const ABI_VERSION = 1;

/** Statuses the guest ABI returns (docs/guest-abi.md, "Conventions"). */
export const HiveStatus = {
  OK: 0,
  TIMEOUT: -1,
  NOT_FOUND: -2,
  FULL: -3,
  INVALID: -4,
  TAKEN: -5,
  NO_MODULE: -6,
  SPAWN_FAILED: -7,
  BAD_ARGUMENT: -8,
  TOO_LARGE: -9,
  LIMIT: -10,
  /** A service's handler threw or rejected (in a service's answer, docs/guest-abi.md "Services"). */
  FAILED: -11,
  /** A call to a service was pending when its caller was snapshotted, and the service does not declare itself idempotent: it may or may not have run. */
  INTERRUPTED: -12,
} as const;

/** `spawn` flag: link to the new actor atomically. */
export const SPAWN_LINK = 1;
/** `spawn` flag: the new actor is granted the spawner's services (the same list: the same addresses). */
export const SPAWN_SERVICES = 2;

/** Kinds of messages, as the guest ABI numbers them (docs/guest-abi.md, "Messages"). */
export const MessageKind = { MESSAGE: 0, EXIT: 1, DOWN: 2, INIT: 3 } as const;

/** Longest registered name or module name, in bytes of UTF-8. */
export const MAX_NAME_BYTES = 255;
/** Longest exit reason a guest may give, in bytes of UTF-8 (reasons are copied into every EXIT and DOWN message). */
export const MAX_REASON_BYTES = 1024;
/** Longest log line, in bytes of UTF-8: longer lines are cut. */
export const MAX_LOG_BYTES = 8192;

/**
 * Fuel for host work, on top of the one unit of the call instruction
 * (docs/guest-abi.md, "Costs"). Measured against the engine, where one unit
 * is about one instruction: the bulk memory instructions charge one unit per
 * 64 bytes, random bytes cost about one instruction each, a spawn about ten
 * thousand.
 */
export const HIVE_FUEL = {
  /** Bytes of a message copied from or into memory per unit. */
  MESSAGE_BYTES_PER_FUEL: 16,
  /** Units per byte of a string read (names, reasons, log lines). */
  FUEL_PER_TEXT_BYTE: 1,
  /** Units per random byte. */
  FUEL_PER_RANDOM_BYTE: 1,
  /** Units of a log line, besides its bytes (formatting and writing it). */
  LOG_FUEL: 300,
  /**
   * Units of every import besides `abi_version`, on top of the call: the
   * runtime's own work for the simplest import (a status, a map look-up) was
   * measured at 8 to 40 times an instruction, so slices of import calls held
   * the thread up to 20 times longer than slices of plain code.
   */
  IMPORT_FUEL: 40,
  /** Units of a spawn, besides its init message, its memory and its start function. */
  SPAWN_FUEL: 10_000,
  /** Bytes of a new actor's memory per unit (as memory.fill charges to clear them). */
  MEMORY_BYTES_PER_FUEL: 64,
  /** Table elements of a new actor per unit (as table.fill charges to set them). */
  ELEMENTS_PER_FUEL: 8,
  /** Queued signals `demonitor` looks through per unit. */
  SIGNALS_PER_FUEL: 8,
} as const;
