import { describe, expect, it } from 'vitest';
import {
  accuracyByLength,
  accuracyByQuantile,
  accuracyByRefLogRatio,
  clampedLogit,
  expectedCalibrationError,
  idealizedRankingAccuracy,
  idealizedWithDefaultAlpha,
  marginHistogram,
  rankingAccuracy,
  sigmoid,
  wilsonInterval,
} from '../../src/core/metrics/ranking.ts';
import { rankingReport } from '../../src/core/metrics/report.ts';
import type { PairScore } from '../../src/core/metrics/scorePairs.ts';

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

describe('ranking breakdowns on hand-computed cases', () => {
  it('margin histogram: symmetric equal-width bins, 0 on an edge, ties in the bin starting at 0', () => {
    // M = 4, 4 bins of width 2: [-4,-2) [-2,0) [0,2) [2,4]
    const h = marginHistogram([-4, -1, 0, 0.5, 1.999, 2, 4, NaN, Infinity], 4);
    expect(h.bins).toEqual([
      { lo: -4, hi: -2, count: 1 },
      { lo: -2, hi: 0, count: 1 },
      { lo: 0, hi: 2, count: 3 },
      { lo: 2, hi: 4, count: 2 },
    ]);
    expect(h.nonFinite).toBe(2);
    // all margins 0: the range is [-1, 1]
    expect(marginHistogram([0, 0], 2).bins).toEqual([
      { lo: -1, hi: 0, count: 0 },
      { lo: 0, hi: 1, count: 2 },
    ]);
    // edges that are not exact in binary still bin consistently: 0.3 is in [0.3, 0.6)
    const t = marginHistogram([-0.9, 0.3, 0.9], 6);
    expect(t.bins.map((b) => b.count)).toEqual([1, 0, 0, 0, 1, 1]);
    expect(t.bins[4]!.lo).toBeLessThanOrEqual(0.3);
    expect(() => marginHistogram([1], 0)).toThrow(/nBins/);
  });

  it('quantile buckets: cuts at ranks ceil(b·n/k), equal keys share a bucket, ties count half', () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8].map((key) => ({ key, chosen: key % 3 === 0 ? 0 : 1, rejected: key % 3 === 0 || key === 8 ? 1 : 0 }));
    // keys 3 and 6 are wrong, key 8 is a tie
    expect(accuracyByQuantile(items, 4)).toEqual([
      { lo: 1, hi: 2, n: 2, correct: 2, ties: 0, accuracy: 1 },
      { lo: 3, hi: 4, n: 2, correct: 1, ties: 0, accuracy: 0.5 },
      { lo: 5, hi: 6, n: 2, correct: 1, ties: 0, accuracy: 0.5 },
      { lo: 7, hi: 8, n: 2, correct: 1, ties: 1, accuracy: 0.75 },
    ]);
    // [1,1,1,1,2,3] in 2 buckets: the cut is the 3rd key (1), so all four 1s go first
    const dup = [1, 1, 1, 1, 2, 3].map((key) => ({ key, chosen: 1, rejected: 0 }));
    expect(accuracyByQuantile(dup, 2).map((b) => [b.lo, b.hi, b.n])).toEqual([[1, 1, 4], [2, 3, 2]]);
    // more buckets than distinct keys: empty buckets are left out
    expect(accuracyByQuantile(dup, 6).map((b) => [b.lo, b.hi, b.n])).toEqual([[1, 1, 4], [2, 2, 1], [3, 3, 1]]);
    expect(accuracyByQuantile([{ key: NaN, chosen: 1, rejected: 0 }], 2)).toEqual([]);
  });

  it('accuracy by the longer response and by the reference log-ratio', () => {
    const pairs = [
      { chosen: 1, rejected: 0, chosenTokens: 3, rejectedTokens: 10, refChosen: -5, refRejected: -6 }, // key 10, |ratio| 1
      { chosen: 0, rejected: 1, chosenTokens: 2, rejectedTokens: 1, refChosen: -9, refRejected: -1 }, // key 2, |ratio| 8
      { chosen: 1, rejected: 0, chosenTokens: 7, rejectedTokens: 7, refChosen: -2, refRejected: -2.5 }, // key 7, |ratio| 0.5
      { chosen: 0, rejected: 1, chosenTokens: 20, rejectedTokens: 4 }, // key 20, no reference
    ];
    expect(accuracyByLength(pairs, 2).map((b) => [b.lo, b.hi, b.accuracy])).toEqual([[2, 7], [10, 20]].map(([lo, hi]) => [lo, hi, 0.5]));
    expect(accuracyByRefLogRatio(pairs, 3).map((b) => [b.lo, b.hi, b.n, b.accuracy])).toEqual([
      [0.5, 0.5, 1, 1],
      [1, 1, 1, 1],
      [8, 8, 1, 0],
    ]);
  });

  it('R* with a default alpha for pairs that have none', () => {
    const withAlpha = [{ refChosen: -10, refRejected: -5, alpha: 0.9 }];
    const without = [{ refChosen: -1, refRejected: -2 }, { refChosen: -10, refRejected: -5 }];
    expect(idealizedWithDefaultAlpha(without, 0.1)).toBeNull(); // no alpha and no default
    // alpha 0.75: logit = ln 3 = 1.0986; /0.1 = 10.99 → pair 1: 1 + 10.99 > 0, pair 2: -5 + 10.99 > 0
    expect(idealizedWithDefaultAlpha(without, 0.1, 0.75)).toEqual({ value: 1, alphaSource: 'default' });
    // with beta 1: pair 2: -5 + 1.0986 < 0
    expect(idealizedWithDefaultAlpha(without, 1, 0.75)).toEqual({ value: 0.5, alphaSource: 'default' });
    expect(idealizedWithDefaultAlpha([...withAlpha, ...without], 1, 0.75)).toEqual({ value: 1 / 3, alphaSource: 'mixed' });
    expect(idealizedWithDefaultAlpha(withAlpha, 0.1, 0.75)).toEqual({ value: 1, alphaSource: 'data' });
    expect(idealizedWithDefaultAlpha([{ refChosen: -1, alpha: 0.5 }], 1, 0.75)).toBeNull(); // no reference
    expect(() => idealizedWithDefaultAlpha(without, 1, 1.5)).toThrow(/alpha must be in \[0, 1\]/);
  });

  it('the rank report: contract fields first, breakdowns and per-pair details after', () => {
    const ps: PairScore[] = [
      { id: 'a', chosen: -1, rejected: -3, margin: 2, truncated: false, chosenTokens: 2, rejectedTokens: 5, refChosen: -1, refRejected: -3 },
      { id: 'b', chosen: -4, rejected: -2, margin: -2, truncated: true, chosenTokens: 6, rejectedTokens: 1, alpha: 0.8, refChosen: -4, refRejected: -2 },
      { id: 'c', chosen: -2, rejected: -2, margin: 0, truncated: false, chosenTokens: 3, rejectedTokens: 3, refChosen: -2, refRejected: -2 },
    ];
    const r = rankingReport({ pairs: ps, truncated: 1, skipped: [{ id: 'd', reason: 'too long' }] }, { beta: 1, defaultAlpha: 0.5, histogramBins: 2, buckets: 2 });
    expect(Object.keys(r).slice(0, 7)).toEqual(['n', 'accuracy', 'ties', 'truncated', 'skipped', 'ci95', 'ece']);
    expect(r).toMatchObject({ n: 3, accuracy: 0.5, ties: 1, truncated: 1, skipped: 1, skipped_pairs: [{ id: 'd', reason: 'too long' }] });
    expect(r.margin_histogram).toEqual([
      { lo: -2, hi: 0, count: 1 },
      { lo: 0, hi: 2, count: 2 },
    ]);
    expect(r.calibration_bins).toHaveLength(10);
    // p = σ(±2) for pairs a and b (0.119 with labels 1 and 0 → bin [0.1, 0.2]); 0.5 twice for the tie
    expect(r.calibration_bins[1]).toEqual({ lo: 0.1, hi: 0.2, count: 2, confidence: sigmoid(-2), accuracy: 0.5 });
    expect(r.calibration_bins[4]).toEqual({ lo: 0.4, hi: 0.5, count: 2, confidence: 0.5, accuracy: 0.5 });
    expect(r.calibration_bins[2]).toEqual({ lo: 0.2, hi: 0.30000000000000004, count: 0, confidence: null, accuracy: null });
    // longer response: a 5, b 6, c 3 → buckets {3, 5} and {6}
    expect(r.by_length.map((b) => [b.lo, b.hi, b.accuracy])).toEqual([[3, 5, 0.75], [6, 6, 0]]);
    expect(r.by_ref_logratio?.map((b) => [b.lo, b.hi, b.n])).toEqual([[0, 2, 3]]);
    // R* with Chen's labels: a and c take the default α = 0.5, ties, left out; b: -2 + logit(0.8) = -0.61 ✗ → 0 of 1 (alpha mixed)
    expect(r.idealized_accuracy).toBe(0);
    expect(r.r_star).toMatchObject({ value: 0, n: 1, ties_excluded: 2, flipped_to_majority: 0, alpha_source: 'mixed', model: 'reference' });
    // no policy log-probs (a sequence RM's scores): no R, so no alignment gap
    expect(r.r).toBeUndefined();
    expect(r.alignment_gap).toBeUndefined();
    expect(r.alpha_source).toBe('mixed');
    expect(r.pair_details).toEqual([
      { id: 'a', chosen: -1, rejected: -3, margin: 2, chosen_tokens: 2, rejected_tokens: 5, correct: true, tie: false, truncated: false, ref_chosen: -1, ref_rejected: -3 },
      { id: 'b', chosen: -4, rejected: -2, margin: -2, chosen_tokens: 6, rejected_tokens: 1, correct: false, tie: false, truncated: true, alpha: 0.8, ref_chosen: -4, ref_rejected: -2 },
      { id: 'c', chosen: -2, rejected: -2, margin: 0, chosen_tokens: 3, rejected_tokens: 3, correct: false, tie: true, truncated: false, ref_chosen: -2, ref_rejected: -2 },
    ]);
    // no reference (arm, sequence): no R*, no ref-ratio buckets
    const noRef = rankingReport({ pairs: ps.map(({ refChosen: _a, refRejected: _b, ...p }) => p), truncated: 1, skipped: [] }, { beta: 1, defaultAlpha: 0.5 });
    expect(noRef.idealized_accuracy).toBeUndefined();
    expect(noRef.by_ref_logratio).toBeUndefined();
  });
});

import fc from 'fast-check';
import { chenAccuracy, fitScale, R_STAR_BETAS, rStar } from '../../src/core/metrics/ranking.ts';

describe('Chen et al. 2024 conventions (issue 12)', () => {
  // Four pairs: a majority pair, a minority pair (α < 0.5: the data's "rejected" is y_w), a tie and a sure pair.
  const ps: PairScore[] = [
    { id: 'maj', chosen: 0, rejected: 0, margin: 0, truncated: false, chosenTokens: 1, rejectedTokens: 1, alpha: 0.7, refChosen: -3, refRejected: -2, policyChosen: -1, policyRejected: -2 },
    { id: 'min', chosen: 0, rejected: 0, margin: 0, truncated: false, chosenTokens: 1, rejectedTokens: 1, alpha: 0.2, refChosen: -5, refRejected: -1, policyChosen: -1, policyRejected: -4 },
    { id: 'tie', chosen: 0, rejected: 0, margin: 0, truncated: false, chosenTokens: 1, rejectedTokens: 1, alpha: 0.5, refChosen: -1, refRejected: -9, policyChosen: -1, policyRejected: -9 },
    { id: 'sure', chosen: 0, rejected: 0, margin: 0, truncated: false, chosenTokens: 1, rejectedTokens: 1, alpha: 1, refChosen: -10, refRejected: -1, policyChosen: -3, policyRejected: -3 },
  ];

  it('R* takes the majority side as y_w and leaves α = 0.5 ties out (Def. 2.1, Eq. 3, Table 1)', () => {
    // β = 1: maj: -1 + logit(0.7) = -0.153 ✗; min (flipped, α' = 0.8): -1 − (−5) + 1.386 > 0 ✓;
    // tie: left out; sure: -9 + logit(0.999) = -2.09 ✗ → 1 of 3
    expect(rStar(ps.map((p) => ({ refChosen: p.refChosen!, refRejected: p.refRejected!, alpha: p.alpha! })), 1)).toEqual({ value: 1 / 3, n: 3, ties: 1, flipped: 1 });
    // the old formula (no flip, tie counted) gives 1/4 on the same pairs: maj ✗, min ✗, tie ✓ (8 > 0), sure ✗
    expect(idealizedRankingAccuracy(ps.map((p) => ({ refChosen: p.refChosen!, refRejected: p.refRejected!, alpha: p.alpha! })), 1)).toBe(0.25);
    // R on the same pairs and labels: maj ✓ (−1 > −2), min flipped: −4 vs −1 ✗, sure: tie → ½ → 1.5 / 3
    expect(chenAccuracy(ps.map((p) => ({ chosen: p.policyChosen!, rejected: p.policyRejected!, alpha: p.alpha! })))).toEqual({ n: 3, correct: 1, ties: 1, accuracy: 0.5 });
  });

  it('the report: R(π_θ), R*(π_ref) per β (min/median/max over Chen’s grid) and the gap R* − R, each with its model', () => {
    const r = rankingReport({ pairs: ps, truncated: 0, skipped: [] }, { beta: 1, betaSource: '--beta', scorer: 'implicit', models: { policy: 'tuned-m', ref: 'ref-m' } });
    expect(r.r).toEqual({ value: 0.5, n: 3, model: 'tuned-m', length_normalized: false });
    expect(r.r_star).toMatchObject({ value: 1 / 3, beta: 1, model: 'ref-m', n: 3, ties_excluded: 1, flipped_to_majority: 1, alpha_source: 'data' });
    const grid = R_STAR_BETAS.map((b) => rStar(ps.map((p) => ({ refChosen: p.refChosen!, refRejected: p.refRejected!, alpha: p.alpha! })), b).value);
    expect(r.r_star?.min).toBe(Math.min(...grid));
    expect(r.r_star?.max).toBe(Math.max(...grid));
    expect(r.r_star?.median).toBe([...grid].sort((x, y) => x - y)[2]);
    expect(r.r_star_by_beta?.map((x) => x.beta)).toEqual([0.01, 0.1, 1, 5, 10]);
    for (const row of r.r_star_by_beta ?? []) expect(row.alignment_gap).toBeCloseTo(row.r_star - 0.5, 12);
    expect(r.alignment_gap).toBeCloseTo(1 / 3 - 0.5, 12);
    expect(r.alignment_gap_models).toEqual({ r_star: 'ref-m', r: 'tuned-m' });
    expect(r).toMatchObject({ beta: 1, beta_source: '--beta', idealized_accuracy: 1 / 3, idealized_beta: 1 });
    // a β off the grid is added to the table
    const off = rankingReport({ pairs: ps, truncated: 0, skipped: [] }, { beta: 0.3, scorer: 'implicit', models: { policy: 't', ref: 'r' } });
    expect(off.r_star_by_beta?.map((x) => x.beta)).toEqual([0.01, 0.1, 0.3, 1, 5, 10]);
    // no reference log-probs: R only, no R*, no gap
    const noRef = rankingReport({ pairs: ps.map(({ refChosen: _a, refRejected: _b, ...p }) => p), truncated: 0, skipped: [] }, { beta: 1, scorer: 'policy', models: { policy: 'p' } });
    expect(noRef.r?.value).toBe(0.5);
    expect(noRef.r_star).toBeUndefined();
    expect(noRef.alignment_gap).toBeUndefined();
  });

  it('ECE reads each scorer’s margins at its own scale: an ARM at its training β_r, a reward model and the implicit reward at 1', () => {
    const pairs: PairScore[] = [3, -1, 8, 0.5, -4, 12, 2, 6].map((m, i) => ({ id: String(i), chosen: m, rejected: 0, margin: m, truncated: false, chosenTokens: 1, rejectedTokens: 1 }));
    const arm = rankingReport({ pairs, truncated: 0, skipped: [] }, { beta: 1, scorer: 'arm', armBeta: 0.1 });
    expect(arm.ece).toBeCloseTo(expectedCalibrationError(pairs, 10, 0.1).ece, 12);
    expect(arm.ece).not.toBeCloseTo(expectedCalibrationError(pairs, 10, 1).ece, 3); // the old scale-1 value
    expect(arm.ece_scale).toMatchObject({ scale: 0.1, source: 'training' });
    for (const scorer of ['sequence', 'implicit'] as const) {
      const rep = rankingReport({ pairs, truncated: 0, skipped: [] }, { beta: 0.1, scorer });
      expect(rep.ece).toBeCloseTo(expectedCalibrationError(pairs, 10, 1).ece, 12);
      expect(rep.ece_scale.scale).toBe(1);
    }
    // the policy's log-probs: one temperature fitted on the pairs, said so
    const pol = rankingReport({ pairs, truncated: 0, skipped: [] }, { beta: 1, scorer: 'policy' });
    expect(pol.ece_scale.source).toBe('fitted');
    expect(pol.ece_scale.note).toMatch(/fitted .*in-sample/);
    expect(pol.ece).toBeCloseTo(expectedCalibrationError(pairs, 10, fitScale(pairs)).ece, 12);
    // … and n/a when no scale beats p = ½ (mean margin ≤ 0)
    const worse = rankingReport({ pairs: pairs.map((p) => ({ ...p, chosen: -p.chosen, margin: -p.margin })), truncated: 0, skipped: [] }, { beta: 1, scorer: 'policy' });
    expect(worse.ece).toBeNull();
    expect(worse.ace).toBeNull();
    expect(worse.ece_scale.note).toMatch(/^n\/a/);
  });

  it('ACE is the unweighted mean over non-empty bins; 5, 10 and 20 bins are reported', () => {
    // margins ln 4 (p = 0.8 | 0.2) and 0 (p = 0.5 twice), scale 1, 10 bins:
    // bin [0.7,0.8]: p 0.8, y 1 → |0.8−1| = 0.2; bin [0.1,0.2]: p 0.2, y 0 → 0.2; bin [0.4,0.5]: p 0.5, y 1 and 0 → 0
    const pairs = [{ chosen: Math.log(4), rejected: 0 }, { chosen: 0, rejected: 0 }];
    const c = expectedCalibrationError(pairs, 10);
    expect(c.ace).toBeCloseTo((0.2 + 0.2 + 0) / 3, 12);
    expect(c.ece).toBeCloseTo((0.2 + 0.2) / 4, 12);
    const rep = rankingReport({ pairs: pairs.map((p, i) => ({ ...p, id: String(i), margin: p.chosen, truncated: false, chosenTokens: 1, rejectedTokens: 1 })), truncated: 0, skipped: [] }, { beta: 1, eceBins: 5 });
    expect(rep.ece_bins).toBe(5);
    expect(rep.calibration_bins).toHaveLength(5);
    expect(rep.calibration_by_bins.map((b) => b.bins)).toEqual([5, 10, 20]);
    expect(rep.calibration_by_bins[1]?.ace).toBeCloseTo(c.ace, 12);
    expect(() => expectedCalibrationError(pairs, 0)).toThrow(/nBins/);
  });

  it('fitScale maximises the Bradley–Terry likelihood of the margins (property)', () => {
    const ll = (d: number[], s: number) => d.reduce((a, x) => a + Math.log(sigmoid(s * x)), 0);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 2, maxLength: 30 }), (d) => {
        const pairs = d.map((x) => ({ chosen: x, rejected: 0 }));
        const s = fitScale(pairs, 1e3);
        expect(s).toBeGreaterThanOrEqual(0);
        for (const t of [s * 0.9, s * 1.1, s + 1e-3].filter((t) => t <= 1e3)) expect(ll(d, s)).toBeGreaterThanOrEqual(ll(d, t) - 1e-7 * Math.max(1, Math.abs(ll(d, t))));
      }),
    );
  });
});
