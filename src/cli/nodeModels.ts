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
import type { SequenceRewardModel, Tokenizer } from '../core/model/types.ts';

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
      // Any dtype variant will do for the ONNX file: --dtype picks one and checkDtype lists what is there.
      if (f === 'onnx/model.onnx' && dtypesIn(folder).length > 0) continue;
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

/**
 * `--dtype`: the ONNX variant a folder ships, by the names transformers.js and the hub use
 * (DEFAULT_DTYPE_SUFFIX_MAPPING): onnx/model{suffix}.onnx.
 */
export const DTYPE_FILES: Readonly<Record<string, string>> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
};

/** The dtype variants present in a model folder's onnx/ (e.g. "fp32 (model.onnx), fp16 (model_fp16.onnx)"). */
export function dtypesIn(id: string): { dtype: string; file: string; bytes: number }[] {
  const dir = path.join(folderOf(id), 'onnx');
  const out: { dtype: string; file: string; bytes: number }[] = [];
  for (const [dtype, file] of Object.entries(DTYPE_FILES)) {
    const f = path.join(dir, file);
    if (!existsSync(f)) continue;
    let bytes = statSync(f).size;
    for (const extra of [`${file}_data`, ...Array.from({ length: 8 }, (_, i) => `${file}_data_${i + 1}`)]) if (existsSync(path.join(dir, extra))) bytes += statSync(path.join(dir, extra)).size;
    out.push({ dtype, file, bytes });
  }
  return out;
}

/** Run-wide model options from the command line (`--dtype`, `--reward-label`); set by main before a command runs. */
const options: { dtype: string; rewardLabel?: string } = { dtype: 'fp32' };

export function configureModels(p: { dtype?: unknown; reward_label?: unknown }): void {
  const d = p.dtype === undefined ? 'fp32' : String(p.dtype);
  if (!(d in DTYPE_FILES)) throw new UsageError(`--dtype must be one of ${Object.keys(DTYPE_FILES).join(', ')} (got "${d}"); it picks onnx/model.onnx, model_fp16.onnx, model_quantized.onnx (q8), model_q4.onnx …`);
  options.dtype = d;
  if (p.reward_label === undefined) delete options.rewardLabel;
  else options.rewardLabel = String(p.reward_label);
}

/** Refuses a dtype whose file the folder lacks, listing the variants it has. */
function checkDtype(id: string, flag?: string): void {
  const file = DTYPE_FILES[options.dtype] as string;
  if (existsSync(path.join(folderOf(id), 'onnx', file))) return;
  const have = dtypesIn(id).map((v) => `${v.dtype} (onnx/${v.file})`);
  throw new UsageError(
    `${flag ? `${flag} ` : ''}${id}: --dtype ${options.dtype} needs onnx/${file}, which the folder lacks; it has ${have.length ? have.join(', ') : 'no ONNX file'}. Choose one of those with --dtype${options.dtype === 'fp32' ? ' (the default is fp32)' : ''}`,
  );
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
  const key = `${options.dtype}:${id}`;
  let p = lmCache.get(key);
  if (!p) {
    checkDtype(id);
    lmCache.set(key, (p = asUsage(loadLanguageModel(id, { device: 'cpu', dtype: options.dtype, readText }), lmCache, key)));
  }
  return p;
}

/**
 * A sequence reward model with the run's `--reward-label` (refused at load when the model has no
 * such label, or when it has several labels and none was chosen).
 */
export function rm(id: string): Promise<TransformersSequenceRewardModel> {
  const key = `${options.dtype}:${options.rewardLabel ?? ''}:${id}`;
  let p = rmCache.get(key);
  if (!p) {
    checkDtype(id, '--reward-model');
    const load = loadSequenceRewardModel(id, { device: 'cpu', dtype: options.dtype, readText, ...(options.rewardLabel !== undefined ? { rewardLabel: options.rewardLabel } : {}) }).then((m) => {
      if (m.needsLabel) {
        void m.dispose();
        throw new ModelFolderError(`--reward-model ${m.id}: it is a classifier with ${m.labels.length} labels (${m.labels.join(', ')}); choose the reward with --reward-label ${m.labels[1]} (that label's logit), --reward-label ${m.labels[1]}-${m.labels[0]} (a difference of two) or --reward-label ${m.labels[1]}=1,${m.labels[0]}=0.5 (a weighted mix)`);
      }
      return m;
    });
    rmCache.set(key, (p = asUsage(load, rmCache, key)));
  }
  return p;
}

/**
 * The reward model as a generation run uses it: with the run's label, and re-tokenizing through text
 * when its tokenizer is not the policy's (best-of-N, rejection sampling and ARGS score text; token-level
 * guidance still needs one tokenizer, assertSameTokenizer).
 */
export async function rewardFor(id: string, policy: Tokenizer): Promise<SequenceRewardModel> {
  return (await rm(id)).forRun({ policy });
}

/** generation_config.json keys that are defaults of every unguided run (HF generate() applies them to greedy and beams too). */
const FILE_PENALTY_KEYS = ['repetition_penalty', 'no_repeat_ngram_size'] as const;
/** generation_config.json keys that are defaults of sampling runs. */
const FILE_SAMPLING_KEYS = ['temperature', 'top_k', 'top_p', 'min_p'] as const;

/**
 * The decoding defaults a policy's generation_config.json gives (Qwen2.5-Instruct: temperature 0.7,
 * top_p 0.8, top_k 20, repetition_penalty 1.05), for the keys the run leaves out, as Hugging Face's
 * generate() takes them: penalties for every unguided strategy, temperature/top_k/top_p/min_p for the
 * sampling ones (sample, best_of_n, rejection). Guided strategies (genarm, implicit, args) keep their
 * own documented defaults. Values that are not finite numbers are ignored.
 */
export function fileDefaults(strategy: string, given: Readonly<Record<string, unknown>>, file: Readonly<Record<string, unknown>> | null | undefined): Record<string, number> {
  if (!file || ['genarm', 'implicit', 'args'].includes(strategy)) return {};
  const keys: string[] = [...FILE_PENALTY_KEYS, ...(['sample', 'best_of_n', 'rejection'].includes(strategy) ? FILE_SAMPLING_KEYS : [])];
  const out: Record<string, number> = {};
  for (const k of keys) {
    const v = file[k];
    if (given[k] === undefined && typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
