import { describe, expect, it } from 'vitest';
import { ancestors, buildBeamTree, layoutBeamTree, leafOf, neighbour, pathOf, tokenLabel, tokensTo } from '../../src/core/viz/beamTree.ts';
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

describe('beam tree: tracing and labels', () => {
  // step 0: a(1), b(1) (two rows with the SAME token); step 1: a→5, b→5 running, a→EOS(0) finished
  const twin: StepEvent[] = [
    { type: 'step', step: 0, rows: [row(0, 0, 1, -0.1), row(1, 0, 1, -0.2)] },
    { type: 'step', step: 1, rows: [row(0, 1, 5, -0.4), row(1, 0, 6, -0.9)], hypotheses: [{ row: 0, group: 0, tokenIds: [1, 0], score: -0.3, kind: 'finished' }] },
  ];
  it('traces exactly one path per returned sequence, ending at its leaf', () => {
    const t = buildBeamTree(twin);
    // [1, 5] runs through row 1 of step 0 (its parent), not through both rows that chose token 1
    expect(leafOf(t, [1, 5])).toBe('1:0');
    expect([...pathOf(t, [1, 5])].sort()).toEqual(['0:1', '1:0', 'p']);
    expect([...pathOf(t, [1, 0])].sort()).toEqual(['0:0', '1:h0', 'p']);
    expect(leafOf(t, [9])).toBeNull();
    expect([...pathOf(t, [1, 6, 7])].sort()).toEqual(['0:0', '1:1', 'p']); // longest traced prefix
    expect(tokensTo(t, '1:h0')).toEqual([1, 0]);
    expect([...ancestors(t, '1:1')].sort()).toEqual(['0:0', '1:1', 'p']);
  });
  it('moves between nodes with the arrow keys', () => {
    const t = buildBeamTree(twin);
    expect(neighbour(t, 'p', 'ArrowRight')).toBe('0:0');
    expect(neighbour(t, '0:1', 'ArrowRight')).toBe('1:0');
    expect(neighbour(t, '0:0', 'ArrowRight', new Set(['1:h0']))).toBe('1:h0');
    expect(neighbour(t, '1:0', 'ArrowLeft')).toBe('0:1');
    expect(neighbour(t, '1:0', 'ArrowDown')).toBe('1:1');
    expect(neighbour(t, '1:1', 'ArrowDown')).toBe('1:h0');
    expect(neighbour(t, '1:h0', 'ArrowDown')).toBe('1:h0');
    expect(neighbour(t, '0:0', 'ArrowUp')).toBe('0:0');
    expect(neighbour(t, 'p', 'ArrowLeft')).toBe('p');
  });
  it('shows special tokens in a short form and cuts long tokens with an ellipsis', () => {
    expect(tokenLabel('<|endoftext|>')).toBe('<eos>');
    expect(tokenLabel('</s>')).toBe('<eos>');
    expect(tokenLabel('<|pad|>')).toBe('<pad>');
    expect(tokenLabel('<div>')).toBe('<div>'); // not a special token
    expect(tokenLabel(' the')).toBe('␣the');
    expect(tokenLabel('\n')).toBe('⏎');
    expect(tokenLabel(' extraordinarily')).toBe('␣extraordin…');
    expect([...tokenLabel(' extraordinarily')].length).toBe(12);
    expect(tokenLabel(undefined)).toBe('?');
    expect(tokenLabel('')).toBe('∅');
  });
  it('lays columns out by step with room for the widest node', () => {
    const t = buildBeamTree(twin);
    const l = layoutBeamTree(t, { nodeWidth: 120, dx: 150, dy: 36, top: 30, left: 10 });
    const byId = new Map(t.nodes.map((n) => [n.id, n]));
    expect(l.x(byId.get('p')!)).toBe(10);
    expect(l.x(byId.get('1:h0')!)).toBe(310);
    expect(l.y(byId.get('1:h0')!)).toBe(30 + 2 * 36);
    expect(l.width).toBe(20 + 2 * 150 + 120);
  });
});

describe('beam tree: the same tokens returned from two groups', () => {
  it('traces each result to its own group\'s hypothesis', () => {
    // diverse beam, 2 groups of 1 beam: both groups end "." EOS (ids 13, 0) with different scores
    const ev: StepEvent[] = [
      { type: 'step', step: 0, rows: [row(0, 0, 13, -0.5, 0), row(1, 0, 13, -1.5, 1)] },
      {
        type: 'step', step: 1, rows: [row(0, 0, 7, -2, 0), row(1, 1, 8, -3, 1)],
        hypotheses: [
          { row: 0, group: 0, tokenIds: [13, 0], score: -0.82, kind: 'finished' },
          { row: 1, group: 1, tokenIds: [13, 0], score: -1.82, kind: 'finished' },
        ],
      },
    ];
    const t = buildBeamTree(ev, 0.5);
    expect(leafOf(t, [13, 0], { group: 0, score: -0.82 })).toBe('1:h0');
    expect(leafOf(t, [13, 0], { group: 1, score: -1.82 })).toBe('1:h1');
    expect([...pathOf(t, [13, 0], { group: 1, score: -1.82 })].sort()).toEqual(['0:1', '1:h1', 'p']);
    expect(leafOf(t, [13, 0])).toBe('1:h0'); // no hint: the first finished one
  });
});
