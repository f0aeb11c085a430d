/**
 * Faults and resources on WebGPU in Chromium (SwiftShader), issue 7:
 * - repeated generations (beam with 4 beams and GenARM, alternating) leave the adapter's live GPU
 *   buffers at their baseline after every run and the page's JS heap flat;
 * - a WebGPU device lost mid-run (simulated: `decodingLab.client.loseDevice()` destroys ORT's device)
 *   fails the run with a clear message in the UI, the device line switches to WASM, and the next
 *   run generates on WASM.
 * SwiftShader runs WebGPU on the CPU (~6 tokens/s here), so this file does 40 short runs in about a
 * minute; the 200-run version of the leak check runs in Node (test/integration/leak.test.ts), where
 * the same adapter code counts the same caches, only not on a GPU.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CDPSession } from 'playwright-core';
import type { DebugResources, GenerateRun, TokenEvent } from '../../src/inference/protocol.ts';
import { openSession, type Session } from './browser.ts';

const PROMPT = 'The state of the Union is';

interface PageClient {
  generate(r: GenerateRun, f: (e: TokenEvent) => void): { done: Promise<void> };
  resources(): Promise<DebugResources>;
  loseDevice(): Promise<unknown>;
  load(id: string): Promise<unknown>;
}

/** One generation in the page through the client; `mid` is the resource count after the first step. */
function generateInPage(s: Session, run: GenerateRun): Promise<{ tokens: number; mid: DebugResources | null; after: DebugResources }> {
  return s.page.evaluate(async (r) => {
    const client = (globalThis as unknown as { decodingLab: { client: PageClient } }).decodingLab.client;
    let mid: Promise<DebugResources> | null = null;
    let tokens = 0;
    await client.generate(r, ({ event }) => {
      if (event.type === 'step') mid ??= client.resources();
      else if (event.type === 'done') tokens = event.sequences.reduce((n, q) => n + q.tokenIds.length, 0);
    }).done;
    return { tokens, mid: mid ? await mid : null, after: await client.resources() };
  }, run);
}

async function heapUsed(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('WebGPU faults and resources (SwiftShader)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession({ webgpu: true });
    await s.page.goto(`${inject('siteUrl')}?device=webgpu`);
    await s.page.getByTestId('device').and(s.page.locator('[data-device="webgpu"]')).waitFor({ timeout: 60_000 });
  });
  afterAll(async () => s?.close());

  it('up to 40 generations (beam 4 and GenARM, alternating): live GPU buffers back to baseline after each, page heap flat', async () => {
    const beam: GenerateRun = { policy: 'tiny-base', prompt: PROMPT, spec: { strategy: 'beam', config: { num_beams: 4, max_new_tokens: 2 } } };
    const genarm: GenerateRun = { policy: 'tiny-base', prompt: PROMPT, arms: ['tiny-arm-positive'], spec: { strategy: 'genarm', config: { max_new_tokens: 2 }, beta: 0.5 } };
    // warm-up: loads both models on WebGPU; the caches really live on the GPU while a run goes on
    const warm = await generateInPage(s, beam);
    expect(warm.mid?.gpuBuffers ?? 0).toBeGreaterThan(0);
    await generateInPage(s, genarm);
    const baseline = await s.page.evaluate(() => (globalThis as unknown as { decodingLab: { client: PageClient } }).decodingLab.client.resources());
    expect(baseline).toEqual({ caches: 0, gpuBuffers: 0 });
    const cdp = await s.page.context().newCDPSession(s.page);
    await cdp.send('Performance.enable');
    const heap: number[] = [];
    const t0 = Date.now();
    // As many runs as fit in ~60 s (at least 12, at most 40): SwiftShader's speed depends on the machine.
    for (let i = 0; i < 40 && (i < 12 || Date.now() - t0 < 60_000); i++) {
      const r = await generateInPage(s, i % 2 ? genarm : beam);
      expect(r.tokens).toBeGreaterThan(0);
      expect(r.after).toEqual(baseline);
      heap.push(await heapUsed(cdp));
    }
    const n = heap.length;
    const w = Math.floor(n / 4);
    const early = median(heap.slice(0, w));
    const late = median(heap.slice(n - w));
    console.log(`${n} WebGPU runs in ${((Date.now() - t0) / 1000).toFixed(1)} s; page heap median ${(early / 2 ** 20).toFixed(2)} → ${(late / 2 ** 20).toFixed(2)} MB`);
    // Medians of the first and last quarter of the runs, each after a forced collection. The page
    // keeps nothing per run here (the client drops finished requests); 2 MB is far below what the
    // runs' retained events would take, and well above GC noise.
    expect(late - early).toBeLessThan(2 * 2 ** 20);
    expect(s.errors).toEqual([]);
  });

  it('a device lost mid-run: the UI shows the message, the device line says WASM, and the next run generates on WASM', async () => {
    const { page } = s;
    await page.getByTestId('strategy').selectOption('greedy');
    await page.getByTestId('prompt').fill(PROMPT);
    await page.getByTestId('max-new-tokens').fill('40');
    await page.getByTestId('generate').click();
    await page.locator('[data-testid="output"] .tok').nth(1).waitFor({ timeout: 120_000 }); // mid-run
    await page.evaluate(() => (globalThis as unknown as { decodingLab: { client: PageClient } }).decodingLab.client.loseDevice());
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: 120_000 });
    expect(await error.textContent()).toMatch(/^The GPU device was lost \(.+\)\. The models were reloaded on WASM; run again\.$/);
    await page.getByTestId('device').and(page.locator('[data-device="wasm"]')).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('device').textContent()).toMatch(/GPU device was lost/);
    const partial = ((await page.getByTestId('output').getAttribute('data-token-ids')) ?? '').split(' ').filter(Boolean);
    expect(partial.length).toBeLessThan(40); // stopped mid-run
    // run again: tokens on WASM, no error
    await page.getByTestId('max-new-tokens').fill('5');
    await page.getByTestId('generate').click();
    await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 120_000 });
    const ids = ((await page.getByTestId('output').getAttribute('data-token-ids')) ?? '').split(' ').filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    expect(await page.getByTestId('error').count()).toBe(0);
    const res = await page.evaluate(() => (globalThis as unknown as { decodingLab: { client: PageClient } }).decodingLab.client.resources());
    expect(res.gpuBuffers).toBe(0);
    expect(s.external).toEqual([]);
  });
});
