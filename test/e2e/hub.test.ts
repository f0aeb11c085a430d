/**
 * Hub-shaped exports in Chromium (WASM): the gpt2-lm fixture folder (test/fixtures/hub, made by
 * models/foundry/hub_fixtures.py) picked from disk, its dtype switched in the Models view; fp16
 * (fp16 logits and KV: a Float16Array in Chromium) and q4 (MatMulNBits) give the PyTorch reference
 * tokens, as in Node (test/integration/hubDtypes.test.ts). For this prompt the fp16 tokens equal the
 * fp32 ones, so the fp16 step checks that fp16 logits decode right; the q4 tokens differ, which shows
 * the dtype switch really loads another file.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSession, type Session } from './browser.ts';

const HUB = fileURLToPath(new URL('../fixtures/hub/', import.meta.url));
const ref = JSON.parse(readFileSync(path.join(HUB, 'gpt2-lm/reference.json'), 'utf8')) as { cases: { greedy: number[]; greedy_fp16: number[]; greedy_q4: number[] }[] };
const PROMPT = 'The state of the Union is';
const ID = 'local/gpt2-lm';
const extRef = JSON.parse(readFileSync(path.join(HUB, 'gpt2-lm-external/reference.json'), 'utf8')) as { cases: { greedy: number[] }[] };

/** A stand-in for the Hugging Face hub serving test/fixtures/hub/<name> at /<org>/<name>/resolve/main/<file> (GET and HEAD, CORS). */
function serveHub(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const m = /^\/[\w.-]+\/([\w.-]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0] ?? ''));
    const file = m ? path.join(HUB, m[1] as string, m[2] as string) : '';
    let data: Buffer;
    try {
      if (!m || !file.startsWith(HUB) || file.endsWith('reference.json')) throw new Error('no');
      data = readFileSync(file);
    } catch {
      res.statusCode = 404;
      return res.end('Entry not found');
    }
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('Content-Length', data.length);
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())) });
    }),
  );
}

describe('hub-shaped fixture in the browser (WASM)', () => {
  let s: Session;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'hub-e2e-'));
    s = await openSession();
    await s.page.goto(`${inject('siteUrl')}?device=wasm`);
    await s.page.getByTestId('device').and(s.page.locator('[data-device="wasm"]')).waitFor({ timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const row = (status?: string, id = ID) => s.page.locator(`[data-testid="model-row"][data-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);

  /** Waits for a model row to settle: 'loaded', or the error shown under it. */
  async function settled(id: string): Promise<string> {
    await s.page.locator(`[data-testid="model-row"][data-id="${id}"]:is([data-status="loaded"],[data-status="error"])`).waitFor({ timeout: 60_000 });
    if ((await row(undefined, id).getAttribute('data-status')) === 'loaded') return 'loaded';
    return (await row(undefined, id).locator('xpath=following-sibling::tr[1]').getByTestId('model-error').textContent()) ?? 'error';
  }

  async function greedy(n: number, id = ID): Promise<number[]> {
    const { page } = s;
    await page.getByTestId('model').selectOption(id);
    await page.getByTestId('strategy').selectOption('greedy');
    await page.getByTestId('prompt').fill(PROMPT);
    await page.getByTestId('max-new-tokens').fill(String(n));
    await page.getByTestId('generate').click();
    await page.locator('[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])').waitFor({ timeout: 120_000 });
    return ((await page.getByTestId('output').getAttribute('data-token-ids')) ?? '').split(' ').filter(Boolean).map(Number);
  }

  it('fp32, fp16 and q4 variants of one folder give their PyTorch reference tokens', async () => {
    const dir = path.join(tmp, 'gpt2-lm');
    cpSync(path.join(HUB, 'gpt2-lm'), dir, { recursive: true });
    rmSync(path.join(dir, 'reference.json'));
    await s.page.getByTestId('folder-input').setInputFiles(dir);
    await row('loaded').waitFor({ timeout: 60_000 });
    const c = ref.cases[0] as (typeof ref.cases)[number];
    const select = row().locator('td.dtype select');
    const options = await select.locator('option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['fp32', 'fp16', 'q8', 'q4']));
    for (const [dtype, want] of [['fp32', c.greedy], ['fp16', c.greedy_fp16], ['q4', c.greedy_q4]] as const) {
      if ((await select.inputValue()) !== dtype) {
        await select.selectOption(dtype);
        await row('loaded').waitFor({ timeout: 60_000 });
      }
      expect([dtype, await greedy(12)]).toEqual([dtype, want]);
    }
    expect(s.external).toEqual([]);
  }, 300_000);

  it('external data (onnx/model.onnx + model.onnx_data) loads from a picked folder and from a hub id, with the reference tokens', async () => {
    const want = (extRef.cases[0] as (typeof extRef.cases)[number]).greedy;
    const dir = path.join(tmp, 'gpt2-lm-external');
    cpSync(path.join(HUB, 'gpt2-lm-external'), dir, { recursive: true });
    rmSync(path.join(dir, 'reference.json'));
    await s.page.getByTestId('folder-input').setInputFiles(dir);
    const local = 'local/gpt2-lm-external';
    expect(await settled(local)).toBe('loaded');
    expect(await greedy(12, local)).toEqual(want);

    const hub = await serveHub();
    try {
      await s.page.goto(`${inject('siteUrl')}?device=wasm&hfHost=${encodeURIComponent(hub.url)}`);
      await s.page.getByTestId('device').and(s.page.locator('[data-device="wasm"]')).waitFor({ timeout: 60_000 });
      const id = 'test-org/gpt2-lm-external';
      await s.page.getByTestId('hf-id').fill(id);
      await s.page.getByTestId('hf-load').click();
      expect(await settled(id)).toBe('loaded');
      expect(hub.requests).toContain(`GET /${id}/resolve/main/onnx/model.onnx_data`);
      expect(await greedy(12, id)).toEqual(want);
    } finally {
      await hub.close();
    }
    expect(s.external).toEqual([]);
  }, 300_000);
});
