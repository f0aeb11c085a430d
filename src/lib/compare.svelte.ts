/**
 * Compare view state: two to four strategy configurations run one after another on the same prompt
 * and seed, each with its outputs and mean statistics.
 */
import { meanStats, sequenceStats, type SequenceStats } from '../core/metrics/sequenceStats.ts';
import type { InferenceClient } from '../inference/client.ts';
import type { GenerateRun } from '../inference/protocol.ts';
import type { ShownSequence } from './generation.svelte.ts';
import { STRATEGY_INFO } from './strategies.ts';

export interface CompareColumn {
  readonly label: string;
  readonly run: GenerateRun;
  readonly sequences: readonly ShownSequence[];
  readonly stats: SequenceStats | null;
  readonly error: string;
}

export const MAX_COLUMNS = 4;

export function describeRun(r: GenerateRun): string {
  const s = r.spec;
  const parts = [STRATEGY_INFO[s.strategy].label];
  if (r.arms?.length) parts.push(r.arms.map((a, i) => `${a.replace('tiny-arm-', '')}×${s.armWeights?.[i] ?? 1}`).join(' + ') + ` β=${s.beta ?? 1}`);
  if (r.tuned) parts.push(`${r.tuned} β=${s.beta ?? 1}`);
  if (r.rewardModel) parts.push(r.rewardModel);
  if (s.config.num_beams && (s.strategy === 'beam' || s.strategy === 'diverse_beam')) parts.push(`${s.config.num_beams} beams`);
  if (s.config.do_sample || s.strategy === 'sample') parts.push(`T=${s.config.temperature ?? 1}`);
  return parts.join(' · ');
}

export class CompareState {
  columns = $state.raw<CompareColumn[]>([]);
  running = $state(false);

  constructor(private readonly client: InferenceClient) {}

  add(run: GenerateRun): void {
    if (this.columns.length >= MAX_COLUMNS) return;
    this.columns = [...this.columns, { label: describeRun(run), run, sequences: [], stats: null, error: '' }];
  }

  remove(i: number): void {
    this.columns = this.columns.filter((_, j) => j !== i);
  }

  /** Runs every column on `prompt` with `seed` (the column's other settings are kept). */
  async runAll(prompt: string, seed: number): Promise<void> {
    this.running = true;
    try {
      for (let i = 0; i < this.columns.length; i++) {
        const col = this.columns[i] as CompareColumn;
        const run: GenerateRun = { ...col.run, prompt, spec: { ...col.run.spec, config: { ...col.run.spec.config, seed } } };
        let sequences: ShownSequence[] = [];
        let error = '';
        try {
          await this.client.load(run.policy);
          await this.client.generate(run, ({ event, texts }) => {
            if (event.type === 'done') sequences = event.sequences.map((result, j) => ({ result, text: texts[j] ?? '' }));
          }).done;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        // Best-of-N answers with its top-ranked sample; other strategies with every returned sequence.
        if (run.spec.strategy === 'best_of_n') sequences = sequences.slice(0, 1);
        const stats = sequences.length ? meanStats(sequences.map((s) => sequenceStats(s.result, s.text, run.spec))) : null;
        this.columns = this.columns.map((c, j) => (j === i ? { ...c, run, sequences, stats, error } : c));
      }
    } finally {
      this.running = false;
    }
  }
}
