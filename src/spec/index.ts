/**
 * The spec conformance runner: runs the WebAssembly testsuite's JSON scripts
 * (as converted by wast2json) against an engine and reports per script and in
 * total. `createEngine` gives the adapters: wasmhive's VM, or V8 to check the
 * runner itself.
 */
import type { SpecEngine } from './engine.js';

export type { SpecEngine, SpecFeatures, ErrorKind, ClassifiedError, EngineInstance, EngineModule, ImportObject } from './engine.js';
export { runScript, ScriptRunner, type ScriptResult, type Failure, type MessageMismatch, type RunOptions } from './runner.js';
export {
  discoverScripts,
  featuresFor,
  isSimdScript,
  loadScript,
  scriptJsonOf,
  specRoot,
  type JsonAction,
  type JsonCommand,
  type JsonScript,
  type ScriptRef,
} from './script.js';
export {
  formatDetails,
  formatTable,
  formatTotals,
  makeReport,
  matchesFilter,
  runSuite,
  totalsOf,
  type SuiteOptions,
  type SuiteReport,
  type Totals,
} from './report.js';
export * from './values.js';

/** Names of the engines {@link createEngine} knows. */
export const ENGINE_NAMES = ['wasmhive', 'v8'] as const;

/** An engine by name. Loaded on demand, so that the V8 engine works even while the VM does not load. */
export async function createEngine(name: (typeof ENGINE_NAMES)[number]): Promise<SpecEngine> {
  switch (name) {
    case 'wasmhive': {
      const { WasmhiveEngine } = await import('./engines/wasmhive.js');
      return new WasmhiveEngine();
    }
    case 'v8': {
      const { V8Engine } = await import('./engines/v8.js');
      return new V8Engine();
    }
  }
}
