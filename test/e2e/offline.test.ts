/**
 * The built site as a static, offline-capable app: served with its own `_headers` (COOP/COEP, CSP),
 * the first visit runs greedy, GenARM (preset), diverse beam search (preset) and a ranking evaluation
 * from the UI on WASM while the service worker precaches the app and the models; a second visit with
 * the network off and the server gone does all of it again with the same tokens and scores. At the
 * root and under a sub-path. A missing model file stays a real 404 (never index.html). No request may
 * leave localhost.
 *
 * UI hooks relied on (data-testid): device, prompt, max-new-tokens, generate, status, output, preset,
 * sequences (li[data-token-ids]), rank-limit, rank-run, rank-accuracy (data-accuracy), rank-pairs.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSession, type Session } from './browser.ts';
import { serveStatic, type StaticServer } from './static-server.ts';

const golden = JSON.parse(readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8')) as Record<
  string,
  { cases: { greedy: number[] }[] }
>;
const tokFixture = JSON.parse(readFileSync(new URL('../fixtures/tokenizer.json', import.meta.url), 'utf8')) as {
  cases: { text: string }[];
};
const PROMPT = tokFixture.cases[0]?.text as string;
const EXPECTED = golden['tiny-base']?.cases[0]?.greedy as number[];

const DONE = '[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])';
/** Few tokens and pairs: this checks that everything runs offline, not quality. */
const GENARM_TOKENS = 8;
const DIVERSE_TOKENS = 6;
const RANK_PAIRS = 20;

const idsOf = (attr: string | null) => (attr ?? '').split(' ').filter(Boolean).map(Number);

interface UiRuns {
  greedy: number[];
  genarm: number[];
  diverse: number[][];
  ranking: { accuracy: number; headline: string; pairs: string };
  fromServiceWorker: boolean;
}

/**
 * Loads the page and, from the UI, runs greedy, the GenARM preset, the diverse-beams preset and a
 * ranking evaluation (bundled positivity split, first RANK_PAIRS pairs, the default implicit scorer).
 */
async function runAllFromUi(s: Session, siteUrl: string): Promise<UiRuns> {
  const { page } = s;
  const { ids: greedy, fromServiceWorker } = await generateFromUi(s, siteUrl);
  await page.getByTestId('preset').selectOption('Positivity steering with GenARM');
  await page.getByTestId('side-by').selectOption(''); // one run (the preset runs base and guided side by side)
  await page.getByTestId('max-new-tokens').fill(String(GENARM_TOKENS));
  // The preset's top_p = 1 fails the top_p input's step="0.05" from min 0.01 (the browser then refuses
  // to submit the form, silently); 0.96 is the nearest valid value. Remove once the input accepts 1.
  await page.getByLabel('top_p', { exact: true }).fill('0.96');
  expect(await page.locator('form').first().evaluate((f) => (f as HTMLFormElement).checkValidity()), 'the generate form is valid').toBe(true);
  await page.getByTestId('generate').click();
  await page.locator(DONE).waitFor({ timeout: 60_000 });
  expect(new URL(page.url()).searchParams.get('strategy'), 'the GenARM run was submitted').toBe('genarm');
  const genarm = idsOf(await page.getByTestId('output').getAttribute('data-token-ids'));
  await page.getByTestId('preset').selectOption('Diverse beams');
  await page.getByTestId('max-new-tokens').fill(String(DIVERSE_TOKENS));
  expect(await page.locator('form').first().evaluate((f) => (f as HTMLFormElement).checkValidity()), 'the generate form is valid').toBe(true);
  await page.getByTestId('generate').click();
  await page.locator(DONE).waitFor({ timeout: 60_000 });
  expect(new URL(page.url()).searchParams.get('strategy'), 'the diverse beam run was submitted').toBe('diverse_beam');
  const items = page.getByTestId('sequences').locator('li');
  const diverse = (await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-token-ids')))).map(idsOf);
  await page.getByTestId('rank-limit').fill(String(RANK_PAIRS));
  const run = page.getByTestId('rank-run');
  await run.click(); // disabled from the click until the report is in (a restored report may show meanwhile)
  await page.locator('[data-testid="rank-run"]:enabled').waitFor({ timeout: 120_000 });
  const rankError = page.getByTestId('ranking').locator('[role="alert"]');
  if (await rankError.count()) throw new Error(`the ranking evaluation failed: ${await rankError.first().textContent()}`);
  const headline = page.getByTestId('rank-accuracy');
  const ranking = {
    accuracy: Number(await headline.getAttribute('data-accuracy')),
    headline: ((await headline.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
    pairs: ((await page.getByTestId('rank-pairs').textContent()) ?? '').replace(/\s+/g, ' ').trim(),
  };
  return { greedy, genarm, diverse, ranking, fromServiceWorker };
}

async function generateFromUi(s: Session, siteUrl: string): Promise<{ ids: number[]; fromServiceWorker: boolean }> {
  const { page } = s;
  const response = await page.goto(`${siteUrl}?device=wasm`);
  await page.getByTestId('device').and(page.locator('[data-device="wasm"]')).waitFor({ timeout: 60_000 });
  await page.getByTestId('prompt').fill(PROMPT);
  await page.getByTestId('max-new-tokens').fill(String(EXPECTED.length));
  await page.getByTestId('generate').click();
  await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 60_000 });
  const ids = (await page.getByTestId('output').getAttribute('data-token-ids')) ?? '';
  return { ids: ids.split(' ').filter(Boolean).map(Number), fromServiceWorker: !!response?.fromServiceWorker() };
}

/** What the page's own fetch() of a URL gives (through the service worker once it controls the page). */
function pageFetch(s: Session, url: string): Promise<{ status: number; type: string; body: string } | { error: string }> {
  return s.page.evaluate(async (u) => {
    try {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type') ?? '', body: (await r.text()).slice(0, 40) };
    } catch (e) {
      return { error: String(e) };
    }
  }, url);
}

describe.each([
  { name: 'at the root', dir: () => inject('siteDir'), base: '/' },
  { name: 'under /sub/', dir: () => inject('subSiteDir'), base: '/sub/' },
])('the static site $name', ({ dir, base }) => {
  let server: StaticServer;
  let s: Session;
  beforeAll(async () => {
    server = await serveStatic(dir(), { base, headers: true });
    s = await openSession();
  });
  afterAll(async () => {
    await s?.close();
    await server?.close();
  });

  let online: UiRuns;

  it('first visit: greedy, GenARM, diverse beams and ranking on WASM under the _headers CSP and isolation, then the service worker takes over', async () => {
    expect(EXPECTED.length).toBeGreaterThan(5);
    online = await runAllFromUi(s, server.url);
    expect(online.fromServiceWorker).toBe(false);
    expect(online.greedy).toEqual(EXPECTED);
    expect(online.genarm.length).toBeGreaterThan(0);
    expect(online.genarm.length).toBeLessThanOrEqual(GENARM_TOKENS);
    expect(online.diverse).toHaveLength(4); // the preset returns all 4 beams
    for (const d of online.diverse) expect(d.length).toBeGreaterThan(0);
    expect(new Set(online.diverse.map((d) => d.join(','))).size).toBe(4);
    expect(online.ranking.accuracy).toBeGreaterThanOrEqual(0);
    expect(online.ranking.accuracy).toBeLessThanOrEqual(1);
    expect(online.ranking.headline).toContain(`on ${RANK_PAIRS} pairs`);
    expect(online.ranking.pairs.split(/[✓✗]|tie/).length - 1).toBe(RANK_PAIRS);
    expect(await s.page.getByTestId('error').count()).toBe(0);
    expect(await s.page.evaluate(() => crossOriginIsolated)).toBe(true);
    const scope = await s.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller)
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      return (await navigator.serviceWorker.getRegistration())?.scope;
    });
    expect(scope).toBe(server.url);
    // Once the precache is complete the page says so.
    await s.page.getByTestId('offline-ready').waitFor({ timeout: 60_000 });
    // Everything is precached: the app shell, the ORT runtime, and every model (not only the one loaded).
    const precached = await s.page.evaluate(async () => {
      const name = (await caches.keys()).find((k) => k.startsWith('workbox-precache-v2-'));
      const keys = name ? await (await caches.open(name)).keys() : [];
      return keys.map((r) => new URL(r.url).pathname);
    });
    for (const file of ['index.html', 'models/manifest.json', 'models/tiny-arm-positive/onnx/model.onnx', 'models/datasets/prefs-concise-test.jsonl'])
      expect(precached).toContain(new URL(server.url).pathname + file);
    expect(precached.some((p) => p.endsWith('.wasm'))).toBe(true);
    expect(precached.length).toBeGreaterThan(50);
    expect(s.external).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('a missing model file is a real 404, not index.html, with the service worker in control', async () => {
    const missing = await pageFetch(s, `${server.url}models/tiny-base/nope.json`);
    expect(missing).toMatchObject({ status: 404, body: 'Not found' });
    const present = await pageFetch(s, `${server.url}models/tiny-base/config.json`);
    expect(present).toMatchObject({ status: 200, type: 'application/json' });
  });

  it('second visit with the network off and the server gone: the same tokens and scores', async () => {
    await server.close();
    await s.context.setOffline(true);
    // transformers.js's own Cache API copy is off (src/inference/worker.ts): the precache is the only copy.
    expect(await s.page.evaluate(() => caches.has('transformers-cache'))).toBe(false);
    const errorsBefore = s.errors.length; // the 404 above logged one on purpose
    expect(online, 'the first visit ran').toBeDefined();
    expect(await runAllFromUi(s, server.url)).toEqual({ ...online, fromServiceWorker: true });
    expect(await s.page.getByTestId('error').count()).toBe(0);
    expect(await s.page.evaluate(() => !!navigator.serviceWorker.controller && crossOriginIsolated)).toBe(true);
    expect(await s.page.getByTestId('offline-ready').isVisible()).toBe(true);
    expect(s.external).toEqual([]);
    expect(s.errors.slice(errorsBefore)).toEqual([]);
    // Offline, an unknown model file fails as a network error; it never turns into index.html.
    expect(await pageFetch(s, `${server.url}models/tiny-base/nope.json`)).toHaveProperty('error');
  });
});
