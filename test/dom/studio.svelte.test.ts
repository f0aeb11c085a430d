/**
 * The studio's pair box (src/lib/StudioPair.svelte) driven by keys only, on an in-memory store: every
 * key is saved as it is pressed, a "reload" (a new state on the same store) restores the same
 * session, keys in the rationale type text, and Escape returns to the keys. The fake client answers
 * generate with k candidates per prompt.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { CandidatesRun } from '../../src/inference/protocol.ts';
import StudioPair from '../../src/lib/StudioPair.svelte';
import { StudioState, scorersOf } from '../../src/lib/studio.svelte.ts';
import { memoryStudioStore } from '../../src/lib/studioStore.ts';
import { counts } from '../../src/core/studio/session.ts';

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

describe('keys pressed faster than the store saves', () => {
  it('give the rationale to the pair it was typed for only', async () => {
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
