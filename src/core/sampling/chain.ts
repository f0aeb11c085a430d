/**
 * Builds a sampler chain from a plain, serialisable list (it crosses the worker boundary and lives
 * in URLs). Filters run in list order; the last entry is the selector.
 */
import { argmax, logSoftmax, softmaxStats } from '../math/logits.ts';
import type { Filter, SamplerContext } from './filter.ts';
import { minNewTokens } from './minNewTokens.ts';
import { minP } from './minP.ts';
import { noRepeatNgram } from './noRepeatNgram.ts';
import { repetitionPenalty } from './repetitionPenalty.ts';
import type { Rng } from './rng.ts';
import { temperature } from './temperature.ts';
import { topK } from './topK.ts';
import { topP } from './topP.ts';

export type SamplerSpec =
  | { readonly type: 'repetition_penalty'; readonly penalty: number }
  | { readonly type: 'no_repeat_ngram'; readonly size: number }
  | { readonly type: 'min_new_tokens'; readonly n: number; readonly eosTokenIds: readonly number[] }
  | { readonly type: 'temperature'; readonly temperature: number }
  | { readonly type: 'top_k'; readonly k: number }
  | { readonly type: 'top_p'; readonly p: number }
  | { readonly type: 'min_p'; readonly p: number }
  | { readonly type: 'greedy' }
  | { readonly type: 'dist' };

export interface SamplerChain {
  readonly filters: readonly Filter[];
  readonly selector: 'greedy' | 'dist';
  /**
   * Applies the filters to a copy of `scores` (the input is never modified). The result is read-only
   * and valid until the next call: the chain's own scratch row, or `scores` itself when there are no
   * filters (or all of them together removed every token).
   */
  filter(scores: Float32Array, ctx: SamplerContext): Float32Array;
  /** Filters then selects. `rng` is required for 'dist'. */
  sample(scores: Float32Array, ctx: SamplerContext, rng?: Rng): number;
}

function makeFilter(s: SamplerSpec): Filter | null {
  switch (s.type) {
    case 'repetition_penalty':
      return repetitionPenalty(s.penalty);
    case 'no_repeat_ngram':
      return noRepeatNgram(s.size);
    case 'min_new_tokens':
      return minNewTokens(s.n, s.eosTokenIds);
    case 'temperature':
      return temperature(s.temperature);
    case 'top_k':
      return topK(s.k);
    case 'top_p':
      return topP(s.p);
    case 'min_p':
      return minP(s.p);
    default:
      return null;
  }
}

/** Draws an index from softmax(scores) with one uniform number (inverse CDF in index order). */
export function sampleFromScores(scores: Float32Array, rng: Rng): number {
  // p[i] = exp(log_softmax(scores)[i]), the float32 log-prob of logSoftmax, read without building the array
  const st = softmaxStats(scores);
  const lp = st.finite ? null : logSoftmax(scores);
  const u = rng.uniform();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < scores.length; i++) {
    const pi = Math.exp(lp ? (lp[i] as number) : Math.fround((scores[i] as number) - st.max - st.logSum));
    if (pi === 0) continue;
    last = i;
    cum += pi;
    if (u < cum) return i;
  }
  if (last < 0) throw new Error('every token was filtered out');
  return last; // rounding left u >= the final cumulative sum
}

export function buildChain(specs: readonly SamplerSpec[]): SamplerChain {
  const last = specs[specs.length - 1];
  if (!last || (last.type !== 'greedy' && last.type !== 'dist')) {
    throw new Error('a sampler chain must end with a selector: "greedy" or "dist"');
  }
  const filters: Filter[] = [];
  for (const s of specs.slice(0, -1)) {
    if (s.type === 'greedy' || s.type === 'dist') throw new Error(`selector "${s.type}" may only be the last entry of the chain`);
    const f = makeFilter(s);
    if (f) filters.push(f);
  }
  const selector = last.type;
  // One scratch row per chain, overwritten by each call: a fresh vocabulary-sized array per step
  // is garbage whose collection cost more than the filters themselves at 50k tokens.
  let scratch: Float32Array | null = null;
  const filter = (scores: Float32Array, ctx: SamplerContext): Float32Array => {
    if (filters.length === 0) return scores; // nothing to apply: no copy (callers only read the result)
    if (scratch?.length !== scores.length) scratch = new Float32Array(scores.length);
    const out = scratch;
    out.set(scores);
    for (const f of filters) f.apply(out, ctx);
    // All-masked row (research/algorithms.md §1.5): fall back to the unfiltered scores.
    for (let i = 0; i < out.length; i++) if ((out[i] as number) > -Infinity) return out;
    return scores;
  };
  return {
    filters,
    selector,
    filter,
    sample(scores, ctx, rng) {
      const f = filter(scores, ctx);
      if (selector === 'greedy') return argmax(f);
      if (!rng) throw new Error('the "dist" selector needs a seeded Rng');
      return sampleFromScores(f, rng);
    },
  };
}

/** Hugging Face generation options that shape the chain. */
export interface HfSamplingOptions {
  readonly do_sample?: boolean;
  readonly temperature?: number;
  readonly top_k?: number;
  readonly top_p?: number;
  readonly min_p?: number;
  readonly repetition_penalty?: number;
  readonly no_repeat_ngram_size?: number;
  readonly min_new_tokens?: number;
}

/**
 * The chain Hugging Face `generate()` would apply for these options: processors (min_new_tokens,
 * repetition penalty, no-repeat n-gram), then, only when sampling, warpers temperature → top-k → top-p → min-p.
 * HF defaults: top_k 50 when sampling; temperature 1; top_p 1.
 */
export function chainFromHf(o: HfSamplingOptions, eosTokenIds: readonly number[] = []): SamplerSpec[] {
  const specs: SamplerSpec[] = [];
  if (o.min_new_tokens) specs.push({ type: 'min_new_tokens', n: o.min_new_tokens, eosTokenIds });
  if (o.repetition_penalty !== undefined && o.repetition_penalty !== 1) specs.push({ type: 'repetition_penalty', penalty: o.repetition_penalty });
  if (o.no_repeat_ngram_size) specs.push({ type: 'no_repeat_ngram', size: o.no_repeat_ngram_size });
  if (!o.do_sample) return [...specs, { type: 'greedy' }];
  if (o.temperature !== undefined && o.temperature !== 1) specs.push({ type: 'temperature', temperature: o.temperature });
  const k = o.top_k ?? 50;
  if (k > 0) specs.push({ type: 'top_k', k });
  if (o.top_p !== undefined && o.top_p < 1) specs.push({ type: 'top_p', p: o.top_p });
  if (o.min_p) specs.push({ type: 'min_p', p: o.min_p });
  return [...specs, { type: 'dist' }];
}

/** Short labels of a chain in the order it runs, under the Hugging Face names ("top_k 50", …, "sample"). */
export function describeChain(specs: readonly SamplerSpec[]): string[] {
  return specs.map((s) => {
    switch (s.type) {
      case 'repetition_penalty':
        return `repetition_penalty ${s.penalty}`;
      case 'no_repeat_ngram':
        return `no_repeat_ngram_size ${s.size}`;
      case 'min_new_tokens':
        return `min_new_tokens ${s.n}`;
      case 'temperature':
        return `temperature ${s.temperature}`;
      case 'top_k':
        return `top_k ${s.k}`;
      case 'top_p':
        return `top_p ${s.p}`;
      case 'min_p':
        return `min_p ${s.p}`;
      case 'greedy':
        return 'argmax';
      case 'dist':
        return 'sample';
    }
  });
}
