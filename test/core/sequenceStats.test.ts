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
  it('sums the per-step exact KL of sampled steps', () => {
    const sampled: SequenceResult = { ...seq, steps: seq.steps.map((t, i) => ({ ...t, kl: [0.5, 0.25, 0, 1][i] as number })) };
    const s = sequenceStats(sampled, '', { strategy: 'sample' });
    expect(s.kl).toBe(1.75);
    expect(s.klKind).toBe('exact');
  });
  it('sums base log-probs and reads the oracle from the text; greedy has no KL (n/a)', () => {
    const s = sequenceStats(seq, ' good good bad', { strategy: 'greedy' });
    expect(s.baseLogprob).toBe(-4.5);
    // old: Σ combined − base = 1.75 was reported as a "KL estimate" for any strategy
    expect(s.kl).toBeNull();
    expect(s.klKind).toBe('na');
    expect(s.klNote).toBe('n/a: greedy decoding is deterministic, so it has no sampling distribution to compare with the base.');
    expect(s.positivity).toBe(3 + 3 - 3);
    expect(s.conciseness).toBe(-0.75);
    expect(s.tokens).toBe(4);
    expect(s.distinct2).toBe(2 / 3);
  });
  it('averages statistics', () => {
    const a = sequenceStats(seq, 'good', { strategy: 'greedy' });
    const b = sequenceStats(seq, 'bad', { strategy: 'greedy' });
    expect(meanStats([a, b]).positivity).toBe(0);
    expect(meanStats([]).positivity).toBeNaN();
  });
});
