/**
 * Routes worker requests to the backend. Kept free of worker globals so tests can drive it with
 * fake backends: `post` receives every response.
 */
import type { LanguageModel, SequenceRewardModel, Tokenizer } from '../core/model/types.ts';
import { greedy } from '../core/search/greedy.ts';
import { decode, type StrategyModels } from '../core/search/strategy.ts';
import { generateCandidates } from '../core/search/candidates.ts';
import { perAttributeAccuracy, type HeadsModel } from '../core/reward/labelMix.ts';
import type { DecodeEvent } from '../core/search/events.ts';
import { readItems } from '../core/data/preferences.ts';
import type { ScorerModels } from '../core/metrics/scorePairs.ts';
import { topK } from '../core/math/topk.ts';
import type { BenchResult, DebugAction, Device, DeviceChoice, DownloadProgress, ModelSource, ProbeResult, RegisteredModel, Request, Response } from './protocol.ts';
import { toWireError } from './protocol.ts';
import type { GenerateBaseline } from '../bench/suite.ts';
import { DeviceLostError, isDeviceLost, isOutOfMemory } from './backends/modelErrors.ts';
import { tokenizerInfoOf, tokenizerMismatch, type RoleModel } from './compat.ts';
import { yieldToEventLoop } from './yield.ts';
import { chatTransform, datasetItems, jobReport, readJobDataset, scoreJob, tokenOptions } from './rankJob.ts';
import { scorePairTokens } from '../core/metrics/tokenScores.ts';
import { DEFAULT_PREFIX_BATCH, prefixAttribution } from '../core/metrics/prefixAttribution.ts';
import type { TokenAttribution } from './protocol.ts';
import type { RankJob, RankProgress } from './protocol.ts';

export interface LoadedLm {
  readonly model: LanguageModel;
  readonly tokenizer: Tokenizer;
}

export interface Backend {
  /** Picks the device for a choice, with a human-readable reason. */
  selectDevice(choice: DeviceChoice): Promise<{ device: Device; reason: string; threads: number; crossOriginIsolated: boolean }>;
  /** `onProgress` gets the bytes read of each file (the Models view's progress bar). */
  loadLanguageModel(id: string, device: Device, onProgress?: (p: DownloadProgress) => void): Promise<LoadedLm>;
  loadSequenceRewardModel(id: string, device: Device, onProgress?: (p: DownloadProgress) => void): Promise<SequenceRewardModel>;
  /** Registers a picked folder or a Hugging Face id (src/inference/sources.ts). */
  register?(source: ModelSource): Promise<RegisteredModel>;
  /** Sets the dtype the next load of `id` uses; true when it changed. */
  setDtype?(id: string, dtype: string): boolean;
  /** Where a model comes from, for messages ("bundled", "local folder", …). */
  sourceLabel?(id: string): string;
  /** Fetches a file of the site (bundled datasets), relative to <base>models/. */
  fetch(path: string): Promise<globalThis.Response>;
  /**
   * Resolves with a reason when the WebGPU device the models run on is lost (a driver reset, or the
   * `lose-device` debug action); undefined while there is none yet. Asked after each WebGPU load.
   */
  deviceLost?(): Promise<string> | undefined;
  /** The `debug` request: fault simulation and live resource counts. */
  debug?(action: DebugAction): Promise<unknown>;
  /**
   * After a device loss this runtime is unusable (the browser: ORT's one wasm instance, shared with
   * its WebGPU provider, fails or hangs afterwards): the handler does not reload models here but
   * asks the page to replace the worker (`device` message with `restart`).
   */
  readonly restartOnDeviceLoss?: boolean;
  /**
   * The `bench` request's reference: transformers.js `generate()` on its own copy of model `id` on
   * `device` (src/bench/baseline.ts, imported dynamically by the worker).
   */
  loadGenerateBaseline?(id: string, device: Device): Promise<{ generate: GenerateBaseline; dispose(): Promise<void> }>;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** The models a request uses, by kind (reloaded on WASM after a device loss or out-of-memory). */
function modelsOf(req: Request): { lm: string[]; rm: string[] } {
  const ids = (...xs: (string | undefined)[]) => xs.filter((x): x is string => !!x);
  switch (req.type) {
    case 'generate':
      return { lm: ids(req.run.policy, ...(req.run.arms ?? []), req.run.tuned, req.run.ref), rm: ids(req.run.rewardModel) };
    case 'candidates':
      return { lm: [req.run.policy], rm: [] };
    case 'rank':
    case 'score-pair':
      return { lm: ids(req.job.policy, req.job.tuned, req.job.ref, req.job.arm), rm: ids(req.job.rewardModel) };
    case 'attribute':
      return { lm: ids(req.run.policy), rm: ids(req.run.rewardModel) };
    case 'load':
      return (req as { as?: string }).as === 'rm' ? { lm: [], rm: [req.modelId] } : { lm: [req.modelId], rm: [] };
    case 'probe':
      return { lm: [req.modelId], rm: [] };
    default:
      return { lm: [], rm: [] };
  }
}

export class Handler {
  private device: Device = 'wasm';
  private readonly models = new Map<string, Promise<LoadedLm>>();
  private readonly rewardModels = new Map<string, Promise<SequenceRewardModel>>();
  private readonly running = new Map<number, AbortController>();
  /** Why the WebGPU device was lost; set once, after which this worker stays on WASM. */
  private lostReason: string | null = null;
  private watched: Promise<string> | undefined;
  /** Models that did not fit on WebGPU: loaded on WASM while the device stays WebGPU for the others. */
  private readonly forcedWasm = new Set<string>();
  /** The WASM-fallback notice of each such model (sent with its `loaded`). */
  private readonly notices = new Map<string, string>();

  constructor(
    private readonly backend: Backend,
    private readonly post: (r: Response) => void,
  ) {}

  /** Loads each (device, model) once; a failed load is forgotten so it can be retried. */
  private memo<T>(cache: Map<string, Promise<T>>, id: string, load: (id: string, device: Device) => Promise<T>): Promise<T> {
    const key = `${this.device}:${id}`;
    let p = cache.get(key);
    if (!p) {
      p = this.loadWithFallback(id, this.device, load);
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  }

  /**
   * Forgets every loaded copy of `id` (it was registered again, or its dtype changed), so the next
   * use loads it anew. The old copies are not disposed: a running job may still hold them.
   */
  private forget(id: string): void {
    for (const cache of [this.models, this.rewardModels] as Map<string, unknown>[]) {
      for (const key of [...cache.keys()]) if (key.slice(key.indexOf(':') + 1) === id) cache.delete(key);
    }
  }

  /** Refuses roles whose tokenizer differs from the policy's (before any decoding). */
  private checkTokenizers(policy: { id: string; lm: LoadedLm }, roles: readonly { id: string; role: string; tok: { vocabSize: number; digest?: unknown } | undefined; vocab?: number }[]): void {
    const others: RoleModel[] = roles.map((r) => ({ id: r.id, role: r.role, source: this.backend.sourceLabel?.(r.id), info: tokenizerInfoOf(r.tok, r.vocab) }));
    const problem = tokenizerMismatch({ id: policy.id, info: tokenizerInfoOf(policy.lm.tokenizer) }, others);
    if (problem) {
      const e = new Error(problem);
      e.name = 'ModelFolderError';
      throw e;
    }
  }

  /** Memoized load with download progress for whoever asked first. */
  private loadWithProgress(id: string, as: 'lm' | 'rm', onProgress?: (p: DownloadProgress) => void): Promise<unknown> {
    return as === 'rm'
      ? this.memo(this.rewardModels, id, (i, d) => this.backend.loadSequenceRewardModel(i, d, onProgress))
      : this.memo(this.models, id, (i, d) => this.backend.loadLanguageModel(i, d, onProgress));
  }

  /**
   * Loads on the handler's device; on WebGPU an out-of-memory / allocation failure is retried on
   * WASM, and the user is told (a `notice`, and `loaded.notice`). Watches the WebGPU device for loss.
   */
  private async loadWithFallback<T>(id: string, device: Device, load: (id: string, device: Device) => Promise<T>): Promise<T> {
    if (device !== 'webgpu') return load(id, device);
    if (this.forcedWasm.has(id)) return load(id, 'wasm');
    try {
      const m = await load(id, 'webgpu');
      this.watchDevice();
      return m;
    } catch (e) {
      if (!isOutOfMemory(e)) throw e;
      const notice = `${id} did not fit in GPU memory (${messageOf(e)}); it was loaded on WASM instead, which is slower and uses system memory.`;
      const m = await load(id, 'wasm');
      this.forcedWasm.add(id);
      this.notices.set(id, notice);
      this.post({ id: 0, type: 'notice', message: notice });
      return m;
    }
  }

  /** Follows the WebGPU device's `lost` promise (once per device). */
  private watchDevice(): void {
    const lost = this.backend.deviceLost?.();
    if (!lost || lost === this.watched) return;
    this.watched = lost;
    void lost.then((reason) => this.moveToWasm(reason));
  }

  /**
   * After a device loss: every later request runs on WASM, the WebGPU copies of the models are
   * dropped (their buffers went with the device) and the page is told (a `device` message, id 0).
   */
  private moveToWasm(reason: string): void {
    if (this.lostReason !== null) return;
    this.lostReason = reason;
    if (this.device !== 'webgpu') return;
    this.device = 'wasm';
    for (const cache of [this.models, this.rewardModels] as Map<string, Promise<LoadedLm | SequenceRewardModel>>[]) {
      for (const [key, p] of [...cache]) {
        if (!key.startsWith('webgpu:')) continue;
        cache.delete(key);
        void p.then((m) => ('model' in m ? m.model : m).dispose()).catch(() => {});
      }
    }
    this.post({
      id: 0,
      type: 'device',
      device: 'wasm',
      reason: `WASM fallback: the GPU device was lost (${reason})`,
      notice: `The GPU device was lost (${reason}); the lab now runs on WASM.`,
      ...(this.backend.restartOnDeviceLoss ? { restart: true } : {}),
    });
  }

  /**
   * Turns a failure of a request that ran on WebGPU into what the user should read and do: after a
   * lost device or an out-of-memory error the request's models are reloaded on WASM (the whole
   * handler moves to WASM after a loss; only these models after an OOM) and the message says to
   * run again. Other errors pass unchanged.
   */
  private async recover(req: Request, e: unknown, device: Device): Promise<unknown> {
    if (device !== 'webgpu' || req.type === 'init' || req.type === 'debug' || req.type === 'cancel') return e;
    // ORT's own error may come before the device's lost promise settles (and may not say "lost"):
    // give the promise a moment before deciding what went wrong.
    if (this.lostReason === null && this.watched && !isOutOfMemory(e)) await Promise.race([this.watched, new Promise((r) => setTimeout(r, 250))]);
    const lost = this.lostReason ?? (isDeviceLost(e) ? messageOf(e) : null);
    if (lost === null && !isOutOfMemory(e)) return e;
    const { lm, rm } = modelsOf(req);
    if (lost !== null) this.moveToWasm(lost);
    else
      for (const id of [...lm, ...rm]) {
        this.forcedWasm.add(id);
        this.models.delete(`webgpu:${id}`);
        this.rewardModels.delete(`webgpu:${id}`);
      }
    const what = lost !== null ? `The GPU device was lost (${lost}).` : `The GPU ran out of memory (${messageOf(e)}).`;
    // The page replaces this worker and reloads the models there (client.ts) before showing this.
    if (lost !== null && this.backend.restartOnDeviceLoss) return new DeviceLostError(`${what} The models were reloaded on WASM; run again.`);
    try {
      await Promise.all([...lm.map((id) => this.lm(id)), ...rm.map((id) => this.rm(id))]);
    } catch (r) {
      return new Error(`${what} Reloading the models on WASM failed too: ${messageOf(r)}`);
    }
    const msg = `${what} The models were reloaded on WASM; run again.`;
    return lost !== null ? new DeviceLostError(msg) : new Error(msg);
  }

  /** Throws when the device of a WebGPU run was lost meanwhile (checked between decode events). */
  private assertDevice(runDevice: Device): void {
    if (runDevice === 'webgpu' && this.lostReason !== null) throw new DeviceLostError(this.lostReason);
  }

  private lm(id: string): Promise<LoadedLm> {
    return this.memo(this.models, id, (i, d) => this.backend.loadLanguageModel(i, d));
  }

  private rm(id: string): Promise<SequenceRewardModel> {
    return this.memo(this.rewardModels, id, (i, d) => this.backend.loadSequenceRewardModel(i, d));
  }

  async handle(req: Request): Promise<void> {
    const device = this.device;
    try {
      switch (req.type) {
        case 'init': {
          let r = await this.backend.selectDevice(req.device);
          // ORT keeps one WebGPU device per worker: once lost, this worker stays on WASM.
          if (r.device === 'webgpu' && this.lostReason !== null) r = { ...r, device: 'wasm', reason: `WASM fallback: the GPU device was lost (${this.lostReason})` };
          this.device = r.device;
          this.post({ id: req.id, type: 'ready', ...r });
          return;
        }
        case 'debug': {
          if (!this.backend.debug) throw new Error('This backend has no debug actions.');
          this.post({ id: req.id, type: 'result', value: await this.backend.debug(req.action) });
          return;
        }
        case 'load': {
          const t0 = performance.now();
          if (req.dtype && this.backend.setDtype?.(req.modelId, req.dtype)) this.forget(req.modelId);
          const onProgress = (data: DownloadProgress) => this.post({ id: req.id, type: 'download', data });
          if (req.as === 'rm') {
            const rm = (await this.loadWithProgress(req.modelId, 'rm', onProgress)) as SequenceRewardModel;
            const heads = (rm as { labelNames?: () => string[] }).labelNames?.() ?? [];
            const info = { id: req.modelId, vocabSize: rm.vocabSize, contextLength: rm.contextLength, eosTokenIds: [], ...(heads.length > 1 ? { labels: heads } : {}) };
            this.post({ id: req.id, type: 'loaded', ms: performance.now() - t0, model: info, ...(this.notices.has(req.modelId) ? { notice: this.notices.get(req.modelId) } : {}) });
            return;
          }
          const { model } = (await this.loadWithProgress(req.modelId, 'lm', onProgress)) as LoadedLm;
          this.post({
            id: req.id,
            type: 'loaded',
            ms: performance.now() - t0,
            model: { id: req.modelId, vocabSize: model.vocabSize, contextLength: model.contextLength, eosTokenIds: model.eosTokenIds, ...generationDefaultsOf(model) },
            ...(this.notices.has(req.modelId) ? { notice: this.notices.get(req.modelId) } : {}),
          });
          return;
        }
        case 'register': {
          if (!this.backend.register) throw new Error('This backend cannot add models; use the bundled ones.');
          const info = await this.backend.register(req.source);
          this.forget(info.id);
          this.post({ id: req.id, type: 'result', value: info });
          return;
        }
        case 'cancel':
          this.running.get(req.target)?.abort();
          this.post({ id: req.id, type: 'result', value: this.running.has(req.target) });
          return;
        case 'generate':
          return await this.generate(req);
        case 'candidates':
          return await this.candidates(req);
        case 'probe':
          return await this.probe(req);
        case 'rank':
          return await this.rank(req);
        case 'score-pair':
          return await this.scorePair(req);
        case 'attribute':
          return await this.attribute(req);
        case 'bench':
          return await this.bench(req);
      }
    } catch (e) {
      this.post({ id: req.id, type: 'error', error: toWireError(await this.recover(req, e, device)) });
    }
  }

  private async generate(req: Extract<Request, { type: 'generate' }>): Promise<void> {
    const run = req.run;
    const runDevice = this.device;
    const { model, tokenizer } = await this.lm(run.policy);
    const load = async (id: string | undefined) => (id ? (await this.lm(id)).model : undefined);
    const models: StrategyModels = {
      policy: model,
      arms: await Promise.all((run.arms ?? []).map(async (id) => (await this.lm(id)).model)),
      tuned: await load(run.tuned),
      ref: await load(run.ref),
      rewardModel: run.rewardModel ? rewardForRun(await this.rm(run.rewardModel), run.rewardLabel, tokenizer, PAGE_LABEL) : undefined,
      tokenizerSize: tokenizer.vocabSize, // guided decoding masks ids a padded vocabulary adds
    };
    const tokOf = (m: unknown) => (m as { tokenizer?: { vocabSize: number; digest?: unknown } } | undefined)?.tokenizer;
    const roleTok = async (id: string) => (await this.lm(id)).tokenizer;
    this.checkTokenizers({ id: run.policy, lm: { model, tokenizer } }, [
      ...(await Promise.all((run.arms ?? []).map(async (id) => ({ id, role: 'ARM', tok: await roleTok(id) })))),
      ...(run.tuned ? [{ id: run.tuned, role: 'tuned model', tok: await roleTok(run.tuned) }] : []),
      ...(run.ref ? [{ id: run.ref, role: 'reference model', tok: await roleTok(run.ref) }] : []),
      ...(run.rewardModel ? [{ id: run.rewardModel, role: 'reward model', tok: tokOf(models.rewardModel), vocab: models.rewardModel?.vocabSize }] : []),
    ]);
    const bos = run.addBos === false ? undefined : tokenizer.bosTokenId; // as the CLI: BOS where the tokenizer adds one
    const prompt = [...(bos !== undefined ? [bos] : []), ...tokenizer.encode(run.prompt)];
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      for await (const event of decode(run.spec, models, prompt, ctrl.signal)) {
        const texts = event.type === 'step' ? event.rows.map((r) => tokenizer.tokenText(r.tokenId)) : event.type === 'done' ? event.sequences.map((s) => tokenizer.decode(s.tokenIds)) : [];
        const topTexts: Record<number, string> = {};
        if (event.type === 'step') {
          for (const r of event.rows) for (const e of [...r.top, ...(r.topCombined ?? []), ...Object.values(r.topRewards ?? {}).flat()]) topTexts[e.tokenId] ??= tokenizer.tokenText(e.tokenId);
          for (const h of event.hypotheses ?? []) {
            const last = h.tokenIds[h.tokenIds.length - 1];
            if (last !== undefined) topTexts[last] ??= tokenizer.tokenText(last);
          }
        }
        this.post({ id: req.id, type: 'event', data: { event, texts, topTexts } });
        await yieldToEventLoop();
        this.assertDevice(runDevice); // a lost device may leave ORT returning garbage, not failing
      }
      this.post({ id: req.id, type: 'result', value: null });
    } finally {
      this.running.delete(req.id);
    }
  }

  /** A candidate set (core/search/candidates.ts): progress events while it runs, then the CandidateSet as the result. */
  private async candidates(req: Extract<Request, { type: 'candidates' }>): Promise<void> {
    const run = req.run;
    const { model, tokenizer } = await this.lm(run.policy);
    const bos = run.addBos === false ? undefined : tokenizer.bosTokenId;
    const promptIds = [...(bos !== undefined ? [bos] : []), ...tokenizer.encode(run.prompt)];
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      const onEvent = (event: DecodeEvent) => {
        if (event.type === 'progress') this.post({ id: req.id, type: 'event', data: { event, texts: [] } });
      };
      const value = await generateCandidates({ policy: model, tokenizer, promptIds, method: run.method, k: run.k, seed: run.seed, options: run.options, signal: ctrl.signal, onEvent });
      this.post({ id: req.id, type: 'result', value });
    } finally {
      this.running.delete(req.id);
    }
  }

  /** Reads a dataset from the site or a picked file, scores it in batches with progress, and reports. */
  /**
   * The benchmark suite on this worker's device and bundled models (src/bench/suite.ts, loaded with
   * a dynamic import so it is not part of the worker's main chunk). Long: minutes on WASM.
   */
  private async bench(req: Extract<Request, { type: 'bench' }>): Promise<void> {
    if (!this.backend.loadGenerateBaseline) throw new Error('This backend has no transformers.js generate() baseline to benchmark against.');
    const o = req.options;
    const { runSuite } = await import('../bench/suite.ts');
    const [policy, armPositive, armConcise, tuned] = await Promise.all(['tiny-base', 'tiny-arm-positive', 'tiny-arm-concise', 'tiny-dpo-positive'].map((id) => this.lm(id)));
    const n = o.rankingPairs ?? 64;
    const bundled = { kind: 'bundled', path: 'datasets/prefs-positive-test.jsonl' } as const;
    const pairs = n > 0 ? (await readItems(await datasetItems(bundled, n, { fetchSite: (path) => this.backend.fetch(path) }), n)).pairs : [];
    const device = this.device;
    const baseline = await this.backend.loadGenerateBaseline('tiny-base', device);
    try {
      const r = await runSuite(
        { policy: policy!.model, tokenizer: policy!.tokenizer, arms: [armPositive!.model, armConcise!.model], tuned: tuned!.model, ref: policy!.model },
        { reps: o.reps ?? 5, tokens: o.tokens ?? 64, generateBaseline: baseline.generate, rankingSets: pairs.length ? [{ id: 'bundled', label: 'bundled', pairs }] : [] },
      );
      const value: BenchResult = { device, ratios: r.ratios, runs: r.runs, reps: r.reps, tokens: r.tokens };
      this.post({ id: req.id, type: 'result', value });
    } finally {
      await baseline.dispose();
    }
  }

  private async rank(req: Extract<Request, { type: 'rank' }>): Promise<void> {
    const job = req.job;
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      const need: Record<string, string | undefined> = { policy: job.policy, tuned: job.tuned, ref: job.ref, arm: job.arm, rewardModel: job.rewardModel };
      const required = { policy: ['policy'], implicit: ['tuned', 'ref'], arm: ['arm'], sequence: ['rewardModel'] }[job.scorer];
      for (const r of required) if (!need[r]) throw new Error(`The ${job.scorer} scorer needs a ${r} model.`);
      const lm = async (id: string | undefined) => (id ? await this.lm(id) : undefined);
      const [policy, tuned, ref, arm] = await Promise.all([lm(job.policy), lm(job.tuned), lm(job.ref), lm(job.arm)]);
      const rmBase = job.rewardModel ? await this.rm(job.rewardModel) : undefined;
      const rewardModel = rmBase ? rewardForRun(rmBase, job.rewardLabel, undefined, PAGE_LABEL) : undefined;
      // A sequence reward model alone brings its own tokenizer (loading a classifier as a causal LM fails).
      const tokenizer = (policy ?? tuned ?? arm)?.tokenizer ?? (rmBase as { tokenizer?: Tokenizer } | undefined)?.tokenizer ?? (job.rewardModel ? await this.lm(job.rewardModel) : undefined)?.tokenizer;
      if (!tokenizer) throw new Error('No model with a tokenizer was given.');
      const first = ([[job.policy, policy], [job.tuned, tuned], [job.arm, arm]] as const).find(([, m]) => m) as readonly [string, LoadedLm] | undefined;
      const roles = [['tuned model', job.tuned, tuned], ['reference model', job.ref, ref], ['ARM', job.arm, arm]] as const;
      if (first) this.checkTokenizers({ id: first[0], lm: first[1] }, [
        ...roles.flatMap(([role, id, m]) => (id && m ? [{ id, role, tok: m.tokenizer }] : [])),
        ...(job.rewardModel && rewardModel
          ? [{ id: job.rewardModel, role: 'reward model', tok: (rewardModel as { tokenizer?: { vocabSize: number; digest?: unknown } }).tokenizer, vocab: rewardModel.vocabSize }]
          : []),
      ]);
      // Dataset sources, chat template, resume and partial results: rankJob.ts.
      const transform = chatTransform(job, tokenizer, job.policy ?? job.tuned ?? job.arm ?? job.rewardModel ?? 'the model');
      const progress = (data: RankProgress) => this.post({ id: req.id, type: 'progress', data });
      progress({ phase: 'reading', done: 0, total: 0 });
      const data = await readJobDataset(job, { fetchSite: (path) => this.backend.fetch(path), signal: ctrl.signal, onProgress: progress });
      const models: ScorerModels = { policy: policy?.model, tuned: tuned?.model, ref: ref?.model, arm: arm?.model, rewardModel };
      const res = await scoreJob(job, data.pairs, models, tokenizer, transform, ctrl.signal, progress);
      const report = jobReport(res, job);
      // A reward model with several heads: each head's accuracy alone (core/reward/labelMix.ts), when the run completed.
      const names = (rmBase as { labelNames?: () => string[] } | undefined)?.labelNames?.() ?? [];
      if (job.scorer === 'sequence' && rmBase && names.length > 1 && !ctrl.signal.aborted && typeof (rmBase as Partial<HeadsModel>).logits === 'function')
        report.per_attribute = await perAttributeAccuracy(rmBase as unknown as HeadsModel, names, async (h) => (await scoreJob(withoutResume(job), data.pairs, { ...models, rewardModel: h }, tokenizer, transform, ctrl.signal, () => {})).pairs);
      // The texts of the pairs the per-pair table shows, for their token strips (score-pair) after a reload too.
      const texts = res.pairs.slice(0, 100).map((p) => data.pairs[p.index ?? -1] ?? null);
      this.post({ id: req.id, type: 'result', value: { report, invalidLines: data.errors, cancelled: ctrl.signal.aborted, pairsRead: data.pairs.length, texts } });
    } finally {
      this.running.delete(req.id);
    }
  }

  /** Per-token scores of one pair with a rank job's models (the ranking view's reward strips). */
  private async scorePair(req: Extract<Request, { type: 'score-pair' }>): Promise<void> {
    const job = req.job;
    const lm = async (id: string | undefined) => (id ? await this.lm(id) : undefined);
    const [policy, tuned, ref, arm] = await Promise.all([lm(job.policy), lm(job.tuned), lm(job.ref), lm(job.arm)]);
    const rmBase = job.rewardModel ? await this.rm(job.rewardModel) : undefined;
    const rewardModel = rmBase ? rewardForRun(rmBase, job.rewardLabel, undefined, PAGE_LABEL) : undefined;
    const tokenizer = (policy ?? tuned ?? arm)?.tokenizer ?? (rmBase as { tokenizer?: Tokenizer } | undefined)?.tokenizer ?? (job.rewardModel ? await this.lm(job.rewardModel) : undefined)?.tokenizer;
    if (!tokenizer) throw new Error('No model with a tokenizer was given.');
    const transform = chatTransform(job, tokenizer, job.policy ?? job.tuned ?? job.arm ?? job.rewardModel ?? 'the model');
    const models: ScorerModels = { policy: policy?.model, tuned: tuned?.model, ref: ref?.model, arm: arm?.model, rewardModel };
    const value = await scorePairTokens(req.pair, job.scorer, models, tokenizer, { beta: job.beta, lengthNormalize: job.lengthNormalize, transform, ...tokenOptions(job) });
    this.post({ id: req.id, type: 'result', value });
  }

  /**
   * Token attribution of a generated sequence under a sequence reward model (prefixAttribution): the
   * prompt as the generate request encodes it (or the ids given), the RM read with the run's label or
   * mix, re-tokenized through text when its tokenizer is not the policy's (as best-of-N reads it).
   */
  private async attribute(req: Extract<Request, { type: 'attribute' }>): Promise<void> {
    const run = req.run;
    if (!run.rewardModel) throw new Error('Token attribution needs a sequence reward model: load one (e.g. tiny-rm-positive) in the Models view and choose it.');
    if (!run.policy) throw new Error('Token attribution needs the policy that generated the sequence (its tokenizer made the token ids).');
    const batchSize = run.batchSize ?? DEFAULT_PREFIX_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 256) throw new RangeError(`batchSize must be an integer from 1 to 256 prefixes per reward-model call (got ${run.batchSize})`);
    const { model, tokenizer } = await this.lm(run.policy);
    const badId = (ids: readonly number[]) => ids.find((t) => !Number.isInteger(t) || t < 0 || t >= tokenizer.vocabSize);
    if (!Array.isArray(run.responseIds) || run.responseIds.length === 0) throw new Error('Token attribution needs the generated sequence\'s token ids (responseIds): the sequence is empty.');
    const bad = badId(run.responseIds);
    if (bad !== undefined) throw new RangeError(`responseIds holds ${bad}, which is not a token id of ${run.policy} (0 to ${tokenizer.vocabSize - 1}): send the ids of a sequence this policy generated.`);
    let promptIds: readonly number[];
    if (run.promptIds) {
      const b = badId(run.promptIds);
      if (b !== undefined) throw new RangeError(`promptIds holds ${b}, which is not a token id of ${run.policy} (0 to ${tokenizer.vocabSize - 1}).`);
      promptIds = run.promptIds;
    } else if (typeof run.prompt === 'string') {
      const bos = run.addBos === false ? undefined : tokenizer.bosTokenId; // as generate
      promptIds = [...(bos !== undefined ? [bos] : []), ...tokenizer.encode(run.prompt)];
    } else throw new Error('Token attribution needs the prompt: promptIds, or the prompt text.');
    const base = await this.rm(run.rewardModel);
    const rm = rewardForRun(base, run.rewardLabel, tokenizer, PAGE_LABEL);
    this.checkTokenizers({ id: run.policy, lm: { model, tokenizer } }, [
      { id: run.rewardModel, role: 'reward model', tok: (rm as { tokenizer?: { vocabSize: number; digest?: unknown } }).tokenizer, vocab: rm.vocabSize },
    ]);
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      const a = await prefixAttribution(rm, promptIds, run.responseIds, { batchSize, signal: ctrl.signal });
      const label = (rm as { label?: { name?: string } }).label?.name;
      const heads = (base as { labelNames?: () => string[] }).labelNames?.() ?? [];
      const value: TokenAttribution = {
        rewardModel: run.rewardModel,
        ...(label !== undefined && heads.length > 1 ? { rewardLabel: label } : {}),
        values: a.values,
        prefixRewards: a.prefixRewards,
        total: (a.prefixRewards[a.prefixRewards.length - 1] as number) - (a.prefixRewards[0] as number),
        texts: run.responseIds.map((t) => tokenizer.tokenText(t)),
        retokenized: (rm as { retokenizes?: boolean }).retokenizes === true,
        truncated: promptIds.length + run.responseIds.length > rm.contextLength,
      };
      this.post({ id: req.id, type: 'result', value });
    } finally {
      this.running.delete(req.id);
    }
  }

  /** A self-check: greedy ids of the first prompt (greedyTokens of them), and logits after selecting cache rows [n-1, 0, 0, 1...]. */
  private async probe(req: Extract<Request, { type: 'probe' }>): Promise<void> {
    const { model, tokenizer } = await this.lm(req.modelId);
    const prompts = req.prompts.map((p) => tokenizer.encode(p));
    const ids: number[] = [];
    if (req.greedyTokens > 0)
      for await (const e of greedy(model, prompts[0] ?? [], { maxNewTokens: req.greedyTokens })) if (e.type === 'done') ids.push(...(e.sequences[0]?.tokenIds ?? []));
    const { cache } = await model.prefill(prompts);
    const rows = Int32Array.from([prompts.length - 1, 0, 0, ...prompts.map((_, i) => i).slice(1)]);
    const selected = await cache.select(rows);
    const cacheGpuBuffers = (selected as { gpuBuffers?: number }).gpuBuffers ?? 0;
    cache.dispose();
    const next = Int32Array.from(rows, (_, i) => 5 + i);
    const { logits, cache: after } = await model.step(selected, next);
    after.dispose();
    const value: ProbeResult = { greedy: ids, selectRows: Array.from(rows), selectTop: logits.map((l) => topK(l, 5)), cacheGpuBuffers };
    this.post({ id: req.id, type: 'result', value });
  }
}

/**
 * A reward model as one run uses it (backends/transformers.ts `forRun`, duck-typed so test backends
 * pass through): the run's label of a classifier with several labels, and, given the policy's
 * tokenizer, re-tokenized text when the reward model's tokenizer differs (best-of-N, rejection, ARGS).
 */
/** The job scoring every pair from the start (a resumed run's heads are scored over the whole dataset). */
function withoutResume(job: RankJob): RankJob {
  const { resume: _, ...fresh } = job;
  return fresh;
}

/** How messages about a reward model's label name the setting on the page (the CLI says --reward-label). */
const PAGE_LABEL = 'reward label';

function rewardForRun(rm: SequenceRewardModel, label?: string, policy?: Tokenizer, flag?: string): SequenceRewardModel {
  const f = (rm as { forRun?: (o: { label?: string; policy?: Tokenizer; flag?: string }) => SequenceRewardModel }).forRun;
  return typeof f === 'function' ? f.call(rm, { ...(label !== undefined ? { label } : {}), ...(policy ? { policy } : {}), ...(flag ? { flag } : {}) }) : rm;
}

/** A loaded LM's generation_config.json (TransformersLanguageModel.generationDefaults), as plain data for the page. */
function generationDefaultsOf(model: object): { generationDefaults?: Record<string, unknown> } {
  const g = (model as { generationDefaults?: unknown }).generationDefaults;
  return g && typeof g === 'object' ? { generationDefaults: JSON.parse(JSON.stringify(g)) as Record<string, unknown> } : {};
}
