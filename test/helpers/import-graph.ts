/**
 * Test helper: the module graph of a TypeScript source tree, its import
 * cycles and the imports that break a table of allowed folder dependencies.
 *
 * Imports are read from the syntax tree of the TypeScript compiler, not with
 * regular expressions, so an import written in a comment or a string does not
 * count. Every form that makes one module depend on another counts, types
 * included (a type-only cycle still ties the files together):
 * `import` (with `import type`), `export ... from`, `import x = require()`,
 * `import('...')` calls and `import('...')` types. Only relative specifiers
 * with a literal string are followed; package imports are not part of the
 * graph. (`ts.preProcessFile` was tried first: it misses `export * as ns from`.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** File path (relative to the tree's root, with `/`) -> the files it imports. */
export type ImportGraph = Map<string, Set<string>>;

/** A relative import that names no file of the tree. */
export interface UnresolvedImport {
  from: string;
  specifier: string;
}

/** An import that the folder table does not allow. */
export interface FolderViolation {
  from: string;
  to: string;
  fromFolder: string;
  toFolder: string;
}

/** The module specifiers of every import of one file (relative or not), in source order. */
export function importSpecifiers(fileName: string, text: string): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const literal = (n: ts.Node | undefined): void => {
    if (n !== undefined && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n))) out.push(n.text);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) literal(n.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) literal(n.moduleReference.expression);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) literal(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) literal(n.argument.literal);
    ts.forEachChild(n, visit);
  };
  visit(file);
  return out;
}

/**
 * The file a relative specifier names among `files`, or undefined. ESM
 * TypeScript writes `./x.js` for `./x.ts`; a folder means its index.
 */
function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  const ext = base.slice(stem.length);
  const candidates = ext !== '' ? [stem + ext.replace('js', 'ts'), stem + '.d' + ext.replace('js', 'ts'), base] : [base, `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => files.has(c));
}

/**
 * Builds the graph of `sources` (path relative to the root, with `/` -> text).
 * A relative import that leaves the tree or names no file is returned in
 * `unresolved`, not silently dropped.
 */
export function buildImportGraph(sources: ReadonlyMap<string, string>): { graph: ImportGraph; unresolved: UnresolvedImport[] } {
  const files = new Set(sources.keys());
  const graph: ImportGraph = new Map();
  const unresolved: UnresolvedImport[] = [];
  for (const [path, text] of [...sources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const deps = new Set<string>();
    for (const specifier of importSpecifiers(path, text)) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const to = resolveSpecifier(path, specifier, files);
      if (to === undefined) unresolved.push({ from: path, specifier });
      else deps.add(to);
    }
    graph.set(path, deps);
  }
  return { graph, unresolved };
}

/** Strongly connected components (Tarjan), each sorted; iterative, so a long chain cannot overflow the stack. */
function components(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const succ = (v: string): string[] => [...(graph.get(v) ?? [])].filter((w) => graph.has(w)).sort();
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { v: string; next: string[]; i: number }[] = [];
    const enter = (v: string): void => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      work.push({ v, next: succ(v), i: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.next.length) {
        const w = top.next[top.i++]!;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        out.push(comp.sort());
      }
    }
  }
  return out;
}

/** The shortest path from `from` to `to` inside `within` (breadth first, successors in sorted order), both ends included. */
function shortestPath(graph: ImportGraph, from: string, to: string, within: ReadonlySet<string>): string[] | undefined {
  const prev = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    if (v === to) {
      const path: string[] = [];
      for (let x: string | null = v; x !== null; x = prev.get(x)!) path.push(x);
      return path.reverse();
    }
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (within.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/**
 * The import cycles of `graph`, each as the files along it, the first file
 * repeated at the end (`[a, b, a]`). Listing every elementary cycle can take
 * exponential time, so this lists, for every import that lies on a cycle,
 * the shortest cycle through it (duplicates removed, each rotated to start
 * at its smallest file, sorted): every import to be broken appears in at
 * least one cycle, and none is listed for an acyclic graph.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const comp of components(graph)) {
    const members = new Set(comp);
    for (const from of comp) {
      for (const to of [...(graph.get(from) ?? [])].sort()) {
        if (!members.has(to)) continue;
        // A self-import is a cycle of one file; otherwise from -> to, then back.
        const back = shortestPath(graph, to, from, members);
        if (back === undefined) continue;
        const ring = from === to ? [from] : [from, ...back.slice(0, -1)];
        const start = ring.indexOf([...ring].sort()[0]!);
        const rotated = [...ring.slice(start), ...ring.slice(0, start)];
        const key = rotated.join('\0');
        if (seen.has(key)) continue;
        seen.add(key);
        cycles.push([...rotated, rotated[0]!]);
      }
    }
  }
  return cycles.sort((a, b) => a.length - b.length || (a.join('\0') < b.join('\0') ? -1 : 1));
}

/** A cycle as one readable line: `a.ts -> b.ts -> a.ts`. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}

/** The folder of a file for the folder table: its first path segment, or `.` for a file at the root. */
export function folderOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

/**
 * The imports between folders that `allowed` (folder -> the other folders it
 * may import from) does not list. A file importing from its own folder is
 * always allowed. A folder missing from the table is reported as importing
 * what it imports, so that a new folder is placed in the table on purpose.
 */
export function folderViolations(graph: ImportGraph, allowed: Readonly<Record<string, readonly string[]>>): FolderViolation[] {
  const out: FolderViolation[] = [];
  for (const [from, deps] of graph) {
    const fromFolder = folderOf(from);
    for (const to of deps) {
      const toFolder = folderOf(to);
      if (toFolder === fromFolder) continue;
      if (Object.hasOwn(allowed, fromFolder) && allowed[fromFolder]!.includes(toFolder)) continue;
      out.push({ from, to, fromFolder, toFolder });
    }
  }
  return out.sort((a, b) => (a.from + '\0' + a.to < b.from + '\0' + b.to ? -1 : 1));
}

/** The `.ts` files under `root` (recursively) for which `keep` holds, keyed by path relative to `root` with `/`. */
export function readSourceTree(root: string, keep: (path: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && e.name.endsWith('.ts')) {
        const rel = relative(root, full).split(sep).join('/');
        if (keep(rel)) out.set(rel, readFileSync(full, 'utf8'));
      }
    }
  };
  walk(root);
  return out;
}
