/** `decoding-lab rank`: ranking accuracy of a model or reward model on a preference dataset (DESIGN §4). */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DatasetError, decodeUtf8, readDataset, type PreferencePair } from '../core/data/preferences.ts';
import { rankingReport, type RankReport } from '../core/metrics/report.ts';
import { SCORERS, scorePairs, type ScorerKind, type ScorerModels } from '../core/metrics/scorePairs.ts';
import type { Tokenizer } from '../core/model/types.ts';
import { applyChatTemplate, chatTemplaterOf } from '../core/data/chatTemplate.ts';
import { scorePairTokens } from '../core/metrics/tokenScores.ts';
import { perAttributeAccuracy } from '../core/reward/labelMix.ts';
import { fileAgreement, type FileAgreement } from '../core/metrics/agreement.ts';
import { UsageError, type Parsed } from './args.ts';
import { assertSameTokenizer, bundledModels, lm, MODELS_DIR, resolveModel, rm } from './nodeModels.ts';

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
 * `chat_template` and, with `--token-scores`, each pair's `chosen_tokens`/`rejected_tokens`, and,
 * for a file whose records name a `labeller` (the studio's export), `agreement` (core/metrics/agreement.ts).
 */
export type RankOutput = RankReport & {
  scorer: string;
  /** The models of the run, by role (`ref` also when it was defaulted from the manifest). */
  models: { policy?: string; tuned?: string; ref?: string; arm?: string; reward_model?: string };
  invalid_lines: { line: number; message: string }[];
  pairs: { id: string; chosen: number; rejected: number; margin: number; chosen_tokens?: TokenOut[]; rejected_tokens?: TokenOut[] }[];
  chat_template?: boolean;
  /** The scorer against the human labels (accuracy, Cohen's κ as the studio's agreement table) and κ between labellers; only when records name a labeller. */
  agreement?: FileAgreement;
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

/** What the manifest (or, for a folder, its model card) says about a model's training. */
interface ModelFacts {
  /** DPO's training β. */
  beta?: number;
  /** An ARM's training β_r. */
  betaR?: number;
  /** The reference (base) model it was tuned from. */
  reference?: string;
  /** Whether it is itself a reference model (its own base). */
  isReference?: boolean;
}

function factsOf(id: string): ModelFacts {
  const e = bundledModels().find((m) => m.id === id) as { role?: string; also?: string[]; beta?: number; beta_r?: number; reference?: string } | undefined;
  if (e) {
    return {
      ...(typeof e.beta === 'number' ? { beta: e.beta } : {}),
      ...(typeof e.beta_r === 'number' ? { betaR: e.beta_r } : {}),
      ...(typeof e.reference === 'string' ? { reference: e.reference } : {}),
      isReference: e.role === 'reference' || !!e.also?.includes('reference'),
    };
  }
  // A folder: its model card, when it states "beta = 0.1" / "β = 0.1" / "beta_r = 0.1".
  const card = path.join(path.isAbsolute(id) ? id : path.join(MODELS_DIR, id), 'README.md');
  if (!existsSync(card)) return {};
  const text = readFileSync(card, 'utf8');
  const num = (re: RegExp) => {
    const m = re.exec(text);
    const v = m ? Number(m[1]) : NaN;
    return v > 0 && Number.isFinite(v) ? v : undefined;
  };
  const beta = num(/\b(?:beta|β)\s*[=:]\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)/i);
  const betaR = num(/\b(?:beta_r|β_r)\s*[=:]\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)/i);
  return { ...(beta !== undefined ? { beta } : {}), ...(betaR !== undefined ? { betaR } : {}) };
}

/** The training β of the tuned model (implicit) or of the policy (R*), else 1; with where it came from. */
export function defaultBeta(kind: ScorerKind, ids: { policy?: string; tuned?: string }): { beta: number; source: string } {
  const m = kind === 'implicit' ? ids.tuned : kind === 'policy' ? ids.policy : undefined;
  const b = m ? factsOf(m).beta : undefined;
  if (m && b !== undefined) return { beta: b, source: `training β of ${m} (${bundledModels().some((x) => x.id === m) ? 'models/manifest.json' : 'its model card'})` };
  return { beta: 1, source: `default 1 (${m ? `no training β known for ${m}` : 'no tuned model'})` };
}

/** The reference model R* uses when --ref is not given: the policy's base per the manifest (itself when it is a reference model). */
export function defaultRef(model: string | undefined): string | undefined {
  if (!model) return undefined;
  const f = factsOf(model);
  return f.reference ?? (f.isReference ? model : undefined);
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
  const armArg = (p.arm as string[] | undefined)?.[0];
  const armId = armArg ? resolveModel(armArg, '--arm') : undefined;
  const rmId = id('--reward-model', 'reward_model');
  // R* always comes from an explicit reference model: --ref, else the policy's (or tuned model's) base per the manifest.
  const refGiven = id('--ref', 'ref');
  const refId = refGiven ?? (kind === 'implicit' ? defaultRef(tunedId) : kind === 'policy' ? defaultRef(policyId) : undefined);
  const needs: Record<ScorerKind, [string | undefined, string][]> = {
    policy: [[policyId, '--policy MODEL']],
    implicit: [[tunedId, '--tuned MODEL'], [refId, `--ref MODEL (${tunedId ?? 'the tuned model'} names no reference in models/manifest.json)`]],
    arm: [[armId, '--arm MODEL']],
    sequence: [[rmId, '--reward-model MODEL']],
  };
  for (const [v, what] of needs[kind as ScorerKind]) if (!v) throw new UsageError(`--scorer ${kind} needs ${what}`);
  if (kind === 'sequence' && refGiven) throw new UsageError('--ref: the sequence scorer has no log-probs to compare with a reference; use --scorer policy or implicit for R*');
  const eceBins = p.ece_bins as number | undefined;
  if (eceBins !== undefined && !(eceBins >= 1 && eceBins <= 100)) throw new UsageError(`--ece-bins must be an integer from 1 to 100, e.g. 5, 10 or 20 (got ${eceBins})`);
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
  const given = p.beta as number | undefined;
  if (given !== undefined && !(given > 0)) throw new UsageError(`--beta must be > 0 (got ${given}); it is DPO's β, the scale of the implicit reward β·(log π_tuned − log π_ref)`);
  const { beta, source: betaSource } = given !== undefined ? { beta: given, source: '--beta' } : defaultBeta(kind as ScorerKind, { policy: policyId, tuned: tunedId });
  if (kind === 'policy' && !refId && (alpha !== undefined || data.pairs.some((x) => x.alpha !== undefined)))
    process.stderr.write(`decoding-lab: note: no R* — ${policyId} names no reference model in models/manifest.json; give --ref MODEL (the policy is no longer used as its own reference)\n`);
  const tokenization = { ...(p.add_bos !== undefined ? { addBos: !!p.add_bos } : {}), ...(p.append_eos !== undefined ? { appendEos: !!p.append_eos } : {}) };
  let transform: ((pair: PreferencePair) => PreferencePair) | undefined;
  if (p.chat_template) {
    const t = chatTemplaterOf(tokenizer);
    const owner = ids.find((x) => x !== rmId) ?? rmId;
    if (!t) throw new UsageError(`--chat-template: the tokenizer of ${owner} has no chat template (no "chat_template" in its tokenizer_config.json); leave out --chat-template`);
    transform = (pair) => applyChatTemplate(pair, t);
  }
  const res = await scorePairs(data.pairs, kind as ScorerKind, models, tokenizer, { beta, lengthNormalize: !!p.length_normalize, batchSize, transform, ...tokenization });
  // A reward model with several heads: each head's accuracy alone, next to the --reward-label mix's.
  const heads = kind === 'sequence' && rmId ? await rm(rmId) : undefined;
  const perAttribute = heads && heads.labelNames().length > 1
    ? await perAttributeAccuracy(heads, heads.labelNames(), async (h) => (await scorePairs(data.pairs, 'sequence', { ...models, rewardModel: h }, tokenizer, { beta, lengthNormalize: !!p.length_normalize, batchSize, transform, ...tokenization })).pairs)
    : undefined;
  const agreement = fileAgreement(data.pairs, res.pairs);
  const tokens = async (index: number) => {
    const pair = data.pairs[index] as PreferencePair;
    const t = await scorePairTokens(pair, kind as ScorerKind, models, tokenizer, { beta, lengthNormalize: !!p.length_normalize, transform, ...tokenization });
    const out = (r: typeof t.chosen): TokenOut[] => r.ids.map((tid, i) => ({ id: tid, text: r.texts[i] as string, score: t.perToken ? (r.values[i] as number) : null }));
    return { chosen_tokens: out(t.chosen), rejected_tokens: out(t.rejected) };
  };
  const report = rankingReport(res, {
    beta,
    betaSource,
    defaultAlpha: alpha,
    scorer: kind as ScorerKind,
    models: { ...(kind === 'policy' ? { policy: policyId } : kind === 'implicit' ? { policy: tunedId } : {}), ...(refId ? { ref: refId } : {}) },
    lengthNormalize: !!p.length_normalize,
    ...(armId && factsOf(armId).betaR !== undefined ? { armBeta: factsOf(armId).betaR } : {}),
    ...(eceBins !== undefined ? { eceBins } : {}),
  });
  if (p.json && report.idealized_accuracy !== undefined)
    process.stderr.write(
      `decoding-lab: note: idealized_accuracy (R*) now comes from the reference model ${report.r_star?.model} with Chen et al.'s labels (majority side, α = 0.5 left out), and alignment_gap is R*(π_ref) − R(π_θ), no longer R* − accuracy; see r, r_star, r_star_by_beta\n`,
    );
  const { n, accuracy, ties, truncated, skipped, ci95, ece, ...breakdowns } = report;
  return {
    n,
    accuracy,
    ties,
    truncated,
    skipped,
    ci95,
    ece,
    scorer: kind,
    models: { ...(policyId ? { policy: policyId } : {}), ...(tunedId ? { tuned: tunedId } : {}), ...(refId ? { ref: refId } : {}), ...(armId ? { arm: armId } : {}), ...(rmId ? { reward_model: rmId } : {}) },
    invalid_lines: data.errors,
    pairs: await sequential(res.pairs, async (x) => ({ id: x.id, chosen: x.chosen, rejected: x.rejected, margin: x.margin, ...(p.token_scores ? await tokens(x.index as number) : {}) })),
    ...(p.chat_template ? { chat_template: true } : {}),
    ...(perAttribute ? { per_attribute: perAttribute } : {}),
    ...(agreement ? { agreement } : {}),
    ...breakdowns,
  };
}

/** The agreement block as one line: the scorer against the human labels, and κ between labellers. */
function agreementLine(a: FileAgreement): string {
  const k = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const vsHuman = a.n
    ? `agreement with the human labels (${a.n} pairs): accuracy ${pct(a.accuracy as number)} (95% CI ${pct(a.ci95[0])}–${pct(a.ci95[1])}), Cohen's κ ${k(a.kappa)}`
    : 'agreement with the human labels: no human-labelled pair scored';
  return [vsHuman, ...a.between_labellers.map((b) => `κ ${b.a} vs ${b.b} ${k(b.kappa)} on ${b.n} shared pairs`)].join('; ');
}

export function formatRank(o: RankOutput): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const R = o.length_normalized ? 'R̃' : 'R';
  const tz = o.tokenization;
  const what = o.scorer === 'implicit' ? 'implicit-reward accuracy' : 'ranking accuracy';
  return [
    `scorer ${o.scorer}: ${what} ${pct(o.accuracy)} (95% CI ${pct(o.ci95[0])}–${pct(o.ci95[1])}) on ${o.n} pairs (exact ties count half)`,
    ...(o.per_attribute ? [`accuracy per attribute: ${Object.entries(o.per_attribute).map(([k, v]) => `${k} ${pct(v.accuracy)} (95% CI ${pct(v.ci95[0])}–${pct(v.ci95[1])})`).join(', ')}`] : []),
    `ties ${o.ties}, truncated ${o.truncated}, skipped ${o.skipped}, invalid lines ${o.invalid_lines.length}`,
    ...(o.agreement ? [agreementLine(o.agreement)] : []),
    o.ece === null ? `ECE n/a (${o.ece_scale.note})` : `ECE ${o.ece.toFixed(3)}, ACE ${(o.ace as number).toFixed(3)} (${o.ece_bins} bins; ${o.ece_scale.note})`,
    ...(o.scorer === 'implicit' || o.r_star ? [`β ${o.beta}: ${o.beta_source}`] : []),
    ...(tz ? [`tokens: BOS ${tz.bos_token_id !== null ? `id ${tz.bos_token_id} prepended` : tz.add_bos ? 'none (the tokenizer adds none)' : 'off'}, EOS ${tz.append_eos ? 'appended to finished responses' : 'not appended'}`] : []),
    ...(o.r ? [`${R}(${o.r.model}) ${pct(o.r.value)} on ${o.r.n} pairs (Chen's labels: majority side preferred, α = 0.5 left out)`] : []),
    ...(o.r_star
      ? [
          `${R}*(${o.r_star.model}) ${pct(o.r_star.value)} at β ${o.r_star.beta} on ${o.r_star.n} pairs (${o.r_star.ties_excluded} ties left out, ${o.r_star.flipped_to_majority} flipped to the majority; alpha from ${o.r_star.alpha_source === 'data' ? 'the data' : o.r_star.alpha_source === 'default' ? '--alpha' : 'the data and --alpha'}); over β ∈ {0.01, 0.1, 1, 5, 10}: min ${pct(o.r_star.min)}, median ${pct(o.r_star.median)}, max ${pct(o.r_star.max)}`,
        ]
      : []),
    ...(o.alignment_gap !== undefined && o.alignment_gap_models
      ? [`alignment gap ${R}*(${o.alignment_gap_models.r_star}) − ${R}(${o.alignment_gap_models.r}) ${pct(o.alignment_gap)} at β ${o.beta}; by β: ${(o.r_star_by_beta ?? []).map((b) => `${b.beta}: ${pct(b.alignment_gap as number)}`).join(', ')}`]
      : []),
    `accuracy by longer response (tokens): ${o.by_length.map((b) => `${b.lo}–${b.hi}: ${pct(b.accuracy)} (${b.n})`).join(', ')}`,
    ...(o.by_ref_logratio
      ? [`accuracy by |reference log-ratio|: ${o.by_ref_logratio.map((b) => `${b.lo.toFixed(1)}–${b.hi.toFixed(1)}: ${pct(b.accuracy)} (${b.n})`).join(', ')}`]
      : []),
  ].join('\n');
}
