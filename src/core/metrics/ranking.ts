/**
 * Ranking accuracy and calibration on preference pairs (research/ranking-data.md):
 * - accuracy (Chen et al. 2024, Def. 2.3): a pair is correct when score(chosen) > score(rejected);
 *   exact ties are counted separately and as half-correct;
 * - Wilson 95% interval on that accuracy;
 * - ECE with equal-width bins over both orderings of each pair, p = σ(score difference)
 *   (Zeng et al. 2023 code; sklearn-style binning);
 * - idealized ranking accuracy R* (Chen Eq. 3) from the reference model and `alpha`.
 */

export interface ScoredPair {
  readonly chosen: number;
  readonly rejected: number;
}

export interface Accuracy {
  readonly n: number;
  readonly correct: number;
  readonly ties: number;
  /** (correct + ties/2) / n */
  readonly accuracy: number;
}

export function rankingAccuracy(pairs: readonly ScoredPair[]): Accuracy {
  let correct = 0;
  let ties = 0;
  for (const p of pairs) {
    if (p.chosen > p.rejected) correct++;
    else if (p.chosen === p.rejected) ties++;
  }
  const n = pairs.length;
  return { n, correct, ties, accuracy: n ? (correct + ties / 2) / n : NaN };
}

/** Wilson score interval for a proportion p̂ over n trials (z = 1.96 for 95%). */
export function wilsonInterval(pHat: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (pHat + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((pHat * (1 - pHat)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export interface CalibrationBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly confidence: number;
  /** Fraction of positive labels in the bin (NaN when empty). */
  readonly accuracy: number;
}

export interface Calibration {
  readonly ece: number;
  readonly bins: readonly CalibrationBin[];
}

/**
 * ECE over both orderings: each pair gives (σ(d), 1) and (σ(−d), 0) with d = chosen − rejected.
 * A probability on a bin edge goes to the lower bin (numpy searchsorted, side='left').
 */
export function expectedCalibrationError(pairs: readonly ScoredPair[], nBins = 10): Calibration {
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  const count = new Float64Array(nBins);
  const edges = Array.from({ length: nBins + 1 }, (_, i) => i * (1 / nBins));
  const add = (p: number, y: number) => {
    let b = 0;
    while (b < nBins - 1 && (edges[b + 1] as number) < p) b++;
    sumP[b] = (sumP[b] as number) + p;
    sumY[b] = (sumY[b] as number) + y;
    count[b] = (count[b] as number) + 1;
  };
  for (const pr of pairs) {
    const d = pr.chosen - pr.rejected;
    add(sigmoid(d), 1);
    add(sigmoid(-d), 0);
  }
  const N = 2 * pairs.length;
  let ece = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = count[b] as number;
    ece += Math.abs((sumP[b] as number) - (sumY[b] as number));
    bins.push({ lo: edges[b] as number, hi: edges[b + 1] as number, count: c, confidence: c ? (sumP[b] as number) / c : NaN, accuracy: c ? (sumY[b] as number) / c : NaN });
  }
  return { ece: N ? ece / N : NaN, bins };
}

/** logit(α) with α clamped to [ε, 1 − ε] (Chen App. C.4: ε = 0.001 keeps α = 1 finite). */
export function clampedLogit(alpha: number, eps = 1e-3): number {
  const a = Math.min(1 - eps, Math.max(eps, alpha));
  return Math.log(a / (1 - a));
}

/**
 * Idealized ranking accuracy R* (Chen et al. 2024, Eq. 3): the share of pairs that the optimal
 * DPO/RLHF policy with coefficient β would rank correctly, given the reference model's log-probs:
 * correct iff log π_ref(y_w) − log π_ref(y_l) + (1/β)·logit(α) > 0.
 */
export function idealizedRankingAccuracy(
  pairs: readonly { refChosen: number; refRejected: number; alpha: number }[],
  beta: number,
  eps = 1e-3,
): number {
  if (!(beta > 0)) throw new RangeError(`beta must be > 0 (got ${beta})`);
  if (pairs.length === 0) return NaN;
  let ok = 0;
  for (const p of pairs) if (p.refChosen - p.refRejected + clampedLogit(p.alpha, eps) / beta > 0) ok++;
  return ok / pairs.length;
}
