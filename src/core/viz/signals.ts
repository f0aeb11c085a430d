/**
 * What a token is coloured by in the token view, and the scaling of those values to [-1, 1] for a
 * diverging colour scale (0 = neutral).
 */
import type { RowStep } from '../search/events.ts';
import { positivity } from '../reward/oracle.ts';

export type TokenSignal = 'shift' | 'reward' | 'logprob' | 'oracle';

export const SIGNAL_INFO: Record<TokenSignal, { label: string; explain: string }> = {
  shift: { label: 'Guidance shift', explain: 'combined log-prob − base log-prob of the chosen token: how much the reward moved it' },
  reward: { label: 'Token reward', explain: 'the reward source’s token reward (ARM log-prob, or log π_tuned − log π_ref)' },
  logprob: { label: 'Base log-prob', explain: 'log-probability of the token under the policy alone' },
  oracle: { label: 'Oracle contribution', explain: 'how much appending the token changed the oracle positivity (AFINN) of the text so far' },
};

/**
 * Per-token change of the oracle positivity: value(i) = positivity(prompt + t0..ti) − positivity(prompt + t0..t(i−1)).
 * Words are scored when complete, so a word split over tokens is credited to the token that completes
 * it (and corrected if a later token turns it into another word). The sum over tokens is the
 * positivity the generated tokens added to the prompt.
 */
export function oracleContributions(prompt: string, texts: readonly string[]): number[] {
  let text = prompt;
  let before = positivity(text);
  return texts.map((t) => {
    text += t;
    const after = positivity(text);
    const d = after - before;
    before = after;
    return d;
  });
}

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
    case 'oracle':
      return NaN; // needs the text: see oracleContributions
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
