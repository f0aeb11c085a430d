/**
 * Pieces shared by plain and diverse beam search (research/algorithms.md §3.1–3.2): option checks,
 * float32 helpers, and the per-group finished-hypotheses list of Hugging Face's `BeamHypotheses`
 * (transformers 4.57.6), which diverse beam search still uses.
 */
import type { FinishReason, SequenceResult } from './events.ts';
import { tokensOf, tracesOf, type TraceNode } from './trace.ts';

/** Hugging Face's `early_stopping`: true, false (a heuristic) or 'never'. */
export type EarlyStopping = boolean | 'never';

/** Rounds to float32: HF keeps beam scores in float32 tensors, so every add and divide is rounded. */
export const f32 = Math.fround;

/** HF's "minus infinity" for inactive beams and unfilled slots (exact in float32). */
export const NEG = -1e9;

/** HF's length normaliser `n ** length_penalty`, as float32 (a Python float divided into a float32 tensor). */
export const lengthDenominator = (n: number, lengthPenalty: number): number => f32(Math.pow(n, lengthPenalty));

function need(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

/** Checks the options plain and diverse beam search share; throws a RangeError naming the field. */
export function checkBeamOptions(o: {
  numBeams: number;
  maxNewTokens: number;
  lengthPenalty: number;
  earlyStopping: EarlyStopping;
  numReturnSequences: number;
  topK: number;
}): void {
  need(Number.isInteger(o.numBeams) && o.numBeams >= 1, `numBeams must be an integer >= 1 (got ${o.numBeams}); numBeams = 1 is greedy search.`);
  need(
    Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1,
    `maxNewTokens must be an integer >= 1 (got ${o.maxNewTokens}); raise it to generate at least one token.`,
  );
  need(Number.isFinite(o.lengthPenalty), `lengthPenalty must be a finite number (got ${o.lengthPenalty}); 1 is the Hugging Face default, 0 turns length normalisation off.`);
  need(
    o.earlyStopping === true || o.earlyStopping === false || o.earlyStopping === 'never',
    `earlyStopping must be true, false or 'never' (got ${String(o.earlyStopping)}).`,
  );
  need(
    Number.isInteger(o.numReturnSequences) && o.numReturnSequences >= 1,
    `numReturnSequences must be an integer >= 1 (got ${o.numReturnSequences}).`,
  );
  need(
    o.numReturnSequences <= o.numBeams,
    `numReturnSequences (${o.numReturnSequences}) must be <= numBeams (${o.numBeams}): raise numBeams or ask for fewer sequences.`,
  );
  need(Number.isInteger(o.topK) && o.topK >= 0, `topK (tokens reported per row) must be an integer >= 0 (got ${o.topK}).`);
}

/** Refuses runs that would overflow the model's context. */
export function checkContext(promptLength: number, maxNewTokens: number, contextLength: number): void {
  need(
    promptLength + maxNewTokens <= contextLength,
    `maxNewTokens (${maxNewTokens}) plus the prompt (${promptLength} tokens) exceeds the model's context of ${contextLength} tokens: lower maxNewTokens or shorten the prompt.`,
  );
}

/** A hypothesis that left the search (or was still running at the end). */
export interface Hypothesis {
  /** Its generated tokens, the final EOS included when it finished on one. */
  readonly node: TraceNode | null;
  /** HF's score: summed (processed, penalised) log-probs / generatedLength ** lengthPenalty. */
  readonly score: number;
  readonly finishReason: FinishReason;
  readonly group: number;
}

export function toSequence(h: Hypothesis): SequenceResult {
  return { tokenIds: tokensOf(h.node), score: h.score, finishReason: h.finishReason, group: h.group, steps: tracesOf(h.node) };
}

/**
 * HF 4.57.6 `BeamHypotheses`: at most `capacity` finished hypotheses of one group. Its arithmetic
 * is in Python floats (float64), unlike the float32 beam scores; scores are rounded to float32 only
 * when returned (`sequences_scores` is a float32 tensor), see `toSequence` callers.
 */
export class BeamHypotheses {
  /** In insertion order, after deletions (the order HF pools them in at the end). */
  readonly beams: Hypothesis[] = [];
  worst = 1e9;

  constructor(
    readonly capacity: number,
    readonly lengthPenalty: number,
    readonly earlyStopping: EarlyStopping,
    /** max_length − prompt length. */
    readonly maxGenerated: number,
  ) {}

  /** Score of a hypothesis with summed log-prob `sum` over `generated` tokens (float64, as HF). */
  scoreOf(sum: number, generated: number): number {
    // generated = 0 only for a run aborted before its first token (HF would divide by zero).
    return generated === 0 ? sum : sum / Math.pow(generated, this.lengthPenalty);
  }

  /**
   * Adds a hypothesis unless the list is full and it does not beat the worst (a tie does not
   * enter). On overflow the lowest entry is deleted, the earliest inserted on ties. Returns
   * whether it entered.
   */
  add(node: TraceNode | null, sum: number, generated: number, finishReason: FinishReason, group: number): boolean {
    const score = this.scoreOf(sum, generated);
    if (this.beams.length >= this.capacity && !(score > this.worst)) return false;
    this.beams.push({ node, score, finishReason, group });
    if (this.beams.length > this.capacity) {
      // sorted([(s, idx)]): lowest score first, then lowest index.
      const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      this.beams.splice((order[0] as readonly [number, number])[1], 1);
      this.worst = (order[1] as readonly [number, number])[0];
    } else {
      this.worst = Math.min(score, this.worst);
    }
    return true;
  }

  /**
   * Whether this group can stop. `best` is the best candidate score of the step (EOS candidates
   * included), `generated` the length its candidates have (tokens generated, the new one included).
   */
  isDone(best: number, generated: number): boolean {
    if (this.beams.length < this.capacity) return false;
    if (this.earlyStopping === true) return true;
    const len = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxGenerated : generated;
    return this.worst >= best / Math.pow(len, this.lengthPenalty);
  }
}

/**
 * acc[offset + v] = row[v] + score for every v (the store rounds to float32): one beam's row of
 * candidate scores. A plain function on purpose: this loop runs B·V times per step, and V8 does not
 * optimise a hot loop written inside an async generator (no on-stack replacement there), which made
 * it run interpreted at ~100 ns per entry (1.9 ms of a 4-beam step on the bundled 4,096-token vocabulary).
 */
export function addRowScore(acc: Float32Array, offset: number, row: Float32Array, score: number): void {
  const n = row.length;
  for (let v = 0; v < n; v++) acc[offset + v] = (row[v] as number) + score;
}
