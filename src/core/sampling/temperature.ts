import type { Filter } from './filter.ts';

/** Divides scores by T (HF TemperatureLogitsWarper). T must be > 0; T = 0 means greedy and is handled by the chain builder. */
export function temperature(t: number): Filter {
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`temperature must be a finite number > 0 (got ${t}); use do_sample=false for greedy`);
  return {
    name: 'temperature',
    apply(scores) {
      if (t === 1) return;
      for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] as number) / t;
    },
  };
}
