/**
 * The studio's pair box (src/lib/StudioPair.svelte) driven by keys only, on an in-memory store: every
 * key is saved as it is pressed, a "reload" (a new state on the same store) restores the same
 * session, keys in the rationale type text, and Escape returns to the keys. The fake client answers
 * generate with k candidates per prompt.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { CandidatesRun } from '../../src/inference/protocol.ts';
import StudioPair from '../../src/lib/StudioPair.svelte';
import StudioRanked from '../../src/lib/StudioRanked.svelte';
import StudioView from '../../src/lib/StudioView.svelte';
import { ModelRegistry } from '../../src/lib/models.svelte.ts';
import { listOrder, rankCounts } from '../../src/core/studio/ranking.ts';
import { StudioState, scorersOf } from '../../src/lib/studio.svelte.ts';
import { memoryStudioStore } from '../../src/lib/studioStore.ts';
import { counts, toTrl } from '../../src/core/studio/session.ts';

function fakeClient() {
  const runs: CandidatesRun[] = [];
  const client = {
    candidates(run: CandidatesRun) {
      runs.push(run);
      const candidates = Array.from({ length: run.k }, (_, i) => ({ text: ` answer ${i}`, tokenIds: [i], logprob: 0, finishReason: i % 2 ? ('length' as const) : ('eos' as const) }));
      return { id: runs.length, done: Promise.resolve({ method: run.method, seed: run.seed ?? 0, k: run.k, candidates, diversity: {} }) };
    },
  };
  return { client: client as unknown as InferenceClient, runs };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  flushSync();
};
const key = (el: Element, k: string, ctrl = false) => el.dispatchEvent(new KeyboardEvent('keydown', { key: k, ctrlKey: ctrl, bubbles: true }));

let app: ReturnType<typeof mount> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
});

describe('studio pair box', () => {
  it('labels with 1/2/T/S, undoes with U and Ctrl+Z, saves every key, and a reload restores it', async () => {
    const { client, runs } = fakeClient();
    const store = memoryStudioStore();
    const st = new StudioState(client, store, '/');
    st.promptText = 'A\nB';
    st.k = 3;
    await st.generate();
    expect(runs.map((r) => [r.prompt, r.method, r.k, r.options?.config?.max_new_tokens])).toEqual([
      ['A', 'sample', 3, 12],
      ['B', 'sample', 3, 12],
    ]);
    expect(st.session.pairs.length).toBe(6);
    expect(st.session.prompts[0]?.candidates.map((c) => c.finished)).toEqual([true, false, true]);
    app = mount(StudioPair, { target: document.body, props: { studio: st } });
    flushSync();
    const box = document.querySelector('[data-testid="studio-pair"]') as HTMLElement;
    expect(document.querySelector('[data-testid="studio-legend"]')?.textContent).toMatch(/1.*2.*T.*S.*U/);
    const savesBefore = store.saves;
    for (const k of ['1', '2', 't', 's']) {
      key(box, k);
      await settle();
    }
    expect(counts(st.session)).toEqual({ preferred: 2, ties: 1, skips: 1, open: 2 });
    expect(store.saves - savesBefore).toBe(4);
    key(box, 'u');
    await settle();
    key(box, 'z', true);
    await settle();
    expect(counts(st.session)).toEqual({ preferred: 2, ties: 0, skips: 0, open: 4 });
    expect(store.value).toEqual(st.session);
    // the rationale: keys type there, Escape returns to the box, the next key labels with it
    const why = document.querySelector('[data-testid="studio-rationale"]') as HTMLTextAreaElement;
    why.value = 'terse';
    why.dispatchEvent(new Event('input', { bubbles: true }));
    key(why, '1');
    await settle();
    expect(counts(st.session).preferred).toBe(2);
    key(why, 'Escape');
    expect(document.activeElement).toBe(box);
    key(box, '2');
    await settle();
    expect(st.session.labels[st.session.history.at(-1) as number]).toMatchObject({ verdict: '2', rationale: 'terse', labeller: 'human:anonymous' });
    // the last three pairs: two skipped; with none open the box says what to do next
    for (const k of ['s', 's', '1']) {
      key(box, k);
      await settle();
    }
    expect(counts(st.session).open).toBe(0);
    flushSync();
    expect(box.textContent).toMatch(/Every pair has a label: export them, score them with the scorers below, or generate candidates for more prompts\. Label the 2 skipped/);

    // reload: a new state on the same store
    const again = new StudioState(client, store, '/');
    await again.restore();
    expect(again.session).toEqual(st.session);
    expect(again.promptText).toBe('A\nB');
  });

  it('refuses bad input with one line saying what to fix', async () => {
    const st = new StudioState(fakeClient().client, memoryStudioStore(), '/');
    st.promptText = '  \n';
    await st.generate();
    expect(st.error).toMatch(/at least one prompt/);
    st.promptText = 'A';
    st.k = 1;
    await st.generate();
    expect(st.error).toMatch(/k must be an integer from 2 to 16 \(got 1\)/);
    await st.runAgreement([]);
    expect(st.error).toMatch(/Label at least one pair/);
  });

  it('makes one scorer per model role', () => {
    const sc = scorersOf(
      [
        { id: 'tiny-base', kind: 'causal-lm', role: 'policy' },
        { id: 'tiny-arm-positive', kind: 'causal-lm', role: 'arm' },
        { id: 'tiny-dpo-positive', kind: 'causal-lm', role: 'tuned' },
        { id: 'tiny-rm-positive', kind: 'sequence-classifier', role: 'sequence_rm' },
      ],
      { 'tiny-dpo-positive': { reference: 'tiny-base', beta: 0.1 } },
    );
    expect(sc.map((s) => s.job)).toEqual([
      { scorer: 'policy', policy: 'tiny-base' },
      { scorer: 'arm', arm: 'tiny-arm-positive' },
      { scorer: 'implicit', tuned: 'tiny-dpo-positive', ref: 'tiny-base', beta: 0.1 },
      { scorer: 'sequence', rewardModel: 'tiny-rm-positive' },
    ]);
  });
});

/** A studio whose store saves only when `flush` runs, with one prompt's 3 candidates generated. */
async function slowStudio() {
  const store = memoryStudioStore();
  const pending: (() => void)[] = [];
  const slow = { ...store, save: (x: Parameters<typeof store.save>[0]) => new Promise<void>((r) => pending.push(() => void store.save(x).then(r))) };
  const flush = async () => {
    while (pending.length) (pending.shift() as () => void)();
    await settle();
  };
  const st = new StudioState(fakeClient().client, slow, '/');
  st.promptText = 'A';
  st.k = 3;
  const gen = st.generate();
  for (let i = 0; i < 20 && st.busy; i++) await flush();
  await gen;
  return { store, st, flush };
}

describe('keys pressed faster than the store saves', () => {
  it('give the rationale to the pair it was typed for only', async () => {
    const { store, st, flush } = await slowStudio();
    st.rationale = 'only the first';
    const a = st.label('1'); // its save has not finished…
    const b = st.label('2'); // …when the next key comes
    await flush();
    await Promise.all([a, b]);
    const [first, second] = st.session.history.map((i) => st.session.labels[i]);
    expect(first?.rationale).toBe('only the first');
    expect(second?.rationale).toBeUndefined();
  });

  it('counts saves in flight, and the page asks before a reload while one is (nothing lost)', async () => {
    const { store, st, flush } = await slowStudio();
    expect(st.pending).toBe(0);
    const a = st.label('1');
    const b = st.label('2');
    expect(st.pending).toBe(2);
    app = mount(StudioPair, { target: document.body, props: { studio: st } });
    flushSync();
    const span = document.querySelector('[data-testid="studio-saved"]') as HTMLElement;
    expect(span.dataset.pending).toBe('2');
    expect(span.textContent).toContain('saving');
    await flush();
    await Promise.all([a, b]);
    flushSync();
    expect(st.pending).toBe(0);
    expect(span.dataset.pending).toBe('0');
    expect(span.textContent).toContain('saved in this browser');
    expect((await store.load())?.history.length).toBe(2);
  });
});

describe('studio ranked list', () => {
  it('ranks with the candidate numbers best first, Backspace/U/Ctrl+Z undo, T ties the rest, S skips; saves every key; a reload restores it', async () => {
    const { client } = fakeClient();
    const store = memoryStudioStore();
    const st = new StudioState(client, store, '/');
    st.promptText = 'A\nB\nC';
    st.k = 4;
    st.attributesText = 'helpfulness';
    await st.generate();
    await st.setMode('ranked');
    app = mount(StudioRanked, { target: document.body, props: { studio: st } });
    flushSync();
    const box = document.querySelector('[data-testid="studio-ranked"]') as HTMLElement;
    expect(document.querySelectorAll('[data-testid="studio-candidate"]').length).toBe(4);
    expect(document.querySelector('[data-testid="studio-rank-legend"]')?.textContent).toMatch(/best first.*T.*S.*U.*Backspace/);
    // The keys legend names the keys of the candidates on screen (1–4 for k = 4), not always 1–9.
    expect(document.querySelector('[data-testid="studio-rank-legend"]')?.textContent).toMatch(/best first \(1–4;/);
    const order = listOrder(st.session, 0);
    const shownText = [...document.querySelectorAll('[data-testid="studio-candidate"] .text')].map((e) => e.textContent);
    expect(shownText).toEqual(order.map((c) => `A answer ${c}`));
    const saves = store.saves;
    for (const k of ['3', '1', '9']) {
      key(box, k); // 9: no such candidate, nothing happens
      await settle();
    }
    expect(st.session.rankings?.[0]).toEqual({ picks: [order[2], order[0]] });
    expect(box.dataset.picked).toBe('3,1');
    expect([...document.querySelectorAll('[data-testid="studio-place"]')].map((e) => e.textContent)).toEqual(['2nd', '1st']);
    expect(store.saves - saves).toBe(2);
    key(box, 'Backspace');
    await settle();
    expect(st.session.rankings?.[0]).toEqual({ picks: [order[2]] });
    // a score for the candidate shown as number 2, and a rationale, go with the key that ends the ranking
    const score = document.querySelectorAll('[data-testid="studio-rank-score"]')[1] as HTMLInputElement;
    score.value = '4';
    score.dispatchEvent(new Event('input', { bubbles: true }));
    const why = document.querySelector('[data-testid="studio-rationale"]') as HTMLTextAreaElement;
    why.value = 'three is clearest';
    why.dispatchEvent(new Event('input', { bubbles: true }));
    key(why, '2'); // typing in the rationale does not rank
    await settle();
    expect(st.session.rankings?.[0]?.picks.length).toBe(1);
    key(why, 'Escape');
    expect(document.activeElement).toBe(box);
    key(box, '2');
    await settle();
    key(box, '4'); // the third pick of four ends the ranking: 3 > 2 > 4 > 1 in list numbers
    await settle();
    expect(st.session.rankings?.[0]?.end).toBe('last');
    expect(st.session.rankPosition).toBe(1);
    expect(box.dataset.prompt).toBe('1');
    expect(st.rationale).toBe('');
    const recs = toTrl(st.session).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.length).toBe(6);
    expect(recs.every((r) => r.rationale === 'three is clearest' && r.labeller === 'human:anonymous')).toBe(true);
    const best = ` answer ${order[2]}`;
    expect(recs.filter((r) => r.chosen === best).length).toBe(3);
    expect(recs.find((r) => r.rejected === best)).toBeUndefined();
    expect(recs.filter((r) => r.attributes?.chosen?.helpfulness === 4 || r.attributes?.rejected?.helpfulness === 4).length).toBe(3);
    // prompt B: T ties all four; prompt C: S skips; U takes back the skip
    key(box, 't');
    await settle();
    key(box, 's');
    await settle();
    expect(rankCounts(st.session)).toEqual({ ranked: 2, skipped: 1, open: 0, inPairs: 0 });
    expect(counts(st.session)).toEqual({ preferred: 6, ties: 6, skips: 0, open: 6 });
    // nothing left to rank: the box says what to do next
    flushSync();
    expect(box.textContent).toMatch(/Every prompt is ranked or skipped: export them, score them with the scorers below, or generate candidates for more prompts\. Rank the 1 skipped/);
    key(box, 'u');
    await settle();
    expect(box.dataset.prompt).toBe('2');
    key(box, 'z', true); // and Ctrl+Z the tie of B
    await settle();
    expect(box.dataset.prompt).toBe('1');
    expect(counts(st.session).ties).toBe(0);
    expect(store.value).toEqual(st.session);

    // reload: a new state on the same store comes back in the ranked mode, on the same prompt
    const again = new StudioState(client, store, '/');
    await again.restore();
    expect(again.session).toEqual(st.session);
    expect(again.mode).toBe('ranked');
  });

  it('undo of a finished ranking puts its scores and rationale back in the fields', async () => {
    const st = new StudioState(fakeClient().client, memoryStudioStore(), '/');
    st.promptText = 'A';
    st.k = 2;
    st.attributesText = 'helpfulness';
    await st.generate();
    await st.setMode('ranked');
    const [first, second] = listOrder(st.session, 0) as [number, number];
    st.rankScores = { helpfulness: first === 0 ? [5, 2] : [2, 5] }; // 5 for the one shown first
    st.rationale = 'why';
    await st.pick(1);
    expect(st.session.rankPosition).toBeNull();
    expect(st.rationale).toBe('');
    await st.undoRank();
    expect(st.rationale).toBe('why');
    expect(st.rankScores.helpfulness?.[first]).toBe(5);
    expect(st.rankScores.helpfulness?.[second]).toBe(2);
    expect(st.session.rankings?.[0]).toBeNull();
  });

  it('the Studio view switches between pairs and the ranked list (kept in the session)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 404 })));
    try {
      const { client } = fakeClient();
      const store = memoryStudioStore();
      const st = new StudioState(client, store, '/');
      st.promptText = 'A';
      st.k = 3;
      await st.generate();
      const registry = new ModelRegistry(client, '/');
      app = mount(StudioView, { target: document.body, props: { studio: st, registry } });
      await settle();
      expect(document.querySelector('[data-testid="studio-pair"]')).not.toBeNull();
      expect(document.querySelector('[data-testid="studio-ranked"]')).toBeNull();
      (document.querySelector('[data-testid="studio-mode-ranked"]') as HTMLInputElement).click();
      await settle();
      expect(document.querySelector('[data-testid="studio-pair"]')).toBeNull();
      const box = document.querySelector('[data-testid="studio-ranked"]') as HTMLElement;
      expect(document.activeElement).toBe(box);
      expect(store.value?.mode).toBe('ranked');
      key(box, '1');
      await settle();
      expect(box.dataset.picked).toBe('1');
      (document.querySelector('[data-testid="studio-mode-pairs"]') as HTMLInputElement).click();
      await settle();
      expect(document.querySelector('[data-testid="studio-pair"]')).not.toBeNull();
      expect(st.mode).toBe('pairs');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
