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
