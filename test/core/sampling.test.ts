/**
 * The sampler chain on hand-computed 4- and 5-token distributions (in the spirit of llama.cpp's
 * tests/test-sampling.cpp), plus properties of the RNG and the chain on random rows.
 */
import { describe, expect, it } from 'vitest';
import { buildChain, chainFromHf, sampleFromScores } from '../../src/core/sampling/chain.ts';
import { minP } from '../../src/core/sampling/minP.ts';
import { noRepeatNgram } from '../../src/core/sampling/noRepeatNgram.ts';
import { repetitionPenalty } from '../../src/core/sampling/repetitionPenalty.ts';
import { Rng } from '../../src/core/sampling/rng.ts';
import { temperature } from '../../src/core/sampling/temperature.ts';
import { topK } from '../../src/core/sampling/topK.ts';
import { topP } from '../../src/core/sampling/topP.ts';
import { softmax } from '../../src/core/math/logits.ts';

const ctx = { history: [] as number[], generated: 0 };
const logs = (ps: number[]) => Float32Array.from(ps, (p) => Math.log(p));
const probsAfter = (f: { apply(s: Float32Array, c: typeof ctx): void }, ps: number[], c = ctx) => {
  const s = logs(ps);
  f.apply(s, c);
  return Array.from(softmax(s), (v) => Math.round(v * 1e6) / 1e6);
};

describe('filters on hand-computed distributions', () => {
  it('top_k keeps the k most likely tokens, renormalised', () => {
    expect(probsAfter(topK(1), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 0, 0, 1]);
    expect(probsAfter(topK(3), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 2 / 9, 3 / 9, 4 / 9].map((v) => Math.round(v * 1e6) / 1e6));
    expect(probsAfter(topK(0), [0.1, 0.2, 0.3, 0.4])).toEqual([0.1, 0.2, 0.3, 0.4]);
  });
  it('top_k keeps ties with the k-th score', () => {
    expect(probsAfter(topK(2), [0.1, 0.3, 0.3, 0.3])).toEqual([0, 1 / 3, 1 / 3, 1 / 3].map((v) => Math.round(v * 1e6) / 1e6));
  });
  it('top_p removes the tail whose cumulative mass is <= 1 - p', () => {
    // ascending 0.1, 0.2, 0.3, 0.4 -> cumulative 0.1, 0.3, 0.6, 1.0
    expect(probsAfter(topP(0.7), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 0, 3 / 7, 4 / 7].map((v) => Math.round(v * 1e6) / 1e6));
    expect(probsAfter(topP(0.75), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 2 / 9, 3 / 9, 4 / 9].map((v) => Math.round(v * 1e6) / 1e6));
    expect(probsAfter(topP(0.05), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 0, 0, 1]); // the top token always stays
    expect(probsAfter(topP(1), [0.1, 0.2, 0.3, 0.4])).toEqual([0.1, 0.2, 0.3, 0.4]);
  });
  it('min_p removes tokens below p × the top probability', () => {
    // threshold 0.45 * 0.4 = 0.18: 0.1 goes, 0.2 stays
    expect(probsAfter(minP(0.45), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 2 / 9, 3 / 9, 4 / 9].map((v) => Math.round(v * 1e6) / 1e6));
    expect(probsAfter(minP(0.76), [0.1, 0.2, 0.3, 0.4])).toEqual([0, 0, 0, 1]);
  });
  it('temperature T divides the scores (T = 0.5 squares probabilities before renormalising)', () => {
    const z = 0.01 + 0.04 + 0.09 + 0.16;
    expect(probsAfter(temperature(0.5), [0.1, 0.2, 0.3, 0.4])).toEqual([0.01 / z, 0.04 / z, 0.09 / z, 0.16 / z].map((v) => Math.round(v * 1e6) / 1e6));
  });
  it('repetition_penalty multiplies negative and divides positive scores of seen tokens', () => {
    const s = Float32Array.from([2, -2, 2, -2]);
    repetitionPenalty(2).apply(s, { history: [0, 1, 1], generated: 0 });
    expect(Array.from(s)).toEqual([1, -4, 2, -2]);
  });
  it('no_repeat_ngram bans tokens that would repeat an n-gram of the history', () => {
    const s = Float32Array.from([0, 0, 0, 0, 0]);
    // history 1 2 3 1 2 -> the bigram (2, 3) would repeat after 2; trigram (1,2,3) too
    noRepeatNgram(2).apply(s, { history: [1, 2, 3, 1, 2], generated: 0 });
    expect(Array.from(s)).toEqual([0, 0, 0, -Infinity, 0]);
    const t = Float32Array.from([0, 0, 0, 0, 0]);
    noRepeatNgram(3).apply(t, { history: [1, 2, 3, 1, 2], generated: 0 });
    expect(Array.from(t)).toEqual([0, 0, 0, -Infinity, 0]);
    const u = Float32Array.from([0, 0, 0, 0, 0]);
    noRepeatNgram(3).apply(u, { history: [1, 2, 3, 2, 1], generated: 0 });
    expect(Array.from(u)).toEqual([0, 0, 0, 0, 0]);
  });
  it('reject out-of-range parameters with the Hugging Face name', () => {
    expect(() => topP(0)).toThrow(/top_p must be in \(0, 1\]/);
    expect(() => topP(1.5)).toThrow(/top_p/);
    expect(() => temperature(-1)).toThrow(/temperature must be/);
    expect(() => topK(-1)).toThrow(/top_k/);
    expect(() => minP(2)).toThrow(/min_p/);
    expect(() => repetitionPenalty(0)).toThrow(/repetition_penalty/);
    expect(() => noRepeatNgram(1.5)).toThrow(/no_repeat_ngram_size/);
  });
});

describe('chain', () => {
  it('applies filters in order and never mutates its input', () => {
    const input = logs([0.1, 0.2, 0.3, 0.4]);
    const copy = Float32Array.from(input);
    const chain = buildChain([{ type: 'top_k', k: 3 }, { type: 'top_p', p: 0.5 }, { type: 'greedy' }]);
    const out = Array.from(softmax(chain.filter(input, ctx)), (v) => Math.round(v * 1e6) / 1e6);
    // top_k 3 -> 2/9, 3/9, 4/9; cumulative 2/9, 5/9, 1 -> top_p 0.5 removes 2/9 only (5/9 > 0.5)
    expect(out).toEqual([0, 0, 3 / 7, 4 / 7].map((v) => Math.round(v * 1e6) / 1e6));
    expect(input).toEqual(copy);
    expect(chain.sample(input, ctx)).toBe(3);
  });
  it('falls back to the unfiltered row when every token is masked', () => {
    const chain = buildChain([{ type: 'no_repeat_ngram', size: 1 }, { type: 'greedy' }]);
    expect(chain.sample(Float32Array.from([0, 1]), { history: [0, 1], generated: 0 })).toBe(1);
  });
  it('requires exactly one selector, last', () => {
    expect(() => buildChain([{ type: 'top_k', k: 2 }])).toThrow(/must end with a selector/);
    expect(() => buildChain([{ type: 'greedy' }, { type: 'dist' }])).toThrow(/only be the last/);
  });
  it('mirrors Hugging Face option semantics', () => {
    expect(chainFromHf({})).toEqual([{ type: 'greedy' }]);
    expect(chainFromHf({ do_sample: true })).toEqual([{ type: 'top_k', k: 50 }, { type: 'dist' }]);
    expect(chainFromHf({ do_sample: true, temperature: 0.7, top_k: 0, top_p: 0.9, min_p: 0.05, repetition_penalty: 1.2, no_repeat_ngram_size: 3 })).toEqual([
      { type: 'repetition_penalty', penalty: 1.2 },
      { type: 'no_repeat_ngram', size: 3 },
      { type: 'temperature', temperature: 0.7 },
      { type: 'top_p', p: 0.9 },
      { type: 'min_p', p: 0.05 },
      { type: 'dist' },
    ]);
  });
});

describe('seeded RNG and sampling', () => {
  it('gives the same fixed draws for a seed on every platform', () => {
    const r = new Rng(42);
    const draws = [r.nextUint32(), r.nextUint32(), r.nextUint32()];
    const again = new Rng(42);
    expect([again.nextUint32(), again.nextUint32(), again.nextUint32()]).toEqual(draws);
    expect(draws).toMatchInlineSnapshot(`
      [
        2837322924,
        544945897,
        479756282,
      ]
    `);
    expect(new Rng(43).nextUint32()).not.toBe(draws[0]);
  });
  it('forks independent, reproducible streams', () => {
    const a = new Rng(7).fork(1);
    const b = new Rng(7).fork(1);
    const c = new Rng(7).fork(2);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });
  it('uniform draws lie in [0, 1) with mean ~0.5', () => {
    const r = new Rng(1);
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(s / 20000).toBeCloseTo(0.5, 1);
  });
  it('samples tokens with their probabilities (chi-square on 4 tokens)', () => {
    const r = new Rng(3);
    const p = [0.1, 0.2, 0.3, 0.4];
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) (counts[sampleFromScores(logs(p), r)] as number)++;
    const chi2 = counts.reduce((acc, c, i) => acc + (c - n * (p[i] as number)) ** 2 / (n * (p[i] as number)), 0);
    expect(chi2).toBeLessThan(16.27); // p = 0.001 for 3 degrees of freedom
  });
  it('never samples a filtered token, and every filtered row is a distribution', () => {
    const r = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const row = Float32Array.from({ length: 30 }, () => (r.uniform() - 0.5) * 10);
      const chain = buildChain([{ type: 'top_k', k: 1 + (trial % 10) }, { type: 'top_p', p: 0.3 + 0.7 * r.uniform() }, { type: 'min_p', p: 0.1 * r.uniform() }, { type: 'dist' }]);
      const f = chain.filter(row, ctx);
      const p = softmax(f);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (let k = 0; k < 5; k++) expect(f[chain.sample(row, ctx, r)]).toBeGreaterThan(-Infinity);
    }
  });
});

import { minNewTokens } from '../../src/core/sampling/minNewTokens.ts';
describe('min_new_tokens', () => {
  it('bans EOS until n tokens are generated', () => {
    const s = Float32Array.from([0, 1, 2]);
    minNewTokens(2, [0]).apply(s, { history: [5], generated: 1 });
    expect(Array.from(s)).toEqual([-Infinity, 1, 2]);
    const t = Float32Array.from([0, 1, 2]);
    minNewTokens(2, [0]).apply(t, { history: [5], generated: 2 });
    expect(Array.from(t)).toEqual([0, 1, 2]);
    expect(() => minNewTokens(-1, [0])).toThrow(/min_new_tokens/);
  });
});

describe('describeChain', () => {
  it('labels each link in Hugging Face order', async () => {
    const { chainFromHf, describeChain } = await import('../../src/core/sampling/chain.ts');
    expect(describeChain(chainFromHf({ do_sample: true, temperature: 0.7, top_p: 0.9, repetition_penalty: 1.2 }))).toEqual([
      'repetition_penalty 1.2', 'temperature 0.7', 'top_k 50', 'top_p 0.9', 'sample',
    ]);
    expect(describeChain(chainFromHf({}))).toEqual(['argmax']);
  });
});
