import { describe, expect, it } from 'vitest';
import { RunForm } from '../../src/lib/runForm.svelte.ts';

describe('run form ↔ URL', () => {
  it('round-trips every field through URL parameters', () => {
    const a = new RunForm();
    Object.assign(a, { strategy: 'diverse_beam', prompt: 'Héllo & <b>x</b>', numBeams: 6, numBeamGroups: 3, diversityPenalty: 0.5, seed: 42, doSample: true, beta: 0.25, armConcise: -1 });
    const b = new RunForm();
    b.fromParams(new URLSearchParams(a.toParams().toString()));
    expect(b.toRun()).toEqual(a.toRun());
    expect(b.prompt).toBe('Héllo & <b>x</b>');
  });
  it('ignores malformed values and unknown strategies', () => {
    const f = new RunForm();
    f.fromParams(new URLSearchParams('num_beams=abc&strategy=nope&do_sample=maybe&beta=0.5'));
    expect(f.numBeams).toBe(4);
    expect(f.strategy).toBe('greedy');
    expect(f.doSample).toBe(false);
    expect(f.beta).toBe(0.5);
  });
  it('two β names (issue 12 item 2): guidance β goes out as guidanceBeta, DPO β as beta for implicit only', () => {
    const f = new RunForm();
    f.strategy = 'genarm';
    f.beta = 0.5;
    expect(f.toRun().spec).toMatchObject({ guidanceBeta: 0.5 });
    expect(f.toRun().spec).not.toHaveProperty('beta'); // GenARM has no reward scale: the engine refuses one
    f.strategyDefaults('implicit');
    f.strategy = 'implicit';
    f.beta = 1;
    f.strategyDefaults('implicit'); // an untouched guidance β becomes the DPO β: s = ℓ_base + ℓ_tuned − ℓ_ref
    expect(f.toRun().spec).toMatchObject({ guidanceBeta: 0.1, beta: 0.1 });
    const p = f.toParams();
    expect([p.get('guidance_beta'), p.get('beta')]).toEqual(['0.1', '0.1']);
    const g = new RunForm();
    g.fromParams(p);
    expect(g.toRun()).toEqual(f.toRun());
  });
  it('an old URL (beta = guidance strength on a reward of scale 1) decodes as it did', () => {
    // Before: s = ℓ_base + (1/2)·(ℓ_tuned − ℓ_ref) from ?strategy=implicit&beta=2.
    const f = new RunForm();
    f.fromParams(new URLSearchParams('strategy=implicit&beta=2'));
    expect(f.toRun().spec).toMatchObject({ strategy: 'implicit', guidanceBeta: 2, beta: 1 });
  });
});

describe("the policy's generation_config.json in the page (issue 13 item 1)", () => {
  // Qwen2.5-Instruct's file, as the hub ships it.
  const qwen = { bos_token_id: 151643, eos_token_id: [151645, 151643], do_sample: true, temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1.05 };
  it('takes its sampling defaults into untouched fields and the run sends them', () => {
    const f = new RunForm();
    f.applyGenerationDefaults('onnx-community/Qwen2.5-0.5B-Instruct', qwen);
    expect([f.doSample, f.temperature, f.topP, f.topK, f.repetitionPenalty]).toEqual([true, 0.7, 0.8, 20, 1.05]);
    f.strategy = 'sample';
    expect(f.toRun().spec.config).toMatchObject({ temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1.05 });
    expect(f.modelDefaults?.policy).toBe('onnx-community/Qwen2.5-0.5B-Instruct');
    expect(f.modelDefaults?.changes.map((c) => `${c.field} ${c.from} → ${c.to}`)).toEqual([
      'do_sample off → on',
      'temperature 1 → 0.7',
      'top_k 50 → 20',
      'top_p 1 → 0.8',
      'repetition_penalty 1 → 1.05',
    ]);
  });
  it('keeps what the user set, ignores values out of range, and records nothing when nothing changes', () => {
    const f = new RunForm();
    f.temperature = 1.3;
    f.applyGenerationDefaults('m', { ...qwen, top_p: 7, top_k: -1 });
    expect([f.temperature, f.topP, f.topK]).toEqual([1.3, 1, 50]);
    expect(f.modelDefaults?.changes.map((c) => c.field)).toEqual(['do_sample', 'repetition_penalty']);
    const g = new RunForm();
    g.applyGenerationDefaults('tiny-base', { bos_token_id: 4095, eos_token_id: 4095, do_sample: false, max_length: 256 });
    expect(g.modelDefaults).toBeNull();
    expect(g.toRun()).toEqual(new RunForm().toRun());
  });
});

describe('reward label mix (several attributes)', () => {
  it('goes out with best-of-N and with reward-guided beams, and round-trips through the URL', () => {
    const f = new RunForm();
    f.strategy = 'beam';
    f.beamRewardModel = 'rm-two-heads';
    f.rewardLabel = 'positivity=1,conciseness=0.5';
    expect([f.toRun().rewardModel, f.toRun().rewardLabel]).toEqual(['rm-two-heads', 'positivity=1,conciseness=0.5']);
    const g = new RunForm();
    g.fromParams(new URLSearchParams(f.toParams().toString()));
    expect(g.toRun().rewardLabel).toBe('positivity=1,conciseness=0.5');
    f.strategy = 'best_of_n';
    expect(f.toRun().rewardLabel).toBe('positivity=1,conciseness=0.5');
    f.strategy = 'greedy';
    expect(f.toRun().rewardLabel).toBeUndefined();
  });
});
