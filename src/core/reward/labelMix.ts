/**
 * A weighted mix of a reward model's heads (HelpSteer2-style models with k outputs: helpfulness,
 * correctness, …): "positivity=1,conciseness=0.5" → reward = 1·logit[positivity] + 0.5·logit[conciseness].
 * Terms are "LABEL=WEIGHT" (or a bare LABEL, weight 1) separated by commas; a label is a name
 * (exact, then case-insensitive) or an index; weights are any finite numbers (negative ones too, so
 * "A=1,B=-1" is the difference A−B). Pure: no model, no DOM.
 */

import { rankingAccuracy, wilsonInterval, type ScoredPair } from '../metrics/ranking.ts';

export interface LabelMixTerm {
  readonly index: number;
  readonly weight: number;
}

export interface LabelMix {
  readonly terms: readonly LabelMixTerm[];
  /** Resolved to the model's names: "positivity=1,conciseness=0.5". */
  readonly name: string;
}

/** Whether a reward-label choice is written as a mix (has "=" or ","), not one label or "A-B". */
export function isLabelMix(choice: string): boolean {
  return /[=,]/.test(choice);
}

/** The index of a label written as a name (exact, then case-insensitive) or an index; undefined when none. */
export function labelIndex(labels: readonly string[], text: string): number | undefined {
  const t = text.trim();
  let i = labels.indexOf(t);
  if (i < 0) i = labels.findIndex((l) => l.toLowerCase() === t.toLowerCase());
  if (i < 0 && /^\d+$/.test(t) && Number(t) < labels.length) i = Number(t);
  return i < 0 ? undefined : i;
}

/**
 * Parses "LABEL=W,LABEL=W" against a model's labels (output order). Throws a one-line Error naming
 * the bad term and the model's labels: an unknown label, a weight that is not a finite number, a
 * label given twice, or an empty term.
 */
export function parseLabelMix(choice: string, labels: readonly string[]): LabelMix {
  const list = labels.map((l, i) => `${i}: ${l}`).join(', ');
  const terms: LabelMixTerm[] = [];
  for (const raw of choice.split(',')) {
    const term = raw.trim();
    if (term === '') throw new Error(`"${choice}": an empty term; write LABEL=WEIGHT terms separated by commas, e.g. ${labels[0] ?? 'LABEL'}=1 (labels: ${list})`);
    const eq = term.lastIndexOf('=');
    const name = eq < 0 ? term : term.slice(0, eq).trim();
    const w = eq < 0 ? '1' : term.slice(eq + 1).trim();
    const weight = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(w) ? Number(w) : NaN;
    if (!Number.isFinite(weight)) throw new Error(`"${term}": the weight "${w}" is not a finite number (e.g. ${name}=0.5)`);
    const index = labelIndex(labels, name);
    if (index === undefined) throw new Error(`"${term}": no label "${name}"; the model's labels are ${list}`);
    if (terms.some((t) => t.index === index)) throw new Error(`"${choice}": the label ${labels[index]} is given twice; give each label once`);
    terms.push({ index, weight });
  }
  return { terms, name: terms.map((t) => `${labels[t.index]}=${t.weight}`).join(',') };
}

/**
 * Each row's reward from [rows × outputs] logits (row-major): Σ weight·logit[index]. Throws when a
 * term's index is beyond `outputs` or the data is not a whole number of rows.
 */
export function mixLogits(data: ArrayLike<number>, outputs: number, mix: Pick<LabelMix, 'terms'>): Float32Array {
  if (!(outputs >= 1) || data.length % outputs !== 0) throw new Error(`logits of length ${data.length} are not rows of ${outputs} outputs`);
  for (const t of mix.terms) if (t.index >= outputs) throw new Error(`reward label index ${t.index} is beyond the model's ${outputs} outputs`);
  const rows = data.length / outputs;
  const res = new Float32Array(rows);
  for (let b = 0; b < rows; b++) {
    let s = 0;
    for (const t of mix.terms) s += t.weight * (data[b * outputs + t.index] as number);
    res[b] = s;
  }
  return res;
}

/** A reward model whose every output (head) can be read: [rows × outputs] logits. */
export interface HeadsModel {
  readonly id: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  logits(batch: readonly (readonly number[])[]): Promise<{ data: Float32Array; outputs: number }>;
}

/**
 * One sequence reward model per head of `m` (head i's logit as the reward), for accuracy per
 * attribute. They share a cache keyed by the row's ids, so scoring the same rows with every head
 * runs the model once per row, not once per head. `dispose` of a head is a no-op (the model is the caller's).
 */
export function headScorers(m: HeadsModel, names: readonly string[]): { name: string; model: { id: string; vocabSize: number; contextLength: number; score(batch: readonly (readonly number[])[]): Promise<Float32Array>; dispose(): Promise<void> } }[] {
  const cache = new Map<string, Float32Array>();
  const rowsOf = async (batch: readonly (readonly number[])[]): Promise<Float32Array[]> => {
    const keys = batch.map((r) => r.join(','));
    const missing = [...new Set(keys.filter((k) => !cache.has(k)))];
    if (missing.length) {
      const rows = missing.map((k) => batch[keys.indexOf(k)] as readonly number[]);
      const { data, outputs } = await m.logits(rows);
      if (outputs !== names.length) throw new Error(`${m.id}: ${names.length} labels (${names.join(', ')}) but the model outputs ${outputs} logits per row`);
      missing.forEach((k, i) => cache.set(k, data.slice(i * outputs, (i + 1) * outputs)));
    }
    return keys.map((k) => cache.get(k) as Float32Array);
  };
  return names.map((name, index) => ({
    name,
    model: {
      id: `${m.id}:${name}`,
      vocabSize: m.vocabSize,
      contextLength: m.contextLength,
      async score(batch: readonly (readonly number[])[]) {
        return Float32Array.from(await rowsOf(batch), (r) => r[index] as number);
      },
      async dispose() {},
    },
  }));
}

/** One head's ranking accuracy alone (rank's `per_attribute`): exact ties count half; Wilson 95% interval. */
export interface AttributeAccuracy {
  accuracy: number;
  ci95: [number, number];
  n: number;
  ties: number;
}

/**
 * Accuracy per attribute of a reward model with several heads: `score` ranks the pairs with the
 * given one-head model (the caller's scorePairs with its own options) and each head's accuracy is
 * reported by name. The heads share one cache (headScorers), so the model runs once per row.
 */
export async function perAttributeAccuracy(
  m: HeadsModel,
  names: readonly string[],
  score: (model: ReturnType<typeof headScorers>[number]['model']) => Promise<readonly ScoredPair[]>,
): Promise<Record<string, AttributeAccuracy>> {
  const out: Record<string, AttributeAccuracy> = {};
  for (const h of headScorers(m, names)) {
    const a = rankingAccuracy(await score(h.model));
    out[h.name] = { accuracy: a.accuracy, ci95: wilsonInterval(a.accuracy, a.n), n: a.n, ties: a.ties };
  }
  return out;
}
