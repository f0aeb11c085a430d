/**
 * Per-token scores of one preference pair, for the ranking view's reward strips and `rank --json
 * --token-scores`: for each response token, what the scorer adds up —
 * - policy: log π(y_t | x, y_<t)
 * - arm: log π_ARM(y_t | x, y_<t)
 * - implicit: β·(log π_tuned − log π_ref)(y_t | x, y_<t)
 * - sequence: RM(x ⊕ y≤t) − RM(x ⊕ y<t), the prefix attribution (metrics/prefixAttribution.ts); these
 *   add up to total − RM(prompt), not to the total (the RM's one scalar for the whole response).
 * Tokenization (BOS/EOS switches included), truncation and the skip rule are scorePairs'
 * (preparePair), so the values of a response sum to its summed score (its mean with length
 * normalisation); an appended EOS is the last token of a finished response.
 */
import type { LanguageModel, SequenceRewardModel, Tokenizer } from '../model/types.ts';
import type { PreferencePair } from '../data/preferences.ts';
import { prefixAttribution } from './prefixAttribution.ts';
import { finished, preparePair, tokenizationOf, type ScorerKind, type ScorerModels, type TokenizationOptions } from './scorePairs.ts';

export interface ResponseTokens {
  readonly ids: number[];
  /** The text of each token (for display; rendered as text). */
  readonly texts: string[];
  /** Per-token score, aligned with ids; empty for the sequence scorer. */
  readonly values: number[];
  /** The response's score as the ranking counts it (sum, or mean with length normalisation; the RM's scalar). */
  readonly total: number;
}

export interface PairTokenScores {
  readonly id: string;
  readonly kind: ScorerKind;
  /** Whether `values` holds per-token scores (always true now: a sequence RM gives its prefix attribution). */
  readonly perToken: boolean;
  /** What a value means, for the legend. */
  readonly meaning: string;
  readonly truncated: boolean;
  /** Whether EOS was appended to each response (a finished response, `appendEos` on): its last token. */
  readonly eosAppended?: { readonly chosen: boolean; readonly rejected: boolean };
  readonly chosen: ResponseTokens;
  readonly rejected: ResponseTokens;
}

export interface TokenScoreOptions extends TokenizationOptions {
  readonly beta?: number;
  readonly lengthNormalize?: boolean;
  readonly transform?: (pair: PreferencePair) => PreferencePair;
}

const MEANING: Record<ScorerKind, string> = {
  policy: 'log π(token | prompt, earlier tokens) under the policy',
  arm: 'log π_ARM(token | prompt, earlier tokens): the ARM’s token reward',
  implicit: 'β·(log π_tuned − log π_ref) of the token: the implicit (DPO) token reward',
  sequence: 'RM(prompt + response up to the token) − RM(up to the token before): the sequence reward model’s prefix attribution, which adds up to RM(response) − RM(prompt)',
};

const contextOf = (kind: ScorerKind, m: ScorerModels): number => {
  const need = <T>(x: T | undefined, what: string): T => {
    if (!x) throw new Error(`scorer "${kind}" needs ${what}`);
    return x;
  };
  switch (kind) {
    case 'policy':
      return need(m.policy, 'a policy').contextLength;
    case 'arm':
      return need(m.arm, 'an ARM').contextLength;
    case 'implicit':
      return Math.min(need(m.tuned, 'a tuned model').contextLength, need(m.ref, 'a reference model').contextLength);
    case 'sequence':
      return need(m.rewardModel, 'a sequence reward model').contextLength;
  }
};

/** Scores one pair token by token; throws when the pair is skipped by the ranking rules (with the reason). */
export async function scorePairTokens(pair: PreferencePair, kind: ScorerKind, m: ScorerModels, tok: Tokenizer, opts: TokenScoreOptions = {}): Promise<PairTokenScores> {
  const ctx = contextOf(kind, m);
  const tz = tokenizationOf(kind, tok, opts);
  const p = preparePair(pair, 0, tok, ctx, opts.transform, tz);
  if ('skip' in p) throw new Error(`pair ${pair.id} is not scored: ${p.skip}`);
  const beta = opts.beta ?? 1;
  const rows = [p.chosen, p.rejected];
  const full = rows.map((r) => [...p.prompt, ...r]);
  const from = rows.map(() => p.prompt.length);
  const lp = async (model: LanguageModel) => (await model.score(full, from)).map((a) => Array.from(a));
  let values: number[][];
  let totals: number[];
  switch (kind) {
    case 'policy':
    case 'arm':
      values = await lp((kind === 'policy' ? m.policy : m.arm) as LanguageModel);
      break;
    case 'implicit': {
      const t = await lp(m.tuned as LanguageModel);
      const r = await lp(m.ref as LanguageModel);
      values = t.map((row, i) => row.map((v, j) => beta * (v - (r[i]?.[j] as number))));
      break;
    }
    case 'sequence': {
      const rm = m.rewardModel as SequenceRewardModel;
      totals = Array.from(await rm.score(full));
      values = [];
      for (const r of rows) values.push((await prefixAttribution(rm, p.prompt, r)).values); // one after the other: one RM call at a time
      break;
    }
  }
  if (kind !== 'sequence') {
    totals = values.map((row) => {
      const s = row.reduce((a, v) => a + v, 0);
      return opts.lengthNormalize && kind !== 'implicit' && row.length ? s / row.length : s;
    });
  }
  const side = (i: number): ResponseTokens => ({
    ids: rows[i] as number[],
    texts: (rows[i] as number[]).map((id) => tok.tokenText(id)),
    values: values[i] as number[],
    total: (totals as number[])[i] as number,
  });
  const eosAppended = { chosen: tz.appendEos && finished(pair, 'chosen'), rejected: tz.appendEos && finished(pair, 'rejected') };
  return { id: pair.id, kind, perToken: true, meaning: MEANING[kind], truncated: p.truncated, eosAppended, chosen: side(0), rejected: side(1) };
}
