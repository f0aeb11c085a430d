/**
 * Ranking accuracy through the CLI code path on the bundled test splits (matches the foundry's
 * PyTorch measurement to 1e-3) and on the real HH-RLHF harmless-base test file.
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { manifest, MODELS_DIR } from './env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank } from '../../src/cli/rank.ts';
import { parseDataset } from '../../src/core/data/preferences.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HH_CANDIDATES = [process.env.DECODING_LAB_SHARED, path.join(ROOT, '../shared'), '/work/shared']
  .filter((d): d is string => !!d)
  .map((d) => path.join(d, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz'));
const HH = HH_CANDIDATES.find((p) => existsSync(p));

const metric = (id: string, key: string) => (manifest.models.find((m) => m.id === id) as unknown as { metrics: Record<string, number> }).metrics[key] as number;
const dataset = (attr: string) => path.join(MODELS_DIR, 'datasets', `prefs-${attr}-test.jsonl`);

describe.each(['positive', 'concise'])('rank on the bundled %s test split', (attr) => {
  it('ARM accuracy equals the foundry measurement', async () => {
    const out = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'arm', '--arm', `tiny-arm-${attr}`]));
    expect(out.n).toBe(600);
    expect(out.skipped).toBe(0);
    expect(Math.abs(out.accuracy - metric(`tiny-arm-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
    expect(out.ci95[0]).toBeLessThan(out.accuracy);
    expect(out.ci95[1]).toBeGreaterThan(out.accuracy);
  });

  it('sequence RM accuracy equals the foundry measurement', async () => {
    const out = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'sequence', '--reward-model', `tiny-rm-${attr}`]));
    expect(Math.abs(out.accuracy - metric(`tiny-rm-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
  });

  it('DPO: ranking accuracy (policy) and implicit-reward accuracy both equal the foundry, and R* is reported', async () => {
    const pol = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'policy', '--policy', `tiny-dpo-${attr}`]));
    expect(Math.abs(pol.accuracy - metric(`tiny-dpo-${attr}`, 'ranking_accuracy'))).toBeLessThanOrEqual(1e-3);
    const imp = await rank(parseArgs(['--dataset', dataset(attr), '--scorer', 'implicit', '--tuned', `tiny-dpo-${attr}`, '--ref', 'tiny-base', '--beta', '0.1']));
    expect(Math.abs(imp.accuracy - metric(`tiny-dpo-${attr}`, 'implicit_reward_accuracy'))).toBeLessThanOrEqual(1e-3);
    expect(imp.idealized_accuracy).toBeGreaterThan(0);
    expect(imp.alignment_gap).toBeCloseTo((imp.idealized_accuracy as number) - imp.accuracy, 12);
  });
});

describe.runIf(!!HH)('HH-RLHF harmless-base test file', () => {
  it('parses completely with the shared-prefix prompt split (2,312 pairs, no bad lines)', async () => {
    let pairs = 0;
    let errors = 0;
    const chunks = (async function* () {
      const dec = new TextDecoder();
      for await (const b of createReadStream(HH as string).pipe(createGunzip())) yield dec.decode(b as Buffer, { stream: true });
    })();
    for await (const item of parseDataset(chunks)) {
      if ('error' in item) errors++;
      else {
        pairs++;
        expect(item.pair.prompt.endsWith('\n\nAssistant:')).toBe(true);
        expect(item.pair.prompt.startsWith('\n\nHuman:')).toBe(true);
      }
    }
    expect(errors).toBe(0);
    expect(pairs).toBe(2312);
  });

  it('rank runs on its first 200 pairs with the bundled policy', async () => {
    const out = await rank(parseArgs(['--dataset', HH as string, '--scorer', 'policy', '--policy', 'tiny-base', '--limit', '200']));
    expect(out.n + out.skipped).toBe(200);
    expect(out.invalid_lines).toEqual([]);
    expect(out.truncated).toBeGreaterThan(0); // long transcripts exceed the 256-token context
    expect(out.accuracy).toBeGreaterThan(0.2);
    expect(out.accuracy).toBeLessThan(0.8);
  });
});
