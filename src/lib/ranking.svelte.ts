/**
 * Ranking-accuracy view state: the job being set up (dataset source, scorer, models, options),
 * progress, cancel, the last report, and a resumable partial result — all kept in IndexedDB
 * (idb-keyval) so a reload loses nothing: finished windows of pairs are saved as they complete
 * (throttled), and after a reload the partial report is shown with a "Resume" button that continues
 * from the next pair with the same job.
 *
 * Dataset sources: a bundled split, a picked or dropped file (kept in IndexedDB with the job, so it
 * can be re-read after a reload where the browser stores File objects), a URL, or a Hugging Face
 * dataset through the datasets-server (`?datasetsServer=URL` overrides its base, e.g. for tests).
 */
import { del, get, set } from 'idb-keyval';
import type { InferenceClient, RankResult } from '../inference/client.ts';
import type { DatasetSource, RankJob, RankProgress } from '../inference/protocol.ts';
import type { PreferencePair } from '../core/data/preferences.ts';
import { DATASETS_SERVER, checkDatasetName, listSplits, type SplitName } from '../core/data/hfRows.ts';
import { jobReport } from '../inference/rankJob.ts';
import type { PairScore, PartialScores } from '../core/metrics/scorePairs.ts';
import type { PairTokenScores } from '../core/metrics/tokenScores.ts';

export const BUNDLED_DATASETS = [
  { path: 'datasets/prefs-positive-test.jsonl', label: 'bundled: positivity test split (600 pairs, with alpha)' },
  { path: 'datasets/prefs-concise-test.jsonl', label: 'bundled: conciseness test split (600 pairs, with alpha)' },
] as const;

export type SourceKind = DatasetSource['kind'];

/** What models/manifest.json says about a model's training (β, β_r, its reference). */
export interface ModelFacts {
  readonly role?: string;
  readonly also?: readonly string[];
  readonly beta?: number;
  readonly beta_r?: number;
  readonly reference?: string;
}

/** β of the implicit reward (and R*) when the user has not set one: the model's training β, else 1. */
export function trainingBeta(facts: Readonly<Record<string, ModelFacts>>, model: string | undefined): { beta: number; source: string } {
  const b = model ? facts[model]?.beta : undefined;
  return model && b !== undefined ? { beta: b, source: `training β of ${model} (models/manifest.json)` } : { beta: 1, source: `default 1 (${model ? `no training β known for ${model}` : 'no tuned model'})` };
}

/** R*'s reference when the user has not picked one: the model's base per the manifest (itself when it is a reference model), else none. */
export function defaultReference(facts: Readonly<Record<string, ModelFacts>>, model: string): string {
  const f = facts[model];
  return f?.reference ?? (f && (f.role === 'reference' || f.also?.includes('reference')) ? model : '');
}

const STORE_KEY = 'decoding-lab:last-rank';
const PARTIAL_KEY = 'decoding-lab:rank-partial';
/** Partial results are written at most this often (and once more when the run stops). */
const SAVE_EVERY_MS = 1000;

interface Stored {
  readonly result: RankResult;
  readonly scorer: RankJob['scorer'];
  readonly label: string;
  readonly at: string;
  /** The job that made it (for the token strips); absent in results saved by older versions. */
  readonly job?: RankJob;
}

/** A run that stopped before the end (reload, cancel, crash): enough to resume it. */
export interface StoredPartial {
  readonly job: RankJob;
  readonly label: string;
  readonly consumed: number;
  readonly pairs: readonly PairScore[];
  readonly skipped: readonly { id: string; reason: string }[];
  /** Pairs the run was going to score (0 when unknown). */
  readonly total: number;
  readonly at: string;
  /** The picked file could not be stored with the job (the browser cannot keep File objects). */
  readonly fileLost?: boolean;
}

/** Reads a tokenizer_config.json of the site and says whether it has a chat template. */
async function templateStatus(base: string, id: string): Promise<{ available: boolean; reason: string }> {
  if (id.includes('/')) return { available: true, reason: `${id} is not a bundled model: the worker checks its chat template when you run` };
  try {
    const res = await fetch(`${base}models/${id}/tokenizer_config.json`);
    if (!res.ok) return { available: false, reason: `could not read ${id}'s tokenizer_config.json (HTTP ${res.status})` };
    const cfg = (await res.json()) as { chat_template?: unknown };
    const t = cfg.chat_template;
    const has = (typeof t === 'string' && t.trim() !== '') || (Array.isArray(t) && t.length > 0);
    return has ? { available: true, reason: `${id}'s tokenizer has a chat template` } : { available: false, reason: `${id}'s tokenizer has no chat template (its tokenizer_config.json has no "chat_template")` };
  } catch (e) {
    return { available: false, reason: `could not read ${id}'s tokenizer_config.json (${(e as Error).message})` };
  }
}

export class RankingState {
  scorer = $state<RankJob['scorer']>('implicit');
  source = $state<SourceKind>('bundled');
  datasetPath = $state<string>(BUNDLED_DATASETS[0].path);
  file = $state.raw<File | null>(null);
  url = $state('');
  hfDataset = $state('');
  hfConfig = $state('');
  hfSplit = $state('');
  hfSplits = $state.raw<SplitName[]>([]);
  hfStatus = $state('');
  /** The datasets-server base URL (`?datasetsServer=` overrides it). */
  readonly datasetsServer: string;
  policy = $state('tiny-dpo-positive');
  tuned = $state('tiny-dpo-positive');
  ref = $state('tiny-base');
  arm = $state('tiny-arm-positive');
  rewardModel = $state('tiny-rm-positive');
  /**
   * The sequence scorer's reward label for a model with several heads: a head ("positivity"), "A-B", or
   * a weighted mix ("positivity=1,conciseness=0.5"), as the CLI's --reward-label; '' for one output.
   */
  rewardLabel = $state('');
  /** Heads (config.json id2label) of each sequence reward model looked up, in output order; [] for one output. */
  heads = $state.raw<Record<string, readonly string[]>>({});
  /** DPO's β (multiplies the log-ratio); follows the model's training β until the user sets it. */
  beta = $state(0.1);
  /** Where `beta` came from. */
  betaSource = $state('training β of tiny-dpo-positive (models/manifest.json)');
  /** The user typed a β: stop following the model's training β. */
  betaTouched = $state(false);
  /** The user picked a reference: stop following the manifest's. */
  refTouched = $state(false);
  /** models/manifest.json facts by model id (loaded by loadFacts). */
  facts = $state.raw<Record<string, ModelFacts>>({});
  /** Prepend BOS where the tokenizer adds one; append EOS to finished responses (token-level scorers). */
  addBos = $state(true);
  appendEos = $state(true);
  /** Bins of the ECE and the reliability diagram. */
  eceBins = $state<5 | 10 | 20>(10);
  lengthNormalize = $state(false);
  chatTemplate = $state(false);
  /** Whether the scorer's tokenizer has a chat template, and why not. */
  template = $state<{ id: string; available: boolean; reason: string } | null>(null);
  limit = $state(0);
  defaultAlpha = $state(0.75);
  progress = $state<RankProgress | null>(null);
  running = $state(false);
  error = $state('');
  result = $state.raw<RankResult | null>(null);
  /** The job of the shown result (token strips are scored with its models). */
  resultJob = $state.raw<RankJob | null>(null);
  label = $state('');
  savedAt = $state('');
  /** The scorer the shown result was computed with. */
  resultScorer = $state<RankJob['scorer']>('implicit');
  /** A stopped run that can be resumed (shown with its partial report). */
  partial = $state.raw<StoredPartial | null>(null);
  /** Token strips of expanded pairs, by pair index in the report. */
  strips = $state.raw<Record<number, PairTokenScores | { error: string } | 'loading'>>({});
  /** Pairs of the running job saved to IndexedDB so far (what a reload would keep). */
  savedPairs = $state(0);
  private runId: number | null = null;
  private live: { job: RankJob; label: string; consumed: number; pairs: PairScore[]; skipped: { id: string; reason: string }[]; total: number } | null = null;
  private lastSave = 0;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: InferenceClient,
    private readonly base: string = import.meta.env?.BASE_URL ?? '/',
  ) {
    const q = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('datasetsServer');
    this.datasetsServer = q && /^https?:\/\//.test(q) ? q.replace(/\/+$/, '') : DATASETS_SERVER;
  }

  /** Reads models/manifest.json (training β, β_r, reference of each bundled model); absent is not an error. */
  async loadFacts(): Promise<void> {
    try {
      const res = await fetch(`${this.base}models/manifest.json`);
      if (!res.ok) return;
      const m = (await res.json()) as { models?: (ModelFacts & { id: string })[] };
      this.facts = Object.fromEntries((m.models ?? []).map(({ id, ...f }) => [id, f]));
      this.sync();
    } catch {
      /* no manifest: β stays as it is, the reference as chosen */
    }
  }

  /** The model whose training β and reference apply: the tuned model (implicit) or the policy. */
  tunedModel(): string | undefined {
    return this.scorer === 'implicit' ? this.tuned : this.scorer === 'policy' ? this.policy : undefined;
  }

  /** Follows the model's training β and reference unless the user set them. */
  sync(): void {
    const m = this.tunedModel();
    if (!this.betaTouched) {
      const b = trainingBeta(this.facts, m);
      this.beta = b.beta;
      this.betaSource = b.source;
    }
    if (!this.refTouched && m) {
      const r = defaultReference(this.facts, m);
      if (r || this.scorer === 'policy') this.ref = r;
    }
  }

  /** The user typed a β. */
  setBeta(v: number): void {
    this.beta = v;
    this.betaTouched = true;
    this.betaSource = 'set here';
  }

  /** Back to the model's training β. */
  resetBeta(): void {
    this.betaTouched = false;
    this.sync();
  }

  /** The model whose tokenizer the scorer uses. */
  tokenizerModel(): string {
    return this.scorer === 'policy' ? this.policy : this.scorer === 'implicit' ? this.tuned : this.scorer === 'arm' ? this.arm : this.rewardModel;
  }

  /** Checks (once per model) whether the scorer's tokenizer has a chat template. */
  async checkTemplate(): Promise<void> {
    const id = this.tokenizerModel();
    if (this.template?.id === id) return;
    const s = await templateStatus(this.base, id);
    if (this.tokenizerModel() !== id) return;
    this.template = { id, ...s };
    if (!s.available) this.chatTemplate = false;
  }

  /** Restores the last report and any resumable partial run from IndexedDB (absent or unreadable storage is not an error). */
  async restore(): Promise<void> {
    try {
      const s = (await get(STORE_KEY)) as Stored | undefined;
      if (s && !this.result) {
        this.result = s.result;
        this.resultJob = s.job ?? null;
        this.label = s.label;
        this.savedAt = s.at;
        this.resultScorer = s.scorer;
      }
      const p = (await get(PARTIAL_KEY)) as StoredPartial | undefined;
      if (p && !this.running && p.pairs.length > 0) this.showPartial(p);
    } catch {
      /* private mode or storage disabled: nothing to restore */
    }
  }

  /** Shows a saved partial run as the current result (its report over the pairs scored so far). */
  private showPartial(p: StoredPartial): void {
    this.partial = p;
    this.result = {
      report: jobReport({ pairs: [...p.pairs], truncated: p.pairs.filter((x) => x.truncated).length, skipped: p.skipped }, p.job),
      invalidLines: [],
      cancelled: true,
      pairsRead: p.total,
    };
    this.resultJob = p.job;
    this.resultScorer = p.job.scorer;
    this.label = `${p.label} — partial: ${p.pairs.length}${p.total ? ` of ${p.total}` : ''} pairs`;
    this.savedAt = p.at;
    this.strips = {};
  }

  source_(): DatasetSource {
    switch (this.source) {
      case 'file':
        if (!this.file) throw new Error('Choose or drop a file first (JSONL or JSON).');
        return { kind: 'file', file: this.file, name: this.file.name };
      case 'url': {
        const u = this.url.trim();
        if (!/^https?:\/\/\S+$/i.test(u)) throw new Error(`Enter the full http(s) address of a JSONL or JSON file (got "${u}").`);
        return { kind: 'url', url: u };
      }
      case 'hf': {
        checkDatasetName(this.hfDataset);
        if (!this.hfConfig || !this.hfSplit) throw new Error('Look up the dataset and pick a config and split first.');
        return { kind: 'hf', dataset: this.hfDataset.trim(), config: this.hfConfig, split: this.hfSplit, ...(this.datasetsServer !== DATASETS_SERVER ? { server: this.datasetsServer } : {}) };
      }
      default:
        return { kind: 'bundled', path: this.datasetPath };
    }
  }

  job(): RankJob {
    const s = this.scorer;
    if (!(this.beta > 0) || !Number.isFinite(this.beta)) throw new Error(`β must be a number above 0 (got ${this.beta}): it is DPO's reward scale, β·(log π_tuned − log π_ref); "use the training β" puts back the model's.`);
    return {
      dataset: this.source_(),
      scorer: s,
      ...(s === 'policy' ? { policy: this.policy, ...(this.ref ? { ref: this.ref } : {}) } : {}),
      ...(s === 'implicit' ? { tuned: this.tuned, ref: this.ref } : {}),
      ...(s === 'arm' ? { arm: this.arm, ...(this.facts[this.arm]?.beta_r !== undefined ? { armBeta: this.facts[this.arm]?.beta_r } : {}) } : {}),
      ...(s === 'sequence' ? { rewardModel: this.rewardModel, ...(this.rewardLabel.trim() ? { rewardLabel: this.rewardLabel.trim() } : {}) } : {}),
      beta: this.beta,
      betaSource: this.betaSource,
      lengthNormalize: this.lengthNormalize,
      ...(this.addBos ? {} : { addBos: false }),
      ...(this.appendEos ? {} : { appendEos: false }),
      eceBins: this.eceBins,
      ...(this.limit > 0 ? { limit: this.limit } : {}),
      defaultAlpha: this.defaultAlpha,
      ...(this.chatTemplate ? { chatTemplate: true } : {}),
    };
  }

  static describe(j: RankJob): string {
    const model = j.policy ? `${j.policy}${j.ref ? ` (R* from ${j.ref})` : ''}` : j.tuned ? `${j.tuned} vs ${j.ref}` : j.arm ?? `${j.rewardModel}${j.rewardLabel ? ` [${j.rewardLabel}]` : ''}`;
    const d = j.dataset;
    const data = d.kind === 'file' ? d.name : d.kind === 'url' ? d.url : d.kind === 'hf' ? `hf:${d.dataset} (${d.config}/${d.split})` : d.path;
    return `${j.scorer} scorer · ${model} · ${data}${j.limit ? ` (first ${j.limit})` : ''}${j.chatTemplate ? ' · chat template' : ''}`;
  }

  /**
   * Learns the heads of the chosen sequence reward model (once per model) from its load in the worker
   * (ModelInfo.labels), for the reward-label hint; a model that fails to load is left to the run's error.
   */
  async lookUpHeads(): Promise<void> {
    const id = this.rewardModel;
    if (this.scorer !== 'sequence' || !id || id in this.heads) return;
    try {
      const { model } = await this.client.load(id, { as: 'rm' });
      this.heads = { ...this.heads, [id]: model.labels ?? [] };
    } catch {
      /* the run says what is wrong with the model */
    }
  }

  /** The reward-label field's hint for the chosen model: its heads and an example mix, or that one output needs none. */
  labelHint(): { placeholder: string; text: string } {
    const h = this.heads[this.rewardModel];
    if (!h) return { placeholder: 'e.g. positivity=1,conciseness=0.5', text: 'For a model with several heads: a head, A-B, or a weighted mix.' };
    if (h.length < 2) return { placeholder: 'none needed', text: `${this.rewardModel} has one output: leave this empty.` };
    return { placeholder: h.map((n) => `${n}=1`).join(','), text: `${this.rewardModel}'s heads: ${h.join(', ')}. Name one, A-B, or a weighted mix.` };
  }

  /** Lists the configs and splits of the Hugging Face dataset named in `hfDataset`. */
  async lookUpHf(): Promise<void> {
    this.hfStatus = 'looking up…';
    this.hfSplits = [];
    this.error = '';
    try {
      const splits = await listSplits((u, init) => fetch(u, init as RequestInit), this.datasetsServer, this.hfDataset);
      this.hfSplits = splits;
      const pick = splits.find((s) => s.split === 'test') ?? splits[0];
      this.hfConfig = pick?.config ?? '';
      this.hfSplit = pick?.split ?? '';
      this.hfStatus = `${splits.length} split${splits.length === 1 ? '' : 's'}`;
    } catch (e) {
      this.hfStatus = '';
      this.error = (e as Error).message;
    }
  }

  /** A file dropped on the panel or picked. */
  setFile(f: File | null | undefined): void {
    if (!f) return;
    this.file = f;
    this.source = 'file';
    this.error = '';
  }

  async run(resume?: StoredPartial): Promise<void> {
    if (this.running) return;
    this.error = '';
    let job: RankJob;
    try {
      job = resume ? { ...resume.job, resume: { consumed: resume.consumed, pairs: resume.pairs, skipped: resume.skipped } } : this.job();
      if (resume?.fileLost) {
        if (!this.file) throw new Error(`The browser could not keep the picked file with the saved run: pick or drop it again, then Resume.`);
        job = { ...job, dataset: { kind: 'file', file: this.file, name: this.file.name } };
      }
    } catch (e) {
      this.error = (e as Error).message;
      return;
    }
    this.running = true;
    this.progress = null;
    this.savedPairs = resume?.pairs.length ?? 0;
    const { resume: _r, ...plain } = job;
    const label = resume ? `${resume.label.replace(/ · resumed after \d+ pairs$/, '')} · resumed after ${resume.pairs.length} pairs` : RankingState.describe(job);
    this.live = { job: plain, label, consumed: resume?.consumed ?? 0, pairs: [...(resume?.pairs ?? [])], skipped: [...(resume?.skipped ?? [])], total: resume?.total ?? 0 };
    if (!resume) await this.dropPartial();
    const scorer = job.scorer;
    try {
      const policy = scorer === 'policy' ? job.policy : scorer === 'implicit' ? job.tuned : scorer === 'arm' ? job.arm : null;
      if (policy) await this.client.load(policy);
      const h = this.client.rank(job, (p) => this.onProgress(p));
      this.runId = h.id;
      const result = await h.done;
      this.result = result;
      this.resultJob = plain;
      this.resultScorer = scorer;
      this.strips = {};
      this.label = label + (result.cancelled ? ' — cancelled, partial (Resume continues it)' : '');
      this.savedAt = new Date().toISOString();
      if (result.cancelled) {
        await this.savePartial(true);
        this.partial = (await this.readPartial()) ?? null;
      } else {
        this.live = null;
        await this.dropPartial();
      }
      const stored: Stored = { result, scorer, label: this.label, at: this.savedAt, job: plain };
      try {
        await set(STORE_KEY, stored);
      } catch {
        // a File the browser cannot store: keep the result without its job (no token strips after a reload)
        await set(STORE_KEY, { ...stored, job: undefined }).catch(() => {});
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      await this.savePartial(true); // a crash keeps what was scored: Resume continues it
      const p = await this.readPartial();
      if (p && p.pairs.length) this.showPartial(p);
    } finally {
      this.running = false;
      this.runId = null;
    }
  }

  /** Continues the saved partial run. */
  resume(): Promise<void> {
    const p = this.partial;
    return p ? this.run(p) : Promise.resolve();
  }

  private onProgress(p: RankProgress): void {
    if (p.partial) return this.addPartial(p.partial);
    this.progress = p;
    if (p.phase === 'scoring' && this.live && p.total) this.live.total = p.total;
  }

  private addPartial(part: PartialScores): void {
    const l = this.live;
    if (!l) return;
    l.consumed = part.consumed;
    l.pairs.push(...part.pairs);
    l.skipped.push(...part.skipped);
    const wait = this.lastSave + SAVE_EVERY_MS - Date.now();
    if (wait <= 0) void this.savePartial();
    else this.saveTimer ??= setTimeout(() => void this.savePartial(), wait);
  }

  private async savePartial(final = false): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.lastSave = Date.now();
    const l = this.live;
    if (!l || (l.pairs.length === 0 && !final)) return;
    const p: StoredPartial = { job: l.job, label: l.label, consumed: l.consumed, pairs: [...l.pairs], skipped: [...l.skipped], total: l.total, at: new Date().toISOString() };
    try {
      await set(PARTIAL_KEY, p);
      this.savedPairs = p.pairs.length;
    } catch {
      // A File the browser cannot store: keep the rest, and ask for the file again on Resume.
      try {
        if (l.job.dataset.kind === 'file') await set(PARTIAL_KEY, { ...p, job: { ...l.job, dataset: { kind: 'bundled', path: '' } }, fileLost: true, label: l.label });
      } catch {
        /* storage unavailable */
      }
    }
    if (final) this.live = null;
  }

  private async readPartial(): Promise<StoredPartial | undefined> {
    try {
      return (await get(PARTIAL_KEY)) as StoredPartial | undefined;
    } catch {
      return undefined;
    }
  }

  private async dropPartial(): Promise<void> {
    this.partial = null;
    try {
      await del(PARTIAL_KEY);
    } catch {
      /* storage unavailable */
    }
  }

  /** Forgets the saved partial run. */
  async discardPartial(): Promise<void> {
    await this.dropPartial();
  }

  async cancel(): Promise<void> {
    if (this.runId !== null) await this.client.cancel(this.runId);
  }

  /** The text of the i-th pair of the shown report (for its token strip), when known. */
  pairText(i: number): PreferencePair | null {
    return this.result?.texts?.[i] ?? null;
  }

  /** Scores pair i of the shown report token by token (once), for its strip. */
  async loadStrip(i: number): Promise<void> {
    if (this.strips[i] !== undefined) return;
    const pair = this.pairText(i);
    const job = this.resultJob;
    if (!pair || !job) {
      this.strips = { ...this.strips, [i]: { error: 'The pair’s text is not known for this result (a partial result keeps scores only): evaluate again to see its tokens.' } };
      return;
    }
    this.strips = { ...this.strips, [i]: 'loading' };
    try {
      const s = await this.client.scorePair(job, pair);
      this.strips = { ...this.strips, [i]: s };
    } catch (e) {
      this.strips = { ...this.strips, [i]: { error: (e as Error).message } };
    }
  }
}
