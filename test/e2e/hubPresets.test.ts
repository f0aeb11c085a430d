/**
 * Hub presets end to end in Chromium (WASM), against a local fake hub (`?hfHost=`) that serves the
 * hub-shaped fixtures of test/fixtures/hub under each preset's real ids (same file names and
 * layout; tiny random weights). For every preset: the download size is shown before any request,
 * the sizes are confirmed by HEAD before the first GET, the models load with progress, the run form
 * is set (policy, roles, strategy, reward label), and "Run it" produces tokens. The real downloads
 * are untested (no network here). The shader-f16 refusal is in test/dom/hubPresets.svelte.test.ts.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HUB_PRESETS, formatBytes, presetFiles, variantBytes, type HubPreset, type PresetVariant } from '../../src/core/hub/presets.ts';
import { onnxFileFor } from '../../src/inference/sources.ts';
import { openSession, type Session } from './browser.ts';
import { serveFakeHub, type FakeHub } from './fakeHub.ts';

const HUB = fileURLToPath(new URL('../fixtures/hub/', import.meta.url));

/** The fixture of the same shape for each preset model: GPT-2 LM, Llama-style LM (SmolLM, Qwen2.5), BERT classifier. */
function fixtureFor(m: HubPreset['models'][number]): string {
  if (m.kind === 'sequence-classifier') return path.join(HUB, 'bert-classifier');
  return path.join(HUB, m.tokenizer.startsWith('gpt2') ? 'gpt2-lm' : 'llama-style');
}
const FOLDERS = Object.fromEntries(HUB_PRESETS.flatMap((p) => p.models.map((m) => [m.id, fixtureFor(m)])));
const has = (m: HubPreset['models'][number], dtype: string) => statSync(path.join(fixtureFor(m), onnxFileFor(dtype)), { throwIfNoEntry: false })?.isFile() ?? false;
/** The first choice of a preset whose ONNX files the fixtures have. */
const servable = (p: HubPreset): PresetVariant => p.variants.find((v) => p.models.every((m) => has(m, v.dtypes[m.id] as string))) as PresetVariant;
/** What the fake hub's Content-Length adds up to for a choice (a missing generation_config.json counts 0). */
const fixtureBytes = (p: HubPreset, v: PresetVariant) =>
  p.models.reduce((s, m) => s + presetFiles(m, v.dtypes[m.id] as string).reduce((t, f) => t + (statSync(path.join(fixtureFor(m), f), { throwIfNoEntry: false })?.size ?? 0), 0), 0);

describe('hub presets against a fake hub (WASM)', () => {
  let s: Session;
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await serveFakeHub(FOLDERS);
    s = await openSession();
    await s.page.goto(`${inject('siteUrl')}?device=wasm&hfHost=${encodeURIComponent(hub.url)}`);
    await s.page.getByTestId('device').and(s.page.locator('[data-device="wasm"]')).waitFor({ timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await hub?.close();
  });

  it('every preset shows its size, loads with progress, sets the form and runs', async () => {
    const { page } = s;
    expect(HUB_PRESETS.every((p) => servable(p))).toBe(true);
    const cards = page.getByTestId('hub-preset');
    expect(await cards.count()).toBe(HUB_PRESETS.length);

    // A choice whose ONNX file the host lacks is stopped by the HEAD check, before any download.
    const smol = HUB_PRESETS[0] as HubPreset;
    const first = cards.and(page.locator(`[data-key="${smol.key}"]`));
    expect(await first.getByTestId('preset-variant').inputValue()).toBe(smol.variants[0]?.name);
    await first.getByTestId('preset-load').click();
    await first.getByTestId('preset-refusal').waitFor({ timeout: 30_000 });
    expect(await first.getByTestId('preset-refusal').textContent()).toBe(
      `${smol.models[0]?.id} has no onnx/model_quantized.onnx on ${hub.url} (HTTP 404): this preset's q8 choice cannot load from there; pick another dtype.`,
    );
    expect(hub.requests.filter((r) => r.startsWith('GET'))).toEqual([]);

    for (const p of HUB_PRESETS) {
      const v = servable(p);
      const card = cards.and(page.locator(`[data-key="${p.key}"]`));
      await card.getByTestId('preset-variant').selectOption(v.name);
      const before = hub.requests.length;
      // the size before anything is fetched
      expect(await card.getByTestId('preset-size').textContent()).toContain(`≈ ${formatBytes(variantBytes(p, v))}`);
      expect(await card.getByTestId('preset-load').textContent()).toBe(`Download ≈ ${formatBytes(variantBytes(p, v))} and load`);
      expect(hub.requests.length).toBe(before);
      const fresh = p.models.some((m) => !hub.requests.includes(`GET /${m.id}/resolve/main/${onnxFileFor(v.dtypes[m.id] as string)}`));
      const progress = fresh ? card.getByTestId('preset-progress').waitFor({ timeout: 30_000 }) : Promise.resolve();
      await card.getByTestId('preset-load').click();
      await progress;
      await card.and(page.locator('[data-phase="loaded"]')).waitFor({ timeout: 60_000 });
      // confirmed by HEAD, each HEAD before the file's GET
      expect(Number(await card.getByTestId('preset-confirmed').getAttribute('data-bytes'))).toBe(fixtureBytes(p, v));
      for (const m of p.models) {
        const onnx = `/${m.id}/resolve/main/${onnxFileFor(v.dtypes[m.id] as string)}`;
        const head = hub.requests.indexOf(`HEAD ${onnx}`, before);
        expect([p.key, head]).not.toEqual([p.key, -1]);
        if (fresh) expect(hub.requests.indexOf(`GET ${onnx}`, before)).toBeGreaterThan(head);
      }
      // the form it set
      const role = (r: string) => p.models.find((m) => m.role === r)?.id;
      expect(await page.getByTestId('model').inputValue()).toBe(role('policy'));
      expect(await page.getByTestId('strategy').inputValue()).toBe(p.strategy);
      if (role('tuned')) expect([await page.getByTestId('tuned').inputValue(), await page.getByTestId('ref').inputValue()]).toEqual([role('tuned'), role('ref')]);
      if (role('reward')) expect([await page.getByTestId('reward-model').inputValue(), await page.getByTestId('reward-label').inputValue()]).toEqual([role('reward'), p.form.rewardLabel]);
      expect(await page.getByTestId('max-new-tokens').inputValue()).toBe(String(p.form.maxNewTokens));
      // the fixtures hold 64 positions: fewer new tokens than the preset's, to stay inside them and fast
      await page.getByTestId('max-new-tokens').fill('4');
      await card.getByTestId('preset-run').click();
      await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 60_000 });
      expect([p.key, await page.getByTestId('error').count()]).toEqual([p.key, 0]);
      const ids = await page.locator('[data-testid="output-panel"] [data-token-ids]').evaluateAll((els) => els.map((e) => e.getAttribute('data-token-ids') ?? ''));
      expect([p.key, ids.length > 0 && ids.every((x) => x.trim().split(' ').length >= 1 && x.trim() !== '')]).toEqual([p.key, true]);
    }
    expect(s.external).toEqual([]);
    // the only console errors are the browser's lines for the hub's 404s (the missing q8 files, probes for optional files)
    expect(s.errors.filter((e) => !/the server responded with a status of 404/.test(e))).toEqual([]);
    expect(s.errors.length).toBeLessThanOrEqual(hub.missing.length);
    expect(hub.missing.filter((r) => !/\.onnx_data$|generation_config\.json$/.test(r)).sort()).toEqual(smol.models.map((m) => `HEAD /${m.id}/resolve/main/onnx/model_quantized.onnx`).sort());
  }, 240_000);
});
