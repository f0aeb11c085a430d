/**
 * The token view's legend (TokenStream.svelte) labels each scale honestly: a diverging scale with
 * "0" in the middle only for signals with a true zero (reward advantage, the default with a reward),
 * min–max labels for log-probs; several reward sources get a readable source menu. The beam tree
 * (BeamTree.svelte) shows special tokens in a short form and the full token in its details panel,
 * with no native tooltips.
 */
import { flushSync, mount, unmount, type Component, type ComponentProps } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import TokenStream from '../../src/lib/TokenStream.svelte';
import BeamTree from '../../src/lib/BeamTree.svelte';
import type { StreamToken } from '../../src/lib/generation.svelte.ts';
import type { RowStep, StepEvent } from '../../src/core/search/events.ts';

const step = (logprob: number, rewards: Record<string, number>): RowStep => ({
  row: 0, parent: 0, group: 0, tokenId: 1, logprob, combinedLogprob: logprob + 0.5, rewards, score: 0, top: [],
});
const tok = (text: string, logprob: number, rewards: Record<string, number>): StreamToken => ({ id: 1, text, logprob, step: step(logprob, rewards), topTexts: {} });

const mounted: ReturnType<typeof mount>[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) unmount(m);
  document.body.innerHTML = '';
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function render<C extends Component<any>>(C: C, props: ComponentProps<C>): HTMLElement {
  const target = document.createElement('div');
  document.body.append(target);
  mounted.push(mount(C, { target, props }));
  flushSync();
  return target;
}

describe('token view legend', () => {
  const tokens = [
    tok(' good', -3, { 'arm:tiny-arm-positive': -1, 'arm:tiny-arm-concise': -4 }), // advantage +2
    tok(' of', -0.5, { 'arm:tiny-arm-positive': -1.5, 'arm:tiny-arm-concise': -0.5 }), // advantage −1
  ];
  it('starts on reward advantage, on a diverging scale centred on a true 0', () => {
    const el = render(TokenStream, { prompt: 'It was', tokens, weights: { 'arm:tiny-arm-positive': 1, 'arm:tiny-arm-concise': 0.5 } });
    expect(el.querySelector('[data-testid="output"]')!.getAttribute('data-signal')).toBe('advantage');
    const scale = el.querySelector('[data-testid="signal-scale"]')!;
    expect(scale.getAttribute('data-kind')).toBe('diverging');
    expect([...scale.querySelectorAll('.ticks span')].map((s) => s.textContent)).toEqual(['-2.00', '0', '+2.00']);
    expect([...el.querySelectorAll<HTMLElement>('.tok')].map((t) => Number(t.dataset.value))).toEqual([2, -1]);
    // two sources: a menu with readable names and weights
    const src = el.querySelector<HTMLSelectElement>('[data-testid="signal-source"]')!;
    expect([...src.options].map((o) => o.textContent)).toEqual(['ARM tiny-arm-positive (weight 1)', 'ARM tiny-arm-concise (weight 0.5)']);
    src.value = 'arm:tiny-arm-concise';
    src.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect([...el.querySelectorAll<HTMLElement>('.tok')].map((t) => Number(t.dataset.value))).toEqual([-1, 0]);
  });
  it('labels a log-prob scale with its min and max, never "0"', () => {
    const el = render(TokenStream, { prompt: 'It was', tokens });
    const sel = el.querySelector<HTMLSelectElement>('[data-testid="signal"]')!;
    sel.value = 'logprob';
    sel.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    const scale = el.querySelector('[data-testid="signal-scale"]')!;
    expect(scale.getAttribute('data-kind')).toBe('range');
    const ticks = [...scale.querySelectorAll('.ticks span')].map((s) => s.textContent);
    expect(ticks).toEqual(['min -3.00', 'max -0.50']);
    expect(scale.textContent).not.toMatch(/(^|\s)0(\s|$)/);
  });
  it('without a reward source offers no reward signals and starts on the base log-prob', () => {
    const el = render(TokenStream, { prompt: 'It was', tokens: [tok(' a', -1, {}), tok(' b', -2, {})] });
    const sel = el.querySelector<HTMLSelectElement>('[data-testid="signal"]')!;
    expect([...sel.options].map((o) => o.value)).toEqual(['shift', 'logprob', 'oracle']);
    expect(sel.value).toBe('logprob');
  });
});

describe('beam tree labels and details', () => {
  const row = (r: number, parent: number, tokenId: number, score: number): RowStep => ({ ...step(-1, {}), row: r, parent, tokenId, score });
  const steps: StepEvent[] = [
    { type: 'step', step: 0, rows: [row(0, 0, 5, -0.1), row(1, 0, 6, -0.5)] },
    { type: 'step', step: 1, rows: [row(0, 1, 7, -0.9), row(1, 1, 8, -1.2)], hypotheses: [{ row: 0, group: 0, tokenIds: [5, 9], score: -0.3, kind: 'finished' }] },
  ];
  const texts = { 5: ' extraordinarily', 6: ' a', 7: ' b', 8: ' c', 9: '<|endoftext|>' };
  it('shows <eos> and cut tokens on nodes, the full token in the panel, and no native tooltip', () => {
    const el = render(BeamTree, {
      steps,
      texts,
      sequences: [
        { tokenIds: [5, 9], score: -0.3, finishReason: 'eos', group: 0, steps: [] },
        { tokenIds: [6, 7], score: -0.9, finishReason: 'length', group: 0, steps: [] },
      ],
    });
    const labels = [...el.querySelectorAll('g.node text')].map((t) => t.textContent);
    expect(labels).toContain('<eos>');
    expect(labels).toContain('␣extraordina…');
    expect(el.querySelectorAll('title').length).toBe(0);
    expect(el.querySelector('svg .axis')!.textContent).toContain('step 2');
    // the first result is traced; its leaf is shown in full
    expect(el.querySelector('[data-testid="beam-token"]')!.textContent).toBe('"<|endoftext|>"');
    expect([...el.querySelectorAll('g.node.on')].map((g) => g.getAttribute('data-id'))).toEqual(['p', '0:0', '1:h0']);
    // trace the second result
    el.querySelectorAll<HTMLButtonElement>('[data-testid="trace-result"]')[1]!.click();
    flushSync();
    expect([...el.querySelectorAll('g.node.on')].map((g) => g.getAttribute('data-id'))).toEqual(['p', '0:1', '1:0']);
    // a tap on a node shows it in the panel and traces the path to it
    el.querySelector<SVGGElement>('g.node[data-id="0:0"]')!.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    flushSync();
    expect(el.querySelector('[data-testid="beam-token"]')!.textContent).toBe('" extraordinarily"');
    expect(el.querySelector('[data-testid="beam-details"]')!.textContent).toContain('Path so far:  extraordinarily');
  });
});
