/**
 * The flagship lesson's direction on the bundled models, through the same code as `npm run bench:lesson`
 * (which measures 32 seeds; here 8, to stay cheap): GenARM-guided samples are more positive than base
 * samples drawn with the same prompt, seeds and sampling settings.
 */
import { describe, expect, it } from 'vitest';
import './env.ts';
import { loadLanguageModel } from '../../src/inference/backends/transformers.ts';
import { flagshipSettings, measureLesson } from '../../src/bench/lesson.ts';
import { FLAGSHIP } from '../../src/core/lesson/flagship.ts';

const policy = await loadLanguageModel(FLAGSHIP.policy, { device: 'cpu' });
const arm = await loadLanguageModel(FLAGSHIP.arm, { device: 'cpu' });

describe('flagship lesson (8 seeds)', () => {
  it('guided mean positivity exceeds the base mean and guided samples loop no more often, flagship settings on both sides', async () => {
    const s = flagshipSettings(8);
    expect(s.config.repetition_penalty).toBe(FLAGSHIP.repetition_penalty);
    const r = await measureLesson(s, { policy, arms: [arm] });
    expect(r.base.positivity).toHaveLength(8);
    expect(r.guided.meanPositivity).toBeGreaterThan(r.base.meanPositivity);
    expect(r.difference.mean).toBeCloseTo(r.guided.meanPositivity - r.base.meanPositivity, 9);
    // Guided samples loop no more often than base samples. Fails with the old preset (no repetition
    // penalty): 6 of these 8 guided samples repeated a 4-gram 3+ times, no base sample did.
    expect(r.guided.degeneration).toBeLessThanOrEqual(r.base.degeneration);
  });
  it('the same seeds give the same samples (paired by seed), and base samples ignore the ARM', async () => {
    const s = flagshipSettings(2);
    const a = await measureLesson(s, { policy, arms: [arm] });
    const b = await measureLesson({ ...s, beta: 4 }, { policy, arms: [arm] });
    expect(b.base.texts).toEqual(a.base.texts);
    expect(a.guided.texts).not.toEqual(a.base.texts);
  });
});
