/**
 * Ranking-accuracy view state: the job being set up, progress, cancel, and the last report — kept in
 * IndexedDB (idb-keyval) so a reload loses nothing.
 */
import { get, set } from 'idb-keyval';
import type { InferenceClient, RankResult } from '../inference/client.ts';
import type { DatasetSource, RankJob, RankProgress } from '../inference/protocol.ts';

export const BUNDLED_DATASETS = [
  { path: 'datasets/prefs-positive-test.jsonl', label: 'bundled: positivity test split (600 pairs, with alpha)' },
  { path: 'datasets/prefs-concise-test.jsonl', label: 'bundled: conciseness test split (600 pairs, with alpha)' },
] as const;

const STORE_KEY = 'decoding-lab:last-rank';

interface Stored {
  readonly result: RankResult;
  readonly scorer: RankJob['scorer'];
  readonly label: string;
  readonly at: string;
}

export class RankingState {
  scorer = $state<RankJob['scorer']>('implicit');
  datasetPath = $state<string>(BUNDLED_DATASETS[0].path);
  file = $state.raw<File | null>(null);
  policy = $state('tiny-dpo-positive');
  tuned = $state('tiny-dpo-positive');
  ref = $state('tiny-base');
  arm = $state('tiny-arm-positive');
  rewardModel = $state('tiny-rm-positive');
  beta = $state(0.1);
  lengthNormalize = $state(false);
  limit = $state(0);
  defaultAlpha = $state(0.75);
  progress = $state<RankProgress | null>(null);
  running = $state(false);
  error = $state('');
  result = $state.raw<RankResult | null>(null);
  label = $state('');
  savedAt = $state('');
  /** The scorer the shown result was computed with. */
  resultScorer = $state<RankJob['scorer']>('implicit');
  private runId: number | null = null;

  constructor(private readonly client: InferenceClient) {}

  /** Restores the last report from IndexedDB (absent or unreadable storage is not an error). */
  async restore(): Promise<void> {
    try {
      const s = (await get(STORE_KEY)) as Stored | undefined;
      if (s && !this.result) {
        this.result = s.result;
        this.label = s.label;
        this.savedAt = s.at;
        this.resultScorer = s.scorer;
      }
    } catch {
      /* private mode or storage disabled: nothing to restore */
    }
  }

  job(): RankJob {
    const dataset: DatasetSource = this.file ? { kind: 'file', file: this.file, name: this.file.name } : { kind: 'bundled', path: this.datasetPath };
    const s = this.scorer;
    return {
      dataset,
      scorer: s,
      ...(s === 'policy' ? { policy: this.policy } : {}),
      ...(s === 'implicit' ? { tuned: this.tuned, ref: this.ref } : {}),
      ...(s === 'arm' ? { arm: this.arm } : {}),
      ...(s === 'sequence' ? { rewardModel: this.rewardModel } : {}),
      beta: this.beta,
      lengthNormalize: this.lengthNormalize,
      ...(this.limit > 0 ? { limit: this.limit } : {}),
      defaultAlpha: this.defaultAlpha,
    };
  }

  describe(): string {
    const j = this.job();
    const model = j.policy ?? (j.tuned ? `${j.tuned} vs ${j.ref}` : (j.arm ?? j.rewardModel));
    const data = j.dataset.kind === 'file' ? j.dataset.name : j.dataset.path;
    return `${j.scorer} scorer · ${model} · ${data}${j.limit ? ` (first ${j.limit})` : ''}`;
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.error = '';
    this.progress = null;
    const label = this.describe();
    const scorer = this.scorer;
    try {
      const policy = this.scorer === 'policy' ? this.policy : this.scorer === 'implicit' ? this.tuned : this.scorer === 'arm' ? this.arm : null;
      if (policy) await this.client.load(policy);
      const h = this.client.rank(this.job(), (p) => (this.progress = p));
      this.runId = h.id;
      const result = await h.done;
      this.result = result;
      this.resultScorer = scorer;
      this.label = label + (result.cancelled ? ' — cancelled, partial' : '');
      this.savedAt = new Date().toISOString();
      try {
        await set(STORE_KEY, { result, scorer, label: this.label, at: this.savedAt } satisfies Stored);
      } catch {
        /* storage unavailable: the result stays on screen */
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.running = false;
      this.runId = null;
    }
  }

  async cancel(): Promise<void> {
    if (this.runId !== null) await this.client.cancel(this.runId);
  }
}
