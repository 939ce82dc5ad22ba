/**
 * `wasmhive run`, `resume` and `inspect`: run a WASI command (a program
 * built for wasm32-wasi) like a native one, with its stdout, stderr and exit
 * code; write snapshots while it runs; continue one in a new process; show
 * what a snapshot holds.
 *
 * By default a run is deterministic: the clocks are virtual (driven by fuel
 * and sleeps), random bytes come from a seeded generator, and the program
 * sees no files unless a directory is mounted with --dir.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { Wasi, WasiExit, WasiStateError } from '../bindings/index.js';
import { Instance, Memory, Module, SnapshotError, Suspend, WasmError, readSnapshot, restore, snapshot, snapshotHostState, type Outcome, type SnapshotInfo, type Value } from '../vm/index.js';
import { actorLines, isActorSnapshot, isGroupSnapshot, readActorSnapshotInfo, readGroupSnapshotInfo } from './inspect-actor.js';

/** Exit code when the program trapped (as a native abort), or ran out of the fuel --fuel gave. */
export const EXIT_TRAP = 134;
export const EXIT_OUT_OF_FUEL = 124;
/** Exit code of usage errors, and of unreadable modules or snapshots. */
const EXIT_USAGE = 2;
/** Exit code when a snapshot is over a limit of this process (--max-memory-pages, --max-frames): well formed, too big here. */
export const EXIT_LIMIT = 3;
/** Default of --max-memory-pages: 16,384 pages, 1 GiB. */
export const DEFAULT_MAX_MEMORY_PAGES = 16_384;

const RUN_USAGE = `Usage: wasmhive run [options] PROG.wasm [ARGS...]

Runs a WASI command (a program built for wasm32-wasi). Its stdout, stderr and
exit code are the run's. Options go before PROG; what follows PROG is the
program's own arguments. A trap exits with ${EXIT_TRAP}.

Options:
  --env NAME=VALUE        an environment variable for the program (repeatable)
  --dir [GUEST=]HOST      mount a host directory (as GUEST, default the same path); repeatable.
                          Without --dir the program sees no files at all.
  --seed S                seed of the random generator (default 0)
  --random seeded|real    seeded (default, deterministic) or the host's entropy
  --clock virtual|real    virtual (default): time advances with fuel used and with sleeps,
                          which take no real time; real: the host's clocks
  --start-time T          virtual wall-clock time at start: an ISO date or ns since the epoch
                          (default 2024-01-01T00:00:00Z)
  --ns-per-unit N         virtual nanoseconds per unit of fuel (default 1)
  --fuel N                stop after N units of fuel (exit ${EXIT_OUT_OF_FUEL}); default no limit.
                          A unit is one instruction of the engine's internal code.
  --max-memory-pages N    pages of 64 KiB the program's memory may have (default ${DEFAULT_MAX_MEMORY_PAGES}, 1 GiB);
                          past it memory.grow fails, and a module declaring more does not start (exit 1)
  --snapshot-every N      write a snapshot every N units of fuel (needs --snapshot-dir)
  --snapshot-dir DIR      where snapshots go: DIR/snapshot-<fuel used>.whsnap
  -h, --help              this help`;

const RESUME_USAGE = `Usage: wasmhive resume [options] SNAPSHOT --module PROG.wasm

Continues a run from a snapshot written by \`wasmhive run --snapshot-every\`,
in this process: the program's clock, random stream, output counters and
open files continue where they were. Output the program wrote before the
snapshot is not written again; stdin is read from where this process's
stdin is.

Options:
  --module PROG.wasm      the program the snapshot was taken of (checked by SHA-256)
  --dir GUEST=HOST        host directory for each mount of the snapshot
  --max-memory-pages N    as for run (default ${DEFAULT_MAX_MEMORY_PAGES}, 1 GiB). A snapshot whose memory is
                          larger is refused before anything is decompressed (exit ${EXIT_LIMIT})
  --fuel N, --snapshot-every N, --snapshot-dir DIR   as for run
  -h, --help              this help

Exit codes besides the program's own: ${EXIT_USAGE} for usage errors and malformed snapshots,
${EXIT_LIMIT} for a snapshot over a limit, ${EXIT_TRAP} for a trap, ${EXIT_OUT_OF_FUEL} when out of fuel.`;

const INSPECT_USAGE = `Usage: wasmhive inspect [--json] [--max-frames N] SNAPSHOT

Prints what a snapshot holds: the module's SHA-256, why the program stopped,
fuel used, memory pages, the frames of the paused call with function names,
the pending host call, and the host state (WASI arguments, clock, output).
An actor snapshot (Hive.snapshot) shows the actor too: its id, name, module,
limits, what it waits for, its mailbox and signal queue, links and monitors,
and then its VM as above. --json prints the same as JSON.
It decompresses only the frames, at most N of them (default 200001, a call
at the engine's default depth limit). Any file gives a message and an exit
code, never a crash: ${EXIT_USAGE} for a malformed snapshot, ${EXIT_LIMIT} for one over --max-frames.`;

/** Options shared by run and resume. */
interface Common {
  fuel: number;
  snapshotEvery: number;
  snapshotDir: string | null;
  maxMemoryPages: number;
}

class UsageError extends Error {}

function positiveInt(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) <= 0) throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

function common(values: { fuel?: string; 'snapshot-every'?: string; 'snapshot-dir'?: string; 'max-memory-pages'?: string }): Common {
  const every = positiveInt(values['snapshot-every'], '--snapshot-every');
  const dir = values['snapshot-dir'] ?? null;
  if (every !== undefined && dir === null) throw new UsageError('--snapshot-every needs --snapshot-dir');
  if (dir !== null && every === undefined) throw new UsageError('--snapshot-dir needs --snapshot-every');
  const pages = positiveInt(values['max-memory-pages'], '--max-memory-pages') ?? DEFAULT_MAX_MEMORY_PAGES;
  if (pages > 65536) throw new UsageError(`--max-memory-pages must be at most 65536 (4 GiB), got ${pages}`);
  return { fuel: positiveInt(values.fuel, '--fuel') ?? Infinity, snapshotEvery: every ?? 0, snapshotDir: dir, maxMemoryPages: pages };
}

function mounts(dirs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dirs ?? []) {
    const eq = d.indexOf('=');
    const guest = eq < 0 ? d : d.slice(0, eq);
    const host = eq < 0 ? d : d.slice(eq + 1);
    if (guest === '' || host === '') throw new UsageError(`--dir ${JSON.stringify(d)}: expected [GUEST=]HOST`);
    out[guest] = resolve(host);
  }
  return out;
}

/** Splits `[options] FIRST [REST...]`: options end at the first argument that is not one (or at `--`). */
function splitAtProgram(argv: string[], withValue: Set<string>): { opts: string[]; rest: string[] } {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { opts: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') break;
    i += withValue.has(a) ? 2 : 1;
  }
  return { opts: argv.slice(0, i), rest: argv.slice(i) };
}

// ---------------------------------------------------------------------------
// Standard streams, synchronous (a WASI call returns only when its I/O is done)

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw e;
    }
  }
}

function readStdin(buf: Uint8Array): number {
  for (;;) {
    try {
      return readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === 'EOF' || code === 'EBADF' || code === 'ENXIO') return 0;
      throw e;
    }
  }
}

const stdio = { stdin: readStdin, stdout: (b: Uint8Array) => writeAll(1, b), stderr: (b: Uint8Array) => writeAll(2, b) };

function loadModule(path: string): Module {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return new Module(bytes);
}

// ---------------------------------------------------------------------------
// The run loop

/**
 * Runs (or continues) the program to its end: in slices of fuel, writing a
 * snapshot after each slice when asked, awaiting host Promises. Returns the
 * exit code.
 */
async function drive(inst: Instance, wasi: Wasi, opts: Common, start: boolean, program: string): Promise<number> {
  const slice = opts.snapshotEvery > 0 ? opts.snapshotEvery : 50_000_000;
  let budget = opts.fuel;
  // Fuel is added slice by slice, so a run's small overdraft (a debt) is paid from the next slice, not forgiven.
  const give = (): void => {
    const n = Math.min(slice, budget);
    budget -= n;
    inst.addFuel(n);
  };
  if (opts.snapshotDir !== null) mkdirSync(opts.snapshotDir, { recursive: true });
  if (start || inst.fuel === Infinity) inst.fuel = 0;
  give();
  let out: Outcome = start ? inst.call('_start') : inst.resume();
  for (;;) {
    if (out.kind === 'out-of-fuel') {
      if (opts.snapshotDir !== null) {
        const bytes = snapshot(inst, { host: { wasi: wasi.save(), program } });
        const file = join(opts.snapshotDir, `snapshot-${String(inst.fuelUsed).padStart(12, '0')}.whsnap`);
        // Write then rename, so that a run killed mid-write leaves no torn snapshot.
        const fd = openSync(file + '.tmp', 'w');
        try {
          writeAll(fd, bytes);
        } finally {
          closeSync(fd);
        }
        renameSync(file + '.tmp', file);
      }
      if (budget <= 0) {
        process.stderr.write(`wasmhive: ${program}: out of fuel after ${inst.fuelUsed} units\n`);
        return EXIT_OUT_OF_FUEL;
      }
      give();
      out = inst.resume();
    } else if (out.kind === 'waiting') {
      const answer = out.call.answer;
      if (answer instanceof Suspend) {
        process.stderr.write(`wasmhive: ${program}: waiting on ${out.call.module}.${out.call.name}, which nothing here can answer\n`);
        return EXIT_TRAP;
      }
      let results: Value[] | undefined;
      let error: unknown;
      try {
        results = await answer;
      } catch (e) {
        error = e ?? new Error('rejected');
      }
      out = inst.resume(error !== undefined ? { error } : { results });
    } else if (out.kind === 'trapped') {
      if (out.trap instanceof WasiExit) return out.trap.code;
      process.stderr.write(`wasmhive: ${program}: wasm trap: ${out.trap.stack ?? out.trap.message}\n`);
      return EXIT_TRAP;
    } else {
      return wasi.exitCode ?? 0;
    }
  }
}

function bindWasi(wasi: Wasi, inst: Instance): void {
  const memory = inst.getExport('memory');
  if (!(memory instanceof Memory)) throw new UsageError('the program exports no memory named "memory": not a WASI command');
  // The program pays fuel for the host work its WASI calls do (copies, path walks, directory entries).
  wasi.bind(memory, () => inst.fuelUsed, (n) => inst.charge(n));
}

/** `wasmhive run`. */
export async function runMain(argv: string[]): Promise<number> {
  return guard('run', RUN_USAGE, async () => {
    const withValue = new Set(['--env', '--dir', '--seed', '--random', '--clock', '--start-time', '--ns-per-unit', '--fuel', '--max-memory-pages', '--snapshot-every', '--snapshot-dir']);
    const { opts, rest } = splitAtProgram(argv, withValue);
    const { values } = parseArgs({
      args: opts,
      options: {
        env: { type: 'string', multiple: true },
        dir: { type: 'string', multiple: true },
        seed: { type: 'string' },
        random: { type: 'string' },
        clock: { type: 'string' },
        'start-time': { type: 'string' },
        'ns-per-unit': { type: 'string' },
        fuel: { type: 'string' },
        'max-memory-pages': { type: 'string' },
        'snapshot-every': { type: 'string' },
        'snapshot-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(RUN_USAGE);
      return 0;
    }
    const [prog, ...args] = rest;
    if (prog === undefined) throw new UsageError('missing PROG.wasm');
    const c = common(values);
    const env: Record<string, string> = {};
    for (const e of values.env ?? []) {
      const eq = e.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env ${JSON.stringify(e)}: expected NAME=VALUE`);
      env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    if (values.clock !== undefined && values.clock !== 'virtual' && values.clock !== 'real') throw new UsageError('--clock must be virtual or real');
    if (values.random !== undefined && values.random !== 'seeded' && values.random !== 'real') throw new UsageError('--random must be seeded or real');
    let startTime: bigint | undefined;
    if (values['start-time'] !== undefined) {
      const t = values['start-time'];
      if (/^\d+$/.test(t)) startTime = BigInt(t);
      else {
        const ms = Date.parse(t);
        if (Number.isNaN(ms)) throw new UsageError(`--start-time ${JSON.stringify(t)}: expected an ISO date or ns since the epoch`);
        startTime = BigInt(ms) * 1_000_000n;
      }
    }
    const nsPerUnit = values['ns-per-unit'] === undefined ? undefined : Number(values['ns-per-unit']);
    if (nsPerUnit !== undefined && !(Number.isFinite(nsPerUnit) && nsPerUnit >= 0)) throw new UsageError('--ns-per-unit must be a non-negative number');

    const module = loadModule(prog);
    const wasi = new Wasi({
      args: [basename(prog), ...args],
      env,
      ...stdio,
      clock: values.clock as 'virtual' | 'real' | undefined,
      random: values.random as 'seeded' | 'real' | undefined,
      seed: values.seed,
      startTime,
      nsPerUnit,
      mounts: mounts(values.dir),
    });
    const inst = new Instance(module, wasi.imports, { maxMemoryPages: c.maxMemoryPages });
    bindWasi(wasi, inst);
    try {
      return await drive(inst, wasi, c, true, basename(prog));
    } finally {
      wasi.close();
    }
  });
}

/** `wasmhive resume`. */
export async function resumeMain(argv: string[]): Promise<number> {
  return guard('resume', RESUME_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        module: { type: 'string' },
        dir: { type: 'string', multiple: true },
        fuel: { type: 'string' },
        'max-memory-pages': { type: 'string' },
        'snapshot-every': { type: 'string' },
        'snapshot-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(RESUME_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('expected one SNAPSHOT');
    if (values.module === undefined) throw new UsageError('missing --module PROG.wasm');
    const c = common(values);
    const bytes = readSnapshotFile(positionals[0]!);
    const host = snapshotHostState(bytes);
    if (host['wasi'] === undefined) throw new SnapshotError('the snapshot holds no WASI state: it was not written by wasmhive run');
    const wasi = Wasi.restore(host['wasi'], { ...stdio, mounts: mounts(values.dir) });
    const module = loadModule(values.module);
    const inst = restore(module, bytes, wasi.imports, { maxMemoryPages: c.maxMemoryPages });
    bindWasi(wasi, inst);
    const program = typeof host['program'] === 'string' ? host['program'] : basename(values.module);
    try {
      if (inst.status === 'idle') throw new SnapshotError('the snapshot is of an idle instance: nothing to resume');
      if (inst.status === 'waiting') {
        const p = inst.pending!;
        throw new SnapshotError(`the snapshot waits on ${p.module}.${p.name}, which nothing here can answer`);
      }
      return await drive(inst, wasi, c, false, program);
    } finally {
      wasi.close();
    }
  });
}

function readSnapshotFile(path: string): Uint8Array {
  try {
    const fd = openSync(path, 'r');
    try {
      if (!fstatSync(fd).isFile()) throw new UsageError(`${path} is not a file`);
    } finally {
      closeSync(fd);
    }
    return readFileSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** `wasmhive inspect`. */
export async function inspectMain(argv: string[]): Promise<number> {
  return guard('inspect', INSPECT_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, 'max-frames': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(INSPECT_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('expected one SNAPSHOT');
    const maxFrames = values['max-frames'] === undefined ? undefined : positiveInt(values['max-frames'], '--max-frames');
    const bytes = readSnapshotFile(positionals[0]!);
    // Whatever the file holds, inspect ends with a message: anything the checks missed is the snapshot's fault.
    try {
      return await inspectSnapshot(bytes, positionals[0]!, values.json === true, maxFrames);
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError(`malformed snapshot: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** JSON of what inspect read: bytes as hex, Infinity and 64-bit integers as strings. */
function inspectJson(info: unknown): string {
  return JSON.stringify(info, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v === Infinity ? 'Infinity' : typeof v === 'bigint' ? String(v) : v), 2);
}

/** Prints what `bytes` holds (see INSPECT_USAGE): an engine snapshot, or an actor snapshot with its VM's inside; returns the exit code. */
async function inspectSnapshot(bytes: Uint8Array, path: string, json: boolean, maxFrames: number | undefined): Promise<number> {
  if (isGroupSnapshot(bytes)) {
    const actors = await readGroupSnapshotInfo(bytes, maxFrames);
    if (json) console.log(inspectJson({ kind: 'group', bytes: bytes.length, actors }));
    else console.log([`group snapshot ${path}: ${bytes.length} bytes, ${actors.length} actors`, ...actors.flatMap((a, i) => actorLines(a, `${path} [${i}]`, vmLines))].join('\n'));
    return 0;
  }
  if (isActorSnapshot(bytes)) {
    const actor = await readActorSnapshotInfo(bytes, maxFrames);
    console.log(json ? inspectJson(actor) : actorLines(actor, path, vmLines).join('\n'));
    return 0;
  }
  const info = readSnapshot(bytes, { maxFrames });
  if (json) {
    console.log(inspectJson(info));
    return 0;
  }
  const lines = [`snapshot ${path}: ${info.bytes} bytes, format ${info.format}, code version ${info.codeVersion}${info.incremental ? `, incremental over ${info.base}` : ''}`, ...vmLines(info)];
  console.log(lines.join('\n'));
  return 0;
}

/** The lines that show an engine snapshot's state, after its first line (shared by engine and actor snapshots). */
function vmLines(info: SnapshotInfo): string[] {
  const lines: string[] = [];
  lines.push(`module sha256 ${info.moduleHash}`);
  const why = info.status === 'idle' ? 'idle (no call in progress)' : info.status === 'out-of-fuel' ? 'paused: out of fuel' : 'paused: waiting on a host call';
  lines.push(`status: ${why}`);
  lines.push(`fuel: ${info.fuelUsed} units used, ${info.fuel === Infinity ? 'unlimited' : info.fuel} left`);
  info.memories.forEach((m, i) => lines.push(`memory ${i}: ${m.pages} pages (${((m.pages * 65536) / 1048576).toFixed(2)} MiB), ${m.stored} stored`));
  info.tables.forEach((t, i) => lines.push(`table ${i}: ${t.size} elements`));
  lines.push(`globals: ${info.globals}; references: ${info.refs}; value stack: ${info.stackBytes} bytes`);
  if (info.frames.length > 0) {
    lines.push(`frames (${info.frames.length}, innermost first):`);
    const shown = [...info.frames].reverse();
    for (const [i, f] of shown.entries()) {
      if (i === 20 && shown.length > 40) {
        lines.push(`  ... ${shown.length - 40} more`);
        continue;
      }
      if (i > 20 && i < shown.length - 20) continue;
      lines.push(`  #${shown.length - 1 - i} ${f.name} (func ${f.func}) pc=${f.pc}`);
    }
  }
  if (info.pending !== null) {
    lines.push(`pending call: ${info.pending.module}.${info.pending.name} (func ${info.pending.func})${info.pending.data === undefined ? '' : ` data ${JSON.stringify(info.pending.data)}`}`);
  }
  // The host state is untrusted too: show only what has the expected shape.
  const field = (x: unknown, k: string): unknown => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[k] : undefined);
  const show = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? String(x) : '?');
  const w = info.host['wasi'];
  if (typeof w === 'object' && w !== null) {
    const args = field(w, 'args');
    const seed = field(field(w, 'random'), 'seed');
    lines.push(
      `wasi: args ${Array.isArray(args) && args.every((a) => typeof a === 'string') ? JSON.stringify(args) : '?'}; clock ${show(field(field(w, 'clock'), 'mode'))}; random ${show(field(field(w, 'random'), 'mode'))}${typeof seed === 'string' ? ` seed ${JSON.stringify(seed)}` : ''}`,
    );
    const st = field(w, 'stats');
    if (typeof st === 'object' && st !== null) {
      lines.push(`wasi: stdout ${show(field(st, 'stdoutBytes'))} bytes written, stderr ${show(field(st, 'stderrBytes'))}, stdin ${show(field(st, 'stdinBytes'))} read`);
    }
  }
  const others = Object.keys(info.host).filter((k) => k !== 'wasi' && k !== 'program');
  if (others.length > 0) lines.push(`host state: ${others.join(', ')}`);
  return lines;
}

/** Runs a command body; usage errors print the usage and give 2; engine errors give a clear message. */
async function guard(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`wasmhive ${name}: ${e.message}\n\n${usage}`);
      return EXIT_USAGE;
    }
    if (e instanceof WasmError || e instanceof WasiStateError) {
      console.error(`wasmhive ${name}: ${e.name}: ${e.message}`);
      if (e instanceof SnapshotError && e.budget !== null) return EXIT_LIMIT;
      return e instanceof SnapshotError || e instanceof WasiStateError ? EXIT_USAGE : 1;
    }
    throw e;
  }
}
