/** GenARM and implicit-reward guidance on hand-computed distributions, and sampling over a source. */
import { describe, expect, it } from 'vitest';
import { ModelSource, genarmGuidance, implicitGuidance } from '../../src/core/search/modelSource.ts';
import { sample } from '../../src/core/search/sample.ts';
import type { DecodeEvent, SequenceResult } from '../../src/core/search/events.ts';
import { done } from '../support/done.ts';
import { TableModel } from '../support/fakeModel.ts';

const L = Math.log;
// vocab 3: token 0 = EOS. Rows depend on the last token only.
const base = new TableModel([
  [L(0.2), L(0.4), L(0.4)],
  [L(0.2), L(0.4), L(0.4)],
  [L(0.2), L(0.4), L(0.4)],
], [0], 'base');
const armPos = new TableModel([
  [L(0.1), L(0.6), L(0.3)],
  [L(0.1), L(0.6), L(0.3)],
  [L(0.1), L(0.6), L(0.3)],
], [0], 'arm-pos');
const armNeg = new TableModel([
  [L(0.5), L(0.25), L(0.25)],
  [L(0.5), L(0.25), L(0.25)],
  [L(0.5), L(0.25), L(0.25)],
], [0], 'arm-neg');

const norm = (xs: number[]) => xs.map((x) => x / xs.reduce((a, b) => a + b, 0));

describe('GenARM combination', () => {
  it('s = l_base + (1/beta) * w * l_arm gives p ∝ p_base * p_arm^(w/beta)', async () => {
    const src = new ModelSource(base, genarmGuidance([{ model: armPos, weight: 1 }], 0.5));
    const [d] = await src.start([1], 1);
    const expected = norm([0.2 * 0.1 ** 2, 0.4 * 0.6 ** 2, 0.4 * 0.3 ** 2]);
    Array.from(d!.logprobs).forEach((lp, i) => expect(Math.exp(lp)).toBeCloseTo(expected[i] as number, 6));
    expect(Array.from(d!.rewards.get('arm:arm-pos')!)).toEqual(Array.from(Float32Array.from([L(0.1), L(0.6), L(0.3)])));
    expect(d!.guided).toBe(true);
    src.dispose();
  });

  it('combines several ARMs with weights, negative ones included', async () => {
    const src = new ModelSource(base, genarmGuidance([{ model: armPos, weight: 2 }, { model: armNeg, weight: -1 }], 1));
    const [d] = await src.start([1], 1);
    const expected = norm([0.2 * 0.1 ** 2 / 0.5, 0.4 * 0.6 ** 2 / 0.25, 0.4 * 0.3 ** 2 / 0.25]);
    Array.from(d!.logprobs).forEach((lp, i) => expect(Math.exp(lp)).toBeCloseTo(expected[i] as number, 6));
    src.dispose();
  });

  it('a negative weight on a -Infinity log-prob does not produce +Infinity or NaN', async () => {
    const masked = new TableModel([[-Infinity, 0, 0], [-Infinity, 0, 0], [-Infinity, 0, 0]], [0], 'masked');
    const src = new ModelSource(base, genarmGuidance([{ model: masked, weight: -1 }], 1));
    const [d] = await src.start([1], 1);
    for (const v of d!.logprobs) expect(Number.isFinite(v)).toBe(true);
    src.dispose();
  });

  it('refuses models with a different vocabulary, naming them', () => {
    const other = new TableModel([[0, 0], [0, 0]], [0], 'other');
    expect(() => new ModelSource(base, genarmGuidance([{ model: other, weight: 1 }], 1))).toThrow(
      /other has a vocabulary of 2 tokens but the policy base has 3/,
    );
  });

  it('rejects beta <= 0', () => {
    expect(() => genarmGuidance([{ model: armPos, weight: 1 }], 0)).toThrow(/beta must be > 0/);
  });
});

describe('implicit-reward guidance', () => {
  it('with base = ref and beta = 1 reproduces the tuned distribution exactly', async () => {
    const src = new ModelSource(base, implicitGuidance(armPos, base, 1));
    const [d] = await src.start([1], 1);
    const tuned = Float32Array.from([L(0.1), L(0.6), L(0.3)]);
    Array.from(d!.logprobs).forEach((lp, i) => expect(lp).toBeCloseTo(tuned[i] as number, 6));
    expect(base.calls).toBeGreaterThan(0);
    src.dispose();
  });

  it('reports the token reward log pi_tuned - log pi_ref', async () => {
    const src = new ModelSource(base, implicitGuidance(armPos, base, 2));
    const [d] = await src.start([1], 1);
    expect(d!.rewards.get('implicit:arm-pos')![1]).toBeCloseTo(L(0.6) - L(0.4), 6);
    src.dispose();
  });
});

describe('sampling over a source', () => {
  it('is reproducible for a seed, rows do not depend on how many run, and all caches are freed', async () => {
    const m = new TableModel(base.table, [0], 'm');
    const a = await done(sample(new ModelSource(m), [1], { maxNewTokens: 8, chain: [{ type: 'dist' }], seed: 5, numReturnSequences: 4 }));
    const b = await done(sample(new ModelSource(m), [1], { maxNewTokens: 8, chain: [{ type: 'dist' }], seed: 5, numReturnSequences: 2 }));
    expect(b.map((s) => s.tokenIds)).toEqual(a.slice(0, 2).map((s) => s.tokenIds));
    const c = await done(sample(new ModelSource(m), [1], { maxNewTokens: 8, chain: [{ type: 'dist' }], seed: 6, numReturnSequences: 4 }));
    expect(c.map((s) => s.tokenIds)).not.toEqual(a.map((s) => s.tokenIds));
    expect(m.live.size).toBe(0);
    for (const s of a) {
      expect(s.tokenIds.length).toBeLessThanOrEqual(8);
      expect(s.finishReason).toBe(s.tokenIds.at(-1) === 0 ? 'eos' : 'length');
      expect(s.score).toBeCloseTo(s.steps.reduce((acc, t) => acc + t.combinedLogprob, 0), 5);
    }
  });

  it('samples from the combined GenARM distribution (empirical frequencies)', async () => {
    const counts = [0, 0, 0];
    const seqs = await done(
      sample(new ModelSource(base, genarmGuidance([{ model: armPos, weight: 1 }], 1)), [1], {
        maxNewTokens: 1,
        chain: [{ type: 'dist' }],
        seed: 1,
        numReturnSequences: 3000,
      }),
    );
    for (const s of seqs) (counts[s.tokenIds[0] as number] as number)++;
    const p = norm([0.02, 0.24, 0.12]);
    counts.forEach((c, i) => expect(c / 3000).toBeCloseTo(p[i] as number, 1));
    // guided rows report base log-probs, combined log-probs and ARM rewards per token
    const t = seqs[0]!.steps[0]!;
    expect(t.logprob).toBeCloseTo(L([0.2, 0.4, 0.4][t.tokenId] as number), 6);
    expect(t.combinedLogprob).toBeCloseTo(L(p[t.tokenId] as number), 5);
    expect(t.rewards['arm:arm-pos']).toBeCloseTo(L([0.1, 0.6, 0.3][t.tokenId] as number), 6);
  });
});

describe('what a step event shows the step inspector', () => {
  it('lists each reward source’s top tokens and the top tokens the filters removed', async () => {
    const src = new ModelSource(base, genarmGuidance([{ model: armPos, weight: 1 }], 1));
    // combined p ∝ [0.02, 0.24, 0.12]: top_k 1 keeps only token 1, so tokens 0 and 2 are cut
    const events: DecodeEvent[] = [];
    for await (const e of sample(src, [1], { maxNewTokens: 1, chain: [{ type: 'top_k', k: 1 }, { type: 'dist' }], seed: 3 })) events.push(e);
    const step = events[0]?.type === 'step' ? events[0].rows[0] : undefined;
    expect(step?.tokenId).toBe(1);
    expect([...(step?.cut ?? [])].sort()).toEqual([0, 2]);
    const arm = step?.topRewards?.['arm:arm-pos'];
    expect(arm?.map((e) => e.tokenId)).toEqual([1, 2, 0]);
    expect(Math.exp(arm?.[0]?.value ?? NaN)).toBeCloseTo(0.6, 6);
  });

  it('has no cut list without filters, and no reward lists when unguided', async () => {
    const events: DecodeEvent[] = [];
    for await (const e of sample(new ModelSource(base), [1], { maxNewTokens: 1, chain: [{ type: 'greedy' }] })) events.push(e);
    const step = events[0]?.type === 'step' ? events[0].rows[0] : undefined;
    expect(step?.cut).toBeUndefined();
    expect(step?.topRewards).toBeUndefined();
  });
});
