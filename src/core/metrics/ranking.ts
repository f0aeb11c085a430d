/**
 * Ranking accuracy and calibration on preference pairs (research/ranking-data.md):
 * - accuracy: a pair is correct when score(chosen) > score(rejected); an exact tie counts as half.
 *   Chen et al. 2024, Def. 2.3, write 1[π(y_w|x) ≥ π(y_l|x)] (a tie counts as correct), RewardBench's
 *   code counts a tie as wrong (`chosen > rejected`); half is the mean of the two, and what a fair coin
 *   breaking the tie scores in expectation, so neither convention's bias enters. Ties are also counted
 *   separately (`ties`);
 * - Wilson 95% interval on that accuracy;
 * - ECE and ACE with equal-width bins over both orderings of each pair, p = σ(s·score difference) at
 *   the scorer's own scale s (Zeng et al. 2023 code; sklearn-style binning);
 * - idealized ranking accuracy R* (Chen Eq. 3) from an explicit reference model and `alpha`, with
 *   Chen's labels: y_w is the majority side (α ≥ 0.5, else the pair is flipped) and ties (α = 0.5) are
 *   left out; the policy's own ranking accuracy R on the same pairs, so the gap R* − R compares like
 *   with like.
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
  /** Σ_b (n_b/N)·|conf_b − acc_b| */
  readonly ece: number;
  /** Mean over non-empty bins of |conf_b − acc_b| (Zeng et al.'s ACE). */
  readonly ace: number;
  readonly bins: readonly CalibrationBin[];
}

/**
 * ECE over both orderings: each pair gives (σ(s·d), 1) and (σ(−s·d), 0) with d = chosen − rejected
 * and s the scorer's scale (1 for a Bradley–Terry reward; β_r for an ARM's summed log-probs).
 * A probability on a bin edge goes to the lower bin (numpy searchsorted, side='left').
 */
export function expectedCalibrationError(pairs: readonly ScoredPair[], nBins = 10, scale = 1): Calibration {
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`nBins must be an integer >= 1 (got ${nBins})`);
  if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError(`the ECE scale must be a finite number >= 0 (got ${scale})`);
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
    const d = scale * (pr.chosen - pr.rejected);
    add(sigmoid(d), 1);
    add(sigmoid(-d), 0);
  }
  const N = 2 * pairs.length;
  let ece = 0;
  let aceSum = 0;
  let nonEmpty = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = count[b] as number;
    ece += Math.abs((sumP[b] as number) - (sumY[b] as number));
    if (c) {
      aceSum += Math.abs((sumP[b] as number) - (sumY[b] as number)) / c;
      nonEmpty++;
    }
    bins.push({ lo: edges[b] as number, hi: edges[b + 1] as number, count: c, confidence: c ? (sumP[b] as number) / c : NaN, accuracy: c ? (sumY[b] as number) / c : NaN });
  }
  return { ece: N ? ece / N : NaN, ace: nonEmpty ? aceSum / nonEmpty : NaN, bins };
}

/**
 * The scale s that maximises the Bradley–Terry likelihood Σ log σ(s·d_i) of the margins d_i (one
 * temperature T = 1/s fitted on the pairs themselves, in-sample): for scores that are not
 * probabilities of a preference, such as a policy's summed log-probs. The log-likelihood is concave in
 * s; its derivative Σ d_i·σ(−s·d_i) is found to be zero by bisection on [0, `max`]. 0 when the mean
 * margin is ≤ 0 (no s > 0 does better than p = ½); `max` when every margin is > 0 (separable).
 */
export function fitScale(pairs: readonly ScoredPair[], max = 1e4): number {
  const d = pairs.map((p) => p.chosen - p.rejected).filter((x) => Number.isFinite(x) && x !== 0);
  const grad = (s: number) => d.reduce((g, x) => g + x * sigmoid(-s * x), 0);
  if (d.length === 0 || grad(0) <= 0) return 0;
  if (grad(max) >= 0) return max;
  let lo = 0;
  let hi = max;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (grad(mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
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

/** The β grid Chen et al. report R* over (min / median / max), since a released model's β is often unknown. */
export const R_STAR_BETAS: readonly number[] = [0.01, 0.1, 1, 5, 10];

/** Whether α is a tie of the raters (α = 0.5, to 1e-9). */
const isTie = (alpha: number) => Math.abs(alpha - 0.5) < 1e-9;

export interface ChenPair extends ScoredPair {
  /** Reference log-probs (summed; mean log-probs for R̃*). */
  readonly refChosen: number;
  readonly refRejected: number;
  readonly alpha: number;
}

export interface RStar {
  readonly value: number;
  /** Pairs counted (ties left out). */
  readonly n: number;
  /** Pairs left out because α = 0.5 (Chen: ties are excluded). */
  readonly ties: number;
  /** Pairs whose data put the minority side as "chosen" (α < 0.5), counted with the majority side as y_w. */
  readonly flipped: number;
}

/**
 * R*(D; π_ref) with Chen et al.'s labels (Def. 2.1, Eq. 3, Table 1): y_w is the side the majority of
 * raters prefer — a pair with α < 0.5 is flipped and takes α' = 1 − α — and pairs with α = 0.5 are left
 * out. Correct iff log π_ref(y_w) − log π_ref(y_l) + (1/β)·logit(α') > 0 (α' clamped to 1 − 0.001).
 * With mean log-probs as `ref*` this is R̃*.
 */
export function rStar(pairs: readonly { refChosen: number; refRejected: number; alpha: number }[], beta: number): RStar {
  if (!(beta > 0)) throw new RangeError(`beta must be > 0 (got ${beta})`);
  let ties = 0;
  let flipped = 0;
  const rows: { refChosen: number; refRejected: number; alpha: number }[] = [];
  for (const p of pairs) {
    if (isTie(p.alpha)) ties++;
    else if (p.alpha < 0.5) {
      flipped++;
      rows.push({ refChosen: p.refRejected, refRejected: p.refChosen, alpha: 1 - p.alpha });
    } else rows.push(p);
  }
  return { value: idealizedRankingAccuracy(rows, beta), n: rows.length, ties, flipped };
}

/**
 * Ranking accuracy R of the scores on the pairs R* counts, with the same labels (majority side as
 * y_w, α = 0.5 left out); an exact tie of the scores counts as half (see rankingAccuracy).
 */
export function chenAccuracy(pairs: readonly (ScoredPair & { readonly alpha: number })[]): Accuracy {
  const rows: ScoredPair[] = [];
  for (const p of pairs) {
    if (isTie(p.alpha)) continue;
    rows.push(p.alpha < 0.5 ? { chosen: p.rejected, rejected: p.chosen } : p);
  }
  return rankingAccuracy(rows);
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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
