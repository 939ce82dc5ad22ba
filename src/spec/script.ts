/**
 * The testsuite on disk: the JSON command format that wast2json writes,
 * loading one script, finding scripts under a directory (the core directory,
 * a proposals directory, the suite root, or one script's directory), and
 * locating the suite itself.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { SpecFeatures } from './engine.js';
import type { JsonValue } from './values.js';

/** An action of a command: call an export, or read an exported global. */
export interface JsonAction {
  type: 'invoke' | 'get';
  /** The `name` of a module command; absent means the current module. */
  module?: string;
  field: string;
  args?: JsonValue[];
}

/** One command of a script, as wast2json writes it. Fields depend on `type`. */
export interface JsonCommand {
  type: string;
  line: number;
  /** module, assert_invalid/malformed/unlinkable/uninstantiable: the module file beside the JSON. */
  filename?: string;
  /** module: the `$name` it binds; register: the module to register (absent: the current one). */
  name?: string;
  /** register: the import module name. */
  as?: string;
  /** assert_*: `binary` or `text`; text modules are skipped by a binary-only engine. */
  module_type?: 'binary' | 'text';
  action?: JsonAction;
  expected?: JsonValue[];
  /** assert_trap and friends: the expected error message (a prefix of the engine's). */
  text?: string;
}

/** A whole script file. */
export interface JsonScript {
  source_filename: string;
  commands: JsonCommand[];
}

/** A script found on disk. */
export interface ScriptRef {
  /** Name for reports: the path of its directory relative to the searched directory, or its base name. */
  name: string;
  /** Directory holding the JSON and module files. */
  dir: string;
  /** The JSON file. */
  json: string;
}

/** Reads and shape-checks a script's JSON. */
export function loadScript(jsonPath: string): JsonScript {
  const data = JSON.parse(readFileSync(jsonPath, 'utf8')) as unknown;
  if (typeof data !== 'object' || data === null || !Array.isArray((data as JsonScript).commands)) {
    throw new SyntaxError(`${jsonPath}: not a spec script (no "commands" list)`);
  }
  return data as JsonScript;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The JSON file of a script directory (`DIR/basename(DIR).json`), or undefined when `dir` is not a script directory. */
export function scriptJsonOf(dir: string): string | undefined {
  const json = join(dir, basename(resolve(dir)) + '.json');
  return existsSync(json) ? json : undefined;
}

/**
 * Finds every script under `dir`, sorted by name: `dir` itself when it is a
 * script directory, otherwise script directories found recursively below it.
 */
export function discoverScripts(dir: string): ScriptRef[] {
  const root = resolve(dir);
  const own = scriptJsonOf(root);
  if (own !== undefined) return [{ name: basename(root), dir: root, json: own }];
  const out: ScriptRef[] = [];
  const walk = (d: string): void => {
    const json = scriptJsonOf(d);
    if (json !== undefined) {
      out.push({ name: relative(root, d).split(sep).join('/'), dir: d, json });
      return;
    }
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (isDir(p)) walk(p);
    }
  };
  walk(root);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The features a script needs, from the proposal directory it lives in (`proposals/tail-call/...` needs tail calls). */
export function featuresFor(scriptDir: string): SpecFeatures {
  const parts = resolve(scriptDir).split(sep);
  const features: SpecFeatures = {};
  if (parts.includes('tail-call')) features.tailCall = true;
  if (parts.includes('extended-const')) features.extendedConst = true;
  if (parts.includes('multi-memory')) features.multiMemory = true;
  return features;
}

/** Whether a script is one of the SIMD scripts (`simd_*`), reported separately while SIMD is not implemented. */
export function isSimdScript(name: string): boolean {
  return basename(name).startsWith('simd_');
}

/**
 * The testsuite root: `$WASM_SPEC_DIR` when set, else `../shared/spec`
 * relative to `repoRoot`. Returns the path whether or not it exists.
 */
export function specRoot(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['WASM_SPEC_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return resolve(repoRoot, '..', 'shared', 'spec');
}
