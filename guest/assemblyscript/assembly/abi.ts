// The raw `hive` ABI, version 1 (docs/guest-abi.md): one declaration per
// imported function, plus the numeric constants of the ABI. Pointers are
// offsets into this module's memory; `usize` is `i32` on wasm32.
//
// Most code should use the typed wrappers in ./index.ts. These declarations
// are exported for code that wants to avoid every allocation (e.g. pong.ts).

/** The ABI version this SDK is written against. */
export const ABI_VERSION: i32 = 1;

// ---- statuses -------------------------------------------------------------

/** Success (functions that return a status and have nothing else to say). */
export const OK: i32 = 0;
/** The timeout passed with nothing to return. */
export const TIMEOUT: i32 = -1;
/** No such actor, name or monitor (or the actor exited). */
export const NOT_FOUND: i32 = -2;
/** The receiver's mailbox is full and the timeout passed. */
export const FULL: i32 = -3;
/** The receiver's schema refused the message. */
export const INVALID: i32 = -4;
/** The name is registered already, or this actor has a name. */
export const TAKEN: i32 = -5;
/** `spawn`: no module of that name is defined in the hive. */
export const NO_MODULE: i32 = -6;
/** `spawn`: the module failed to link, instantiate or start. */
export const SPAWN_FAILED: i32 = -7;
/** An argument is out of range, or a string is not UTF-8. */
export const BAD_ARGUMENT: i32 = -8;
/** The message is larger than the hive's `maxMessageBytes`. */
export const TOO_LARGE: i32 = -9;
/** A resource limit of the actor, its spawn tree or the hive was reached; nothing was made or sent. */
export const LIMIT: i32 = -10;
/** In a service's answer: the service's handler threw or rejected (see `callService`). */
export const FAILED: i32 = -11;
/**
 * In a service's answer: the call was pending when this actor was
 * snapshotted and the service is not idempotent, so it may or may not have run.
 */
export const INTERRUPTED: i32 = -12;
/**
 * Not an ABI status: set by the SDK (see `lastStatus()`) when a message could
 * not be decoded as the type asked for. Chosen far from the ABI's range.
 */
export const DECODE_ERROR: i32 = -100;

// ---- message kinds --------------------------------------------------------

export const MESSAGE: i32 = 0;
export const EXIT: i32 = 1;
export const DOWN: i32 = 2;
export const INIT: i32 = 3;

// ---- spawn flags ----------------------------------------------------------

export const LINK: i32 = 1;
/** The child is granted the spawner's services, in the same order (so at the same addresses). */
export const SERVICES: i32 = 2;

// ---- services -------------------------------------------------------------

/**
 * The first service address: `lookup` gives a granted service the address
 * SERVICE_BASE + its index in the actor's grant list (up to 0x7FFFFFFF),
 * never an actor's pid.
 */
export const SERVICE_BASE: i32 = 0x7FFF0000;

// ---- timeouts -------------------------------------------------------------

export const FOREVER: i32 = -1;
export const NO_WAIT: i32 = 0;

// ---- log levels (pino) ----------------------------------------------------

export const LEVEL_TRACE: i32 = 10;
export const LEVEL_DEBUG: i32 = 20;
export const LEVEL_INFO: i32 = 30;
export const LEVEL_WARN: i32 = 40;
export const LEVEL_ERROR: i32 = 50;
export const LEVEL_FATAL: i32 = 60;

// ---- the imports ----------------------------------------------------------

// Messages
@external("hive", "receive")
export declare function receive(timeout: i32): i32;
@external("hive", "size")
export declare function size(): i32;
@external("hive", "read")
export declare function read(ptr: usize, len: i32): i32;
@external("hive", "kind")
export declare function kind(): i32;
@external("hive", "sender")
export declare function sender(): i32;
@external("hive", "send")
export declare function send(to: i32, ptr: usize, len: i32, timeout: i32): i32;
@external("hive", "reply")
export declare function reply(ptr: usize, len: i32): i32;
@external("hive", "call")
export declare function call(to: i32, ptr: usize, len: i32, timeout: i32): i32;

// Actors
@external("hive", "self")
export declare function self(): i32;
@external("hive", "spawn")
export declare function spawn(modulePtr: usize, moduleLen: i32, initPtr: usize, initLen: i32, flags: i32): i32;
@external("hive", "register")
export declare function register(namePtr: usize, nameLen: i32): i32;
@external("hive", "unregister")
export declare function unregister(): i32;
@external("hive", "lookup")
export declare function lookup(namePtr: usize, nameLen: i32): i32;

// Failure
@external("hive", "link")
export declare function link(pid: i32): i32;
@external("hive", "unlink")
export declare function unlink(pid: i32): i32;
@external("hive", "monitor")
export declare function monitor(pid: i32): i32;
@external("hive", "demonitor")
export declare function demonitor(ref: i32): i32;
@external("hive", "exit")
export declare function exit(pid: i32, reasonPtr: usize, reasonLen: i32): i32;
@external("hive", "trap_exit")
export declare function trap_exit(on: i32): i32;

// Time, randomness, logs
@external("hive", "sleep")
export declare function sleep(ms: i32): void;
@external("hive", "now")
export declare function now(): i64;
@external("hive", "random")
export declare function random(ptr: usize, len: i32): void;
@external("hive", "log")
export declare function log(level: i32, ptr: usize, len: i32): void;
@external("hive", "abi_version")
export declare function abi_version(): i32;
