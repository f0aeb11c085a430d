/**
 * The browser half of the benchmark (Node side): builds the site into bench/out/dist, serves it with
 * the e2e tests' static server (with the build's `_headers`: COOP/COEP, so ORT gets its threads as
 * on a real host), and drives Debian's Chromium through playwright-core with every non-localhost
 * request aborted:
 *   - the suite (src/bench/suite.ts) in the worker on WASM, and on WebGPU when a real GPU adapter
 *     exists (SwiftShader / llvmpipe / fallback adapters do not count; `webgpu: 'force'` runs anyway);
 *   - time from navigation start to the first generated token, greedy from the UI, cold visits;
 *   - main-thread long tasks (PerformanceObserver 'longtask') during a greedy generation;
 *   - which JavaScript files the page loaded (for the bundle report).
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { CHROMIUM } from '../../test/e2e/browser.ts';
import { serveStatic } from '../../test/e2e/static-server.ts';
import type { BenchOptions, BenchResult } from '../inference/protocol.ts';
import { LONGTASK_CPU_TARGET, LONGTASK_TARGET, check, ratioTargets, type BackendResult, type BrowserExtras } from './report.ts';
import { median } from './suite.ts';
import { mainThreadTasks, TASK_TRACE_CATEGORIES } from './trace.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OUT_DIR = fileURLToPath(new URL('../../bench/out/dist', import.meta.url));
/** As test/e2e/browser.ts: no first-run UI, no background traffic. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan'];

/** `vite build` as `npm run build` does it (production mode even under Vitest), into `outDir`. */
export async function buildSite(outDir = OUT_DIR, base = '/'): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: ROOT, logLevel: 'warn', base, build: { outDir, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

export interface BrowserBenchOptions {
  /** Folder of a build (see buildSite). */
  readonly dist: string;
  /** Suite rounds after the warm-up. @default 5 */
  readonly reps?: number;
  /** New tokens per decoding run. @default 64 */
  readonly tokens?: number;
  /** 'auto': only on a real GPU adapter; 'force': also on a software one; 'off': never. @default 'auto' */
  readonly webgpu?: 'auto' | 'force' | 'off';
  /** Cold visits for time to first token. @default 5 */
  readonly ttftRuns?: number;
  /** Tokens of the long-task generation. @default 64 */
  readonly longtaskTokens?: number;
  readonly log?: (msg: string) => void;
}

export interface BrowserBenchResult {
  readonly backends: Record<string, BackendResult>;
  readonly extras: BrowserExtras;
  /** JS files (relative to the site root) the page fetched while loading and generating. */
  readonly loadedScripts: Set<string>;
}

/** A context whose every non-localhost request is aborted (and counted: none is expected). */
async function isolatedContext(browser: Browser, external: string[], serviceWorkers: 'allow' | 'block'): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, serviceWorkers });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  return context;
}

/** Waits until the worker reported its device (the device line has data-device set). */
async function waitDevice(page: Page, device: 'wasm' | 'webgpu'): Promise<void> {
  await page.locator(`[data-testid="device"][data-device="${device}"]`).waitFor({ timeout: 120_000 });
}

const DONE = '[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])';
/** tiny-base continues this prompt greedily for 64 tokens without EOS (the default prompt stops after 9). */
const LONG_PROMPT = 'In the coming year, the Congress';

/** Installed before any page script: first-token time and long tasks, in page time (ms since navigation start). */
function benchProbes(): void {
  const w = window as unknown as { __bench: { firstToken: number | null; click: number | null; longtasks: { start: number; duration: number }[] } };
  w.__bench = { firstToken: null, click: null, longtasks: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__bench.longtasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver(() => {
    if (w.__bench.firstToken !== null) return;
    const ids = document.querySelector('[data-testid="output"]')?.getAttribute('data-token-ids');
    if (ids) w.__bench.firstToken = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-token-ids'] });
  document.addEventListener('click', (e) => {
    if ((e.target as Element | null)?.closest?.('[data-testid="generate"]')) w.__bench.click = performance.now();
  }, true);
}

interface ProbeState {
  firstToken: number | null;
  click: number | null;
  longtasks: { start: number; duration: number }[];
}
const probeState = (page: Page) => page.evaluate(() => (window as unknown as { __bench: ProbeState }).__bench);

/** The adapter Chromium's WebGPU gives, and whether it is a real GPU (not SwiftShader / llvmpipe / a fallback). */
export async function webgpuAdapter(browser: Browser, url: string): Promise<{ real: boolean; description: string }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url + 'models/manifest.json'); // any same-origin page: a secure context on localhost
    const info = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<null | { info?: Record<string, unknown>; isFallbackAdapter?: boolean }> } }).gpu;
      if (!gpu) return null;
      const a = await gpu.requestAdapter();
      if (!a) return { none: true } as Record<string, unknown>;
      const i = a.info ?? {};
      return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: a.isFallbackAdapter ?? i.isFallbackAdapter ?? false };
    });
    if (!info) return { real: false, description: 'no WebGPU in this Chromium (navigator.gpu is missing)' };
    if (info.none) return { real: false, description: 'WebGPU is present but no adapter is available' };
    const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
    const software = !!info.fallback || /swiftshader|llvmpipe|lavapipe|software|basic render/i.test(text);
    return { real: !software, description: `${text || 'unnamed adapter'}${info.fallback ? ' (fallback adapter)' : ''}` };
  } finally {
    await context.close();
  }
}

/** Runs the suite in the page's worker on `device`. */
async function suiteIn(browser: Browser, url: string, device: 'wasm' | 'webgpu', opts: BenchOptions, external: string[]): Promise<BenchResult & { threads: string }> {
  const context = await isolatedContext(browser, external, 'block'); // no precache download competing with the runs
  try {
    const page = await context.newPage();
    await page.goto(`${url}?device=${device}`);
    await waitDevice(page, device);
    const threads = (await page.getByTestId('device').textContent())?.match(/(\d+) threads?/)?.[1] ?? '';
    const r = await page.evaluate((o) => (globalThis as unknown as { decodingLab: { client: { bench(o: BenchOptions): Promise<BenchResult> } } }).decodingLab.client.bench(o), opts);
    return { ...r, threads };
  } finally {
    await context.close();
  }
}

export async function benchBrowser(o: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const log = o.log ?? (() => {});
  const server = await serveStatic(o.dist, { headers: true });
  const external: string[] = [];
  const loadedScripts = new Set<string>();
  const root = new URL(server.url).pathname;
  const noteScript = (u: string) => {
    const p = new URL(u).pathname;
    if (/\.m?js$/.test(p) && p.startsWith(root)) loadedScripts.add(p.slice(root.length));
  };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(o.webgpu === 'off' ? ['--disable-gpu'] : WEBGPU_FLAGS)] });
  try {
    const chromiumVersion = browser.version();
    const backends: Record<string, BackendResult> = {};
    const suiteOpts: BenchOptions = { reps: o.reps ?? 5, tokens: o.tokens ?? 64 };

    // Time to first token: cold visits, each in a fresh context (empty HTTP cache, no service worker
    // yet: a first visit), greedy with 8 new tokens, clicking Generate as soon as it is enabled.
    const ttft: number[] = [];
    for (let i = 0; i < (o.ttftRuns ?? 5); i++) {
      const context = await isolatedContext(browser, external, 'allow');
      try {
        await context.addInitScript(benchProbes);
        const page = await context.newPage();
        page.on('response', (r) => noteScript(r.url()));
        await page.goto(`${server.url}?device=wasm&strategy=greedy&max_new_tokens=8`);
        await page.getByTestId('generate').click({ timeout: 120_000 });
        await page.locator(DONE).waitFor({ timeout: 120_000 });
        const s = await probeState(page);
        if (s.firstToken === null) throw new Error('time to first token: the page showed no token');
        ttft.push(s.firstToken);
        log(`ttft run ${i + 1}: ${s.firstToken.toFixed(0)} ms (Generate clicked at ${s.click?.toFixed(0)} ms)`);
      } finally {
        await context.close();
      }
    }

    // Long tasks while generating: models loaded by a first run, then a measured greedy run.
    const ltTokens = o.longtaskTokens ?? 64;
    let longtasks: BrowserExtras['longtasks'];
    {
      const context = await isolatedContext(browser, external, 'block');
      try {
        await context.addInitScript(benchProbes);
        const page = await context.newPage();
        page.on('response', (r) => noteScript(r.url()));
        await page.goto(`${server.url}?device=wasm&strategy=greedy&max_new_tokens=${ltTokens}&prompt=${encodeURIComponent(LONG_PROMPT)}`);
        await waitDevice(page, 'wasm');
        await page.getByTestId('generate').click();
        await page.locator(DONE).waitFor({ timeout: 120_000 });
        // Traced too: the Long Tasks API gives wall time, the trace each task's CPU (thread) time.
        await browser.startTracing(page, { categories: TASK_TRACE_CATEGORIES });
        await page.getByTestId('generate').click();
        await page.locator(DONE).waitFor({ timeout: 120_000 });
        const end = await page.evaluate(() => performance.now());
        const traced = mainThreadTasks((await browser.stopTracing()).toString('utf8'));
        const maxCpu = traced.reduce((m, t) => Math.max(m, t.cpuMs), 0);
        const longest = traced.reduce((a, t) => (t.wallMs > a.wallMs ? t : a), { ts: 0, wallMs: 0, cpuMs: 0 });
        const s = await probeState(page);
        const generated = ((await page.getByTestId('output').getAttribute('data-token-ids')) ?? '').split(' ').filter(Boolean).length;
        const from = s.click ?? 0;
        const during = s.longtasks.filter((t) => t.start + t.duration > from && t.start < end).map((t) => t.duration);
        const max = during.length ? Math.max(...during) : 0;
        longtasks = {
          tokens: generated,
          count: during.length,
          max_ms: max,
          durations_ms: during,
          max_cpu_ms: maxCpu,
          generation_ms: end - from,
          target: check(LONGTASK_TARGET, max, () =>
            `${during.length} long task(s) during generation, the longest ${max.toFixed(0)} ms wall; the trace's longest main-thread task took ${longest.wallMs.toFixed(0)} ms wall but ${longest.cpuMs.toFixed(1)} ms CPU, ` +
            `and no task used more than ${maxCpu.toFixed(1)} ms CPU: ${maxCpu <= LONGTASK_CPU_TARGET.bound ? 'the OS did not schedule the renderer (machine load), the page was not working' : "the page's own work blocks the main thread"}`),
          cpu_target: check(LONGTASK_CPU_TARGET, maxCpu, () => `a main-thread task used ${maxCpu.toFixed(1)} ms of CPU while generating: the page's own work (rendering per event) blocks`),
        };
        log(`long tasks during a ${generated}-token generation: ${during.length}, max ${max.toFixed(0)} ms wall; max main-thread task CPU ${maxCpu.toFixed(1)} ms`);
      } finally {
        await context.close();
      }
    }

    log(`suite on wasm (${suiteOpts.reps} reps, ${suiteOpts.tokens} tokens)…`);
    const wasm = await suiteIn(browser, server.url, 'wasm', suiteOpts, external);
    backends.wasm = {
      device: `Chromium ${chromiumVersion}, onnxruntime-web wasm, ${wasm.threads || '?'} thread(s)`,
      ratios: wasm.ratios,
      targets: ratioTargets(wasm.ratios, wasm.runs),
      runs: wasm.runs,
      reps: wasm.reps,
      tokens: wasm.tokens,
    };

    let webgpu = 'not measured (webgpu: off)';
    if (o.webgpu !== 'off') {
      const adapter = await webgpuAdapter(browser, server.url);
      const run = adapter.real || o.webgpu === 'force';
      webgpu = run
        ? `measured on ${adapter.description}${adapter.real ? '' : ' (software adapter, forced: timings are CPU emulation, not a GPU)'}`
        : `not measured: ${adapter.description} is not a real GPU (--webgpu forces it)`;
      log(`WebGPU adapter: ${adapter.description}${run ? '' : ' — skipped'}`);
      if (run) {
        // A software adapter runs ~6 tokens/s: 8 ranking pairs instead of 64 keep a forced run to minutes.
        const g = await suiteIn(browser, server.url, 'webgpu', adapter.real ? suiteOpts : { ...suiteOpts, rankingPairs: 8 }, external);
        const note = adapter.real ? '' : ' (software adapter: ranking on 8 pairs)';
        backends.webgpu = { device: `Chromium ${chromiumVersion}, onnxruntime-web WebGPU on ${adapter.description}${note}`, ratios: g.ratios, targets: ratioTargets(g.ratios, g.runs), runs: g.runs, reps: g.reps, tokens: g.tokens };
      }
    }
    if (external.length) throw new Error(`the page tried to leave localhost: ${[...new Set(external)].slice(0, 5).join(', ')}`);
    return {
      backends,
      extras: { chromium: chromiumVersion, ttft: { samples_ms: ttft, median_ms: median(ttft), device: 'wasm' }, longtasks, webgpu },
      loadedScripts,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
