/**
 * What a token is coloured by in the token view, and the scaling of those values to [-1, 1] for a
 * diverging colour scale (0 = neutral).
 */
import type { RowStep } from '../search/events.ts';

export type TokenSignal = 'shift' | 'reward' | 'logprob';

export const SIGNAL_INFO: Record<TokenSignal, { label: string; explain: string }> = {
  shift: { label: 'Guidance shift', explain: 'combined log-prob − base log-prob of the chosen token: how much the reward moved it' },
  reward: { label: 'Token reward', explain: 'the reward source’s token reward (ARM log-prob, or log π_tuned − log π_ref)' },
  logprob: { label: 'Base log-prob', explain: 'log-probability of the token under the policy alone' },
};

/** The raw value of a signal for one step (NaN when the step has none, e.g. no reward source). */
export function signalValue(step: RowStep, signal: TokenSignal): number {
  switch (signal) {
    case 'shift':
      return step.combinedLogprob - step.logprob;
    case 'reward': {
      const first = Object.values(step.rewards)[0];
      return first ?? NaN;
    }
    case 'logprob':
      return step.logprob;
  }
}

/**
 * Scales values to [-1, 1] for a diverging scale. Signed signals (shift, reward relative to its
 * mean) divide by the largest magnitude; log-probs (all ≤ 0) map the range [min, max] to [-1, 1].
 * NaN stays NaN (drawn neutral).
 */
export function scaleSignal(values: readonly number[], signal: TokenSignal): number[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return values.map(() => NaN);
  if (signal === 'logprob' || signal === 'reward') {
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const span = hi - lo;
    return values.map((v) => (Number.isFinite(v) ? (span === 0 ? 0 : (2 * (v - lo)) / span - 1) : NaN));
  }
  const m = Math.max(...finite.map(Math.abs));
  return values.map((v) => (Number.isFinite(v) ? (m === 0 ? 0 : v / m) : NaN));
}
