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
import { LAYOUT, ModelFolderError, REQUIRED_FILES, checkSameVocabulary, parseModelJson } from '../inference/backends/modelErrors.ts';
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

/** The folder of a resolved model id (a bundled id or an absolute folder path). */
function folderOf(id: string): string {
  return path.isAbsolute(id) ? id : path.join(MODELS_DIR, id);
}

/** A model file's text, or null when it is not there (LoadOptions.readText for error messages). */
async function readText(id: string, file: string): Promise<string | null> {
  const p = path.join(folderOf(id), file);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

/** Reads and parses a model JSON file; an HTML page or invalid JSON is a UsageError naming the flag and file. */
function modelJson(id: string, file: string, flag?: string): unknown {
  try {
    return parseModelJson(id, file, readFileSync(path.join(folderOf(id), file), 'utf8'));
  } catch (e) {
    throw new UsageError(`${flag ? `${flag} ` : ''}${(e as Error).message}`);
  }
}

/**
 * A model argument → the id transformers.js loads (bundled id, or an absolute folder path). A
 * folder is checked before anything loads: every required file present, and its JSON files JSON
 * (not an HTML page). The ONNX graph itself is checked when it loads (lm/rm below).
 */
export function resolveModel(arg: string, flag: string): string {
  if (bundledModels().some((m) => m.id === arg)) return arg;
  const folder = path.resolve(arg);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    for (const f of REQUIRED_FILES) {
      if (!existsSync(path.join(folder, f))) throw new UsageError(`${flag} ${arg}: the folder has no ${f}; ${LAYOUT}`);
    }
    for (const f of REQUIRED_FILES) if (f.endsWith('.json')) modelJson(folder, f, flag);
    return folder;
  }
  const ids = bundledModels().map((m) => m.id).join(', ');
  throw new UsageError(`${flag} ${arg}: not a bundled model id (${ids}) nor a model folder`);
}

function tokenizerDigest(id: string, flag?: string): string {
  const j = modelJson(id, 'tokenizer.json', flag) as { model?: { vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
  return createHash('sha256').update(JSON.stringify([j?.model?.vocab, j?.model?.merges, j?.added_tokens])).digest('hex');
}

function vocabSize(id: string, flag?: string): number {
  const c = modelJson(id, 'config.json', flag) as { vocab_size?: unknown };
  return typeof c?.vocab_size === 'number' ? c.vocab_size : NaN;
}

/**
 * Refuses models whose vocabulary or tokenizer differs from the policy's (guidance mixes token ids):
 * config.json's vocab_size first, then a digest of tokenizer.json's vocabulary, merges and added tokens.
 */
export function assertSameTokenizer(policy: string, others: { id: string; flag: string }[]): void {
  const p = { id: policy, vocabSize: vocabSize(policy), digest: tokenizerDigest(policy) };
  for (const o of others) {
    const info = { id: o.id, vocabSize: vocabSize(o.id, o.flag), digest: tokenizerDigest(o.id, o.flag) };
    // An unknown vocab_size (config without one) is left to the digest.
    if (Number.isNaN(info.vocabSize) || Number.isNaN(p.vocabSize)) info.vocabSize = p.vocabSize;
    try {
      checkSameVocabulary(p, info, o.flag);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
}

/** A model folder that fails to load (not ONNX, wrong kind of graph…) is bad input: exit 2 with the message. */
function asUsage<T>(p: Promise<T>, cache: Map<string, Promise<T>>, id: string): Promise<T> {
  return p.catch((e: unknown) => {
    cache.delete(id);
    throw e instanceof ModelFolderError ? new UsageError(e.message) : e;
  });
}

const lmCache = new Map<string, Promise<TransformersLanguageModel>>();
const rmCache = new Map<string, Promise<TransformersSequenceRewardModel>>();

export function lm(id: string): Promise<TransformersLanguageModel> {
  let p = lmCache.get(id);
  if (!p) lmCache.set(id, (p = asUsage(loadLanguageModel(id, { device: 'cpu', readText }), lmCache, id)));
  return p;
}

export function rm(id: string): Promise<TransformersSequenceRewardModel> {
  let p = rmCache.get(id);
  if (!p) rmCache.set(id, (p = asUsage(loadSequenceRewardModel(id, { device: 'cpu', readText }), rmCache, id)));
  return p;
}
