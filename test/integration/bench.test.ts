/**
 * `decoding-lab bench --json` (DESIGN §4) as a process on the bundled models, one short round: the
 * contract keys (`device`, `ratios` with the original four, `runs`) plus the issue-6 additions, each
 * ratio finite and positive, each target checked. Speed itself is bench/results.json's business.
 */
import { spawnSync } from 'node:child_process';
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
});
