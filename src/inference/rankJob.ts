/**
 * The worker's side of a ranking evaluation that is not model loading (handler.ts `rank` and
 * `score-pair`): reading the dataset from any source (bundled file, picked file, URL, Hugging Face
 * datasets-server), the chat-template option, and scoring with resume and partial results.
 * Kept apart from handler.ts so it can be tested without a worker.
 */
import { decodeUtf8, parseDataset, parseRecords, readItems, type DatasetItem, type PreferencePair, type RecordError } from '../core/data/preferences.ts';
import { DATASETS_SERVER, hfRows } from '../core/data/hfRows.ts';
import { applyChatTemplate, chatTemplaterOf } from '../core/data/chatTemplate.ts';
import { scorePairs, type PairScore, type ScoreResult, type ScorerModels, type TokenizationOptions } from '../core/metrics/scorePairs.ts';
import { rankingReport, type RankReport } from '../core/metrics/report.ts';
import type { Tokenizer } from '../core/model/types.ts';
import type { DatasetSource, RankJob, RankProgress } from './protocol.ts';

/** Reads a byte stream chunk by chunk (ReadableStream is not async-iterable in every browser). */
export async function* streamOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** True when text starts like an HTML page (a host's error page or index.html fallback). */
export function looksLikeHtmlStart(text: string): boolean {
  return /^\s*<(!doctype\s+html|html|head|body|!--)/i.test(text);
}

/** Refuses a stream whose first bytes are an HTML page; passes every chunk on otherwise. */
async function* refuseHtml(bytes: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const b of bytes) {
    if (first) {
      first = false;
      if (looksLikeHtmlStart(new TextDecoder().decode(b.subarray(0, 256)))) throw new Error(`${what} is an HTML page, not a dataset (JSONL or JSON). Link to the raw file (GitHub: the "Raw" button; Hugging Face: …/resolve/main/FILE).`);
    }
    yield b;
  }
}

/** Gunzips a byte stream (DecompressionStream: every current browser and Node 18+). */
function gunzip(bytes: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const DS = (globalThis as unknown as { DecompressionStream?: new (f: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new Error('This browser cannot gunzip (no DecompressionStream); give an uncompressed .jsonl or .json file.');
  return bytes.pipeThrough(new DS('gzip'));
}

/**
 * Fetches a dataset URL with messages for what can go wrong: not an http(s) URL, a network or CORS
 * failure (browsers do not tell the two apart), an HTTP error, an HTML page instead of data.
 */
export async function fetchDatasetUrl(url: string, signal?: AbortSignal, fetchFn: typeof fetch = fetch): Promise<AsyncIterable<Uint8Array>> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL: give a full http(s) address of a JSONL or JSON file.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${url}: only http(s) URLs can be read (got ${u.protocol}).`);
  let res: globalThis.Response;
  try {
    res = await fetchFn(u.href, { signal, credentials: 'omit' });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new Error(
      `Could not fetch ${u.href}: the network failed, or ${u.origin} does not allow cross-origin requests (it must send Access-Control-Allow-Origin), or this site's Content-Security-Policy (connect-src) does not allow that host. The browser does not say which; check that the URL opens in a tab, or download the file and drop it here. (${(e as Error)?.message ?? e})`,
    );
  }
  if (!res.ok) throw new Error(`${u.href} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}: check the address (it must point at the file itself).`);
  if (!res.body) throw new Error(`${u.href} answered with no body.`);
  if ((res.headers.get('content-type') ?? '').includes('text/html')) {
    await res.body.cancel().catch(() => {});
    throw new Error(`${u.href} is an HTML page, not a dataset (JSONL or JSON). Link to the raw file (GitHub: the "Raw" button; Hugging Face: …/resolve/main/FILE).`);
  }
  const gz = /\.gz$/i.test(u.pathname) && !(res.headers.get('content-encoding') ?? '').includes('gzip');
  return refuseHtml(streamOf(gz ? gunzip(res.body) : res.body), u.href);
}

export interface ReadContext {
  /** Fetches a file of the site, relative to <base>models/ (Backend.fetch). */
  readonly fetchSite: (path: string) => Promise<globalThis.Response>;
  /** fetch for URLs and the datasets-server (default: the global one). */
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  onProgress?(p: RankProgress): void;
}

/** Parsed records of a dataset source, streamed. */
export async function datasetItems(src: DatasetSource, limit: number, cx: ReadContext): Promise<AsyncIterable<DatasetItem>> {
  switch (src.kind) {
    case 'file': {
      const gz = /\.gz$/i.test(src.name);
      return parseDataset(decodeUtf8(refuseHtml(streamOf(gz ? gunzip(src.file.stream()) : src.file.stream()), src.name)));
    }
    case 'bundled': {
      const res = await cx.fetchSite(src.path);
      if (!res.ok || !res.body) throw new Error(`Could not load the dataset ${src.path} (HTTP ${res.status}).`);
      if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${src.path} returned an HTML page, not a dataset: the host rewrites missing files to index.html.`);
      return parseDataset(decodeUtf8(streamOf(res.body)));
    }
    case 'url':
      return parseDataset(decodeUtf8(await fetchDatasetUrl(src.url, cx.signal, cx.fetch)));
    case 'hf': {
      const f = cx.fetch ?? fetch;
      return parseRecords(
        hfRows((u, init) => f(u, init as RequestInit), src.dataset, src.config, src.split, {
          server: src.server || DATASETS_SERVER,
          maxRows: Number.isFinite(limit) ? limit * 2 + 100 : undefined, // enough rows for `limit` pairs unless many are bad
          signal: cx.signal,
          onProgress: (done, total) => cx.onProgress?.({ phase: 'reading', done, total }),
        }),
      );
    }
  }
}

/** Reads a job's dataset (up to its limit). */
export async function readJobDataset(job: RankJob, cx: ReadContext): Promise<{ pairs: PreferencePair[]; errors: RecordError[] }> {
  const limit = job.limit ?? Infinity;
  return readItems(await datasetItems(job.dataset, limit, cx), limit);
}

/** The pair rewrite for `job.chatTemplate`; throws when the scorer's tokenizer has no template. */
export function chatTransform(job: RankJob, tokenizer: Tokenizer, owner: string): ((p: PreferencePair) => PreferencePair) | undefined {
  if (!job.chatTemplate) return undefined;
  const t = chatTemplaterOf(tokenizer);
  if (!t) throw new Error(`${owner}'s tokenizer has no chat template (no "chat_template" in its tokenizer_config.json): untick "chat template".`);
  return (p) => applyChatTemplate(p, t);
}

/**
 * Scores a job's pairs, continuing from `job.resume` when given: pairs before `resume.consumed` are
 * not scored again, and the saved scores are merged in front. Every completed window is reported
 * through `onProgress` with `partial` (indices relative to the whole dataset), so the page can save
 * a resumable result.
 */
export async function scoreJob(
  job: RankJob,
  pairs: readonly PreferencePair[],
  models: ScorerModels,
  tokenizer: Tokenizer,
  transform: ((p: PreferencePair) => PreferencePair) | undefined,
  signal: AbortSignal,
  onProgress: (p: RankProgress) => void,
): Promise<ScoreResult> {
  const resume = job.resume;
  const start = Math.min(resume?.consumed ?? 0, pairs.length);
  const before = resume?.pairs ?? [];
  const shift = (p: PairScore): PairScore => ({ ...p, index: (p.index ?? 0) + start });
  const res = await scorePairs(pairs.slice(start), job.scorer, models, tokenizer, {
    beta: job.beta,
    lengthNormalize: job.lengthNormalize,
    ...tokenOptions(job),
    transform,
    signal,
    onProgress: (done, total) => onProgress({ phase: 'scoring', done: before.length + done, total: before.length + total }),
    onPartial: (part) => onProgress({ phase: 'scoring', done: before.length, total: 0, partial: { consumed: start + part.consumed, pairs: part.pairs.map(shift), skipped: part.skipped } }),
  });
  const all = [...before, ...res.pairs.map(shift)];
  return {
    pairs: all,
    truncated: all.filter((p) => p.truncated).length,
    skipped: [...(resume?.skipped ?? []), ...res.skipped],
    ...(res.tokenization ? { tokenization: res.tokenization } : {}),
    ...(res.aborted ? { aborted: true } : {}),
  };
}

/** The job's special-token switches (scorePairs and scorePairTokens). */
export function tokenOptions(job: RankJob): TokenizationOptions {
  return { ...(job.addBos !== undefined ? { addBos: job.addBos } : {}), ...(job.appendEos !== undefined ? { appendEos: job.appendEos } : {}) };
}

/**
 * The report of a job's scores: R(π_θ) labelled with the policy (policy scorer) or the tuned model
 * (implicit), R* with the explicit reference (`job.ref`), ECE at the scorer's scale.
 */
export function jobReport(res: ScoreResult, job: RankJob): RankReport {
  const policy = job.scorer === 'policy' ? job.policy : job.scorer === 'implicit' ? job.tuned : undefined;
  return rankingReport(res, {
    beta: job.beta,
    ...(job.betaSource ? { betaSource: job.betaSource } : {}),
    ...(job.defaultAlpha !== undefined ? { defaultAlpha: job.defaultAlpha } : {}),
    scorer: job.scorer,
    models: { ...(policy ? { policy } : {}), ...(job.ref && job.scorer !== 'sequence' ? { ref: job.ref } : {}) },
    lengthNormalize: job.lengthNormalize,
    ...(job.scorer === 'arm' && job.armBeta !== undefined ? { armBeta: job.armBeta } : {}),
    ...(job.eceBins !== undefined ? { eceBins: job.eceBins } : {}),
  });
}
