/**
 * Tokenizer compatibility between the models of one run. Guidance adds log-probabilities token id by
 * token id, and reward models read the policy's token ids, so every role must use the policy's
 * tokenizer (DESIGN §3). Models are compared by vocabulary size and, when the backend gives one, a
 * digest of the tokenizer (the transformers.js adapter's `TransformersTokenizer.digest`).
 */

export interface TokenizerInfo {
  /** The tokenizer's vocabulary size (largest token id + 1). */
  readonly vocabSize: number;
  /** A digest of vocabulary, merges and added tokens, when the backend computes one. */
  readonly digest?: string;
}

/** What a loaded model tells about its tokenizer (duck-typed: fake test backends have no digest). */
export function tokenizerInfoOf(tokenizer: { vocabSize: number; digest?: unknown } | undefined, fallbackVocab?: number): TokenizerInfo | undefined {
  if (!tokenizer) return fallbackVocab === undefined ? undefined : { vocabSize: fallbackVocab };
  const digest = typeof tokenizer.digest === 'string' ? tokenizer.digest : undefined;
  return { vocabSize: tokenizer.vocabSize, ...(digest ? { digest } : {}) };
}

export interface RoleModel {
  readonly id: string;
  /** "ARM", "tuned model", "reference model", "reward model". */
  readonly role: string;
  /** Where it came from, for the message ("bundled", "local folder", "Hugging Face, …"). */
  readonly source?: string;
  readonly info: TokenizerInfo | undefined;
}

/**
 * The message refusing the first role whose tokenizer differs from the policy's, or null when all
 * match. Models without info are not compared.
 */
export function tokenizerMismatch(policy: { id: string; info: TokenizerInfo | undefined }, others: readonly RoleModel[]): string | null {
  const p = policy.info;
  if (!p) return null;
  for (const o of others) {
    const q = o.info;
    if (!q || o.id === policy.id) continue;
    const differs = q.vocabSize !== p.vocabSize || (p.digest !== undefined && q.digest !== undefined && p.digest !== q.digest);
    if (!differs) continue;
    const sizes = q.vocabSize === p.vocabSize ? `both ${p.vocabSize} tokens, but not the same ones` : `vocabulary ${q.vocabSize} vs ${p.vocabSize}`;
    const where = [o.source, o.role].filter(Boolean).join(', ');
    return (
      `${o.id} (${where}) has a different tokenizer from the policy ${policy.id} (${sizes}): ` +
      `ARMs, tuned/reference models and reward models must share the policy's tokenizer. Choose models made with the policy's tokenizer, or another policy.`
    );
  }
  return null;
}
