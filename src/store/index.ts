/**
 * Stores: where durable actors keep their checkpoints (records under keys)
 * and the messages accepted since (journals of numbered entries), behind
 * one `Store` contract: in memory (tests), in a directory of append-only
 * segment files (the embedded default), and in NATS JetStream.
 * This folder knows nothing of actors.
 */
export { type Store, type JournalEntry, type StoreErrorCode, StoreError, MAX_KEY_LENGTH, MAX_VALUE_BYTES } from './store.js';
export { MemoryStore } from './memory.js';
export { FileStore, type FileStoreOptions } from './file.js';
export { NatsStore, type NatsStoreOptions } from './nats.js';
