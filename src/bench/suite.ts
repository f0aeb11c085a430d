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
import type { KvCache, LanguageModel, Tokenizer } from '../core/model/types.ts';
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

/**
 * Which jobs run. 'full': everything (the bundled models). 'overhead': only what the overhead ratios
 * need (greedy, beam 4, GenARM with one ARM, the model alone as each of them runs it, batched
 * ranking): the realistic-shape run (`bench --shape`), where each job costs seconds.
 */
export type SuiteSet = 'full' | 'overhead';

export interface SuiteOptions {
  /** Measured rounds after one warm-up round. @default 7 */
  readonly reps?: number;
  /** New tokens per decoding run. @default 64 */
  readonly tokens?: number;
  /** @default 'The state of the Union is' */
  readonly prompt?: string;
  /** Required by the 'full' set (greedy_vs_generate); the 'overhead' set does not run it. */
  readonly generateBaseline?: GenerateBaseline;
  /** @default 'full' */
  readonly set?: SuiteSet;
  /**
   * Milliseconds spent inside the models' forward passes so far (every model of the suite, cumulative),
   * when the backend can tell: gives the profile runs (": inside forward passes") and ranking_vs_forward.
   */
  readonly forwardMs?: () => number;
  /** Milliseconds spent gathering / reordering KV-cache rows so far (cumulative): the profile's ": KV-row gather" runs. */
  readonly gatherMs?: () => number;
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
  // The model alone, running exactly the calls of a strategy (prefill of the prompt, tiling, then
  // tokens − 1 cached steps), timed whole and divided by the same step count: the overhead ratios' floor.
  modelGreedy: 'model alone as greedy runs it (prefill 1 row + steps of 1 row), step',
  modelBeam4: 'model alone as beam 4 runs it (prefill 1 row, tiled to 4 + steps of 4 rows), step',
  modelPair: 'model alone as GenARM runs it (policy + ARM, prefill 1 row + steps of 1 row each), step',
  rankingForwardBound: 'ranking, batched: forward-bound rate (pairs ÷ time inside forward passes)',
} as const;

/** Profile runs of a strategy's step (same run as the step itself): time inside forward passes, KV-row gather. */
export const PROFILE = {
  forward: ': inside forward passes',
  gather: ': KV-row gather',
} as const;

/** The ranking job the overhead ratio reads (the bundled split, batched, prompt sharing). */
export const RANKING_BATCHED = 'ranking, batched, prompt sharing (8 pairs per batch)';

export async function runSuite(m: SuiteModels, o: SuiteOptions): Promise<SuiteResult> {
  const reps = o.reps ?? 7;
  const tokens = o.tokens ?? 64;
  const now = o.now ?? (() => performance.now());
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`bench: reps must be an integer >= 1 (got ${reps})`);
  if (!Number.isInteger(tokens) || tokens < 2) throw new RangeError(`bench: tokens must be an integer >= 2 (got ${tokens})`);
  const set = o.set ?? 'full';
  if (set === 'full' && !o.generateBaseline) throw new Error('bench: the full suite needs a generateBaseline');
  const ids = m.tokenizer.encode(o.prompt ?? 'The state of the Union is');
  const fixed = { max_new_tokens: tokens, min_new_tokens: tokens };
  const fwdClock = o.forwardMs ?? (() => 0);
  const gatherClock = o.gatherMs ?? (() => 0);

  /** One decoding run: wall time, tokens of the first sequence, steps, and the time inside forward passes and KV gathers. */
  const decodeRun = async (spec: StrategySpec, models: StrategyModels) => {
    const f0 = fwdClock();
    const g0 = gatherClock();
    const t0 = now();
    let n = 0;
    let steps = 0;
    for await (const e of decode({ ...spec, traceTopK: 0 }, models, ids)) {
      if (e.type === 'step') steps++;
      else if (e.type === 'done') n = e.sequences[0]?.tokenIds.length ?? 0;
    }
    const ms = now() - t0;
    if (n !== tokens) throw new Error(`bench: ${spec.strategy} generated ${n} tokens, expected ${tokens}`);
    return { ms, steps, forwardMs: fwdClock() - f0, gatherMs: gatherClock() - g0 };
  };
  /** A strategy's ms per step; with `profile` (and the clocks given), also its time inside forward passes and KV gathers per step. */
  const perStep = (name: string, spec: StrategySpec, models: StrategyModels, profile = false): Job => {
    const prof = profile && !!o.forwardMs;
    const gat = profile && !!o.gatherMs;
    return {
      metrics: [
        { name, unit: 'ms/step' },
        ...(prof ? [{ name: name + PROFILE.forward, unit: 'ms/step' }] : []),
        ...(gat ? [{ name: name + PROFILE.gather, unit: 'ms/step' }] : []),
      ],
      run: async () => {
        const r = await decodeRun(spec, models);
        return [r.ms / r.steps, ...(prof ? [r.forwardMs / r.steps] : []), ...(gat ? [r.gatherMs / r.steps] : [])];
      },
    };
  };
  /**
   * The model alone as a strategy runs it: each model prefills the prompt (1 row, tiled to `rows`
   * by select as ModelSource does), then tokens − 1 cached steps of `rows` rows, models in turn
   * each step (no search, no log-softmax, no gather); total ÷ `tokens`, the strategy's step count.
   */
  const modelAlone = (name: string, models: readonly LanguageModel[], rows: number): Job => ({
    metrics: [{ name, unit: 'ms/step' }],
    run: async () => {
      const next = new Int32Array(rows).fill(ids[ids.length - 1] as number);
      const caches: KvCache[] = [];
      const t0 = now();
      try {
        for (const mdl of models) {
          let { cache } = await mdl.prefill([ids]);
          if (rows > 1) {
            const tiled = await cache.select(new Int32Array(rows));
            cache.dispose();
            cache = tiled;
          }
          caches.push(cache);
        }
        for (let t = 1; t < tokens; t++) {
          for (let k = 0; k < models.length; k++) {
            const c = caches[k] as KvCache;
            caches[k] = (await (models[k] as LanguageModel).step(c, next)).cache;
          }
        }
        return [(now() - t0) / tokens];
      } finally {
        for (const c of caches) c.dispose();
      }
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
  const full = set === 'full';
  const jobs: Job[] = [
    {
      // One run gives both: tokens/s (against generate()) and ms per step (the other ratios' unit), plus its profile.
      metrics: [
        { name: RUN.greedyTps, unit: 'tokens/s' },
        { name: RUN.greedyStep, unit: 'ms/step' },
        ...(o.forwardMs ? [{ name: RUN.greedyStep + PROFILE.forward, unit: 'ms/step' }] : []),
        ...(o.gatherMs ? [{ name: RUN.greedyStep + PROFILE.gather, unit: 'ms/step' }] : []),
      ],
      run: async () => {
        const r = await decodeRun({ strategy: 'greedy', config: fixed }, policyOnly);
        return [tokens / (r.ms / 1000), r.ms / r.steps, ...(o.forwardMs ? [r.forwardMs / r.steps] : []), ...(o.gatherMs ? [r.gatherMs / r.steps] : [])];
      },
    },
    // Each strategy's model-alone twin runs right after it, so a ratio compares runs adjacent in time
    // (overheadRatios takes the median of the per-round ratios): load drifting on a shared machine cancels.
    modelAlone(RUN.modelGreedy, [m.policy], 1),
    ...(full
      ? [
          {
            metrics: [{ name: RUN.generateTps, unit: 'tokens/s' }],
            run: async () => {
              const t0 = now();
              const n = await (o.generateBaseline as GenerateBaseline)(ids, tokens);
              const ms = now() - t0;
              if (n !== tokens) throw new Error(`bench: generate() produced ${n} tokens, expected ${tokens}`);
              return [n / (ms / 1000)];
            },
          },
        ]
      : []),
    perStep(RUN.beam4, { strategy: 'beam', config: { ...fixed, num_beams: 4 } }, policyOnly, true),
    modelAlone(RUN.modelBeam4, [m.policy], 4),
    ...(full
      ? [
          perStep(RUN.beam8, { strategy: 'beam', config: { ...fixed, num_beams: 8 } }, policyOnly),
          perStep(RUN.diverse, { strategy: 'diverse_beam', config: { ...fixed, num_beams: 4, num_beam_groups: 2, diversity_penalty: 1 } }, policyOnly),
        ]
      : []),
    perStep(RUN.genarm1, { strategy: 'genarm', config: fixed }, { policy: m.policy, arms: [m.arms[0]] }, true),
    modelAlone(RUN.modelPair, [m.policy, m.arms[0]], 1),
    ...(full
      ? [
          perStep(RUN.genarm2, { strategy: 'genarm', config: fixed, armWeights: [1, 0.5] }, { policy: m.policy, arms: m.arms }),
          perStep(RUN.implicit, { strategy: 'implicit', config: fixed }, { policy: m.policy, tuned: m.tuned, ref: m.ref }),
          forward(RUN.forward1, 1),
          forward(RUN.forward4, 4),
          forward(RUN.forward8, 8),
        ]
      : []),
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
    if (!full && i > 0) return; // the overhead set ranks the first set only
    const label = i === 0 ? '' : ` ${set.label}`;
    const names = {
      id: set.id,
      batched: i === 0 ? RANKING_BATCHED : `ranking${label}, batched, prompt sharing (8 pairs per batch)`,
      naive: `ranking${label}, naive (one sequence at a time)`,
      full: i === 0 ? 'ranking, batched, full sequences (no prompt sharing)' : undefined,
    };
    rankingNames.push(names);
    const batched = () => scorePairs(set.pairs, 'policy', { policy }, tok, { batchSize: 8, appendEos: false }); // the naive loop's tokenization (no EOS)
    if (i === 0 && o.forwardMs) {
      // Same run, two rates: pairs/s, and pairs ÷ the time its own forward passes took (the forward-bound rate).
      jobs.push({
        metrics: [
          { name: names.batched, unit: 'pairs/s' },
          { name: RUN.rankingForwardBound, unit: 'pairs/s' },
        ],
        run: async () => {
          const f0 = fwdClock();
          const t0 = now();
          await batched();
          const ms = now() - t0;
          return [set.pairs.length / (ms / 1000), set.pairs.length / ((fwdClock() - f0) / 1000)];
        },
      });
    } else jobs.push(pairsPerSecond(names.batched, set.pairs, batched));
    if (!full) return;
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
  const ratios: Record<string, number> = full
    ? {
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
      }
    : {};
  const main = rankingNames[0];
  if (main && full) {
    ratios.ranking_batched_vs_naive = get(main.batched) / get(main.naive);
    ratios.ranking_shared_vs_full_batched = get(main.batched) / get(main.full as string);
  }
  for (const extra of rankingNames.slice(1)) ratios[`ranking_batched_vs_naive_${extra.id}`] = get(extra.batched) / get(extra.naive);
  Object.assign(ratios, overheadRatios(runs));
  return { ratios, runs, reps, tokens };
}

/**
 * Each strategy's overhead over the model's own forward passes on the same rows (issue 13): a step ÷
 * the model alone running the same calls (greedy: 1 row; beam 4: 4 rows; GenARM with one ARM: policy
 * + ARM), ranking pairs/s ÷ its forward-bound rate, and the share of a beam-4 step spent gathering KV
 * rows. Each is the median over rounds of that round's ratio (the two runs of a round are adjacent
 * in time, or the same run), which a machine whose load drifts between rounds does not bias; runs
 * without per-round samples give the ratio of medians. A ratio whose runs are missing is left out.
 */
export function overheadRatios(runs: readonly BenchRun[]): Record<string, number> {
  const get = (name: string) => runs.find((x) => x.name === name);
  const out: Record<string, number> = {};
  const put = (key: string, a: BenchRun | undefined, b: BenchRun | undefined) => {
    if (!a || !b) return;
    const n = a.samples.length;
    out[key] = n > 0 && b.samples.length === n ? median(a.samples.map((x, i) => x / (b.samples[i] as number))) : a.median / b.median;
  };
  put('greedy_step_vs_forward1', get(RUN.greedyStep), get(RUN.modelGreedy));
  put('beam4_step_vs_forward4', get(RUN.beam4), get(RUN.modelBeam4));
  put('genarm1_step_vs_forward_pair', get(RUN.genarm1), get(RUN.modelPair));
  put('ranking_vs_forward', get(RANKING_BATCHED), get(RUN.rankingForwardBound));
  put('beam4_gather_share', get(RUN.beam4 + PROFILE.gather), get(RUN.beam4));
  return out;
}
