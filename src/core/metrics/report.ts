/**
 * Everything `decoding-lab rank --json` reports about a scored dataset, from the scorer's per-pair
 * results (pure, so the browser shows the same numbers for the same inputs). Field names are the
 * JSON contract's (DESIGN §4), in snake_case; the contract's fields come first and keep their
 * meaning, the breakdowns are additions.
 */
import {
  accuracyByLength,
  accuracyByRefLogRatio,
  expectedCalibrationError,
  idealizedWithDefaultAlpha,
  marginHistogram,
  rankingAccuracy,
  wilsonInterval,
  type AccuracyBucket,
  type HistogramBin,
} from './ranking.ts';
import type { PairScore, ScoreResult } from './scorePairs.ts';

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
  /** Reference log-probs (policy scorer: the policy itself; implicit: the reference model). */
  ref_chosen?: number;
  ref_rejected?: number;
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
  n: number;
  accuracy: number;
  ties: number;
  truncated: number;
  skipped: number;
  ci95: [number, number];
  ece: number;
  /** R* (Chen Eq. 3) with the reference log-probs and alpha; absent when either is missing. */
  idealized_accuracy?: number;
  /** R* − accuracy */
  alignment_gap?: number;
  /** Where R*'s alpha came from: the data, the user's default (`--alpha`), or both. */
  alpha_source?: 'data' | 'default' | 'mixed';
  /** The β that R* used. */
  idealized_beta?: number;
  /** Equal-width bins over [−max|margin|, max|margin|] (0 is an edge); see marginHistogram. */
  margin_histogram: HistogramBin[];
  /** Reliability diagram: the ECE's 10 equal-width bins over both orderings of each pair. */
  calibration_bins: CalibrationBinOut[];
  /** Accuracy by the longer response's token count, in quartile buckets. */
  by_length: AccuracyBucket[];
  /** Accuracy by |log π_ref(y_w) − log π_ref(y_l)|, in quartile buckets (scorers with a reference). */
  by_ref_logratio?: AccuracyBucket[];
  skipped_pairs: { id: string; reason: string }[];
  pair_details: PairDetail[];
}

export interface ReportOptions {
  /** β for R* (Chen Eq. 3). */
  readonly beta: number;
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
  };
}

export function rankingReport(res: ScoreResult, opts: ReportOptions): RankReport {
  const pairs = res.pairs;
  const acc = rankingAccuracy(pairs);
  const cal = expectedCalibrationError(pairs);
  const out: RankReport = {
    n: acc.n,
    accuracy: acc.accuracy,
    ties: acc.ties,
    truncated: res.truncated,
    skipped: res.skipped.length,
    ci95: wilsonInterval(acc.accuracy, acc.n),
    ece: cal.ece,
    margin_histogram: marginHistogram(pairs.map((p) => p.margin), opts.histogramBins ?? 20).bins,
    calibration_bins: cal.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, confidence: orNull(b.confidence), accuracy: orNull(b.accuracy) })),
    by_length: accuracyByLength(pairs, opts.buckets ?? 4),
    ...(pairs.length && pairs.every((p) => p.refChosen !== undefined) ? { by_ref_logratio: accuracyByRefLogRatio(pairs, opts.buckets ?? 4) } : {}),
    skipped_pairs: res.skipped.map((s) => ({ ...s })),
    pair_details: pairs.map(pairDetail),
  };
  const rStar = idealizedWithDefaultAlpha(pairs, opts.beta, opts.defaultAlpha);
  if (rStar) Object.assign(out, { idealized_accuracy: rStar.value, alignment_gap: rStar.value - acc.accuracy, alpha_source: rStar.alphaSource, idealized_beta: opts.beta });
  return out;
}
