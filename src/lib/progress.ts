/** The status line of a long run (best-of-N, rejection, ARGS, side-by-side samples): "sample 5 of 16". */
import type { ProgressEvent } from '../core/search/events.ts';

export function progressLine(p: ProgressEvent, rewardModel?: string): string {
  const rm = rewardModel ? ` with ${rewardModel}` : '';
  switch (p.phase) {
    case 'sampling':
      return `Drawing ${p.total} sample${p.total === 1 ? '' : 's'} in one batch: token ${p.step ?? 0} of ${p.maxSteps ?? '?'}, ${p.done} of ${p.total} finished`;
    case 'scoring':
      return p.done < p.total ? `Scoring ${p.total} sample${p.total === 1 ? '' : 's'}${rm}…` : `Scored ${p.total} of ${p.total} samples${rm}`;
    case 'decoding':
      return `Token ${p.done} of at most ${p.total} (each scores its k candidates${rm})`;
  }
}

/** Mean, standard error (s/√n, s with n − 1) and range of some values (NaN mean for none). */
export interface Spread {
  readonly n: number;
  readonly mean: number;
  readonly se: number;
  readonly min: number;
  readonly max: number;
}

export function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, se: NaN, min: NaN, max: NaN };
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, se: sd / Math.sqrt(n), min: Math.min(...xs), max: Math.max(...xs) };
}

/** A number as shown: integers as integers ("9", not "9.0"), others with `digits` decimals. */
export function fmtNum(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '–' : String(x);
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** "2.25 ± 0.63" (mean ± standard error) or just the value for a single sample. */
export function fmtSpread(s: Spread, digits = 2): string {
  if (s.n === 0) return '–';
  return s.n === 1 ? fmtNum(s.mean, digits) : `${fmtNum(s.mean, digits)} ± ${s.se === 0 ? '0' : s.se.toFixed(digits)}`;
}
