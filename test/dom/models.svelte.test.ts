/**
 * The model registry (src/lib/models.svelte.ts): bundled models from the real manifest with their
 * kinds, roles and sizes; models added from a folder or a Hugging Face id through a fake client;
 * which role pickers list them; the run form's extra ARMs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InferenceClient } from '../../src/inference/client.ts';
import type { DownloadProgress, ModelSource, RegisteredModel } from '../../src/inference/protocol.ts';
import type { Manifest } from '../../src/lib/manifest.ts';
import { ModelRegistry, formatParams, formatSize, fromManifest, rolesFor, roleText } from '../../src/lib/models.svelte.ts';
import { RunForm } from '../../src/lib/runForm.svelte.ts';

// happy-dom gives import.meta.url an http: scheme; vitest runs from the repository root.
const manifest = JSON.parse(readFileSync(path.join(process.cwd(), 'models/manifest.json'), 'utf8')) as Manifest;

/** A client that registers and loads without a worker, recording what it was asked. */
function fakeClient(opts: { registerError?: string; loadError?: string } = {}) {
  const calls: string[] = [];
  const client = {
    async register(source: ModelSource): Promise<RegisteredModel> {
      calls.push(`register ${source.kind}`);
      if (opts.registerError) throw new Error(opts.registerError);
      if (source.kind === 'hub') return { id: source.repo, origin: 'hub', kind: 'causal-lm', modelType: 'gpt2', vocabSize: 4096, files: [], dtypes: [source.dtype], dtype: source.dtype };
      const isRm = source.name.endsWith('-rm');
      return {
        id: `local/${source.name}`,
        origin: 'local',
        kind: isRm ? 'sequence-classifier' : 'causal-lm',
        modelType: 'gpt2',
        vocabSize: 4096,
        files: source.files.map((f) => ({ path: f.path.split('/').slice(1).join('/'), bytes: f.file.size })),
        dtypes: ['fp32'],
        dtype: 'fp32',
      };
    },
    async load(id: string, o: { as?: string; dtype?: string; onDownload?: (p: DownloadProgress) => void } = {}) {
      calls.push(`load ${id} ${o.as} ${o.dtype}`);
      o.onDownload?.({ modelId: id, file: 'onnx/model.onnx', loaded: 500, total: 1000 });
      o.onDownload?.({ modelId: id, file: 'onnx/model.onnx', loaded: 1000, total: 1000 });
      if (opts.loadError) throw new Error(opts.loadError);
      return { model: { id, vocabSize: 4096, contextLength: 256, eosTokenIds: [4095] }, ms: 1 };
    },
  };
  return { client: client as unknown as InferenceClient, calls };
}

function picked(name: string, files: Record<string, string>): File[] {
  return Object.entries(files).map(([p, text]) => {
    const f = new File([text], p.split('/').pop() as string);
    Object.defineProperty(f, 'webkitRelativePath', { value: `${name}/${p}` });
    return f;
  });
}

describe('bundled models', () => {
  it('lists the 7 bundled models with kinds, roles, sizes and dtypes from the manifest', () => {
    const reg = new ModelRegistry(fakeClient().client, '/');
    reg.setManifest(manifest);
    expect(reg.models.map((m) => m.id)).toEqual(['tiny-base', 'tiny-arm-positive', 'tiny-dpo-positive', 'tiny-rm-positive', 'tiny-arm-concise', 'tiny-dpo-concise', 'tiny-rm-concise']);
    expect(reg.causalLms.map((m) => m.id)).toEqual(['tiny-base', 'tiny-arm-positive', 'tiny-dpo-positive', 'tiny-arm-concise', 'tiny-dpo-concise']);
    expect(reg.rewardModels.map((m) => m.id)).toEqual(['tiny-rm-positive', 'tiny-rm-concise']);
    const base = reg.get('tiny-base');
    const files = manifest.models[0]?.files ?? [];
    expect(base?.bytes).toBe(files.reduce((s, f) => s + f.bytes, 0));
    expect(formatSize(base?.bytes ?? null)).toBe('5.6 MB');
    expect(formatParams(base?.params ?? null)).toBe('1.35M');
    expect(base?.dtypes).toEqual(['fp32']);
    expect(base?.license).toBe('CC-BY-4.0');
    expect(roleText(base!)).toBe('policy, reference');
    expect(roleText(reg.get('tiny-arm-positive')!)).toBe('ARM (positive)');
    expect(roleText(reg.get('tiny-rm-concise')!)).toBe('sequence RM (concise)');
    expect(rolesFor(reg.get('tiny-rm-concise')!.kind)).toEqual(['sequence_rm']);
    expect(rolesFor(base!.kind)).toEqual(['policy', 'arm', 'tuned', 'reference']);
    expect(rolesFor(null)).toEqual([]);
  });

  it('keeps the manifest error for the page to show', async () => {
    const reg = new ModelRegistry(fakeClient().client, '/');
    await reg.loadManifest(async () => {
      throw new Error('/models/manifest.json returned an HTML page instead of JSON');
    });
    expect(reg.manifestError).toMatch(/HTML page/);
    expect(reg.models).toEqual([]);
  });

  it('reads the hub host from ?hfHost= (with a trailing slash), else huggingface.co', () => {
    expect(new ModelRegistry(fakeClient().client, '/').hfHost).toBe('https://huggingface.co/');
    expect(new ModelRegistry(fakeClient().client, '/', new URLSearchParams('hfHost=http://localhost:1234')).hfHost).toBe('http://localhost:1234/');
  });
});

describe('models added in this session', () => {
  it('adds a picked folder, loads it with progress, and offers it to the roles of its kind', async () => {
    const { client, calls } = fakeClient();
    const reg = new ModelRegistry(client, '/');
    reg.setManifest(manifest);
    const id = await reg.addFolder(picked('my-arm', { 'config.json': '{}', 'tokenizer.json': '{}', 'onnx/model.onnx': 'x'.repeat(1000) }));
    expect(id).toBe('local/my-arm');
    expect(calls).toEqual(['register folder', 'load local/my-arm lm fp32']);
    const m = reg.get(id)!;
    expect(m).toMatchObject({ origin: 'local', kind: 'causal-lm', status: 'loaded', bytes: 1004, dtypes: ['fp32'] });
    expect(m.progress['onnx/model.onnx']).toEqual({ loaded: 1000, total: 1000 });
    expect(reg.causalLms.map((x) => x.id)).toContain(id);
    await reg.addFolder(picked('my-rm', { 'config.json': '{}', 'onnx/model.onnx': 'x' }));
    expect(calls.at(-1)).toBe('load local/my-rm rm fp32');
    expect(reg.rewardModels.map((x) => x.id)).toEqual(['tiny-rm-positive', 'tiny-rm-concise', 'local/my-rm']);
    expect(reg.causalLms.map((x) => x.id)).not.toContain('local/my-rm');
    reg.remove('local/my-rm');
    reg.remove('tiny-base'); // bundled models stay
    expect(reg.models.map((x) => x.id)).toContain('tiny-base');
    expect(reg.get('local/my-rm')).toBeUndefined();
  });

  it('shows a refused folder next to it and never offers it to a role', async () => {
    const reg = new ModelRegistry(fakeClient({ registerError: 'The folder "broken" has no config.json: …' }).client, '/');
    reg.setManifest(manifest);
    const id = await reg.addFolder(picked('broken', { 'tokenizer.json': '{}' }));
    expect(reg.get(id)).toMatchObject({ status: 'error', error: 'The folder "broken" has no config.json: …', kind: null });
    expect([...reg.causalLms, ...reg.rewardModels].map((m) => m.id)).not.toContain(id);
  });

  it('adds a Hugging Face id with its dtype, records the downloaded size, and refuses a malformed id without asking the worker', async () => {
    const { client, calls } = fakeClient();
    const reg = new ModelRegistry(client, '/', new URLSearchParams('hfHost=http://localhost:9/'));
    reg.setManifest(manifest);
    await reg.addHub(' test-org/tiny-base ', 'q4');
    expect(calls).toEqual(['register hub', 'load test-org/tiny-base lm q4']);
    expect(reg.get('test-org/tiny-base')).toMatchObject({ origin: 'hub', status: 'loaded', dtype: 'q4', bytes: 1000, hub: { host: 'http://localhost:9/', revision: 'main' } });
    await reg.addHub('tiny-base', 'fp32');
    expect(calls).toHaveLength(2);
    expect(reg.get('tiny-base')?.origin).toBe('bundled'); // the bad id did not replace the bundled model
    expect(reg.models.filter((m) => m.status === 'error')).toEqual([]);
    expect(reg.hubError).toMatch(/not a Hugging Face model id/);
  });

  it('keeps a load error on the model', async () => {
    const reg = new ModelRegistry(fakeClient({ loadError: 'test-org/x/onnx/model.onnx is not a valid ONNX file' }).client, '/');
    await reg.addHub('test-org/x', 'fp32');
    expect(reg.get('test-org/x')).toMatchObject({ status: 'error', error: 'test-org/x/onnx/model.onnx is not a valid ONNX file' });
  });

  it('fromManifest gives a sequence RM the sequence-classifier kind from its loader', () => {
    const rm = manifest.models.find((m) => m.role === 'sequence_rm')!;
    expect(fromManifest(rm).kind).toBe('sequence-classifier');
  });
});

describe('run form ARMs from the registry', () => {
  it('adds extra ARMs with weights to the run and round-trips them through the URL', () => {
    const f = new RunForm();
    f.strategy = 'genarm';
    f.extraArms = { 'local/my-arm': 0.5, 'test-org/arm': 0 };
    expect(f.toRun().arms).toEqual(['tiny-arm-positive', 'local/my-arm']);
    expect(f.toRun().spec.armWeights).toEqual([1, 0.5]);
    const g = new RunForm();
    g.fromParams(new URLSearchParams(f.toParams().toString()));
    expect(g.extraArms).toEqual({ 'local/my-arm': 0.5, 'test-org/arm': 0 });
    expect(g.toRun()).toEqual(f.toRun());
  });
});
