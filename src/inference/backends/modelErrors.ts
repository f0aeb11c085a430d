/**
 * Model-folder validation and error classification, shared by the CLI (onnxruntime-node) and the
 * worker (onnxruntime-web). Pure functions of what loading already produced — file texts, ORT
 * errors, session input/output names — so they work whatever the files come from (the bundled
 * folder, a local folder, the Hugging Face hub) and cost nothing on the happy path: no extra read of
 * the ONNX file, only the session metadata ORT already has.
 *
 * Every message names the model and the file or field at fault and says how to fix it. Errors carry
 * the stable name `ModelFolderError`, which crosses the worker boundary (protocol.ts toWireError).
 */
import { isLabelMix, parseLabelMix, type LabelMixTerm } from '../../core/reward/labelMix.ts';

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

/** The files a model folder needs (README "Adding your own model"). */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'] as const;
export const LAYOUT = 'a model folder needs the Hugging Face layout: config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (as Optimum exports it)';

/** The JSON files transformers.js reads while loading, in the order the adapter loads them. */
export const CONFIG_FILES = ['config.json'] as const;
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

/** True when a text that should be JSON is an HTML page (a host that rewrites missing files to index.html). */
export function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text.replace(/^\ufeff/, ''));
}

function htmlMessage(id: string, file: string): string {
  return `${id}/${file} returned an HTML page, not JSON: the host rewrites missing files to index.html. Serve the real file (a missing file must be a 404).`;
}

/** Parses a model JSON file, refusing HTML pages and invalid JSON with a message naming the file. */
export function parseModelJson(id: string, file: string, text: string): unknown {
  if (looksLikeHtml(text)) throw new ModelFolderError(htmlMessage(id, file));
  try {
    return JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (e) {
    throw new ModelFolderError(`${id}/${file} is not valid JSON (${(e as Error).message}): re-download or re-export it`);
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The file a "not found" error is about, relative to the model folder (e.g. "onnx/model.onnx"). */
function missingFile(msg: string): string | null {
  const m = /(onnx\/[\w.-]+\.onnx(?:_data)?|[\w.-]+\.json)\b/.exec(msg);
  return m ? (m[1] as string) : null;
}

/** ORT's wording for a model file it cannot parse (onnxruntime-node and -web). */
const NOT_ONNX = /protobuf parsing failed|failed to load model|load model from .* failed|invalid (onnx )?model|ModelProto|can't create a session/i;
/** Allocation failures on WebGPU or WASM (and V8's own). */
const OOM = /out of memory|\bOOM\b|bad_alloc|failed to allocate|allocation failed|cannot enlarge memory|memory\.grow|maximum memory size|array buffer allocation failed|not enough memory/i;
/** A lost WebGPU device (Chromium, ORT and our own wording). */
const LOST = /device (was |is |has been )?lost|GPUDeviceLostInfo|device is destroyed|lost the (gpu|device)/i;

export function isOutOfMemory(e: unknown): boolean {
  return OOM.test(message(e)) || (e instanceof Error && /RangeError/.test(e.name) && /memory|allocation/i.test(e.message));
}

export function isDeviceLost(e: unknown): boolean {
  return (e instanceof Error && e.name === 'DeviceLostError') || LOST.test(message(e));
}

/**
 * Turns a raw loading error (transformers.js, ORT, JSON.parse) into a ModelFolderError naming the
 * file at fault, or returns it unchanged when it is something else (out of memory, device lost…).
 * `jsonFiles` are the JSON files the failed stage read: a JSON syntax error is about one of them.
 * `htmlFile`, when the caller found it, is the file that turned out to be an HTML page.
 */
export function explainLoadError(id: string, e: unknown, jsonFiles: readonly string[] = [], htmlFile?: string): Error {
  if (e instanceof ModelFolderError) return e;
  const msg = message(e);
  if (isOutOfMemory(e) || isDeviceLost(e)) return e instanceof Error ? e : new Error(msg);
  if ((e as Error)?.name === 'ModelFileNotFoundError' || /not found|could not locate file|404/i.test(msg)) {
    const file = missingFile(msg);
    if (file) return new ModelFolderError(`${id}: ${file} is missing (${file === 'generation_config.json' ? 'optional, but the host answered with an error' : 'required'}); ${LAYOUT}`);
  }
  if (NOT_ONNX.test(msg)) {
    const file = /onnx\/[\w.-]+\.onnx/.exec(msg)?.[0] ?? 'onnx/model.onnx';
    return new ModelFolderError(`${id}/${file} is not a valid ONNX file (truncated or another format, e.g. an HTML page): re-download or re-export it`);
  }
  if (e instanceof SyntaxError || /is not valid JSON|Unexpected token|JSON\.parse|in JSON at position/i.test(msg)) {
    const html = /'<'|"<|<!doctype|<html/i.test(msg);
    const file = htmlFile ?? (jsonFiles.length === 1 ? jsonFiles[0] : undefined);
    const which = file ?? (jsonFiles.length ? jsonFiles.join(' or ') : 'a JSON file');
    if (html) return new ModelFolderError(htmlMessage(id, which));
    return new ModelFolderError(`${id}/${which} is not valid JSON (${msg}): re-download or re-export it`);
  }
  return e instanceof Error ? e : new Error(msg);
}

/** What an ORT session tells about its graph (InferenceSession in -node and -web). */
export interface SessionIo {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly outputMetadata?: readonly { readonly name: string; readonly shape?: readonly (number | string)[] }[];
}

function shapeOf(io: SessionIo, name: string): string | null {
  const s = io.outputMetadata?.find((m) => m.name === name)?.shape;
  return s ? `[${s.join(', ')}]` : null;
}

function describeIo(io: SessionIo): string {
  const inputs = io.inputNames.filter((n) => !n.startsWith('past_key_values.'));
  const past = io.inputNames.length - inputs.length;
  const outputs = io.outputNames.filter((n) => !n.startsWith('present.'));
  const present = io.outputNames.length - outputs.length;
  const out = outputs.map((n) => (shapeOf(io, n) ? `${n} ${shapeOf(io, n)}` : n));
  return `inputs ${[...inputs, ...(past ? [`${past} past_key_values.*`] : [])].join(', ') || 'none'}; outputs ${[...out, ...(present ? [`${present} present.*`] : [])].join(', ') || 'none'}`;
}

/** A [batch, 1] logits output: a sequence classifier / scalar reward head. */
function isScalarHead(io: SessionIo, architectures: readonly string[]): boolean {
  const s = io.outputMetadata?.find((m) => m.name === 'logits')?.shape;
  return (s?.length === 2 && s[1] === 1) || architectures.some((a) => /ForSequenceClassification|RewardModel/i.test(a));
}

/** Refuses a model that is not a causal LM with a KV cache (policy, ARM, tuned, reference). */
export function checkCausalLm(id: string, io: SessionIo, architectures: readonly string[] = []): void {
  const hasPast = io.inputNames.some((n) => n.startsWith('past_key_values.'));
  const hasPresent = io.outputNames.some((n) => n.startsWith('present.'));
  const hasLogits = io.outputNames.includes('logits');
  if (hasLogits && isScalarHead(io, architectures)) {
    const arch = architectures.length ? `${architectures.join(', ')}, ` : '';
    throw new ModelFolderError(
      `${id} is a sequence classifier (${arch}logits ${shapeOf(io, 'logits') ?? '[batch, 1]'}), not a causal language model: it cannot be a policy, ARM, tuned or reference model. Use it as a sequence reward model (--reward-model).`,
    );
  }
  if (!hasPast || !hasPresent || !hasLogits) {
    const missing = [!hasPast && 'past_key_values.* inputs', !hasPresent && 'present.* outputs', !hasLogits && 'a logits output'].filter(Boolean).join(', ');
    throw new ModelFolderError(
      `${id}/onnx/model.onnx is not a causal LM with a KV cache: it has ${describeIo(io)}; needed: logits [batch, sequence, vocab] plus past_key_values.* inputs and present.* outputs (missing: ${missing}). Re-export it with Optimum's text-generation-with-past task.`,
    );
  }
}

/** Refuses a model that is not a scalar-head sequence reward model. */
export function checkSequenceRm(id: string, io: SessionIo, architectures: readonly string[] = []): void {
  if (!io.outputNames.includes('logits')) {
    throw new ModelFolderError(`${id}/onnx/model.onnx has no "logits" output (it has ${describeIo(io)}); a sequence reward model must output logits [batch, 1], or [batch, labels] for a classifier (choose the label with --reward-label)`);
  }
  const s = io.outputMetadata?.find((m) => m.name === 'logits')?.shape;
  const causal = io.inputNames.some((n) => n.startsWith('past_key_values.')) || s?.length === 3 || architectures.some((a) => /ForCausalLM|LMHeadModel/i.test(a));
  if (causal && !isScalarHead(io, [])) {
    throw new ModelFolderError(
      `${id} is a causal language model (logits ${shapeOf(io, 'logits') ?? '[batch, sequence, vocab]'}), not a sequence reward model: a reward model outputs one score per text, logits [batch, 1] (or [batch, labels] for a classifier). Use it as a policy, ARM or tuned model instead.`,
    );
  }
}

/** What two models must agree on to be combined (guidance mixes token ids). */
export interface VocabularyInfo {
  readonly id: string;
  readonly vocabSize: number;
  /** A digest of the tokenizer (vocabulary, merges, added tokens); compared when both have one. */
  readonly digest?: string;
}

/** Refuses a model whose vocabulary or tokenizer differs from the policy's. `role` names it ("--arm", "ARM"…). */
export function checkSameVocabulary(policy: VocabularyInfo, other: VocabularyInfo, role: string): void {
  if (other.vocabSize !== policy.vocabSize) {
    throw new ModelFolderError(
      `${role} ${other.id} has a vocabulary of ${other.vocabSize} tokens but the policy ${policy.id} has ${policy.vocabSize}: guidance and scoring need models that share one tokenizer`,
    );
  }
  if (policy.digest && other.digest && policy.digest !== other.digest) {
    throw new ModelFolderError(`${role} ${other.id}: its tokenizer differs from the policy's (${policy.id}) although both have ${policy.vocabSize} tokens; guidance and scoring need models that share one tokenizer`);
  }
}

/** A 64-bit FNV-1a digest of strings, as hex (tokenizer comparison; not cryptographic). */
export function fnv1a64(parts: Iterable<string>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x9e3779b9;
  for (const s of parts) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193) >>> 0; // separator, so ["ab","c"] != ["a","bc"]
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** The error a run fails with when the WebGPU device was lost. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/**
 * Which of a classifier's outputs is the reward: one label's logit, or `plus` − `minus`, or, when
 * `terms` is set (a weighted mix "A=1,B=0.5", core/reward/labelMix.ts), Σ weight·logit over the
 * terms (`plus` is then the first term's index).
 */
export interface RewardLabel {
  readonly plus: number;
  readonly minus?: number;
  /** As the user wrote it, resolved to names ("POSITIVE", "POSITIVE-NEGATIVE", "positivity=1,conciseness=0.5"). */
  readonly name: string;
  readonly terms?: readonly LabelMixTerm[];
}

/**
 * Resolves a reward-label choice against a classifier's labels (config.json `id2label`, in index
 * order): a label name ("POSITIVE"), an index ("1"), or a difference of two ("POSITIVE-NEGATIVE",
 * "1-0"), or a weighted mix of several ("positivity=1,conciseness=0.5": names or indices, any finite
 * weights; parseLabelMix). Names are matched exactly first, then case-insensitively; a name that
 * itself contains "-" (or "=", ",") wins over a split. With no choice, a one-output model's logit is the reward and a model with
 * several labels is refused with the list. `flag` names the setting in messages (e.g. "--reward-label").
 */
export function resolveRewardLabel(id: string, labels: readonly string[], choice: string | undefined, flag = '--reward-label'): RewardLabel {
  const list = labels.map((l, i) => `${i}: ${l}`).join(', ');
  if (choice === undefined || choice.trim() === '') {
    if (labels.length === 1) return { plus: 0, name: labels[0] as string };
    const [a, b] = [labels[1] ?? '1', labels[0] ?? '0'];
    throw new ModelFolderError(
      `${id} is a classifier with ${labels.length} labels (${list}); choose the reward with ${flag} LABEL (that label's logit, e.g. ${flag} ${a}), ${flag} A-B (a difference of two logits, e.g. ${flag} ${a}-${b}) or ${flag} A=1,B=0.5 (a weighted mix, e.g. ${flag} ${a}=1,${b}=0.5)`,
    );
  }
  const one = (s: string): number | undefined => {
    const t = s.trim();
    let i = labels.indexOf(t);
    if (i < 0) i = labels.findIndex((l) => l.toLowerCase() === t.toLowerCase());
    if (i < 0 && /^\d+$/.test(t) && Number(t) < labels.length) i = Number(t);
    return i < 0 ? undefined : i;
  };
  const whole = one(choice);
  if (whole !== undefined) return { plus: whole, name: labels[whole] as string };
  if (isLabelMix(choice)) {
    try {
      const mix = parseLabelMix(choice, labels);
      return { plus: mix.terms[0]?.index ?? 0, name: mix.name, terms: mix.terms };
    } catch (e) {
      throw new ModelFolderError(`${flag} ${choice}: ${(e as Error).message} (${id}; a mix is LABEL=WEIGHT,LABEL=WEIGHT)`);
    }
  }
  for (let k = choice.indexOf('-'); k > 0; k = choice.indexOf('-', k + 1)) {
    const p = one(choice.slice(0, k));
    const m = one(choice.slice(k + 1));
    if (p !== undefined && m !== undefined) {
      if (p === m) throw new ModelFolderError(`${flag} ${choice}: a label minus itself is always 0; choose two different labels of ${id} (${list})`);
      return { plus: p, minus: m, name: `${labels[p]}-${labels[m]}` };
    }
  }
  throw new ModelFolderError(`${flag} ${choice}: ${id} has no such label; its labels are ${list} (a name, an index, A-B for a difference, or A=1,B=0.5 for a weighted mix)`);
}
