/**
 * The ranking view in Chromium (WASM): a run on the bundled split survives a reload mid-run (the
 * partial result is shown, "Resume" continues from the next pair, and the final accuracy equals the
 * CLI's uninterrupted run); token strips for a pair; and the other dataset sources — a dropped file
 * (a DataTransfer made in the page), a URL served by this test's own server (plus its 404 and HTML
 * failures), and a Hugging Face dataset read from a local fake datasets-server serving the bundled
 * split's rows. No request leaves localhost.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../integration/env.ts';
import { MODELS_DIR } from '../integration/env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank as rankCli } from '../../src/cli/rank.ts';
import { openSession, type Session } from './browser.ts';

const SPLIT = path.join(MODELS_DIR, 'datasets', 'prefs-positive-test.jsonl');
const LINES = readFileSync(SPLIT, 'utf8').split('\n').filter(Boolean);
const ROWS = LINES.map((l) => JSON.parse(l) as Record<string, unknown>);

/** A local http server with CORS; `handle` answers or returns false for a 404. */
function serve(handle: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(url.pathname + url.search);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (!handle(req, res, url)) {
      res.statusCode = 404;
      res.end('Not found');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())) });
    }),
  );
}

async function cli(args: string[]) {
  return rankCli(parseArgs(['--scorer', 'policy', '--policy', 'tiny-dpo-positive', ...args]));
}

/**
 * Clicks Evaluate once it is enabled (the previous run has finished). The click is dispatched on the
 * element: on the loaded 2-core VM, Playwright's "stable" check (two animation frames) sometimes
 * waited past a minute for frames while the page itself answered at once.
 */
async function evaluate(s: Session) {
  const b = s.page.getByTestId('rank-run');
  await expect.poll(() => b.isDisabled(), { timeout: 60_000 }).toBe(false);
  await b.dispatchEvent('click');
}

const final = (n: number) => `[data-testid="rank-accuracy"][data-n="${n}"][data-partial="no"]`;

describe('ranking view (WASM)', () => {
  let s: Session;
  let tmp: string;
  beforeAll(async () => {
    s = await openSession();
    tmp = mkdtempSync(path.join(tmpdir(), 'rank-e2e-'));
  });
  afterAll(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function open(query = '') {
    await s.page.goto(`${inject('siteUrl')}?device=wasm${query}`, { timeout: 120_000 }); // a loaded 2-core VM can be slow
    await s.page.locator('[data-device="wasm"]').waitFor({ timeout: 60_000 });
    await s.page.getByTestId('rank-scorer').selectOption('policy'); // policy tiny-dpo-positive (the view's default)
  }

  it('keeps a partial result across a reload mid-run, resumes from the next pair, and ends at the CLI accuracy', async () => {
    const { page } = s;
    await open();
    await page.getByTestId('rank-limit').fill('300');
    await evaluate(s);
    // a window of 64 pairs is saved to IndexedDB as soon as it completes: reload then
    await page.locator('[data-testid="rank-saved"]:not([data-saved="0"])').waitFor({ timeout: 120_000 });
    expect(await page.locator(final(300)).count()).toBe(0); // still running
    await page.reload();
    const partial = page.getByTestId('rank-partial');
    await partial.waitFor({ timeout: 30_000 });
    const kept = Number(await partial.getAttribute('data-pairs'));
    expect(kept % 64).toBe(0);
    expect(kept).toBeGreaterThanOrEqual(64);
    expect(kept).toBeLessThan(300);
    expect(Number(await page.getByTestId('rank-accuracy').getAttribute('data-n'))).toBe(kept); // the partial report
    await page.locator('[data-device="wasm"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('rank-resume').click();
    await page.locator(final(300)).waitFor({ timeout: 180_000 });
    expect(await page.getByTestId('rank-label').textContent()).toContain(`resumed after ${kept} pairs`);
    const inBrowser = Number(await page.getByTestId('rank-accuracy').getAttribute('data-accuracy'));
    const whole = await cli(['--dataset', SPLIT, '--limit', '300']);
    expect(whole.n).toBe(300);
    expect(inBrowser).toBe(whole.accuracy);
    expect(await page.getByTestId('rank-partial').count()).toBe(0);

    // token strips of the first pair: both responses, a value per token, text as text
    await page.locator('[data-testid="rank-pairs"]').evaluate((d) => ((d.closest('details') as HTMLDetailsElement).open = true));
    await page.getByTestId('rank-expand').first().click();
    const strips = page.getByTestId('pair-strips');
    await strips.waitFor({ timeout: 30_000 });
    expect(await strips.getByTestId('token-strip').count()).toBe(2);
    const values = await strips.locator('[data-testid="token-strip"]').first().locator('.tok').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    const sum = values.reduce((a, v) => a + v, 0);
    expect(Math.abs(sum - (whole.pairs[0]?.chosen as number))).toBeLessThan(1e-3);
    expect(s.external).toEqual([]);
  });

  it('scores a dropped file; the chat-template box is disabled with the reason for the bundled models', async () => {
    const { page } = s;
    await open();
    await expect.poll(() => page.getByTestId('rank-chat-template-reason').textContent(), { timeout: 30_000 }).toMatch(
      /tiny-dpo-positive's tokenizer has no chat template \(its tokenizer_config.json has no "chat_template"\)/,
    );
    expect(await page.getByTestId('rank-chat-template').isDisabled()).toBe(true);
    const text = LINES.slice(0, 30).join('\n') + '\n';
    writeFileSync(path.join(tmp, 'dropped.jsonl'), text);
    await page.getByTestId('rank-drop').evaluate((el, t) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'dropped.jsonl', { type: 'application/x-ndjson' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    expect(await page.getByTestId('rank-file-name').textContent()).toMatch(/^dropped\.jsonl/);
    await page.getByTestId('rank-limit').fill('0');
    await evaluate(s);
    await page.locator(final(30)).waitFor({ timeout: 120_000 });
    const want = await cli(['--dataset', path.join(tmp, 'dropped.jsonl')]);
    expect(Number(await page.getByTestId('rank-accuracy').getAttribute('data-accuracy'))).toBe(want.accuracy);
    expect(await page.getByTestId('rank-label').textContent()).toContain('dropped.jsonl');
  });

  it('implicit scorer: β follows the manifest, R(π_θ), R*(π_ref) and the gap per β equal the CLI, every ranking term has an ⓘ', async () => {
    const { page } = s;
    await open();
    await page.getByTestId('rank-scorer').selectOption('implicit');
    await expect.poll(() => page.getByTestId('rank-beta-source').textContent(), { timeout: 30_000 }).toMatch(/training β of tiny-dpo-positive/);
    expect(await page.getByTestId('rank-beta').inputValue()).toBe('0.1');
    expect(await page.getByTestId('rank-ref').inputValue()).toBe('tiny-base');
    await page.getByTestId('rank-limit').fill('60');
    await evaluate(s);
    await page.locator(final(60)).waitFor({ timeout: 180_000 });
    const want = await rankCli(parseArgs(['--scorer', 'implicit', '--tuned', 'tiny-dpo-positive', '--dataset', SPLIT, '--limit', '60']));
    const num = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-value'));
    expect(Number(await page.getByTestId('rank-accuracy').getAttribute('data-accuracy'))).toBe(want.accuracy);
    expect(await num('rank-r')).toBe(want.r?.value);
    expect(await num('rank-rstar')).toBe(want.r_star?.value);
    expect(await page.getByTestId('rank-rstar').getAttribute('data-model')).toBe('tiny-base');
    expect(await num('rank-gap')).toBe(want.alignment_gap);
    const table = page.getByTestId('rank-gap-by-beta');
    expect(await table.locator('tbody tr').count()).toBe(5);
    expect(await table.getByTestId('gap-chart').count()).toBe(1);
    // y-axis labels on the ranking charts
    expect(await page.getByTestId('margin-histogram').textContent()).toContain('pairs');
    expect(await page.getByTestId('reliability').textContent()).toContain('share preferred');
    // an ⓘ for each term shown, opening one sentence with its formula
    const terms = await page.getByTestId('ranking').getByTestId('info').evaluateAll((els) => els.map((e) => e.getAttribute('data-term')));
    for (const t of ['ranking accuracy', 'ties', 'R (ranking accuracy of the policy)', 'R* (idealized ranking accuracy)', 'alignment gap', 'ECE (expected calibration error)', 'ACE (average calibration error)', 'α', 'α when the data has none', 'both orderings', 'β (DPO’s reward scale)'])
      expect(terms, t).toContain(t);
    await page.locator('[data-testid="rank-rstar"] [data-testid="info"]').click();
    expect(await page.getByTestId('info-panel').textContent()).toContain('logit(α)');
  });

  it('renders hostile dataset text (ids, prompts, responses, bad lines) as inert text', async () => {
    const { page } = s;
    const xss = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';
    const rows = [
      { id: `a${xss}`, prompt: `Say ${xss}`, chosen: ` great ${xss}`, rejected: ` bad ${xss}` },
      { id: 'b', prompt: 'The nation', chosen: ' is strong.', rejected: ' is weak.' },
    ];
    const text = rows.map((r) => JSON.stringify(r)).join('\n') + `\n{"prompt": "${xss.replace(/"/g, '\\"')}"\n`;
    await page.getByTestId('rank-drop').evaluate((el, t) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'hostile.jsonl', { type: 'application/x-ndjson' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await page.getByTestId('rank-limit').fill('0');
    await evaluate(s);
    await page.locator(final(2)).waitFor({ timeout: 120_000 });
    const view = page.getByTestId('ranking');
    expect(await view.textContent()).toContain('line 3'); // the bad line is reported by number
    await page.locator('[data-testid="rank-pairs"]').evaluate((d) => ((d.closest('details') as HTMLDetailsElement).open = true));
    expect(await page.getByTestId('rank-pairs').textContent()).toContain(`a${xss}`);
    await page.getByTestId('rank-expand').first().click();
    const strips = page.getByTestId('pair-strips');
    await strips.waitFor({ timeout: 30_000 });
    expect((await strips.textContent())?.replace(/\s+/g, ' ')).toContain('onerror');
    expect(await page.locator('#ranking img, #ranking script, #ranking b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('reads a URL, and says what is wrong with a missing file or an HTML page', async () => {
    const { page } = s;
    const srv = await serve((_req, res, url) => {
      if (url.pathname === '/prefs.jsonl') {
        res.setHeader('Content-Type', 'application/x-ndjson');
        res.end(readFileSync(SPLIT));
        return true;
      }
      if (url.pathname === '/page') {
        res.setHeader('Content-Type', 'text/html');
        res.end('<!doctype html><title>hi</title>');
        return true;
      }
      return false;
    });
    try {
      await open();
      await page.getByTestId('rank-source-url').check();
      await page.getByTestId('rank-limit').fill('40');
      for (const [p, msg] of [['/missing.jsonl', /answered HTTP 404/], ['/page', /is an HTML page, not a dataset/]] as const) {
        await page.getByTestId('rank-url').fill(`${srv.url}${p}`);
        await evaluate(s);
        await expect.poll(() => page.getByTestId('rank-error').textContent(), { timeout: 60_000 }).toMatch(msg);
      }
      await page.getByTestId('rank-url').fill(`${srv.url}/prefs.jsonl`);
      await evaluate(s);
      await page.locator(final(40)).waitFor({ timeout: 120_000 });
      const want = await cli(['--dataset', SPLIT, '--limit', '40']);
      expect(Number(await page.getByTestId('rank-accuracy').getAttribute('data-accuracy'))).toBe(want.accuracy);
      expect(srv.seen).toContain('/prefs.jsonl');
    } finally {
      await srv.close();
    }
  });

  it('reads a Hugging Face dataset through a (fake, local) datasets-server, 100 rows per request', async () => {
    const { page } = s;
    const srv = await serve((_req, res, url) => {
      const json = (status: number, body: unknown) => {
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(body));
        return true;
      };
      if (url.searchParams.get('dataset') !== 'me/prefs') return json(404, { error: 'The dataset does not exist, or is not accessible without authentication (private or gated).' });
      if (url.pathname === '/splits') return json(200, { splits: [{ dataset: 'me/prefs', config: 'default', split: 'test' }], pending: [], failed: [] });
      if (url.pathname !== '/rows') return false;
      const offset = Number(url.searchParams.get('offset'));
      const length = Math.min(100, Number(url.searchParams.get('length')));
      const rows = ROWS.slice(offset, offset + length).map((row, k) => ({ row_idx: offset + k, row, truncated_cells: [] }));
      return json(200, { features: [], rows, num_rows_total: ROWS.length, num_rows_per_page: 100, partial: false });
    });
    try {
      await open(`&datasetsServer=${encodeURIComponent(srv.url)}`);
      await page.getByTestId('rank-source-hf').check();
      await page.getByTestId('rank-hf-dataset').fill('me/nothing');
      await page.getByTestId('rank-hf-lookup').click();
      await expect.poll(() => page.getByTestId('rank-error').textContent(), { timeout: 30_000 }).toMatch(/HTTP 404.*The dataset does not exist/);
      await page.getByTestId('rank-hf-dataset').fill('me/prefs');
      await page.getByTestId('rank-hf-lookup').click();
      await expect.poll(() => page.getByTestId('rank-hf-split').inputValue(), { timeout: 30_000 }).toBe('default\u0000test');
      await page.getByTestId('rank-limit').fill('150');
      await evaluate(s);
      await page.locator(final(150)).waitFor({ timeout: 120_000 });
      const want = await cli(['--dataset', SPLIT, '--limit', '150']);
      expect(Number(await page.getByTestId('rank-accuracy').getAttribute('data-accuracy'))).toBe(want.accuracy);
      const rowRequests = srv.seen.filter((u) => u.startsWith('/rows'));
      expect(rowRequests[0]).toBe('/rows?dataset=me%2Fprefs&config=default&split=test&offset=0&length=100');
      expect(rowRequests.length).toBeGreaterThanOrEqual(2);
      expect(rowRequests.every((u) => Number(new URLSearchParams(u.split('?')[1]).get('length')) <= 100)).toBe(true);
      expect(s.external).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});
