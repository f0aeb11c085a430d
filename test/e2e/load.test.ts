/**
 * The built site in Debian's Chromium: load tiny-base on WASM and on WebGPU (SwiftShader), generate
 * greedily from the UI and get the same tokens as Node/PyTorch; the WebGPU KV-cache row selection
 * equals the CPU one. No request may leave localhost.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GenerateRun, ProbeResult, TokenEvent } from '../../src/inference/protocol.ts';
import '../integration/env.ts';
import { loadLanguageModel } from '../../src/inference/backends/transformers.ts';
import { decode } from '../../src/core/search/strategy.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank as rankCli } from '../../src/cli/rank.ts';
import { MODELS_DIR } from '../integration/env.ts';
import { openSession, type Session } from './browser.ts';

const golden = JSON.parse(readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8')) as Record<
  string,
  { cases: { ids: number[]; greedy: number[] }[] }
>;
const tokFixture = JSON.parse(readFileSync(new URL('../fixtures/tokenizer.json', import.meta.url), 'utf8')) as {
  cases: { text: string; ids: number[] }[];
};
const PROMPT = tokFixture.cases[0]?.text as string;
const EXPECTED = golden['tiny-base']?.cases[0]?.greedy as number[];
const PROBE_PROMPTS = tokFixture.cases.slice(0, 3).map((c) => c.text);

async function generateFromUi(s: Session, device: 'wasm' | 'webgpu'): Promise<number[]> {
  const { page } = s;
  await page.goto(`${inject('siteUrl')}?device=${device}`);
  await page.getByTestId('device').and(page.locator(`[data-device="${device}"]`)).waitFor({ timeout: 60_000 });
  await page.getByTestId('prompt').fill(PROMPT);
  await page.getByTestId('max-new-tokens').fill(String(EXPECTED.length));
  await page.getByTestId('generate').click();
  await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 180_000 });
  const ids = (await page.getByTestId('output').getAttribute('data-token-ids')) ?? '';
  return ids.split(' ').filter(Boolean).map(Number);
}

function probe(s: Session, greedyTokens: number): Promise<ProbeResult> {
  return s.page.evaluate(
    ([prompts, n]) =>
      (globalThis as unknown as { decodingLab: { client: { probe(m: string, p: string[], n: number): Promise<ProbeResult> } } }).decodingLab.client.probe(
        'tiny-base',
        prompts as string[],
        n as number,
      ),
    [PROBE_PROMPTS, greedyTokens] as const,
  );
}

describe('tiny-base in Chromium', () => {
  let wasmProbe: ProbeResult;

  describe('WASM', () => {
    let s: Session;
    beforeAll(async () => {
      s = await openSession();
    });
    afterAll(async () => s?.close());

    it('streams the same greedy tokens as PyTorch and Node', async () => {
      expect(EXPECTED.length).toBeGreaterThan(5);
      expect(await generateFromUi(s, 'wasm')).toEqual(EXPECTED);
      wasmProbe = await probe(s, EXPECTED.length);
      expect(wasmProbe.greedy).toEqual(EXPECTED);
      expect(wasmProbe.cacheGpuBuffers).toBe(0);
      expect(s.external).toEqual([]);
      expect(s.errors).toEqual([]);
    });

    it('opens the step inspector for a clicked token, with base and combined distributions for GenARM', async () => {
      const { page } = s;
      await page.getByTestId('preset').selectOption('Positivity steering with GenARM');
      await page.getByTestId('side-by').selectOption(''); // one run, its tokens in the token view
      await page.getByTestId('do-sample').uncheck(); // greedy: the chosen token is always in the top-k lists
      await page.getByTestId('generate').click();
      await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 60_000 });
      await page.locator('[data-testid="output"] .tok').nth(2).click();
      const inspector = page.getByTestId('inspector');
      await expect.poll(() => inspector.locator('h3').textContent()).toMatch(/^Step 3: /);
      expect(await inspector.locator('h4').allTextContents()).toEqual(['Base (policy)', 'ARM tiny-arm-positive (weight 1)', 'Combined (decoded from)']);
      expect(await inspector.getByTestId('chain').textContent()).toMatch(/^\s*Sampler chain, in order:\s*(repetition_penalty [\d.]+ \(on the base\)\s*→\s*)?combined score\s*→\s*argmax\s*$/); // the preset's repetition_penalty (core/lesson/flagship.ts) acts on the base before the reward is added
      expect(await inspector.locator('li.chosen').count()).toBeGreaterThanOrEqual(1);
      expect(await inspector.textContent()).toContain('ARM tiny-arm-positive (weight 1)');
      expect(await inspector.textContent()).not.toContain('arm:tiny-arm-positive'); // readable labels, not raw keys
    });

    it('samples the same tokens as Node for the same seed (seeded RNG, same engine)', async () => {
      const run: GenerateRun = {
        policy: 'tiny-base',
        prompt: PROMPT,
        spec: { strategy: 'sample', config: { max_new_tokens: 15, seed: 7, num_return_sequences: 3, temperature: 0.9, top_p: 0.95 } },
      };
      const inBrowser = await s.page.evaluate(
        (r) =>
          new Promise<number[][]>((resolve, reject) => {
            const client = (globalThis as unknown as { decodingLab: { client: { generate(r: unknown, f: (e: TokenEvent) => void): { done: Promise<void> } } } }).decodingLab.client;
            client.generate(r, ({ event }) => event.type === 'done' && resolve(event.sequences.map((q) => [...q.tokenIds]))).done.catch(reject);
          }),
        run,
      );
      const lm = await loadLanguageModel('tiny-base', { device: 'cpu' });
      let inNode: number[][] = [];
      for await (const e of decode(run.spec, { policy: lm }, lm.tokenizer.encode(PROMPT))) if (e.type === 'done') inNode = e.sequences.map((q) => [...q.tokenIds]);
      expect(inBrowser).toEqual(inNode);
      expect(new Set(inNode.map((q) => q.join(','))).size).toBeGreaterThan(1);
    });

    it('compares two strategies on the same prompt and seed with their statistics', async () => {
      const { page } = s;
      await page.getByTestId('strategy').selectOption('greedy');
      await page.getByTestId('compare-add').click();
      await page.getByTestId('preset').selectOption('Positivity steering with GenARM');
      await page.getByTestId('compare-add').click();
      await page.getByTestId('compare-run').click();
      await page.locator('[data-testid="compare-column"] dl').nth(1).waitFor({ timeout: 240_000 }); // 8 samples per sampled column
      const cols = page.getByTestId('compare-column');
      expect(await cols.count()).toBe(2);
      expect(await cols.nth(0).locator('strong').textContent()).toBe('Greedy');
      expect(await cols.nth(1).textContent()).toMatch(/KL from base/);
      // greedy runs once (deterministic: KL n/a); the sampled column runs 8 seeds with mean ± s.e.
      expect(await cols.nth(0).getByTestId('compare-n').getAttribute('data-n')).toBe('1');
      expect(await cols.nth(0).locator('[data-stat="kl"]').getAttribute('data-kl-kind')).toBe('na');
      expect(await cols.nth(0).locator('[data-stat="kl"]').textContent()).toMatch(/n\/a/);
      expect(await cols.nth(1).getByTestId('compare-n').getAttribute('data-n')).toBe('8');
      expect(await cols.nth(1).locator('[data-stat="positivity"]').textContent()).toMatch(/±/);
      expect(await cols.nth(0).locator('[data-stat="tokens"]').textContent()).toMatch(/^\s*\d+\s*$/); // an integer, not "9.0"
      expect(await page.getByTestId('compare-prompt').textContent()).toContain(await page.getByTestId('prompt').inputValue());
    });

    it('renders HTML in prompts and outputs as inert text', async () => {
      const { page } = s;
      const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
      await page.getByTestId('strategy').selectOption('greedy');
      await page.getByTestId('prompt').fill(payload);
      await page.getByTestId('max-new-tokens').fill('5');
      await page.getByTestId('generate').click();
      await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('output').locator('img, script').count()).toBe(0);
      expect(await page.getByTestId('output').textContent()).toContain(payload);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    });

    it('sweeps GenARM β and plots mean reward against KL, with clickable points', async () => {
      const { page } = s;
      await page.getByTestId('max-new-tokens').fill('8');
      await page.getByTestId('sweep-samples').fill('4');
      await page.getByTestId('sweep-run').click();
      const pts = page.locator('[data-testid="sweep-plot"] g.pt');
      await pts.nth(5).waitFor({ timeout: 60_000 });
      expect(await pts.count()).toBe(6);
      expect(await pts.first().getAttribute('aria-label')).toMatch(/^β = ∞ \(base\): positivity -?[\d.]+, KL 0\.00$/);
      await page.locator('[data-testid="sweep-plot"] g.pt circle').nth(3).click();
      expect(await page.locator('[data-testid="tradeoff"] .samples li').count()).toBe(4);
    });

    it('evaluates ranking accuracy in the worker with the same numbers as the CLI, and keeps the result across a reload', async () => {
      const { page } = s;
      await page.getByTestId('rank-scorer').selectOption('policy');
      await page.getByTestId('rank-limit').fill('60');
      await page.getByTestId('rank-run').click();
      const headline = page.getByTestId('rank-accuracy');
      await headline.waitFor({ timeout: 90_000 });
      const inBrowser = Number(await headline.getAttribute('data-accuracy'));
      const cli = await rankCli(parseArgs(['--dataset', `${MODELS_DIR}datasets/prefs-positive-test.jsonl`, '--scorer', 'policy', '--policy', 'tiny-dpo-positive', '--limit', '60']));
      expect(cli.n).toBe(60);
      expect(inBrowser).toBe(cli.accuracy);
      expect(await page.locator('[data-testid="margin-histogram"] rect').count()).toBeGreaterThan(3);
      // per-pair CSV and the histogram as PNG, made in the page
      const [csvDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-ranking-csv-pairs').click()]);
      const csvRows = readFileSync((await csvDl.path()) as string, 'utf8').trim().split('\r\n');
      // ref_* from the reference (tiny-base) for R*, policy_* the policy's own log-probs for R (Chen et al. 2024)
      expect(csvRows[0]).toBe('id,chosen,rejected,margin,correct,tie,truncated,chosen_tokens,rejected_tokens,alpha,ref_chosen,ref_rejected,policy_chosen,policy_rejected');
      expect(csvRows).toHaveLength(61);
      const [pngDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-margin-histogram-png').click()]);
      expect([...readFileSync((await pngDl.path()) as string).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      await page.reload();
      await headline.waitFor({ timeout: 30_000 });
      expect(Number(await headline.getAttribute('data-accuracy'))).toBe(inBrowser);
      await page.locator('[data-device="wasm"]').waitFor({ timeout: 60_000 });
    });

    it('runs a preset (diverse beams) from the UI and lists the returned beams', async () => {
      const { page } = s;
      await page.getByTestId('prompt').fill(PROMPT);
      await page.getByTestId('preset').selectOption('Diverse beams');
      await expect.poll(() => page.getByTestId('strategy').inputValue()).toBe('diverse_beam');
      await page.getByTestId('generate').click();
      await page.locator('[data-testid="sequences"] li').nth(3).waitFor({ timeout: 60_000 });
      expect(await page.locator('[data-testid="sequences"] li').count()).toBe(4);
      // the beam tree: the prompt, 4 rows per step, finished hypotheses, the returned #1 path marked
      expect(await page.locator('[data-testid="beam-tree"] g.node').count()).toBeGreaterThan(12);
      expect(await page.locator('[data-testid="beam-tree"] g.node.finished').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('[data-testid="beam-tree"] path.edge.on').count()).toBeGreaterThanOrEqual(3);
      expect(s.external).toEqual([]);
    });
  });

  describe('WebGPU (SwiftShader)', () => {
    let s: Session;
    beforeAll(async () => {
      s = await openSession({ webgpu: true });
    });
    afterAll(async () => s?.close());

    it('streams the same greedy tokens, and selects cache rows on the GPU like the CPU does', async () => {
      expect(await generateFromUi(s, 'webgpu')).toEqual(EXPECTED);
      const gpu = await probe(s, 0);
      expect(gpu.cacheGpuBuffers).toBe(8); // 4 layers × key/value, gathered on the GPU
      expect(gpu.selectRows).toEqual(wasmProbe.selectRows);
      gpu.selectTop.forEach((row, i) => {
        const cpu = wasmProbe.selectTop[i] ?? [];
        expect(row.map((e) => e.tokenId)).toEqual(cpu.map((e) => e.tokenId));
        row.forEach((e, j) => expect(Math.abs(e.value - (cpu[j]?.value ?? NaN))).toBeLessThan(1e-3));
      });
      expect(s.external).toEqual([]);
    });
  });
});
