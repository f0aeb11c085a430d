/**
 * Candidate sets side by side (issue 14 item 4): the same prompt, policy, seed and sampling settings
 * drawn by nc_sample, diverse beam search and plain sampling through the worker's `candidates`
 * request, each set with its diversity (self-BLEU, distinct-1, distinct-2; core/metrics/setDiversity.ts).
 */
import { CANDIDATE_METHODS, type CandidateMethod, type CandidateSet } from '../core/search/candidates.ts';
import type { SetDiversity } from '../core/metrics/setDiversity.ts';
import type { InferenceClient } from '../inference/client.ts';
import type { CandidatesRun } from '../inference/protocol.ts';

export const METHOD_LABELS: Readonly<Record<CandidateMethod, string>> = {
  nc_sample: 'NC sampling',
  diverse_beam: 'Diverse beam',
  sample: 'Sampling',
};

/** What the form gives a candidate run (a RunForm has these fields). */
export interface CandidateSettings {
  readonly policy: string;
  readonly prompt: string;
  readonly seed: number;
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
}

/** "self-BLEU 0.04 · distinct-1 0.59 · distinct-2 0.95 · distribution distance 0.12" (n/a for one candidate; the last only when computed). */
export function diversityLine(d: SetDiversity): string {
  const dist = d.distribution_distance === undefined ? '' : ` · distribution distance ${d.distribution_distance === null ? 'n/a' : d.distribution_distance.toFixed(3)}`;
  return `self-BLEU ${d.self_bleu === null ? 'n/a' : d.self_bleu.toFixed(3)} · distinct-1 ${d.distinct_1.toFixed(2)} · distinct-2 ${d.distinct_2.toFixed(2)}${dist}`;
}

export function candidatesRun(s: CandidateSettings, method: CandidateMethod, k: number, ncPenalty: number): CandidatesRun {
  return {
    policy: s.policy,
    prompt: s.prompt,
    method,
    k,
    seed: s.seed,
    options: { config: { max_new_tokens: s.maxNewTokens, temperature: s.temperature, top_k: s.topK, top_p: s.topP }, ncPenalty, distributionDistance: true },
  };
}

export class CandidateSetsState {
  k = $state(4);
  ncPenalty = $state(1);
  running = $state<CandidateMethod | null>(null);
  error = $state('');
  results = $state<{ method: CandidateMethod; set: CandidateSet }[]>([]);
  /** The settings the shown sets were drawn with. */
  ran = $state<{ prompt: string; seed: number; k: number } | null>(null);
  private current: number | null = null;

  constructor(private readonly client: InferenceClient) {}

  /** Draws one set per method, one after another, on the same prompt and seed. */
  async run(s: CandidateSettings): Promise<void> {
    if (this.running) return;
    this.error = '';
    this.results = [];
    this.ran = { prompt: s.prompt, seed: s.seed, k: this.k };
    try {
      await this.client.load(s.policy);
      for (const method of CANDIDATE_METHODS) {
        if (method === 'diverse_beam' && this.k < 2) continue;
        this.running = method;
        const h = this.client.candidates(candidatesRun(s, method, this.k, this.ncPenalty));
        this.current = h.id;
        const set = await h.done;
        this.results = [...this.results, { method, set }];
      }
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.running = null;
      this.current = null;
    }
  }

  cancel(): void {
    if (this.current !== null) void this.client.cancel(this.current);
  }
}
