import { describe, expect, it } from 'vitest';
import { argmax, isValidLogitRow, logSoftmax, logSumExp, softmax } from '../../src/core/math/logits.ts';
import { topK } from '../../src/core/math/topk.ts';

describe('logits maths on hand-computed rows', () => {
  it('logSumExp of [0, ln 3] is ln 4', () => {
    expect(logSumExp([0, Math.log(3)])).toBeCloseTo(Math.log(4), 12);
  });
  it('logSumExp ignores -Infinity and is -Infinity for an all-masked row', () => {
    expect(logSumExp([-Infinity, 0])).toBe(0);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
  });
  it('logSoftmax of [1, 2, 3] matches the closed form', () => {
    const lp = logSoftmax([1, 2, 3]);
    const z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(Array.from(lp)).toEqual([1 - z, 2 - z, 3 - z].map(Math.fround));
  });
  it('softmax is shift-invariant and sums to 1', () => {
    const a = softmax([1000, 1001, 999]);
    const b = softmax([0, 1, -1]);
    expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    for (let i = 0; i < 3; i++) expect(a[i]).toBeCloseTo(b[i] as number, 6);
  });
  it('argmax takes the lowest index on ties', () => {
    expect(argmax([0.5, 2, 2, 1])).toBe(1);
  });
  it('isValidLogitRow rejects NaN and +Infinity but accepts -Infinity', () => {
    expect(isValidLogitRow([0, -Infinity])).toBe(true);
    expect(isValidLogitRow([0, NaN])).toBe(false);
    expect(isValidLogitRow([Infinity, 0])).toBe(false);
  });
});

describe('topK', () => {
  it('returns the largest entries, largest first, lower index first on ties', () => {
    expect(topK([0.1, 0.4, 0.4, 0.05, 0.3], 3)).toEqual([
      { tokenId: 1, value: 0.4 },
      { tokenId: 2, value: 0.4 },
      { tokenId: 4, value: 0.3 },
    ]);
  });
  it('agrees with a full sort on random rows', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      const x = Array.from({ length: 200 }, () => Math.round(rnd() * 50) / 10);
      const k = 1 + (trial % 25);
      const expected = x
        .map((value, tokenId) => ({ tokenId, value }))
        .sort((a, b) => b.value - a.value || a.tokenId - b.tokenId)
        .slice(0, k);
      expect(topK(x, k)).toEqual(expected);
    }
  });
  it('handles k larger than the row, k = 0 and NaN entries', () => {
    expect(topK([2, NaN, 1], 10)).toEqual([
      { tokenId: 0, value: 2 },
      { tokenId: 2, value: 1 },
    ]);
    expect(topK([1, 2], 0)).toEqual([]);
  });
});

describe('log-softmax at the edge of float32', () => {
  it('keeps two equal maxima near 3.4e38 at p = 1/2 each (max + log(s) would round the log away)', async () => {
    const { softmax } = await import('../../src/core/math/logits.ts');
    const p = softmax(Float32Array.from([3.4e38, -3.4e38, 3.4e38, 0]));
    expect(p[0]).toBeCloseTo(0.5, 6);
    expect(p[2]).toBeCloseTo(0.5, 6);
    expect(p[1]).toBe(0);
  });
});
