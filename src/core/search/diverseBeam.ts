/**
 * Diverse (group) beam search with the exact semantics of Hugging Face's group beam search
 * (Hub `transformers-community/group-beam-search` + transformers 4.57.6 `BeamSearchScorer` and
 * `HammingDiversityLogitsProcessor`; research/algorithms.md §3.2).
 *
 * B rows form G groups of gs = B/G, laid out group by group. One model step serves all rows; then
 * the groups run in order. Group g's log-probs (after the other processors) lose
 * λ·(times token v was chosen by groups < g at this step), and that penalty is accumulated into
 * the beam scores (HF quirk: returned scores are not pure log-likelihoods). Each group walks its top
 * K = max(2, 1 + #EOS)·gs candidates: an EOS among the first gs ranks goes to the group's finished
 * list, other tokens become the group's next rows. A group that is done feeds PAD rows (which still
 * count for the Hamming penalty of later groups). At the end, unfinished groups add their running
 * rows, and the best R hypotheses over *all* groups are returned (not one per group).
 *
 * Ties (exact equal scores) go to the lower flat index, which torch.topk leaves unspecified.
 */
import { topK } from '../math/topk.ts';
import type { BeamOptions } from './beam.ts';
import { BeamHypotheses, NEG, addRowScore, checkBeamOptions, checkContext, f32, toSequence, type Hypothesis } from './beamHypotheses.ts';
import type { DecodeEvent, HypothesisEvent, RowStep } from './events.ts';
import { applyProcessors } from './processors.ts';
import type { NextTokenSource, RowDistribution } from './source.ts';
import { extend, rowStep, tokensOf, traceFor, type TraceNode } from './trace.ts';

/** Plain beam search's options (numBeams = B beams in all, split into numBeamGroups groups of equal size), plus: */
export interface DiverseBeamOptions extends BeamOptions {
  /** G >= 2 (one group is plain beam search). */
  readonly numBeamGroups: number;
  /** λ > 0: subtracted from a token's log-prob once per earlier group's beam that chose it this step. */
  readonly diversityPenalty: number;
  /** Token fed to the rows of finished groups; HF's pad_token_id, which defaults to eos[0]. */
  readonly padTokenId?: number;
}

function need(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

export function checkDiverseOptions(o: DiverseBeamOptions): void {
  checkBeamOptions({
    numBeams: o.numBeams,
    maxNewTokens: o.maxNewTokens,
    lengthPenalty: o.lengthPenalty ?? 1,
    earlyStopping: o.earlyStopping ?? false,
    numReturnSequences: o.numReturnSequences ?? 1,
    topK: o.topK ?? 10,
  });
  const G = o.numBeamGroups;
  need(Number.isInteger(G), `numBeamGroups must be an integer >= 2 (got ${G}).`);
  need(G >= 2, `numBeamGroups must be >= 2 for diverse beam search (got ${G}); with one group use plain beam search (beamSearch).`);
  need(
    o.numBeams % G === 0,
    `numBeams (${o.numBeams}) must be divisible by numBeamGroups (${G}): use a multiple of ${G} such as ${Math.max(G, Math.round(o.numBeams / G) * G)}.`,
  );
  need(
    Number.isFinite(o.diversityPenalty) && o.diversityPenalty > 0,
    `diversityPenalty must be > 0 (got ${o.diversityPenalty}): with 0 every group repeats the same beam search; try 1.0.`,
  );
}

export async function* diverseBeamSearch(source: NextTokenSource, prompt: readonly number[], opts: DiverseBeamOptions): AsyncGenerator<DecodeEvent> {
  checkDiverseOptions(opts);
  checkContext(prompt.length, opts.maxNewTokens, source.contextLength);
  const B = opts.numBeams;
  const G = opts.numBeamGroups;
  const gs = B / G;
  const maxNew = opts.maxNewTokens;
  const lp = opts.lengthPenalty ?? 1;
  const R = opts.numReturnSequences ?? 1;
  const k = opts.topK ?? 10;
  const V = source.vocabSize;
  const eos = new Set(source.eosTokenIds);
  const pad = opts.padTokenId ?? source.eosTokenIds[0] ?? 0;
  const lambda = f32(opts.diversityPenalty);
  const K = Math.min(Math.max(2, 1 + source.eosTokenIds.length) * gs, gs * V);
  const hyps = Array.from({ length: G }, () => new BeamHypotheses(gs, lp, opts.earlyStopping ?? false, maxNew));
  const done: boolean[] = new Array<boolean>(G).fill(false);

  let nodes: (TraceNode | null)[] = new Array<TraceNode | null>(B).fill(null);
  // 0 for the first row of each group, -1e9 for the others.
  let scores: number[] = Array.from({ length: B }, (_, i) => (i % gs === 0 ? 0 : NEG));
  let aborted = false;
  let t = 0;
  try {
    let dists: RowDistribution[] = await source.start(prompt, B);
    for (;;) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const parents = new Int32Array(B);
      const tokens = new Int32Array(B);
      const nextScores: number[] = new Array<number>(B).fill(0);
      const nextNodes: (TraceNode | null)[] = new Array<TraceNode | null>(B).fill(null);
      const counts = new Map<number, number>(); // tokens chosen by earlier groups at this step
      const rows: RowStep[] = [];
      const hypotheses: HypothesisEvent[] = [];
      for (let g = 0; g < G; g++) {
        const base = g * gs;
        if (!done[g]) {
          const acc = new Float32Array(gs * V);
          for (let j = 0; j < gs; j++) {
            const r = base + j;
            const dr = dists[r] as RowDistribution;
            let row = applyProcessors(opts.processors, dr.logprobs, () => [...prompt, ...tokensOf(nodes[r] ?? null)], dr.guided ? dr.policy : undefined);
            if (counts.size > 0) {
              if (row === (dists[r] as RowDistribution).logprobs) row = Float32Array.from(row);
              for (const [v, c] of counts) row[v] = (row[v] as number) - f32(lambda * c); // the store rounds to float32
            }
            const s = scores[r] as number;
            addRowScore(acc, j * V, row, s);
          }
          const top = topK(acc, K);
          let n = 0;
          for (let rank = 0; rank < top.length && n < gs; rank++) {
            const { tokenId: i, value: c } = top[rank] as { tokenId: number; value: number };
            const parent = base + Math.floor(i / V);
            const token = i - (parent - base) * V;
            const dist = dists[parent] as RowDistribution;
            if (eos.has(token)) {
              if (rank >= gs) continue; // EOS below the first gs ranks is ignored
              const node = extend(nodes[parent] ?? null, traceFor(dist, token));
              const kind = hyps[g]?.add(node, c, t + 1, 'eos', g) ? 'finished' : 'pruned';
              hypotheses.push({ row: parent, group: g, tokenIds: tokensOf(node), score: f32((hyps[g] as BeamHypotheses).scoreOf(c, t + 1)), kind });
              continue;
            }
            const r = base + n++;
            const node = extend(nodes[parent] ?? null, traceFor(dist, token));
            parents[r] = parent;
            tokens[r] = token;
            nextScores[r] = c;
            nextNodes[r] = node;
            rows.push(rowStep(dist, node.trace, { row: r, parent, group: g, score: c }, k));
          }
          if (n < gs) throw new Error(`Diverse beam search found fewer than ${gs} non-EOS candidates in group ${g}; the vocabulary is too small for groups of ${gs}.`);
          done[g] = (hyps[g] as BeamHypotheses).isDone((top[0] as { value: number }).value, t + 1);
        } else {
          // A finished group's rows continue its first row with PAD and score 0 (never returned).
          for (let j = 0; j < gs; j++) {
            parents[base + j] = base;
            tokens[base + j] = pad;
            nextNodes[base + j] = nodes[base + j] ?? null;
          }
        }
        for (let j = 0; j < gs; j++) counts.set(tokens[base + j] as number, (counts.get(tokens[base + j] as number) ?? 0) + 1);
      }
      t++;
      nodes = nextNodes;
      scores = nextScores;
      yield { type: 'step', step: t - 1, rows, ...(hypotheses.length > 0 ? { hypotheses } : {}) };
      if (done.every(Boolean) || t >= maxNew || tokens.every((v) => eos.has(v))) break;
      dists = await source.advance(parents, tokens);
    }
  } finally {
    source.dispose();
  }
  // Finalize: groups that are not done add all their running rows (raw score, no EOS).
  for (let g = 0; g < G; g++) {
    if (done[g]) continue;
    for (let j = 0; j < gs; j++) {
      const r = g * gs + j;
      (hyps[g] as BeamHypotheses).add(nodes[r] ?? null, scores[r] as number, t, aborted ? 'aborted' : 'length', g);
    }
  }
  // Global top-R: pool by group then list order; HF stable-sorts ascending and pops from the end,
  // so ties go to the later pooled entry.
  const pool: Hypothesis[] = hyps.flatMap((h) => h.beams);
  const best = pool
    .map((h, i) => [h, i] as const)
    .sort((a, b) => b[0].score - a[0].score || b[1] - a[1])
    .slice(0, R)
    .map(([h]): Hypothesis => ({ ...h, score: f32(h.score) }));
  // Output tokens: HF stores a hypothesis without its EOS and appends eos[0] (and PAD) when it is
  // shorter than the longest returned one. We return the generated tokens plus the EOS that really
  // ended the hypothesis, and nothing after a hypothesis that did not end on EOS.
  yield { type: 'done', sequences: best.map(toSequence) };
}
