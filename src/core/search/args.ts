/**
 * ARGS: alignment as reward-guided search (Khanov et al., ICLR 2024; research/algorithms.md §2).
 * At each step the policy's top-k tokens by logit are scored by logit(v) + w·RM(x ⊕ y ⊕ v) and the
 * best is taken (greedy), or one is drawn from softmax(score/τ) (stochastic, τ = `temperature`).
 *
 * Deviation from the reference code, on purpose: generation stops when EOS is chosen (the reference
 * always runs to max_new_tokens). `score` is the summed log-probability of the chosen tokens under
 * softmax over the k candidates' ARGS scores; `reward` is the RM score of the whole response,
 * without a trailing EOS (as best-of-N scores it and as the reward models were trained). A step's
 * `rewards` entry is the score its candidate was chosen by (prompt ⊕ response so far ⊕ the token).
 */
import type { SequenceRewardModel } from '../model/types.ts';
import { argmax, logSoftmax } from '../math/logits.ts';
import { topK } from '../math/topk.ts';
import { sampleFromScores } from '../sampling/chain.ts';
import { klOnSupport } from '../sampling/kl.ts';
import { Rng } from '../sampling/rng.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent, FinishReason, TokenTrace } from './events.ts';
import type { NextTokenSource } from './source.ts';
import { rowStep, traceFor } from './trace.ts';

export interface ArgsOptions {
  readonly maxNewTokens: number;
  /** Candidates per step (k). @default 10 */
  readonly k?: number;
  /** Reward weight w. @default 1 */
  readonly weight?: number;
  /** 'greedy' (ARGS-greedy) or 'stochastic' (ARGS-stochastic, softmax(score/τ)). @default 'greedy' */
  readonly method?: 'greedy' | 'stochastic';
  /** τ for the stochastic method. @default 0.7 */
  readonly temperature?: number;
  readonly seed?: number;
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

export async function* args(source: NextTokenSource, rm: SequenceRewardModel, prompt: readonly number[], opts: ArgsOptions): AsyncGenerator<DecodeEvent> {
  const k = opts.k ?? 10;
  const w = opts.weight ?? 1;
  const tau = opts.temperature ?? 0.7;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`args k (--args-k) must be an integer >= 1 (got ${k})`);
  if (!Number.isFinite(w)) throw new RangeError(`args weight (--args-weight) must be a finite number (got ${w})`);
  if (opts.method === 'stochastic' && !(tau > 0)) throw new RangeError(`ARGS-stochastic needs temperature > 0 (got ${tau})`);
  if (rm.vocabSize !== source.vocabSize) {
    throw new Error(`${rm.id} has a vocabulary of ${rm.vocabSize} tokens but the policy has ${source.vocabSize}: ARGS needs a reward model that shares the policy's tokenizer.`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const eos = new Set(source.eosTokenIds);
  const key = `sequence:${rm.id}`;
  const out: number[] = [];
  const steps: TokenTrace[] = [];
  let score = 0;
  let finish: FinishReason = 'length';
  let lastReward = 0;
  try {
    let [dist] = await source.start(prompt, 1);
    for (let step = 0; step < opts.maxNewTokens; step++) {
      if (opts.signal?.aborted) {
        finish = 'aborted';
        break;
      }
      if (!dist) throw new Error('source returned no rows');
      const cands = topK(dist.scores, k);
      const rewards = await rm.score(cands.map((c) => [...prompt, ...out, c.tokenId]));
      const argsScores = Float32Array.from(cands, (c, i) => c.value + w * (rewards[i] as number));
      const stochastic = opts.method === 'stochastic' ? Float32Array.from(argsScores, (s) => s / tau) : null;
      const pick = stochastic ? sampleFromScores(stochastic, rng) : argmax(argsScores);
      const token = (cands[pick] as { tokenId: number }).tokenId;
      const lp = logSoftmax(argsScores)[pick] as number;
      if (eos.has(token)) {
        // The reported reward is the RM score of the response without its EOS, as best-of-N scores it:
        // the previous pick's score, which had exactly that input (the prompt alone at step 0).
        lastReward = step === 0 ? ((await rm.score([[...prompt]]))[0] as number) : lastReward;
      } else lastReward = rewards[pick] as number;
      // ARGS-stochastic samples from softmax(score/τ) over the k candidates: its exact KL from the base.
      const base = traceFor(dist, token, stochastic ? klOnSupport(stochastic, Int32Array.from(cands, (c) => c.tokenId), dist.policy) : undefined);
      const trace: TokenTrace = { ...base, combinedLogprob: lp, rewards: { ...base.rewards, [key]: rewards[pick] as number } };
      steps.push(trace);
      out.push(token);
      score += lp;
      yield { type: 'step', step, rows: [rowStep(dist, trace, { row: 0, parent: 0, group: 0, score }, opts.topK ?? 10)] };
      yield { type: 'progress', phase: 'decoding', done: step + 1, total: opts.maxNewTokens };
      if (eos.has(token)) {
        finish = 'eos';
        break;
      }
      if (step + 1 === opts.maxNewTokens) break;
      [dist] = await source.advance(null, Int32Array.of(token));
    }
  } finally {
    source.dispose();
  }
  yield { type: 'done', sequences: [{ tokenIds: out, score, finishReason: finish, group: 0, steps, reward: lastReward }] };
}
