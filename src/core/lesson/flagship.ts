/**
 * The flagship lesson ("Positivity steering with GenARM", base vs guided side by side): one place for its
 * settings, read by the page's preset and by the measurement script that checks the lesson lands
 * (`npm run bench:lesson`, src/bench/lesson.ts: over seeds 0..31 the guided mean positivity must exceed the
 * base mean by at least 1.5 AFINN points, 95% paired t interval above zero, and guided samples must not
 * degenerate into loops more often than base samples).
 *
 * Every sampling setting here applies to BOTH sides (base and guided): same prompt, same seeds, same
 * temperature, top-k/top-p, repetition penalty and length; only the guidance differs.
 *
 * Why a repetition penalty: the bundled ARM is tiny-base lightly fine-tuned, so ℓ_arm ≈ ℓ_base and the
 * guided score ℓ_base + (1/β)·ℓ_arm ≈ (1 + 1/β)·ℓ_base is about three times sharper than the base at
 * β = 0.5. Without a penalty 69% of guided samples looped ("the people of the people of the people…",
 * 0% of base samples); with repetition_penalty 2 on both sides, 0% and 0% (numbers in README.md,
 * "Does the lesson land?").
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
  /** Hugging Face repetition_penalty (CTRL), applied to the base and the guided side alike. */
  repetition_penalty: 2,
  max_new_tokens: 30,
  /** Samples per side (base and guided), seeds seed, seed+1, … */
  samples: 4,
  seed: 0,
} as const;
