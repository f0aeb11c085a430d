/**
 * `decoding-lab candidates` on the bundled tiny-base: the JSONL contract for each method, determinism
 * under a seed, nc_sample with λ = 0 = sample, and nc_sample's sets sharing less than plain
 * sampling's with the same seeds (averaged over prompts); bad input exits 2 with one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import './env.ts';
import { candidates } from '../../src/cli/candidates.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { main } from '../../src/cli/main.ts';
import { crossDistinctN } from '../../src/core/metrics/diversity.ts';
import { setDiversity } from '../../src/core/metrics/setDiversity.ts';
import type { CandidateLine } from '../../src/core/search/candidates.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'decoding-lab.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'candidates-'));
// The first 8 prompts of the bundled positivity split, as a dataset JSONL (prompt fields) and as .txt.
const rows = readFileSync(path.join(ROOT, 'models/datasets/prefs-positive-test.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 8);
const PROMPTS = rows.map((l) => (JSON.parse(l) as { prompt: string }).prompt);
const JSONL = path.join(dir, 'prompts.jsonl');
writeFileSync(JSONL, rows.join('\n') + '\n');
const TXT = path.join(dir, 'prompts.txt');
writeFileSync(TXT, PROMPTS.slice(0, 2).join('\n') + '\n\n');

const run = (...args: string[]) => candidates(parseArgs(['--policy', 'tiny-base', '--k', '4', '--max_new_tokens', '20', ...args]), () => {});
const EOS = 4095; // tiny-base's eos_token_id
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'candidates', ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('decoding-lab candidates on tiny-base', () => {
  it.each(['nc_sample', 'diverse_beam', 'sample'])('%s: one line per prompt with k candidates, their log-probs and the set diversity; the same seed gives the same lines', async (method) => {
    const lines = await run('--prompts', TXT, '--method', method, '--seed', '5');
    expect(lines).toHaveLength(2);
    lines.forEach((l, i) => {
      expect(Object.keys(l)).toEqual(['prompt', 'method', 'candidates', 'diversity', 'seed']);
      expect(l.prompt).toBe(PROMPTS[i]);
      expect(l.method).toBe(method);
      expect(l.seed).toBe(5);
      expect(l.candidates).toHaveLength(4);
      for (const c of l.candidates) {
        expect(Object.keys(c)).toEqual(['text', 'token_ids', 'logprob']);
        expect(c.token_ids.length).toBeGreaterThan(0);
        expect(c.token_ids.length).toBeLessThanOrEqual(20);
        expect(c.token_ids.every((t) => Number.isInteger(t) && t >= 0)).toBe(true);
        expect(Number.isFinite(c.logprob) && c.logprob < 0).toBe(true);
        expect(c.text.length).toBeGreaterThan(0);
      }
      expect(l.diversity).toEqual(setDiversity(l.candidates.map((c) => c.token_ids), [EOS]));
      for (const v of Object.values(l.diversity)) expect(v! >= 0 && v! <= 1).toBe(true);
    });
    expect(await run('--prompts', TXT, '--method', method, '--seed', '5')).toEqual(lines);
    if (method === 'diverse_beam') {
      // beams differ from each other
      for (const l of lines) expect(new Set(l.candidates.map((c) => c.token_ids.join(','))).size).toBe(4);
    } else {
      expect(await run('--prompts', TXT, '--method', method, '--seed', '6')).not.toEqual(lines);
    }
  });

  it('nc_sample with --nc-penalty 0 gives exactly the candidates of sample with the same seed', async () => {
    const a = await run('--prompts', TXT, '--method', 'sample', '--seed', '9');
    const b = await run('--prompts', TXT, '--method', 'nc_sample', '--seed', '9', '--nc-penalty', '0');
    expect(b.map((l) => l.candidates)).toEqual(a.map((l) => l.candidates));
  });

  it("nc_sample's sets share fewer bigrams and have a lower self-BLEU than plain sampling's with the same seeds (8 prompts)", async () => {
    const opts = ['--prompts', JSONL, '--seed', '0', '--temperature', '0.7'];
    const plain = await run(...opts, '--method', 'sample');
    const nc = await run(...opts, '--method', 'nc_sample');
    const cross = (ls: CandidateLine[]) => mean(ls.map((l) => crossDistinctN(l.candidates.map((c) => c.token_ids.filter((t) => t !== EOS)), 2)));
    const sb = (ls: CandidateLine[]) => mean(ls.map((l) => l.diversity.self_bleu as number));
    // Seen: self-BLEU 0.067 (sample) vs 0.043 (nc_sample) over 8 prompts × seeds 0–2, 30 tokens.
    expect(sb(nc)).toBeLessThan(sb(plain));
    expect(cross(nc)).toBeGreaterThan(cross(plain));
    // The first candidate has nothing to avoid: it is plain sampling's first.
    expect(nc.map((l) => l.candidates[0])).toEqual(plain.map((l) => l.candidates[0]));
  });

  it('--distribution-distance adds the mean pairwise 1 − cos of the candidates\' mean next-token distributions', async () => {
    const [l] = await run('--prompt', PROMPTS[0] as string, '--method', 'sample', '--seed', '1', '--distribution-distance');
    const d = l?.diversity.distribution_distance as number;
    expect(Object.keys(l!.diversity)).toEqual(['self_bleu', 'distinct_1', 'distinct_2', 'distribution_distance']);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(1);
    const [same] = await run('--prompt', PROMPTS[0] as string, '--method', 'sample', '--seed', '1');
    expect(same?.diversity).not.toHaveProperty('distribution_distance');
  });

  it('writes --out FILE; bad input exits 2 with one line naming the problem', async () => {
    const out = path.join(dir, 'out.jsonl');
    const ok = cli('--policy', 'tiny-base', '--prompt', PROMPTS[0] as string, '--method', 'sample', '--k', '2', '--max_new_tokens', '5', '--out', out);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CandidateLine);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.candidates).toHaveLength(2);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"prompt": "ok"}\n{"chosen": "no prompt"}\n');
    const cases: [string[], RegExp][] = [
      [['--prompt', 'x', '--method', 'beam'], /--method must be one of nc_sample, diverse_beam, sample \(got "beam"\)/],
      [['--prompts', path.join(dir, 'missing.txt')], /--prompts .*missing\.txt: cannot read it \(ENOENT\)/],
      [['--prompts', bad], /--prompts .*bad\.jsonl line 2: needs a "prompt" field/],
      [['--prompt', 'x', '--prompts', TXT], /either --prompt TEXT or --prompts FILE, not both/],
      [[], /--prompt TEXT or --prompts FILE is required/],
      [['--prompt', 'x', '--k', '0'], /--k must be an integer >= 1/],
      [['--prompt', 'x', '--method', 'diverse_beam', '--k', '1'], /diverse_beam needs k >= 2/],
      [['--prompt', 'x', '--nc-penalty', '-1'], /nc_penalty must be a finite number >= 0/],
      [['--prompt', 'x', '--top_p', '2'], /top_p must be in \(0, 1\]/],
    ];
    for (const [args, msg] of cases) {
      // in-process through main() (a process per case costs ~5 s to start tsx); the first case above ran as a process
      const err: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
      const code = await main(['candidates', '--policy', 'tiny-base', '--max_new_tokens', '3', ...args]).finally(() => spy.mockRestore());
      expect(code, args.join(' ')).toBe(2);
      expect(err.join('')).toMatch(msg);
      expect(err.join('').trim().split('\n')).toHaveLength(1);
    }
    const r = cli('--policy', 'tiny-base', '--prompt', 'x', '--method', 'beam');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['decoding-lab: --method must be one of nc_sample, diverse_beam, sample (got "beam")']);
  });
});
