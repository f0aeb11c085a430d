import { describe, expect, it } from 'vitest';
import { greedy } from '../../src/core/search/greedy.ts';
import type { DecodeEvent } from '../../src/core/search/events.ts';
import { TableModel } from '../support/fakeModel.ts';

// After token 1 the model prefers 2 (logits [0, 0, ln 3, 0] -> p = 0.5), after 2 it prefers 3, after 3 EOS.
const L3 = Math.log(3);
const table = [
  [0, 0, 0, 0],
  [0, 0, L3, 0],
  [0, 0, 0, L3],
  [L3, 0, 0, 0],
];

async function run(gen: AsyncGenerator<DecodeEvent>): Promise<DecodeEvent[]> {
  const out: DecodeEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe('greedy on a hand-computed table', () => {
  it('follows the argmax chain to EOS with the exact log-probs, and frees every cache', async () => {
    const m = new TableModel(table);
    const events = await run(greedy(m, [1], { maxNewTokens: 10 }));
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.rows[0]?.tokenId)).toEqual([2, 3, 0]);
    for (const e of steps) expect(e.rows[0]?.logprob).toBeCloseTo(Math.log(0.5), 6);
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'done', sequences: [{ tokenIds: [2, 3, 0], score: expect.closeTo(3 * Math.log(0.5), 5), finishReason: 'eos', group: 0 }] });
    if (done?.type === 'done') expect(done.sequences[0]?.steps.map((s) => s.tokenId)).toEqual([2, 3, 0]);
    expect(m.live.size).toBe(0);
  });

  it('stops at max_new_tokens without a wasted model call', async () => {
    const m = new TableModel(table);
    const events = await run(greedy(m, [1], { maxNewTokens: 2 }));
    expect(events.at(-1)).toMatchObject({ sequences: [{ tokenIds: [2, 3], finishReason: 'length' }] });
    expect(m.calls).toBe(2); // prefill + one step
    expect(m.live.size).toBe(0);
  });

  it('reports the top-k of the policy distribution, largest first', async () => {
    const events = await run(greedy(new TableModel(table), [1], { maxNewTokens: 1, topK: 2 }));
    const first = events[0];
    expect(first?.type).toBe('step');
    if (first?.type === 'step') {
      expect(first.rows[0]?.top.map((t) => t.tokenId)).toEqual([2, 0]);
      expect(first.rows[0]?.top[0]?.value).toBeCloseTo(Math.log(0.5), 6);
    }
  });

  it('stops when aborted and says so', async () => {
    const ctrl = new AbortController();
    const m = new TableModel([
      [0, 1],
      [0, 1],
    ]);
    const out: DecodeEvent[] = [];
    for await (const e of greedy(m, [1], { maxNewTokens: 50, signal: ctrl.signal })) {
      out.push(e);
      if (out.length === 3) ctrl.abort();
    }
    expect(out.at(-1)).toMatchObject({ type: 'done', sequences: [{ finishReason: 'aborted' }] });
    expect(out.filter((e) => e.type === 'step')).toHaveLength(3);
    expect(m.live.size).toBe(0);
  });

  it('refuses NaN logits with a message naming the model and step', async () => {
    const m = new TableModel([
      [0, NaN],
      [0, NaN],
    ]);
    await expect(run(greedy(m, [1], { maxNewTokens: 3 }))).rejects.toThrow(/table produced NaN or \+Infinity logits at step 0/);
    expect(m.live.size).toBe(0);
  });
});
