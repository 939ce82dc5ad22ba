/**
 * The `wasmhive` command line: dispatches `wasmhive <command> [args]` to
 * running WASI programs (run, resume, inspect), the spec runner, the
 * benchmarks and the demo. Dependency-free (node:util
 * parseArgs). `bin/wasmhive.js` calls {@link main} from the built `dist/`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { specCommand } from './spec.js';
import { inspectMain, resumeMain, runMain } from './run.js';

/** Top-level help text. */
export const USAGE = `Usage: wasmhive <command> [options]

Commands:
  run [options] PROG.wasm [ARGS...]
                 run a WASI command (deterministic clocks and random by default;
                 --snapshot-every N --snapshot-dir DIR writes snapshots as it runs)
  resume SNAPSHOT --module PROG.wasm
                 continue a run from one of its snapshots
  inspect SNAPSHOT
                 show what a snapshot holds
  spec DIR [--json FILE] [--verbose] [--filter NAME] [--engine wasmhive|v8]
                 run the WebAssembly spec testsuite under DIR
  bench [...]    run the benchmarks
  build GUEST.ts|GUEST.c [-o OUT.wasm]
                 build a guest actor (AssemblyScript or C) from any folder
  demo [engine]  run the actors demo (or the engine tour)
  help           this help

Run \`wasmhive <command> --help\` for a command's options.`;

/** A command implemented by a module loaded on demand, which exports `main(argv)`. */
interface CommandModule {
  main(argv: string[]): Promise<number>;
}

/**
 * Loads `specifier` (relative to this file) and runs its `main`. When the
 * module is not part of this build, says so and returns 1 instead of crashing.
 */
export async function runModule(command: string, specifier: string, argv: string[]): Promise<number> {
  const url = new URL(specifier, import.meta.url);
  const path = fileURLToPath(url);
  // Built: dist/<x>/index.js. Run from source (tests): src/<x>/index.ts.
  if (!existsSync(path) && !existsSync(path.replace(/\.js$/, '.ts'))) {
    console.error(`wasmhive ${command}: not available in this build (${path} is missing)`);
    return 1;
  }
  const mod = (await import(url.href)) as Partial<CommandModule>;
  if (typeof mod.main !== 'function') {
    console.error(`wasmhive ${command}: ${specifier} does not export main(argv)`);
    return 1;
  }
  return mod.main(argv);
}

/** Runs the command line `argv` (without the node and script paths); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      console.error(USAGE);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    case 'run':
      return runMain(rest);
    case 'resume':
      return resumeMain(rest);
    case 'inspect':
      return inspectMain(rest);
    case 'spec':
      return specCommand(rest);
    case 'bench':
      return runModule('bench', '../bench/index.js', rest);
    case 'build':
      return runModule('build', './build.js', rest);
    case 'demo':
      return runModule('demo', '../demo/index.js', rest);
    default:
      console.error(`wasmhive: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}
