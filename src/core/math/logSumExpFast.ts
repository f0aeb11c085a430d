/**
 * log Σ exp over a slice of a logits buffer, about 2–3× faster than a Math.exp loop in V8 and equal
 * to it to ~1e-14 (float64 accumulation). Reading one token's log-prob per position needs this over
 * the whole vocabulary, and it is the ranking scorer's largest JavaScript cost (bench/README.md,
 * "Ranking").
 *
 * exp(x − m) for x ≤ m is computed as 2^−u with u = (m − x)·log2(e) ≥ 0, split as
 * u = k + j/256 + f (k, j integers, 0 ≤ f < 1/256): 2^−k and 2^−j/256 come from two tables and
 * 2^−f = exp(−f·ln 2) from a degree-4 Taylor polynomial (|f·ln 2| < 0.0028, error < 2e-15).
 * Terms below 2^−1000 are dropped: the largest term is exactly 1, so they cannot change a float64 sum.
 * -Infinity entries contribute nothing; a NaN or +Infinity entry gives NaN (as the plain loop does).
 */

const FRAC_BITS = 8;
const FRAC = 1 << FRAC_BITS;
const FRAC_MASK = FRAC - 1;
const MAX_EXP = 1000;
/** 2^−j/256 for j = 0..255 */
const FRAC_POW = Float64Array.from({ length: FRAC }, (_, j) => Math.pow(2, -j / FRAC));
/** 2^−k for k = 0..MAX_EXP */
const INT_POW = Float64Array.from({ length: MAX_EXP + 1 }, (_, k) => Math.pow(2, -k));
const SCALE = Math.LOG2E * FRAC;
const STEP = Math.LN2 / FRAC;
const LIMIT = MAX_EXP * FRAC;

export function logSumExpRange(x: ArrayLike<number>, off: number, n: number): number {
  const end = off + n;
  let m = -Infinity;
  for (let i = off; i < end; i++) {
    const v = x[i] as number;
    if (v > m) m = v;
  }
  if (m === -Infinity) return -Infinity;
  return m + Math.log(sumExpBelow(x, off, n, m));
}

/**
 * Σ exp(x[i] − m) over a slice, for m ≥ every entry (the slice's maximum): the kernel of
 * {@link logSumExpRange}, exposed so a log-softmax can subtract m and log(s) separately.
 */
export function sumExpBelow(x: ArrayLike<number>, off: number, n: number, m: number): number {
  const end = off + n;
  let s = 0;
  for (let i = off; i < end; i++) {
    const u = (m - (x[i] as number)) * SCALE; // ≥ 0; NaN for NaN entries (and for all when m = +Infinity)
    if (u >= LIMIT) continue; // includes -Infinity entries (u = +Infinity)
    const q = u | 0;
    const r = (u - q) * STEP;
    const e = 1 - r * (1 - r * (0.5 - r * (1 / 6 - r / 24)));
    s += (INT_POW[q >> FRAC_BITS] as number) * (FRAC_POW[q & FRAC_MASK] as number) * e;
  }
  return s;
}

/** log Σ exp over a whole row. */
export function logSumExpFast(x: ArrayLike<number>): number {
  return logSumExpRange(x, 0, x.length);
}
