/**
 * The ⓘ component (src/lib/Info.svelte) and the glossary (src/lib/glossary.ts): every term the
 * issue lists has one sentence; the button toggles the panel with aria-expanded, closes on Escape
 * and on a click elsewhere, and only one panel is open at a time.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Info from '../../src/lib/Info.svelte';
import StrategyControls from '../../src/lib/StrategyControls.svelte';
import { RunForm } from '../../src/lib/runForm.svelte.ts';
import { GLOSSARY, rewardSourceLabel } from '../../src/lib/glossary.ts';

const REQUIRED = [
  'arm', 'beta', 'rso_beta', 'do_sample', 'top_k', 'top_p', 'min_p', 'temperature', 'repetition_penalty', 'num_beams',
  'diversity_penalty', 'distinct2', 'kl', 'oracle_positivity', 'oracle_conciseness', 'guidance_shift', 'token_reward',
  'reward_advantage', 'beam_score', 'best_of_n_score',
] as const;

describe('glossary', () => {
  it('has one sentence for every term the page uses', () => {
    for (const k of REQUIRED) {
      const e = GLOSSARY[k];
      expect(e.text.length, k).toBeGreaterThan(20);
      // one sentence: a single full stop, at the end (abbreviations like "et al." aside)
      expect(e.text.replace(/et al\./g, 'et al').replace(/\.$/, ''), k).not.toMatch(/\.\s/);
    }
    expect(GLOSSARY.top_k.text).toMatch(/top_k = 0/);
    expect(GLOSSARY.oracle_positivity.text).toMatch(/AFINN-111/);
    expect(GLOSSARY.oracle_conciseness.text).toMatch(/−0\.25/);
  });
  it('gives reward-source keys readable labels', () => {
    expect(rewardSourceLabel('arm:tiny-arm-positive', 1)).toBe('ARM tiny-arm-positive (weight 1)');
    expect(rewardSourceLabel('arm:tiny-arm-concise')).toBe('ARM tiny-arm-concise');
    expect(rewardSourceLabel('implicit:tiny-dpo-positive')).toBe('Implicit reward of tiny-dpo-positive');
    expect(rewardSourceLabel('other')).toBe('other');
  });
});

describe('Info', () => {
  const mounted: ReturnType<typeof mount>[] = [];
  afterEach(() => {
    for (const m of mounted.splice(0)) unmount(m);
    document.body.innerHTML = '';
  });

  it('toggles a one-sentence panel from a real button, closes on Escape and outside clicks', () => {
    const target = document.createElement('div');
    document.body.append(target);
    mounted.push(mount(Info, { target, props: { term: 'beta' } }));
    flushSync();
    const button = target.querySelector('button')!;
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(button.getAttribute('aria-label')).toBe('What is guidance β (KL coefficient)?');
    expect(document.querySelector('[data-testid="info-panel"]')).toBeNull();

    button.click();
    flushSync();
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const panel = document.querySelector('[data-testid="info-panel"]')!;
    expect(panel.id).toBe(button.getAttribute('aria-controls'));
    expect(panel.textContent).toContain(GLOSSARY.beta.text);
    expect(panel.textContent).toContain(GLOSSARY.beta.formula);

    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    flushSync();
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(document.querySelector('[data-testid="info-panel"]')).toBeNull();

    button.click();
    flushSync();
    expect(document.querySelector('[data-testid="info-panel"]')).not.toBeNull();
    document.body.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
    flushSync();
    expect(document.querySelector('[data-testid="info-panel"]')).toBeNull();
  });

  it('keeps one panel open at a time and accepts free text', () => {
    const a = document.createElement('div');
    const b = document.createElement('div');
    document.body.append(a, b);
    mounted.push(mount(Info, { target: a, props: { term: 'kl' } }));
    mounted.push(mount(Info, { target: b, props: { title: 'R*', text: 'The best reachable reward.' } }));
    flushSync();
    a.querySelector('button')!.click();
    flushSync();
    b.querySelector('button')!.click();
    flushSync();
    const panels = document.querySelectorAll('[data-testid="info-panel"]');
    expect(panels.length).toBe(1);
    expect(panels[0]!.textContent).toContain('The best reachable reward.');
    expect(a.querySelector('button')!.getAttribute('aria-expanded')).toBe('false');
  });

  it('does not activate the labelled control when it sits inside a label', () => {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    label.append(box);
    const slot = document.createElement('span');
    label.append(slot);
    document.body.append(label);
    mounted.push(mount(Info, { target: slot, props: { term: 'do_sample' } }));
    flushSync();
    slot.querySelector('button')!.click();
    flushSync();
    expect(box.checked).toBe(false);
  });

  it('sits next to each term of the Generate form without joining the control\'s label', () => {
    const target = document.createElement('div');
    document.body.append(target);
    const form = new RunForm();
    form.strategy = 'genarm';
    form.doSample = true;
    mounted.push(mount(StrategyControls, { target, props: { form } }));
    flushSync();
    const terms = [...target.querySelectorAll('[data-testid="info"]')].map((b) => b.getAttribute('data-term'));
    expect(terms).toEqual(expect.arrayContaining(['temperature', 'top_k', 'top_p', 'do_sample', 'beta', 'arm_weight', 'max_new_tokens']));
    // each labelled control is named by its term alone: the label's text, not the ⓘ button
    const named = (testid: string) => {
      const input = target.querySelector<HTMLInputElement>(`[data-testid="${testid}"]`)!;
      const label = target.querySelector<HTMLLabelElement>(`label[for="${input.id}"]`);
      return label?.textContent?.trim();
    };
    expect(named('max-new-tokens')).toBe('max_new_tokens');
    expect(named('beta')).toBe('guidance β (smaller = stronger)');
    expect(named('arm-positive')).toBe('weight: ARM tiny-arm-positive');
    for (const l of target.querySelectorAll('label')) expect(l.querySelector('[data-testid="info"]')).toBeNull();
  });
});
