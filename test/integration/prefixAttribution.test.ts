/**
 * Prefix attribution (issue 14 item 2) on the bundled tiny-rm-positive: the values add up to
 * RM(full) − RM(prompt), and the batch size does not change them (padding in a batch of prefixes
 * of different lengths gives each prefix the score it gets alone).
 */
import { describe, expect, it } from 'vitest';
import { prefixAttribution } from '../../src/core/metrics/prefixAttribution.ts';
import { lm, rewardFor } from '../../src/cli/nodeModels.ts';

describe('prefix attribution on tiny-rm-positive', () => {
  it('telescopes to RM(full) − RM(prompt) and is the same for batch sizes 1, 5 and 64', async () => {
    const policy = await lm('tiny-base');
    const rm = await rewardFor('tiny-rm-positive', policy.tokenizer);
    const prompt = policy.tokenizer.encode('The movie was');
    const response = policy.tokenizer.encode(' wonderful, a joy from start to finish, but the ending was awful.');
    const runs: Awaited<ReturnType<typeof prefixAttribution>>[] = [];
    for (const batchSize of [1, 5, 64]) runs.push(await prefixAttribution(rm, prompt, response, { batchSize }));
    const [full, base] = Array.from(await rm.score([[...prompt, ...response], prompt]));
    for (const a of runs) {
      expect(a.values).toHaveLength(response.length);
      expect(a.values.reduce((s, x) => s + x, 0)).toBeCloseTo((full as number) - (base as number), 4);
      a.values.forEach((v, i) => expect(v).toBeCloseTo(runs[0]!.values[i] as number, 4));
    }
  }, 60_000);
});
