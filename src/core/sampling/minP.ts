import type { Filter } from './filter.ts';

/**
 * Min-p filter (HF MinPLogitsWarper): removes tokens whose probability is below p × the top token's
 * probability. p = 0 disables the filter.
 */
export function minP(p: number): Filter {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`min_p must be in [0, 1] (got ${p}); 0 disables it`);
  return {
    name: 'min_p',
    apply(scores) {
      if (p === 0) return;
      let max = -Infinity;
      for (const v of scores) if (v > max) max = v;
      if (max === -Infinity) return;
      // prob_i / prob_max = exp(s_i - max) < p  <=>  s_i < max + ln p
      const threshold = max + Math.log(p);
      for (let i = 0; i < scores.length; i++) if ((scores[i] as number) < threshold) scores[i] = -Infinity;
    },
  };
}
