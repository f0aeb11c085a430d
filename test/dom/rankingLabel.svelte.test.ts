/**
 * The Ranking view's reward label for a sequence reward model with several heads (issue 14 item 3):
 * the field hints the model's heads (config id2label, from its load), the rank request carries the
 * label or mix, the result's label names it, and the token strips of the result are scored with it.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import RankingView from '../../src/lib/RankingView.svelte';
import { RankingState } from '../../src/lib/ranking.svelte.ts';
import { jobReport } from '../../src/inference/rankJob.ts';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { RankJob } from '../../src/inference/protocol.ts';
import type { PreferencePair } from '../../src/core/data/preferences.ts';

const mounted: ReturnType<typeof mount>[] = [];
// No site here: the manifest and tokenizer_config.json reads find nothing (the view treats that as no facts).
beforeEach(() => vi.stubGlobal('fetch', async () => new Response('', { status: 404 })));
afterEach(() => {
  vi.unstubAllGlobals();
  for (const m of mounted.splice(0)) unmount(m);
  document.body.innerHTML = '';
});

const PAIR = { id: 'p0', prompt: 'The movie was', chosen: ' great.', rejected: ' bad.' } as unknown as PreferencePair;

function fakeClient() {
  const ranked: RankJob[] = [];
  const scored: RankJob[] = [];
  const loads: { id: string; as?: string }[] = [];
  const client = {
    async load(id: string, opts: { as?: 'lm' | 'rm' } = {}) {
      loads.push({ id, as: opts.as });
      const labels = id === 'local/rm-two-heads' ? { labels: ['positivity', 'conciseness'] } : {};
      return { model: { id, vocabSize: 10, contextLength: 64, eosTokenIds: [], ...labels }, ms: 1 };
    },
    rank(job: RankJob) {
      ranked.push(job);
      const report = jobReport({ pairs: [], truncated: 0, skipped: [] }, job);
      return { id: ranked.length, done: Promise.resolve({ report, invalidLines: [], cancelled: false, pairsRead: 1, texts: [PAIR] }) };
    },
    async scorePair(job: RankJob) {
      scored.push(job);
      throw new Error('not needed here');
    },
    async cancel() {
      return false;
    },
  };
  return { client: client as unknown as InferenceClient, ranked, scored, loads };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

describe('Ranking view: reward label of a sequence reward model', () => {
  it('hints the heads, sends the mix with the rank request, names it, and scores the strips with it', async () => {
    const { client, ranked, scored, loads } = fakeClient();
    const rank = new RankingState(client, '/');
    const target = document.createElement('div');
    document.body.append(target);
    mounted.push(mount(RankingView, { target, props: { rank, rewardModels: ['local/rm-two-heads'] } }));
    flushSync();
    rank.scorer = 'sequence';
    flushSync();
    const rm = target.querySelector<HTMLSelectElement>('[data-testid="rank-rm"]')!;
    expect([...rm.options].map((o) => o.value)).toEqual(['tiny-rm-positive', 'tiny-rm-concise', 'local/rm-two-heads']);
    rank.rewardModel = 'local/rm-two-heads'; // (happy-dom's <select> change does not reach Svelte's bind:value)
    await settle();
    expect(loads).toContainEqual({ id: 'local/rm-two-heads', as: 'rm' });
    const field = target.querySelector<HTMLInputElement>('[data-testid="rank-reward-label"]')!;
    expect(field.placeholder).toBe('positivity=1,conciseness=1');
    expect(target.querySelector('[data-testid="rank-reward-label-hint"]')!.textContent).toMatch(/heads: positivity, conciseness/);
    field.value = ' positivity=1,conciseness=0.5 ';
    field.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    target.querySelector<HTMLButtonElement>('[data-testid="rank-run"]')!.click();
    await settle();
    expect(ranked).toHaveLength(1);
    expect(ranked[0]).toMatchObject({ scorer: 'sequence', rewardModel: 'local/rm-two-heads', rewardLabel: 'positivity=1,conciseness=0.5' });
    expect(target.querySelector('[data-testid="rank-label"]')!.textContent).toMatch(/local\/rm-two-heads \[positivity=1,conciseness=0\.5\]/);
    // The result's job keeps the label: its token strips (score-pair) use the same mix.
    expect(rank.resultJob?.rewardLabel).toBe('positivity=1,conciseness=0.5');
    await rank.loadStrip(0);
    expect(scored[0]?.rewardLabel).toBe('positivity=1,conciseness=0.5');
  });

  it('sends no label when the field is empty, and says a one-output model needs none', async () => {
    const { client, ranked } = fakeClient();
    const rank = new RankingState(client, '/');
    rank.scorer = 'sequence';
    const target = document.createElement('div');
    document.body.append(target);
    mounted.push(mount(RankingView, { target, props: { rank } }));
    await settle();
    expect(target.querySelector('[data-testid="rank-reward-label-hint"]')!.textContent).toMatch(/tiny-rm-positive has one output: leave this empty/);
    target.querySelector<HTMLButtonElement>('[data-testid="rank-run"]')!.click();
    await settle();
    expect(ranked[0]?.rewardModel).toBe('tiny-rm-positive');
    expect(ranked[0] && 'rewardLabel' in ranked[0]).toBe(false);
  });
});
