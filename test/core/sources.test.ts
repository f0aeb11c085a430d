/**
 * Model sources in the worker (src/inference/sources.ts): picked folders answered from their Files,
 * Hugging Face ids only while loading, the gate that refuses every other remote request, the ONNX
 * and JSON checks of a picked folder, and the tokenizer refusal (compat.ts, handler).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelSources, checkOnnx, dtypesOf, hubIdProblem, kindOfConfig, localModelId, type RemoteEnv } from '../../src/inference/sources.ts';
import { tokenizerMismatch } from '../../src/inference/compat.ts';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { DownloadProgress, ModelSource, Response as WireResponse } from '../../src/inference/protocol.ts';
import { TableModel, letterTokenizer } from '../support/fakeModel.ts';

const MODELS = new URL('../../models/', import.meta.url);
const file = (rel: string) => new Blob([readFileSync(new URL(rel, MODELS))]);
const ONNX = readFileSync(new URL('tiny-base/onnx/model.onnx', MODELS));

/** The files of models/<id> as a picked folder named `name` would hand them over. */
function folder(id: string, name = id, edit: Record<string, Blob | null> = {}): Extract<ModelSource, { kind: 'folder' }> {
  const paths = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'README.md'];
  const files = paths.filter((p) => edit[p] !== null).map((p) => ({ path: `${name}/${p}`, file: edit[p] ?? file(`${id}/${p}`) }));
  for (const [p, b] of Object.entries(edit)) if (b && !paths.includes(p)) files.push({ path: `${name}/${p}`, file: b });
  return { kind: 'folder', name, files, dtype: 'fp32' };
}

function setup(remote: Record<string, globalThis.Response> = {}) {
  const calls: string[] = [];
  const env: RemoteEnv = { allowRemoteModels: false, useBrowserCache: false, remoteHost: 'https://huggingface.co/' };
  const sources = new ModelSources({
    localModelPath: '/models/',
    location: 'http://localhost:5173/assets/worker.js',
    env,
    cacheApi: true,
    fetch: async (input) => {
      const url = String(input);
      calls.push(url);
      const hit = remote[url];
      if (hit) return hit.clone();
      if (url.startsWith('http://localhost:5173/models/tiny-base/')) return new Response(file(`tiny-base/${url.split('/tiny-base/')[1]}`));
      return new Response('Not found', { status: 404 });
    },
  });
  return { sources, env, calls };
}

describe('names, dtypes and kinds', () => {
  it('gives a picked folder a valid local/ id, and checks Hugging Face ids', () => {
    expect(localModelId('tiny-base')).toBe('local/tiny-base');
    expect(localModelId('My Model (v2)!')).toBe('local/My-Model-v2');
    expect(localModelId('...')).toBe('local/model');
    expect(hubIdProblem('test-org/tiny-base')).toBeNull();
    expect(hubIdProblem('tiny-base')).toMatch(/not a Hugging Face model id: use the form org\/name/);
    expect(hubIdProblem('a/b/c')).toMatch(/org\/name/);
    expect(hubIdProblem('')).toMatch(/Enter a Hugging Face model id/);
    expect(hubIdProblem('local/x')).toMatch(/local\/ name folders/);
  });
  it('lists the dtypes whose ONNX file exists and tells causal LMs from sequence classifiers', () => {
    expect(dtypesOf(['config.json', 'onnx/model.onnx'])).toEqual(['fp32']);
    expect(dtypesOf(['onnx/model_q4.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx'])).toEqual(['fp16', 'q8', 'q4']);
    expect(kindOfConfig(JSON.parse(readFileSync(new URL('tiny-base/config.json', MODELS), 'utf8')))).toBe('causal-lm');
    expect(kindOfConfig(JSON.parse(readFileSync(new URL('tiny-rm-positive/config.json', MODELS), 'utf8')))).toBe('sequence-classifier');
    expect(kindOfConfig({})).toBe('causal-lm');
  });
});

describe('ONNX check of a picked file', () => {
  it('accepts a whole model and names truncated, empty and non-ONNX files', async () => {
    await expect(checkOnnx('m/onnx/model.onnx', new Blob([ONNX]))).resolves.toBeUndefined();
    await expect(checkOnnx('m/onnx/model.onnx', new Blob([ONNX.subarray(0, 1000)]))).rejects.toThrow(
      /^m\/onnx\/model\.onnx is truncated: it has 1,000 bytes but its graph needs [\d,]+\. The copy or download was cut short/,
    );
    await expect(checkOnnx('m/onnx/model.onnx', new Blob([ONNX.subarray(0, ONNX.length - 1)]))).rejects.toThrow(/is truncated/);
    await expect(checkOnnx('m/onnx/model.onnx', new Blob(['<!doctype html><html><body>Not here</body></html>']))).rejects.toThrow(
      /^m\/onnx\/model\.onnx is not an ONNX model \(it starts with "<!doctype html><html"\)/,
    );
    await expect(checkOnnx('m/onnx/model.onnx', new Blob([]))).rejects.toThrow(/is empty \(0 bytes\)/);
    await expect(checkOnnx('m/onnx/model.onnx', new Blob([new Uint8Array([8, 7, 0x3a])]))).rejects.toThrow(/is truncated|not an ONNX model/);
  });
});

describe('picked folders', () => {
  it('registers a folder and answers transformers.js requests from its Files, never from the network', async () => {
    const { sources, calls } = setup();
    const info = await sources.register(folder('tiny-base'));
    expect(info).toMatchObject({ id: 'local/tiny-base', origin: 'local', kind: 'causal-lm', vocabSize: 4096, dtypes: ['fp32'], dtype: 'fp32', modelType: 'gpt2' });
    expect(info.files.find((f) => f.path === 'onnx/model.onnx')?.bytes).toBe(ONNX.length);
    const res = await sources.fetch('/models/local/tiny-base/onnx/model.onnx');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(ONNX.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(ONNX)).toBe(true);
    expect((await sources.fetch('/models/local/tiny-base/preprocessor_config.json')).status).toBe(404);
    expect(calls).toEqual([]);
    expect(sources.label('local/tiny-base')).toBe('local folder');
    // bundled ids still come from the site
    expect((await sources.fetch('/models/tiny-base/config.json')).status).toBe(200);
    expect(calls).toEqual(['http://localhost:5173/models/tiny-base/config.json']);
  });

  it('refuses broken folders with a message naming the file and the fix', async () => {
    const { sources } = setup();
    await expect(sources.register(folder('tiny-base', 'no-config', { 'config.json': null }))).rejects.toThrow(
      /^The folder "no-config" has no config\.json: a model folder needs the Hugging Face layout: config\.json, tokenizer\.json, tokenizer_config\.json and onnx\/model\.onnx/,
    );
    await expect(sources.register(folder('tiny-base', 'no-onnx', { 'onnx/model.onnx': null }))).rejects.toThrow(/has no ONNX model \(onnx\/model\.onnx\)/);
    await expect(sources.register(folder('tiny-base', 'html', { 'config.json': new Blob(['<!doctype html>\n<html>…']) }))).rejects.toThrow(
      /^html\/config\.json is an HTML page, not JSON \(it starts with "<!doctype html>"\)/,
    );
    await expect(sources.register(folder('tiny-base', 'bad-json', { 'tokenizer_config.json': new Blob(['{"a": ']) }))).rejects.toThrow(/^bad-json\/tokenizer_config\.json is not valid JSON/);
    await expect(sources.register(folder('tiny-base', 'cut', { 'onnx/model.onnx': new Blob([ONNX.subarray(0, 1000)]) }))).rejects.toThrow(/^cut\/onnx\/model\.onnx is truncated/);
    await expect(sources.register({ ...folder('tiny-base', 'q4'), dtype: 'q4' })).rejects.toThrow(/has no onnx\/model_q4\.onnx for dtype q4: choose one of fp32/);
    // a parent folder was picked: say which folder to pick instead
    const nested = folder('tiny-base', 'inner');
    await expect(sources.register({ ...nested, name: 'outer', files: nested.files.map((f) => ({ ...f, path: `outer/${f.path}` })) })).rejects.toThrow(/It is in outer\/inner\/: pick that folder instead/);
    // nothing was registered: the id still goes to the site (a 404 there)
    expect(sources.origin('local/no-config')).toBe('bundled');
  });
});

describe('Hugging Face ids', () => {
  const HOST = 'http://127.0.0.1:9999/';
  const json = (o: unknown) => new Response(JSON.stringify(o), { headers: { 'content-type': 'application/json' } });

  it('fetches only from the hub host, only for registered ids, and never asks the site for them', async () => {
    const cfg = `${HOST}test-org/tiny-base/resolve/main/config.json`;
    const onnx = `${HOST}test-org/tiny-base/resolve/main/onnx/model.onnx`;
    const { sources, calls, env } = setup({ [cfg]: json({ architectures: ['GPT2LMHeadModel'], vocab_size: 4096 }), [onnx]: new Response(ONNX, { headers: { 'content-length': String(ONNX.length) } }) });
    await expect(sources.fetch('https://huggingface.co/tiny-base/resolve/main/config.json')).rejects.toThrow(/^Blocked a request to https:\/\/huggingface\.co: this page works offline/);
    const info = await sources.register({ kind: 'hub', repo: 'test-org/tiny-base', revision: 'main', host: HOST.slice(0, -1), dtype: 'fp32' });
    expect(info).toMatchObject({ id: 'test-org/tiny-base', origin: 'hub', kind: 'causal-lm', vocabSize: 4096 });
    expect(calls).toEqual([cfg]);
    expect((await sources.fetch('/models/test-org/tiny-base/config.json')).status).toBe(404); // answered here
    expect(calls).toHaveLength(1);
    await expect(sources.fetch(`${HOST}other-org/x/resolve/main/config.json`)).rejects.toThrow(/Blocked a request/);

    // a load turns remote models and the Cache API on for its own duration, and reports bytes
    const seen: DownloadProgress[] = [];
    let during: RemoteEnv | null = null;
    const bytes = await sources.run('test-org/tiny-base', (p) => seen.push(p), async () => {
      during = { ...env };
      return (await (await sources.fetch(onnx)).arrayBuffer()).byteLength;
    });
    expect(bytes).toBe(ONNX.length);
    expect(during).toEqual({ allowRemoteModels: true, useBrowserCache: true, remoteHost: HOST });
    expect(env).toEqual({ allowRemoteModels: false, useBrowserCache: false, remoteHost: 'https://huggingface.co/' });
    expect(seen.at(-1)).toEqual({ modelId: 'test-org/tiny-base', file: 'onnx/model.onnx', loaded: ONNX.length, total: ONNX.length });
    // a bundled load right after runs with everything off again
    await sources.run('tiny-base', undefined, async () => expect(env.allowRemoteModels).toBe(false));
  });

  it('names a missing repository, and refuses an HTML page served as JSON', async () => {
    const { sources } = setup({
      [`${HOST}test-org/html/resolve/main/config.json`]: new Response('<!doctype html><p>login</p>', { headers: { 'content-type': 'text/html' } }),
    });
    await expect(sources.register({ kind: 'hub', repo: 'test-org/missing', revision: 'main', host: HOST, dtype: 'fp32' })).rejects.toThrow(
      /^test-org\/missing was not found on http:\/\/127\.0\.0\.1:9999\/ \(HTTP 404 for config\.json\): the repository does not exist, is private or gated, or has no config\.json\. Check the id/,
    );
    expect(sources.origin('test-org/missing')).toBe('bundled'); // not kept
    await expect(sources.register({ kind: 'hub', repo: 'test-org/html', revision: 'main', host: HOST, dtype: 'fp32' })).rejects.toThrow(/test-org\/html\/config\.json is an HTML page, not JSON/);
    await expect(sources.register({ kind: 'hub', repo: 'nope', revision: 'main', host: HOST, dtype: 'fp32' })).rejects.toThrow(/not a Hugging Face model id/);
    await expect(sources.register({ kind: 'hub', repo: 'a/b', revision: 'main', host: 'ftp://x', dtype: 'fp32' })).rejects.toThrow(/is not an http\(s\) URL/);
  });

  it('runs loads one at a time', async () => {
    const { sources } = setup();
    const order: string[] = [];
    const slow = (name: string, ms: number) => sources.run(name, undefined, async () => {
      order.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`end ${name}`);
    });
    await Promise.all([slow('a', 20), slow('b', 1)]);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });
});

describe('tokenizer compatibility', () => {
  it('names the model, where it came from, its role and both vocabularies', () => {
    const policy = { id: 'tiny-base', info: { vocabSize: 4096, digest: 'a' } };
    expect(tokenizerMismatch(policy, [{ id: 'tiny-arm-positive', role: 'ARM', source: 'bundled', info: { vocabSize: 4096, digest: 'a' } }])).toBeNull();
    expect(tokenizerMismatch(policy, [{ id: 'local/arm', role: 'ARM', source: 'local folder', info: { vocabSize: 5000, digest: 'b' } }])).toBe(
      "local/arm (local folder, ARM) has a different tokenizer from the policy tiny-base (vocabulary 5000 vs 4096): ARMs, tuned/reference models and reward models must share the policy's tokenizer. Choose models made with the policy's tokenizer, or another policy.",
    );
    expect(tokenizerMismatch(policy, [{ id: 'x', role: 'reward model', info: { vocabSize: 4096, digest: 'c' } }])).toMatch(/^x \(reward model\) has a different tokenizer from the policy tiny-base \(both 4096 tokens, but not the same ones\)/);
    expect(tokenizerMismatch(policy, [{ id: 'y', role: 'ARM', info: { vocabSize: 4096 } }])).toBeNull(); // no digest: sizes agree
  });

  it('the handler refuses the run before decoding, and registers and loads through the backend', async () => {
    const out: WireResponse[] = [];
    const tok = (digest: string, size = 4) => Object.assign(letterTokenizer(size), { digest });
    const table = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]];
    let loads = 0;
    const backend: Backend = {
      async selectDevice() {
        return { device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false };
      },
      async loadLanguageModel(id, _device, onProgress) {
        loads++;
        onProgress?.({ modelId: id, file: 'onnx/model.onnx', loaded: 10, total: 10 });
        return { model: new TableModel(table), tokenizer: id === 'local/other' ? tok('other') : tok('base') };
      },
      async loadSequenceRewardModel(id) {
        return { id, vocabSize: 4, contextLength: 16, score: async (b) => new Float32Array(b.length), dispose: async () => {} };
      },
      async fetch(): Promise<globalThis.Response> {
        throw new Error('no network');
      },
      async register(source) {
        return { id: source.kind === 'folder' ? `local/${source.name}` : source.repo, origin: 'local', kind: 'causal-lm', modelType: null, vocabSize: 4, files: [], dtypes: ['fp32'], dtype: 'fp32' };
      },
      sourceLabel: (id) => (id.startsWith('local/') ? 'local folder' : 'bundled'),
    };
    const h = new Handler(backend, (r) => out.push(r));
    await h.handle({ id: 1, type: 'register', source: { kind: 'folder', name: 'other', files: [], dtype: 'fp32' } });
    expect(out.at(-1)).toMatchObject({ id: 1, type: 'result', value: { id: 'local/other', kind: 'causal-lm' } });
    await h.handle({ id: 2, type: 'load', modelId: 'local/other' });
    expect(out.filter((r) => r.id === 2).map((r) => r.type)).toEqual(['download', 'loaded']);
    await h.handle({ id: 3, type: 'load', modelId: 'rm', as: 'rm' });
    expect(out.at(-1)).toMatchObject({ id: 3, type: 'loaded', model: { id: 'rm', vocabSize: 4, contextLength: 16 } });
    await h.handle({
      id: 4,
      type: 'generate',
      run: { policy: 'base', prompt: 'a', arms: ['local/other'], spec: { strategy: 'genarm', config: { max_new_tokens: 3 }, armWeights: [1], beta: 1 } },
    });
    const mine = out.filter((r) => r.id === 4);
    expect(mine).toEqual([
      {
        id: 4,
        type: 'error',
        error: { name: 'ModelFolderError', message: expect.stringMatching(/^local\/other \(local folder, ARM\) has a different tokenizer from the policy base \(both 4 tokens, but not the same ones\)/) },
      },
    ]);
    // registering the id again forgets the loaded copy
    const before = loads;
    await h.handle({ id: 5, type: 'register', source: { kind: 'folder', name: 'other', files: [], dtype: 'fp32' } });
    await h.handle({ id: 6, type: 'load', modelId: 'local/other' });
    expect(loads).toBe(before + 1);
  });
});

describe('external data (onnx/model.onnx_data)', () => {
  const HOST = 'http://127.0.0.1:9999/';
  const json = (o: unknown) => new Response(JSON.stringify(o), { headers: { 'content-type': 'application/json' } });
  const bin = () => new Response(new Uint8Array(8), { headers: { 'content-type': 'application/octet-stream' } });

  it('counts the data files of the chosen dtype: from a picked folder\'s listing, by HEAD on the hub, none for bundled ids', async () => {
    const { sources, calls } = setup({
      [`${HOST}test-org/big/resolve/main/config.json`]: json({ architectures: ['GPT2LMHeadModel'] }),
      [`${HOST}test-org/big/resolve/main/onnx/model.onnx_data`]: bin(),
      [`${HOST}test-org/big/resolve/main/onnx/model.onnx_data_1`]: bin(),
      [`${HOST}test-org/big/resolve/main/onnx/model_fp16.onnx_data`]: new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } }),
    });
    const data = new Blob([new Uint8Array(8)]);
    await sources.register(folder('tiny-base', 'ext', { 'onnx/model.onnx_data': data, 'onnx/model_fp16.onnx': new Blob([ONNX]) }));
    expect(await sources.externalDataFiles('local/ext')).toBe(1);
    sources.setDtype('local/ext', 'fp16');
    expect(await sources.externalDataFiles('local/ext')).toBe(0); // model_fp16.onnx has no model_fp16.onnx_data
    await sources.register(folder('tiny-base', 'plain'));
    expect(await sources.externalDataFiles('local/plain')).toBe(0);
    expect(calls).toEqual([]);

    await sources.register({ kind: 'hub', repo: 'test-org/big', revision: 'main', host: HOST, dtype: 'fp32' });
    calls.length = 0;
    expect(await sources.externalDataFiles('test-org/big')).toBe(2); // model.onnx_data and model.onnx_data_1, then a 404
    expect(calls).toEqual(['onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model.onnx_data_2'].map((f) => `${HOST}test-org/big/resolve/main/${f}`));
    sources.setDtype('test-org/big', 'fp16');
    expect(await sources.externalDataFiles('test-org/big')).toBe(0); // an HTML page is not a data file
    calls.length = 0;
    expect(await sources.externalDataFiles('tiny-base')).toBe(0);
    expect(calls).toEqual([]);
  });
});
