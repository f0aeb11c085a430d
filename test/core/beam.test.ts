import { describe, expect, it } from 'vitest';
import { beamSearch, type BeamOptions } from '../../src/core/search/beam.ts';
import type { DecodeEvent, DoneEvent, SequenceResult, StepEvent } from '../../src/core/search/events.ts';
import { ModelSource, genarmGuidance } from '../../src/core/search/modelSource.ts';
import { argmax } from '../../src/core/math/logits.ts';
import { TableModel } from '../support/fakeModel.ts';
import { PairModel, lcg, refBeam } from '../support/beamReference.ts';

async function run(gen: AsyncGenerator<DecodeEvent>): Promise<{ steps: StepEvent[]; done: DoneEvent }> {
  const events: DecodeEvent[] = [];
  for await (const e of gen) events.push(e);
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('no done event');
  return { steps: events.filter((e): e is StepEvent => e.type === 'step'), done };
}

const ln = Math.log;
const NI = -Infinity;
/*
 * Vocabulary of 8: 0 = EOS, 1 = the prompt, 2, 3, and 4..7 "sinks" (after a sink everything is
 * uniform, ln(1/8) = -2.079442). Logits are log-probabilities, so log_softmax returns them.
 *   after 1: EOS e^-1.2, 2 e^-1, each sink s1 = ln((1 - e^-1.2 - e^-1)/4) = -2.492163
 *   after 2: EOS e^-1,   3 0.25, each sink s2 = ln((1 - e^-1 - 0.25)/4)  = -2.348330
 *   after 3: EOS e^-1.2,          each sink s3 = ln((1 - e^-1.2)/4)       = -1.744682
 * The finished hypotheses that matter (summed log-probs):
 *   A = [0]      -1.2
 *   B = [2,0]    -1 - 1                 = -2.0
 *   C = [2,3,0]  -1 + ln 0.25 - 1.2     = -3.586294
 *   D = [2,3,4]  -1 + ln 0.25 + s3      = -4.130976 (a length-3 path)
 * Winners: lp 0 -> A (-1.2); lp 1 -> B (-1.0 vs C -1.195431, A -1.2); lp 2 -> C (-0.398477 vs B -0.5).
 */
const s1 = ln((1 - Math.exp(-1.2) - Math.exp(-1)) / 4);
const s2 = ln((1 - Math.exp(-1) - 0.25) / 4);
const s3 = ln((1 - Math.exp(-1.2)) / 4);
const U = [0, 0, 0, 0, 0, 0, 0, 0];
const chain = [U, [-1.2, NI, -1, NI, s1, s1, s1, s1], [-1, NI, NI, ln(0.25), s2, s2, s2, s2], [-1.2, NI, NI, NI, s3, s3, s3, s3], U, U, U, U];
const A = -1.2;
const Bsum = -2;
const Csum = -1 + ln(0.25) - 1.2;
const Dsum = -1 + ln(0.25) + s3;

const beam = (model: TableModel | PairModel, prompt: number[], o: BeamOptions) => run(beamSearch(new ModelSource(model), prompt, o));
const seqs = (d: DoneEvent) => d.sequences.map((s) => ({ tokenIds: s.tokenIds, score: s.score, finishReason: s.finishReason }));

describe('beam search on a hand-computed table', () => {
  it('length_penalty 0 prefers the short hypothesis: stops after 2 steps with [A, B]', async () => {
    // Step 0: candidates 2 (-1), EOS (-1.2), sinks; A enters the finished slots (-1.2 / 1^0).
    // Step 1: B enters (-2.0); best running [2,3] = -2.386294 is not above the worst finished (-2.0): stop.
    const m = new TableModel(chain);
    const { steps, done } = await beam(m, [1], { numBeams: 2, maxNewTokens: 3, lengthPenalty: 0, numReturnSequences: 2 });
    expect(steps).toHaveLength(2);
    expect(seqs(done)).toEqual([
      { tokenIds: [0], score: expect.closeTo(A, 5), finishReason: 'eos' },
      { tokenIds: [2, 0], score: expect.closeTo(Bsum, 5), finishReason: 'eos' },
    ]);
    expect(m.live.size).toBe(0);
  });

  it('length_penalty 1 picks B; C (found at the length limit) is second', async () => {
    // Step 1: B = -2/2 = -1.0; heuristic: best running [2,3] at length 2 = -1.193147 > worst -1.2: go on.
    // Step 2 (length 3 = max): C = -3.586294/3 = -1.195431 replaces A; D = -1.376992 is pruned.
    const { steps, done } = await beam(new TableModel(chain), [1], { numBeams: 2, maxNewTokens: 3, lengthPenalty: 1, numReturnSequences: 2 });
    expect(steps).toHaveLength(3);
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 0], score: expect.closeTo(Bsum / 2, 5), finishReason: 'eos' },
      { tokenIds: [2, 3, 0], score: expect.closeTo(Csum / 3, 5), finishReason: 'eos' },
    ]);
    const last = steps[2] as StepEvent;
    expect(last.rows).toEqual([]); // every candidate hit the length limit: nothing runs on
    expect(last.hypotheses?.map((h) => [h.tokenIds, h.kind])).toEqual([
      [[2, 3, 0], 'finished'],
      [[2, 3, 4], 'pruned'],
    ]);
    expect(last.hypotheses?.[1]?.score).toBeCloseTo(Dsum / 3, 5);
  });

  it('length_penalty 2 picks C, then the length-3 path D', async () => {
    // Step 2: C = -3.586294/9 = -0.398477 and D = -4.130976/9 = -0.458997 both beat B (-0.5) and A.
    const { done } = await beam(new TableModel(chain), [1], { numBeams: 2, maxNewTokens: 3, lengthPenalty: 2, numReturnSequences: 2 });
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 3, 0], score: expect.closeTo(Csum / 9, 5), finishReason: 'eos' },
      { tokenIds: [2, 3, 4], score: expect.closeTo(Dsum / 9, 5), finishReason: 'length' },
    ]);
    const r1 = await beam(new TableModel(chain), [1], { numBeams: 2, maxNewTokens: 3, lengthPenalty: 2 });
    expect(r1.done.sequences.map((s) => s.tokenIds)).toEqual([[2, 3, 0]]);
  });

  it('reports every step: rows with parents, policy log-probs, running scores; finished hypotheses', async () => {
    const { steps, done } = await beam(new TableModel(chain), [1], { numBeams: 2, maxNewTokens: 3, topK: 3 });
    const s0 = steps[0] as StepEvent;
    expect(s0.step).toBe(0);
    expect(s0.rows.map((r) => [r.row, r.parent, r.group, r.tokenId])).toEqual([
      [0, 0, 0, 2],
      [1, 0, 0, 4],
    ]);
    expect(s0.rows[0]?.score).toBeCloseTo(-1, 5);
    expect(s0.rows[1]?.score).toBeCloseTo(s1, 5);
    expect(s0.rows[1]?.logprob).toBeCloseTo(s1, 5);
    expect(s0.rows[1]?.combinedLogprob).toBeCloseTo(s1, 5);
    expect(s0.rows[0]?.rewards).toEqual({});
    expect(s0.rows[0]?.top.map((t) => t.tokenId)).toEqual([2, 0, 4]);
    expect(s0.rows[0]?.topCombined).toBeUndefined();
    expect(s0.hypotheses).toEqual([{ row: 0, group: 0, tokenIds: [0], score: expect.closeTo(-1.2, 5), kind: 'finished' }]);
    const s1ev = steps[1] as StepEvent;
    expect(s1ev.rows.map((r) => [r.row, r.parent, r.tokenId])).toEqual([
      [0, 0, 3],
      [1, 0, 4],
    ]);
    const best = done.sequences[0] as SequenceResult;
    expect(best.group).toBe(0);
    expect(best.steps.map((t) => t.tokenId)).toEqual([2, 0]);
    expect(best.steps[0]?.logprob).toBeCloseTo(-1, 5);
    expect(best.steps[1]?.combinedLogprob).toBeCloseTo(-1, 5);
  });

  it('early_stopping true / false / never stop after 2 / 3 / 4 steps', async () => {
    const o = { numBeams: 2, maxNewTokens: 5, lengthPenalty: 1, numReturnSequences: 2 } as const;
    // true: after step 1 both slots are finished (B -1.0, A -1.2): stop. C is never found.
    const t = await beam(new TableModel(chain), [1], { ...o, earlyStopping: true });
    expect(t.steps).toHaveLength(2);
    expect(seqs(t.done).map((s) => [s.tokenIds, s.score])).toEqual([
      [[2, 0], expect.closeTo(-1, 5)],
      [[0], expect.closeTo(-1.2, 5)],
    ]);
    // false: step 2 finds C (-1.195431); best running D at length 3 = -1.376992 < -1.195431: stop.
    const f = await beam(new TableModel(chain), [1], { ...o, earlyStopping: false });
    expect(f.steps).toHaveLength(3);
    expect(seqs(f.done).map((s) => [s.tokenIds, s.score])).toEqual([
      [[2, 0], expect.closeTo(-1, 5)],
      [[2, 3, 0], expect.closeTo(Csum / 3, 5)],
    ]);
    // never: the running score is normalised at max length 5: -4.130976/5 = -0.826 > -1.195: go on.
    // Step 3: all candidates tie at -6.210418 ([2,3,4] + ln 1/8); [2,3,4,0] = -1.552605 is pruned;
    // best running -6.210418/5 = -1.242 < -1.195: stop.
    const n = await beam(new TableModel(chain), [1], { ...o, earlyStopping: 'never' });
    expect(n.steps).toHaveLength(4);
    expect(n.steps[3]?.hypotheses).toEqual([{ row: 0, group: 0, tokenIds: [2, 3, 4, 0], score: expect.closeTo((Dsum + ln(1 / 8)) / 4, 5), kind: 'pruned' }]);
    expect(seqs(n.done).map((s) => s.tokenIds)).toEqual([
      [2, 0],
      [2, 3, 0],
    ]);
  });

  it('applies processors to a copy of the log-probs, with history = prompt + generated tokens', async () => {
    // Ban EOS until 2 tokens are generated. lp 0. Step 0: 2 (-1), sink 4; step 1: [2,3] (-2.386294),
    // [2,4]; step 2 (max length): C = -3.586294 and D = -4.130976 finish.
    const seen: number[][] = [];
    const m = new TableModel(chain);
    const src = new ModelSource(m);
    const { done } = await run(
      beamSearch(src, [1], {
        numBeams: 2,
        maxNewTokens: 3,
        lengthPenalty: 0,
        numReturnSequences: 2,
        processors: [
          (row, history) => {
            seen.push([...history]);
            if (history.length < 3) row[0] = -Infinity;
          },
        ],
      }),
    );
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 3, 0], score: expect.closeTo(Csum, 5), finishReason: 'eos' },
      { tokenIds: [2, 3, 4], score: expect.closeTo(Dsum, 5), finishReason: 'length' },
    ]);
    expect(seen).toEqual([[1], [1], [1, 2], [1, 4], [1, 2, 3], [1, 2, 4]]);
    expect(m.live.size).toBe(0);
  });

  it('ranks by the combined (guided) log-probs and reports policy, combined and reward values', async () => {
    // Policy p = [.1, .2, .4, .3]; ARM p = [.1, .1, .1, .7]; combined ∝ p·q = [.01, .02, .04, .21] / .28.
    const policy = new TableModel(Array.from({ length: 4 }, () => [0.1, 0.2, 0.4, 0.3].map(ln)));
    const arm = new TableModel(Array.from({ length: 4 }, () => [0.1, 0.1, 0.1, 0.7].map(ln)), [0], 'arm');
    const src = new ModelSource(policy, genarmGuidance([{ model: arm, weight: 1 }], 1));
    const { steps, done } = await run(beamSearch(src, [1], { numBeams: 1, maxNewTokens: 2 }));
    const r = steps[0]?.rows[0];
    expect(r?.tokenId).toBe(3);
    expect(r?.logprob).toBeCloseTo(ln(0.3), 5);
    expect(r?.combinedLogprob).toBeCloseTo(ln(0.75), 5);
    expect(r?.rewards['arm:arm']).toBeCloseTo(ln(0.7), 5);
    expect(r?.top[0]?.tokenId).toBe(2);
    expect(r?.topCombined?.[0]?.tokenId).toBe(3);
    expect(seqs(done)).toEqual([{ tokenIds: [3, 3], score: expect.closeTo(ln(0.75), 5), finishReason: 'length' }]);
    expect(policy.live.size + arm.live.size).toBe(0);
  });

  it('stops when aborted, returns the best running beams as aborted, and frees the caches', async () => {
    // EOS impossible; ℓ = log_softmax([-inf, 0, .5, 1]) = [-inf, -1.464, -0.964, -0.464].
    const m = new TableModel(Array.from({ length: 4 }, () => [NI, 0, 0.5, 1]));
    const lse = ln(1 + Math.exp(0.5) + Math.exp(1));
    const ctrl = new AbortController();
    const events: DecodeEvent[] = [];
    for await (const e of beamSearch(new ModelSource(m), [1], { numBeams: 2, maxNewTokens: 50, numReturnSequences: 2, signal: ctrl.signal })) {
      events.push(e);
      if (events.length === 2) ctrl.abort();
    }
    expect(events).toHaveLength(3);
    const done = events[2] as DoneEvent;
    // After 2 steps: [3,3] (2·(1-lse)) and [3,2] (1.5 - 2·lse), normalised by length 2.
    expect(seqs(done)).toEqual([
      { tokenIds: [3, 3], score: expect.closeTo(1 - lse, 5), finishReason: 'aborted' },
      { tokenIds: [3, 2], score: expect.closeTo((1.5 - 2 * lse) / 2, 5), finishReason: 'aborted' },
    ]);
    expect(m.live.size).toBe(0);
  });
});

describe('beam search option checks', () => {
  const m = new TableModel(chain);
  const bad = (o: Partial<BeamOptions>, msg: RegExp) =>
    expect(run(beamSearch(new ModelSource(m), [1], { numBeams: 2, maxNewTokens: 3, ...o }))).rejects.toThrow(msg);
  it('names the field and the fix', async () => {
    await bad({ numBeams: 0 }, /numBeams must be an integer >= 1 \(got 0\)/);
    await bad({ numBeams: 1.5 }, /numBeams must be an integer >= 1/);
    await bad({ maxNewTokens: 0 }, /maxNewTokens must be an integer >= 1 \(got 0\)/);
    await bad({ numReturnSequences: 3 }, /numReturnSequences \(3\) must be <= numBeams \(2\): raise numBeams/);
    await bad({ numReturnSequences: 0 }, /numReturnSequences must be an integer >= 1/);
    await bad({ lengthPenalty: NaN }, /lengthPenalty must be a finite number/);
    await bad({ earlyStopping: 'sometimes' as unknown as boolean }, /earlyStopping must be true, false or 'never'/);
    await bad({ maxNewTokens: 64 }, /maxNewTokens \(64\) plus the prompt \(1 tokens\) exceeds the model's context of 64 tokens/);
    expect(m.calls).toBe(0);
  });
});

describe('beam search against a slow reference of §3.1 (random models and configurations)', () => {
  const lps = [-1, 0, 0.6, 1, 2];
  const ess = [false, true, 'never'] as const;
  it('matches tokens and float32 scores exactly in 150 configurations, with the step invariants', async () => {
    const u = lcg(12345);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)] as T;
    let withProcessor = 0;
    for (let c = 0; c < 150; c++) {
      const model = new PairModel(1000 + c);
      const B = 1 + Math.floor(u() * 5);
      const R = 1 + Math.floor(u() * B);
      const lengthPenalty = pick(lps);
      const earlyStopping = pick(ess);
      const maxNewTokens = 1 + Math.floor(u() * 8);
      const prompt = Array.from({ length: 1 + Math.floor(u() * 3) }, () => 1 + Math.floor(u() * 7));
      // Every third run: a repetition penalty over the history, and no EOS before 2 new tokens.
      const processors =
        c % 3 === 0
          ? [
              (row: Float32Array, h: readonly number[]) => {
                for (const t of h) row[t] = (row[t] as number) - 0.3;
              },
              (row: Float32Array, h: readonly number[]) => {
                if (h.length < prompt.length + 2) row[0] = -Infinity;
              },
            ]
          : undefined;
      if (processors) withProcessor++;
      const cfg = { numBeams: B, maxNewTokens, lengthPenalty, earlyStopping, numReturnSequences: R };
      const ref = refBeam((s) => model.logprobsFor(s), prompt, { ...cfg, eos: [0], processors });
      const { steps, done } = await run(beamSearch(new ModelSource(model), prompt, { ...cfg, processors }));
      const label = JSON.stringify({ c, ...cfg, prompt });
      expect(done.sequences.map((s) => ({ tokens: s.tokenIds, score: s.score })), label).toEqual(ref);
      expect(done.sequences).toHaveLength(R);
      for (const s of done.sequences) {
        expect(s.tokenIds.length).toBeLessThanOrEqual(maxNewTokens);
        expect(s.steps.map((t) => t.tokenId)).toEqual(s.tokenIds);
        expect(Number.isFinite(s.score)).toBe(true);
        expect(s.finishReason).toBe(s.tokenIds.at(-1) === 0 ? 'eos' : 'length');
      }
      for (const e of steps) {
        const scores = e.rows.map((r) => r.score);
        expect(scores.every(Number.isFinite)).toBe(true);
        for (let i = 1; i < scores.length; i++) expect(scores[i] as number).toBeLessThanOrEqual(scores[i - 1] as number);
      }
      expect(model.live.size).toBe(0);
    }
    expect(withProcessor).toBe(50);
  });

  it('numBeams = 1 is greedy search (early_stopping false or true, any length penalty)', async () => {
    for (let c = 0; c < 40; c++) {
      const model = new PairModel(5000 + c);
      const prompt = [1 + (c % 7)];
      const maxNewTokens = 1 + (c % 8);
      const greedy: number[] = [];
      for (const seq = [...prompt]; greedy.length < maxNewTokens; ) {
        const t = argmax(model.logprobsFor(seq));
        greedy.push(t);
        seq.push(t);
        if (t === 0) break;
      }
      const { done } = await beam(model, prompt, { numBeams: 1, maxNewTokens, lengthPenalty: lps[c % 5] as number, earlyStopping: c % 2 === 0 });
      expect(done.sequences.map((s) => s.tokenIds)).toEqual([greedy]);
    }
  });
});
