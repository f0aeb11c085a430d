/**
 * The Models view in Chromium (WASM): the bundled models with roles, sizes and cards; a model folder
 * picked from disk (never uploaded) and a Hugging Face id served by a local stand-in for the hub
 * (`/<org>/<name>/resolve/main/<file>`, `?hfHost=`) both generate the same greedy tokens as the
 * bundled tiny-base; broken folders, a missing id and an ARM with another tokenizer are refused with
 * a message naming what is wrong, and the page keeps working.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSession, type Session } from './browser.ts';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8')) as Record<string, { cases: { greedy: number[] }[] }>;
const tokFixture = JSON.parse(readFileSync(new URL('../fixtures/tokenizer.json', import.meta.url), 'utf8')) as { cases: { text: string }[] };
const PROMPT = tokFixture.cases[0]?.text as string;
const EXPECTED = golden['tiny-base']?.cases[0]?.greedy as number[];
const ONNX_BYTES = statSync(path.join(MODELS, 'tiny-base/onnx/model.onnx')).size;

/** A stand-in for the Hugging Face hub: models/<name>/<file> at /<org>/<name>/resolve/main/<file>, with CORS, slowly enough to see progress. */
function serveHub(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const m = /^\/[\w.-]+\/([\w.-]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0] ?? ''));
    const file = m ? path.join(MODELS, m[1] as string, m[2] as string) : '';
    let data: Buffer;
    try {
      if (!m || m[1] === 'foundry' || !file.startsWith(MODELS)) throw new Error('no');
      data = readFileSync(file);
    } catch {
      res.statusCode = 404;
      return res.end('Entry not found');
    }
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('Content-Length', data.length);
    // 8 chunks, 40 ms apart: the progress bar has time to show
    const chunk = Math.ceil(data.length / 8);
    let off = 0;
    const next = () => {
      if (off >= data.length) return res.end();
      res.write(data.subarray(off, off + chunk));
      off += chunk;
      setTimeout(next, data.length > 100_000 ? 40 : 0);
    };
    next();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())) });
    }),
  );
}

/** Copies models/<id> to <tmp>/<name> and applies edits (null deletes a file). */
function folderFrom(tmp: string, id: string, name: string, edit: Record<string, string | Buffer | null> = {}): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(MODELS, id), dir, { recursive: true });
  for (const [rel, content] of Object.entries(edit)) {
    if (content === null) rmSync(path.join(dir, rel));
    else writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

async function open(s: Session, query = ''): Promise<void> {
  await s.page.goto(`${inject('siteUrl')}?device=wasm${query}`);
  await s.page.getByTestId('device').and(s.page.locator('[data-device="wasm"]')).waitFor({ timeout: 60_000 });
  await s.page.locator('[data-testid="model-row"]').nth(6).waitFor({ timeout: 30_000 });
}

/** Generates greedily from the UI with `policy` and returns the token ids (or the error shown). */
async function generate(s: Session, policy: string, n = EXPECTED.length): Promise<number[]> {
  const { page } = s;
  await page.getByTestId('model').selectOption(policy);
  await page.getByTestId('strategy').selectOption('greedy');
  await page.getByTestId('prompt').fill(PROMPT);
  await page.getByTestId('max-new-tokens').fill(String(n));
  await page.getByTestId('generate').click();
  await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 120_000 });
  const ids = (await page.getByTestId('output').getAttribute('data-token-ids')) ?? '';
  return ids.split(' ').filter(Boolean).map(Number);
}

function row(s: Session, id: string, status?: string) {
  return s.page.locator(`[data-testid="model-row"][data-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);
}

/** The error shown under a model's row. */
async function rowError(s: Session, id: string): Promise<string> {
  await row(s, id, 'error').waitFor({ timeout: 60_000 });
  return (await row(s, id).locator('xpath=following-sibling::tr[1]').getByTestId('model-error').textContent()) ?? '';
}

describe('Models view (WASM)', () => {
  let s: Session;
  let tmp: string;
  const requests: { method: string; url: string; body: boolean }[] = [];
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'dl-models-'));
    s = await openSession();
    s.context.on('request', (r) => requests.push({ method: r.method(), url: r.url(), body: r.postDataBuffer() !== null }));
  });
  afterAll(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the 7 bundled models with roles and sizes, and opens a model card as text', async () => {
    await open(s);
    const bundled = s.page.locator('[data-testid="model-row"][data-origin="bundled"]');
    expect(await bundled.count()).toBe(7);
    expect(await bundled.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([
      'tiny-base', 'tiny-arm-positive', 'tiny-dpo-positive', 'tiny-rm-positive', 'tiny-arm-concise', 'tiny-dpo-concise', 'tiny-rm-concise',
    ]);
    expect(await row(s, 'tiny-base').getByTestId('model-role').textContent()).toBe('policy, reference');
    expect(await row(s, 'tiny-rm-positive').getByTestId('model-role').textContent()).toBe('sequence RM (positive)');
    expect(await row(s, 'tiny-base').getByTestId('model-size').textContent()).toBe('5.6 MB');
    await row(s, 'tiny-base').getByTestId('model-card-toggle').click();
    const card = s.page.getByTestId('model-card');
    await card.waitFor({ timeout: 10_000 });
    const readme = readFileSync(path.join(MODELS, 'tiny-base/README.md'), 'utf8');
    expect(await card.textContent()).toBe(readme);
    expect(await card.evaluate((el) => el.tagName)).toBe('PRE');
    // the policy picker lists every causal LM (ARMs included), not the reward models, grouped by role
    const options = await s.page.getByTestId('model').locator('option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(options).toEqual(['tiny-base', 'tiny-dpo-positive', 'tiny-dpo-concise', 'tiny-arm-positive', 'tiny-arm-concise']);
    // the device select re-initialises the worker and shows why; Auto falls back to WASM here (no GPU flag)
    expect(await s.page.getByTestId('device-reason').textContent()).toMatch(/Using WASM: WASM chosen by the user\./);
    await s.page.getByTestId('device-choice').selectOption('auto');
    await expect.poll(() => s.page.getByTestId('device-reason').textContent(), { timeout: 30_000 }).toMatch(/Using WASM: WASM fallback: /);
    expect(new URL(s.page.url()).searchParams.get('device')).toBe('auto');
    await s.page.getByTestId('device-choice').selectOption('wasm');
    await expect.poll(() => s.page.getByTestId('device-reason').textContent(), { timeout: 30_000 }).toMatch(/WASM chosen by the user/);
  });

  it('loads a model folder picked from disk and generates the same greedy tokens, uploading nothing', async () => {
    const dir = folderFrom(tmp, 'tiny-base', 'tiny-base');
    requests.length = 0;
    await s.page.getByTestId('folder-input').setInputFiles(dir);
    await row(s, 'local/tiny-base', 'loaded').waitFor({ timeout: 60_000 });
    expect(await row(s, 'local/tiny-base').getByTestId('model-role').textContent()).toBe('causal LM: policy, ARM, tuned or reference');
    expect(await generate(s, 'local/tiny-base')).toEqual(EXPECTED);
    const site = new URL(inject('siteUrl')).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method !== 'GET' || r.body || !r.url.startsWith(site))).toEqual([]);
    expect(requests.filter((r) => r.url.includes('/local/'))).toEqual([]);
    expect(s.external).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('loads a Hugging Face id from the hub host with progress, keeps it in the Cache API, and names a missing id', async () => {
    const hub = await serveHub();
    try {
      await open(s, `&hfHost=${encodeURIComponent(hub.url)}`);
      expect(hub.requests).toEqual([]); // nothing is fetched from the hub until the user asks
      await s.page.getByTestId('hf-id').fill('test-org/tiny-base');
      await s.page.getByTestId('hf-load').click();
      await s.page.locator('[data-testid="model-progress"]:not([data-files="0"])').waitFor({ timeout: 30_000 });
      await row(s, 'test-org/tiny-base', 'loaded').waitFor({ timeout: 60_000 });
      expect(await row(s, 'test-org/tiny-base').getByTestId('model-size').textContent()).toBe('5.6 MB');
      expect(hub.requests).toContain('GET /test-org/tiny-base/resolve/main/onnx/model.onnx');
      expect(await generate(s, 'test-org/tiny-base')).toEqual(EXPECTED);
      const cached = await s.page.evaluate(async () => (await (await caches.open('transformers-cache')).keys()).map((r) => r.url));
      expect(cached).toContain(`${hub.url}test-org/tiny-base/resolve/main/onnx/model.onnx`);
      const onnx = await s.page.evaluate(async (u) => (await (await (await caches.open('transformers-cache')).match(u))?.arrayBuffer())?.byteLength, `${hub.url}test-org/tiny-base/resolve/main/onnx/model.onnx`);
      expect(onnx).toBe(ONNX_BYTES);

      await s.page.getByTestId('hf-id').fill('test-org/no-such-model');
      await s.page.getByTestId('hf-load').click();
      expect(await rowError(s, 'test-org/no-such-model')).toMatch(
        /^test-org\/no-such-model was not found on http:\/\/127\.0\.0\.1:\d+\/ \(HTTP 404 for config\.json\): the repository does not exist, is private or gated, or has no config\.json\. Check the id/,
      );
      await s.page.getByTestId('hf-id').fill('not-an-id');
      await s.page.getByTestId('hf-load').click();
      expect(await s.page.getByTestId('hf-error').textContent()).toMatch(/"not-an-id" is not a Hugging Face model id: use the form org\/name/);
      expect(s.external).toEqual([]);
    } finally {
      await hub.close();
    }
  });

  it('refuses broken folders and an ARM with another tokenizer with clear messages, and keeps working', async () => {
    await open(s);
    const cases: [string, Record<string, string | Buffer | null>, RegExp][] = [
      ['no-config', { 'config.json': null }, /^The folder "no-config" has no config\.json: a model folder needs the Hugging Face layout: config\.json, tokenizer\.json, tokenizer_config\.json and onnx\/model\.onnx/],
      ['cut-onnx', { 'onnx/model.onnx': readFileSync(path.join(MODELS, 'tiny-base/onnx/model.onnx')).subarray(0, 1000) }, /^cut-onnx\/onnx\/model\.onnx is truncated: it has 1,000 bytes but its graph needs [\d,]+\. The copy or download was cut short: get the file again\.$/],
      ['html-config', { 'config.json': '<!doctype html>\n<html><body>Sign in</body></html>\n' }, /^html-config\/config\.json is an HTML page, not JSON \(it starts with "<!doctype html>"\)/],
    ];
    for (const [name, edit, message] of cases) {
      await s.page.getByTestId('folder-input').setInputFiles(folderFrom(tmp, 'tiny-base', name, edit));
      expect(await rowError(s, `local/${name}`)).toMatch(message);
    }
    // an ARM whose tokenizer has 5000 tokens: it loads, and the run that uses it is refused
    const tok = JSON.parse(readFileSync(path.join(MODELS, 'tiny-arm-positive/tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    for (let i = 4096; i < 5000; i++) tok.model.vocab[`<extra_${i}>`] = i;
    await s.page.getByTestId('folder-input').setInputFiles(folderFrom(tmp, 'tiny-arm-positive', 'arm-other-tok', { 'tokenizer.json': JSON.stringify(tok) }));
    await row(s, 'local/arm-other-tok', 'loaded').waitFor({ timeout: 60_000 });
    await s.page.getByTestId('model').selectOption('tiny-base');
    await s.page.getByTestId('strategy').selectOption('genarm');
    await s.page.getByTestId('arm-add').selectOption('local/arm-other-tok');
    await s.page.getByTestId('max-new-tokens').fill('5');
    await s.page.getByTestId('generate').click();
    const error = s.page.getByTestId('error');
    await error.waitFor({ timeout: 60_000 });
    expect(await error.textContent()).toMatch(
      /^local\/arm-other-tok \(local folder, ARM\) has a different tokenizer from the policy tiny-base \(vocabulary 5000 vs 4096\): ARMs, tuned\/reference models and reward models must share the policy's tokenizer\./,
    );
    expect(await s.page.locator('[data-testid="output"] .tok').count()).toBe(0);
    // the page keeps working: the bundled run gives the golden tokens
    await s.page.getByRole('button', { name: 'Remove ARM local/arm-other-tok' }).click();
    expect(await generate(s, 'tiny-base')).toEqual(EXPECTED);
    expect(await error.count()).toBe(0);
    expect(s.external).toEqual([]);
  });
});

