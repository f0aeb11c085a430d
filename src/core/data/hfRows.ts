/**
 * Preference data from the Hugging Face datasets-server (https://huggingface.co/docs/dataset-viewer):
 * `/splits?dataset=NAME` lists a dataset's configs and splits, `/rows?dataset=&config=&split=&offset=
 * &length=` returns up to 100 rows per request. Rows are handed to parseRecords (preferences.ts) as
 * records, so the same shapes (TRL plain/conversational, HH, LLMBar) are detected as in a file.
 *
 * Pure: the caller passes `fetch` (the worker's or a test's), so the base URL can point at a local
 * fake server (`?datasetsServer=http://localhost:PORT` in the page).
 */
import type { RecordError } from './preferences.ts';

export const DATASETS_SERVER = 'https://datasets-server.huggingface.co';
/** The datasets-server's largest page. */
export const ROWS_PER_REQUEST = 100;

type FetchLike = (url: string, init?: { signal?: unknown }) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export class DatasetsServerError extends Error {
  override name = 'DatasetsServerError';
}

export interface SplitName {
  readonly config: string;
  readonly split: string;
}

const NAME = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** Checks a dataset name ("owner/name" or "name"); throws a message that says what a name looks like. */
export function checkDatasetName(name: string): string {
  const n = name.trim();
  if (!NAME.test(n)) throw new DatasetsServerError(`"${name}" is not a Hugging Face dataset name: use owner/name, e.g. trl-lib/ultrafeedback_binarized`);
  return n;
}

function base(server: string): string {
  return server.replace(/\/+$/, '');
}

/** Fetches JSON from the datasets-server with messages for network, HTTP and non-JSON failures. */
async function getJson(fetchFn: FetchLike, url: string, signal?: unknown): Promise<Record<string, unknown>> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(url, { signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new DatasetsServerError(
      `Could not reach the Hugging Face datasets-server (${/^[a-z]+:\/\/[^/]+/i.exec(url)?.[0] ?? url}): you may be offline, or the site's Content-Security-Policy (connect-src) does not allow it. (${(e as Error)?.message ?? e})`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DatasetsServerError(`The datasets-server answered HTTP ${res.status} with something that is not JSON (${JSON.stringify(text.slice(0, 80))}) for ${url}`);
  }
  const err = (body as { error?: unknown })?.error;
  if (!res.ok || typeof err === 'string') {
    throw new DatasetsServerError(`The datasets-server refused ${url} (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}): ${typeof err === 'string' ? err : 'no reason given'}`);
  }
  if (typeof body !== 'object' || body === null) throw new DatasetsServerError(`Unexpected answer from the datasets-server for ${url}`);
  return body as Record<string, unknown>;
}

/** Lists the configs and splits of a dataset (`/splits`). */
export async function listSplits(fetchFn: FetchLike, server: string, dataset: string, signal?: unknown): Promise<SplitName[]> {
  const name = checkDatasetName(dataset);
  const body = await getJson(fetchFn, `${base(server)}/splits?dataset=${encodeURIComponent(name)}`, signal);
  const splits = Array.isArray(body.splits) ? (body.splits as { config?: unknown; split?: unknown }[]) : [];
  const out = splits.filter((s) => typeof s.config === 'string' && typeof s.split === 'string').map((s) => ({ config: s.config as string, split: s.split as string }));
  if (out.length === 0) throw new DatasetsServerError(`The datasets-server lists no splits for ${name} (it may still be processing it, or the dataset has no viewer)`);
  return out;
}

/** The URL of one page of rows. */
export function rowsUrl(server: string, dataset: string, config: string, split: string, offset: number, length: number): string {
  const q = Object.entries({ dataset, config, split, offset: String(offset), length: String(length) }).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return `${base(server)}/rows?${q.join('&')}`;
}

export interface RowsOptions {
  readonly server?: string;
  /** Stop after this many rows (the caller usually stops earlier, once it has enough pairs). */
  readonly maxRows?: number;
  readonly signal?: unknown;
  /** Rows fetched so far and the total the server reports (capped by maxRows). */
  onProgress?(done: number, total: number): void;
}

/**
 * Streams a split's rows as records for parseRecords, page by page (100 rows per request); the
 * next page is only fetched when the consumer asks for more, so stopping early stops the fetching.
 * A row whose cells the server truncated (too large to serve) is reported as a bad record.
 * `line` is the row index + 1.
 */
export async function* hfRows(
  fetchFn: FetchLike,
  dataset: string,
  config: string,
  split: string,
  opts: RowsOptions = {},
): AsyncGenerator<{ value: unknown; line: number } | { error: RecordError }> {
  const name = checkDatasetName(dataset);
  const server = opts.server ?? DATASETS_SERVER;
  const max = opts.maxRows ?? Infinity;
  let offset = 0;
  let total = Infinity;
  while (offset < Math.min(total, max)) {
    const length = Math.min(ROWS_PER_REQUEST, Math.min(total, max) - offset);
    const body = await getJson(fetchFn, rowsUrl(server, name, config, split, offset, length), opts.signal);
    const rows = Array.isArray(body.rows) ? (body.rows as { row_idx?: unknown; row?: unknown; truncated_cells?: unknown }[]) : null;
    if (!rows) throw new DatasetsServerError(`The datasets-server's answer for ${name} (${config}/${split}) has no "rows" list`);
    if (typeof body.num_rows_total === 'number') total = body.num_rows_total;
    if (rows.length === 0) break;
    for (const [k, r] of rows.entries()) {
      const line = (typeof r.row_idx === 'number' ? r.row_idx : offset + k) + 1;
      const cut = Array.isArray(r.truncated_cells) ? (r.truncated_cells as string[]) : [];
      if (cut.length) yield { error: { line, message: `row ${line - 1}: the datasets-server truncated its field${cut.length > 1 ? 's' : ''} ${cut.map((c) => `"${c}"`).join(', ')} (too large to serve); skipped` } };
      else yield { value: r.row, line };
    }
    offset += rows.length;
    opts.onProgress?.(offset, Math.min(total, max));
  }
}
