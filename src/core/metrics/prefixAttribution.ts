/**
 * Token attribution for a sequence reward model (issue 14 item 2): the reward of each prefix of the
 * response minus the previous prefix's, a_t = RM(x ⊕ y≤t) − RM(x ⊕ y<t). The values telescope:
 * Σ_t a_t = RM(x ⊕ y) − RM(x), exactly (differences of float32 scores are exact in float64, and so is
 * every partial sum, which is itself such a difference). Prefixes are scored in batches of at most
 * `batchSize` (one RM call per batch), each cut from the left to the model's context as best-of-N cuts.
 */
import type { SequenceRewardModel } from '../model/types.ts';

export interface PrefixAttribution {
  /** a_t for each response token, aligned with the response ids. */
  readonly values: number[];
  /** RM(x ⊕ y≤t) for t = 0..n (index 0: the prompt alone). */
  readonly prefixRewards: number[];
}

/** Rows per RM call when none is given: bounds the batch's memory (rows × context tokens). @default 16 */
export const DEFAULT_PREFIX_BATCH = 16;

export async function prefixAttribution(
  rm: SequenceRewardModel,
  prompt: readonly number[],
  response: readonly number[],
  opts: { readonly batchSize?: number; readonly signal?: { readonly aborted: boolean } } = {},
): Promise<PrefixAttribution> {
  const size = opts.batchSize ?? DEFAULT_PREFIX_BATCH;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batchSize must be an integer >= 1 (got ${size})`);
  const prefixes = Array.from({ length: response.length + 1 }, (_, t) => [...prompt, ...response.slice(0, t)].slice(-rm.contextLength));
  const prefixRewards: number[] = [];
  for (let i = 0; i < prefixes.length; i += size) {
    if (opts.signal?.aborted) throw new Error('prefix attribution was cancelled');
    prefixRewards.push(...(await rm.score(prefixes.slice(i, i + size))));
  }
  const values = response.map((_, t) => (prefixRewards[t + 1] as number) - (prefixRewards[t] as number));
  return { values, prefixRewards };
}
