/**
 * Layout of a beam-search tree from step events: column k+1 holds the rows after step k (running
 * beams first, then the hypotheses that finished or were pruned at that step); column 0 is the
 * prompt. Edges join each node to the row it extends. The path of a returned sequence is marked.
 */
import type { StepEvent } from '../search/events.ts';

export interface TreeNode {
  readonly id: string;
  readonly step: number;
  /** Row in its column (running rows first, then hypotheses). */
  readonly slot: number;
  readonly group: number;
  readonly tokenId: number;
  readonly score: number;
  readonly kind: 'prompt' | 'running' | 'finished' | 'pruned';
  readonly parentId: string | null;
  /** The token's log-probability under the policy (running rows). */
  readonly logprob?: number;
  /**
   * Diverse beam search: the Hamming diversity penalty this token paid, λ × the number of rows of
   * earlier groups that chose the same token at this step (Vijayakumar et al.; 0 for group 0).
   */
  readonly penalty?: number;
}

export interface BeamTree {
  readonly nodes: readonly TreeNode[];
  /** Number of columns (steps + 1) and the tallest column, for sizing. */
  readonly columns: number;
  readonly rows: number;
}

/** `diversityPenalty` (λ) is the run's diversity_penalty; with it, nodes carry the penalty they paid. */
export function buildBeamTree(steps: readonly StepEvent[], diversityPenalty = 0): BeamTree {
  const nodes: TreeNode[] = [{ id: 'p', step: -1, slot: 0, group: 0, tokenId: -1, score: 0, kind: 'prompt', parentId: null }];
  let prevIds: string[] = [];
  let rows = 1;
  steps.forEach((ev, k) => {
    const parentOf = (r: number) => (k === 0 ? 'p' : (prevIds[r] ?? 'p'));
    const ids: string[] = [];
    const penalty = (group: number, tokenId: number) =>
      diversityPenalty > 0 ? diversityPenalty * ev.rows.filter((o) => o.group < group && o.tokenId === tokenId).length : undefined;
    ev.rows.forEach((r, i) => {
      const id = `${k}:${i}`;
      ids[r.row] = id;
      nodes.push({ id, step: k, slot: i, group: r.group, tokenId: r.tokenId, score: r.score, kind: 'running', parentId: parentOf(r.parent), logprob: r.logprob, penalty: penalty(r.group, r.tokenId) });
    });
    (ev.hypotheses ?? []).forEach((h, j) => {
      nodes.push({
        id: `${k}:h${j}`,
        step: k,
        slot: ev.rows.length + j,
        group: h.group,
        tokenId: h.tokenIds[h.tokenIds.length - 1] ?? -1,
        score: h.score,
        kind: h.kind,
        parentId: parentOf(h.row),
        penalty: penalty(h.group, h.tokenIds[h.tokenIds.length - 1] ?? -1),
      });
    });
    rows = Math.max(rows, ev.rows.length + (ev.hypotheses?.length ?? 0));
    prevIds = ids;
  });
  return { nodes, columns: steps.length + 1, rows };
}

/**
 * Ids of the nodes on the path of a returned sequence (generated tokens), following children whose
 * token matches. Returns the longest matching path (possibly ending at a finished hypothesis).
 */
export function pathOf(tree: BeamTree, tokenIds: readonly number[]): Set<string> {
  const children = new Map<string, TreeNode[]>();
  for (const n of tree.nodes) if (n.parentId) (children.get(n.parentId) ?? children.set(n.parentId, []).get(n.parentId)!).push(n);
  const path = new Set<string>(['p']);
  let frontier = ['p'];
  for (const t of tokenIds) {
    const next = frontier.flatMap((id) => (children.get(id) ?? []).filter((c) => c.tokenId === t));
    if (next.length === 0) break;
    // prefer finished hypotheses at the last token, running rows otherwise
    for (const n of next) path.add(n.id);
    frontier = next.map((n) => n.id);
  }
  return path;
}
