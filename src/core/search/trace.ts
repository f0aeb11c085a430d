/**
 * Per-row decoding history as immutable linked nodes: extending a row or reordering beams is O(1),
 * and a finished sequence's tokens and traces are read back once.
 */
import type { TopEntry } from '../math/topk.ts';
import { topK } from '../math/topk.ts';
import type { RowStep, TokenTrace } from './events.ts';
import type { RowDistribution } from './source.ts';

export interface TraceNode {
  readonly trace: TokenTrace;
  readonly prev: TraceNode | null;
  readonly length: number;
}

export function extend(prev: TraceNode | null, trace: TokenTrace): TraceNode {
  return { trace, prev, length: (prev?.length ?? 0) + 1 };
}

export function tracesOf(node: TraceNode | null): TokenTrace[] {
  const out: TokenTrace[] = new Array(node?.length ?? 0);
  for (let n = node, i = (node?.length ?? 0) - 1; n; n = n.prev, i--) out[i] = n.trace;
  return out;
}

export function tokensOf(node: TraceNode | null): number[] {
  return tracesOf(node).map((t) => t.tokenId);
}

/** What a chosen token means under a row's distribution. */
export function traceFor(dist: RowDistribution, tokenId: number, kl?: number): TokenTrace {
  const rewards: Record<string, number> = {};
  for (const [k, v] of dist.rewards) rewards[k] = v[tokenId] as number;
  const t = { tokenId, logprob: dist.policyAt(tokenId), combinedLogprob: dist.logprobAt(tokenId), rewards };
  return kl === undefined ? t : { ...t, kl };
}

export function rowStep(
  dist: RowDistribution,
  trace: TokenTrace,
  fields: { row: number; parent: number; group: number; score: number },
  k: number,
  /** The scores after the sampler chain's filters (-Infinity = removed), when it has filters. */
  filtered?: Float32Array,
): RowStep {
  const top: TopEntry[] = k > 0 ? topK(dist.policy, k) : [];
  const topCombined = dist.guided ? (k > 0 ? topK(dist.logprobs, k) : []) : undefined;
  let topRewards: Record<string, TopEntry[]> | undefined;
  if (dist.guided && dist.rewards.size) {
    topRewards = {};
    for (const [key, v] of dist.rewards) topRewards[key] = topK(v, k);
  }
  let cut: number[] | undefined;
  if (filtered) {
    const ids = new Set([...top, ...(topCombined ?? [])].map((e) => e.tokenId));
    cut = [...ids].filter((id) => filtered[id] === -Infinity);
  }
  return {
    ...fields,
    tokenId: trace.tokenId,
    logprob: trace.logprob,
    combinedLogprob: trace.combinedLogprob,
    rewards: trace.rewards,
    top,
    ...(topCombined ? { topCombined } : {}),
    ...(topRewards ? { topRewards } : {}),
    ...(cut ? { cut } : {}),
  };
}
