/**
 * Set-diversity metrics (core/metrics/setDiversity.ts) on tiny token lists with hand-computed
 * values: BLEU-4 with NLTK's method1 smoothing and brevity penalty, self-BLEU, distinct-n.
 */
import { describe, expect, it } from 'vitest';
import { cosineDistance, distributionDistance, meanNextTokenDistributions, selfBleu, sentenceBleu, setDiversity, stripEos } from '../../src/core/metrics/setDiversity.ts';
import { softmax } from '../../src/core/math/logits.ts';
import { TableModel } from '../support/fakeModel.ts';

describe('sentence BLEU-4 (NLTK sentence_bleu, smoothing method1 ε = 0.1)', () => {
  it('identical sequences score 1, sequences with no common token 0', () => {
    expect(sentenceBleu([1, 2, 3, 4, 5], [[1, 2, 3, 4, 5]])).toBeCloseTo(1, 12);
    expect(sentenceBleu([1, 2, 3, 4], [[5, 6, 7, 8]])).toBe(0);
  });

  it('[1 2 3 4] against [1 2 3 5]: p = 3/4, 2/3, 1/2 and ε/1 for the 4-gram, BP 1', () => {
    expect(sentenceBleu([1, 2, 3, 4], [[1, 2, 3, 5]])).toBeCloseTo(Math.pow((3 / 4) * (2 / 3) * (1 / 2) * 0.1, 1 / 4), 12); // 0.3976
  });

  it('brevity penalty: [1 2 3] against [1 2 3 4 5 6] is exp(1 − 6/3)·(1·1·1·0.1)^¼; the long one against the short is not penalised', () => {
    expect(sentenceBleu([1, 2, 3], [[1, 2, 3, 4, 5, 6]])).toBeCloseTo(Math.exp(-1) * Math.pow(0.1, 1 / 4), 12); // 0.2069
    // 6 unigrams, 3 match; bigrams 2/5; trigrams 1/4; 4-grams 0/3 → 0.1/3
    expect(sentenceBleu([1, 2, 3, 4, 5, 6], [[1, 2, 3]])).toBeCloseTo(Math.pow(0.5 * 0.4 * 0.25 * (0.1 / 3), 1 / 4), 12); // 0.2020
  });

  it('counts are clipped by the largest count in one reference; the closest reference length sets BP', () => {
    // hyp [7 7 7 7]: unigram 7 appears twice in ref A, once in B → clipped 2/4; no bigram (7,7) in any ref → ε/3, ε/2, ε/1
    const v = sentenceBleu([7, 7, 7, 7], [[7, 1, 7, 2], [7, 3]]);
    expect(v).toBeCloseTo(Math.pow((2 / 4) * (0.1 / 3) * (0.1 / 2) * 0.1, 1 / 4), 12); // refs 4 and 2 long: r = 4, BP 1
    // the closer reference (length 3) sets r: BP = exp(1 − 3/2)
    expect(sentenceBleu([1, 2], [[1, 2, 9], [1, 2, 9, 9, 9, 9]])).toBeCloseTo(Math.exp(1 - 3 / 2) * Math.pow(1 * 1 * 0.1 * 0.1, 1 / 4), 12);
    // a tie in distance goes to the shorter reference: hyp of 3, refs of 2 and 4 → r = 2, BP 1
    expect(sentenceBleu([1, 2, 3], [[1, 2, 3, 4], [1, 2]])).toBeCloseTo(Math.pow(1 * 1 * 1 * 0.1, 1 / 4), 12);
  });
});

describe('self-BLEU and the set line', () => {
  it('self-BLEU averages each candidate against the others', () => {
    const a = [1, 2, 3];
    const b = [1, 2, 3, 4, 5, 6];
    const want = (Math.exp(-1) * Math.pow(0.1, 1 / 4) + Math.pow(0.5 * 0.4 * 0.25 * (0.1 / 3), 1 / 4)) / 2; // 0.2045
    expect(selfBleu([a, b])).toBeCloseTo(want, 12);
    expect(selfBleu([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])).toBeCloseTo(1, 12);
    expect(selfBleu([[1, 2], [3, 4], [5, 6]])).toBe(0);
    expect(selfBleu([[1, 2, 3]])).toBeNull();
  });

  it('distinct-1/2 over the set, after dropping each trailing EOS', () => {
    // without EOS: [5 6 7] [5 6 8]: unigrams 5 6 7 5 6 8 → 4 of 6; bigrams 56 67 56 68 → 3 of 4
    const d = setDiversity([[5, 6, 7, 0], [5, 6, 8]], [0]);
    expect(d.distinct_1).toBeCloseTo(4 / 6, 12);
    expect(d.distinct_2).toBeCloseTo(3 / 4, 12);
    expect(d.self_bleu).toBeCloseTo(Math.pow((2 / 3) * (1 / 2) * 0.1 * 0.1, 1 / 4), 12);
    expect(Object.keys(d)).toEqual(['self_bleu', 'distinct_1', 'distinct_2']);
    expect(stripEos([[1, 0], [0, 2], [0]], [0])).toEqual([[1], [0, 2], []]);
  });
});

describe('distribution distance (mean next-token distributions, 1 − cosine)', () => {
  // Next-token logits depend on the last token only.
  const table = [
    [2, 0, 0, 0],
    [0, 0, 1, 0.5],
    [1, 0, 0, 3],
    [3, 1, 0, 0],
  ];
  const p = (row: number) => Array.from(softmax(Float32Array.from(table[row]!)));
  const cos = (a: number[], b: number[]) => 1 - a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);

  it('p̄ of a candidate is the mean of the distributions its tokens were drawn from; the cache is freed', async () => {
    const m = new TableModel(table);
    const [a, b] = await meanNextTokenDistributions(m, [1], [[2, 0], [3]]);
    // [2, 0] after prompt [1]: predicted from row 1 (after 1) and row 2 (after 2); [3]: from row 1 only
    Array.from(a!).forEach((v, i) => expect(v).toBeCloseTo((p(1)[i]! + p(2)[i]!) / 2, 6));
    Array.from(b!).forEach((v, i) => expect(v).toBeCloseTo(p(1)[i]!, 6));
    expect(m.live.size).toBe(0);
  });

  it('is 0 for identical candidates, the hand-computed mean pairwise 1 − cos otherwise, null for fewer than two', async () => {
    expect(await distributionDistance(new TableModel(table), [1], [[2, 3], [2, 3]])).toBeCloseTo(0, 6);
    const mean = (x: number[], y: number[]) => x.map((v, i) => (v + y[i]!) / 2);
    const a = mean(p(1), p(2)); // [2, 3]
    const b = mean(p(1), p(3)); // [3, 0]
    const c = p(1); // [2]
    const want = (cos(a, b) + cos(a, c) + cos(b, c)) / 3;
    expect(await distributionDistance(new TableModel(table), [1], [[2, 3], [3, 0], [2]])).toBeCloseTo(want, 6);
    expect(want).toBeGreaterThan(0.01);
    expect(await distributionDistance(new TableModel(table), [1], [[2], []])).toBeNull();
    expect(cosineDistance([1, 0], [0, 1])).toBe(1);
  });
});
