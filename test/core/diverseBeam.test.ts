import { describe, expect, it } from 'vitest';
import { diverseBeamSearch, type DiverseBeamOptions } from '../../src/core/search/diverseBeam.ts';
import type { DecodeEvent, DoneEvent, StepEvent } from '../../src/core/search/events.ts';
import { ModelSource } from '../../src/core/search/modelSource.ts';
import { TableModel } from '../support/fakeModel.ts';
import { PairModel, lcg, refDiverse } from '../support/beamReference.ts';

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
 * Vocabulary of 5: 0 = EOS, 1 = the prompt, 2, 3, 4. Logits are log-probabilities.
 *   after 1: EOS .1, 2 .5, 3 .3, 4 .1
 *   after 2: EOS .6, 3 .2, 4 .2
 *   after 3: EOS .7, 2 .1, 4 .2
 * With groups of 1, K = 2 candidates per group, and a group is done as soon as its best candidate
 * is EOS (its worst finished score then equals best / length).
 */
const table = [
  [0, 0, 0, 0, 0],
  [ln(0.1), NI, ln(0.5), ln(0.3), ln(0.1)],
  [ln(0.6), NI, NI, ln(0.2), ln(0.2)],
  [ln(0.7), NI, ln(0.1), NI, ln(0.2)],
  [ln(0.5), NI, ln(0.25), ln(0.25), NI],
];
const base = { maxNewTokens: 3, lengthPenalty: 1, earlyStopping: false } as const;
const dbs = (m: TableModel | PairModel, prompt: number[], o: DiverseBeamOptions) => run(diverseBeamSearch(new ModelSource(m), prompt, o));
const seqs = (d: DoneEvent) => d.sequences.map((s) => ({ tokenIds: s.tokenIds, score: s.score, finishReason: s.finishReason, group: s.group }));

describe('diverse beam search on a hand-computed table', () => {
  it('G = 2, λ = 1: group 1 avoids group 0’s token', async () => {
    // Step 0. Group 0: 2 (ln .5 = -0.693147). Group 1: 2 is penalised to ln .5 - 1 = -1.693147 < ln .3, so 3.
    // Step 1. Group 0 from [2]: EOS (ln .5 + ln .6 = ln .3) -> [2,0] scores ln .3 / 2 = -0.601986; done.
    //         Group 1 from [3] (token 3 penalised, already -inf): EOS ln .3 + ln .7 = ln .21 -> -0.780324; done.
    const m = new TableModel(table);
    const { steps, done } = await dbs(m, [1], { ...base, numBeams: 2, numBeamGroups: 2, diversityPenalty: 1, numReturnSequences: 2 });
    expect(steps).toHaveLength(2);
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 0], score: expect.closeTo(ln(0.3) / 2, 5), finishReason: 'eos', group: 0 },
      { tokenIds: [3, 0], score: expect.closeTo(ln(0.21) / 2, 5), finishReason: 'eos', group: 1 },
    ]);
    const s0 = steps[0] as StepEvent;
    expect(s0.rows.map((r) => [r.row, r.parent, r.group, r.tokenId])).toEqual([
      [0, 0, 0, 2],
      [1, 1, 1, 3],
    ]);
    expect(s0.rows[0]?.score).toBeCloseTo(ln(0.5), 5);
    expect(s0.rows[1]?.score).toBeCloseTo(ln(0.3), 5);
    const s1 = steps[1] as StepEvent;
    // Both groups finished this step but still report their new running rows.
    expect(s1.rows.map((r) => [r.row, r.parent, r.group, r.tokenId])).toEqual([
      [0, 0, 0, 3],
      [1, 1, 1, 4],
    ]);
    expect(s1.rows[1]?.score).toBeCloseTo(ln(0.3) + ln(0.2), 5);
    expect(s1.hypotheses).toEqual([
      { row: 0, group: 0, tokenIds: [2, 0], score: expect.closeTo(ln(0.3) / 2, 5), kind: 'finished' },
      { row: 1, group: 1, tokenIds: [3, 0], score: expect.closeTo(ln(0.21) / 2, 5), kind: 'finished' },
    ]);
    expect(done.sequences[1]?.steps.map((t) => [t.tokenId, t.logprob])).toEqual([
      [3, expect.closeTo(ln(0.3), 5)],
      [0, expect.closeTo(ln(0.7), 5)],
    ]);
    expect(m.live.size).toBe(0);
  });

  it('G = 2, λ = 0.4: the penalty is too small to move group 1, and it stays in its score', async () => {
    // Group 1 step 0: ln .5 - 0.4 = -1.093147 > ln .3 = -1.203973, so 2 again with the penalised score.
    // Step 1: group 0 picked 3, so group 1 sees 3 at ln .2 - 0.4; its EOS: (ln .3 - 0.4) / 2 = -0.801986.
    const { steps, done } = await dbs(new TableModel(table), [1], { ...base, numBeams: 2, numBeamGroups: 2, diversityPenalty: 0.4, numReturnSequences: 2 });
    expect(steps[0]?.rows[1]?.score).toBeCloseTo(ln(0.5) - 0.4, 5);
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 0], score: expect.closeTo(ln(0.3) / 2, 5), finishReason: 'eos', group: 0 },
      { tokenIds: [2, 0], score: expect.closeTo((ln(0.3) - 0.4) / 2, 5), finishReason: 'eos', group: 1 },
    ]);
  });

  it('G = B = 3 (groups of 1): every group is penalised by all earlier groups', async () => {
    // Step 0: group 0 -> 2; group 1 -> 3 (as above); group 2 sees 2 and 3 penalised by 1:
    //   EOS -2.302585, 2 -1.693147, 3 -2.203973, 4 -2.302585 -> 2 at -1.693147.
    // Step 1: group 0 -> [2,0] (-0.601986); group 1 -> [3,0] (-0.780324) and continues with 4;
    //   group 2 from [2] sees 3 and 4 penalised: EOS (ln .5 - 1 + ln .6) / 2 = -1.101986.
    const { done } = await dbs(new TableModel(table), [1], { ...base, numBeams: 3, numBeamGroups: 3, diversityPenalty: 1, numReturnSequences: 3 });
    expect(seqs(done)).toEqual([
      { tokenIds: [2, 0], score: expect.closeTo(ln(0.3) / 2, 5), finishReason: 'eos', group: 0 },
      { tokenIds: [3, 0], score: expect.closeTo(ln(0.21) / 2, 5), finishReason: 'eos', group: 1 },
      { tokenIds: [2, 0], score: expect.closeTo((ln(0.3) - 1) / 2, 5), finishReason: 'eos', group: 2 },
    ]);
  });

  it('returns running rows at max length without an EOS, normalised by their length', async () => {
    // maxNewTokens 1: no EOS in the top ranks, so both groups add their rows at the end:
    // group 0 [2] = ln .5, group 1 [3] = ln .3.
    const { done } = await dbs(new TableModel(table), [1], { ...base, maxNewTokens: 1, numBeams: 2, numBeamGroups: 2, diversityPenalty: 1, numReturnSequences: 2 });
    expect(seqs(done)).toEqual([
      { tokenIds: [2], score: expect.closeTo(ln(0.5), 5), finishReason: 'length', group: 0 },
      { tokenIds: [3], score: expect.closeTo(ln(0.3), 5), finishReason: 'length', group: 1 },
    ]);
  });

  it('breaks exact ties in the final global ranking in favour of the later group (HF pops the last)', async () => {
    // After 1: 2 and 3 both .4. Group 0 takes 2 (lower id), group 1 (2 penalised) takes 3: equal scores ln .4.
    const tie = new TableModel([
      [0, 0, 0, 0, 0],
      [ln(0.1), NI, ln(0.4), ln(0.4), ln(0.1)],
    ]);
    const { done } = await dbs(tie, [1], { ...base, maxNewTokens: 1, numBeams: 2, numBeamGroups: 2, diversityPenalty: 1, numReturnSequences: 2 });
    expect(seqs(done)).toEqual([
      { tokenIds: [3], score: expect.closeTo(ln(0.4), 5), finishReason: 'length', group: 1 },
      { tokenIds: [2], score: expect.closeTo(ln(0.4), 5), finishReason: 'length', group: 0 },
    ]);
  });

  it('stops when aborted and returns the running rows as aborted', async () => {
    const m = new PairModel(7);
    const ctrl = new AbortController();
    const events: DecodeEvent[] = [];
    const gen = diverseBeamSearch(new ModelSource(m), [1], { numBeams: 4, numBeamGroups: 2, diversityPenalty: 1, maxNewTokens: 40, numReturnSequences: 4, signal: ctrl.signal, processors: [(row) => void (row[0] = -Infinity)] });
    for await (const e of gen) {
      events.push(e);
      ctrl.abort();
    }
    expect(events).toHaveLength(2);
    const done = events[1] as DoneEvent;
    expect(done.sequences).toHaveLength(4);
    for (const s of done.sequences) expect(s).toMatchObject({ finishReason: 'aborted' });
    expect(done.sequences.map((s) => s.tokenIds.length)).toEqual([1, 1, 1, 1]);
    expect(m.live.size).toBe(0);
  });
});

describe('diverse beam search option checks', () => {
  const m = new TableModel(table);
  const ok: DiverseBeamOptions = { numBeams: 4, numBeamGroups: 2, diversityPenalty: 1, maxNewTokens: 3 };
  const bad = (o: Partial<DiverseBeamOptions>, msg: RegExp) => expect(run(diverseBeamSearch(new ModelSource(m), [1], { ...ok, ...o }))).rejects.toThrow(msg);
  it('names the field and the fix', async () => {
    await bad({ numBeams: 6, numBeamGroups: 4 }, /numBeams \(6\) must be divisible by numBeamGroups \(4\): use a multiple of 4/);
    await bad({ numBeamGroups: 1 }, /numBeamGroups must be >= 2 .*use plain beam search \(beamSearch\)/);
    await bad({ diversityPenalty: 0 }, /diversityPenalty must be > 0 \(got 0\)/);
    await bad({ diversityPenalty: -1 }, /diversityPenalty must be > 0/);
    await bad({ numReturnSequences: 5 }, /numReturnSequences \(5\) must be <= numBeams \(4\)/);
    await bad({ maxNewTokens: 0 }, /maxNewTokens must be an integer >= 1 \(got 0\)/);
    await bad({ numBeams: 0 }, /numBeams must be an integer >= 1/);
    expect(m.calls).toBe(0);
  });
});

describe('diverse beam search against a slow reference of §3.2 (random models and configurations)', () => {
  const lps = [-1, 0, 0.6, 1, 2];
  const ess = [false, true, 'never'] as const;
  it('matches tokens and scores exactly in 150 configurations, with the step invariants', async () => {
    const u = lcg(777);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)] as T;
    let sharedGroup = 0;
    let finishedGroupsPadded = 0;
    for (let c = 0; c < 150; c++) {
      const model = new PairModel(3000 + c);
      const G = pick([2, 3, 4]);
      const gs = pick([1, 2]);
      const B = G * gs;
      const cfg = {
        numBeams: B,
        numBeamGroups: G,
        diversityPenalty: pick([0.5, 1, 3]),
        maxNewTokens: 1 + Math.floor(u() * 8),
        lengthPenalty: pick(lps),
        earlyStopping: pick(ess),
        numReturnSequences: 1 + Math.floor(u() * B),
      };
      const prompt = Array.from({ length: 1 + Math.floor(u() * 3) }, () => 1 + Math.floor(u() * 7));
      const processors =
        c % 4 === 0
          ? [
              (row: Float32Array, h: readonly number[]) => {
                for (const t of h) row[t] = (row[t] as number) - 0.3;
              },
            ]
          : undefined;
      const ref = refDiverse((s) => model.logprobsFor(s), prompt, { ...cfg, eos: [0], processors });
      const { steps, done } = await run(diverseBeamSearch(new ModelSource(model), prompt, { ...cfg, processors }));
      const label = JSON.stringify({ c, ...cfg, prompt });
      expect(done.sequences.map((s) => ({ tokens: s.tokenIds, score: s.score })), label).toEqual(ref);
      expect(done.sequences).toHaveLength(cfg.numReturnSequences);
      for (const s of done.sequences) {
        expect(s.tokenIds.length).toBeLessThanOrEqual(cfg.maxNewTokens);
        expect(Number.isFinite(s.score)).toBe(true);
        expect(s.group).toBeGreaterThanOrEqual(0);
        expect(s.group).toBeLessThan(G);
        expect(s.finishReason).toBe(s.tokenIds.at(-1) === 0 ? 'eos' : 'length');
      }
      const groups = done.sequences.map((s) => s.group);
      if (new Set(groups).size < groups.length) sharedGroup++;
      for (const e of steps) {
        for (let g = 0; g < G; g++) {
          const scores = e.rows.filter((r) => r.group === g).map((r) => r.score);
          expect(scores.every(Number.isFinite)).toBe(true);
          for (let i = 1; i < scores.length; i++) expect(scores[i] as number).toBeLessThanOrEqual(scores[i - 1] as number);
        }
        if (e.rows.length < B) finishedGroupsPadded++;
      }
      expect(model.live.size).toBe(0);
    }
    // The global top-R sometimes takes several hypotheses from one group, and finished groups pad.
    expect(sharedGroup).toBeGreaterThan(0);
    expect(finishedGroupsPadded).toBeGreaterThan(0);
  });
});
