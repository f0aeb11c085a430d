/**
 * `decoding-lab bench`: the Node half of the benchmark (onnxruntime-node CPU, bundled models). The
 * measurements themselves live in src/bench/suite.ts, shared with the browser's worker; this file
 * loads the models and data, runs the suite, and checks the targets. Ratios compare runs measured
 * here, in the same process, so machine speed cancels out (DESIGN §4). `npm run bench`
 * (src/bench/run.ts) adds Chromium, bundle size, time to first token and long tasks.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { decodeUtf8, readDataset, type PreferencePair } from '../core/data/preferences.ts';
import { loadGenerateBaseline } from '../bench/baseline.ts';
import { ratioTargets, type BackendResult, type TargetResult } from '../bench/report.ts';
import { runSuite, type BenchRun } from '../bench/suite.ts';
import type { Parsed } from './args.ts';
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
}

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

export async function bench(p: Parsed, opts: { onRound?: (r: number, of: number) => void } = {}): Promise<BenchOutput> {
  const reps = (p.repeats as number | undefined) ?? 7;
  const tokens = (p.max_new_tokens as number | undefined) ?? 64;
  const [policy, armPositive, armConcise, tuned] = await Promise.all([lm('tiny-base'), lm('tiny-arm-positive'), lm('tiny-arm-concise'), lm('tiny-dpo-positive')]);
  // generate() runs on its own copy of tiny-base, on the same onnxruntime-node CPU device.
  const baseline = await loadGenerateBaseline(path.join(MODELS_DIR, 'tiny-base'), 'cpu');
  try {
    const r = await runSuite(
      { policy, tokenizer: policy.tokenizer, arms: [armPositive, armConcise], tuned, ref: policy },
      { reps, tokens, generateBaseline: baseline.generate, rankingSets: await rankingSets(), onRound: opts.onRound },
    );
    return { device: 'cpu', ratios: r.ratios as BenchOutput['ratios'], targets: ratioTargets(r.ratios, r.runs), runs: r.runs, reps: r.reps, tokens: r.tokens };
  } finally {
    await baseline.dispose();
  }
}

/** The Node run as one backend of a results file. */
export function asBackend(o: BenchOutput): BackendResult {
  return { device: `cpu: onnxruntime-node (transformers.js 4.3.1), Node ${process.version}`, ratios: o.ratios as Record<string, number>, targets: o.targets, runs: o.runs, reps: o.reps, tokens: o.tokens };
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
  return lines.join('\n');
}
