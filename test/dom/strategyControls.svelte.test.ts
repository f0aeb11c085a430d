/**
 * Issue 12 item 7 in the form: choosing genarm or implicit shows GenARM's reference top_k 0 (the
 * form's top_k 50 used to be sent to guided sampling), choosing ARGS shows the paper's τ 0.7; a
 * value the user changed is kept. (RunForm.strategyDefaults, wired to the strategy select.)
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import StrategyControls from '../../src/lib/StrategyControls.svelte';
import { RunForm } from '../../src/lib/runForm.svelte.ts';

describe('strategy defaults in the form', () => {
  it('old: genarm/implicit sampling gets top_k 0 and sends it; ARGS gets τ 0.7; back to sample restores 50 and 1', () => {
    const form = new RunForm();
    for (const v of ['genarm', 'implicit'] as const) {
      form.strategy = v;
      form.strategyDefaults(v);
      form.doSample = true;
      expect(form.topK).toBe(0);
      expect(form.toRun().spec.config.top_k).toBe(0);
    }
    form.strategy = 'args';
    form.strategyDefaults('args');
    expect([form.topK, form.temperature]).toEqual([50, 0.7]);
    expect(form.toRun().spec.config.temperature).toBe(0.7);
    form.strategyDefaults('sample');
    expect([form.topK, form.temperature]).toEqual([50, 1]);
  });

  it('keeps values the user set', () => {
    const form = new RunForm();
    form.topK = 20;
    form.temperature = 0.9;
    form.strategyDefaults('genarm');
    form.strategyDefaults('args');
    expect([form.topK, form.temperature]).toEqual([20, 0.9]);
  });

  describe('wired to the strategy select', () => {
    let m: ReturnType<typeof mount> | undefined;
    afterEach(() => {
      if (m) unmount(m);
      document.body.innerHTML = '';
    });
    it('a change of the select applies the defaults for the chosen strategy', () => {
      const form = new RunForm();
      m = mount(StrategyControls, { target: document.body, props: { form } });
      flushSync();
      const sel = document.querySelector('[data-testid="strategy"]') as HTMLSelectElement;
      sel.selectedIndex = [...sel.options].findIndex((o) => o.value === 'genarm');
      sel.dispatchEvent(new Event('change', { bubbles: true }));
      flushSync();
      expect(form.topK).toBe(0);
    });
  });
});
