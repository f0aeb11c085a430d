/**
 * Numerics on one row of logits. Accumulation is in float64 and results are stored as float32,
 * so a row is rounded once (PyTorch's float32 log_softmax agrees to ~1e-6).
 */
import { sumExpBelow } from './logSumExpFast.ts';

/** log(sum(exp(x))) over the finite-or-(-Infinity) entries of x; -Infinity when all are -Infinity. */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if ((x[i] as number) > max) max = x[i] as number;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp((x[i] as number) - max);
  return max + Math.log(s);
}

/**
 * out[i] = x[i] - logSumExp(x), computed as (x[i] - max) - log(Σ exp(x - max)) so that huge logits
 * keep their differences (max + log(s) would round the log away near ±3.4e38). `out` may alias `x`.
 */
export function logSoftmaxInto(x: ArrayLike<number>, out: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if ((x[i] as number) > max) max = x[i] as number;
  if (max === -Infinity || max === Infinity) {
    const lse = logSumExp(x);
    for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) - lse;
    return out;
  }
  const ls = Math.log(sumExpBelow(x, 0, x.length, max)); // the table kernel: ~2.5× a Math.exp loop, equal to ~1e-14
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) - max - ls;
  return out;
}

/**
 * What a log-softmax of `x` needs, without writing it: the row's maximum and log Σ exp(x − max), so
 * that log_softmax(x)[i] = f32((x[i] − max) − logSum) exactly as {@link logSoftmaxInto} stores it.
 * `valid` is false when the row holds NaN or +Infinity (as {@link isValidLogitRow}); `finite` is false
 * when the maximum is not finite (all -Infinity, or +Infinity), where callers use logSoftmaxInto.
 * Two passes over the row instead of logSoftmaxInto's three, and no allocation.
 */
export interface SoftmaxStats {
  readonly max: number;
  readonly logSum: number;
  readonly valid: boolean;
  readonly finite: boolean;
}

export function softmaxStats(x: ArrayLike<number>, n: number = x.length): SoftmaxStats {
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    if (v > max) max = v;
  }
  if (max === Infinity) return { max, logSum: NaN, valid: false, finite: false };
  if (max === -Infinity) return { max, logSum: -Infinity, valid: isValidLogitRow(x), finite: false };
  const s = sumExpBelow(x, 0, n, max); // NaN when an entry is NaN
  return { max, logSum: Math.log(s), valid: !Number.isNaN(s), finite: true };
}

export function logSoftmax(x: ArrayLike<number>): Float32Array {
  return logSoftmaxInto(x, new Float32Array(x.length));
}

/** Probabilities from log-probabilities or logits (normalised here). */
export function softmax(x: ArrayLike<number>): Float32Array {
  const out = logSoftmax(x);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i] as number);
  return out;
}

/** Index of the largest entry; the lowest index wins ties (as torch.argmax does). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if ((x[i] as number) > (x[best] as number)) best = i;
  return best;
}

/** True when every entry is a number or -Infinity (no NaN, no +Infinity). */
export function isValidLogitRow(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (Number.isNaN(v) || v === Infinity) return false;
  }
  return true;
}
