/**
 * Compare view state: two to four strategy configurations run one after another on the same prompt,
 * each on seeds seed … seed + n − 1 (n samples per column, default 8; deterministic strategies run
 * once), with each statistic's mean, standard error and range over the column's answers.
 */
import { meanStats, sequenceStats, type SequenceStats } from '../core/metrics/sequenceStats.ts';
import type { InferenceClient } from '../inference/client.ts';
import type { GenerateRun } from '../inference/protocol.ts';
import type { ShownSequence } from './generation.svelte.ts';
import { STRATEGY_INFO } from './strategies.ts';
import { spread, type Spread } from './progress.ts';

export interface CompareColumn {
  readonly label: string;
  readonly run: GenerateRun;
  /** The column's answer for each seed run (best-of-N: the chosen sample; beam: the top beam). */
  readonly sequences: readonly ShownSequence[];
  /** Seeds of `sequences`, in order. */
  readonly seeds: readonly number[];
  /** Mean of each statistic (kl: null where n/a), and the spread of the numeric ones. */
  readonly stats: SequenceStats | null;
  readonly spread: Readonly<Partial<Record<NumericStat, Spread>>>;
  readonly error: string;
}

export type NumericStat = 'positivity' | 'conciseness' | 'baseLogprob' | 'tokens' | 'distinct2';
export const NUMERIC_STATS: readonly NumericStat[] = ['positivity', 'conciseness', 'baseLogprob', 'tokens', 'distinct2'];

export const MAX_COLUMNS = 4;
export const DEFAULT_SAMPLES = 8;

export function describeRun(r: GenerateRun): string {
  const s = r.spec;
  const parts = [STRATEGY_INFO[s.strategy].label];
  if (r.arms?.length) parts.push(r.arms.map((a, i) => `${a.replace('tiny-arm-', '')}×${s.armWeights?.[i] ?? 1}`).join(' + ') + ` β=${s.guidanceBeta ?? s.beta ?? 1}`);
  if (r.tuned) parts.push(`${r.tuned} β=${s.guidanceBeta ?? s.beta ?? 1}`);
  if (r.rewardModel) parts.push(s.strategy === 'best_of_n' || s.strategy === 'rejection' ? `N=${s.n ?? 8} · ${r.rewardModel}` : r.rewardModel);
  if (s.config.num_beams && (s.strategy === 'beam' || s.strategy === 'diverse_beam')) parts.push(`${s.config.num_beams} beams`);
  if (s.config.do_sample || s.strategy === 'sample' || s.strategy === 'best_of_n' || s.strategy === 'rejection') parts.push(`T=${s.config.temperature ?? 1}`);
  return parts.join(' · ');
}

/** Whether a run gives the same answer on every seed (no sampling anywhere). */
export function isDeterministic(r: GenerateRun): boolean {
  const s = r.spec.strategy;
  if (s === 'greedy' || s === 'beam' || s === 'diverse_beam') return true;
  if (s === 'genarm' || s === 'implicit' || s === 'args') return !r.spec.config.do_sample;
  return r.spec.config.temperature === 0;
}

export class CompareState {
  columns = $state.raw<CompareColumn[]>([]);
  running = $state(false);
  /** Samples per column (seeds seed … seed + samples − 1). */
  samples = $state(DEFAULT_SAMPLES);
  /** "Column 2 of 3: sample 5 of 8" while running. */
  progress = $state('');
  /** The prompt and first seed of the latest run (shown above the columns). */
  shownPrompt = $state('');
  shownSeed = $state(0);

  constructor(readonly client: InferenceClient) {}

  add(run: GenerateRun): void {
    if (this.columns.length >= MAX_COLUMNS) return;
    this.columns = [...this.columns, { label: describeRun(run), run, sequences: [], seeds: [], stats: null, spread: {}, error: '' }];
  }

  remove(i: number): void {
    this.columns = this.columns.filter((_, j) => j !== i);
  }

  /** Runs every column on `prompt` for seeds seed … seed + samples − 1 (the column's other settings are kept). */
  async runAll(prompt: string, seed: number): Promise<void> {
    const n = this.samples;
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      this.columns = this.columns.map((c) => ({ ...c, error: `samples per column must be an integer from 1 to 64 (got ${n})` }));
      return;
    }
    this.running = true;
    this.shownPrompt = prompt;
    this.shownSeed = seed;
    try {
      for (let i = 0; i < this.columns.length; i++) {
        const col = this.columns[i] as CompareColumn;
        const base: GenerateRun = { ...col.run, prompt };
        const runs = isDeterministic(base) ? 1 : n;
        const sequences: ShownSequence[] = [];
        const seeds: number[] = [];
        let error = '';
        try {
          await this.client.load(base.policy);
          for (let k = 0; k < runs; k++) {
            this.progress = `Column ${i + 1} of ${this.columns.length}: sample ${k + 1} of ${runs}`;
            const run: GenerateRun = { ...base, spec: { ...base.spec, config: { ...base.spec.config, seed: seed + k } } };
            let first: ShownSequence | null = null;
            await this.client.generate(run, ({ event, texts }) => {
              if (event.type === 'done' && event.sequences[0]) first = { result: event.sequences[0], text: texts[0] ?? '' };
            }).done;
            if (first) {
              sequences.push(first);
              seeds.push(seed + k);
            }
          }
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        const all = sequences.map((s) => sequenceStats(s.result, s.text, base.spec));
        const stats = all.length ? meanStats(all) : null;
        const sp: Partial<Record<NumericStat, Spread>> = {};
        for (const k of NUMERIC_STATS) sp[k] = spread(all.map((x) => x[k]));
        const run: GenerateRun = { ...base, spec: { ...base.spec, config: { ...base.spec.config, seed } } };
        this.columns = this.columns.map((c, j) => (j === i ? { ...c, run, sequences, seeds, stats, spread: sp, error } : c));
      }
    } finally {
      this.running = false;
      this.progress = '';
    }
  }
}
