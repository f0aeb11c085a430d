/**
 * Where next-token distributions come from: the policy alone, or the policy combined with reward
 * sources (GenARM ARMs, a tuned/reference pair). Strategies (greedy, sampling, beam, diverse beam)
 * run over a source, so every search also works guided.
 */

/** One row's next-token view. All arrays have the vocabulary's length. */
export interface RowDistribution {
  /**
   * Unnormalised scores the decision is made from: the policy's raw logits when unguided, the
   * GenARM/implicit combination s(v) when guided. Sampler filters (temperature, top-k, ...) act here.
   */
  readonly scores: Float32Array;
  /**
   * log_softmax(scores): the renormalised distribution decoded from (beam search ranks with it).
   * Built on first read (a greedy step never needs all of it): read it once per step, or use logprobAt.
   */
  readonly logprobs: Float32Array;
  /** The policy's raw log-probabilities (built on first read, as `logprobs`). */
  readonly policy: Float32Array;
  /** The policy's raw logits (the same array as `scores` when unguided). */
  readonly policyLogits?: Float32Array;
  /** Token-level reward of every token per reward source (e.g. ARM log-probs). Empty when unguided. */
  readonly rewards: ReadonlyMap<string, Float32Array>;
  /** True when scores combine several models. */
  readonly guided: boolean;
  /** policy[v] without building the whole array (a search reads one token's log-prob per step). */
  policyAt(v: number): number;
  /** logprobs[v] without building the whole array. */
  logprobAt(v: number): number;
  /** out[offset + v] = f32(logprobs[v] + add) for every v (beam search's running scores), without building `logprobs`. */
  addLogprobsInto(out: Float32Array, offset: number, add: number): void;
}

export interface NextTokenSource {
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  readonly contextLength: number;
  /** Runs the prompt and returns `rows` identical rows (prefilled once, then tiled). */
  start(prompt: readonly number[], rows: number): Promise<RowDistribution[]>;
  /**
   * Reorders rows to `parents` (row i continues old row parents[i]; null keeps the order, and the
   * number of rows may shrink), appends `tokens[i]` to row i and returns the new distributions.
   */
  advance(parents: Int32Array | null, tokens: Int32Array): Promise<RowDistribution[]>;
  /** Frees every cache. Safe to call twice. */
  dispose(): void;
}
