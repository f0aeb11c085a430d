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
