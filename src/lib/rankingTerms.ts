/**
 * One-sentence explanations, each with its formula, of every term the ranking view shows (shown by
 * an ⓘ button, Info.svelte). The README's "What each number means → Ranking" is the long form.
 */
export interface RankingTerm {
  readonly term: string;
  readonly text: string;
  readonly formula: string;
}

export const RANKING_TERMS = {
  accuracy: {
    term: 'ranking accuracy',
    text: 'The share of pairs whose preferred ("chosen") response the scorer gives the higher score; an exact tie counts as half (Chen et al. count it as correct, RewardBench as wrong: half is the mean of the two).',
    formula: 'acc = (#{s(chosen) > s(rejected)} + ½·#ties) / n',
  },
  ties: {
    term: 'ties',
    text: 'Pairs whose two responses get exactly the same score (often two identical responses); each counts as half a correct pair.',
    formula: 'tie ⇔ s(chosen) = s(rejected)',
  },
  r: {
    term: 'R (ranking accuracy of the policy)',
    text: 'Chen et al.’s ranking accuracy of the policy π_θ: how often it gives the majority-preferred response the higher likelihood, on the pairs R* counts (α = 0.5 ties left out).',
    formula: 'R = mean 1[log π_θ(y_w|x) > log π_θ(y_l|x)]   (Chen et al. 2024, Def. 2.3)',
  },
  r_tilde: {
    term: 'R̃ (length-normalised ranking accuracy)',
    text: 'R with the mean token log-prob in place of the sum, so a longer response is not penalised for its length; it pairs with R̃*, which normalises the reference the same way.',
    formula: 'R̃ = mean 1[ (1/|y_w|) log π_θ(y_w|x) > (1/|y_l|) log π_θ(y_l|x) ]   (Chen et al. 2024, Remark 2.4)',
  },
  r_star: {
    term: 'R* (idealized ranking accuracy)',
    text: 'The ranking accuracy a policy that optimised DPO/RLHF perfectly from the reference model π_ref, with coefficient β, would reach on this data; α = 0.5 pairs are left out and the majority side is y_w.',
    formula: 'R* = mean 1[ log π_ref(y_w) − log π_ref(y_l) + (1/β)·logit(α) > 0 ]   (Chen et al. 2024, Eq. 3)',
  },
  gap: {
    term: 'alignment gap',
    text: 'How far the tuned policy’s ranking accuracy falls short of the idealized one from its reference model, both on the same pairs; shown only when both are defined.',
    formula: 'gap(β) = R*(π_ref; β) − R(π_θ)',
  },
  ece: {
    term: 'ECE (expected calibration error)',
    text: 'How far the scorer’s preference probabilities are from how often that side is preferred, averaged over equal-width probability bins weighted by their size; each pair counts in both orderings.',
    formula: 'p = σ(s·margin);  ECE = Σ_b (n_b/N)·|mean p_b − share preferred_b|',
  },
  ace: {
    term: 'ACE (average calibration error)',
    text: 'Like ECE but every non-empty bin weighs the same, so sparse confident bins count as much as the crowded middle (Zeng et al.).',
    formula: 'ACE = (1/#non-empty bins)·Σ_b |mean p_b − share preferred_b|',
  },
  alpha: {
    term: 'α',
    text: 'The share of raters who prefer the "chosen" response (from the data); α < 0.5 means the majority prefers the other one, and α = 0.5 is a tie.',
    formula: 'α(x, y_w, y_l) = P(y_w ≻ y_l | x)',
  },
  default_alpha: {
    term: 'α when the data has none',
    text: 'The share of raters assumed to prefer "chosen" for pairs without an alpha field, so R* can be computed anyway (Chen et al.’s code assumes 0.75); the result says when it was used.',
    formula: 'α := this value for pairs with no alpha',
  },
  orderings: {
    term: 'both orderings',
    text: 'Each pair is counted twice for calibration: (chosen, rejected) with label 1 and (rejected, chosen) with label 0, so the diagram is symmetric and a constant ½ is calibrated.',
    formula: '(σ(s·d), 1) and (σ(−s·d), 0), d = s(chosen) − s(rejected)',
  },
  beta: {
    term: 'β (DPO’s reward scale)',
    text: 'Multiplies the log-ratio in the DPO implicit reward and sets R*’s optimum; its default is the tuned model’s training β from models/manifest.json (0.1 for the bundled DPO models), else 1.',
    formula: 'r(x, y) = β·(log π_tuned(y|x) − log π_ref(y|x))',
  },
  ece_scale: {
    term: 'ECE scale',
    text: 'The factor s that turns a margin into a preference probability, the scorer’s own: 1 for a reward model and for the implicit reward (β is in it), the training β_r for an ARM, a temperature fitted on the pairs for a policy (in-sample; n/a when none beats ½).',
    formula: 'p(chosen ≻ rejected) = σ(s·(s(chosen) − s(rejected)))',
  },
  tokens: {
    term: 'special tokens',
    text: 'BOS is put before the prompt where the tokenizer’s own rules add one; EOS is put after each finished response for token-level scorers (the bundled ARM and DPO models were trained so), and counts as one of its tokens.',
    formula: '[BOS] prompt ‖ response [EOS]',
  },
} as const satisfies Record<string, RankingTerm>;

export type RankingTermKey = keyof typeof RANKING_TERMS;
