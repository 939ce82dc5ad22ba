/**
 * The WASI sandbox under random attack (issue 10): random sequences of
 * mkdir, rename, symlink (targets with "..", absolute paths, chains of links,
 * links to the canaries), unlink, rmdir, opens through stale descriptors,
 * path_filestat_get, readdir, readlink, path_link, reads and writes,
 * fd_renumber, and saves restored mid-sequence (every descriptor resolved
 * again from the root, as a resumed snapshot does), against
 * a mount with canary files and directories beside it and in its parent.
 *
 * The oracle watches the host side, not the guest's errnos: every call the
 * binding makes into node:fs is checked *at the time of the call* (node:fs is
 * wrapped) for where it lands: the path as the kernel would resolve it then
 * (following the last component or not, as that call does; /proc/self/fd/N
 * paths through what N is), or the file a descriptor refers to, must be in
 * the mount. After each operation: every host descriptor the binding holds
 * is in the mount, the canaries and the mount's parent are unchanged, and no
 * canary byte is in the guest's memory. After each sequence: no host
 * descriptor is left open.
 *
 * The bar is 100,000 random operations with no access outside; this
 * file runs that many every time.
 */
import type * as FS from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';

/** The check node:fs calls go through while a sequence runs (null: none). */
const oracle = vi.hoisted(() => ({ check: null as null | ((name: string, args: unknown[]) => void) }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof FS>();
  const wrapped: Record<string, unknown> = { ...real };
  for (const [name, f] of Object.entries(real)) {
    if (typeof f !== 'function' || !name.endsWith('Sync')) continue;
    const w = (...args: unknown[]): unknown => {
      oracle.check?.(name, args);
      return (f as (...a: unknown[]) => unknown)(...args);
    };
    if (name === 'realpathSync') {
      (w as unknown as { native: unknown }).native = (...args: unknown[]): unknown => {
        oracle.check?.(name, args);
        return real.realpathSync.native(...(args as [string]));
      };
    }
    wrapped[name] = w;
  }
  return { ...wrapped, default: wrapped };
});

const fs = await vi.importActual<typeof FS>('node:fs');
const { CANARY, DIR, O, Rig, canaryTree } = await import('./wasi-rig.js');

const temp = fs.mkdtempSync(join(tmpdir(), 'wasmhive-property-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** A failure's replay: WASI_PROPERTY_SEED and WASI_PROPERTY_PATH as fast-check printed them. */
const REPLAY = process.env.WASI_PROPERTY_SEED === undefined ? {} : { seed: Number(process.env.WASI_PROPERTY_SEED), path: process.env.WASI_PROPERTY_PATH };

/**
 * Sequences per test, tests, and operations per sequence: 4 x 63 x 400 =
 * 100,800, over the 100,000 (in four tests, each well within the
 * per-test timeout).
 */
const SEQUENCES = Number(process.env.WASI_PROPERTY_SEQUENCES ?? 63);
const CHUNKS = 4;
const OPS_PER_SEQUENCE = 400;

// ---------------------------------------------------------------------------
// Where a host call lands

/** What host descriptor `fd` refers to now (its path; " (deleted)" dropped), or null when it is not open. */
function fdTarget(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

/**
 * Where the kernel would take `path` now: through every link when `follow`,
 * else through all but the last component. A part that does not exist is
 * placed lexically under the deepest part that does.
 */
function place(path: string, follow: boolean): string {
  const name = basename(path);
  if (!follow && !path.endsWith('/') && name !== '.' && name !== '..' && name !== '') return join(place(dirname(path), true), name);
  try {
    return fs.realpathSync.native(path);
  } catch {
    const up = dirname(path);
    return up === path ? path : join(place(up, true), name);
  }
}

function isDeleted(fd: number): boolean {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(' (deleted)');
  } catch {
    return false;
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Where a path handed to node:fs lands: /proc/self/fd/N/rest goes through what N is. */
function locate(path: string, follow: boolean): string {
  const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(path);
  if (m === null) return place(path, follow);
  const dir = fdTarget(Number(m[1]));
  if (dir === null) return `(closed host descriptor ${m[1]})`;
  if (m[2] === undefined) return dir;
  if (isDeleted(Number(m[1]))) {
    // A removed directory: the kernel finds no name in it ("." and ".." still work, ".." leading to
    // the parent it was removed from). Its old path may name something else now: never resolve through it.
    return join(dir, m[2]);
  }
  // The binding's usual shape, one component under a descriptor: placed without a realpath (the kernel's path of a descriptor is canonical).
  const name = m[2].slice(1);
  if (name === '.') return dir;
  if (name === '..') return dirname(dir);
  if (/^[^/]+$/.test(name) && (!follow || !isLink(`${dir}/${name}`))) return `${dir}/${name}`;
  return place(dir + m[2], follow);
}

/** Calls that do not follow a link in their path's last place (open does not with O_NOFOLLOW). */
const NO_FOLLOW = new Set(['lstatSync', 'readlinkSync', 'unlinkSync', 'rmdirSync', 'mkdirSync', 'lutimesSync', 'rmSync', 'symlinkSync', 'renameSync', 'linkSync', 'lchownSync', 'lchmodSync']);

/** The oracle for one mount: records every host access that lands outside `root`. */
function watch(root: string) {
  const inside = (p: string) => p === root || p.startsWith(root + '/');
  const violations: string[] = [];
  const seen = { calls: 0 };
  const check = (name: string, args: unknown[]): void => {
    seen.calls++;
    if (name === 'closeSync') return;
    const a0 = args[0];
    if (typeof a0 === 'number') {
      const at = fdTarget(a0);
      if (at === null || !inside(at)) violations.push(`${name}(fd ${a0} = ${at ?? 'not open'})`);
      return;
    }
    const paths: unknown[] = name === 'symlinkSync' ? [args[1]] : name === 'renameSync' || name === 'linkSync' || name === 'copyFileSync' ? [a0, args[1]] : [a0];
    const follow = name === 'openSync' ? !(typeof args[1] === 'number' && (args[1] & fs.constants.O_NOFOLLOW) !== 0) : !NO_FOLLOW.has(name);
    for (const p of paths) {
      const s = p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : String(p);
      const at = locate(s, follow);
      if (!inside(at)) violations.push(`${name}(${JSON.stringify(s)}) lands on ${at}`);
    }
  };
  return { check, violations, inside, seen };
}

/** Host descriptors open now. */
function openFds(): Set<number> {
  return new Set(fs.readdirSync('/proc/self/fd').map(Number));
}

/**
 * What must not change outside the mount: the canaries' and their
 * directories' modification and change times (any write, or entry made,
 * removed or renamed there, moves them) and sizes. `full` adds the listings
 * and the canaries' bytes.
 */
function outsideState(base: string, beside: string, full = false): string {
  const parts: string[] = [];
  // A canary gone (moved or removed from outside) shows as "missing", not as this check failing.
  const tryOr = (f: () => string): string => {
    try {
      return f();
    } catch (e) {
      return `missing (${(e as { code?: string }).code})`;
    }
  };
  for (const f of [base, beside, join(base, 'secret.txt'), join(beside, 'secret.txt')]) {
    parts.push(tryOr(() => {
      const st = fs.lstatSync(f, { bigint: true });
      return `${f}:${st.mtimeNs}:${st.ctimeNs}:${st.size}:${st.nlink}`;
    }));
  }
  if (full) {
    parts.push(tryOr(() => fs.readdirSync(base).sort().join(',')), tryOr(() => fs.readdirSync(beside).sort().join(',')));
    parts.push(tryOr(() => fs.readFileSync(join(base, 'secret.txt'), 'utf8')), tryOr(() => fs.readFileSync(join(beside, 'secret.txt'), 'utf8')));
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------
// Operations

// Few names, so that operations meet the same entries again and again; short paths most often.
const comp = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('a', 'b') },
  { weight: 3, arbitrary: fc.constantFrom('host-abs', 'host-rel') },
  { weight: 2, arbitrary: fc.constant('..') },
  { weight: 1, arbitrary: fc.constantFrom('.', 'secret.txt', 'beside', 'mount') },
);
const comps = fc.oneof(
  { weight: 6, arbitrary: fc.array(comp, { minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.array(comp, { minLength: 2, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(comp, { minLength: 3, maxLength: 3 }) },
);
const path = fc
  .tuple(comps, fc.nat(19), fc.nat(9))
  .map(([cs, lead, trail]) => (lead === 0 ? '/' : '') + cs.join('/') + (trail === 0 ? '/' : ''));

/** Link targets: guest paths, climbs, chains through other links, and absolute paths to the canaries. */
const target = (t: { base: string; beside: string }) =>
  fc.oneof(
    { weight: 4, arbitrary: path },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => '../'.repeat(n).slice(0, -1)) },
    { weight: 2, arbitrary: fc.constantFrom('a/..', 'a/../..', 'b/a/..', 'host-abs', 'host-rel/..', '.') },
    { weight: 1, arbitrary: fc.constantFrom(t.beside, join(t.base, 'secret.txt'), '/etc/passwd', '/', t.base) },
  );

/** A descriptor: mostly one of those open when the operation runs (see `pick`), sometimes any number. */
const fdArb = fc.nat(63);
const follow = fc.boolean();

type Op =
  | { op: 'mkdir' | 'rmdir' | 'unlink' | 'readlink'; fd: number; path: string }
  | { op: 'stat' | 'times'; fd: number; path: string; follow: boolean }
  | { op: 'symlink'; target: string; fd: number; path: string }
  | { op: 'rename'; fd: number; path: string; fd2: number; path2: string }
  | { op: 'link'; fd: number; path: string; follow: boolean; fd2: number; path2: string }
  | { op: 'open'; fd: number; path: string; follow: boolean; oflags: number; dir: boolean }
  | { op: 'readdir' | 'read' | 'fstat' | 'close'; fd: number }
  | { op: 'write'; fd: number; data: string }
  | { op: 'renumber'; fd: number; fd2: number }
  | { op: 'restore' };

const ops = (t: { base: string; beside: string }): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('mkdir' as const), fd: fdArb, path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('rmdir' as const, 'unlink' as const, 'readlink' as const), fd: fdArb, path }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('stat' as const, 'times' as const), fd: fdArb, path, follow }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('symlink' as const), target: target(t), fd: fdArb, path }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('rename' as const), fd: fdArb, path, fd2: fdArb, path2: path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('link' as const), fd: fdArb, path, follow, fd2: fdArb, path2: path }) },
    {
      weight: 5,
      arbitrary: fc.record({ op: fc.constant('open' as const), fd: fdArb, path, follow, oflags: fc.constantFrom(0, O.CREAT, O.DIRECTORY, O.DIRECTORY, O.CREAT | O.EXCL, O.TRUNC), dir: fc.boolean() }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('readdir' as const, 'read' as const, 'fstat' as const, 'close' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('write' as const), fd: fdArb, data: fc.constantFrom('x', 'hello\n') }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('renumber' as const), fd: fdArb, fd2: fdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const) }) },
  );

/** The guest's descriptors open now: directories (the preopen, 3, first) and files. */
interface Open {
  dirs: number[];
  files: number[];
}

/**
 * The descriptor `n` stands for: 7 times in 8 one of those open now (a
 * directory for path operations, any for the others), else `n` itself.
 */
function pick(open: Open, n: number, path: boolean): number {
  if (n % 8 === 7) return n;
  const from = path || open.files.length === 0 ? open.dirs : [...open.dirs, ...open.files];
  return from[n % from.length]!;
}

/** Runs `op` with its descriptors picked among `open`, which it keeps up to date. The preopen is never closed. */
function run(rig: InstanceType<typeof Rig>, open: Open, op: Op): unknown {
  if (op.op === 'restore') return rig.restore(); // a snapshot taken and resumed: every descriptor re-resolved from the root
  const path = !['readdir', 'read', 'fstat', 'close', 'write', 'renumber'].includes(op.op) || (op.op === 'readdir' && op.fd % 2 === 0);
  const o = { ...op, fd: pick(open, op.fd, path), ...('fd2' in op ? { fd2: pick(open, op.fd2, op.op !== 'renumber') } : {}) } as Op;
  if (o.op === 'renumber') {
    if (o.fd === 3 || o.fd2 === 3) return null; // the preopen stays where it is
    const errno = rig.call('fd_renumber', o.fd, o.fd2);
    if (errno === 0 && o.fd !== o.fd2) {
      const kind = open.dirs.includes(o.fd) ? open.dirs : open.files;
      for (const list of [open.dirs, open.files]) for (const fd of [o.fd, o.fd2]) if (list.includes(fd)) list.splice(list.indexOf(fd), 1);
      kind.push(o.fd2);
    }
    return errno;
  }
  if (o.op === 'open') {
    const fd = rig.open(o.fd, o.path, o.oflags, o.follow, o.dir ? DIR : undefined);
    if (fd > 0) {
      rig.fstat(fd);
      (new DataView(rig.memory.buffer).getUint8(128 + 16) === 3 ? open.dirs : open.files).push(fd);
    }
    return fd;
  }
  if (o.op === 'close') {
    if (o.fd === 3) return null;
    const errno = rig.close(o.fd);
    for (const list of [open.dirs, open.files]) if (list.includes(o.fd)) list.splice(list.indexOf(o.fd), 1);
    return errno;
  }
  switch (o.op) {
    case 'mkdir': return rig.mkdir(o.fd, o.path);
    case 'rmdir': return rig.rmdir(o.fd, o.path);
    case 'unlink': return rig.unlink(o.fd, o.path);
    case 'readlink': return rig.readlink(o.fd, o.path);
    case 'stat': return rig.stat(o.fd, o.path, o.follow);
    case 'times': return rig.setTimes(o.fd, o.path, o.follow);
    case 'symlink': return rig.symlink(o.target, o.fd, o.path);
    case 'rename': return rig.rename(o.fd, o.path, o.fd2, o.path2);
    case 'link': return rig.link(o.fd, o.path, o.follow, o.fd2, o.path2);
    case 'readdir': return rig.readdir(o.fd);
    case 'read': return rig.read(o.fd);
    case 'fstat': return rig.fstat(o.fd);
    case 'write': return rig.write(o.fd, o.data);
  }
}

// ---------------------------------------------------------------------------

const passwd = Buffer.from(fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!);

describe('the WASI sandbox under random operations', () => {
  it.each(Array.from({ length: CHUNKS }, (_, i) => i + 1))(`never reads, writes, lists or stats anything outside the mount (part %i of ${CHUNKS}: ${SEQUENCES} sequences of ${OPS_PER_SEQUENCE} operations)`, () => {
    let done = 0;
    let calls = 0;
    const tally = { restored: 0, refused: 0, renumbered: 0 };
    const layout = canaryTree(temp); // names for the generators; each sequence gets its own tree
    const started = performance.now();
    fc.assert(
      fc.property(fc.array(ops(layout), { minLength: OPS_PER_SEQUENCE, maxLength: OPS_PER_SEQUENCE }), (sequence) => {
        const t = canaryTree(temp);
        // The generators' absolute targets name the first tree's canaries: point them at this one's.
        const retarget = (s: string) => s.split(layout.base).join(t.base);
        const before = openFds();
        const outside = outsideState(t.base, t.beside);
        const outsideFull = outsideState(t.base, t.beside, true);
        const rig = new Rig(t.mount);
        const w = watch(fs.realpathSync(t.mount));
        const bytes = () => Buffer.from(rig.memory.buffer, 0, rig.memory.byteLength);
        const open: Open = { dirs: [3], files: [] };
        try {
          for (const [i, o] of sequence.entries()) {
            const op = o.op === 'symlink' ? { ...o, target: retarget(o.target) } : o;
            oracle.check = w.check;
            try {
              const result = run(rig, open, op);
              if (result === 'restored' || result === 'refused') tally[result]++;
              if (op.op === 'renumber' && result === 0) tally.renumbered++;
            } finally {
              oracle.check = null;
            }
            done++;
            // Plain checks (not expect) in this loop: it runs 100,000 times.
            const problems = [...w.violations];
            // Where held descriptors are changes only when one is opened or something is renamed
            // (a removal leaves it where it was, deleted): checked after those, and at the end.
            if (op.op === 'open' || op.op === 'rename' || i === sequence.length - 1) for (const fd of openFds()) {
              if (before.has(fd)) continue;
              const at = fdTarget(fd);
              if (at !== null && !at.startsWith('/proc/') && !w.inside(at)) problems.push(`host fd ${fd} is on ${at}`);
            }
            const mem = bytes();
            if (mem.indexOf(CANARY) >= 0) problems.push('canary bytes in guest memory');
            if (mem.indexOf(passwd) >= 0) problems.push('/etc/passwd in guest memory');
            if (outsideState(t.base, t.beside) !== outside) problems.push('a canary or the mount\'s parent changed');
            if (problems.length > 0) expect(problems, `after operation ${i} ${JSON.stringify(op)}`).toEqual([]);
          }
        } finally {
          oracle.check = null;
          calls += w.seen.calls;
          rig.wasi.close();
        }
        expect(outsideState(t.base, t.beside, true)).toBe(outsideFull);
        expect([...openFds()].filter((fd) => !before.has(fd) && fdTarget(fd)?.startsWith('/proc/') !== true), 'host descriptors left open').toEqual([]);
        fs.rmSync(t.base, { recursive: true, force: true });
      }),
      // No shrinking: a failure names the operation and what it touched, and shrinking 400-operation sequences takes minutes.
      { numRuns: SEQUENCES, endOnFailure: true, ...REPLAY },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`wasi sandbox property: ${done} operations (${tally.restored} restores, ${tally.refused} refused, ${tally.renumbered} renumbers), ${calls} host calls checked, in ${seconds.toFixed(1)} s`);
    expect(done).toBeGreaterThanOrEqual(SEQUENCES * OPS_PER_SEQUENCE);
    expect(calls).toBeGreaterThan(done); // the oracle saw the binding's calls
    expect(tally.restored).toBeGreaterThan(0); // restores ran, not only refusals
    expect(tally.renumbered).toBeGreaterThan(0);
  });

  it('has an oracle that sees an access outside, through a path or a /proc/self/fd descriptor', async () => {
    const mocked = await import('node:fs'); // what the binding gets: node:fs wrapped
    const t = canaryTree(temp);
    const w = watch(fs.realpathSync(t.mount));
    const root = fs.openSync(t.mount, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const outside = fs.openSync(join(t.base, 'secret.txt'), fs.constants.O_RDONLY);
    oracle.check = w.check;
    try {
      mocked.lstatSync(join(t.mount, 'host-abs')); // the link itself: inside
      mocked.statSync(`/proc/self/fd/${root}/.`); // the root: inside
      expect(w.violations).toEqual([]);
      mocked.statSync(join(t.mount, 'host-abs')); // through the link: outside
      mocked.lstatSync(`/proc/self/fd/${root}/..`); // the mount's parent
      mocked.readdirSync(join(t.mount, 'host-rel/'));
      mocked.fstatSync(outside);
      mocked.openSync(join(t.mount, 'host-abs/secret.txt'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } finally {
      oracle.check = null;
      fs.closeSync(root);
      fs.closeSync(outside);
    }
    expect(w.violations).toHaveLength(5);
  });
});
