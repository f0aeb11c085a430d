import { describe, expect, it } from 'vitest';
import { meanStats, sequenceStats } from '../../src/core/metrics/sequenceStats.ts';
import type { SequenceResult } from '../../src/core/search/events.ts';

const seq: SequenceResult = {
  tokenIds: [5, 6, 5, 6],
  score: 0,
  finishReason: 'length',
  group: 0,
  steps: [
    { tokenId: 5, logprob: -1, combinedLogprob: -0.5, rewards: {} },
    { tokenId: 6, logprob: -2, combinedLogprob: -1, rewards: {} },
    { tokenId: 5, logprob: -1, combinedLogprob: -1, rewards: {} },
    { tokenId: 6, logprob: -0.5, combinedLogprob: -0.25, rewards: {} },
  ],
};

describe('sequence statistics', () => {
  it('sums base log-probs, the KL estimate, and reads the oracle from the text', () => {
    const s = sequenceStats(seq, ' good good bad');
    expect(s.baseLogprob).toBe(-4.5);
    expect(s.klEstimate).toBe(1.75);
    expect(s.positivity).toBe(3 + 3 - 3);
    expect(s.conciseness).toBe(-0.75);
    expect(s.tokens).toBe(4);
    expect(s.distinct2).toBe(2 / 3);
  });
  it('averages statistics', () => {
    const a = sequenceStats(seq, 'good');
    const b = sequenceStats(seq, 'bad');
    expect(meanStats([a, b]).positivity).toBe(0);
    expect(meanStats([]).positivity).toBeNaN();
  });
});
