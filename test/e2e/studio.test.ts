/**
 * The studio in Chromium (WASM): 2 prompts × 4 sampled candidates (12 pairs), 10 labelled with the
 * keyboard only, a reload mid-way (nothing lost), TRL JSONL export, a new session, re-import, and
 * agreement figures equal to the CLI's `rank` on the exported file (accuracy; κ from the CLI's
 * margins and the file's screen positions). Then the ranked list (no second reload, to stay short:
 * the DOM test restores a ranked session from the store): keys, export, and the agreement row equal
 * to `rank --json`'s `agreement` on that file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../integration/env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank as rankCli } from '../../src/cli/rank.ts';
import { scorerKappa } from '../../src/core/metrics/agreement.ts';
import { openSession, type Session } from './browser.ts';

describe('studio (WASM)', () => {
  let s: Session;
  let tmp: string;
  beforeAll(async () => {
    s = await openSession();
    tmp = mkdtempSync(path.join(tmpdir(), 'studio-e2e-'));
  });
  afterAll(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('labels 10 pairs with the keyboard across a reload, exports, re-imports and agrees with the CLI', async () => {
    const { page } = s;
    await page.goto(`${inject('siteUrl')}?device=wasm`, { timeout: 120_000 });
    await page.locator('[data-device="wasm"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('tab-studio').click();
    await page.getByTestId('studio-prompts').fill('The economy\nOur nation');
    await page.getByTestId('studio-k').fill('4');
    await page.getByTestId('studio-max-new-tokens').fill('6');
    await page.getByTestId('studio-labeller').fill('tester');
    await page.getByTestId('studio-generate').click();
    await page.locator('[data-testid="studio-generate"]:not([disabled])').waitFor({ timeout: 60_000 });
    const box = page.getByTestId('studio-pair');
    expect(await page.getByTestId('studio-count').textContent()).toContain('of 12');
    const labelled = () => box.getAttribute('data-labelled').then(Number);

    // keyboard only: focus is on the pair box after Generate
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    for (const k of ['1', '2', '2', '1', 't']) await page.keyboard.press(k);
    await expect.poll(labelled).toBe(5);
    await page.keyboard.press('Control+z'); // undo the tie
    await expect.poll(labelled).toBe(4);
    await page.keyboard.press('s'); // skip, then undo with U
    await page.keyboard.press('u');
    await expect.poll(labelled).toBe(4);
    // every label written before the reload (the span says 'saving…' while one is in flight)
    await page.locator('[data-testid="studio-saved"][data-pending="0"]').waitFor();

    await page.reload();
    await page.getByTestId('tab-studio').click();
    await expect.poll(labelled, { timeout: 30_000 }).toBe(4);
    expect(await page.getByTestId('studio-count').textContent()).toContain('of 12');
    expect(await page.getByTestId('studio-labeller').inputValue()).toBe('tester');
    await box.focus();
    // a rationale typed in its box, Escape back to the keys
    await page.keyboard.press('Tab');
    for (let i = 0; i < 20 && !(await page.getByTestId('studio-rationale').evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.type('shorter');
    await page.keyboard.press('Escape');
    for (const k of ['2', '1', 't', '2', '1', '1']) await page.keyboard.press(k);
    await expect.poll(labelled).toBe(10);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('studio-export').click()]);
    const file = path.join(tmp, 'studio.jsonl');
    await download.saveAs(file);
    expect(await page.getByTestId('studio-notice').textContent()).toMatch(/Exported 9 labelled pairs \(not in the file: 1 tie, 2 open/);
    const recs = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; labeller: string; rationale?: string; studio: { chosen_shown: 1 | 2 } });
    expect(recs.length).toBe(9);
    expect(recs.every((r) => r.labeller === 'human:tester')).toBe(true);
    expect(recs.filter((r) => r.rationale === 'shorter').length).toBe(1);

    // a new session, then the file back
    await page.getByTestId('studio-clear').click();
    await page.getByTestId('studio-clear').click();
    await page.getByTestId('studio-empty').waitFor();
    await page.getByTestId('studio-import').setInputFiles(file);
    await expect.poll(() => page.getByTestId('studio-notice').textContent()).toMatch(/Restored 2 prompts and 9 labelled pairs/);

    // agreement with two scorers, against the CLI on the exported file
    for (const c of await page.getByTestId('studio-scorer').all()) {
      const key = await c.getAttribute('data-key');
      if (key !== 'policy:tiny-base' && key !== 'sequence:tiny-rm-positive') await c.uncheck();
    }
    await page.getByTestId('studio-agree').click();
    const row = (key: string) => page.locator(`[data-testid="studio-agreement-row"][data-key="${key}"][data-n]`);
    await row('sequence:tiny-rm-positive').waitFor({ timeout: 60_000 });
    const shownAt = new Map(recs.map((r) => [r.id, r.studio.chosen_shown]));
    for (const [key, args] of [
      ['policy:tiny-base', ['--scorer', 'policy', '--policy', 'tiny-base']],
      ['sequence:tiny-rm-positive', ['--scorer', 'sequence', '--reward-model', 'tiny-rm-positive']],
    ] as const) {
      const cli = await rankCli(parseArgs([...args, '--dataset', file]));
      expect(cli.n).toBe(9);
      expect(Number(await row(key).getAttribute('data-n'))).toBe(9);
      expect(Number(await row(key).getAttribute('data-accuracy'))).toBe(cli.accuracy);
      const kappa = scorerKappa(cli.pairs.map((p) => ({ margin: p.margin, chosenShown: shownAt.get(p.id) ?? 1 }))).kappa;
      const shownKappa = await row(key).getAttribute('data-kappa');
      if (Number.isNaN(kappa)) expect(shownKappa).toBe('NaN');
      else expect(Number(shownKappa)).toBeCloseTo(kappa, 12);
    }
    expect(s.external).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('ranks a list with the keyboard; the page κ equals rank --json agreement on the export', async () => {
    const { page } = s;
    await page.getByTestId('studio-clear').click();
    await page.getByTestId('studio-clear').click();
    await page.getByTestId('studio-empty').waitFor();
    await page.getByTestId('studio-prompts').fill('The economy\nOur nation');
    await page.getByTestId('studio-k').fill('3');
    await page.getByTestId('studio-generate').click();
    await page.locator('[data-testid="studio-generate"]:not([disabled])').waitFor({ timeout: 60_000 });
    await page.getByTestId('studio-mode-ranked').check();
    const box = page.getByTestId('studio-ranked');
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    for (const k of ['2', '1', 'Backspace', '3']) await page.keyboard.press(k); // 2 > 3 > 1 on prompt 1
    await expect.poll(() => box.getAttribute('data-ranked')).toBe('1');
    expect(await box.getAttribute('data-prompt')).toBe('1');
    await page.keyboard.press('1'); // prompt 2: its first candidate best, T ties the other two
    await page.keyboard.press('t');
    await expect.poll(() => box.getAttribute('data-ranked')).toBe('2');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('studio-export').click()]);
    const file = path.join(tmp, 'ranked.jsonl');
    await download.saveAs(file);
    expect(await page.getByTestId('studio-notice').textContent()).toMatch(/Exported 5 labelled pairs \(not in the file: 1 tie/);
    for (const c of await page.getByTestId('studio-scorer').all()) if ((await c.getAttribute('data-key')) !== 'sequence:tiny-rm-positive') await c.uncheck();
    await page.getByTestId('studio-agree').click();
    const row = page.locator('[data-testid="studio-agreement-row"][data-key="sequence:tiny-rm-positive"][data-n]');
    await row.waitFor({ timeout: 60_000 });
    const cli = await rankCli(parseArgs(['--scorer', 'sequence', '--reward-model', 'tiny-rm-positive', '--dataset', file]));
    expect(cli.agreement?.n).toBe(5);
    expect(Number(await row.getAttribute('data-n'))).toBe(5);
    expect(Number(await row.getAttribute('data-accuracy'))).toBe(cli.agreement?.accuracy);
    const shownKappa = await row.getAttribute('data-kappa');
    if (cli.agreement?.kappa === null) expect(shownKappa).toBe('NaN');
    else expect(Number(shownKappa)).toBeCloseTo(cli.agreement?.kappa as number, 12);
    expect(s.errors).toEqual([]);
  });
});
