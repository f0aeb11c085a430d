/**
 * One entry point for every decoding strategy, shared by the CLI and the worker: a serialisable
 * StrategySpec (Hugging Face generation_config names) plus the loaded models → DecodeEvents.
 * Parameters are validated before any model runs, and errors name the offending field.
 */
import type { LanguageModel, SequenceRewardModel } from '../model/types.ts';
import { buildChain, chainFromHf, type HfSamplingOptions, type SamplerSpec } from '../sampling/chain.ts';
import type { AbortSignalLike } from './abort.ts';
import { args } from './args.ts';
import { beamSearch, type BeamOptions } from './beam.ts';
import { bestOfN, rejectionSampling } from './bestOfN.ts';
import { diverseBeamSearch } from './diverseBeam.ts';
import type { DecodeEvent } from './events.ts';
import { ModelSource, genarmGuidance, implicitGuidance, type Guidance } from './modelSource.ts';
import type { LogitsProcessor } from './processors.ts';
import { sample } from './sample.ts';

export const STRATEGIES = ['greedy', 'sample', 'beam', 'diverse_beam', 'genarm', 'implicit', 'args', 'best_of_n', 'rejection'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Hugging Face `generation_config` names. */
export interface GenerationConfig extends HfSamplingOptions {
  readonly max_new_tokens?: number;
  readonly num_beams?: number;
  readonly num_beam_groups?: number;
  readonly diversity_penalty?: number;
  readonly length_penalty?: number;
  readonly early_stopping?: boolean | 'never';
  readonly num_return_sequences?: number;
  readonly seed?: number;
}

export interface StrategySpec {
  readonly strategy: StrategyName;
  readonly config: GenerationConfig;
  /**
   * DPO's β: the scale of the implicit reward r = β·(ℓ_tuned − ℓ_ref) (implicit guidance's reported
   * token rewards, and its guidance term). @default the tuned model's training β
   * (`StrategyModels.tunedBeta`), else 1.
   * @deprecated meaning, kept for old specs/URLs: given WITHOUT `guidanceBeta`, it is read as the
   * old guidance strength (guidanceBeta = beta, reward scale 1), which decodes exactly as before.
   */
  readonly beta?: number;
  /**
   * Guidance strength (GenARM's β, the KL coefficient): s = ℓ_base + (1/guidanceBeta)·r, with
   * r = Σ wᵢ·ℓ_armᵢ (GenARM) or r = β·(ℓ_tuned − ℓ_ref) (implicit). Smaller is stronger.
   * @default 1 for GenARM; β for implicit (so s = ℓ_base + ℓ_tuned − ℓ_ref)
   */
  readonly guidanceBeta?: number;
  /** Weights of the ARMs, in the order of `StrategyModels.arms`. @default 1 each */
  readonly armWeights?: readonly number[];
  readonly argsK?: number;
  readonly argsWeight?: number;
  /** Best-of-N / rejection candidates. @default 8 */
  readonly n?: number;
  /** RSO β. @default 0.5 */
  readonly rsoBeta?: number;
  /**
   * Reward-guided beam search (strategy beam with a sequence reward model; core/search/beam.ts):
   * beams ranked by beam score + rewardWeight·RM(prefix). @default 1
   */
  readonly rewardWeight?: number;
  /** Guided beams: rescore every k generated tokens (0: only hypotheses that finish). @default 1 */
  readonly rescoreEvery?: number;
  /** Guided beams: each beam's top-c tokens join beam search's 2·num_beams candidates at a rescoring step. @default 0 */
  readonly rmCandidates?: number;
  /** Top tokens each step event reports per row (0: none, which is faster). @default 10 */
  readonly traceTopK?: number;
}

export interface StrategyModels {
  readonly policy: LanguageModel;
  readonly arms?: readonly LanguageModel[];
  readonly tuned?: LanguageModel;
  readonly ref?: LanguageModel;
  readonly rewardModel?: SequenceRewardModel;
  /** The tuned model's training β (models/manifest.json "beta", or its model card): implicit guidance's default reward scale. */
  readonly tunedBeta?: number;
  /**
   * Ids the tokenizer defines (its vocabulary size), when the models' logit rows are wider (padded
   * vocabularies): guided decoding masks ids at or above it, which no text can contain.
   */
  readonly tokenizerSize?: number;
}

/** The two β's of a guided run, resolved from a spec (see StrategySpec.beta and guidanceBeta). */
export interface GuidanceBetas {
  /** Guidance strength: the reward is divided by it. */
  readonly guidanceBeta: number;
  /** DPO reward scale for implicit rewards (1 under the deprecated reading of `beta`). */
  readonly rewardBeta: number;
  /** True when `beta` was given without `guidanceBeta` and read with its old meaning. */
  readonly deprecatedBeta: boolean;
}

export function guidanceBetas(spec: Pick<StrategySpec, 'beta' | 'guidanceBeta'>, m: Pick<StrategyModels, 'arms' | 'tunedBeta'>): GuidanceBetas {
  const implicit = !(m.arms ?? []).length;
  if (spec.guidanceBeta === undefined && spec.beta !== undefined) return { guidanceBeta: spec.beta, rewardBeta: 1, deprecatedBeta: true };
  const rewardBeta = spec.beta ?? m.tunedBeta ?? 1;
  return { guidanceBeta: spec.guidanceBeta ?? (implicit ? rewardBeta : 1), rewardBeta, deprecatedBeta: false };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DEFAULT_MAX_NEW_TOKENS = 40;

function need(cond: boolean, msg: string): void {
  if (!cond) throw new ConfigError(msg);
}

function guidanceFor(spec: StrategySpec, m: StrategyModels): Guidance | undefined {
  const arms = m.arms ?? [];
  if (!arms.length && !m.tuned && !m.ref) return undefined;
  const { guidanceBeta, rewardBeta, deprecatedBeta } = guidanceBetas(spec, m);
  need(
    guidanceBeta > 0 && Number.isFinite(guidanceBeta),
    deprecatedBeta
      ? `beta must be > 0 (got ${guidanceBeta}); given alone it is read as guidance_beta, the guidance strength (smaller is stronger)`
      : `guidance_beta must be > 0 (got ${guidanceBeta}); smaller guidance_beta means stronger guidance`,
  );
  if (arms.length) {
    need(deprecatedBeta || spec.beta === undefined, `beta is DPO's reward scale for implicit guidance; GenARM has none: set its strength with guidance_beta (got beta ${spec.beta})`);
    const w = spec.armWeights ?? [];
    need(w.length === 0 || w.length === arms.length, `got ${w.length} ARM weights for ${arms.length} ARMs`);
    for (const x of w) need(Number.isFinite(x), `ARM weight must be a finite number (got ${x})`);
    return genarmGuidance(arms.map((model, i) => ({ model, weight: w[i] ?? 1 })), guidanceBeta);
  }
  need(!!m.tuned && !!m.ref, 'implicit guidance needs both --tuned and --ref');
  need(rewardBeta > 0 && Number.isFinite(rewardBeta), `beta must be > 0 (got ${rewardBeta}); it is DPO's β, the scale of the implicit reward β·(ℓ_tuned − ℓ_ref)`);
  return implicitGuidance(m.tuned as LanguageModel, m.ref as LanguageModel, guidanceBeta, rewardBeta);
}

/** Validates everything that can be checked before a model runs. */
export function validate(spec: StrategySpec, m: StrategyModels, promptLength: number): void {
  const c = spec.config;
  need((STRATEGIES as readonly string[]).includes(spec.strategy), `unknown strategy "${spec.strategy}"; use one of ${STRATEGIES.join(', ')}`);
  need(promptLength > 0, 'the prompt is empty: give some text to continue');
  const maxNew = c.max_new_tokens ?? DEFAULT_MAX_NEW_TOKENS;
  need(Number.isInteger(maxNew) && maxNew >= 1, `max_new_tokens must be an integer >= 1 (got ${maxNew})`);
  const ctx = Math.min(m.policy.contextLength, ...(m.arms ?? []).map((a) => a.contextLength), m.tuned?.contextLength ?? Infinity, m.ref?.contextLength ?? Infinity);
  need(promptLength < ctx, `the prompt has ${promptLength} tokens but the context is ${ctx}: shorten the prompt`);
  need(promptLength + maxNew <= ctx, `prompt (${promptLength} tokens) + max_new_tokens (${maxNew}) exceeds the context of ${ctx} tokens: lower max_new_tokens to ${ctx - promptLength} or less`);
  if (c.temperature !== undefined) need(c.temperature > 0 || (c.temperature === 0 && !c.do_sample), `temperature must be > 0 when sampling (got ${c.temperature})`);
  if (c.top_p !== undefined) need(c.top_p > 0 && c.top_p <= 1, `top_p must be in (0, 1] (got ${c.top_p})`);
  if (c.top_k !== undefined) need(Number.isInteger(c.top_k) && c.top_k >= 0, `top_k must be an integer >= 0 (got ${c.top_k})`);
  if (c.min_p !== undefined) need(c.min_p >= 0 && c.min_p <= 1, `min_p must be in [0, 1] (got ${c.min_p})`);
  if (c.min_new_tokens !== undefined) need(Number.isInteger(c.min_new_tokens) && c.min_new_tokens >= 0 && c.min_new_tokens <= maxNew, `min_new_tokens must be an integer in [0, max_new_tokens] (got ${c.min_new_tokens})`);
  if (c.repetition_penalty !== undefined) need(c.repetition_penalty > 0, `repetition_penalty must be > 0 (got ${c.repetition_penalty})`);
  if (c.num_return_sequences !== undefined) need(Number.isInteger(c.num_return_sequences) && c.num_return_sequences >= 1, `num_return_sequences must be an integer >= 1 (got ${c.num_return_sequences})`);
  const s = spec.strategy;
  if (s === 'genarm') need((m.arms ?? []).length > 0, 'strategy genarm needs at least one --arm MODEL[=WEIGHT]');
  if (s === 'implicit') need(!!m.tuned && !!m.ref, 'strategy implicit needs --tuned MODEL and --ref MODEL');
  if (s === 'args' || s === 'best_of_n' || s === 'rejection') need(!!m.rewardModel, `strategy ${s} needs --reward-model MODEL (a sequence reward model)`);
  if (s === 'beam' || s === 'diverse_beam') need(!c.do_sample, `strategy ${s} does not sample: drop do_sample`);
  if (s === 'diverse_beam') {
    const b = c.num_beams ?? 4;
    const g = c.num_beam_groups ?? 2;
    need(g >= 2, `num_beam_groups must be >= 2 for diverse_beam (got ${g}); use --strategy beam for one group`);
    need(Number.isInteger(b) && b % g === 0, `num_beams (${b}) must be divisible by num_beam_groups (${g})`);
    need((c.diversity_penalty ?? 1) > 0, `diversity_penalty must be > 0 with beam groups (got ${c.diversity_penalty})`);
  }
  if (s === 'beam' || s === 'diverse_beam') {
    const b = c.num_beams ?? 4;
    need(Number.isInteger(b) && b >= 1, `num_beams must be an integer >= 1 (got ${b})`);
    need((c.num_return_sequences ?? 1) <= b, `num_return_sequences (${c.num_return_sequences}) must be <= num_beams (${b})`);
  }
  if (spec.rewardWeight !== undefined || spec.rescoreEvery !== undefined || spec.rmCandidates !== undefined) {
    need(s === 'beam', `reward_weight, rescore_every and rm_candidates guide --strategy beam with a sequence reward model (got strategy ${s}): drop them or use --strategy beam`);
    need(!!m.rewardModel, 'reward_weight, rescore_every and rm_candidates need --reward-model MODEL (a sequence reward model) to guide the beams');
  }
  if (s === 'beam' && m.rewardModel) {
    const w = spec.rewardWeight ?? 1;
    const k = spec.rescoreEvery ?? 1;
    const c = spec.rmCandidates ?? 0;
    need(Number.isFinite(w), `reward_weight must be a finite number (got ${w}); 0 is plain beam search`);
    need(Number.isInteger(k) && k >= 0, `rescore_every must be an integer >= 0 or "end" (got ${k}); 1 rescores every token, 0 (end) only finished hypotheses`);
    need(Number.isInteger(c) && c >= 0, `rm_candidates must be an integer >= 0 (got ${c}); 0 keeps beam search's own 2·num_beams candidates`);
  }
  if (s === 'rejection') need((spec.rsoBeta ?? 0.5) > 0, `rso_beta must be > 0 (got ${spec.rsoBeta})`);
  if (s === 'best_of_n' || s === 'rejection') need(Number.isInteger(spec.n ?? 8) && (spec.n ?? 8) >= 1, `n must be an integer >= 1 (got ${spec.n})`);
  guidanceFor(spec, m);
  buildChain(chainOf(spec));
}

/** top_k when a guided strategy (genarm, implicit) samples and none is given: GenARM's reference samples the full product. */
export const GUIDED_DEFAULT_TOP_K = 0;

/**
 * The sampler chain a (non-beam) strategy runs: Hugging Face's order for its generation config.
 * Defaults are Hugging Face's (top_k 50 when sampling), except for the guided strategies genarm and
 * implicit, which sample the whole combined distribution by default (top_k 0, top_p 1) as GenARM's
 * reference code does.
 */
export function chainOf(spec: StrategySpec, eos: readonly number[] = []): SamplerSpec[] {
  const c = spec.config;
  const sampling = spec.strategy === 'sample' || spec.strategy === 'best_of_n' || spec.strategy === 'rejection' ? true : !!c.do_sample;
  const guided = spec.strategy === 'genarm' || spec.strategy === 'implicit';
  return chainFromHf({ ...c, ...(guided && c.top_k === undefined ? { top_k: GUIDED_DEFAULT_TOP_K } : {}), do_sample: sampling && c.temperature !== 0 }, eos);
}

/** The processors (no warpers) for beam search, which applies them to log-softmax scores. */
function processorsOf(spec: StrategySpec, promptLength: number, eos: readonly number[]): LogitsProcessor[] {
  const { repetition_penalty, no_repeat_ngram_size, min_new_tokens } = spec.config;
  const chain = buildChain(chainFromHf({ repetition_penalty, no_repeat_ngram_size, min_new_tokens }, eos));
  return chain.filters.map((f) =>
    Object.assign(
      (row: Float32Array, history: readonly number[], policy?: Float32Array) => f.apply(row, { history, generated: history.length - promptLength, ...(policy ? { policyScores: policy } : {}) }),
      { maskOnly: f.maskOnly === true },
    ),
  );
}

/** Runs a strategy. Validation errors are thrown before the first model call. */
export function decode(spec: StrategySpec, m: StrategyModels, prompt: readonly number[], signal?: AbortSignalLike): AsyncGenerator<DecodeEvent> {
  validate(spec, m, prompt.length);
  const c = spec.config;
  const maxNewTokens = c.max_new_tokens ?? DEFAULT_MAX_NEW_TOKENS;
  const source = new ModelSource(m.policy, guidanceFor(spec, m), m.tokenizerSize);
  const common = { maxNewTokens, signal, seed: c.seed ?? 0, topK: spec.traceTopK ?? 10 };
  const beamOptions = (): BeamOptions => ({
    ...common,
    numBeams: c.num_beams ?? 4,
    lengthPenalty: c.length_penalty ?? 1,
    earlyStopping: c.early_stopping ?? false,
    numReturnSequences: c.num_return_sequences ?? 1,
    processors: processorsOf(spec, prompt.length, m.policy.eosTokenIds),
  });
  switch (spec.strategy) {
    case 'beam':
      return beamSearch(source, prompt, {
        ...beamOptions(),
        ...(m.rewardModel ? { reward: { model: m.rewardModel, weight: spec.rewardWeight ?? 1, rescoreEvery: spec.rescoreEvery ?? 1, candidates: spec.rmCandidates ?? 0 } } : {}),
      });
    case 'diverse_beam':
      return diverseBeamSearch(source, prompt, {
        ...beamOptions(),
        numBeamGroups: c.num_beam_groups ?? 2,
        diversityPenalty: c.diversity_penalty ?? 1,
      });
    case 'args':
      return args(source, m.rewardModel as SequenceRewardModel, prompt, {
        ...common,
        k: spec.argsK ?? 10,
        weight: spec.argsWeight ?? 1,
        method: c.do_sample ? 'stochastic' : 'greedy',
        temperature: c.temperature ?? 0.7,
      });
    case 'best_of_n':
      return bestOfN(source, m.rewardModel as SequenceRewardModel, prompt, { ...common, chain: chainOf(spec, m.policy.eosTokenIds), n: spec.n ?? 8 });
    case 'rejection':
      return rejectionSampling(source, m.rewardModel as SequenceRewardModel, prompt, {
        ...common,
        chain: chainOf(spec, m.policy.eosTokenIds),
        n: spec.n ?? 8,
        accept: c.num_return_sequences ?? 1,
        rsoBeta: spec.rsoBeta ?? 0.5,
      });
    default:
      return sample(source, prompt, { ...common, chain: chainOf(spec, m.policy.eosTokenIds), numReturnSequences: c.num_return_sequences ?? 1 });
  }
}
