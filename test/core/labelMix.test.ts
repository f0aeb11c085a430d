import { describe, expect, it } from 'vitest';
import { isLabelMix, mixLogits, parseLabelMix } from '../../src/core/reward/labelMix.ts';

const L = ['helpfulness', 'correctness', 'verbosity'];

describe('parseLabelMix', () => {
  it('reads names (exact or any case), indices, bare labels (weight 1) and any finite weight', () => {
    expect(parseLabelMix('helpfulness=1,correctness=0.5', L)).toEqual({ terms: [{ index: 0, weight: 1 }, { index: 1, weight: 0.5 }], name: 'helpfulness=1,correctness=0.5' });
    expect(parseLabelMix(' Verbosity = -2 , 0=1e-1', L).terms).toEqual([{ index: 2, weight: -2 }, { index: 0, weight: 0.1 }]);
    expect(parseLabelMix('correctness,2', L).terms).toEqual([{ index: 1, weight: 1 }, { index: 2, weight: 1 }]);
    expect(parseLabelMix('helpfulness=0', L).terms).toEqual([{ index: 0, weight: 0 }]);
  });
  it('refuses unknown labels, bad weights, repeats and empty terms in one line naming the labels', () => {
    expect(() => parseLabelMix('helpfulness=1,coherence=1', L)).toThrow(/^"coherence=1": no label "coherence"; the model's labels are 0: helpfulness, 1: correctness, 2: verbosity$/);
    expect(() => parseLabelMix('3=1', L)).toThrow(/no label "3"/);
    for (const w of ['x', 'Infinity', 'NaN', '', '1e999']) expect(() => parseLabelMix(`verbosity=${w}`, L)).toThrow(/is not a finite number/);
    expect(() => parseLabelMix('verbosity=1,2=3', L)).toThrow(/verbosity is given twice/);
    expect(() => parseLabelMix('verbosity=1,', L)).toThrow(/an empty term/);
    for (const s of ['helpfulness=1,coherence=1', 'x=y', ',']) expect(() => parseLabelMix(s, L)).not.toThrow(/\n/);
  });
  it('isLabelMix tells a mix from the old forms (a label, an index, A-B)', () => {
    expect(['a=1', 'a,b', 'a=1,b=2'].map(isLabelMix)).toEqual([true, true, true]);
    expect(['POSITIVE', '1', 'POSITIVE-NEGATIVE', '1-0'].map(isLabelMix)).toEqual([false, false, false, false]);
  });
});

describe('mixLogits', () => {
  it('is Σ weight·logit per row (hand-computed)', () => {
    // rows × 3: [1, 2, 3], [-1, 0.5, 4]
    const data = Float32Array.from([1, 2, 3, -1, 0.5, 4]);
    expect(Array.from(mixLogits(data, 3, { terms: [{ index: 0, weight: 1 }, { index: 1, weight: 0.5 }] }))).toEqual([2, -0.75]);
    expect(Array.from(mixLogits(data, 3, { terms: [{ index: 2, weight: 1 }, { index: 0, weight: -1 }] }))).toEqual([2, 5]);
    expect(Array.from(mixLogits(data, 3, { terms: [{ index: 1, weight: 2 }] }))).toEqual([4, 1]);
  });
  it('a single term of weight 1 (others 0) is that head exactly', () => {
    const data = Float32Array.from([0.1234567, 7.654321, -3.3333333, 1e-7]);
    expect(mixLogits(data, 2, { terms: [{ index: 0, weight: 1 }, { index: 1, weight: 0 }] })).toEqual(Float32Array.from([data[0]!, data[2]!]));
  });
  it('refuses an index beyond the outputs and ragged data', () => {
    expect(() => mixLogits([1, 2], 2, { terms: [{ index: 2, weight: 1 }] })).toThrow(/beyond the model's 2 outputs/);
    expect(() => mixLogits([1, 2, 3], 2, { terms: [{ index: 0, weight: 1 }] })).toThrow(/not rows of 2/);
  });
});
