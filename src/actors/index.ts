/**
 * Actors: many wasm guests in one hive, each a VM of our engine with a
 * mailbox. The host spawns them (`Hive.spawn`), talks to them through typed
 * `ActorRef`s (send, call with a timeout), names them, links and monitors
 * them, supervises them (`Hive.supervise`), snapshots and restores them one
 * at a time. Guests use the import module `hive` (guest ABI version 1,
 * docs/guest-abi.md): blocking receive, send, reply, call, spawn, names,
 * links, monitors, exits, sleep, now, random, log. Every resource a guest
 * can make the host hold is bounded (src/actors/limits.ts): hitting a limit
 * gives the guest the status LIMIT, the host a LimitError, the operator a
 * `limit` event. With `workers`, actors run on worker threads (a
 * `WorkerPool`), behind the same API.
 */
export { Hive } from './hive.js';
export { WorkerPool, type WorkerPoolOptions } from './threads.js';
export type { HiveOptions, PlacementRequest, ActorOptions, SpawnOptions, WasiGrant, HostImports, RawHostFunction, ModuleDef, HiveEvents, ActorEvent, ExitEvent, RestartEvent, DeadLetter, LimitEvent } from './types.js';
export { ActorRef, Inbox, type InboxOptions, type CallOptions, type SendOptions, type Received, type ActorInfo } from './ref.js';
export { Service, SERVICE_BASE } from './service.js';
export { defineService, ServiceError, type ServiceContext, type ServiceHandlers, type ServiceMethod, type ServiceOptions, type ServiceDefinition, type ServiceHost, type ServiceSchema, type RequestOf, type ResponseOf } from '../bindings/service.js';
export { Supervisor, type SupervisorSpec, type ChildSpec, type Strategy } from './supervisor.js';
export { Pid, PID_EXT, encode, decode, checkSchema, MessageEncodeError, MessageDecodeError, type Schema, type ActorSchema } from './codec.js';
export { Kind, Status, isNormalExit } from './envelope.js';
export { ABI_VERSION } from './abi.js';
export { DEFAULT_ACTOR_LIMITS, DEFAULT_HIVE_LIMITS, type ActorLimits, type HiveLimits } from './limits.js';
export type { RestoreActorOptions } from './snapshot.js';
export type { DurableOptions } from './types.js';
export { ACTOR_SNAPSHOT_FORMAT, readActorSnapshot } from './snapshot-format.js';
export { ActorError, ActorExitedError, NotFoundError, CallTimeoutError, MailboxFullError, SchemaError, MessageTooLargeError, NameTakenError, HiveStateError, LimitError, WorkerUnavailableError } from './errors.js';
