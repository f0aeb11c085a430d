/**
 * The worker's request handler (the browser's path, here on onnxruntime-node) with hub-shaped reward
 * models: `rewardLabel` in GenerateRun and RankJob, and a BERT classifier with its own tokenizer
 * scoring re-tokenized text for a policy with another tokenizer.
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, nodeBackend } from './env.ts';
import { Handler } from '../../src/inference/handler.ts';
import { loadLanguageModel, loadSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';

const HUB = FIXTURES_DIR + 'hub/';
type Wire = { id: number; type: string; data?: { event?: DecodeEvent }; value?: unknown; error?: { message: string } };

function handler(out: Wire[]): Handler {
  return new Handler(nodeBackend(), (r) => out.push(r as Wire));
}

describe('worker: reward label and re-tokenizing reward models', () => {
  it('best-of-N with a BERT classifier (its own tokenizer) and rewardLabel POSITIVE-NEGATIVE', async () => {
    const out: Wire[] = [];
    const h = handler(out);
    const run = {
      policy: 'tiny-base',
      prompt: 'The state of the Union is',
      rewardModel: HUB + 'bert-classifier',
      rewardLabel: 'POSITIVE-NEGATIVE',
      spec: { strategy: 'best_of_n', config: { max_new_tokens: 6, do_sample: true, seed: 2 }, n: 3, traceTopK: 0 },
    } as const;
    await h.handle({ id: 1, type: 'generate', run });
    const err = out.find((r) => r.type === 'error');
    expect(err, err?.error?.message).toBeUndefined();
    const done = out.map((r) => r.data?.event).find((e) => e?.type === 'done');
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    const rm = await loadSequenceRewardModel(HUB + 'bert-classifier', { device: 'cpu' });
    const tok = (await loadLanguageModel('tiny-base', { device: 'cpu' })).tokenizer;
    const prompt = tok.encode(run.prompt);
    const want = await rm.forRun({ label: 'POSITIVE-NEGATIVE', policy: tok }).score(done.sequences.map((s) => [...prompt, ...s.tokenIds]));
    done.sequences.forEach((s, i) => expect(s.reward).toBeCloseTo(want[i] as number, 5));
    await rm.dispose();
  });

  it('without rewardLabel a two-label classifier is refused with its labels', async () => {
    const out: Wire[] = [];
    await handler(out).handle({
      id: 2,
      type: 'generate',
      run: { policy: 'tiny-base', prompt: 'Peace', rewardModel: HUB + 'gpt2-classifier', spec: { strategy: 'best_of_n', config: { max_new_tokens: 2 }, n: 2, traceTopK: 0 } },
    });
    expect(out.find((r) => r.type === 'error')?.error?.message).toMatch(/2 labels \(0: NEGATIVE, 1: POSITIVE\)/);
  });

  it('a rank job with the sequence scorer, a two-label GPT-2 classifier and rewardLabel', async () => {
    const out: Wire[] = [];
    const job = { dataset: { kind: 'bundled', path: 'datasets/prefs-positive-test.jsonl' }, scorer: 'sequence', rewardModel: HUB + 'gpt2-classifier', rewardLabel: 'POSITIVE', beta: 1, lengthNormalize: false, limit: 8 } as const;
    await handler(out).handle({ id: 3, type: 'rank', job });
    const err = out.find((r) => r.type === 'error');
    expect(err, err?.error?.message).toBeUndefined();
    const res = out.find((r) => r.type === 'result') as { value: { report: { n: number } } } | undefined;
    expect(res?.value.report.n).toBe(8);
  });
});
