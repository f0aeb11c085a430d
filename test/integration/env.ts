import { env } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLanguageModel, loadSequenceRewardModel } from '../../src/inference/backends/transformers.ts';
import type { Backend } from '../../src/inference/handler.ts';

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR;

export interface ManifestModel {
  id: string;
  role: 'policy' | 'arm' | 'tuned' | 'reference' | 'sequence_rm';
  params: number;
  files: { path: string; bytes: number; sha256: string }[];
  attribute?: string;
}
export interface Manifest {
  models: ManifestModel[];
  datasets: { id: string; path: string; pairs: number; sha256: string; bytes: number }[];
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export const manifest = readJson<Manifest>(MODELS_DIR + 'manifest.json');

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** The worker's backend on onnxruntime-node (CPU), reading bundled files such as datasets from models/. */
export function nodeBackend(): Backend {
  return {
    selectDevice: async () => ({ device: 'wasm', reason: 'test', threads: 1, crossOriginIsolated: false }),
    loadLanguageModel: async (id) => {
      const m = await loadLanguageModel(id, { device: 'cpu' });
      return { model: m, tokenizer: m.tokenizer };
    },
    loadSequenceRewardModel: (id) => loadSequenceRewardModel(id, { device: 'cpu' }),
    fetch: async (p) => new Response(readFileSync(path.join(MODELS_DIR, p)), { headers: { 'content-type': 'application/x-ndjson' } }),
  };
}
