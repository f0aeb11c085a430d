/**
 * Agreement between two labellers of the same items (the studio: a person and a scorer).
 *
 * Cohen's κ = (p_o − p_e) / (1 − p_e), with p_o the share of items both give the same label and
 * p_e = Σ_c p_A(c)·p_B(c) the agreement two independent labellers with these marginals would reach
 * by chance (Cohen 1960). The categories are the union of both labellers' labels, so a scorer's tie
 * (equal scores) is a third category the person never used: it lowers p_o and counts as a
 * disagreement. κ is undefined (NaN) when p_e = 1 (both labellers always give the same one label).
 */
import { rankingAccuracy, wilsonInterval } from './ranking.ts';

export interface Kappa {
  /** Items labelled by both. */
  readonly n: number;
  /** Observed agreement p_o. */
  readonly observed: number;
  /** Chance agreement p_e from the marginals. */
  readonly expected: number;
  /** (p_o − p_e) / (1 − p_e); NaN when p_e = 1 or n = 0. */
  readonly kappa: number;
  /** The categories, sorted, and the confusion counts table[i][j] = #(A = cat i, B = cat j). */
  readonly categories: readonly string[];
  readonly table: readonly (readonly number[])[];
}

export function cohensKappa(a: readonly string[], b: readonly string[]): Kappa {
  if (a.length !== b.length) throw new RangeError(`Cohen's κ needs one label from each labeller per item (got ${a.length} and ${b.length} labels)`);
  const categories = [...new Set([...a, ...b])].sort();
  const at = new Map(categories.map((c, i) => [c, i]));
  const k = categories.length;
  const table = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < a.length; i++) {
    const row = table[at.get(a[i] as string) as number] as number[];
    const j = at.get(b[i] as string) as number;
    row[j] = (row[j] as number) + 1;
  }
  const n = a.length;
  if (n === 0) return { n, observed: NaN, expected: NaN, kappa: NaN, categories, table };
  let agree = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    const row = table[i] as number[];
    agree += row[i] as number;
    const rowSum = row.reduce((s, x) => s + x, 0);
    const colSum = table.reduce((s, r) => s + (r[i] as number), 0);
    expected += (rowSum / n) * (colSum / n);
  }
  const observed = agree / n;
  const kappa = expected >= 1 ? NaN : (observed - expected) / (1 - expected);
  return { n, observed, expected, kappa, categories, table };
}

/** Which response a pair's scores prefer, in the order the person saw them: 1, 2, or a tie. */
export type PositionLabel = '1' | '2' | 'tie';

/**
 * A scorer's label for a labelled pair, in display positions: `margin` = score(chosen) −
 * score(rejected) from the ranking report, and `chosenShown` the position (1 or 2) at which the
 * person saw the response they chose.
 */
export function scorerLabel(margin: number, chosenShown: 1 | 2): PositionLabel {
  if (margin === 0 || Number.isNaN(margin)) return 'tie';
  const prefersChosen = margin > 0;
  return prefersChosen === (chosenShown === 1) ? '1' : '2';
}

/**
 * κ between a scorer and the person over labelled pairs: the person's label is the position at which
 * they saw the response they chose; the scorer's is `scorerLabel` of the pair's margin.
 */
export function scorerKappa(pairs: readonly { readonly margin: number; readonly chosenShown: 1 | 2 }[]): Kappa {
  return cohensKappa(
    pairs.map((p) => String(p.chosenShown)),
    pairs.map((p) => scorerLabel(p.margin, p.chosenShown)),
  );
}

/** A record's labeller (its `labeller` field), or undefined when it has none. */
const labellerOf = (extra: Readonly<Record<string, unknown>>): string | undefined => (typeof extra.labeller === 'string' && extra.labeller ? extra.labeller : undefined);

/** The screen position (1 or 2) at which the labeller saw the chosen response (the studio's `studio.chosen_shown`; 1 when absent). */
export const chosenShownOf = (extra: Readonly<Record<string, unknown>>): 1 | 2 => ((extra.studio as { chosen_shown?: unknown } | undefined)?.chosen_shown === 2 ? 2 : 1);

/** Whether a record's labels are the person's: the studio's agreement table compares scorers with every label not marked `model:…`. */
export const isHumanLabel = (labeller: string | undefined): boolean => !labeller?.startsWith('model:');

/** κ between two labellers of a file, on the pairs both labelled. */
export interface LabellerKappa {
  readonly a: string;
  readonly b: string;
  readonly n: number;
  readonly kappa: number | null;
  readonly observed: number | null;
  readonly expected: number | null;
}

/**
 * `rank --json`'s `agreement` (additive; only for files whose records name a `labeller`, as the
 * studio's export does): the scorer against the person's labels, computed as the studio's agreement
 * table does (StudioAgreement: the ranking report of the human-labelled records, `scorerKappa` on
 * their margins and screen positions), and κ between each two labellers on the pairs both labelled
 * (Hybrid Preferences: human and model labels in one file). κ is null where it is undefined.
 */
export interface FileAgreement {
  /** Whose labels the scorer is compared with: "human" = every record whose labeller is not `model:…`. */
  readonly with: 'human';
  /** Records per labeller in the file ("(none)": records without one, counted as human). */
  readonly labellers: Readonly<Record<string, number>>;
  /** Human-labelled pairs the scorer scored (skipped pairs left out), and its accuracy on them with the Wilson 95% interval. */
  readonly n: number;
  readonly accuracy: number | null;
  readonly ties: number;
  readonly ci95: readonly [number, number];
  /** Cohen's κ between the scorer's pick (1, 2 or tie in screen positions) and the person's. */
  readonly kappa: number | null;
  readonly observed: number | null;
  readonly expected: number | null;
  readonly categories: readonly string[];
  readonly table: readonly (readonly number[])[];
  readonly between_labellers: readonly LabellerKappa[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * The agreement block for a scored file: `pairs` the file's records (in order), `scored` the scorer's
 * results with the index of the record each scored. Undefined when no record names a labeller.
 */
export function fileAgreement(
  pairs: readonly { readonly prompt: string; readonly chosen: string; readonly rejected: string; readonly extra: Readonly<Record<string, unknown>> }[],
  scored: readonly { readonly index?: number; readonly chosen: number; readonly rejected: number; readonly margin: number }[],
): FileAgreement | undefined {
  if (!pairs.some((p) => labellerOf(p.extra) !== undefined)) return undefined;
  const labellers: Record<string, number> = {};
  for (const p of pairs) {
    const l = labellerOf(p.extra) ?? '(none)';
    labellers[l] = (labellers[l] ?? 0) + 1;
  }
  const human = scored.filter((s) => s.index !== undefined && isHumanLabel(labellerOf((pairs[s.index] as (typeof pairs)[number]).extra)));
  const acc = rankingAccuracy(human);
  const k = scorerKappa(human.map((s) => ({ margin: s.margin, chosenShown: chosenShownOf((pairs[s.index as number] as (typeof pairs)[number]).extra) })));
  // Each labeller's pick per item (prompt + the two responses), in the orientation of the item's first record: '1' = the response it showed first.
  const first = new Map<string, string>();
  const picks = new Map<string, Map<string, '1' | '2'>>();
  for (const p of pairs) {
    const l = labellerOf(p.extra);
    if (l === undefined) continue;
    const item = JSON.stringify([p.prompt, [p.chosen, p.rejected].sort()]);
    if (!first.has(item)) first.set(item, chosenShownOf(p.extra) === 1 ? p.chosen : p.rejected);
    let m = picks.get(l);
    if (!m) picks.set(l, (m = new Map()));
    if (!m.has(item)) m.set(item, p.chosen === first.get(item) ? '1' : '2');
  }
  const names = [...picks.keys()].sort();
  const between: LabellerKappa[] = [];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [picks.get(names[i] as string) as Map<string, '1' | '2'>, picks.get(names[j] as string) as Map<string, '1' | '2'>];
      const shared = [...a.keys()].filter((x) => b.has(x));
      if (!shared.length) continue;
      const kk = cohensKappa(shared.map((x) => a.get(x) as string), shared.map((x) => b.get(x) as string));
      between.push({ a: names[i] as string, b: names[j] as string, n: kk.n, kappa: finite(kk.kappa), observed: finite(kk.observed), expected: finite(kk.expected) });
    }
  return {
    with: 'human',
    labellers,
    n: acc.n,
    accuracy: finite(acc.accuracy),
    ties: acc.ties,
    ci95: wilsonInterval(acc.accuracy, acc.n),
    kappa: finite(k.kappa),
    observed: finite(k.observed),
    expected: finite(k.expected),
    categories: k.categories,
    table: k.table,
    between_labellers: between,
  };
}
