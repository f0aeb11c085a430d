/**
 * The generate view's "Attribute to tokens with <RM>" control (SequenceAttribution.svelte,
 * attribution.svelte.ts): it sends the worker's `attribute` request for the chosen sequence with the
 * run's prompt, the chosen reward model and label, and shows the answer as a token strip on a signed
 * scale with its total; no loaded reward model, and a worker error, are said in words.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import SequenceAttribution from '../../src/lib/SequenceAttribution.svelte';
import { AttributionState } from '../../src/lib/attribution.svelte.ts';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { AttributeRun, GenerateRun, TokenAttribution } from '../../src/inference/protocol.ts';
import type { ShownSequence } from '../../src/lib/generation.svelte.ts';

const mounted: ReturnType<typeof mount>[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) unmount(m);
  document.body.innerHTML = '';
});

function fakeClient(answer: (run: AttributeRun) => TokenAttribution) {
  const sent: AttributeRun[] = [];
  const client = {
    attribute(run: AttributeRun) {
      sent.push(run);
      return { id: sent.length, done: Promise.resolve().then(() => answer(run)) };
    },
  };
  return { client: client as unknown as InferenceClient, sent };
}

const seq = (ids: number[], text: string): ShownSequence => ({ text, result: { tokenIds: ids, score: -1, finishReason: 'length', group: 0, steps: [] } });
const run: GenerateRun = { policy: 'tiny-base', prompt: 'The movie was', rewardModel: 'rm-two-heads', rewardLabel: 'positivity=1,conciseness=0.5', spec: { strategy: 'best_of_n', n: 2, config: { max_new_tokens: 3 } } };
const sequences = [seq([5, 6, 7], ' good fun.'), seq([8, 9, 10], ' bad, sadly')];

function render(props: { attr: AttributionState; run: GenerateRun | null; sequences: readonly ShownSequence[]; loaded?: readonly string[] }): HTMLElement {
  const target = document.createElement('div');
  document.body.append(target);
  mounted.push(mount(SequenceAttribution, { target, props }));
  flushSync();
  return target;
}
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  flushSync();
};

describe('token attribution control on the generate view', () => {
  it('sends the chosen sequence, prompt, reward model and label, and renders the strip values and total', async () => {
    const { client, sent } = fakeClient((r) => ({
      rewardModel: r.rewardModel,
      ...(r.rewardLabel ? { rewardLabel: r.rewardLabel } : {}),
      values: [0.5, -0.25, 0.1],
      prefixRewards: [1, 1.5, 1.25, 1.35],
      total: 0.35,
      texts: [' bad', ',', ' sadly'],
      retokenized: false,
      truncated: false,
    }));
    const attr = new AttributionState(client);
    const el = render({ attr, run, sequences, loaded: ['tiny-rm-positive'] });
    const rm = el.querySelector<HTMLSelectElement>('[data-testid="attribution-rm"]')!;
    // The run's own reward model first, then the loaded ones; its label prefilled.
    expect([...rm.options].map((o) => o.value)).toEqual(['rm-two-heads', 'tiny-rm-positive']);
    const label = el.querySelector<HTMLInputElement>('[data-testid="attribution-label"]')!;
    expect(label.value).toBe('positivity=1,conciseness=0.5');
    label.value = 'positivity=1,conciseness=0';
    label.dispatchEvent(new Event('input', { bubbles: true }));
    const pick = el.querySelector<HTMLSelectElement>('[data-testid="attribution-sequence"]')!;
    pick.value = '1';
    pick.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    const button = el.querySelector<HTMLButtonElement>('[data-testid="attribute"]')!;
    expect(button.textContent?.trim()).toBe('Attribute to tokens with rm-two-heads');
    button.click();
    await settle();
    expect(sent).toEqual([{ policy: 'tiny-base', prompt: 'The movie was', responseIds: [8, 9, 10], rewardModel: 'rm-two-heads', rewardLabel: 'positivity=1,conciseness=0' }]);
    const toks = [...el.querySelectorAll<HTMLElement>('[data-testid="token-strip"] .tok')];
    expect(toks.map((t) => t.textContent)).toEqual([' bad', ',', ' sadly']);
    expect(toks.map((t) => Number(t.dataset.value))).toEqual([0.5, -0.25, 0.1]);
    // Signed scale: divided by the largest magnitude, so 0 stays uncoloured and signs keep their hue.
    expect(toks.map((t) => Number(t.dataset.scaled))).toEqual([1, -0.5, 0.2]);
    const total = el.querySelector<HTMLElement>('[data-testid="attribution-total"]')!;
    expect(Number(total.dataset.total)).toBe(0.35);
    expect(total.textContent).toMatch(/RM\(prompt \+ sequence\) − RM\(prompt\) = 1\.350 − 1\.000 = 0\.350/);
  });

  it('another reward model is sent when chosen; a new run hides the old strip', async () => {
    const { client, sent } = fakeClient(() => ({ rewardModel: 'tiny-rm-positive', values: [1], prefixRewards: [0, 1], total: 1, texts: [' x'], retokenized: true, truncated: false }));
    const attr = new AttributionState(client);
    const el = render({ attr, run, sequences: [sequences[0]!], loaded: ['tiny-rm-positive'] });
    const rm = el.querySelector<HTMLSelectElement>('[data-testid="attribution-rm"]')!;
    rm.value = 'tiny-rm-positive';
    rm.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(el.querySelector<HTMLInputElement>('[data-testid="attribution-label"]')!.value).toBe(''); // not the run's RM: no label
    el.querySelector<HTMLButtonElement>('[data-testid="attribute"]')!.click();
    await settle();
    expect(sent[0]).toEqual({ policy: 'tiny-base', prompt: 'The movie was', responseIds: [5, 6, 7], rewardModel: 'tiny-rm-positive' });
    expect(el.querySelector('[data-testid="attribution-total"]')!.textContent).toMatch(/re-tokenized/);
    expect(attr.result?.run).toBe(run);
    unmount(mounted.pop()!);
    const again = render({ attr, run: { ...run }, sequences, loaded: ['tiny-rm-positive'] });
    expect(again.querySelector('[data-testid="token-strip"]')).toBeNull();
  });

  it('writes a negative RM(prompt) in parentheses, not as a double minus', async () => {
    const { client } = fakeClient(() => ({ rewardModel: 'rm-two-heads', values: [0.8, 0.501], prefixRewards: [-0.251, 0.549, 1.05], total: 1.301, texts: [' best', '.'], retokenized: false, truncated: false }));
    const attr = new AttributionState(client);
    const el = render({ attr, run, sequences: [sequences[0]!] });
    el.querySelector<HTMLButtonElement>('[data-testid="attribute"]')!.click();
    await settle();
    const total = el.querySelector<HTMLElement>('[data-testid="attribution-total"]')!;
    expect(total.textContent).toMatch(/RM\(prompt\) = 1\.050 − \(−0\.251\) = 1\.301/);
    expect(total.textContent).not.toMatch(/− -/);
  });

  it('says when no reward model is loaded, and shows the worker\'s error', async () => {
    const none = render({ attr: new AttributionState(fakeClient(() => { throw new Error('unused'); }).client), run: { ...run, rewardModel: undefined, rewardLabel: undefined }, sequences });
    expect(none.querySelector('[data-testid="attribution-none"]')!.textContent).toMatch(/No sequence reward model is loaded\. Load one \(e\.g\. tiny-rm-positive\) in the Models view/);
    expect(none.querySelector('[data-testid="attribute"]')).toBeNull();
    const { client } = fakeClient(() => {
      throw new Error('rm-two-heads is a classifier with 2 labels (0: positivity, 1: conciseness); choose the reward with reward label LABEL');
    });
    const attr = new AttributionState(client);
    const el = render({ attr, run, sequences });
    el.querySelector<HTMLInputElement>('[data-testid="attribution-label"]')!.value = '';
    attr.rewardLabel = '';
    flushSync();
    el.querySelector<HTMLButtonElement>('[data-testid="attribute"]')!.click();
    await settle();
    expect(el.querySelector('[role="alert"]')!.textContent).toMatch(/2 labels \(0: positivity, 1: conciseness\)/);
    expect(el.querySelector('[data-testid="token-strip"]')).toBeNull();
  });
});
