/**
 * The studio's ranked-list mode (src/core/studio/ranking.ts): picks best first, T ties the rest, S
 * skips, undo takes back one key press; a ranking's end writes the pairs it implies (hand-computed
 * below), which export as TRL like the pair mode's labels and re-import.
 */
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/core/data/preferences.ts';
import { checkSession, counts, emptySession, fromPairs, label, revisitSkipped, toTrl, withCandidates, addPrompts, type Session, type StudioPrompt } from '../../src/core/studio/session.ts';
import { impliedPairs, listOrder, nextRankable, pick, rankCounts, rankView, revisitSkippedRankings, setMode, skipPrompt, tieRest, undoRank } from '../../src/core/studio/ranking.ts';

const PROMPTS: StudioPrompt[] = [
  { text: 'The economy', candidates: [{ text: ' grew', finished: true }, { text: ' shrank', finished: false }, { text: ' held', finished: true }] },
  { text: 'Our nation', candidates: ['a', 'b', 'c', 'd'].map((t) => ({ text: ` ${t}`, finished: true })) },
];
const fresh = (seed = 3): Session => withCandidates(emptySession('human:ann', seed, ['helpfulness']), PROMPTS, { method: 'sample', k: 3, policy: 'tiny-base', maxNewTokens: 8, seed: 1 });
/** The list number (1…k) at which candidate `c` of prompt `p` is shown. */
const num = (s: Session, p: number, c: number) => listOrder(s, p).indexOf(c) + 1;
const recs = (s: Session) => toTrl(s).text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; chosen: string; rejected: string; labeller: string; rationale?: string; attributes?: unknown; studio: { chosen: number; rejected: number; chosen_shown: 1 | 2 } });

describe('implied pairs of a ranking (hand-computed)', () => {
  it('a full ranking 2 > 0 > 1 implies (2,0), (2,1), (0,1) and no tie', () => {
    expect(impliedPairs([2, 0], 3, false)).toEqual({ better: [[2, 0], [2, 1], [0, 1]], tied: [] });
    expect(impliedPairs([2, 0, 1], 3, false)).toEqual({ better: [[2, 0], [2, 1], [0, 1]], tied: [] });
  });
  it('3, then T, over 4: 3 beats each of the rest, the rest tie among themselves', () => {
    expect(impliedPairs([3], 4, true)).toEqual({ better: [[3, 0], [3, 1], [3, 2]], tied: [[0, 1], [0, 2], [1, 2]] });
    expect(impliedPairs([], 3, true)).toEqual({ better: [], tied: [[0, 1], [0, 2], [1, 2]] });
    expect(() => impliedPairs([1], 4, false)).toThrow(/leaves 3 unordered/);
  });
});

describe('ranked-list mode', () => {
  it('shows each prompt in a seeded order (a permutation, the same for the same seed)', () => {
    const s = fresh();
    for (const p of [0, 1]) {
      const o = listOrder(s, p);
      expect([...o].sort()).toEqual(PROMPTS[p]?.candidates.map((_, i) => i));
      expect(listOrder(fresh(), p)).toEqual(o);
    }
    // over many seeds, the first candidate is not always shown first
    const firsts = new Set(Array.from({ length: 20 }, (_, seed) => listOrder(fresh(seed), 1)[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('picks best first; the (k−1)-th pick ends the ranking and writes the implied pairs, in list order, then the next prompt comes', () => {
    let s = setMode(fresh(), 'ranked');
    expect(s.rankPosition).toBe(0);
    expect(rankView(s)?.picked).toEqual([]);
    s = pick(s, num(s, 0, 2));
    expect(s.rankings?.[0]).toEqual({ picks: [2] });
    expect(rankView(s)?.picked).toEqual([num(s, 0, 2)]);
    expect(counts(s).open).toBe(9); // nothing written yet (3 + 6 pairs)
    expect(pick(s, num(s, 0, 2))).toBe(s); // already picked: no change
    expect(() => pick(s, 4)).toThrow(/no candidate 4 on screen: the list numbers them 1 to 3/);
    s = pick(s, num(s, 0, 0), { rationale: ' held is best ', scores: { helpfulness: [3, 1, 5] } });
    expect(s.rankings?.[0]?.end).toBe('last');
    expect(s.rankPosition).toBe(1);
    expect(counts(s)).toEqual({ preferred: 3, ties: 0, skips: 0, open: 6 });
    // 2 > 0 > 1: " held" over " grew", " held" over " shrank", " grew" over " shrank"
    const pos = (c: number) => num(s, 0, c);
    const out = recs(s);
    expect(out.map((r) => [r.id, r.chosen, r.rejected])).toEqual([
      ['p0-c0-c1', ' grew', ' shrank'],
      ['p0-c0-c2', ' held', ' grew'],
      ['p0-c1-c2', ' held', ' shrank'],
    ]);
    expect(out.map((r) => r.studio.chosen_shown)).toEqual([[0, 1], [2, 0], [2, 1]].map(([c, r]) => (pos(c as number) < pos(r as number) ? 1 : 2)));
    expect(out.every((r) => r.labeller === 'human:ann' && r.rationale === 'held is best')).toBe(true);
    expect(out[1]?.attributes).toEqual({ chosen: { helpfulness: 5 }, rejected: { helpfulness: 3 } });
  });

  it('T ties the rest (ties counted, not written), S skips (no labels); a finished list has no prompt on screen', () => {
    let s = setMode(fresh(), 'ranked');
    s = skipPrompt(s);
    expect(s.rankPosition).toBe(1);
    expect(counts(s).open).toBe(9);
    s = pick(s, num(s, 1, 3));
    s = tieRest(s);
    expect(s.rankPosition).toBeNull();
    const t = toTrl(s);
    expect(t).toMatchObject({ written: 3, ties: 3, skips: 0, open: 3 });
    expect(recs(s).map((r) => [r.chosen, r.rejected])).toEqual([[' d', ' a'], [' d', ' b'], [' d', ' c']]);
    expect(rankCounts(s)).toEqual({ ranked: 1, skipped: 1, open: 0, inPairs: 0 });
    s = revisitSkippedRankings(s);
    expect(s.rankPosition).toBe(0);
    expect(rankCounts(s)).toEqual({ ranked: 1, skipped: 0, open: 1, inPairs: 0 });
  });

  it('undo takes back one key press at a time, back to the fresh session', () => {
    const start = setMode(fresh(), 'ranked');
    let s = start;
    s = pick(s, 1);
    s = pick(s, 2); // ends prompt 0
    s = pick(s, 1);
    s = tieRest(s); // ends prompt 1
    expect(s.rankPosition).toBeNull();
    s = undoRank(s); // the T
    expect(s.rankPosition).toBe(1);
    expect(s.rankings?.[1]).toEqual({ picks: [listOrder(s, 1)[0]] });
    expect(s.labels.slice(3).every((l) => l === null)).toBe(true);
    s = undoRank(s); // the pick on prompt 1
    expect(s.rankings?.[1]).toBeNull();
    s = undoRank(s); // the pick that ended prompt 0: its labels and screen orders go back
    expect(s.rankPosition).toBe(0);
    expect(s.rankings?.[0]).toEqual({ picks: [listOrder(s, 0)[0]] });
    expect(s.labels).toEqual(start.labels);
    expect(s.pairs).toEqual(start.pairs);
    s = undoRank(s);
    // all as it was, but the pair mode's pointer, which moved past prompt 0's written pairs (they come round again)
    expect(s.position).toBe(3);
    expect({ ...s, position: 0 }).toEqual({ ...start, rankHistory: [] });
    expect(undoRank(s)).toBe(s);
  });

  it('keeps the pair mode labels: a ranking fills the open pairs only; a prompt labelled in pairs is not offered', () => {
    let s = label(fresh(), '2'); // pair p0-c0-c1 in the pair mode
    const kept = s.labels[0];
    s = setMode(s, 'ranked');
    s = pick(s, num(s, 0, 0));
    s = pick(s, num(s, 0, 1)); // 0 > 1 > 2
    expect(s.labels[0]).toBe(kept);
    expect(counts(s).preferred).toBe(3);
    // all of prompt 1's pairs in the pair mode: nothing left to rank
    let t = setMode(fresh(), 'pairs');
    for (let i = 0; i < 3; i++) t = label(t, 'skip');
    t = label(label(label(label(label(label(t, '1'), '1'), '1'), '1'), '1'), '1');
    expect(nextRankable(setMode(t, 'ranked'), -1)).toBeNull(); // every pair has a label (skips too)
    t = revisitSkipped(t); // prompt 0's pairs open again
    const r = setMode(t, 'ranked');
    expect(r.rankPosition).toBe(0);
    expect(rankCounts(r)).toEqual({ ranked: 0, skipped: 0, open: 1, inPairs: 1 });
  });

  it('exports and re-imports: the implied pairs come back as labels, with their list orders', async () => {
    let s = setMode(fresh(5), 'ranked');
    s = pick(pick(s, 3), 1);
    s = pick(pick(pick(s, 2), 4), 1);
    expect(s.rankPosition).toBeNull();
    const text = toTrl(s).text;
    const { pairs } = await readDataset([text]);
    expect(pairs.length).toBe(3 + 6);
    const back = fromPairs(pairs, emptySession(), 'human:file').session;
    expect(back.prompts).toEqual(s.prompts);
    expect(back.labels).toEqual(s.labels);
    expect(back.pairs).toEqual(s.pairs);
    expect(toTrl(back).text).toBe(text);
  });

  it('reads sessions saved before the ranked mode (no mode fields) and refuses damaged ranking fields', () => {
    const old = JSON.parse(JSON.stringify(label(fresh(), '1'))) as Record<string, unknown>;
    for (const k of ['mode', 'rankings', 'rankHistory', 'rankPosition']) expect(old).not.toHaveProperty(k);
    const s = checkSession(old);
    const r = setMode(s, 'ranked');
    expect(r.rankings).toEqual([null, null]);
    expect(r.rankPosition).toBe(0);
    expect(checkSession(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect(() => checkSession({ ...r, rankings: [null] })).toThrow(/rankings and prompts do not match/);
    expect(() => checkSession({ ...r, mode: 'list' })).toThrow(/mode "list"/);
    // new prompts extend the rankings
    const more = addPrompts(r, [{ text: 'More', candidates: PROMPTS[0]?.candidates ?? [] }], null);
    expect(more.rankings).toEqual([null, null, null]);
  });
});
