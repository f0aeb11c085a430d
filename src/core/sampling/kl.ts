/**
 * The exact KL divergence of the distribution a token is sampled from against the base policy, at
 * one step, over the whole vocabulary. A plain function on purpose: V8 does not optimise loops in
 * the body of a generator (bench/README.md), and this one runs once per sampled row and step.
 */

/**
 * KL(q ‖ p) in nats, q = softmax(`scores`) (the scores after every filter; -Infinity = removed),
 * p = exp(`baseLogprobs`) (normalised log-probabilities of the base policy's raw distribution).
 * Accumulated in float64. Infinity when q puts mass on a token p gives probability 0.
 */
export function klFromScores(scores: ArrayLike<number>, baseLogprobs: ArrayLike<number>): number {
  const n = scores.length;
  if (baseLogprobs.length !== n) throw new RangeError(`klFromScores: ${n} scores but ${baseLogprobs.length} base log-probs`);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = scores[i] as number;
    if (v > max) max = v;
  }
  if (max === -Infinity || max === Infinity || Number.isNaN(max)) return NaN;
  let z = 0;
  for (let i = 0; i < n; i++) z += Math.exp((scores[i] as number) - max);
  const logZ = Math.log(z);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (s === -Infinity) continue;
    const lq = s - max - logZ;
    const q = Math.exp(lq);
    if (q === 0) continue;
    const lp = baseLogprobs[i] as number;
    if (lp === -Infinity) return Infinity;
    kl += q * (lq - lp);
  }
  // KL >= 0; float32 base log-probs can leave a true 0 (q = p) a hair below it.
  return Math.max(0, kl);
}

/**
 * KL(q ‖ p) for a distribution on a few tokens: q = softmax(`scores`) over the tokens `ids` (ARGS's
 * k candidates), zero elsewhere; p = exp(`baseLogprobs`) over the whole vocabulary.
 */
export function klOnSupport(scores: ArrayLike<number>, ids: ArrayLike<number>, baseLogprobs: ArrayLike<number>): number {
  if (scores.length !== ids.length) throw new RangeError(`klOnSupport: ${scores.length} scores for ${ids.length} ids`);
  const lp = new Float64Array(ids.length);
  for (let j = 0; j < ids.length; j++) lp[j] = baseLogprobs[ids[j] as number] as number;
  return klFromScores(scores, lp);
}
