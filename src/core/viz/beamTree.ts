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
  /**
   * Reward-guided beam search: the sequence reward model's score of the prefix ending here, on the
   * nodes it scored (a rescoring step, or a finished/pruned hypothesis's final score).
   */
  readonly reward?: number;
}

/** The sequence reward model's value in a row's rewards (key `sequence:<id>`), if it has one. */
function sequenceReward(rewards: Readonly<Record<string, number>>): number | undefined {
  for (const [k, v] of Object.entries(rewards)) if (k.startsWith('sequence:')) return v;
  return undefined;
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
      const reward = sequenceReward(r.rewards);
      nodes.push({ id, step: k, slot: i, group: r.group, tokenId: r.tokenId, score: r.score, kind: 'running', parentId: parentOf(r.parent), logprob: r.logprob, penalty: penalty(r.group, r.tokenId), ...(reward !== undefined ? { reward } : {}) });
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
        ...(h.reward !== undefined ? { reward: h.reward } : {}),
      });
    });
    rows = Math.max(rows, ev.rows.length + (ev.hypotheses?.length ?? 0));
    prevIds = ids;
  });
  return { nodes, columns: steps.length + 1, rows };
}

/** The node ids from the prompt down to `id`, inclusive (empty for an unknown id). */
export function ancestors(tree: BeamTree, id: string): Set<string> {
  const byId = new Map(tree.nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  for (let n = byId.get(id); n; n = n.parentId ? byId.get(n.parentId) : undefined) out.add(n.id);
  return out;
}

/** The token ids on the path from the prompt to a node (generated tokens only). */
export function tokensTo(tree: BeamTree, id: string): number[] {
  const byId = new Map(tree.nodes.map((n) => [n.id, n]));
  const out: number[] = [];
  for (let n = byId.get(id); n && n.kind !== 'prompt'; n = n.parentId ? byId.get(n.parentId) : undefined) out.push(n.tokenId);
  return out.reverse();
}

/**
 * The node where a returned sequence ends: a node at step |tokens| − 1 whose path from the prompt
 * spells exactly these tokens; null when the tree has no such path. Diverse beam search can return
 * the same tokens from two groups (e.g. "." then EOS), so `hint` (the result's group and score)
 * picks among several such nodes: same group first, then the closest score, then a finished
 * hypothesis before a running row (a sequence that ended on EOS left the search as a hypothesis).
 */
export function leafOf(tree: BeamTree, tokenIds: readonly number[], hint: { readonly group?: number; readonly score?: number } = {}): string | null {
  if (tokenIds.length === 0) return null;
  const last = tokenIds.length - 1;
  const same = (id: string) => {
    const t = tokensTo(tree, id);
    return t.length === tokenIds.length && t.every((x, i) => x === tokenIds[i]);
  };
  const cands = tree.nodes.filter((n) => n.step === last && n.tokenId === tokenIds[last] && n.kind !== 'prompt' && same(n.id));
  const rank = (k: TreeNode['kind']) => (k === 'finished' ? 0 : k === 'running' ? 1 : 2);
  const key = (n: TreeNode): [number, number, number] => [
    hint.group === undefined || n.group === hint.group ? 0 : 1,
    hint.score === undefined ? 0 : Math.abs(n.score - hint.score),
    rank(n.kind),
  ];
  cands.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
  });
  return cands[0]?.id ?? null;
}

/**
 * Ids of the nodes on the path of a returned sequence (generated tokens): the prompt, and every
 * node down to the sequence's leaf (see leafOf). When no node spells the whole sequence (a trace cut
 * short), the longest prefix that does.
 */
export function pathOf(tree: BeamTree, tokenIds: readonly number[], hint: { readonly group?: number; readonly score?: number } = {}): Set<string> {
  for (let k = tokenIds.length; k > 0; k--) {
    const leaf = leafOf(tree, tokenIds.slice(0, k), k === tokenIds.length ? hint : { group: hint.group });
    if (leaf) return ancestors(tree, leaf);
  }
  return new Set(['p']);
}

/**
 * A token as a beam-tree node shows it, at most `max` characters: special tokens in a short form
 * ("<|endoftext|>" → "<eos>", other "<|name|>" → "<name>"), a space as "␣", a newline as "⏎", a
 * tab as "⇥", and a cut marked with "…". The full text is shown in the details panel.
 */
export function tokenLabel(text: string | undefined, max = 12): string {
  if (text === undefined) return '?';
  // "<|name|>" (GPT-2 style) or one of the usual bare names ("<eos>", "</s>", "<pad>")
  const special = /^<\|([A-Za-z0-9_.-]+)\|>$/.exec(text) ?? /^<(\/s|s|eos|bos|pad|unk|mask)>$/i.exec(text);
  let s: string;
  if (special) {
    const name = special[1]!.toLowerCase();
    s = /^(endoftext|eos|\/s|end_of_text|im_end|eot_id|eot)$/.test(name) ? '<eos>' : `<${name}>`;
  } else {
    s = text.replace(/ /g, '␣').replace(/\r?\n/g, '⏎').replace(/\t/g, '⇥');
    if (s === '') s = '∅';
  }
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/** Node positions in layout units: column = step + 1, row = slot. */
export interface TreeLayout {
  readonly x: (n: TreeNode) => number;
  readonly y: (n: TreeNode) => number;
  readonly width: number;
  readonly height: number;
}

export function layoutBeamTree(tree: BeamTree, o: { nodeWidth: number; dx: number; dy: number; top: number; left: number }): TreeLayout {
  return {
    x: (n) => o.left + (n.step + 1) * o.dx,
    y: (n) => o.top + n.slot * o.dy,
    width: o.left * 2 + (tree.columns - 1) * o.dx + o.nodeWidth,
    height: o.top + tree.rows * o.dy,
  };
}

/**
 * Keyboard moves between nodes: right = the first child (on the highlighted path when one is),
 * left = the parent, up/down = the previous/next node of the same step. Returns the id to focus,
 * or the same id when there is nowhere to go.
 */
export function neighbour(tree: BeamTree, id: string, key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown', path: ReadonlySet<string> = new Set()): string {
  const n = tree.nodes.find((x) => x.id === id);
  if (!n) return id;
  if (key === 'ArrowLeft') return n.parentId ?? id;
  if (key === 'ArrowRight') {
    const kids = tree.nodes.filter((x) => x.parentId === id);
    return (kids.find((k) => path.has(k.id)) ?? kids[0])?.id ?? id;
  }
  const col = tree.nodes.filter((x) => x.step === n.step).sort((a, b) => a.slot - b.slot);
  const i = col.findIndex((x) => x.id === id);
  const j = key === 'ArrowUp' ? i - 1 : i + 1;
  return col[j]?.id ?? id;
}
