/**
 * Best-of-N and RSO statistical rejection sampling (research/algorithms.md §4) over samples from a
 * source, scored by a sequence reward model on the complete response (prompt ⊕ response, without a
 * trailing EOS, as the reward models were trained).
 */
import type { SequenceRewardModel } from '../model/types.ts';
import { Rng } from '../sampling/rng.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent, ProgressEvent, SequenceResult } from './events.ts';
import { sample, type SampleOptions } from './sample.ts';
import type { NextTokenSource } from './source.ts';

/** Draws and scores the candidates; yields progress as it goes (step events are kept in `events`). */
async function* drawAndScore(
  source: NextTokenSource,
  rm: SequenceRewardModel,
  prompt: readonly number[],
  opts: SampleOptions & { n: number },
  events: DecodeEvent[],
  eos: ReadonlySet<number>,
): AsyncGenerator<ProgressEvent, SequenceResult[]> {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new RangeError(`n (--n) must be an integer >= 1 (got ${opts.n})`);
  if (rm.vocabSize !== source.vocabSize) {
    throw new Error(`${rm.id} has a vocabulary of ${rm.vocabSize} tokens but the policy has ${source.vocabSize}: the reward model must share the policy's tokenizer.`);
  }
  let seqs: readonly SequenceResult[] = [];
  let finished = 0;
  for await (const e of sample(source, prompt, { ...opts, numReturnSequences: opts.n })) {
    if (e.type === 'done') seqs = e.sequences;
    else if (e.type === 'step') {
      events.push(e);
      finished += e.rows.filter((r) => eos.has(r.tokenId) || e.step + 1 === opts.maxNewTokens).length;
      yield { type: 'progress', phase: 'sampling', done: finished, total: opts.n, step: e.step + 1, maxSteps: opts.maxNewTokens };
    }
  }
  yield { type: 'progress', phase: 'scoring', done: 0, total: seqs.length };
  const texts = seqs.map((s) => {
    const ids = [...s.tokenIds];
    while (ids.length && eos.has(ids[ids.length - 1] as number)) ids.pop();
    return [...prompt, ...ids].slice(-rm.contextLength);
  });
  const rewards = await rm.score(texts);
  yield { type: 'progress', phase: 'scoring', done: seqs.length, total: seqs.length };
  return seqs.map((s, i) => ({ ...s, reward: rewards[i] as number }));
}

export interface BestOfNOptions extends SampleOptions {
  readonly n: number;
  readonly signal?: AbortSignalLike;
}

/** Draws N samples and returns them ordered by reward, best first (ties: lower sample index first). */
export async function* bestOfN(source: NextTokenSource, rm: SequenceRewardModel, prompt: readonly number[], opts: BestOfNOptions): AsyncGenerator<DecodeEvent> {
  const events: DecodeEvent[] = [];
  const eos = new Set(source.eosTokenIds);
  const scored = yield* drawAndScore(source, rm, prompt, opts, events, eos);
  yield* events;
  const order = scored.map((s, i) => [s, i] as const).sort((a, b) => (b[0].reward as number) - (a[0].reward as number) || a[1] - b[1]);
  yield { type: 'done', sequences: order.map(([s]) => s) };
}

export interface RejectionOptions extends SampleOptions {
  /** Candidates drawn (N). */
  readonly n: number;
  /** Samples to accept (m); capped at the number of distinct candidates. @default 1 */
  readonly accept?: number;
  /** RSO β: acceptance probability exp((r − r_max)/β). */
  readonly rsoBeta: number;
}

/**
 * RSO statistical rejection sampling (Liu et al., ICLR 2024, App. A.1): candidates (distinct by
 * token ids, first occurrence kept) are accepted with probability exp((r − r_max)/β), r_max taken
 * over the remaining candidates at each pass, until m are accepted. The accepted samples are
 * returned best first by reward, as DESIGN §4 orders `sequences` (ties: acceptance order); which
 * samples are accepted does not depend on that order.
 */
export async function* rejectionSampling(source: NextTokenSource, rm: SequenceRewardModel, prompt: readonly number[], opts: RejectionOptions): AsyncGenerator<DecodeEvent> {
  if (!(opts.rsoBeta > 0)) throw new RangeError(`rso_beta (--rso-beta) must be > 0 (got ${opts.rsoBeta})`);
  const events: DecodeEvent[] = [];
  const eos = new Set(source.eosTokenIds);
  const scored = yield* drawAndScore(source, rm, prompt, opts, events, eos);
  yield* events;
  const seen = new Set<string>();
  let cand = scored.filter((s) => {
    const key = s.tokenIds.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const m = Math.min(opts.accept ?? 1, cand.length);
  const rng = new Rng(opts.seed ?? 0).fork(0x5250); // a stream apart from the samplers' row streams
  const accepted: SequenceResult[] = [];
  while (accepted.length < m) {
    const rMax = Math.max(...cand.map((c) => c.reward as number));
    const newly = new Set<SequenceResult>();
    for (const c of cand) {
      if (rng.uniform() < Math.exp(((c.reward as number) - rMax) / opts.rsoBeta)) {
        accepted.push(c);
        newly.add(c);
        if (accepted.length === m) break;
      }
    }
    cand = cand.filter((c) => !newly.has(c));
  }
  const order = accepted.map((s, i) => [s, i] as const).sort((a, b) => (b[0].reward as number) - (a[0].reward as number) || a[1] - b[1]);
  yield { type: 'done', sequences: order.map(([s]) => s) };
}
