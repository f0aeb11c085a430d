/**
 * Everything `decoding-lab rank --json` reports about a scored dataset, from the scorer's per-pair
 * results (pure, so the browser shows the same numbers for the same inputs). Field names are the
 * JSON contract's (DESIGN §4), in snake_case; the contract's fields come first and keep their
 * meaning, the breakdowns are additions.
 */
import {
  accuracyByLength,
  accuracyByRefLogRatio,
  chenAccuracy,
  expectedCalibrationError,
  fitScale,
  marginHistogram,
  median,
  R_STAR_BETAS,
  rankingAccuracy,
  rStar,
  wilsonInterval,
  type AccuracyBucket,
  type HistogramBin,
} from './ranking.ts';
import type { PairScore, ScoreResult, ScorerKind } from './scorePairs.ts';
import type { AttributeAccuracy } from '../reward/labelMix.ts';

export interface PairDetail {
  id: string;
  chosen: number;
  rejected: number;
  margin: number;
  chosen_tokens: number;
  rejected_tokens: number;
  /** chosen > rejected */
  correct: boolean;
  /** chosen === rejected (counted as half-correct in `accuracy`) */
  tie: boolean;
  truncated: boolean;
  alpha?: number;
  /** The explicit reference model's log-probs (summed; mean with length normalisation). */
  ref_chosen?: number;
  ref_rejected?: number;
  /** The policy π_θ's log-probs (policy scorer: the policy; implicit: the tuned model). */
  policy_chosen?: number;
  policy_rejected?: number;
}

/** The scale s at which ECE reads σ(s·margin) as a preference probability, and why that one. */
export interface EceScale {
  scale: number;
  /** 'bradley-terry' (a reward model's own scale), 'implicit' (β already in the margin), 'training' (an ARM's β_r), 'fitted' (one temperature fitted on these pairs, in-sample), 'given' (set by the caller). */
  source: 'bradley-terry' | 'implicit' | 'training' | 'fitted' | 'given';
  /** One line for people. */
  note: string;
}

/** Chen et al.'s ranking accuracy R(π_θ) (Def. 2.3) on the pairs R* counts (majority labels, ties left out). */
export interface ROut {
  value: number;
  n: number;
  /** The model π_θ whose log-probs are ranked. */
  model: string;
  /** R̃ (mean log-probs) instead of R. */
  length_normalized: boolean;
}

/** Chen et al.'s idealized ranking accuracy R*(π_ref) (Eq. 3). */
export interface RStarOut {
  value: number;
  beta: number;
  /** The reference model π_ref. */
  model: string;
  /** Pairs counted. */
  n: number;
  /** Pairs left out with α = 0.5 (Chen: ties are excluded). */
  ties_excluded: number;
  /** Pairs whose "chosen" was the minority (α < 0.5), counted with the majority side as y_w. */
  flipped_to_majority: number;
  alpha_source: 'data' | 'default' | 'mixed';
  /** R̃* (mean reference log-probs) instead of R*. */
  length_normalized: boolean;
  /** Over β ∈ {0.01, 0.1, 1, 5, 10}, as Chen et al. report it. */
  min: number;
  median: number;
  max: number;
}

export interface RStarAtBeta {
  beta: number;
  r_star: number;
  /** R*(π_ref) − R(π_θ) at this β; null when R is not defined. */
  alignment_gap: number | null;
}

export interface CalibrationBinOut {
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted probability σ(margin) in the bin; null when the bin is empty. */
  confidence: number | null;
  /** Share of positive labels in the bin; null when empty. */
  accuracy: number | null;
}

export interface RankReport {
  /** The sequence scorer with a reward model of several heads: each head's ranking accuracy alone (the run's reward is their --reward-label mix; core/reward/labelMix.ts). */
  per_attribute?: Record<string, AttributeAccuracy>;
  n: number;
  accuracy: number;
  ties: number;
  truncated: number;
  skipped: number;
  ci95: [number, number];
  /**
   * ECE at the scorer's own scale (`ece_scale`), `ece_bins` equal-width bins, both orderings. Null
   * ("n/a") when no scale makes the scores a preference probability (a fitted scale of 0: every p = ½).
   */
  ece: number | null;
  /** Average calibration error: mean over non-empty bins of |confidence − accuracy|; null with `ece`. */
  ace: number | null;
  ece_bins: number;
  ece_scale: EceScale;
  /** ECE and ACE at 5, 10 and 20 bins (Zeng et al. report all three). */
  calibration_by_bins: { bins: number; ece: number | null; ace: number | null }[];
  /** β of the implicit reward β·(log π_tuned − log π_ref) and of R* (DPO's β: it multiplies). */
  beta: number;
  /** Where β came from (the tuned model's training β, the flag, or the default 1). */
  beta_source: string;
  length_normalized: boolean;
  /** Special tokens used for scoring (README "What each number means"). */
  tokenization?: { add_bos: boolean; bos_token_id: number | null; append_eos: boolean; eos_token_id: number };
  /** R(π_θ): the policy's ranking accuracy with Chen's labels; absent without a policy (ARM, sequence RM). */
  r?: ROut;
  /** R*(π_ref) at `beta`; absent without a reference model or without alpha. */
  r_star?: RStarOut;
  /** R* and the gap at each β of Chen's grid and at `beta`. */
  r_star_by_beta?: RStarAtBeta[];
  /** R* = r_star.value (kept for readers of older output). */
  idealized_accuracy?: number;
  /** R*(π_ref) − R(π_θ) at `beta`, only where both are defined; the models in `alignment_gap_models`. */
  alignment_gap?: number;
  alignment_gap_models?: { r_star: string; r: string };
  /** Where R*'s alpha came from: the data, the user's default (`--alpha`), or both. */
  alpha_source?: 'data' | 'default' | 'mixed';
  /** The β that R* used (= beta). */
  idealized_beta?: number;
  /** Equal-width bins over [−max|margin|, max|margin|] (0 is an edge); see marginHistogram. */
  margin_histogram: HistogramBin[];
  /** Reliability diagram: the ECE's `ece_bins` equal-width bins over both orderings of each pair. */
  calibration_bins: CalibrationBinOut[];
  /** Accuracy by the longer response's token count, in quartile buckets. */
  by_length: AccuracyBucket[];
  /** Accuracy by |log π_ref(y_w) − log π_ref(y_l)|, in quartile buckets (scorers with a reference). */
  by_ref_logratio?: AccuracyBucket[];
  skipped_pairs: { id: string; reason: string }[];
  pair_details: PairDetail[];
}

export interface ReportOptions {
  /** β for R* (Chen Eq. 3), the same β as the implicit reward's. */
  readonly beta: number;
  /** Where β came from, for the output. @default "given" */
  readonly betaSource?: string;
  /** The scorer that made the scores (sets the ECE scale). @default 'sequence' (scale 1) */
  readonly scorer?: ScorerKind;
  /** Model ids for the labels: π_θ (R) and π_ref (R*). */
  readonly models?: { readonly policy?: string; readonly ref?: string };
  /** Whether the scores and log-probs are length-normalised (R̃, R̃*). */
  readonly lengthNormalize?: boolean;
  /** The ARM's training β_r (its model card / manifest): ECE reads σ(β_r·margin). */
  readonly armBeta?: number;
  /** Overrides the ECE scale. */
  readonly eceScale?: number;
  /** @default 10 */
  readonly eceBins?: number;
  /** α for pairs whose data has none. */
  readonly defaultAlpha?: number;
  /** @default 20 */
  readonly histogramBins?: number;
  /** @default 4 */
  readonly buckets?: number;
}

const orNull = (x: number) => (Number.isNaN(x) ? null : x);

export function pairDetail(p: PairScore): PairDetail {
  return {
    id: p.id,
    chosen: p.chosen,
    rejected: p.rejected,
    margin: p.margin,
    chosen_tokens: p.chosenTokens,
    rejected_tokens: p.rejectedTokens,
    correct: p.chosen > p.rejected,
    tie: p.chosen === p.rejected,
    truncated: p.truncated,
    ...(p.alpha !== undefined ? { alpha: p.alpha } : {}),
    ...(p.refChosen !== undefined ? { ref_chosen: p.refChosen, ref_rejected: p.refRejected as number } : {}),
    ...(p.policyChosen !== undefined ? { policy_chosen: p.policyChosen, policy_rejected: p.policyRejected as number } : {}),
  };
}

/** The scale each scorer's margins are read at as a preference probability σ(s·margin). */
export function eceScaleOf(pairs: readonly PairScore[], opts: ReportOptions): EceScale {
  if (opts.eceScale !== undefined) return { scale: opts.eceScale, source: 'given', note: `σ(${opts.eceScale}·margin), scale given` };
  const fitted = (why: string): EceScale => {
    const s = fitScale(pairs);
    return { scale: s, source: 'fitted', note: `${why}: σ(s·margin) with s = ${s.toPrecision(3)} (temperature ${s > 0 ? (1 / s).toPrecision(3) : '∞'}) fitted by maximum likelihood on these same pairs (in-sample)` };
  };
  switch (opts.scorer ?? 'sequence') {
    case 'sequence':
      return { scale: 1, source: 'bradley-terry', note: 'σ(margin): a Bradley–Terry reward model’s own scale' };
    case 'implicit':
      return { scale: 1, source: 'implicit', note: `σ(margin): the margin is β·(Δlog π_tuned − Δlog π_ref) with β = ${opts.beta} (${opts.betaSource ?? 'given'}), DPO’s Bradley–Terry probability, meant to be read at the model’s training β` };
    case 'arm':
      if (opts.lengthNormalize) return fitted('ARM with length normalisation (β_r applies to summed log-probs)');
      if (opts.armBeta !== undefined) return { scale: opts.armBeta, source: 'training', note: `σ(β_r·margin) with the ARM’s training β_r = ${opts.armBeta} (GenARM’s loss)` };
      return fitted('ARM with no known training β_r');
    case 'policy':
      return fitted('a policy’s log-probs are not a preference probability');
  }
}

export function rankingReport(res: ScoreResult, opts: ReportOptions): RankReport {
  const pairs = res.pairs;
  const acc = rankingAccuracy(pairs);
  const nBins = opts.eceBins ?? 10;
  const scale = eceScaleOf(pairs, opts);
  const cal = expectedCalibrationError(pairs, nBins, scale.scale);
  // A fitted scale of 0 predicts ½ for every ordering, which is calibrated by construction: n/a.
  const na = scale.source === 'fitted' && scale.scale === 0;
  if (na) scale.note = `n/a: ${scale.note.replace(/:.*$/, '')}, and no scale s > 0 fits these pairs better than p = ½ (their mean margin is ≤ 0)`;
  const tz = res.tokenization;
  const out: RankReport = {
    n: acc.n,
    accuracy: acc.accuracy,
    ties: acc.ties,
    truncated: res.truncated,
    skipped: res.skipped.length,
    ci95: wilsonInterval(acc.accuracy, acc.n),
    ece: na ? null : cal.ece,
    ace: na ? null : cal.ace,
    ece_bins: nBins,
    ece_scale: scale,
    calibration_by_bins: [5, 10, 20].map((b) => {
      const c = b === nBins ? cal : expectedCalibrationError(pairs, b, scale.scale);
      return { bins: b, ece: na ? null : c.ece, ace: na ? null : c.ace };
    }),
    beta: opts.beta,
    beta_source: opts.betaSource ?? 'given',
    length_normalized: !!opts.lengthNormalize,
    ...(tz ? { tokenization: { add_bos: tz.addBos, bos_token_id: tz.bos, append_eos: tz.appendEos, eos_token_id: tz.eos } } : {}),
    margin_histogram: marginHistogram(pairs.map((p) => p.margin), opts.histogramBins ?? 20).bins,
    calibration_bins: cal.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, confidence: orNull(b.confidence), accuracy: orNull(b.accuracy) })),
    by_length: accuracyByLength(pairs, opts.buckets ?? 4),
    ...(pairs.length && pairs.every((p) => p.refChosen !== undefined) ? { by_ref_logratio: accuracyByRefLogRatio(pairs, opts.buckets ?? 4) } : {}),
    skipped_pairs: res.skipped.map((s) => ({ ...s })),
    pair_details: pairs.map(pairDetail),
  };
  Object.assign(out, chenMetrics(pairs, opts));
  return out;
}

/**
 * R(π_θ), R*(π_ref) and the alignment gap (Chen et al. 2024) from the pairs' policy and reference
 * log-probs, with Chen's labels: α per pair from the data, else `defaultAlpha`; the majority side is
 * y_w (α < 0.5 flips the pair) and α = 0.5 pairs are left out of both R and R*. Without any α, R is
 * still defined (the data's "chosen" is y_w) and R* is not.
 */
function chenMetrics(pairs: readonly PairScore[], opts: ReportOptions): Partial<RankReport> {
  if (!pairs.length) return {};
  if (opts.defaultAlpha !== undefined && !(opts.defaultAlpha >= 0 && opts.defaultAlpha <= 1)) throw new RangeError(`alpha must be in [0, 1] (got ${opts.defaultAlpha})`);
  const norm = !!opts.lengthNormalize;
  const alphaOf = (p: PairScore) => p.alpha ?? opts.defaultAlpha;
  const out: Partial<RankReport> = {};
  let r: ROut | undefined;
  if (pairs.every((p) => p.policyChosen !== undefined)) {
    const a = chenAccuracy(pairs.map((p) => ({ chosen: p.policyChosen as number, rejected: p.policyRejected as number, alpha: alphaOf(p) ?? 1 })));
    if (a.n) r = { value: a.accuracy, n: a.n, model: opts.models?.policy ?? 'policy', length_normalized: norm };
    if (r) out.r = r;
  }
  const haveRef = pairs.every((p) => p.refChosen !== undefined);
  const haveAlpha = pairs.every((p) => alphaOf(p) !== undefined);
  if (!haveRef || !haveAlpha) return out;
  const rows = pairs.map((p) => ({ refChosen: p.refChosen as number, refRejected: p.refRejected as number, alpha: alphaOf(p) as number }));
  const at = rStar(rows, opts.beta);
  if (!at.n) return out;
  const fromData = pairs.filter((p) => p.alpha !== undefined).length;
  const grid = R_STAR_BETAS.map((b) => rStar(rows, b).value);
  const ref = opts.models?.ref ?? 'reference';
  out.r_star = {
    value: at.value,
    beta: opts.beta,
    model: ref,
    n: at.n,
    ties_excluded: at.ties,
    flipped_to_majority: at.flipped,
    alpha_source: fromData === pairs.length ? 'data' : fromData === 0 ? 'default' : 'mixed',
    length_normalized: norm,
    min: Math.min(...grid),
    median: median(grid),
    max: Math.max(...grid),
  };
  const betas = [...new Set([...R_STAR_BETAS, opts.beta])].sort((x, y) => x - y);
  out.r_star_by_beta = betas.map((b) => {
    const v = b === opts.beta ? at.value : (grid[R_STAR_BETAS.indexOf(b)] as number);
    return { beta: b, r_star: v, alignment_gap: r ? v - r.value : null };
  });
  out.idealized_accuracy = at.value;
  out.idealized_beta = opts.beta;
  out.alpha_source = out.r_star.alpha_source;
  if (r) {
    out.alignment_gap = at.value - r.value;
    out.alignment_gap_models = { r_star: ref, r: r.model };
  }
  return out;
}
