/**
 * Tests of the command line's dispatch: help, unknown commands, usage errors
 * of `spec`, a spec run's exit status and JSON report, and commands whose
 * module is missing from the build.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, runModule } from './main.js';
import { specRoot } from '../spec/script.js';

const out: string[] = [];
beforeEach(() => {
  out.length = 0;
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const tmp = mkdtempSync(join(tmpdir(), 'wasmhive-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const coreDir = join(specRoot(fileURLToPath(new URL('../..', import.meta.url))), 'core');

describe('wasmhive', () => {
  it('prints help and exits 0 with --help, and exits 2 without a command or with an unknown one', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(out.join('\n')).toContain('Usage: wasmhive <command>');
    expect(await main([])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
  });

  it('spec: exits 2 on usage errors', async () => {
    expect(await main(['spec'])).toBe(2);
    expect(await main(['spec', '--bogus', 'x'])).toBe(2);
    expect(await main(['spec', join(tmp, 'nowhere')])).toBe(2);
    expect(await main(['spec', tmp, '--engine', 'spidermonkey'])).toBe(2);
    expect(await main(['spec', tmp])).toBe(2); // no scripts there
    expect(await main(['spec', '--help'])).toBe(0);
  });

  it('says so, and exits 1, when a command module is missing from the build', async () => {
    expect(await runModule('nothing', './no-such-module.js', [])).toBe(1);
    expect(out.join('\n')).toContain('not available in this build');
  });

  it.skipIf(!existsSync(coreDir))('spec: runs scripts, prints the table and writes the JSON report', async () => {
    const json = join(tmp, 'report.json');
    const status = await main(['spec', coreDir, '--engine', 'v8', '--filter', 'i32,address', '--json', json]);
    expect(status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.results.map((r: { name: string }) => r.name)).toEqual(['address', 'i32']);
    expect(report.totals.all.failed).toBe(0);
    expect(out.join('\n')).toMatch(/total \(2 scripts\)/);
  });
});
