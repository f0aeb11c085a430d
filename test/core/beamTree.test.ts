import { describe, expect, it } from 'vitest';
import { buildBeamTree, pathOf } from '../../src/core/viz/beamTree.ts';
import type { RowStep, StepEvent } from '../../src/core/search/events.ts';

const row = (row: number, parent: number, tokenId: number, score: number, group = 0): RowStep => ({
  row, parent, group, tokenId, score, logprob: 0, combinedLogprob: 0, rewards: {}, top: [],
});

// step 0: rows a(1), b(2) from the prompt; step 1: row0 = a→3, row1 = b→4, and a→EOS(0) finished
const steps: StepEvent[] = [
  { type: 'step', step: 0, rows: [row(0, 0, 1, -0.1), row(1, 1, 2, -0.5)] },
  { type: 'step', step: 1, rows: [row(0, 0, 3, -0.4), row(1, 1, 4, -0.9)], hypotheses: [{ row: 0, group: 0, tokenIds: [1, 0], score: -0.3, kind: 'finished' }] },
];

describe('beam tree layout', () => {
  it('places rows by step, links them to their parents, and adds hypotheses below the running rows', () => {
    const t = buildBeamTree(steps);
    expect(t.columns).toBe(3);
    expect(t.rows).toBe(3);
    const byId = new Map(t.nodes.map((n) => [n.id, n]));
    expect(byId.get('0:0')).toMatchObject({ parentId: 'p', tokenId: 1, slot: 0 });
    expect(byId.get('1:1')).toMatchObject({ parentId: '0:1', tokenId: 4 });
    expect(byId.get('1:h0')).toMatchObject({ parentId: '0:0', tokenId: 0, kind: 'finished', slot: 2 });
  });
  it('marks the path of a returned sequence', () => {
    const t = buildBeamTree(steps);
    expect([...pathOf(t, [1, 0])].sort()).toEqual(['0:0', '1:h0', 'p']);
    expect([...pathOf(t, [2, 4])].sort()).toEqual(['0:1', '1:1', 'p']);
  });
  it('gives each node of diverse beam search the Hamming penalty it paid: λ × earlier groups choosing its token', () => {
    // 3 groups of one beam; groups 0 and 1 both choose token 7, group 2 chooses 7 too: penalties 0, λ, 2λ
    const ev: StepEvent[] = [{ type: 'step', step: 0, rows: [row(0, 0, 7, -1, 0), row(1, 0, 7, -2, 1), row(2, 0, 7, -3, 2)] }];
    const ev2: StepEvent[] = [{ type: 'step', step: 0, rows: [row(0, 0, 7, -1, 0), row(1, 0, 8, -2, 1), row(2, 0, 7, -3, 2)] }];
    expect(buildBeamTree(ev, 0.5).nodes.slice(1).map((n) => n.penalty)).toEqual([0, 0.5, 1]);
    expect(buildBeamTree(ev2, 0.5).nodes.slice(1).map((n) => n.penalty)).toEqual([0, 0, 0.5]);
    expect(buildBeamTree(ev).nodes[1]?.penalty).toBeUndefined(); // plain beam search: no penalty
  });
});
