/**
 * The table-driven log-sum-exp kernel of the ranking scorer against the plain Math.exp loop:
 * equal to 1e-12 on random rows (fast-check), and the same answers on the special values
 * (-Infinity entries, all -Infinity, NaN, +Infinity, huge spreads).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logSumExp } from '../../src/core/math/logits.ts';
import { logSumExpFast, logSumExpRange } from '../../src/core/math/logSumExpFast.ts';

describe('logSumExpFast', () => {
  it('equals the Math.exp loop on random float32 rows', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 300 }), (xs) => {
        const row = Float32Array.from(xs);
        const want = logSumExp(row);
        expect(Math.abs(logSumExpFast(row) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      }),
      { numRuns: 500 },
    );
  });

  it('reads a slice of a larger buffer', () => {
    const buf = Float32Array.from({ length: 3 * 4096 }, (_, i) => Math.sin(i) * 9);
    for (let r = 0; r < 3; r++) expect(logSumExpRange(buf, r * 4096, 4096)).toBeCloseTo(logSumExp(buf.subarray(r * 4096, (r + 1) * 4096)), 12);
  });

  it('handles -Infinity, NaN, +Infinity and spreads beyond 2^-1000 like the plain loop', () => {
    expect(logSumExpFast([-Infinity, 0, -Infinity])).toBe(0);
    expect(logSumExpFast([-Infinity, -Infinity])).toBe(-Infinity);
    expect(logSumExpFast([1, NaN, 2])).toBeNaN();
    expect(logSumExpFast([1, Infinity])).toBeNaN();
    expect(logSumExpFast([0, -5000])).toBe(0); // exp(-5000) is below float64: dropped exactly
    expect(logSumExpFast([3, 3])).toBeCloseTo(3 + Math.LN2, 14);
    expect(logSumExpFast([])).toBe(-Infinity);
  });
});
