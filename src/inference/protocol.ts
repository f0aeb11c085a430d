/**
 * Messages between the page and the inference worker. Every request carries an id; every response
 * names the request it answers. Errors cross as { name, message } (never as thrown objects).
 */
import type { DecodeEvent } from '../core/search/events.ts';
import type { StrategySpec } from '../core/search/strategy.ts';
import type { CandidateMethod, CandidateOptions } from '../core/search/candidates.ts';
import type { PreferencePair } from '../core/data/preferences.ts';
import type { PairScore, PartialScores } from '../core/metrics/scorePairs.ts';

export type DeviceChoice = 'auto' | 'wasm' | 'webgpu';
export type Device = 'wasm' | 'webgpu';

export interface ModelInfo {
  readonly id: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  /** The causal LM's generation_config.json as the folder has it (absent when it has none): the page's sampling defaults. */
  readonly generationDefaults?: Readonly<Record<string, unknown>>;
  /** A sequence reward model's heads in output order (config.json id2label), when it has several: the names a reward label uses. */
  readonly labels?: readonly string[];
}

export type Request =
  | { readonly id: number; readonly type: 'init'; readonly device: DeviceChoice }
  | {
      readonly id: number;
      readonly type: 'load';
      readonly modelId: string;
      /** Load as a causal LM (default) or as a sequence reward model. */
      readonly as?: 'lm' | 'rm';
      /** transformers.js dtype for this load (default: the one registered, else fp32). */
      readonly dtype?: string;
    }
  | { readonly id: number; readonly type: 'register'; readonly source: ModelSource }
  | {
      readonly id: number;
      readonly type: 'generate';
      readonly run: GenerateRun;
    }
  /** k candidates for one prompt with their set diversity (core/search/candidates.ts); answers a CandidateSet. */
  | { readonly id: number; readonly type: 'candidates'; readonly run: CandidatesRun }
  | { readonly id: number; readonly type: 'cancel'; readonly target: number }
  | { readonly id: number; readonly type: 'rank'; readonly job: RankJob }
  /** Per-token scores of one pair with a rank job's models (the ranking view's reward strips). */
  | { readonly id: number; readonly type: 'score-pair'; readonly job: RankJob; readonly pair: PreferencePair }
  /** Per-token attribution of one generated sequence under a sequence reward model; answers a TokenAttribution. */
  | { readonly id: number; readonly type: 'attribute'; readonly run: AttributeRun }
  | {
      readonly id: number;
      readonly type: 'probe';
      readonly modelId: string;
      readonly prompts: readonly string[];
      readonly greedyTokens: number;
    }
  /** Fault simulation and resource counts (tests, the console): see DebugAction. */
  | { readonly id: number; readonly type: 'debug'; readonly action: DebugAction }
  /** The benchmark suite (src/bench/suite.ts) on this worker's device; answers a BenchResult. */
  | { readonly id: number; readonly type: 'bench'; readonly options: BenchOptions };

/** What the browser bench runs (src/bench/browser.ts sends it through `decodingLab.client.bench`). */
export interface BenchOptions {
  /** Measured rounds after one warm-up. @default 5 */
  readonly reps?: number;
  /** New tokens per decoding run. @default 64 */
  readonly tokens?: number;
  /** Pairs of the bundled positivity split for the ranking jobs (0: no ranking jobs). @default 64 */
  readonly rankingPairs?: number;
}

/** The suite's answer: medians, ratios and every sample (src/bench/suite.ts SuiteResult). */
export interface BenchResult {
  readonly device: Device;
  readonly ratios: Record<string, number>;
  readonly runs: readonly { readonly name: string; readonly unit: string; readonly median: number; readonly samples: number[] }[];
  readonly reps: number;
  readonly tokens: number;
}

/**
 * 'lose-device': destroys ORT's WebGPU device, as a driver reset would (the handler then switches to
 * WASM). 'resources': what the backend adapter holds now (DebugResources).
 */
export type DebugAction = 'lose-device' | 'resources';

/** Live resources of the backend adapter (leak tests): undisposed KV caches and the GPU buffers in them. */
export interface DebugResources {
  readonly caches: number;
  readonly gpuBuffers: number;
}

/**
 * A model the user adds in the Models view (src/inference/sources.ts): a picked folder, whose Files
 * are handed to the worker and never uploaded, or a Hugging Face id, fetched from `host` only then.
 */
export type ModelSource =
  | {
      readonly kind: 'folder';
      /** The picked folder's name; the model gets the id `local/<name>`. */
      readonly name: string;
      /** path: the File's webkitRelativePath ("<folder>/onnx/model.onnx"). */
      readonly files: readonly { readonly path: string; readonly file: Blob }[];
      readonly dtype: string;
    }
  | { readonly kind: 'hub'; readonly repo: string; readonly revision: string; readonly host: string; readonly dtype: string };

export type ModelKind = 'causal-lm' | 'sequence-classifier';

/** What `register` answers: the id to use in runs and what config.json says about the model. */
export interface RegisteredModel {
  readonly id: string;
  readonly origin: 'local' | 'hub';
  readonly kind: ModelKind;
  readonly modelType: string | null;
  readonly vocabSize: number | null;
  /** Files of a local folder (paths inside it); empty for a Hub id until downloaded. */
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
  /** The dtypes whose ONNX file the folder has (for a Hub id: the one asked for). */
  readonly dtypes: readonly string[];
  readonly dtype: string;
}

/** Bytes read so far of one file of a model being loaded (streamed as `download` responses). */
export interface DownloadProgress {
  readonly modelId: string;
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
}

/** Where a preference dataset comes from: a bundled file (path under <base>models/) or a file the user picked. */
export type DatasetSource =
  | { readonly kind: 'bundled'; readonly path: string }
  | { readonly kind: 'file'; readonly file: Blob; readonly name: string }
  /** A JSONL/JSON file at a URL, fetched and streamed in the worker (.gz is gunzipped). */
  | { readonly kind: 'url'; readonly url: string }
  /** A Hugging Face dataset split through the datasets-server rows API; `server` overrides its base URL. */
  | { readonly kind: 'hf'; readonly dataset: string; readonly config: string; readonly split: string; readonly server?: string };

/** A ranking-accuracy evaluation (the browser's `decoding-lab rank`). */
export interface RankJob {
  readonly dataset: DatasetSource;
  readonly scorer: 'policy' | 'implicit' | 'arm' | 'sequence';
  readonly policy?: string;
  readonly tuned?: string;
  readonly ref?: string;
  readonly arm?: string;
  readonly rewardModel?: string;
  /** A classifier with several labels as the reward: a label (name or index) or "A-B" (the CLI's --reward-label). */
  readonly rewardLabel?: string;
  /** DPO's β: the implicit reward is β·(log π_tuned − log π_ref); also R*'s β. */
  readonly beta: number;
  /** Where β came from (the tuned model's training β, the user, the default 1), shown with the result. */
  readonly betaSource?: string;
  readonly lengthNormalize: boolean;
  readonly limit?: number;
  /** α for R* when the data has none. */
  readonly defaultAlpha?: number;
  /** Prepend the tokenizer's BOS where it adds one. @default true */
  readonly addBos?: boolean;
  /** Append EOS to finished responses. @default true for token-level scorers */
  readonly appendEos?: boolean;
  /** Bins of the ECE and the reliability diagram (5, 10 or 20). @default 10 */
  readonly eceBins?: number;
  /** The ARM's training β_r (manifest), the scale of its ECE. */
  readonly armBeta?: number;
  /** Render prompt and responses through the scorer's tokenizer's chat template (core/data/chatTemplate.ts). */
  readonly chatTemplate?: boolean;
  /** Continue a run that stopped (reload, cancel): the pairs already scored are not scored again. */
  readonly resume?: RankResume;
}

/** Progress of a rank job, streamed as events. */
/** Saved part of a rank run: the first `consumed` pairs of the dataset (after the limit) are done. */
export interface RankResume {
  readonly consumed: number;
  readonly pairs: readonly PairScore[];
  readonly skipped: readonly { id: string; reason: string }[];
}

export interface RankProgress {
  readonly phase: 'reading' | 'scoring';
  /** A window of pairs just completed (its scores, for saving a resumable partial result). */
  readonly partial?: PartialScores;
  readonly done: number;
  readonly total: number;
}

/** Everything one generation needs: which models play which role, the strategy, the prompt. */
export interface GenerateRun {
  readonly policy: string;
  readonly prompt: string;
  readonly spec: StrategySpec;
  /** ARM ids, weights in spec.armWeights. */
  readonly arms?: readonly string[];
  readonly tuned?: string;
  readonly ref?: string;
  readonly rewardModel?: string;
  /** A classifier with several labels as the reward: a label (name or index) or "A-B" (the CLI's --reward-label). */
  readonly rewardLabel?: string;
  /** Prepend the BOS the policy's tokenizer adds (HF add_special_tokens). @default true */
  readonly addBos?: boolean;
}

/** A candidate set for one prompt (the `candidates` request; the CLI's `decoding-lab candidates`). */
export interface CandidatesRun {
  readonly policy: string;
  readonly prompt: string;
  readonly method: CandidateMethod;
  readonly k: number;
  /** @default 0 */
  readonly seed?: number;
  /** generation_config names (max_new_tokens, temperature, top_k, …), nc_sample's ncPenalty and ncNgram. */
  readonly options?: CandidateOptions;
  /** Prepend the BOS the policy's tokenizer adds. @default true */
  readonly addBos?: boolean;
}

/**
 * Token attribution of one generated sequence (the `attribute` request): a_t = RM(x ⊕ y≤t) − RM(x ⊕ y<t)
 * for each response token (core/metrics/prefixAttribution.ts), prefixes scored in batches of
 * `batchSize` rows, each cut from the left to the reward model's context.
 */
export interface AttributeRun {
  /** The policy whose tokenizer made the ids. A reward model with another tokenizer reads each prefix re-tokenized through text. */
  readonly policy: string;
  /** The prompt's token ids; when absent, `prompt` is encoded as the generate request encodes it. */
  readonly promptIds?: readonly number[];
  /** The prompt text of the run (used when `promptIds` is absent). */
  readonly prompt?: string;
  /** With `prompt`: prepend the BOS the policy's tokenizer adds. @default true */
  readonly addBos?: boolean;
  /** The generated tokens (SequenceResult.tokenIds). */
  readonly responseIds: readonly number[];
  readonly rewardModel: string;
  /** A classifier with several labels: a label, "A-B", or a weighted mix "positivity=1,conciseness=0.5" (the CLI's --reward-label). */
  readonly rewardLabel?: string;
  /** Prefixes per reward-model call (memory: rows × context tokens). @default 16 (DEFAULT_PREFIX_BATCH) */
  readonly batchSize?: number;
}

/** What `attribute` answers. */
export interface TokenAttribution {
  readonly rewardModel: string;
  /** The label or mix the reward was read with (as resolved, e.g. "positivity=1,conciseness=0.5"); absent for a one-output model. */
  readonly rewardLabel?: string;
  /** a_t for each response token; they add up to `total`. */
  readonly values: number[];
  /** RM(x ⊕ y≤t) for t = 0..n (index 0: the prompt alone). */
  readonly prefixRewards: number[];
  /** RM(prompt ⊕ response) − RM(prompt). */
  readonly total: number;
  /** The policy's text of each response token. */
  readonly texts: string[];
  /** The reward model's tokenizer is not the policy's: each prefix was decoded to text and encoded with the reward model's. */
  readonly retokenized: boolean;
  /** Prompt + response is longer than the reward model's context: the longer prefixes were cut from the left. */
  readonly truncated: boolean;
}

/** A decode event plus the text of each chosen token (decoded in the worker). */
export interface TokenEvent {
  readonly event: DecodeEvent;
  readonly texts: readonly string[];
  /** Text of every token id in the step's top-k lists (for the step inspector). */
  readonly topTexts?: Readonly<Record<number, string>>;
}

/** What `probe` measures: greedy ids, and logits after a cache row selection (top-5 per row). */
export interface ProbeResult {
  readonly greedy: readonly number[];
  readonly selectRows: readonly number[];
  readonly selectTop: readonly { tokenId: number; value: number }[][];
  /** GPU buffers the selected cache held (0 on WASM; > 0 when the gather ran on the GPU). */
  readonly cacheGpuBuffers: number;
}

export type Response =
  | { readonly id: number; readonly type: 'ready'; readonly device: Device; readonly reason: string; readonly threads: number; readonly crossOriginIsolated: boolean }
  | {
      readonly id: number;
      readonly type: 'loaded';
      readonly model: ModelInfo;
      readonly ms: number;
      /** Set when the model did not fit on WebGPU and was loaded on WASM instead (show it). */
      readonly notice?: string;
    }
  /**
   * The device changed without an init (the WebGPU device was lost: the handler moved to WASM). Sent
   * with id 0 when no request caused it; the page updates its device line and shows `notice`.
   */
  | {
      readonly id: number;
      readonly type: 'device';
      readonly device: Device;
      readonly reason: string;
      readonly notice?: string;
      /**
       * The worker's runtime cannot be trusted after the loss (onnxruntime-web's wasm instance is
       * shared with its WebGPU provider): the page replaces the worker, on WASM, and reloads models.
       */
      readonly restart?: boolean;
    }
  /** Something the user should know that is not an error (e.g. a model fell back to WASM). */
  | { readonly id: number; readonly type: 'notice'; readonly message: string }
  | { readonly id: number; readonly type: 'event'; readonly data: TokenEvent }
  | { readonly id: number; readonly type: 'progress'; readonly data: RankProgress }
  | { readonly id: number; readonly type: 'download'; readonly data: DownloadProgress }
  | { readonly id: number; readonly type: 'result'; readonly value: unknown }
  | { readonly id: number; readonly type: 'error'; readonly error: { readonly name: string; readonly message: string } };

export function toWireError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
