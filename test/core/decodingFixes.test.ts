/**
 * Issue 12, decoding side: β names (item 2), sampling defaults under guidance (item 7), and the
 * smaller items of 10 (padded vocabularies under GenARM, ARGS's reward without EOS, RSO's order).
 * Each test here fails on the code before the change (noted per test).
 */
import { describe, expect, it } from 'vitest';
import { chainOf, decode, guidanceBetas, type StrategyModels, type StrategySpec } from '../../src/core/search/strategy.ts';
import { ModelSource, implicitGuidance } from '../../src/core/search/modelSource.ts';
import { done } from '../support/done.ts';
import type { SequenceRewardModel } from '../../src/core/model/types.ts';
import { TableModel } from '../support/fakeModel.ts';
import { repetitionPenalty } from '../../src/core/sampling/repetitionPenalty.ts';
import { logSoftmax } from '../../src/core/math/logits.ts';

const L = Math.log;
const rows = (p: number[], n = p.length) => Array.from({ length: n }, () => p.map(L));

describe('β: DPO reward scale vs guidance strength (item 2)', () => {
  const base = new TableModel(rows([0.1, 0.3, 0.6]), [0], 'base');
  const tuned = new TableModel(rows([0.1, 0.6, 0.3]), [0], 'tuned');

  it('old: the reported implicit token reward is β·(ℓ_tuned − ℓ_ref) (was β-free)', async () => {
    const src = new ModelSource(base, implicitGuidance(tuned, base, 0.1, 0.1));
    const [d] = await src.start([1], 1);
    expect(d!.rewards.get('implicit:tuned')![1]).toBeCloseTo(0.1 * L(0.6 / 0.3), 6);
    src.dispose();
    const spec: StrategySpec = { strategy: 'implicit', config: { max_new_tokens: 1 } };
    const [s] = await done(decode(spec, { policy: base, tuned, ref: base, tunedBeta: 0.1 }, [1]));
    expect(s!.steps[0]!.rewards['implicit:tuned']).toBeCloseTo(0.1 * L(0.6 / 0.3), 6);
  });

  it('defaults: implicit guidance_beta = β, so s = ℓ_base + ℓ_tuned − ℓ_ref whatever β; GenARM guidance_beta 1', () => {
    expect(guidanceBetas({}, { tunedBeta: 0.1 })).toEqual({ guidanceBeta: 0.1, rewardBeta: 0.1, deprecatedBeta: false });
    expect(guidanceBetas({}, {})).toEqual({ guidanceBeta: 1, rewardBeta: 1, deprecatedBeta: false });
    expect(guidanceBetas({}, { arms: [base] })).toMatchObject({ guidanceBeta: 1 });
    expect(guidanceBetas({ beta: 0.5, guidanceBeta: 2 }, { tunedBeta: 0.1 })).toEqual({ guidanceBeta: 2, rewardBeta: 0.5, deprecatedBeta: false });
  });

  it('the old field beta alone keeps its old meaning (guidance strength, reward scale 1): same combined scores', async () => {
    expect(guidanceBetas({ beta: 0.5 }, { tunedBeta: 0.1 })).toEqual({ guidanceBeta: 0.5, rewardBeta: 1, deprecatedBeta: true });
    const old = await done(decode({ strategy: 'implicit', config: { max_new_tokens: 3 }, beta: 0.5 }, { policy: base, tuned, ref: base, tunedBeta: 0.1 }, [1]));
    const now = await done(decode({ strategy: 'implicit', config: { max_new_tokens: 3 }, guidanceBeta: 0.05, beta: 0.1 }, { policy: base, tuned, ref: base }, [1]));
    expect(now[0]!.tokenIds).toEqual(old[0]!.tokenIds);
    now[0]!.steps.forEach((t, i) => expect(t.combinedLogprob).toBeCloseTo(old[0]!.steps[i]!.combinedLogprob, 5));
  });

  it('GenARM refuses beta next to guidance_beta (it has no reward scale), naming the right field', () => {
    expect(() => decode({ strategy: 'genarm', config: {}, beta: 0.1, guidanceBeta: 1 }, { policy: base, arms: [tuned] }, [1])).toThrow(/GenARM has none: set its strength with guidance_beta/);
    expect(() => decode({ strategy: 'genarm', config: {}, guidanceBeta: 0 }, { policy: base, arms: [tuned] }, [1])).toThrow(/guidance_beta must be > 0/);
  });
});

describe('sampling defaults under guidance (item 7)', () => {
  it('old: genarm/implicit with do_sample sample the full product (top_k 0), not top-50', () => {
    for (const strategy of ['genarm', 'implicit'] as const) {
      const chain = chainOf({ strategy, config: { do_sample: true } });
      expect(chain.map((c) => c.type)).toEqual(['dist']);
      expect(chainOf({ strategy, config: { do_sample: true, top_k: 50 } }).map((c) => c.type)).toEqual(['top_k', 'dist']);
    }
    expect(chainOf({ strategy: 'sample', config: {} }).map((c) => c.type)).toEqual(['top_k', 'dist']); // HF default stays
  });
});

describe('repetition penalty under guidance (item 8), by hand', () => {
  const logits = Float32Array.of(2, 1, 0);
  const lp = logSoftmax(logits);
  const g = [0.5, 0, -0.5];
  it('sampling: the penalty acts on the base logits, then the guidance is added: s′ = log_softmax(pen(logits)) + g', () => {
    const scores = Float32Array.from(lp, (v, i) => v + g[i]!);
    repetitionPenalty(2).apply(scores, { history: [0], generated: 0, policyScores: logits, policyLogprobs: lp });
    const want = logSoftmax(Float32Array.of(1, 1, 0)); // θ = 2 divides the positive logit 2 of token 0
    scores.forEach((v, i) => expect(v).toBeCloseTo(want[i]! + g[i]!, 6));
  });
  it('beam search: on the base log-probs, unnormalised, as Hugging Face: s′ = s + (pen(ℓ) − ℓ) on the history', () => {
    const scores = Float32Array.from(lp, (v, i) => v + g[i]!);
    repetitionPenalty(2).apply(scores, { history: [1], generated: 0, policyScores: lp });
    expect(scores[1]).toBeCloseTo(2 * lp[1]! + g[1]!, 6); // ℓ < 0 is multiplied by θ
    expect(scores[0]).toBeCloseTo(lp[0]! + g[0]!, 6);
  });
  it('unguided rows keep Hugging Face\'s rule on raw logits (unchanged)', () => {
    const scores = Float32Array.from(logits);
    repetitionPenalty(2).apply(scores, { history: [0, 2], generated: 0 });
    expect(Array.from(scores)).toEqual([1, 1, 0]);
  });
});

describe('smaller items (10)', () => {
  it('old: GenARM masks ids at or above the tokenizer size (padded vocabulary)', async () => {
    // id 4 is padding: a large logit under the ARM makes it win the product unless masked
    const base = new TableModel(rows([0.05, 0.3, 0.3, 0.3, 0.05], 5), [0], 'base');
    const arm = new TableModel(rows([0.01, 0.01, 0.01, 0.01, 0.96], 5), [0], 'arm');
    const models: StrategyModels = { policy: base, arms: [arm], tokenizerSize: 4 };
    const [s] = await done(decode({ strategy: 'genarm', config: { max_new_tokens: 4 }, guidanceBeta: 0.5 }, models, [1]));
    expect(s!.tokenIds.every((t) => t < 4)).toBe(true);
    const [unmasked] = await done(decode({ strategy: 'genarm', config: { max_new_tokens: 4 }, guidanceBeta: 0.5 }, { policy: base, arms: [arm] }, [1]));
    expect(unmasked!.tokenIds[0]).toBe(4); // the same run without the tokenizer size picks the padding id
  });

  it("old: ARGS's reported reward scores the response without its EOS, as best-of-N does", async () => {
    // EOS (0) is the top token after token 2; the RM rewards sequences that end in EOS a lot
    const policy = new TableModel([[0, 0, 0], [-5, -1, 0], [0, -5, -5]], [0], 'p');
    const scored: number[][] = [];
    const rm: SequenceRewardModel = {
      id: 'rm', vocabSize: 3, contextLength: 64, dispose: async () => undefined,
      score: async (b) => {
        scored.push(...b.map((s) => [...s]));
        return Float32Array.from(b, (s) => (s[s.length - 1] === 0 ? 10 : s.length));
      },
    };
    const [s] = await done(decode({ strategy: 'args', config: { max_new_tokens: 5 }, argsK: 2, argsWeight: 1 }, { policy, rewardModel: rm }, [1]));
    expect(s!.tokenIds).toEqual([2, 0]);
    expect(s!.finishReason).toBe('eos');
    expect(s!.reward).toBe(2); // RM([1, 2]) = length 2; with the EOS it would be 10
    expect(s!.steps[1]!.rewards['sequence:rm']).toBe(10); // the step keeps the score it was chosen by
  });

  it('old: RSO returns its accepted samples best first (was acceptance order)', async () => {
    const policy = new TableModel(rows([0.02, 0.49, 0.49]), [0], 'p');
    // reward: more 1s is better; a huge rso_beta accepts (almost) everything in candidate order
    const rm: SequenceRewardModel = { id: 'rm', vocabSize: 3, contextLength: 64, dispose: async () => undefined, score: async (b) => Float32Array.from(b, (s) => s.filter((t) => t === 1).length) };
    const [seqs] = [await done(decode({ strategy: 'rejection', config: { max_new_tokens: 6, top_k: 0, seed: 1, num_return_sequences: 6 }, n: 8, rsoBeta: 1e6 }, { policy, rewardModel: rm }, [2]))];
    const r = seqs.map((s) => s.reward as number);
    expect(r.length).toBeGreaterThan(2);
    expect(new Set(r).size).toBeGreaterThan(1);
    expect(r).toEqual([...r].sort((a, b) => b - a));
  });
});
