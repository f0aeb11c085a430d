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

export interface HistogramBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/**
 * Histogram of score margins (chosen − rejected) in `nBins` equal-width bins over [−M, M], M the
 * largest |margin| (1 when every margin is 0), so with an even `nBins` 0 is a bin edge and the
 * bins right of it hold the correctly ranked pairs. Bins are [lo, hi), the last [lo, hi]; a tie
 * (margin 0) falls in the bin starting at 0. Non-finite margins are counted in `nonFinite` only.
 */
export function marginHistogram(margins: readonly number[], nBins = 20): { bins: HistogramBin[]; nonFinite: number } {
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`nBins must be an integer >= 1 (got ${nBins})`);
  let M = 0;
  let nonFinite = 0;
  for (const m of margins) {
    if (Number.isFinite(m)) M = Math.max(M, Math.abs(m));
    else nonFinite++;
  }
  if (M === 0) M = 1;
  const w = (2 * M) / nBins;
  const edge = (b: number) => (b === nBins ? M : b === 0 ? -M : -M + b * w);
  const counts = new Array<number>(nBins).fill(0);
  for (const m of margins) {
    if (!Number.isFinite(m)) continue;
    let b = Math.min(nBins - 1, Math.max(0, Math.floor((m + M) / w)));
    while (b > 0 && m < edge(b)) b--; // settle rounding at the edges
    while (b < nBins - 1 && m >= edge(b + 1)) b++;
    counts[b]!++;
  }
  return { bins: counts.map((count, b) => ({ lo: edge(b), hi: edge(b + 1), count })), nonFinite };
}

export interface AccuracyBucket {
  /** Smallest and largest key in the bucket. */
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
  readonly correct: number;
  readonly ties: number;
  /** (correct + ties/2) / n */
  readonly accuracy: number;
}

/**
 * Ranking accuracy within quantile buckets of a per-pair key. The items are sorted by key and cut
 * at the keys of ranks ⌈b·n/k⌉ (b = 1..k−1); a bucket holds the keys in (previous cut, cut], so equal
 * keys always share a bucket and a bucket may come out empty (it is then left out). Items whose key
 * is not finite are left out.
 */
export function accuracyByQuantile(items: readonly (ScoredPair & { readonly key: number })[], nBuckets = 4): AccuracyBucket[] {
  if (!Number.isInteger(nBuckets) || nBuckets < 1) throw new RangeError(`nBuckets must be an integer >= 1 (got ${nBuckets})`);
  const xs = items.filter((x) => Number.isFinite(x.key)).sort((a, b) => a.key - b.key);
  const n = xs.length;
  const cuts: number[] = [];
  for (let b = 1; b < nBuckets; b++) {
    const i = Math.ceil((b * n) / nBuckets) - 1;
    if (i >= 0 && i < n) cuts.push(xs[i]!.key);
  }
  cuts.push(Infinity);
  const out: AccuracyBucket[] = [];
  let start = 0;
  for (const cut of cuts) {
    let end = start;
    while (end < n && xs[end]!.key <= cut) end++;
    if (end > start) {
      const part = xs.slice(start, end);
      const a = rankingAccuracy(part);
      out.push({ lo: part[0]!.key, hi: part[part.length - 1]!.key, n: a.n, correct: a.correct, ties: a.ties, accuracy: a.accuracy });
    }
    start = end;
  }
  return out;
}

/** Accuracy by the longer response's token count, in quantile buckets. */
export function accuracyByLength(pairs: readonly (ScoredPair & { readonly chosenTokens: number; readonly rejectedTokens: number })[], nBuckets = 4): AccuracyBucket[] {
  return accuracyByQuantile(pairs.map((p) => ({ chosen: p.chosen, rejected: p.rejected, key: Math.max(p.chosenTokens, p.rejectedTokens) })), nBuckets);
}

/**
 * Accuracy by the reference model's |log π_ref(y_w) − log π_ref(y_l)|, in quantile buckets: how far
 * the reference already separates the two responses, i.e. how hard the pair is to flip (Chen et al.
 * 2024 §1.5 / Thm 4.1). Pairs without reference log-probs are left out.
 */
export function accuracyByRefLogRatio(pairs: readonly (ScoredPair & { readonly refChosen?: number; readonly refRejected?: number })[], nBuckets = 4): AccuracyBucket[] {
  return accuracyByQuantile(
    pairs.filter((p) => p.refChosen !== undefined && p.refRejected !== undefined).map((p) => ({ chosen: p.chosen, rejected: p.rejected, key: Math.abs((p.refChosen as number) - (p.refRejected as number)) })),
    nBuckets,
  );
}

/**
 * R* over pairs that may lack `alpha`: those take `defaultAlpha` (the user's assumption, e.g. 0.75 as
 * in Chen et al.'s code). Null when a pair lacks reference log-probs, or lacks alpha with no default.
 * `alphaSource` says whether the alphas came from the data, the default, or both.
 */
export function idealizedWithDefaultAlpha(
  pairs: readonly { readonly refChosen?: number; readonly refRejected?: number; readonly alpha?: number }[],
  beta: number,
  defaultAlpha?: number,
): { value: number; alphaSource: 'data' | 'default' | 'mixed' } | null {
  if (defaultAlpha !== undefined && !(defaultAlpha >= 0 && defaultAlpha <= 1)) throw new RangeError(`alpha must be in [0, 1] (got ${defaultAlpha})`);
  if (pairs.length === 0) return null;
  let fromData = 0;
  const rows: { refChosen: number; refRejected: number; alpha: number }[] = [];
  for (const p of pairs) {
    if (p.refChosen === undefined || p.refRejected === undefined) return null;
    const alpha = p.alpha ?? defaultAlpha;
    if (alpha === undefined) return null;
    if (p.alpha !== undefined) fromData++;
    rows.push({ refChosen: p.refChosen, refRejected: p.refRejected, alpha });
  }
  return { value: idealizedRankingAccuracy(rows, beta), alphaSource: fromData === rows.length ? 'data' : fromData === 0 ? 'default' : 'mixed' };
}
