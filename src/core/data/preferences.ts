/**
 * Preference datasets (DESIGN §5): JSONL or a JSON array, in the TRL shape (plain or
 * conversational), the Anthropic HH transcript shape, or the LLMBar shape — detected per file from
 * the first valid record. A bad record is reported with its line number and skipped; the rest loads.
 * Parsing is incremental over text chunks, so a large file never has to be one string.
 */

export type DatasetFormat = 'trl' | 'trl-conversational' | 'hh' | 'llmbar';

export interface PreferencePair {
  readonly id: string;
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
  /** Share of raters who preferred `chosen`, when the data has it. */
  readonly alpha?: number;
  /** Any other fields of the record, kept for display. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface RecordError {
  readonly line: number;
  readonly message: string;
}

export type DatasetItem = { readonly pair: PreferencePair; readonly line: number } | { readonly error: RecordError };

export class DatasetError extends Error {
  override name = 'DatasetError';
}

const HH_MARKER = '\n\nAssistant:';
const ROLE: Record<string, string> = { user: 'Human', human: 'Human', assistant: 'Assistant', system: 'System' };

interface Message {
  role: string;
  content: string;
}

function isMessages(v: unknown): v is Message[] {
  return Array.isArray(v) && v.every((m) => typeof m === 'object' && m !== null && typeof (m as Message).role === 'string' && typeof (m as Message).content === 'string');
}

/** Renders messages the HH way: "\n\nHuman: …\n\nAssistant: …". */
function render(msgs: readonly Message[]): string {
  return msgs.map((m) => `\n\n${ROLE[m.role.toLowerCase()] ?? m.role}: ${m.content}`).join('');
}

/** Splits two HH transcripts at the last "\n\nAssistant:" inside their common prefix. */
export function splitHH(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } {
  let common = 0;
  const max = Math.min(chosen.length, rejected.length);
  while (common < max && chosen.charCodeAt(common) === rejected.charCodeAt(common)) common++;
  const at = chosen.lastIndexOf(HH_MARKER, common - HH_MARKER.length);
  if (at < 0 || common < HH_MARKER.length) throw new DatasetError('chosen and rejected share no "\\n\\nAssistant:" turn, so the prompt cannot be found');
  const cut = at + HH_MARKER.length;
  return { prompt: chosen.slice(0, cut), chosen: chosen.slice(cut), rejected: rejected.slice(cut) };
}

function detect(o: Record<string, unknown>): DatasetFormat | null {
  if ('input' in o && 'output_1' in o && 'output_2' in o && 'label' in o) return 'llmbar';
  if ('chosen' in o && 'rejected' in o) {
    if (isMessages(o.chosen) || isMessages(o.prompt)) return 'trl-conversational';
    if ('prompt' in o) return 'trl';
    return 'hh';
  }
  return null;
}

const KNOWN: Record<DatasetFormat, readonly string[]> = {
  trl: ['prompt', 'chosen', 'rejected'],
  'trl-conversational': ['prompt', 'chosen', 'rejected'],
  hh: ['chosen', 'rejected'],
  llmbar: ['input', 'output_1', 'output_2', 'label'],
};

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new DatasetError(`field "${k}" must be a string (got ${v === undefined ? 'nothing' : typeof v})`);
  return v;
}

/** Normalises one record of a known format; throws DatasetError naming the field at fault. */
export function normalizeRecord(o: unknown, format: DatasetFormat, index: number): PreferencePair {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new DatasetError('expected a JSON object');
  const r = o as Record<string, unknown>;
  let prompt: string;
  let chosen: string;
  let rejected: string;
  switch (format) {
    case 'trl':
      [prompt, chosen, rejected] = [str(r, 'prompt'), str(r, 'chosen'), str(r, 'rejected')];
      break;
    case 'hh':
      ({ prompt, chosen, rejected } = splitHH(str(r, 'chosen'), str(r, 'rejected')));
      break;
    case 'llmbar': {
      const label = Number(r.label);
      if (label !== 1 && label !== 2) throw new DatasetError(`field "label" must be 1 or 2 (got ${JSON.stringify(r.label)})`);
      prompt = str(r, 'input');
      chosen = str(r, label === 1 ? 'output_1' : 'output_2');
      rejected = str(r, label === 1 ? 'output_2' : 'output_1');
      break;
    }
    case 'trl-conversational': {
      if (!isMessages(r.chosen)) throw new DatasetError('field "chosen" must be a list of {"role", "content"} messages');
      if (!isMessages(r.rejected)) throw new DatasetError('field "rejected" must be a list of {"role", "content"} messages');
      let p: Message[];
      let c: Message[];
      let j: Message[];
      if (r.prompt !== undefined) {
        if (!isMessages(r.prompt)) throw new DatasetError('field "prompt" must be a list of {"role", "content"} messages');
        [p, c, j] = [r.prompt, r.chosen, r.rejected];
      } else {
        let k = 0;
        while (k < r.chosen.length - 1 && k < r.rejected.length - 1 && JSON.stringify(r.chosen[k]) === JSON.stringify(r.rejected[k])) k++;
        [p, c, j] = [r.chosen.slice(0, k), r.chosen.slice(k), r.rejected.slice(k)];
      }
      const reply = (ms: Message[], f: string) => {
        if (ms.length !== 1 || (ms[0] as Message).role.toLowerCase() !== 'assistant') throw new DatasetError(`field "${f}" must end in exactly one assistant message after the prompt`);
        return ` ${(ms[0] as Message).content}`;
      };
      prompt = render(p) + HH_MARKER;
      chosen = reply(c, 'chosen');
      rejected = reply(j, 'rejected');
      break;
    }
  }
  let alpha: number | undefined;
  if (r.alpha !== undefined && r.alpha !== null) {
    alpha = Number(r.alpha);
    if (!(alpha >= 0 && alpha <= 1)) throw new DatasetError(`field "alpha" must be a number in [0, 1] (got ${JSON.stringify(r.alpha)})`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!KNOWN[format].includes(k) && k !== 'alpha' && k !== 'id') extra[k] = v;
  const id = r.id === undefined || r.id === null ? String(index) : String(r.id);
  return { id, prompt, chosen, rejected, ...(alpha !== undefined ? { alpha } : {}), extra };
}

/** Splits a stream of text chunks into lines (LF or CRLF), without holding the whole text. */
async function* lines(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let rest = '';
  let first = true;
  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
    }
  }
  if (rest.length) yield rest.replace(/\r$/, '');
}

/**
 * Parses a dataset. JSONL is streamed line by line; a file whose first non-blank character is "["
 * is a JSON array (its records are numbered by their index + 1 as "line").
 */
export async function* parseDataset(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<DatasetItem> {
  let format: DatasetFormat | null = null;
  let index = 0;
  let lineNo = 0;
  let arrayText: string[] | null = null;
  const handle = function* (obj: unknown, line: number): Generator<DatasetItem> {
    try {
      if (format === null) {
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DatasetError('expected a JSON object');
        format = detect(obj as Record<string, unknown>);
        if (!format) throw new DatasetError('unknown record shape: expected {prompt, chosen, rejected} (TRL), {chosen, rejected} (Anthropic HH) or {input, output_1, output_2, label} (LLMBar)');
      }
      yield { pair: normalizeRecord(obj, format, index++), line };
    } catch (e) {
      yield { error: { line, message: (e as Error).message } };
    }
  };
  for await (const text of lines(chunks)) {
    lineNo++;
    if (arrayText) {
      arrayText.push(text);
      continue;
    }
    if (text.trim() === '') continue;
    if (format === null && index === 0 && text.trimStart().startsWith('[')) {
      arrayText = [text];
      continue;
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      yield { error: { line: lineNo, message: `invalid JSON: ${(e as Error).message}` } };
      continue;
    }
    yield* handle(obj, lineNo);
  }
  if (arrayText) {
    let arr: unknown;
    try {
      arr = JSON.parse(arrayText.join('\n'));
    } catch (e) {
      yield { error: { line: 1, message: `invalid JSON array: ${(e as Error).message}` } };
      return;
    }
    if (!Array.isArray(arr)) {
      yield { error: { line: 1, message: 'expected a JSON array of records' } };
      return;
    }
    for (let i = 0; i < arr.length; i++) yield* handle(arr[i], i + 1);
  }
}

/** Collects a whole dataset; throws DatasetError when nothing valid was found. */
export async function readDataset(chunks: AsyncIterable<string> | Iterable<string>, limit = Infinity): Promise<{ pairs: PreferencePair[]; errors: RecordError[] }> {
  const pairs: PreferencePair[] = [];
  const errors: RecordError[] = [];
  for await (const item of parseDataset(chunks)) {
    if ('error' in item) errors.push(item.error);
    else if (pairs.length < limit) pairs.push(item.pair);
    if (pairs.length >= limit) break;
  }
  if (pairs.length === 0) {
    const first = errors[0];
    throw new DatasetError(first ? `no valid preference pairs; line ${first.line}: ${first.message}` : 'the dataset is empty');
  }
  return { pairs, errors };
}
