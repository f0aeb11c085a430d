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
});
