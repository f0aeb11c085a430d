/**
 * Beam search with the exact semantics of Hugging Face transformers' vectorised `_beam_search`
 * (5.18; research/algorithms.md §3.1), float32 score arithmetic included.
 *
 * Per step: a = processed log_softmax + running score over all B·V (beam, token) pairs; the top
 * K = max(2, 1 + #EOS)·B of them are candidates. The best B candidates that did not hit a stopping
 * criterion (EOS, or max length) run on. Candidates of the top B ranks that hit one may enter the
 * B finished slots with score sum / generatedLength ** lengthPenalty (EOS counted in the length).
 * `earlyStopping` decides when to stop: true when B slots are finished, false by a heuristic
 * comparing the best running score at the current length with the worst finished score, 'never'
 * (with lengthPenalty > 0) the same at max length.
 *
 * Ties (exact equal scores) go to the lower flat index b·V + v, which torch.topk leaves unspecified.
 */
import { topK } from '../math/topk.ts';
import type { AbortSignalLike } from './abort.ts';
import { NEG, addRowScore, checkBeamOptions, checkContext, f32, lengthDenominator, toSequence, type EarlyStopping, type Hypothesis } from './beamHypotheses.ts';
import type { DecodeEvent, FinishReason, HypothesisEvent, RowStep } from './events.ts';
import { applyProcessors, type LogitsProcessor } from './processors.ts';
import type { NextTokenSource, RowDistribution } from './source.ts';
import { extend, rowStep, tokensOf, traceFor, type TraceNode } from './trace.ts';

export interface BeamOptions {
  /** B: beams kept per step. 1 is greedy search. */
  readonly numBeams: number;
  /** Most tokens to generate; HF's max_length = prompt length + maxNewTokens. */
  readonly maxNewTokens: number;
  /** @default 1 (0: plain summed log-prob; > 0 favours longer outputs, < 0 shorter ones) */
  readonly lengthPenalty?: number;
  /** @default false */
  readonly earlyStopping?: EarlyStopping;
  /** How many finished hypotheses to return, best first. @default 1 */
  readonly numReturnSequences?: number;
  /** Applied in order to a copy of each row's log-probs before ranking. */
  readonly processors?: readonly LogitsProcessor[];
  /** Top tokens reported per row and step. @default 10 */
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

/** One of HF's B finished slots (`sequences`, `beam_scores`, `is_sent_finished`). */
interface Slot {
  readonly node: TraceNode | null;
  readonly score: number;
  readonly done: boolean;
}

interface Candidate {
  readonly beam: number;
  readonly token: number;
  /** Accumulated float32 score. */
  readonly score: number;
  readonly hit: boolean;
  readonly node: TraceNode;
}

export async function* beamSearch(source: NextTokenSource, prompt: readonly number[], opts: BeamOptions): AsyncGenerator<DecodeEvent> {
  const B = opts.numBeams;
  const maxNew = opts.maxNewTokens;
  const lp = opts.lengthPenalty ?? 1;
  const es = opts.earlyStopping ?? false;
  const R = opts.numReturnSequences ?? 1;
  const k = opts.topK ?? 10;
  checkBeamOptions({ numBeams: B, maxNewTokens: maxNew, lengthPenalty: lp, earlyStopping: es, numReturnSequences: R, topK: k });
  checkContext(prompt.length, maxNew, source.contextLength);
  const V = source.vocabSize;
  const eos = new Set(source.eosTokenIds);
  // HF asks torch.topk for K; it would fail when K > B·V (a vocabulary of 1-2 tokens), we clamp.
  const K = Math.min(Math.max(2, 1 + source.eosTokenIds.length) * B, B * V);
  const finishOf = (node: TraceNode | null): FinishReason => (node && eos.has(node.trace.tokenId) ? 'eos' : 'length');

  let nodes: (TraceNode | null)[] = new Array<TraceNode | null>(B).fill(null);
  let running: number[] = Array.from({ length: B }, (_, b) => (b === 0 ? 0 : NEG));
  let slots: Slot[] = Array.from({ length: B }, () => ({ node: null, score: NEG, done: false }));
  let unsat = true; // HF's is_early_stop_heuristic_unsatisfied (sticky once false)
  let aborted = false;
  let t = 0; // tokens generated so far by every running row
  try {
    let dists: RowDistribution[] = await source.start(prompt, B);
    for (;;) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      // 1. a[b·V + v] = processed log-prob + running score, float32.
      const acc = new Float32Array(B * V);
      for (let b = 0; b < B; b++) {
        const dist = dists[b] as RowDistribution;
        const row = applyProcessors(opts.processors, dist.logprobs, () => [...prompt, ...tokensOf(nodes[b] ?? null)], dist.guided ? dist.policy : undefined);
        const s = running[b] as number;
        addRowScore(acc, b * V, row, s);
      }
      // 2-3. Top-K candidates and whether each hits a stopping criterion.
      const cands: Candidate[] = topK(acc, K).map(({ tokenId: i, value }) => {
        const beam = Math.floor(i / V);
        const token = i - beam * V;
        const dist = dists[beam] as RowDistribution;
        const node = extend(nodes[beam] ?? null, traceFor(dist, token));
        return { beam, token, score: value, hit: eos.has(token) || t + 1 >= maxNew, node };
      });
      // 4. Next running set: the top B of c − 1e9·hit.
      const keep = topK(Float32Array.from(cands, (c) => (c.hit ? f32(c.score + NEG) : c.score)), B).map((e) => cands[e.tokenId] as Candidate);
      // 5. Finished update: only top-B ranks that hit may enter; penalties added one by one in float32.
      const denom = lengthDenominator(t + 1, lp);
      const full = es === true && slots.every((s) => s.done);
      const eligible = cands.map((c, r) => r < B && c.hit);
      const normalised = cands.map((c) => f32(c.score / denom));
      const entries = normalised.map((n, r) => {
        let x = n;
        if (full) x = f32(x + NEG);
        if (!unsat) x = f32(x + NEG);
        if (!eligible[r]) x = f32(x + NEG);
        return x;
      });
      const merged = Float32Array.from([...slots.map((s) => s.score), ...entries]);
      const chosen = topK(merged, B).map((e) => e.tokenId);
      const entered = new Set(chosen.filter((i) => i >= B).map((i) => i - B));
      slots = chosen.map((i) => {
        if (i < B) return slots[i] as Slot;
        const c = cands[i - B] as Candidate;
        return { node: c.node, score: merged[i] as number, done: eligible[i - B] as boolean };
      });
      const hypotheses: HypothesisEvent[] = [];
      cands.forEach((c, r) => {
        if (!eligible[r]) return;
        const kind = entered.has(r) ? 'finished' : 'pruned';
        hypotheses.push({ row: c.beam, group: 0, tokenIds: tokensOf(c.node), score: normalised[r] as number, kind });
      });
      const rows: RowStep[] = [];
      keep.forEach((c, row) => {
        // Rows whose token hit a stopping criterion only fill the batch (score below -1e9): not reported.
        if (!c.hit) rows.push(rowStep(dists[c.beam] as RowDistribution, c.node.trace, { row, parent: c.beam, group: 0, score: c.score }, k));
      });
      const parents = Int32Array.from(keep, (c) => c.beam);
      const tokens = Int32Array.from(keep, (c) => c.token);
      nodes = keep.map((c) => c.node);
      running = keep.map((c) => (c.hit ? f32(c.score + NEG) : c.score));
      // 6-7. cur_len += 1, then the early-stopping heuristic.
      t++;
      const D = es === 'never' && lp > 0 ? maxNew : t;
      const best = f32((running[0] as number) / lengthDenominator(D, lp));
      const minFinished = Math.min(...slots.map((s) => s.score));
      unsat = unsat && slots.some((s) => best > (s.done ? minFinished : NEG));
      yield { type: 'step', step: t - 1, rows, ...(hypotheses.length > 0 ? { hypotheses } : {}) };
      // 8. Stop.
      if (!unsat || (es === true && slots.every((s) => s.done)) || cands.every((c) => c.hit)) break;
      dists = await source.advance(parents, tokens);
    }
  } finally {
    source.dispose();
  }
  let out: Hypothesis[];
  if (!aborted) {
    out = slots.slice(0, R).map((s) => ({ node: s.node, score: s.score, finishReason: finishOf(s.node), group: 0 }));
  } else {
    // Not HF (it cannot be interrupted): finished slots and live running beams (normalised at their
    // current length, as HF's old BeamSearchScorer.finalize did), best first, finished first on ties.
    const pool: Hypothesis[] = slots.filter((s) => s.done).map((s) => ({ node: s.node, score: s.score, finishReason: finishOf(s.node), group: 0 }));
    running.forEach((s, b) => {
      if (s > NEG) pool.push({ node: nodes[b] ?? null, score: t === 0 ? s : f32(s / lengthDenominator(t, lp)), finishReason: 'aborted', group: 0 });
    });
    out = pool
      .map((h, i) => [h, i] as const)
      .sort((a, b) => b[0].score - a[0].score || a[1] - b[1])
      .slice(0, R)
      .map(([h]) => h);
  }
  yield { type: 'done', sequences: out.map(toSequence) };
}
