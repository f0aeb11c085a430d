/**
 * Per-output statistics for comparing strategies on one prompt: the oracle ("true") rewards, the
 * log-probability under the base policy, a one-sample KL estimate from the base, and distinct-n.
 */
import type { SequenceResult } from '../search/events.ts';
import { conciseness, positivity } from '../reward/oracle.ts';
import { distinctN } from './diversity.ts';

export interface SequenceStats {
  readonly positivity: number;
  readonly conciseness: number;
  /** Σ log π_base(y_t): how likely the base model finds the output. */
  readonly baseLogprob: number;
  /**
   * Σ [log q(y_t) − log π_base(y_t)] over the output, q = the distribution decoded from: an unbiased
   * one-sample estimate of KL(q ‖ π_base) when y was sampled from q (0 for the base itself).
   */
  readonly klEstimate: number;
  readonly tokens: number;
  readonly distinct2: number;
}

export function sequenceStats(seq: SequenceResult, text: string): SequenceStats {
  let base = 0;
  let kl = 0;
  for (const s of seq.steps) {
    base += s.logprob;
    kl += s.combinedLogprob - s.logprob;
  }
  return {
    positivity: positivity(text),
    conciseness: conciseness(text),
    baseLogprob: base,
    klEstimate: kl,
    tokens: seq.tokenIds.length,
    distinct2: distinctN([seq.tokenIds], 2),
  };
}

/** Mean of each statistic over several outputs (e.g. all samples of one strategy). */
export function meanStats(all: readonly SequenceStats[]): SequenceStats {
  const keys = ['positivity', 'conciseness', 'baseLogprob', 'klEstimate', 'tokens', 'distinct2'] as const;
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = all.length ? all.reduce((a, s) => a + s[k], 0) / all.length : NaN;
  return out as unknown as SequenceStats;
}
