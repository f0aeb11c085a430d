/**
 * Hub presets in the page (src/lib/HubPresets.svelte, src/lib/hubPresetForm.ts): the size is shown
 * before any request; an fp16 choice on WebGPU without shader-f16, or too much for WASM, is refused
 * with the reason and the choices that fit, and nothing is fetched; a loaded preset sets the run
 * form (roles, strategy, reward label) so that the run it describes is what Generate sends.
 */
import { flushSync, mount, tick, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import HubPresets from '../../src/lib/HubPresets.svelte';
import { HUB_PRESETS, formatBytes, variantBytes } from '../../src/core/hub/presets.ts';
import { applyHubPreset, type DeviceFacts } from '../../src/lib/hubPresetForm.ts';
import { ModelRegistry } from '../../src/lib/models.svelte.ts';
import { RunForm } from '../../src/lib/runForm.svelte.ts';
import type { InferenceClient } from '../../src/inference/client.ts';

const preset = (key: string) => HUB_PRESETS.find((p) => p.key === key)!;

describe('applyHubPreset', () => {
  it('EFT: policy, tuned and reference in their roles, implicit with both β = 1, side by side with the base', () => {
    const form = new RunForm();
    form.rewardLabel = 'POSITIVE';
    applyHubPreset(form, preset('smollm-eft'));
    const run = form.toRun();
    expect([run.policy, run.tuned, run.ref, run.spec.strategy]).toEqual(['HuggingFaceTB/SmolLM-360M', 'HuggingFaceTB/SmolLM-135M-Instruct', 'HuggingFaceTB/SmolLM-135M', 'implicit']);
    expect([run.spec.guidanceBeta, run.spec.beta]).toEqual([1, 1]); // s = ℓ_base + ℓ_tuned − ℓ_ref
    expect(run.spec.config.do_sample).toBe(true);
    expect(form.rewardLabel).toBe('');
    expect(form.sides()?.map((s) => s.label)).toEqual(['Base', 'Guided']);
  });

  it('best-of-N with the sentiment classifier sends its reward label; the URL keeps it', () => {
    const form = new RunForm();
    applyHubPreset(form, preset('gpt2-sst2-bon'));
    const run = form.toRun();
    expect([run.policy, run.rewardModel, run.rewardLabel, run.spec.strategy, run.spec.n]).toEqual(['Xenova/gpt2', 'Xenova/distilbert-base-uncased-finetuned-sst-2-english', 'POSITIVE-NEGATIVE', 'best_of_n', 8]);
    const again = new RunForm();
    again.fromParams(new URLSearchParams(form.toParams().toString()));
    expect(again.toRun()).toEqual(run);
    // the reward label goes only with a reward model
    form.strategy = 'greedy';
    expect(form.toRun().rewardLabel).toBeUndefined();
  });
});

describe('HubPresets component', () => {
  let m: ReturnType<typeof mount> | undefined;
  afterEach(() => {
    if (m) unmount(m);
    m = undefined;
    document.body.innerHTML = '';
    vi.unstubAllGlobals();
  });

  function setup(device: 'wasm' | 'webgpu', facts: DeviceFacts) {
    const fetch = vi.fn(async () => new Response(null, { status: 200, headers: { 'content-length': '10' } }));
    vi.stubGlobal('fetch', fetch);
    const calls: string[] = [];
    const client = { register: async () => (calls.push('register'), Promise.reject(new Error('no'))), load: async () => calls.push('load') } as unknown as InferenceClient;
    const registry = new ModelRegistry(client, '/');
    const form = new RunForm();
    m = mount(HubPresets, { target: document.body, props: { registry, form, device, facts: async () => facts } });
    flushSync();
    return { fetch, calls, form };
  }
  const card = (key: string) => document.querySelector(`[data-testid="hub-preset"][data-key="${key}"]`) as HTMLElement;
  const q = (key: string, id: string) => card(key).querySelector(`[data-testid="${id}"]`) as HTMLElement;
  async function settle() {
    for (let i = 0; i < 5; i++) {
      await tick();
      await Promise.resolve();
    }
    flushSync();
  }

  it('shows each preset with its size before anything is fetched', async () => {
    const { fetch } = setup('wasm', { deviceMemoryGb: 8, hasShaderF16: null });
    await settle();
    expect(document.querySelectorAll('[data-testid="hub-preset"]').length).toBe(HUB_PRESETS.length);
    for (const p of HUB_PRESETS) {
      expect(q(p.key, 'preset-size').textContent).toContain(`≈ ${formatBytes(variantBytes(p, p.variants[0]!))}`);
      expect(q(p.key, 'preset-fit').textContent).toMatch(/fits WASM\.$/);
    }
    expect(fetch).not.toHaveBeenCalled();
  });

  it('refuses an fp16 choice on WebGPU without shader-f16, naming what fits, and fetches nothing', async () => {
    const { fetch, calls } = setup('webgpu', { deviceMemoryGb: 8, hasShaderF16: false });
    await settle();
    const key = 'qwen-eft'; // its default is q4f16
    const refusal = q(key, 'preset-refusal');
    expect(refusal.textContent).toBe(
      'This choice uses q4f16 weights, which WebGPU can run only where the GPU offers the shader-f16 feature, and this one does not: pick q8, q4 or fp32, or switch the device to WASM above (it runs fp16 on the CPU, more slowly). Choices of this preset that fit: q8 (≈ 2.6 GB), q4 (≈ 3.4 GB).',
    );
    expect((q(key, 'preset-load') as HTMLButtonElement).disabled).toBe(true);
    // the same choice on a GPU with shader-f16 is offered
    expect(q('smollm-eft', 'preset-fit').textContent).toMatch(/fits WebGPU\.$/);
    // choosing q8 there lifts the refusal
    const sel = q(key, 'preset-variant') as HTMLSelectElement;
    sel.selectedIndex = [...sel.options].findIndex((o) => o.value === 'q8');
    sel.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(card(key).querySelector('[data-testid="preset-refusal"]')).toBeNull();
    expect((q(key, 'preset-load') as HTMLButtonElement).disabled).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
    expect(calls).toEqual([]);
  });

  it('refuses more weights than a small device has (navigator.deviceMemory)', async () => {
    setup('wasm', { deviceMemoryGb: 2, hasShaderF16: null });
    await settle();
    expect(q('qwen-eft', 'preset-refusal').textContent).toMatch(/^This device reports about 2 GB of memory \(navigator\.deviceMemory\) and this choice needs ≈ 2\.2 GB/);
    expect(q('smollm-eft', 'preset-fit').textContent).toBe('≈ 642 MB fits WASM.');
  });
});
