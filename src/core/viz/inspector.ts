/**
 * The step inspector's columns: the base distribution, each reward source's and the combined one,
 * as bars over their top tokens. Every probability column is drawn on ONE shared axis (0 to a round
 * number above the largest probability shown in any column), so a token that the reward moves from
 * p = 0.04 under the base to p = 0.53 in the combined distribution looks like it. An implicit reward
 * source (a log-ratio, not a probability) gets its own signed axis, labelled as such.
 */
import type { TopEntry } from '../math/topk.ts';
import type { RowStep } from '../search/events.ts';

export interface InspectorColumn {
  readonly key: string;
  /** 'base' | 'reward' | 'combined'. */
  readonly role: 'base' | 'reward' | 'combined';
  readonly list: readonly TopEntry[];
  /** 'prob': bars of exp(value) on the shared probability axis; 'value': signed bars of value on its own axis. */
  readonly kind: 'prob' | 'value';
  /** Whether the sampler chain's filters apply to this column (greyed tokens). */
  readonly filtered: boolean;
  /** The axis end: the shared probability maximum for 'prob', the column's largest |value| for 'value'. */
  readonly axisMax: number;
}

/** A round axis end at or above x (0 < x ≤ 1 for probabilities): 0.531 → 0.6, 0.038 → 0.04, 0.97 → 1, 1.1 → 1.2. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const v = m * p;
    if (v >= x * (1 - 1e-12)) return Number(v.toPrecision(6));
  }
  return 10 * p;
}

export function inspectorColumns(step: RowStep): InspectorColumn[] {
  const guided = !!step.topCombined;
  const raw: Omit<InspectorColumn, 'axisMax'>[] = [{ key: 'base', role: 'base', list: step.top, kind: 'prob', filtered: !guided }];
  for (const [key, list] of Object.entries(step.topRewards ?? {}))
    raw.push({ key, role: 'reward', list, kind: key.startsWith('arm:') ? 'prob' : 'value', filtered: false });
  if (guided) raw.push({ key: 'combined', role: 'combined', list: step.topCombined ?? [], kind: 'prob', filtered: true });
  const pMax = Math.max(0, ...raw.filter((c) => c.kind === 'prob').flatMap((c) => c.list.map((e) => Math.exp(e.value))));
  const shared = Math.min(1, niceCeil(pMax));
  return raw.map((c) => ({
    ...c,
    axisMax: c.kind === 'prob' ? shared : niceCeil(Math.max(1e-12, ...c.list.map((e) => Math.abs(e.value)))),
  }));
}

/** Bar length in % of the column's axis: exp(value)/axisMax for probabilities, |value|/axisMax for values. */
export function barPercent(c: Pick<InspectorColumn, 'kind' | 'axisMax'>, value: number): number {
  const m = c.kind === 'prob' ? Math.exp(value) : Math.abs(value);
  return Math.min(100, (m / c.axisMax) * 100);
}
