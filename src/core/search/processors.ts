/**
 * Logits processors for beam search. Hugging Face applies its processors (repetition penalty,
 * no-repeat n-grams, min length, ...) to the *log-softmax* scores in beam search, so a processor
 * here edits a copy of one row's log-probs in place; the source's own arrays are never touched.
 */

/**
 * Edits `row` (a copy of one row's log-probs) in place. `history` = prompt + that row's generated
 * tokens; `policy` = the policy's own log-probs when `row` is a guided combination (the repetition
 * penalty acts on those and carries its change into `row`).
 */
export interface LogitsProcessor {
  (row: Float32Array, history: readonly number[], policy?: Float32Array): void;
  /** Only sets entries to -Infinity, reading none (Filter.maskOnly): it may run on the row plus a constant. */
  readonly maskOnly?: boolean;
}

/**
 * Runs the processors in order on a copy of `logprobs`; returns `logprobs` itself when there are
 * none. Refuses rows a processor left with NaN or +Infinity (they would break the ranking).
 */
export function applyProcessors(
  processors: readonly LogitsProcessor[] | undefined,
  logprobs: Float32Array,
  history: () => readonly number[],
  policy?: Float32Array,
): Float32Array {
  if (!processors || processors.length === 0) return logprobs;
  const row = Float32Array.from(logprobs);
  const h = history();
  for (const p of processors) p(row, h, policy);
  for (let i = 0; i < row.length; i++) {
    const v = row[i] as number;
    if (Number.isNaN(v) || v === Infinity) throw new Error(`A logits processor produced ${v} for token ${i}; processors must leave finite values or -Infinity.`);
  }
  return row;
}
