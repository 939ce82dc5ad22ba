import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The README's ```js blocks, in order. */
function blocks(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs a block; it imports 'wasmhive' itself, which resolves to the build in dist/ (made by `npm install`). */
function run(block: string): string[] {
  return execFileSync(process.execPath, ['--input-type=module', '-e', block], { cwd: root, encoding: 'utf8' }).split('\n');
}

describe('README', () => {
  it('has five examples', () => {
    expect(blocks()).toHaveLength(5);
  });

  it('runs the counter example (host side of examples/counter) and prints what the comments say', () => {
    expect(run(blocks()[0]!).slice(0, 4)).toEqual(['value=1', 'value=2', 'value=1', 'value=2']);
  });

  it('runs its workers example: two actors on two threads, one moved while it runs', () => {
    expect(run(blocks()[1]!).slice(0, 3)).toEqual(['0 1', 'value=1', '1 value=2']);
  });

  it('runs its API example against the built package and prints what the comments say', () => {
    const out = run(blocks()[2]!);
    expect(out.slice(0, 6)).toEqual([
      '2432902008176640000n',
      '332833500',
      'true integer divide by zero',
      "[ 'divide', 'average' ]",
      "{ kind: 'done', results: [ { type: 'i32', value: 14 } ] }",
      'trapped',
    ]);
  });

  it('runs its fuel and snapshot example and prints what the comments say', () => {
    expect(run(blocks()[3]!).slice(0, 3)).toEqual(['out-of-fuel 20007', 'out-of-fuel', '-594264128 true']);
  });

  it('runs its WASI example: the program prints its arguments and exits 0', () => {
    const out = run(blocks()[4]!);
    expect(out).toContain('argv[1]="x" (1 bytes)');
    expect(out).toContain('GREETING is hi');
    expect(out.filter((l) => l !== '').slice(-2)).toEqual(['exiting with 0', '0']);
  });
});
