import { describe, expect, it } from 'vitest';
import { scaleSignal, signalValue } from '../../src/core/viz/signals.ts';
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
});
