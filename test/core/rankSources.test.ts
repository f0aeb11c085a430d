/**
 * The ranking evaluation's remaining parts, on fake models and a fake fetch: the Hugging Face
 * datasets-server source (pagination, early stop, error messages), URL fetch messages, the chat
 * template (prompt/response split, HH and conversational messages, refusal), per-token scores
 * (they add up to the pair scores), and partial results with resume (equal to an uninterrupted run).
 */
import { describe, expect, it } from 'vitest';
import { hfRows, listSplits, rowsUrl } from '../../src/core/data/hfRows.ts';
import { applyChatTemplate, chatTemplaterOf, type ChatTemplater } from '../../src/core/data/chatTemplate.ts';
import { hhMessages, parseDataset, parseRecords, readItems, type PreferencePair } from '../../src/core/data/preferences.ts';
import { scorePairs, type PartialScores } from '../../src/core/metrics/scorePairs.ts';
import { scorePairTokens } from '../../src/core/metrics/tokenScores.ts';
import { fetchDatasetUrl, readJobDataset, scoreJob } from '../../src/inference/rankJob.ts';
import type { RankJob, RankProgress } from '../../src/inference/protocol.ts';
import { letterTokenizer, PrefixModel, TableModel } from '../support/fakeModel.ts';

const V = 27;
const tok = letterTokenizer(V);

/** A fake datasets-server: `rows` rows of a TRL split, and the requests it saw. */
function fakeServer(rows: object[], opts: { truncateRow?: number } = {}) {
  const seen: string[] = [];
  const fetchFn = async (url: string) => {
    seen.push(url);
    const u = new URL(url);
    const json = (status: number, body: unknown) => ({ ok: status < 400, status, statusText: status < 400 ? 'OK' : 'Not Found', headers: new Headers({ 'content-type': 'application/json' }), text: async () => JSON.stringify(body) });
    if (u.searchParams.get('dataset') !== 'me/prefs') return json(404, { error: "The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication." });
    if (u.pathname === '/splits') return json(200, { splits: [{ dataset: 'me/prefs', config: 'default', split: 'train' }, { dataset: 'me/prefs', config: 'default', split: 'test' }], pending: [], failed: [] });
    const offset = Number(u.searchParams.get('offset'));
    const length = Number(u.searchParams.get('length'));
    expect(length).toBeLessThanOrEqual(100);
    const page = rows.slice(offset, offset + length).map((row, k) => ({ row_idx: offset + k, row, truncated_cells: offset + k === opts.truncateRow ? ['chosen'] : [] }));
    return json(200, { features: [], rows: page, num_rows_total: rows.length, num_rows_per_page: 100, partial: false });
  };
  return { fetchFn, seen };
}

const trlRows = (n: number) => Array.from({ length: n }, (_, i) => ({ prompt: `p${i} abc`, chosen: ` good ${i}`, rejected: ` bad ${i}` }));

describe('Hugging Face datasets-server source', () => {
  it('lists splits, pages 100 rows at a time, and stops fetching once enough pairs were read', async () => {
    const { fetchFn, seen } = fakeServer(trlRows(350));
    expect(await listSplits(fetchFn, 'http://fake', 'me/prefs')).toEqual([
      { config: 'default', split: 'train' },
      { config: 'default', split: 'test' },
    ]);
    const progress: [number, number][] = [];
    const all = await readItems(parseRecords(hfRows(fetchFn, 'me/prefs', 'default', 'test', { server: 'http://fake/', onProgress: (d, t) => progress.push([d, t]) })));
    expect(all.pairs).toHaveLength(350);
    expect(all.pairs[349]).toMatchObject({ id: '349', prompt: 'p349 abc', chosen: ' good 349' });
    expect(seen.filter((u) => u.includes('/rows')).length).toBe(4);
    expect(progress).toEqual([[100, 350], [200, 350], [300, 350], [350, 350]]);
    seen.length = 0;
    const some = await readItems(parseRecords(hfRows(fetchFn, 'me/prefs', 'default', 'test', { server: 'http://fake' })), 120);
    expect(some.pairs).toHaveLength(120);
    expect(seen).toEqual([rowsUrl('http://fake', 'me/prefs', 'default', 'test', 0, 100), rowsUrl('http://fake', 'me/prefs', 'default', 'test', 100, 100)]);
  });

  it('reports a truncated row as a bad record and keeps the rest', async () => {
    const { fetchFn } = fakeServer(trlRows(5), { truncateRow: 2 });
    const r = await readItems(parseRecords(hfRows(fetchFn, 'me/prefs', 'default', 'test', { server: 'http://fake' })));
    expect(r.pairs.map((p) => p.id)).toEqual(['0', '1', '2', '3']);
    expect(r.errors).toEqual([{ line: 3, message: 'row 2: the datasets-server truncated its field "chosen" (too large to serve); skipped' }]);
  });

  it('says what went wrong: a bad name, the server error text, a network failure', async () => {
    const { fetchFn } = fakeServer([]);
    await expect(listSplits(fetchFn, 'http://fake', 'not a name')).rejects.toThrow(/is not a Hugging Face dataset name: use owner\/name/);
    await expect(listSplits(fetchFn, 'http://fake', 'me/missing')).rejects.toThrow(/refused .*HTTP 404.*The dataset does not exist/);
    const offline = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(listSplits(offline, 'https://datasets-server.huggingface.co', 'me/prefs')).rejects.toThrow(/Could not reach the Hugging Face datasets-server \(https:\/\/datasets-server.huggingface.co\): you may be offline/);
  });
});

describe('URL source', () => {
  const res = (status: number, body: string, type = 'application/x-ndjson') => new Response(body, { status, headers: { 'content-type': type } });
  const text = async (it: AsyncIterable<Uint8Array>) => {
    let s = '';
    for await (const b of it) s += new TextDecoder().decode(b);
    return s;
  };
  it('streams the file, and names network/CORS, HTTP and HTML failures', async () => {
    expect(await text(await fetchDatasetUrl('https://x.test/a.jsonl', undefined, async () => res(200, '{"a":1}\n')))).toBe('{"a":1}\n');
    await expect(fetchDatasetUrl('x.test/a.jsonl')).rejects.toThrow(/is not a URL: give a full http\(s\) address/);
    await expect(fetchDatasetUrl('ftp://x.test/a.jsonl')).rejects.toThrow(/only http\(s\) URLs/);
    await expect(fetchDatasetUrl('https://x.test/a.jsonl', undefined, async () => Promise.reject(new TypeError('Failed to fetch')))).rejects.toThrow(
      /Could not fetch https:\/\/x.test\/a.jsonl: the network failed, or https:\/\/x.test does not allow cross-origin requests \(it must send Access-Control-Allow-Origin\)/,
    );
    await expect(fetchDatasetUrl('https://x.test/a.jsonl', undefined, async () => res(404, 'nope', 'text/plain'))).rejects.toThrow(/answered HTTP 404/);
    await expect(fetchDatasetUrl('https://x.test/a.jsonl', undefined, async () => res(200, '<!doctype html><p>hi', 'text/html'))).rejects.toThrow(/is an HTML page, not a dataset/);
    // an HTML page served with a non-HTML type is caught from its first bytes
    const sneaky = await fetchDatasetUrl('https://x.test/a.jsonl', undefined, async () => res(200, '  <html><body>login</body></html>', 'application/octet-stream'));
    await expect(text(sneaky)).rejects.toThrow(/is an HTML page, not a dataset/);
  });

  it('reads a job from a URL through readJobDataset, gunzipping .gz', async () => {
    const gz = await new Response(new Blob(['{"prompt":"ab","chosen":"c","rejected":"d"}\n']).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
    const job = { dataset: { kind: 'url', url: 'https://x.test/p.jsonl.gz' }, scorer: 'policy', beta: 1, lengthNormalize: false } as RankJob;
    const fetchGz = (async () => new Response(gz, { status: 200, headers: { 'content-type': 'application/gzip' } })) as unknown as typeof fetch;
    const data = await readJobDataset(job, { fetchSite: () => Promise.reject(new Error('unused')), fetch: fetchGz });
    expect(data.pairs.map((p) => [p.prompt, p.chosen])).toEqual([['ab', 'c']]);
  });
});

/** A template in the style of ChatML, as a function (what transformers.js renders from Jinja). */
const chatml: ChatTemplater = {
  apply: (ms, gen) => ms.map((m) => `<${m.role}>${m.content}</${m.role}>`).join('') + (gen ? '<assistant>' : ''),
};

describe('chat template', () => {
  it('renders a plain pair as a user turn and an assistant turn, split at the generation prompt', () => {
    const p: PreferencePair = { id: '1', prompt: 'hi', chosen: ' yes', rejected: ' no', extra: {} };
    expect(applyChatTemplate(p, chatml)).toMatchObject({ prompt: '<user>hi</user><assistant>', chosen: ' yes</assistant>', rejected: ' no</assistant>' });
  });

  it('keeps conversational (TRL) and HH turns as messages', async () => {
    const conv = JSON.stringify({ prompt: [{ role: 'system', content: 's' }, { role: 'user', content: 'q' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] });
    const hh = JSON.stringify({ chosen: '\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant: good', rejected: '\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant: bad' });
    const [c] = (await readItems(parseDataset([conv]))).pairs;
    const [h] = (await readItems(parseDataset([hh]))).pairs;
    expect(applyChatTemplate(c as PreferencePair, chatml)).toMatchObject({ prompt: '<system>s</system><user>q</user><assistant>', chosen: 'a</assistant>' });
    expect(applyChatTemplate(h as PreferencePair, chatml)).toMatchObject({ prompt: '<user>q1</user><assistant>a1</assistant><user>q2</user><assistant>', chosen: 'good</assistant>', rejected: 'bad</assistant>' });
    expect(hhMessages('\n\nHuman: only text')).toBeNull();
  });

  it('refuses a pair whose prompt renders differently once the reply follows; scorePairs skips it with the reason', async () => {
    const odd: ChatTemplater = { apply: (ms, gen) => (gen ? `[${ms.length}]` : `{${ms.length}}`) + ms.map((m) => m.content).join('|') };
    const pairs: PreferencePair[] = [{ id: 'x', prompt: 'ab', chosen: 'c', rejected: 'd', extra: {} }];
    const res = await scorePairs(pairs, 'policy', { policy: new TableModel(Array.from({ length: V }, () => new Array<number>(V).fill(0))) }, tok, { transform: (p) => applyChatTemplate(p, odd) });
    expect(res.pairs).toEqual([]);
    expect(res.skipped[0]?.reason).toMatch(/the chat template renders the prompt of pair x differently once the chosen reply follows/);
  });

  it('finds a template on a transformers.js-like tokenizer, and none when it has no chat_template', () => {
    const raw = { chat_template: '{{ x }}', apply_chat_template: (ms: { content: string }[]) => ms.map((m) => m.content).join('+') };
    expect(chatTemplaterOf({ raw })?.apply([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], false)).toBe('a+b');
    expect(chatTemplaterOf({ raw: { ...raw, chat_template: null } })).toBeNull();
    expect(chatTemplaterOf(tok)).toBeNull();
  });
});

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const word = (u: () => number, n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(u() * 26))).join('');
function makePairs(n: number): PreferencePair[] {
  const u = lcg(7);
  return Array.from({ length: n }, (_, i) => ({ id: `p${i}`, prompt: word(u, 1 + Math.floor(u() * 12)), chosen: word(u, 1 + Math.floor(u() * 10)), rejected: word(u, 1 + Math.floor(u() * 14)), extra: {} }));
}

describe('per-token scores', () => {
  for (const [kind, models] of [
    ['policy', (a: PrefixModel) => ({ policy: a })],
    ['arm', (a: PrefixModel) => ({ arm: a })],
    ['implicit', (a: PrefixModel, b: PrefixModel) => ({ tuned: a, ref: b })],
  ] as const) {
    it(`${kind}: each response's token values add up to its pair score`, async () => {
      const a = new PrefixModel(V, 40, 'a');
      const b = new PrefixModel(V, 40, 'b');
      const pairs = makePairs(6);
      const ranked = await scorePairs(pairs, kind, models(a, b), tok, { beta: 0.5 });
      for (const [i, pair] of pairs.entries()) {
        const t = await scorePairTokens(pair, kind, models(a, b), tok, { beta: 0.5 });
        expect(t.perToken).toBe(true);
        // EOS is appended to a finished response by default (token-level scorers): its last token.
        expect(t.chosen.texts.join('')).toBe(pair.chosen + '<eos>');
        expect(t.chosen.values).toHaveLength(pair.chosen.length + 1);
        expect(t.eosAppended).toEqual({ chosen: true, rejected: true });
        const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
        expect(sum(t.chosen.values)).toBeCloseTo(ranked.pairs[i]!.chosen, 4);
        expect(sum(t.rejected.values)).toBeCloseTo(ranked.pairs[i]!.rejected, 4);
        expect(t.chosen.total).toBeCloseTo(ranked.pairs[i]!.chosen, 4);
      }
    });
  }

  it('sequence reward model: per-token prefix attribution RM(x ⊕ y≤t) − RM(x ⊕ y<t), and says so', async () => {
    // RM = squared length: prompt 'ab' (2 tokens) → prefixes 4, 9, 16, 25 for 'cde'.
    const rm = { id: 'rm', vocabSize: V, contextLength: 40, score: async (b: readonly (readonly number[])[]) => Float32Array.from(b, (r) => r.length * r.length), dispose: async () => {} };
    const t = await scorePairTokens({ id: 'q', prompt: 'ab', chosen: 'cde', rejected: 'f', extra: {} }, 'sequence', { rewardModel: rm }, tok);
    expect(t.perToken).toBe(true);
    expect(t.meaning).toMatch(/prefix attribution/);
    expect(t.chosen.values).toEqual([5, 7, 9]);
    expect(t.rejected.values).toEqual([5]);
    expect([t.chosen.total, t.rejected.total]).toEqual([25, 9]);
  });
});

describe('partial results and resume', () => {
  it('reports completed windows as a dataset-order prefix with the count of input pairs consumed', async () => {
    const m = new PrefixModel(V, 16);
    const pairs = makePairs(21); // responses of at most 14 tokens fit a context of 16
    pairs[9] = { ...pairs[9]!, chosen: word(lcg(1), 16) }; // a response as long as the context: skipped
    const parts: PartialScores[] = [];
    const full = await scorePairs(pairs, 'policy', { policy: m }, tok, { batchSize: 2, sortWindow: 4, onPartial: (p) => parts.push(p) });
    expect(parts.map((p) => p.consumed)).toEqual([4, 8, 13, 17, 21]);
    expect(parts.flatMap((p) => p.pairs.map((x) => x.id))).toEqual(full.pairs.map((x) => x.id));
    expect(parts.flatMap((p) => p.skipped)).toEqual(full.skipped);
    expect(parts[2]!.skipped.map((s) => s.id)).toEqual(['p9']);
  });

  it('a run stopped after some windows and resumed gives the uninterrupted scores', async () => {
    const m = new PrefixModel(V, 40);
    const pairs = makePairs(40);
    const job: RankJob = { dataset: { kind: 'bundled', path: 'x' }, scorer: 'policy', policy: 'm', beta: 1, lengthNormalize: false };
    const whole = await scoreJob(job, pairs, { policy: m }, tok, undefined, new AbortController().signal, () => {});
    // the first run stops (as a reload or cancel would) after three windows of 4 pairs
    const ctrl = new AbortController();
    const saved: PartialScores[] = [];
    const onProgress = (p: RankProgress) => {
      if (p.partial) saved.push(p.partial);
    };
    const first = await scorePairs(pairs, 'policy', { policy: m }, tok, { batchSize: 2, sortWindow: 4, signal: ctrl.signal, onPartial: (p) => (saved.push(p), saved.length === 3 && ctrl.abort()) });
    expect(first.aborted).toBe(true);
    const consumed = saved[saved.length - 1]!.consumed;
    expect(consumed).toBe(12);
    const resumed = await scoreJob({ ...job, resume: { consumed, pairs: saved.flatMap((p) => p.pairs), skipped: saved.flatMap((p) => p.skipped) } }, pairs, { policy: m }, tok, undefined, new AbortController().signal, onProgress);
    expect(resumed.pairs.map((p) => p.id)).toEqual(whole.pairs.map((p) => p.id));
    expect(resumed.pairs.map((p) => p.index)).toEqual(pairs.map((_, i) => i));
    resumed.pairs.forEach((p, i) => expect(p.chosen).toBeCloseTo(whole.pairs[i]!.chosen, 4));
    // the resumed run's partial results carry dataset-wide indices
    expect(saved.slice(3).flatMap((p) => p.pairs.map((x) => x.index))[0]).toBe(12);
  });
});
