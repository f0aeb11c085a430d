/**
 * The KL figure (issue 12 item 1): the exact per-step KL(q′ ‖ p) of the distribution actually sampled
 * from, on hand-computed distributions, and what sequenceStats reports per strategy. The tests marked
 * "old:" fail on the code before this change (it reported Σ log q − log p with q before temperature
 * and filters: 0 for best-of-N and unguided T ≠ 1, a number for deterministic strategies).
 */
import { describe, expect, it } from 'vitest';
import { klFromScores, klOnSupport } from '../../src/core/sampling/kl.ts';
import { bestOfNKlBound, meanStats, sequenceStats } from '../../src/core/metrics/sequenceStats.ts';
import { decode, type StrategyModels, type StrategySpec } from '../../src/core/search/strategy.ts';
import type { DecodeEvent, SequenceResult } from '../../src/core/search/events.ts';
import { done } from '../support/done.ts';
import type { SequenceRewardModel } from '../../src/core/model/types.ts';
import { TableModel } from '../support/fakeModel.ts';

const L = Math.log;
/** KL(q ‖ p) of two probability vectors, in float64 (the test's own, independent formula). */
const kl = (q: number[], p: number[]) => q.reduce((a, qi, i) => (qi > 0 ? a + qi * L(qi / (p[i] as number)) : a), 0);
const norm = (xs: number[]) => xs.map((x) => x / xs.reduce((a, b) => a + b, 0));

// vocab 4, token 0 = EOS (made unlikely so runs are long); rows do not depend on the history.
const P = [0.01, 0.5, 0.3, 0.19];
const base = new TableModel(Array.from({ length: 4 }, () => P.map(L)), [0], 'base');
const A = [0.01, 0.2, 0.2, 0.59];
const arm = new TableModel(Array.from({ length: 4 }, () => A.map(L)), [0], 'arm');

/** A sequence RM on token ids: +1 per token 3 in the sequence. */
const rm: SequenceRewardModel = {
  id: 'count3',
  vocabSize: 4,
  contextLength: 64,
  score: async (batch) => Float32Array.from(batch, (s) => s.filter((t) => t === 3).length),
  dispose: async () => undefined,
};

async function run(spec: StrategySpec, models: StrategyModels = { policy: base }): Promise<readonly SequenceResult[]> {
  return done(decode(spec, models, [1]));
}

describe('klFromScores (exact, whole vocabulary)', () => {
  it('hand-computed: q = (½, ½, 0) against p = (¼, ¼, ½) is ln 2', () => {
    expect(klFromScores([0, 0, -Infinity], [L(0.25), L(0.25), L(0.5)])).toBeCloseTo(L(2), 12);
  });
  it('is 0 for q = p, whatever the shift of the scores', () => {
    expect(klFromScores([5 + L(0.2), 5 + L(0.8)], [L(0.2), L(0.8)])).toBeCloseTo(0, 7);
  });
  it('is Infinity when q puts mass where p has none', () => {
    expect(klFromScores([0, 0], [0, -Infinity])).toBe(Infinity);
  });
  it('matches temperature and top-k by hand', () => {
    const logits = P.map(L);
    // T = 0.5 → q ∝ p², then top-2 keeps tokens 1 and 2
    const q = norm([0, 0.25, 0.09, 0]);
    expect(klFromScores([-Infinity, logits[1]! / 0.5, logits[2]! / 0.5, -Infinity], logits)).toBeCloseTo(kl(q, P), 10);
  });
  it('klOnSupport: a distribution on a few ids', () => {
    expect(klOnSupport([0, L(3)], [3, 1], P.map(L))).toBeCloseTo(kl([0, 0.75, 0, 0.25], P), 10);
  });
});

describe('per-step KL in traces and sequenceStats', () => {
  it('old: unguided sampling at T = 0.5 reports the exact Σ KL (was 0)', async () => {
    const [s] = await run({ strategy: 'sample', config: { max_new_tokens: 6, temperature: 0.5, top_k: 0, seed: 1 } });
    const perStep = kl(norm(P.map((p) => p * p)), P);
    for (const t of s!.steps) expect(t.kl).toBeCloseTo(perStep, 6);
    const st = sequenceStats(s!, '', { strategy: 'sample' });
    expect(st.klKind).toBe('exact');
    expect(st.kl).toBeCloseTo(perStep * s!.steps.length, 5);
    expect(st.kl).toBeGreaterThan(0.1);
  });

  it('old: unguided top-k sampling at T = 1 reports the KL of the truncation (was 0)', async () => {
    const [s] = await run({ strategy: 'sample', config: { max_new_tokens: 4, top_k: 2, seed: 2 } });
    const q = norm([0, 0.5, 0.3, 0]);
    for (const t of s!.steps) expect(t.kl).toBeCloseTo(kl(q, P), 6); // = −log 0.8
    expect(kl(q, P)).toBeCloseTo(-L(0.8), 10);
  });

  it('GenARM sampling with top_k: KL of the post-filter product against the base', async () => {
    const [s] = await run(
      { strategy: 'genarm', config: { max_new_tokens: 5, do_sample: true, top_k: 2, seed: 3 }, guidanceBeta: 0.5 },
      { policy: base, arms: [arm] },
    );
    const prod = norm(P.map((p, i) => p * A[i]! ** 2));
    const top2 = norm(prod.map((x, i) => (i === 1 || i === 3 ? x : 0)));
    for (const t of s!.steps) expect(t.kl).toBeCloseTo(kl(top2, P), 5);
    // the old estimate (combined log-prob − base log-prob, before top-k) differs
    const old = s!.steps.reduce((a, t) => a + t.combinedLogprob - t.logprob, 0);
    expect(Math.abs(old - sequenceStats(s!, '', { strategy: 'genarm' }).kl!)).toBeGreaterThan(0.05);
  });

  it('old: greedy, beam and ARGS-greedy are n/a (null) with the reason (greedy used to say 0, ARGS-greedy a number)', async () => {
    const cases: [StrategySpec, StrategyModels][] = [
      [{ strategy: 'greedy', config: { max_new_tokens: 4 } }, { policy: base }],
      [{ strategy: 'beam', config: { max_new_tokens: 4, num_beams: 2 } }, { policy: base }],
      [{ strategy: 'args', config: { max_new_tokens: 4 }, argsWeight: 2 }, { policy: base, rewardModel: rm }],
      [{ strategy: 'genarm', config: { max_new_tokens: 4 } }, { policy: base, arms: [arm] }],
    ];
    for (const [spec, models] of cases) {
      const [s] = await run(spec, models);
      const st = sequenceStats(s!, '', spec);
      expect(st.kl, spec.strategy).toBeNull();
      expect(st.klKind).toBe('na');
      expect(st.klNote).toMatch(/^n\/a: .*deterministic/);
      for (const t of s!.steps) expect(t.kl).toBeUndefined();
    }
  });

  it('ARGS-stochastic: the exact KL of softmax(score/τ) over the k candidates', async () => {
    const spec: StrategySpec = { strategy: 'args', config: { max_new_tokens: 3, do_sample: true, temperature: 0.7, seed: 4 }, argsK: 2, argsWeight: 1 };
    const [s] = await run(spec, { policy: base, rewardModel: rm });
    // step 0 candidates: tokens 1 and 2 (top-2 logits); RM of prompt [1] + candidate: 0 for both
    const q = norm([0, 0.5 ** (1 / 0.7), 0.3 ** (1 / 0.7), 0]);
    expect(s!.steps[0]!.kl).toBeCloseTo(kl(q, P), 5);
    expect(sequenceStats(s!, '', spec).klKind).toBe('exact');
  });

  it('old: best-of-N reports the bound log N − (N−1)/N (was 0.0000)', async () => {
    const spec: StrategySpec = { strategy: 'best_of_n', config: { max_new_tokens: 3, top_k: 0, seed: 5 }, n: 16 };
    const [s] = await run(spec, { policy: base, rewardModel: rm });
    const st = sequenceStats(s!, '', spec);
    expect(st.klKind).toBe('bound');
    expect(st.kl).toBeCloseTo(L(16) - 15 / 16, 12);
    expect(st.kl).toBeCloseTo(1.8351, 4);
    expect(st.klNote).toMatch(/^bound: /);
    // T = 1, no filters: the candidates come from the base itself, so nothing is added to the note
    expect(st.klNote).not.toMatch(/also differs/);
    expect(bestOfNKlBound(1)).toBe(0);
  });

  it('best-of-N with a filtered sampler says how far the sampler is from the base', async () => {
    const spec: StrategySpec = { strategy: 'best_of_n', config: { max_new_tokens: 3, top_k: 2, seed: 5 }, n: 4 };
    const [s] = await run(spec, { policy: base, rewardModel: rm });
    expect(sequenceStats(s!, '', spec).klNote).toMatch(/also differs from the base by 0\.\d{3} nats/);
  });

  it('rejection sampling reports the bound log N', async () => {
    const spec: StrategySpec = { strategy: 'rejection', config: { max_new_tokens: 3, top_k: 0, seed: 5 }, n: 8 };
    const [s] = await run(spec, { policy: base, rewardModel: rm });
    const st = sequenceStats(s!, '', spec);
    expect(st.klKind).toBe('bound');
    expect(st.kl).toBeCloseTo(L(8), 12);
  });

  it('meanStats: kl is the mean when every output has one, null otherwise', () => {
    const seq = (k?: number): SequenceResult => ({ tokenIds: [1], score: 0, finishReason: 'length', group: 0, steps: [{ tokenId: 1, logprob: -1, combinedLogprob: -1, rewards: {}, ...(k === undefined ? {} : { kl: k }) }] });
    expect(meanStats([sequenceStats(seq(1), '', { strategy: 'sample' }), sequenceStats(seq(3), '', { strategy: 'sample' })]).kl).toBe(2);
    expect(meanStats([sequenceStats(seq(), '', { strategy: 'greedy' })]).kl).toBeNull();
  });
});
