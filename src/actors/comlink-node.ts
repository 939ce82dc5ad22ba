/**
 * comlink's adapter for Node's MessagePorts, as one typed function: comlink
 * ships it as a CommonJS module whose export is the function itself, while
 * its types declare it as a default export.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import adapter from 'comlink/dist/umd/node-adapter.js';

/** A MessagePort as a comlink endpoint. */
export const nodeEndpoint = ((adapter as unknown as { default?: unknown }).default ?? adapter) as unknown as (port: MessagePort) => Endpoint;
