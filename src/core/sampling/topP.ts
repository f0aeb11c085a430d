import type { Filter } from './filter.ts';
import { MIN_TOKENS_TO_KEEP } from './filter.ts';

/**
 * Nucleus filter (HF TopPLogitsWarper): sort ascending, accumulate softmax probabilities, and remove
 * the tokens whose cumulative probability is <= 1 - p; the most likely token always stays.
 * p = 1 disables the filter. Ties sort by token id (stable).
 */
export function topP(p: number): Filter {
  if (!(p > 0 && p <= 1)) throw new RangeError(`top_p must be in (0, 1] (got ${p}); 1 disables it`);
  return {
    name: 'top_p',
    apply(scores) {
      if (p === 1) return;
      const n = scores.length;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
      let max = -Infinity;
      for (const v of scores) if (v > max) max = v;
      if (max === -Infinity) return;
      let z = 0;
      for (const v of scores) z += Math.exp(v - max);
      let cum = 0;
      const cut = 1 - p;
      for (let j = 0; j < n - MIN_TOKENS_TO_KEEP; j++) {
        const i = order[j] as number;
        cum += Math.exp((scores[i] as number) - max) / z;
        if (cum <= cut) scores[i] = -Infinity;
        else break;
      }
    },
  };
}
