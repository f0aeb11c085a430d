/**
 * The benchmark harness without real models: the shared suite on fake models (every job runs, every
 * ratio is computed from the medians, generate() is asked for the right tokens), target checks and
 * their reasons, the Markdown report, trace parsing for long tasks, and `npm run bench` flags.
 */
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseRunFlags } from '../../src/bench/flags.ts';
import { check, flatTargets, formatResults, ratioTargets, RATIO_TARGETS, type BackendResult, type ResultsFile } from '../../src/bench/report.ts';
import { median, RUN, runSuite, type BenchRun } from '../../src/bench/suite.ts';
import { mainThreadTasks } from '../../src/bench/trace.ts';
import { letterTokenizer, PrefixModel } from '../support/fakeModel.ts';

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
      ].sort(),
    );
    expect(policy.live.size).toBe(0); // every cache the suite made was disposed
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
