import type { TopEntry } from '../math/topk.ts';

/** Why a sequence stopped. */
export type FinishReason = 'eos' | 'length' | 'aborted';

/** What one row (sequence, beam) did at one step. */
export interface RowStep {
  /** Row index in this step's batch. */
  readonly row: number;
  /** Row of the previous step this row extends (beam parent); equals `row` when rows never reorder. */
  readonly parent: number;
  /** Diverse beam search group (0 otherwise). */
  readonly group: number;
  readonly tokenId: number;
  /** log-probability of the token under the policy's raw distribution (before any processor). */
  readonly logprob: number;
  /** log-probability under the distribution the token was decoded from (the combined one when guided). */
  readonly combinedLogprob: number;
  /** Token-level reward of the chosen token from each reward source, keyed like "arm:tiny-arm-positive". */
  readonly rewards: Readonly<Record<string, number>>;
  /** Running (beam) score after this token, as the strategy ranks rows. */
  readonly score: number;
  /** The policy's most likely next tokens (log-probs), largest first. */
  readonly top: readonly TopEntry[];
  /** The combined distribution's most likely tokens (log-probs); absent when unguided. */
  readonly topCombined?: readonly TopEntry[];
  /**
   * Each token-level reward source's highest-valued tokens, keyed like `rewards` (an ARM's
   * log-probs; β·(log π_tuned − log π_ref) for implicit guidance, β = DPO's reward scale); absent when unguided.
   */
  readonly topRewards?: Readonly<Record<string, readonly TopEntry[]>>;
  /**
   * Ids among the shown top lists that the sampler chain's filters removed (top-k, top-p, min-p,
   * no-repeat n-gram…), so they could not be chosen; absent when the chain has no filters.
   */
  readonly cut?: readonly number[];
}

/** A hypothesis that left the search at this step (beam search). */
export interface HypothesisEvent {
  /** Row it came from (this step's candidate parent row). */
  readonly row: number;
  readonly group: number;
  readonly tokenIds: readonly number[];
  readonly score: number;
  /** 'finished': entered the finished set; 'pruned': finished but not good enough to keep. */
  readonly kind: 'finished' | 'pruned';
  /** Reward-guided beam search: the sequence reward model's final score of the hypothesis. */
  readonly reward?: number;
}

export interface StepEvent {
  readonly type: 'step';
  readonly step: number;
  readonly rows: readonly RowStep[];
  readonly hypotheses?: readonly HypothesisEvent[];
}

/** Per generated token of a returned sequence (the CLI's `steps`). */
export interface TokenTrace {
  readonly tokenId: number;
  readonly logprob: number;
  readonly combinedLogprob: number;
  readonly rewards: Readonly<Record<string, number>>;
  /**
   * Exact KL(q′ₜ ‖ pₜ) in nats at this step, over the whole vocabulary: q′ₜ = the distribution the
   * token was actually sampled from (after guidance, repetition penalty, temperature and filters),
   * pₜ = the base policy's raw distribution. Present only where the step sampled (absent for argmax
   * steps: greedy, beam, ARGS-greedy, guided decoding without do_sample).
   */
  readonly kl?: number;
}

export interface SequenceResult {
  /** Generated tokens only, ending with EOS when generation stopped on it. */
  readonly tokenIds: readonly number[];
  /** See DESIGN §4: summed log-prob (sampling/guided) or the Hugging Face beam score. */
  readonly score: number;
  readonly finishReason: FinishReason;
  readonly group: number;
  readonly steps: readonly TokenTrace[];
  /** Sequence-level reward where a strategy computed one (best-of-N, rejection, ARGS, reward-guided beam: its last RM value). */
  readonly reward?: number;
  /** Reward-guided beam search: score + w·reward, the value the sequence was ranked by. */
  readonly guidedScore?: number;
}

export interface DoneEvent {
  readonly type: 'done';
  readonly sequences: readonly SequenceResult[];
}

/**
 * How far a strategy that works in phases has got (best-of-N, rejection, ARGS), for "sample 5 of 16"
 * while nothing else is shown. `phase`: 'sampling' (drawing the candidates as one batch: `step` of
 * `maxSteps` tokens, `done` of `total` candidates finished), 'scoring' (the reward model scored `done`
 * of `total` candidates), 'decoding' (ARGS: `done` of `total` tokens, k candidates scored per token).
 */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly phase: 'sampling' | 'scoring' | 'decoding';
  readonly done: number;
  readonly total: number;
  /** Sampling only: the batch's current token step (1-based) and max_new_tokens. */
  readonly step?: number;
  readonly maxSteps?: number;
}

export type DecodeEvent = StepEvent | DoneEvent | ProgressEvent;
