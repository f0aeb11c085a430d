/**
 * Issue 12 (decoding side) on the bundled models: the per-step exact KL against a Monte-Carlo
 * estimate from 2,000 draws of the engine's own sampler, the β names of `generate` (old flags give
 * the tokens they gave before), and the guided sampling defaults.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import './env.ts';
import { loadLanguageModel } from '../../src/inference/backends/transformers.ts';
import { decode, type StrategyModels, type StrategySpec } from '../../src/core/search/strategy.ts';
import type { SequenceResult } from '../../src/core/search/events.ts';
import { generate, DEPRECATED_BETA_NOTICE } from '../../src/cli/generate.ts';
import { parseArgs } from '../../src/cli/args.ts';

const base = await loadLanguageModel('tiny-base', { device: 'cpu' });
const armPos = await loadLanguageModel('tiny-arm-positive', { device: 'cpu' });
const dpo = await loadLanguageModel('tiny-dpo-positive', { device: 'cpu' });
const tok = base.tokenizer;

/** Float64 log-softmax (the test's own, independent of the engine's). */
function lsm(x: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i] as number);
  let z = 0;
  for (let i = 0; i < x.length; i++) z += Math.exp((x[i] as number) - m);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) - m - Math.log(z);
  return out;
}
/** Hugging Face's warpers, written again here: temperature, top-k, top-p, min-p on scores. */
function warp(s: Float64Array, o: { temperature?: number; top_k?: number; top_p?: number; min_p?: number }): Float64Array {
  const x = s.map((v) => v / (o.temperature ?? 1));
  if (o.top_k) {
    const kth = [...x].sort((a, b) => b - a)[o.top_k - 1] as number;
    for (let i = 0; i < x.length; i++) if ((x[i] as number) < kth) x[i] = -Infinity;
  }
  if (o.top_p !== undefined && o.top_p < 1) {
    const p = lsm(x).map(Math.exp);
    const order = [...p.keys()].sort((a, b) => (p[a] as number) - (p[b] as number) || a - b);
    let cum = 0;
    for (const i of order.slice(0, -1)) {
      cum += p[i] as number;
      if (cum <= 1 - o.top_p) x[i] = -Infinity;
      else break;
    }
  }
  if (o.min_p) {
    const m = Math.max(...x);
    for (let i = 0; i < x.length; i++) if ((x[i] as number) < m + Math.log(o.min_p)) x[i] = -Infinity;
  }
  return lsm(x);
}

const prefill = async (m: typeof base, ids: number[]) => lsm((await m.prefill([ids])).logits[0] as Float32Array);

async function draws(spec: StrategySpec, models: StrategyModels, prompt: number[]): Promise<readonly SequenceResult[]> {
  let out: readonly SequenceResult[] = [];
  for await (const e of decode(spec, models, prompt)) if (e.type === 'done') out = e.sequences;
  return out;
}

describe('exact per-step KL vs a 2,000-sample Monte-Carlo estimate (bundled models)', () => {
  const N = 2000;
  const prompt = tok.encode('The state of the Union is');
  const cases: { name: string; spec: StrategySpec; models: StrategyModels; q: () => Promise<Float64Array> }[] = [
    {
      name: 'unguided, temperature 0.7, top_p 0.9',
      spec: { strategy: 'sample', config: { temperature: 0.7, top_p: 0.9, top_k: 0 } },
      models: { policy: base },
      q: async () => warp(await prefill(base, prompt), { temperature: 0.7, top_p: 0.9 }),
    },
    {
      name: 'GenARM guidance_beta 1, top_k 50 (the case the issue measured)',
      spec: { strategy: 'genarm', config: { do_sample: true, top_k: 50 }, guidanceBeta: 1 },
      models: { policy: base, arms: [armPos] },
      q: async () => {
        const [b, a] = [await prefill(base, prompt), await prefill(armPos, prompt)];
        return warp(b.map((v, i) => v + (a[i] as number)), { top_k: 50 });
      },
    },
    {
      name: 'implicit (β 0.1 from the manifest), temperature 1.3, min_p 0.05, full product',
      spec: { strategy: 'implicit', config: { do_sample: true, temperature: 1.3, min_p: 0.05 } },
      models: { policy: base, tuned: dpo, ref: base, tunedBeta: 0.1 },
      q: async () => {
        const [b, t] = [await prefill(base, prompt), await prefill(dpo, prompt)];
        return warp(b.map((v, i) => v + (t[i] as number) - v), { temperature: 1.3, min_p: 0.05 });
      },
    },
  ];

  it.each(cases)('$name', async ({ spec, models, q }) => {
    const seqs = await draws({ ...spec, config: { ...spec.config, max_new_tokens: 1, num_return_sequences: N, seed: 7 } }, models, prompt);
    expect(seqs).toHaveLength(N);
    const lq = await q();
    const lp = await prefill(base, prompt);
    const exactHere = lq.reduce((a, l, i) => (l > -Infinity ? a + Math.exp(l) * (l - (lp[i] as number)) : a), 0);
    const reported = seqs[0]!.steps[0]!.kl as number;
    for (const s of seqs) expect(s.steps[0]!.kl).toBe(reported); // one distribution, one number
    expect(reported).toBeCloseTo(exactHere, 3); // the engine's q′ is the one written out above
    const x = seqs.map((s) => (lq[s.tokenIds[0]!] as number) - (lp[s.tokenIds[0]!] as number));
    expect(x.every(Number.isFinite)).toBe(true); // every draw lies in q′'s support
    const mean = x.reduce((a, b) => a + b, 0) / N;
    const se = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1) / N);
    console.log(`${spec.strategy}: exact ${reported.toFixed(4)}, Monte-Carlo ${mean.toFixed(4)} ± ${se.toFixed(4)} (z ${((mean - reported) / se).toFixed(2)})`);
    expect(Math.abs(mean - reported)).toBeLessThan(3 * se);
    expect(reported).toBeGreaterThan(0.05);
  });
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const P = 'The nation is';
const run = (...args: string[]) => {
  const notes: string[] = [];
  return generate(parseArgs(['--policy', 'tiny-base', '--prompt', P, '--max_new_tokens', '12', ...args]), (l) => notes.push(l)).then((out) => ({ out, notes }));
};
const ids = (o: Awaited<ReturnType<typeof run>>) => o.out.sequences.map((s) => s.token_ids);

describe('generate: β names (item 2)', () => {
  // Tokens recorded with the code before the rename (commit c516c57), for the old flags.
  const OLD: [string[], number[][]][] = [
    [['--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--beta', '0.5'], [[387, 297, 598, 280, 259, 451, 267, 259, 451, 267, 259, 451]]],
    [['--strategy', 'genarm', '--arm', 'tiny-arm-positive=1', '--arm', 'tiny-arm-concise=-0.5', '--beta', '2'], [[387, 297, 598, 280, 259, 608, 1343, 11, 283, 259, 608, 1343]]],
    [['--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base', '--beta', '0.5'], [[387, 689, 540, 540, 540, 540, 540, 540, 540, 540, 540, 540]]],
    [['--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base'], [[387, 689, 280, 259, 540, 540, 540, 540, 540, 540, 540, 540]]],
    [['--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--beta', '0.5', '--do_sample', '--seed', '3', '--num_return_sequences', '2', '--top_k', '50'], [[280, 259, 689, 280, 259, 534, 267, 259, 534, 267, 259, 506], [259, 451, 11, 283, 387, 297, 598, 312, 259, 769, 267, 259]]],
    [['--strategy', 'implicit', '--tuned', 'tiny-dpo-concise', '--ref', 'tiny-base', '--beta', '3', '--do_sample', '--seed', '1', '--top_k', '50'], [[2517, 280, 591, 280, 1533, 12, 262, 302, 13, 4095]]],
  ];
  it.each(OLD)('old flags %j give the tokens they gave before, with a deprecation note when --beta is given alone', async (args, tokens) => {
    const r = await run(...args);
    expect(ids(r)).toEqual(tokens);
    expect(r.notes).toEqual(args.includes('--beta') ? [DEPRECATED_BETA_NOTICE] : []);
  });

  it('the new names reach the same decodes: --guidance-beta B for GenARM; implicit --guidance-beta = β/B', async () => {
    expect(ids(await run('--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--guidance-beta', '0.5'))).toEqual(OLD[0]![1]);
    const r = await run('--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base', '--guidance-beta', '0.05'); // β 0.1 from the manifest
    expect(ids(r)).toEqual(OLD[2]![1]);
    expect(r.notes).toEqual([]);
  });

  it('old: implicit token rewards are β·(ℓ_tuned − ℓ_ref) with β = the training β 0.1 (they were β-free)', async () => {
    const old = await run('--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base', '--beta', '1');
    const now = await run('--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base');
    const key = 'implicit:tiny-dpo-positive';
    expect(ids(now)).toEqual(ids(old));
    now.out.sequences[0]!.steps.forEach((t, i) => expect(t.rewards[key]).toBeCloseTo(0.1 * old.out.sequences[0]!.steps[i]!.rewards[key]!, 5));
    const b2 = await run('--strategy', 'implicit', '--tuned', 'tiny-dpo-positive', '--ref', 'tiny-base', '--beta', '2', '--guidance-beta', '2');
    expect(ids(b2)).toEqual(ids(old)); // s = ℓ_base + (1/2)·2·(ℓ_tuned − ℓ_ref)
    b2.out.sequences[0]!.steps.forEach((t, i) => expect(t.rewards[key]).toBeCloseTo(2 * old.out.sequences[0]!.steps[i]!.rewards[key]!, 5));
  });

  it('old: genarm --do_sample samples the full product by default (top_k 0), as GenARM\'s reference does', async () => {
    const dflt = await run('--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--do_sample', '--seed', '5', '--num_return_sequences', '4');
    const k0 = await run('--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--do_sample', '--seed', '5', '--num_return_sequences', '4', '--top_k', '0');
    const k50 = await run('--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--do_sample', '--seed', '5', '--num_return_sequences', '4', '--top_k', '50');
    expect(ids(dflt)).toEqual(ids(k0));
    // the per-step KL differs between the full product and its top-50 truncation
    const klOf = (o: typeof dflt) => o.out.sequences[0]!.steps[0]!.kl!;
    expect(klOf(dflt)).not.toBeCloseTo(klOf(k50), 3);
    expect(dflt.out.sequences[0]!.kl_kind).toBe('exact');
  });

  it('the deprecation line goes to stderr, once, and the JSON on stdout is unchanged', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'decoding-lab.mjs'), 'generate', '--policy', 'tiny-base', '--prompt', P, '--max_new_tokens', '3', '--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--beta', '0.5', '--json'], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(DEPRECATED_BETA_NOTICE + '\n');
    expect(JSON.parse(r.stdout).sequences[0].token_ids).toEqual(OLD[0]![1][0]!.slice(0, 3));
  });
});
