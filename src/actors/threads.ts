/**
 * `WorkerPool`: the worker threads that pooled hives run their actors on. A
 * piscina pool whose every thread runs one long task, an agent
 * (pool-worker.ts), which starts and stops hives' partitions when told over
 * its MessagePort. A hive made with `workers: N` has a pool of its own,
 * closed with it; hives given one `WorkerPool` share its threads (and the
 * threads' warmed-up interpreter), one partition of each hive per thread.
 *
 * piscina does what it is good at: making the threads with their
 * `resourceLimits`, noticing a thread that died (its task fails), and
 * making a new one in its place, on which a new agent starts.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AgentMessage, AgentTask, PartitionTask } from './protocol.js';

/** Options of a worker pool. */
export interface WorkerPoolOptions {
  /** Threads (default 2; 1 to 64). */
  threads?: number;
  /** Heap limits of each thread (piscina's `resourceLimits`): a thread over them dies, and its actors exit with `worker-crashed`. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
}

/** One thread's agent, as the main thread sees it. */
interface Agent {
  readonly index: number;
  port: MessagePort;
  alive: boolean;
  /** The thread's id (0 until the agent said hello). */
  threadId: number;
  /** Resolves when the agent said hello. */
  readonly up: Promise<void>;
  /**
   * Whether piscina handed the agent its task already: at once for the
   * threads made with the pool (piscina starts them ready), and for a thread
   * that replaced a dead one once its agent said hello (piscina hands it the
   * task from this thread's event loop).
   */
  dispatched: boolean;
  /** What to tell when the thread dies: its partitions' hives. */
  readonly lost: Set<(reason: string) => void>;
}

/** Reads a pool's internals (the runtime's own; not part of the API). */
let agentsOf: (p: WorkerPool) => PoolAgents;

/**
 * Worker threads for pooled hives (`new Hive({ workers: pool })`). Share
 * one between hives so that they share threads; close it when done.
 */
export class WorkerPool {
  readonly #piscina: Piscina;
  readonly #agents: Agent[] = [];
  #closed = false;

  static {
    agentsOf = (p) => ({
      start: (index, task, lost) => p.#start(index, task, lost),
      get size() {
        return p.#agents.length;
      },
      alive: (index) => p.#agents[index]?.alive === true,
      dispatched: (index) => p.#agents[index]?.dispatched === true,
      worker: (index) => p.#worker(index),
    });
  }

  constructor(options: WorkerPoolOptions = {}) {
    const threads = options.threads ?? 2;
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) throw new RangeError('threads must be an integer from 1 to 64');
    const { filename, tsxApi } = agentEntry();
    this.#piscina = new Piscina({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      // One agent per thread: a new agent task (after a thread died) goes to the new thread.
      concurrentTasksPerWorker: 1,
      // The threads' event loops stay free: partitions wait on their rings, not on piscina's.
      atomics: 'disabled',
      workerData: { tsxApi },
      ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    });
    // A thread that dies fails its agent's task (see #startAgent); piscina's own error event must not crash the host.
    this.#piscina.on('error', () => {});
    for (let i = 0; i < threads; i++) this.#startAgent(i, true);
  }

  /** Threads in the pool. */
  get threads(): number {
    return this.#agents.length;
  }

  /**
   * Resolves once every thread is up (its agent answered, after running the
   * interpreter's warm-up; V8 then compiles the interpreter's loop in the
   * background, about a second of CPU per thread). Hives may be made
   * before: their first spawn then waits for the thread, blocking this one
   * (a thread's start loads and compiles the runtime: tens to hundreds of ms).
   */
  ready(): Promise<void> {
    return Promise.all(this.#agents.map((a) => a.up)).then(() => {});
  }

  /** Stops the threads. Hives still using them lose their actors (`worker-stopped`). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const a of this.#agents) {
      a.alive = false;
      a.port.postMessage({ t: 'stop' } satisfies AgentMessage);
      a.port.close();
      for (const f of a.lost) f('worker-stopped');
      a.lost.clear();
    }
    await this.#piscina.destroy();
  }

  #startAgent(index: number, initial = false): void {
    const { port1, port2 } = new MessageChannel();
    const prev = this.#agents[index];
    let hello!: () => void;
    const up = new Promise<void>((resolve) => (hello = resolve));
    const agent: Agent = { index, port: port1, alive: true, threadId: 0, dispatched: initial, up, lost: prev?.lost ?? new Set() };
    this.#agents[index] = agent;
    port1.on('message', (m: { t: string; threadId: number }) => {
      if (m.t !== 'hello') return;
      agent.threadId = m.threadId;
      agent.dispatched = true;
      hello();
    });
    // The agent's port must not keep the host's process alive: an idle pool does not hold a program open.
    port1.unref();
    const task: AgentTask = { index, port: port2 };
    this.#piscina.run(task, { transferList: [port2] }).then(
      () => this.#agentEnded(agent, 'worker-stopped'),
      () => this.#agentEnded(agent, 'worker-crashed'),
    );
  }

  #agentEnded(agent: Agent, reason: string): void {
    if (this.#agents[agent.index] !== agent) return;
    agent.alive = false;
    agent.port.close();
    const lost = [...agent.lost];
    agent.lost.clear();
    if (!this.#closed) this.#startAgent(agent.index); // piscina made a new thread in the dead one's place
    for (const f of lost) f(reason);
  }

  #start(index: number, task: PartitionTask, lost: (reason: string) => void): () => void {
    const agent = this.#agents[index]!;
    agent.lost.add(lost);
    agent.port.postMessage({ t: 'partition', task } satisfies AgentMessage, [task.hostPort]);
    return () => agent.lost.delete(lost);
  }

  #worker(index: number): Worker | undefined {
    // piscina's threads, in no particular order: the agent's is the one whose threadId its partitions reported.
    const id = this.#agents[index]?.threadId;
    return this.#piscina.threads.find((w) => w.threadId === id);
  }
}

/** @internal What a hive's pool (pool.ts) uses of a WorkerPool. */
export interface PoolAgents {
  /** Starts a partition on agent `index`; `lost` is called if its thread dies. Returns a function that forgets `lost`. */
  start(index: number, task: PartitionTask, lost: (reason: string) => void): () => void;
  readonly size: number;
  alive(index: number): boolean;
  /** Whether the agent has its task (a partition started there now starts without this thread's event loop). */
  dispatched(index: number): boolean;
  /** The Worker of agent `index` (tests terminate it). */
  worker(index: number): Worker | undefined;
}

/** @internal A pool's agents (the runtime's own use). */
export function poolAgents(pool: WorkerPool): PoolAgents {
  return agentsOf(pool);
}

/**
 * The agent's entry for piscina: the compiled pool-worker.js beside this
 * file, or, when this runs from the TypeScript sources (the tests), a small
 * loader that imports pool-worker.ts through tsx (whose API module is given
 * to the threads as workerData).
 */
function agentEntry(): { filename: string; tsxApi: string | null } {
  const here = import.meta.url;
  if (here.endsWith('.js')) return { filename: fileURLToPath(new URL('./pool-worker.js', here)), tsxApi: null };
  const require = createRequire(here);
  const pkg = require.resolve('tsx/package.json');
  const api = new URL((require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default, `file://${pkg}`).href;
  return { filename: fileURLToPath(new URL('./pool-worker-dev.mjs', here)), tsxApi: api };
}
