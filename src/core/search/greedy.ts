import type { LanguageModel } from '../model/types.ts';
import { argmax, isValidLogitRow, logSoftmax } from '../math/logits.ts';
import { topK } from '../math/topk.ts';
import type { DecodeEvent, FinishReason } from './events.ts';
import type { AbortSignalLike } from './abort.ts';

export interface GreedyOptions {
  /** Most tokens to generate. */
  readonly maxNewTokens: number;
  /** How many of the policy's top tokens each step reports. @default 10 */
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

/**
 * Greedy decoding: at each step the argmax of the policy's next-token distribution (lowest id on
 * ties), stopping at an EOS token (kept in the output) or after `maxNewTokens`.
 * `score` is the summed log-probability of the chosen tokens.
 */
export async function* greedy(model: LanguageModel, prompt: readonly number[], opts: GreedyOptions): AsyncGenerator<DecodeEvent> {
  if (prompt.length === 0) throw new Error('greedy: the prompt has no tokens');
  const eos = new Set(model.eosTokenIds);
  const out: number[] = [];
  let score = 0;
  let finishReason: FinishReason = 'length';
  let { logits, cache } = await model.prefill([prompt]);
  try {
    for (let step = 0; step < opts.maxNewTokens; step++) {
      if (opts.signal?.aborted) {
        finishReason = 'aborted';
        break;
      }
      const row = logits[0] as Float32Array;
      if (!isValidLogitRow(row)) throw new Error(`${model.id} produced NaN or +Infinity logits at step ${step}`);
      const lp = logSoftmax(row);
      const tokenId = argmax(lp);
      const logprob = lp[tokenId] as number;
      out.push(tokenId);
      score += logprob;
      yield { type: 'step', step, rows: [{ row: 0, tokenId, logprob, top: topK(lp, opts.topK ?? 10) }] };
      if (eos.has(tokenId)) {
        finishReason = 'eos';
        break;
      }
      if (step + 1 === opts.maxNewTokens) break;
      ({ logits, cache } = await model.step(cache, Int32Array.of(tokenId)));
    }
  } finally {
    cache.dispose();
  }
  yield { type: 'done', sequences: [{ tokenIds: out, score, finishReason }] };
}
