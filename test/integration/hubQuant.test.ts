/**
 * The other dtypes the hub ships and a real Llama graph (test/fixtures/hub, models/foundry/hub_fixtures.py):
 * gpt2-lm-quant holds gpt2-lm's weights as model_int8.onnx (quantize_dynamic QInt8), model_uint8.onnx
 * (QUInt8: uint8 weights with zero points) and model_bnb4.onnx (com.microsoft MatMulBnb4, NF4 blocks
 * of 16); llama-gqa is llama.py's Llama (RMSNorm, RoPE, 4 heads over 2 KV heads, SwiGLU, tied head).
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, maxAbsDiff, readJson } from './env.ts';
import { loadLanguageModel, type TransformersLanguageModel } from '../../src/inference/backends/transformers.ts';
import { greedy } from '../../src/core/search/greedy.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';
import { generate } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { configureModels } from '../../src/cli/nodeModels.ts';

const HUB = FIXTURES_DIR + 'hub/';
interface Case { ids: number[]; logits?: number[]; greedy: number[]; logits_bnb4?: number[]; greedy_bnb4?: number[]; logits_q4f16?: number[]; greedy_q4f16?: number[]; beam4?: { tokens: number[]; score: number }[] }
const quant = readJson<{ cases: Case[] }>(HUB + 'gpt2-lm-quant/reference.json');
const llama = readJson<{ cases: Case[] }>(HUB + 'llama-gqa/reference.json');
const PROMPT = ['The state of the Union is', 'We must never forget that'];

async function greedyIds(lm: TransformersLanguageModel, ids: number[], n: number): Promise<number[]> {
  let done: DecodeEvent | undefined;
  for await (const e of greedy(lm, ids, { maxNewTokens: n })) done = e;
  if (done?.type !== 'done') throw new Error('no done event');
  return [...(done.sequences[0]?.tokenIds ?? [])];
}
const logProbs = (x: ArrayLike<number>) => {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i] as number);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp((x[i] as number) - m);
  const lse = m + Math.log(s);
  return Array.from(x, (v) => v - lse);
};
async function firstRow(dir: string, dtype: string, ids: number[]): Promise<Float32Array> {
  const lm = await loadLanguageModel(dir, { device: 'cpu', dtype });
  try {
    const { logits, cache } = await lm.prefill([ids]);
    cache.dispose();
    return Float32Array.from(logits[0] as Float32Array);
  } finally {
    await lm.dispose();
  }
}

describe('gpt2-lm-quant: int8, uint8 (DynamicQuantizeLinear + MatMulInteger) and bnb4 (MatMulBnb4)', () => {
  const c = quant.cases[0] as Case;
  it('int8 and uint8 load by dtype; first-step log-probs within 0.1 of fp32 PyTorch, and differ from each other', async () => {
    const want = logProbs(c.logits as number[]);
    const i8 = logProbs(await firstRow(HUB + 'gpt2-lm-quant', 'int8', c.ids));
    const u8 = logProbs(await firstRow(HUB + 'gpt2-lm-quant', 'uint8', c.ids));
    for (const got of [i8, u8]) {
      const d = maxAbsDiff(got, want);
      expect(d).toBeGreaterThan(0); // really quantized
      expect(d).toBeLessThan(0.1);
    }
    expect(maxAbsDiff(i8, u8)).toBeGreaterThan(0); // two different files
  });

  it('bnb4: first-step logits within 1e-4 of PyTorch on the NF4-dequantized weights, greedy tokens equal (both prompts); log-probs within 0.5 of fp32', async () => {
    const row = await firstRow(HUB + 'gpt2-lm-quant', 'bnb4', c.ids);
    expect(maxAbsDiff(row, c.logits_bnb4 as number[])).toBeLessThan(1e-4);
    expect(maxAbsDiff(logProbs(row), logProbs(c.logits as number[]))).toBeLessThan(0.5);
    const lm = await loadLanguageModel(HUB + 'gpt2-lm-quant', { device: 'cpu', dtype: 'bnb4' });
    try {
      for (const k of quant.cases) expect(await greedyIds(lm, k.ids, 12)).toEqual(k.greedy_bnb4);
    } finally {
      await lm.dispose();
    }
  });
});

describe('llama-gqa: a real Llama graph (RoPE, GQA 4/2 heads, SwiGLU, tied head)', () => {
  const gen = (...args: string[]) => {
    const p = parseArgs(args);
    configureModels(p);
    return generate(p, () => {});
  };
  it('fp32 first-step logits within 1e-4 of PyTorch; greedy and 4-beam token ids equal PyTorch (BOS added)', async () => {
    const c0 = llama.cases[0] as Case;
    expect(maxAbsDiff(await firstRow(HUB + 'llama-gqa', 'fp32', c0.ids), c0.logits as number[])).toBeLessThan(1e-4);
    for (const [i, c] of llama.cases.entries()) {
      const g = await gen('--policy', HUB + 'llama-gqa', '--prompt', PROMPT[i] as string, '--max-new-tokens', '12');
      expect(g.prompt_token_ids).toEqual(c.ids);
      expect(g.sequences[0]?.token_ids).toEqual(c.greedy);
      const b = await gen('--policy', HUB + 'llama-gqa', '--strategy', 'beam', '--num_beams', '4', '--num_return_sequences', '4', '--prompt', PROMPT[i] as string, '--max-new-tokens', '10');
      expect(b.sequences.map((s) => s.token_ids)).toEqual(c.beam4?.map((s) => s.tokens));
      b.sequences.forEach((s, j) => expect(Math.abs(s.score - (c.beam4?.[j]?.score as number))).toBeLessThan(1e-4));
    }
  });

  it('q4f16 (MatMulNBits behind fp16 KV/logits): logits within 4e-3 and greedy tokens equal PyTorch on the dequantized weights', async () => {
    const c0 = llama.cases[0] as Case;
    const row = await firstRow(HUB + 'llama-gqa', 'q4f16', c0.ids);
    const ref = c0.logits_q4f16 as number[];
    expect(maxAbsDiff(row.subarray(0, ref.length), ref)).toBeLessThan(4e-3);
    const lm = await loadLanguageModel(HUB + 'llama-gqa', { device: 'cpu', dtype: 'q4f16' });
    try {
      for (const c of llama.cases) expect(await greedyIds(lm, c.ids, 12)).toEqual(c.greedy_q4f16);
    } finally {
      await lm.dispose();
    }
  });
});
