/**
 * `npm run bench`: Node (onnxruntime-node) and headless Chromium (wasm; WebGPU where a real GPU
 * adapter exists), bundle size, time to first token and long tasks, in one run. Writes
 * bench/results.json (machine-readable) and bench/results.md (the Markdown table it also prints).
 *
 *   npm run bench -- [--node-only | --browser-only] [--reps N] [--browser-reps N] [--tokens N]
 *                    [--webgpu | --no-webgpu] [--ttft-runs N] [--no-write] [--out DIR]
 *
 * `decoding-lab bench [--json]` stays the Node-only contract (DESIGN §4).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asBackend, bench } from '../cli/bench.ts';
import { bundleReport } from './bundle.ts';
import { BenchUsageError, parseRunFlags, type RunFlags } from './flags.ts';
import { flatTargets, formatResults, type BackendResult, type BrowserExtras, type BundleReport, type ResultsFile } from './report.ts';

export async function runBench(f: RunFlags, log: (m: string) => void = (m) => process.stderr.write(m + '\n')): Promise<ResultsFile> {
  const backends: Record<string, BackendResult> = {};
  let browser: BrowserExtras | undefined;
  let bundle: BundleReport | undefined;
  if (!f.browserOnly) {
    log('node: loading the bundled models…');
    const out = await bench({ ...(f.reps ? { repeats: f.reps } : {}), ...(f.tokens ? { max_new_tokens: f.tokens } : {}) }, { onRound: (r, of) => log(r === 0 ? 'node: warm-up round' : `node: round ${r}/${of}`) });
    backends.node = asBackend(out);
  }
  if (!f.nodeOnly) {
    // Imported here so a Node-only run needs neither Vite nor playwright-core.
    const { benchBrowser, buildSite, OUT_DIR } = await import('./browser.ts');
    log(`browser: building the site into ${path.relative(process.cwd(), OUT_DIR)}…`);
    await buildSite(OUT_DIR);
    const b = await benchBrowser({ dist: OUT_DIR, reps: f.browserReps ?? f.reps, tokens: f.tokens, webgpu: f.webgpu, ttftRuns: f.ttftRuns, log: (m) => log(`browser: ${m}`) });
    Object.assign(backends, b.backends);
    browser = b.extras;
    bundle = bundleReport(OUT_DIR, b.loadedScripts);
  }
  const cpus = os.cpus();
  const results: ResultsFile = {
    date: new Date().toISOString(),
    machine: { platform: `${os.platform()} ${os.arch()}`, cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg_1m: Number(os.loadavg()[0]?.toFixed(2)) },
    note: 'Ratios are medians of interleaved rounds measured in the same run (each backend against itself); absolute numbers vary ±30% between runs on a shared machine. See bench/README.md.',
    device: Object.fromEntries(Object.entries(backends).map(([k, b]) => [k, b.device])),
    ratios: Object.fromEntries(Object.entries(backends).map(([k, b]) => [k, b.ratios])),
    runs: Object.fromEntries(Object.entries(backends).map(([k, b]) => [k, b.runs])),
    backends,
    ...(browser ? { browser } : {}),
    ...(bundle ? { bundle } : {}),
    targets: flatTargets(backends, bundle, browser),
  };
  if (f.write) {
    mkdirSync(f.out, { recursive: true });
    writeFileSync(path.join(f.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(path.join(f.out, 'results.md'), formatResults(results));
    log(`wrote ${path.join(f.out, 'results.json')} and results.md`);
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const results = await runBench(parseRunFlags(process.argv.slice(2)));
    process.stdout.write(formatResults(results));
    const missed = results.targets.filter((t) => !t.met);
    if (missed.length) process.stdout.write(`\n${missed.length} target(s) missed (see "why missed" above and bench/README.md).\n`);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`bench: ${err instanceof BenchUsageError ? '' : 'error: '}${err?.message ?? String(e)}\n`);
    process.exitCode = err instanceof BenchUsageError ? 2 : 1;
  }
}
