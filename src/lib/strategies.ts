/** What the strategy picker shows: one line of explanation and the formula per strategy. */
import type { StrategyName } from '../core/search/strategy.ts';

export const STRATEGY_INFO: Record<StrategyName, { label: string; line: string; formula: string }> = {
  greedy: { label: 'Greedy', line: 'Always take the most likely next token.', formula: 'y_t = argmax_v log π(v | x, y<t)' },
  sample: { label: 'Sampling', line: 'Draw the next token at random after temperature, top-k and top-p.', formula: 'y_t ~ softmax(top_p(top_k(logits / T)))' },
  beam: { label: 'Beam search', line: 'Keep the num_beams best partial sequences at every step (Hugging Face semantics).', formula: 'score = Σ log π(y_t) / |y|^length_penalty (with a reward model: ranked by score + w · RM(x, y≤t), RankGen-style)' },
  diverse_beam: { label: 'Diverse beam search', line: 'Beams in groups; a group is penalised for tokens earlier groups chose at this step (Vijayakumar et al.).', formula: 'log π(v) − λ · #{earlier groups chose v}' },
  genarm: { label: 'GenARM', line: 'Add an autoregressive reward model’s token log-probs to the base model’s (Xu et al. 2025).', formula: 's(v) = ℓ_base(v) + (1/β) Σᵢ wᵢ ℓ_armᵢ(v)' },
  implicit: { label: 'Implicit reward (DPO pair)', line: 'Guide with the log-ratio of a tuned model and its reference.', formula: 's(v) = ℓ_base(v) + (1/β) (ℓ_tuned(v) − ℓ_ref(v))' },
  args: { label: 'ARGS', line: 'Score the top-k candidates with a sequence reward model at every step (Khanov et al. 2024).', formula: 'score(v) = logit(v) + w · RM(x, y<t, v)' },
  best_of_n: { label: 'Best-of-N', line: 'Sample N continuations and rank them by a reward model.', formula: 'argmax_i RM(x, y_i), y_i ~ π' },
  rejection: { label: 'Rejection sampling (RSO)', line: 'Accept samples with probability exp((r − r_max)/β) (Liu et al. 2024).', formula: 'accept y if u < exp((RM(y) − max RM) / β)' },
};
