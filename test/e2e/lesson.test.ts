/**
 * Issue 11, "The lesson lands", in Debian's Chromium on the built site:
 * - the flagship preset's first run ("Run the positivity lesson") shows base and guided samples side
 *   by side, same prompt and seeds, each with its oracle positivity, and the means; the samples are
 *   the ones Node decodes for the same runs;
 * - rejection sampling shows the accepted sample(s), equal to the JSON export, with the count;
 * - Auto with --enable-unsafe-webgpu (SwiftShader is a fallback adapter) selects WASM and says why,
 *   while an explicit WebGPU choice still uses it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../integration/env.ts';
import { FLAGSHIP } from '../../src/core/lesson/flagship.ts';
import { positivity } from '../../src/core/reward/oracle.ts';
import { decode } from '../../src/core/search/strategy.ts';
import { loadLanguageModel, loadSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import type { GenerateRun } from '../../src/inference/protocol.ts';
import { openSession, type Session } from './browser.ts';

const DONE = '[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])';

describe('the lesson lands (WASM)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession();
    await s.page.setViewportSize({ width: 1280, height: 800 });
    await s.page.goto(`${inject('siteUrl')}?device=wasm`);
    await s.page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 60_000 });
  });
  afterAll(async () => {
    expect(s.external).toEqual([]);
    await s?.close();
  });

  it('the flagship preset’s first run shows base and guided samples side by side with their oracle scores', async () => {
    const { page } = s;
    await expect.poll(() => page.getByTestId('start-here').textContent()).toMatch(/Start here/);
    await page.getByTestId('start-lesson').click();
    await page.locator(DONE).waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('preset').inputValue()).toBe('Positivity steering with GenARM'); // the menu stays on it
    const sides = page.getByTestId('side');
    expect(await sides.evaluateAll((els) => els.map((e) => e.getAttribute('data-label')))).toEqual(['Base', 'Guided']);
    // side by side at 1280 px: the two columns share a row, and the output is in view after the run
    const [a, b] = await sides.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    expect(Math.abs(a!.top - b!.top)).toBeLessThan(2);
    expect(b!.left).toBeGreaterThan(a!.right - 1);
    expect(a!.top).toBeLessThan(800);
    expect(a!.top).toBeGreaterThanOrEqual(0);
    const seeds = Array.from({ length: FLAGSHIP.samples }, (_, i) => FLAGSHIP.seed + i);
    const shown: { text: string; positivity: number; seed: number; ids: number[] }[][] = [];
    for (let k = 0; k < 2; k++) {
      const items = sides.nth(k).getByTestId('side-sample');
      const rows = await items.evaluateAll((els) =>
        els.map((e) => ({ text: e.querySelector('.text')?.textContent ?? '', positivity: Number(e.getAttribute('data-positivity')), seed: Number(e.getAttribute('data-seed')), ids: (e.getAttribute('data-token-ids') ?? '').split(' ').filter(Boolean).map(Number) })),
      );
      expect(rows.map((r) => r.seed)).toEqual(seeds);
      // each score is the oracle's on the text shown, and the side's mean is their mean
      for (const r of rows) expect(r.positivity).toBe(positivity(r.text));
      const mean = Number(await sides.nth(k).getByTestId('side-mean').getAttribute('data-mean'));
      expect(mean).toBeCloseTo(rows.reduce((x, r) => x + r.positivity, 0) / rows.length, 9);
      expect(await sides.nth(k).getByTestId('side-mean').textContent()).toMatch(/positivity .*(±|\d)/);
      shown.push(rows);
    }
    expect(await page.getByTestId('side-by-side').textContent()).toMatch(/Oracle positivity = the sum of the AFINN-111 valences/);
    expect(await page.getByTestId('side-diff').getAttribute('data-diff')).not.toBeNull();
    // the samples are the engine's: seed 0 of each side decoded in Node gives the same tokens
    const policy = await loadLanguageModel(FLAGSHIP.policy, { device: 'cpu' });
    const arm = await loadLanguageModel(FLAGSHIP.arm, { device: 'cpu' });
    const prompt = policy.tokenizer.encode(FLAGSHIP.prompt);
    const config = { max_new_tokens: FLAGSHIP.max_new_tokens, seed: FLAGSHIP.seed, temperature: FLAGSHIP.temperature, top_k: FLAGSHIP.top_k, top_p: FLAGSHIP.top_p, repetition_penalty: FLAGSHIP.repetition_penalty };
    const first = async (spec: Parameters<typeof decode>[0], arms: (typeof arm)[]) => {
      for await (const e of decode(spec, { policy, arms }, prompt)) if (e.type === 'done') return [...(e.sequences[0]?.tokenIds ?? [])];
      return [];
    };
    expect(shown[0]![0]!.ids).toEqual(await first({ strategy: 'sample', config: { ...config, num_return_sequences: 1 } }, []));
    expect(shown[1]![0]!.ids).toEqual(await first({ strategy: 'genarm', config: { ...config, do_sample: true }, beta: FLAGSHIP.beta, armWeights: [1] }, [arm]));
    expect(s.errors).toEqual([]);
  });

  it('rejection sampling shows the accepted sample, equal to the JSON export, with the acceptance count', async () => {
    const { page } = s;
    await page.getByTestId('preset').selectOption('');
    await page.getByTestId('strategy').selectOption('rejection');
    await page.getByTestId('side-by').selectOption(''); // the lesson left 'side by side with the base' on: one run
    await page.getByTestId('max-new-tokens').fill('12');
    await page.getByTestId('generate').click();
    // (the status of the lesson run before is idle too: wait for this run's result)
    await page.getByTestId('sequences-caption').waitFor({ timeout: 240_000 });
    await page.locator(DONE).waitFor({ timeout: 30_000 });
    const caption = page.getByTestId('sequences-caption');
    expect(await caption.textContent()).toMatch(/Accepted 1 of 8 candidates/);
    expect(await page.getByTestId('status').textContent()).toMatch(/accepted 1 of 8 candidates/);
    const items = page.locator('[data-testid="sequences"] > li');
    expect(await items.count()).toBe(1);
    const ids = (await items.first().getAttribute('data-token-ids'))!.split(' ').filter(Boolean).map(Number);
    expect(await items.first().textContent()).toMatch(/reward-model score \(tiny-rm-positive\) -?\d/);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-generation-json').click()]);
    const json = JSON.parse(readFileSync((await dl.path()) as string, 'utf8')) as { strategy: string; sequences: { token_ids: number[]; text: string; reward: number }[]; run: GenerateRun };
    expect(json.strategy).toBe('rejection');
    expect(json.sequences).toHaveLength(1);
    expect(json.sequences[0]!.token_ids).toEqual(ids);
    expect(await items.first().locator('p').first().textContent()).toContain(json.sequences[0]!.text);
    // and the engine's accepted sample for the same request
    const run = json.run;
    const policy = await loadLanguageModel(run.policy, { device: 'cpu' });
    const rewardModel = await loadSequenceRewardModel(run.rewardModel!, { device: 'cpu' });
    let accepted: number[] = [];
    for await (const e of decode(run.spec, { policy, rewardModel }, policy.tokenizer.encode(run.prompt))) if (e.type === 'done') accepted = [...(e.sequences[0]?.tokenIds ?? [])];
    expect(ids).toEqual(accepted);
  });
});

describe('Auto on a software WebGPU adapter (SwiftShader)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession({ webgpu: true });
  });
  afterAll(async () => s?.close());

  it('Auto selects WASM and says why; an explicit WebGPU choice still uses the adapter', async () => {
    const { page } = s;
    await page.goto(`${inject('siteUrl')}?device=auto`);
    const fallback = await page.evaluate(async () => {
      const a = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> } }).gpu?.requestAdapter();
      return a?.info?.isFallbackAdapter ?? null;
    });
    expect(fallback, 'this Chromium exposes SwiftShader as a fallback adapter').toBe(true);
    await page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('device').textContent()).toMatch(/Auto: the only WebGPU adapter is a software fallback \(.*swiftshader.*\).*slower than WASM/);
    await page.goto(`${inject('siteUrl')}?device=webgpu`);
    await page.locator('[data-testid="device"][data-device="webgpu"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('device').textContent()).toMatch(/WebGPU chosen by the user, on a software fallback adapter/);
  });
});
