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
 *
 * Reward-guided beams (`reward`, RankGen-style: Krishna et al. 2022, "RankGen: Improving Text
 * Generation with Large Ranking Models", beam search over chunks re-ranked by a sequence scorer):
 * candidates are ranked by g = beam score + w·RM(prefix) instead of the beam score alone, in float32
 * as the rest. Exactly:
 * - The RM scores the prompt once before the first step; that value is what every hypothesis carries
 *   until its first rescoring.
 * - At a rescoring step (the candidates' generated length is a multiple of k = `rescoreEvery`; k = 0:
 *   never) the candidate set is HF's K = max(2, 1 + #EOS)·B candidates plus, with c = `candidates`
 *   > 0, each live beam's own top-c tokens; every candidate of a live beam is scored in ONE batched
 *   RM call on prompt ⊕ generated ⊕ token, and its RM term REPLACES its parent's (RM values do not
 *   accumulate). Between rescoring steps a candidate carries its parent's last RM value.
 * - A candidate that finishes (EOS, or max length) is scored at that step whatever k is (in the same
 *   call): its final RM value, on the response without a trailing EOS (as best-of-N and ARGS score).
 * - The top K of the candidate set by g (ties: lower flat index) then go through HF's selection
 *   unchanged: the best B that did not finish run on; finished ones among the top-B ranks may enter
 *   the finished slots, which are ranked by score + w·reward (score = HF's normalised beam score).
 *   The early-stopping heuristic compares guided values the same way (max over running beams of
 *   normalised score + w·RM, against the worst finished guided value).
 * - What is reported: `score` stays HF's beam score (summed log-probs / length ** length_penalty);
 *   `reward` is the last RM value of the sequence (its final one when it finished) and `guidedScore`
 *   = score + w·reward, the value it was ranked by. Steps carry the RM value under rewards
 *   `sequence:<rm id>` at the positions where they were scored (as ARGS reports them); a finished or
 *   pruned hypothesis event carries its final `reward`. Step rows' `score` stays the summed log-prob.
 * With w = 0 the RM still runs (for the reported rewards) but every ranking is HF's exactly.
 */
import { topK } from '../math/topk.ts';
import type { SequenceRewardModel } from '../model/types.ts';
import type { AbortSignalLike } from './abort.ts';
import { NEG, addRowScore, checkBeamOptions, checkContext, f32, lengthDenominator, toSequence, type EarlyStopping, type Hypothesis } from './beamHypotheses.ts';
import type { DecodeEvent, FinishReason, HypothesisEvent, RowStep, SequenceResult } from './events.ts';
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
  /** Reward-guided beams with a sequence reward model (see the header); absent: plain HF beam search. */
  readonly reward?: BeamReward;
}

/** A sequence reward model guiding beam search: g = beam score + weight·RM(prompt ⊕ prefix). */
export interface BeamReward {
  /** Scores prompt ⊕ generated tokens (policy token ids); must share the policy's vocabulary. */
  readonly model: SequenceRewardModel;
  /** w (CLI --reward_weight). @default 1 */
  readonly weight?: number;
  /** k (CLI --rescore_every): rescore every k generated tokens; 0 = only when a hypothesis finishes. @default 1 */
  readonly rescoreEvery?: number;
  /** c (CLI --rm_candidates): each live beam's top-c tokens join HF's candidate set at rescoring steps. @default 0 */
  readonly candidates?: number;
}

/** Checks the reward options; throws a RangeError naming the field and the CLI flag. */
export function checkBeamReward(r: BeamReward): void {
  const w = r.weight ?? 1;
  const k = r.rescoreEvery ?? 1;
  const c = r.candidates ?? 0;
  if (!Number.isFinite(w)) throw new RangeError(`reward_weight (--reward_weight) must be a finite number (got ${w}); 0 is plain beam search.`);
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`rescore_every (--rescore_every) must be an integer >= 0 or "end" (got ${k}); 1 rescores every token, 0 only finished hypotheses.`);
  if (!Number.isInteger(c) || c < 0) throw new RangeError(`rm_candidates (--rm_candidates) must be an integer >= 0 (got ${c}); 0 keeps beam search's own 2·num_beams candidates.`);
}

/** One of HF's B finished slots (`sequences`, `beam_scores`, `is_sent_finished`). */
interface Slot {
  readonly node: TraceNode | null;
  readonly score: number;
  readonly done: boolean;
  /** What the slots are ranked by: `score` + w·reward (= `score` unguided). */
  readonly guided: number;
  /** Final RM value (guided runs). */
  readonly reward?: number;
}

interface Candidate {
  readonly beam: number;
  readonly token: number;
  /** Accumulated float32 score. */
  readonly score: number;
  readonly hit: boolean;
  readonly node: TraceNode;
  /** What candidates are ranked by: score + w·reward (= score unguided). */
  readonly g: number;
  /** The RM value it carries (scored at this step or its parent's); undefined unguided or on a dead row. */
  readonly reward?: number;
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
  const rw = opts.reward;
  if (rw) {
    checkBeamReward(rw);
    if (rw.model.vocabSize !== source.vocabSize) {
      throw new Error(`${rw.model.id} has a vocabulary of ${rw.model.vocabSize} tokens but the policy has ${source.vocabSize}: the reward model must share the policy's tokenizer.`);
    }
  }
  const w = rw?.weight ?? 1;
  const every = rw?.rescoreEvery ?? 1;
  const extra = rw?.candidates ?? 0;
  const rmKey = rw ? `sequence:${rw.model.id}` : '';
  /** x + w·r in float32; exactly x when unguided, w = 0 or no RM value. */
  const plus = (x: number, r: number | undefined): number => (r === undefined || w === 0 ? x : f32(x + f32(w * r)));
  const V = source.vocabSize;
  const eos = new Set(source.eosTokenIds);
  // HF asks torch.topk for K; it would fail when K > B·V (a vocabulary of 1-2 tokens), we clamp.
  const K = Math.min(Math.max(2, 1 + source.eosTokenIds.length) * B, B * V);
  const finishOf = (node: TraceNode | null): FinishReason => (node && eos.has(node.trace.tokenId) ? 'eos' : 'length');
  const live = (s: number) => s > NEG / 2; // rows at HF's −1e9 only fill the batch

  let nodes: (TraceNode | null)[] = new Array<TraceNode | null>(B).fill(null);
  let running: number[] = Array.from({ length: B }, (_, b) => (b === 0 ? 0 : NEG));
  /** Each row's last RM value (guided runs). */
  let rewards: (number | undefined)[] = new Array<number | undefined>(B).fill(undefined);
  let slots: Slot[] = Array.from({ length: B }, () => ({ node: null, score: NEG, done: false, guided: NEG }));
  let unsat = true; // HF's is_early_stop_heuristic_unsatisfied (sticky once false)
  let aborted = false;
  let t = 0; // tokens generated so far by every running row
  try {
    if (rw) {
      const r0 = (await rw.model.score([prompt.slice(-rw.model.contextLength)]))[0] as number;
      rewards = rewards.map(() => r0);
    }
    let dists: RowDistribution[] = await source.start(prompt, B);
    const acc = new Float32Array(B * V); // every entry is rewritten each step
    // No processors, or only mask-only ones: running sums straight from the logits, masks applied on them.
    const sumsFirst = (opts.processors ?? []).every((p) => p.maskOnly);
    for (;;) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      // 1. a[b·V + v] = processed log-prob + running score, float32.
      for (let b = 0; b < B; b++) {
        const dist = dists[b] as RowDistribution;
        const s = running[b] as number;
        if (sumsFirst) {
          dist.addLogprobsInto(acc, b * V, s); // = addRowScore over dist.logprobs, without building them
          // -Infinity + s = -Infinity: masking the sums equals masking the log-probs first
          if (opts.processors?.length) {
            const h = [...prompt, ...tokensOf(nodes[b] ?? null)];
            const row = acc.subarray(b * V, (b + 1) * V);
            for (const p of opts.processors) p(row, h);
          }
          continue;
        }
        const row = applyProcessors(opts.processors, dist.logprobs, () => [...prompt, ...tokensOf(nodes[b] ?? null)], dist.guided ? dist.policy : undefined);
        addRowScore(acc, b * V, row, s);
      }
      // 2-3. Top-K candidates (guided: by score + w·RM, from HF's top-K plus each beam's top-c at a
      // rescoring step) and whether each hits a stopping criterion.
      const rescore = !!rw && every > 0 && (t + 1) % every === 0;
      const flats = topK(acc, K).map((e) => e.tokenId);
      if (rw) {
        if (rescore && extra > 0) {
          const seen = new Set(flats);
          for (let b = 0; b < B; b++) {
            if (!live(running[b] as number)) continue;
            for (const e of topK(acc.subarray(b * V, (b + 1) * V), extra)) {
              const i = b * V + e.tokenId;
              if (!seen.has(i)) {
                seen.add(i);
                flats.push(i);
              }
            }
          }
        }
        flats.sort((a, b) => a - b); // ties in g go to the lower flat index, as HF's
      }
      const pool = flats.map((i) => {
        const beam = Math.floor(i / V);
        const token = i - beam * V;
        return { beam, token, score: acc[i] as number, hit: eos.has(token) || t + 1 >= maxNew };
      });
      // Guided: one RM call scores every live candidate at a rescoring step, and the finishing ones at any step.
      const scored = new Map<number, number>();
      if (rw) {
        const batch: number[][] = [];
        const at = new Map<string, number>();
        const which: [number, number][] = [];
        pool.forEach((c, i) => {
          if (!live(running[c.beam] as number) || !(rescore || c.hit)) return;
          const ids = [...prompt, ...tokensOf(nodes[c.beam] ?? null), ...(eos.has(c.token) ? [] : [c.token])].slice(-rw.model.contextLength);
          const key = ids.join(',');
          if (!at.has(key)) at.set(key, batch.push(ids) - 1);
          which.push([i, at.get(key) as number]);
        });
        if (batch.length) {
          const r = await rw.model.score(batch);
          for (const [i, j] of which) scored.set(i, r[j] as number);
        }
      }
      const order = rw
        ? topK(Float32Array.from(pool, (c, i) => plus(c.score, scored.has(i) ? scored.get(i) : live(running[c.beam] as number) ? rewards[c.beam] : undefined)), K).map((e) => e.tokenId)
        : pool.map((_, i) => i);
      const cands: Candidate[] = order.map((i) => {
        const c = pool[i] as (typeof pool)[number];
        const dist = dists[c.beam] as RowDistribution;
        const r = scored.get(i);
        let trace = traceFor(dist, c.token);
        if (r !== undefined) trace = { ...trace, rewards: { ...trace.rewards, [rmKey]: r } };
        const reward = r ?? (rw && live(running[c.beam] as number) ? rewards[c.beam] : undefined);
        return { ...c, node: extend(nodes[c.beam] ?? null, trace), reward, g: plus(c.score, reward) };
      });
      // 4. Next running set: the top B of g − 1e9·hit.
      const keep = topK(Float32Array.from(cands, (c) => (c.hit ? f32(c.g + NEG) : c.g)), B).map((e) => cands[e.tokenId] as Candidate);
      // 5. Finished update: only top-B ranks that hit may enter; penalties added one by one in float32.
      const denom = lengthDenominator(t + 1, lp);
      const full = es === true && slots.every((s) => s.done);
      const eligible = cands.map((c, r) => r < B && c.hit);
      const normalised = cands.map((c) => f32(c.score / denom));
      const penalise = (n: number, r: number) => {
        let x = n;
        if (full) x = f32(x + NEG);
        if (!unsat) x = f32(x + NEG);
        if (!eligible[r]) x = f32(x + NEG);
        return x;
      };
      const entries = normalised.map(penalise);
      const guidedEntries = rw ? cands.map((c, r) => penalise(plus(normalised[r] as number, c.reward), r)) : entries;
      const merged = Float32Array.from([...slots.map((s) => s.guided), ...guidedEntries]);
      const chosen = topK(merged, B).map((e) => e.tokenId);
      const entered = new Set(chosen.filter((i) => i >= B).map((i) => i - B));
      slots = chosen.map((i) => {
        if (i < B) return slots[i] as Slot;
        const c = cands[i - B] as Candidate;
        return { node: c.node, score: entries[i - B] as number, guided: merged[i] as number, done: eligible[i - B] as boolean, ...(c.reward !== undefined ? { reward: c.reward } : {}) };
      });
      const hypotheses: HypothesisEvent[] = [];
      cands.forEach((c, r) => {
        if (!eligible[r]) return;
        const kind = entered.has(r) ? 'finished' : 'pruned';
        hypotheses.push({ row: c.beam, group: 0, tokenIds: tokensOf(c.node), score: normalised[r] as number, kind, ...(rw && c.reward !== undefined ? { reward: c.reward } : {}) });
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
      rewards = keep.map((c) => (c.hit ? undefined : c.reward));
      // 6-7. cur_len += 1, then the early-stopping heuristic (guided: the best running g).
      t++;
      const D = es === 'never' && lp > 0 ? maxNew : t;
      const dD = lengthDenominator(D, lp);
      const best = rw ? Math.max(...running.map((s, b) => plus(f32(s / dD), rewards[b]))) : f32((running[0] as number) / dD);
      const minFinished = Math.min(...slots.map((s) => s.guided));
      unsat = unsat && slots.some((s) => best > (s.done ? minFinished : NEG));
      yield { type: 'step', step: t - 1, rows, ...(hypotheses.length > 0 ? { hypotheses } : {}) };
      // 8. Stop.
      if (!unsat || (es === true && slots.every((s) => s.done)) || cands.every((c) => c.hit)) break;
      dists = await source.advance(parents, tokens);
    }
  } finally {
    source.dispose();
  }
  type Out = Hypothesis & { readonly guided: number; readonly reward?: number };
  const fromSlot = (s: Slot): Out => ({ node: s.node, score: s.score, finishReason: finishOf(s.node), group: 0, guided: s.guided, ...(s.reward !== undefined ? { reward: s.reward } : {}) });
  let out: Out[];
  if (!aborted) {
    out = slots.slice(0, R).map(fromSlot);
  } else {
    // Not HF (it cannot be interrupted): finished slots and live running beams (normalised at their
    // current length, as HF's old BeamSearchScorer.finalize did), best first, finished first on ties.
    const pool: Out[] = slots.filter((s) => s.done).map(fromSlot);
    running.forEach((s, b) => {
      if (s <= NEG) return;
      const score = t === 0 ? s : f32(s / lengthDenominator(t, lp));
      const r = rewards[b];
      pool.push({ node: nodes[b] ?? null, score, finishReason: 'aborted', group: 0, guided: plus(score, r), ...(r !== undefined ? { reward: r } : {}) });
    });
    out = pool
      .map((h, i) => [h, i] as const)
      .sort((a, b) => b[0].guided - a[0].guided || a[1] - b[1])
      .slice(0, R)
      .map(([h]) => h);
  }
  yield {
    type: 'done',
    sequences: out.map((h): SequenceResult => {
      const seq = toSequence(h);
      return rw && h.reward !== undefined ? { ...seq, reward: h.reward, guidedScore: h.guided } : seq;
    }),
  };
}
