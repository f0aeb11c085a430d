/** The generate form: every field a strategy uses, and the GenerateRun it describes. */
import { STRATEGIES, type GenerationConfig, type StrategyName } from '../core/search/strategy.ts';
import type { GenerateRun } from '../inference/protocol.ts';
import { FLAGSHIP } from '../core/lesson/flagship.ts';

/** What a side-by-side run compares the form's strategy with (same prompt, same seeds). */
export type SideBy = '' | 'base' | 'genarm';

export interface Preset {
  readonly name: string;
  /** One sentence, shown once applied: what its first run shows. */
  readonly shows: string;
  /** The fields it sets (the ones listed as changed, and checked to tell whether it is still active). */
  readonly fields: Partial<Record<Field, string | number | boolean>>;
  /** Extra ARMs (beyond the two bundled weights) it sets; replaces the form's. */
  readonly extraArms?: Readonly<Record<string, number>>;
  apply(f: RunForm): void;
}

/** Strategies a side-by-side run applies to (the ones that steer towards a reward). */
export const SIDE_STRATEGIES: readonly StrategyName[] = ['genarm', 'implicit', 'args', 'best_of_n', 'rejection'];

/** One column of a side-by-side run: its label, how it was made, and the run for its first seed. */
export interface Side {
  readonly label: string;
  readonly detail: string;
  readonly run: GenerateRun;
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
  /** Hugging Face repetition_penalty (1 = off); every strategy but ARGS applies it. */
  repetitionPenalty = $state(1);
  seed = $state(0);
  numBeams = $state(4);
  numBeamGroups = $state(2);
  diversityPenalty = $state(1);
  lengthPenalty = $state(1);
  numReturnSequences = $state(1);
  /** Guidance strength (GenARM's β, the KL coefficient): s = ℓ_base + (1/β)·r. URL `guidance_beta`. */
  beta = $state(1);
  /**
   * DPO's β, the scale of the implicit reward β·(ℓ_tuned − ℓ_ref) (implicit guidance only; URL `beta`):
   * the bundled DPO models' training β. Choosing implicit with an untouched guidance β sets that to
   * this value, so s = ℓ_base + ℓ_tuned − ℓ_ref (the CLI's default).
   */
  rewardBeta = $state(0.1);
  armPositive = $state(1);
  armConcise = $state(0);
  tuned = $state('tiny-dpo-positive');
  ref = $state('tiny-base');
  rewardModel = $state('tiny-rm-positive');
  /** A classifier with several labels as the reward: a label, "A-B" or a weighted mix "A=1,B=0.5" ('' = the model's single output). URL `reward_label`. */
  rewardLabel = $state('');
  n = $state(8);
  argsK = $state(10);
  argsWeight = $state(1);
  /** Reward-guided beam search (strategy beam): the sequence reward model ('' = plain beam search), w, k, c. URL `beam_reward_model` etc. */
  beamRewardModel = $state('');
  rewardWeight = $state(1);
  rescoreEvery = $state(1);
  rmCandidates = $state(0);
  rsoBeta = $state(0.5);
  /** ARMs beyond the two bundled ones (any registered causal LM, e.g. a picked folder): id → weight. */
  extraArms = $state<Record<string, number>>({});
  /** Side by side with the base model or with GenARM: `sideSamples` seeds (seed, seed+1, …) per side. */
  sideBy = $state<SideBy>('');
  sideSamples = $state<number>(FLAGSHIP.samples);
  /** The preset applied last ('' for none) and the fields it changed (label: before → after). */
  preset = $state('');
  presetChanges = $state.raw<readonly { field: string; from: string; to: string }[]>([]);

  /** What the policy's generation_config.json set in this form (policy id and field: before → after); null when nothing. */
  modelDefaults = $state.raw<{ readonly policy: string; readonly changes: readonly { field: string; from: string; to: string }[] } | null>(null);

  /**
   * Takes a policy's generation_config.json sampling defaults (do_sample, temperature, top_k, top_p,
   * repetition_penalty, max_new_tokens), as Hugging Face's generate() does, into the fields the user has
   * not changed from the form's own defaults; values the user set stay. Records what changed in
   * `modelDefaults` (the page says "from generation_config.json"). Keys that are not numbers (booleans
   * for do_sample) or are out of range are ignored.
   */
  applyGenerationDefaults(policy: string, file: Readonly<Record<string, unknown>> | null | undefined): void {
    const fresh = new RunForm() as unknown as Record<string, unknown>;
    const me = this as unknown as Record<string, unknown>;
    const changes: { field: string; from: string; to: string }[] = [];
    for (const [key, field, ok] of GENERATION_FILE_KEYS) {
      const v = file?.[key];
      if (v === undefined || !ok(v) || me[field] !== fresh[field] || me[field] === v) continue;
      changes.push({ field: key, from: show(me[field]), to: show(v) });
      me[field] = v;
    }
    this.modelDefaults = changes.length ? { policy, changes } : null;
  }

  /** The applied preset while every field it set still has its value (else the settings are custom). */
  readonly activePreset = $derived(this.presetEdits.length === 0 ? (PRESETS.find((x) => x.name === this.preset) ?? null) : null);

  /** Labels of the fields the user changed since applying the preset (empty when none or no preset). */
  get presetEdits(): string[] {
    const p = PRESETS.find((x) => x.name === this.preset);
    if (!p) return [];
    const me = this as unknown as Record<string, unknown>;
    return Object.entries(p.fields)
      .filter(([k, v]) => me[k] !== v)
      .map(([k]) => FIELD_LABEL[k as Field] ?? k);
  }

  /** Applies a preset: sets its fields and records what changed. */
  applyPreset(name: string): void {
    const p = PRESETS.find((x) => x.name === name);
    if (!p) {
      this.preset = '';
      this.presetChanges = [];
      return;
    }
    const me = this as unknown as Record<string, unknown>;
    const changes = Object.entries(p.fields)
      .filter(([k, v]) => me[k] !== v)
      .map(([k, v]) => ({ field: FIELD_LABEL[k as Field] ?? k, from: show(me[k]), to: show(v) }));
    const extraBefore = JSON.stringify(this.extraArms);
    p.apply(this);
    if (JSON.stringify(this.extraArms) !== extraBefore) changes.push({ field: 'extra ARMs', from: extraBefore, to: JSON.stringify(this.extraArms) });
    this.preset = p.name;
    this.presetChanges = changes;
  }

  /**
   * The columns of a side-by-side run (null when `sideBy` is off): the form's run and the one it is
   * compared with, both for `seed`; the page runs each for seeds seed … seed + sideSamples − 1.
   */
  sides(): Side[] | null {
    if (!this.sideBy || !SIDE_STRATEGIES.includes(this.strategy)) return null;
    const mine = this.toRun();
    const other = new RunForm();
    other.fromParams(this.toParams());
    other.extraArms = { ...this.extraArms };
    if (this.sideBy === 'base') {
      other.strategy = 'sample';
      other.numReturnSequences = 1;
      const base = other.toRun();
      return [
        { label: 'Base', detail: `${this.policy} alone: ${sampling(this)}`, run: base },
        { label: 'Guided', detail: describeGuidance(mine), run: mine },
      ];
    }
    other.strategy = 'genarm';
    other.doSample = true;
    const g = other.toRun();
    return [
      { label: this.strategy === 'best_of_n' ? 'Best-of-N' : 'This strategy', detail: describeGuidance(mine), run: mine },
      { label: 'GenARM', detail: describeGuidance(g), run: g },
    ];
  }

  /** On a strategy change in the form (issue 12 item 7): guided sampling shows GenARM's reference top_k 0, ARGS the paper's τ 0.7; values the user changed stay. */ strategyDefaults(v: string): void { const g = v === 'genarm' || v === 'implicit'; if (g && this.topK === 50) this.topK = 0; else if (!g && this.topK === 0) this.topK = 50; if (v === 'args' && this.temperature === 1) this.temperature = 0.7; else if (v !== 'args' && this.temperature === 0.7) this.temperature = 1; if (v === 'implicit' && this.beta === 1) this.beta = this.rewardBeta; else if (v !== 'implicit' && this.beta === this.rewardBeta && this.beta !== 1) this.beta = 1; }
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
    // A URL from before the two β's were named apart (no guidance_beta): its `beta` was the guidance
    // strength on a reward of scale 1, s = ℓ_base + (1/beta)·(ℓ_tuned − ℓ_ref); read it so that the run
    // decodes exactly as it did.
    if (!params.has('guidance_beta') && params.has('beta')) {
      const old = new URLSearchParams(params);
      old.set('guidance_beta', params.get('beta') as string);
      old.set('beta', '1');
      params = old;
    }
    for (const [key, field] of URL_FIELDS) {
      const raw = params.get(key);
      if (raw === null) continue;
      const current = this[field];
      if (typeof current === 'number') {
        const v = Number(raw);
        if (raw.trim() !== '' && Number.isFinite(v)) (this as unknown as Record<string, number>)[field] = v;
      } else if (typeof current === 'boolean') {
        if (raw === 'true' || raw === 'false') (this as unknown as Record<string, boolean>)[field] = raw === 'true';
      } else if (field === 'sideBy') {
        if (raw === '' || raw === 'base' || raw === 'genarm') this.sideBy = raw;
      } else if (field === 'preset') {
        if (raw === '' || PRESETS.some((p) => p.name === raw)) this.preset = raw;
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
      ...(this.repetitionPenalty !== 1 && s !== 'args' ? { repetition_penalty: this.repetitionPenalty } : {}),
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
        guidanceBeta: this.beta,
        ...(s === 'implicit' ? { beta: this.rewardBeta } : {}),
        armWeights: arms.map(([, w]) => w),
        argsK: this.argsK,
        argsWeight: this.argsWeight,
        n: this.n,
        rsoBeta: this.rsoBeta,
        ...(s === 'beam' && this.beamRewardModel ? { rewardWeight: this.rewardWeight, rescoreEvery: this.rescoreEvery, rmCandidates: this.rmCandidates } : {}),
      },
      arms: arms.map(([id]) => id),
      ...(s === 'implicit' ? { tuned: this.tuned, ref: this.ref } : {}),
      ...(s === 'beam' && this.beamRewardModel ? { rewardModel: this.beamRewardModel, ...(this.rewardLabel ? { rewardLabel: this.rewardLabel } : {}) } : {}),
      ...(s === 'args' || s === 'best_of_n' || s === 'rejection' ? { rewardModel: this.rewardModel, ...(this.rewardLabel ? { rewardLabel: this.rewardLabel } : {}) } : {}),
    };
  }
}

type Field = 'policy' | 'prompt' | 'strategy' | 'maxNewTokens' | 'doSample' | 'temperature' | 'topK' | 'topP' | 'seed' | 'numBeams' | 'numBeamGroups' | 'diversityPenalty' | 'lengthPenalty' | 'numReturnSequences' | 'beta' | 'rewardBeta' | 'armPositive' | 'armConcise' | 'tuned' | 'ref' | 'rewardModel' | 'n' | 'argsK' | 'argsWeight' | 'rsoBeta' | 'sideBy' | 'sideSamples' | 'preset' | 'repetitionPenalty' | 'rewardLabel' | 'beamRewardModel' | 'rewardWeight' | 'rescoreEvery' | 'rmCandidates';

/** URL parameter ↔ form field. */
const URL_FIELDS: readonly (readonly [string, Field])[] = [
  ['policy', 'policy'], ['prompt', 'prompt'], ['strategy', 'strategy'], ['max_new_tokens', 'maxNewTokens'], ['do_sample', 'doSample'],
  ['temperature', 'temperature'], ['top_k', 'topK'], ['top_p', 'topP'], ['seed', 'seed'], ['num_beams', 'numBeams'],
  ['num_beam_groups', 'numBeamGroups'], ['diversity_penalty', 'diversityPenalty'], ['length_penalty', 'lengthPenalty'],
  ['num_return_sequences', 'numReturnSequences'], ['guidance_beta', 'beta'], ['beta', 'rewardBeta'], ['arm_positive', 'armPositive'], ['arm_concise', 'armConcise'],
  ['tuned', 'tuned'], ['ref', 'ref'], ['reward_model', 'rewardModel'], ['n', 'n'], ['args_k', 'argsK'], ['args_weight', 'argsWeight'], ['rso_beta', 'rsoBeta'],
  ['side_by', 'sideBy'], ['side_samples', 'sideSamples'], ['preset', 'preset'], ['repetition_penalty', 'repetitionPenalty'], ['reward_label', 'rewardLabel'],
  ['beam_reward_model', 'beamRewardModel'], ['reward_weight', 'rewardWeight'], ['rescore_every', 'rescoreEvery'], ['rm_candidates', 'rmCandidates'],
];

/** Field labels, as the form shows them (for "which fields a preset changed"). */
/** generation_config.json keys the page takes as defaults → form field, with the range the form accepts. */
const GENERATION_FILE_KEYS: readonly (readonly [string, Field, (v: unknown) => boolean])[] = [
  ['do_sample', 'doSample', (v) => typeof v === 'boolean'],
  ['temperature', 'temperature', (v) => typeof v === 'number' && v > 0 && Number.isFinite(v)],
  ['top_k', 'topK', (v) => Number.isInteger(v) && (v as number) >= 0],
  ['top_p', 'topP', (v) => typeof v === 'number' && v > 0 && v <= 1],
  ['repetition_penalty', 'repetitionPenalty', (v) => typeof v === 'number' && v > 0 && Number.isFinite(v)],
  ['max_new_tokens', 'maxNewTokens', (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 256],
];

const FIELD_LABEL: Partial<Record<Field, string>> = {
  policy: 'policy', prompt: 'prompt', strategy: 'strategy', maxNewTokens: 'max_new_tokens', doSample: 'do_sample', temperature: 'temperature',
  topK: 'top_k', topP: 'top_p', seed: 'seed', numBeams: 'num_beams', numBeamGroups: 'num_beam_groups', diversityPenalty: 'diversity_penalty',
  lengthPenalty: 'length_penalty', numReturnSequences: 'num_return_sequences', beta: 'guidance β', rewardBeta: 'DPO β', armPositive: 'weight: tiny-arm-positive',
  armConcise: 'weight: tiny-arm-concise', rewardModel: 'reward model', n: 'N', sideBy: 'side-by-side comparison', sideSamples: 'samples per side', repetitionPenalty: 'repetition_penalty', rewardLabel: 'reward label',
};

function show(v: unknown): string {
  if (v === '') return 'off';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}

function sampling(f: RunForm): string {
  return `sampling, temperature ${f.temperature}, top_k ${f.topK}${f.topP < 1 ? `, top_p ${f.topP}` : ''}${f.repetitionPenalty !== 1 ? `, repetition_penalty ${f.repetitionPenalty}` : ''}`;
}

/** "GenARM: tiny-arm-positive ×1, β 0.5, sampling" and the like, for a side's caption. */
function describeGuidance(r: GenerateRun): string {
  const s = r.spec;
  const rp = s.config.repetition_penalty !== undefined && s.config.repetition_penalty !== 1 ? `, repetition_penalty ${s.config.repetition_penalty}` : '';
  const sampled = s.config.do_sample ? `sampling (temperature ${s.config.temperature ?? 1}, top_k ${s.config.top_k ?? 50}${rp})` : `greedy${rp ? ` (${rp.slice(2)})` : ''}`;
  switch (s.strategy) {
    case 'genarm':
      return `GenARM: ${(r.arms ?? []).map((a, i) => `${a} ×${s.armWeights?.[i] ?? 1}`).join(' + ')}, guidance β ${s.guidanceBeta ?? 1}, ${sampled}`;
    case 'implicit':
      return `implicit reward ${s.beta ?? 1}·(${r.tuned} − ${r.ref}), guidance β ${s.guidanceBeta ?? s.beta ?? 1}, ${sampled}`;
    case 'best_of_n':
      return `best of ${s.n ?? 8} samples by ${r.rewardModel}`;
    case 'rejection':
      return `rejection sampling of ${s.n ?? 8} samples by ${r.rewardModel}`;
    case 'args':
      return `ARGS with ${r.rewardModel}, k ${s.argsK ?? 10}, w ${s.argsWeight ?? 1}`;
    default:
      return s.strategy;
  }
}

/** The flagship lesson's fields, from core/lesson/flagship.ts (one place for its settings). */
const FLAGSHIP_ARM: string = FLAGSHIP.arm;
function flagshipFields(): Preset['fields'] {
  return {
    policy: FLAGSHIP.policy,
    prompt: FLAGSHIP.prompt,
    strategy: 'genarm',
    armPositive: FLAGSHIP_ARM === 'tiny-arm-positive' ? 1 : 0,
    armConcise: FLAGSHIP_ARM === 'tiny-arm-concise' ? 1 : 0,
    beta: FLAGSHIP.beta,
    doSample: true,
    temperature: FLAGSHIP.temperature,
    topK: FLAGSHIP.top_k,
    topP: FLAGSHIP.top_p,
    repetitionPenalty: FLAGSHIP.repetition_penalty,
    maxNewTokens: FLAGSHIP.max_new_tokens,
    seed: FLAGSHIP.seed,
    sideBy: 'base',
    sideSamples: FLAGSHIP.samples,
  };
}
const FLAGSHIP_EXTRA_ARMS: Record<string, number> = FLAGSHIP_ARM === 'tiny-arm-positive' || FLAGSHIP_ARM === 'tiny-arm-concise' ? {} : { [FLAGSHIP_ARM]: 1 };

function preset(name: string, shows: string, fields: Preset['fields'], extraArms?: Record<string, number>): Preset {
  return {
    name,
    shows,
    fields,
    ...(extraArms ? { extraArms } : {}),
    apply(f) {
      Object.assign(f, fields);
      if (extraArms) f.extraArms = { ...extraArms };
    },
  };
}

export const PRESETS: readonly Preset[] = [
  preset(
    'Positivity steering with GenARM',
    `${FLAGSHIP.samples} samples from the base model beside ${FLAGSHIP.samples} guided by the positivity ARM, same prompt and seeds, each with its oracle positivity: the guided mean should be higher.`,
    flagshipFields(),
    FLAGSHIP_EXTRA_ARMS,
  ),
  preset(
    'Best-of-N vs GenARM',
    'Best-of-8 (8 samples, the reward model picks one) beside GenARM guidance, same prompt and seeds: two ways to get more positive text, at 8× and at 2× the model calls.',
    { strategy: 'best_of_n', n: 8, rewardModel: 'tiny-rm-positive', temperature: 1, topK: 50, topP: 1, repetitionPenalty: FLAGSHIP.repetition_penalty, maxNewTokens: 30, armPositive: 1, armConcise: 0, beta: 0.5, sideBy: 'genarm', sideSamples: FLAGSHIP.samples },
  ),
  preset(
    'Multi-objective trade-off',
    'GenARM with a positive and a concise ARM beside the base: the guided side should be both more positive and shorter (oracle positivity and conciseness per sample); the Trade-offs view sweeps the weights.',
    { strategy: 'genarm', armPositive: 1, armConcise: 1, beta: 0.5, doSample: true, temperature: 1, topK: 0, topP: 1, repetitionPenalty: FLAGSHIP.repetition_penalty, maxNewTokens: 30, sideBy: 'base', sideSamples: FLAGSHIP.samples },
  ),
  preset(
    'Diverse beams',
    'Diverse beam search, 4 beams in 2 groups: the 4 returned beams and the beam tree, where each group pays a penalty for the tokens the earlier group chose.',
    { strategy: 'diverse_beam', numBeams: 4, numBeamGroups: 2, diversityPenalty: 2, numReturnSequences: 4, maxNewTokens: 20, repetitionPenalty: 1, sideBy: '' },
  ),
];
