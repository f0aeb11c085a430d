/**
 * `decoding-lab bench --json` (DESIGN §4) as a process on the bundled models, one short round: the
 * contract keys (`device`, `ratios` with the original four, `runs`) plus the issue-6 additions, each
 * ratio finite and positive, each target checked. Speed itself is bench/results.json's business.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'decoding-lab.mjs');

describe('decoding-lab bench --json', () => {
  it('prints device, ratios, runs and targets from one short run', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', '--json', '--repeats', '1', '--max_new_tokens', '4'], { cwd: ROOT, encoding: 'utf8', timeout: 230_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { device: string; ratios: Record<string, number>; runs: { name: string; unit: string; median: number; samples: number[] }[]; targets: Record<string, { target: string; met: boolean; value: number; reason?: string }> };
    expect(out.device).toBe('cpu');
    for (const k of ['greedy_vs_generate', 'beam4_step_vs_greedy_step', 'genarm1_vs_greedy', 'ranking_batched_vs_naive', 'beam8_step_vs_greedy_step', 'diverse_beam4x2_step_vs_greedy_step', 'genarm2_vs_greedy', 'implicit_vs_greedy']) {
      expect(out.ratios[k], k).toBeGreaterThan(0);
      expect(Number.isFinite(out.ratios[k]), k).toBe(true);
    }
    expect(out.runs.length).toBeGreaterThanOrEqual(15);
    for (const run of out.runs) expect(run.samples, run.name).toHaveLength(1);
    expect(Object.keys(out.targets).sort()).toEqual(['beam4_step_vs_greedy_step', 'genarm1_vs_greedy', 'greedy_vs_generate', 'ranking_batched_vs_naive']);
    for (const t of Object.values(out.targets)) expect(t.met || (t.reason ?? '').length > 20).toBe(true);
  }, 240_000);

  it('also prints the overhead ratios and peak RSS for the bundled models', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', '--json', '--repeats', '1', '--max_new_tokens', '4'], { cwd: ROOT, encoding: 'utf8', timeout: 230_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ratios: Record<string, number>; peak_rss_mb: number; shape?: unknown; runs: { name: string }[] };
    for (const k of ['greedy_step_vs_forward1', 'beam4_step_vs_forward4', 'genarm1_step_vs_forward_pair', 'ranking_vs_forward', 'beam4_gather_share']) {
      expect(Number.isFinite(out.ratios[k]) && (out.ratios[k] as number) > 0, k).toBe(true);
    }
    expect(out.ratios.beam4_gather_share).toBeLessThan(1);
    expect(out.peak_rss_mb).toBeGreaterThan(50);
    expect(out.shape).toBeUndefined();
    expect(out.runs.map((x) => x.name)).toContain('beam search, 4 beams, step: KV-row gather');
  }, 240_000);

  describe('--shape refuses clearly before measuring anything', () => {
    const bench = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [BIN, 'bench', '--json', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

    it('without Python: says what to apt-get install', () => {
      const r = bench(['--shape', 'no-such-shape-built'], { DECODING_LAB_PYTHON: '/nonexistent/python3' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/--shape no-such-shape-built: bench\/shapes\/no-such-shape-built is not built yet and \/nonexistent\/python3 does not exist; .*apt-get install python3 python3-torch python3-onnx/);
    });

    it('with a Python that lacks torch: names the module and the packages', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'fake-python-'));
      try {
        const py = path.join(dir, 'python3');
        writeFileSync(py, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n');
        chmodSync(py, 0o755);
        const r = bench(['--shape', 'no-such-shape-built'], { DECODING_LAB_PYTHON: py });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/has no module torch; building a shape needs Python 3 with PyTorch and ONNX .*apt-get install python3 python3-torch python3-onnx/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a name that is not a folder name is refused', () => {
      const r = bench(['--shape', '../models']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--shape "\.\.\/models": a shape name is letters, digits/);
    });
  });
});
