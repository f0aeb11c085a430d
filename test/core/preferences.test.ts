import { describe, expect, it } from 'vitest';
import { parseDataset, readDataset, splitHH, type DatasetItem } from '../../src/core/data/preferences.ts';

async function all(chunks: Iterable<string>): Promise<DatasetItem[]> {
  const out: DatasetItem[] = [];
  for await (const x of parseDataset(chunks)) out.push(x);
  return out;
}

describe('preference dataset parsing', () => {
  it('reads TRL JSONL, keeps id, alpha and extra fields', async () => {
    const items = await all(['{"prompt":"P","chosen":" a","rejected":" b","alpha":0.8,"id":"x1","src":"s"}\n{"prompt":"Q","chosen":"c","rejected":"d"}\n']);
    expect(items).toEqual([
      { pair: { id: 'x1', prompt: 'P', chosen: ' a', rejected: ' b', alpha: 0.8, extra: { src: 's' } }, line: 1 },
      { pair: { id: '1', prompt: 'Q', chosen: 'c', rejected: 'd', extra: {} }, line: 2 },
    ]);
  });

  it('splits Anthropic HH transcripts at the last shared "\\n\\nAssistant:"', () => {
    const c = '\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant: Like this.';
    const r = '\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant: No.';
    expect(splitHH(c, r)).toEqual({ prompt: '\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant:', chosen: ' Like this.', rejected: ' No.' });
    // transcripts that differ before the last turn: the prompt ends at the last turn both share
    const c2 = '\n\nHuman: hi\n\nAssistant: A\n\nHuman: more\n\nAssistant: B';
    const r2 = '\n\nHuman: hi\n\nAssistant: X';
    expect(splitHH(c2, r2)).toEqual({ prompt: '\n\nHuman: hi\n\nAssistant:', chosen: ' A\n\nHuman: more\n\nAssistant: B', rejected: ' X' });
    expect(() => splitHH('abc', 'abd')).toThrow(/share no/);
  });

  it('reads LLMBar and TRL conversational records', async () => {
    const llmbar = await readDataset(['{"input":"Q?","output_1":"one","output_2":"two","label":2}']);
    expect(llmbar.pairs[0]).toMatchObject({ prompt: 'Q?', chosen: 'two', rejected: 'one' });
    const conv = await readDataset([
      JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'Go away.' }] }),
    ]);
    expect(conv.pairs[0]).toMatchObject({ prompt: '\n\nHuman: Hi\n\nAssistant:', chosen: ' Hello!', rejected: ' Go away.' });
    const implicit = await readDataset([
      JSON.stringify({
        chosen: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }],
        rejected: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'No.' }],
      }),
    ]);
    expect(implicit.pairs[0]).toMatchObject({ prompt: '\n\nHuman: Hi\n\nAssistant:', chosen: ' Hello!', rejected: ' No.' });
  });

  it('reports bad lines by number and keeps the rest (BOM, CRLF, blank lines, mistyped fields)', async () => {
    const text = '\ufeff{"prompt":"a","chosen":"b","rejected":"c"}\r\n{not json}\r\n\r\n{"prompt":"a","chosen":5,"rejected":"c"}\r\n{"prompt":"a","chosen":"b","rejected":"c","alpha":2}\r\n{"prompt":"x","chosen":"y","rejected":"z"}';
    const { pairs, errors } = await readDataset([text]);
    expect(pairs.map((p) => p.prompt)).toEqual(['a', 'x']);
    expect(errors.map((e) => e.line)).toEqual([2, 4, 5]);
    expect(errors[0]?.message).toMatch(/invalid JSON/);
    expect(errors[1]?.message).toBe('field "chosen" must be a string (got number)');
    expect(errors[2]?.message).toMatch(/field "alpha" must be a number in \[0, 1\]/);
  });

  it('streams lines split across chunks and reads JSON arrays', async () => {
    const chunks = ['{"prompt":"a","cho', 'sen":"b","rejected":"c"}\n{"prompt":"d",', '"chosen":"e","rejected":"f"}'];
    expect((await readDataset(chunks)).pairs.map((p) => p.prompt)).toEqual(['a', 'd']);
    const arr = await readDataset(['[\n{"prompt":"a","chosen":"b","rejected":"c"},\n', '{"chosen":"b"}\n]']);
    expect(arr.pairs).toHaveLength(1);
    expect(arr.errors).toEqual([{ line: 2, message: 'field "prompt" must be a string (got nothing)' }]);
  });

  it('says what is wrong with an empty or unknown file', async () => {
    await expect(readDataset([''])).rejects.toThrow(/the dataset is empty/);
    await expect(readDataset(['{"question":"q"}'])).rejects.toThrow(/line 1: unknown record shape/);
  });

  it('stops at a limit', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: 'a', rejected: 'b' })).join('\n');
    expect((await readDataset([lines], 3)).pairs).toHaveLength(3);
  });
});

import { decodeUtf8 } from '../../src/core/data/preferences.ts';

describe('streaming robustness', () => {
  const rec = (i: number) => JSON.stringify({ prompt: `p${i}`, chosen: 'a', rejected: 'b' });

  it('splits lines wherever the chunks break (CR/LF split, one-character chunks, BOM after an empty chunk)', async () => {
    const text = `${rec(0)}\r\n${rec(1)}\n\n${rec(2)}\r\n`;
    const oneChar = ['', '\ufeff', ...text];
    expect((await readDataset(oneChar)).pairs.map((p) => p.prompt)).toEqual(['p0', 'p1', 'p2']);
    const many = Array.from({ length: 1000 }, (_, i) => rec(i)).join('\n');
    const { pairs } = await readDataset([many.slice(0, 12345), many.slice(12345)]);
    expect(pairs).toHaveLength(1000);
    expect(pairs[999]?.prompt).toBe('p999');
  });

  it('reads a long line arriving in many chunks in linear time', async () => {
    const big = 'x'.repeat(4_000_000);
    const line = JSON.stringify({ prompt: 'p', chosen: big, rejected: 'b' });
    const chunks = Array.from({ length: Math.ceil(line.length / 1000) }, (_, i) => line.slice(i * 1000, (i + 1) * 1000));
    const t0 = performance.now();
    const { pairs } = await readDataset(chunks); // 4,000 chunks: a re-scan per chunk would be ~8e9 steps
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(pairs[0]?.chosen.length).toBe(4_000_000);
  });

  it('streams a JSON array element by element, through strings, escapes and nested lists', async () => {
    const recs = [
      { prompt: 'a, ] } [ {', chosen: 'say "hi", then \\ go]', rejected: 'x' },
      { prompt: [{ role: 'user', content: 'q]' }], chosen: [{ role: 'assistant', content: '{ok}' }], rejected: [{ role: 'assistant', content: 'no' }] },
    ];
    const text = ` \n[ ${JSON.stringify(recs[0])},\n  ${JSON.stringify(recs[1])} ]\n`;
    for (const chunks of [[text], [...text]]) {
      const items = await all(chunks);
      expect(items.map((x) => ('pair' in x ? x.line : x.error))).toEqual([1, { line: 2, message: 'field "prompt" must be a string (got object)' }]);
      expect('pair' in items[0]! && items[0].pair).toMatchObject({ prompt: 'a, ] } [ {', chosen: 'say "hi", then \\ go]' });
    }
    // a conversational file in array form: the first record fixes the format
    const conv = await readDataset([`[${JSON.stringify(recs[1])}]`]);
    expect(conv.pairs[0]).toMatchObject({ prompt: '\n\nHuman: q]\n\nAssistant:', chosen: ' {ok}' });
  });

  it('reports a bad array element, a missing "]" and text after the "]", and keeps the good records', async () => {
    const a = await all([`[${rec(0)}, {oops}, , ${rec(3)}`]);
    expect(a.map((x) => ('pair' in x ? x.pair.prompt : x.error.line))).toEqual(['p0', 2, 3, 'p3', 5]);
    expect(a.map((x) => ('error' in x ? x.error.message : '')).filter(Boolean)).toEqual([
      expect.stringMatching(/^invalid JSON: /),
      'invalid JSON array: empty element',
      'invalid JSON array: the text ends before its closing "]"',
    ]);
    const b = await all([`[${rec(0)}] trailing`]);
    expect(b).toEqual([expect.objectContaining({ line: 1 }), { error: { line: 2, message: 'invalid JSON array: unexpected text after its closing "]"' } }]);
    await expect(readDataset(['[ ]'])).rejects.toThrow(/the dataset is empty/);
  });

  it('decodes UTF-8 across chunk boundaries and replaces invalid bytes instead of failing', async () => {
    const enc = new TextEncoder();
    const good = enc.encode(JSON.stringify({ prompt: 'é€😀', chosen: 'a', rejected: 'b' }) + '\n');
    const bad = Uint8Array.from([...enc.encode('{"prompt":"x'), 0xff, 0xc3, 0x28, ...enc.encode('","chosen":"a","rejected":"b"}')]);
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    const bytes = Uint8Array.from([...bom, ...good, ...bad]);
    const oneByte = Array.from(bytes, (b) => Uint8Array.of(b));
    const { pairs, errors } = await readDataset(decodeUtf8(oneByte));
    expect(errors).toEqual([]);
    expect(pairs.map((p) => p.prompt)).toEqual(['é€😀', 'x\ufffd\ufffd(']);
  });
});
