import { describe, expect, it } from 'vitest';
import { clampedLogit, expectedCalibrationError, idealizedRankingAccuracy, rankingAccuracy, sigmoid, wilsonInterval } from '../../src/core/metrics/ranking.ts';

describe('ranking metrics on hand-computed cases', () => {
  it('accuracy counts ties separately and as half', () => {
    const a = rankingAccuracy([
      { chosen: 1, rejected: 0 },
      { chosen: 0, rejected: 1 },
      { chosen: 2, rejected: 2 },
      { chosen: 5, rejected: -5 },
    ]);
    expect(a).toEqual({ n: 4, correct: 2, ties: 1, accuracy: 2.5 / 4 });
  });

  it('Wilson interval matches the closed form (p = 0.5, n = 100 → 0.4038..0.5962)', () => {
    const [lo, hi] = wilsonInterval(0.5, 100);
    expect(lo).toBeCloseTo(0.40383, 4);
    expect(hi).toBeCloseTo(0.59617, 4);
    const [l0, h0] = wilsonInterval(0, 10);
    expect(l0).toBe(0);
    expect(h0).toBeCloseTo(0.27753, 4);
  });

  it('ECE over both orderings: a perfectly calibrated toy set gives 0, a confident wrong one ~0.88', () => {
    // margin 0 → p = 0.5 for both orderings, labels 1 and 0 → bin [0.4, 0.5] has conf 0.5, acc 0.5
    expect(expectedCalibrationError([{ chosen: 0, rejected: 0 }]).ece).toBeCloseTo(0, 12);
    // margin -2 on one pair: (σ(-2) = 0.1192, y = 1) and (σ(2) = 0.8808, y = 0) → ECE = (0.8808 + 0.8808) / 2
    const c = expectedCalibrationError([{ chosen: -2, rejected: 0 }]);
    expect(c.ece).toBeCloseTo(sigmoid(2), 6);
    expect(c.bins[1]).toMatchObject({ count: 1, accuracy: 1 });
    expect(c.bins[8]).toMatchObject({ count: 1, accuracy: 0 });
  });

  it('ECE: a probability on a bin edge goes to the lower bin', () => {
    // margin ln(4) → p = 0.8 exactly on an edge → bin 7 ([0.7, 0.8]); the mirror 0.2 → bin 1
    const c = expectedCalibrationError([{ chosen: Math.log(4), rejected: 0 }]);
    expect(c.bins[7]?.count).toBe(1);
    expect(c.bins[1]?.count).toBe(1);
  });

  it('R*: correct iff ref log-ratio + logit(alpha)/beta > 0, with alpha clamped by 0.001', () => {
    expect(clampedLogit(1)).toBeCloseTo(Math.log(0.999 / 0.001), 9);
    const pairs = [
      { refChosen: -10, refRejected: -5, alpha: 0.9 }, // -5 + 2.197/0.1 = 16.97 > 0 → correct
      { refChosen: -10, refRejected: -5, alpha: 0.6 }, // -5 + 0.405/0.1 = -0.95 → wrong
      { refChosen: -1, refRejected: -2, alpha: 0.5 }, // 1 + 0 → correct
      { refChosen: -50, refRejected: -1, alpha: 1 }, // -49 + 6.9/0.1 = 20 → correct
    ];
    expect(idealizedRankingAccuracy(pairs, 0.1)).toBe(0.75);
    expect(idealizedRankingAccuracy(pairs, 1)).toBe(0.25);
    expect(() => idealizedRankingAccuracy(pairs, 0)).toThrow(/beta must be > 0/);
  });
});

import { distinctN } from '../../src/core/metrics/diversity.ts';
describe('distinct-n', () => {
  it('is unique n-grams over all n-grams', () => {
    expect(distinctN([[1, 2, 3], [1, 2, 4]], 1)).toBe(4 / 6);
    expect(distinctN([[1, 2, 3], [1, 2, 4]], 2)).toBe(3 / 4);
    expect(distinctN([[1]], 2)).toBe(0);
  });
});

import { crossDistinctN } from '../../src/core/metrics/diversity.ts';
describe('cross-sequence distinct-n', () => {
  it('ignores repetition inside a sequence and counts sharing between sequences', () => {
    expect(crossDistinctN([[1, 2, 1, 2, 1, 2], [3, 4]], 2)).toBe(3 / 3); // {12, 21} and {34}: nothing shared
    expect(crossDistinctN([[1, 2, 3], [1, 2, 3]], 2)).toBe(2 / 4);
    expect(crossDistinctN([[1, 2, 3], [1, 2, 4]], 2)).toBe(3 / 4);
  });
});
