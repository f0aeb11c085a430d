/** Compare (src/lib/compare.svelte.ts): n samples per column on seeds seed…seed+n−1, spread, KL n/a. */
import { describe, expect, it } from 'vitest';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { GenerateRun, TokenEvent } from '../../src/inference/protocol.ts';
import { CompareState, DEFAULT_SAMPLES, isDeterministic } from '../../src/lib/compare.svelte.ts';

function fakeClient() {
  const runs: GenerateRun[] = [];
  let id = 0;
  const client = {
    async load() {
      return {};
    },
    generate(run: GenerateRun, onEvent: (e: TokenEvent) => void) {
      runs.push(run);
      const seed = run.spec.config.seed ?? 0;
      // seed s answers with s + 1 tokens and the text "good" × (s mod 2): positivity 3 or 0
      const tokenIds = Array.from({ length: seed + 1 }, (_, i) => i);
      onEvent({ event: { type: 'done', sequences: [{ tokenIds, score: 0, finishReason: 'length', group: 0, steps: [] }, { tokenIds: [9], score: 0, finishReason: 'length', group: 0, steps: [] }] }, texts: [seed % 2 ? ' good' : ' the', ' ignored'] });
      return { id: ++id, done: Promise.resolve() };
    },
  };
  return { client: client as unknown as InferenceClient, runs };
}

const sample: GenerateRun = { policy: 'tiny-base', prompt: 'x', spec: { strategy: 'sample', config: { max_new_tokens: 5, seed: 99, temperature: 1 } } };
const greedy: GenerateRun = { policy: 'tiny-base', prompt: 'x', spec: { strategy: 'greedy', config: { max_new_tokens: 5, seed: 99 } } };

describe('compare', () => {
  it('runs a sampled column on n seeds and a deterministic one once, with mean ± s.e. and KL n/a where it has none', async () => {
    const { client, runs } = fakeClient();
    const c = new CompareState(client);
    expect(c.samples).toBe(DEFAULT_SAMPLES);
    c.samples = 4;
    c.add(greedy);
    c.add(sample);
    await c.runAll('The prompt', 10);
    expect(runs.map((r) => `${r.spec.strategy}@${r.spec.config.seed}`)).toEqual(['greedy@10', 'sample@10', 'sample@11', 'sample@12', 'sample@13']);
    expect(runs.every((r) => r.prompt === 'The prompt')).toBe(true);
    const [g, s] = c.columns;
    expect(g!.sequences).toHaveLength(1);
    expect(g!.stats?.kl).toBeNull();
    expect(g!.stats?.klKind).toBe('na');
    expect(s!.seeds).toEqual([10, 11, 12, 13]);
    // one answer per seed (the first returned sequence), not every returned sequence
    expect(s!.sequences.map((x) => x.text)).toEqual([' the', ' good', ' the', ' good']);
    expect(s!.spread.positivity).toMatchObject({ n: 4, mean: 1.5, min: 0, max: 3 });
    expect(s!.spread.positivity!.se).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(s!.spread.tokens).toMatchObject({ mean: 12.5, min: 11, max: 14 });
    expect(c.shownPrompt).toBe('The prompt');
  });

  it('knows which runs are deterministic', () => {
    expect(isDeterministic(greedy)).toBe(true);
    expect(isDeterministic(sample)).toBe(false);
    expect(isDeterministic({ ...greedy, spec: { strategy: 'genarm', config: { do_sample: false } } })).toBe(true);
    expect(isDeterministic({ ...greedy, spec: { strategy: 'genarm', config: { do_sample: true } } })).toBe(false);
    expect(isDeterministic({ ...greedy, spec: { strategy: 'best_of_n', config: {} } })).toBe(false);
  });

  it('refuses a bad sample count with a message naming it', async () => {
    const c = new CompareState(fakeClient().client);
    c.add(greedy);
    c.add(sample);
    c.samples = 0;
    await c.runAll('p', 0);
    expect(c.columns[0]!.error).toMatch(/samples per column must be an integer from 1 to 64 \(got 0\)/);
  });
});
