/**
 * The studio's ranked-list mode (issue 14 item 5, "or as a ranked list"): one prompt's k candidates on
 * screen at once, in a seeded order per prompt (numbered 1…k), and the person presses their numbers
 * best first. Each key press is one action on the session (so the page saves it at once, and undo
 * walks back one press at a time):
 * - `pick`: the candidate shown as number n is the next best; after k−1 picks the one left is last
 *   and the ranking ends;
 * - `tieRest` (T): the candidates not picked yet tie below the picked ones, and the ranking ends;
 * - `skipPrompt` (S): the prompt is left unranked (no labels), the next one comes;
 * - `undoRank` (U, Backspace): takes back the last press.
 *
 * A ranking's end writes the pair labels it implies into the session's pairs (core/studio/session.ts):
 * for each pair of the prompt's candidates still open, the better-ranked one is preferred, two tied
 * ones are a tie. The pair's screen order becomes the list's (response 1 = the one shown higher), so
 * the export's `chosen_shown` is the list position and Cohen's κ on it measures the same position
 * bias as in the pair mode. Export (`toTrl`), re-import, `decoding-lab rank` and the agreement table
 * then read a ranking as k·(k−1)/2 pairs, ties counted and not written. Pairs labelled in the pair
 * mode keep their labels (a ranking fills the open ones only); a prompt whose pairs all have labels
 * from the pair mode is not offered for ranking.
 */
import { Rng } from '../sampling/rng.ts';
import { nextOpen, StudioError, type Label, type LabelMode, type PairRef, type Ranking, type Session, type StudioPrompt } from './session.ts';

/** Per attribute, the score given to each candidate (by candidate index; null: not scored). */
export type CandidateScores = Readonly<Record<string, readonly (number | null)[]>>;

export interface RankExtra {
  readonly scores?: CandidateScores;
  readonly rationale?: string;
  readonly labeller?: string;
}

const rankingsOf = (s: Session): (Ranking | null)[] => (s.rankings ? s.rankings.slice() : s.prompts.map(() => null));

/** The candidate indices of prompt `p` in list order (entry i is shown as number i + 1): a seeded shuffle per prompt. */
export function listOrder(s: Session, p: number): number[] {
  const pr = s.prompts[p];
  if (!pr) throw new StudioError(`no prompt ${p} (the session has ${s.prompts.length})`);
  // a stream apart from the pairs' coins (those fork the session seed by pair number)
  const rng = new Rng((s.seed ^ 0x5bd1e995) >>> 0).fork(p);
  const order = pr.candidates.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** The indices of prompt `p`'s pairs in the session. */
export function pairsOf(s: Session, p: number): number[] {
  const out: number[] = [];
  s.pairs.forEach((q, i) => {
    if (q.prompt === p) out.push(i);
  });
  return out;
}

/** Whether prompt `p` can be ranked: its ranking has not ended, and it is under way or some pair of the prompt is still open. */
export function rankable(s: Session, p: number): boolean {
  const r = s.rankings?.[p] ?? null;
  if (r?.end) return false;
  if (r && r.picks.length > 0) return true;
  return pairsOf(s, p).some((i) => s.labels[i] === null);
}

/** The first rankable prompt after `from` (wrapping round), or null. */
export function nextRankable(s: Session, from: number): number | null {
  const n = s.prompts.length;
  for (let d = 1; d <= n; d++) {
    const p = (((from + d) % n) + n) % n;
    if (rankable(s, p)) return p;
  }
  return null;
}

/** The session in `mode`; ranked mode gets its fields (when missing) and a prompt on screen. */
export function setMode(s: Session, mode: LabelMode): Session {
  if (mode === 'pairs') {
    const position = s.position !== null && s.labels[s.position] === null ? s.position : nextOpen(s.labels, s.position ?? s.labels.length - 1);
    return { ...s, mode, position };
  }
  const t: Session = { ...s, mode, rankings: rankingsOf(s), rankHistory: s.rankHistory ?? [] };
  const cur = s.rankPosition ?? null;
  return { ...t, rankPosition: cur !== null && rankable(t, cur) ? cur : nextRankable(t, (cur ?? -1)) };
}

/** What ranked mode shows: the prompt, its candidates in list order, and the picks so far as list numbers. */
export function rankView(s: Session): { prompt: number; text: string; order: number[]; candidates: StudioPrompt['candidates']; picked: number[] } | null {
  const p = s.rankPosition ?? null;
  if (p === null) return null;
  const order = listOrder(s, p);
  const r = s.rankings?.[p] ?? null;
  const pr = s.prompts[p] as StudioPrompt;
  return { prompt: p, text: pr.text, order, candidates: order.map((c) => pr.candidates[c] as StudioPrompt['candidates'][number]), picked: (r?.picks ?? []).map((c) => order.indexOf(c) + 1) };
}

/**
 * The labels a ranking implies for pair `q` shown in list order: the better-ranked candidate is
 * preferred, equal ranks tie. `rank` maps a candidate index to its place (0 best; the unpicked rest
 * share one place). Returns the pair's new screen order and its verdict.
 */
export function impliedLabel(q: PairRef, rank: ReadonlyMap<number, number>, listPos: readonly number[]): { flip: boolean; verdict: '1' | '2' | 'tie' } {
  const ra = rank.get(q.a) as number;
  const rb = rank.get(q.b) as number;
  const flip = (listPos[q.b] as number) < (listPos[q.a] as number); // response 1 = the one higher in the list
  if (ra === rb) return { flip, verdict: 'tie' };
  const first = flip ? q.b : q.a;
  const better = ra < rb ? q.a : q.b;
  return { flip, verdict: better === first ? '1' : '2' };
}

/** Every (better, worse) candidate pair a ranking implies, and the tied pairs (for tests and the page's summary). */
export function impliedPairs(picks: readonly number[], k: number, tieRest: boolean): { better: [number, number][]; tied: [number, number][] } {
  const rest = Array.from({ length: k }, (_, i) => i).filter((c) => !picks.includes(c));
  const better: [number, number][] = [];
  const tied: [number, number][] = [];
  picks.forEach((c, i) => {
    for (const d of picks.slice(i + 1)) better.push([c, d]);
    for (const d of rest) better.push([c, d]);
  });
  if (rest.length > 1 && !tieRest) throw new StudioError(`a ranking of ${k} candidates with ${picks.length} picks leaves ${rest.length} unordered: pick more, or tie them`);
  for (let i = 0; i < rest.length; i++) for (let j = i + 1; j < rest.length; j++) tied.push([rest[i] as number, rest[j] as number]);
  return { better, tied };
}

function finish(s: Session, p: number, r: Ranking, extra: RankExtra): Session {
  const rankings = rankingsOf(s);
  const labels = s.labels.slice();
  const pairs = s.pairs.slice() as PairRef[];
  const wrote: { pair: number; flip: boolean }[] = [];
  if (r.end !== 'skip') {
    const k = (s.prompts[p] as StudioPrompt).candidates.length;
    const rank = new Map<number, number>();
    for (let c = 0; c < k; c++) rank.set(c, r.picks.length);
    r.picks.forEach((c, i) => rank.set(c, i));
    const order = listOrder(s, p);
    const listPos: number[] = [];
    order.forEach((c, i) => (listPos[c] = i));
    const rationale = extra.rationale?.trim();
    for (const i of pairsOf(s, p)) {
      if (labels[i] !== null) continue;
      const q = pairs[i] as PairRef;
      const { flip, verdict } = impliedLabel(q, rank, listPos);
      const [f, g] = flip ? [q.b, q.a] : [q.a, q.b];
      const scores: Record<string, [number | null, number | null]> = {};
      for (const [name, byCand] of Object.entries(extra.scores ?? {})) {
        const pair: [number | null, number | null] = [byCand[f] ?? null, byCand[g] ?? null];
        if (pair[0] !== null || pair[1] !== null) scores[name] = pair;
      }
      const l: Label = { verdict, labeller: extra.labeller ?? s.labeller, ...(Object.keys(scores).length ? { scores } : {}), ...(rationale ? { rationale } : {}) };
      wrote.push({ pair: i, flip: q.flip });
      pairs[i] = { ...q, flip };
      labels[i] = l;
    }
  }
  rankings[p] = { ...r, wrote };
  const t: Session = { ...s, pairs, labels, rankings, rankHistory: [...(s.rankHistory ?? []), p] };
  const position = s.position !== null && labels[s.position] === null ? s.position : nextOpen(labels, s.position ?? labels.length - 1);
  return { ...t, position, rankPosition: nextRankable(t, p) };
}

function onScreen(s: Session): { p: number; r: Ranking; k: number } | null {
  const p = s.rankPosition ?? null;
  if (p === null || s.mode !== 'ranked') return null;
  const r = s.rankings?.[p] ?? { picks: [] };
  return { p, r, k: (s.prompts[p] as StudioPrompt).candidates.length };
}

/**
 * The candidate shown as number `n` (1…k) is the next best. A number already picked changes
 * nothing (the same session is returned); a number that is not on screen is a StudioError. The
 * (k−1)-th pick ends the ranking (the one left is last) with `extra`'s scores and rationale.
 */
export function pick(s: Session, n: number, extra: RankExtra = {}): Session {
  const o = onScreen(s);
  if (!o) return s;
  if (!Number.isInteger(n) || n < 1 || n > o.k) throw new StudioError(`there is no candidate ${n} on screen: the list numbers them 1 to ${o.k}`);
  const c = listOrder(s, o.p)[n - 1] as number;
  if (o.r.picks.includes(c)) return s;
  const r: Ranking = { picks: [...o.r.picks, c] };
  if (r.picks.length >= o.k - 1) return finish(s, o.p, { ...r, end: 'last' }, extra);
  const rankings = rankingsOf(s);
  rankings[o.p] = r;
  return { ...s, rankings, rankHistory: [...(s.rankHistory ?? []), o.p] };
}

/** T: the candidates not picked yet tie below the picked ones; the ranking ends. */
export function tieRest(s: Session, extra: RankExtra = {}): Session {
  const o = onScreen(s);
  return o ? finish(s, o.p, { picks: o.r.picks, end: 'tie' }, extra) : s;
}

/** S: the prompt is left unranked (its pairs stay open); the next prompt comes. */
export function skipPrompt(s: Session): Session {
  const o = onScreen(s);
  return o ? finish(s, o.p, { picks: o.r.picks, end: 'skip' }, {}) : s;
}

/**
 * U / Backspace: takes back the last ranked-list key press. An ended ranking opens again (the pair
 * labels it wrote are cleared and their screen orders restored; a ranking ended by its last pick
 * loses that pick too); otherwise the last pick goes. Its prompt comes back on screen.
 */
export function undoRank(s: Session): Session {
  const hist = s.rankHistory ?? [];
  const p = hist[hist.length - 1];
  if (p === undefined) return s;
  const rankings = rankingsOf(s);
  const r = rankings[p] ?? { picks: [] };
  const labels = s.labels.slice();
  const pairs = s.pairs.slice() as PairRef[];
  let picks = r.picks.slice();
  if (r.end) {
    for (const w of r.wrote ?? []) {
      labels[w.pair] = null;
      pairs[w.pair] = { ...(pairs[w.pair] as PairRef), flip: w.flip };
    }
    if (r.end === 'last') picks = picks.slice(0, -1);
  } else picks = picks.slice(0, -1);
  rankings[p] = picks.length ? { picks } : null;
  return { ...s, labels, pairs, rankings, rankHistory: hist.slice(0, -1), rankPosition: p, position: s.position ?? nextOpen(labels, labels.length - 1) };
}

/** Opens the skipped prompts again, from scratch (the first of them comes on screen). */
export function revisitSkippedRankings(s: Session): Session {
  const rankings = rankingsOf(s);
  const again = new Set<number>();
  rankings.forEach((r, p) => {
    if (r?.end === 'skip') {
      again.add(p);
      rankings[p] = null;
    }
  });
  const t: Session = { ...s, rankings, rankHistory: (s.rankHistory ?? []).filter((p) => !again.has(p)) };
  return { ...t, rankPosition: nextRankable(t, -1) };
}

/** Prompts ranked (ended by a last pick or T), skipped, still to rank, and labelled in the pair mode only. */
export function rankCounts(s: Session): { ranked: number; skipped: number; open: number; inPairs: number } {
  let ranked = 0;
  let skipped = 0;
  let open = 0;
  let inPairs = 0;
  s.prompts.forEach((_, p) => {
    const end = s.rankings?.[p]?.end;
    if (end === 'skip') skipped++;
    else if (end) ranked++;
    else if (rankable(s, p)) open++;
    else inPairs++;
  });
  return { ranked, skipped, open, inPairs };
}
