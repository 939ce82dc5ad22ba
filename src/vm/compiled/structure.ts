/**
 * Structured control flow for the compiled tier: the blocks of a lowered
 * function (numbered 1..n in pc order) and its branches between them, as a
 * tree of JavaScript constructs: a branch back to block t is `continue Lt`
 * out of a loop `Lt: for (;;) { ... }` that starts at t and spans every block
 * that branches back to it; a branch forward to block t is `break Bt` out of
 * a labelled block `Bt: { ... }` that ends just before t and spans every
 * block that branches to it. The blocks are in pc order, so falling off the
 * end of a construct goes on at the next block, as falling through does.
 *
 * Lowered code comes from WebAssembly's structured control flow, so such a
 * tree exists: the spans are widened until they nest (a loop's end later, a
 * labelled block's start earlier). The one case that cannot be widened away,
 * a forward branch from outside a loop to a block inside it after its head
 * (irreducible flow), gives null, and the function keeps the generator's
 * other shape (a loop over a switch on the block).
 */

/** A loop (its head is `start`, branches back to it continue it) or a labelled block (branches to `end + 1` leave it). */
export interface Construct {
  readonly kind: 'loop' | 'block';
  start: number;
  end: number;
  /** Its blocks and constructs, in pc order. */
  readonly items: Item[];
}

/** A block (by number) or a construct. */
export type Item = number | Construct;

/** At most this many widenings are tried before the function is left to the other shape. */
const MAX_FIXES = 100_000;

/**
 * The constructs of blocks 1..n given the branches `[from, to]` between
 * them (a branch to its own block is a loop of one block), as the top-level
 * items, or null when the flow cannot be nested (see the header).
 */
export function structure(n: number, edges: readonly (readonly [number, number])[]): Item[] | null {
  const loopEnd = new Map<number, number>();
  const fwdStart = new Map<number, number>();
  for (const [from, to] of edges) {
    if (to < 1 || to > n || from < 1 || from > n) return null;
    if (to <= from) loopEnd.set(to, Math.max(loopEnd.get(to) ?? from, from));
    else fwdStart.set(to, Math.min(fwdStart.get(to) ?? from, from));
  }
  const spans: Construct[] = [];
  for (const [t, e] of loopEnd) spans.push({ kind: 'loop', start: t, end: e, items: [] });
  for (const [t, s] of fwdStart) spans.push({ kind: 'block', start: s, end: t - 1, items: [] });
  // Outer first: by start, then the longer, then a labelled block around a loop of the same span.
  const order = (a: Construct, b: Construct): number => a.start - b.start || b.end - a.end || (a.kind === b.kind ? 0 : a.kind === 'block' ? -1 : 1);
  // Widen until no two spans cross (a.start < b.start <= a.end < b.end): b a labelled block starts at a's start;
  // else (b a loop, whose start is fixed) a, when a loop, ends at b's end; a labelled block that ends inside a
  // loop it starts before is a branch into that loop (irreducible).
  for (let fixes = 0; ; fixes++) {
    if (fixes > MAX_FIXES) return null;
    spans.sort(order);
    const open: Construct[] = [];
    let crossed: [Construct, Construct] | null = null;
    for (const sp of spans) {
      while (open.length > 0 && open[open.length - 1]!.end < sp.start) open.pop();
      const top = open[open.length - 1];
      if (top !== undefined && sp.end > top.end) {
        crossed = [top, sp];
        break;
      }
      open.push(sp);
    }
    if (crossed === null) break;
    const [a, b] = crossed;
    if (b.kind === 'block') b.start = a.start;
    else if (a.kind === 'loop') a.end = b.end;
    else return null;
  }
  // The tree: blocks in order, each construct opened before its first block, closed after its last.
  const root: Item[] = [];
  const open: Construct[] = [];
  let next = 0;
  for (let i = 1; i <= n; i++) {
    while (open.length > 0 && open[open.length - 1]!.end < i) open.pop();
    while (next < spans.length && spans[next]!.start === i) {
      const sp = spans[next++]!;
      (open.length > 0 ? open[open.length - 1]!.items : root).push(sp);
      open.push(sp);
    }
    (open.length > 0 ? open[open.length - 1]!.items : root).push(i);
  }
  return root;
}

/** The blocks of an item, in order. */
export function blocksOf(it: Item, out: number[] = []): number[] {
  if (typeof it === 'number') out.push(it);
  else for (const x of it.items) blocksOf(x, out);
  return out;
}
