import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('runs its API example against the built package and prints what the comments say', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    // The example imports 'wasmhive' itself, which resolves to the build in dist/ (made by `npm install`).
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', block![1]!], { cwd: root, encoding: 'utf8' });
    expect(out.split('\n').slice(0, 6)).toEqual([
      '2432902008176640000n',
      '332833500',
      'true integer divide by zero',
      "[ 'divide', 'average' ]",
      "{ kind: 'done', results: [ { type: 'i32', value: 14 } ] }",
      'trapped',
    ]);
  });
});
