import type { Filter } from './filter.ts';

/**
 * Bans the EOS tokens until `n` tokens have been generated (HF MinNewTokensLengthLogitsProcessor).
 * n = 0 disables it.
 */
export function minNewTokens(n: number, eosTokenIds: readonly number[]): Filter {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`min_new_tokens must be an integer >= 0 (got ${n})`);
  return {
    name: 'min_new_tokens',
    maskOnly: true,
    apply(scores, ctx) {
      if (ctx.generated >= n) return;
      for (const e of eosTokenIds) if (e >= 0 && e < scores.length) scores[e] = -Infinity;
    },
  };
}
