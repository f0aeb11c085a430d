/**
 * Preference datasets (DESIGN §5): JSONL or a JSON array, in the TRL shape (plain or
 * conversational), the Anthropic HH transcript shape, or the LLMBar shape — detected per file from
 * the first valid record. A bad record is reported with its line number and skipped; the rest loads.
 * Parsing is incremental over text chunks, so a large file never has to be one string: memory is
 * bounded by the longest line (JSONL) or element (JSON array), and time is linear in the size.
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
  /**
   * The pair as chat messages, for scoring through a chat template (chatTemplate.ts): the
   * conversational TRL messages as given, and Anthropic HH transcripts split at their
   * "Human:"/"Assistant:" turns. Absent for plain text pairs (they become one user turn).
   */
  readonly messages?: PairMessages;
}

export interface Message {
  readonly role: string;
  readonly content: string;
}

/** A pair's conversation: the shared prompt turns and each response's (assistant) turn. */
export interface PairMessages {
  readonly prompt: readonly Message[];
  readonly chosen: string;
  readonly rejected: string;
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

function isMessages(v: unknown): v is Message[] {
  return Array.isArray(v) && v.every((m) => typeof m === 'object' && m !== null && typeof (m as Message).role === 'string' && typeof (m as Message).content === 'string');
}

/** Renders messages the HH way: "\n\nHuman: …\n\nAssistant: …". */
function render(msgs: readonly Message[]): string {
  return msgs.map((m) => `\n\n${ROLE[m.role.toLowerCase()] ?? m.role}: ${m.content}`).join('');
}

/**
 * Splits an HH prompt ("\n\nHuman: …\n\nAssistant: …\n\nAssistant:") into chat messages; the
 * final empty "Assistant:" turn is the one the responses fill. Null when the text has no such turns.
 */
export function hhMessages(prompt: string): Message[] | null {
  const parts = prompt.split(/\n\n(Human|Assistant|System):/);
  if (parts.length < 3 || (parts[0] as string).trim() !== '') return null;
  const out: Message[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const role = parts[i] === 'Human' ? 'user' : parts[i] === 'Assistant' ? 'assistant' : 'system';
    out.push({ role, content: (parts[i + 1] as string).replace(/^ /, '') });
  }
  const last = out.pop();
  if (!last || last.role !== 'assistant' || last.content.trim() !== '') return null;
  return out;
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
  let messages: PairMessages | undefined;
  switch (format) {
    case 'trl':
      [prompt, chosen, rejected] = [str(r, 'prompt'), str(r, 'chosen'), str(r, 'rejected')];
      break;
    case 'hh': {
      ({ prompt, chosen, rejected } = splitHH(str(r, 'chosen'), str(r, 'rejected')));
      const turns = hhMessages(prompt);
      if (turns) messages = { prompt: turns, chosen: chosen.replace(/^ /, ''), rejected: rejected.replace(/^ /, '') };
      break;
    }
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
      messages = { prompt: p.map((m) => ({ role: m.role, content: m.content })), chosen: (c[0] as Message).content, rejected: (j[0] as Message).content };
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
  return { id, prompt, chosen, rejected, ...(alpha !== undefined ? { alpha } : {}), extra, ...(messages ? { messages } : {}) };
}

/** Splits a stream of text chunks into lines (LF or CRLF), without holding the whole text. */
async function* lines(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  // The current line's pieces: a long line is joined once at its end (never re-scanned or re-copied
  // per chunk), and a chunk is scanned once from where the last line ended.
  let pending: string[] = [];
  let atStart = true;
  const cr = (s: string) => (s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s);
  for await (let chunk of chunks) {
    if (atStart && chunk.length) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      atStart = false;
    }
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      let line = chunk.slice(start, nl);
      if (pending.length) {
        pending.push(line);
        line = pending.join('');
        pending = [];
      }
      yield cr(line);
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(start ? chunk.slice(start) : chunk);
  }
  if (pending.length) yield cr(pending.join(''));
}

/**
 * Splits the text of a JSON array (after its "[") into the texts of its elements, incrementally:
 * only the element being read is held. Tracks strings (with escapes) and nesting; a "," or the
 * closing "]" at the top level ends an element. Malformed elements are left to JSON.parse.
 */
class ArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: string[] = [];
  /** After the closing "]". */
  closed = false;
  /** Non-blank text after the closing "]". */
  trailing = false;

  /** Feeds text; returns the elements completed in it (untrimmed; an empty one is blank text). */
  feed(s: string): string[] {
    const out: string[] = [];
    let seg = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.closed) {
        if (c !== 32 && c !== 9 && c !== 10 && c !== 13) this.trailing = true;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92) this.escaped = true; // backslash
        else if (c === 34) this.inString = false;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++; // { [
      else if ((c === 125 || c === 93) && this.depth > 0) this.depth--; // } ]
      else if ((c === 44 || c === 93) && this.depth === 0) {
        // , or the closing ]
        this.pieces.push(s.slice(seg, i));
        const text = this.pieces.join('');
        this.pieces = [];
        seg = i + 1;
        if (c === 93) {
          this.closed = true;
          if (text.trim() !== '') out.push(text); // "[]" has no element; a trailing comma is let pass
        } else out.push(text);
      }
    }
    if (!this.closed && seg < s.length) this.pieces.push(s.slice(seg));
    return out;
  }

  /** What is left when the input ends before the closing "]" (blank when nothing). */
  rest(): string {
    const t = this.pieces.join('');
    this.pieces = [];
    return t;
  }
}

/**
 * Decodes a stream of UTF-8 byte chunks into text chunks. Bytes that are not valid UTF-8 become
 * U+FFFD (the file still loads), a character split across chunks is decoded whole, and a leading
 * byte-order mark is dropped.
 */
export async function* decodeUtf8(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  // TextDecoder is a global in browsers and Node; the core's type library has no DOM.
  type Decoder = { decode(input?: Uint8Array, options?: { stream?: boolean }): string };
  const Ctor = (globalThis as unknown as { TextDecoder: new (label: string, options: { fatal: boolean }) => Decoder }).TextDecoder;
  const dec = new Ctor('utf-8', { fatal: false });
  for await (const b of bytes) {
    const s = dec.decode(b, { stream: true });
    if (s) yield s;
  }
  const tail = dec.decode();
  if (tail) yield tail;
}

/**
 * Parses a dataset. JSONL is streamed line by line; a file whose first non-blank character is "["
 * is a JSON array, also streamed element by element (its records are numbered by their index + 1
 * as "line"). Memory stays bounded by the longest line or element, whatever the file size.
 */
export async function* parseDataset(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<DatasetItem> {
  let format: DatasetFormat | null = null;
  let index = 0;
  let lineNo = 0;
  let array: ArraySplitter | null = null;
  let element = 0;
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
  const elements = function* (texts: string[]): Generator<DatasetItem> {
    for (const text of texts) {
      element++;
      if (text.trim() === '') {
        yield { error: { line: element, message: 'invalid JSON array: empty element' } };
        continue;
      }
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        yield { error: { line: element, message: `invalid JSON: ${(e as Error).message}` } };
        continue;
      }
      yield* handle(obj, element);
    }
  };
  for await (const text of lines(chunks)) {
    lineNo++;
    if (array) {
      yield* elements(array.feed(text + '\n'));
      continue;
    }
    if (text.trim() === '') continue;
    if (format === null && index === 0) {
      const t = text.trimStart();
      if (t.startsWith('[')) {
        array = new ArraySplitter();
        yield* elements(array.feed(t.slice(1) + '\n'));
        continue;
      }
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
  if (array && !array.closed) {
    const rest = array.rest();
    if (rest.trim() !== '') yield* elements([rest]);
    yield { error: { line: element + 1, message: 'invalid JSON array: the text ends before its closing "]"' } };
  } else if (array?.trailing) {
    yield { error: { line: element + 1, message: 'invalid JSON array: unexpected text after its closing "]"' } };
  }
}

/**
 * Normalises already-parsed records (e.g. rows of the Hugging Face datasets-server, hfRows.ts) the
 * way parseDataset does lines: the format is detected from the first valid record, and a bad record
 * (or an error the source reports for a row) is passed on with its line (row) number.
 */
export async function* parseRecords(records: AsyncIterable<{ readonly value: unknown; readonly line: number } | { readonly error: RecordError }>): AsyncGenerator<DatasetItem> {
  let format: DatasetFormat | null = null;
  let index = 0;
  for await (const rec of records) {
    if ('error' in rec) {
      yield rec;
      continue;
    }
    try {
      const obj = rec.value;
      if (format === null) {
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DatasetError('expected a JSON object');
        format = detect(obj as Record<string, unknown>);
        if (!format) throw new DatasetError(`unknown record shape (fields: ${Object.keys(obj).join(', ') || 'none'}): expected {prompt, chosen, rejected} (TRL), {chosen, rejected} (Anthropic HH) or {input, output_1, output_2, label} (LLMBar)`);
      }
      yield { pair: normalizeRecord(obj, format, index++), line: rec.line };
    } catch (e) {
      yield { error: { line: rec.line, message: (e as Error).message } };
    }
  }
}

/** Collects a whole dataset; throws DatasetError when nothing valid was found. */
export async function readDataset(chunks: AsyncIterable<string> | Iterable<string>, limit = Infinity): Promise<{ pairs: PreferencePair[]; errors: RecordError[] }> {
  return readItems(parseDataset(chunks), limit);
}

/** Collects parsed items (parseDataset or parseRecords) up to `limit` pairs; throws DatasetError when nothing valid was found. */
export async function readItems(items: AsyncIterable<DatasetItem>, limit = Infinity): Promise<{ pairs: PreferencePair[]; errors: RecordError[] }> {
  const pairs: PreferencePair[] = [];
  const errors: RecordError[] = [];
  for await (const item of items) {
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
