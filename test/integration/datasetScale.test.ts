/**
 * Dataset parsing at scale (issue 4: "a 100 MB file does not freeze the page or blow memory"): the
 * inputs are generated on the fly in a temp dir and streamed from disk through the same reader the
 * CLI uses (file stream → decodeUtf8 → parseDataset), checking counts, the heap, and the time.
 */
import { createReadStream, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeUtf8, parseDataset } from '../../src/core/data/preferences.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dir = mkdtempSync(path.join(tmpdir(), 'decoding-lab-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1024 * 1024;

/** Writes `total` bytes (about) of lines made by `line(i)`, in 1 MB blocks. */
function writeFile(name: string, total: number, line: (i: number) => Buffer): { file: string; lines: number } {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  let written = 0;
  let i = 0;
  let block: Buffer[] = [];
  let size = 0;
  while (written + size < total) {
    const b = line(i++);
    block.push(b);
    size += b.length;
    if (size >= MB) {
      writeSync(fd, Buffer.concat(block));
      written += size;
      block = [];
      size = 0;
    }
  }
  if (size) writeSync(fd, Buffer.concat(block));
  closeSync(fd);
  return { file, lines: i };
}

interface Scan {
  pairs: number;
  errors: { line: number; message: string }[];
  peakHeapGrowth: number;
  ms: number;
  lengths: number[];
  samples: string[];
}

async function scan(file: string, sampleEvery = 1000): Promise<Scan> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const out: Scan = { pairs: 0, errors: [], peakHeapGrowth: 0, ms: 0, lengths: [], samples: [] };
  const t0 = performance.now();
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  for await (const item of parseDataset(decodeUtf8(stream as AsyncIterable<Uint8Array>))) {
    if ('error' in item) out.errors.push(item.error);
    else {
      out.pairs++;
      if (out.lengths.length < 4) out.lengths.push(item.pair.chosen.length);
      if (item.pair.prompt.includes('\ufffd') && out.samples.length < 3) out.samples.push(item.pair.prompt);
    }
    if ((out.pairs + out.errors.length) % sampleEvery === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }
  out.ms = performance.now() - t0;
  out.peakHeapGrowth = Math.max(peak, process.memoryUsage().heapUsed - base);
  return out;
}

describe('dataset parsing at scale, streamed from disk', () => {
  it('a 100 MB JSONL file with bad lines and non-UTF-8 bytes: every record, bounded heap', async () => {
    const filler = 'lorem ipsum dolor sit amet '.repeat(17); // ~460 bytes
    const { file, lines } = writeFile('big.jsonl', 100 * MB, (i) => {
      if (i % 10_000 === 9_999) return Buffer.from(`{"prompt": "broken line ${i}"\n`); // invalid JSON
      if (i % 1_000 === 500) {
        // raw bytes that are not UTF-8 inside a string: decoded as U+FFFD, never an error
        return Buffer.concat([Buffer.from(`{"id": ${i}, "prompt": "bytes `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`", "chosen": "${filler}", "rejected": "no"}\n`)]);
      }
      return Buffer.from(`{"id": ${i}, "prompt": "Question ${i}?", "chosen": "${filler}${i}", "rejected": "${filler.slice(0, 200)}"}\n`);
    });
    const r = await scan(file);
    const bad = Math.floor(lines / 10_000);
    expect(r.errors.length).toBe(bad);
    expect(r.errors[0]).toMatchObject({ line: 10_000, message: expect.stringMatching(/^invalid JSON/) });
    expect(r.pairs).toBe(lines - bad);
    expect(r.samples[0]).toBe('bytes \ufffd\ufffd\ufffd');
    // holding the file would take >= 100 MB of heap; streaming holds a chunk and a record
    expect(r.peakHeapGrowth).toBeLessThan(64 * MB);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a single 50 MB line parses in linear time', async () => {
    const chosen = 'abcdefghij'.repeat(5 * MB);
    const { file } = writeFile('long-line.jsonl', 1, (i) =>
      i === 0 ? Buffer.from(`{"prompt": "p", "chosen": "${chosen}", "rejected": "r"}\n{"prompt": "q", "chosen": "c", "rejected": "r"}\n`) : Buffer.alloc(0),
    );
    const r = await scan(file, 1);
    expect(r.errors).toEqual([]);
    expect(r.pairs).toBe(2);
    expect(r.lengths).toEqual([50 * MB, 1]);
    // the line, its pieces and the parsed string: a few copies of 50 MB, not one per chunk
    expect(r.peakHeapGrowth).toBeLessThan(400 * MB);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('a 30 MB JSON array streams element by element', async () => {
    const filler = 'x'.repeat(900);
    const { file, lines } = writeFile('big.json', 30 * MB, (i) => Buffer.from(`${i === 0 ? '[' : ','}\n{"prompt": "p${i}", "chosen": "${filler}", "rejected": "[r], {r}"}`));
    const end = openSync(file, 'a');
    writeSync(end, ']\n');
    closeSync(end);
    const r = await scan(file);
    expect(r.errors).toEqual([]);
    expect(r.pairs).toBe(lines);
    expect(r.peakHeapGrowth).toBeLessThan(32 * MB);
  });
});
