/**
 * `decoding-lab bench`: speed ratios on the bundled models in one process (onnxruntime-node CPU),
 * each a median over repetitions after a warm-up (DESIGN §4). Ratios compare runs measured here,
 * in the same process, so machine speed cancels out.
 */
import { AutoModelForCausalLM, Tensor } from '@huggingface/transformers';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { decodeUtf8, readDataset, type PreferencePair } from '../core/data/preferences.ts';
import { scorePairs } from '../core/metrics/scorePairs.ts';
import { decode, type StrategySpec } from '../core/search/strategy.ts';
import type { Parsed } from './args.ts';
import { MODELS_DIR, lm } from './nodeModels.ts';

export interface BenchRun {
  name: string;
  unit: string;
  median: number;
  samples: number[];
}

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
  };
  targets: Record<string, { target: string; met: boolean }>;
  runs: BenchRun[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Job {
  readonly name: string;
  readonly unit: string;
  run(): Promise<number>;
}

/**
 * Runs every job once to warm up, then `reps` rounds in which each job runs once (interleaved, so
 * a noisy neighbour or a CPU frequency change hits every job alike), and takes medians.
 */
async function measureAll(jobs: readonly Job[], reps: number): Promise<BenchRun[]> {
  for (const j of jobs) await j.run();
  const samples = jobs.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) for (let i = 0; i < jobs.length; i++) samples[i]!.push(await jobs[i]!.run());
  return jobs.map((j, i) => ({ name: j.name, unit: j.unit, median: median(samples[i]!), samples: samples[i]! }));
}

const PROMPT = 'The state of the Union is';
/** Every run generates exactly this many tokens (min_new_tokens = max_new_tokens), so EOS cannot end a run early. */
const TOKENS = 64;

export async function bench(p: Parsed): Promise<BenchOutput> {
  const reps = (p.repeats as number | undefined) ?? 7;
  const policy = await lm('tiny-base');
  const arm = await lm('tiny-arm-positive');
  const ids = policy.tokenizer.encode(PROMPT);
  const run = async (spec: StrategySpec, withArm = false): Promise<{ ms: number; tokens: number; steps: number }> => {
    const t0 = performance.now();
    let tokens = 0;
    let steps = 0;
    for await (const e of decode({ ...spec, traceTopK: 0 }, { policy, arms: withArm ? [arm] : [] }, ids)) {
      if (e.type === 'step') steps++;
      else tokens = e.sequences[0]?.tokenIds.length ?? 0;
    }
    return { ms: performance.now() - t0, tokens, steps };
  };
  const fixed = { max_new_tokens: TOKENS, min_new_tokens: TOKENS };
  const greedySpec: StrategySpec = { strategy: 'greedy', config: fixed };
  const hf = await AutoModelForCausalLM.from_pretrained(path.join(MODELS_DIR, 'tiny-base'), { device: 'cpu', dtype: 'fp32' });
  const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const jobs: Job[] = [];
  jobs.push({ name: 'greedy (ours)', unit: 'tokens/s', run: async () => {
    const r = await run(greedySpec);
    return r.tokens / (r.ms / 1000);
  } });
  jobs.push({ name: 'greedy (transformers.js generate)', unit: 'tokens/s', run: async () => {
    const t0 = performance.now();
    const out = (await hf.generate({ input_ids, attention_mask, max_new_tokens: TOKENS, min_new_tokens: TOKENS, do_sample: false })) as Tensor;
    return ((out.dims[1] as number) - ids.length) / ((performance.now() - t0) / 1000);
  } });
  jobs.push({ name: 'greedy step', unit: 'ms/step', run: async () => {
    const r = await run(greedySpec);
    return r.ms / r.steps;
  } });
  jobs.push({ name: 'beam search, 4 beams, step', unit: 'ms/step', run: async () => {
    const r = await run({ strategy: 'beam', config: { ...fixed, num_beams: 4 } });
    return r.ms / r.steps;
  } });
  jobs.push({ name: 'GenARM, one ARM, step', unit: 'ms/step', run: async () => {
    const r = await run({ strategy: 'genarm', config: fixed }, true);
    return r.ms / r.steps;
  } });
  // Ranking: the batched, prompt-sharing scorer against a naive loop that runs one full
  // prompt + response sequence at a time (same tokenization, truncation and skip rules, same
  // per-token log-prob kernel), on the first 64 pairs of the bundled split and, when the shared
  // data folder has it, of the HH-RLHF harmless-base test file (long multi-turn prompts).
  const text = readFileSync(path.join(MODELS_DIR, 'datasets', 'prefs-positive-test.jsonl'), 'utf8');
  const { pairs } = await readDataset([text], 64);
  const tok = policy.tokenizer;
  const naive = async (ps: readonly PreferencePair[]) => {
    for (const pr of ps) {
      const chosen = tok.encode(pr.chosen);
      const rejected = tok.encode(pr.rejected);
      const longest = Math.max(chosen.length, rejected.length);
      if (longest + 1 > policy.contextLength) continue; // skipped, as scorePairs does
      let prompt = tok.encode(pr.prompt);
      if (prompt.length === 0) prompt = [tok.eosTokenId];
      if (prompt.length + longest > policy.contextLength) prompt = prompt.slice(prompt.length - (policy.contextLength - longest));
      for (const r of [chosen, rejected]) await policy.score([[...prompt, ...r]], [prompt.length]);
    }
  };
  const rankingJobs = (label: string, ps: readonly PreferencePair[]): Job[] => [
    { name: `ranking${label}, batched, prompt sharing (8 pairs per batch)`, unit: 'pairs/s', run: async () => {
      const t0 = performance.now();
      await scorePairs(ps, 'policy', { policy }, tok, { batchSize: 8 });
      return ps.length / ((performance.now() - t0) / 1000);
    } },
    { name: `ranking${label}, naive (one sequence at a time)`, unit: 'pairs/s', run: async () => {
      const t0 = performance.now();
      await naive(ps);
      return ps.length / ((performance.now() - t0) / 1000);
    } },
  ];
  jobs.push(...rankingJobs('', pairs));
  jobs.push({ name: 'ranking, batched, full sequences (no prompt sharing)', unit: 'pairs/s', run: async () => {
    const t0 = performance.now();
    await scorePairs(pairs, 'policy', { policy }, tok, { batchSize: 8, sharePrompts: false });
    return pairs.length / ((performance.now() - t0) / 1000);
  } });
  const hhFile = [process.env.DECODING_LAB_SHARED, path.join(MODELS_DIR, '..', '..', 'shared'), '/work/shared']
    .filter((d): d is string => !!d)
    .map((d) => path.join(d, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz'))
    .find((f) => existsSync(f));
  const hh = hhFile ? (await readDataset(decodeUtf8(createReadStream(hhFile).pipe(createGunzip()) as AsyncIterable<Uint8Array>), 64)).pairs : null;
  if (hh) jobs.push(...rankingJobs(' HH-RLHF', hh));
  const runs = await measureAll(jobs, reps);
  const [ours, theirs, greedyStep, beamStep, genarmStep, batched, naiveRun, fullSeq, hhBatched, hhNaive] = runs as [BenchRun, BenchRun, BenchRun, BenchRun, BenchRun, BenchRun, BenchRun, BenchRun, BenchRun?, BenchRun?];
  const ratios: BenchOutput['ratios'] = {
    greedy_vs_generate: ours.median / theirs.median,
    beam4_step_vs_greedy_step: beamStep.median / greedyStep.median,
    genarm1_vs_greedy: genarmStep.median / greedyStep.median,
    // the bundled split (short prompts), as before
    ranking_batched_vs_naive: batched.median / naiveRun.median,
    ranking_shared_vs_full_batched: batched.median / fullSeq.median,
    ...(hhBatched && hhNaive ? { ranking_batched_vs_naive_hh: hhBatched.median / hhNaive.median } : {}),
  };
  const targets = {
    greedy_vs_generate: { target: '>= 0.95', met: ratios.greedy_vs_generate >= 0.95 },
    beam4_step_vs_greedy_step: { target: '<= 2', met: ratios.beam4_step_vs_greedy_step <= 2 },
    genarm1_vs_greedy: { target: '<= 2.2', met: ratios.genarm1_vs_greedy <= 2.2 },
    ranking_batched_vs_naive: { target: '>= 3', met: ratios.ranking_batched_vs_naive >= 3 },
  };
  await hf.dispose();
  return { device: 'cpu', ratios, targets, runs };
}

export function formatBench(o: BenchOutput): string {
  const lines = ['| measurement | median | unit |', '|---|---|---|', ...o.runs.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.unit} |`), '', '| ratio | value | target | met |', '|---|---|---|---|'];
  for (const [k, v] of Object.entries(o.ratios)) {
    const t = o.targets[k];
    lines.push(`| ${k} | ${v.toFixed(2)} | ${t?.target ?? ''} | ${t ? (t.met ? 'yes' : '**no**') : ''} |`);
  }
  return lines.join('\n');
}
