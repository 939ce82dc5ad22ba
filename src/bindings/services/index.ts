/**
 * Built-in native services, written against the service contract
 * (`../service.ts`) only, for a host to register with `hive.service`:
 *
 * - `kv`: a key-value store with one namespace per calling actor, behind a
 *   `KvStore` (in memory by default, `memoryKvStore`; a host passes a durable
 *   one), idempotent by call id.
 * - `timer`: messages sent to the calling actor later, once or repeatedly,
 *   on the hive's clock.
 * - `http`: outbound requests to an allow-list of origins.
 *
 * Every resource they hold is bounded by an option with a default.
 */
export { kv, memoryKvStore } from './kv.js';
export type { KvOptions, KvStore, KvWrite, KvHandlers } from './kv.js';
export { timer, MAX_TIMER_MS } from './timer.js';
export type { TimerOptions, TimerHandlers } from './timer.js';
export { http } from './http.js';
export type { HttpOptions, HttpRequest, HttpResponse, HttpHandlers } from './http.js';
