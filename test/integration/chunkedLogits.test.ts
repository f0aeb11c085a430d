/**
 * Issue 13 item 3: prefill, score and extend never return logits for more positions than the logits
 * budget allows (chunks fed through the KV cache), and chunking changes no number: last logits,
 * log-probs, cached steps and greedy/beam tokens equal the unchunked path, on the bundled tiny-base
 * and on hub-style fixtures with position_ids (GPT-2, Llama with GQA), rows of different lengths
 * (left padding longer than a chunk included).
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, maxAbsDiff } from './env.ts';
import { loadLanguageModel, parseLogitsBudget, type TransformersLanguageModel } from '../../src/inference/backends/transformers.ts';
import { decode, type StrategySpec } from '../../src/core/search/strategy.ts';

const MODELS = ['tiny-base', FIXTURES_DIR + 'hub/gpt2-lm', FIXTURES_DIR + 'hub/llama-style'];
const CHUNKS = [1, 2, 3, 7];
const TOL = 1e-5;

/**
 * Records, per forward, the logits' positions (0 when the forward fetched no logits), the new
 * positions and rows fed, and whether it returned `present.*` (the cache) and their bytes.
 */
function spy(m: TransformersLanguageModel): { positions: number[]; fed: number[]; rows: number[]; present: boolean[]; presentBytes: number[]; clear(): void } {
  const inner = (m as unknown as { model: { forward: (f: Record<string, { dims: number[] }>) => Promise<Record<string, { dims: number[] }>> } }).model;
  const f = inner.forward.bind(inner);
  const rec = { positions: [] as number[], fed: [] as number[], rows: [] as number[], present: [] as boolean[], presentBytes: [] as number[] };
  inner.forward = async (feeds) => {
    const out = await f(feeds);
    rec.positions.push(out.logits ? (out.logits.dims[1] as number) : 0);
    rec.fed.push((feeds.input_ids as { dims: number[] }).dims[1] as number);
    rec.rows.push((feeds.input_ids as { dims: number[] }).dims[0] as number);
    const present = Object.keys(out).filter((k) => k.startsWith('present'));
    rec.present.push(present.length > 0);
    rec.presentBytes.push(present.reduce((n, k) => n + ((out[k] as unknown as { data: ArrayBufferView }).data.byteLength), 0));
    return out;
  };
  const clear = () => [rec.positions, rec.fed, rec.rows, rec.present, rec.presentBytes].forEach((a) => (a.length = 0));
  return Object.assign(rec, { clear });
}

/** Sets the budget so that `rows` rows get exactly `chunk` positions per forward. */
function chunkTo(m: TransformersLanguageModel, rows: number, chunk: number): void {
  m.logitsBudgetBytes = chunk * rows * m.vocabSize * 4;
  expect(m.chunkLength(rows)).toBe(chunk);
}

function rowsOf(seed: number, lengths: number[], vocab: number): number[][] {
  let s = seed;
  return lengths.map((n) => Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648), s % Math.min(vocab, 4000))));
}

const diff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => maxAbsDiff(x, b[i] as Float32Array)));

describe.each(MODELS)('chunked logits: %s', (id) => {
  it('prefill, cached steps, score and extend equal the unchunked path for chunk sizes 1, 2, 3, 7; no forward exceeds its chunk', async () => {
    const m = await loadLanguageModel(id, { device: 'cpu', logitsBudgetBytes: Infinity });
    const rec = spy(m);
    // Lengths 1 and 19 in one batch: the short row is all padding for many chunks.
    const prompts = rowsOf(3, [19, 1, 8], m.vocabSize);
    const conts = rowsOf(5, [9, 1, 4], m.vocabSize);
    const full = prompts.map((p, i) => [...p, ...(conts[i] as number[])]);
    const from = prompts.map((p) => Math.max(1, p.length));
    const next = Int32Array.from([7, 8, 9]);

    const run = async () => {
      const { logits, cache } = await m.prefill(prompts);
      const ext = await m.extend(cache, conts);
      const { logits: stepped, cache: c2 } = await m.step(cache, next);
      c2.dispose();
      const scored = await m.score(full, from);
      return { logits, ext, stepped, scored };
    };
    const ref = await run();
    expect(rec.positions).toEqual([19, 8, 1, 19 + 9]); // unbounded: one forward per call
    for (const a of [ref.logits, ref.ext, ref.stepped, ref.scored]) for (const r of a) expect(r.every(Number.isFinite)).toBe(true);
    for (const chunk of CHUNKS) {
      chunkTo(m, 3, chunk);
      rec.clear();
      const got = await run();
      const budget = chunk * 3 * m.vocabSize * 4;
      // no forward returns more logits than the budget (3 rows × chunk positions)
      rec.positions.forEach((p, i) => expect((rec.rows[i] as number) * p).toBeLessThanOrEqual(3 * chunk));
      // prefill 19 positions, step 1, score 28: ceil(T / chunk) forwards each
      const calls = (t: number) => Math.ceil(t / chunk);
      const pre = calls(19);
      const ext = rec.fed.length - pre - 1 - calls(28);
      expect(rec.fed.slice(0, pre).reduce((a, b) => a + b)).toBe(19);
      // only prefill's last forward fetches logits (it reads the last position); every prefill forward keeps the cache
      expect(rec.positions.slice(0, pre)).toEqual([...Array<number>(pre - 1).fill(0), 19 - chunk * (pre - 1)]);
      expect(rec.present.slice(0, pre).every(Boolean)).toBe(true);
      // extend: 3 rows × 8 positions, in groups of rows whose present.* stay within the budget, or of
      // as few rows as carry a full chunk of positions (rows − 1 rows of 8 would not)
      const extRows = rec.rows.slice(pre, pre + ext);
      const extFed = rec.fed.slice(pre, pre + ext);
      expect(extRows.reduce((n, r, i) => n + r * (extFed[i] as number), 0)).toBe(3 * 8);
      rec.presentBytes.slice(pre, pre + ext).forEach((b, i) => {
        const rows = extRows[i] as number;
        expect(b <= budget || (rows - 1) * 8 < 3 * chunk, `extend forward ${i}: ${b} B of present.* for ${rows} rows`).toBe(true);
      });
      if (chunk === 1 && id === 'tiny-base') expect(Math.max(...extRows)).toBe(1); // 3 rows' present.* exceed 12 vocabularies of logits
      // extend and score keep no cache: only the last forward of each extend row group (8 positions) and of score fetch no present.*
      let fed = 0;
      extFed.forEach((n, i) => {
        fed += n;
        expect(rec.present[pre + i], `extend forward ${i}`).toBe(fed !== 8);
        if (fed === 8) fed = 0;
      });
      expect(rec.present.slice(pre + ext)).toEqual([true, ...Array<boolean>(calls(28) - 1).fill(true), false]);
      expect(diff(got.logits, ref.logits), `prefill, chunk ${chunk}`).toBeLessThan(TOL);
      expect(diff(got.ext, ref.ext), `extend, chunk ${chunk}`).toBeLessThan(TOL);
      expect(diff(got.stepped, ref.stepped), `step after chunked prefill, chunk ${chunk}`).toBeLessThan(TOL);
      expect(diff(got.scored, ref.scored), `score, chunk ${chunk}`).toBeLessThan(TOL);
    }
    // extend's log-probs are score's (the LanguageModel contract), chunked too
    ref.ext.forEach((e, i) => expect(maxAbsDiff(e, (ref.scored[i] as Float32Array).subarray(1))).toBeLessThan(1e-4));
    await m.dispose();
  });

  it('greedy and 4-beam token ids are identical with a chunk of 3 and unbounded', async () => {
    const m = await loadLanguageModel(id, { device: 'cpu', logitsBudgetBytes: Infinity });
    const prompt = rowsOf(11, [17], m.vocabSize)[0] as number[];
    const specs: StrategySpec[] = [
      { strategy: 'greedy', config: { max_new_tokens: 6 } },
      { strategy: 'beam', config: { num_beams: 4, num_return_sequences: 2, max_new_tokens: 5 } },
    ];
    const tokens = async () => {
      const res: number[][] = [];
      for (const spec of specs) for await (const e of decode(spec, { policy: m }, prompt)) if (e.type === 'done') res.push(...e.sequences.map((s) => [...s.tokenIds]));
      return res;
    };
    const ref = await tokens();
    chunkTo(m, 1, 3);
    const rec = spy(m);
    expect(await tokens()).toEqual(ref);
    expect(Math.max(...rec.positions)).toBeLessThanOrEqual(3);
    await m.dispose();
  });
});

describe('logits budget option', () => {
  it('parses sizes and "off", refuses anything else naming the variable', () => {
    expect(parseLogitsBudget('off')).toBe(Infinity);
    expect(parseLogitsBudget('32M')).toBe(32 * 2 ** 20);
    expect(parseLogitsBudget('1g')).toBe(2 ** 30);
    expect(parseLogitsBudget('4096')).toBe(4096);
    expect(() => parseLogitsBudget('lots')).toThrow(/DECODING_LAB_LOGITS_BUDGET: expected a size/);
    expect(() => parseLogitsBudget('0')).toThrow(/DECODING_LAB_LOGITS_BUDGET/);
  });
});
