import { describe, expect, it } from 'vitest';
import { oracleContributions, scaleSignal, signalValue } from '../../src/core/viz/signals.ts';
import { positivity } from '../../src/core/reward/oracle.ts';
import type { RowStep } from '../../src/core/search/events.ts';

const step = (logprob: number, combined: number, rewards: Record<string, number> = {}): RowStep => ({
  row: 0, parent: 0, group: 0, tokenId: 1, logprob, combinedLogprob: combined, rewards, score: 0, top: [],
});

describe('token signals', () => {
  it('computes each signal from a step', () => {
    expect(signalValue(step(-2, -0.5), 'shift')).toBe(1.5);
    expect(signalValue(step(-2, -0.5, { 'arm:a': -0.3 }), 'reward')).toBe(-0.3);
    expect(signalValue(step(-2, -0.5), 'reward')).toBeNaN();
    expect(signalValue(step(-2, -0.5), 'logprob')).toBe(-2);
  });
  it('scales signed signals by the largest magnitude and ranges to [-1, 1]', () => {
    expect(scaleSignal([1.5, -0.5, 0, NaN], 'shift')).toEqual([1, -1 / 3, 0, NaN]);
    expect(scaleSignal([-4, -2, 0], 'logprob')).toEqual([-1, 0, 1]);
    expect(scaleSignal([-1, -1], 'logprob')).toEqual([0, 0]);
    expect(scaleSignal([NaN], 'reward')).toEqual([NaN]);
  });

  it('credits oracle positivity to the token that completes a word, and sums to what the tokens added', () => {
    // AFINN: good +3, great +3, bad -3. "gre"+"at" completes "great" on the second token.
    const texts = [' good', ' gre', 'at', ' day', ' not', ' bad'];
    const c = oracleContributions('It was', texts);
    expect(c).toEqual([3, 0, 3, 0, 0, -3]);
    expect(c.reduce((a, b) => a + b, 0)).toBe(positivity('It was' + texts.join('')) - positivity('It was'));
    // A word that spans the prompt boundary: "goo" + "d" completes "good".
    expect(oracleContributions('so goo', ['d'])).toEqual([3]);
  });
});
