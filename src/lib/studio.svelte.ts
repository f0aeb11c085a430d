/**
 * The studio view's state (issue 14 item 5): prompts → k candidates each (through the worker's
 * `candidates` request: sampling, nc_sample or diverse beam search), pairs labelled
 * with the keyboard, or each prompt's candidates ranked as a list (core/studio/ranking.ts), every action saved to a StudioStore (IndexedDB in the page) at once, TRL JSONL
 * export and re-import, and agreement with the person: the labelled pairs scored by every chosen
 * scorer through the ranking view's machinery (the worker's rank request on the exported file),
 * with accuracy, its Wilson 95% interval and Cohen's κ per scorer.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { RankJob } from '../inference/protocol.ts';
import type { RankReport } from '../core/metrics/report.ts';
import { readDataset, DatasetError } from '../core/data/preferences.ts';
import { scorerKappa, type Kappa } from '../core/metrics/agreement.ts';
import * as S from '../core/studio/session.ts';
import * as R from '../core/studio/ranking.ts';
import type { StudioStore } from './studioStore.ts';

export const METHODS: readonly { id: S.CandidateMethod; label: string }[] = [
  { id: 'sample', label: 'sampling (num_return_sequences)' },
  { id: 'nc_sample', label: 'negatively-correlated sampling (nc_sample)' },
  { id: 'diverse_beam', label: 'diverse beam search (k groups)' },
];

/** One scorer of the agreement run: a rank job's models, named. */
export interface StudioScorer {
  readonly key: string;
  readonly label: string;
  readonly job: Omit<RankJob, 'dataset' | 'beta' | 'lengthNormalize'> & { beta?: number };
}

export interface AgreementRow {
  readonly key: string;
  readonly label: string;
  readonly report?: RankReport;
  readonly kappa?: Kappa;
  readonly error?: string;
}

/** What the registry knows of a model, enough to make its scorer. */
export interface ScorerModel {
  readonly id: string;
  readonly kind: 'causal-lm' | 'sequence-classifier' | null;
  readonly role?: string;
}

/** The scorers the loaded models make: a policy's log-prob, a tuned model's implicit reward against its reference, an ARM, a sequence RM. */
export function scorersOf(models: readonly ScorerModel[], facts: Readonly<Record<string, { reference?: string; beta?: number }>>): StudioScorer[] {
  const out: StudioScorer[] = [];
  for (const m of models) {
    if (m.kind === 'sequence-classifier') out.push({ key: `sequence:${m.id}`, label: `sequence RM ${m.id}`, job: { scorer: 'sequence', rewardModel: m.id } });
    else if (m.kind !== 'causal-lm') continue;
    else if (m.role === 'arm') out.push({ key: `arm:${m.id}`, label: `ARM ${m.id}`, job: { scorer: 'arm', arm: m.id } });
    else if (m.role === 'tuned' && facts[m.id]?.reference) {
      const f = facts[m.id] as { reference: string; beta?: number };
      out.push({ key: `implicit:${m.id}`, label: `implicit ${m.id} vs ${f.reference}`, job: { scorer: 'implicit', tuned: m.id, ref: f.reference, ...(f.beta ? { beta: f.beta } : {}) } });
    } else out.push({ key: `policy:${m.id}`, label: `log-prob of ${m.id}`, job: { scorer: 'policy', policy: m.id } });
  }
  return out;
}

export class StudioState {
  session = $state.raw<S.Session>(S.emptySession());
  promptText = $state('The economy\nOur nation');
  labellerName = $state('');
  attributesText = $state('helpfulness, correctness');
  method = $state<S.CandidateMethod>('sample');
  policy = $state('tiny-base');
  k = $state(3);
  maxNewTokens = $state(12);
  seed = $state(0);
  temperature = $state(1);
  /** Scores and rationale being typed for the pair on screen. */
  scores = $state<Record<string, [number | null, number | null]>>({});
  rationale = $state('');
  /** Ranked mode: per attribute, the scores typed for each candidate of the prompt on screen (by candidate index). */
  rankScores = $state<Record<string, (number | null)[]>>({});
  busy = $state<'' | 'generating' | 'scoring'>('');
  progress = $state('');
  error = $state('');
  notice = $state('');
  /** Writes to the store so far (shown: "saved"). */
  saved = $state(0);
  /** Saves started but not finished: a reload now would lose the newest action, so the page asks first. */
  pending = $state(0);
  restored = $state(false);
  scorerKeys = $state<string[] | null>(null);
  agreement = $state.raw<AgreementRow[]>([]);
  facts = $state.raw<Record<string, { reference?: string; beta?: number }>>({});
  private runId: number | null = null;
  private stopped = false;

  constructor(
    private readonly client: InferenceClient,
    private readonly store: StudioStore,
    private readonly base: string = import.meta.env?.BASE_URL ?? '/',
  ) {}

  /** Reads the saved session (a reload), and the manifest's reference models for implicit scorers. */
  async restore(): Promise<void> {
    try {
      const s = await this.store.load();
      if (s) {
        this.session = s;
        this.labellerName = s.labeller.replace(/^human:/, '');
        this.attributesText = s.attributes.join(', ');
        this.promptText = s.prompts.map((p) => p.text).join('\n') || this.promptText;
        if (s.generation) ({ method: this.method, k: this.k, policy: this.policy, maxNewTokens: this.maxNewTokens } = s.generation);
      }
    } catch (e) {
      this.error = `The saved studio session could not be read (${(e as Error).message}); a new one starts.`;
    }
    this.restored = true;
    try {
      const res = await fetch(`${this.base}models/manifest.json`);
      if (res.ok) {
        const m = (await res.json()) as { models?: { id: string; reference?: string; beta?: number }[] };
        this.facts = Object.fromEntries((m.models ?? []).map((x) => [x.id, { ...(x.reference ? { reference: x.reference } : {}), ...(x.beta ? { beta: x.beta } : {}) }]));
      }
    } catch {
      /* no manifest: tuned models score as policies */
    }
  }

  private async commit(s: S.Session): Promise<void> {
    this.session = s;
    this.pending++;
    try {
      await this.store.save(s);
      this.saved++;
    } catch (e) {
      this.error = `Could not save to this browser's storage (${(e as Error).message}): export the labels to keep them.`;
    } finally {
      this.pending--;
    }
  }

  attributes(): string[] {
    return [...new Set(this.attributesText.split(',').map((a) => a.trim()).filter(Boolean))];
  }

  /** The session's labeller and attributes follow the fields. */
  private identity(s: S.Session): S.Session {
    return { ...s, labeller: S.labellerId(this.labellerName), attributes: this.attributes() };
  }

  /** The first `n` distinct prompts of a bundled preference split (path under <base>models/) into the prompt box. */
  async promptsFromDataset(path: string, n: number): Promise<void> {
    this.error = '';
    try {
      const res = await fetch(`${this.base}models/${path}`);
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      const { pairs } = await readDataset([await res.text()]);
      const prompts = [...new Set(pairs.map((p) => p.prompt.trim()).filter(Boolean))].slice(0, Math.max(1, Math.floor(n) || 1));
      this.promptText = prompts.join('\n');
    } catch (e) {
      this.error = `Could not read the prompts of ${path}: ${(e as Error).message}`;
    }
  }

  /** Generates k candidates for each prompt (one request per prompt) and appends them to the session, saving after each. */
  async generate(): Promise<void> {
    if (this.busy) return;
    this.error = '';
    this.notice = '';
    const prompts = S.parsePrompts(this.promptText);
    const k = this.k;
    if (prompts.length === 0) return void (this.error = 'Type or paste at least one prompt (one per line).');
    if (!Number.isInteger(k) || k < 2 || k > 16) return void (this.error = `k must be an integer from 2 to 16 (got ${k}): a pair needs two candidates.`);
    if (!Number.isInteger(this.maxNewTokens) || this.maxNewTokens < 1) return void (this.error = `max_new_tokens must be an integer >= 1 (got ${this.maxNewTokens}).`);
    const info: S.GenerationInfo = { method: this.method, k, policy: this.policy, maxNewTokens: this.maxNewTokens, seed: this.seed };
    this.busy = 'generating';
    this.stopped = false;
    try {
      for (const [i, text] of prompts.entries()) {
        if (this.stopped) break;
        this.progress = `Prompt ${i + 1} of ${prompts.length}: ${k} candidates…`;
        const candidates = await this.candidates(text, info);
        await this.commit(S.addPrompts(this.identity(this.session), [{ text, candidates }], info));
      }
      this.progress = '';
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = '';
      this.runId = null;
    }
  }

  /** k candidates through the worker's `candidates` request (core/search/candidates.ts), one prompt at a time. */
  private async candidates(prompt: string, g: S.GenerationInfo): Promise<S.Candidate[]> {
    const config = { max_new_tokens: g.maxNewTokens, ...(g.method === 'diverse_beam' ? {} : { temperature: this.temperature, top_k: 0 }) };
    const h = this.client.candidates({ policy: g.policy, prompt, method: g.method, k: g.k, seed: g.seed, options: { config } });
    this.runId = h.id;
    const set = await h.done;
    const out = set.candidates.map((c) => ({ text: c.text, finished: c.finishReason === 'eos' }));
    if (out.length < 2) throw new Error(`The policy returned ${out.length} candidate(s) for "${prompt}": a pair needs two.`);
    return out;
  }

  stop(): void {
    this.stopped = true;
    if (this.runId !== null) void this.client.cancel(this.runId);
  }

  /** A key's action on the pair on screen (1, 2, tie, skip) with the scores and rationale typed for it. */
  async label(verdict: S.Verdict): Promise<void> {
    if (this.session.position === null) return;
    const s = this.identity(this.session);
    const next = S.label(s, verdict, { scores: this.scores, rationale: this.rationale });
    // cleared before the save is awaited: a key pressed meanwhile must not reuse this pair's rationale
    this.scores = {};
    this.rationale = '';
    await this.commit(next);
  }

  async undo(): Promise<void> {
    const last = this.session.history[this.session.history.length - 1];
    if (last === undefined) return;
    const l = this.session.labels[last];
    const next = S.undo(this.session);
    this.scores = l?.scores ? Object.fromEntries(Object.entries(l.scores).map(([k, v]) => [k, [...v] as [number | null, number | null]])) : {};
    this.rationale = l?.rationale ?? '';
    await this.commit(next);
  }

  /** How the person labels (kept in the session, so a reload comes back to it). */
  get mode(): S.LabelMode {
    return this.session.mode ?? 'pairs';
  }

  async setMode(mode: S.LabelMode): Promise<void> {
    if (mode === this.mode) return;
    this.scores = {};
    this.rankScores = {};
    this.rationale = '';
    await this.commit(R.setMode(this.session, mode));
  }

  /** A ranked-list action on the prompt on screen; the typed scores and rationale go with the action that ends the ranking, and are then cleared. */
  private async rankAction(act: (s: S.Session, extra: R.RankExtra) => S.Session): Promise<void> {
    const p = this.session.rankPosition ?? null;
    if (p === null || this.mode !== 'ranked') return;
    let next: S.Session;
    try {
      next = act(this.identity(this.session), { scores: this.rankScores, rationale: this.rationale });
    } catch (e) {
      return void (this.error = (e as Error).message);
    }
    if (next.rankings?.[p]?.end) {
      // cleared before the save is awaited: a key pressed meanwhile must not reuse this prompt's rationale
      this.rankScores = {};
      this.rationale = '';
    }
    await this.commit(next);
  }

  /** Ranked mode: the candidate shown as number n is the next best. */
  pick(n: number): Promise<void> {
    return this.rankAction((s, x) => R.pick(s, n, x));
  }

  /** Ranked mode: the candidates not picked yet tie (T). */
  tieRest(): Promise<void> {
    return this.rankAction((s, x) => R.tieRest(s, x));
  }

  /** Ranked mode: the prompt is skipped (S). */
  skipPrompt(): Promise<void> {
    return this.rankAction((s) => R.skipPrompt(s));
  }

  /** Ranked mode: takes back the last key press; a ranking that opens again gets its scores and rationale back in the fields. */
  async undoRank(): Promise<void> {
    const s = this.session;
    const p = s.rankHistory?.at(-1);
    if (p === undefined) return;
    const r = s.rankings?.[p];
    if (r?.end && r.wrote?.length) {
      const byCand: Record<string, (number | null)[]> = {};
      for (const w of r.wrote) {
        const l = s.labels[w.pair];
        const q = s.pairs[w.pair] as S.PairRef;
        const [f, g] = q.flip ? [q.b, q.a] : [q.a, q.b];
        for (const [name, [x, y]] of Object.entries(l?.scores ?? {})) {
          const row = (byCand[name] ??= []);
          if (x !== null) row[f] = x;
          if (y !== null) row[g] = y;
        }
      }
      this.rankScores = Object.fromEntries(Object.entries(byCand).map(([k, v]) => [k, Array.from(v, (x) => x ?? null)]));
      this.rationale = s.labels[r.wrote[0]?.pair as number]?.rationale ?? '';
    }
    await this.commit(R.undoRank(s));
  }

  async revisitSkippedRankings(): Promise<void> {
    await this.commit(R.revisitSkippedRankings(this.session));
  }

  async revisitSkipped(): Promise<void> {
    await this.commit(S.revisitSkipped(this.session));
  }

  /** Starts over (the caller asks the person first): an empty session, saved. */
  async clear(): Promise<void> {
    this.agreement = [];
    this.notice = '';
    const empty = this.identity(S.emptySession(S.labellerId(this.labellerName), this.seed));
    await this.commit(this.mode === 'ranked' ? R.setMode(empty, 'ranked') : empty);
  }

  /** The TRL JSONL export and a line saying what it holds. */
  exportTrl(): { name: string; text: string } {
    const t = S.toTrl(this.session);
    const left = [t.ties ? `${t.ties} tie${t.ties === 1 ? '' : 's'}` : '', t.skips ? `${t.skips} skipped` : '', t.open ? `${t.open} open` : ''].filter(Boolean);
    this.notice = `Exported ${t.written} labelled pair${t.written === 1 ? '' : 's'}${left.length ? ` (not in the file: ${left.join(', ')} — TRL has no tie)` : ''}.`;
    return { name: `studio-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.jsonl`, text: t.text };
  }

  /** Restores a session from an exported file (or any TRL/HH/LLMBar preference file). */
  async importFile(file: Blob & { name?: string }): Promise<void> {
    this.error = '';
    this.notice = '';
    try {
      const { pairs, errors } = await readDataset([await file.text()]);
      const fallback = `human:${(file.name ?? 'import').replace(/\.[^.]*$/, '')}`;
      const { session: restored, duplicates } = S.fromPairs(pairs, this.identity(S.emptySession(S.labellerId(this.labellerName), this.seed)), fallback);
      // the file holds pairs: a ranked list comes back as its implied pair labels, in the mode the page is in
      const session = this.mode === 'ranked' ? R.setMode(restored, 'ranked') : restored;
      await this.commit(session);
      this.promptText = session.prompts.map((p) => p.text).join('\n');
      this.attributesText = session.attributes.join(', ');
      this.agreement = [];
      const c = S.counts(session);
      this.notice = `Restored ${session.prompts.length} prompt${session.prompts.length === 1 ? '' : 's'} and ${c.preferred} labelled pair${c.preferred === 1 ? '' : 's'}${c.open ? `; ${c.open} pairs open` : ''}${errors.length ? `; ${errors.length} unreadable line${errors.length === 1 ? '' : 's'} skipped (first: line ${errors[0]?.line}: ${errors[0]?.message})` : ''}${duplicates ? `; ${duplicates} repeated pair${duplicates === 1 ? '' : 's'} kept once` : ''}.`;
    } catch (e) {
      this.error = e instanceof DatasetError || e instanceof S.StudioError ? `That file cannot be imported: ${e.message}.` : (e as Error).message;
    }
  }

  /**
   * Scores the person's labelled pairs (the export's records with a human labeller) with each chosen
   * scorer, one rank job after another on the same JSONL, and sets accuracy, interval and κ per scorer.
   */
  async runAgreement(scorers: readonly StudioScorer[]): Promise<void> {
    if (this.busy) return;
    this.error = '';
    const recs = S.trlRecords(this.session, (l) => !l.startsWith('model:'));
    if (recs.length === 0) return void (this.error = 'Label at least one pair with 1 or 2 first: ties and skips have no preferred response to agree with.');
    if (scorers.length === 0) return void (this.error = 'Pick at least one scorer.');
    const shownAt = new Map(recs.map((r) => [r.id, r.studio.chosen_shown]));
    const file = new Blob([recs.map((r) => JSON.stringify(r)).join('\n') + '\n'], { type: 'application/jsonl' });
    this.busy = 'scoring';
    this.stopped = false;
    const rows: AgreementRow[] = [];
    this.agreement = [];
    try {
      for (const [i, sc] of scorers.entries()) {
        if (this.stopped) break;
        this.progress = `Scorer ${i + 1} of ${scorers.length}: ${sc.label}…`;
        const job: RankJob = { ...sc.job, dataset: { kind: 'file', file, name: 'studio labels' }, beta: sc.job.beta ?? 1, lengthNormalize: false };
        try {
          const h = this.client.rank(job, () => {});
          this.runId = h.id;
          const { report } = await h.done;
          const kappa = scorerKappa(report.pair_details.map((p) => ({ margin: p.margin, chosenShown: shownAt.get(p.id) ?? 1 })));
          rows.push({ key: sc.key, label: sc.label, report, kappa });
        } catch (e) {
          rows.push({ key: sc.key, label: sc.label, error: (e as Error).message });
        }
        this.agreement = [...rows];
      }
      this.progress = '';
    } finally {
      this.busy = '';
      this.runId = null;
    }
  }
}
