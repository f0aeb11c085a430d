/**
 * `npm run screenshots`: builds the site, serves it on localhost, drives each view of the playground
 * in Debian's Chromium with real runs on the bundled models, and saves what a user sees at 1280×720
 * (light and dark) and at phone width (390×844) into screenshots/ (not committed).
 *
 *   npm run screenshots [-- --out DIR] [-- --only generate,ranking]
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium, type Page } from 'playwright-core';
import { serveStatic } from './static-server.ts';
import { CHROMIUM } from './browser.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const OUT = path.resolve(ROOT, opt('out') ?? 'screenshots');
const ONLY = opt('only')?.split(',');
const SITE = path.join(ROOT, '.e2e-shots', 'dist');
const PROMPT = 'The state of the Union is';

const idle = (page: Page) => page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 240_000 });

/** Shows a view: a tab when the app has tabs, else the section scrolled to the top of the viewport. */
async function show(page: Page, view: string, section: string): Promise<void> {
  const tab = page.locator(`[data-testid="tab-${view}"]`);
  if (await tab.count()) await tab.click();
  const el = page.locator(section).first();
  await el.waitFor({ timeout: 30_000 });
  await el.evaluate((e) => e.scrollIntoView({ block: 'start' }));
}

interface Shot {
  readonly name: string;
  run(page: Page): Promise<void>;
}

const SHOTS: readonly Shot[] = [
  {
    // What a first visit sees after pressing "Run the positivity lesson": base and guided side by side.
    name: 'lesson',
    async run(page) {
      await show(page, 'generate', 'form');
      await page.getByTestId('start-lesson').click();
      await page.getByTestId('side-diff').waitFor({ timeout: 240_000 });
      await idle(page);
    },
  },
  {
    name: 'generate',
    async run(page) {
      await show(page, 'generate', 'form');
      await page.getByTestId('prompt').fill(PROMPT);
      await page.getByTestId('preset').selectOption('Positivity steering with GenARM');
      await page.getByTestId('side-by').selectOption(''); // one guided run, its tokens coloured
      await page.getByTestId('generate').click();
      await page.locator('[data-testid="output"] .tok').nth(4).waitFor({ timeout: 240_000 });
      await idle(page);
      await page.locator('[data-testid="output"] .tok').nth(4).click();
      await show(page, 'generate', 'form');
    },
  },
  {
    name: 'step-inspector',
    async run(page) {
      await show(page, 'generate', '[data-testid="inspector"]');
    },
  },
  {
    name: 'beam-tree',
    async run(page) {
      await show(page, 'generate', 'form');
      await page.getByTestId('preset').selectOption('Diverse beams');
      await page.getByTestId('generate').click();
      await idle(page);
      await show(page, 'generate', '[data-testid="sequences"]');
    },
  },
  {
    // Best-of-N scored by tiny-rm-positive, then the chosen answer attributed to its tokens: the signed strip and its total.
    name: 'attribution',
    async run(page) {
      await show(page, 'generate', 'form');
      await page.getByTestId('preset').selectOption('Best-of-N vs GenARM');
      await page.getByTestId('strategy').selectOption('best_of_n');
      await page.getByTestId('side-by').selectOption('');
      await page.getByTestId('generate').click();
      await idle(page);
      await page.locator('[data-testid="attribute"]:not([disabled])').waitFor({ timeout: 240_000 });
      await page.getByTestId('attribute').click();
      await page.getByTestId('attribution-total').waitFor({ timeout: 120_000 });
      await show(page, 'generate', '[data-testid="attribution"]');
    },
  },
  {
    name: 'compare',
    async run(page) {
      await show(page, 'generate', 'form');
      await page.getByTestId('strategy').selectOption('greedy');
      await page.getByTestId('max-new-tokens').fill('20');
      await show(page, 'compare', '[data-testid="compare"]');
      await page.getByTestId('compare-add').click();
      await show(page, 'generate', 'form');
      await page.getByTestId('preset').selectOption('Positivity steering with GenARM');
      await page.getByTestId('max-new-tokens').fill('20');
      await show(page, 'compare', '[data-testid="compare"]');
      await page.getByTestId('compare-add').click();
      await page.getByTestId('compare-run').click();
      await page.locator('[data-testid="compare-column"] dl').nth(1).waitFor({ timeout: 300_000 }); // 8 samples per sampled column
      await show(page, 'compare', '[data-testid="compare"]');
    },
  },
  {
    name: 'tradeoffs',
    async run(page) {
      await show(page, 'tradeoffs', '[data-testid="tradeoff"]');
      await page.getByTestId('sweep-samples').fill('6');
      await page.getByTestId('sweep-run').click();
      await page.locator('[data-testid="sweep-plot"] g.pt').nth(5).waitFor({ timeout: 240_000 });
      await page.locator('[data-testid="sweep-plot"] g.pt circle').nth(3).click();
      await show(page, 'tradeoffs', '[data-testid="tradeoff"]');
    },
  },
  {
    name: 'multi-objective',
    async run(page) {
      await show(page, 'tradeoffs', '[data-testid="live-mix"]');
      await page.getByTestId('live-lambda').fill('0.25');
      await page.locator('[data-testid="live-text"][data-lambda="0.25"][data-running="false"]').waitFor({ timeout: 120_000 });
      await show(page, 'tradeoffs', '[data-testid="live-mix"]');
    },
  },
  {
    name: 'ranking',
    async run(page) {
      await show(page, 'ranking', '[data-testid="rank-run"]');
      await page.getByTestId('rank-scorer').selectOption('implicit');
      await page.getByTestId('rank-limit').fill('120');
      await page.getByTestId('rank-run').click();
      await page.getByTestId('rank-accuracy').waitFor({ timeout: 240_000 });
      await show(page, 'ranking', '[data-testid="rank-accuracy"]');
    },
  },
  {
    // The studio: 2 prompts × 3 candidates, two pairs labelled with keys, agreement with two scorers; the pair on screen.
    name: 'studio',
    async run(page) {
      await show(page, 'studio', '[data-testid="studio"]');
      await page.getByTestId('studio-prompts').fill('The economy\nOur nation');
      await page.getByTestId('studio-max-new-tokens').fill('12');
      await page.getByTestId('studio-generate').click();
      await page.locator('[data-testid="studio-generate"]:not([disabled])').waitFor({ timeout: 240_000 });
      await page.keyboard.press('1');
      await page.keyboard.press('2');
      for (const c of await page.getByTestId('studio-scorer').all())
        if (!['policy:tiny-base', 'sequence:tiny-rm-positive'].includes((await c.getAttribute('data-key')) ?? '')) await c.uncheck();
      await page.getByTestId('studio-agree').click();
      await page.locator('[data-testid="studio-agreement-row"][data-key="sequence:tiny-rm-positive"]').waitFor({ timeout: 240_000 });
      await show(page, 'studio', '[data-testid="studio-pair"]');
      await page.getByTestId('studio-pair').focus(); // the focus ring the keys act in
    },
  },
  {
    name: 'studio-agreement',
    async run(page) {
      await show(page, 'studio', '[data-testid="studio-agreement"]');
    },
  },
  {
    // The same session as a ranked list: one prompt's candidates side by side, the first pick made with its key.
    name: 'studio-ranked',
    async run(page) {
      await show(page, 'studio', '[data-testid="studio"]');
      await page.getByTestId('studio-mode-ranked').check();
      await page.getByTestId('studio-ranked').focus();
      await page.keyboard.press('2');
      await page.locator('[data-testid="studio-ranked"][data-picked="2"]').waitFor({ timeout: 30_000 });
      await show(page, 'studio', '[data-testid="studio-ranked"]');
      await page.getByTestId('studio-ranked').focus(); // the focus ring the keys act in
    },
  },
  {
    name: 'models',
    async run(page) {
      await show(page, 'models', '[data-testid="models"]');
    },
  },
];

async function main(): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  await build({ root: ROOT, logLevel: 'warn', base: '/', build: { outDir: SITE, emptyOutDir: true } });
  process.env.NODE_ENV = nodeEnv;
  const server = await serveStatic(SITE);
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-gpu'] });
  const failures: string[] = [];
  try {
    for (const [variant, viewport, scheme] of [
      ['', { width: 1280, height: 720 }, 'light'],
      ['-dark', { width: 1280, height: 720 }, 'dark'],
      ['-phone', { width: 390, height: 844 }, 'light'],
    ] as const) {
      const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.on('pageerror', (e) => failures.push(`${variant || 'light'}: ${String(e)}`));
      await page.goto(`${server.url}?device=wasm`);
      await page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 60_000 });
      for (const shot of SHOTS) {
        if (ONLY && !ONLY.includes(shot.name)) continue;
        if (variant && !['lesson', 'generate', 'beam-tree', 'attribution', 'ranking', 'studio', 'studio-agreement', 'studio-ranked', 'tradeoffs', 'models', 'step-inspector'].includes(shot.name)) continue;
        try {
          await shot.run(page);
          await page.waitForTimeout(300);
          const file = path.join(OUT, `${shot.name}${variant}.png`);
          await page.screenshot({ path: file });
          console.log(file);
        } catch (e) {
          failures.push(`${shot.name}${variant}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        }
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  if (failures.length) {
    console.error(`\n${failures.length} screenshot(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

await main();
