/**
 * `decoding-lab bench`: the Node half of the benchmark (onnxruntime-node CPU, bundled models). The
 * measurements themselves live in src/bench/suite.ts, shared with the browser's worker; this file
 * loads the models and data, runs the suite, and checks the targets. Ratios compare runs measured
 * here, in the same process, so machine speed cancels out (DESIGN §4). `npm run bench`
 * (src/bench/run.ts) adds Chromium, bundle size, time to first token and long tasks.
 *
 * `--shape NAME` adds a realistic-shape run (issue 13 item 5): a random-weight model of a real
 * hub shape (gpt2-small, smollm2-135m, …) built by the foundry into bench/shapes/NAME (ignored by
 * git) on first use, measured with the 'overhead' job set: each strategy's step against the model
 * alone running the same calls, with a profile of where the time goes.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { decodeUtf8, readDataset, type PreferencePair } from '../core/data/preferences.ts';
import { loadGenerateBaseline } from '../bench/baseline.ts';
import { ratioTargets, shapeTargets, type BackendResult, type TargetResult } from '../bench/report.ts';
import { runSuite, type BenchRun } from '../bench/suite.ts';
import { kvGatherStats, type TransformersLanguageModel } from '../inference/backends/transformers.ts';
import { UsageError, type Parsed } from './args.ts';
import { MODELS_DIR, lm } from './nodeModels.ts';

export type { BenchRun } from '../bench/suite.ts';

export interface BenchOutput {
  device: string;
  ratios: {
    greedy_vs_generate: number;
    beam4_step_vs_greedy_step: number;
    genarm1_vs_greedy: number;
    /** pairs/s, batched prompt-sharing scorer ÷ naive loop, on the bundled split's first 64 pairs. */
    ranking_batched_vs_naive: number;
    /** pairs/s, prompt sharing ÷ batched full sequences (no sharing), same pairs: what sharing adds. */
    ranking_shared_vs_full_batched: number;
    /** As ranking_batched_vs_naive, on the first 64 HH-RLHF harmless-base test pairs (when present). */
    ranking_batched_vs_naive_hh?: number;
    /** Added by issue 6: beam 8, diverse beam (4 beams, 2 groups), two ARMs, implicit guidance, forward-only floors. */
    [extra: string]: number | undefined;
  };
  targets: Record<string, TargetResult>;
  runs: BenchRun[];
  reps: number;
  tokens: number;
  /** The process's peak resident memory after the bundled run (process.resourceUsage().maxRSS / 1024). */
  peak_rss_mb: number;
  /** `--shape NAME`: the realistic-shape run. */
  shape?: ShapeResult;
}

/** The realistic-shape part of `bench --json --shape NAME`. */
export interface ShapeResult {
  name: string;
  /** bench/shapes/NAME, relative to the repository. */
  folder: string;
  architecture: string;
  params: number;
  vocab: number;
  /** The ARM of the GenARM job: NAME-arm (same shape, another seed), or the policy itself when the foundry has none. */
  arm: string;
  /** greedy_step_vs_forward1, beam4_step_vs_forward4, genarm1_step_vs_forward_pair, ranking_vs_forward, beam4_gather_share. */
  ratios: Record<string, number>;
  targets: Record<string, TargetResult>;
  runs: BenchRun[];
  reps: number;
  tokens: number;
  /** Preference pairs of the ranking job (the bundled split's first N). */
  pairs: number;
  /** The process's peak resident memory at the end (the shape's models loaded and run). */
  peak_rss_mb: number;
}

/** Peak resident set size of this process so far, in MB. */
export const peakRssMb = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

export const SHAPES_DIR = path.join(MODELS_DIR, '..', 'bench', 'shapes');
const SHAPES_PY = path.join(MODELS_DIR, 'foundry', 'shapes.py');
const APT = 'apt-get install python3 python3-torch python3-onnx';

/** The Python that builds shapes: /usr/bin/python3 (Debian's, with torch and onnx), or DECODING_LAB_PYTHON. */
const python = (): string => process.env.DECODING_LAB_PYTHON || '/usr/bin/python3';

const shapeReady = (dir: string) => existsSync(path.join(dir, 'shape.json')) && existsSync(path.join(dir, 'onnx', 'model.onnx'));

/**
 * bench/shapes/NAME, built by `python3 models/foundry/shapes.py NAME` when missing. An unknown
 * name is a UsageError (or null with `optional`, for the ARM); no Python or no torch/onnx is a
 * UsageError saying what to install.
 */
export function ensureShape(name: string, o: { optional?: boolean; log?: (m: string) => void } = {}): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`--shape ${JSON.stringify(name)}: a shape name is letters, digits, '.', '_' or '-' (e.g. gpt2-small, smollm2-135m)`);
  const dir = path.join(SHAPES_DIR, name);
  if (shapeReady(dir)) return dir;
  const py = python();
  const needs = `building a shape needs Python 3 with PyTorch and ONNX (${py}); install them with \`${APT}\``;
  if (!existsSync(py)) throw new UsageError(`--shape ${name}: bench/shapes/${name} is not built yet and ${py} does not exist; ${needs}`);
  o.log?.(`bench: bench/shapes/${name} is not built; asking the foundry for it (${o.optional ? 'if it knows the name; ' : ''}one time, about a minute per 100M parameters)…`);
  const r = spawnSync(py, [SHAPES_PY, name], { cwd: path.join(MODELS_DIR, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60_000 });
  const err = (r.stderr ?? '').trim();
  if (r.error) throw new UsageError(`--shape ${name}: could not run ${py} (${r.error.message}); ${needs}`);
  const missing = /No module named '([^']+)'/.exec(err);
  if (missing) throw new UsageError(`--shape ${name}: ${py} has no module ${missing[1]}; ${needs}`);
  if (r.status === 2 && /unknown shape/.test(err)) {
    if (o.optional) return null;
    throw new UsageError(`--shape ${name}: ${err.split('\n').pop()?.replace(/^shapes\.py: /, '')}`);
  }
  if (r.status !== 0 || !shapeReady(dir)) throw new Error(`--shape ${name}: the foundry failed (exit ${r.status}): ${err.split('\n').slice(-3).join(' | ') || 'no output'}`);
  return dir;
}

/**
 * A clock of the time spent inside the models' forward passes: wraps each model's transformers.js
 * forward once (the adapter's prefill, step, score and extend all go through it) and sums wall time.
 */
const forwardClock = { ms: 0 };
const timed = new WeakSet<object>();
export function timeForwards(models: readonly TransformersLanguageModel[]): () => number {
  for (const m of models) {
    const inner = (m as unknown as { model?: { forward?: (feeds: unknown) => Promise<unknown> } }).model;
    if (!inner || typeof inner.forward !== 'function') throw new Error(`bench: cannot time ${m.id}'s forward passes (the adapter has no model.forward)`);
    if (timed.has(inner)) continue;
    timed.add(inner);
    const forward = inner.forward.bind(inner);
    inner.forward = async (feeds: unknown) => {
      const t0 = performance.now();
      try {
        return await forward(feeds);
      } finally {
        forwardClock.ms += performance.now() - t0;
      }
    };
  }
  return () => forwardClock.ms;
}

const gatherMs = () => kvGatherStats().ms;

/** Pairs used by the ranking jobs: the bundled positivity split and, when present, HH-RLHF harmless-base. */
export async function rankingSets(limit = 64): Promise<{ id: string; label: string; pairs: PreferencePair[] }[]> {
  const text = readFileSync(path.join(MODELS_DIR, 'datasets', 'prefs-positive-test.jsonl'), 'utf8');
  const sets = [{ id: 'bundled', label: 'bundled', pairs: (await readDataset([text], limit)).pairs }];
  const hhFile = [process.env.DECODING_LAB_SHARED, path.join(MODELS_DIR, '..', '..', 'shared'), '/work/shared']
    .filter((d): d is string => !!d)
    .map((d) => path.join(d, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz'))
    .find((f) => existsSync(f));
  if (hhFile) sets.push({ id: 'hh', label: 'HH-RLHF', pairs: (await readDataset(decodeUtf8(createReadStream(hhFile).pipe(createGunzip()) as AsyncIterable<Uint8Array>), limit)).pairs });
  return sets;
}

export async function bench(p: Parsed, opts: { onRound?: (r: number, of: number) => void; log?: (m: string) => void } = {}): Promise<BenchOutput> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  // The shape is built (or refused) before anything is measured: a missing Python fails in a second.
  let shape: { name: string; dir: string; armDir: string | null } | null = null;
  if (p.shape !== undefined) {
    const name = String(p.shape);
    const dir = ensureShape(name, { log }) as string;
    shape = { name, dir, armDir: ensureShape(`${name}-arm`, { optional: true, log }) };
  }
  const reps = (p.repeats as number | undefined) ?? 7;
  const tokens = (p.max_new_tokens as number | undefined) ?? 64;
  const [policy, armPositive, armConcise, tuned] = await Promise.all([lm('tiny-base'), lm('tiny-arm-positive'), lm('tiny-arm-concise'), lm('tiny-dpo-positive')]);
  // generate() runs on its own copy of tiny-base, on the same onnxruntime-node CPU device.
  const baseline = await loadGenerateBaseline(path.join(MODELS_DIR, 'tiny-base'), 'cpu');
  try {
    const r = await runSuite(
      { policy, tokenizer: policy.tokenizer, arms: [armPositive, armConcise], tuned, ref: policy },
      {
        reps,
        tokens,
        generateBaseline: baseline.generate,
        rankingSets: await rankingSets(),
        onRound: opts.onRound,
        forwardMs: timeForwards([policy, armPositive, armConcise, tuned]),
        gatherMs,
      },
    );
    const out: BenchOutput = { device: 'cpu', ratios: r.ratios as BenchOutput['ratios'], targets: ratioTargets(r.ratios, r.runs), runs: r.runs, reps: r.reps, tokens: r.tokens, peak_rss_mb: peakRssMb() };
    if (shape) out.shape = await benchShape(shape, p, log);
    return out;
  } finally {
    await baseline.dispose();
  }
}

/**
 * The realistic-shape run: policy = bench/shapes/NAME, ARM = NAME-arm (or the policy), the
 * 'overhead' job set, ranking on the bundled split's first `--limit` pairs (default 16).
 * Defaults: 7 rounds (fewer let one load spike decide a ratio on a shared machine), 32 tokens (`--repeats`, `--max_new_tokens` apply to both runs).
 */
async function benchShape(s: { name: string; dir: string; armDir: string | null }, p: Parsed, log: (m: string) => void): Promise<ShapeResult> {
  const reps = (p.repeats as number | undefined) ?? 7;
  const tokens = (p.max_new_tokens as number | undefined) ?? 32;
  const pairs = (p.limit as number | undefined) ?? 16;
  if (!(Number.isInteger(pairs) && pairs >= 1)) throw new UsageError(`--limit must be an integer >= 1 (got ${pairs}); with --shape it is the number of ranking pairs`);
  const meta = JSON.parse(readFileSync(path.join(s.dir, 'shape.json'), 'utf8')) as { architecture?: string; params?: number; vocab?: number };
  log(`bench: shape ${s.name}: loading ${s.armDir ? `it and ${s.name}-arm` : 'it'}…`);
  const policy = await lm(s.dir);
  const arm = s.armDir ? await lm(s.armDir) : policy;
  const sets = await rankingSets(pairs);
  try {
    const r = await runSuite(
      { policy, tokenizer: policy.tokenizer, arms: [arm, arm], tuned: policy, ref: policy },
      {
        set: 'overhead',
        reps,
        tokens,
        rankingSets: sets.slice(0, 1),
        forwardMs: timeForwards([policy, arm]),
        gatherMs,
        onRound: (n, of) => log(n === 0 ? `bench: shape ${s.name}: warm-up round` : `bench: shape ${s.name}: round ${n}/${of}`),
      },
    );
    return {
      name: s.name,
      folder: path.relative(path.join(MODELS_DIR, '..'), s.dir),
      architecture: meta.architecture ?? 'unknown',
      params: meta.params ?? NaN,
      vocab: meta.vocab ?? policy.vocabSize,
      arm: s.armDir ? `${s.name}-arm` : `${s.name} (the policy itself: the foundry has no ${s.name}-arm)`,
      ratios: r.ratios,
      targets: shapeTargets(r.ratios, r.runs),
      runs: r.runs,
      reps: r.reps,
      tokens: r.tokens,
      pairs: sets[0]?.pairs.length ?? 0,
      peak_rss_mb: peakRssMb(),
    };
  } finally {
    await policy.dispose();
    if (arm !== policy) await arm.dispose();
  }
}

/** The Node run as one backend of a results file. */
export function asBackend(o: BenchOutput): BackendResult {
  return { device: `cpu: onnxruntime-node (transformers.js 4.3.1), Node ${process.version}`, ratios: o.ratios as Record<string, number>, targets: o.targets, runs: o.runs, reps: o.reps, tokens: o.tokens };
}

/** The shape's part of the text report: ratios against targets, with the profile of each miss, and the measurements. */
export function formatShape(s: ShapeResult): string {
  const lines = [
    `Realistic shape ${s.name} (${s.architecture}, ${(s.params / 1e6).toFixed(1)}M parameters, vocabulary ${s.vocab}; ARM ${s.arm}; ${s.reps} rounds, ${s.tokens} tokens, ${s.pairs} ranking pairs; peak RSS ${s.peak_rss_mb} MB)`,
    '',
    '| measurement | median | unit |',
    '|---|---|---|',
    ...s.runs.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.unit} |`),
    '',
    '| ratio | value | target | met |',
    '|---|---|---|---|',
  ];
  for (const [k, v] of Object.entries(s.ratios)) {
    const t = s.targets[k];
    lines.push(`| ${k} | ${v.toFixed(3)} | ${t?.target ?? ''} | ${t ? (t.met ? 'yes' : '**no**') : ''} |`);
  }
  const missed = Object.entries(s.targets).filter(([, t]) => !t.met);
  if (missed.length) lines.push('', ...missed.map(([k, t]) => `Missed ${k} ${t.target}: ${t.reason}.`));
  return lines.join('\n');
}

export function formatBench(o: BenchOutput): string {
  const lines = ['| measurement | median | unit |', '|---|---|---|', ...o.runs.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.unit} |`), '', '| ratio | value | target | met |', '|---|---|---|---|'];
  for (const [k, v] of Object.entries(o.ratios)) {
    if (v === undefined) continue;
    const t = o.targets[k];
    lines.push(`| ${k} | ${v.toFixed(2)} | ${t?.target ?? ''} | ${t ? (t.met ? 'yes' : '**no**') : ''} |`);
  }
  const missed = Object.entries(o.targets).filter(([, t]) => !t.met);
  if (missed.length) lines.push('', ...missed.map(([k, t]) => `Missed ${k} ${t.target}: ${t.reason}.`), 'See bench/README.md for what would fix each.');
  lines.push('', `Peak RSS after the bundled run: ${o.peak_rss_mb} MB.`);
  if (o.shape) lines.push('', formatShape(o.shape));
  return lines.join('\n');
}
