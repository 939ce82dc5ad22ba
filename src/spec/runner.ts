/**
 * The conformance runner: runs one script's commands in order against a
 * {@link SpecEngine} and counts passed, failed and skipped commands, plus
 * message mismatches (right error class, different message text).
 *
 * Semantics follow the reference interpreter's script runner: a `module`
 * command makes the current module (and binds its `name`), `register` makes a
 * module's exports importable under a name, actions default to the current
 * module, and a module that failed to compile or instantiate makes every later
 * command that uses it fail. Each command is guarded: an unexpected exception
 * (an engine bug, not a wasm error) fails that command only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassifiedError, EngineInstance, EngineModule, ErrorKind, ImportObject, SpecEngine, SpecFeatures } from './engine.js';
import { featuresFor, loadScript, type JsonAction, type JsonCommand, type ScriptRef } from './script.js';
import {
  formatExpectation,
  formatValue,
  HostRefs,
  matches,
  parseExpectation,
  parseValue,
  type SpecTypeName,
  type SpecValue,
} from './values.js';

/** A failed command. */
export interface Failure {
  line: number;
  /** The command type (`assert_return`, `module`, ...). */
  command: string;
  reason: string;
}

/** A command that raised the right error class with a message not starting with the expected text. */
export interface MessageMismatch {
  line: number;
  command: string;
  expected: string;
  actual: string;
}

/** The outcome of one script. */
export interface ScriptResult {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  msgMismatch: number;
  failures: Failure[];
  mismatches: MessageMismatch[];
  /** Wall time in milliseconds. */
  ms: number;
}

/** Options of {@link runScript}. */
export interface RunOptions {
  /** Features to enable; by default derived from the script's directory (see `featuresFor`). */
  features?: SpecFeatures;
  /** Stop recording failure details after this many per script (counts stay exact). Default 1000. */
  maxFailureDetails?: number;
}

/** Thrown inside the runner to fail the current command with a reason. */
class CommandFailed extends Error {}

/** A module slot: an instance, or why the module command that made it failed. */
type Slot = { instance: EngineInstance } | { error: string; line: number };

/** The kinds of error each assertion accepts. */
const EXPECTED_KINDS: Record<string, { kinds: ErrorKind[]; label: string }> = {
  assert_trap: { kinds: ['trap'], label: 'a trap' },
  assert_exhaustion: { kinds: ['exhaustion'], label: 'exhaustion' },
  assert_malformed: { kinds: ['decode', 'compile'], label: 'a decode error' },
  assert_invalid: { kinds: ['validate', 'compile'], label: 'a validation error' },
  assert_unlinkable: { kinds: ['link'], label: 'a link error' },
  assert_uninstantiable: { kinds: ['trap'], label: 'a trap at instantiation' },
};

function describeError(e: ClassifiedError): string {
  return `${e.kind} error: ${e.message}`;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Runs a script's commands against an engine. Never throws: problems become failures. */
export class ScriptRunner {
  private readonly hostRefs = new HostRefs();
  private readonly named = new Map<string, Slot>();
  private readonly registry: ImportObject;
  private current: Slot | undefined;
  private readonly features: SpecFeatures;
  private readonly maxDetails: number;
  readonly result: ScriptResult;

  constructor(
    private readonly engine: SpecEngine,
    private readonly script: ScriptRef,
    options: RunOptions = {},
  ) {
    this.features = options.features ?? featuresFor(script.dir);
    this.maxDetails = options.maxFailureDetails ?? 1000;
    this.result = { name: script.name, passed: 0, failed: 0, skipped: 0, msgMismatch: 0, failures: [], mismatches: [], ms: 0 };
    this.registry = {};
  }

  /** Runs every command of the script and returns the result. */
  run(): ScriptResult {
    const start = performance.now();
    try {
      this.registry['spectest'] = this.engine.spectest();
    } catch (e) {
      this.fail(0, 'spectest', `could not make the spectest module: ${messageOf(e)}`);
    }
    let commands: JsonCommand[] = [];
    try {
      commands = loadScript(this.script.json).commands;
    } catch (e) {
      this.fail(0, 'script', `could not load ${this.script.json}: ${messageOf(e)}`);
    }
    for (const cmd of commands) this.runGuarded(cmd);
    this.result.ms = performance.now() - start;
    return this.result;
  }

  private fail(line: number, command: string, reason: string): void {
    this.result.failed++;
    if (this.result.failures.length < this.maxDetails) this.result.failures.push({ line, command, reason });
  }

  private runGuarded(cmd: JsonCommand): void {
    const line = typeof cmd.line === 'number' ? cmd.line : 0;
    const type = typeof cmd.type === 'string' ? cmd.type : '?';
    try {
      const outcome = this.runCommand(cmd);
      if (outcome === 'skipped') this.result.skipped++;
      else this.result.passed++;
    } catch (e) {
      if (e instanceof CommandFailed) this.fail(line, type, e.message);
      else this.fail(line, type, `unexpected exception: ${messageOf(e)}`);
    }
  }

  /** Runs one command; returns normally when it passed or was skipped, throws CommandFailed (or anything) when it failed. */
  private runCommand(cmd: JsonCommand): 'passed' | 'skipped' {
    switch (cmd.type) {
      case 'module':
        return this.moduleCommand(cmd);
      case 'register':
        return this.registerCommand(cmd);
      case 'action':
        this.perform(cmd.action, cmd.expected);
        return 'passed';
      case 'assert_return':
        return this.assertReturn(cmd);
      case 'assert_trap':
        // wast2json turns `(assert_trap (module ...))` into assert_uninstantiable, but accept the module form too.
        if (cmd.action === undefined && cmd.filename !== undefined) return this.assertModuleError(cmd, 'instantiate');
        return this.assertActionError(cmd);
      case 'assert_exhaustion':
        return this.assertActionError(cmd);
      case 'assert_malformed':
      case 'assert_invalid':
        return this.assertModuleError(cmd, 'compile');
      case 'assert_unlinkable':
      case 'assert_uninstantiable':
        return this.assertModuleError(cmd, 'instantiate');
      default:
        throw new CommandFailed(`unknown command type ${JSON.stringify(cmd.type)}`);
    }
  }

  /** Reads a module file beside the script, or returns undefined for a text module (skipped). */
  private moduleBytes(cmd: JsonCommand): Uint8Array | undefined {
    if (cmd.module_type === 'text') return undefined;
    if (cmd.filename === undefined) throw new CommandFailed('module command without a filename');
    if (!cmd.filename.endsWith('.wasm')) return undefined; // a text module without module_type; same treatment
    return new Uint8Array(readFileSync(join(this.script.dir, cmd.filename)));
  }

  private classify(e: unknown): ClassifiedError {
    const c = this.engine.classify(e);
    if (c === undefined) throw new CommandFailed(`unexpected exception: ${messageOf(e)}`);
    return c;
  }

  private compile(bytes: Uint8Array): EngineModule {
    try {
      return this.engine.compile(bytes, this.features);
    } catch (e) {
      throw new CommandFailed(`compile failed: ${describeError(this.classify(e))}`);
    }
  }

  private moduleCommand(cmd: JsonCommand): 'passed' | 'skipped' {
    let slot: Slot = { error: 'module command did not finish', line: cmd.line };
    try {
      const bytes = this.moduleBytes(cmd);
      if (bytes === undefined) {
        slot = { error: 'text module (not run)', line: cmd.line };
        return 'skipped';
      }
      const mod = this.compile(bytes);
      try {
        slot = { instance: mod.instantiate(this.registry) };
      } catch (e) {
        throw new CommandFailed(`instantiate failed: ${describeError(this.classify(e))}`);
      }
      return 'passed';
    } catch (e) {
      slot = { error: e instanceof CommandFailed ? e.message : `unexpected exception: ${messageOf(e)}`, line: cmd.line };
      throw e;
    } finally {
      this.current = slot;
      if (cmd.name !== undefined) this.named.set(cmd.name, slot);
    }
  }

  private resolve(name: string | undefined): EngineInstance {
    const slot = name === undefined ? this.current : this.named.get(name);
    if (slot === undefined) throw new CommandFailed(name === undefined ? 'no current module' : `unknown module ${name}`);
    if ('error' in slot) throw new CommandFailed(`module at line ${slot.line} is unavailable: ${slot.error}`);
    return slot.instance;
  }

  private registerCommand(cmd: JsonCommand): 'passed' {
    if (cmd.as === undefined) throw new CommandFailed('register without "as"');
    const instance = this.resolve(cmd.name);
    this.registry[cmd.as] = instance.exports();
    return 'passed';
  }

  /** Performs an action; returns its results, or throws the engine's error as is (for the caller to classify). */
  private performRaw(action: JsonAction | undefined, expected: JsonCommand['expected']): SpecValue[] {
    if (action === undefined) throw new CommandFailed('command without an action');
    const instance = this.resolve(action.module);
    if (action.type === 'get') return [instance.get(action.field, expected?.[0]?.type as SpecTypeName | undefined)];
    if (action.type !== 'invoke') throw new CommandFailed(`unknown action type ${JSON.stringify(action.type)}`);
    let args: SpecValue[];
    try {
      args = (action.args ?? []).map((a) => parseValue(a, this.hostRefs));
    } catch (e) {
      throw new CommandFailed(`bad argument: ${messageOf(e)}`);
    }
    const resultTypes = expected?.map((v) => v.type as SpecTypeName);
    return instance.invoke(action.field, args, resultTypes);
  }

  /** Performs an action and returns its results; an error of any kind fails the command. */
  private perform(action: JsonAction | undefined, expected: JsonCommand['expected']): SpecValue[] {
    try {
      return this.performRaw(action, expected);
    } catch (e) {
      if (e instanceof CommandFailed) throw e;
      throw new CommandFailed(`${action?.type ?? 'action'} ${JSON.stringify(action?.field)} failed: ${describeError(this.classify(e))}`);
    }
  }

  private assertReturn(cmd: JsonCommand): 'passed' {
    const expected = (cmd.expected ?? []).map(parseExpectation);
    const results = this.perform(cmd.action, cmd.expected);
    const where = `${cmd.action?.type} ${JSON.stringify(cmd.action?.field)}`;
    if (results.length !== expected.length) {
      throw new CommandFailed(
        `${where}: expected ${expected.length} results [${expected.map(formatExpectation).join(', ')}], got ${results.length} [${results.map(formatValue).join(', ')}]`,
      );
    }
    const bad = expected.findIndex((e, i) => !matches(e, results[i]!, this.hostRefs));
    if (bad >= 0) {
      throw new CommandFailed(
        `${where}: result ${bad}: expected ${formatExpectation(expected[bad]!)}, got ${formatValue(results[bad]!)}` +
          (expected.length > 1 ? ` (all results: [${results.map(formatValue).join(', ')}])` : ''),
      );
    }
    return 'passed';
  }

  /** Checks that an error has the kind the command expects and records a message mismatch if its text differs. */
  private checkError(cmd: JsonCommand, error: ClassifiedError): void {
    const want = EXPECTED_KINDS[cmd.type]!;
    if (!want.kinds.includes(error.kind)) throw new CommandFailed(`expected ${want.label}, got ${describeError(error)}`);
    const text = cmd.text ?? '';
    if (!error.message.startsWith(text)) {
      this.result.msgMismatch++;
      if (this.result.mismatches.length < this.maxDetails) {
        this.result.mismatches.push({ line: cmd.line, command: cmd.type, expected: text, actual: error.message });
      }
    }
  }

  private assertActionError(cmd: JsonCommand): 'passed' {
    let results: SpecValue[];
    try {
      results = this.performRaw(cmd.action, cmd.expected);
    } catch (e) {
      if (e instanceof CommandFailed) throw e;
      this.checkError(cmd, this.classify(e));
      return 'passed';
    }
    throw new CommandFailed(`expected ${EXPECTED_KINDS[cmd.type]!.label} (${JSON.stringify(cmd.text)}), got results [${results.map(formatValue).join(', ')}]`);
  }

  private assertModuleError(cmd: JsonCommand, phase: 'compile' | 'instantiate'): 'passed' | 'skipped' {
    const bytes = this.moduleBytes(cmd);
    if (bytes === undefined) return 'skipped';
    let mod: EngineModule;
    if (phase === 'compile') {
      try {
        mod = this.engine.compile(bytes, this.features);
      } catch (e) {
        this.checkError(cmd, this.classify(e));
        return 'passed';
      }
      throw new CommandFailed(`expected ${EXPECTED_KINDS[cmd.type]!.label} (${JSON.stringify(cmd.text)}), but the module compiled`);
    }
    mod = this.compile(bytes);
    try {
      mod.instantiate(this.registry);
    } catch (e) {
      this.checkError(cmd, this.classify(e));
      return 'passed';
    }
    throw new CommandFailed(`expected ${EXPECTED_KINDS[cmd.type]!.label} (${JSON.stringify(cmd.text)}), but the module instantiated`);
  }
}

/** Runs one script against an engine. Never throws: every problem is a failure in the result. */
export function runScript(engine: SpecEngine, script: ScriptRef, options?: RunOptions): ScriptResult {
  return new ScriptRunner(engine, script, options).run();
}
