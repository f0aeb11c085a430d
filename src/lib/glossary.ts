/**
 * Words for every term the playground shows: one sentence each, and the formula where there is one.
 * `Info.svelte` shows an entry next to the term (an ⓘ button that toggles the sentence); the README's
 * "What each number means" uses the same words. Keep each `text` to one sentence a newcomer can read.
 */
export interface GlossaryEntry {
  /** The term as the page shows it. */
  readonly term: string;
  /** One sentence. */
  readonly text: string;
  /** The formula, in plain Unicode (no markup), where there is one. */
  readonly formula?: string;
}

export const GLOSSARY = {
  policy: {
    term: 'Policy',
    text: 'The language model that writes the text; reward guidance only re-weights its next-token distribution, so the base policy should be a plain language model.',
  },
  arm: {
    term: 'ARM',
    text: 'An autoregressive reward model: a small language model trained on preference pairs so that its next-token log-probability serves as a token-level reward (GenARM, Xu et al. 2025).',
    formula: 'r(x, y) = Σₜ log π_arm(yₜ | x, y<t)',
  },
  arm_weight: {
    term: 'ARM weight',
    text: 'How much one ARM counts when several are combined; 0 switches it off and a negative weight pushes away from what it rewards.',
    formula: 's(v) = ℓ_base(v) + (1/β) Σᵢ wᵢ ℓ_armᵢ(v)',
  },
  beta: {
    term: 'guidance β (KL coefficient)',
    text: 'Divides the reward before it is added to the base log-probs: a smaller β means stronger guidance, and β → ∞ gives back the base model.',
    formula: 's(v) = ℓ_base(v) + (1/β) · r(v)',
  },
  dpo_beta: {
    term: 'DPO β (reward scale)',
    text: "DPO's β: the implicit reward of a tuned/reference pair is β times their log-ratio; the bundled DPO models were trained at β = 0.1, and with guidance β equal to it the guided model is exactly ℓ_base + ℓ_tuned − ℓ_ref.",
    formula: 'r(v) = β · (ℓ_tuned(v) − ℓ_ref(v)),  s(v) = ℓ_base(v) + (1/guidance β) · r(v)',
  },
  rso_beta: {
    term: 'RSO β',
    text: 'The temperature of rejection sampling: a sample is accepted with probability exp((r − r_max)/β), so a small β accepts only samples close to the best reward.',
    formula: 'P(accept y) = exp((RM(y) − max RM) / β)',
  },
  do_sample: {
    term: 'do_sample',
    text: 'Off: take the most likely token of the (combined) distribution every step (greedy); on: draw it at random after temperature, top-k, top-p and min-p.',
  },
  temperature: {
    term: 'temperature',
    text: 'Divides the logits before the softmax: below 1 sharpens the distribution toward the likeliest tokens, above 1 flattens it.',
    formula: 'p(v) ∝ exp(logit(v) / T)',
  },
  top_k: {
    term: 'top_k',
    text: 'Keep only the k most likely tokens before drawing; top_k = 0 means no top-k filter at all (every token stays).',
  },
  top_p: {
    term: 'top_p',
    text: 'Nucleus sampling: keep the smallest set of likeliest tokens whose probabilities add up to at least p; top_p = 1 keeps every token.',
    formula: 'keep v₁…v_m, m = min{m : Σᵢ≤m p(vᵢ) ≥ p}',
  },
  min_p: {
    term: 'min_p',
    text: 'Drop every token whose probability is below min_p times the probability of the likeliest token; 0 drops none.',
    formula: 'keep v if p(v) ≥ min_p · max p',
  },
  repetition_penalty: {
    term: 'repetition penalty',
    text: 'Makes tokens that already appear in the text less likely: a positive logit is divided by the penalty and a negative one multiplied by it; 1 means no penalty.',
    formula: 'logit(v) ← logit(v) / θ if > 0, else logit(v) · θ',
  },
  num_beams: {
    term: 'num_beams',
    text: 'How many partial sequences beam search keeps at every step; 1 is greedy decoding.',
  },
  length_penalty: {
    term: 'length_penalty',
    text: 'The exponent that divides a finished beam’s summed log-prob by its length; above 0 favours longer sequences, 0 compares raw sums.',
    formula: 'score = Σ log π(yₜ) / |y|^length_penalty',
  },
  num_beam_groups: {
    term: 'num_beam_groups',
    text: 'Diverse beam search splits the beams into this many groups that decode one after another at every step.',
  },
  diversity_penalty: {
    term: 'diversity penalty',
    text: 'Subtracted from a token’s log-prob once for every earlier group that chose the same token at this step, so groups are pushed apart.',
    formula: 'log π(v) − λ · #{earlier groups that chose v}',
  },
  num_return_sequences: {
    term: 'num_return_sequences',
    text: 'How many finished sequences the run returns (the best beams, or independent samples).',
  },
  n: {
    term: 'N',
    text: 'How many complete samples best-of-N or rejection sampling draws before choosing.',
  },
  reward_model: {
    term: 'reward model',
    text: 'A sequence classifier that reads the whole text and returns one number, higher for text closer to the attribute it was trained on.',
  },
  implicit: {
    term: 'implicit reward',
    text: 'A DPO-tuned model and its reference define a reward without a reward model: the log-ratio of their token probabilities, times DPO’s β.',
    formula: 'r(v) = β·(log π_tuned(v) − log π_ref(v))',
  },
  args_k: {
    term: 'k (ARGS)',
    text: 'ARGS scores only the k likeliest next tokens with the reward model at every step.',
  },
  args_w: {
    term: 'w (ARGS)',
    text: 'The weight of the reward model’s score against the token logit in ARGS.',
    formula: 'score(v) = logit(v) + w · RM(x, y<t, v)',
  },
  seed: {
    term: 'seed',
    text: 'Starts the random number generator: the same seed and settings give the same text.',
  },
  max_new_tokens: {
    term: 'max_new_tokens',
    text: 'The most tokens a run generates after the prompt; it stops earlier at the end-of-text token.',
  },
  distinct2: {
    term: 'distinct-2',
    text: 'The share of different word-piece pairs among all pairs in a set of texts: 1 means no pair repeats, near 0 means the text loops.',
    formula: 'distinct-2 = #unique bigrams / #bigrams',
  },
  kl: {
    term: 'KL',
    text: 'How far the decoded distribution moved from the base model, in nats, summed over the generated tokens (a bound for best-of-N and rejection, none for deterministic decoding); 0 means no change.',
    formula: 'KL = Σₜ Σᵥ q(v) (log q(v) − log π_base(v))',
  },
  oracle_positivity: {
    term: 'oracle positivity',
    text: 'A fixed scorer, independent of every model here: the sum of the AFINN-111 valences (−5 to +5) of the words in the text.',
    formula: 'positivity = Σ_words AFINN(word)',
  },
  oracle_conciseness: {
    term: 'oracle conciseness',
    text: 'A fixed scorer, independent of every model here: −0.25 for every word, so shorter text scores higher.',
    formula: 'conciseness = −0.25 · #words',
  },
  guidance_shift: {
    term: 'guidance shift',
    text: 'How much guidance changed the chosen token’s log-prob; it is positive on most tokens because the combined distribution is sharper, not only where the reward pushed.',
    formula: 'log q(y) − log π_base(y)',
  },
  token_reward: {
    term: 'token reward',
    text: 'The reward source’s value for the chosen token: the ARM’s log-prob (which also tracks how common a word is), or β·(log π_tuned − log π_ref) for implicit guidance.',
    formula: 'r(y) = log π_arm(y)',
  },
  reward_advantage: {
    term: 'reward advantage',
    text: 'What the reward prefers beyond fluency: the ARM’s log-prob of the chosen token minus the base model’s, so 0 means the ARM agrees with the base, above 0 means it likes the token more.',
    formula: 'a(y) = log π_arm(y) − log π_base(y)',
  },
  base_logprob: {
    term: 'base log-prob',
    text: 'The log-probability of the chosen token under the policy alone, before guidance or filters (0 = certain).',
    formula: 'log π_base(y | x, y<t)',
  },
  oracle_contribution: {
    term: 'oracle contribution',
    text: 'How much appending this token changed the oracle positivity of the text so far; a word is credited to the token that completes it.',
  },
  combined: {
    term: 'combined distribution',
    text: 'The distribution the token was decoded from: the base log-probs plus the weighted rewards, renormalised.',
    formula: 'q(v) = softmax(ℓ_base(v) + (1/β) Σᵢ wᵢ rᵢ(v))',
  },
  beam_score: {
    term: 'beam score',
    text: 'How beam search ranks a sequence: its summed log-prob, divided by its length to the power length_penalty when finished (Hugging Face semantics).',
    formula: 'score = Σ log π(yₜ) / |y|^length_penalty',
  },
  best_of_n_score: {
    term: 'best-of-N score',
    text: 'The reward model’s score of each complete sample; best-of-N returns the sample with the highest one.',
    formula: 'ŷ = argmax_i RM(x, yᵢ)',
  },
} as const satisfies Record<string, GlossaryEntry>;

export type GlossaryKey = keyof typeof GLOSSARY;

/**
 * A readable label for a reward-source key as the engine writes it ("arm:tiny-arm-positive",
 * "implicit:tiny-dpo-positive"), with its weight where known: "ARM tiny-arm-positive (weight 1)".
 * Unknown forms are returned as they are.
 */
export function rewardSourceLabel(key: string, weight?: number): string {
  const w = weight === undefined ? '' : ` (weight ${weight})`;
  if (key.startsWith('arm:')) return `ARM ${key.slice(4)}${w}`;
  if (key.startsWith('implicit:')) return `Implicit reward of ${key.slice(9)}${w}`;
  return `${key}${w}`;
}

/** Each reward source's weight in a run, keyed like the engine's `rewards` ("arm:ID" → weight, default 1). */
export function sourceWeights(run: { readonly arms?: readonly string[]; readonly tuned?: string; readonly spec: { readonly armWeights?: readonly number[] } } | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  (run?.arms ?? []).forEach((id, i) => (out[`arm:${id}`] = run?.spec.armWeights?.[i] ?? 1));
  if (run?.tuned) out[`implicit:${run.tuned}`] = 1;
  return out;
}
