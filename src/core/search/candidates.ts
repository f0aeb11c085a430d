/**
 * Candidate sets for preference data: k responses to one prompt, drawn with one of three methods,
 * with the set's diversity. One entry point for the CLI (`decoding-lab candidates`), the worker's
 * `candidates` request and the page.
 *
 * - `sample`: plain sampling, k rows with seeds forked from `seed` (sample.ts, num_return_sequences k).
 * - `nc_sample`: negatively-correlated sampling (ncSample.ts): candidate j avoids the n-grams of
 *   candidates < j; with nc_penalty 0 it is exactly `sample` with the same seed.
 * - `diverse_beam`: Hugging Face group beam search with num_beams = k and, unless given,
 *   num_beam_groups = k (one beam per group), returning all k beams (diverseBeam.ts); deterministic.
 *
 * Each candidate's `logprob` is the summed log-probability of its tokens under the policy's raw
 * distribution (the steps' `logprob`, before any processor or penalty), so the methods compare on one
 * scale (a diverse-beam score would include diversity penalties and length normalisation).
 */
import { distributionDistance, setDiversity, type SetDiversity } from '../metrics/setDiversity.ts';
import type { LanguageModel, Tokenizer } from '../model/types.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent, SequenceResult } from './events.ts';
import { ModelSource } from './modelSource.ts';
import { checkNcOptions, ncSample, NC_DEFAULT_NGRAM, NC_DEFAULT_PENALTY } from './ncSample.ts';
import { ConfigError, chainOf, decode, validate, type GenerationConfig, type StrategySpec } from './strategy.ts';

export const CANDIDATE_METHODS = ['nc_sample', 'diverse_beam', 'sample'] as const;
export type CandidateMethod = (typeof CANDIDATE_METHODS)[number];

export interface CandidateOptions {
  /** Hugging Face generation_config names (max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, no_repeat_ngram_size, min_new_tokens, diversity_penalty, num_beam_groups, length_penalty). k and seed come from the request. */
  readonly config?: GenerationConfig;
  /** nc_sample's λ. @default 1 */
  readonly ncPenalty?: number;
  /** nc_sample's n-gram size (1 unigrams, 2 bigrams). @default 2 */
  readonly ncNgram?: number;
  /** Also compute diversity.distribution_distance (one more batched pass of the policy over the candidates). @default false */
  readonly distributionDistance?: boolean;
}

export interface CandidateRequest {
  readonly policy: LanguageModel;
  readonly tokenizer: Pick<Tokenizer, 'decode'> & { readonly vocabSize?: number };
  /** The prompt's token ids (BOS included where wanted). */
  readonly promptIds: readonly number[];
  readonly method: CandidateMethod;
  readonly k: number;
  /** @default 0 */
  readonly seed?: number;
  readonly options?: CandidateOptions;
  readonly signal?: AbortSignalLike;
  /** Every decode event (progress for a page). */
  readonly onEvent?: (e: DecodeEvent) => void;
}

export interface Candidate {
  readonly text: string;
  readonly tokenIds: readonly number[];
  /** Σ log p_policy(token | prefix) over the candidate's tokens (raw distribution). */
  readonly logprob: number;
  readonly finishReason: SequenceResult['finishReason'];
}

export interface CandidateSet {
  readonly method: CandidateMethod;
  readonly seed: number;
  readonly k: number;
  readonly candidates: readonly Candidate[];
  readonly diversity: SetDiversity;
}

/** The generation config and spec a method runs with (k and seed folded in). */
export function methodSpec(method: CandidateMethod, k: number, seed: number, config: GenerationConfig = {}): StrategySpec {
  if (!(CANDIDATE_METHODS as readonly string[]).includes(method)) throw new ConfigError(`unknown method "${method}"; use one of ${CANDIDATE_METHODS.join(', ')}`);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`k must be an integer >= 1 (got ${k})`);
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer (got ${seed})`);
  if (method === 'diverse_beam') {
    if (k < 2) throw new ConfigError(`diverse_beam needs k >= 2 (got ${k}): one beam has nothing to differ from`);
    const { do_sample: _s, temperature: _t, top_k: _k, top_p: _p, min_p: _m, ...rest } = config;
    return { strategy: 'diverse_beam', config: { ...rest, num_beams: k, num_beam_groups: config.num_beam_groups ?? k, num_return_sequences: k, seed }, traceTopK: 0 };
  }
  return { strategy: 'sample', config: { ...config, do_sample: true, num_return_sequences: k, seed }, traceTopK: 0 };
}

/** Draws a candidate set. Parameters are checked before the model runs (ConfigError / RangeError naming the field). */
export async function generateCandidates(req: CandidateRequest): Promise<CandidateSet> {
  const seed = req.seed ?? 0;
  const spec = methodSpec(req.method, req.k, seed, req.options?.config);
  const models = { policy: req.policy, tokenizerSize: req.tokenizer.vocabSize };
  validate(spec, models, req.promptIds.length);
  let events: AsyncGenerator<DecodeEvent>;
  if (req.method === 'nc_sample') {
    const nc = { k: req.k, penalty: req.options?.ncPenalty ?? NC_DEFAULT_PENALTY, ngramSize: req.options?.ncNgram ?? NC_DEFAULT_NGRAM, maxNewTokens: spec.config.max_new_tokens ?? 40 };
    try {
      checkNcOptions(nc);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    events = ncSample(new ModelSource(req.policy, undefined, req.tokenizer.vocabSize), req.promptIds, { ...nc, chain: chainOf(spec, req.policy.eosTokenIds), seed, topK: 0, signal: req.signal });
  } else {
    events = decode(spec, models, req.promptIds, req.signal);
  }
  let sequences: readonly SequenceResult[] = [];
  for await (const e of events) {
    req.onEvent?.(e);
    if (e.type === 'done') sequences = e.sequences;
  }
  const candidates = sequences.map((s): Candidate => ({
    text: req.tokenizer.decode(s.tokenIds),
    tokenIds: s.tokenIds,
    logprob: s.steps.reduce((a, t) => a + t.logprob, 0),
    finishReason: s.finishReason,
  }));
  let diversity = setDiversity(candidates.map((c) => c.tokenIds), req.policy.eosTokenIds);
  if (req.options?.distributionDistance && !req.signal?.aborted) diversity = { ...diversity, distribution_distance: await distributionDistance(req.policy, req.promptIds, candidates.map((c) => c.tokenIds)) };
  return { method: req.method, seed, k: req.k, candidates, diversity };
}

/** One line of `decoding-lab candidates` (its JSONL contract). */
export interface CandidateLine {
  readonly prompt: string;
  readonly method: CandidateMethod;
  readonly candidates: readonly { readonly text: string; readonly token_ids: readonly number[]; readonly logprob: number }[];
  readonly diversity: SetDiversity;
  readonly seed: number;
}

export function candidateLine(prompt: string, set: CandidateSet): CandidateLine {
  return {
    prompt,
    method: set.method,
    candidates: set.candidates.map((c) => ({ text: c.text, token_ids: [...c.tokenIds], logprob: c.logprob })),
    diversity: set.diversity,
    seed: set.seed,
  };
}
