import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blocksOf, structure, type Construct, type Item } from './structure.js';

/** Checks the laws of a tree for blocks 1..n and its branches; returns the constructs enclosing each block. */
function check(tree: readonly Item[], n: number, edges: readonly (readonly [number, number])[]): void {
  // Every block once, in order.
  expect(tree.flatMap((it) => blocksOf(it))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  const around = new Map<number, Construct[]>();
  const walk = (items: readonly Item[], outer: Construct[]): void => {
    for (const it of items) {
      if (typeof it === 'number') around.set(it, outer);
      else {
        const bs = blocksOf(it);
        // A construct spans exactly its blocks, as its bounds say.
        expect([bs[0], bs[bs.length - 1]]).toEqual([it.start, it.end]);
        walk(it.items, [...outer, it]);
      }
    }
  };
  walk(tree, []);
  for (const [from, to] of edges) {
    const cs = around.get(from)!;
    if (to <= from) expect(cs.some((c) => c.kind === 'loop' && c.start === to)).toBe(true);
    else expect(cs.some((c) => c.kind === 'block' && c.end === to - 1)).toBe(true);
  }
}

/**
 * A random WebAssembly-like function body as blocks and branches: nested block, loop and if constructs, each
 * branch to a construct that encloses it (a block's or an if's end, a loop's head).
 */
const structured = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 60 })
  .map((ops) => {
    let n = 1;
    const edges: [number, number][] = [];
    // Open constructs: [kind, head block, forward branch sources waiting for the end].
    const open: { kind: 'block' | 'loop' | 'if'; head: number; pending: number[] }[] = [];
    for (const [op, depth] of ops) {
      if (op === 0) open.push({ kind: 'block', head: n, pending: [] });
      else if (op === 1) {
        // A loop's head starts a block.
        n++;
        open.push({ kind: 'loop', head: n, pending: [] });
      } else if (op === 2) {
        // if: a branch over the then-part (to the else or the end).
        open.push({ kind: 'if', head: n, pending: [n] });
        n++;
      } else if (op === 3 && open.length > 0) {
        // end: the forward branches land on a new block.
        const c = open.pop()!;
        if (c.pending.length > 0) {
          n++;
          for (const s of c.pending) edges.push([s, n]);
        }
      } else if (open.length > 0) {
        // br / br_if to an enclosing construct.
        const c = open[open.length - 1 - (depth % open.length)]!;
        if (c.kind === 'loop') edges.push([n, c.head]);
        else c.pending.push(n);
        if (op === 4) n++; // br_if: the code after it is a block of its own here (as after a call)
      }
    }
    while (open.length > 0) {
      const c = open.pop()!;
      if (c.pending.length > 0) {
        n++;
        for (const s of c.pending) edges.push([s, n]);
      }
    }
    return { n, edges };
  });

describe('structure', () => {
  it('a loop of one block and a branch over it', () => {
    const tree = structure(3, [[2, 2], [1, 3]]);
    expect(tree).not.toBeNull();
    check(tree!, 3, [[2, 2], [1, 3]]);
  });

  it('a branch from before a loop into its middle (irreducible) has no tree', () => {
    expect(structure(4, [[3, 2], [1, 3]])).toBeNull();
  });

  it('branches crossing each other are widened until they nest (a loop branched to from an inner loop)', () => {
    // Loop 1..3 branched back to from block 3, which is inside loop 2..4.
    const edges: [number, number][] = [[3, 1], [4, 2], [1, 5], [2, 4]];
    const tree = structure(5, edges);
    expect(tree).not.toBeNull();
    check(tree!, 5, edges);
  });

  it('property: the flow of structured code always has a tree, and the tree realizes every branch', () => {
    fc.assert(
      fc.property(structured, ({ n, edges }) => {
        const tree = structure(n, edges);
        expect(tree).not.toBeNull();
        check(tree!, n, edges);
      }),
      { numRuns: 500 },
    );
  });

  it('property: for any branches, a tree when there is one realizes every branch', () => {
    const anyFlow = fc.integer({ min: 1, max: 12 }).chain((n) =>
      fc.record({ n: fc.constant(n), edges: fc.array(fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n })), { maxLength: 20 }) }),
    );
    fc.assert(
      fc.property(anyFlow, ({ n, edges }) => {
        const tree = structure(n, edges);
        if (tree !== null) check(tree, n, edges);
      }),
      { numRuns: 1000 },
    );
  });
});
