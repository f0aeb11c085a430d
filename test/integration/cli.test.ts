/**
 * The `decoding-lab` CLI contract (DESIGN §4), driven as a process the way outside checks drive it,
 * plus in-process runs of every strategy on the bundled models.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, readJson } from './env.ts';
import { generate, type GenerateOutput } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'decoding-lab.mjs');
const golden = readJson<Record<string, { cases: { ids: number[]; greedy: number[] }[] }>>(FIXTURES_DIR + 'golden.json');
const tokFixture = readJson<{ cases: { text: string; ids: number[] }[] }>(FIXTURES_DIR + 'tokenizer.json');
const PROMPT = tokFixture.cases[0]?.text as string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const run = (...args: string[]) => generate(parseArgs(args));

describe('decoding-lab generate (process)', () => {
  it('greedy --json prints the contract, with the PyTorch greedy tokens', () => {
    const r = cli('generate', '--policy', 'tiny-base', '--prompt', PROMPT, '--max-new-tokens', '20', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as GenerateOutput;
    expect(Object.keys(out)).toEqual(['strategy', 'prompt_token_ids', 'sequences', 'meta']);
    expect(out.strategy).toBe('greedy');
    expect(out.prompt_token_ids).toEqual(tokFixture.cases[0]?.ids);
    const s = out.sequences[0]!;
    expect(s.token_ids).toEqual(golden['tiny-base']?.cases[0]?.greedy);
    expect(s.steps.map((t) => t.token_id)).toEqual(s.token_ids);
    expect(s.score).toBeCloseTo(s.steps.reduce((a, t) => a + t.logprob, 0), 4);
    expect(Object.keys(s.steps[0]!)).toEqual(['token_id', 'logprob', 'rewards', 'combined_logprob']);
    expect(out.meta.device).toBe('cpu');
    expect(out.meta.tokens_generated).toBe(s.token_ids.length);
  });

  it.each([
    [['--policy', 'tiny-base', '--prompt', 'x', '--bogus', '1'], /unknown option --bogus/],
    [['--prompt', 'x'], /--policy is required/],
    [['--policy', 'no-such-model', '--prompt', 'x'], /--policy no-such-model: not a bundled model id/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'diverse_beam', '--num_beams', '4', '--num_beam_groups', '3'], /num_beams \(4\) must be divisible by num_beam_groups \(3\)/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'diverse_beam', '--diversity_penalty', '0'], /diversity_penalty must be > 0/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'sample', '--top_p', '1.5'], /top_p must be in \(0, 1\]/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'sample', '--temperature', '-1'], /temperature must be > 0/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--beta', '0'], /beta must be > 0/],
    [['--policy', 'tiny-base', '--prompt', '', '--max_new_tokens', '5'], /the prompt is empty/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--max_new_tokens', '400'], /exceeds the context of 256 tokens/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'genarm'], /genarm needs at least one --arm/],
    [['--policy', 'tiny-base', '--prompt', 'x', '--num_beams', 'four'], /--num_beams must be an integer/],
  ])('bad input %j exits 2 with one line on stderr', (args, msg) => {
    const r = cli('generate', ...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg as RegExp);
  });
});

describe('every strategy on the bundled models (in process)', () => {
  it('accepts --num-beams and --num_beams alike and returns num_return_sequences beams, best first', async () => {
    const a = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'beam', '--num-beams', '4', '--num_return_sequences', '3', '--max_new_tokens', '12');
    const b = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'beam', '--num_beams=4', '--num-return-sequences=3', '--max-new-tokens=12');
    expect(a.sequences.map((s) => s.token_ids)).toEqual(b.sequences.map((s) => s.token_ids));
    expect(a.sequences).toHaveLength(3);
    for (let i = 1; i < 3; i++) expect(a.sequences[i - 1]!.score).toBeGreaterThanOrEqual(a.sequences[i]!.score);
  });

  it('diverse beam search reports groups', async () => {
    const out = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'diverse_beam', '--num_beams', '4', '--num_beam_groups', '2', '--diversity_penalty', '2.0', '--num_return_sequences', '4', '--max_new_tokens', '12');
    expect(out.sequences).toHaveLength(4);
    for (const s of out.sequences) expect([0, 1]).toContain(s.group);
  });

  it('genarm reports the ARM token reward and the combined log-prob, and raises the oracle positivity over greedy', async () => {
    const out = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'genarm', '--arm', 'tiny-arm-positive=1', '--beta', '0.5', '--max_new_tokens', '20');
    const step = out.sequences[0]!.steps[0]!;
    expect(Object.keys(step.rewards)).toEqual(['arm:tiny-arm-positive']);
    expect(step.combined_logprob).not.toBeCloseTo(step.logprob, 3);
  });

  it('implicit guidance with base = ref and beta = 1 decodes exactly like the tuned model', async () => {
    const tuned = await run('--policy', 'tiny-dpo-positive', '--prompt', PROMPT, '--max_new_tokens', '20');
    const guided = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base', '--beta', '1', '--max_new_tokens', '20');
    expect(guided.sequences[0]!.token_ids).toEqual(tuned.sequences[0]!.token_ids);
    guided.sequences[0]!.steps.forEach((s, i) => expect(s.combined_logprob).toBeCloseTo(tuned.sequences[0]!.steps[i]!.logprob, 4));
  });

  it('sampling is reproducible for a seed and --config reads the same names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-'));
    const cfg = path.join(dir, 'gen.json');
    writeFileSync(cfg, JSON.stringify({ do_sample: true, temperature: 0.8, top_k: 20, top_p: 0.9, seed: 3, max_new_tokens: 15, num_return_sequences: 2 }));
    const a = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'sample', '--config', cfg);
    const b = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'sample', '--temperature', '0.8', '--top_k', '20', '--top_p', '0.9', '--seed', '3', '--max_new_tokens', '15', '--num_return_sequences', '2');
    expect(a.sequences.map((s) => s.token_ids)).toEqual(b.sequences.map((s) => s.token_ids));
    const c = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'sample', '--config', cfg, '--seed', '4');
    expect(c.sequences.map((s) => s.token_ids)).not.toEqual(a.sequences.map((s) => s.token_ids));
  });

  it('best_of_n returns the N samples ordered by reward; rejection returns the accepted ones', async () => {
    const bon = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'best_of_n', '--reward-model', 'tiny-rm-positive', '--n', '6', '--max_new_tokens', '15');
    expect(bon.sequences).toHaveLength(6);
    for (let i = 1; i < 6; i++) expect(bon.sequences[i - 1]!.reward!).toBeGreaterThanOrEqual(bon.sequences[i]!.reward!);
    const rej = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'rejection', '--reward-model', 'tiny-rm-positive', '--n', '6', '--rso-beta', '0.5', '--num_return_sequences', '2', '--max_new_tokens', '15');
    expect(rej.sequences).toHaveLength(2);
  });

  it('args scores top-k candidates with the reward model and stops at EOS or max_new_tokens', async () => {
    const out = await run('--policy', 'tiny-base', '--prompt', PROMPT, '--strategy', 'args', '--reward-model', 'tiny-rm-positive', '--args-k', '5', '--args-weight', '1.5', '--max_new_tokens', '10');
    const s = out.sequences[0]!;
    expect(s.token_ids.length).toBeLessThanOrEqual(10);
    expect(Object.keys(s.steps[0]!.rewards)).toEqual(['sequence:tiny-rm-positive']);
    expect(typeof s.reward).toBe('number');
  });

  it('refuses a model whose tokenizer differs from the policy', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-'));
    expect(() => parseArgs(['--policy', 'tiny-base', '--arm', `${dir}=x`])).not.toThrow();
    await expect(run('--policy', 'tiny-base', '--prompt', 'x', '--arm', dir)).rejects.toThrow(/has no config.json/);
  });
});
