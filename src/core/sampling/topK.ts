import type { Filter } from './filter.ts';
import { MIN_TOKENS_TO_KEEP } from './filter.ts';

/**
 * Keeps the k highest scores (HF TopKLogitsWarper): every token scoring below the k-th largest
 * score is removed, so ties with the k-th score survive. k = 0 disables the filter.
 */
export function topK(k: number): Filter {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`top_k must be an integer >= 0 (got ${k}); 0 disables it`);
  return {
    name: 'top_k',
    apply(scores) {
      const kk = Math.min(Math.max(k, MIN_TOKENS_TO_KEEP), scores.length);
      if (k === 0 || kk >= scores.length) return;
      const sorted = Float32Array.from(scores).sort((a, b) => b - a);
      const kth = sorted[kk - 1] as number;
      for (let i = 0; i < scores.length; i++) if ((scores[i] as number) < kth) scores[i] = -Infinity;
    },
  };
}
