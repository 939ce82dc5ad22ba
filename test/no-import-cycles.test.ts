/**
 * The module graph of src (test files left out) has no import cycle, and its
 * folders depend on each other only as docs/architecture.md says ("Folders
 * and dependencies"). Type-only imports count: a type cycle still ties the
 * files together, and the worker boundary of issue 11 needs modules that
 * stand alone. The checker itself is tested first, on small in-memory trees,
 * so that a pass below means "no cycle", not "nothing was read".
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, folderViolations, formatCycle, importSpecifiers, readSourceTree } from './helpers/import-graph.js';

/**
 * Folder -> the other src folders its files may import from (`.` is
 * src/index.ts and the other files at the top). Dependencies point one way:
 * the engine knows nothing of the rest, the scheduler imports nothing of
 * ours, bindings plug host functions into the engine and know no actor, and
 * nothing but the command line knows the command line; stores know nothing
 * of actors. A new folder must be
 * added here (until then its imports of other folders fail the test).
 */
const ALLOWED: Record<string, readonly string[]> = {
  vm: [],
  scheduler: [],
  store: [],
  bindings: ['vm', 'scheduler'],
  actors: ['vm', 'scheduler', 'bindings', 'store'],
  spec: ['vm'],
  bench: ['vm', 'scheduler', 'bindings', 'actors', 'store'],
  demo: ['vm', 'scheduler', 'bindings', 'actors'],
  cli: ['vm', 'scheduler', 'bindings', 'actors', 'spec', 'bench', 'demo'],
  '.': ['vm', 'scheduler', 'bindings', 'actors', 'store'],
};

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

describe('the import checker', () => {
  it('reads every form of import from the syntax tree, and none written in comments or strings', () => {
    const text = `
      import type { A } from './a.js';
      import { type B } from './b.js';
      export type { C } from './c.js';
      export * from './d.js';
      export * as ns from './e.js';
      import './f.js';
      import k = require('./k.js');
      // import { x } from './comment.js';
      /* export * from './block.js'; */
      const s = "import { y } from './string.js'";
      const t = \`import { z } from './template.js' \${s}\`;
      const m = await import('./g.js');
      type T = typeof import('./h.js');
      let u: import('./i.js').I;
      const dynamic = import(someVariable);
      import { pino } from 'pino';`;
    expect(importSpecifiers('x.ts', text)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './k.js', './g.js', './h.js', './i.js', 'pino']);
  });

  it('finds a cycle made of a type-only import and a dynamic import, as a readable path', () => {
    const { graph, unresolved } = buildImportGraph(
      new Map([
        ['a/one.ts', `import type { Two } from './two.js';`],
        ['a/two.ts', `export async function f() { return import('../b/three.js'); }`],
        ['b/three.ts', `export * as one from '../a/one.js';\n// import '../c/four.js'`],
        ['c/four.ts', `import '../a/one.js';`],
      ]),
    );
    expect(unresolved).toEqual([]);
    expect(findCycles(graph).map(formatCycle)).toEqual(['a/one.ts -> a/two.ts -> b/three.ts -> a/one.ts']);
  });

  it('lists, for every import on a cycle, a shortest cycle through it; a self-import is a cycle', () => {
    const { graph } = buildImportGraph(
      new Map([
        ['a.ts', `import './b.js'; import './c.js';`],
        ['b.ts', `import './a.js';`],
        ['c.ts', `import './b.js';`],
        ['d.ts', `import './d.js'; import './a.js';`],
        ['e.ts', `import './a.js';`],
      ]),
    );
    expect(findCycles(graph).map(formatCycle)).toEqual(['d.ts -> d.ts', 'a.ts -> b.ts -> a.ts', 'a.ts -> c.ts -> b.ts -> a.ts']);
  });

  it('finds nothing in an acyclic graph, and resolves folders to their index and .js to .ts', () => {
    const { graph, unresolved } = buildImportGraph(
      new Map([
        ['index.ts', `export * from './vm/index.js'; export * from './actors';`],
        ['vm/index.ts', `export * from './x.js';`],
        ['vm/x.ts', `export const x = 1;`],
        ['actors/index.ts', `import { x } from '../vm/x.js'; import '../missing.js';`],
      ]),
    );
    expect([...graph.get('index.ts')!]).toEqual(['vm/index.ts', 'actors/index.ts']);
    expect(unresolved).toEqual([{ from: 'actors/index.ts', specifier: '../missing.js' }]);
    expect(findCycles(graph)).toEqual([]);
  });

  it('reports an import between folders that the table does not allow, and folders missing from it', () => {
    const { graph } = buildImportGraph(
      new Map([
        ['vm/a.ts', `import type { B } from '../actors/b.js';`],
        ['actors/b.ts', `import '../vm/a.js';`],
        ['new/c.ts', `import '../vm/a.js';`],
      ]),
    );
    expect(folderViolations(graph, { vm: [], actors: ['vm'] })).toEqual([
      { from: 'new/c.ts', to: 'vm/a.ts', fromFolder: 'new', toFolder: 'vm' },
      { from: 'vm/a.ts', to: 'actors/b.ts', fromFolder: 'vm', toFolder: 'actors' },
    ]);
  });
});

describe('src', () => {
  const sources = readSourceTree(SRC, (path) => !path.endsWith('.test.ts'));
  const { graph, unresolved } = buildImportGraph(sources);

  it('is read in full: every relative import names a file of src', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.has('actors/hive.ts') && graph.has('vm/interp.ts')).toBe(true);
    expect(unresolved).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(findCycles(graph).map(formatCycle)).toEqual([]);
  });

  it('has folders that import only what the folder table allows', () => {
    const lines = folderViolations(graph, ALLOWED).map((v) => `${v.from} -> ${v.to} (${v.fromFolder} may not import ${v.toFolder})`);
    expect(lines).toEqual([]);
  });
});
