/**
 * What the decoding engine needs from a backend. Implementations live outside the core
 * (src/inference/backends); the core only sees these interfaces, plain arrays and typed arrays.
 */

/** A key/value cache for a batch of rows (one row per sequence or beam). */
export interface KvCache {
  /** Tokens held per row (prompt + generated, including left padding). */
  readonly length: number;
  /** Number of rows in the batch. */
  readonly rows: number;
  /**
   * Gathers rows along the batch axis: row i of the result is row `rows[i]` of this cache.
   * Used to reorder beams and to tile a prompt to several rows. This cache stays valid.
   */
  select(rows: Int32Array): Promise<KvCache>;
  /**
   * As `select(rows)` with `rows.length === this.rows`, but consumes this cache (it is disposed and
   * must not be used again), so a backend may reorder in place and copy only the rows that must be
   * duplicated (core/model/reorderPlan.ts). Beam search reorders this way. Optional.
   */
  reorder?(rows: Int32Array): Promise<KvCache>;
  /** Frees the cache's buffers (GPU memory on WebGPU). Safe to call twice. */
  dispose(): void;
}

/** Last-position logits for every row, plus the cache to continue from. */
export interface StepResult {
  readonly logits: Float32Array[];
  readonly cache: KvCache;
}

/** A batched causal language model with a KV cache. */
export interface LanguageModel {
  readonly id: string;
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  /** Longest sequence (prompt + generated) the model accepts. */
  readonly contextLength: number;
  /**
   * Runs the prompts (left-padded to a common length) and returns each row's last-position logits.
   * Rows may differ in length; padding is masked.
   */
  prefill(batch: readonly (readonly number[])[]): Promise<StepResult>;
  /**
   * Appends one token per row. The given cache is consumed: it must not be used afterwards
   * (the backend may release its buffers).
   */
  step(cache: KvCache, next: Int32Array): Promise<StepResult>;
  /**
   * Per-token log-probabilities of given sequences: for row i, `log p(seq[t] | seq[<t])` for every
   * t >= from[i] (from[i] >= 1), as a Float32Array of length `seq.length - from[i]`.
   */
  score(batch: readonly (readonly number[])[], from: readonly number[]): Promise<Float32Array[]>;
  /**
   * Prompt sharing (KV reuse): scores a continuation of every cached row in one forward pass,
   * without recomputing the cached tokens. Row i of the result has length
   * `max(0, continuations[i].length - 1)`; entry j is
   * `log p(continuations[i][j + 1] | row i's cached tokens, continuations[i][0..j])`.
   * The log-probability of `continuations[i][0]` is not included: it comes from the logits returned
   * with the cache (by `prefill` or `step`). So, with `{ logits, cache } = prefill(prompts)`,
   * `[logSoftmax(logits[i])[c[0]], ...extend(cache, conts)[i]]` equals
   * `score([[...prompts[i], ...c]], [prompts[i].length])[0]` (to float tolerance).
   *
   * `continuations.length` must equal `cache.rows` (use `cache.select` to pair one prompt with
   * several continuations); rows may differ in length (empty is allowed) and are right-padded and
   * masked. The cache is NOT consumed: it stays valid and the caller disposes it. Each row's real
   * tokens (cached + continuation) must fit `contextLength`; padding may make the batch longer
   * (`cache.length + longest continuation`), which a backend may refuse by throwing (the
   * transformers.js adapter accepts it on the bundled models; the ranking scorer then recomputes).
   *
   * Optional: a model without it is scored by full recomputation (`score`).
   */
  extend?(cache: KvCache, continuations: readonly (readonly number[])[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** A sequence-level reward model: one scalar per (prompt + response) token sequence. */
export interface SequenceRewardModel {
  readonly id: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  score(batch: readonly (readonly number[])[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Text <-> token ids, with no special tokens added. */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  /**
   * The BOS id the tokenizer's own rules prepend when special tokens are added (Hugging Face
   * `add_special_tokens`); absent when it adds none. `encode` never adds it; scoring prepends it
   * where asked (metrics/scorePairs.ts `addBos`).
   */
  readonly bosTokenId?: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** The text a single token stands for (for display). */
  tokenText(id: number): string;
}
