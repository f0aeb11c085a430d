/**
 * Reward-guided beam search (RankGen-style, core/search/beam.ts `reward`): candidates ranked by
 * beam score + w·RM(prefix). w = 0 is plain HF beam search exactly; a large w returns the RM-best of
 * the candidate set (brute force); the RM runs once per rescoring step (every k tokens), and on
 * hypotheses that finish; hand-computed values of score, reward and guided score.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beamSearch, type BeamOptions, type BeamReward } from '../../src/core/search/beam.ts';
import type { DecodeEvent, DoneEvent, StepEvent } from '../../src/core/search/events.ts';
import { ModelSource } from '../../src/core/search/modelSource.ts';
import type { SequenceRewardModel } from '../../src/core/model/types.ts';
import { decode, validate, ConfigError } from '../../src/core/search/strategy.ts';
import { TableModel } from '../support/fakeModel.ts';
import { PairModel, lcg } from '../support/beamReference.ts';

async function run(gen: AsyncGenerator<DecodeEvent>, log?: unknown[]): Promise<{ steps: StepEvent[]; done: DoneEvent }> {
  const events: DecodeEvent[] = [];
  for await (const e of gen) {
    events.push(e);
    log?.push(e);
  }
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('no done event');
  return { steps: events.filter((e): e is StepEvent => e.type === 'step'), done };
}

/**
 * A fake sequence reward model: a pure function of the whole id list, recording every call.
 * `distinct`: each new prefix gets a fresh integer in [0, 10⁴) never given before (so RM values of
 * different prefixes differ by at least 1); else a smooth hash in (−1, 1).
 */
class FakeRm implements SequenceRewardModel {
  readonly calls: number[][][] = [];
  private readonly memo = new Map<string, number>();
  private readonly used = new Set<number>();
  private readonly u: () => number;
  constructor(
    seed: number,
    readonly vocabSize = 8,
    private readonly distinct = false,
    readonly id = 'rm',
    readonly contextLength = 64,
    private readonly log?: unknown[],
  ) {
    this.u = lcg(seed);
  }
  value(ids: readonly number[]): number {
    const key = ids.join(',');
    let v = this.memo.get(key);
    if (v === undefined) {
      if (this.distinct) {
        do v = Math.floor(this.u() * 10_000);
        while (this.used.has(v));
        this.used.add(v);
      } else v = 2 * this.u() - 1;
      this.memo.set(key, v);
    }
    return v;
  }
  async score(batch: readonly (readonly number[])[]): Promise<Float32Array> {
    this.calls.push(batch.map((r) => [...r]));
    this.log?.push({ type: 'rm', batch: batch.map((r) => [...r]) });
    return Float32Array.from(batch, (r) => this.value(r));
  }
  async dispose(): Promise<void> {}
}

const beam = (model: PairModel | TableModel, prompt: number[], o: BeamOptions, log?: unknown[]) => run(beamSearch(new ModelSource(model), prompt, o), log);
const view = (d: DoneEvent) => d.sequences.map((s) => ({ tokenIds: s.tokenIds, score: s.score, finishReason: s.finishReason, steps: s.steps.map((t) => [t.tokenId, t.logprob, t.combinedLogprob]) }));
const stepView = (steps: StepEvent[]) =>
  steps.map((e) => ({
    step: e.step,
    rows: e.rows.map((r) => [r.row, r.parent, r.tokenId, r.score, r.logprob]),
    hyps: (e.hypotheses ?? []).map((h) => [h.row, h.tokenIds, h.score, h.kind]),
  }));

describe('reward-guided beam search: w = 0 is plain beam search exactly', () => {
  it('same sequences, scores, order, steps and hypotheses over random models and settings (property)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 0, max: 1_000_000 }),
          B: fc.integer({ min: 1, max: 4 }),
          r: fc.integer({ min: 0, max: 3 }),
          maxNew: fc.integer({ min: 1, max: 7 }),
          lp: fc.constantFrom(-1, 0, 0.6, 1, 2),
          es: fc.constantFrom(false as const, true as const, 'never' as const),
          k: fc.integer({ min: 0, max: 4 }),
          c: fc.constantFrom(0, 1, 3, 8),
          prompt: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }),
        }),
        async ({ seed, B, r, maxNew, lp, es, k, c, prompt }) => {
          const o: BeamOptions = { numBeams: B, maxNewTokens: maxNew, lengthPenalty: lp, earlyStopping: es, numReturnSequences: Math.min(B, 1 + r) };
          const plain = await beam(new PairModel(seed), prompt, o);
          const rm = new FakeRm(seed);
          const guided = await beam(new PairModel(seed), prompt, { ...o, reward: { model: rm, weight: 0, rescoreEvery: k, candidates: c } });
          expect(view(guided.done)).toEqual(view(plain.done));
          expect(stepView(guided.steps)).toEqual(stepView(plain.steps));
          // The RM still ran: every returned sequence reports its last RM value, and guidedScore = score.
          for (const s of guided.done.sequences) {
            expect(s.reward).toBeTypeOf('number');
            expect(s.guidedScore).toBe(s.score);
          }
          expect(rm.calls.length).toBeGreaterThanOrEqual(2); // the prompt, then at least the last step
          runs++;
        },
      ),
      { numRuns: 150, seed: 20261204 },
    );
    expect(runs).toBe(150);
  });
});

describe('reward-guided beam search: a large w returns the RM-best of the candidate set', () => {
  it('one step: the returned beams are the candidate set (HF top-K ∪ top-c) sorted by RM, by brute force', async () => {
    let checked = 0;
    for (let seed = 0; seed < 120; seed++) {
      const u = lcg(seed + 77);
      const B = 1 + Math.floor(u() * 3);
      const c = Math.floor(u() * 9);
      const prompt = [1 + Math.floor(u() * 7), 1 + Math.floor(u() * 7)];
      const model = new PairModel(seed);
      const rm = new FakeRm(seed, 8, true);
      const { done } = await beam(model, prompt, { numBeams: B, maxNewTokens: 1, numReturnSequences: B, reward: { model: rm, weight: 100, candidates: c } });
      // Brute force: beam 0 is the only live beam at step 0; the candidate set is its top max(K, c)
      // tokens by log-prob (K = 2B with one EOS); each is scored on prompt ⊕ token (EOS: the prompt).
      const lps = model.logprobsFor(prompt);
      const byLp = [...lps.keys()].sort((a, b) => (lps[b] as number) - (lps[a] as number) || a - b);
      const set = byLp.slice(0, Math.max(2 * B, c));
      const rmOf = (v: number) => rm.value(v === 0 ? prompt : [...prompt, v]);
      const expected = [...set].sort((a, b) => rmOf(b) - rmOf(a)).slice(0, B);
      expect(done.sequences.map((s) => s.tokenIds), JSON.stringify({ seed, B, c })).toEqual(expected.map((v) => [v]));
      expect(done.sequences.map((s) => s.reward)).toEqual(expected.map(rmOf));
      // The candidate set is what the RM saw (one batched call after the prompt's).
      expect(rm.calls).toHaveLength(2);
      expect(new Set(rm.calls[1]!.map((x) => x.join(',')))).toEqual(new Set(set.map((v) => (v === 0 ? prompt : [...prompt, v]).join(','))));
      checked++;
    }
    expect(checked).toBe(120);
  });

  it('one beam, every token a candidate (c = V): RM-greedy decoding over the whole vocabulary, by brute force', async () => {
    for (let seed = 0; seed < 60; seed++) {
      const prompt = [1 + (seed % 7)];
      const maxNew = 1 + (seed % 5);
      const rm = new FakeRm(seed, 8, true);
      const { done } = await beam(new PairModel(seed), prompt, { numBeams: 1, maxNewTokens: maxNew, reward: { model: rm, weight: 1000, candidates: 8 } });
      // Brute force: at each step the continuation with the highest RM(prefix ⊕ v) (EOS: RM(prefix)).
      const want: number[] = [];
      while (want.length < maxNew) {
        const prefix = [...prompt, ...want];
        const vals = Array.from({ length: 8 }, (_, v) => rm.value(v === 0 ? prefix : [...prefix, v]));
        const best = vals.indexOf(Math.max(...vals));
        want.push(best);
        if (best === 0) break;
      }
      expect(done.sequences[0]?.tokenIds, `seed ${seed}`).toEqual(want);
    }
  });
});

describe('reward-guided beam search: when and how the RM is called', () => {
  // EOS impossible (its logit is −∞): hypotheses finish only at max_new_tokens.
  const noEos = (seed: number) => new PairModel(seed, 8, -Infinity);

  it.each([
    [1, [1, 2, 3, 4, 5, 6, 7]],
    [3, [3, 6, 7]],
    [2, [2, 4, 6, 7]],
    [0, [7]],
    [10, [7]],
  ])('rescore_every %i: one call for the prompt, then one per rescoring step (generated lengths %j)', async (k, lengths) => {
    const prompt = [3, 5];
    const rm = new FakeRm(k);
    const { done } = await beam(noEos(k + 11), prompt, { numBeams: 2, maxNewTokens: 7, numReturnSequences: 2, reward: { model: rm, weight: 1, rescoreEvery: k } });
    expect(rm.calls[0]).toEqual([prompt]);
    const rest = rm.calls.slice(1);
    // Each call holds prefixes of one generated length: a multiple of k, or the last step (all finish).
    expect(rest.map((b) => [...new Set(b.map((x) => x.length - prompt.length))])).toEqual(lengths.map((n) => [n]));
    // Batched: every candidate of the step in that one call, K = 2·num_beams of them (distinct prefixes).
    for (const b of rest) {
      expect(b).toHaveLength(4);
      expect(new Set(b.map((x) => x.join(','))).size).toBe(4);
      for (const x of b) expect(x.slice(0, 2)).toEqual(prompt);
    }
    // Steps carry the RM value exactly at the scored positions; the sequence reward is the final one.
    for (const s of done.sequences) {
      const at = s.steps.flatMap((t, i) => ('sequence:rm' in t.rewards ? [i + 1] : []));
      expect(at).toEqual(lengths);
      expect(s.reward).toBe(Math.fround(rm.value([...prompt, ...s.tokenIds])));
      expect(s.steps.at(-1)?.rewards['sequence:rm']).toBe(s.reward);
      expect(s.guidedScore).toBe(Math.fround(s.score + Math.fround(1 * (s.reward as number))));
    }
  });

  it('rm_candidates c adds each live beam\'s top-c tokens to the K candidates, in the same single call', async () => {
    const prompt = [2];
    const model = noEos(5);
    const rm = new FakeRm(5);
    const log: unknown[] = [];
    await beam(model, prompt, { numBeams: 2, maxNewTokens: 3, reward: { model: rm, weight: 0, candidates: 5 } }, log);
    // w = 0: the beams are plain beam search's, so the brute-force candidate sets can be rebuilt from the steps.
    const steps = log.filter((e): e is StepEvent => (e as StepEvent).type === 'step');
    let beams: number[][] = [[]];
    let sums = [0];
    steps.forEach((e, t) => {
      const call = rm.calls[t + 1] as number[][];
      const all: { ids: number[]; acc: number; beam: number }[] = [];
      beams.forEach((y, b) => {
        const lps = model.logprobsFor([...prompt, ...y]);
        lps.forEach((l, v) => all.push({ ids: [...prompt, ...y, v], acc: Math.fround((sums[b] as number) + l), beam: b }));
      });
      const key = (x: { ids: number[] }) => x.ids.join(',');
      const byAcc = [...all].sort((a, b) => b.acc - a.acc);
      const want = new Set([...byAcc.slice(0, 4).map(key), ...beams.flatMap((_, b) => byAcc.filter((x) => x.beam === b).slice(0, 5).map(key))]);
      expect(new Set(call.map((x) => x.join(','))), `step ${t}`).toEqual(want);
      expect(call).toHaveLength(want.size); // one call, no duplicates
      beams = e.rows.map((r) => [...(beams[r.parent] as number[]), r.tokenId]);
      sums = e.rows.map((r) => r.score);
    });
    expect(rm.calls).toHaveLength(1 + steps.length);
  });

  it('with rescore_every past the length, only finishing candidates are scored (EOS: on the response without EOS)', async () => {
    const prompt = [4];
    const log: unknown[] = [];
    const rm = new FakeRm(3, 8, false, 'rm', 64, log);
    const { steps } = await beam(new PairModel(21, 8, 2), prompt, { numBeams: 3, maxNewTokens: 6, reward: { model: rm, weight: 1, rescoreEvery: 100 } }, log);
    let t = -1;
    let calls = 0;
    let between = 0;
    for (const e of log) {
      if ((e as StepEvent).type === 'step') t = (e as StepEvent).step;
      else if ((e as { type: string }).type === 'rm') {
        calls++;
        const batch = (e as { batch: number[][] }).batch;
        if (t === -1 && calls === 1) continue; // the prompt
        const step = t + 1; // the call comes before that step's event
        if (step === steps.length - 1 && steps.length === 6) continue; // the last step: every candidate finishes
        // A step in between: only EOS candidates, scored on prompt ⊕ their parent's tokens (length step).
        for (const x of batch) expect(x.length - prompt.length, `step ${step}`).toBe(step);
        between++;
      }
    }
    expect(between).toBeGreaterThan(0);
    expect(calls).toBe(1 + steps.length); // this model offers EOS at every step: one call each
  });
});

describe('reward-guided beam search: between rescoring steps the last RM value carries', () => {
  it('running rows are ranked by score + w·(RM scored now, else the parent row\'s last RM value)', async () => {
    const f = Math.fround;
    let differs = 0;
    for (let seed = 0; seed < 40; seed++) {
      const prompt = [1 + (seed % 7)];
      const w = 0.5 + (seed % 4);
      const rm = new FakeRm(seed);
      const { steps } = await beam(new PairModel(seed, 8, -Infinity), prompt, { numBeams: 3, maxNewTokens: 8, reward: { model: rm, weight: w, rescoreEvery: 3 } });
      let carried = [rm.value(prompt)];
      for (const e of steps) {
        const now = e.rows.map((r) => (r.rewards['sequence:rm'] ?? carried[r.parent]) as number);
        const g = e.rows.map((r, i) => f(r.score + f(w * (now[i] as number))));
        for (let i = 1; i < g.length; i++) expect(g[i] as number, `seed ${seed} step ${e.step}`).toBeLessThanOrEqual(g[i - 1] as number);
        if (e.rows.some((r, i) => i > 0 && r.score > (e.rows[i - 1] as typeof r).score)) differs++;
        carried = now.map((x) => f(x));
      }
    }
    expect(differs).toBeGreaterThan(0); // the RM term did reorder rows somewhere
  });
});

describe('reward-guided beam search: a hand-computed case', () => {
  // V = 4, EOS (0) impossible; every row p = [0, .2, .5, .3]. RM = number of 3s generated.
  const ln = Math.log;
  const table = () => new TableModel(Array.from({ length: 4 }, () => [-Infinity, ln(0.2), ln(0.5), ln(0.3)]));
  const threes: SequenceRewardModel = {
    id: 'threes',
    vocabSize: 4,
    contextLength: 64,
    score: async (batch) => Float32Array.from(batch, (ids) => ids.slice(1).filter((t) => t === 3).length),
    dispose: async () => {},
  };
  const go = (reward?: BeamReward) => beam(table(), [1], { numBeams: 1, maxNewTokens: 2, ...(reward ? { reward } : {}) });

  it('w = 1: step 0 ranks 3 (ln .3 + 1 = −0.204) above 2 (ln .5 = −0.693); step 1 ends on [3, 3] with RM 2, not 1 + 2', async () => {
    const plain = await go();
    expect(plain.done.sequences[0]?.tokenIds).toEqual([2, 2]);
    const { steps, done } = await go({ model: threes, weight: 1 });
    expect(steps[0]?.rows.map((r) => [r.tokenId, r.rewards['sequence:threes']])).toEqual([[3, 1]]);
    expect(steps[0]?.rows[0]?.score).toBeCloseTo(ln(0.3), 5); // rows keep the summed log-prob
    const s = done.sequences[0]!;
    expect(s.tokenIds).toEqual([3, 3]);
    expect(s.score).toBeCloseTo(ln(0.09) / 2, 5); // HF beam score, unchanged by the RM
    expect(s.reward).toBe(2); // replaced at each rescoring, not accumulated
    expect(s.guidedScore).toBeCloseTo(ln(0.09) / 2 + 2, 5);
    expect(steps[1]?.hypotheses?.map((h) => [h.tokenIds, h.kind, h.reward])).toEqual([[[3, 3], 'finished', 2]]);
  });

  it('w = 0.1 keeps plain beam search\'s [2, 2] (−0.693 > −1.104), with its reward 0', async () => {
    const { done } = await go({ model: threes, weight: 0.1 });
    expect(done.sequences[0]?.tokenIds).toEqual([2, 2]);
    expect(done.sequences[0]?.reward).toBe(0);
  });

  it('rescore_every 2: step 0 is not rescored (every candidate carries RM(prompt) = 0), so w = 1 keeps 2 first', async () => {
    const { steps, done } = await go({ model: threes, weight: 1, rescoreEvery: 2 });
    expect(steps[0]?.rows.map((r) => r.tokenId)).toEqual([2]);
    expect(steps[0]?.rows[0]?.rewards).toEqual({});
    // Step 1 (scored): [2, 3] = ln .15 + 1 = −0.897 beats [2, 2] = ln .25 = −1.386.
    expect(done.sequences[0]?.tokenIds).toEqual([2, 3]);
    expect(done.sequences[0]?.reward).toBe(1);
  });
});

describe('reward-guided beam search: options', () => {
  const m = () => new TableModel(Array.from({ length: 8 }, () => [0, 0, 0, 0, 0, 0, 0, 0]));
  const rm = new FakeRm(1);
  const bad = (r: Partial<BeamReward>, msg: RegExp) => expect(beam(m(), [1], { numBeams: 2, maxNewTokens: 3, reward: { model: rm, ...r } })).rejects.toThrow(msg);
  it('names the field, the flag and the fix', async () => {
    await bad({ weight: NaN }, /reward_weight \(--reward_weight\) must be a finite number/);
    await bad({ rescoreEvery: -1 }, /rescore_every \(--rescore_every\) must be an integer >= 0 or "end"/);
    await bad({ rescoreEvery: 1.5 }, /rescore_every/);
    await bad({ candidates: -2 }, /rm_candidates \(--rm_candidates\) must be an integer >= 0/);
    await bad({ model: new FakeRm(1, 9) }, /vocabulary of 9 tokens but the policy has 8/);
    expect(rm.calls).toHaveLength(0);
  });

  it('decode(): strategy beam with a reward model is guided; the flags without one, or on another strategy, are refused', async () => {
    const policy = m();
    const spec = { strategy: 'beam' as const, config: { max_new_tokens: 2, num_beams: 2 }, rewardWeight: 2, rescoreEvery: 1 };
    const r = new FakeRm(2);
    const { done } = await run(decode(spec, { policy, rewardModel: r }, [1]));
    expect(done.sequences[0]?.reward).toBeTypeOf('number');
    expect(r.calls.length).toBeGreaterThan(1);
    expect(() => validate(spec, { policy }, 1)).toThrow(/need --reward-model MODEL/);
    expect(() => validate({ ...spec, strategy: 'sample' }, { policy, rewardModel: r }, 1)).toThrow(ConfigError);
    expect(() => validate({ ...spec, strategy: 'sample' }, { policy, rewardModel: r }, 1)).toThrow(/guide --strategy beam/);
    expect(() => validate({ ...spec, rescoreEvery: -3 }, { policy, rewardModel: r }, 1)).toThrow(/rescore_every must be an integer >= 0/);
    expect(() => validate({ ...spec, rmCandidates: 0.5 }, { policy, rewardModel: r }, 1)).toThrow(/rm_candidates must be an integer >= 0/);
    // Without the flags, a reward model does not change what strategy beam validates.
    expect(() => validate({ strategy: 'beam', config: { max_new_tokens: 2 } }, { policy, rewardModel: r }, 1)).not.toThrow();
  });
});
