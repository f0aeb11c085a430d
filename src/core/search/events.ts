import type { TopEntry } from '../math/topk.ts';

/** Why a sequence stopped. */
export type FinishReason = 'eos' | 'length' | 'aborted';

/** What one row (sequence, beam) did at one step. */
export interface RowStep {
  readonly row: number;
  readonly tokenId: number;
  /** log-probability of the token under the policy's raw distribution (before any processor). */
  readonly logprob: number;
  /** The policy's most likely next tokens (log-probs), largest first. */
  readonly top: readonly TopEntry[];
}

export interface StepEvent {
  readonly type: 'step';
  readonly step: number;
  readonly rows: readonly RowStep[];
}

export interface SequenceResult {
  /** Generated tokens only, ending with EOS when generation stopped on it. */
  readonly tokenIds: readonly number[];
  readonly score: number;
  readonly finishReason: FinishReason;
}

export interface DoneEvent {
  readonly type: 'done';
  readonly sequences: readonly SequenceResult[];
}

export type DecodeEvent = StepEvent | DoneEvent;
