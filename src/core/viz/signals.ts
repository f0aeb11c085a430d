/**
 * What a token is coloured by in the token view, and the scaling of those values for the colour
 * scale. Signals with a true zero (guidance shift, reward advantage, oracle contribution) are drawn
 * on a diverging scale centred on 0; the others (log-probs, which are all ≤ 0 and have no neutral
 * value) on a sequential scale from the run's minimum to its maximum, labelled with those numbers.
 */
import type { RowStep } from '../search/events.ts';
import { positivity } from '../reward/oracle.ts';

export type TokenSignal = 'advantage' | 'shift' | 'reward' | 'logprob' | 'oracle';

export interface SignalInfo {
  readonly label: string;
  readonly explain: string;
  /** true: 0 means something (no change, no preference), so the scale diverges around it. */
  readonly zero: boolean;
  /** Needs a token-level reward source (GenARM, implicit). */
  readonly needsReward: boolean;
}

export const SIGNAL_INFO: Record<TokenSignal, SignalInfo> = {
  advantage: {
    label: 'Reward advantage',
    explain: 'ARM log-prob − base log-prob of the chosen token (for implicit guidance: β·(log π_tuned − log π_ref)): what the reward prefers beyond fluency; 0 = the reward agrees with the base',
    zero: true,
    needsReward: true,
  },
  shift: {
    label: 'Guidance shift',
    explain: 'combined log-prob − base log-prob of the chosen token; mostly positive because the combined distribution is sharper, not only where the reward pushed',
    zero: true,
    needsReward: false,
  },
  reward: {
    label: 'Token reward',
    explain: 'the reward source’s token reward (ARM log-prob, or β·(log π_tuned − log π_ref)); an ARM log-prob also tracks how common a word is',
    zero: false,
    needsReward: true,
  },
  logprob: { label: 'Base log-prob', explain: 'log-probability of the token under the policy alone', zero: false, needsReward: false },
  oracle: {
    label: 'Oracle contribution',
    explain: 'how much appending the token changed the oracle positivity (AFINN-111) of the text so far',
    zero: true,
    needsReward: false,
  },
};

/** The signal the token view starts on: reward advantage when the run has a reward source, else the base log-prob. */
export function defaultSignal(step: RowStep | undefined): TokenSignal {
  return step && Object.keys(step.rewards).length > 0 ? 'advantage' : 'logprob';
}

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

/**
 * The raw value of a signal for one step (NaN when the step has none, e.g. no reward source).
 * `source` picks a reward source by its key ("arm:tiny-arm-positive"); the default is the first.
 *
 * Reward advantage: for an ARM, ℓ_arm(y) − ℓ_base(y), the log-ratio of the ARM to the base on the
 * chosen token (0 where the ARM finds the token exactly as likely as the base does, so word
 * frequency cancels); an implicit source's reward is already a log-ratio, β·(log π_tuned − log π_ref)
 * (0 where the tuned model and its reference agree), so it is its own advantage.
 */
export function signalValue(step: RowStep, signal: TokenSignal, source?: string): number {
  switch (signal) {
    case 'shift':
      return step.combinedLogprob - step.logprob;
    case 'reward': {
      const key = source ?? Object.keys(step.rewards)[0];
      return key === undefined ? NaN : (step.rewards[key] ?? NaN);
    }
    case 'advantage': {
      const key = source ?? Object.keys(step.rewards)[0];
      if (key === undefined) return NaN;
      return rewardAdvantage(key, step.rewards[key] ?? NaN, step.logprob);
    }
    case 'logprob':
      return step.logprob;
    case 'oracle':
      return NaN; // needs the text: see oracleContributions
  }
}

/**
 * A reward source's advantage over the base for one token (see signalValue). A sequence reward model
 * (`sequence:` keys: ARGS, reward-guided beams) scores the whole text so far, RM(x ⊕ y≤t), which has no
 * per-token zero: its per-token value is the change since the previous scored prefix, RM(x ⊕ y≤t) −
 * RM(x ⊕ y≤s) (`previous`; NaN without one), so the values of a run add up to the last score minus
 * the first (prefix attribution, core/metrics/prefixAttribution.ts).
 */
export function rewardAdvantage(key: string, reward: number, baseLogprob: number, previous?: number): number {
  if (key.startsWith('sequence:')) return previous === undefined ? NaN : reward - previous;
  return key.startsWith('arm:') ? reward - baseLogprob : reward;
}

/**
 * signalValue for every step of one row, in order. The same per step, except the reward advantage of
 * a sequence reward model, which needs the row's previous scored prefix (rewardAdvantage).
 */
export function signalValues(steps: readonly RowStep[], signal: TokenSignal, source?: string): number[] {
  let previous: number | undefined;
  return steps.map((step) => {
    const key = source ?? Object.keys(step.rewards)[0];
    if (signal !== 'advantage' || key === undefined || !key.startsWith('sequence:')) return signalValue(step, signal, source);
    const r = step.rewards[key];
    if (r === undefined || !Number.isFinite(r)) return NaN;
    const v = rewardAdvantage(key, r, step.logprob, previous);
    previous = r;
    return v;
  });
}

/** The colour scale of one run's values, with the labels its legend shows. */
export interface SignalScale {
  /** 'diverging': centred on a true 0, symmetric ±max|v|; 'range': sequential from min to max. */
  readonly kind: 'diverging' | 'range';
  /** diverging: v / max|v| in [-1, 1]; range: (v − min) / (max − min) in [0, 1]; NaN stays NaN. */
  readonly scaled: number[];
  /** The legend's end labels (and the middle one, "0", only on a diverging scale). */
  readonly low: number;
  readonly high: number;
}

/**
 * The colour scale for a signal's values in one run: diverging around 0 for signals with a true
 * zero, else min–max. With no finite values both ends are NaN.
 */
export function signalScale(values: readonly number[], signal: TokenSignal): SignalScale {
  const finite = values.filter((v) => Number.isFinite(v));
  if (SIGNAL_INFO[signal].zero) {
    const m = finite.length ? Math.max(...finite.map(Math.abs)) : NaN;
    return { kind: 'diverging', scaled: values.map((v) => (Number.isFinite(v) ? (m === 0 ? 0 : v / m) : NaN)), low: -m, high: m };
  }
  const lo = finite.length ? Math.min(...finite) : NaN;
  const hi = finite.length ? Math.max(...finite) : NaN;
  const span = hi - lo;
  return { kind: 'range', scaled: values.map((v) => (Number.isFinite(v) ? (span === 0 ? 1 : (v - lo) / span) : NaN)), low: lo, high: hi };
}

/**
 * Scales values to [-1, 1] (kept for the ranking view's token strips; the token view uses
 * signalScale). Signed signals divide by the largest magnitude; log-probs (all ≤ 0) and token rewards
 * map the range [min, max] to [-1, 1]. NaN stays NaN (drawn neutral).
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
