/**
 * Sequence classifiers as users have them (test/fixtures/hub, made by models/foundry/hub_fixtures.py):
 * a GPT-2 classifier with two labels and pad_token_id ≠ EOS (HF pooling: last token that is not the
 * pad id; positions 0..T-1), a BERT classifier (token_type_ids, [CLS] pooling, its own WordPiece
 * tokenizer), and the bundled scalar reward model. Rewards must equal PyTorch's unpadded numbers and
 * must not depend on which other rows share the batch.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, maxAbsDiff, readJson } from './env.ts';
import { loadSequenceRewardModel, loadTokenizer, type TransformersSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import { resolveRewardLabel } from '../../src/inference/backends/modelErrors.ts';

const HUB = FIXTURES_DIR + 'hub/';
interface Ref {
  labels: string[];
  cases: { ids: number[]; text?: string; logits: number[] }[];
}

/** Each row scored alone, then in batches with longer and shorter rows around it: the same rewards. */
async function batchInvariant(score: (b: number[][]) => Promise<Float32Array>, rows: number[][]): Promise<Float32Array> {
  const alone = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) alone[i] = (await score([rows[i] as number[]]))[0] as number;
  const longest = rows.reduce((a, r) => (r.length > a.length ? r : a), [] as number[]);
  const long = [...longest, ...longest.slice(0, 5)];
  for (const order of [rows, [...rows].reverse()]) {
    const got = await score([[long[0] as number], ...order, long]);
    const want = order.map((r) => alone[rows.indexOf(r)] as number);
    expect(maxAbsDiff(got.subarray(1, 1 + order.length), want)).toBeLessThan(1e-5);
  }
  return alone;
}

describe('gpt2-classifier: two labels, pad_token_id 0 (not EOS), HF last-non-pad pooling', () => {
  const ref = readJson<Ref>(HUB + 'gpt2-classifier/reference.json');
  let rm: TransformersSequenceRewardModel;
  beforeAll(async () => {
    rm = await loadSequenceRewardModel(HUB + 'gpt2-classifier', { device: 'cpu' });
  });
  afterAll(async () => rm?.dispose());

  it('reads labels from id2label and pads with config.pad_token_id', () => {
    expect(rm.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(rm.padTokenId).toBe(0);
  });

  it('reward = the chosen label, or a difference of two; equal to PyTorch unpadded; independent of the batch', async () => {
    const pos = rm.forRun({ label: 'POSITIVE' });
    const diff = rm.forRun({ label: 'POSITIVE-NEGATIVE' });
    const neg = rm.forRun({ label: '0' });
    const rows = ref.cases.map((c) => c.ids);
    const p = await batchInvariant((b) => pos.score(b), rows);
    const d = await batchInvariant((b) => diff.score(b), rows);
    const n = await batchInvariant((b) => neg.score(b), rows);
    expect(maxAbsDiff(p, ref.cases.map((c) => c.logits[1] as number))).toBeLessThan(1e-4);
    expect(maxAbsDiff(n, ref.cases.map((c) => c.logits[0] as number))).toBeLessThan(1e-4);
    expect(maxAbsDiff(d, ref.cases.map((c) => (c.logits[1] as number) - (c.logits[0] as number)))).toBeLessThan(1e-4);
    expect(diff.label.name).toBe('POSITIVE-NEGATIVE');
  });

  it('a classifier with several labels and no label chosen is refused, naming its labels', async () => {
    await expect(rm.score([[5, 6]])).rejects.toThrow(/2 labels \(0: NEGATIVE, 1: POSITIVE\).*--reward-label POSITIVE/);
    expect(() => rm.forRun({})).toThrow(/--reward-label POSITIVE-NEGATIVE/);
    expect(() => rm.forRun({ label: 'HAPPY' })).toThrow(/no such label; its labels are 0: NEGATIVE, 1: POSITIVE/);
  });
});

describe('gpt2-classifier fp16 (model_fp16.onnx: fp16 logits, raw half bits in Node)', () => {
  it('rewards within 2e-2 of the fp32 PyTorch numbers and independent of the batch', async () => {
    const ref = readJson<Ref>(HUB + 'gpt2-classifier/reference.json');
    const rm = await loadSequenceRewardModel(HUB + 'gpt2-classifier', { device: 'cpu', dtype: 'fp16', rewardLabel: 'POSITIVE-NEGATIVE' });
    try {
      const rows = ref.cases.map((c) => c.ids);
      const got = await batchInvariant((b) => rm.score(b), rows);
      expect(maxAbsDiff(got, ref.cases.map((c) => (c.logits[1] as number) - (c.logits[0] as number)))).toBeLessThan(2e-2);
      expect(rm.label?.name).toBe('POSITIVE-NEGATIVE');
    } finally {
      await rm.dispose();
    }
  });
});

describe('bert-classifier: token_type_ids, [CLS] pooling, its own tokenizer', () => {
  const ref = readJson<Ref>(HUB + 'bert-classifier/reference.json');
  let rm: TransformersSequenceRewardModel;
  beforeAll(async () => {
    rm = await loadSequenceRewardModel(HUB + 'bert-classifier', { device: 'cpu' });
  });
  afterAll(async () => rm?.dispose());

  it('the tokenizer adds [CLS] … [SEP] as Hugging Face does', () => {
    expect(rm.tokenizer.specialTokens).toEqual({ prefix: [2], suffix: [3] });
    for (const c of ref.cases) expect([2, ...rm.tokenizer.encode(c.text as string), 3]).toEqual(c.ids);
  });

  it('rewards equal PyTorch unpadded and do not depend on the batch (ids with or without [CLS]/[SEP])', async () => {
    const pos = rm.forRun({ label: 'POSITIVE' });
    const bare = ref.cases.map((c) => rm.tokenizer.encode(c.text as string));
    const a = await batchInvariant((b) => pos.score(b), bare);
    expect(maxAbsDiff(a, ref.cases.map((c) => c.logits[1] as number))).toBeLessThan(1e-4);
    const full = await pos.score(ref.cases.map((c) => c.ids));
    expect(maxAbsDiff(full, a)).toBeLessThan(1e-5);
  });

  it('a row longer than the context (64) keeps [CLS], its last 62 tokens and [SEP] instead of failing in onnxruntime', async () => {
    const pos = rm.forRun({ label: 'POSITIVE' });
    const body = rm.tokenizer.encode('good bad '.repeat(40));
    expect(body.length).toBeGreaterThan(64);
    const [long] = await pos.score([body]);
    const [cut] = await pos.score([[2, ...body.slice(body.length - 62), 3]]);
    expect(long).toBeCloseTo(cut as number, 6);
  });

  it("re-tokenizes text from another tokenizer (the bundled policy's) and reports the policy's vocabulary", async () => {
    const policyTok = await loadTokenizer(FIXTURES_DIR + '../../models/tiny-base');
    const view = rm.forRun({ label: 'POSITIVE-NEGATIVE', policy: policyTok });
    expect(view.retokenizes).toBe(true);
    expect(view.vocabSize).toBe(policyTok.vocabSize);
    const got = await view.score(ref.cases.map((c) => policyTok.encode(c.text as string)));
    expect(maxAbsDiff(got, ref.cases.map((c) => (c.logits[1] as number) - (c.logits[0] as number)))).toBeLessThan(1e-4);
  });
});

describe('bundled tiny-rm-positive (scalar head)', () => {
  it('a reward does not depend on the batch; one output needs no label', async () => {
    const rm = await loadSequenceRewardModel('tiny-rm-positive', { device: 'cpu' });
    try {
      const tok = rm.tokenizer;
      const rows = ['The state of the Union is strong.', 'Peace', 'We will win the war on debt and fear, and we will do it together.'].map((t) => tok.encode(t));
      await batchInvariant((b) => rm.score(b), rows);
      const view = rm.forRun({ policy: tok });
      expect(view.retokenizes).toBe(false);
      expect(maxAbsDiff(await view.score(rows), await rm.score(rows))).toBe(0);
    } finally {
      await rm.dispose();
    }
  });
});

describe('a scalar head whose config keeps the default two labels (id2label LABEL_0, LABEL_1)', () => {
  it('needs no label: the graph says logits [batch, 1]', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rm-two-names-'));
    try {
      cpSync(FIXTURES_DIR + '../../models/tiny-rm-positive', dir, { recursive: true });
      const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } }));
      const rm = await loadSequenceRewardModel(dir, { device: 'cpu' });
      const ref = await loadSequenceRewardModel('tiny-rm-positive', { device: 'cpu' });
      try {
        expect(rm.needsLabel).toBe(false);
        const rows = [rm.tokenizer.encode('Peace and prosperity.')];
        expect(await rm.forRun({}).score(rows)).toEqual(await ref.score(rows));
      } finally {
        await rm.dispose();
        await ref.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveRewardLabel', () => {
  const L = ['NEGATIVE', 'POSITIVE', 'very-positive'];
  it('names, indices, case, differences, names containing "-"', () => {
    expect(resolveRewardLabel('m', L, 'POSITIVE')).toEqual({ plus: 1, name: 'POSITIVE' });
    expect(resolveRewardLabel('m', L, 'positive')).toEqual({ plus: 1, name: 'POSITIVE' });
    expect(resolveRewardLabel('m', L, '0')).toEqual({ plus: 0, name: 'NEGATIVE' });
    expect(resolveRewardLabel('m', L, 'POSITIVE-NEGATIVE')).toEqual({ plus: 1, minus: 0, name: 'POSITIVE-NEGATIVE' });
    expect(resolveRewardLabel('m', L, '1-0')).toEqual({ plus: 1, minus: 0, name: 'POSITIVE-NEGATIVE' });
    expect(resolveRewardLabel('m', L, 'very-positive')).toEqual({ plus: 2, name: 'very-positive' });
    expect(resolveRewardLabel('m', L, 'very-positive-NEGATIVE')).toEqual({ plus: 2, minus: 0, name: 'very-positive-NEGATIVE' });
    expect(resolveRewardLabel('m', ['reward'], undefined)).toEqual({ plus: 0, name: 'reward' });
  });
  it('refuses unknown labels, a label minus itself, and no choice with several labels', () => {
    expect(() => resolveRewardLabel('m', L, 'HAPPY')).toThrow(/no such label/);
    expect(() => resolveRewardLabel('m', L, '3')).toThrow(/no such label/);
    expect(() => resolveRewardLabel('m', L, 'POSITIVE-POSITIVE')).toThrow(/always 0/);
    expect(() => resolveRewardLabel('m', L, undefined)).toThrow(/3 labels/);
  });
});
