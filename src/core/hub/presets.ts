/**
 * Hub presets (the Models view, for users who are online): a short, curated list of Hugging Face
 * model combinations, each set up for one strategy, whose token-level models share one tokenizer.
 * Pure data and pure decisions (no DOM, no fetch): the page supplies the device facts.
 *
 * Sizes are APPROXIMATE: the ONNX file sizes shown in each repository's file listing on
 * huggingface.co (read in 2025; `sizeSource` says which listing), plus the tokenizer and config
 * files. The page checks them with HEAD requests (Content-Length) before it downloads anything.
 * None of these downloads was tested from this repository (no network here): the end-to-end test
 * serves same-shaped fixtures under these ids from a local fake hub (test/e2e/hubPresets.test.ts).
 */
import type { StrategyName } from '../search/strategy.ts';

export type PresetRole = 'policy' | 'tuned' | 'ref' | 'reward';
export type PresetDevice = 'wasm' | 'webgpu';

export interface HubPresetModel {
  /** The Hugging Face id (org/name). */
  readonly id: string;
  readonly role: PresetRole;
  readonly kind: 'causal-lm' | 'sequence-classifier';
  /** Parameter count as usually written ("135M"). */
  readonly params: string;
  /** SPDX id of the model's licence (from its model card). */
  readonly license: string;
  /** Tokenizer family: token-level roles (policy, tuned, ref) must all have the same one. */
  readonly tokenizer: string;
  /** Approximate bytes of onnx/model*.onnx per transformers.js dtype (fp32, fp16, q8, q4, q4f16). */
  readonly onnxBytes: Readonly<Partial<Record<string, number>>>;
  /** Approximate bytes of the other files transformers.js reads (tokenizer.json, configs). */
  readonly otherBytes: number;
  /** Where the sizes come from. */
  readonly sizeSource: string;
}

/** One dtype choice of a preset: the dtype each model loads with. */
export interface PresetVariant {
  /** What the select shows ("q8", "fp32", "fp16 policy + q8 classifier"). */
  readonly name: string;
  /** model id → dtype. */
  readonly dtypes: Readonly<Record<string, string>>;
}

/** The run-form fields a preset sets (RunForm's field names), besides the models' roles. */
export interface PresetForm {
  readonly prompt: string;
  readonly maxNewTokens: number;
  readonly doSample?: boolean;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly seed?: number;
  /** Guidance strength (the form's guidance β). */
  readonly beta?: number;
  /** DPO β, the reward scale of implicit guidance. */
  readonly rewardBeta?: number;
  readonly n?: number;
  readonly argsK?: number;
  readonly argsWeight?: number;
  readonly numBeams?: number;
  readonly numBeamGroups?: number;
  readonly diversityPenalty?: number;
  readonly numReturnSequences?: number;
  readonly repetitionPenalty?: number;
  /** A classifier with several labels as the reward: a label or "A-B". */
  readonly rewardLabel?: string;
  readonly sideBy?: '' | 'base' | 'genarm';
  readonly sideSamples?: number;
}

export interface HubPreset {
  readonly key: string;
  readonly name: string;
  /** What it teaches, in one or two sentences. */
  readonly teaches: string;
  /** The strategy it sets up, and the view where it runs. */
  readonly strategy: StrategyName;
  readonly view: 'generate';
  readonly models: readonly HubPresetModel[];
  /** The first variant is the default. */
  readonly variants: readonly PresetVariant[];
  readonly form: PresetForm;
}

const MB = 1e6;
const GB = 1e9;

const LISTING = 'huggingface.co file listing of the repository\'s onnx/ folder';
const smol = (id: string, role: PresetRole, params: string, b: Record<string, number>): HubPresetModel => ({
  id, role, kind: 'causal-lm', params, license: 'Apache-2.0', tokenizer: 'smollm (49,152 tokens)', onnxBytes: b, otherBytes: 2.2 * MB, sizeSource: LISTING,
});
const SMOL_135 = { fp32: 539 * MB, fp16: 270 * MB, q8: 136 * MB, q4: 181 * MB };
const SMOL_360 = { fp32: 1.45 * GB, fp16: 725 * MB, q8: 363 * MB, q4: 387 * MB };

const QWEN_05 = { fp16: 997 * MB, q8: 512 * MB, q4: 786 * MB, q4f16: 483 * MB };
const QWEN_15 = { q8: 1.58 * GB, q4: 1.79 * GB, q4f16: 1.22 * GB };
const qwen = (id: string, role: PresetRole, params: string, b: Record<string, number>, src: string): HubPresetModel => ({
  id, role, kind: 'causal-lm', params, license: 'Apache-2.0', tokenizer: 'qwen2.5 (151,643 tokens + specials)', onnxBytes: b, otherBytes: 7.1 * MB, sizeSource: src,
});

const GPT2: HubPresetModel = {
  id: 'Xenova/gpt2', role: 'policy', kind: 'causal-lm', params: '124M', license: 'MIT', tokenizer: 'gpt2 (50,257 tokens)',
  onnxBytes: { fp32: 501 * MB, fp16: 251 * MB }, otherBytes: 1.4 * MB, sizeSource: LISTING,
};
const SST2: HubPresetModel = {
  id: 'Xenova/distilbert-base-uncased-finetuned-sst-2-english', role: 'reward', kind: 'sequence-classifier', params: '67M', license: 'Apache-2.0',
  tokenizer: 'bert-base-uncased WordPiece (30,522 tokens)', onnxBytes: { fp32: 268 * MB, fp16: 134 * MB, q8: 67.6 * MB }, otherBytes: 0.7 * MB, sizeSource: LISTING,
};

/** The chat turn the instruct models were tuned on (SmolLM and Qwen2.5 both use ChatML). */
const chat = (q: string) => `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n`;

export const HUB_PRESETS: readonly HubPreset[] = [
  {
    key: 'smollm-eft',
    name: 'Weak-to-strong: SmolLM 135M-Instruct − 135M guiding 360M',
    teaches:
      'Emulated fine-tuning (EFT): the small tuned model minus its own base is a log-ratio "what instruction tuning adds"; added to the larger base model, s = ℓ_360M + ℓ_135M-Instruct − ℓ_135M, it makes the untuned 360M answer like an assistant. Side by side with the 360M base alone.',
    strategy: 'implicit',
    view: 'generate',
    models: [
      smol('HuggingFaceTB/SmolLM-360M', 'policy', '362M', SMOL_360),
      smol('HuggingFaceTB/SmolLM-135M-Instruct', 'tuned', '135M', SMOL_135),
      smol('HuggingFaceTB/SmolLM-135M', 'ref', '135M', SMOL_135),
    ],
    variants: [
      { name: 'q8', dtypes: { 'HuggingFaceTB/SmolLM-360M': 'q8', 'HuggingFaceTB/SmolLM-135M-Instruct': 'q8', 'HuggingFaceTB/SmolLM-135M': 'q8' } },
      { name: 'q4', dtypes: { 'HuggingFaceTB/SmolLM-360M': 'q4', 'HuggingFaceTB/SmolLM-135M-Instruct': 'q4', 'HuggingFaceTB/SmolLM-135M': 'q4' } },
      { name: 'fp16', dtypes: { 'HuggingFaceTB/SmolLM-360M': 'fp16', 'HuggingFaceTB/SmolLM-135M-Instruct': 'fp16', 'HuggingFaceTB/SmolLM-135M': 'fp16' } },
      { name: 'fp32', dtypes: { 'HuggingFaceTB/SmolLM-360M': 'fp32', 'HuggingFaceTB/SmolLM-135M-Instruct': 'fp32', 'HuggingFaceTB/SmolLM-135M': 'fp32' } },
    ],
    form: { prompt: chat('Give me three tips for a good night of sleep.'), maxNewTokens: 48, doSample: true, temperature: 0.7, topK: 0, topP: 1, seed: 0, beta: 1, rewardBeta: 1, sideBy: 'base', sideSamples: 2 },
  },
  {
    key: 'qwen-eft',
    name: 'Weak-to-strong: Qwen2.5 0.5B-Instruct − 0.5B guiding 1.5B',
    teaches:
      'The same emulated fine-tuning one size up: Qwen2.5-0.5B-Instruct minus Qwen2.5-0.5B steers the 1.5B base model, s = ℓ_1.5B + ℓ_0.5B-Instruct − ℓ_0.5B. A 2–3 GB download: WebGPU recommended.',
    strategy: 'implicit',
    view: 'generate',
    models: [
      qwen('onnx-community/Qwen2.5-1.5B', 'policy', '1.54B', QWEN_15, 'assumed equal to onnx-community/Qwen2.5-1.5B-Instruct\'s onnx/ listing (same architecture; the base repository\'s listing was not seen)'),
      qwen('onnx-community/Qwen2.5-0.5B-Instruct', 'tuned', '494M', QWEN_05, LISTING),
      qwen('onnx-community/Qwen2.5-0.5B', 'ref', '494M', QWEN_05, 'assumed equal to onnx-community/Qwen2.5-0.5B-Instruct\'s onnx/ listing (same architecture; the base repository\'s listing was not seen)'),
    ],
    variants: [
      { name: 'q4f16', dtypes: { 'onnx-community/Qwen2.5-1.5B': 'q4f16', 'onnx-community/Qwen2.5-0.5B-Instruct': 'q4f16', 'onnx-community/Qwen2.5-0.5B': 'q4f16' } },
      { name: 'q8', dtypes: { 'onnx-community/Qwen2.5-1.5B': 'q8', 'onnx-community/Qwen2.5-0.5B-Instruct': 'q8', 'onnx-community/Qwen2.5-0.5B': 'q8' } },
      { name: 'q4', dtypes: { 'onnx-community/Qwen2.5-1.5B': 'q4', 'onnx-community/Qwen2.5-0.5B-Instruct': 'q4', 'onnx-community/Qwen2.5-0.5B': 'q4' } },
    ],
    form: { prompt: chat('Explain in two sentences why the sky is blue.'), maxNewTokens: 48, doSample: true, temperature: 0.7, topK: 0, topP: 1, seed: 0, beta: 1, rewardBeta: 1, sideBy: 'base', sideSamples: 2 },
  },
  {
    key: 'gpt2-sst2-bon',
    name: 'Best-of-N: GPT-2 ranked by a sentiment classifier',
    teaches:
      'Best-of-N with a reward model that has its own tokenizer: GPT-2 draws 8 continuations, DistilBERT-SST-2 scores each (re-tokenized as BERT text) by its POSITIVE − NEGATIVE logit, and the best is returned. The list shows all 8 ranked, with each reward.',
    strategy: 'best_of_n',
    view: 'generate',
    models: [GPT2, SST2],
    variants: [
      { name: 'fp32 policy + q8 classifier', dtypes: { [GPT2.id]: 'fp32', [SST2.id]: 'q8' } },
      { name: 'fp16', dtypes: { [GPT2.id]: 'fp16', [SST2.id]: 'fp16' } },
      { name: 'fp32', dtypes: { [GPT2.id]: 'fp32', [SST2.id]: 'fp32' } },
    ],
    form: { prompt: 'The movie was', maxNewTokens: 24, doSample: true, temperature: 1, topK: 50, topP: 1, seed: 0, n: 8, rewardLabel: 'POSITIVE-NEGATIVE', sideBy: '' },
  },
  {
    key: 'gpt2-sst2-args',
    name: 'ARGS: GPT-2 steered token by token by a sentiment classifier',
    teaches:
      'Reward-guided search (ARGS): at every step the top 10 next tokens of GPT-2 are each scored by the sentiment classifier on the text so far, and the token with the best log-prob + w·reward is kept. Same two models as the best-of-N preset (downloaded once).',
    strategy: 'args',
    view: 'generate',
    models: [GPT2, SST2],
    variants: [
      { name: 'fp32 policy + q8 classifier', dtypes: { [GPT2.id]: 'fp32', [SST2.id]: 'q8' } },
      { name: 'fp16', dtypes: { [GPT2.id]: 'fp16', [SST2.id]: 'fp16' } },
      { name: 'fp32', dtypes: { [GPT2.id]: 'fp32', [SST2.id]: 'fp32' } },
    ],
    form: { prompt: 'The movie was', maxNewTokens: 20, doSample: false, argsK: 10, argsWeight: 1, rewardLabel: 'POSITIVE-NEGATIVE', sideBy: '' },
  },
  {
    key: 'gpt2-diverse-beam',
    name: 'Diverse beam search on GPT-2',
    teaches:
      'Why plain beam search returns near-copies on a real model, and how diverse beam search (4 beams in 2 groups, a penalty for repeating the other group\'s tokens) spreads them: read the beam tree.',
    strategy: 'diverse_beam',
    view: 'generate',
    models: [GPT2],
    variants: [
      { name: 'fp16', dtypes: { [GPT2.id]: 'fp16' } },
      { name: 'fp32', dtypes: { [GPT2.id]: 'fp32' } },
    ],
    form: { prompt: 'The best way to learn a language is', maxNewTokens: 16, numBeams: 4, numBeamGroups: 2, diversityPenalty: 1, numReturnSequences: 4, sideBy: '' },
  },
];

/** Approximate total download of a preset's variant, in bytes (every model's ONNX file and other files). */
export function variantBytes(preset: HubPreset, variant: PresetVariant): number {
  return preset.models.reduce((s, m) => s + (m.onnxBytes[variant.dtypes[m.id] ?? ''] ?? Number.NaN) + m.otherBytes, 0);
}

/** The largest single ONNX file of a variant (protobuf caps one ONNX file at 2 GB). */
export function largestFile(preset: HubPreset, variant: PresetVariant): number {
  return Math.max(...preset.models.map((m) => m.onnxBytes[variant.dtypes[m.id] ?? ''] ?? Number.NaN));
}

/** "635 MB", "2.5 GB" (decimal, as download sizes are given). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

/** dtypes whose weights or activations are float16 (WebGPU needs the `shader-f16` feature). */
export const FP16_DTYPES: readonly string[] = ['fp16', 'q4f16'];

/**
 * What the WebAssembly backend can hold: onnxruntime-web's wasm32 heap is at most 4 GiB per page,
 * shared by every loaded model's weights, the KV caches and the runtime; we leave ~1 GB for those.
 */
export const WASM_WEIGHT_BUDGET = 3e9;
/** protobuf's limit for one ONNX file without external data. */
export const ONNX_FILE_LIMIT = 2 ** 31 - 1;

export interface FitInput {
  /** Total bytes of the weights (and other files) to download. */
  readonly sizeBytes: number;
  /** The largest single ONNX file. */
  readonly largestFileBytes?: number;
  /** The dtypes that would load. */
  readonly dtypes: readonly string[];
  /** The inference worker's device; null while unknown. */
  readonly device: PresetDevice | null;
  /** navigator.deviceMemory (GB, rounded down and capped at 8 by browsers); null where not exposed. */
  readonly deviceMemoryGb: number | null;
  /** Whether the WebGPU adapter offers `shader-f16`; null while unknown. */
  readonly hasShaderF16: boolean | null;
}

export type Fit = { readonly ok: true; readonly note: string } | { readonly ok: false; readonly message: string };

/**
 * Whether this device can load a preset's variant, and if not, why, in one message that says what
 * to choose instead. Rules: float16 dtypes on WebGPU need `shader-f16`; WASM holds at most
 * WASM_WEIGHT_BUDGET bytes of weights; one ONNX file must stay under 2 GB; a device that reports
 * less than 8 GB of memory (navigator.deviceMemory) must have twice the weights' size.
 */
export function presetFit(x: FitInput): Fit {
  const size = formatBytes(x.sizeBytes);
  const f16 = x.dtypes.filter((d) => FP16_DTYPES.includes(d));
  if (x.device === 'webgpu' && f16.length && x.hasShaderF16 === false) {
    return {
      ok: false,
      message: `This choice uses ${[...new Set(f16)].join(' and ')} weights, which WebGPU can run only where the GPU offers the shader-f16 feature, and this one does not: pick q8, q4 or fp32, or switch the device to WASM above (it runs fp16 on the CPU, more slowly).`,
    };
  }
  if ((x.largestFileBytes ?? 0) > ONNX_FILE_LIMIT) {
    return { ok: false, message: `One ONNX file of this choice is ${formatBytes(x.largestFileBytes ?? 0)}, more than the 2 GB an ONNX file can hold without external data: pick a smaller dtype.` };
  }
  if (x.device === 'wasm' && x.sizeBytes > WASM_WEIGHT_BUDGET) {
    return {
      ok: false,
      message: `This choice needs ≈ ${size} of weights in WebAssembly memory, which is limited to 4 GB per page and shared with the KV cache and ONNX Runtime (at most ${formatBytes(WASM_WEIGHT_BUDGET)} of weights here): pick a smaller dtype, or use WebGPU where this device has one.`,
    };
  }
  if (x.deviceMemoryGb !== null && x.deviceMemoryGb < 8 && x.sizeBytes > (x.deviceMemoryGb * GB) / 2) {
    return {
      ok: false,
      message: `This device reports about ${x.deviceMemoryGb} GB of memory (navigator.deviceMemory) and this choice needs ≈ ${size} for its weights alone, more than half of it: pick a smaller dtype or a smaller preset.`,
    };
  }
  const where = x.device === 'webgpu' ? 'WebGPU' : x.device === 'wasm' ? 'WASM' : 'this device';
  const mem = x.deviceMemoryGb === null ? '; this browser does not say how much memory the device has' : '';
  return { ok: true, note: `≈ ${size} fits ${where}${mem}.` };
}

/** presetFit for one of a preset's variants, naming the variants that would fit when it does not. */
export function variantFit(preset: HubPreset, variant: PresetVariant, env: Omit<FitInput, 'sizeBytes' | 'dtypes' | 'largestFileBytes'>, sizeBytes = variantBytes(preset, variant)): Fit {
  const fit = (v: PresetVariant, size: number) => presetFit({ ...env, sizeBytes: size, largestFileBytes: largestFile(preset, v), dtypes: preset.models.map((m) => v.dtypes[m.id] ?? '') });
  const f = fit(variant, sizeBytes);
  if (f.ok) return f;
  const others = preset.variants.filter((v) => v !== variant && fit(v, variantBytes(preset, v)).ok);
  const hint = others.length ? ` Choices of this preset that fit: ${others.map((v) => `${v.name} (≈ ${formatBytes(variantBytes(preset, v))})`).join(', ')}.` : '';
  return { ok: false, message: f.message + hint };
}

/** The files transformers.js reads for a model of a preset (relative to the repository), for HEAD checks. */
export function presetFiles(model: HubPresetModel, dtype: string): string[] {
  const onnx = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx', q4f16: 'model_q4f16.onnx' }[dtype] ?? `model_${dtype}.onnx`;
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', ...(model.kind === 'causal-lm' ? ['generation_config.json'] : []), `onnx/${onnx}`];
}
