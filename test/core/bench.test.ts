/**
 * The benchmark harness without real models: the shared suite on fake models (every job runs, every
 * ratio is computed from the medians, generate() is asked for the right tokens), target checks and
 * their reasons, the Markdown report, trace parsing for long tasks, and `npm run bench` flags.
 */
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseRunFlags } from '../../src/bench/flags.ts';
import { check, flatTargets, formatResults, ratioTargets, RATIO_TARGETS, shapeTargets, stepProfile, type BackendResult, type ResultsFile } from '../../src/bench/report.ts';
import { median, overheadRatios, PROFILE, RANKING_BATCHED, RUN, runSuite, type BenchRun } from '../../src/bench/suite.ts';
import { mainThreadTasks } from '../../src/bench/trace.ts';
import type { KvCache, LanguageModel } from '../../src/core/model/types.ts';
import { letterTokenizer, PrefixModel } from '../support/fakeModel.ts';

/** A virtual clock: forward passes and KV reorders advance it by fixed costs; everything else is free. */
interface Clock {
  t: number;
  fwd: number;
  gather: number;
}

/**
 * `inner` on the virtual clock: each prefill/step/score/extend costs `cost` ms of forward pass (× rows,
 * so more rows cost more), each same-size select (a beam reorder) `gatherCost` ms; tiling is free.
 */
function timedModel(inner: PrefixModel, clock: Clock, cost: number, gatherCost: number): LanguageModel {
  const fwd = (rows: number) => {
    clock.t += cost * (1 + rows / 4);
    clock.fwd += cost * (1 + rows / 4);
  };
  type Wrapped = KvCache & { inner: KvCache };
  const wrap = (c: KvCache): Wrapped => ({
    inner: c,
    get length() {
      return c.length;
    },
    get rows() {
      return c.rows;
    },
    select: async (rows) => {
      if (rows.length === c.rows) {
        clock.t += gatherCost;
        clock.gather += gatherCost;
      }
      return wrap(await c.select(rows));
    },
    dispose: () => c.dispose(),
  });
  return {
    id: inner.id,
    vocabSize: inner.vocabSize,
    eosTokenIds: inner.eosTokenIds,
    contextLength: inner.contextLength,
    prefill: async (b) => {
      fwd(b.length);
      const r = await inner.prefill(b);
      return { logits: r.logits, cache: wrap(r.cache) };
    },
    step: async (c, next) => {
      fwd(next.length);
      const r = await inner.step((c as Wrapped).inner, next);
      return { logits: r.logits, cache: wrap(r.cache) };
    },
    score: async (b, f) => {
      fwd(b.length);
      return inner.score(b, f);
    },
    extend: async (c, conts) => {
      fwd(conts.length);
      return inner.extend((c as Wrapped).inner, conts);
    },
    dispose: async () => {},
  };
}

const pairs = [
  { id: '0', prompt: 'abc', chosen: 'dd', rejected: 'eef', extra: {} },
  { id: '1', prompt: 'cab', chosen: 'fed', rejected: 'g', extra: {} },
];

describe('runSuite', () => {
  it('runs every job reps times after a warm-up and derives each ratio from the medians', async () => {
    const policy = new PrefixModel(8, 64, 'policy');
    const baseline: { ids: readonly number[]; tokens: number }[] = [];
    const rounds: number[] = [];
    const r = await runSuite(
      { policy, tokenizer: letterTokenizer(8), arms: [new PrefixModel(8, 64, 'arm1'), new PrefixModel(8, 64, 'arm2')], tuned: new PrefixModel(8, 64, 'tuned'), ref: policy },
      {
        reps: 3,
        tokens: 4,
        prompt: 'abc',
        generateBaseline: async (ids, tokens) => {
          baseline.push({ ids, tokens });
          return tokens;
        },
        rankingSets: [
          { id: 'bundled', label: 'bundled', pairs },
          { id: 'hh', label: 'HH-RLHF', pairs },
        ],
        onRound: (n) => rounds.push(n),
        // clocks that count half of all wall time as forward passes, a tenth as gathers
        forwardMs: () => performance.now() / 2,
        gatherMs: () => performance.now() / 10,
      },
    );
    expect(rounds).toEqual([0, 1, 2, 3]);
    expect(baseline).toHaveLength(4); // warm-up + 3
    expect(baseline[0]).toEqual({ ids: [1, 2, 3], tokens: 4 });
    for (const name of Object.values(RUN)) expect(r.runs.map((x) => x.name)).toContain(name);
    for (const run of r.runs) {
      expect(run.samples, run.name).toHaveLength(3);
      expect(run.median).toBe(median(run.samples));
      expect(run.median, run.name).toBeGreaterThan(0);
    }
    const m = (name: string) => (r.runs.find((x) => x.name === name) as BenchRun).median;
    expect(r.ratios.greedy_vs_generate).toBeCloseTo(m(RUN.greedyTps) / m(RUN.generateTps), 12);
    expect(r.ratios.beam4_step_vs_greedy_step).toBeCloseTo(m(RUN.beam4) / m(RUN.greedyStep), 12);
    expect(r.ratios.genarm2_vs_greedy).toBeCloseTo(m(RUN.genarm2) / m(RUN.greedyStep), 12);
    expect(r.ratios.forward8_vs_forward1).toBeCloseTo(m(RUN.forward8) / m(RUN.forward1), 12);
    expect(Object.keys(r.ratios).sort()).toEqual(
      [
        'greedy_vs_generate', 'beam4_step_vs_greedy_step', 'beam8_step_vs_greedy_step', 'diverse_beam4x2_step_vs_greedy_step',
        'genarm1_vs_greedy', 'genarm2_vs_greedy', 'implicit_vs_greedy', 'forward4_vs_forward1', 'forward8_vs_forward1',
        'ranking_batched_vs_naive', 'ranking_shared_vs_full_batched', 'ranking_batched_vs_naive_hh',
        // issue 13: overhead over the model's own forward passes (ranking_vs_forward and the gather share need the clocks)
        'greedy_step_vs_forward1', 'beam4_step_vs_forward4', 'genarm1_step_vs_forward_pair', 'ranking_vs_forward', 'beam4_gather_share',
      ].sort(),
    );
    expect(policy.live.size).toBe(0); // every cache the suite made was disposed
  });

  it('overhead set on a virtual clock: a strategy whose only cost is its forward passes is at exactly 1× the model alone', async () => {
    // Forward passes cost 2 ms × (1 + rows/4); beam reorders 0.5 ms each; search JavaScript costs nothing.
    // So greedy, GenARM and ranking must come out at exactly 1 (the model-alone jobs make the same
    // calls: prefill + tokens − 1 steps, on the same rows), and beam 4 at 1 + its gather per step ÷ the
    // model alone. An off-by-one step, the wrong row count or the wrong divisor moves these.
    const clock: Clock = { t: 0, fwd: 0, gather: 0 };
    const policy = timedModel(new PrefixModel(8, 64, 'policy'), clock, 2, 0.5);
    const arm = timedModel(new PrefixModel(8, 64, 'arm'), clock, 2, 0.5);
    const r = await runSuite(
      { policy, tokenizer: letterTokenizer(8), arms: [arm, arm], tuned: policy, ref: policy },
      {
        set: 'overhead',
        reps: 1,
        tokens: 5,
        prompt: 'abc',
        rankingSets: [{ id: 'bundled', label: 'bundled', pairs }, { id: 'hh', label: 'HH-RLHF', pairs }],
        now: () => clock.t,
        forwardMs: () => clock.fwd,
        gatherMs: () => clock.gather,
      },
    );
    const m = (name: string) => (r.runs.find((x) => x.name === name) as BenchRun).median;
    expect(r.runs.map((x) => x.name).sort()).toEqual(
      [
        RUN.greedyTps, RUN.greedyStep, RUN.greedyStep + PROFILE.forward, RUN.greedyStep + PROFILE.gather,
        RUN.beam4, RUN.beam4 + PROFILE.forward, RUN.beam4 + PROFILE.gather,
        RUN.genarm1, RUN.genarm1 + PROFILE.forward, RUN.genarm1 + PROFILE.gather,
        RUN.modelGreedy, RUN.modelBeam4, RUN.modelPair, RANKING_BATCHED, RUN.rankingForwardBound,
      ].sort(),
    ); // no generate(), beam 8, two ARMs, naive ranking or second ranking set in the overhead set
    expect(m(RUN.greedyStep)).toBeCloseTo((2 * 1.25 * 5) / 5, 12); // prefill + 4 steps of 1 row, ÷ 5 steps
    expect(m(RUN.modelBeam4)).toBeCloseTo((2 * 1.25 + 4 * 2 * 2) / 5, 12); // prefill 1 row, then 4 steps of 4 rows
    expect(r.ratios.greedy_step_vs_forward1).toBeCloseTo(1, 12);
    expect(r.ratios.genarm1_step_vs_forward_pair).toBeCloseTo(1, 12);
    expect(r.ratios.ranking_vs_forward).toBeCloseTo(1, 12);
    expect(m(RUN.beam4 + PROFILE.gather)).toBeGreaterThan(0);
    expect(r.ratios.beam4_step_vs_forward4).toBeCloseTo(1 + m(RUN.beam4 + PROFILE.gather) / m(RUN.modelBeam4), 12);
    expect(r.ratios.beam4_gather_share).toBeCloseTo(m(RUN.beam4 + PROFILE.gather) / m(RUN.beam4), 12);
    expect(m(RUN.beam4 + PROFILE.forward)).toBeCloseTo(m(RUN.modelBeam4), 12);
    expect(Object.keys(r.ratios).sort()).toEqual(['beam4_gather_share', 'beam4_step_vs_forward4', 'genarm1_step_vs_forward_pair', 'greedy_step_vs_forward1', 'ranking_vs_forward']);
  });

  it('overheadRatios divides the right medians', () => {
    const run = (name: string, median: number, unit = 'ms/step'): BenchRun => ({ name, unit, median, samples: [median] });
    const r = overheadRatios([
      run(RUN.greedyStep, 21), run(RUN.modelGreedy, 20), run(RUN.beam4, 30), run(RUN.modelBeam4, 24), run(RUN.beam4 + PROFILE.gather, 3),
      run(RUN.genarm1, 44), run(RUN.modelPair, 40), run(RANKING_BATCHED, 9, 'pairs/s'), run(RUN.rankingForwardBound, 10, 'pairs/s'),
    ]);
    expect(r).toEqual({ greedy_step_vs_forward1: 21 / 20, beam4_step_vs_forward4: 30 / 24, genarm1_step_vs_forward_pair: 44 / 40, ranking_vs_forward: 0.9, beam4_gather_share: 0.1 });
    expect(overheadRatios([run(RUN.greedyStep, 1)])).toEqual({}); // nothing without its floor
  });

  it('overheadRatios takes the median of per-round ratios, so load drifting between rounds does not bias it', () => {
    // Rounds at load ×1, ×2, ×3; in each the strategy costs 1.05× its model-alone twin, except that a
    // spike hit round 2's strategy run only (100 instead of 42). Ratio of medians: 63 / 40 = 1.575.
    const strat: BenchRun = { name: RUN.greedyStep, unit: 'ms/step', median: 63, samples: [21, 100, 63] };
    const alone: BenchRun = { name: RUN.modelGreedy, unit: 'ms/step', median: 40, samples: [20, 40, 60] };
    expect(overheadRatios([strat, alone]).greedy_step_vs_forward1).toBeCloseTo(1.05, 12); // median of 1.05, 2.5, 1.05
    // without per-round samples of equal length: the ratio of medians
    expect(overheadRatios([{ ...strat, samples: [] }, alone]).greedy_step_vs_forward1).toBeCloseTo(63 / 40, 12);
  });

  it('refuses a generate() baseline that produced another number of tokens, and bad reps', async () => {
    const policy = new PrefixModel(8);
    const models = { policy, tokenizer: letterTokenizer(8), arms: [policy, policy] as const, tuned: policy, ref: policy };
    await expect(runSuite(models, { reps: 1, tokens: 4, prompt: 'ab', generateBaseline: async () => 3 })).rejects.toThrow('bench: generate() produced 3 tokens, expected 4');
    await expect(runSuite(models, { reps: 0, generateBaseline: async () => 0 })).rejects.toThrow('bench: reps must be an integer >= 1 (got 0)');
  });
});

describe('targets and the report', () => {
  it('checks >= and <= bounds, and a missed target carries a reason from the same run', () => {
    expect(check(RATIO_TARGETS[0]!, 0.96)).toEqual({ target: '>= 0.95', value: 0.96, met: true });
    expect(check(RATIO_TARGETS[1]!, 2.5, () => 'why')).toEqual({ target: '<= 2', value: 2.5, met: false, reason: 'why' });
    expect(check(RATIO_TARGETS[1]!, NaN).met).toBe(false);
    const t = ratioTargets({ greedy_vs_generate: 1, beam4_step_vs_greedy_step: 3.1, genarm1_vs_greedy: 2, forward4_vs_forward1: 1.8 }, []);
    expect(Object.keys(t)).toEqual(['greedy_vs_generate', 'beam4_step_vs_greedy_step', 'genarm1_vs_greedy']);
    expect(t.greedy_vs_generate?.met).toBe(true);
    expect(t.beam4_step_vs_greedy_step?.met).toBe(false);
    expect(t.beam4_step_vs_greedy_step?.reason).toContain('1.80× at 4 rows vs 1');
  });

  it('shape targets: bounds of issue 13, and a miss says where the time went', () => {
    const run = (name: string, median: number, unit = 'ms/step'): BenchRun => ({ name, unit, median, samples: [median] });
    const runs = [
      run(RUN.beam4, 40), run(RUN.beam4 + PROFILE.forward, 33), run(RUN.beam4 + PROFILE.gather, 2), run(RUN.modelBeam4, 32),
      run(RANKING_BATCHED, 8, 'pairs/s'), run(RUN.rankingForwardBound, 10, 'pairs/s'),
    ];
    const t = shapeTargets({ greedy_step_vs_forward1: 1.05, beam4_step_vs_forward4: 1.25, genarm1_step_vs_forward_pair: 1.1, ranking_vs_forward: 0.8 }, runs);
    expect(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, [v.target, v.met]]))).toEqual({
      greedy_step_vs_forward1: ['<= 1.05', true],
      beam4_step_vs_forward4: ['<= 1.15', false],
      genarm1_step_vs_forward_pair: ['<= 1.1', true],
      ranking_vs_forward: ['>= 0.85', false],
    });
    expect(t.beam4_step_vs_forward4?.reason).toBe(
      'a step takes 40.0 ms vs 32.0 ms for the model alone on the same rows; 33.0 ms of it inside forward passes (82.5%); 2.00 ms gathering KV rows (5.0%); ' +
        '5.00 ms in search, log-softmax and combine in JavaScript (12.5%); the forward passes ran 1.00 ms slower inside the strategy than alone (noise on a shared CPU, or cache effects of the extra work between calls)',
    );
    expect(t.ranking_vs_forward?.reason).toMatch(/^8\.00 pairs\/s against 10\.00 pairs\/s if only its forward passes took time: forward passes are 80\.0% of the run/);
    expect(shapeTargets({ greedy_step_vs_forward1: 1.06 }, []).greedy_step_vs_forward1?.met).toBe(false);
    expect(stepProfile([], RUN.greedyStep, RUN.modelGreedy)).toBe('a step takes n/a vs n/a for the model alone on the same rows');
  });

  it('writes a Markdown report with every target, ratio and measurement per backend', () => {
    const node: BackendResult = {
      device: 'cpu',
      ratios: { greedy_vs_generate: 0.9 },
      targets: ratioTargets({ greedy_vs_generate: 0.9 }, []),
      runs: [{ name: 'greedy (ours)', unit: 'tokens/s', median: 180, samples: [180] }],
      reps: 1,
      tokens: 64,
    };
    const results: ResultsFile = {
      date: 'today',
      machine: { cores: 2 },
      note: 'noise ±30%',
      device: { node: 'cpu' },
      ratios: { node: node.ratios },
      runs: { node: node.runs },
      backends: { node },
      targets: flatTargets({ node }),
    };
    const md = formatResults(results);
    expect(md).toContain('| node | greedy_vs_generate >= 0.95 | 0.90 | **no** |');
    expect(md).toContain('| greedy_vs_generate | 0.90 |');
    expect(md).toContain('| greedy (ours) | tokens/s | 180 |');
  });
});

describe('mainThreadTasks', () => {
  const meta = (tid: number, name: string) => ({ ph: 'M', name: 'thread_name', pid: 1, tid, ts: 0, args: { name } });
  const task = (tid: number, name: string, ts: number, durMs: number, cpuMs: number) => ({ ph: 'X', name, pid: 1, tid, ts, dur: durMs * 1000, tdur: cpuMs * 1000 });

  it("takes the renderer main thread's top-level tasks with wall and CPU time", () => {
    const trace = {
      traceEvents: [
        meta(1, 'CrRendererMain'),
        meta(2, 'DedicatedWorker thread'),
        task(1, 'ThreadControllerImpl::RunTask', 10, 120, 3),
        task(1, 'RunTask', 10, 120, 3), // nested duplicate from devtools.timeline
        task(1, 'ThreadControllerImpl::RunTask', 500, 20, 19),
        task(2, 'ThreadControllerImpl::RunTask', 10, 300, 290), // the worker: not the main thread
      ],
    };
    expect(mainThreadTasks(JSON.stringify(trace), 50)).toEqual([{ ts: 10, wallMs: 120, cpuMs: 3 }]);
    expect(mainThreadTasks(JSON.stringify(trace))).toHaveLength(2);
    expect(mainThreadTasks(JSON.stringify({ traceEvents: [meta(1, 'CrRendererMain'), task(1, 'RunTask', 0, 60, 55)] }), 50)).toEqual([{ ts: 0, wallMs: 60, cpuMs: 55 }]);
  });

  it('says what is wrong with a trace that has no renderer main thread', () => {
    expect(() => mainThreadTasks(JSON.stringify({ traceEvents: [] }))).toThrow(/no CrRendererMain thread/);
  });
});

describe('npm run bench flags', () => {
  it('parses parts, counts and switches', () => {
    expect(parseRunFlags([])).toMatchObject({ nodeOnly: false, browserOnly: false, webgpu: 'auto', write: true });
    expect(parseRunFlags(['--node-only', '--reps', '3', '--tokens=32', '--no-write'])).toMatchObject({ nodeOnly: true, reps: 3, tokens: 32, write: false });
    expect(parseRunFlags(['--browser-only', '--webgpu', '--browser-reps', '2', '--ttft-runs', '1'])).toMatchObject({ browserOnly: true, webgpu: 'force', browserReps: 2, ttftRuns: 1 });
    expect(parseRunFlags(['--no-webgpu']).webgpu).toBe('off');
  });

  it('names the bad flag and what it takes', () => {
    expect(() => parseRunFlags(['--fast'])).toThrow(BenchUsageError);
    expect(() => parseRunFlags(['--fast'])).toThrow(/unknown flag --fast; use --node-only/);
    expect(() => parseRunFlags(['--reps', '0'])).toThrow('--reps needs an integer >= 1 (got "0")');
    expect(() => parseRunFlags(['--reps'])).toThrow('--reps needs an integer >= 1 (got nothing)');
    expect(() => parseRunFlags(['--node-only', '--browser-only'])).toThrow(/exclude each other/);
  });
});
