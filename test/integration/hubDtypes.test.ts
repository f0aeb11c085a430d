/**
 * Hub-shaped exports (test/fixtures/hub, made by models/foundry/hub_fixtures.py) through the adapter
 * on onnxruntime-node: fp16 logits/KV (raw half bits in Node 20, which has no Float16Array) and
 * external-data weights, against PyTorch's numbers in each folder's reference.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, maxAbsDiff, readJson } from './env.ts';
import { loadLanguageModel, type TransformersLanguageModel } from '../../src/inference/backends/transformers.ts';
import { greedy } from '../../src/core/search/greedy.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';

const HUB = FIXTURES_DIR + 'hub/';
interface Case {
  ids: number[];
  logits?: number[];
  logits_fp16?: number[];
  logits_q4?: number[];
  greedy: number[];
  greedy_fp16?: number[];
  greedy_q4?: number[];
}
const ref = readJson<{ cases: Case[] }>(HUB + 'gpt2-lm/reference.json');

async function greedyIds(lm: TransformersLanguageModel, ids: number[], n: number): Promise<number[]> {
  let done: DecodeEvent | undefined;
  for await (const e of greedy(lm, ids, { maxNewTokens: n })) done = e;
  if (done?.type !== 'done') throw new Error('no done event');
  return [...(done.sequences[0]?.tokenIds ?? [])];
}

describe('gpt2-lm fp16 (model_fp16.onnx: fp16 logits and KV)', () => {
  let f16: TransformersLanguageModel;
  let f32: TransformersLanguageModel;
  beforeAll(async () => {
    f16 = await loadLanguageModel(HUB + 'gpt2-lm', { device: 'cpu', dtype: 'fp16' });
    f32 = await loadLanguageModel(HUB + 'gpt2-lm', { device: 'cpu', dtype: 'fp32' });
  });
  afterAll(async () => {
    await f16?.dispose();
    await f32?.dispose();
  });

  it('first-step logits equal the fp16 PyTorch reference within 4e-3 (two float16 ulps) and the fp32 model within 4e-3', async () => {
    const c = ref.cases[0] as Case;
    const { logits, cache } = await f16.prefill([c.ids]);
    cache.dispose();
    const row = logits[0] as Float32Array;
    expect(row.length).toBe(4096);
    // A half ulp at |x| < 4 is ≤ 2^-9; ORT computes in a different order than PyTorch, so allow 2 ulps.
    const f16ref = c.logits_fp16 as number[]; // the first 2,048 ids
    expect(maxAbsDiff(row.subarray(0, f16ref.length), f16ref)).toBeLessThan(4e-3);
    expect(maxAbsDiff(row, c.logits as number[])).toBeLessThan(4e-3);
    const r32 = await f32.prefill([c.ids]);
    r32.cache.dispose();
    expect(maxAbsDiff(row, r32.logits[0] as Float32Array)).toBeLessThan(4e-3);
    expect(maxAbsDiff(r32.logits[0] as Float32Array, c.logits as number[])).toBeLessThan(1e-4);
  });

  it('greedy tokens (KV cache in fp16) equal the fp16 reference and the fp32 model', async () => {
    for (const c of ref.cases) {
      const got = await greedyIds(f16, c.ids, 12);
      expect(got).toEqual(c.greedy_fp16);
      expect(got).toEqual(await greedyIds(f32, c.ids, 12));
      expect(await greedyIds(f32, c.ids, 12)).toEqual(c.greedy);
    }
  });

  it('score and extend (log-probs read from fp16 logits) agree with fp32 to 5e-3, batched with padding', async () => {
    const a = [...(ref.cases[0] as Case).ids, ...(ref.cases[0] as Case).greedy.slice(0, 5)];
    const b = [...(ref.cases[1] as Case).ids.slice(0, 3), 17, 18];
    const s16 = await f16.score([a, b], [1, 1]);
    const s32 = await f32.score([a, b], [1, 1]);
    for (let i = 0; i < 2; i++) {
      expect(maxAbsDiff(s16[i] as Float32Array, s32[i] as Float32Array)).toBeLessThan(5e-3);
      for (const v of s16[i] as Float32Array) expect(v).toBeLessThanOrEqual(0);
    }
    const p16 = await f16.prefill([a.slice(0, 4), b.slice(0, 2)]);
    const p32 = await f32.prefill([a.slice(0, 4), b.slice(0, 2)]);
    const e16 = await f16.extend!(p16.cache, [a.slice(3), b.slice(1)]);
    const e32 = await f32.extend!(p32.cache, [a.slice(3), b.slice(1)]);
    p16.cache.dispose();
    p32.cache.dispose();
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(e16[i] as Float32Array, e32[i] as Float32Array)).toBeLessThan(5e-3);
  });
});

describe('external data (onnx/model.onnx + onnx/model.onnx_data, no use_external_data_format in config.json)', () => {
  // externalData (use_external_data_format, what the browser's worker passes) changes nothing in Node:
  // transformers.js hands onnxruntime-node paths, and it reads the data file next to the model.
  it.each([undefined, 1])('loads and decodes as the single-file export does (externalData %s)', async (externalData) => {
    const ext = readJson<{ cases: Case[] }>(HUB + 'gpt2-lm-external/reference.json');
    const lm = await loadLanguageModel(HUB + 'gpt2-lm-external', { device: 'cpu', dtype: 'fp32', externalData });
    try {
      const c = ext.cases[0] as Case;
      const { logits, cache } = await lm.prefill([c.ids]);
      cache.dispose();
      expect(maxAbsDiff(logits[0] as Float32Array, c.logits as number[])).toBeLessThan(1e-4);
      expect(await greedyIds(lm, c.ids, 12)).toEqual(c.greedy);
    } finally {
      await lm.dispose();
    }
  });
});

describe('gpt2-lm q8 (model_quantized.onnx: dynamic int8 MatMulInteger, as quantize_dynamic writes it)', () => {
  it('loads by dtype q8; first-step log-probs within 0.1 of fp32 PyTorch (8-bit weights and activations)', async () => {
    const lm = await loadLanguageModel(HUB + 'gpt2-lm', { device: 'cpu', dtype: 'q8' });
    try {
      const c = ref.cases[0] as Case;
      const { logits, cache } = await lm.prefill([c.ids]);
      cache.dispose();
      const row = logits[0] as Float32Array;
      const lse = (x: ArrayLike<number>) => {
        let m = -Infinity;
        for (let i = 0; i < x.length; i++) m = Math.max(m, x[i] as number);
        let s = 0;
        for (let i = 0; i < x.length; i++) s += Math.exp((x[i] as number) - m);
        return m + Math.log(s);
      };
      const [a, b] = [lse(row), lse(c.logits as number[])];
      const lp = Array.from(row, (v) => v - a);
      const want = (c.logits as number[]).map((v) => v - b);
      const d = maxAbsDiff(lp, want);
      expect(d).toBeGreaterThan(0); // really quantized: not the fp32 graph under another name
      expect(d).toBeLessThan(0.1);
      expect((await greedyIds(lm, c.ids, 4)).length).toBe(4);
    } finally {
      await lm.dispose();
    }
  });
});

describe('gpt2-lm q4 (model_q4.onnx: com.microsoft MatMulNBits, 4-bit blocks of 16 with zero points; int8 embeddings)', () => {
  it('first-step logits and greedy tokens equal PyTorch run on the dequantized weights', async () => {
    const lm = await loadLanguageModel(HUB + 'gpt2-lm', { device: 'cpu', dtype: 'q4' });
    try {
      const c = ref.cases[0] as Case;
      const { logits, cache } = await lm.prefill([c.ids]);
      cache.dispose();
      const q4 = c.logits_q4 as number[];
      expect(maxAbsDiff((logits[0] as Float32Array).subarray(0, q4.length), q4)).toBeLessThan(1e-4);
      // and it is really 4-bit: far from fp32 (0.23 measured)
      expect(maxAbsDiff((logits[0] as Float32Array).subarray(0, q4.length), (c.logits as number[]).slice(0, q4.length))).toBeGreaterThan(0.01);
      for (const k of ref.cases) expect(await greedyIds(lm, k.ids, 12)).toEqual(k.greedy_q4);
    } finally {
      await lm.dispose();
    }
  });
});

describe('llama-style q4f16 (model_q4f16.onnx: MatMulNBits behind fp16 past inputs and fp16 logits/present)', () => {
  it('first-step logits within 4e-3 and greedy tokens equal PyTorch on the dequantized weights with fp16-rounded KV and logits', async () => {
    const lref = readJson<{ cases: (Case & { logits_q4f16?: number[]; greedy_q4f16?: number[] })[] }>(HUB + 'llama-style/reference.json');
    const lm = await loadLanguageModel(HUB + 'llama-style', { device: 'cpu', dtype: 'q4f16' });
    try {
      const c = lref.cases[0] as (typeof lref.cases)[number];
      const { logits, cache } = await lm.prefill([c.ids]);
      cache.dispose();
      const want = c.logits_q4f16 as number[];
      expect(maxAbsDiff((logits[0] as Float32Array).subarray(0, want.length), want)).toBeLessThan(4e-3);
      for (const k of lref.cases) expect(await greedyIds(lm, k.ids, 12)).toEqual(k.greedy_q4f16);
    } finally {
      await lm.dispose();
    }
  });
});
