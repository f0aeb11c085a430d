import { logSoftmax } from '../math/logits.ts';
import type { Filter } from './filter.ts';
import { F32_MAX } from './filter.ts';

/** θ applied to one score, kept finite. */
function penalise(s: number, theta: number): number {
  // θ < 1 divides a huge positive score past float32's range: keep it finite (the largest
  // float32), or the distribution would be NaN (found by test/core/properties.test.ts).
  return s < 0 ? s * theta : Math.min(s / theta, F32_MAX);
}

/**
 * CTRL repetition penalty (Keskar et al. 2019; HF RepetitionPenaltyLogitsProcessor): for every token
 * already in the history (prompt included), a negative score is multiplied by θ and a positive one
 * divided by θ. θ = 1 disables it; θ > 1 discourages repeats.
 *
 * Guided rows (ctx.policyScores set): the penalty acts on the base policy's own scores, as it does
 * unguided, and the guidance is added to the penalised base: with raw logits and their log-softmax
 * (sampling), s′ = s + (log_softmax(pen(logits)) − log_softmax(logits)); with log-probs (beam
 * search, penalised unnormalised as Hugging Face does), s′ = s + (pen(ℓ) − ℓ) on the history tokens.
 * Penalising the combined score instead (as before) broke "guidance weight 0 = base" (issue 12 item 8).
 */
export function repetitionPenalty(theta: number): Filter {
  if (!(theta > 0) || !Number.isFinite(theta)) throw new RangeError(`repetition_penalty must be a finite number > 0 (got ${theta}); 1 disables it`);
  return {
    name: 'repetition_penalty',
    apply(scores, ctx) {
      if (theta === 1) return;
      const seen = new Set(ctx.history);
      const base = ctx.policyScores;
      if (!base) {
        for (const t of seen) if (t >= 0 && t < scores.length) scores[t] = penalise(scores[t] as number, theta);
        return;
      }
      if (!ctx.policyLogprobs) {
        for (const t of seen) {
          if (t < 0 || t >= scores.length) continue;
          const b = base[t] as number;
          const s = scores[t] as number;
          if (!Number.isFinite(b) || s === -Infinity) continue;
          scores[t] = Math.max(-F32_MAX, Math.min(s + (penalise(b, theta) - b), F32_MAX));
        }
        return;
      }
      const lp = ctx.policyLogprobs;
      const pen = Float32Array.from(base);
      for (const t of seen) if (t >= 0 && t < pen.length) pen[t] = penalise(pen[t] as number, theta);
      const lp2 = logSoftmax(pen);
      for (let i = 0; i < scores.length; i++) {
        const s = scores[i] as number;
        const a = lp[i] as number;
        if (s === -Infinity || a === -Infinity) continue;
        // (lp2 − lp) is exact in float64, so with no guidance (s = lp) this gives lp2 exactly.
        scores[i] = Math.max(-F32_MAX, Math.min(s + ((lp2[i] as number) - a), F32_MAX));
      }
    },
  };
}
