/**
 * Properties and behaviour of the engine on the bundled models, where the oracle gives ground truth.
 * Each check can fail: they compare measured outcomes, not implementation details.
 */
import { describe, expect, it } from 'vitest';
import './env.ts';
import { loadLanguageModel, loadSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import { decode, type StrategyModels, type StrategySpec } from '../../src/core/search/strategy.ts';
import type { SequenceResult } from '../../src/core/search/events.ts';
import { positivity } from '../../src/core/reward/oracle.ts';
import { crossDistinctN } from '../../src/core/metrics/diversity.ts';

const base = await loadLanguageModel('tiny-base', { device: 'cpu' });
const armPos = await loadLanguageModel('tiny-arm-positive', { device: 'cpu' });
const dpo = await loadLanguageModel('tiny-dpo-positive', { device: 'cpu' });
const rmPos = await loadSequenceRewardModel('tiny-rm-positive', { device: 'cpu' });
const tok = base.tokenizer;
const PROMPTS = ['The state of the Union is', 'Our economy', 'We must never forget that', 'The American people', 'In the coming year', 'Our foreign policy'];

async function result(spec: StrategySpec, models: StrategyModels, prompt: string): Promise<readonly SequenceResult[]> {
  let out: readonly SequenceResult[] = [];
  for await (const e of decode(spec, models, tok.encode(prompt))) if (e.type === 'done') out = e.sequences;
  return out;
}

describe('equivalences on tiny-base', () => {
  it('beam search with num_beams = 1 equals greedy', async () => {
    for (const p of PROMPTS) {
      const g = await result({ strategy: 'greedy', config: { max_new_tokens: 25 } }, { policy: base }, p);
      const b = await result({ strategy: 'beam', config: { max_new_tokens: 25, num_beams: 1, length_penalty: 0 } }, { policy: base }, p);
      expect(b[0]?.tokenIds).toEqual(g[0]?.tokenIds);
    }
  });

  it('GenARM with every weight 0 equals the base model', async () => {
    for (const p of PROMPTS.slice(0, 3)) {
      const g = await result({ strategy: 'greedy', config: { max_new_tokens: 25 } }, { policy: base }, p);
      const z = await result({ strategy: 'genarm', config: { max_new_tokens: 25 }, armWeights: [0] }, { policy: base, arms: [armPos] }, p);
      expect(z[0]?.tokenIds).toEqual(g[0]?.tokenIds);
      const gs = await result({ strategy: 'sample', config: { max_new_tokens: 25, seed: 9, num_return_sequences: 3 } }, { policy: base }, p);
      const zs = await result({ strategy: 'genarm', config: { max_new_tokens: 25, seed: 9, do_sample: true, top_k: 50 }, armWeights: [0] }, { policy: base, arms: [armPos] }, p);
      expect(zs[0]?.tokenIds).toEqual(gs[0]?.tokenIds);
      // guided sampling defaults to the whole distribution (top_k 0, GenARM's reference), unguided to HF's top_k 50
      const g0 = await result({ strategy: 'sample', config: { max_new_tokens: 25, seed: 9, top_k: 0 } }, { policy: base }, p);
      const z0 = await result({ strategy: 'genarm', config: { max_new_tokens: 25, seed: 9, do_sample: true }, armWeights: [0] }, { policy: base, arms: [armPos] }, p);
      expect(z0[0]?.tokenIds).toEqual(g0[0]?.tokenIds);
      // with a repetition penalty too (issue 12 item 8: it used to act on the combined score when guided)
      const gr = await result({ strategy: 'greedy', config: { max_new_tokens: 25, repetition_penalty: 2 } }, { policy: base }, p);
      const zr = await result({ strategy: 'genarm', config: { max_new_tokens: 25, repetition_penalty: 2 }, armWeights: [0] }, { policy: base, arms: [armPos] }, p);
      expect(zr[0]?.tokenIds).toEqual(gr[0]?.tokenIds);
    }
  });

  it('implicit guidance with base = ref and beta = 1 samples like the tuned model for the same seed', async () => {
    const spec = { max_new_tokens: 25, seed: 4, num_return_sequences: 4, top_k: 0 };
    const t = await result({ strategy: 'sample', config: spec }, { policy: dpo }, PROMPTS[0] as string);
    const i = await result({ strategy: 'implicit', config: { ...spec, do_sample: true }, beta: 1 }, { policy: base, tuned: dpo, ref: base }, PROMPTS[0] as string);
    expect(i[0]?.tokenIds).toEqual(t[0]?.tokenIds);
  });

  it('guided beam search (--strategy beam with an ARM) ranks beams by the combined log-probs', async () => {
    const out = await result({ strategy: 'beam', config: { max_new_tokens: 15, num_beams: 4, num_return_sequences: 2 }, beta: 0.5 }, { policy: base, arms: [armPos] }, PROMPTS[0] as string);
    const s = out[0] as SequenceResult;
    expect(Object.keys(s.steps[0]?.rewards ?? {})).toEqual(['arm:tiny-arm-positive']);
    const sum = s.steps.reduce((a, t) => a + t.combinedLogprob, 0);
    expect(s.score).toBeCloseTo(sum / s.tokenIds.length, 3); // length_penalty 1
  });
});

describe('behaviour against the oracle', () => {
  it('GenARM with the positivity ARM raises mean oracle positivity of 64 samples as beta decreases (∞, 2, 1, 0.5)', async () => {
    const means: number[] = [];
    for (const beta of [Infinity, 2, 1, 0.5]) {
      const spec: StrategySpec = beta === Infinity
        ? { strategy: 'sample', config: { max_new_tokens: 30, seed: 1, num_return_sequences: 64, top_k: 0 } }
        : { strategy: 'genarm', config: { max_new_tokens: 30, seed: 1, num_return_sequences: 64, top_k: 0, do_sample: true }, beta };
      const seqs = await result(spec, { policy: base, arms: beta === Infinity ? [] : [armPos] }, PROMPTS[0] as string);
      expect(seqs).toHaveLength(64);
      means.push(seqs.reduce((a, s) => a + positivity(tok.decode(s.tokenIds)), 0) / 64);
    }
    console.info(`GenARM mean oracle positivity for beta ∞, 2, 1, 0.5: ${means.map((m) => m.toFixed(3)).join(', ')}`);
    for (let i = 1; i < means.length; i++) expect(means[i], `means ${means.map((m) => m.toFixed(2)).join(', ')}`).toBeGreaterThan(means[i - 1] as number);
  });

  it('diverse beam search shares fewer bigrams across its returned beams than beam search of the same width, at a comparable top-1 log-prob', async () => {
    let dDiverse = 0;
    let dBeam = 0;
    let topDiverse = 0;
    let topBeam = 0;
    for (const p of PROMPTS) {
      const cfg = { max_new_tokens: 20, num_beams: 4, num_return_sequences: 4, length_penalty: 0 };
      const b = await result({ strategy: 'beam', config: cfg }, { policy: base }, p);
      const d = await result({ strategy: 'diverse_beam', config: { ...cfg, num_beam_groups: 4, diversity_penalty: 1.5 } }, { policy: base }, p);
      dBeam += crossDistinctN(b.map((s) => s.tokenIds), 2);
      dDiverse += crossDistinctN(d.map((s) => s.tokenIds), 2);
      const lp = (s: SequenceResult) => s.steps.reduce((a, t) => a + t.logprob, 0);
      topBeam += Math.max(...b.map(lp));
      topDiverse += Math.max(...d.map(lp));
    }
    console.info(`cross-distinct-2: diverse ${(dDiverse / PROMPTS.length).toFixed(3)} vs beam ${(dBeam / PROMPTS.length).toFixed(3)}; top-1 log-prob ${(topDiverse / PROMPTS.length).toFixed(2)} vs ${(topBeam / PROMPTS.length).toFixed(2)}`);
    expect(dDiverse, `cross-distinct-2 diverse ${dDiverse / PROMPTS.length} vs beam ${dBeam / PROMPTS.length}; top-1 ${topDiverse / PROMPTS.length} vs ${topBeam / PROMPTS.length}`).toBeGreaterThan(dBeam);
    expect(topDiverse / PROMPTS.length).toBeGreaterThan(topBeam / PROMPTS.length - 2.5);
  });

  it('best-of-N raises the mean reward-model score of the chosen sample with N', async () => {
    const means: number[] = [];
    for (const n of [1, 4, 16]) {
      let s = 0;
      for (const p of PROMPTS) {
        const out = await result({ strategy: 'best_of_n', config: { max_new_tokens: 20, seed: 2 }, n }, { policy: base, rewardModel: rmPos }, p);
        s += out[0]?.reward as number;
      }
      means.push(s / PROMPTS.length);
    }
    console.info(`best-of-N mean RM score for N = 1, 4, 16: ${means.map((m) => m.toFixed(3)).join(', ')}`);
    expect(means[1]).toBeGreaterThan(means[0] as number);
    expect(means[2]).toBeGreaterThan(means[1] as number);
  });
});
