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
  if (kind === 'beta') return { policy: base.policy, prompt: base.prompt, spec: { strategy: 'genarm', config, beta: value, armWeights: [1] }, arms: ['tiny-arm-positive'] };
  return {
    policy: base.policy,
    prompt: base.prompt,
    spec: { strategy: 'genarm', config, beta: 0.5, armWeights: [1 - value, value] },
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

  constructor(private readonly client: InferenceClient) {}

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
        this.points = [...this.points, { label, value, samples, stats: meanStats(samples.map((s) => sequenceStats(s.result, s.text))) }];
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.running = false;
    }
  }
}
