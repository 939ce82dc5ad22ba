/**
 * Regression tests for the WASI mount escapes of issue 10 (finding 1): a
 * guest mounted with `--dir /box=HOSTDIR` read the host's /etc/passwd,
 * listed HOSTDIR's parent and created files outside it, through a directory
 * descriptor whose directory it had renamed and replaced by a symbolic link
 * (the descriptor kept its old host path), with links whose targets were only
 * checked lexically. Each test is one way that worked, run against the
 * binding as a guest drives it, and one end to end through `wasmhive run`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory } from '../../src/vm/index.js';
import { Wasi } from '../../src/bindings/index.js';
import { wat } from '../helpers/wat.js';
import { callWasi } from '../programs/harness.js';
import { ALL, CANARY, DIR, E, O, Rig, canaryTree } from './wasi-rig.js';

const temp = mkdtempSync(join(tmpdir(), 'wasmhive-escapes-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Levels from the file system's root down to `dir` (/tmp/x is 2). */
const depthOf = (dir: string): number => dir.split(sep).filter((c) => c !== '').length;

/**
 * The attack's set-up, as the guest did it: directory descriptor D on "d";
 * "d" renamed to "e"; a link to `target` made where it passed the lexical
 * check (deep enough for its ".."s), then renamed to "d", where it points
 * out. Returns D.
 */
function staleDescriptor(rig: Rig, target: string): number {
  const climbs = target.split('/').filter((c) => c === '..').length;
  expect(rig.mkdir(3, 'd')).toBe(E.SUCCESS);
  const d = rig.open(3, 'd', O.DIRECTORY);
  expect(d).toBeGreaterThan(3);
  let deep = '';
  for (let i = 0; i < climbs; i++) {
    deep += (deep === '' ? '' : '/') + 'x';
    expect(rig.mkdir(3, deep)).toBe(E.SUCCESS);
  }
  expect(rig.symlink(target, 3, `${deep}/up`)).toBe(E.SUCCESS); // inside, read lexically from where it is
  expect(rig.rename(3, 'd', 3, 'e')).toBe(E.SUCCESS);
  expect(rig.rename(3, `${deep}/up`, 3, 'd')).toBe(E.SUCCESS); // now "d" leads out of the mount
  return d;
}

describe('a directory descriptor whose directory was renamed and replaced by a link', () => {
  it('reads the directory it was opened on, not the canary in the mount\'s parent (was: read it through the link)', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const d = staleDescriptor(rig, '..');
    expect(rig.open(d, 'secret.txt')).toBe(-E.NOENT); // "e" has no secret.txt
    writeFileSync(join(t.mount, 'e', 'secret.txt'), 'mine');
    const f = rig.open(d, 'secret.txt');
    expect(f).toBeGreaterThan(0);
    expect(rig.read(f)).toEqual(Buffer.from('mine'));
    rig.wasi.close();
  });

  it('lists its own directory, not the mount\'s parent (was: listed the parent)', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const d = staleDescriptor(rig, '..');
    expect(rig.readdir(d)).toEqual(['.', '..']);
    rig.wasi.close();
  });

  it('creates files in its own directory, never beside the mount (was: created them outside)', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const d = staleDescriptor(rig, '..');
    const f = rig.open(d, 'created.txt', O.CREAT);
    expect(f).toBeGreaterThan(0);
    expect(rig.write(f, 'hello')).toBe(E.SUCCESS);
    expect(rig.mkdir(d, 'made')).toBe(E.SUCCESS);
    expect(readdirSync(t.base).sort()).toEqual(t.outsideNames);
    expect(readFileSync(join(t.mount, 'e', 'created.txt'), 'utf8')).toBe('hello');
    expect(existsSync(join(t.mount, 'e', 'made'))).toBe(true);
    rig.wasi.close();
  });

  it('cannot reach /etc/passwd through a link that climbs to the file system\'s root (was: read it)', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    const d = staleDescriptor(rig, '../'.repeat(depthOf(t.mount)) + 'etc');
    expect(rig.open(d, 'passwd')).toBe(-E.NOENT);
    expect(rig.stat(d, 'passwd')).toBe(E.NOENT);
    // Through the link itself, from the root: refused, whatever it climbs to.
    expect(rig.open(3, 'd/passwd')).toBe(-E.NOTCAPABLE);
    expect(rig.stat(3, 'd/passwd')).toBe(E.NOTCAPABLE);
    rig.wasi.close();
  });
});

describe('".." after links', () => {
  it('climbs from where the link leads on disk, and is refused at the mount\'s root', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.mkdir(3, 'a')).toBe(E.SUCCESS);
    expect(rig.mkdir(3, 'a/b')).toBe(E.SUCCESS);
    expect(rig.symlink('a/b', 3, 'l0')).toBe(E.SUCCESS);
    writeFileSync(join(t.mount, 'a', 'in-a.txt'), 'a');
    // l0/.. is a (the parent of a/b on disk), not the mount's root as "l0/.." read as text says.
    expect(rig.stat(3, 'l0/../in-a.txt')).toBe(E.SUCCESS);
    expect(rig.stat(3, 'l0/../../host-abs', false)).toBe(E.SUCCESS);
    expect(rig.stat(3, 'l0/../../..')).toBe(E.NOTCAPABLE);
    // A link to ".." made in a, moved to the root: l1/.. would be the mount's parent's parent.
    expect(rig.symlink('..', 3, 'a/l1')).toBe(E.SUCCESS);
    expect(rig.rename(3, 'a/l1', 3, 'l1')).toBe(E.SUCCESS);
    expect(rig.stat(3, 'l1')).toBe(E.NOTCAPABLE);
    expect(rig.stat(3, 'l1/..')).toBe(E.NOTCAPABLE);
    expect(rig.open(3, 'l1/secret.txt')).toBe(-E.NOTCAPABLE);
    expect(rig.readlink(3, 'l1')).toBe('..'); // the link itself can be read: it is inside
    // And from a directory descriptor below: a's descriptor climbs to the root and no further.
    const a = rig.open(3, 'a', O.DIRECTORY);
    expect(rig.stat(a, '..')).toBe(E.SUCCESS);
    expect(rig.stat(a, '../..')).toBe(E.NOTCAPABLE);
    expect(rig.rename(3, 'a', 3, 'a2')).toBe(E.SUCCESS);
    expect(rig.stat(a, '../a2/b')).toBe(E.SUCCESS); // ".." is where a is now
    rig.wasi.close();
  });

  it('refuses the links the host left pointing out, absolute or relative', () => {
    const t = canaryTree(temp);
    const rig = new Rig(t.mount);
    expect(rig.open(3, 'host-abs/secret.txt')).toBe(-E.NOTCAPABLE);
    expect(rig.open(3, 'host-rel/secret.txt')).toBe(-E.NOTCAPABLE);
    expect(rig.readdir(rig.open(3, 'host-rel', O.DIRECTORY))).toBe(-8); // the open failed: no descriptor
    expect(rig.stat(3, 'host-abs', false)).toBe(E.SUCCESS); // the link itself is in the mount
    rig.wasi.close();
  });
});

describe('mounts', () => {
  it('may not overlap, and nothing moves between two of them (EXDEV)', () => {
    const t = canaryTree(temp);
    expect(() => new Wasi({ mounts: { '/a': t.base, '/b': t.mount } })).toThrow(/overlap/);
    expect(() => new Wasi({ mounts: { '/a': t.mount, '/b': t.mount } })).toThrow(/overlap/);
    const other = canaryTree(temp);
    writeFileSync(join(t.mount, 'f'), 'f');
    const w = new Wasi({ mounts: { '/a': t.mount, '/b': other.mount } });
    const memory = new Memory({ initial: 1 });
    w.bind(memory);
    memory.u8.set(Buffer.from('f'), 0);
    expect(callWasi(w, 'path_rename', 3, 0, 1, 4, 0, 1)).toBe(E.XDEV);
    expect(callWasi(w, 'path_link', 3, 0, 0, 1, 4, 0, 1)).toBe(E.XDEV);
    expect(callWasi(w, 'path_rename', 3, 0, 1, 3, 0, 1)).toBe(E.SUCCESS); // within one: fine
    w.close();
  });
});

describe('wasmhive run --dir', () => {
  /**
   * A WASI command doing the attack: with "/box" at fd 3, it makes the stale
   * descriptor as above with a link climbing `climbs` levels to "etc", then
   * opens "passwd" and "secret.txt" through it and writes what it read to
   * stdout, lists it onto stdout, and creates "created.txt" through it.
   */
  function attackGuest(climbs: number): Uint8Array {
    const strings: string[] = [];
    const s = (x: string): string => {
      let at = 1024;
      for (const y of strings) at += y.length + 1;
      strings.push(x);
      return `(i32.const ${at}) (i32.const ${x.length})`;
    };
    const deep = Array.from({ length: climbs }, () => 'x');
    const mkdirs = deep.map((_, i) => `(drop (call $mkdir (i32.const 3) ${s(deep.slice(0, i + 1).join('/'))}))`).join('\n');
    const body = `
      (drop (call $mkdir (i32.const 3) ${s('d')}))
      ;; D at 16
      (drop (call $open (i32.const 3) (i32.const 0) ${s('d')} (i32.const 2) (i64.const ${DIR}) (i64.const ${ALL}) (i32.const 0) (i32.const 16)))
      ${mkdirs}
      (drop (call $symlink ${s('../'.repeat(climbs) + 'etc')} (i32.const 3) ${s(deep.join('/') + '/up')}))
      (drop (call $rename (i32.const 3) ${s('d')} (i32.const 3) ${s('e')}))
      (drop (call $rename (i32.const 3) ${s(deep.join('/') + '/up')} (i32.const 3) ${s('d')}))
      (call $dump (i32.load (i32.const 16)) ${s('passwd')})
      (call $dump (i32.load (i32.const 16)) ${s('secret.txt')})
      (call $dump (i32.const 3) ${s('d/passwd')})
      ;; the listing of D, raw, to stdout
      (drop (call $readdir (i32.load (i32.const 16)) (i32.const 8192) (i32.const 4096) (i64.const 0) (i32.const 20)))
      (i32.store (i32.const 32) (i32.const 8192))
      (i32.store (i32.const 36) (i32.load (i32.const 20)))
      (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 24)))
      (drop (call $open (i32.load (i32.const 16)) (i32.const 0) ${s('created.txt')} (i32.const 1) (i64.const ${ALL}) (i64.const ${ALL}) (i32.const 0) (i32.const 28)))`;
    const data = strings.map((x, i) => {
      let at = 1024;
      for (const y of strings.slice(0, i)) at += y.length + 1;
      return `(data (i32.const ${at}) "${x}")`;
    });
    return wat(`(module
      (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
      (memory (export "memory") 1)
      ${data.join('\n')}
      ;; Opens path under dir and copies up to 4 KiB of it to stdout; nothing when the open fails.
      (func $dump (param $dir i32) (param $p i32) (param $n i32)
        (if (i32.eqz (call $open (local.get $dir) (i32.const 1) (local.get $p) (local.get $n) (i32.const 0)
                (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 40)))
          (then
            (i32.store (i32.const 48) (i32.const 12288))
            (i32.store (i32.const 52) (i32.const 4096))
            (drop (call $read (i32.load (i32.const 40)) (i32.const 48) (i32.const 1) (i32.const 56)))
            (i32.store (i32.const 52) (i32.load (i32.const 56)))
            (drop (call $write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56))))))
      (func (export "_start") ${body}))`);
  }

  it('keeps a guest doing the whole attack inside /box: no /etc/passwd, no parent listing, no file outside', async () => {
    const t = canaryTree(temp);
    const wasm = join(t.base, '..', `attack-${Date.now()}.wasm`);
    writeFileSync(wasm, attackGuest(depthOf(t.mount)));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `const { main } = await import(${JSON.stringify(join(root, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(1));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'run', '--dir', `/box=${t.mount}`, wasm], {
      cwd: root,
      maxBuffer: 1 << 20,
    });
    const passwdLine = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    expect(passwdLine.length).toBeGreaterThan(0);
    expect(stdout).not.toContain(passwdLine);
    expect(stdout).not.toContain(CANARY);
    for (const name of t.outsideNames) if (name !== 'mount') expect(stdout).not.toContain(name);
    expect(readdirSync(t.base).sort()).toEqual(t.outsideNames);
    expect(existsSync(join(t.mount, 'e', 'created.txt'))).toBe(true); // it did run: the file went where D is
  });
});
