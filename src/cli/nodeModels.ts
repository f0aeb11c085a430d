/**
 * Resolves `--policy`/`--arm`/... arguments for the CLI: a bundled model id from
 * models/manifest.json, or a folder in the Hugging Face layout. Loads through the same
 * transformers.js adapter as the browser, on onnxruntime-node.
 */
import { env } from '@huggingface/transformers';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadLanguageModel,
  loadSequenceRewardModel,
  type TransformersLanguageModel,
  type TransformersSequenceRewardModel,
} from '../inference/backends/transformers.ts';
import { UsageError } from './args.ts';

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR;

interface ManifestEntry {
  id: string;
  role: string;
}

let manifest: ManifestEntry[] | null = null;
export function bundledModels(): ManifestEntry[] {
  if (!manifest) {
    const p = path.join(MODELS_DIR, 'manifest.json');
    manifest = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { models: ManifestEntry[] }).models : [];
  }
  return manifest;
}

/** A model argument → the id transformers.js loads (bundled id, or an absolute folder path). */
export function resolveModel(arg: string, flag: string): string {
  if (bundledModels().some((m) => m.id === arg)) return arg;
  const folder = path.resolve(arg);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      if (!existsSync(path.join(folder, f))) throw new UsageError(`${flag} ${arg}: the folder has no ${f}; a model folder needs the Hugging Face layout (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)`);
    }
    if (!existsSync(path.join(folder, 'onnx', 'model.onnx'))) throw new UsageError(`${flag} ${arg}: the folder has no onnx/model.onnx`);
    return folder;
  }
  const ids = bundledModels().map((m) => m.id).join(', ');
  throw new UsageError(`${flag} ${arg}: not a bundled model id (${ids}) nor a model folder`);
}

function tokenizerDigest(id: string): string {
  const dir = path.isAbsolute(id) ? id : path.join(MODELS_DIR, id);
  const j = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as { model?: { vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
  return createHash('sha256').update(JSON.stringify([j.model?.vocab, j.model?.merges, j.added_tokens])).digest('hex');
}

/** Refuses models whose tokenizer differs from the policy's (guidance mixes token ids). */
export function assertSameTokenizer(policy: string, others: { id: string; flag: string }[]): void {
  const d = tokenizerDigest(policy);
  for (const o of others) {
    if (tokenizerDigest(o.id) !== d) {
      throw new UsageError(`${o.flag} ${o.id}: its tokenizer differs from the policy's (${policy}); guidance and scoring need models that share one vocabulary`);
    }
  }
}

const lmCache = new Map<string, Promise<TransformersLanguageModel>>();
const rmCache = new Map<string, Promise<TransformersSequenceRewardModel>>();

export function lm(id: string): Promise<TransformersLanguageModel> {
  let p = lmCache.get(id);
  if (!p) lmCache.set(id, (p = loadLanguageModel(id, { device: 'cpu' })));
  return p;
}

export function rm(id: string): Promise<TransformersSequenceRewardModel> {
  let p = rmCache.get(id);
  if (!p) rmCache.set(id, (p = loadSequenceRewardModel(id, { device: 'cpu' })));
  return p;
}
