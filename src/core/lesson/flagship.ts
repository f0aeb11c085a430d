/**
 * The flagship lesson ("Positivity steering with GenARM", base vs guided side by side): one place for its
 * settings, read by the page's preset and by the measurement script that checks the lesson lands
 * (guided samples more positive than base samples on any seed, without degenerating more).
 */
export const FLAGSHIP = {
  prompt: 'The state of the Union is',
  policy: 'tiny-base',
  arm: 'tiny-arm-positive',
  /** Guidance β: s = ℓ_base + (1/β)·ℓ_arm. */
  beta: 0.5,
  temperature: 1,
  top_k: 0,
  top_p: 1,
  max_new_tokens: 30,
  /** Samples per side (base and guided), seeds seed, seed+1, … */
  samples: 4,
  seed: 0,
} as const;
