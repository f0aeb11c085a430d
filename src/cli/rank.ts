/** `decoding-lab rank`: ranking accuracy of a model or reward model on a preference dataset (DESIGN §4). */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DatasetError, decodeUtf8, readDataset, type PreferencePair } from '../core/data/preferences.ts';
import { rankingReport, type RankReport } from '../core/metrics/report.ts';
import { SCORERS, scorePairs, type ScorerKind, type ScorerModels } from '../core/metrics/scorePairs.ts';
import type { Tokenizer } from '../core/model/types.ts';
import { applyChatTemplate, chatTemplaterOf } from '../core/data/chatTemplate.ts';
import { scorePairTokens } from '../core/metrics/tokenScores.ts';
import { UsageError, type Parsed } from './args.ts';
import { assertSameTokenizer, lm, resolveModel, rm } from './nodeModels.ts';

/** One response token with its per-token score (`--token-scores`); score is null for the sequence scorer. */
export interface TokenOut {
  id: number;
  text: string;
  score: number | null;
}

/**
 * The contract's fields (DESIGN §4: n … ece, pairs) keep their meaning; `scorer`, `invalid_lines`,
 * R* and the breakdowns (margin_histogram, calibration_bins, by_length, by_ref_logratio,
 * skipped_pairs, pair_details; see core/metrics/report.ts) are additions, and so are
 * `chat_template` and, with `--token-scores`, each pair's `chosen_tokens`/`rejected_tokens`.
 */
export type RankOutput = RankReport & {
  scorer: string;
  invalid_lines: { line: number; message: string }[];
  pairs: { id: string; chosen: number; rejected: number; margin: number; chosen_tokens?: TokenOut[]; rejected_tokens?: TokenOut[] }[];
  chat_template?: boolean;
};

/** A file's text, streamed: gunzipped when it ends in .gz; bytes that are not UTF-8 become U+FFFD. */
function textChunks(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  return decodeUtf8(stream as AsyncIterable<Uint8Array>);
}

/** Maps in order, one call at a time (model calls are not run concurrently). */
async function sequential<T, U>(xs: readonly T[], f: (x: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const x of xs) out.push(await f(x));
  return out;
}

export async function rank(p: Parsed): Promise<RankOutput> {
  const file = p.dataset;
  if (typeof file !== 'string') throw new UsageError('--dataset FILE is required (JSONL or JSON; .gz is read too)');
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`--dataset ${file}: no such file`);
  const kind = (p.scorer as string | undefined) ?? 'policy';
  if (!(SCORERS as readonly string[]).includes(kind)) throw new UsageError(`--scorer must be one of ${SCORERS.join(', ')} (got "${kind}")`);
  const id = (flag: string, name: string) => (typeof p[name] === 'string' ? resolveModel(p[name] as string, flag) : undefined);
  const policyId = id('--policy', 'policy');
  const tunedId = id('--tuned', 'tuned');
  const refId = id('--ref', 'ref');
  const armArg = (p.arm as string[] | undefined)?.[0];
  const armId = armArg ? resolveModel(armArg, '--arm') : undefined;
  const rmId = id('--reward-model', 'reward_model');
  const needs: Record<ScorerKind, [string | undefined, string][]> = {
    policy: [[policyId, '--policy MODEL']],
    implicit: [[tunedId, '--tuned MODEL'], [refId, '--ref MODEL']],
    arm: [[armId, '--arm MODEL']],
    sequence: [[rmId, '--reward-model MODEL']],
  };
  for (const [v, what] of needs[kind as ScorerKind]) if (!v) throw new UsageError(`--scorer ${kind} needs ${what}`);
  const ids = [policyId, tunedId, refId, armId, rmId].filter((x): x is string => !!x);
  assertSameTokenizer(ids[0] as string, ids.slice(1).map((x) => ({ id: x, flag: 'model' })));
  const models: ScorerModels = {
    policy: policyId ? await lm(policyId) : undefined,
    tuned: tunedId ? await lm(tunedId) : undefined,
    ref: refId ? await lm(refId) : undefined,
    arm: armId ? await lm(armId) : undefined,
    rewardModel: rmId ? await rm(rmId) : undefined,
  };
  const tokenizer: Tokenizer = rmId && ids.length === 1 ? (await rm(rmId)).tokenizer : (await lm(ids.find((x) => x !== rmId) as string)).tokenizer;
  const limit = p.limit as number | undefined;
  if (limit !== undefined && limit < 1) throw new UsageError(`--limit must be >= 1 (got ${limit})`);
  const batchSize = (p.batch_size as number | undefined) ?? 8;
  if (batchSize < 1) throw new UsageError(`--batch-size must be >= 1 (got ${batchSize})`);
  const alpha = p.alpha as number | undefined;
  if (alpha !== undefined && !(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be in [0, 1] (got ${alpha})`);
  let data;
  try {
    data = await readDataset(textChunks(file), limit ?? Infinity);
  } catch (e) {
    if (e instanceof DatasetError) throw new UsageError(`--dataset ${file}: ${e.message}`);
    throw e;
  }
  for (const err of data.errors.slice(0, 20)) process.stderr.write(`decoding-lab: warning: ${file} line ${err.line}: ${err.message} (skipped)\n`);
  if (data.errors.length > 20) process.stderr.write(`decoding-lab: warning: ${data.errors.length - 20} more invalid lines skipped\n`);
  const beta = (p.beta as number | undefined) ?? (kind === 'implicit' ? 1 : 0.1);
  let transform: ((pair: PreferencePair) => PreferencePair) | undefined;
  if (p.chat_template) {
    const t = chatTemplaterOf(tokenizer);
    const owner = ids.find((x) => x !== rmId) ?? rmId;
    if (!t) throw new UsageError(`--chat-template: the tokenizer of ${owner} has no chat template (no "chat_template" in its tokenizer_config.json); leave out --chat-template`);
    transform = (pair) => applyChatTemplate(pair, t);
  }
  const res = await scorePairs(data.pairs, kind as ScorerKind, models, tokenizer, { beta, lengthNormalize: !!p.length_normalize, batchSize, transform });
  const tokens = async (index: number) => {
    const pair = data.pairs[index] as PreferencePair;
    const t = await scorePairTokens(pair, kind as ScorerKind, models, tokenizer, { beta, lengthNormalize: !!p.length_normalize, transform });
    const out = (r: typeof t.chosen): TokenOut[] => r.ids.map((tid, i) => ({ id: tid, text: r.texts[i] as string, score: t.perToken ? (r.values[i] as number) : null }));
    return { chosen_tokens: out(t.chosen), rejected_tokens: out(t.rejected) };
  };
  const { n, accuracy, ties, truncated, skipped, ci95, ece, idealized_accuracy, alignment_gap, ...breakdowns } = rankingReport(res, { beta, defaultAlpha: alpha });
  return {
    n,
    accuracy,
    ties,
    truncated,
    skipped,
    ci95,
    ece,
    scorer: kind,
    invalid_lines: data.errors,
    ...(idealized_accuracy !== undefined ? { idealized_accuracy, alignment_gap } : {}),
    pairs: await sequential(res.pairs, async (x) => ({ id: x.id, chosen: x.chosen, rejected: x.rejected, margin: x.margin, ...(p.token_scores ? await tokens(x.index as number) : {}) })),
    ...(p.chat_template ? { chat_template: true } : {}),
    ...breakdowns,
  };
}

export function formatRank(o: RankOutput): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `scorer ${o.scorer}: ranking accuracy ${pct(o.accuracy)} (95% CI ${pct(o.ci95[0])}–${pct(o.ci95[1])}) on ${o.n} pairs`,
    `ties ${o.ties}, truncated ${o.truncated}, skipped ${o.skipped}, invalid lines ${o.invalid_lines.length}, ECE ${o.ece.toFixed(3)}`,
    ...(o.idealized_accuracy !== undefined
      ? [`idealized R* ${pct(o.idealized_accuracy)} (β ${o.idealized_beta}, alpha from ${o.alpha_source === 'data' ? 'the data' : o.alpha_source === 'default' ? '--alpha' : 'the data and --alpha'}), alignment gap R* − R ${pct(o.alignment_gap as number)}`]
      : []),
    `accuracy by longer response (tokens): ${o.by_length.map((b) => `${b.lo}–${b.hi}: ${pct(b.accuracy)} (${b.n})`).join(', ')}`,
    ...(o.by_ref_logratio
      ? [`accuracy by |reference log-ratio|: ${o.by_ref_logratio.map((b) => `${b.lo.toFixed(1)}–${b.hi.toFixed(1)}: ${pct(b.accuracy)} (${b.n})`).join(', ')}`]
      : []),
  ].join('\n');
}
