/**
 * planReorder / applyCopies (core/model/reorderPlan.ts): reordering KV rows in place, copying only
 * duplicated parents. Checked against a plain gather on a slot buffer over random parent choices and
 * chains of reorders, plus hand-computed cases for the number of copies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCopies, planReorder } from '../../src/core/model/reorderPlan.ts';

/** Logical view of a slot buffer: row i = slot order[i]. */
const logical = (data: Float32Array, rowSize: number, order: Int32Array | null, rows: number) =>
  Array.from({ length: rows }, (_, i) => Array.from(data.subarray((order ? order[i]! : i) * rowSize, ((order ? order[i]! : i) + 1) * rowSize)));

describe('planReorder', () => {
  it('copies nothing for a permutation and one row per extra child', () => {
    expect(planReorder(null, Int32Array.from([0, 1, 2, 3]), 4)).toEqual({ order: null, copies: new Int32Array(0) });
    const perm = planReorder(null, Int32Array.from([2, 0, 3, 1]), 4);
    expect(Array.from(perm.order!)).toEqual([2, 0, 3, 1]);
    expect(perm.copies.length).toBe(0);
    // parents [0, 0, 1, 2]: row 0 keeps slot 0, rows 2, 3 keep slots 1, 2; row 1 copies slot 0 into free slot 3.
    const dup = planReorder(null, Int32Array.from([0, 0, 1, 2]), 4);
    expect(Array.from(dup.order!)).toEqual([0, 3, 1, 2]);
    expect(Array.from(dup.copies)).toEqual([0, 3]);
    // through an existing order: logical 1 lives in slot 3.
    const through = planReorder(Int32Array.from([0, 3, 1, 2]), Int32Array.from([1, 1, 1, 1]), 4);
    expect(Array.from(through.copies)).toEqual([3, 0, 3, 1, 3, 2]);
    expect(Array.from(through.order!)).toEqual([3, 0, 1, 2]);
  });

  it('refuses a row out of range or a batch that changes size', () => {
    expect(() => planReorder(null, Int32Array.from([0, 4, 1, 2]), 4)).toThrow('cache row 4 out of range 0..3');
    expect(() => planReorder(null, Int32Array.from([0, 1]), 4)).toThrow(/keeps the row count/);
  });

  it('a chain of reorders applied in place equals the same chain of plain gathers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((rows) =>
          fc.tuple(fc.constant(rows), fc.array(fc.array(fc.integer({ min: 0, max: rows - 1 }), { minLength: rows, maxLength: rows }), { minLength: 1, maxLength: 6 })),
        ),
        ([rows, steps]) => {
          const rowSize = 3;
          const data = Float32Array.from({ length: rows * rowSize }, (_, i) => i + 0.5);
          let expected = logical(data, rowSize, null, rows);
          let order: Int32Array | null = null;
          for (const p of steps) {
            const parents = Int32Array.from(p);
            const plan = planReorder(order, parents, rows);
            // copies only write to slots that no row of the result reads before the copy, and never read a written slot
            const written = new Set<number>();
            for (let k = 0; k < plan.copies.length; k += 2) {
              expect(written.has(plan.copies[k]!)).toBe(false);
              written.add(plan.copies[k + 1]!);
            }
            expect(plan.copies.length / 2).toBe(rows - new Set(p).size);
            applyCopies(data, rowSize, plan.copies);
            order = plan.order;
            expected = p.map((r) => [...expected[r]!]);
            expect(logical(data, rowSize, order, rows)).toEqual(expected);
            if (order) expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: rows }, (_, i) => i));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
