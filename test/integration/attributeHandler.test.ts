/**
 * The worker's `attribute` request (issue 14 item 2, the generation page's token strip for a sequence
 * reward model): for a sequence the handler itself generated, its values equal prefixAttribution on
 * the bundled tiny-rm-positive read through the policy's tokenizer, exactly, and add up to
 * RM(prompt ⊕ response) − RM(prompt). A label mix of rm-two-heads, and a classifier with another
 * tokenizer (re-tokenized through text), give what prefixAttribution gives on the same views; bad input
 * is refused naming what is wrong.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from './env.ts';
import { loadLanguageModel, loadSequenceRewardModel, type TransformersLanguageModel, type TransformersSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { AttributeRun, Response, TokenAttribution } from '../../src/inference/protocol.ts';
import { prefixAttribution } from '../../src/core/metrics/prefixAttribution.ts';

const TWO = FIXTURES_DIR + 'hub/rm-two-heads';
const BERT = FIXTURES_DIR + 'hub/bert-classifier';
const PROMPT = 'The movie was';

describe('attribute request on the bundled models', () => {
  let policy: TransformersLanguageModel;
  const rms = new Map<string, Promise<TransformersSequenceRewardModel>>();
  const out: Response[] = [];
  let handler: Handler;
  let nextId = 1;
  let response: number[];
  let promptIds: number[];
  const rmOf = (id: string) => {
    if (!rms.has(id)) rms.set(id, loadSequenceRewardModel(id, { device: 'cpu' }));
    return rms.get(id) as Promise<TransformersSequenceRewardModel>;
  };

  async function ask(run: AttributeRun): Promise<TokenAttribution> {
    const id = nextId++;
    await handler.handle({ id, type: 'attribute', run });
    const r = out.find((x) => x.id === id && (x.type === 'result' || x.type === 'error'));
    if (r?.type === 'error') throw new Error(r.error.message);
    return (r as Extract<Response, { type: 'result' }>).value as TokenAttribution;
  }

  beforeAll(async () => {
    policy = await loadLanguageModel('tiny-base', { device: 'cpu' });
    const backend: Backend = {
      selectDevice: async () => ({ device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false }),
      loadLanguageModel: async () => ({ model: policy, tokenizer: policy.tokenizer }),
      loadSequenceRewardModel: (id) => rmOf(id),
      fetch: async () => {
        throw new Error('no site in this test');
      },
    };
    handler = new Handler(backend, (r) => out.push(r));
    // A sequence the handler generated (sampling, as the page's default run): its ids are what the page sends.
    await handler.handle({ id: 1000, type: 'generate', run: { policy: 'tiny-base', prompt: PROMPT, spec: { strategy: 'sample', config: { max_new_tokens: 12, seed: 5, do_sample: true } } } });
    const done = out.find((r) => r.id === 1000 && r.type === 'event' && r.data.event.type === 'done');
    if (done?.type !== 'event' || done.data.event.type !== 'done') throw new Error(`no done event: ${JSON.stringify(out.find((r) => r.type === 'error'))}`);
    response = [...(done.data.event.sequences[0]?.tokenIds ?? [])];
    const bos = policy.tokenizer.bosTokenId;
    promptIds = [...(bos !== undefined ? [bos] : []), ...policy.tokenizer.encode(PROMPT)];
  }, 120_000);
  afterAll(async () => {
    for (const p of rms.values()) await (await p).dispose();
    await policy?.dispose();
  });

  it('equals prefixAttribution on tiny-rm-positive exactly and telescopes to RM(full) − RM(prompt)', async () => {
    expect(response.length).toBeGreaterThan(3);
    const got = await ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: 'tiny-rm-positive' });
    const rm = (await rmOf('tiny-rm-positive')).forRun({ policy: policy.tokenizer });
    const want = await prefixAttribution(rm, promptIds, response);
    expect(got.values).toEqual(want.values);
    expect(got.prefixRewards).toEqual(want.prefixRewards);
    expect(got.values).toHaveLength(response.length);
    expect(got.texts).toEqual(response.map((t) => policy.tokenizer.tokenText(t)));
    expect(got.retokenized).toBe(false);
    expect(got.rewardLabel).toBeUndefined();
    const [full, alone] = Array.from(await rm.score([[...promptIds, ...response], promptIds])) as [number, number];
    expect(got.total).toBeCloseTo(full - alone, 5);
    expect(got.values.reduce((s, v) => s + v, 0)).toBeCloseTo(full - alone, 5);
    expect(got.values.some((v) => v !== 0)).toBe(true);
    // The same with the prompt's ids given, and with one prefix per reward-model call.
    const byIds = await ask({ policy: 'tiny-base', promptIds, responseIds: response, rewardModel: 'tiny-rm-positive', batchSize: 1 });
    byIds.values.forEach((v, i) => expect(v).toBeCloseTo(got.values[i] as number, 5));
  }, 60_000);

  it('refuses bad input naming the field: empty sequence, foreign ids, bad batch size, no prompt, no reward model', async () => {
    const base = { policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: 'tiny-rm-positive' };
    await expect(ask({ ...base, responseIds: [] })).rejects.toThrow(/responseIds.*empty/);
    await expect(ask({ ...base, responseIds: [1, policy.tokenizer.vocabSize + 3] })).rejects.toThrow(new RegExp(`responseIds holds ${policy.tokenizer.vocabSize + 3}, which is not a token id of tiny-base`));
    await expect(ask({ ...base, batchSize: 0 })).rejects.toThrow(/batchSize must be an integer from 1 to 256/);
    await expect(ask({ ...base, prompt: undefined })).rejects.toThrow(/needs the prompt/);
    await expect(ask({ ...base, rewardModel: '' })).rejects.toThrow(/needs a sequence reward model: load one/);
  });

  it.runIf(existsSync(TWO + '/onnx/model.onnx'))('rm-two-heads: the mix positivity=1,conciseness=0 gives tiny-rm-positive\'s attribution; no label is refused naming the heads', async () => {
    const mixed = await ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: TWO, rewardLabel: 'positivity=1,conciseness=0' });
    const alone = await ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: 'tiny-rm-positive' });
    expect(mixed.values).toEqual(alone.values);
    expect(mixed.rewardLabel).toBe('positivity=1,conciseness=0');
    const concise = await ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: TWO, rewardLabel: 'conciseness' });
    const want = await prefixAttribution((await rmOf('tiny-rm-concise')).forRun({ policy: policy.tokenizer }), promptIds, response);
    expect(concise.values).toEqual(want.values);
    await expect(ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: TWO })).rejects.toThrow(/2 labels \(0: positivity, 1: conciseness\); choose the reward with reward label/);
  }, 60_000);

  it.runIf(existsSync(BERT + '/onnx/model.onnx'))('a classifier with another tokenizer reads each prefix re-tokenized through text', async () => {
    const got = await ask({ policy: 'tiny-base', prompt: PROMPT, responseIds: response, rewardModel: BERT, rewardLabel: 'POSITIVE' });
    expect(got.retokenized).toBe(true);
    const want = await prefixAttribution((await rmOf(BERT)).forRun({ label: 'POSITIVE', policy: policy.tokenizer }), promptIds, response);
    expect(got.values).toEqual(want.values);
    expect(got.total).toBeCloseTo((want.prefixRewards.at(-1) as number) - (want.prefixRewards[0] as number), 6);
  }, 60_000);
});
