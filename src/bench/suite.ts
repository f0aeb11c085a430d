/**
 * The benchmark routines, shared by Node (`decoding-lab bench`, onnxruntime-node) and the browser
 * (the worker's `bench` request, onnxruntime-web wasm/WebGPU): no node: imports, no DOM, no ORT.
 * It takes loaded LanguageModels, preference pairs, and a `generateBaseline` that runs
 * transformers.js `generate()` on the same model and device, and measures everything in one
 * interleaved run, so ratios compare numbers taken under the same machine noise.
 *
 * Every decoding run generates exactly `tokens` tokens (min_new_tokens = max_new_tokens: EOS
 * cannot end a run early), with no top-k tracing (`traceTopK: 0`, as the CLI).
 */
import type { LanguageModel, Tokenizer } from '../core/model/types.ts';
import type { PreferencePair } from '../core/data/preferences.ts';
import { scorePairs } from '../core/metrics/scorePairs.ts';
import { decode, type StrategyModels, type StrategySpec } from '../core/search/strategy.ts';

export interface BenchRun {
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly samples: number[];
}

/** The models the suite runs; arms[0] alone is "one ARM", arms[0..1] "two ARMs". */
export interface SuiteModels {
  readonly policy: LanguageModel;
  readonly tokenizer: Tokenizer;
  readonly arms: readonly [LanguageModel, LanguageModel];
  /** Implicit guidance: a tuned model and its reference (the bundled ref is the policy itself). */
  readonly tuned: LanguageModel;
  readonly ref: LanguageModel;
}

/** transformers.js `generate()` greedy for `tokens` new tokens on `ids`; resolves to the number generated. */
export type GenerateBaseline = (ids: readonly number[], tokens: number) => Promise<number>;

export interface SuiteOptions {
  /** Measured rounds after one warm-up round. @default 7 */
  readonly reps?: number;
  /** New tokens per decoding run. @default 64 */
  readonly tokens?: number;
  /** @default 'The state of the Union is' */
  readonly prompt?: string;
  readonly generateBaseline: GenerateBaseline;
  /**
   * Preference pairs for the ranking jobs: the first set is the main one (ranking_batched_vs_naive);
   * each further set adds ranking_batched_vs_naive_<id> (e.g. id 'hh', label 'HH-RLHF').
   */
  readonly rankingSets?: readonly { readonly id: string; readonly label: string; readonly pairs: readonly PreferencePair[] }[];
  /** Called before each round (0 = warm-up). */
  readonly onRound?: (round: number, of: number) => void;
  /** Clock; performance.now() by default. */
  readonly now?: () => number;
}

export interface SuiteResult {
  readonly ratios: Record<string, number>;
  readonly runs: BenchRun[];
  readonly reps: number;
  readonly tokens: number;
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** One measured piece of work; a job may report several metrics from one run (same order as `metrics`). */
interface Job {
  readonly metrics: readonly { readonly name: string; readonly unit: string }[];
  run(): Promise<number[]>;
}

/**
 * Runs every job once to warm up, then `reps` rounds in which each job runs once (interleaved, so
 * a noisy neighbour or a CPU frequency change hits every job alike), and takes medians.
 */
async function measureAll(jobs: readonly Job[], reps: number, onRound?: (r: number, of: number) => void): Promise<BenchRun[]> {
  onRound?.(0, reps);
  for (const j of jobs) await j.run();
  const samples = jobs.map((j) => j.metrics.map(() => [] as number[]));
  for (let r = 0; r < reps; r++) {
    onRound?.(r + 1, reps);
    for (let i = 0; i < jobs.length; i++) {
      const values = await (jobs[i] as Job).run();
      values.forEach((v, k) => samples[i]![k]!.push(v));
    }
  }
  return jobs.flatMap((j, i) => j.metrics.map((m, k) => ({ name: m.name, unit: m.unit, median: median(samples[i]![k]!), samples: samples[i]![k]! })));
}

/** Run names the ratios are computed from (kept stable: results.json readers match on them). */
export const RUN = {
  greedyTps: 'greedy (ours)',
  generateTps: 'greedy (transformers.js generate)',
  greedyStep: 'greedy step',
  beam4: 'beam search, 4 beams, step',
  beam8: 'beam search, 8 beams, step',
  diverse: 'diverse beam search, 4 beams in 2 groups, step',
  genarm1: 'GenARM, one ARM, step',
  genarm2: 'GenARM, two ARMs, step',
  implicit: 'implicit guidance (tuned − ref, ref = policy), step',
  forward1: 'model step only (forward + logits copy), 1 row',
  forward4: 'model step only (forward + logits copy), 4 rows',
  forward8: 'model step only (forward + logits copy), 8 rows',
} as const;

export async function runSuite(m: SuiteModels, o: SuiteOptions): Promise<SuiteResult> {
  const reps = o.reps ?? 7;
  const tokens = o.tokens ?? 64;
  const now = o.now ?? (() => performance.now());
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`bench: reps must be an integer >= 1 (got ${reps})`);
  if (!Number.isInteger(tokens) || tokens < 2) throw new RangeError(`bench: tokens must be an integer >= 2 (got ${tokens})`);
  const ids = m.tokenizer.encode(o.prompt ?? 'The state of the Union is');
  const fixed = { max_new_tokens: tokens, min_new_tokens: tokens };

  /** One decoding run: wall time, tokens of the first sequence, steps. */
  const decodeRun = async (spec: StrategySpec, models: StrategyModels) => {
    const t0 = now();
    let n = 0;
    let steps = 0;
    for await (const e of decode({ ...spec, traceTopK: 0 }, models, ids)) {
      if (e.type === 'step') steps++;
      else if (e.type === 'done') n = e.sequences[0]?.tokenIds.length ?? 0;
    }
    const ms = now() - t0;
    if (n !== tokens) throw new Error(`bench: ${spec.strategy} generated ${n} tokens, expected ${tokens}`);
    return { ms, steps };
  };
  const perStep = (name: string, spec: StrategySpec, models: StrategyModels): Job => ({
    metrics: [{ name, unit: 'ms/step' }],
    run: async () => {
      const r = await decodeRun(spec, models);
      return [r.ms / r.steps];
    },
  });
  /** The model alone: prefill, then `tokens` cached steps of `rows` rows (no search, no log-softmax). */
  const forward = (name: string, rows: number): Job => ({
    metrics: [{ name, unit: 'ms/step' }],
    run: async () => {
      let { cache } = await m.policy.prefill(Array.from({ length: rows }, () => ids));
      const next = new Int32Array(rows).fill(ids[ids.length - 1] as number);
      const t0 = now();
      for (let t = 0; t < tokens; t++) cache = (await m.policy.step(cache, next)).cache;
      const ms = now() - t0;
      cache.dispose();
      return [ms / tokens];
    },
  });

  const policyOnly: StrategyModels = { policy: m.policy };
  const jobs: Job[] = [
    {
      // One run gives both: tokens/s (against generate()) and ms per step (the other ratios' unit).
      metrics: [
        { name: RUN.greedyTps, unit: 'tokens/s' },
        { name: RUN.greedyStep, unit: 'ms/step' },
      ],
      run: async () => {
        const r = await decodeRun({ strategy: 'greedy', config: fixed }, policyOnly);
        return [tokens / (r.ms / 1000), r.ms / r.steps];
      },
    },
    {
      metrics: [{ name: RUN.generateTps, unit: 'tokens/s' }],
      run: async () => {
        const t0 = now();
        const n = await o.generateBaseline(ids, tokens);
        const ms = now() - t0;
        if (n !== tokens) throw new Error(`bench: generate() produced ${n} tokens, expected ${tokens}`);
        return [n / (ms / 1000)];
      },
    },
    perStep(RUN.beam4, { strategy: 'beam', config: { ...fixed, num_beams: 4 } }, policyOnly),
    perStep(RUN.beam8, { strategy: 'beam', config: { ...fixed, num_beams: 8 } }, policyOnly),
    perStep(RUN.diverse, { strategy: 'diverse_beam', config: { ...fixed, num_beams: 4, num_beam_groups: 2, diversity_penalty: 1 } }, policyOnly),
    perStep(RUN.genarm1, { strategy: 'genarm', config: fixed }, { policy: m.policy, arms: [m.arms[0]] }),
    perStep(RUN.genarm2, { strategy: 'genarm', config: fixed, armWeights: [1, 0.5] }, { policy: m.policy, arms: m.arms }),
    perStep(RUN.implicit, { strategy: 'implicit', config: fixed }, { policy: m.policy, tuned: m.tuned, ref: m.ref }),
    forward(RUN.forward1, 1),
    forward(RUN.forward4, 4),
    forward(RUN.forward8, 8),
  ];

  // Ranking: the batched, prompt-sharing scorer against a naive loop that runs one full
  // prompt + response sequence at a time (same tokenization, truncation and skip rules, same
  // per-token log-prob kernel), and against batched full sequences without prompt sharing.
  const tok = m.tokenizer;
  const policy = m.policy;
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
  const pairsPerSecond = (name: string, ps: readonly PreferencePair[], work: () => Promise<unknown>): Job => ({
    metrics: [{ name, unit: 'pairs/s' }],
    run: async () => {
      const t0 = now();
      await work();
      return [ps.length / ((now() - t0) / 1000)];
    },
  });
  const rankingNames: { id: string; batched: string; naive: string; full?: string }[] = [];
  (o.rankingSets ?? []).forEach((set, i) => {
    const label = i === 0 ? '' : ` ${set.label}`;
    const names = {
      id: set.id,
      batched: `ranking${label}, batched, prompt sharing (8 pairs per batch)`,
      naive: `ranking${label}, naive (one sequence at a time)`,
      full: i === 0 ? 'ranking, batched, full sequences (no prompt sharing)' : undefined,
    };
    rankingNames.push(names);
    jobs.push(pairsPerSecond(names.batched, set.pairs, () => scorePairs(set.pairs, 'policy', { policy }, tok, { batchSize: 8, appendEos: false }))); // the naive loop's tokenization (no EOS)
    jobs.push(pairsPerSecond(names.naive, set.pairs, () => naive(set.pairs)));
    if (names.full) jobs.push(pairsPerSecond(names.full, set.pairs, () => scorePairs(set.pairs, 'policy', { policy }, tok, { batchSize: 8, sharePrompts: false, appendEos: false })));
  });

  const runs = await measureAll(jobs, reps, o.onRound);
  const get = (name: string) => {
    const r = runs.find((x) => x.name === name);
    if (!r) throw new Error(`bench: no run named "${name}"`);
    return r.median;
  };
  const greedyStep = get(RUN.greedyStep);
  const ratios: Record<string, number> = {
    greedy_vs_generate: get(RUN.greedyTps) / get(RUN.generateTps),
    beam4_step_vs_greedy_step: get(RUN.beam4) / greedyStep,
    beam8_step_vs_greedy_step: get(RUN.beam8) / greedyStep,
    diverse_beam4x2_step_vs_greedy_step: get(RUN.diverse) / greedyStep,
    genarm1_vs_greedy: get(RUN.genarm1) / greedyStep,
    genarm2_vs_greedy: get(RUN.genarm2) / greedyStep,
    implicit_vs_greedy: get(RUN.implicit) / greedyStep,
    // The floor the search ratios stand on: what the model's forward pass alone costs at 4 / 8 rows.
    forward4_vs_forward1: get(RUN.forward4) / get(RUN.forward1),
    forward8_vs_forward1: get(RUN.forward8) / get(RUN.forward1),
  };
  const main = rankingNames[0];
  if (main) {
    ratios.ranking_batched_vs_naive = get(main.batched) / get(main.naive);
    ratios.ranking_shared_vs_full_batched = get(main.batched) / get(main.full as string);
  }
  for (const extra of rankingNames.slice(1)) ratios[`ranking_batched_vs_naive_${extra.id}`] = get(extra.batched) / get(extra.naive);
  return { ratios, runs, reps, tokens };
}
