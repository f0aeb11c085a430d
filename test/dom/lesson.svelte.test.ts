/**
 * The flagship lesson and the presets (src/lib/runForm.svelte.ts), side-by-side runs
 * (src/lib/generation.svelte.ts) through a fake client, and the progress/summary formatting.
 */
import { describe, expect, it } from 'vitest';
import { FLAGSHIP } from '../../src/core/lesson/flagship.ts';
import { positivity } from '../../src/core/reward/oracle.ts';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { GenerateRun, TokenEvent } from '../../src/inference/protocol.ts';
import { GenerationState } from '../../src/lib/generation.svelte.ts';
import { fmtNum, fmtSpread, progressLine, spread } from '../../src/lib/progress.ts';
import { PRESETS, RunForm } from '../../src/lib/runForm.svelte.ts';

describe('presets', () => {
  it('the flagship preset takes its settings from core/lesson/flagship.ts and runs base beside guided', () => {
    const f = new RunForm();
    f.applyPreset('Positivity steering with GenARM');
    expect(f.preset).toBe('Positivity steering with GenARM');
    expect(f.activePreset?.name).toBe('Positivity steering with GenARM');
    const sides = f.sides();
    expect(sides?.map((s) => s.label)).toEqual(['Base', 'Guided']);
    const [base, guided] = sides!;
    for (const r of [base!.run, guided!.run]) {
      expect(r.prompt).toBe(FLAGSHIP.prompt);
      expect(r.policy).toBe(FLAGSHIP.policy);
      expect(r.spec.config).toMatchObject({ seed: FLAGSHIP.seed, max_new_tokens: FLAGSHIP.max_new_tokens, temperature: FLAGSHIP.temperature, top_k: FLAGSHIP.top_k, top_p: FLAGSHIP.top_p, repetition_penalty: FLAGSHIP.repetition_penalty });
    }
    expect(base!.run.spec.strategy).toBe('sample');
    expect(base!.run.arms).toEqual([]);
    expect(guided!.run.spec).toMatchObject({ strategy: 'genarm', guidanceBeta: FLAGSHIP.beta, armWeights: [1] });
    expect(guided!.run.spec.config.do_sample).toBe(true);
    expect(guided!.run.arms).toEqual([FLAGSHIP.arm]);
    expect(f.sideSamples).toBe(FLAGSHIP.samples);
  });

  it('records the fields a preset changed, stays selected, and names the fields edited since', () => {
    const f = new RunForm();
    f.applyPreset('Positivity steering with GenARM');
    const changed = Object.fromEntries(f.presetChanges.map((c) => [c.field, `${c.from} → ${c.to}`]));
    expect(changed.strategy).toBe('greedy → genarm');
    expect(changed.do_sample).toBe('off → on');
    expect(changed['side-by-side comparison']).toBe('off → base');
    expect(changed.prompt).toBeUndefined(); // already the flagship prompt: not listed as changed
    f.seed = 7;
    expect(f.presetEdits).toEqual(['seed']);
    expect(f.activePreset).toBeNull();
    expect(f.preset).toBe('Positivity steering with GenARM');
    // still side by side, on the user's seed
    expect(f.sides()?.[0]?.run.spec.config.seed).toBe(7);
  });

  it('every preset shows what its name promises on its first run: "Best-of-N vs GenARM" runs both', () => {
    for (const p of PRESETS) {
      const f = new RunForm();
      f.applyPreset(p.name);
      const sides = f.sides();
      if (p.name === 'Diverse beams') {
        expect(sides).toBeNull();
        expect(f.toRun().spec.strategy).toBe('diverse_beam');
        expect(f.toRun().spec.config.num_return_sequences).toBe(4);
      } else expect(sides?.length, p.name).toBe(2);
      if (p.name === 'Best-of-N vs GenARM') expect(sides?.map((s) => s.run.spec.strategy)).toEqual(['best_of_n', 'genarm']);
      if (p.name === 'Multi-objective trade-off') expect(sides?.[1]?.run.arms).toEqual(['tiny-arm-positive', 'tiny-arm-concise']);
    }
  });

  it('side-by-side settings survive the URL; a bad side_by is ignored', () => {
    const a = new RunForm();
    a.applyPreset('Best-of-N vs GenARM');
    const b = new RunForm();
    b.fromParams(new URLSearchParams(a.toParams().toString()));
    expect(b.sides()).toEqual(a.sides());
    expect(b.preset).toBe('Best-of-N vs GenARM');
    const c = new RunForm();
    c.fromParams(new URLSearchParams('side_by=sideways&preset=Nonsense'));
    expect(c.sideBy).toBe('');
    expect(c.preset).toBe('');
  });
});

describe('side-by-side run', () => {
  /** A client whose every run returns one sequence: `seed` tokens, text "good" × seed for the guided side. */
  function fakeClient() {
    const runs: GenerateRun[] = [];
    let id = 0;
    const client = {
      async load() {
        return { model: { id: 'm', vocabSize: 4, contextLength: 64, eosTokenIds: [] }, ms: 0 };
      },
      generate(run: GenerateRun, onEvent: (e: TokenEvent) => void) {
        runs.push(run);
        const seed = run.spec.config.seed ?? 0;
        const text = run.spec.strategy === 'genarm' ? ' good'.repeat(seed) : ' the';
        const h = { id: ++id, done: Promise.resolve() };
        queueMicrotask(() => onEvent({ event: { type: 'done', sequences: [{ tokenIds: Array(seed).fill(1), score: 0, finishReason: 'length', group: 0, steps: [] }] }, texts: [text] }));
        h.done = new Promise((r) => setTimeout(r, 0));
        return h;
      },
      async cancel() {
        return true;
      },
    };
    return { client: client as unknown as InferenceClient, runs };
  }

  it('runs each side on seeds seed … seed+n−1, interleaved, and scores every sample with the oracle', async () => {
    const { client, runs } = fakeClient();
    const gen = new GenerationState(client);
    const f = new RunForm();
    f.applyPreset('Positivity steering with GenARM');
    f.seed = 2;
    await gen.generateSides(f.sides()!, 3);
    expect(runs.map((r) => `${r.spec.strategy}@${r.spec.config.seed}`)).toEqual(['sample@2', 'genarm@2', 'sample@3', 'genarm@3', 'sample@4', 'genarm@4']);
    expect(gen.status).toBe('idle');
    expect(gen.sides.map((s) => s.samples.map((x) => x.seed))).toEqual([[2, 3, 4], [2, 3, 4]]);
    expect(gen.sides[1]!.samples.map((x) => x.positivity)).toEqual([2, 3, 4].map((n) => positivity(' good'.repeat(n))));
    // ' good' × 3 and × 4 repeat a rewarded word three or more times: flagged
    expect(gen.sides[1]!.samples.map((x) => x.hack?.word ?? null)).toEqual([null, 'good', 'good']);
    expect(gen.sides[0]!.samples.every((x) => x.positivity === 0 && x.hack === null)).toBe(true);
  });

  it('a run started meanwhile takes over: the side-by-side run stops and leaves its state alone', async () => {
    const { client, runs } = fakeClient();
    const gen = new GenerationState(client);
    const f = new RunForm();
    f.applyPreset('Positivity steering with GenARM');
    const sides = gen.generateSides(f.sides()!, 4);
    await new Promise((r) => setTimeout(r, 0));
    const single = gen.generate({ ...f.toRun(), spec: { ...f.toRun().spec, config: { ...f.toRun().spec.config, seed: 42 } } });
    await Promise.all([sides, single]);
    expect(gen.mode).toBe('single');
    expect(gen.status).toBe('idle');
    expect(gen.finishReason).toBe('length'); // the single run's, not the side-by-side 'done'/'aborted'
    expect(runs.filter((r) => r.spec.config.seed === 42)).toHaveLength(1);
    expect(runs.length).toBeLessThan(1 + 2 * 4); // the side-by-side run did not go on
  });

  it('refuses a bad number of samples with a message naming it', async () => {
    const gen = new GenerationState(fakeClient().client);
    const f = new RunForm();
    f.applyPreset('Positivity steering with GenARM');
    await gen.generateSides(f.sides()!, 0);
    expect(gen.error).toMatch(/samples per side must be an integer from 1 to 64 \(got 0\)/);
  });
});

describe('progress and summaries', () => {
  it('says how far a long run has got', () => {
    expect(progressLine({ type: 'progress', phase: 'sampling', done: 5, total: 16, step: 12, maxSteps: 30 })).toBe('Drawing 16 samples in one batch: token 12 of 30, 5 of 16 finished');
    expect(progressLine({ type: 'progress', phase: 'scoring', done: 0, total: 16 }, 'tiny-rm-positive')).toBe('Scoring 16 samples with tiny-rm-positive…');
    expect(progressLine({ type: 'progress', phase: 'decoding', done: 5, total: 30 })).toMatch(/^Token 5 of at most 30/);
  });

  it('mean ± standard error and range, integers as integers', () => {
    const s = spread([0, 2, 2, 4]);
    expect(s).toEqual({ n: 4, mean: 2, se: Math.sqrt(8 / 3) / 2, min: 0, max: 4 });
    expect(fmtSpread(s)).toBe('2 ± 0.82');
    expect(fmtSpread(spread([3]))).toBe('3');
    expect(fmtNum(9)).toBe('9');
    expect(fmtNum(9.5)).toBe('9.50');
    expect(fmtNum(NaN)).toBe('–');
  });
});
