import type { Filter } from './filter.ts';

/**
 * Bans every token that would complete an n-gram already present in the history (prompt included),
 * as HF NoRepeatNGramLogitsProcessor does. n = 0 disables it.
 */
export function noRepeatNgram(n: number): Filter {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`no_repeat_ngram_size must be an integer >= 0 (got ${n}); 0 disables it`);
  return {
    name: 'no_repeat_ngram',
    maskOnly: true,
    apply(scores, ctx) {
      const h = ctx.history;
      if (n === 0 || h.length + 1 < n) return;
      const prefix = h.slice(h.length - (n - 1));
      for (let i = 0; i + n <= h.length; i++) {
        let match = true;
        for (let j = 0; j < n - 1; j++) {
          if (h[i + j] !== prefix[j]) {
            match = false;
            break;
          }
        }
        if (match) {
          const banned = h[i + n - 1] as number;
          if (banned >= 0 && banned < scores.length) scores[banned] = -Infinity;
        }
      }
    },
  };
}
