import type { LanguageModel } from '../model/types.ts';
import type { AbortSignalLike } from './abort.ts';
import type { DecodeEvent } from './events.ts';
import { ModelSource } from './modelSource.ts';
import { sample } from './sample.ts';

export interface GreedyOptions {
  /** Most tokens to generate. */
  readonly maxNewTokens: number;
  /** How many of the policy's top tokens each step reports. @default 10 */
  readonly topK?: number;
  readonly signal?: AbortSignalLike;
}

/**
 * Greedy decoding of the policy alone: at each step the argmax of the next-token distribution
 * (lowest id on ties), stopping at an EOS token (kept in the output) or after `maxNewTokens`.
 * `score` is the summed log-probability of the chosen tokens.
 */
export function greedy(model: LanguageModel, prompt: readonly number[], opts: GreedyOptions): AsyncGenerator<DecodeEvent> {
  return sample(new ModelSource(model), prompt, { ...opts, chain: [{ type: 'greedy' }] });
}
