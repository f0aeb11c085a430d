/**
 * The preference studio's session (issue 14 item 5), as plain serialisable data and pure actions:
 * prompts with their candidate responses, the pairs to label in the order they are shown, one label
 * per pair (1, 2, tie or skip, with optional per-attribute scores and a rationale), the history that
 * undo walks back, and the pair on screen. Every action returns a new session (nothing is mutated), so
 * the page saves each one as it is made and a test can replay any sequence of keys.
 *
 * Pairs: all k·(k−1)/2 pairs of each prompt's candidates, prompt by prompt. Which candidate is shown
 * as response 1 is drawn per pair from the session's seed (a coin, so the person's position bias and
 * the candidates' order cannot line up), and kept with the pair.
 *
 * Export (`toTrl`): TRL JSONL, one line per pair with a preferred response:
 * `{"id","prompt","chosen","rejected","labeller","chosen_finished","rejected_finished","studio":{…}}`
 * plus `"rationale"` and `"attributes"` when given. Ties and skips are NOT written: TRL has no tie,
 * and `decoding-lab rank` (or DPO training) would read a tied pair as a preference; `toTrl` counts
 * them so the page can say how many were left out. `*_finished: false` marks a response cut at
 * max_new_tokens, so token-level scorers do not append EOS to it (core/metrics/scorePairs.ts
 * `finished`). `studio` keeps what re-import needs: the prompt's and candidates' indices and the
 * position (1 or 2) at which the chosen response was shown (Cohen's κ works in those positions).
 * Any reader of TRL files, ours included (core/data/preferences.ts), keeps the extra fields or
 * ignores them.
 */
import { Rng } from '../sampling/rng.ts';
import type { PreferencePair } from '../data/preferences.ts';

export const STUDIO_VERSION = 1;

export type CandidateMethod = 'sample' | 'diverse_beam' | 'nc_sample';

export interface Candidate {
  readonly text: string;
  /** Ended at EOS (false: cut at max_new_tokens). */
  readonly finished: boolean;
}

export interface StudioPrompt {
  readonly text: string;
  readonly candidates: readonly Candidate[];
}

/** A pair of one prompt's candidates; response 1 on screen is `b` when `flip`, else `a` (a < b). */
export interface PairRef {
  readonly prompt: number;
  readonly a: number;
  readonly b: number;
  readonly flip: boolean;
}

/** '1' / '2': the response preferred, as numbered on screen. */
export type Verdict = '1' | '2' | 'tie' | 'skip';

export interface Label {
  readonly verdict: Verdict;
  /** "human:<name>" or "model:<id>" (Hybrid Preferences: one file can hold both). */
  readonly labeller: string;
  /** Per attribute, the scores given to response 1 and response 2 (null: not scored). */
  readonly scores?: Readonly<Record<string, readonly [number | null, number | null]>>;
  readonly rationale?: string;
}

/** How the candidates were made (shown, and kept with the session). */
export interface GenerationInfo {
  readonly method: CandidateMethod;
  readonly k: number;
  readonly policy: string;
  readonly maxNewTokens: number;
  readonly seed: number;
}

/** How the person labels: two responses at a time, or all of a prompt's candidates as one ranked list. */
export type LabelMode = 'pairs' | 'ranked';

/**
 * A prompt's ranked-list label (core/studio/ranking.ts): the candidates picked so far, best first,
 * and how it ended. Its end writes the pair labels it implies (one per open pair of the prompt), so
 * export, re-import and agreement read it as pairs.
 */
export interface Ranking {
  /** Candidate indices, best first, one per key press. */
  readonly picks: readonly number[];
  /** 'last': k−1 picks left one candidate, ranked last; 'tie': T tied the rest; 'skip': S skipped the prompt (no labels); absent: in progress. */
  readonly end?: 'last' | 'tie' | 'skip';
  /** The pairs its end labelled, with the screen order each had before (undo puts it back). */
  readonly wrote?: readonly { readonly pair: number; readonly flip: boolean }[];
}

export interface Session {
  readonly version: typeof STUDIO_VERSION;
  readonly labeller: string;
  readonly seed: number;
  readonly attributes: readonly string[];
  readonly generation: GenerationInfo | null;
  readonly prompts: readonly StudioPrompt[];
  readonly pairs: readonly PairRef[];
  /** One per pair (null: not labelled yet). */
  readonly labels: readonly (Label | null)[];
  /** Pairs in the order they were labelled (undo takes the last). */
  readonly history: readonly number[];
  /** The pair on screen; null when none is left to label. */
  readonly position: number | null;
  /** Ranked-list mode's fields, absent in sessions saved before it (read as pairs mode, nothing ranked). */
  readonly mode?: LabelMode;
  /** One per prompt (null: not started). */
  readonly rankings?: readonly (Ranking | null)[];
  /** Prompts in the order of ranked-list key presses (undo takes the last). */
  readonly rankHistory?: readonly number[];
  /** The prompt on screen in ranked mode; null when none is left to rank. */
  readonly rankPosition?: number | null;
}

export class StudioError extends Error {
  override name = 'StudioError';
}

/** "human:<name>" from what the person typed (blank: "human:anonymous"); a "model:…" id is kept. */
export function labellerId(name: string): string {
  const t = name.trim();
  if (/^(human|model):\S/.test(t)) return t;
  return `human:${t || 'anonymous'}`;
}

export function emptySession(labeller = 'human:anonymous', seed = 0, attributes: readonly string[] = []): Session {
  return { version: STUDIO_VERSION, labeller, seed, attributes: [...attributes], generation: null, prompts: [], pairs: [], labels: [], history: [], position: null };
}

/** Prompts typed or pasted one per line: trimmed, blank lines dropped. */
export function parsePrompts(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * All pairs (a < b) of each prompt's candidates, prompt by prompt, with a seeded coin per pair for its
 * screen order (pair number i draws from stream i, so adding prompts later never changes earlier pairs).
 */
export function allPairs(prompts: readonly StudioPrompt[], seed: number, firstPrompt = 0, firstPair = 0): PairRef[] {
  const rng = new Rng(seed >>> 0);
  const out: PairRef[] = [];
  prompts.forEach((p, i) => {
    for (let a = 0; a < p.candidates.length; a++)
      for (let b = a + 1; b < p.candidates.length; b++) out.push({ prompt: firstPrompt + i, a, b, flip: rng.fork(firstPair + out.length).uniform() < 0.5 });
  });
  return out;
}

const copy = (prompts: readonly StudioPrompt[]): StudioPrompt[] => prompts.map((p) => ({ text: p.text, candidates: p.candidates.map((c) => ({ ...c })) }));

/** The session with these prompts and candidates (replacing any): every pair open, the first on screen. */
export function withCandidates(s: Session, prompts: readonly StudioPrompt[], generation: GenerationInfo | null): Session {
  const pairs = allPairs(prompts, s.seed);
  const ranked = s.rankings ? { rankings: prompts.map(() => null), rankHistory: [], rankPosition: prompts.length ? 0 : null } : {};
  return { ...s, generation, prompts: copy(prompts), pairs, labels: pairs.map(() => null), history: [], position: pairs.length ? 0 : null, ...ranked };
}

/** Appends prompts with their candidates: their pairs come after the existing ones, open; labels so far are kept. */
export function addPrompts(s: Session, prompts: readonly StudioPrompt[], generation: GenerationInfo | null): Session {
  const pairs = allPairs(prompts, s.seed, s.prompts.length, s.pairs.length);
  const labels = [...s.labels, ...pairs.map(() => null)];
  const position = s.position ?? (pairs.length ? s.pairs.length : null);
  const ranked = s.rankings
    ? { rankings: [...s.rankings, ...prompts.map(() => null)], rankPosition: s.rankPosition ?? (prompts.length ? s.prompts.length : null) }
    : {};
  return { ...s, generation: generation ?? s.generation, prompts: [...s.prompts, ...copy(prompts)], pairs: [...s.pairs, ...pairs], labels, position, ...ranked };
}

/** The first open pair after `from` (wrapping round), or null when every pair has a label. */
export function nextOpen(labels: readonly (Label | null)[], from: number): number | null {
  const n = labels.length;
  for (let d = 1; d <= n; d++) {
    const i = (from + d) % n;
    if (labels[i] === null) return i;
  }
  return null;
}

/** The two responses of pair `i` in screen order. */
export function shown(s: Session, i: number): { prompt: string; first: Candidate; second: Candidate; firstIndex: number; secondIndex: number } {
  const p = s.pairs[i];
  if (!p) throw new StudioError(`no pair ${i} (the session has ${s.pairs.length})`);
  const pr = s.prompts[p.prompt] as StudioPrompt;
  const [f, g] = p.flip ? [p.b, p.a] : [p.a, p.b];
  return { prompt: pr.text, first: pr.candidates[f] as Candidate, second: pr.candidates[g] as Candidate, firstIndex: f, secondIndex: g };
}

/** Labels the pair on screen and moves to the next open one. */
export function label(s: Session, verdict: Verdict, extra: { scores?: Label['scores']; rationale?: string; labeller?: string } = {}): Session {
  const i = s.position;
  if (i === null) return s;
  const rationale = extra.rationale?.trim();
  const scores = extra.scores && Object.values(extra.scores).some(([x, y]) => x !== null || y !== null) ? extra.scores : undefined;
  const l: Label = { verdict, labeller: extra.labeller ?? s.labeller, ...(scores ? { scores } : {}), ...(rationale ? { rationale } : {}) };
  const labels = s.labels.slice();
  labels[i] = l;
  return { ...s, labels, history: [...s.history, i], position: nextOpen(labels, i) };
}

/** Takes back the last label: its pair is open again and back on screen. */
export function undo(s: Session): Session {
  const i = s.history[s.history.length - 1];
  if (i === undefined) return s;
  const labels = s.labels.slice();
  labels[i] = null;
  return { ...s, labels, history: s.history.slice(0, -1), position: i };
}

/** Opens the skipped pairs again (the first of them comes on screen). */
export function revisitSkipped(s: Session): Session {
  const labels = s.labels.map((l) => (l?.verdict === 'skip' ? null : l));
  return { ...s, labels, history: s.history.filter((i) => labels[i] !== null), position: nextOpen(labels, labels.length - 1) };
}

export function counts(s: Session): { preferred: number; ties: number; skips: number; open: number } {
  let preferred = 0;
  let ties = 0;
  let skips = 0;
  let open = 0;
  for (const l of s.labels) {
    if (l === null) open++;
    else if (l.verdict === 'tie') ties++;
    else if (l.verdict === 'skip') skips++;
    else preferred++;
  }
  return { preferred, ties, skips, open };
}

export const pairId = (p: PairRef): string => `p${p.prompt}-c${p.a}-c${p.b}`;

/** One exported line (a TRL record with the studio's extra fields). */
export interface TrlRecord {
  readonly id: string;
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
  readonly labeller: string;
  readonly chosen_finished: boolean;
  readonly rejected_finished: boolean;
  readonly rationale?: string;
  readonly attributes?: { readonly chosen: Record<string, number>; readonly rejected: Record<string, number> };
  readonly studio: { readonly prompt: number; readonly chosen: number; readonly rejected: number; readonly chosen_shown: 1 | 2 };
}

/** The pairs with a preferred response as TRL records; `only` keeps those whose labeller passes it. */
export function trlRecords(s: Session, only: (labeller: string) => boolean = () => true): TrlRecord[] {
  const out: TrlRecord[] = [];
  s.labels.forEach((l, i) => {
    if (!l || (l.verdict !== '1' && l.verdict !== '2') || !only(l.labeller)) return;
    const p = s.pairs[i] as PairRef;
    const v = shown(s, i);
    const firstWins = l.verdict === '1';
    const [c, r] = firstWins ? [v.first, v.second] : [v.second, v.first];
    const attrs: { chosen: Record<string, number>; rejected: Record<string, number> } = { chosen: {}, rejected: {} };
    for (const [name, [one, two]] of Object.entries(l.scores ?? {})) {
      const [sc, sr] = firstWins ? [one, two] : [two, one];
      if (sc !== null) attrs.chosen[name] = sc;
      if (sr !== null) attrs.rejected[name] = sr;
    }
    const hasAttrs = Object.keys(attrs.chosen).length + Object.keys(attrs.rejected).length > 0;
    out.push({
      id: pairId(p),
      prompt: v.prompt,
      chosen: c.text,
      rejected: r.text,
      labeller: l.labeller,
      chosen_finished: c.finished,
      rejected_finished: r.finished,
      ...(l.rationale ? { rationale: l.rationale } : {}),
      ...(hasAttrs ? { attributes: attrs } : {}),
      studio: { prompt: p.prompt, chosen: firstWins ? v.firstIndex : v.secondIndex, rejected: firstWins ? v.secondIndex : v.firstIndex, chosen_shown: firstWins ? 1 : 2 },
    });
  });
  return out;
}

/** The TRL JSONL export, with how many labels it leaves out (ties, skips) and open pairs. */
export function toTrl(s: Session, only?: (labeller: string) => boolean): { text: string; written: number; ties: number; skips: number; open: number } {
  const recs = trlRecords(s, only);
  const c = counts(s);
  return { text: recs.map((r) => JSON.stringify(r)).join('\n') + (recs.length ? '\n' : ''), written: recs.length, ties: c.ties, skips: c.skips, open: c.open };
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/**
 * A session from a preference file's pairs (parsed by core/data/preferences.ts): the studio's own
 * export, or any TRL/HH/LLMBar file (each pair then is a prompt with two candidates, labelled by
 * its `labeller` field, else by `fallbackLabeller`). Prompts are grouped by text; a prompt's
 * candidates are ordered by the studio indices where the file has them, else as they appear. Every
 * pair of the restored candidates is open except those the file labels; a pair labelled twice
 * keeps its first label (`duplicates` counts the others).
 */
export function fromPairs(pairs: readonly PreferencePair[], base: Session, fallbackLabeller: string): { session: Session; duplicates: number } {
  if (pairs.length === 0) throw new StudioError('the file has no labelled pairs to restore');
  const byPrompt = new Map<string, { index: number; cands: Map<string, { order: number; finished: boolean }> }>();
  const rank = (pair: PreferencePair) => int((pair.extra.studio as { prompt?: unknown } | undefined)?.prompt) ?? Infinity;
  const sorted = pairs.map((p, i) => ({ p, i })).sort((x, y) => rank(x.p) - rank(y.p) || x.i - y.i);
  let seen = 0;
  for (const { p } of sorted) {
    let g = byPrompt.get(p.prompt);
    if (!g) byPrompt.set(p.prompt, (g = { index: byPrompt.size, cands: new Map() }));
    const st = (p.extra.studio ?? {}) as { chosen?: unknown; rejected?: unknown };
    for (const side of ['chosen', 'rejected'] as const) {
      const text = p[side];
      if (g.cands.has(text)) continue;
      const fin = p.extra[`${side}_finished`];
      g.cands.set(text, { order: int(st[side]) ?? 1e9 + seen++, finished: fin !== false && fin !== 'false' });
    }
  }
  const prompts: StudioPrompt[] = [...byPrompt.entries()].map(([text, g]) => ({
    text,
    candidates: [...g.cands.entries()].sort((x, y) => x[1].order - y[1].order).map(([t, c]) => ({ text: t, finished: c.finished })),
  }));
  let s = withCandidates(base, prompts, base.generation);
  const pairsAt = new Map(s.pairs.map((p, i) => [`${p.prompt}:${p.a}:${p.b}`, i]));
  const flips = s.pairs.slice() as PairRef[];
  const labels = s.labels.slice();
  const history: number[] = [];
  let duplicates = 0;
  for (const p of pairs) {
    const g = byPrompt.get(p.prompt) as { index: number };
    const texts = (prompts[g.index] as StudioPrompt).candidates.map((c) => c.text);
    const ci = texts.indexOf(p.chosen);
    const ri = texts.indexOf(p.rejected);
    if (ci === ri) {
      duplicates++;
      continue;
    }
    const [a, b] = ci < ri ? [ci, ri] : [ri, ci];
    const at = pairsAt.get(`${g.index}:${a}:${b}`) as number;
    if (labels[at] !== null) {
      duplicates++;
      continue;
    }
    const shownAt = (p.extra.studio as { chosen_shown?: unknown } | undefined)?.chosen_shown;
    const chosenShown = shownAt === 2 ? 2 : 1;
    // response 1 on screen is b when flip: the chosen one is at `chosenShown`
    const first = chosenShown === 1 ? ci : ri;
    flips[at] = { ...(flips[at] as PairRef), flip: first === b };
    const lab = typeof p.extra.labeller === 'string' && p.extra.labeller ? p.extra.labeller : fallbackLabeller;
    const attrs = p.extra.attributes as { chosen?: Record<string, unknown>; rejected?: Record<string, unknown> } | undefined;
    const scores: Record<string, [number | null, number | null]> = {};
    for (const name of new Set([...Object.keys(attrs?.chosen ?? {}), ...Object.keys(attrs?.rejected ?? {})])) {
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      const [sc, sr] = [num(attrs?.chosen?.[name]), num(attrs?.rejected?.[name])];
      scores[name] = chosenShown === 1 ? [sc, sr] : [sr, sc];
    }
    const rationale = typeof p.extra.rationale === 'string' ? p.extra.rationale : '';
    labels[at] = { verdict: chosenShown === 1 ? '1' : '2', labeller: lab, ...(Object.keys(scores).length ? { scores } : {}), ...(rationale ? { rationale } : {}) };
    history.push(at);
  }
  const attributes = [...new Set([...base.attributes, ...labels.flatMap((l) => Object.keys(l?.scores ?? {}))])];
  s = { ...s, attributes, pairs: flips, labels, history, position: nextOpen(labels, labels.length - 1) };
  return { session: s, duplicates };
}

/** Checks a stored session (IndexedDB): the right version and shape, or a StudioError saying what is wrong. */
export function checkSession(v: unknown): Session {
  const s = v as Session;
  if (typeof v !== 'object' || v === null) throw new StudioError('the stored studio session is not an object');
  if (s.version !== STUDIO_VERSION) throw new StudioError(`the stored studio session has version ${String(s.version)}; this page reads version ${STUDIO_VERSION}`);
  if (!Array.isArray(s.prompts) || !Array.isArray(s.pairs) || !Array.isArray(s.labels) || s.labels.length !== s.pairs.length || !Array.isArray(s.history))
    throw new StudioError('the stored studio session is damaged (its pairs and labels do not match)');
  if (s.mode !== undefined && s.mode !== 'pairs' && s.mode !== 'ranked') throw new StudioError(`the stored studio session has mode "${String(s.mode)}"; this page knows "pairs" and "ranked"`);
  if (s.rankings !== undefined && (!Array.isArray(s.rankings) || s.rankings.length !== s.prompts.length || !Array.isArray(s.rankHistory)))
    throw new StudioError('the stored studio session is damaged (its rankings and prompts do not match)');
  return s;
}
