/**
 * Several attributes: test/fixtures/hub/rm-two-heads (models/foundry/two_heads.py: tiny-rm-positive
 * and tiny-rm-concise merged into one graph, logits [batch, 2], id2label {0: positivity, 1: conciseness}).
 * Head i is that bundled model's reward exactly; a --reward-label mix is w1·r1 + w2·r2; `rank` with
 * positivity=1,conciseness=0 equals rank with tiny-rm-positive alone and reports accuracy per attribute.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, MODELS_DIR, nodeBackend } from './env.ts';
import { rank } from '../../src/cli/rank.ts';
import { generate } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { configureModels } from '../../src/cli/nodeModels.ts';
import { loadSequenceRewardModel, type TransformersSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import { Handler } from '../../src/inference/handler.ts';

const TWO = FIXTURES_DIR + 'hub/rm-two-heads';
const DATA = MODELS_DIR + 'datasets/prefs-positive-test.jsonl';
const rnk = (...args: string[]) => {
  const p = parseArgs(args);
  configureModels(p);
  return rank(p);
};

describe.runIf(existsSync(TWO + '/onnx/model.onnx'))('a reward model with two heads (rm-two-heads)', () => {
  let two: TransformersSequenceRewardModel, pos: TransformersSequenceRewardModel, con: TransformersSequenceRewardModel;
  let rows: number[][];
  beforeAll(async () => {
    [two, pos, con] = (await Promise.all([TWO, 'tiny-rm-positive', 'tiny-rm-concise'].map((id) => loadSequenceRewardModel(id, { device: 'cpu' })))) as [TransformersSequenceRewardModel, TransformersSequenceRewardModel, TransformersSequenceRewardModel];
    rows = ['The movie was great and I loved it.', 'Terrible.', 'It was fine, I guess, but far too long for what it had to say.'].map((t) => two.tokenizer.encode(t));
  });
  afterAll(async () => {
    for (const m of [two, pos, con]) await m?.dispose();
  });

  it('reads its heads from config.json id2label; head i is the bundled single model exactly', async () => {
    expect(two.labelNames()).toEqual(['positivity', 'conciseness']);
    const [p, c] = [await pos.score(rows), await con.score(rows)];
    expect(await two.forRun({ label: 'positivity' }).score(rows)).toEqual(p);
    expect(await two.forRun({ label: '1' }).score(rows)).toEqual(c);
    expect(p.some((x, i) => x !== c[i])).toBe(true);
  });

  it('a mix is w1·r1 + w2·r2, in forRun and in score() with the label chosen at load', async () => {
    const [p, c] = [await pos.score(rows), await con.score(rows)];
    const want = Float32Array.from(p, (x, i) => 1 * x + 0.5 * (c[i] as number));
    expect(await two.forRun({ label: 'positivity=1,conciseness=0.5' }).score(rows)).toEqual(want);
    const loaded = await loadSequenceRewardModel(TWO, { device: 'cpu', rewardLabel: 'conciseness=-2, positivity=0.25' });
    try {
      expect(loaded.label?.name).toBe('conciseness=-2,positivity=0.25');
      expect(await loaded.score(rows)).toEqual(Float32Array.from(p, (x, i) => -2 * (c[i] as number) + 0.25 * x));
    } finally {
      await loaded.dispose();
    }
    // The old forms keep working: a difference of two.
    expect(await two.forRun({ label: 'positivity-conciseness' }).score(rows)).toEqual(Float32Array.from(p, (x, i) => x - (c[i] as number)));
  });

  it('an unknown label in a mix is refused in one line naming it and the model\'s labels', () => {
    expect(() => two.forRun({ label: 'positivity=1,helpfulness=1' })).toThrow(/^--reward-label positivity=1,helpfulness=1: "helpfulness=1": no label "helpfulness"; the model's labels are 0: positivity, 1: conciseness/);
    expect(() => two.forRun({ label: 'positivity=lots' })).toThrow(/the weight "lots" is not a finite number/);
  });

  it('rank --reward-label positivity=1,conciseness=0 equals rank with tiny-rm-positive, and reports accuracy per attribute', async () => {
    const args = ['--dataset', DATA, '--scorer', 'sequence', '--limit', '12'];
    const mixed = await rnk(...args, '--reward-model', TWO, '--reward-label', 'positivity=1,conciseness=0');
    const alone = await rnk(...args, '--reward-model', 'tiny-rm-positive');
    const conc = await rnk(...args, '--reward-model', 'tiny-rm-concise');
    expect(mixed.pairs).toEqual(alone.pairs);
    expect([mixed.n, mixed.accuracy, mixed.ci95]).toEqual([alone.n, alone.accuracy, alone.ci95]);
    expect(alone.per_attribute).toBeUndefined();
    expect(mixed.per_attribute).toEqual({
      positivity: { accuracy: alone.accuracy, ci95: alone.ci95, n: alone.n, ties: alone.ties },
      conciseness: { accuracy: conc.accuracy, ci95: conc.ci95, n: conc.n, ties: conc.ties },
    });
  });

  it('best-of-N, ARGS and reward-guided beams with positivity=1,conciseness=0 equal the runs with tiny-rm-positive', async () => {
    const gen = (...args: string[]) => {
      const p = parseArgs(args);
      configureModels(p);
      return generate(p, () => {});
    };
    const common = ['--policy', 'tiny-base', '--prompt', 'The movie was', '--max_new_tokens', '8', '--seed', '3'];
    for (const strat of [['--strategy', 'best_of_n', '--n', '4'], ['--strategy', 'args', '--args_k', '4', '--args_weight', '1'], ['--strategy', 'beam', '--num_beams', '3', '--num_return_sequences', '3', '--reward_weight', '2', '--rescore_every', '2']]) {
      const mixed = await gen(...common, ...strat, '--reward-model', TWO, '--reward-label', 'positivity=1,conciseness=0');
      const alone = await gen(...common, ...strat, '--reward-model', 'tiny-rm-positive');
      const seqs = (o: typeof mixed) => o.sequences.map((x) => [x.token_ids, (x as { reward?: number }).reward, x.score]);
      expect(seqs(mixed), strat[1]).toEqual(seqs(alone));
    }
  });

  it('the worker rank job (the page) takes the mix and adds per_attribute, equal to the CLI\'s', async () => {
    const out: { id: number; type: string; value?: unknown; error?: { message: string } }[] = [];
    const backend = nodeBackend();
    const job = { dataset: { kind: 'bundled', path: 'datasets/prefs-positive-test.jsonl' }, scorer: 'sequence', rewardModel: TWO, rewardLabel: 'positivity=1,conciseness=0', beta: 1, lengthNormalize: false, limit: 12 } as const;
    await new Handler(backend, (r) => out.push(r as (typeof out)[number])).handle({ id: 1, type: 'rank', job });
    const err = out.find((r) => r.type === 'error');
    expect(err, err?.error?.message).toBeUndefined();
    const report = (out.find((r) => r.type === 'result')?.value as { report: { accuracy: number; per_attribute?: unknown } }).report;
    const cli = await rnk('--dataset', DATA, '--scorer', 'sequence', '--limit', '12', '--reward-model', TWO, '--reward-label', 'positivity=1,conciseness=0');
    expect(report.accuracy).toBe(cli.accuracy);
    expect(report.per_attribute).toEqual(cli.per_attribute);
  });

  it('the page is told about the reward label field, not the CLI flag, when a head does not exist', async () => {
    const out: { id: number; type: string; error?: { message: string } }[] = [];
    const backend = nodeBackend();
    const job = { dataset: { kind: 'bundled', path: 'datasets/prefs-positive-test.jsonl' }, scorer: 'sequence', rewardModel: TWO, rewardLabel: 'helpfulness', beta: 1, lengthNormalize: false, limit: 4 } as const;
    await new Handler(backend, (r) => out.push(r as (typeof out)[number])).handle({ id: 1, type: 'rank', job });
    const msg = out.find((r) => r.type === 'error')?.error?.message ?? '';
    expect(msg).toMatch(/^reward label helpfulness: .*no such label; its labels are 0: positivity, 1: conciseness/);
    expect(msg).not.toContain('--reward-label');
  });
});

it.skipIf(existsSync(TWO + '/onnx/model.onnx'))('rm-two-heads fixture is absent: run /usr/bin/python3 models/foundry/two_heads.py', () => {});
