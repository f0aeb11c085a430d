/**
 * BOS and EOS as Hugging Face takes them, on the llama-style fixture (test/fixtures/hub/llama-style):
 * its tokenizer adds <s> (4096) by a TemplateProcessing post-processor, config.json says EOS 4095
 * and generation_config.json says [4097, 4095] (as Qwen2.5-Instruct lists [151645, 151643]).
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, readJson } from './env.ts';
import { loadLanguageModel } from '../../src/inference/backends/transformers.ts';
import { generate } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { configureModels } from '../../src/cli/nodeModels.ts';

const DIR = FIXTURES_DIR + 'hub/llama-style';
const ref = readJson<{ cases: { ids: number[]; greedy: number[] }[] }>(DIR + '/reference.json');
const PROMPT = 'The state of the Union is';
const gen = (...args: string[]) => {
  const p = parseArgs(args);
  configureModels(p);
  return generate(p, () => {});
};

describe('llama-style fixture', () => {
  it('EOS ids come from generation_config.json (a list), not config.json alone; BOS is the one the tokenizer adds', async () => {
    const lm = await loadLanguageModel(DIR, { device: 'cpu' });
    try {
      expect(lm.eosTokenIds).toEqual([4097, 4095]);
      expect(lm.generationDefaults?.eos_token_id).toEqual([4097, 4095]);
      expect(lm.tokenizer.bosTokenId).toBe(4096);
      expect(lm.tokenizer.specialTokens).toEqual({ prefix: [4096], suffix: [] });
      expect(lm.tokenizer.encode(PROMPT)[0]).not.toBe(4096); // encode itself adds nothing
    } finally {
      await lm.dispose();
    }
  });

  it('generate prepends the BOS (as HF tokenizer(prompt) does) and gives the PyTorch greedy tokens; --add-bos false leaves it out', async () => {
    const c = ref.cases[0] as { ids: number[]; greedy: number[] };
    const out = await gen('--policy', DIR, '--prompt', PROMPT, '--max-new-tokens', '12');
    expect(out.prompt_token_ids).toEqual(c.ids);
    expect(out.prompt_token_ids?.[0]).toBe(4096);
    expect(out.sequences[0]?.token_ids).toEqual(c.greedy);
    const off = await gen('--policy', DIR, '--prompt', PROMPT, '--max-new-tokens', '2', '--add-bos', 'false');
    expect(off.prompt_token_ids).toEqual(c.ids.slice(1));
  });

  it("generation_config.json's sampling defaults (temperature 0.7, top_p 0.8) apply where the command line leaves them out", async () => {
    const notes: string[] = [];
    const run = (...extra: string[]) => {
      const p = parseArgs(['--policy', DIR, '--strategy', 'sample', '--seed', '5', '--prompt', PROMPT, '--max-new-tokens', '8', ...extra]);
      configureModels(p);
      return generate(p, (l) => notes.push(l));
    };
    const implicit = await run();
    expect(notes).toEqual([expect.stringMatching(/generation_config\.json: temperature 0\.7, top_p 0\.8 \(give a value to override\)/)]);
    const explicit = await run('--temperature', '0.7', '--top_p', '0.8');
    expect(notes.length).toBe(1); // nothing taken from the file
    expect(implicit.sequences[0]?.token_ids).toEqual(explicit.sequences[0]?.token_ids);
    expect(implicit.sequences[0]?.score).toBe(explicit.sequences[0]?.score);
    await run('--temperature', '1');
    expect(notes[1]).toMatch(/: top_p 0\.8 \(/);
  });

  it('the bundled models are unchanged: their tokenizer adds no BOS', async () => {
    const out = await gen('--policy', 'tiny-base', '--prompt', PROMPT, '--max-new-tokens', '1');
    expect(out.prompt_token_ids?.[0]).not.toBe(4095);
  });
});
