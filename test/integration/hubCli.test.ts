/**
 * The CLI with hub-shaped folders (test/fixtures/hub): --dtype picks onnx/model_<dtype>.onnx and
 * lists what a folder has when the file is missing; external-data weights load; a classifier with
 * two labels is a reward model with --reward-label; a reward model with another tokenizer than the
 * policy's works for best-of-N, ARGS and rank (re-tokenized text), while ARMs still need one tokenizer.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, readJson } from './env.ts';
import { generate } from '../../src/cli/generate.ts';
import { rank } from '../../src/cli/rank.ts';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { configureModels } from '../../src/cli/nodeModels.ts';
import { loadSequenceRewardModel, loadTokenizer } from '../../src/inference/backends/transformers.ts';

const HUB = FIXTURES_DIR + 'hub/';
const ref = readJson<{ cases: { ids: number[]; greedy: number[]; greedy_fp16?: number[]; greedy_q4?: number[] }[] }>(HUB + 'gpt2-lm/reference.json');
const PROMPT = 'The state of the Union is';

const parsed = (args: string[]) => {
  const p = parseArgs(args);
  configureModels(p);
  return p;
};
const gen = (...args: string[]) => generate(parsed(args), () => {});
const rnk = (...args: string[]) => rank(parsed(args));

describe('--dtype', () => {
  it('fp16 gives the fp16 reference tokens, q4 the q4 ones, fp32 (default) the fp32 ones', async () => {
    const c = ref.cases[0] as (typeof ref.cases)[number];
    const f16 = await gen('--policy', HUB + 'gpt2-lm', '--dtype', 'fp16', '--prompt', PROMPT, '--max-new-tokens', '12');
    expect(f16.prompt_token_ids).toEqual(c.ids);
    expect(f16.sequences[0]?.token_ids).toEqual(c.greedy_fp16);
    const q4 = await gen('--policy', HUB + 'gpt2-lm', '--dtype', 'q4', '--prompt', PROMPT, '--max-new-tokens', '12');
    expect(q4.sequences[0]?.token_ids).toEqual(c.greedy_q4);
    const f32 = await gen('--policy', HUB + 'gpt2-lm', '--prompt', PROMPT, '--max-new-tokens', '12');
    expect(f32.sequences[0]?.token_ids).toEqual(c.greedy);
  });

  it('beam search on fp16 (cache rows of raw half bits gathered per beam) returns the fp32 beams, scores within 5e-3', async () => {
    const args = ['--policy', HUB + 'gpt2-lm', '--strategy', 'beam', '--num_beams', '4', '--num_return_sequences', '4', '--prompt', PROMPT, '--max-new-tokens', '10'];
    const f32 = await gen(...args);
    const f16 = await gen(...args, '--dtype', 'fp16');
    expect(f16.sequences.map((x) => x.token_ids)).toEqual(f32.sequences.map((x) => x.token_ids));
    f16.sequences.forEach((x, i) => expect(Math.abs(x.score - (f32.sequences[i]?.score as number))).toBeLessThan(5e-3));
  });

  it('a missing variant is refused, listing the variants the folder has; an unknown dtype is refused', async () => {
    await expect(gen('--policy', HUB + 'gpt2-lm', '--dtype', 'q4f16', '--prompt', PROMPT)).rejects.toThrow(
      /--dtype q4f16 needs onnx\/model_q4f16\.onnx, which the folder lacks; it has fp32 \(onnx\/model\.onnx\), fp16 \(onnx\/model_fp16\.onnx\), q8 \(onnx\/model_quantized\.onnx\), q4 \(onnx\/model_q4\.onnx\)\./,
    );
    expect(() => parsed(['--dtype', 'fp8'])).toThrow(UsageError);
    expect(() => parsed(['--dtype', 'fp8'])).toThrow(/--dtype must be one of fp32, fp16, q8/);
  });

  it('a folder that ships only model_fp16.onnx is accepted with --dtype fp16 and refused without, naming what it has', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-fp16-only-'));
    try {
      for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(HUB, 'gpt2-lm', f), path.join(dir, f));
      mkdirSync(path.join(dir, 'onnx'));
      copyFileSync(path.join(HUB, 'gpt2-lm', 'onnx', 'model_fp16.onnx'), path.join(dir, 'onnx', 'model_fp16.onnx'));
      const out = await gen('--policy', dir, '--dtype', 'fp16', '--prompt', PROMPT, '--max-new-tokens', '12');
      expect(out.sequences[0]?.token_ids).toEqual(ref.cases[0]?.greedy_fp16);
      await expect(gen('--policy', dir, '--prompt', PROMPT)).rejects.toThrow(/--dtype fp32 needs onnx\/model\.onnx, which the folder lacks; it has fp16 \(onnx\/model_fp16\.onnx\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('external data (onnx/model.onnx_data) loads and decodes as the single-file export', async () => {
    const out = await gen('--policy', HUB + 'gpt2-lm-external', '--prompt', PROMPT, '--max-new-tokens', '12');
    expect(out.sequences[0]?.token_ids).toEqual(ref.cases[0]?.greedy);
  });
});

describe('--reward-label and reward models with another tokenizer', () => {
  it('best-of-N with a BERT classifier (own WordPiece tokenizer): rewards = its POSITIVE − NEGATIVE on the re-tokenized text', async () => {
    const out = await gen('--policy', 'tiny-base', '--strategy', 'best_of_n', '--n', '4', '--reward-model', HUB + 'bert-classifier',
      '--reward-label', 'POSITIVE-NEGATIVE', '--prompt', PROMPT, '--max-new-tokens', '8', '--seed', '3');
    expect(out.sequences.length).toBe(4);
    const rm = await loadSequenceRewardModel(HUB + 'bert-classifier', { device: 'cpu' });
    const tok = await loadTokenizer(FIXTURES_DIR + '../../models/tiny-base');
    try {
      const view = rm.forRun({ label: 'POSITIVE-NEGATIVE', policy: tok });
      const want = await view.score(out.sequences.map((s) => [...(out.prompt_token_ids ?? []), ...s.token_ids]));
      const got = out.sequences.map((s) => s.reward as number);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 5);
      expect(got[0]).toBe(Math.max(...got)); // best first
    } finally {
      await rm.dispose();
    }
  });

  it('ARGS with the BERT classifier runs (text re-tokenized at every step)', async () => {
    const out = await gen('--policy', 'tiny-base', '--strategy', 'args', '--args-k', '3', '--reward-model', HUB + 'bert-classifier',
      '--reward-label', 'POSITIVE', '--prompt', PROMPT, '--max-new-tokens', '4');
    expect(out.sequences[0]?.token_ids.length).toBe(4);
  });

  it('a two-label classifier without --reward-label is refused, naming its labels', async () => {
    await expect(gen('--policy', 'tiny-base', '--strategy', 'best_of_n', '--n', '2', '--reward-model', HUB + 'gpt2-classifier', '--prompt', PROMPT)).rejects.toThrow(
      /2 labels \(NEGATIVE, POSITIVE\); choose the reward with --reward-label POSITIVE/,
    );
    await expect(gen('--policy', 'tiny-base', '--strategy', 'best_of_n', '--n', '2', '--reward-model', HUB + 'gpt2-classifier', '--reward-label', 'JOY', '--prompt', PROMPT)).rejects.toThrow(
      /--reward-label JOY: .* has no such label; its labels are 0: NEGATIVE, 1: POSITIVE/,
    );
  });

  it('token-level guidance still refuses an ARM with another tokenizer', async () => {
    await expect(gen('--policy', 'tiny-base', '--strategy', 'genarm', '--arm', HUB + 'llama-style', '--prompt', PROMPT)).rejects.toThrow(/vocabulary|tokenizer/);
  });

  it('rank --scorer sequence with a two-label GPT-2 classifier: margins do not depend on --batch-size', async () => {
    const args = ['--dataset', FIXTURES_DIR + '../../models/datasets/prefs-positive-test.jsonl', '--scorer', 'sequence', '--reward-model', HUB + 'gpt2-classifier',
      '--reward-label', 'POSITIVE-NEGATIVE', '--limit', '16'];
    const one = await rnk(...args, '--batch-size', '1');
    const eight = await rnk(...args, '--batch-size', '8');
    expect(one.n).toBe(16);
    for (let i = 0; i < one.pairs.length; i++) expect(eight.pairs[i]?.margin).toBeCloseTo(one.pairs[i]?.margin as number, 4);
  });
});
