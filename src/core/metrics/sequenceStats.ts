/**
 * Per-output statistics for comparing strategies on one prompt: the oracle ("true") rewards, the
 * log-probability under the base policy, the KL from the base (exact, a bound, or n/a with the
 * reason), and distinct-n.
 */
import type { SequenceResult } from '../search/events.ts';
import { conciseness, positivity } from '../reward/oracle.ts';
import { distinctN } from './diversity.ts';

/** 'exact': Σₜ of the exact per-step KL; 'bound': an analytic upper bound; 'na': not defined. */
export type KlKind = 'exact' | 'bound' | 'na';

/** What sequenceStats needs to know about the run that made an output (a StrategySpec fits). */
export interface KlRunInfo {
  readonly strategy: string;
  /** Best-of-N / rejection candidates (N). @default 8 */
  readonly n?: number;
}

export interface SequenceStats {
  readonly positivity: number;
  readonly conciseness: number;
  /** Σ log π_base(y_t): how likely the base model finds the output. */
  readonly baseLogprob: number;
  /**
   * KL from the base policy in nats, meaning set by `klKind`:
   * - 'exact': Σₜ KL(q′ₜ ‖ pₜ) along this output, each term exact over the whole vocabulary, with
   *   q′ₜ the distribution the token was sampled from (after guidance, repetition penalty,
   *   temperature, top-k/top-p/min-p) and pₜ the base's raw distribution. Its expectation over
   *   outputs is KL(q ‖ p) of whole responses (chain rule), so the mean over samples estimates it
   *   with less variance than Σ log q − log p.
   * - 'bound': best-of-N: log N − (N−1)/N (Beirami et al. 2024); rejection (RSO): log N.
   * - 'na' (null): deterministic decoding (greedy, beam, diverse beam, ARGS-greedy, guided without
   *   do_sample) has no sampling distribution to compare.
   */
  readonly kl: number | null;
  readonly klKind: KlKind;
  /** One sentence saying what `kl` is (shown on hover). */
  readonly klNote: string;
  /**
   * @deprecated Use `kl`/`klKind`. Kept so older readers compile: equals `kl`, NaN where n/a.
   * (It used to be Σ log q − log p before temperature and filters, which was wrong for every
   * strategy except unfiltered T = 1 sampling.)
   */
  readonly klEstimate: number;
  readonly tokens: number;
  readonly distinct2: number;
}

const DETERMINISTIC: Readonly<Record<string, string>> = {
  greedy: 'greedy decoding is deterministic',
  beam: 'beam search is deterministic',
  diverse_beam: 'diverse beam search is deterministic',
  args: 'ARGS-greedy takes the best candidate at each step, so it is deterministic',
  genarm: 'GenARM without do_sample takes the argmax of the combined score, so it is deterministic',
  implicit: 'implicit guidance without do_sample takes the argmax of the combined score, so it is deterministic',
  sample: 'this run took the argmax (temperature 0), so it is deterministic',
};

/** Best-of-N's KL bound log N − (N−1)/N (Beirami et al. 2024, "Theoretical guarantees on the best-of-n alignment policy"). */
export function bestOfNKlBound(n: number): number {
  return Math.log(n) - (n - 1) / n;
}

/** The KL figure of one output: exact per-step sum, bound, or n/a with the reason. */
export function klOf(seq: SequenceResult, run: KlRunInfo): { kl: number | null; klKind: KlKind; klNote: string } {
  let samplerKl = 0;
  let sampled = seq.steps.length > 0;
  for (const s of seq.steps) {
    if (s.kl === undefined) sampled = false;
    else samplerKl += s.kl;
  }
  const n = run.n ?? 8;
  const sampler = sampled && samplerKl >= 5e-4 ? ` The candidates' own sampler (temperature/filters) also differs from the base by ${samplerKl.toFixed(3)} nats along this output, which the bound does not include.` : '';
  if (run.strategy === 'best_of_n') {
    return {
      kl: bestOfNKlBound(n),
      klKind: 'bound',
      klNote: `bound: best-of-${n} is at most log N − (N−1)/N = ${bestOfNKlBound(n).toFixed(3)} nats from the distribution its candidates are drawn from (Beirami et al. 2024).${sampler}`,
    };
  }
  if (run.strategy === 'rejection') {
    return {
      kl: Math.log(n),
      klKind: 'bound',
      klNote: `bound: an output chosen among ${n} draws has probability at most N × its draw probability, so its KL from the candidates' distribution is at most log N = ${Math.log(n).toFixed(3)} nats.${sampler}`,
    };
  }
  if (sampled) {
    return {
      kl: samplerKl,
      klKind: 'exact',
      klNote: 'exact: Σ over the steps of KL(sampling distribution ‖ base) at each step, over the whole vocabulary, after guidance, temperature and filters; its mean over samples is the KL of whole responses.',
    };
  }
  const why = DETERMINISTIC[run.strategy] ?? 'this run did not sample';
  return { kl: null, klKind: 'na', klNote: `n/a: ${why}, so it has no sampling distribution to compare with the base.` };
}

export function sequenceStats(seq: SequenceResult, text: string, run: KlRunInfo): SequenceStats {
  let base = 0;
  for (const s of seq.steps) base += s.logprob;
  const k = klOf(seq, run);
  return {
    positivity: positivity(text),
    conciseness: conciseness(text),
    baseLogprob: base,
    ...k,
    klEstimate: k.kl ?? NaN,
    tokens: seq.tokenIds.length,
    distinct2: distinctN([seq.tokenIds], 2),
  };
}

/**
 * Mean of each statistic over several outputs (e.g. all samples of one strategy). `kl` is the mean
 * when every output has one, else null; `klKind`/`klNote` are the first output's (one run's outputs
 * share them).
 */
export function meanStats(all: readonly SequenceStats[]): SequenceStats {
  const keys = ['positivity', 'conciseness', 'baseLogprob', 'tokens', 'distinct2'] as const;
  const out: Record<string, unknown> = {};
  const mean = (f: (s: SequenceStats) => number) => (all.length ? all.reduce((a, s) => a + f(s), 0) / all.length : NaN);
  for (const k of keys) out[k] = mean((s) => s[k]);
  const defined = all.length > 0 && all.every((s) => s.kl !== null);
  out.kl = defined ? mean((s) => s.kl as number) : null;
  out.klKind = all[0]?.klKind ?? 'na';
  out.klNote = all[0]?.klNote ?? 'n/a: no outputs.';
  out.klEstimate = (out.kl as number | null) ?? NaN;
  return out as unknown as SequenceStats;
}
