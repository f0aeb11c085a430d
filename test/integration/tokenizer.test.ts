import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, manifest, readJson } from './env.ts';
import { loadTokenizer } from '../../src/inference/backends/transformers.ts';

const fixture = readJson<{ eos_id: number; cases: { text: string; ids: number[] }[] }>(FIXTURES_DIR + 'tokenizer.json');

describe('the shared byte-level BPE tokenizer in transformers.js', () => {
  it('encodes exactly as the Python foundry did (unicode, emoji, spaces, newlines)', async () => {
    const tok = await loadTokenizer('tiny-base');
    expect(tok.eosTokenId).toBe(fixture.eos_id);
    expect(tok.vocabSize).toBe(4096);
    for (const c of fixture.cases) {
      expect(tok.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
      expect(tok.decode(c.ids)).toBe(c.text);
    }
  });

  it('is byte-identical in every bundled model folder', async () => {
    const base = await loadTokenizer('tiny-base');
    for (const m of manifest.models) {
      const tok = await loadTokenizer(m.id);
      expect(tok.encode('The state of the Union is strong.')).toEqual(base.encode('The state of the Union is strong.'));
      expect(m.files.find((f) => f.path === 'tokenizer.json')?.sha256).toBe(
        manifest.models[0]?.files.find((f) => f.path === 'tokenizer.json')?.sha256,
      );
    }
  });
});
