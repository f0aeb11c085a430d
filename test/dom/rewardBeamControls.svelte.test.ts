/**
 * Reward-guided beam search in the page (issue 14 item 1): the beam strategy's controls offer a
 * sequence reward model with w, k and c when one is available, and the run carries them; the beam
 * tree shows the RM score at the nodes it scored (a marker and the details panel).
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import StrategyControls from '../../src/lib/StrategyControls.svelte';
import BeamTree from '../../src/lib/BeamTree.svelte';
import { RunForm } from '../../src/lib/runForm.svelte.ts';
import type { ModelRegistry } from '../../src/lib/models.svelte.ts';
import type { StepEvent } from '../../src/core/search/events.ts';

let m: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (m) unmount(m);
  m = undefined;
  document.body.innerHTML = '';
});
const q = (id: string) => document.querySelector(`[data-testid="${id}"]`);
const registry = (rms: string[]) => ({ causalLms: [{ id: 'tiny-base' }], rewardModels: rms.map((id) => ({ id })) }) as unknown as ModelRegistry;

describe('beam strategy controls: a sequence reward model, w, k, c', () => {
  it('choosing a reward model shows w, k and c, and the run guides the beams with them', () => {
    const form = new RunForm();
    form.strategy = 'beam';
    m = mount(StrategyControls, { target: document.body, props: { form, registry: registry(['tiny-rm-positive', 'my-rm']) } });
    flushSync();
    const sel = q('beam-reward-model') as HTMLSelectElement;
    expect([...sel.options].map((o) => o.value)).toEqual(['', 'tiny-rm-positive', 'my-rm']);
    expect(q('reward-weight')).toBeNull();
    expect(form.toRun().rewardModel).toBeUndefined();
    sel.value = 'my-rm';
    sel.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(form.beamRewardModel).toBe('my-rm');
    const w = q('reward-weight') as HTMLInputElement;
    const k = q('rescore-every') as HTMLInputElement;
    const c = q('rm-candidates') as HTMLInputElement;
    for (const [el, v] of [[w, '2.5'], [k, '0'], [c, '3']] as const) {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
    flushSync();
    const run = form.toRun();
    expect(run.rewardModel).toBe('my-rm');
    expect([run.spec.rewardWeight, run.spec.rescoreEvery, run.spec.rmCandidates]).toEqual([2.5, 0, 3]);
    // A URL reproduces it.
    const again = new RunForm();
    again.fromParams(form.toParams());
    expect(again.toRun()).toEqual(run);
  });

  it('no reward model available, or another strategy: no guided-beam controls, no reward fields in the run', () => {
    const form = new RunForm();
    form.strategy = 'beam';
    form.beamRewardModel = 'tiny-rm-positive';
    m = mount(StrategyControls, { target: document.body, props: { form, registry: registry([]) } });
    flushSync();
    expect(q('beam-reward-model')).toBeNull();
    form.strategy = 'diverse_beam';
    const run = form.toRun();
    expect(run.rewardModel).toBeUndefined();
    expect(run.spec.rewardWeight).toBeUndefined();
  });
});

describe('beam tree: the reward model score at scored nodes', () => {
  const row = (over: Partial<StepEvent['rows'][number]>) => ({ row: 0, parent: 0, group: 0, tokenId: 2, logprob: -0.5, combinedLogprob: -0.5, rewards: {}, score: -0.5, top: [], ...over });
  it('a marker on the scored nodes only, and the value in the details panel', () => {
    const steps: StepEvent[] = [
      { type: 'step', step: 0, rows: [row({ tokenId: 2 }), row({ row: 1, tokenId: 3, score: -1 })] },
      { type: 'step', step: 1, rows: [row({ tokenId: 2, rewards: { 'sequence:tiny-rm-positive': 1.234 }, score: -1 })], hypotheses: [{ row: 1, group: 0, tokenIds: [3, 0], score: -0.9, kind: 'finished', reward: -0.25 }] },
    ];
    m = mount(BeamTree, { target: document.body, props: { steps, texts: { 0: '<eos>', 2: ' good', 3: ' bad' } } });
    flushSync();
    const marked = [...document.querySelectorAll('[data-testid="rm-marker"]')].map((c) => c.closest('g.node')?.getAttribute('data-id'));
    expect(marked).toEqual(['1:0', '1:h0']);
    const node = document.querySelector('g.node[data-id="1:0"]') as SVGGElement;
    expect(node.getAttribute('aria-label')).toContain('reward model 1.234');
    node.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    flushSync();
    expect(q('beam-rm')?.textContent).toContain('1.234');
  });
});
