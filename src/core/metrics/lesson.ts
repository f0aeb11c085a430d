/**
 * The statistics of "does the lesson land?" (issue 11, item 2): guided vs base samples drawn with the
 * same prompt and seeds, scored by the oracle, compared pair by pair; and how often samples degenerate
 * into loops.
 *
 * - {@link repeatsNgram}: a sample degenerates when some n-gram (n = 4 by default) occurs `times`
 *   (3) or more times in it, overlapping occurrences counted ("a a a a a a" holds "a a a a" 3 times).
 * - {@link pairedInterval}: the paired t interval: the mean of the per-seed differences d_i = x_i − y_i
 *   ± t_{1−α/2, n−1}·s_d/√n, with s_d the sample standard deviation (n − 1 in the denominator).
 */

/** Occurrences of the most frequent n-gram of a sequence (0 when it is shorter than n). */
export function maxNgramCount(seq: readonly (number | string)[], n = 4): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1 (got ${n})`);
  const counts = new Map<string, number>();
  let best = 0;
  for (let i = 0; i + n <= seq.length; i++) {
    const key = seq.slice(i, i + n).join('\u0000');
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > best) best = c;
  }
  return best;
}

/** Whether some n-gram occurs `times` or more times in the sequence (a repetition loop). */
export function repeatsNgram(seq: readonly (number | string)[], n = 4, times = 3): boolean {
  if (!Number.isInteger(times) || times < 2) throw new RangeError(`times must be an integer >= 2 (got ${times})`);
  return maxNgramCount(seq, n) >= times;
}

/** Share of sequences that {@link repeatsNgram} (0 for no sequences). */
export function degenerationRate(seqs: readonly (readonly (number | string)[])[], n = 4, times = 3): number {
  if (seqs.length === 0) return 0;
  return seqs.filter((s) => repeatsNgram(s, n, times)).length / seqs.length;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of no values');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0] as number;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes' betacf). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function incBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0 (got ${df})`);
  const tail = 0.5 * incBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1) (got ${p})`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedInterval {
  /** Number of pairs. */
  readonly n: number;
  /** Mean of the differences x_i − y_i. */
  readonly mean: number;
  /** Sample standard deviation of the differences. */
  readonly sd: number;
  /** Standard error sd/√n. */
  readonly se: number;
  /** Lower and upper ends of the two-sided interval. */
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  /** The t quantile used (t_{1−α/2, n−1}). */
  readonly t: number;
}

/**
 * Paired t interval for the mean of x_i − y_i (x and y measured on the same seeds), at `level`
 * (default 0.95). Needs at least two pairs.
 */
export function pairedInterval(x: readonly number[], y: readonly number[], level = 0.95): PairedInterval {
  if (x.length !== y.length) throw new RangeError(`paired samples must have the same length (got ${x.length} and ${y.length})`);
  if (x.length < 2) throw new RangeError(`a paired interval needs at least 2 pairs (got ${x.length})`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1) (got ${level})`);
  const d = x.map((xi, i) => xi - (y[i] as number));
  for (const v of d) if (!Number.isFinite(v)) throw new RangeError('paired samples must be finite numbers');
  const n = d.length;
  const m = mean(d);
  const sd = sampleSd(d);
  const se = sd / Math.sqrt(n);
  const t = studentTQuantile(1 - (1 - level) / 2, n - 1);
  return { n, mean: m, sd, se, lo: m - t * se, hi: m + t * se, level, t };
}
