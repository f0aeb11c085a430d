/**
 * Reward-guided beam search on the bundled models (issue 14 item 1): tiny-base guided by
 * tiny-rm-positive. w = 0 returns plain beam search's beams exactly; the mean RM score of the returned
 * beams rises with w. And the CLI: flags parsed, bad values exit 2 with one line.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'decoding-lab.mjs');
const run = (...args: string[]) => generate(parseArgs(args), () => {});
const PROMPTS = ['The movie was', 'My neighbour said that', 'Yesterday the weather'];
const base = (prompt: string) => ['--policy', 'tiny-base', '--prompt', prompt, '--strategy', 'beam', '--num_beams', '4', '--num_return_sequences', '4', '--max_new_tokens', '16'];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('reward-guided beam search on tiny-base + tiny-rm-positive', () => {
  it('w = 0 is plain beam search; the mean RM score of the returned beams rises with w', async () => {
    const means: Record<string, number[]> = { 0: [], 1: [], 5: [] };
    for (const prompt of PROMPTS) {
      const plain = await run(...base(prompt));
      for (const w of ['0', '1', '5']) {
        const out = await run(...base(prompt), '--reward-model', 'tiny-rm-positive', '--reward_weight', w, '--rescore_every', '2');
        if (w === '0') {
          expect(out.sequences.map((s) => [s.token_ids, s.score, s.finish_reason])).toEqual(plain.sequences.map((s) => [s.token_ids, s.score, s.finish_reason]));
        }
        for (const s of out.sequences) {
          expect(s.guided_score).toBeCloseTo(s.score + Number(w) * (s.reward as number), 4);
          expect(s.steps.some((t) => 'sequence:tiny-rm-positive' in t.rewards)).toBe(true);
        }
        means[w]!.push(mean(out.sequences.map((s) => s.reward as number)));
      }
    }
    const m = Object.fromEntries(Object.entries(means).map(([w, xs]) => [w, mean(xs)]));
    expect(m[1]).toBeGreaterThan(m[0] as number);
    expect(m[5]).toBeGreaterThan(m[1] as number);
  }, 120_000);
});

describe('decoding-lab generate --strategy beam --reward-model (process)', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, 'generate', ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  it('parses --reward_weight, --rescore-every end and --rm-candidates; --json adds reward and guided_score', () => {
    const r = cli(...base('The movie was'), '--max_new_tokens', '6', '--reward-model', 'tiny-rm-positive', '--reward-weight', '2', '--rescore-every', 'end', '--rm_candidates', '3', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { sequences: { reward: number; guided_score: number; score: number; steps: { rewards: Record<string, number> }[] }[] };
    for (const s of out.sequences) {
      expect(s.guided_score).toBeCloseTo(s.score + 2 * s.reward, 4);
      // end: only the last position was scored
      expect(s.steps.map((t) => 'sequence:tiny-rm-positive' in t.rewards)).toEqual(s.steps.map((_, i) => i === s.steps.length - 1));
    }
  });
  it.each([
    [['--rescore_every', 'soon', '--reward-model', 'tiny-rm-positive'], /--rescore_every must be an integer >= 0 or "end" \(got "soon"\)/],
    [['--rescore_every', '-1', '--reward-model', 'tiny-rm-positive'], /--rescore_every must be an integer >= 0/],
    [['--reward_weight', 'x', '--reward-model', 'tiny-rm-positive'], /--reward_weight must be a number/],
    [['--rm_candidates', '1.5', '--reward-model', 'tiny-rm-positive'], /--rm_candidates must be an integer/],
    [['--rm_candidates', '-1', '--reward-model', 'tiny-rm-positive'], /rm_candidates must be an integer >= 0/],
    [['--reward_weight', '2'], /need --reward-model MODEL/],
  ])('bad input %j exits 2 with one line on stderr', (extra, msg) => {
    const r = cli(...base('x'), ...(extra as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg as RegExp);
  });
  it('refuses the flags on another strategy', () => {
    const r = cli('--policy', 'tiny-base', '--prompt', 'x', '--strategy', 'sample', '--reward-model', 'tiny-rm-positive', '--rescore_every', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/guide --strategy beam/);
  });
});
