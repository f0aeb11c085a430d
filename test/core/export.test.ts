import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, exportName, generationJson, sequencesCsv, tokensCsv, toCsv } from '../../src/core/viz/export.ts';
import type { SequenceResult } from '../../src/core/search/events.ts';

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF records) to check what we write. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ',') row.push(field), (field = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), (i += 2);
    else (field += c), i++;
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

const seq = (ids: number[], rewards: Record<string, number>[] = []): SequenceResult => ({
  tokenIds: ids,
  score: -1.5,
  finishReason: 'length',
  group: 0,
  steps: ids.map((tokenId, i) => ({ tokenId, logprob: -0.5 * (i + 1), combinedLogprob: -0.25, rewards: rewards[i] ?? {} })),
});

describe('CSV export', () => {
  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(-1.5)).toBe('-1.5'); // numbers are not defused
    expect(csvField(-Infinity)).toBe('-Infinity');
    expect(csvField(undefined)).toBe('');
  });

  it('round-trips any table of strings through an RFC 4180 reader', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '😀', 'x') }).filter((s) => !/^[=+\-@\t\r]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 8 }), (rows) => {
        const parsed = parseCsv(toCsv(['h1', 'h2', 'h3'], rows));
        expect(parsed).toEqual([['h1', 'h2', 'h3'], ...rows]);
      }),
      { numRuns: 300 },
    );
  });

  it('writes one row per token with a column per reward source', () => {
    const s = [
      { result: seq([5, 6], [{ 'arm:a': -1 }, { 'arm:a': -2, 'arm:b': 0.5 }]), text: 'xy' },
      { result: seq([7]), text: 'z' },
    ];
    const rows = parseCsv(tokensCsv(s, (id) => (id === 6 ? ' wo,rd' : `t${id}`)));
    expect(rows[0]).toEqual(['sequence', 'position', 'token_id', 'token', 'logprob', 'combined_logprob', 'reward:arm:a', 'reward:arm:b']);
    expect(rows.slice(1)).toEqual([
      ['0', '0', '5', 't5', '-0.5', '-0.25', '-1', ''],
      ['0', '1', '6', ' wo,rd', '-1', '-0.25', '-2', '0.5'],
      ['1', '0', '7', 't7', '-0.5', '-0.25', '', ''],
    ]);
  });

  it('writes sequences with their oracle rewards', () => {
    const rows = parseCsv(sequencesCsv([{ result: seq([1, 2]), text: ' good great' }]));
    expect(rows[1]?.slice(0, 6)).toEqual(['0', ' good great', '-1.5', 'length', '0', '2']);
    expect(Number(rows[1]?.[7])).toBeGreaterThan(0);
  });
});

describe('JSON export', () => {
  it('keeps the generate --json contract keys and the run that made it', () => {
    const run = { policy: 'tiny-base', prompt: 'Hi', spec: { strategy: 'beam', config: { num_beams: 2 } } };
    const out = JSON.parse(generationJson({ run, strategy: 'beam', sequences: [{ result: { ...seq([3]), score: -Infinity }, text: 'a' }], device: 'wasm', elapsedMs: 12.4 }));
    expect(out.strategy).toBe('beam');
    expect(out.sequences[0]).toMatchObject({ token_ids: [3], text: 'a', score: '-Infinity', group: 0 });
    expect(out.sequences[0].steps[0]).toEqual({ token_id: 3, logprob: -0.5, rewards: {}, combined_logprob: -0.25 });
    expect(out.meta).toEqual({ device: 'wasm', elapsed_ms: 12, tokens_generated: 1 });
    expect(out.run).toEqual(run);
  });

  it('carries the KL: per step where the run sampled, per sequence with its kind and note (best-of-N bound for the run\'s N)', () => {
    const sampled: SequenceResult = { ...seq([3, 4]), steps: [3, 4].map((t, i) => ({ tokenId: t, logprob: -0.5, combinedLogprob: -0.25, rewards: {}, kl: [0.1, 0.2][i] as number })) };
    const run = { policy: 'tiny-base', prompt: 'Hi', spec: { strategy: 'best_of_n', config: {}, n: 16 } };
    const bon = JSON.parse(generationJson({ run, strategy: 'best_of_n', sequences: [{ result: sampled, text: 'a' }], device: 'wasm' }));
    expect(bon.sequences[0].kl).toBeCloseTo(Math.log(16) - 15 / 16, 12);
    expect(bon.sequences[0].kl_kind).toBe('bound');
    expect(bon.sequences[0].steps.map((t: { kl: number }) => t.kl)).toEqual([0.1, 0.2]);
    const greedy = JSON.parse(generationJson({ run: null, strategy: 'greedy', sequences: [{ result: seq([3]), text: 'a' }], device: 'wasm' }));
    expect(greedy.sequences[0]).toMatchObject({ kl: null, kl_kind: 'na' });
    const tokens = parseCsv(tokensCsv([{ result: sampled, text: 'a' }], String));
    expect(tokens[0]?.slice(0, 7)).toEqual(['sequence', 'position', 'token_id', 'token', 'logprob', 'combined_logprob', 'kl']);
    expect(tokens[2]?.[6]).toBe('0.2');
    const rows = parseCsv(sequencesCsv([{ result: sampled, text: 'a' }], { strategy: 'sample' }));
    expect(rows[0]?.slice(-3)).toEqual(['kl', 'kl_kind', 'kl_note']);
    expect(Number(rows[1]?.[9])).toBeCloseTo(0.3, 12);
    expect(rows[1]?.[10]).toBe('exact');
  });

  it('names files safely', () => {
    expect(exportName('generation tokens/x', 'csv', new Date(2026, 10, 27, 9, 5, 3))).toBe('decoding-lab-generation-tokens-x-20261127-090503.csv');
  });
});
