/**
 * Trade-off sweep: decode the same prompt at several guidance strengths (GenARM β) or ARM mixes
 * (weight between the positivity and conciseness ARMs), sampling each point several times, and
 * record mean oracle reward against the mean KL estimate from the base.
 */
import { meanStats, sequenceStats, type SequenceStats } from '../core/metrics/sequenceStats.ts';
import type { InferenceClient } from '../inference/client.ts';
import type { GenerateRun } from '../inference/protocol.ts';
import type { ShownSequence } from './generation.svelte.ts';

export type SweepKind = 'beta' | 'mix';

export interface SweepPoint {
  readonly label: string;
  readonly value: number;
  readonly stats: SequenceStats;
  readonly samples: readonly ShownSequence[];
}

export const SWEEPS: Record<SweepKind, { label: string; values: readonly number[] }> = {
  beta: { label: 'GenARM β (positivity ARM)', values: [Infinity, 4, 2, 1, 0.5, 0.25] },
  mix: { label: 'weight λ: (1 − λ)·positive + λ·concise, β = 0.5', values: [0, 0.25, 0.5, 0.75, 1] },
};

export function sweepRun(kind: SweepKind, value: number, base: { policy: string; prompt: string; maxNewTokens: number; seed: number; samples: number }): GenerateRun {
  const config = { max_new_tokens: base.maxNewTokens, seed: base.seed, do_sample: true, top_k: 0, num_return_sequences: base.samples };
  if (kind === 'beta' && value === Infinity) return { policy: base.policy, prompt: base.prompt, spec: { strategy: 'sample', config } };
  if (kind === 'beta') return { policy: base.policy, prompt: base.prompt, spec: { strategy: 'genarm', config, guidanceBeta: value, armWeights: [1] }, arms: ['tiny-arm-positive'] };
  return {
    policy: base.policy,
    prompt: base.prompt,
    spec: { strategy: 'genarm', config, guidanceBeta: 0.5, armWeights: [1 - value, value] },
    arms: ['tiny-arm-positive', 'tiny-arm-concise'],
  };
}

export class TradeoffState {
  kind = $state<SweepKind>('beta');
  samples = $state(16);
  points = $state.raw<SweepPoint[]>([]);
  selected = $state<number | null>(null);
  running = $state(false);
  error = $state('');
  /** The live multi-objective slider (its own runs, independent of the sweep). */
  readonly live: LiveMixState;

  constructor(private readonly client: InferenceClient) {
    this.live = new LiveMixState(client);
  }

  async run(policy: string, prompt: string, maxNewTokens: number, seed: number): Promise<void> {
    this.running = true;
    this.error = '';
    this.points = [];
    this.selected = null;
    const kind = this.kind;
    try {
      for (const value of SWEEPS[kind].values) {
        const run = sweepRun(kind, value, { policy, prompt, maxNewTokens, seed, samples: this.samples });
        let samples: ShownSequence[] = [];
        await this.client.load(policy);
        await this.client.generate(run, ({ event, texts }) => {
          if (event.type === 'done') samples = event.sequences.map((result, j) => ({ result, text: texts[j] ?? '' }));
        }).done;
        const label = kind === 'beta' ? (value === Infinity ? 'β = ∞ (base)' : `β = ${value}`) : `λ = ${value}`;
        this.points = [...this.points, { label, value, samples, stats: meanStats(samples.map((s) => sequenceStats(s.result, s.text, run.spec))) }];
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.running = false;
    }
  }
}

/**
 * The multi-objective slider: GenARM with weights (1 − λ, λ) on the positivity and conciseness ARMs,
 * re-decoded as λ moves. Same prompt and seed each time, so only the mix changes the output; a new
 * position cancels the run still streaming for the old one (its late events are dropped).
 */
export class LiveMixState {
  lambda = $state(0.5);
  beta = $state(0.5);
  text = $state('');
  stats = $state.raw<SequenceStats | null>(null);
  /** λ of the text shown (it lags `lambda` while a decode streams). */
  shownLambda = $state<number | null>(null);
  running = $state(false);
  error = $state('');
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: number | null = null;

  constructor(private readonly client: InferenceClient) {}

  /** Called on every slider move; decodes after a short pause so dragging does not queue runs. */
  schedule(base: { policy: string; prompt: string; maxNewTokens: number; seed: number }, delayMs = 120): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.decode(base), delayMs);
  }

  async decode(base: { policy: string; prompt: string; maxNewTokens: number; seed: number }): Promise<void> {
    const lambda = this.lambda;
    if (this.current !== null) void this.client.cancel(this.current).catch(() => undefined);
    const run = sweepRun('mix', lambda, { ...base, samples: 1 });
    const spec = { ...run.spec, guidanceBeta: this.beta, config: { ...run.spec.config, num_return_sequences: 1 } };
    this.error = '';
    this.running = true;
    let text = '';
    try {
      await this.client.load(base.policy);
      const handle = this.client.generate({ ...run, spec }, ({ event, texts }) => {
        if (handle.id !== this.current) return;
        if (event.type === 'step') {
          text += texts[0] ?? '';
          this.text = text;
          this.shownLambda = lambda;
        } else if (event.type === 'done') {
          const seq = event.sequences[0];
          if (seq) {
            this.text = texts[0] ?? text;
            this.stats = sequenceStats(seq, this.text, spec);
          }
        }
      });
      this.current = handle.id;
      this.stats = null;
      await handle.done;
      if (this.current === handle.id) {
        this.current = null;
        this.running = false;
      }
    } catch (e) {
      this.running = false;
      this.error = e instanceof Error ? e.message : String(e);
    }
  }
}
