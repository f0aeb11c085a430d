import type { Filter } from './filter.ts';

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
        scores[t] = s < 0 ? s * theta : s / theta;
      }
    },
  };
}
