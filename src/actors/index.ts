/**
 * Actors: many wasm guests in one hive, each a VM of our engine with a
 * mailbox. The host spawns them (`Hive.spawn`), talks to them through typed
 * `ActorRef`s (send, call with a timeout), names them, links and monitors
 * them, supervises them (`Hive.supervise`), snapshots and restores them one
 * at a time. Guests use the import module `hive` (guest ABI version 1,
 * docs/guest-abi.md): blocking receive, send, reply, call, spawn, names,
 * links, monitors, exits, sleep, now, random, log.
 */
export { Hive, type HiveOptions, type ActorOptions, type SpawnOptions, type ModuleDef, type HiveEvents, type ActorEvent, type ExitEvent, type RestartEvent, type DeadLetter } from './hive.js';
export { ActorRef, Inbox, type CallOptions, type SendOptions, type Received, type ActorInfo } from './ref.js';
export { Supervisor, type SupervisorSpec, type ChildSpec, type Strategy } from './supervisor.js';
export { Pid, PID_EXT, encode, decode, checkSchema, type Schema, type ActorSchema } from './codec.js';
export { Kind, Status, isNormalExit } from './envelope.js';
export { ABI_VERSION } from './abi.js';
export { type ActorLimits } from './actor.js';
export { ACTOR_SNAPSHOT_FORMAT, readActorSnapshot, type RestoreActorOptions } from './snapshot.js';
export { ActorError, ActorExitedError, NotFoundError, CallTimeoutError, MailboxFullError, SchemaError, MessageTooLargeError, NameTakenError, HiveStateError } from './errors.js';
