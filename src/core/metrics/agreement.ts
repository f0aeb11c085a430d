/**
 * Agreement between two labellers of the same items (the studio: a person and a scorer).
 *
 * Cohen's κ = (p_o − p_e) / (1 − p_e), with p_o the share of items both give the same label and
 * p_e = Σ_c p_A(c)·p_B(c) the agreement two independent labellers with these marginals would reach
 * by chance (Cohen 1960). The categories are the union of both labellers' labels, so a scorer's tie
 * (equal scores) is a third category the person never used: it lowers p_o and counts as a
 * disagreement. κ is undefined (NaN) when p_e = 1 (both labellers always give the same one label).
 */

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
