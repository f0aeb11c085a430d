/**
 * Messages between the page and the inference worker. Every request carries an id; every response
 * names the request it answers. Errors cross as { name, message } (never as thrown objects).
 */
import type { DecodeEvent } from '../core/search/events.ts';
import type { StrategySpec } from '../core/search/strategy.ts';

export type DeviceChoice = 'auto' | 'wasm' | 'webgpu';
export type Device = 'wasm' | 'webgpu';

export interface ModelInfo {
  readonly id: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
}

export type Request =
  | { readonly id: number; readonly type: 'init'; readonly device: DeviceChoice }
  | { readonly id: number; readonly type: 'load'; readonly modelId: string }
  | {
      readonly id: number;
      readonly type: 'generate';
      readonly run: GenerateRun;
    }
  | { readonly id: number; readonly type: 'cancel'; readonly target: number }
  | { readonly id: number; readonly type: 'rank'; readonly job: RankJob }
  | {
      readonly id: number;
      readonly type: 'probe';
      readonly modelId: string;
      readonly prompts: readonly string[];
      readonly greedyTokens: number;
    };

/** Where a preference dataset comes from: a bundled file (path under <base>models/) or a file the user picked. */
export type DatasetSource = { readonly kind: 'bundled'; readonly path: string } | { readonly kind: 'file'; readonly file: Blob; readonly name: string };

/** A ranking-accuracy evaluation (the browser's `decoding-lab rank`). */
export interface RankJob {
  readonly dataset: DatasetSource;
  readonly scorer: 'policy' | 'implicit' | 'arm' | 'sequence';
  readonly policy?: string;
  readonly tuned?: string;
  readonly ref?: string;
  readonly arm?: string;
  readonly rewardModel?: string;
  readonly beta: number;
  readonly lengthNormalize: boolean;
  readonly limit?: number;
  /** α for R* when the data has none. */
  readonly defaultAlpha?: number;
}

/** Progress of a rank job, streamed as events. */
export interface RankProgress {
  readonly phase: 'reading' | 'scoring';
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
  | { readonly id: number; readonly type: 'loaded'; readonly model: ModelInfo; readonly ms: number }
  | { readonly id: number; readonly type: 'event'; readonly data: TokenEvent }
  | { readonly id: number; readonly type: 'progress'; readonly data: RankProgress }
  | { readonly id: number; readonly type: 'result'; readonly value: unknown }
  | { readonly id: number; readonly type: 'error'; readonly error: { readonly name: string; readonly message: string } };

export function toWireError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
