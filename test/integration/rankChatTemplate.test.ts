/**
 * `rank --chat-template` and `--token-scores` on real models: a copy of tiny-base whose
 * tokenizer_config.json has a simple chat template (the bundled models have none, and are refused
 * with a message), the same numbers from the worker's request handler as from the CLI, and per-token
 * scores that add up to the pair scores.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR } from './env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { rank, type RankOutput } from '../../src/cli/rank.ts';
import { lm } from '../../src/cli/nodeModels.ts';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { Response as WireResponse } from '../../src/inference/protocol.ts';
import type { RankResult } from '../../src/inference/client.ts';
import { readDataset } from '../../src/core/data/preferences.ts';
import { applyChatTemplate, chatTemplaterOf } from '../../src/core/data/chatTemplate.ts';
import { loadSequenceRewardModel } from '../../src/inference/backends/transformers.ts';

const DATA = path.join(MODELS_DIR, 'datasets', 'prefs-positive-test.jsonl');
const TEMPLATE = "{% for message in messages %}{{ '<|endoftext|>' + message['role'] + ':' + message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|endoftext|>assistant:' }}{% endif %}";

let dir: string;
beforeAll(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'rank-chat-')), 'tiny-chat');
  cpSync(path.join(MODELS_DIR, 'tiny-base'), dir, { recursive: true });
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), chat_template: TEMPLATE }, null, 2));
});
afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('rank --chat-template', () => {
  it('is refused with a message for a tokenizer without a chat template (the bundled models)', async () => {
    await expect(rank(parseArgs(['--dataset', DATA, '--scorer', 'policy', '--policy', 'tiny-base', '--limit', '5', '--chat-template']))).rejects.toThrow(
      /--chat-template: the tokenizer of tiny-base has no chat template \(no "chat_template" in its tokenizer_config.json\); leave out --chat-template/,
    );
  });

  let withTemplate: RankOutput;
  it('formats each pair as a user turn and an assistant turn, then scores as usual', async () => {
    withTemplate = await rank(parseArgs(['--dataset', DATA, '--scorer', 'policy', '--policy', dir, '--limit', '24', '--chat-template', '--token-scores']));
    const plain = await rank(parseArgs(['--dataset', DATA, '--scorer', 'policy', '--policy', dir, '--limit', '24']));
    expect(withTemplate.chat_template).toBe(true);
    expect(withTemplate.n).toBe(24);
    expect(plain.chat_template).toBeUndefined();
    // the template adds "\n" after each reply, so every score moves
    withTemplate.pairs.forEach((p, i) => expect(p.chosen).not.toBeCloseTo(plain.pairs[i]!.chosen, 3));
    // the same as scoring the rendered texts by hand
    const model = await lm(dir);
    const t = chatTemplaterOf(model.tokenizer);
    expect(t).not.toBeNull();
    const { pairs } = await readDataset([readFileSync(DATA, 'utf8')], 1);
    const r = applyChatTemplate(pairs[0]!, t!);
    expect(r.prompt).toBe(`<|endoftext|>user:${pairs[0]!.prompt}\n<|endoftext|>assistant:`);
    expect(r.chosen).toBe(`${pairs[0]!.chosen}\n`);
    const ids = model.tokenizer.encode(r.prompt);
    expect(ids.filter((x) => x === model.tokenizer.eosTokenId)).toHaveLength(2); // the special token is one id
    // EOS follows a finished response (the default for token-level scorers; pair 0's chosen finished)
    expect(pairs[0]!.extra.chosen_finished).toBe(true);
    const [lp] = await model.score([[...ids, ...model.tokenizer.encode(r.chosen), model.tokenizer.eosTokenId]], [ids.length]);
    expect(withTemplate.pairs[0]!.chosen).toBeCloseTo(lp!.reduce((s, v) => s + v, 0), 4);
  });

  it('--token-scores adds chosen_tokens/rejected_tokens whose scores add up to the pair scores (contract keys unchanged)', () => {
    for (const p of withTemplate.pairs) {
      expect(Object.keys(p).slice(0, 4)).toEqual(['id', 'chosen', 'rejected', 'margin']);
      const sum = (ts: { score: number | null }[]) => ts.reduce((s, x) => s + (x.score as number), 0);
      expect(sum(p.chosen_tokens!)).toBeCloseTo(p.chosen, 3);
      expect(sum(p.rejected_tokens!)).toBeCloseTo(p.rejected, 3);
      expect(p.chosen_tokens!.map((x) => x.text).join('')).toMatch(/\n(<\|endoftext\|>)?$/); // the reply's "\n", then EOS when it finished
    }
  });

  it('the worker request handler gives the CLI numbers and token scores with the template, and refuses it for a model without one', async () => {
    const out: WireResponse[] = [];
    const backend: Backend = {
      selectDevice: async () => ({ device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false }),
      loadLanguageModel: async (id) => {
        const m = await lm(id);
        return { model: m, tokenizer: m.tokenizer };
      },
      loadSequenceRewardModel: (id) => loadSequenceRewardModel(id, { device: 'cpu' }),
      fetch: async (p) => new Response(readFileSync(path.join(MODELS_DIR, p)), { headers: { 'content-type': 'application/x-ndjson' } }),
    };
    const h = new Handler(backend, (r) => out.push(r));
    const job = { dataset: { kind: 'bundled', path: 'datasets/prefs-positive-test.jsonl' }, scorer: 'policy', policy: dir, beta: 0.1, lengthNormalize: false, limit: 24 } as const;
    await h.handle({ id: 1, type: 'rank', job: { ...job, chatTemplate: true } });
    const res = out.find((r) => r.id === 1 && r.type === 'result') as { value: RankResult } | undefined;
    expect(res, JSON.stringify(out.find((r) => r.type === 'error'))).toBeDefined();
    expect(res!.value.report.accuracy).toBe(withTemplate.accuracy);
    expect(res!.value.report.pair_details.map((p) => p.chosen)).toEqual(withTemplate.pairs.map((p) => p.chosen));
    // the token strip of pair 0, from the worker, equals the CLI's --token-scores
    await h.handle({ id: 2, type: 'score-pair', job: { ...job, chatTemplate: true }, pair: res!.value.texts![0]! });
    const strip = out.find((r) => r.id === 2 && r.type === 'result') as { value: { chosen: { values: number[] } } };
    expect(strip.value.chosen.values).toEqual(withTemplate.pairs[0]!.chosen_tokens!.map((t) => t.score));
    // a bundled model without a template: the worker refuses the option with the reason
    await h.handle({ id: 3, type: 'rank', job: { ...job, policy: 'tiny-base', chatTemplate: true } });
    expect(out.find((r) => r.id === 3)).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/tiny-base's tokenizer has no chat template/) } });
  });
});
