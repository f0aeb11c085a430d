/** Cohen's κ (src/core/metrics/agreement.ts) on hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { cohensKappa, fileAgreement, scorerKappa, scorerLabel } from '../../src/core/metrics/agreement.ts';
import { wilsonInterval } from '../../src/core/metrics/ranking.ts';

const rep = (label: string, n: number) => Array.from({ length: n }, () => label);

describe("Cohen's κ", () => {
  it('is 1 for perfect agreement', () => {
    const a = ['1', '2', '2', '1', '2'];
    const k = cohensKappa(a, a);
    expect(k.observed).toBe(1);
    expect(k.kappa).toBe(1);
  });

  it('is 0 when agreement is what the marginals give by chance', () => {
    // A says yes on the first half, B says yes on every other item: p_o = 0.5, p_e = 0.5·0.5 + 0.5·0.5 = 0.5
    const a = ['y', 'y', 'y', 'y', 'n', 'n', 'n', 'n'];
    const b = ['y', 'n', 'y', 'n', 'y', 'n', 'y', 'n'];
    const k = cohensKappa(a, b);
    expect(k.observed).toBe(0.5);
    expect(k.expected).toBe(0.5);
    expect(k.kappa).toBe(0);
  });

  it('gives the textbook 2×2 value: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4', () => {
    // p_o = 35/50 = 0.7; A yes 25/50, B yes 30/50: p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4
    const a = [...rep('yes', 20), ...rep('yes', 5), ...rep('no', 10), ...rep('no', 15)];
    const b = [...rep('yes', 20), ...rep('no', 5), ...rep('yes', 10), ...rep('no', 15)];
    const k = cohensKappa(a, b);
    expect(k.n).toBe(50);
    expect(k.observed).toBeCloseTo(0.7, 12);
    expect(k.expected).toBeCloseTo(0.5, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
    expect(k.categories).toEqual(['no', 'yes']);
    expect(k.table).toEqual([
      [15, 10],
      [5, 20],
    ]);
  });

  it('is −1 for systematic disagreement on balanced labels, and NaN when both always say the same one thing', () => {
    expect(cohensKappa(['1', '2', '1', '2'], ['2', '1', '2', '1']).kappa).toBe(-1);
    expect(cohensKappa(['1', '1'], ['1', '1']).kappa).toBeNaN();
    expect(cohensKappa([], []).kappa).toBeNaN();
    expect(() => cohensKappa(['1'], [])).toThrow(/one label from each labeller/);
  });

  it('is symmetric in the two labellers (property, 200 random tables)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rnd() * 30);
      const a = Array.from({ length: n }, () => ['1', '2', 'tie'][Math.floor(rnd() * 3)] as string);
      const b = Array.from({ length: n }, () => ['1', '2', 'tie'][Math.floor(rnd() * 3)] as string);
      const x = cohensKappa(a, b).kappa;
      const y = cohensKappa(b, a).kappa;
      if (Number.isNaN(x)) expect(y).toBeNaN();
      else expect(y).toBeCloseTo(x, 12);
    }
  });
});

describe('scorer labels in screen positions', () => {
  it('map a margin and the chosen response’s position to 1, 2 or tie', () => {
    expect(scorerLabel(0.3, 1)).toBe('1');
    expect(scorerLabel(0.3, 2)).toBe('2');
    expect(scorerLabel(-0.3, 1)).toBe('2');
    expect(scorerLabel(-0.3, 2)).toBe('1');
    expect(scorerLabel(0, 2)).toBe('tie');
  });

  it('κ of a scorer that always agrees is 1; one that prefers whatever is shown first is 0 on balanced data', () => {
    const pairs = [
      { margin: 1, chosenShown: 1 as const },
      { margin: 2, chosenShown: 2 as const },
      { margin: 0.5, chosenShown: 1 as const },
      { margin: 3, chosenShown: 2 as const },
    ];
    expect(scorerKappa(pairs).kappa).toBe(1);
    // "always 1": margin > 0 when the chosen was shown first, < 0 otherwise
    const first = pairs.map((p) => ({ ...p, margin: p.chosenShown === 1 ? 1 : -1 }));
    expect(scorerKappa(first).kappa).toBe(0);
  });
});

describe("rank's agreement block (fileAgreement, hand-computed)", () => {
  const rec = (prompt: string, chosen: string, rejected: string, labeller?: string, chosenShown?: 1 | 2) => ({
    prompt,
    chosen,
    rejected,
    extra: { ...(labeller ? { labeller } : {}), ...(chosenShown ? { studio: { chosen_shown: chosenShown } } : {}) },
  });
  const file = [
    rec('P', 'A', 'B', 'human:ann', 1),
    rec('P', 'C', 'A', 'human:ann', 2),
    rec('Q', 'X', 'Y', 'human:ann'),
    rec('P', 'A', 'B', 'model:rm'),
    rec('P', 'A', 'C', 'model:rm'),
    rec('Q', 'Y', 'X', 'model:rm'),
    rec('R', 'M', 'N', 'human:bob'), // not scored (say, too long): not in n
  ];
  const scored = [
    { index: 0, chosen: 1, rejected: 0, margin: 1 },
    { index: 1, chosen: 0, rejected: 2, margin: -2 },
    { index: 2, chosen: 3, rejected: 3, margin: 0 },
    { index: 3, chosen: 1, rejected: 0, margin: 1 },
    { index: 4, chosen: 0, rejected: 2, margin: -2 },
    { index: 5, chosen: 2, rejected: 0, margin: 2 },
  ];

  it('compares the scorer with the human records only, in screen positions, as the studio table does', () => {
    const a = fileAgreement(file, scored) as NonNullable<ReturnType<typeof fileAgreement>>;
    expect(a.labellers).toEqual({ 'human:ann': 3, 'model:rm': 3, 'human:bob': 1 });
    // person [1, 2, 1], scorer [1 (margin > 0, chosen shown 1), 1 (margin < 0, chosen shown 2), tie]
    expect(a.n).toBe(3);
    expect(a.ties).toBe(1);
    expect(a.accuracy).toBeCloseTo(0.5, 15); // (1 + ½) / 3
    expect(a.observed).toBeCloseTo(1 / 3, 15);
    expect(a.expected).toBeCloseTo(4 / 9, 15); // ⅔·⅔ on "1"
    expect(a.kappa).toBeCloseTo(-0.2, 15); // (1/3 − 4/9) / (1 − 4/9)
    expect(a.kappa).toBe(scorerKappa([{ margin: 1, chosenShown: 1 }, { margin: -2, chosenShown: 2 }, { margin: 0, chosenShown: 1 }]).kappa);
    expect(a.ci95).toEqual(wilsonInterval(0.5, 3));
  });

  it('gives κ between labellers on the pairs both labelled (items oriented by their first record)', () => {
    const a = fileAgreement(file, scored) as NonNullable<ReturnType<typeof fileAgreement>>;
    // ann [1, 2, 1], rm [1, 1, 2] on P{A,B}, P{A,C}, Q{X,Y}; human:bob shares nothing
    expect(a.between_labellers).toHaveLength(1);
    const b = a.between_labellers[0];
    expect([b?.a, b?.b, b?.n]).toEqual(['human:ann', 'model:rm', 3]);
    expect(b?.observed).toBeCloseTo(1 / 3, 15);
    expect(b?.expected).toBeCloseTo(5 / 9, 15); // ⅔·⅔ + ⅓·⅓
    expect(b?.kappa).toBeCloseTo(-0.5, 15);
  });

  it('is absent for a file without labellers; records without one count as human; undefined κ is null', () => {
    expect(fileAgreement([rec('P', 'A', 'B')], [{ index: 0, chosen: 1, rejected: 0, margin: 1 }])).toBeUndefined();
    const a = fileAgreement([rec('P', 'A', 'B', 'human:x'), rec('Q', 'C', 'D')], [{ index: 0, chosen: 1, rejected: 0, margin: 1 }, { index: 1, chosen: 2, rejected: 0, margin: 2 }]);
    expect(a?.labellers).toEqual({ 'human:x': 1, '(none)': 1 });
    expect(a?.n).toBe(2);
    expect(a?.kappa).toBeNull(); // both always pick "1": p_e = 1
    expect(JSON.parse(JSON.stringify(a)).kappa).toBeNull();
  });
});
