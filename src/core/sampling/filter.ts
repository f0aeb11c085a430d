/**
 * The sampler chain (llama.cpp style, research/style-anchors.md §3): filters transform a row of
 * scores in place; a selector picks the token. A chain is built from a serialisable SamplerSpec[].
 * Semantics follow the Hugging Face logits processors/warpers of the same names.
 */
export interface SamplerContext {
  /** Prompt + generated tokens of this row (what repetition penalties look at). */
  readonly history: readonly number[];
  /** Tokens generated so far in this row (history minus the prompt). */
  readonly generated: number;
  /**
   * Guided rows only (`scores` = the policy combined with guidance): the policy's own scores, which
   * the repetition penalty acts on, its change then carried into `scores`: one place in the chain
   * for guided and unguided runs, so a guidance term of weight 0 decodes exactly like the base.
   * Raw logits when sampling (with `policyLogprobs`), log-probs in beam search (without).
   */
  readonly policyScores?: Float32Array;
  /** With raw-logit `policyScores`: the policy's log-softmax, so the penalised policy is renormalised before the guidance is added. */
  readonly policyLogprobs?: Float32Array;
}

export interface Filter {
  readonly name: string;
  /** Transforms `scores` in place; removed tokens become -Infinity. */
  apply(scores: Float32Array, ctx: SamplerContext): void;
  /**
   * True when the filter only ever sets entries to -Infinity and reads nothing of `scores`: applying
   * it after adding a constant to the row gives the same row (beam search applies such a filter to
   * its running scores directly, without copying the log-probs).
   */
  readonly maskOnly?: boolean;
}

/** The largest finite float32; a filter must never turn a finite score into +Infinity. */
export const F32_MAX = 3.4028234663852886e38;

/** Keeps at least this many tokens in every filter (HF's min_tokens_to_keep). */
export const MIN_TOKENS_TO_KEEP = 1;
