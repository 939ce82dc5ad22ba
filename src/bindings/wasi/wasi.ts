/**
 * `Wasi`: a deterministic WASI preview1 for one guest.
 *
 * By default nothing about a run depends on the host: time is virtual (driven
 * by the fuel the guest uses, and by its sleeps, which take no real time),
 * random bytes come from a seeded generator, and the guest sees no files.
 * Real clocks, real randomness and host directories are opt-in. The whole
 * state can be saved as plain data and restored, to continue a guest from a
 * VM snapshot.
 */
import * as fs from 'node:fs';
import { Memory, type Imports } from '../../vm/index.js';
import type { Binding, BindingContext } from '../binding.js';
import { DIR_RIGHTS, FILE_RIGHTS, Rights, TTY_RIGHTS } from './abi.js';
import { DEFAULT_START_TIME, RealClock, VirtualClock, type WasiClock } from './clock.js';
import { WasiStateError } from './errors.js';
import { FdTable, MAX_FDS, type FdEntry } from './fds.js';
import { SyscallError } from './memory.js';
import { Preview1, type OutputSink, type StdinSource, type WasiStats } from './preview1.js';
import { RealRandom, SeededRandom, type WasiRandom } from './random.js';
import { Mount, closeQuietly, fileTypeOf, lstatOrNull, openDirectory, openFile } from './sandbox.js';
import { parseState, STATE_VERSION, type FdState, type WasiState } from './state.js';

/** How a Wasi is set up. Everything is optional; the defaults make a run deterministic. */
export interface WasiOptions {
  /** argv, including argv[0] (default none). */
  args?: string[];
  /** Environment variables, in this order (default none). */
  env?: Record<string, string>;
  /** Standard input: all of it as bytes, or a function that fills a buffer and returns the count, 0 at the end (default empty). */
  stdin?: StdinSource;
  /** Receives what the guest writes to stdout (default: discarded). */
  stdout?: OutputSink;
  /** Receives what the guest writes to stderr (default: discarded). */
  stderr?: OutputSink;
  /** 'virtual' (default): time from fuel and sleeps. 'real': the host's clocks, and sleeps really wait. */
  clock?: 'virtual' | 'real';
  /** The virtual REALTIME when the guest starts, in ns since the epoch (default 2024-01-01T00:00:00Z). */
  startTime?: bigint | number;
  /** Virtual nanoseconds per fuel unit (default 1). */
  nsPerUnit?: number;
  /** 'seeded' (default): random_get gives a deterministic stream from `seed`. 'real': the OS's random bytes. */
  random?: 'seeded' | 'real';
  /** Seed of the seeded stream (default 0); a number counts as its decimal string. */
  seed?: number | string;
  /**
   * Guest path -> host directory, each preopened (fds 3, 4, ... in this order).
   * Default none: no file access at all. Mounts may not overlap (one inside
   * another), need Linux's /proc/self/fd (see sandbox.ts), and number at
   * most 1,021 (each is a descriptor beside stdio: RangeError beyond).
   */
  mounts?: Record<string, string>;
}

/** What a restored Wasi is connected to: the host side that a saved state cannot hold. */
export interface WasiIo {
  /** Standard input. A Uint8Array is the whole input again: reading continues at the saved offset. */
  stdin?: StdinSource;
  stdout?: OutputSink;
  stderr?: OutputSink;
  /** Host directories for exactly the mounts of the saved state. */
  mounts?: Record<string, string>;
}

/**
 * WASI preview1 for one guest instance.
 *
 * ```ts
 * const wasi = new Wasi({ args: ['prog'], stdout: (b) => out.push(b) });
 * const inst = instantiate(bytes, wasi.imports);
 * wasi.bind(inst.getExport('memory') as Memory, () => inst.fuelUsed);
 * const outcome = inst.call('_start');
 * // done: exit 0; trapped with a WasiExit: exit code trap.code; trapped otherwise: a crash.
 * // out-of-fuel: snapshot(inst, { host: { wasi: wasi.save() } }) can carry it elsewhere; there,
 * // Wasi.restore(snapshotHostState(bytes).wasi, io) first, then restore(module, bytes, wasi.imports).
 * ```
 *
 * It is also a `Binding` (src/bindings/binding.ts), for a host that builds
 * imports per caller (an actor system): `importsFor(ctx)` binds the caller's
 * memory, fuel and cumulative fuel (as `bind` does) and gives the same
 * imports; `save()` and the instance method `restore(state)` carry its
 * state, the host side (streams, mounts' directories) being the one this
 * Wasi was made with. One Wasi serves one guest.
 */
export class Wasi implements Binding<WasiState> {
  /** Its name as a binding (its state's key in an actor's snapshot). */
  readonly name = 'wasi';
  /** The imports to instantiate the guest with: `{ wasi_snapshot_preview1: { ...every preview1 function } }`. */
  readonly imports: Imports;
  /** Replaced by `restore(state)`: the imports call whichever core is here. */
  private core: Preview1;
  private args: string[];
  private env: [string, string][];
  /** Mounts by guest path, in preopen order. */
  private mounts = new Map<string, Mount>();
  /** The host side it was made with, for `restore(state)`. */
  private readonly io: WasiIo;
  /** The guest's cumulative fuel, when bound (it drives the virtual clock, also after a restore). */
  private fuelUsed: (() => number) | null = null;

  constructor(options: WasiOptions = {}) {
    checkIo(options);
    this.io = { stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, mounts: { ...options.mounts } };
    this.args = stringList(options.args ?? [], 'args');
    this.env = Object.entries(options.env ?? {}).map(([k, v]) => {
      if (k === '' || k.includes('=') || k.includes('\0')) throw new TypeError(`env: invalid variable name ${JSON.stringify(k)}`);
      return [k, stringList([v], `env.${k}`)[0]!];
    });

    // Terminal rights, narrowed to the stream's direction: stdin cannot be written nor stdout read.
    const fds = new FdTable();
    fds.set(0, { kind: 'stdio', stream: 0, rightsBase: TTY_RIGHTS & ~Rights.FD_WRITE, rightsInheriting: 0, flags: 0 });
    fds.set(1, { kind: 'stdio', stream: 1, rightsBase: TTY_RIGHTS & ~Rights.FD_READ, rightsInheriting: 0, flags: 0 });
    fds.set(2, { kind: 'stdio', stream: 2, rightsBase: TTY_RIGHTS & ~Rights.FD_READ, rightsInheriting: 0, flags: 0 });
    const mountList = Object.entries(options.mounts ?? {});
    // Each preopen is a descriptor: more than the table holds beside stdio is the host's mistake, said plainly.
    if (mountList.length > MAX_FDS - 3) throw new RangeError(`mounts: at most ${MAX_FDS - 3} (each is a descriptor), got ${mountList.length}`);
    try {
      for (const [guest, host] of mountList) {
        if (typeof host !== 'string') throw new TypeError(`mounts.${guest}: expected a host directory path`);
        const mount = Mount.open(guest, host);
        this.mounts.set(guest, mount);
        // A guest could move a directory from one of two overlapping mounts into the other and climb out from there.
        for (const other of this.mounts.values()) {
          if (other !== mount && other.overlaps(mount)) throw new Error(`mounts ${other.guestPath} (${other.hostRoot}) and ${guest} (${mount.hostRoot}) overlap: give directories that are not inside one another`);
        }
        const root = mount.reopenDir(mount.root);
        fds.add({ kind: 'dir', mount, host: root, openedAs: '', preopen: true, rightsBase: DIR_RIGHTS, rightsInheriting: DIR_RIGHTS | FILE_RIGHTS, flags: 0 });
      }
    } catch (e) {
      fds.closeAll();
      for (const m of this.mounts.values()) m.close();
      throw e;
    }

    this.core = new Preview1({
      args: this.args,
      env: this.env,
      clock: makeClock(options),
      random: makeRandom(options),
      fds,
      stats: { stdinBytes: 0, stdoutBytes: 0, stderrBytes: 0 },
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
    });
    this.imports = { wasi_snapshot_preview1: this.core.hostFunctions(() => this.core) };
  }

  /**
   * Connects the instance: its memory (the guest's "memory" export), and the
   * fuel units it has used so far (`() => instance.fuelUsed`, cumulative
   * across snapshots), which drive the virtual clock. Without `fuelUsed`
   * virtual time moves only when the guest sleeps. `charge` (e.g.
   * `(n) => instance.charge(n)`) makes the guest pay fuel for the host work
   * of its calls (path components walked, bytes moved, directory entries,
   * random bytes, poll subscriptions); without it nothing is charged.
   */
  bind(memory: Memory, fuelUsed?: () => number, charge?: (units: number) => void): void {
    if (!(memory instanceof Memory)) throw new TypeError('Wasi.bind: expected the instance\'s Memory (its "memory" export)');
    if (charge !== undefined && typeof charge !== 'function') throw new TypeError('Wasi.bind: charge must be a function (units) => void');
    this.core.memory = memory;
    this.core.memorySource = null;
    this.core.charge = charge ?? null;
    if (fuelUsed !== undefined) this.useFuelCount(fuelUsed);
  }

  /**
   * The imports for one caller (the `Binding` contract): the caller's memory
   * is found when a function runs (its instance is made from these imports),
   * host work is charged to it, and its cumulative fuel drives the virtual
   * clock. The functions are this Wasi's own (`imports`), bound to the latest
   * caller: one Wasi serves one guest.
   */
  importsFor(ctx: BindingContext): Imports {
    this.core.memory = null;
    this.core.memorySource = () => ctx.memory();
    this.core.charge = (units) => ctx.charge(units);
    this.useFuelCount(() => ctx.fuelUsed());
    return this.imports;
  }

  /** Drives the virtual clock (if it is one) with the guest's cumulative fuel. */
  private useFuelCount(fuelUsed: () => number): void {
    this.fuelUsed = fuelUsed;
    if (this.core.clock instanceof VirtualClock) this.core.clock.fuelUsed = fuelUsed;
  }

  /** The exit code the guest gave proc_exit, or null while it has not called it. */
  get exitCode(): number | null {
    return this.core.exitCode;
  }

  /** Bytes the guest has read from stdin and written to stdout and stderr. */
  get stats(): WasiStats {
    return { ...this.core.stats };
  }

  /**
   * Moves the virtual clocks forward by `ns` nanoseconds (the host setting
   * the time, for example while the guest waits on it). Throws RangeError
   * for a negative amount and TypeError when the clock is the real one.
   */
  advanceClock(ns: bigint | number): void {
    const clock = this.core.clock;
    if (!(clock instanceof VirtualClock)) throw new TypeError('advanceClock: the clock is real, not virtual');
    const n = typeof ns === 'bigint' ? ns : BigInt(Math.trunc(ns));
    if (n < 0n) throw new RangeError('advanceClock: time only moves forward');
    clock.sleep(n);
  }

  /** Closes the host descriptors it holds (open files and directories, mounts' roots). The Wasi must not run a guest afterwards. */
  close(): void {
    this.core.fds.closeAll();
    for (const m of this.mounts.values()) m.close();
  }

  /** Everything needed to continue later, as plain data (see WasiState). The Wasi itself is unchanged. */
  save(): WasiState {
    const { clock, random } = this.core;
    return {
      version: STATE_VERSION,
      args: [...this.args],
      env: this.env.map(([k, v]): [string, string] => [k, v]),
      clock: clock instanceof VirtualClock ? savedClock(clock) : { mode: 'real' },
      random: random instanceof SeededRandom ? { mode: 'seeded', seed: random.seed, position: random.position } : { mode: 'real' },
      stats: { ...this.core.stats },
      exitCode: this.core.exitCode,
      mounts: [...this.mounts.keys()],
      fds: this.core.fds.entries().map(([fd, e]) => savedFd(fd, e)),
    };
  }

  /**
   * A Wasi that continues from a saved state: the virtual clock goes on from
   * where it was (given the instance's cumulative fuel), the random stream
   * continues, counters continue, and open files are reopened at their
   * offsets. `state` may come from an untrusted source: anything malformed,
   * or that does not fit this host (a mount not given, a file gone), throws
   * WasiStateError.
   */
  static restore(state: unknown, io: WasiIo = {}): Wasi {
    checkIo(io); // the host's own mistakes are TypeErrors, not a bad state
    const s = parseState(state);
    const dirs = io.mounts ?? {};
    for (const g of s.mounts) if (!Object.hasOwn(dirs, g)) throw new WasiStateError(`the saved state has mount ${JSON.stringify(g)}, which io.mounts does not give`);
    for (const g of Object.keys(dirs)) if (!s.mounts.includes(g)) throw new WasiStateError(`io.mounts gives ${JSON.stringify(g)}, which the saved state does not have`);

    let w: Wasi;
    try {
      w = new Wasi({
        args: s.args,
        env: Object.fromEntries(s.env),
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        clock: s.clock.mode,
        random: s.random.mode,
        ...(s.clock.mode === 'virtual' ? { startTime: BigInt(s.clock.startTime), nsPerUnit: s.clock.nsPerUnit } : {}),
        ...(s.random.mode === 'seeded' ? { seed: s.random.seed } : {}),
        mounts: Object.fromEntries(s.mounts.map((g) => [g, dirs[g]!])),
      });
    } catch (e) {
      throw new WasiStateError(`cannot restore: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      w.resume(s);
    } catch (e) {
      w.close();
      throw e;
    }
    return w;
  }

  /**
   * Continues from a saved state in place (the `Binding` contract), with the
   * host side this Wasi was made with: its stdin, stdout and stderr, and its
   * mounts' directories, which must be exactly the state's mounts. The
   * state's settings (args, env, clock, random) and progress replace this
   * Wasi's; the imports it handed out, and what `bind` or `importsFor`
   * connected, stay. Anything that does not fit throws WasiStateError and
   * leaves this Wasi as it was.
   */
  restore(state: unknown): void {
    const s = parseState(state);
    for (const g of s.mounts) if (!this.mounts.has(g)) throw new WasiStateError(`the saved state has mount ${JSON.stringify(g)}, which this Wasi was not made with`);
    for (const g of this.mounts.keys()) if (!s.mounts.includes(g)) throw new WasiStateError(`this Wasi was made with mount ${JSON.stringify(g)}, which the saved state does not have`);
    const next = Wasi.restore(s, this.io);
    const { memory, memorySource, charge } = this.core;
    this.close();
    this.core = next.core;
    this.args = next.args;
    this.env = next.env;
    this.mounts = next.mounts;
    Object.assign(this.core, { memory, memorySource, charge });
    if (this.fuelUsed !== null) this.useFuelCount(this.fuelUsed);
  }

  /** Replaces the progress of a fresh Wasi (made from the state's settings) with the saved one. */
  private resume(s: WasiState): void {
    const core = this.core;
    if (s.clock.mode === 'virtual') {
      core.clock = new VirtualClock({ startTime: BigInt(s.clock.startTime), nsPerUnit: s.clock.nsPerUnit, slept: BigInt(s.clock.slept), high: BigInt(s.clock.high) });
    }
    if (s.random.mode === 'seeded') core.random = new SeededRandom(s.random.seed, s.random.position);
    Object.assign(core.stats, s.stats);
    core.exitCode = s.exitCode;
    core.fds.closeAll();
    try {
      for (const f of s.fds) core.fds.set(f.fd, this.reopen(f));
    } catch (e) {
      core.fds.closeAll();
      throw e;
    }
  }

  /**
   * The descriptor of a saved entry, reopening files and directories on the
   * host: its saved path is resolved again from the mount's root, as a guest
   * path is (so a link placed on the host since the save cannot lead out),
   * and the descriptor is bound to what that path names now.
   */
  private reopen(f: FdState): FdEntry {
    const { rightsBase, rightsInheriting, flags } = f;
    if (f.kind === 'stdio') return { kind: 'stdio', stream: f.stream, rightsBase, rightsInheriting, flags };
    const mount = this.mounts.get(f.mount)!;
    const where = `fd ${f.fd} (${f.mount}${f.path === '' ? '' : '/' + f.path})`;
    const fail = (e: unknown): never => {
      const why =
        e instanceof SyscallError ? `it does not resolve inside the mount (WASI errno ${e.errno})`
        : (e as { code?: unknown }).code ?? (e instanceof Error ? e.message : String(e));
      throw new WasiStateError(`cannot reopen ${where}: ${String(why)}`);
    };
    let r;
    try {
      r = mount.resolve(mount.root, f.path === '' ? '.' : f.path, false);
    } catch (e) {
      return fail(e);
    }
    let fd = -1;
    try {
      if (f.kind === 'dir') {
        const st = lstatOrNull(r.host);
        if (st === null || !st.isDirectory()) throw new Error('not a directory any more');
        fd = openDirectory(r.host, st);
        return { kind: 'dir', mount, host: fd, openedAs: f.path, preopen: f.preopen, rightsBase, rightsInheriting, flags };
      }
      fd = openFile(r.host, rightsBase, 0);
      const filetype = fileTypeOf(fs.fstatSync(fd));
      return { kind: 'file', mount, host: fd, openedAs: f.path, filetype, offset: f.offset, rightsBase, rightsInheriting, flags };
    } catch (e) {
      if (fd >= 0) closeQuietly(fd);
      return fail(e);
    } finally {
      r.release();
    }
  }
}

/** Checks the host side of the standard streams: stdin bytes or a function, sinks functions. */
function checkIo(io: WasiIo): void {
  if (io.stdin !== undefined && !(io.stdin instanceof Uint8Array) && typeof io.stdin !== 'function') {
    throw new TypeError('stdin: expected a Uint8Array or a function (buf) => bytes read');
  }
  for (const k of ['stdout', 'stderr'] as const) {
    if (io[k] !== undefined && typeof io[k] !== 'function') throw new TypeError(`${k}: expected a function (bytes) => void`);
  }
  if (io.mounts !== undefined && (typeof io.mounts !== 'object' || io.mounts === null)) throw new TypeError('mounts: expected an object of guest path -> host directory');
}

function stringList(xs: unknown, what: string): string[] {
  if (!Array.isArray(xs)) throw new TypeError(`${what}: expected an array of strings`);
  for (const x of xs) {
    if (typeof x !== 'string' || x.includes('\0')) throw new TypeError(`${what}: expected strings without NUL, got ${JSON.stringify(x)}`);
  }
  return [...xs] as string[];
}

function makeClock(o: WasiOptions): WasiClock {
  const mode = o.clock ?? 'virtual';
  if (mode === 'real') return new RealClock();
  if (mode !== 'virtual') throw new TypeError(`clock: expected 'virtual' or 'real', got ${JSON.stringify(mode)}`);
  const start = o.startTime ?? DEFAULT_START_TIME;
  if (typeof start === 'number' ? !(Number.isInteger(start) && start >= 0) : typeof start !== 'bigint' || start < 0n) {
    throw new TypeError(`startTime: expected a non-negative integer of ns since the epoch, got ${String(start)}`);
  }
  const startTime = BigInt(start);
  if (startTime >= 2n ** 64n) throw new TypeError('startTime: must be below 2^64 ns');
  const nsPerUnit = o.nsPerUnit ?? 1;
  if (typeof nsPerUnit !== 'number' || !(Number.isFinite(nsPerUnit) && nsPerUnit >= 0)) throw new TypeError(`nsPerUnit: expected a finite number >= 0, got ${String(nsPerUnit)}`);
  return new VirtualClock({ startTime, nsPerUnit, slept: 0n, high: 0n });
}

function makeRandom(o: WasiOptions): WasiRandom {
  const mode = o.random ?? 'seeded';
  if (mode === 'real') return new RealRandom();
  if (mode !== 'seeded') throw new TypeError(`random: expected 'seeded' or 'real', got ${JSON.stringify(mode)}`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' && typeof seed !== 'string') throw new TypeError('seed: expected a number or a string');
  const s = String(seed);
  if (s.includes('\0')) throw new TypeError('seed: expected a string without NUL');
  return new SeededRandom(s);
}

function savedClock(c: VirtualClock): WasiState['clock'] {
  const s = c.state();
  return { mode: 'virtual', startTime: String(s.startTime), nsPerUnit: s.nsPerUnit, slept: String(s.slept), high: String(s.high) };
}

/**
 * A descriptor as saved. A directory or file is saved as the path where the
 * kernel reports it now (it may have been renamed since it was opened), or,
 * when the kernel cannot say (a file deleted while open), the path it was
 * opened by. A restored descriptor is bound to whatever that path names
 * inside the mount when it is restored.
 */
function savedFd(fd: number, e: FdEntry): FdState {
  const { rightsBase, rightsInheriting, flags } = e;
  switch (e.kind) {
    case 'stdio': return { fd, kind: 'stdio', stream: e.stream, rightsBase, rightsInheriting, flags };
    case 'dir': return { fd, kind: 'dir', mount: e.mount.guestPath, path: e.mount.pathOf(e.host) ?? e.openedAs, preopen: e.preopen, rightsBase, rightsInheriting, flags };
    case 'file': return { fd, kind: 'file', mount: e.mount.guestPath, path: e.mount.pathOf(e.host) || e.openedAs, offset: e.offset, rightsBase, rightsInheriting, flags };
  }
}
