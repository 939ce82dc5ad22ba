/**
 * The saved state of a Wasi: plain data only (strings, numbers, booleans,
 * null, arrays, plain objects), so that it can travel inside a VM snapshot
 * as MessagePack. 64-bit times are decimal strings, since a JS number cannot
 * hold them exactly.
 *
 * `parseState` checks a value that may come from an untrusted file, field by
 * field, and throws WasiStateError on anything that is not exactly this
 * shape: no missing or unknown keys, integers in range, paths that stay
 * inside their mount.
 */
import { ALL_FDFLAGS, ALL_RIGHTS } from './abi.js';
import { WasiStateError } from './errors.js';
import { MAX_FDS } from './fds.js';

/** Version of the state format; a state of another version is refused. */
export const STATE_VERSION = 1;

/** A saved Wasi. */
export interface WasiState {
  version: 1;
  args: string[];
  /** Environment variables in order, as [name, value] pairs. */
  env: [string, string][];
  clock: VirtualClockSaved | { mode: 'real' };
  random: { mode: 'seeded'; seed: string; position: number } | { mode: 'real' };
  stats: { stdinBytes: number; stdoutBytes: number; stderrBytes: number };
  exitCode: number | null;
  /** Guest paths of the mounts, in the order they were preopened. */
  mounts: string[];
  fds: FdState[];
}

/** A virtual clock: its start time, rate, time slept and the largest elapsed time it reported (ns, decimal strings). */
export interface VirtualClockSaved {
  mode: 'virtual';
  startTime: string;
  nsPerUnit: number;
  slept: string;
  high: string;
}

interface FdCommon {
  fd: number;
  rightsBase: number;
  rightsInheriting: number;
  flags: number;
}

/**
 * A descriptor: a standard stream, or a directory or file named by its mount
 * and its path below the mount's root ("" for the root): where it was when
 * saved. Restored, it is bound to what that path names then (see Wasi.save).
 */
export type FdState =
  | (FdCommon & { kind: 'stdio'; stream: 0 | 1 | 2 })
  | (FdCommon & { kind: 'dir'; mount: string; path: string; preopen: boolean })
  | (FdCommon & { kind: 'file'; mount: string; path: string; offset: number });

/** A path below a mount's root, as components (throws on ".", "..", empty components and NUL). */
export function pathParts(path: string, where: string): string[] {
  if (path === '') return [];
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0')) bad(where, 'a path below the mount (no empty, "." or ".." components)', path);
  }
  return parts;
}

/** Checks that `x` is a WasiState, and returns it typed. */
export function parseState(x: unknown): WasiState {
  const s = record(x, 'state', ['version', 'args', 'env', 'clock', 'random', 'stats', 'exitCode', 'mounts', 'fds']);
  if (s.version !== STATE_VERSION) bad('state.version', `${STATE_VERSION}`, s.version);
  const args = list(s.args, 'state.args', 1 << 16).map((a, i) => string(a, `state.args[${i}]`));
  const env = list(s.env, 'state.env', 1 << 16).map((p, i): [string, string] => {
    const where = `state.env[${i}]`;
    if (!Array.isArray(p) || p.length !== 2) bad(where, 'a [name, value] pair', p);
    const pair = Array.from(p);
    const name = string(pair[0], `${where}[0]`);
    if (name === '' || name.includes('=')) bad(`${where}[0]`, 'a variable name without "="', name);
    return [name, string(pair[1], `${where}[1]`)];
  });
  unique(env.map(([k]) => k), 'state.env', 'variable');

  const clock = parseClock(s.clock);
  const random = parseRandom(s.random);
  const st = record(s.stats, 'state.stats', ['stdinBytes', 'stdoutBytes', 'stderrBytes']);
  const stats = {
    stdinBytes: int(st.stdinBytes, 'state.stats.stdinBytes', 0, Number.MAX_SAFE_INTEGER),
    stdoutBytes: int(st.stdoutBytes, 'state.stats.stdoutBytes', 0, Number.MAX_SAFE_INTEGER),
    stderrBytes: int(st.stderrBytes, 'state.stats.stderrBytes', 0, Number.MAX_SAFE_INTEGER),
  };
  const exitCode = s.exitCode === null ? null : int(s.exitCode, 'state.exitCode', 0, 0xffffffff);
  const mounts = list(s.mounts, 'state.mounts', MAX_FDS).map((m, i) => {
    const g = string(m, `state.mounts[${i}]`);
    if (g === '') bad(`state.mounts[${i}]`, 'a non-empty guest path', g);
    return g;
  });
  unique(mounts, 'state.mounts', 'mount');
  const fds = list(s.fds, 'state.fds', MAX_FDS).map((f, i) => parseFd(f, `state.fds[${i}]`, mounts));
  unique(fds.map((f) => String(f.fd)), 'state.fds', 'descriptor');
  return { version: STATE_VERSION, args, env, clock, random, stats, exitCode, mounts, fds };
}

function parseClock(x: unknown): WasiState['clock'] {
  const mode = record(x, 'state.clock').mode;
  if (mode === 'real') {
    record(x, 'state.clock', ['mode']);
    return { mode };
  }
  if (mode !== 'virtual') bad('state.clock.mode', '"virtual" or "real"', mode);
  const c = record(x, 'state.clock', ['mode', 'startTime', 'nsPerUnit', 'slept', 'high']);
  const nsPerUnit = c.nsPerUnit;
  if (typeof nsPerUnit !== 'number' || !(Number.isFinite(nsPerUnit) && nsPerUnit >= 0)) bad('state.clock.nsPerUnit', 'a finite number >= 0', nsPerUnit);
  const startTime = decimal(c.startTime, 'state.clock.startTime', 20);
  if (BigInt(startTime) >= 2n ** 64n) bad('state.clock.startTime', 'a time below 2^64 ns', startTime);
  return {
    mode,
    startTime,
    nsPerUnit,
    slept: decimal(c.slept, 'state.clock.slept', 40),
    high: decimal(c.high, 'state.clock.high', 40),
  };
}

function parseRandom(x: unknown): WasiState['random'] {
  const mode = record(x, 'state.random').mode;
  if (mode === 'real') {
    record(x, 'state.random', ['mode']);
    return { mode };
  }
  if (mode !== 'seeded') bad('state.random.mode', '"seeded" or "real"', mode);
  const r = record(x, 'state.random', ['mode', 'seed', 'position']);
  return { mode, seed: string(r.seed, 'state.random.seed'), position: int(r.position, 'state.random.position', 0, Number.MAX_SAFE_INTEGER) };
}

function parseFd(x: unknown, where: string, mounts: string[]): FdState {
  const kind = record(x, where).kind;
  const common = (r: Record<string, unknown>): FdCommon => ({
    fd: int(r.fd, `${where}.fd`, 0, 0x7fffffff),
    rightsBase: int(r.rightsBase, `${where}.rightsBase`, 0, ALL_RIGHTS),
    rightsInheriting: int(r.rightsInheriting, `${where}.rightsInheriting`, 0, ALL_RIGHTS),
    flags: int(r.flags, `${where}.flags`, 0, ALL_FDFLAGS),
  });
  const keys = ['fd', 'kind', 'rightsBase', 'rightsInheriting', 'flags'];
  const mountOf = (m: unknown): string => {
    const g = string(m, `${where}.mount`);
    if (!mounts.includes(g)) bad(`${where}.mount`, 'one of state.mounts', g);
    return g;
  };
  switch (kind) {
    case 'stdio': {
      const r = record(x, where, [...keys, 'stream']);
      const stream = r.stream;
      if (stream !== 0 && stream !== 1 && stream !== 2) bad(`${where}.stream`, '0, 1 or 2', stream);
      return { ...common(r), kind, stream };
    }
    case 'dir': {
      const r = record(x, where, [...keys, 'mount', 'path', 'preopen']);
      if (typeof r.preopen !== 'boolean') bad(`${where}.preopen`, 'a boolean', r.preopen);
      const path = string(r.path, `${where}.path`);
      pathParts(path, `${where}.path`);
      return { ...common(r), kind, mount: mountOf(r.mount), path, preopen: r.preopen };
    }
    case 'file': {
      const r = record(x, where, [...keys, 'mount', 'path', 'offset']);
      const path = string(r.path, `${where}.path`);
      if (pathParts(path, `${where}.path`).length === 0) bad(`${where}.path`, 'the path of a file', path);
      return { ...common(r), kind, mount: mountOf(r.mount), path, offset: int(r.offset, `${where}.offset`, 0, Number.MAX_SAFE_INTEGER) };
    }
    default:
      return bad(`${where}.kind`, '"stdio", "dir" or "file"', kind);
  }
}

// ---------------------------------------------------------------------------
// Field checks. Each throws WasiStateError naming the field, what it should be, and what it is.

function bad(where: string, expected: string, got: unknown): never {
  throw new WasiStateError(`${where}: expected ${expected}, got ${describe(got)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  switch (typeof x) {
    case 'string': return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '...' : x);
    case 'number':
    case 'boolean':
    case 'bigint': return String(x);
    case 'object': return x instanceof Uint8Array ? 'bytes' : 'an object';
    default: return typeof x;
  }
}

/** A plain object; with `keys`, exactly those keys. */
function record(x: unknown, where: string, keys?: string[]): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(where, 'an object', x);
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return bad(where, 'a plain object', x);
  const r = x as Record<string, unknown>;
  if (keys !== undefined) {
    for (const k of Object.keys(r)) if (!keys.includes(k)) throw new WasiStateError(`${where}: unknown field ${JSON.stringify(k)}`);
    for (const k of keys) if (!Object.hasOwn(r, k)) throw new WasiStateError(`${where}: missing field ${JSON.stringify(k)}`);
  }
  return r;
}

/** An array of at most `max` elements, holes read as undefined (so that they are checked like any element). */
function list(x: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(x)) return bad(where, 'an array', x);
  if (x.length > max) bad(where, `at most ${max} elements`, x);
  return Array.from(x);
}

function string(x: unknown, where: string): string {
  if (typeof x !== 'string') return bad(where, 'a string', x);
  if (x.includes('\0')) bad(where, 'a string without NUL', x);
  return x;
}

function int(x: unknown, where: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) return bad(where, `an integer in [${min}, ${max}]`, x);
  return x;
}

/** A non-negative integer as a decimal string of at most `digits` digits (no sign, no leading zeros). */
function decimal(x: unknown, where: string, digits: number): string {
  if (typeof x !== 'string' || !/^(0|[1-9][0-9]*)$/.test(x) || x.length > digits) return bad(where, `a decimal string of at most ${digits} digits`, x);
  return x;
}

function unique(items: string[], where: string, what: string): void {
  const seen = new Set<string>();
  for (const i of items) {
    if (seen.has(i)) throw new WasiStateError(`${where}: ${what} ${JSON.stringify(i)} appears twice`);
    seen.add(i);
  }
}
