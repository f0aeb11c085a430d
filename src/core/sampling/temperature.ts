import type { Filter } from './filter.ts';
import { F32_MAX } from './filter.ts';

/**
 * Divides scores by T (HF TemperatureLogitsWarper). T must be > 0; T = 0 means greedy and is handled
 * by the chain builder. Where a finite score divided by T would overflow float32 (|s / T| > 3.4e38,
 * e.g. a logit of 1e37 at T = 0.05), the row is first shifted by its largest finite score, which
 * leaves the distribution unchanged: without it the score would become +Infinity and the
 * distribution NaN (found by test/core/properties.test.ts).
 */
export function temperature(t: number): Filter {
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`temperature must be a finite number > 0 (got ${t}); use do_sample=false for greedy`);
  return {
    name: 'temperature',
    apply(scores) {
      if (t === 1) return;
      let max = -Infinity;
      let min = Infinity;
      for (const v of scores) {
        if (v === -Infinity) continue;
        if (v > max) max = v;
        if (v < min) min = v;
      }
      const shift = max > -Infinity && (Math.abs(max / t) > F32_MAX || Math.abs(min / t) > F32_MAX) ? max : 0;
      for (let i = 0; i < scores.length; i++) scores[i] = ((scores[i] as number) - shift) / t;
    },
  };
}
