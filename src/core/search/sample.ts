/**
 * Greedy decoding and sampling over a NextTokenSource (the policy alone, or GenARM / implicit
 * guidance). All rows (num_return_sequences) run as one batch; a row stops at EOS (kept in its
 * output) and leaves the batch, or at max_new_tokens. Row i draws from `rng.fork(i)`, so its tokens
 * do not depend on how many rows run beside it.
 *
 * `score` (DESIGN §4) is the summed log-probability of the chosen tokens under the renormalised
 * distribution they were decoded from (log_softmax of the policy logits, or of the combined score
 * when guided), before temperature and filters. When the chain samples, each step's trace also
 * carries `kl`: the exact KL(q′ ‖ p) of the post-filter distribution q′ it drew from against the
 * base policy's raw distribution p (sampling/kl.ts).
 */
import { argmax } from '../math/logits.ts';
import { buildChain, sampleFromScores, type SamplerSpec } from '../sampling/chain.ts';
import type { SamplerContext } from '../sampling/filter.ts';
import { klFromScores } from '../sampling/kl.ts';
import { Rng } from '../sampling/rng.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent, FinishReason, RowStep, SequenceResult } from './events.ts';
import type { NextTokenSource, RowDistribution } from './source.ts';
import { extend, rowStep, tracesOf, traceFor, type TraceNode } from './trace.ts';

export interface SampleOptions {
  readonly maxNewTokens: number;
  /** The sampler chain; must end with 'greedy' or 'dist'. */
  readonly chain: readonly SamplerSpec[];
  /** @default 0 */
  readonly seed?: number;
  /** Independent sequences to draw (all rows are the same prompt). @default 1 */
  readonly numReturnSequences?: number;
  /** Top tokens reported per row and step. @default 10 */
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

interface Row {
  node: TraceNode | null;
  score: number;
  history: number[];
  finish: FinishReason | null;
}

/**
 * What the sampler chain sees of a row. Guided rows also carry the policy's own logits and, built
 * only if a filter reads them (the repetition penalty), its log-probs.
 */
export function samplerContext(dist: RowDistribution, history: readonly number[], generated: number): SamplerContext {
  const policyScores = dist.guided ? dist.policyLogits : undefined;
  if (!policyScores) return { history, generated };
  return {
    history,
    generated,
    policyScores,
    get policyLogprobs() {
      return dist.policy;
    },
  };
}

export async function* sample(source: NextTokenSource, prompt: readonly number[], opts: SampleOptions): AsyncGenerator<DecodeEvent> {
  const n = opts.numReturnSequences ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`num_return_sequences must be an integer >= 1 (got ${n})`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1) throw new RangeError(`max_new_tokens must be an integer >= 1 (got ${opts.maxNewTokens})`);
  const chain = buildChain(opts.chain);
  const rng = new Rng(opts.seed ?? 0);
  const rngs = Array.from({ length: n }, (_, i) => rng.fork(i));
  const eos = new Set(source.eosTokenIds);
  const k = opts.topK ?? 10;
  const rows: Row[] = Array.from({ length: n }, () => ({ node: null, score: 0, history: [...prompt], finish: null }));
  let active = Array.from({ length: n }, (_, i) => i); // rows still in the batch, in batch order
  try {
    let dists: RowDistribution[] = await source.start(prompt, n);
    for (let step = 0; step < opts.maxNewTokens && active.length > 0; step++) {
      if (opts.signal?.aborted) {
        for (const i of active) (rows[i] as Row).finish = 'aborted';
        break;
      }
      const tokens = new Int32Array(active.length);
      const events: RowStep[] = [];
      active.forEach((i, b) => {
        const row = rows[i] as Row;
        const dist = dists[b] as RowDistribution;
        // chain.sample, split so the step event can show which top tokens the filters removed
        const filtered = chain.filter(dist.scores, samplerContext(dist, row.history, step));
        const token = chain.selector === 'greedy' ? argmax(filtered) : sampleFromScores(filtered, rngs[i] as Rng);
        const trace = traceFor(dist, token, chain.selector === 'dist' ? klFromScores(filtered, dist.policy) : undefined);
        row.node = extend(row.node, trace);
        row.score += trace.combinedLogprob;
        row.history.push(token);
        tokens[b] = token;
        events.push(rowStep(dist, trace, { row: i, parent: i, group: 0, score: row.score }, k, chain.filters.length ? filtered : undefined));
        if (eos.has(token)) row.finish = 'eos';
        else if (step + 1 === opts.maxNewTokens) row.finish = 'length';
      });
      yield { type: 'step', step, rows: events };
      const keep = active.map((i, b) => [i, b] as const).filter(([i]) => (rows[i] as Row).finish === null);
      if (keep.length === 0) break;
      const parents = keep.length === active.length ? null : Int32Array.from(keep, ([, b]) => b);
      const next = Int32Array.from(keep, ([, b]) => tokens[b] as number);
      active = keep.map(([i]) => i);
      dists = await source.advance(parents, next);
    }
  } finally {
    source.dispose();
  }
  const sequences: SequenceResult[] = rows.map((r) => {
    const steps = tracesOf(r.node);
    return { tokenIds: steps.map((s) => s.tokenId), score: r.score, finishReason: r.finish ?? 'length', group: 0, steps };
  });
  yield { type: 'done', sequences };
}
