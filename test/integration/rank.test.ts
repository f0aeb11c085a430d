/**
 * Ranking accuracy through the CLI code path on the bundled test splits (matches the foundry's
 * PyTorch measurement to 1e-3) and on the real HH-RLHF harmless-base test file; the prompt-sharing
 * scorer (LanguageModel.extend) against full recomputation on the bundled models.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { manifest, MODELS_DIR } from './env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank } from '../../src/cli/rank.ts';
import { parseDataset, readDataset, type PreferencePair } from '../../src/core/data/preferences.ts';
import { scorePairs, type ScoreResult, type ScorerKind } from '../../src/core/metrics/scorePairs.ts';
import { lm } from '../../src/cli/nodeModels.ts';
import { logSumExpRange } from '../../src/inference/backends/transformers.ts';
import { logSumExp } from '../../src/core/math/logits.ts';
import { clampedLogit, expectedCalibrationError, rStar } from '../../src/core/metrics/ranking.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HH_CANDIDATES = [process.env.DECODING_LAB_SHARED, path.join(ROOT, '../shared'), '/work/shared']
  .filter((d): d is string => !!d)
  .map((d) => path.join(d, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz'));
const HH = HH_CANDIDATES.find((p) => existsSync(p));

const metric = (id: string, key: string) => (manifest.models.find((m) => m.id === id) as unknown as { metrics: Record<string, number> }).metrics[key] as number;
const dataset = (attr: string) => path.join(MODELS_DIR, 'datasets', `prefs-${attr}-test.jsonl`);

describe.each(['positive', 'concise'])('rank on the bundled %s test split', (attr) => {
  it('ARM accuracy equals the foundry measurement', async () => {
    // The foundry measured without EOS (DESIGN §4's plain tokenization): --append-eos false.
    const out = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'arm', '--arm', `tiny-arm-${attr}`, '--append-eos', 'false']));
    expect(out.n).toBe(600);
    expect(out.skipped).toBe(0);
    expect(Math.abs(out.accuracy - metric(`tiny-arm-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
    expect(out.ci95[0]).toBeLessThan(out.accuracy);
    expect(out.ci95[1]).toBeGreaterThan(out.accuracy);
  });

  it('sequence RM accuracy equals the foundry measurement', async () => {
    const out = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'sequence', '--reward-model', `tiny-rm-${attr}`]));
    expect(Math.abs(out.accuracy - metric(`tiny-rm-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
  });

  it('DPO: ranking accuracy (policy) and implicit-reward accuracy both equal the foundry, and R* is reported', async () => {
    const pol = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'policy', '--policy', `tiny-dpo-${attr}`, '--append-eos', 'false']));
    expect(Math.abs(pol.accuracy - metric(`tiny-dpo-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
    const imp = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'implicit', '--tuned', `tiny-dpo-${attr}`, '--ref', 'tiny-base', '--beta', '0.1', '--append-eos', 'false']));
    expect(Math.abs(imp.accuracy - metric(`tiny-dpo-${attr}`, 'implicit_reward_accuracy'))).toBeLessThanOrEqual(1e-3);
    expect(imp.idealized_accuracy).toBeGreaterThan(0);
    // the gap is R*(π_ref) − R(π_θ), the tuned model's ranking accuracy, not the implicit-reward accuracy (Chen, Remark 2.5)
    expect(imp.r_star?.model).toBe('tiny-base');
    expect(imp.r?.model).toBe(`tiny-dpo-${attr}`);
    expect(imp.alignment_gap).toBeCloseTo((imp.idealized_accuracy as number) - (imp.r?.value as number), 12);
    expect(imp.r?.value).toBeCloseTo(pol.r?.value as number, 6);
  });
});

describe.runIf(!!HH)('HH-RLHF harmless-base test file', () => {
  it('parses completely with the shared-prefix prompt split (2,312 pairs, no bad lines)', async () => {
    let pairs = 0;
    let errors = 0;
    const chunks = (async function* () {
      const dec = new TextDecoder();
      for await (const b of createReadStream(HH as string).pipe(createGunzip())) yield dec.decode(b as Buffer, { stream: true });
    })();
    for await (const item of parseDataset(chunks)) {
      if ('error' in item) errors++;
      else {
        pairs++;
        expect(item.pair.prompt.endsWith('\n\nAssistant:')).toBe(true);
        expect(item.pair.prompt.startsWith('\n\nHuman:')).toBe(true);
      }
    }
    expect(errors).toBe(0);
    expect(pairs).toBe(2312);
  });

  it('rank runs on its first 200 pairs with the bundled policy', async () => {
    const out = await rank(parseArgs(['--dataset', HH as string, '--scorer', 'policy', '--policy', 'tiny-base', '--limit', '200']));
    expect(out.n + out.skipped).toBe(200);
    expect(out.invalid_lines).toEqual([]);
    expect(out.truncated).toBeGreaterThan(0); // long transcripts exceed the 256-token context
    expect(out.accuracy).toBeGreaterThan(0.2);
    expect(out.accuracy).toBeLessThan(0.8);
  });
});

async function hhPairs(n: number): Promise<PreferencePair[]> {
  const chunks = (async function* () {
    const dec = new TextDecoder();
    for await (const b of createReadStream(HH as string).pipe(createGunzip())) yield dec.decode(b as Buffer, { stream: true });
  })();
  return (await readDataset(chunks, n)).pairs;
}

function maxScoreDiff(a: ScoreResult, b: ScoreResult): number {
  expect(b.pairs.map((p) => p.id)).toEqual(a.pairs.map((p) => p.id));
  expect(b.truncated).toBe(a.truncated);
  expect(b.skipped).toEqual(a.skipped);
  let d = 0;
  a.pairs.forEach((p, i) => {
    const q = b.pairs[i]!;
    d = Math.max(d, Math.abs(p.chosen - q.chosen), Math.abs(p.rejected - q.rejected), Math.abs((p.refChosen ?? 0) - (q.refChosen ?? 0)), Math.abs((p.refRejected ?? 0) - (q.refRejected ?? 0)));
  });
  return d;
}

describe('prompt sharing (extend) on the bundled models equals full recomputation', () => {
  it('extend after prefill + select gives the log-probs score() gives, also when padding exceeds the context', async () => {
    const policy = await lm('tiny-base');
    const u = (n: number, k: number) => Array.from({ length: n }, (_, i) => ((i + 1) * k) % 4000 + 5);
    // prompt 200 + response 56 and prompt 30 + response 220 each fit 256; padded together they are 419 long
    const prompts = [u(200, 37), u(30, 53), u(7, 11)];
    const conts = [u(56, 91), u(220, 17), [], u(1, 3), u(40, 29)];
    const rows = Int32Array.from([0, 1, 2, 2, 2]);
    const { logits, cache } = await policy.prefill(prompts);
    const tiled = await cache.select(rows);
    cache.dispose();
    const ext = await policy.extend(tiled, conts);
    tiled.dispose();
    const full = await policy.score(
      conts.map((c, i) => [...prompts[rows[i]!]!, ...c]),
      conts.map((_, i) => prompts[rows[i]!]!.length),
    );
    conts.forEach((c, i) => {
      expect(ext[i]!.length).toBe(Math.max(0, c.length - 1));
      const row = logits[rows[i]!]!;
      if (c.length) expect(Math.abs(row[c[0]!]! - logSumExp(row) - full[i]![0]!)).toBeLessThanOrEqual(1e-4);
      for (let t = 1; t < c.length; t++) expect(Math.abs(ext[i]![t - 1]! - full[i]![t]!)).toBeLessThanOrEqual(1e-4);
    });
    // a row whose own tokens exceed the context is refused
    const long = await policy.prefill([u(250, 7)]);
    await expect(policy.extend(long.cache, [u(10, 3)])).rejects.toThrow(/row 0 would hold 259 tokens; the context is 256/);
    long.cache.dispose();
  });

  const bundled = readDataset([readFileSync(dataset('positive'), 'utf8')], 48).then((d) => d.pairs);
  const cases: [ScorerKind, () => Promise<Parameters<typeof scorePairs>[2]>][] = [
    ['policy', async () => ({ policy: await lm('tiny-dpo-positive') })],
    ['implicit', async () => ({ tuned: await lm('tiny-dpo-positive'), ref: await lm('tiny-base') })],
    ['arm', async () => ({ arm: await lm('tiny-arm-positive') })],
  ];
  it.each(cases)('%s scorer on the bundled split: shared prompts = full sequences to 1e-4', async (kind, models) => {
    const m = await models();
    const pairs = await bundled;
    const tok = (await lm('tiny-base')).tokenizer;
    for (const lengthNormalize of kind === 'implicit' ? [false] : [false, true]) {
      const full = await scorePairs(pairs, kind, m, tok, { beta: 0.1, lengthNormalize, sharePrompts: false, sortWindow: 0 });
      const shared = await scorePairs(pairs, kind, m, tok, { beta: 0.1, lengthNormalize });
      expect(maxScoreDiff(full, shared)).toBeLessThanOrEqual(1e-4);
    }
  });

  it.runIf(!!HH)('policy scorer on long, truncated HH-RLHF prompts: shared = full to 1e-4', async () => {
    const policy = await lm('tiny-base');
    const pairs = await hhPairs(32);
    const full = await scorePairs(pairs, 'policy', { policy }, policy.tokenizer, { sharePrompts: false, sortWindow: 0 });
    const shared = await scorePairs(pairs, 'policy', { policy }, policy.tokenizer, { batchSize: 8 });
    expect(full.truncated).toBeGreaterThan(0);
    expect(maxScoreDiff(full, shared)).toBeLessThanOrEqual(1e-4);
  });

  it('logSumExpRange agrees with the core log-sum-exp', () => {
    const x = Float32Array.from({ length: 3 * 4096 }, (_, i) => 12 * Math.sin(i * 0.377) + 5 * Math.cos(i * 0.0123));
    for (let r = 0; r < 3; r++) expect(Math.abs(logSumExpRange(x, r * 4096, 4096) - logSumExp(x.subarray(r * 4096, (r + 1) * 4096)))).toBeLessThan(1e-8);
    expect(logSumExpRange(Float32Array.of(-Infinity, 0, -Infinity), 0, 3)).toBe(0);
    expect(logSumExpRange(Float32Array.of(-Infinity, -Infinity), 0, 2)).toBe(-Infinity);
    expect(logSumExpRange(Float32Array.of(1, NaN), 0, 2)).toBeNaN();
    expect(logSumExpRange(Float32Array.of(-1000, 0), 0, 2)).toBe(0); // exp(-1000) underflows to nothing
  });
});

describe('rank --json breakdowns and options', () => {
  // the first 40 pairs of the bundled split, without their alpha
  const dir = mkdtempSync(path.join(tmpdir(), 'decoding-lab-rank-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const noAlpha = path.join(dir, 'no-alpha.jsonl');
  writeFileSync(
    noAlpha,
    readFileSync(dataset('positive'), 'utf8')
      .split('\n')
      .slice(0, 40)
      .map((l) => {
        const { alpha: _, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(rest);
      })
      .join('\n'),
  );
  const args = ['--dataset', noAlpha, '--scorer', 'policy', '--policy', 'tiny-base'];

  it('keeps the contract fields, adds consistent breakdowns; --alpha gives R* when the data has none; --batch-size changes nothing', async () => {
    const out = await rank(parseArgs(args));
    expect(Object.keys(out).slice(0, 7)).toEqual(['n', 'accuracy', 'ties', 'truncated', 'skipped', 'ci95', 'ece']);
    expect(out.n).toBe(40);
    for (const p of out.pairs) expect(Object.keys(p)).toEqual(['id', 'chosen', 'rejected', 'margin']);
    expect(out.idealized_accuracy).toBeUndefined();
    const total = (bs: { n?: number; count?: number }[]) => bs.reduce((s, b) => s + (b.n ?? b.count ?? 0), 0);
    expect(total(out.margin_histogram)).toBe(40);
    expect(total(out.calibration_bins)).toBe(80); // both orderings of each pair
    expect(total(out.by_length)).toBe(40);
    expect(total(out.by_ref_logratio ?? [])).toBe(40);
    expect(out.pair_details.map((d) => [d.id, d.margin, d.correct])).toEqual(out.pairs.map((p) => [p.id, p.margin, p.chosen > p.rejected]));
    expect(out.pair_details.filter((d) => d.correct).length + out.ties / 2).toBeCloseTo(out.accuracy * 40, 9);

    const withAlpha = await rank(parseArgs([...args, '--alpha', '0.75']));
    expect(withAlpha.alpha_source).toBe('default');
    // tiny-base has no training β: β = 1, said so; it is its own reference (a base model)
    expect(withAlpha.idealized_beta).toBe(1);
    expect(withAlpha.beta_source).toMatch(/default 1/);
    expect(withAlpha.r_star?.model).toBe('tiny-base');
    const expected = withAlpha.pair_details.filter((d) => d.ref_chosen! - d.ref_rejected! + clampedLogit(0.75) / 1 > 0).length / 40;
    expect(withAlpha.idealized_accuracy).toBe(expected);
    expect(withAlpha.alignment_gap).toBeCloseTo(expected - withAlpha.accuracy, 12);

    const small = await rank(parseArgs([...args, '--batch-size', '3']));
    small.pairs.forEach((p, i) => expect(Math.abs(p.margin - out.pairs[i]!.margin)).toBeLessThanOrEqual(1e-4));
    await expect(rank(parseArgs([...args, '--alpha', '1.5']))).rejects.toThrow(/--alpha must be in \[0, 1\]/);
    await expect(rank(parseArgs([...args, '--batch-size', '0']))).rejects.toThrow(/--batch-size must be >= 1/);
  });

  it('as a process: the new options work, the help names them, a bad --alpha exits 2', () => {
    const bin = path.join(ROOT, 'bin', 'decoding-lab.mjs');
    const cli = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    const ok = cli('rank', ...args, '--limit', '6', '--alpha', '0.75', '--batch-size', '4', '--json');
    expect(ok.status).toBe(0);
    const out = JSON.parse(ok.stdout) as Awaited<ReturnType<typeof rank>>;
    expect(out.n).toBe(6);
    expect(out.alpha_source).toBe('default');
    const bad = cli('rank', ...args, '--alpha', '-1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--alpha must be in \[0, 1\]/);
    expect(cli('--help').stdout).toMatch(/--alpha A[\s\S]*--batch-size N/);
  });
});

describe('issue 12: the numbers a researcher can trust, on the bundled models', () => {
  const pos = dataset('positive');

  it('EOS appended to finished responses (the default) moves implicit positivity accuracy 0.536 → 0.559; β is the training β from the manifest', async () => {
    const withEos = await rank(parseArgs(['--dataset', pos, '--scorer', 'implicit', '--tuned', 'tiny-dpo-positive']));
    const without = await rank(parseArgs(['--dataset', pos, '--scorer', 'implicit', '--tuned', 'tiny-dpo-positive', '--append-eos', 'false']));
    expect(withEos.tokenization).toEqual({ add_bos: true, bos_token_id: null, append_eos: true, eos_token_id: 4095 });
    expect(Math.abs(without.accuracy - 0.5358)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(withEos.accuracy - 0.5592)).toBeLessThanOrEqual(1e-3);
    // --ref defaults to the tuned model's reference per the manifest; β to its training β 0.1
    expect(withEos.models.ref).toBe('tiny-base');
    expect(withEos.beta).toBe(0.1);
    expect(withEos.beta_source).toMatch(/training β of tiny-dpo-positive/);
    // the implicit reward's ECE is read at scale 1 (β is in the margin): well calibrated at the training β
    expect(withEos.ece_scale).toMatchObject({ scale: 1, source: 'implicit' });
    expect(withEos.ece as number).toBeLessThan(0.06);
  });

  it('policy scorer: R* comes from the policy’s base (tiny-base), not from the policy itself', async () => {
    const pol = await rank(parseArgs(['--dataset', pos, '--scorer', 'policy', '--policy', 'tiny-dpo-positive', '--limit', '200']));
    const imp = await rank(parseArgs(['--dataset', pos, '--scorer', 'implicit', '--tuned', 'tiny-dpo-positive', '--limit', '200']));
    expect(pol.r_star?.model).toBe('tiny-base');
    expect(pol.r_star?.value).toBeCloseTo(imp.r_star?.value as number, 9);
    // what the old code reported: the policy's own log-probs as π_ref
    const self = rStar(pol.pair_details.map((d) => ({ refChosen: d.policy_chosen!, refRejected: d.policy_rejected!, alpha: d.alpha! })), 0.1).value;
    expect(Math.abs((pol.r_star?.value as number) - self)).toBeGreaterThan(1e-3);
    expect(pol.alignment_gap_models).toEqual({ r_star: 'tiny-base', r: 'tiny-dpo-positive' });
    expect(pol.r_star_by_beta?.map((b) => b.beta)).toEqual([0.01, 0.1, 1, 5, 10]);
  });

  it('--length-normalize: R̃* uses the reference’s mean log-probs, like R̃', async () => {
    const args = ['--dataset', dataset('concise'), '--scorer', 'implicit', '--tuned', 'tiny-dpo-concise', '--limit', '120'];
    const sum = await rank(parseArgs(args));
    const mean = await rank(parseArgs([...args, '--length-normalize']));
    mean.pair_details.forEach((d, i) => {
      const s = sum.pair_details[i]!;
      expect(d.ref_chosen! * d.chosen_tokens).toBeCloseTo(s.ref_chosen!, 3);
      expect(d.policy_rejected! * d.rejected_tokens).toBeCloseTo(s.policy_rejected!, 3);
    });
    expect(mean.r_star?.length_normalized).toBe(true);
    const expected = rStar(mean.pair_details.map((d) => ({ refChosen: d.ref_chosen!, refRejected: d.ref_rejected!, alpha: d.alpha! })), 0.1).value;
    expect(mean.r_star?.value).toBe(expected);
    // the old code's R* with summed log-probs is another number
    expect(mean.r_star?.value).not.toBe(sum.r_star?.value);
  });

  it('ECE of an ARM is read at its training β_r (manifest), with ACE and 5/10/20 bins', async () => {
    const out = await rank(parseArgs(['--dataset', pos, '--scorer', 'arm', '--arm', 'tiny-arm-positive', '--limit', '200', '--ece-bins', '20']));
    expect(out.ece_scale).toMatchObject({ scale: 0.1, source: 'training' });
    const pairs = out.pair_details.map((d) => ({ chosen: d.chosen, rejected: d.rejected }));
    expect(out.ece).toBeCloseTo(expectedCalibrationError(pairs, 20, 0.1).ece, 12);
    expect(out.ece).not.toBeCloseTo(expectedCalibrationError(pairs, 20, 1).ece, 2);
    expect(out.calibration_bins).toHaveLength(20);
    expect(out.calibration_by_bins.map((b) => b.bins)).toEqual([5, 10, 20]);
    expect(out.r).toBeUndefined(); // an ARM is not the policy π_θ
  });

  it('BOS: a tokenizer whose post-processor adds one gets it before every prompt (the adapter finds it), --add-bos false leaves it out', async () => {
    // a copy of tiny-base whose tokenizer.json adds <|endoftext|> in front, as Llama-style TemplateProcessing does
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rank-bos-')), 'tiny-bos');
    try {
      cpSync(path.join(MODELS_DIR, 'tiny-base'), dir, { recursive: true });
      const file = path.join(dir, 'tokenizer.json');
      const t = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const bos = { SpecialToken: { id: '<|endoftext|>', type_id: 0 } };
      t.post_processor = {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [4095], tokens: ['<|endoftext|>'] } },
      };
      writeFileSync(file, JSON.stringify(t));
      const model = await lm(dir);
      expect(model.tokenizer.bosTokenId).toBe(4095);
      expect((await lm('tiny-base')).tokenizer.bosTokenId).toBeUndefined(); // the bundled tokenizer adds none
      const args = ['--dataset', pos, '--scorer', 'policy', '--policy', dir, '--limit', '3', '--append-eos', 'false'];
      const withBos = await rank(parseArgs(args));
      const without = await rank(parseArgs([...args, '--add-bos', 'false']));
      expect(withBos.tokenization).toMatchObject({ add_bos: true, bos_token_id: 4095 });
      expect(without.tokenization).toMatchObject({ add_bos: false, bos_token_id: null });
      const { pairs } = await readDataset([readFileSync(pos, 'utf8')], 1);
      const p = model.tokenizer.encode(pairs[0]!.prompt);
      const score = async (prompt: number[]) => (await model.score([[...prompt, ...model.tokenizer.encode(pairs[0]!.chosen)]], [prompt.length]))[0]!.reduce((a, v) => a + v, 0);
      expect(withBos.pairs[0]!.chosen).toBeCloseTo(await score([4095, ...p]), 4);
      expect(without.pairs[0]!.chosen).toBeCloseTo(await score(p), 4);
      expect(withBos.pairs[0]!.chosen).not.toBeCloseTo(without.pairs[0]!.chosen, 3);
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });

  it('bad input exits 2 with one line naming the flag', () => {
    const bin = path.join(ROOT, 'bin', 'decoding-lab.mjs');
    const cli = (...a: string[]) => spawnSync(process.execPath, [bin, 'rank', '--dataset', pos, ...a], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    for (const [a, msg] of [
      [['--scorer', 'implicit', '--tuned', 'tiny-dpo-positive', '--beta', '0'], /--beta must be > 0/],
      [['--scorer', 'policy', '--policy', 'tiny-base', '--ece-bins', '0'], /--ece-bins must be an integer from 1 to 100/],
      [['--scorer', 'sequence', '--reward-model', 'tiny-rm-positive', '--ref', 'tiny-base'], /--ref: the sequence scorer/],
      [['--scorer', 'implicit', '--tuned', 'tiny-arm-positive'], /--ref MODEL/],
    ] as const) {
      const r = cli(...a);
      expect(r.status, a.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});
