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
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** The text a single token stands for (for display). */
  tokenText(id: number): string;
}
