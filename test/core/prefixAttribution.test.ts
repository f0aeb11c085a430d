/**
 * Token attribution for sequence reward models (issue 14 item 2): a_t = RM(x ⊕ y≤t) − RM(x ⊕ y<t),
 * scored in bounded batches (one RM call per batch); the values telescope to RM(full) − RM(prompt).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prefixAttribution } from '../../src/core/metrics/prefixAttribution.ts';
import type { SequenceRewardModel } from '../../src/core/model/types.ts';

/** A fake RM: f(ids) (float32, as real ones return), recording each call's batch. */
const fakeRm = (f: (ids: readonly number[]) => number, contextLength = 64) => {
  const calls: number[][][] = [];
  const rm: SequenceRewardModel = {
    id: 'fake',
    vocabSize: 50,
    contextLength,
    score: async (b) => {
      calls.push(b.map((r) => [...r]));
      return Float32Array.from(b, f);
    },
    dispose: async () => {},
  };
  return { rm, calls };
};

describe('prefix attribution of a sequence reward model', () => {
  it('hand-computed: RM = Σ token values of the whole prefix → each token gets its own value', async () => {
    const val = [0, 0.5, -2, 3, 1.25];
    const { rm, calls } = fakeRm((ids) => ids.reduce((s, t) => s + (val[t] as number), 0));
    const a = await prefixAttribution(rm, [1, 1], [2, 3, 4]);
    expect(a.prefixRewards).toEqual([1, -1, 2, 3.25]);
    expect(a.values).toEqual([-2, 3, 1.25]);
    expect(calls).toEqual([[[1, 1], [1, 1, 2], [1, 1, 2, 3], [1, 1, 2, 3, 4]]]);
  });

  it('telescopes exactly: Σ a_t = RM(full) − RM(prompt), batches of at most batchSize, one call each (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 49 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 49 }), { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 1000 }),
        async (prompt, response, batchSize, seed) => {
          const { rm, calls } = fakeRm((ids) => Math.sin(ids.reduce((h, t, i) => h * 1.37 + (t + 1) * (i + seed), 0.5)) * 7);
          const a = await prefixAttribution(rm, prompt, response, { batchSize });
          const full = (await rm.score([[...prompt, ...response]]))[0] as number;
          const base = (await rm.score([prompt]))[0] as number;
          expect(a.values).toHaveLength(response.length);
          expect(a.values.reduce((s, x) => s + x, 0)).toBe(full - base);
          const scoring = calls.slice(0, -2);
          expect(scoring).toHaveLength(Math.ceil((response.length + 1) / batchSize));
          for (const b of scoring) expect(b.length).toBeLessThanOrEqual(batchSize);
          expect(scoring.flat().map((r) => r.length)).toEqual(Array.from({ length: response.length + 1 }, (_, t) => prompt.length + t));
        },
      ),
      { numRuns: 200, seed: 14 },
    );
  });

  it('cuts long prefixes from the left to the context; refuses a bad batch size', async () => {
    const { rm, calls } = fakeRm((ids) => ids.length, 3);
    const a = await prefixAttribution(rm, [1, 2], [3, 4]);
    expect(calls[0]).toEqual([[1, 2], [1, 2, 3], [2, 3, 4]]);
    expect(a.values).toEqual([1, 0]);
    await expect(prefixAttribution(rm, [1], [2], { batchSize: 0 })).rejects.toThrow(/batchSize must be an integer >= 1/);
  });
});
