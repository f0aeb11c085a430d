/**
 * Negatively-correlated sampling (nc_sample): k candidates drawn one after another, each pushed away
 * from the n-grams the earlier candidates already used.
 *
 * Why: Zhang et al. 2025, "Cultivating Pluralism In Algorithmic Monoculture: The Community Alignment
 * Dataset" (arXiv 2507.09650) argue that candidate sets for preference data must be negatively
 * correlated (drawn to differ from each other), because independently sampled candidates are too
 * homogeneous to reveal where people's preferences differ. The paper gets this with a prompt: one
 * call asks the LLM for several responses that differ from each other. A 1M-parameter model follows
 * no such instruction, so here the conditioning on earlier candidates is made explicit, at the token
 * level, by the rule below (our token-level reading of the idea, not the paper's prompt).
 *
 * The exact rule. Candidates j = 0 … k−1 are sampled in order, each as one row of plain sampling
 * (sample.ts: the same NextTokenSource, the same sampler chain, the same score). For candidate j let
 *   G_j(g) = the number of earlier candidates i < j whose sequence contains the n-gram g,
 * where the n-grams of candidate i are those of (prompt + y_i) that end on a generated token (so a
 * bigram may start on the prompt's last token). At step t of candidate j, with h = the last n−1
 * tokens of (prompt + y_j,<t), every token v gets
 *   s′(v) = s(v) − λ · G_j(h ⊕ v)          (λ = `penalty`, n = `ngramSize`)
 * on the source's scores s (the policy's logits, or the guided combination), BEFORE the sampler
 * chain (repetition penalty, temperature, top-k, top-p, min-p, then the draw). EOS ids are never
 * penalised, so a candidate may end where an earlier one ended. G counts candidates, not
 * occurrences: an n-gram repeated inside one earlier candidate costs λ once, and the most a token
 * can lose is λ·j, like the Hamming penalty of diverse beam search (count of earlier groups).
 *
 * Randomness: candidate j draws from `new Rng(seed).fork(j)`, the stream plain sampling gives row j
 * (sample.ts), so with λ = 0 candidate j is exactly row j of `sample(…, { numReturnSequences: k })`
 * for the same seed (tests/core/ncSample.test.ts checks it).
 *
 * Score: as sample.ts, the summed log-probability of the chosen tokens under the source's
 * renormalised distribution (log_softmax of s, not s′): the candidate's likelihood under the model,
 * which the penalty does not change. `steps[].kl` is the KL of the distribution actually drawn from
 * (after the penalty and the chain) against the base policy.
 *
 * Cost: the candidates run one after another, each with its own prefill of the prompt (the source
 * interface tiles one prompt; it cannot keep a prompt cache across candidates).
 */
import { argmax } from '../math/logits.ts';
import { buildChain, sampleFromScores, type SamplerSpec } from '../sampling/chain.ts';
import { klFromScores } from '../sampling/kl.ts';
import { Rng } from '../sampling/rng.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent, FinishReason, SequenceResult } from './events.ts';
import type { NextTokenSource, RowDistribution } from './source.ts';
import { extend, rowStep, tracesOf, traceFor, type TraceNode } from './trace.ts';
import { samplerContext } from './sample.ts';

export interface NcSampleOptions {
  readonly maxNewTokens: number;
  /** The sampler chain (as sample.ts); must end with 'greedy' or 'dist'. */
  readonly chain: readonly SamplerSpec[];
  /** Candidates to draw (k >= 1). */
  readonly k: number;
  /** λ >= 0: subtracted from a token's score once per earlier candidate holding the n-gram it would complete. @default 1 */
  readonly penalty?: number;
  /** n of the penalised n-grams: 1 = unigrams (any token an earlier candidate generated), 2 = bigrams, … @default 2 */
  readonly ngramSize?: number;
  /** @default 0 */
  readonly seed?: number;
  /** Top tokens reported per row and step. @default 10 */
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

export const NC_DEFAULT_PENALTY = 1;
export const NC_DEFAULT_NGRAM = 2;

export function checkNcOptions(o: Pick<NcSampleOptions, 'k' | 'penalty' | 'ngramSize' | 'maxNewTokens'>): void {
  if (!Number.isInteger(o.k) || o.k < 1) throw new RangeError(`k must be an integer >= 1 (got ${o.k})`);
  const lambda = o.penalty ?? NC_DEFAULT_PENALTY;
  if (!Number.isFinite(lambda) || lambda < 0) throw new RangeError(`nc_penalty must be a finite number >= 0 (got ${lambda}); 0 is plain sampling`);
  const n = o.ngramSize ?? NC_DEFAULT_NGRAM;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`nc_ngram must be an integer >= 1 (got ${n}); 1 = unigrams, 2 = bigrams`);
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) throw new RangeError(`max_new_tokens must be an integer >= 1 (got ${o.maxNewTokens})`);
}

/**
 * The n-grams earlier candidates used, indexed by their first n−1 tokens: `counts(h)` maps each next
 * token v to G(h ⊕ v), the number of candidates whose sequence contains h ⊕ v.
 */
export class NgramMemory {
  private readonly byContext = new Map<string, Map<number, number>>();
  constructor(readonly n: number) {}

  /** Adds one candidate: the n-grams of prompt + generated that end on a generated token. */
  add(prompt: readonly number[], generated: readonly number[]): void {
    const seq = [...prompt, ...generated];
    const own = new Map<string, Set<number>>();
    for (let end = Math.max(prompt.length, this.n - 1); end < seq.length; end++) {
      const key = seq.slice(end - (this.n - 1), end).join(',');
      let s = own.get(key);
      if (!s) own.set(key, (s = new Set()));
      s.add(seq[end] as number);
    }
    for (const [key, tokens] of own) {
      let m = this.byContext.get(key);
      if (!m) this.byContext.set(key, (m = new Map()));
      for (const v of tokens) m.set(v, (m.get(v) ?? 0) + 1);
    }
  }

  /** G(h ⊕ v) for every v, where h = the last n−1 tokens of `history` (empty map when none). */
  counts(history: readonly number[]): ReadonlyMap<number, number> {
    if (history.length < this.n - 1) return EMPTY;
    return this.byContext.get(history.slice(history.length - (this.n - 1)).join(',')) ?? EMPTY;
  }
}
const EMPTY: ReadonlyMap<number, number> = new Map();

/** s′(v) = s(v) − λ·G(h ⊕ v) on a copy (returns `scores` itself when nothing changes); EOS ids are exempt. */
export function ncPenalize(scores: Float32Array, counts: ReadonlyMap<number, number>, lambda: number, eos: ReadonlySet<number>): Float32Array {
  if (lambda === 0 || counts.size === 0) return scores;
  let out: Float32Array | null = null;
  for (const [v, c] of counts) {
    if (eos.has(v) || v < 0 || v >= scores.length) continue;
    out ??= Float32Array.from(scores);
    out[v] = (out[v] as number) - lambda * c;
  }
  return out ?? scores;
}

/** Draws k negatively-correlated candidates (see the module comment for the rule). Emits one `done` with k sequences in draw order. */
export async function* ncSample(source: NextTokenSource, prompt: readonly number[], opts: NcSampleOptions): AsyncGenerator<DecodeEvent> {
  checkNcOptions(opts);
  const chain = buildChain(opts.chain);
  const lambda = opts.penalty ?? NC_DEFAULT_PENALTY;
  const memory = new NgramMemory(opts.ngramSize ?? NC_DEFAULT_NGRAM);
  const root = new Rng(opts.seed ?? 0);
  const eos = new Set(source.eosTokenIds);
  const topK = opts.topK ?? 10;
  const sequences: SequenceResult[] = [];
  try {
    for (let j = 0; j < opts.k; j++) {
      yield { type: 'progress', phase: 'sampling', done: j, total: opts.k };
      const rng = root.fork(j);
      const history = [...prompt];
      let node: TraceNode | null = null;
      let score = 0;
      let finish: FinishReason | null = null;
      let dist = (await source.start(prompt, 1))[0] as RowDistribution;
      for (let step = 0; step < opts.maxNewTokens; step++) {
        if (opts.signal?.aborted) {
          finish = 'aborted';
          break;
        }
        const scores = ncPenalize(dist.scores, memory.counts(history), lambda, eos);
        const filtered = chain.filter(scores, samplerContext(dist, history, step));
        const token = chain.selector === 'greedy' ? argmax(filtered) : sampleFromScores(filtered, rng);
        const trace = traceFor(dist, token, chain.selector === 'dist' ? klFromScores(filtered, dist.policy) : undefined);
        node = extend(node, trace);
        score += trace.combinedLogprob;
        history.push(token);
        yield { type: 'step', step, rows: [rowStep(dist, trace, { row: j, parent: j, group: 0, score }, topK, chain.filters.length ? filtered : undefined)] };
        if (eos.has(token)) finish = 'eos';
        else if (step + 1 === opts.maxNewTokens) finish = 'length';
        if (finish) break;
        dist = (await source.advance(null, Int32Array.of(token)))[0] as RowDistribution;
      }
      const steps = tracesOf(node);
      const tokenIds = steps.map((s) => s.tokenId);
      sequences.push({ tokenIds, score, finishReason: finish ?? 'length', group: 0, steps });
      source.dispose();
      memory.add(prompt, tokenIds);
      if (finish === 'aborted') break;
    }
  } finally {
    source.dispose();
  }
  yield { type: 'done', sequences };
}
