import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs examples/services/host.mjs, which imports 'wasmhive': the build in
 * dist/ (made by `npm install`, as for test/readme.test.ts). Its output
 * with the pids written as <pid>, after checking that each greeting names
 * the pid of the actor that asked for it.
 */
function run(): string[] {
  const out = execFileSync(process.execPath, ['examples/services/host.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const greet = /^ {2}greeter\.greet: "hello (\w+), from actor (\d+)" \(its pid is (\d+)\)$/;
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = greet.exec(line);
      if (m === null) return line;
      expect(m[2], `the greeting names its caller's pid: ${line}`).toBe(m[3]);
      return `  greeter.greet: "hello ${m[1]}, from actor <pid>"`;
    });
}

/** What an actor granted kv, http and greeter reports. */
const granted = (title: string, lang: string): string[] => [
  title,
  '  kv: found',
  '  kv.incr visits, twice: 2',
  `  kv.get note: "written by ${lang}"`,
  '  http: found',
  '  http.fetch status: 200',
  '  http.fetch body: "hello from the local server"',
  '  greeter: found',
  `  greeter.greet: "hello ${lang}, from actor <pid>"`,
  '  greeter.wait: 20',
];

describe('examples/services', () => {
  it('an AssemblyScript and a C actor use kv, http (the local server) and the host\'s greeter; one granted greeter only finds no kv', () => {
    expect(run()).toEqual([
      ...granted('AssemblyScript actor, granted kv, http, greeter:', 'AssemblyScript'),
      ...granted('C actor, granted kv, http, greeter:', 'C'),
      'AssemblyScript actor, granted greeter only:',
      '  kv: lookup NOT_FOUND (-2)',
      '  http: lookup NOT_FOUND (-2)',
      '  greeter: found',
      '  greeter.greet: "hello AssemblyScript, from actor <pid>"',
      '  greeter.wait: 20',
    ]);
  });
});
