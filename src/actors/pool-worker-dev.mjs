// The entry piscina loads for a worker of a pooled hive when the runtime runs from its TypeScript
// sources (the tests): pool-worker.ts through tsx's loader, whose API module the main thread passes
// as workerData.tsxApi. The compiled package uses dist/actors/pool-worker.js instead (see pool.ts).
import { workerData } from 'node:worker_threads';

const { tsImport } = await import(workerData.tsxApi);
const mod = await tsImport('./pool-worker.ts', import.meta.url);
export default mod.default;
