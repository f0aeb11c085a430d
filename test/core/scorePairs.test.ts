/**
 * The batched, prompt-sharing scorer (LanguageModel.extend) against the full-recompute path, on
 * hand-computable fake models: same scores to 1e-4, same truncation and skip rules (DESIGN §4),
 * results in dataset order, and the fallbacks (no `extend`, a model that refuses padded lengths).
 */
import { describe, expect, it } from 'vitest';
import type { PreferencePair } from '../../src/core/data/preferences.ts';
import type { LanguageModel } from '../../src/core/model/types.ts';
import { planGroups, scorePairs, type ScoreOptions, type ScoreResult, type ScorerKind, type ScorerModels } from '../../src/core/metrics/scorePairs.ts';
import { letterTokenizer, PrefixModel, TableModel } from '../support/fakeModel.ts';

const V = 27; // '<eos>' + a..z
const tok = letterTokenizer(V);

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const word = (u: () => number, n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(u() * 26))).join('');

/** Pairs with prompts and responses of very different lengths, an empty prompt, an empty response and (n > 30) a too-long one. */
function makePairs(n: number, seed = 1): PreferencePair[] {
  const u = lcg(seed);
  const pairs = Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    prompt: word(u, 1 + Math.floor(u() * 20)),
    chosen: word(u, 1 + Math.floor(u() * 15)),
    rejected: word(u, Math.floor(u() * 25)),
    ...(i % 3 === 0 ? { alpha: 0.25 + (i % 4) / 8 } : {}),
    extra: {},
  }));
  pairs[2] = { ...pairs[2]!, prompt: '' };
  pairs[5] = { ...pairs[5]!, rejected: '' };
  if (n > 30) pairs[30] = { ...pairs[30]!, chosen: word(u, 35) }; // longer than a 30-token context: skipped
  return pairs;
}

function table(seed: number): number[][] {
  const u = lcg(seed);
  return Array.from({ length: V }, () => Array.from({ length: V }, () => 4 * (u() - 0.5)));
}

function expectSame(a: ScoreResult, b: ScoreResult, tol = 1e-4) {
  expect(b.pairs.map((p) => p.id)).toEqual(a.pairs.map((p) => p.id));
  expect(b.truncated).toBe(a.truncated);
  expect(b.skipped).toEqual(a.skipped);
  a.pairs.forEach((p, i) => {
    const q = b.pairs[i]!;
    for (const k of ['chosen', 'rejected', 'margin', 'refChosen', 'refRejected'] as const) {
      if (p[k] === undefined) expect(q[k]).toBeUndefined();
      else expect(Math.abs((q[k] as number) - (p[k] as number)), `${p.id} ${k}`).toBeLessThanOrEqual(tol);
    }
    expect({ ...q, chosen: 0, rejected: 0, margin: 0, refChosen: 0, refRejected: 0 }).toEqual({ ...p, chosen: 0, rejected: 0, margin: 0, refChosen: 0, refRejected: 0 });
  });
}

const scorers: [ScorerKind, (a: LanguageModel, b: LanguageModel) => ScorerModels][] = [
  ['policy', (a) => ({ policy: a })],
  ['arm', (a) => ({ arm: a })],
  ['implicit', (a, b) => ({ tuned: a, ref: b })],
];

describe('scorePairs with prompt sharing (extend) equals full recomputation', () => {
  for (const [kind, models] of scorers) {
    for (const lengthNormalize of [false, true]) {
      it(`${kind}${lengthNormalize ? ', length-normalised' : ''}, on a prefix-dependent model and on TableModel`, async () => {
        const pairs = makePairs(37);
        for (const [a, b] of [
          [new PrefixModel(V, 30, 'a'), new PrefixModel(V, 30, 'b')],
          [new TableModel(table(3)), new TableModel(table(4))],
        ] as const) {
          a.contextLength = b.contextLength = 30; // some prompts are cut, one response is too long
          const opts: ScoreOptions = { lengthNormalize, beta: 0.5, batchSize: 4 };
          const full = await scorePairs(pairs, kind, models(a, b), tok, { ...opts, sharePrompts: false, sortWindow: 0 });
          const passes = { ...a.passes };
          const shared = await scorePairs(pairs, kind, models(a, b), tok, opts);
          expect(full.truncated).toBeGreaterThan(0);
          expect(full.skipped.length).toBeGreaterThan(0);
          expectSame(full, shared);
          expect(a.passes.extend).toBeGreaterThan(passes.extend);
          expect(a.passes.score).toBe(passes.score); // the shared run never recomputed a full sequence
          expect(a.live.size).toBe(0); // every cache disposed
        }
      });
    }
  }

  it('matches hand-computed log-probs on TableModel', async () => {
    // logits depend on the last token only: row 1 ('a') = [0, ln 2, 0, ...] etc.
    const t = Array.from({ length: V }, () => new Array<number>(V).fill(0));
    t[1]![2] = Math.log(2); // after 'a', 'b' is twice as likely as any other token
    t[2]![3] = Math.log(3); // after 'b', 'c' is three times as likely
    const m = new TableModel(t);
    const pair: PreferencePair = { id: 'x', prompt: 'a', chosen: 'bc', rejected: 'c', extra: {} };
    const res = await scorePairs([pair], 'policy', { policy: m }, tok, { appendEos: false });
    const chosen = Math.log(2 / (V + 1)) + Math.log(3 / (V + 2));
    const rejected = Math.log(1 / (V + 1));
    expect(res.pairs[0]!.chosen).toBeCloseTo(chosen, 5);
    expect(res.pairs[0]!.rejected).toBeCloseTo(rejected, 5);
    expect(m.passes).toMatchObject({ prefill: 1, extend: 1, score: 0 });
  });

  it('keeps the DESIGN §4 truncation and skip rules exactly', async () => {
    const m = new PrefixModel(V, 10);
    const pairs: PreferencePair[] = [
      { id: 'fits', prompt: 'abcd', chosen: 'efg', rejected: 'hi', extra: {} },
      { id: 'cut', prompt: 'abcdefgh', chosen: 'ijklmn', rejected: 'op', extra: {} }, // 8 + 6 > 10: keep the last 4 prompt tokens
      { id: 'skip', prompt: 'a', chosen: 'bcdefghijk', rejected: 'l', extra: {} }, // 10 + 1 > 10
      { id: 'edge', prompt: 'abc', chosen: 'defghijkl', rejected: 'm', extra: {} }, // 9 tokens: one prompt token left
    ];
    const res = await scorePairs(pairs, 'policy', { policy: m }, tok, { appendEos: false });
    expect(res.pairs.map((p) => [p.id, p.truncated])).toEqual([['fits', false], ['cut', true], ['edge', true]]);
    expect(res.truncated).toBe(2);
    expect(res.skipped).toEqual([{ id: 'skip', reason: 'a response has 10 tokens; the context is 10' }]);
    const alone = async (prompt: string, resp: string) => {
      const p = tok.encode(prompt);
      const [lp] = await m.score([[...p, ...tok.encode(resp)]], [p.length]);
      return lp!.reduce((s, v) => s + v, 0);
    };
    expect(res.pairs[1]!.chosen).toBeCloseTo(await alone('efgh', 'ijklmn'), 5);
    expect(res.pairs[1]!.rejected).toBeCloseTo(await alone('efgh', 'op'), 5);
    expect(res.pairs[2]!.chosen).toBeCloseTo(await alone('c', 'defghijkl'), 5);
    expect(res.pairs[0]).toMatchObject({ chosenTokens: 3, rejectedTokens: 2 });
  });

  it('falls back to full sequences for a model without extend, and for one that refuses padded batches', async () => {
    const pairs = makePairs(24, 7);
    const ref = new PrefixModel(V, 30);
    const full = await scorePairs(pairs, 'policy', { policy: ref }, tok, { sharePrompts: false });
    const plain = new PrefixModel(V, 30);
    const noExtend: LanguageModel = {
      id: 'plain',
      vocabSize: V,
      eosTokenIds: [0],
      contextLength: 30,
      prefill: (b) => plain.prefill(b),
      step: (c, n) => plain.step(c, n),
      score: (b, f) => plain.score(b, f),
      dispose: async () => {},
    };
    expectSame(full, await scorePairs(pairs, 'policy', { policy: noExtend }, tok));
    expect(plain.passes.prefill).toBe(0);
    // padded length (longest prompt + longest response) may exceed the context: this one refuses
    const strict = new PrefixModel(V, 30, 'strict', 30);
    expectSame(full, await scorePairs(pairs, 'policy', { policy: strict }, tok, { batchSize: 8 }));
    expect(strict.passes.refused).toBe(1); // tried once, then recomputes such batches directly
    expect(strict.passes.score).toBeGreaterThan(0);
    expect(strict.live.size).toBe(0);
  });

  it('returns dataset order, reports progress per batch, and stops on abort at a window boundary', async () => {
    const pairs = makePairs(40, 11);
    const m = new PrefixModel(V, 40);
    const progress: number[] = [];
    const res = await scorePairs(pairs, 'policy', { policy: m }, tok, { batchSize: 4, onProgress: (d, t) => progress.push(d, t) });
    expect(res.pairs.map((p) => p.id)).toEqual(pairs.map((p) => p.id));
    expect(progress.filter((_, i) => i % 2 === 0)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(res.aborted).toBeUndefined();
    const signal = { aborted: false };
    const cut = await scorePairs(pairs, 'policy', { policy: m }, tok, {
      batchSize: 4,
      sortWindow: 8,
      signal,
      onProgress: (d) => (signal.aborted = d >= 12), // stop during the second window of 8
    });
    expect(cut.aborted).toBe(true);
    expect(cut.pairs.map((p) => p.id)).toEqual(pairs.slice(0, 8).map((p) => p.id));
    expectSame({ ...res, pairs: res.pairs.slice(0, 8), truncated: cut.truncated }, cut);
  });

  it('sequence reward model still sees the full sequences', async () => {
    const seen: number[][] = [];
    const rm = {
      id: 'rm',
      vocabSize: V,
      contextLength: 64,
      score: async (b: readonly (readonly number[])[]) => {
        seen.push(...b.map((r) => [...r]));
        return Float32Array.from(b, (r) => r.length);
      },
      dispose: async () => {},
    };
    const res = await scorePairs([{ id: '0', prompt: 'ab', chosen: 'cde', rejected: 'f', extra: {} }], 'sequence', { rewardModel: rm }, tok);
    expect(seen).toEqual([[1, 2, 3, 4, 5], [1, 2, 6]]);
    expect(res.pairs[0]).toMatchObject({ chosen: 5, rejected: 3, margin: 2 });
  });
});

describe('planGroups (how rows are batched; any plan gives the same scores)', () => {
  it('minimises padded positions plus a fixed cost of 32 per forward pass', () => {
    // one group: 4 × 10 + 32 = 72; split [1,1] [10,10]: 2 + 32 + 20 + 32 = 86 → one group
    expect(planGroups([1, 1, 10, 10], 8)).toEqual({ ends: [4], cost: 72 });
    // one group: 4 × 100 + 32 = 432; split: 2 + 32 + 200 + 32 = 266
    expect(planGroups([1, 1, 100, 100], 8)).toEqual({ ends: [2, 4], cost: 266 });
    // at most 2 rows per group
    expect(planGroups([5, 5, 5], 2).ends).toEqual([1, 3]);
    expect(planGroups([], 4)).toEqual({ ends: [], cost: 0 });
  });
});

describe('what R and R* are computed from, and the special tokens (issue 12)', () => {
  const pairs: PreferencePair[] = [
    { id: 'a', prompt: 'abc', chosen: 'de', rejected: 'fgh', alpha: 0.7, extra: {} },
    { id: 'b', prompt: 'zz', chosen: 'q', rejected: 'rstu', alpha: 0.3, extra: { rejected_finished: false } },
  ];
  const sums = async (m: LanguageModel, prompt: number[], resp: number[]) => (await m.score([[...prompt, ...resp]], [prompt.length]))[0]!.reduce((s, v) => s + v, 0);

  it('policy scorer: R*’s reference log-probs come only from an explicit reference model, never from the policy itself', async () => {
    const pol = new PrefixModel(V, 40, 'policy');
    const ref = new TableModel(table(3));
    const alone = await scorePairs(pairs, 'policy', { policy: pol }, tok, { appendEos: false });
    expect(alone.pairs[0]!.refChosen).toBeUndefined(); // used to be the policy's own log-probs
    expect(alone.pairs[0]!.policyChosen).toBeCloseTo(alone.pairs[0]!.chosen, 12);
    const withRef = await scorePairs(pairs, 'policy', { policy: pol, ref }, tok, { appendEos: false });
    expect(withRef.pairs[0]!.refChosen).toBeCloseTo(await sums(ref, tok.encode('abc'), tok.encode('de')), 4);
    expect(withRef.pairs[0]!.refChosen).not.toBeCloseTo(withRef.pairs[0]!.chosen, 2);
  });

  it('length normalisation: the policy’s and the reference’s log-probs are means too (R̃ pairs with R̃*)', async () => {
    const tuned = new PrefixModel(V, 40, 'tuned');
    const ref = new TableModel(table(4));
    const res = await scorePairs(pairs, 'implicit', { tuned, ref }, tok, { lengthNormalize: true, appendEos: false, beta: 0.1 });
    const p = res.pairs[0]!;
    expect(p.refChosen).toBeCloseTo((await sums(ref, tok.encode('abc'), tok.encode('de'))) / 2, 4); // used to be the sum
    expect(p.refRejected).toBeCloseTo((await sums(ref, tok.encode('abc'), tok.encode('fgh'))) / 3, 4);
    expect(p.policyChosen).toBeCloseTo((await sums(tuned, tok.encode('abc'), tok.encode('de'))) / 2, 4);
    // the implicit reward itself stays the summed β·(log π_tuned − log π_ref)
    expect(p.chosen).toBeCloseTo(0.1 * ((await sums(tuned, tok.encode('abc'), tok.encode('de'))) - (await sums(ref, tok.encode('abc'), tok.encode('de')))), 4);
  });

  it('EOS is appended to finished responses by default for token-level scorers (not to `*_finished: false`, not for a sequence RM)', async () => {
    const m = new PrefixModel(V, 40);
    const res = await scorePairs(pairs, 'policy', { policy: m }, tok);
    expect(res.tokenization).toEqual({ bos: null, addBos: true, appendEos: true, eos: 0 });
    expect(res.pairs[0]!.chosen).toBeCloseTo(await sums(m, tok.encode('abc'), [...tok.encode('de'), 0]), 4);
    expect(res.pairs[0]).toMatchObject({ chosenTokens: 3, rejectedTokens: 4 });
    // pair b's rejected response was cut at the sampling limit: no EOS
    expect(res.pairs[1]!.rejected).toBeCloseTo(await sums(m, tok.encode('zz'), tok.encode('rstu')), 4);
    expect(res.pairs[1]!.chosen).toBeCloseTo(await sums(m, tok.encode('zz'), [...tok.encode('q'), 0]), 4);
    // the switch off gives the plain DESIGN §4 scores
    const off = await scorePairs(pairs, 'policy', { policy: m }, tok, { appendEos: false });
    expect(off.pairs[0]!.chosen).toBeCloseTo(await sums(m, tok.encode('abc'), tok.encode('de')), 4);
    // a sequence reward model reads the text as it was trained to (no EOS) unless asked
    const seen: number[][] = [];
    const rm = { id: 'rm', vocabSize: V, contextLength: 40, score: async (b: readonly (readonly number[])[]) => (seen.push(...b.map((r) => [...r])), Float32Array.from(b, (r) => r.length)), dispose: async () => {} };
    const seq = await scorePairs(pairs.slice(0, 1), 'sequence', { rewardModel: rm }, tok);
    expect(seq.tokenization?.appendEos).toBe(false);
    expect(seen[0]).toEqual([...tok.encode('abc'), ...tok.encode('de')]);
  });

  it('BOS is prepended where the tokenizer adds one, and stays first when the prompt is cut', async () => {
    const bosTok = { ...tok, bosTokenId: 26 };
    const m = new PrefixModel(V, 8);
    const cutPair: PreferencePair[] = [{ id: 'c', prompt: 'abcdefg', chosen: 'hij', rejected: 'k', extra: {} }];
    const res = await scorePairs(cutPair, 'policy', { policy: m }, bosTok, { appendEos: false });
    expect(res.tokenization?.bos).toBe(26);
    // 8 positions: BOS + the last 4 prompt tokens + 3 response tokens
    expect(res.pairs[0]!.truncated).toBe(true);
    expect(res.pairs[0]!.chosen).toBeCloseTo(await sums(m, [26, ...tok.encode('defg')], tok.encode('hij')), 4);
    const off = await scorePairs(cutPair, 'policy', { policy: m }, bosTok, { appendEos: false, addBos: false });
    expect(off.tokenization?.bos).toBeNull();
    expect(off.pairs[0]!.chosen).toBeCloseTo(await sums(m, tok.encode('cdefg'), tok.encode('hij')), 4);
  });
});
