/** The generate form: every field a strategy uses, and the GenerateRun it describes. */
import { STRATEGIES, type GenerationConfig, type StrategyName } from '../core/search/strategy.ts';
import type { GenerateRun } from '../inference/protocol.ts';

export interface Preset {
  readonly name: string;
  apply(f: RunForm): void;
}

export class RunForm {
  policy = $state('tiny-base');
  prompt = $state('The state of the Union is');
  strategy = $state<StrategyName>('greedy');
  maxNewTokens = $state(40);
  doSample = $state(false);
  temperature = $state(1);
  topK = $state(50);
  topP = $state(1);
  seed = $state(0);
  numBeams = $state(4);
  numBeamGroups = $state(2);
  diversityPenalty = $state(1);
  lengthPenalty = $state(1);
  numReturnSequences = $state(1);
  beta = $state(1);
  armPositive = $state(1);
  armConcise = $state(0);
  tuned = $state('tiny-dpo-positive');
  ref = $state('tiny-base');
  rewardModel = $state('tiny-rm-positive');
  n = $state(8);
  argsK = $state(10);
  argsWeight = $state(1);
  rsoBeta = $state(0.5);
  /** ARMs beyond the two bundled ones (any registered causal LM, e.g. a picked folder): id → weight. */
  extraArms = $state<Record<string, number>>({});

  readonly usesArms = $derived(this.strategy === 'genarm');
  readonly samples = $derived(this.strategy === 'sample' || this.strategy === 'best_of_n' || this.strategy === 'rejection' || ((this.strategy === 'genarm' || this.strategy === 'implicit' || this.strategy === 'args') && this.doSample));

  /** Writes every field to URL parameters (Hugging Face names), so a pasted URL reproduces the run. */
  toParams(): URLSearchParams {
    const p = new URLSearchParams();
    for (const [key, field] of URL_FIELDS) p.set(key, String(this[field]));
    const extra = Object.entries(this.extraArms);
    if (extra.length) p.set('arms', extra.map(([id, w]) => `${id}=${w}`).join(','));
    return p;
  }

  /** Reads the fields present in `params`; unknown or malformed values are ignored (the default stays). */
  fromParams(params: URLSearchParams): void {
    const arms: Record<string, number> = {};
    for (const item of (params.get('arms') ?? '').split(',')) {
      const at = item.lastIndexOf('=');
      const w = Number(item.slice(at + 1));
      if (at > 0 && item.slice(at + 1).trim() !== '' && Number.isFinite(w)) arms[item.slice(0, at)] = w;
    }
    if (params.has('arms')) this.extraArms = arms;
    for (const [key, field] of URL_FIELDS) {
      const raw = params.get(key);
      if (raw === null) continue;
      const current = this[field];
      if (typeof current === 'number') {
        const v = Number(raw);
        if (raw.trim() !== '' && Number.isFinite(v)) (this as unknown as Record<string, number>)[field] = v;
      } else if (typeof current === 'boolean') {
        if (raw === 'true' || raw === 'false') (this as unknown as Record<string, boolean>)[field] = raw === 'true';
      } else if (field !== 'strategy' || (STRATEGIES as readonly string[]).includes(raw)) {
        (this as unknown as Record<string, string>)[field] = raw;
      }
    }
  }

  toRun(): GenerateRun {
    const s = this.strategy;
    const config: GenerationConfig = {
      max_new_tokens: this.maxNewTokens,
      seed: this.seed,
      ...(s === 'genarm' || s === 'implicit' || s === 'args' ? { do_sample: this.doSample } : {}),
      ...(this.samples ? { temperature: this.temperature, top_k: this.topK, top_p: this.topP } : {}),
      ...(s === 'beam' || s === 'diverse_beam' ? { num_beams: this.numBeams, length_penalty: this.lengthPenalty } : {}),
      ...(s === 'diverse_beam' ? { num_beam_groups: this.numBeamGroups, diversity_penalty: this.diversityPenalty } : {}),
      ...(s !== 'greedy' && s !== 'args' && s !== 'best_of_n' && s !== 'genarm' && s !== 'implicit' ? { num_return_sequences: this.numReturnSequences } : {}),
    };
    const arms = this.usesArms
      ? ([['tiny-arm-positive', this.armPositive], ['tiny-arm-concise', this.armConcise], ...Object.entries(this.extraArms)] as const).filter(([, w]) => w !== 0)
      : [];
    return {
      policy: this.policy,
      prompt: this.prompt,
      spec: {
        strategy: s,
        config,
        beta: this.beta,
        armWeights: arms.map(([, w]) => w),
        argsK: this.argsK,
        argsWeight: this.argsWeight,
        n: this.n,
        rsoBeta: this.rsoBeta,
      },
      arms: arms.map(([id]) => id),
      ...(s === 'implicit' ? { tuned: this.tuned, ref: this.ref } : {}),
      ...(s === 'args' || s === 'best_of_n' || s === 'rejection' ? { rewardModel: this.rewardModel } : {}),
    };
  }
}

type Field = 'policy' | 'prompt' | 'strategy' | 'maxNewTokens' | 'doSample' | 'temperature' | 'topK' | 'topP' | 'seed' | 'numBeams' | 'numBeamGroups' | 'diversityPenalty' | 'lengthPenalty' | 'numReturnSequences' | 'beta' | 'armPositive' | 'armConcise' | 'tuned' | 'ref' | 'rewardModel' | 'n' | 'argsK' | 'argsWeight' | 'rsoBeta';

/** URL parameter ↔ form field. */
const URL_FIELDS: readonly (readonly [string, Field])[] = [
  ['policy', 'policy'], ['prompt', 'prompt'], ['strategy', 'strategy'], ['max_new_tokens', 'maxNewTokens'], ['do_sample', 'doSample'],
  ['temperature', 'temperature'], ['top_k', 'topK'], ['top_p', 'topP'], ['seed', 'seed'], ['num_beams', 'numBeams'],
  ['num_beam_groups', 'numBeamGroups'], ['diversity_penalty', 'diversityPenalty'], ['length_penalty', 'lengthPenalty'],
  ['num_return_sequences', 'numReturnSequences'], ['beta', 'beta'], ['arm_positive', 'armPositive'], ['arm_concise', 'armConcise'],
  ['tuned', 'tuned'], ['ref', 'ref'], ['reward_model', 'rewardModel'], ['n', 'n'], ['args_k', 'argsK'], ['args_weight', 'argsWeight'], ['rso_beta', 'rsoBeta'],
];

export const PRESETS: readonly Preset[] = [
  {
    name: 'Positivity steering with GenARM',
    apply(f) {
      Object.assign(f, { strategy: 'genarm', armPositive: 1, armConcise: 0, beta: 0.5, doSample: true, temperature: 1, topK: 0, topP: 1, maxNewTokens: 30 });
    },
  },
  {
    name: 'Diverse beams',
    apply(f) {
      Object.assign(f, { strategy: 'diverse_beam', numBeams: 4, numBeamGroups: 2, diversityPenalty: 2, numReturnSequences: 4, maxNewTokens: 20 });
    },
  },
  {
    name: 'Multi-objective trade-off',
    apply(f) {
      Object.assign(f, { strategy: 'genarm', armPositive: 1, armConcise: 1, beta: 0.5, doSample: true, temperature: 1, topK: 0, topP: 1, maxNewTokens: 30 });
    },
  },
  {
    name: 'Best-of-N vs GenARM',
    apply(f) {
      Object.assign(f, { strategy: 'best_of_n', n: 8, rewardModel: 'tiny-rm-positive', temperature: 1, topK: 50, topP: 1, maxNewTokens: 30 });
    },
  },
];
