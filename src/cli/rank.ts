/** `decoding-lab rank`: ranking accuracy of a model or reward model on a preference dataset (DESIGN §4). */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DatasetError, readDataset } from '../core/data/preferences.ts';
import { expectedCalibrationError, idealizedRankingAccuracy, rankingAccuracy, wilsonInterval } from '../core/metrics/ranking.ts';
import { SCORERS, scorePairs, type ScorerKind, type ScorerModels } from '../core/metrics/scorePairs.ts';
import type { Tokenizer } from '../core/model/types.ts';
import { UsageError, type Parsed } from './args.ts';
import { assertSameTokenizer, lm, resolveModel, rm } from './nodeModels.ts';

export interface RankOutput {
  n: number;
  accuracy: number;
  ties: number;
  truncated: number;
  skipped: number;
  ci95: [number, number];
  ece: number;
  scorer: string;
  invalid_lines: { line: number; message: string }[];
  idealized_accuracy?: number;
  alignment_gap?: number;
  pairs: { id: string; chosen: number; rejected: number; margin: number }[];
}

async function* textChunks(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const dec = new TextDecoder('utf-8', { fatal: false });
  for await (const buf of stream) yield dec.decode(buf as Buffer, { stream: true });
  const tail = dec.decode();
  if (tail) yield tail;
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
  const res = await scorePairs(data.pairs, kind as ScorerKind, models, tokenizer, { beta, lengthNormalize: !!p.length_normalize, batchSize: 8 });
  const acc = rankingAccuracy(res.pairs);
  const withAlpha = res.pairs.filter((x) => x.alpha !== undefined && x.refChosen !== undefined);
  const out: RankOutput = {
    n: acc.n,
    accuracy: acc.accuracy,
    ties: acc.ties,
    truncated: res.truncated,
    skipped: res.skipped.length,
    ci95: wilsonInterval(acc.accuracy, acc.n),
    ece: expectedCalibrationError(res.pairs).ece,
    scorer: kind,
    invalid_lines: data.errors,
    pairs: res.pairs.map((x) => ({ id: x.id, chosen: x.chosen, rejected: x.rejected, margin: x.margin })),
  };
  if (withAlpha.length === res.pairs.length && withAlpha.length > 0) {
    const rStar = idealizedRankingAccuracy(withAlpha.map((x) => ({ refChosen: x.refChosen as number, refRejected: x.refRejected as number, alpha: x.alpha as number })), beta);
    Object.assign(out, { idealized_accuracy: rStar, alignment_gap: rStar - acc.accuracy });
  }
  return out;
}

export function formatRank(o: RankOutput): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `scorer ${o.scorer}: ranking accuracy ${pct(o.accuracy)} (95% CI ${pct(o.ci95[0])}–${pct(o.ci95[1])}) on ${o.n} pairs`,
    `ties ${o.ties}, truncated ${o.truncated}, skipped ${o.skipped}, invalid lines ${o.invalid_lines.length}, ECE ${o.ece.toFixed(3)}`,
    ...(o.idealized_accuracy !== undefined ? [`idealized R* ${pct(o.idealized_accuracy)}, alignment gap R* − R ${pct(o.alignment_gap as number)}`] : []),
  ].join('\n');
}
