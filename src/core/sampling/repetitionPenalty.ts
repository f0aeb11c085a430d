import type { Filter } from './filter.ts';
import { F32_MAX } from './filter.ts';

/**
 * CTRL repetition penalty (Keskar et al. 2019; HF RepetitionPenaltyLogitsProcessor): for every token
 * already in the history (prompt included), a negative score is multiplied by θ and a positive one
 * divided by θ. θ = 1 disables it; θ > 1 discourages repeats.
 */
export function repetitionPenalty(theta: number): Filter {
  if (!(theta > 0) || !Number.isFinite(theta)) throw new RangeError(`repetition_penalty must be a finite number > 0 (got ${theta}); 1 disables it`);
  return {
    name: 'repetition_penalty',
    apply(scores, ctx) {
      if (theta === 1) return;
      const seen = new Set(ctx.history);
      for (const t of seen) {
        if (t < 0 || t >= scores.length) continue;
        const s = scores[t] as number;
        // θ < 1 divides a huge positive score past float32's range: keep it finite (the largest
        // float32), or the distribution would be NaN (found by test/core/properties.test.ts).
        scores[t] = s < 0 ? s * theta : Math.min(s / theta, F32_MAX);
      }
    },
  };
}
