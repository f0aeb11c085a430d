/**
 * Candidate sets in the Compare view (src/lib/candidateSets.svelte.ts, CandidateSets.svelte): one
 * `candidates` request per method on the same prompt, seed and settings, and each set shown with its
 * diversity line next to its candidates.
 */
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { CandidatesRun } from '../../src/inference/protocol.ts';
import type { CandidateSet } from '../../src/core/search/candidates.ts';
import { setDiversity } from '../../src/core/metrics/setDiversity.ts';
import { CandidateSetsState, diversityLine } from '../../src/lib/candidateSets.svelte.ts';
import CandidateSets from '../../src/lib/CandidateSets.svelte';

const TOKENS: Record<string, number[][]> = {
  nc_sample: [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]],
  diverse_beam: [[1, 2, 3], [1, 2, 4], [1, 2, 5], [1, 3, 3]],
  sample: [[1, 2, 3], [1, 2, 3], [4, 5, 6], [1, 2, 6]],
};

function fakeClient() {
  const runs: CandidatesRun[] = [];
  let id = 0;
  const client = {
    async load() {
      return {};
    },
    candidates(run: CandidatesRun) {
      runs.push(run);
      const toks = TOKENS[run.method]!.slice(0, run.k);
      const set: CandidateSet = {
        method: run.method,
        seed: run.seed ?? 0,
        k: run.k,
        candidates: toks.map((t) => ({ text: ` ${run.method} ${t.join('')}`, tokenIds: t, logprob: -t.length, finishReason: 'length' as const })),
        diversity: setDiversity(toks),
      };
      return { id: ++id, done: Promise.resolve(set) };
    },
    async cancel() {
      return true;
    },
  };
  return { client: client as unknown as InferenceClient, runs };
}

const settings = { policy: 'tiny-base', prompt: 'Our economy', seed: 7, maxNewTokens: 12, temperature: 0.8, topK: 40, topP: 0.9 };

describe('candidate sets', () => {
  it('asks for every method with the same prompt, seed, k and sampling settings', async () => {
    const { client, runs } = fakeClient();
    const s = new CandidateSetsState(client);
    s.k = 3;
    await s.run(settings);
    expect(runs.map((r) => r.method)).toEqual(['nc_sample', 'diverse_beam', 'sample']);
    for (const r of runs) {
      expect(r).toMatchObject({ policy: 'tiny-base', prompt: 'Our economy', seed: 7, k: 3 });
      expect(r.options?.config).toEqual({ max_new_tokens: 12, temperature: 0.8, top_k: 40, top_p: 0.9 });
      expect(r.options?.ncPenalty).toBe(1);
      expect(r.options?.distributionDistance).toBe(true);
    }
    expect(s.results.map((r) => r.set.candidates.length)).toEqual([3, 3, 3]);
    expect(s.running).toBeNull();
  });

  it('shows each set with its self-BLEU and distinct-n next to its candidates', async () => {
    const { client } = fakeClient();
    const sets = new CandidateSetsState(client);
    const target = document.createElement('div');
    document.body.append(target);
    const c = mount(CandidateSets, { target, props: { sets, settings } });
    (target.querySelector('[data-testid="sets-run"]') as HTMLButtonElement).click();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    for (const m of ['nc_sample', 'diverse_beam', 'sample']) {
      const col = target.querySelector(`[data-testid="set-${m}"]`) as HTMLElement;
      expect(col, m).not.toBeNull();
      const line = col.querySelector('[data-testid="set-metrics"]')?.textContent;
      expect(line).toBe(diversityLine(setDiversity(TOKENS[m]!)));
      expect(col.querySelectorAll('li')).toHaveLength(4);
    }
    // nc: no shared n-gram → self-BLEU 0; sample: two identical candidates → higher
    expect(target.querySelector('[data-testid="set-nc_sample"] [data-testid="set-metrics"]')?.textContent).toMatch(/^self-BLEU 0\.000 · distinct-1 1\.00 · distinct-2 1\.00$/);
    expect(diversityLine({ self_bleu: null, distinct_1: 1, distinct_2: 1, distribution_distance: 0.1234 })).toBe('self-BLEU n/a · distinct-1 1.00 · distinct-2 1.00 · distribution distance 0.123');
    unmount(c);
    target.remove();
  });
});
