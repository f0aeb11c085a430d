/**
 * The playground on a phone (390×844, WASM): after real runs in every view (GenARM with the step
 * inspector and an ⓘ open, diverse beam with its tree, Compare, a trade-off sweep, a ranking
 * evaluation, a studio session with its agreement table, the Models view) the page never scrolls sideways (`scrollWidth ≤ 390`), the trade-off
 * plot's text stays ≥ 11 px, the Models view shows each model's Load button on screen, and the
 * views bar shows that it scrolls.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openSession, type Session } from './browser.ts';

const W = 390;
const idle = (page: Page) => page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 240_000 });

/** The page's width, and the deepest elements that stick out past the viewport's right edge (for the failure message). */
async function width(page: Page): Promise<{ scrollWidth: number; wide: string[] }> {
  return page.evaluate((w) => {
    const wide: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= w + 0.5 || r.width === 0) continue;
      // skip elements inside a scroll box (their overflow scrolls there, not the page)
      let p = el.parentElement;
      let inScroller = false;
      for (; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') inScroller = true;
      }
      if (!inScroller && ![...el.children].some((c) => c.getBoundingClientRect().right > w + 0.5))
        wide.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')} [${el.getAttribute('data-testid') ?? ''}] right=${Math.round(r.right)}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 8) };
  }, W);
}

async function noSideScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, wide } = await width(page);
  expect(scrollWidth, `${where}: page is ${scrollWidth} px wide; too wide: ${wide.join(' | ')}`).toBeLessThanOrEqual(W);
}

async function show(page: Page, view: string): Promise<void> {
  await page.getByTestId(`tab-${view}`).click();
}

describe('phone layout (390×844)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession();
    await s.page.setViewportSize({ width: W, height: 844 });
    await s.page.goto(`${inject('siteUrl')}?device=wasm`);
    await s.page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 120_000 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('never scrolls sideways on any view, after real runs', async () => {
    const { page } = s;
    await noSideScroll(page, 'first load');
    // the views bar scrolls sideways and says so
    expect(await page.locator('nav.views .nav-more.right').isVisible()).toBe(true);

    // Generate: GenARM (greedy), a token inspected, an explanation open
    await page.getByTestId('strategy').selectOption('genarm');
    await page.getByTestId('do-sample').uncheck();
    await page.getByTestId('max-new-tokens').fill('12');
    await page.getByTestId('generate').click();
    await page.locator('[data-testid="output"] .tok').nth(3).waitFor({ timeout: 240_000 });
    await idle(page);
    expect(await page.getByTestId('output').getAttribute('data-signal')).toBe('advantage');
    await page.locator('[data-testid="output"] .tok').nth(3).click();
    await page.getByTestId('inspector').waitFor();
    await page.locator('[data-testid="inspector"] [data-testid="info"]').first().click();
    await page.getByTestId('info-panel').waitFor();
    const panel = await page.getByTestId('info-panel').boundingBox();
    expect(panel!.x).toBeGreaterThanOrEqual(0);
    expect(panel!.x + panel!.width).toBeLessThanOrEqual(W);
    await noSideScroll(page, 'GenARM + inspector + ⓘ');
    await page.keyboard.press('Escape');

    // Diverse beam with its tree; trace the second result
    await page.getByTestId('preset').selectOption('Diverse beams');
    await page.getByTestId('max-new-tokens').fill('10');
    await page.getByTestId('generate').click();
    await page.getByTestId('trace-result').nth(1).click({ timeout: 240_000 });
    await idle(page);
    await noSideScroll(page, 'diverse beam tree');

    // Compare: greedy beside GenARM, 2 samples each
    await page.getByTestId('strategy').selectOption('greedy');
    await page.getByTestId('max-new-tokens').fill('8');
    await show(page, 'compare');
    await page.getByTestId('compare-add').click();
    await page.getByTestId('compare-add-genarm').click();
    await page.getByTestId('compare-samples').fill('2');
    await page.getByTestId('compare-run').click();
    await page.locator('[data-testid="compare-column"] dl').nth(1).waitFor({ timeout: 240_000 });
    await noSideScroll(page, 'Compare');

    // Trade-offs: a small sweep; its plot's text stays readable
    await show(page, 'tradeoffs');
    await page.getByTestId('sweep-samples').fill('2');
    await page.getByTestId('sweep-run').click();
    await page.locator('[data-testid="sweep-run"]:not([disabled])').waitFor({ timeout: 240_000 });
    await page.getByTestId('sweep-plot').waitFor();
    const smallest = await page.getByTestId('sweep-plot').evaluate((svg: SVGSVGElement) => {
      const scale = svg.getScreenCTM()?.a ?? 1;
      return Math.min(...[...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale));
    });
    expect(smallest).toBeGreaterThanOrEqual(11);
    await noSideScroll(page, 'Trade-offs');

    // Ranking: 8 pairs with the policy scorer
    await show(page, 'ranking');
    await page.getByTestId('rank-scorer').selectOption('policy');
    await page.getByTestId('rank-limit').fill('8');
    await page.getByTestId('rank-run').click();
    await page.getByTestId('rank-accuracy').waitFor({ timeout: 240_000 });
    await noSideScroll(page, 'Ranking');

    // Studio: one prompt × 3 candidates, a pair labelled with a key, agreement with one scorer
    await show(page, 'studio');
    await page.getByTestId('studio-prompts').fill('The economy');
    await page.getByTestId('studio-max-new-tokens').fill('6');
    await page.getByTestId('studio-generate').click();
    await page.locator('[data-testid="studio-generate"]:not([disabled])').waitFor({ timeout: 240_000 });
    await page.keyboard.press('1');
    for (const c of await page.getByTestId('studio-scorer').all()) if ((await c.getAttribute('data-key')) !== 'sequence:tiny-rm-positive') await c.uncheck();
    await page.getByTestId('studio-agree').click();
    await page.locator('[data-testid="studio-agreement-row"][data-n]').waitFor({ timeout: 240_000 });
    await noSideScroll(page, 'Studio');

    // Models: each model's Load button is on screen, not cut off to the right
    await show(page, 'models');
    const load = page.getByTestId('model-load').first();
    await load.scrollIntoViewIfNeeded();
    const box = (await load.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(W);
    await noSideScroll(page, 'Models');
    expect(s.errors).toEqual([]);
  });
});
