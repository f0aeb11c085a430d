/**
 * The built site as a static, offline-capable app: served with its own `_headers` (COOP/COEP, CSP),
 * the first visit generates greedily on WASM and the service worker precaches the app and the models;
 * a second visit with the network off and the server gone generates the same tokens. At the root and
 * under a sub-path. A missing model file stays a real 404 (never index.html). No request may leave
 * localhost.
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

  it('first visit: greedy on WASM under the _headers CSP and isolation, then the service worker takes over', async () => {
    expect(EXPECTED.length).toBeGreaterThan(5);
    expect(await generateFromUi(s, server.url)).toEqual({ ids: EXPECTED, fromServiceWorker: false });
    expect(await s.page.evaluate(() => crossOriginIsolated)).toBe(true);
    const scope = await s.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller)
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      return (await navigator.serviceWorker.getRegistration())?.scope;
    });
    expect(scope).toBe(server.url);
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

  it('second visit with the network off and the server gone: the same tokens', async () => {
    await server.close();
    await s.context.setOffline(true);
    // transformers.js's own Cache API copy is off (src/inference/worker.ts): the precache is the only copy.
    expect(await s.page.evaluate(() => caches.has('transformers-cache'))).toBe(false);
    const errorsBefore = s.errors.length; // the 404 above logged one on purpose
    expect(await generateFromUi(s, server.url)).toEqual({ ids: EXPECTED, fromServiceWorker: true });
    expect(await s.page.evaluate(() => !!navigator.serviceWorker.controller && crossOriginIsolated)).toBe(true);
    expect(s.external).toEqual([]);
    expect(s.errors.slice(errorsBefore)).toEqual([]);
    // Offline, an unknown model file fails as a network error; it never turns into index.html.
    expect(await pageFetch(s, `${server.url}models/tiny-base/nope.json`)).toHaveProperty('error');
  });
});
