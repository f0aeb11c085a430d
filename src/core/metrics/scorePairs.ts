/**
 * Scores preference pairs with a policy, a tuned/reference pair, an ARM or a sequence reward model
 * (DESIGN §4 `rank`): prompt and response are tokenized separately with no special tokens and the
 * ids concatenated; a response's score uses only its own tokens. When prompt + response exceed the
 * context, the prompt is cut from the left so the longer response fits (counted as truncated); a
 * pair whose longer response leaves no room for a prompt token is skipped. An empty response scores
 * 0 (an empty sum; also its mean under length normalisation). Pairs are batched: both
 * responses of every pair in a batch run as one padded batch per model.
 */
import type { LanguageModel, SequenceRewardModel, Tokenizer } from '../model/types.ts';
import type { PreferencePair } from '../data/preferences.ts';
import type { AbortSignalLike } from '../search/abort.ts';

export type ScorerKind = 'policy' | 'implicit' | 'arm' | 'sequence';
export const SCORERS: readonly ScorerKind[] = ['policy', 'implicit', 'arm', 'sequence'];

export interface ScorerModels {
  readonly policy?: LanguageModel;
  readonly tuned?: LanguageModel;
  readonly ref?: LanguageModel;
  readonly arm?: LanguageModel;
  readonly rewardModel?: SequenceRewardModel;
}

export interface ScoreOptions {
  /** Mean instead of summed log-prob (policy and arm scorers; Chen's R̃). */
  readonly lengthNormalize?: boolean;
  /** β of the implicit reward β·(log π_tuned − log π_ref). @default 1 */
  readonly beta?: number;
  /** Pairs per batch. @default 8 */
  readonly batchSize?: number;
  readonly signal?: AbortSignalLike;
  onProgress?(done: number, total: number): void;
}

export interface PairScore {
  readonly id: string;
  readonly chosen: number;
  readonly rejected: number;
  readonly margin: number;
  readonly truncated: boolean;
  readonly chosenTokens: number;
  readonly rejectedTokens: number;
  readonly alpha?: number;
  /** Summed reference log-probs (policy scorer: the policy itself; implicit: the reference). */
  readonly refChosen?: number;
  readonly refRejected?: number;
}

export interface ScoreResult {
  readonly pairs: PairScore[];
  readonly truncated: number;
  readonly skipped: readonly { id: string; reason: string }[];
}

interface Prepared {
  pair: PreferencePair;
  prompt: number[];
  chosen: number[];
  rejected: number[];
  truncated: boolean;
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/** Checks the models a scorer needs and returns the context length to respect. */
function contextFor(kind: ScorerKind, m: ScorerModels): number {
  const need = (x: unknown, what: string) => {
    if (!x) throw new Error(`scorer "${kind}" needs ${what}`);
  };
  switch (kind) {
    case 'policy':
      need(m.policy, '--policy MODEL');
      return (m.policy as LanguageModel).contextLength;
    case 'implicit':
      need(m.tuned, '--tuned MODEL');
      need(m.ref, '--ref MODEL');
      if ((m.tuned as LanguageModel).vocabSize !== (m.ref as LanguageModel).vocabSize) throw new Error('--tuned and --ref have different vocabularies');
      return Math.min((m.tuned as LanguageModel).contextLength, (m.ref as LanguageModel).contextLength);
    case 'arm':
      need(m.arm, '--arm MODEL');
      return (m.arm as LanguageModel).contextLength;
    case 'sequence':
      need(m.rewardModel, '--reward-model MODEL');
      return (m.rewardModel as SequenceRewardModel).contextLength;
  }
}

export async function scorePairs(pairs: readonly PreferencePair[], kind: ScorerKind, m: ScorerModels, tok: Tokenizer, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const ctx = contextFor(kind, m);
  const beta = opts.beta ?? 1;
  if (kind === 'implicit' && !(beta > 0)) throw new RangeError(`beta must be > 0 (got ${beta})`);
  const skipped: { id: string; reason: string }[] = [];
  const prepared: Prepared[] = [];
  for (const pair of pairs) {
    let prompt = tok.encode(pair.prompt);
    const chosen = tok.encode(pair.chosen);
    const rejected = tok.encode(pair.rejected);
    const longest = Math.max(chosen.length, rejected.length);
    if (longest + 1 > ctx) {
      skipped.push({ id: pair.id, reason: `a response has ${longest} tokens; the context is ${ctx}` });
      continue;
    }
    let truncated = false;
    if (prompt.length === 0) prompt = [tok.eosTokenId]; // something to predict the first response token from
    if (prompt.length + longest > ctx) {
      prompt = prompt.slice(prompt.length - (ctx - longest));
      truncated = true;
    }
    prepared.push({ pair, prompt, chosen, rejected, truncated });
  }
  const out: PairScore[] = [];
  const bs = Math.max(1, opts.batchSize ?? 8);
  for (let b = 0; b < prepared.length; b += bs) {
    if (opts.signal?.aborted) break;
    const batch = prepared.slice(b, b + bs);
    const seqs = batch.flatMap((p) => [[...p.prompt, ...p.chosen], [...p.prompt, ...p.rejected]]);
    const from = batch.flatMap((p) => [p.prompt.length, p.prompt.length]);
    const lens = batch.flatMap((p) => [p.chosen.length, p.rejected.length]);
    let scores: number[];
    let ref: number[] | undefined;
    const logprobSums = async (model: LanguageModel, normalize: boolean) =>
      (await model.score(seqs, from)).map((lp, i) => (normalize && lens[i] ? sum(lp) / (lens[i] as number) : sum(lp)));
    switch (kind) {
      case 'policy':
        scores = await logprobSums(m.policy as LanguageModel, !!opts.lengthNormalize);
        ref = opts.lengthNormalize ? await logprobSums(m.policy as LanguageModel, false) : scores;
        break;
      case 'arm':
        scores = await logprobSums(m.arm as LanguageModel, !!opts.lengthNormalize);
        break;
      case 'implicit': {
        const t = await logprobSums(m.tuned as LanguageModel, false);
        ref = await logprobSums(m.ref as LanguageModel, false);
        scores = t.map((v, i) => beta * (v - (ref as number[])[i]!));
        break;
      }
      case 'sequence':
        scores = Array.from(await (m.rewardModel as SequenceRewardModel).score(seqs));
        break;
    }
    batch.forEach((p, i) => {
      const c = scores[2 * i] as number;
      const r = scores[2 * i + 1] as number;
      out.push({
        id: p.pair.id,
        chosen: c,
        rejected: r,
        margin: c - r,
        truncated: p.truncated,
        chosenTokens: p.chosen.length,
        rejectedTokens: p.rejected.length,
        ...(p.pair.alpha !== undefined ? { alpha: p.pair.alpha } : {}),
        ...(ref ? { refChosen: ref[2 * i] as number, refRejected: ref[2 * i + 1] as number } : {}),
      });
    });
    opts.onProgress?.(Math.min(b + bs, prepared.length), prepared.length);
  }
  return { pairs: out, truncated: out.filter((p) => p.truncated).length, skipped };
}
