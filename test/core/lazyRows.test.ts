/**
 * The search's per-step arithmetic without the full arrays (issue 13 item 5: the strategy overhead
 * over the model's forward pass). ModelSource's rows give one token's log-prob, the beam's running
 * sums and GenARM's combined scores from the logits and two softmax statistics; these must equal,
 * bit for bit, what the eager log-softmax arrays give, or beams and GenARM stop being token-exact.
 * And beam search runs mask-only processors (min_new_tokens, no_repeat_ngram) on its running sums:
 * the same beams, steps and scores as copying the log-probs first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logSoftmax, softmaxStats } from '../../src/core/math/logits.ts';
import type { KvCache, LanguageModel, StepResult } from '../../src/core/model/types.ts';
import { minNewTokens } from '../../src/core/sampling/minNewTokens.ts';
import { noRepeatNgram } from '../../src/core/sampling/noRepeatNgram.ts';
import { beamSearch } from '../../src/core/search/beam.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';
import { genarmGuidance, implicitGuidance, LOGPROB_FLOOR, ModelSource } from '../../src/core/search/modelSource.ts';
import type { LogitsProcessor } from '../../src/core/search/processors.ts';
import { TableModel } from '../support/fakeModel.ts';

fc.configureGlobal({ seed: 20261205 });

/** A model whose only step returns the given logits row (one row). */
function fixed(id: string, row: Float32Array): LanguageModel {
  const cache: KvCache = { rows: 1, length: 1, select: async () => cache, dispose: () => {} };
  return {
    id,
    vocabSize: row.length,
    contextLength: 64,
    eosTokenIds: [0],
    prefill: async (): Promise<StepResult> => ({ logits: [row], cache }),
    step: async (): Promise<StepResult> => ({ logits: [row], cache }),
  } as unknown as LanguageModel;
}

/** Float32 logits: ordinary values, huge ones, exact ties and -Infinity entries (never all -Infinity). */
const logitRow = (n: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.float({ min: -30, max: 30, noNaN: true, noDefaultInfinity: true }) },
        { weight: 1, arbitrary: fc.constantFrom(-Infinity, 3.4e38, -3.4e38, 0, 1e-30) },
      ),
      { minLength: n, maxLength: n },
    )
    .filter((a) => a.some((v) => v > -Infinity))
    .map((a) => Float32Array.from(a));

const eagerLogprobs = (x: Float32Array) => logSoftmax(x);

describe('ModelSource rows read lazily equal the eager arrays', () => {
  it('unguided: policyAt, logprobAt, addLogprobsInto and the arrays are logSoftmax bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(logitRow(17), fc.float({ min: -100, max: 0, noNaN: true }), async (row, s) => {
        const [d] = await new ModelSource(fixed('p', row)).start([1], 1);
        const lp = eagerLogprobs(row);
        for (let v = 0; v < row.length; v++) {
          expect(Object.is(d!.policyAt(v), lp[v])).toBe(true);
          expect(Object.is(d!.logprobAt(v), lp[v])).toBe(true);
        }
        const acc = new Float32Array(row.length + 3);
        d!.addLogprobsInto(acc, 3, s);
        const want = new Float32Array(row.length);
        for (let v = 0; v < row.length; v++) want[v] = (lp[v] as number) + s;
        expect(acc.subarray(3)).toEqual(want);
        expect(d!.policy).toEqual(lp);
        expect(d!.logprobs).toBe(d!.policy);
        expect(d!.scores).toBe(row);
        // after the array is built, the single reads still agree
        for (let v = 0; v < row.length; v++) expect(Object.is(d!.policyAt(v), lp[v])).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('GenARM with two ARMs and implicit guidance: combined scores as the old sequential float32 sums, padded ids masked', async () => {
    await fc.assert(
      fc.asyncProperty(logitRow(12), logitRow(12), logitRow(12), fc.float({ min: -3, max: 3, noNaN: true }), fc.integer({ min: 9, max: 12 }), async (p, a1, a2, w, tokSize) => {
        const policy = fixed('p', p);
        const arm1 = fixed('a1', a1);
        const arm2 = fixed('a2', a2);
        for (const [guidance, terms] of [
          [genarmGuidance([{ model: arm1, weight: w }, { model: arm2, weight: 0.5 }], 0.7), [[a1, w / 0.7], [a2, 0.5 / 0.7]]],
          [implicitGuidance(arm1, arm2, 2, 0.3), [[a1, 0.3 / 2], [a2, -0.3 / 2]]],
        ] as const) {
          const [d] = await new ModelSource(policy, guidance, tokSize).start([1], 1);
          // the old combine: scores = policy log-probs, += c·max(ℓ, floor) term by term in float32, then mask
          const want = Float32Array.from(eagerLogprobs(p));
          for (const [x, c] of terms) {
            const lp = eagerLogprobs(x as Float32Array);
            for (let v = 0; v < want.length; v++) want[v] = (want[v] as number) + (c as number) * Math.max(lp[v] as number, LOGPROB_FLOOR);
          }
          want.fill(-Infinity, tokSize);
          expect(d!.scores).toEqual(want);
          const lpc = eagerLogprobs(want);
          for (let v = 0; v < p.length; v++) {
            expect(Object.is(d!.logprobAt(v), lpc[v])).toBe(true);
            expect(Object.is(d!.policyAt(v), eagerLogprobs(p)[v])).toBe(true);
          }
          expect(d!.logprobs).toEqual(lpc);
          expect(d!.policyLogits).toBe(p);
          expect(d!.guided).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a row with NaN or +Infinity is refused, naming the model', async () => {
    for (const bad of [NaN, Infinity]) {
      const row = Float32Array.from([0, 1, bad, 2]);
      await expect(new ModelSource(fixed('broken', row)).start([1], 1)).rejects.toThrow(/broken produced NaN or \+Infinity logits/);
    }
    expect(softmaxStats(Float32Array.from([-Infinity, -Infinity])).finite).toBe(false);
  });
});

async function run(gen: AsyncGenerator<DecodeEvent>): Promise<DecodeEvent[]> {
  const out: DecodeEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe('beam search with mask-only processors', () => {
  const grid = fc.integer({ min: -48, max: 48 }).map((x) => x / 8);
  it('masking the running sums equals masking copied log-probs (min_new_tokens, no_repeat_ngram): every event equal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 7 }).chain((V) => fc.array(fc.array(grid, { minLength: V, maxLength: V }), { minLength: V, maxLength: V })),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        async (table, beams, minNew, ngram) => {
          const filters = [minNewTokens(minNew, [0]), ...(ngram ? [noRepeatNgram(ngram)] : [])];
          const prompt = [1, 2];
          const procs = (maskOnly: boolean): LogitsProcessor[] =>
            filters.map((f) => Object.assign((row: Float32Array, h: readonly number[]) => f.apply(row, { history: h, generated: h.length - prompt.length }), { maskOnly }));
          const opts = { numBeams: beams, maxNewTokens: 6, numReturnSequences: beams, topK: 3 } as const;
          const fast = await run(beamSearch(new ModelSource(new TableModel(table)), prompt, { ...opts, processors: procs(true) }));
          const copied = await run(beamSearch(new ModelSource(new TableModel(table)), prompt, { ...opts, processors: procs(false) }));
          expect(fast).toEqual(copied);
        },
      ),
      { numRuns: 200 },
    );
  });
});
