import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountedDeque, Deque } from './envelope.js';
import { Tree } from './limits.js';

type Op = { op: 'push'; v: number } | { op: 'shift' } | { op: 'remove'; m: number } | { op: 'removeAll'; m: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('push' as const), v: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ op: fc.constant('shift' as const) }),
    fc.record({ op: fc.constant('remove' as const), m: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ op: fc.constant('removeAll' as const), m: fc.integer({ min: 0, max: 4 }) }),
  ),
  { maxLength: 300 },
);

describe('Deque', () => {
  it('behaves as an array under push, shift, remove and removeAll, across wrap-arounds and growth (a property)', () => {
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const tree = new Tree(1);
        const d = new CountedDeque<number>(tree);
        let model: number[] = [];
        for (const o of list) {
          if (o.op === 'push') {
            d.push(o.v);
            model.push(o.v);
          } else if (o.op === 'shift') {
            expect(d.shift()).toBe(model.shift());
          } else if (o.op === 'remove') {
            const i = model.findIndex((v) => v % 5 === o.m);
            expect(d.remove((v) => v % 5 === o.m)).toBe(i >= 0);
            if (i >= 0) model.splice(i, 1);
          } else {
            const keep = model.filter((v) => v % 5 !== o.m);
            expect(d.removeAll((v) => v % 5 === o.m)).toBe(model.length - keep.length);
            model = keep;
          }
          expect(d.length).toBe(model.length);
          // A counted deque's tree counts exactly what it holds.
          expect(tree.entries).toBe(model.length);
        }
        expect(d.toArray()).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('a removeAll that matches nothing keeps every item, the same objects in the same order (it compacts in place)', () => {
    const d = new Deque<{ ref: number }>();
    const items = Array.from({ length: 1000 }, (_, i) => ({ ref: i }));
    for (const x of items) d.push(x);
    expect(d.removeAll((x) => x.ref === -1)).toBe(0);
    const after = d.toArray();
    expect(after.length).toBe(1000);
    expect(after.every((x, i) => x === items[i])).toBe(true);
  });
});
