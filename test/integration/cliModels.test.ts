/**
 * Broken model folders on the `decoding-lab` command line (issue 7): each is a copy of a bundled
 * model with one thing broken, and each must exit 2 with one line on stderr naming the file or field
 * at fault — never ORT's raw error or a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR } from './env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'decoding-lab.mjs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
/** A copy of a bundled model folder, broken by `breakIt`. */
function broken(name: string, from: string, breakIt: (dir: string) => void): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(MODELS_DIR, from), dir, { recursive: true });
  breakIt(dir);
  return dir;
}

const dirs: Record<string, string> = {};

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'dl-models-'));
  dirs.noConfig = broken('no-config', 'tiny-base', (d) => rmSync(path.join(d, 'config.json')));
  dirs.noTokenizer = broken('no-tokenizer', 'tiny-base', (d) => rmSync(path.join(d, 'tokenizer.json')));
  dirs.noOnnx = broken('no-onnx', 'tiny-base', (d) => rmSync(path.join(d, 'onnx', 'model.onnx')));
  dirs.truncated = broken('truncated', 'tiny-base', (d) => truncateSync(path.join(d, 'onnx', 'model.onnx'), 1000));
  dirs.textOnnx = broken('text-onnx', 'tiny-base', (d) => writeFileSync(path.join(d, 'onnx', 'model.onnx'), 'this is not an ONNX file\n'));
  dirs.htmlConfig = broken('html-config', 'tiny-base', (d) => writeFileSync(path.join(d, 'config.json'), '<!doctype html>\n<html><body>index</body></html>\n'));
  dirs.htmlTokenizer = broken('html-tokenizer', 'tiny-base', (d) => writeFileSync(path.join(d, 'tokenizer.json'), '<!doctype html>\n<html></html>\n'));
  dirs.badJson = broken('bad-json', 'tiny-base', (d) => writeFileSync(path.join(d, 'tokenizer_config.json'), '{"model_max_length": 256,'));
  dirs.rmFolder = broken('rm-folder', 'tiny-rm-positive', () => {});
  // Same vocabulary size, another tokenizer: two tokens swap ids, so the same text encodes differently.
  dirs.otherTokenizer = broken('other-tokenizer', 'tiny-arm-positive', (d) => {
    const file = path.join(d, 'tokenizer.json');
    const j = JSON.parse(readFileSync(file, 'utf8')) as { model: { vocab: Record<string, number> } };
    const [a, b] = Object.keys(j.model.vocab).filter((k) => /^[a-z]{3,}$/.test(k)) as [string, string];
    [j.model.vocab[a], j.model.vocab[b]] = [j.model.vocab[b] as number, j.model.vocab[a] as number];
    writeFileSync(file, JSON.stringify(j));
  });
  dirs.otherVocab = broken('other-vocab', 'tiny-arm-positive', (d) => {
    const file = path.join(d, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), vocab_size: 5000 }));
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const gen = (...extra: string[]) => ['generate', '--prompt', 'Our economy', '--max_new_tokens', '3', ...extra];

describe('decoding-lab with a broken model folder', () => {
  it.each([
    ['missing config.json', () => gen('--policy', dirs.noConfig!), /--policy .*no-config: the folder has no config\.json; a model folder needs the Hugging Face layout/],
    ['missing tokenizer.json', () => gen('--policy', dirs.noTokenizer!), /the folder has no tokenizer\.json; a model folder needs the Hugging Face layout/],
    ['missing onnx/model.onnx', () => gen('--policy', dirs.noOnnx!), /the folder has no onnx\/model\.onnx; a model folder needs the Hugging Face layout/],
    ['model.onnx truncated to 1000 bytes', () => gen('--policy', dirs.truncated!), /truncated\/onnx\/model\.onnx is not a valid ONNX file \(truncated or another format/],
    ['model.onnx replaced by text', () => gen('--policy', dirs.textOnnx!), /text-onnx\/onnx\/model\.onnx is not a valid ONNX file.*re-download or re-export it/],
    ['config.json is an HTML page', () => gen('--policy', dirs.htmlConfig!), /html-config\/config\.json returned an HTML page, not JSON: the host rewrites missing files to index\.html/],
    ['tokenizer.json is an HTML page (as --arm)', () => gen('--policy', 'tiny-base', '--strategy', 'genarm', '--arm', dirs.htmlTokenizer!), /^decoding-lab: --arm .*html-tokenizer\/tokenizer\.json returned an HTML page, not JSON/],
    ['tokenizer_config.json is not JSON', () => gen('--policy', dirs.badJson!), /bad-json\/tokenizer_config\.json is not valid JSON/],
    ['a sequence classifier as --policy', () => gen('--policy', 'tiny-rm-positive'), /tiny-rm-positive is a sequence classifier \(GPT2ForSequenceClassification, logits \[batch_size, 1\]\), not a causal language model/],
    ['a sequence classifier folder as --arm', () => gen('--policy', 'tiny-base', '--strategy', 'genarm', '--arm', dirs.rmFolder!), /rm-folder is a sequence classifier .*Use it as a sequence reward model/],
    ['a causal LM as --reward-model', () => gen('--policy', 'tiny-base', '--strategy', 'best_of_n', '--n', '2', '--reward-model', 'tiny-arm-positive'), /tiny-arm-positive is a causal language model \(logits \[batch_size, sequence_length, 4096\]\), not a sequence reward model/],
    ['an ARM with another tokenizer (same size)', () => gen('--policy', 'tiny-base', '--strategy', 'genarm', '--arm', dirs.otherTokenizer!), /--arm .*other-tokenizer: its tokenizer differs from the policy's \(tiny-base\) although both have 4096 tokens/],
    ['a tuned model with another vocabulary size', () => gen('--policy', 'tiny-base', '--strategy', 'implicit', '--tuned', dirs.otherVocab!, '--ref', 'tiny-base'), /--tuned .*other-vocab has a vocabulary of 5000 tokens but the policy tiny-base has 4096/],
    ['a reward model with another tokenizer (rank)', () => ['rank', '--dataset', path.join(MODELS_DIR, 'datasets/prefs-positive-test.jsonl'), '--scorer', 'arm', '--arm', dirs.otherTokenizer!, '--policy', 'tiny-base', '--limit', '2'], /other-tokenizer: its tokenizer differs/],
  ])('%s: exit 2, one line on stderr naming the file', (_name, args, msg) => {
    const r = cli(...(args as () => string[])());
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg as RegExp);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js|mjs):\d+/); // no stack trace
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('the intact copies still work (the breakage, not the copy, is refused)', () => {
    const ok = broken('intact', 'tiny-base', () => {});
    const r = cli(...gen('--policy', ok, '--strategy', 'genarm', '--arm', 'tiny-arm-positive', '--json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sequences[0].token_ids.length).toBeGreaterThan(0);
  });
});
