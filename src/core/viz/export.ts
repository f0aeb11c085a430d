/**
 * What the playground exports: a run's results as JSON (the CLI's `generate --json` shape plus the
 * run that made it, so a file can be re-run) and as CSV tables (one row per token or per sequence,
 * RFC 4180 quoting). Pure: the page only turns these strings into downloads.
 */
import type { SequenceResult } from '../search/events.ts';
import { conciseness, positivity } from '../reward/oracle.ts';
import { klOf, type KlKind, type KlRunInfo } from '../metrics/sequenceStats.ts';

/** One CSV field: quoted when it holds a comma, quote, CR or LF (quotes doubled); numbers as JS prints them. */
export function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : String(v);
  // A leading = + - @ would make spreadsheets evaluate the cell: prefix text cells with a quote (OWASP CSV injection).
  const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV document (CRLF line ends, header first). */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export interface ExportedSequence {
  readonly result: SequenceResult;
  readonly text: string;
}

/** Every reward key that occurs in the sequences' steps, sorted (CSV columns). */
function rewardKeys(seqs: readonly ExportedSequence[]): string[] {
  const keys = new Set<string>();
  for (const s of seqs) for (const t of s.result.steps) for (const k of Object.keys(t.rewards)) keys.add(k);
  return [...keys].sort();
}

/**
 * One row per generated token of every sequence: rank of the sequence, position, id, text, the
 * policy's log-prob, the decoded-from log-prob, the step's exact KL(sampling distribution ‖ base)
 * when the run sampled (column `kl`, present only then), and each reward source's token reward.
 */
export function tokensCsv(seqs: readonly ExportedSequence[], tokenText: (id: number) => string): string {
  const keys = rewardKeys(seqs);
  const hasKl = seqs.some((s) => s.result.steps.some((t) => t.kl !== undefined));
  const rows: unknown[][] = [];
  seqs.forEach((s, rank) =>
    s.result.steps.forEach((t, i) =>
      rows.push([rank, i, t.tokenId, tokenText(t.tokenId), t.logprob, t.combinedLogprob, ...(hasKl ? [t.kl] : []), ...keys.map((k) => t.rewards[k])]),
    ),
  );
  return toCsv(['sequence', 'position', 'token_id', 'token', 'logprob', 'combined_logprob', ...(hasKl ? ['kl'] : []), ...keys.map((k) => `reward:${k}`)], rows);
}

/**
 * One row per returned sequence with its score, finish reason and oracle rewards; given the run
 * (its strategy and N), also its KL from the base: `kl` (empty where n/a), `kl_kind`
 * (exact | bound | na) and `kl_note` (what the number is; metrics/sequenceStats.ts).
 */
export function sequencesCsv(seqs: readonly ExportedSequence[], run?: KlRunInfo): string {
  return toCsv(
    ['rank', 'text', 'score', 'finish_reason', 'group', 'tokens', 'sequence_reward', 'oracle_positivity', 'oracle_conciseness', ...(run ? ['kl', 'kl_kind', 'kl_note'] : [])],
    seqs.map((s, i) => {
      const k = run ? klOf(s.result, run) : null;
      return [i, s.text, s.result.score, s.result.finishReason, s.result.group, s.result.tokenIds.length, s.result.reward, positivity(s.text), conciseness(s.text), ...(k ? [k.kl, k.klKind, k.klNote] : [])];
    }),
  );
}

/** `decoding-lab generate --json` (DESIGN §4): one object for the CLI and the browser's JSON export. */
export interface GenerateOutput {
  strategy: string;
  prompt_token_ids?: number[];
  sequences: {
    token_ids: number[];
    text: string;
    score: number;
    group: number;
    finish_reason: string;
    reward?: number;
    /** Reward-guided beam search: score + reward_weight·reward, the value the sequence was ranked by. */
    guided_score?: number;
    /** KL from the base (metrics/sequenceStats.ts): null where n/a; `kl_kind` says exact or bound. */
    kl?: number | null;
    kl_kind?: KlKind;
    kl_note?: string;
    /** `kl`: the step's exact KL(sampling distribution ‖ base), present where the step sampled. */
    steps: { token_id: number; logprob: number; rewards: Record<string, number>; combined_logprob: number; kl?: number }[];
  }[];
  meta: { device: string; elapsed_ms?: number; tokens_generated: number };
}

function klFields(seq: SequenceResult, run: KlRunInfo): { kl: number | null; kl_kind: KlKind; kl_note: string } {
  const k = klOf(seq, run);
  return { kl: k.kl, kl_kind: k.klKind, kl_note: k.klNote };
}

/** Builds the `generate --json` object from a run's returned sequences (best first). */
export function generateOutput(args: {
  strategy: string;
  /** Best-of-N / rejection N, for the KL bound. @default 8 */
  n?: number;
  promptTokenIds?: readonly number[];
  sequences: readonly ExportedSequence[];
  device: string;
  elapsedMs?: number;
}): GenerateOutput {
  return {
    strategy: args.strategy,
    ...(args.promptTokenIds ? { prompt_token_ids: [...args.promptTokenIds] } : {}),
    sequences: args.sequences.map((s) => ({
      token_ids: [...s.result.tokenIds],
      text: s.text,
      score: s.result.score,
      group: s.result.group,
      finish_reason: s.result.finishReason,
      ...(s.result.reward !== undefined ? { reward: s.result.reward } : {}),
      ...(s.result.guidedScore !== undefined ? { guided_score: s.result.guidedScore } : {}),
      ...klFields(s.result, { strategy: args.strategy, ...(args.n !== undefined ? { n: args.n } : {}) }),
      steps: s.result.steps.map((t) => ({ token_id: t.tokenId, logprob: t.logprob, rewards: { ...t.rewards }, combined_logprob: t.combinedLogprob, ...(t.kl !== undefined ? { kl: t.kl } : {}) })),
    })),
    meta: {
      device: args.device,
      ...(args.elapsedMs !== undefined ? { elapsed_ms: Math.round(args.elapsedMs) } : {}),
      tokens_generated: args.sequences.reduce((a, s) => a + s.result.tokenIds.length, 0),
    },
  };
}

/**
 * The browser's JSON export: {@link generateOutput} plus `run` (the request, enough to reproduce
 * it) and `url` (the state URL); non-finite numbers (e.g. a -Infinity beam score) as strings.
 */
export function generationJson(args: Parameters<typeof generateOutput>[0] & { run: unknown; url?: string }): string {
  const n = args.n ?? (args.run as { spec?: { n?: unknown } } | null | undefined)?.spec?.n; // the run's N, for best-of-N's KL bound
  return JSON.stringify(
    { ...generateOutput({ ...args, ...(typeof n === 'number' ? { n } : {}) }), run: args.run, ...(args.url ? { url: args.url } : {}) },
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
    2,
  );
}

/** A file name for an export: `decoding-lab-<what>-<YYYYMMDD-HHMMSS>.<ext>` (local time). */
export function exportName(what: string, ext: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `decoding-lab-${what.replace(/[^a-z0-9_-]+/gi, '-').toLowerCase()}-${stamp}.${ext}`;
}
