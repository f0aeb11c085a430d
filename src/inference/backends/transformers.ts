/**
 * Backend adapter: transformers.js models behind the core's LanguageModel / SequenceRewardModel /
 * Tokenizer interfaces. The same code runs in Node (onnxruntime-node, device 'cpu') and in the
 * browser worker (onnxruntime-web, 'wasm' or 'webgpu').
 *
 * Decoding never goes through `generate()`: we call the model's forward pass ourselves, keep the
 * `present.*` outputs as the cache, and gather cache rows for beams (on the GPU for WebGPU).
 */
import { AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer, Tensor, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { KvCache, LanguageModel, SequenceRewardModel, StepResult, Tokenizer } from '../../core/model/types.ts';
import { gatherRowsGpu, type GpuTensorLike } from './gpuGather.ts';
import { logSumExpRange as lseRange } from '../../core/math/logSumExpFast.ts';
import { toFloat32 } from '../../core/math/half.ts';
import { mixLogits } from '../../core/reward/labelMix.ts';
import { applyCopies, planReorder } from '../../core/model/reorderPlan.ts';
import {
  CONFIG_FILES,
  TOKENIZER_FILES,
  checkCausalLm,
  checkSequenceRm,
  explainLoadError,
  fnv1a64,
  looksLikeHtml,
  resolveRewardLabel,
  type RewardLabel,
  type SessionIo,
} from './modelErrors.ts';

export type Device = 'cpu' | 'wasm' | 'webgpu';

export interface LoadOptions {
  device: Device;
  /** Passed to transformers.js; 'fp32' for the bundled models. */
  dtype?: string;
  /**
   * How many external-data files (`model.onnx_data`, `…_data_1`, …) the ONNX file has; passed to
   * transformers.js as `use_external_data_format`, which fetches them and hands them to onnxruntime
   * (the browser's WASM cannot read them from disk). 0/absent: config.json's `transformers.js_config`
   * decides, and Node's onnxruntime reads them next to the model file by itself.
   */
  externalData?: number;
  /** Sequence classifiers: which label is the reward (a name, an index, or "A-B"); see resolveRewardLabel. */
  rewardLabel?: string;
  /**
   * Reads a model file as text, used only after a load failed on a JSON syntax error, to name the
   * file that is an HTML page. Default: `env.fetch` under `env.localModelPath` (the browser's
   * local models); return null when the file cannot be read.
   */
  readText?: (id: string, file: string) => Promise<string | null>;
  /**
   * Most bytes of logits one forward pass may return (float32, rows × positions × vocabulary):
   * longer inputs of `prefill`, `score` and `extend` are fed in chunks through the KV cache. Default:
   * DECODING_LAB_LOGITS_BUDGET in Node when set (bytes, `64M`, or `off` for no bound), else
   * DEFAULT_LOGITS_BUDGET_BYTES. `Infinity` = no bound (one forward for the whole input).
   */
  logitsBudgetBytes?: number;
}

/** The default bound on the logits one forward returns (see LoadOptions.logitsBudgetBytes). */
export const DEFAULT_LOGITS_BUDGET_BYTES = 16 * 2 ** 20;

/**
 * Parses a logits budget: a number of bytes with an optional K/M/G suffix (powers of 1024), or
 * `off` / `none` / `infinity` for no bound. Throws a one-line error naming `what` otherwise.
 */
export function parseLogitsBudget(value: string, what = 'DECODING_LAB_LOGITS_BUDGET'): number {
  const v = value.trim().toLowerCase();
  if (v === 'off' || v === 'none' || v === 'infinity' || v === 'inf') return Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/.exec(v);
  const bytes = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf(m[2] || ' ') : NaN;
  if (!(bytes >= 1)) throw new Error(`${what}: expected a size in bytes such as 33554432, 32M or 1G, or "off" for no bound; got "${value}"`);
  return Math.floor(bytes);
}

/** LoadOptions.logitsBudgetBytes when given, else DECODING_LAB_LOGITS_BUDGET (Node), else the default. */
function logitsBudgetOf(opts: Pick<LoadOptions, 'logitsBudgetBytes'>): number {
  if (opts.logitsBudgetBytes !== undefined) return checkBudget(opts.logitsBudgetBytes);
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.DECODING_LAB_LOGITS_BUDGET;
  return v === undefined || v === '' ? DEFAULT_LOGITS_BUDGET_BYTES : parseLogitsBudget(v);
}

function checkBudget(b: number): number {
  if (!(b >= 1)) throw new RangeError(`logitsBudgetBytes must be at least 1 byte (Infinity for no bound), got ${b}`);
  return b;
}

type Feeds = Record<string, Tensor>;

/** The fields of generation_config.json the adapter reads (the rest is passed on as `generationDefaults`). */
export interface GenerationDefaults {
  eos_token_id?: number | number[];
  bos_token_id?: number;
  pad_token_id?: number;
  [key: string]: unknown;
}

interface ModelConfig {
  eos_token_id?: number | number[];
  max_position_embeddings?: number;
  n_positions?: number;
  vocab_size?: number;
  model_type?: string;
}

const PAST = 'past_key_values.';

function int64(data: ArrayLike<number>, dims: number[]): Tensor {
  const a = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) a[i] = BigInt(data[i] as number);
  return new Tensor('int64', a, dims);
}

/** A 0/1 attention mask as int64 without a BigInt() call per entry (the step hot path; zeros are the default). */
function int64Mask(mask: Uint8Array, dims: number[]): Tensor {
  const a = new BigInt64Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i]) a[i] = 1n;
  return new Tensor('int64', a, dims);
}

/** Left-pads rows to a common length; returns ids and the 0/1 mask, both [rows, length]. */
export function leftPad(batch: readonly (readonly number[])[], pad: number): { ids: number[]; mask: Uint8Array; length: number } {
  const length = Math.max(...batch.map((r) => r.length));
  const ids = new Array<number>(batch.length * length).fill(pad);
  const mask = new Uint8Array(batch.length * length);
  batch.forEach((row, b) => {
    const off = b * length + (length - row.length);
    row.forEach((t, j) => {
      ids[off + j] = t;
      mask[off + j] = 1;
    });
  });
  return { ids, mask, length };
}

function isGpu(t: Tensor): boolean {
  return t.location === 'gpu-buffer';
}

/**
 * What the adapter holds right now: KV caches not yet disposed, and the GPU buffers inside them
 * (`present.*` outputs kept on the GPU and rows gathered by gpuGather). Leak tests read these
 * through `liveResources()` (Node) or the worker's `debug` request (browser).
 */
const live = { caches: 0, gpuBuffers: 0 };

export function liveResources(): { caches: number; gpuBuffers: number } {
  return { ...live };
}

/** Rows r0..r1-1 of CPU tensors, as views on their buffers along axis 0 (no copy). */
function rowRange(entries: Feeds, r0: number, r1: number): Feeds {
  const out: Feeds = {};
  for (const k in entries) {
    const t = entries[k] as Tensor;
    const dims = t.dims as number[];
    const rowSize = t.size / (dims[0] as number);
    const data = t.data as Float32Array;
    out[k] = new Tensor(t.type as 'float32', data.subarray(r0 * rowSize, r1 * rowSize), [r1 - r0, ...dims.slice(1)]);
  }
  return out;
}

/** Gathers rows of a CPU tensor along axis 0. */
function gatherRowsCpu(t: Tensor, rows: Int32Array): Tensor {
  const dims = t.dims as number[];
  const rowSize = t.size / (dims[0] as number);
  const src = t.data as Float32Array;
  const Ctor = src.constructor as new (n: number) => Float32Array;
  const dst = new Ctor(rows.length * rowSize);
  rows.forEach((r, i) => dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
  return new Tensor(t.type as 'float32', dst, [rows.length, ...dims.slice(1)]);
}

/**
 * KV-row gathers since the process started (select and reorder, CPU and GPU): calls, wall time,
 * rows copied and bytes copied on the CPU. The bench reads it to say what the gather costs per beam step.
 */
const gathers = { calls: 0, ms: 0, rowsCopied: 0, bytesCopied: 0 };

export function kvGatherStats(): { calls: number; ms: number; rowsCopied: number; bytesCopied: number } {
  return { ...gathers };
}

class TransformersKvCache implements KvCache {
  private disposed = false;
  private readonly ownedGpu: number;
  constructor(
    /** The past_key_values.* tensors, [slots, …]. */
    readonly slotEntries: Feeds,
    /** 0/1 attention mask, [slots, length]. */
    readonly slotMask: Uint8Array,
    readonly rows: number,
    readonly length: number,
    /**
     * Logical row i lives in slot `order[i]` of the tensors and mask (null: the identity). Only
     * `reorder` makes one; `step` feeds tokens and returns logits through it.
     */
    readonly order: Int32Array | null = null,
  ) {
    this.ownedGpu = Object.values(slotEntries).filter(isGpu).length;
    live.caches++;
    live.gpuBuffers += this.ownedGpu;
  }

  /** The tensors in row order, for a forward pass; a reordered cache refuses (only `step` reads slots). */
  get entries(): Feeds {
    this.inRowOrder();
    return this.slotEntries;
  }

  /** The 0/1 mask in row order, [rows, length]; a reordered cache refuses, as `entries`. */
  get mask(): Uint8Array {
    this.inRowOrder();
    return this.slotMask;
  }

  private inRowOrder(): void {
    if (this.order) throw new Error('this KV cache was reordered (KvCache.reorder): its rows sit in other slots and only step() reads it; select() it for anything else');
  }

  async select(rows: Int32Array): Promise<KvCache> {
    if (this.disposed) throw new Error('KV cache used after dispose');
    for (const r of rows) if (r < 0 || r >= this.rows) throw new RangeError(`cache row ${r} out of range 0..${this.rows - 1}`);
    const t0 = performance.now();
    const order = this.order;
    const slots = order ? Int32Array.from(rows, (r) => order[r] as number) : rows;
    const names = Object.keys(this.slotEntries);
    const tensors = names.map((n) => this.slotEntries[n] as Tensor);
    const gpu = tensors.some(isGpu);
    const gathered = gpu
      ? (await gatherRowsGpu(tensors as unknown as GpuTensorLike[], slots)).map((t) => new Tensor(t as never))
      : tensors.map((t) => gatherRowsCpu(t, slots));
    const entries: Feeds = {};
    names.forEach((n, i) => (entries[n] = gathered[i] as Tensor));
    const mask = new Uint8Array(rows.length * this.length);
    slots.forEach((r, i) => mask.set(this.slotMask.subarray(r * this.length, (r + 1) * this.length), i * this.length));
    gathers.calls++;
    gathers.rowsCopied += rows.length;
    if (!gpu) for (const t of tensors) gathers.bytesCopied += (rows.length * (t.data as Float32Array).byteLength) / this.rows;
    gathers.ms += performance.now() - t0;
    return new TransformersKvCache(entries, mask, rows.length, this.length);
  }

  /**
   * KvCache.reorder: consumes this cache. On the CPU the rows stay in their slots and only the
   * duplicated parents are copied (planReorder: rows − distinct parents copies, none when beams only
   * change rank), in place in this cache's own buffers, whatever the cache length; on the GPU, and
   * when the row count changes, it is select + dispose.
   */
  async reorder(rows: Int32Array): Promise<KvCache> {
    if (this.disposed) throw new Error('KV cache used after dispose');
    const tensors = Object.values(this.slotEntries);
    if (rows.length !== this.rows || tensors.some(isGpu)) {
      const sel = await this.select(rows);
      this.dispose();
      return sel;
    }
    const t0 = performance.now();
    const plan = planReorder(this.order, rows, this.rows); // throws on a bad row before anything moves
    const n = plan.copies.length / 2;
    for (const t of tensors) {
      const data = t.data as Float32Array;
      applyCopies(data, data.length / this.rows, plan.copies);
      gathers.bytesCopied += (n * data.byteLength) / this.rows;
    }
    applyCopies(this.slotMask, this.length, plan.copies);
    gathers.calls++;
    gathers.rowsCopied += n;
    gathers.ms += performance.now() - t0;
    // The buffers move to the new cache: this one is done without freeing them.
    this.disposed = true;
    live.caches--;
    return new TransformersKvCache(this.slotEntries, this.slotMask, this.rows, this.length, plan.order);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    live.caches--;
    live.gpuBuffers -= this.ownedGpu;
    for (const t of Object.values(this.slotEntries)) {
      if (!isGpu(t)) continue;
      try {
        t.dispose();
      } catch {
        // a lost WebGPU device: its buffers are gone with it
      }
    }
  }

  /** Number of live GPU buffers held (for leak tests). */
  get gpuBuffers(): number {
    return this.disposed ? 0 : Object.values(this.slotEntries).filter(isGpu).length;
  }
}

/** present.N.key → past_key_values.N.key, computed once per name (cacheFrom runs every step). */
const pastNames = new Map<string, string | null>();
function pastName(k: string): string | null {
  let n = pastNames.get(k);
  if (n === undefined) pastNames.set(k, (n = k.startsWith('present.') ? PAST + k.slice('present.'.length) : null));
  return n;
}

function cacheFrom(out: Record<string, Tensor>, mask: Uint8Array, rows: number, length: number, order: Int32Array | null = null): TransformersKvCache {
  const entries: Feeds = {};
  for (const k in out) {
    const n = pastName(k);
    if (n !== null) entries[n] = out[k] as Tensor;
  }
  return new TransformersKvCache(entries, mask, rows, length, order);
}

/** Releases the GPU buffers among `t`'s tensors (present.* the caller does not keep); CPU tensors are left to GC. */
function disposeGpu(t: Record<string, Tensor>): void {
  for (const v of Object.values(t)) {
    if (!isGpu(v)) continue;
    try {
      v.dispose();
    } catch {
      // a lost WebGPU device: its buffers are gone with it
    }
  }
}

/**
 * Logits of a one-token step ([B, 1, V]): one view per row on the output buffer, no copy. ORT
 * returns a fresh buffer for every run, so the views stay valid and rows never alias each other.
 * (A prefill's [B, T, V] is copied by lastLogits instead: views would keep all T positions alive.)
 */
function stepLogits(logits: Tensor): Float32Array[] {
  const [B, T, V] = logits.dims as [number, number, number];
  if (T !== 1) return lastLogits(logits);
  // float32: the output buffer itself; float16 (raw half bits in Node, Float16Array in browsers): one decoded copy.
  const data = toFloat32(logits, 0, B * V);
  const out = new Array<Float32Array>(B);
  for (let b = 0; b < B; b++) out[b] = data.subarray(b * V, (b + 1) * V);
  return out;
}

/** Last-position logits of each row of a [B, T, V] CPU tensor (float32 or float16), as float32 copies. */
function lastLogits(logits: Tensor): Float32Array[] {
  const [B, T, V] = logits.dims as [number, number, number];
  const out: Float32Array[] = [];
  for (let b = 0; b < B; b++) out.push(toFloat32(logits, (b * T + T - 1) * V, V, undefined, true));
  return out;
}

/**
 * Reads log-softmax values at chosen positions of a [B, T, V] logits tensor: float32 rows are read
 * in place; float16 rows are decoded one at a time into a reused row buffer (never the whole tensor).
 */
function logProbReader(logits: Tensor): (off: number, V: number, token: number) => number {
  const d = logits.data as unknown;
  if (logits.type === 'float32' && d instanceof Float32Array) return (off, V, token) => logProbAt(d, off, V, token);
  let row: Float32Array | null = null;
  return (off, V, token) => {
    row = toFloat32(logits, off, V, row && row.length === V ? row : new Float32Array(V));
    return logProbAt(row, 0, V, token);
  };
}

/**
 * log Σ exp(x[off .. off + n)) in float64, straight on the logits buffer (no row copy, no
 * log-softmax written out): reading the log-prob of one token per position needs this over the
 * whole vocabulary, and it is the scorer's largest JavaScript cost. The kernel (table-driven exp,
 * ~2–3× a Math.exp loop, equal to ~1e-14) lives in core/math/logSumExpFast.ts. -Infinity
 * entries contribute nothing; a NaN or +Infinity entry gives NaN.
 */
export const logSumExpRange: (x: Float32Array, off: number, n: number) => number = lseRange;

/** log-softmax of row `x[off .. off + V)` at `token`. */
function logProbAt(x: Float32Array, off: number, V: number, token: number): number {
  return (x[off + token] as number) - logSumExpRange(x, off, V);
}

/**
 * The ids that end generation, as Hugging Face's generate() takes them: generation_config.json's
 * `eos_token_id` (a number or a list, e.g. Qwen2.5-Instruct [151645, 151643]) when the folder has
 * one, else config.json's, else the tokenizer's EOS.
 */
function eosIds(config: ModelConfig, tokenizer: PreTrainedTokenizer, generation?: GenerationDefaults | null): number[] {
  const ids = (e: unknown): number[] | null =>
    Array.isArray(e) ? e.filter((x): x is number => Number.isInteger(x)) : Number.isInteger(e) ? [e as number] : null;
  const g = ids(generation?.eos_token_id);
  if (g && g.length) return g;
  const c = ids(config.eos_token_id);
  if (c && c.length) return c;
  const t = (tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
  return typeof t === 'number' ? [t] : [];
}

/**
 * Output names a forward asked for, keyed by its `input_ids` ORT tensor (the object transformers.js
 * hands to `session.run`), read by the wrapper fetchOnRun installs. A weak map: a forward whose
 * tensor was cloned on the way (the web's proxy mode) finds nothing and gets every output.
 */
const pendingFetches = new WeakMap<object, readonly string[]>();
const WRAPPED = Symbol('decodingLabFetch');

/**
 * Wraps the model's ONNX session `run` (once) so that a forward registered in pendingFetches runs as
 * `session.run(feeds, fetchNames)`: transformers.js's own forward builds the inputs (position_ids,
 * empty past, use_cache_branch) and only the outputs asked for are computed and copied out (both
 * onnxruntime-node and onnxruntime-web take a list of output names). False when the model has no
 * session to wrap.
 */
function fetchOnRun(model: PreTrainedModel): boolean {
  type Run = (feeds: Record<string, object>, ...rest: unknown[]) => Promise<unknown>;
  const sessions = (model as unknown as { sessions?: Record<string, { run?: Run; [WRAPPED]?: true }> }).sessions ?? {};
  const s = sessions.model;
  if (!s || typeof s.run !== 'function') return false;
  if (s[WRAPPED]) return true;
  const run = s.run.bind(s) as Run;
  s.run = (feeds, ...rest) => {
    const key = feeds.input_ids;
    const fetch = rest.length === 0 && key ? pendingFetches.get(key) : undefined;
    if (!fetch) return run(feeds, ...rest);
    pendingFetches.delete(key as object);
    return run(feeds, [...fetch]);
  };
  s[WRAPPED] = true;
  return true;
}

export class TransformersLanguageModel implements LanguageModel {
  /** generation_config.json as the folder has it (null when it has none): EOS list and sampling defaults. */
  readonly generationDefaults: GenerationDefaults | null;
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  readonly contextLength: number;
  private readonly pad: number;
  private budget: number;
  /** The graph's `present.*` outputs (the cache). */
  private readonly presentNames: readonly string[];
  /** Whether forwards can name the outputs they want (fetchOnRun installed on the session). */
  private readonly fetching: boolean;

  constructor(
    readonly id: string,
    private readonly model: PreTrainedModel,
    readonly tokenizer: TransformersTokenizer,
    config: ModelConfig,
    /** See LoadOptions.logitsBudgetBytes; default as there. */
    logitsBudgetBytes?: number,
  ) {
    this.budget = logitsBudgetOf({ logitsBudgetBytes });
    this.generationDefaults = (model as unknown as { generation_config?: GenerationDefaults | null }).generation_config ?? null;
    this.eosTokenIds = eosIds(config, tokenizer.raw, this.generationDefaults);
    this.pad = this.eosTokenIds[0] ?? 0;
    this.vocabSize = config.vocab_size ?? tokenizer.vocabSize;
    this.contextLength = config.max_position_embeddings ?? config.n_positions ?? 2048;
    const io = sessionIo(model);
    this.presentNames = io.outputNames.filter((n) => pastName(n) !== null);
    this.fetching = io.outputNames.includes('logits') && this.presentNames.length > 0 && fetchOnRun(model);
  }

  /**
   * Most bytes of float32 logits one forward of prefill/score/extend returns (LoadOptions.logitsBudgetBytes);
   * settable, e.g. by tests forcing tiny chunks. Infinity: one forward per call, however long.
   */
  get logitsBudgetBytes(): number {
    return this.budget;
  }
  set logitsBudgetBytes(b: number) {
    this.budget = checkBudget(b);
  }

  /**
   * One forward pass through transformers.js. `fetch` names the outputs wanted (e.g. the `present.*`
   * without `logits`): onnxruntime then neither computes nor copies out the others (a prefill chunk
   * without logits skips the LM head). Without it, or where the fetch cannot be passed (see
   * fetchOnRun), every output comes back.
   */
  private async forward(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, Tensor>> {
    if (fetch && this.fetching) {
      const key = (feeds.input_ids as unknown as { ort_tensor?: object }).ort_tensor;
      if (key) pendingFetches.set(key, fetch);
    }
    return (await this.model.forward(feeds)) as Record<string, Tensor>;
  }

  /** New positions per forward for `rows` rows, so that their float32 logits stay within the budget (at least 1). */
  chunkLength(rows: number): number {
    const b = this.logitsBudgetBytes;
    return Number.isFinite(b) ? Math.max(1, Math.floor(b / (Math.max(1, rows) * Math.max(1, this.vocabSize) * 4))) : Infinity;
  }

  /**
   * Runs `T` new positions of `rows` rows after `past` (cache entries of `P` positions, or none) in
   * chunks through the KV cache, each chunk through the cache the previous one returned, so no
   * forward returns logits for more positions than the budget allows. `ids` is [rows, T] row-major;
   * `mask` the 0/1 attention mask of past and new positions, [rows, P + T]. `read(logits, s, n)`
   * gets each chunk's logits ([rows, n, V], positions s..s+n-1 of the new ones) and must take what
   * it needs from them before returning: they are dropped after it.
   *
   * `want.logitsFrom`: positions before it need no logits. Where the session takes a list of outputs
   * (fetchOnRun) and the budget is finite, chunks wholly before it fetch only the `present.*`
   * (onnxruntime still computes their logits but neither copies them out nor leaves them to the
   * garbage collector; a prefill reads logits of its last position only). `want.cache: false`: the
   * last forward fetches no `present.*` (score and extend keep no cache).
   * Returns the last forward's outputs (its logits when fetched, and the `present.*` of all P + T
   * positions when `want.cache`).
   *
   * A row none of whose positions so far is real (left padding longer than a chunk) would have every
   * query of that chunk fully masked; for that forward alone its mask is all ones, so its pad
   * positions run as ordinary tokens and their keys/values are finite. Later forwards get the real
   * mask, in which those positions are masked, so no real token ever sees them.
   *
   * The `present.*` of intermediate chunks are released (GPU buffers) once the next chunk has run;
   * the caller's `past` is never released here.
   */
  private async feed(
    ids: ArrayLike<number>,
    rows: number,
    T: number,
    past: { entries: Feeds; length: number } | null,
    mask: Uint8Array,
    read: (logits: Tensor, s: number, n: number) => void,
    want: { logitsFrom: number; cache: boolean } = { logitsFrom: 0, cache: true },
  ): Promise<Record<string, Tensor>> {
    const P = past?.length ?? 0;
    const W = P + T;
    const fetching = this.fetching && Number.isFinite(this.logitsBudgetBytes);
    const silent = fetching ? Math.min(T, Math.max(0, want.logitsFrom)) : 0; // positions run without logits
    if (silent >= T && !want.cache) return {};
    // onnxruntime computes every output whatever is fetched, so chunks without logits are bounded as the others.
    const c = Math.min(T, this.chunkLength(rows));
    const chunks: [start: number, n: number][] = [];
    for (let s = 0; s < T; s += c) chunks.push([s, Math.min(c, T - s)]);
    let entries: Feeds | null = past?.entries ?? null;
    let owned = false; // whether `entries` are a present.* of ours (to release after use)
    try {
      for (let i = 0; i < chunks.length; i++) {
        const [s, n] = chunks[i] as [number, number];
        const e = P + s + n; // mask width of this forward
        const chunkIds = new Array<number>(rows * n);
        const m = new Uint8Array(rows * e);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < n; j++) chunkIds[r * n + j] = ids[r * T + s + j] as number;
          const src = mask.subarray(r * W, r * W + e);
          if (src.includes(1)) m.set(src, r * e);
          else m.fill(1, r * e, (r + 1) * e);
        }
        const feeds: Feeds = { input_ids: int64(chunkIds, [rows, n]), attention_mask: int64Mask(m, [rows, e]) };
        // Passed as `past_key_values` (not spread) so transformers.js slices the derived position_ids.
        if (entries) feeds.past_key_values = entries as unknown as Tensor;
        const last = i === chunks.length - 1;
        const logits = s + n > silent; // a chunk with any position from logitsFrom on fetches its logits
        const fetch = fetching && (!logits || (last && !want.cache)) ? [...(logits ? ['logits'] : []), ...(last && !want.cache ? [] : this.presentNames)] : undefined;
        const out = await this.forward(feeds, fetch);
        if (owned && entries) disposeGpu(entries);
        entries = {};
        for (const k in out) {
          const name = pastName(k);
          if (name !== null) entries[name] = out[k] as Tensor;
        }
        owned = true;
        if (logits) {
          try {
            if (!out.logits) throw new Error(`${this.id}: the forward pass returned no "logits" output`);
            read(out.logits, s, n);
          } catch (err) {
            disposeGpu(entries);
            owned = false;
            throw err;
          }
        }
        if (last) return out;
      }
      throw new Error('feed: no positions to run');
    } catch (err) {
      if (owned && entries) disposeGpu(entries);
      throw err;
    }
  }

  async prefill(batch: readonly (readonly number[])[]): Promise<StepResult> {
    if (batch.length === 0) throw new Error('prefill needs at least one row');
    const { ids, mask, length } = leftPad(batch, this.pad);
    let result: Float32Array[] = [];
    // Left padding: every row's last token is at the last position, in the last chunk.
    const out = await this.feed(
      ids,
      batch.length,
      length,
      null,
      mask,
      (logits, s, n) => {
        if (s + n === length) result = lastLogits(logits);
      },
      { logitsFrom: length - 1, cache: true },
    );
    return { logits: result, cache: cacheFrom(out, mask, batch.length, length) };
  }

  async step(cache: KvCache, next: Int32Array): Promise<StepResult> {
    const c = cache as TransformersKvCache;
    if (next.length !== c.rows) throw new Error(`step got ${next.length} tokens for ${c.rows} cache rows`);
    const L = c.length + 1;
    const mask = new Uint8Array(c.rows * L);
    for (let r = 0; r < c.rows; r++) {
      mask.set(c.slotMask.subarray(r * c.length, (r + 1) * c.length), r * L); // slot order, as the tensors
      mask[r * L + c.length] = 1;
    }
    // A reordered cache (KvCache.reorder) keeps rows in slots: tokens go in by slot, logits come back by row.
    const order = c.order;
    const slotNext = order ? new Int32Array(c.rows) : next;
    if (order) for (let i = 0; i < c.rows; i++) slotNext[order[i] as number] = next[i] as number;
    const out = await this.forward({
      input_ids: int64(slotNext, [c.rows, 1]),
      attention_mask: int64Mask(mask, [c.rows, L]),
      // Passed as `past_key_values` (not spread) so transformers.js slices the derived position_ids.
      past_key_values: c.slotEntries as unknown as Tensor,
    });
    c.dispose();
    const logits = stepLogits(out.logits as Tensor);
    return { logits: order ? Array.from(order, (s) => logits[s] as Float32Array) : logits, cache: cacheFrom(out, mask, c.rows, L, order) };
  }

  /**
   * Rows are right-padded (real tokens at positions 0..len-1, masked pads after them), so every
   * query sees at least its row's first token and positions equal those of the row scored alone;
   * long batches run in chunks through the cache (see feed), each chunk's log-probs read at once.
   */
  async score(batch: readonly (readonly number[])[], from: readonly number[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const { ids, mask, length: T } = rightPad(batch, this.pad);
    const res = batch.map((seq, b) => {
      const start = from[b] ?? 1;
      if (start < 1) throw new RangeError('score: from must be >= 1 (the first token has no prediction)');
      return new Float32Array(Math.max(0, seq.length - start));
    });
    const out = await this.feed(ids, batch.length, T, null, mask, (logits, s, n) => {
      const V = (logits.dims as number[])[2] as number;
      const logProb = logProbReader(logits);
      batch.forEach((seq, b) => {
        const start = from[b] ?? 1;
        // position p predicts token p + 1
        const lo = Math.max(s, start - 1);
        const hi = Math.min(s + n, seq.length - 1);
        for (let p = lo; p < hi; p++) (res[b] as Float32Array)[p + 1 - start] = logProb((b * n + p - s) * V, V, seq[p + 1] as number);
      });
    }, { logitsFrom: Math.min(...batch.map((_, b) => (from[b] ?? 1) - 1)), cache: false });
    disposeGpu(out);
    return res;
  }

  /**
   * Prompt sharing (LanguageModel.extend): the continuations are appended to the left-padded cache
   * right-padded (mask 0 on pads), so every real token keeps its position (position_ids derive from
   * the mask) and never sees a pad (pads come after it). Only tokens 0..len-2 of each continuation
   * are fed: their logits predict tokens 1..len-1; long ones in chunks through the cache (see feed).
   * Padding may make the batch longer than the
   * context while every row's real tokens fit: positions derive from the mask, so models whose
   * attention mask is built at run time (the bundled GPT-2 exports) accept it; one with a fixed-size
   * causal-mask buffer fails loudly, and the ranking scorer then recomputes that batch.
   */
  async extend(cache: KvCache, continuations: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const c = cache as TransformersKvCache;
    if (continuations.length !== c.rows) throw new Error(`extend got ${continuations.length} continuations for ${c.rows} cache rows`);
    const M = continuations.reduce((m, r) => Math.max(m, r.length - 1), 0);
    if (M === 0) return continuations.map(() => new Float32Array(0));
    const L = c.length + M;
    const ids = new Array<number>(c.rows * M).fill(this.pad);
    const mask = new Uint8Array(c.rows * L);
    continuations.forEach((row, r) => {
      const cached = c.mask.subarray(r * c.length, (r + 1) * c.length);
      // Every real token must have a position the model knows; padding may exceed the context.
      const used = cached.reduce((n, v) => n + v, 0) + row.length - 1;
      if (used > this.contextLength) throw new RangeError(`extend: row ${r} would hold ${used} tokens; the context is ${this.contextLength}`);
      mask.set(cached, r * L);
      for (let j = 0; j < row.length - 1; j++) {
        ids[r * M + j] = row[j] as number;
        mask[r * L + c.length + j] = 1;
      }
    });
    const res = continuations.map((row) => new Float32Array(Math.max(0, row.length - 1)));
    const G = this.extendRows(c.entries, c.rows, c.length, M);
    for (let r0 = 0; r0 < c.rows; r0 += G) {
      const r1 = Math.min(c.rows, r0 + G);
      const entries = G >= c.rows ? c.entries : rowRange(c.entries, r0, r1);
      const out = await this.feed(
        ids.slice(r0 * M, r1 * M),
        r1 - r0,
        M,
        { entries, length: c.length },
        mask.subarray(r0 * L, r1 * L),
        (logits, s, n) => {
          const V = (logits.dims as number[])[2] as number;
          const logProb = logProbReader(logits);
          for (let r = r0; r < r1; r++) {
            const row = continuations[r] as readonly number[];
            const hi = Math.min(s + n, row.length - 1);
            for (let j = s; j < hi; j++) (res[r] as Float32Array)[j] = logProb(((r - r0) * n + j - s) * V, V, row[j + 1] as number);
          }
        },
        { logitsFrom: 0, cache: false },
      );
      disposeGpu(out);
    }
    return res;
  }

  /**
   * Rows per forward of extend (`M` new positions after a cache of `length`, `width` = length + M):
   * every forward returns the `present.*` of all its rows over the whole cache, so a cache whose rows
   * would together exceed the logits budget is extended in groups of rows (row views of the cache, no
   * copy) whose `present.*` stay within it — but never fewer rows than fill one forward with the
   * positions the logits budget allows (chunkLength(1)), so the forwards are no more and no smaller
   * than unsplit. A GPU cache, or an unbounded budget, runs all rows at once.
   */
  private extendRows(entries: Feeds, rows: number, length: number, M: number): number {
    const b = this.logitsBudgetBytes;
    const tensors = Object.values(entries);
    if (!Number.isFinite(b) || length < 1 || tensors.length === 0 || tensors.some(isGpu)) return rows;
    let perRowPosition = 0; // bytes of one row's keys and values at one position, all layers
    for (const t of tensors) perRowPosition += (t.data as ArrayBufferView).byteLength / (rows * length);
    const byPresent = Math.floor(b / (perRowPosition * (length + M)));
    const byTokens = Math.ceil(this.chunkLength(1) / M);
    return Math.max(1, Math.min(rows, Math.max(byPresent, byTokens)));
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** Right-pads rows to a common length; returns ids and the 0/1 mask, both [rows, length]. */
export function rightPad(batch: readonly (readonly number[])[], pad: number): { ids: number[]; mask: Uint8Array; length: number } {
  const length = Math.max(1, ...batch.map((r) => r.length));
  const ids = new Array<number>(batch.length * length).fill(pad);
  const mask = new Uint8Array(batch.length * length);
  batch.forEach((row, b) => {
    row.forEach((t, j) => {
      ids[b * length + j] = t;
      mask[b * length + j] = 1;
    });
  });
  return { ids, mask, length };
}

interface ClassifierConfig extends ModelConfig {
  pad_token_id?: number | null;
  id2label?: Record<string, string>;
  num_labels?: number;
}

/** A classifier's label names in output order (config.json id2label), or [] when the config names none. */
function labelsOf(config: ClassifierConfig): string[] {
  const m = config.id2label;
  if (!m || typeof m !== 'object') return [];
  return Object.keys(m)
    .filter((k) => /^\d+$/.test(k))
    .sort((x, y) => Number(x) - Number(y))
    .map((k) => String(m[k]));
}

/**
 * A sequence classifier used as a reward model (scalar head, or several labels with a chosen one).
 *
 * Rows are RIGHT-padded with config.json's `pad_token_id` (EOS only when the config has none), with
 * the attention mask, `position_ids` 0..n-1 where the graph takes them and `token_type_ids` zeros
 * where it takes those (BERT): a row's real tokens then sit at the positions they have when scored
 * alone, and both pooling rules of Hugging Face classifiers — the first token ([CLS]) and the last
 * token that is not `pad_token_id` (GPT-2, Llama) — read a real token. So a reward never depends on
 * which other rows share the batch. The tokenizer's own special tokens (BERT's [CLS] … [SEP], a BOS)
 * are added around each row where its rules add them and the row does not already have them.
 */
export class TransformersSequenceRewardModel implements SequenceRewardModel {
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Label names in output order (config.json id2label); [] when the config names none. */
  readonly labels: readonly string[];
  /** The pad id rows are right-padded with. */
  readonly padTokenId: number;
  /** The reward chosen at load (LoadOptions.rewardLabel), resolved against the config's labels; null when none was given. */
  readonly label: RewardLabel | null;
  private readonly inputs: readonly string[];
  constructor(
    readonly id: string,
    private readonly model: PreTrainedModel,
    readonly tokenizer: TransformersTokenizer,
    config: ModelConfig,
    inputNames: readonly string[] = ['input_ids', 'attention_mask'],
    /** A label name, index or difference "A-B" (resolveRewardLabel); refused here when the model has no such label. */
    private readonly rewardLabel?: string,
    /** Logits per row when the graph states it (output metadata [batch, n]); else the config's label count. */
    private readonly outputs?: number,
  ) {
    const c = config as ClassifierConfig;
    this.padTokenId = typeof c.pad_token_id === 'number' ? c.pad_token_id : (eosIds(config, tokenizer.raw)[0] ?? 0);
    this.vocabSize = config.vocab_size ?? tokenizer.vocabSize;
    this.contextLength = config.max_position_embeddings ?? config.n_positions ?? 2048;
    this.labels = labelsOf(c);
    this.inputs = inputNames;
    this.label = rewardLabel === undefined ? null : resolveRewardLabel(id, this.labelNames(), rewardLabel);
  }

  /** True when the config names several labels and none was chosen: score() would refuse. */
  get needsLabel(): boolean {
    return this.label === null && (this.outputs ?? this.labels.length) > 1;
  }

  /** Adds the tokenizer's special tokens where missing and keeps the row within the context (cut from the left). */
  private prepare(row: readonly number[]): number[] {
    const { prefix, suffix } = this.tokenizer.specialTokens;
    const starts = prefix.length > 0 && prefix.every((t, i) => row[i] === t);
    const ends = suffix.length > 0 && row.length >= suffix.length && suffix.every((t, i) => row[row.length - suffix.length + i] === t);
    let body = row.slice(starts ? prefix.length : 0, ends ? row.length - suffix.length : row.length);
    const room = this.contextLength - prefix.length - suffix.length;
    if (body.length > room) body = body.slice(body.length - Math.max(0, room));
    return [...prefix, ...body, ...suffix];
  }

  /** All outputs of the classifier for each row: [rows × outputs] float32, and the number of outputs. */
  async logits(batch: readonly (readonly number[])[]): Promise<{ data: Float32Array; outputs: number }> {
    if (batch.length === 0) return { data: new Float32Array(0), outputs: Math.max(1, this.labels.length) };
    const rows = batch.map((r) => this.prepare(r));
    const { ids, mask, length } = rightPad(rows, this.padTokenId);
    const dims = [rows.length, length];
    const feeds: Feeds = { input_ids: int64(ids, dims), attention_mask: int64Mask(mask, dims) };
    if (this.inputs.includes('position_ids')) {
      const pos = new Array<number>(ids.length);
      for (let b = 0; b < rows.length; b++) for (let j = 0; j < length; j++) pos[b * length + j] = j;
      feeds.position_ids = int64(pos, dims);
    }
    if (this.inputs.includes('token_type_ids')) feeds.token_type_ids = new Tensor('int64', new BigInt64Array(ids.length), dims);
    const out = (await this.model.forward(feeds)) as Record<string, Tensor>;
    const logits = out.logits;
    if (!logits) throw new Error(`${this.id}: the model has no "logits" output; a sequence reward model must output logits [batch, labels]`);
    const d = logits.dims as number[];
    if (d.length !== 2 || d[0] !== rows.length) {
      throw new Error(`${this.id}: expected logits of shape [batch, labels] from a sequence classifier, got [${d.join(', ')}]`);
    }
    return { data: toFloat32(logits, 0, logits.size, undefined, true), outputs: d[1] as number };
  }

  /**
   * The reward of each row: the logit of a one-output model, or the label chosen at load (a logit or a
   * difference of two); a model with several labels and none chosen is refused, naming its labels.
   */
  async score(batch: readonly (readonly number[])[]): Promise<Float32Array> {
    const { data, outputs } = await this.logits(batch);
    if (outputs === 1 && this.rewardLabel === undefined) return data;
    return pickLabel(data, outputs, resolveRewardLabel(this.id, this.labelNames(outputs), this.rewardLabel));
  }

  /** Label names for `outputs` logits: config.json's, else LABEL_i (Hugging Face's default names). */
  labelNames(outputs = this.outputs ?? Math.max(1, this.labels.length)): string[] {
    if (this.labels.length === outputs) return [...this.labels];
    if (outputs === 1) return ['reward'];
    return Array.from({ length: outputs }, (_, i) => this.labels[i] ?? `LABEL_${i}`);
  }

  /**
   * This model as the reward of a run: `label` picks a label's logit or a difference of two
   * (resolveRewardLabel; none for a one-output model), and `policy`, when its tokenizer is not this
   * model's, makes each row go through text (decoded with the policy's tokenizer, encoded with this
   * one's), so best-of-N, rejection sampling, ARGS and ranking work across tokenizers. The result
   * reports the policy's vocabulary size, as the strategies check.
   */
  forRun(o: { label?: string; policy?: Tokenizer; flag?: string } = {}): SequenceRewardModel & { readonly label: RewardLabel; readonly retokenizes: boolean } {
    const names = this.labelNames();
    const outputs = names.length;
    const label = resolveRewardLabel(this.id, names, o.label ?? this.rewardLabel, o.flag);
    const retokenizes = !!o.policy && !sameTokenizer(o.policy, this.tokenizer);
    const policy = o.policy;
    const logits = (rows: readonly (readonly number[])[]) => this.logits(rows);
    const own = this.tokenizer;
    const id = this.id;
    return {
      id: this.id,
      label,
      retokenizes,
      vocabSize: retokenizes && policy ? policy.vocabSize : this.vocabSize,
      contextLength: this.contextLength,
      async score(batch) {
        const rows = retokenizes && policy ? batch.map((r) => own.encode(policy.decode(r))) : batch;
        const { data, outputs: n } = await logits(rows);
        if (n !== outputs) throw new Error(`${id}: config.json names ${outputs} labels but the model outputs ${n} logits per row`);
        return pickLabel(data, n, label);
      },
      dispose: () => this.dispose(),
    };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** Each row's reward from [rows × outputs] logits: one label's logit, the difference of two, or a weighted mix (labelMix.ts). */
function pickLabel(data: Float32Array, outputs: number, label: RewardLabel): Float32Array {
  if (label.terms) return mixLogits(data, outputs, { terms: label.terms });
  if (label.plus >= outputs || (label.minus ?? 0) >= outputs) throw new Error(`reward label ${label.name} is beyond the model's ${outputs} outputs`);
  const rows = data.length / outputs;
  const res = new Float32Array(rows);
  for (let b = 0; b < rows; b++) res[b] = (data[b * outputs + label.plus] as number) - (label.minus === undefined ? 0 : (data[b * outputs + label.minus] as number));
  return res;
}

/** Whether two tokenizers map text to the same ids (digest when both have one, else vocabulary size and EOS). */
function sameTokenizer(a: Tokenizer, b: Tokenizer): boolean {
  const da = (a as { digest?: string }).digest;
  const db = (b as { digest?: string }).digest;
  if (typeof da === 'string' && typeof db === 'string') return da === db;
  return a.vocabSize === b.vocabSize && a.eosTokenId === b.eosTokenId;
}

/**
 * The token the tokenizer's own rules put first when special tokens are added (its post-processor or
 * `add_bos_token`), found by encoding a probe text with and without them; undefined when it adds none.
 */
function addedBos(raw: PreTrainedTokenizer): number | undefined {
  const { prefix } = specialAround(raw);
  return prefix.length > 0 ? prefix[0] : undefined;
}

/**
 * The ids the tokenizer's own rules put before and after a text when special tokens are added
 * (Hugging Face `add_special_tokens`: a BOS, BERT's [CLS] … [SEP]), found by encoding a probe text
 * with and without them.
 */
function specialAround(raw: PreTrainedTokenizer): { prefix: number[]; suffix: number[] } {
  try {
    const plain = raw.encode('a', { add_special_tokens: false });
    const full = raw.encode('a', { add_special_tokens: true });
    for (let i = 0; i + plain.length <= full.length; i++) {
      if (plain.every((t, j) => full[i + j] === t)) return { prefix: full.slice(0, i), suffix: full.slice(i + plain.length) };
    }
  } catch {
    /* a tokenizer that cannot encode the probe adds nothing we can see */
  }
  return { prefix: [], suffix: [] };
}

export class TransformersTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly bosTokenId: number | undefined;
  /** What the tokenizer's own rules add around a text (`add_special_tokens`): e.g. [BOS] / [], or [CLS] / [SEP]. */
  readonly specialTokens: { readonly prefix: readonly number[]; readonly suffix: readonly number[] };
  private digestValue: string | null = null;
  constructor(readonly raw: PreTrainedTokenizer) {
    const vocab = raw.get_vocab() as Map<string, number> | Record<string, number>;
    const ids = vocab instanceof Map ? [...vocab.values()] : Object.values(vocab);
    this.vocabSize = ids.reduce((m, i) => Math.max(m, i + 1), 0);
    this.eosTokenId = (raw as unknown as { eos_token_id?: number }).eos_token_id ?? 0;
    this.specialTokens = specialAround(raw);
    this.bosTokenId = addedBos(raw);
  }
  /**
   * A digest of what maps text to ids — the vocabulary, the merges and the added tokens of
   * tokenizer.json (whatever source it was read from) — so models whose tokenizers differ are
   * refused even when their vocabulary sizes agree. Computed once, on first use.
   */
  get digest(): string {
    if (this.digestValue) return this.digestValue;
    const json = (this.raw as unknown as { _tokenizerJSON?: { model?: { type?: string; vocab?: unknown; merges?: unknown }; added_tokens?: unknown } })._tokenizerJSON;
    const vocab = this.raw.get_vocab() as Map<string, number> | Record<string, number>;
    const entries = (vocab instanceof Map ? [...vocab.entries()] : Object.entries(vocab)).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const merges = json?.model?.merges;
    this.digestValue = fnv1a64([
      String(json?.model?.type ?? ''),
      ...entries.map(([t, i]) => `${i}\t${t}`),
      JSON.stringify(merges ?? null),
      JSON.stringify(json?.added_tokens ?? null),
    ]);
    return this.digestValue;
  }
  encode(text: string): number[] {
    return this.raw.encode(text, { add_special_tokens: false });
  }
  decode(ids: readonly number[]): string {
    return this.raw.decode([...ids], { skip_special_tokens: true });
  }
  tokenText(id: number): string {
    return this.raw.decode([id], { skip_special_tokens: false });
  }
}

/** The browser's default for LoadOptions.readText: the local model files under env.localModelPath. */
async function readLocalText(id: string, file: string): Promise<string | null> {
  try {
    const e = env as unknown as { fetch?: (u: string) => Promise<globalThis.Response>; localModelPath?: string };
    if (typeof e.fetch !== 'function' || !e.localModelPath || /^\/|^[A-Za-z]:[\\/]/.test(id)) return null;
    const res = await e.fetch(`${e.localModelPath}${id}/${file}`);
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/**
 * Runs one loading stage and turns its raw error into a ModelFolderError naming the file at fault
 * (modelErrors.ts). On a JSON syntax error, the stage's JSON files are re-read (error path only) to
 * name the one that is an HTML page.
 */
async function stage<T>(id: string, jsonFiles: readonly string[], opts: LoadOptions, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    let htmlFile: string | undefined;
    if (e instanceof SyntaxError && jsonFiles.length > 1) {
      const read = opts.readText ?? readLocalText;
      for (const f of jsonFiles) {
        const text = await read(id, f).catch(() => null);
        if (text !== null && looksLikeHtml(text)) {
          htmlFile = f;
          break;
        }
      }
    }
    throw explainLoadError(id, e, jsonFiles, htmlFile);
  }
}

/** The graph's input/output names (and output shapes, where ORT reports them) of a loaded model. */
function sessionIo(model: PreTrainedModel): SessionIo {
  const sessions = (model as unknown as { sessions?: Record<string, SessionIo> }).sessions ?? {};
  const s = sessions.model ?? Object.values(sessions)[0];
  return { inputNames: s?.inputNames ?? [], outputNames: s?.outputNames ?? [], outputMetadata: s?.outputMetadata };
}

/** Loads config, tokenizer and ONNX session of one model, each stage with its own error explanation. */
async function loadParts(
  id: string,
  opts: LoadOptions,
  Auto: typeof AutoModel | typeof AutoModelForCausalLM,
  check: (id: string, io: SessionIo, architectures: readonly string[]) => void,
): Promise<{ model: PreTrainedModel; tokenizer: TransformersTokenizer; config: ModelConfig }> {
  const config = await stage(id, CONFIG_FILES, opts, () => AutoConfig.from_pretrained(id));
  const tokenizer = await stage(id, TOKENIZER_FILES, opts, () => loadTokenizer(id));
  const model = await stage(id, ['generation_config.json'], opts, () =>
    Auto.from_pretrained(id, {
      config,
      device: opts.device,
      dtype: (opts.dtype ?? 'fp32') as 'fp32',
      ...(opts.externalData ? { use_external_data_format: opts.externalData } : {}),
    }),
  );
  try {
    const architectures = (config as unknown as { architectures?: string[] }).architectures ?? [];
    check(id, sessionIo(model), architectures);
  } catch (e) {
    await model.dispose().catch(() => {});
    throw e;
  }
  return { model, tokenizer, config: model.config as unknown as ModelConfig };
}

export async function loadTokenizer(id: string): Promise<TransformersTokenizer> {
  return new TransformersTokenizer(await AutoTokenizer.from_pretrained(id));
}

/** Loads a causal LM with a KV cache (policy, ARM, tuned, reference); refuses anything else, naming what it is. */
export async function loadLanguageModel(id: string, opts: LoadOptions): Promise<TransformersLanguageModel> {
  const budget = logitsBudgetOf(opts); // a bad budget is refused before the model loads
  const { model, tokenizer, config } = await loadParts(id, opts, AutoModelForCausalLM, checkCausalLm);
  return new TransformersLanguageModel(id, model, tokenizer, config, budget);
}

/** Loads a scalar-head sequence reward model (logits [batch, 1]); refuses a causal LM. */
export async function loadSequenceRewardModel(id: string, opts: LoadOptions): Promise<TransformersSequenceRewardModel> {
  const { model, tokenizer, config } = await loadParts(id, opts, AutoModel, checkSequenceRm);
  try {
    const io = sessionIo(model);
    const n = io.outputMetadata?.find((m) => m.name === 'logits')?.shape?.[1];
    return new TransformersSequenceRewardModel(id, model, tokenizer, config, io.inputNames, opts.rewardLabel, typeof n === 'number' && n > 0 ? n : undefined);
  } catch (e) {
    await model.dispose().catch(() => {});
    throw e;
  }
}
