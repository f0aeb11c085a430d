/**
 * Every bundled model, loaded through the backend adapter on onnxruntime-node, against the PyTorch
 * fixtures the foundry wrote (test/fixtures/golden.json), plus the KV-cache properties the engine
 * relies on: a cached step equals a full recompute, a padded batch equals its rows run alone, and
 * selecting cache rows equals recomputing those rows.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, MODELS_DIR, manifest, maxAbsDiff, readJson } from './env.ts';
import {
  loadLanguageModel,
  loadSequenceRewardModel,
  type TransformersLanguageModel,
} from '../../src/inference/backends/transformers.ts';
import { greedy } from '../../src/core/search/greedy.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';

interface LmCase {
  ids: number[];
  rows: { position: number; cols: number[]; values: number[]; top_ids: number[]; top_values: number[]; logsumexp: number }[];
  greedy: number[];
}
interface RmCase {
  ids: number[];
  score: number;
}
type Golden = Record<string, { kind: string; cases: (LmCase | RmCase)[] }>;

const golden = readJson<Golden>(FIXTURES_DIR + 'golden.json');
const TOL = 1e-4;
const lms = manifest.models.filter((m) => m.role !== 'sequence_rm');
const rms = manifest.models.filter((m) => m.role === 'sequence_rm');

async function collect(gen: AsyncGenerator<DecodeEvent>): Promise<DecodeEvent[]> {
  const out: DecodeEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe('manifest', () => {
  it('lists every model folder file with its sha256, and all bundled models stay under 40 MB', () => {
    let total = 0;
    for (const m of manifest.models) {
      const names = m.files.map((f) => f.path);
      for (const required of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'README.md']) {
        expect(names, `${m.id} lacks ${required}`).toContain(required);
      }
      for (const f of m.files) {
        const p = `${MODELS_DIR}${m.id}/${f.path}`;
        const digest = createHash('sha256').update(readFileSync(p)).digest('hex');
        expect(digest, p).toBe(f.sha256);
        expect(statSync(p).size).toBe(f.bytes);
        total += f.bytes;
      }
    }
    expect(total).toBeLessThan(40_000_000);
    for (const d of manifest.datasets) {
      const p = MODELS_DIR + d.path;
      expect(createHash('sha256').update(readFileSync(p)).digest('hex'), p).toBe(d.sha256);
      expect(d.pairs).toBeGreaterThanOrEqual(500);
    }
    expect(manifest.models.map((m) => m.role).sort()).toEqual(['arm', 'arm', 'policy', 'sequence_rm', 'sequence_rm', 'tuned', 'tuned']);
  });
});

describe.each(lms.map((m) => m.id))('causal LM %s on onnxruntime-node', (id) => {
  let lm: TransformersLanguageModel;
  const cases = (golden[id]?.cases ?? []) as LmCase[];
  beforeAll(async () => {
    lm = await loadLanguageModel(id, { device: 'cpu' });
  });
  afterAll(async () => {
    await lm?.dispose();
  });

  it('has fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
    expect(lm.vocabSize).toBe(4096);
    expect(lm.contextLength).toBe(256);
  });

  it('logits match PyTorch within 1e-4', async () => {
    for (const c of cases) {
      for (const row of c.rows) {
        const { logits, cache } = await lm.prefill([c.ids.slice(0, row.position + 1)]);
        cache.dispose();
        const got = logits[0] as Float32Array;
        expect(maxAbsDiff(row.cols.map((i) => got[i] as number), row.values)).toBeLessThanOrEqual(TOL);
        expect(maxAbsDiff(row.top_ids.map((i) => got[i] as number), row.top_values)).toBeLessThanOrEqual(TOL);
        const order = Array.from(got.keys()).sort((a, b) => (got[b] as number) - (got[a] as number));
        expect(order[0]).toBe(row.top_ids[0]);
      }
    }
  });

  it('greedy continuation equals PyTorch greedy', async () => {
    for (const c of cases) {
      const events = await collect(greedy(lm, c.ids, { maxNewTokens: 20 }));
      const done = events.at(-1);
      expect(done?.type).toBe('done');
      if (done?.type === 'done') expect(done.sequences[0]?.tokenIds).toEqual(c.greedy);
    }
  });

  it('a cached step equals a full recompute', async () => {
    const seq = [...(cases[0] as LmCase).ids, ...(cases[0] as LmCase).greedy.slice(0, 6)];
    const p = (cases[0] as LmCase).ids.length;
    let { logits, cache } = await lm.prefill([seq.slice(0, p)]);
    for (let t = p; t < seq.length; t++) {
      ({ logits, cache } = await lm.step(cache, Int32Array.of(seq[t] as number)));
      const full = await lm.prefill([seq.slice(0, t + 1)]);
      full.cache.dispose();
      expect(maxAbsDiff(logits[0] as Float32Array, full.logits[0] as Float32Array)).toBeLessThanOrEqual(TOL);
    }
    cache.dispose();
  });

  it('a left-padded batch of three prompts equals each prompt alone, through prefill and steps', async () => {
    const prompts = cases.slice(0, 3).map((c) => c.ids);
    const next = [17, 300, 1000];
    let batch = await lm.prefill(prompts);
    batch = await lm.step(batch.cache, Int32Array.from(next));
    for (let i = 0; i < 3; i++) {
      const alone = await lm.prefill([[...(prompts[i] as number[]), next[i] as number]]);
      alone.cache.dispose();
      expect(maxAbsDiff(batch.logits[i] as Float32Array, alone.logits[0] as Float32Array)).toBeLessThanOrEqual(TOL);
    }
    batch.cache.dispose();
  });

  it('selecting cache rows equals recomputing those rows', async () => {
    const prompts = cases.slice(0, 3).map((c) => c.ids);
    const { cache } = await lm.prefill(prompts);
    const rows = Int32Array.from([2, 0, 0, 1]);
    const selected = await cache.select(rows);
    expect(selected.rows).toBe(4);
    cache.dispose();
    const next = Int32Array.from([5, 6, 7, 8]);
    const stepped = await lm.step(selected, next);
    for (let i = 0; i < rows.length; i++) {
      const alone = await lm.prefill([[...(prompts[rows[i] as number] as number[]), next[i] as number]]);
      alone.cache.dispose();
      expect(maxAbsDiff(stepped.logits[i] as Float32Array, alone.logits[0] as Float32Array)).toBeLessThanOrEqual(TOL);
    }
    stepped.cache.dispose();
  });

  it('score() gives the per-token log-probs that prefill logits imply', async () => {
    const c = cases[0] as LmCase;
    const seq = [...c.ids, ...c.greedy];
    const [lp] = await lm.score([seq, c.ids], [c.ids.length, 1]);
    expect(lp?.length).toBe(c.greedy.length);
    for (let t = c.ids.length; t < seq.length; t++) {
      const { logits, cache } = await lm.prefill([seq.slice(0, t)]);
      cache.dispose();
      const row = logits[0] as Float32Array;
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      const expected = (row[seq[t] as number] as number) - m - Math.log(s);
      expect(Math.abs((lp?.[t - c.ids.length] as number) - expected)).toBeLessThanOrEqual(TOL);
    }
  });
});

describe.each(rms.map((m) => m.id))('sequence reward model %s on onnxruntime-node', (id) => {
  it('scores match PyTorch, alone and in a padded batch', async () => {
    const rm = await loadSequenceRewardModel(id, { device: 'cpu' });
    const cases = (golden[id]?.cases ?? []) as RmCase[];
    expect(cases.length).toBeGreaterThanOrEqual(3);
    const batch = await rm.score(cases.map((c) => c.ids));
    cases.forEach((c, i) => expect(Math.abs((batch[i] as number) - c.score)).toBeLessThanOrEqual(TOL));
    for (const c of cases) {
      const [alone] = await rm.score([c.ids]);
      expect(Math.abs((alone as number) - c.score)).toBeLessThanOrEqual(TOL);
    }
    await rm.dispose();
  });
});
