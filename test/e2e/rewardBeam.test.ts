/**
 * Reward-guided beam search in the page (issue 14 item 1), Chromium on WASM: the beam strategy's
 * reward model select, w and k drive the run; the returned beams equal the CLI's (Node) for the same
 * settings; the beam tree marks the nodes the reward model scored and shows the score in its details.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSession, type Session } from './browser.ts';
import { generate as cliGenerate } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';

describe('guided beams in the page', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession();
    await s.page.goto(`${inject('siteUrl')}?device=wasm`);
    await s.page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 60_000 });
  });
  afterAll(async () => {
    expect(s.external).toEqual([]);
    await s?.close();
  });

  it('runs beam search guided by tiny-rm-positive and marks the scored nodes', async () => {
    const { page } = s;
    await page.getByTestId('strategy').selectOption('beam');
    await page.getByTestId('prompt').fill('The movie was');
    await page.getByTestId('max-new-tokens').fill('8');
    await page.getByLabel('num_beams', { exact: true }).fill('3');
    await page.getByLabel('num_return_sequences', { exact: true }).fill('3');
    await page.getByTestId('beam-reward-model').selectOption('tiny-rm-positive');
    await page.getByTestId('reward-weight').fill('2');
    await page.getByTestId('rescore-every').fill('2');
    await page.getByTestId('generate').click();
    await page.locator('[data-testid="beam-tree"] [data-testid="rm-marker"]').first().waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="status"][data-status="idle"]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('error').count()).toBe(0);
    const shown = await page.locator('[data-testid="sequences"] li').evaluateAll((els) => els.map((e) => (e.getAttribute('data-token-ids') ?? '').split(' ').filter(Boolean).map(Number)));
    const node = await cliGenerate(
      parseArgs(['--policy', 'tiny-base', '--prompt', 'The movie was', '--strategy', 'beam', '--num_beams', '3', '--num_return_sequences', '3', '--max_new_tokens', '8', '--reward-model', 'tiny-rm-positive', '--reward_weight', '2', '--rescore_every', '2', '--rm_candidates', '0', '--seed', '0']),
      () => {},
    );
    expect(shown).toEqual(node.sequences.map((q) => q.token_ids));
    // markers only on even generated lengths (k = 2) or finished hypotheses
    const ids = await page.locator('[data-testid="rm-marker"]').evaluateAll((els) => els.map((e) => e.closest('g.node')?.getAttribute('data-id') ?? ''));
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const [step, slot] = id.split(':');
      expect(slot!.startsWith('h') || (Number(step) + 1) % 2 === 0, id).toBe(true);
    }
    await page.locator(`[data-testid="beam-tree"] g.node[data-id="${ids[0]}"]`).click();
    await expect.poll(() => page.getByTestId('beam-rm').count()).toBe(1);
    // the trace buttons say what the beams were ranked by
    expect(await page.getByTestId('trace-result').first().textContent()).toMatch(/score -?\d+\.\d\d · RM -?\d+\.\d\d · guided -?\d+\.\d\d/);
    await page.getByTestId('beam-tree').screenshot({ path: 'screenshots/reward-beam-tree-1280.png' });
  }, 300_000);
});
