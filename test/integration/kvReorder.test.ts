/**
 * KvCache.reorder on the transformers.js adapter (onnxruntime-node): beam search's consuming row
 * reorder copies only duplicated parents, in place, and keeps rows in slots. A chain of random
 * reorders and steps must give the logits of the same chain through select() (a real gather), on
 * the bundled GPT-2 (float32 KV) and on the hub fixture's fp16 export (KV as raw half bits), and
 * beam search must return the same beams with and without reorder.
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, maxAbsDiff } from './env.ts';
import { kvGatherStats, liveResources, loadLanguageModel, type TransformersLanguageModel } from '../../src/inference/backends/transformers.ts';
import { decode } from '../../src/core/search/strategy.ts';
import type { KvCache, LanguageModel } from '../../src/core/model/types.ts';

/** Deterministic pseudo-random parents (a duplicated parent most steps, as beam search has). */
function parentsAt(step: number, rows: number): Int32Array {
  let h = (step + 1) * 2654435761;
  return Int32Array.from({ length: rows }, () => ((h = (h * 1103515245 + 12345) >>> 0) >>> 16) % rows);
}

async function chain(lm: TransformersLanguageModel, useReorder: boolean, steps: number): Promise<Float32Array[][]> {
  const prompt = lm.tokenizer.encode('The state of the Union is');
  const first = await lm.prefill([prompt, prompt.slice(1), prompt.slice(2), prompt.slice(0, 3)]); // rows differ (and are padded)
  let cache: KvCache = first.cache;
  const out: Float32Array[][] = [];
  for (let s = 0; s < steps; s++) {
    const parents = s % 5 === 3 ? Int32Array.from([3, 2, 1, 0]) : parentsAt(s, 4); // a pure permutation now and then
    if (useReorder) cache = await (cache.reorder as (r: Int32Array) => Promise<KvCache>).call(cache, parents);
    else {
      const sel = await cache.select(parents);
      cache.dispose();
      cache = sel;
    }
    const r = await lm.step(cache, Int32Array.from([5 + s, 6, 7 + (s % 3), 8]));
    out.push(r.logits.map((l) => Float32Array.from(l)));
    cache = r.cache;
  }
  cache.dispose();
  return out;
}

describe('KvCache.reorder (transformers.js adapter, CPU)', () => {
  for (const [name, id, dtype, tol] of [
    ['bundled tiny-base (float32 KV)', 'tiny-base', 'fp32', 1e-5],
    ['hub gpt2-lm fixture, fp16 (half-bit KV)', FIXTURES_DIR + 'hub/gpt2-lm', 'fp16', 1e-3],
  ] as const) {
    it(`${name}: a chain of reorders and steps gives the logits of the same chain through select()`, async () => {
      const lm = await loadLanguageModel(id, { device: 'cpu', dtype });
      try {
        const before = liveResources().caches;
        const g0 = kvGatherStats();
        const a = await chain(lm, true, 12);
        const g1 = kvGatherStats();
        const b = await chain(lm, false, 12);
        expect(liveResources().caches).toBe(before);
        for (let s = 0; s < a.length; s++) for (let r = 0; r < 4; r++) expect(maxAbsDiff(a[s]![r]!, b[s]![r]!), `step ${s} row ${r}`).toBeLessThanOrEqual(tol);
        // reorder copied only duplicated parents: rows − distinct parents per step
        let dup = 0;
        for (let s = 0; s < 12; s++) dup += s % 5 === 3 ? 0 : 4 - new Set(parentsAt(s, 4)).size;
        expect(g1.rowsCopied - g0.rowsCopied).toBe(dup);
        expect(kvGatherStats().rowsCopied - g1.rowsCopied).toBe(48); // select copies every row
      } finally {
        await lm.dispose();
      }
    }, 60_000);
  }

  it('a reordered cache is consumed; a bad row is refused before anything moves', async () => {
    const lm = await loadLanguageModel('tiny-base', { device: 'cpu' });
    const { cache } = await lm.prefill([[1, 2, 3], [4, 5, 6]]);
    await expect(cache.reorder!(Int32Array.from([0, 2]))).rejects.toThrow('cache row 2 out of range 0..1');
    const r = await cache.reorder!(Int32Array.from([1, 1]));
    await expect(cache.select(Int32Array.from([0]))).rejects.toThrow('KV cache used after dispose');
    await expect(lm.extend(r, [[1, 2], [3, 4]])).rejects.toThrow(/this KV cache was reordered/);
    r.dispose();
    await lm.dispose();
  });

  it('beam search returns the same beams and scores with reorder as with select', async () => {
    const lm = await loadLanguageModel('tiny-base', { device: 'cpu' });
    /** The same model with caches that have no reorder (ModelSource then selects + disposes). */
    const wrap = (c: KvCache): KvCache => ({
      get length() { return c.length; },
      get rows() { return c.rows; },
      select: async (r) => wrap(await c.select(r)),
      dispose: () => c.dispose(),
      unwrap: c,
    } as KvCache & { unwrap: KvCache });
    const unwrap = (c: KvCache) => (c as KvCache & { unwrap: KvCache }).unwrap;
    const plain: LanguageModel = {
      id: lm.id, vocabSize: lm.vocabSize, eosTokenIds: lm.eosTokenIds, contextLength: lm.contextLength,
      prefill: async (b) => { const r = await lm.prefill(b); return { logits: r.logits, cache: wrap(r.cache) }; },
      step: async (c, n) => { const r = await lm.step(unwrap(c), n); return { logits: r.logits, cache: wrap(r.cache) }; },
      score: (b, f) => lm.score(b, f),
      dispose: async () => {},
    };
    const prompt = lm.tokenizer.encode('The state of the Union is');
    const run = async (policy: LanguageModel, strategy: 'beam' | 'diverse_beam') => {
      const g0 = kvGatherStats().rowsCopied;
      let seqs: readonly { tokenIds: readonly number[]; score: number }[] = [];
      const config = { max_new_tokens: 16, num_beams: 4, num_return_sequences: 4, ...(strategy === 'diverse_beam' ? { num_beam_groups: 2, diversity_penalty: 1 } : {}) };
      for await (const e of decode({ strategy, config }, { policy }, prompt)) if (e.type === 'done') seqs = e.sequences;
      return { seqs: seqs.map((s) => ({ ids: [...s.tokenIds], score: s.score })), copied: kvGatherStats().rowsCopied - g0 };
    };
    for (const strategy of ['beam', 'diverse_beam'] as const) {
      const a = await run(lm, strategy);
      const b = await run(plain, strategy);
      expect(a.seqs.map((s) => s.ids)).toEqual(b.seqs.map((s) => s.ids));
      a.seqs.forEach((s, i) => expect(Math.abs(s.score - b.seqs[i]!.score)).toBeLessThan(1e-5));
      expect(a.copied).toBeLessThan(b.copied); // fewer rows moved
    }
    await lm.dispose();
  }, 60_000);
});
