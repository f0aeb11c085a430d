/**
 * The worker's `candidates` request (src/inference/handler.ts → core/search/candidates.ts) on a fake
 * backend: progress per candidate, a CandidateSet answer equal to generateCandidates() on the same
 * model, and bad parameters answered as an error naming the field.
 */
import { describe, expect, it } from 'vitest';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { Response } from '../../src/inference/protocol.ts';
import { generateCandidates, type CandidateSet } from '../../src/core/search/candidates.ts';
import { PrefixModel, letterTokenizer } from '../support/fakeModel.ts';

const V = 12;
function setup() {
  const out: Response[] = [];
  const backend: Backend = {
    async selectDevice() {
      return { device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false };
    },
    async loadLanguageModel() {
      return { model: new PrefixModel(V), tokenizer: letterTokenizer(V) };
    },
    async loadSequenceRewardModel() {
      throw new Error('no reward models here');
    },
    async fetch(): Promise<globalThis.Response> {
      throw new Error('no network in tests');
    },
  };
  return { handler: new Handler(backend, (r) => out.push(r)), out };
}

describe('candidates request', () => {
  it.each(['nc_sample', 'sample', 'diverse_beam'] as const)('%s: progress, then the candidate set generateCandidates() gives', async (method) => {
    const { handler, out } = setup();
    const options = { config: { max_new_tokens: 6, temperature: 0.9 } };
    await handler.handle({ id: 3, type: 'candidates', run: { policy: 'm', prompt: 'cab', method, k: 4, seed: 2, options } });
    const mine = out.filter((r) => r.id === 3);
    const last = mine.at(-1);
    expect(last?.type).toBe('result');
    const set = (last as { value: CandidateSet }).value;
    expect(set.candidates).toHaveLength(4);
    expect(set.method).toBe(method);
    const want = await generateCandidates({ policy: new PrefixModel(V), tokenizer: letterTokenizer(V), promptIds: [3, 1, 2], method, k: 4, seed: 2, options });
    expect(set).toEqual(want);
    for (const c of set.candidates) expect(c.text).toBe(letterTokenizer(V).decode(c.tokenIds));
    if (method === 'nc_sample') expect(mine.filter((r) => r.type === 'event').map((r) => (r.type === 'event' && r.data.event.type === 'progress' ? r.data.event.done : -1))).toEqual([0, 1, 2, 3]);
  });

  it('answers bad parameters with an error naming them', async () => {
    const { handler, out } = setup();
    await handler.handle({ id: 4, type: 'candidates', run: { policy: 'm', prompt: 'cab', method: 'diverse_beam', k: 1 } });
    await handler.handle({ id: 5, type: 'candidates', run: { policy: 'm', prompt: 'cab', method: 'nc_sample', k: 3, options: { ncNgram: 0 } } });
    expect(out.find((r) => r.id === 4)).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/diverse_beam needs k >= 2/) } });
    expect(out.find((r) => r.id === 5)).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/nc_ngram must be an integer >= 1/) } });
  });
});
