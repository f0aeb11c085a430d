/**
 * The worker's `attribute` request on fake models (hand-computed): with a reward model whose score is
 * the sum of a row's ids times 0.5, a_t = 0.5·y_t exactly and the prefix rewards are the running sums;
 * a reward model with another tokenizer that cannot re-tokenize (no forRun) is refused before scoring.
 */
import { describe, expect, it } from 'vitest';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { AttributeRun, Response } from '../../src/inference/protocol.ts';
import type { SequenceRewardModel } from '../../src/core/model/types.ts';
import { TableModel, letterTokenizer } from '../support/fakeModel.ts';

function setup(rm: SequenceRewardModel & { tokenizer?: unknown }) {
  const out: Response[] = [];
  const calls: number[] = [];
  const scored: SequenceRewardModel = { ...rm, score: async (b) => (calls.push(b.length), rm.score(b)) };
  const backend: Backend = {
    selectDevice: async () => ({ device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false }),
    loadLanguageModel: async () => ({ model: new TableModel([[0, 0, 0, 0, 0]]), tokenizer: letterTokenizer(5) }),
    loadSequenceRewardModel: async () => scored,
    fetch: async () => {
      throw new Error('no network');
    },
  };
  const handler = new Handler(backend, (r) => out.push(r));
  const ask = async (run: AttributeRun) => {
    await handler.handle({ id: 1, type: 'attribute', run });
    return out.pop();
  };
  return { ask, calls };
}

const sumRm = (vocabSize: number, tokenizer?: unknown) => ({
  id: 'sum', vocabSize, contextLength: 64, ...(tokenizer ? { tokenizer } : {}),
  score: async (b: readonly (readonly number[])[]) => Float32Array.from(b, (r) => 0.5 * r.reduce((s, x) => s + x, 0)),
  dispose: async () => {},
});

describe('attribute request (fake models)', () => {
  it('gives a_t = RM(x ⊕ y≤t) − RM(x ⊕ y<t), batched by batchSize', async () => {
    const { ask, calls } = setup(sumRm(5));
    const r = await ask({ policy: 'p', prompt: 'ab', responseIds: [3, 1, 4, 4], rewardModel: 'sum', batchSize: 2 });
    expect(r).toEqual({
      id: 1,
      type: 'result',
      value: { rewardModel: 'sum', values: [1.5, 0.5, 2, 2], prefixRewards: [1.5, 3, 3.5, 5.5, 7.5], total: 6, texts: ['c', 'a', 'd', 'd'], retokenized: false, truncated: false },
    });
    expect(calls).toEqual([2, 2, 1]); // 5 prefixes, at most 2 per call
  });

  it('refuses a reward model with another tokenizer it cannot re-tokenize, naming both models', async () => {
    const { ask, calls } = setup(sumRm(9, letterTokenizer(9)));
    const r = await ask({ policy: 'p', promptIds: [1, 2], responseIds: [3], rewardModel: 'sum' });
    expect(r).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/^sum \(reward model\) has a different tokenizer from the policy p \(vocabulary 9 vs 5\)/) } });
    expect(calls).toEqual([]);
  });
});
