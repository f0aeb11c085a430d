/**
 * Routes worker requests to the backend. Kept free of worker globals so tests can drive it with
 * fake backends: `post` receives every response.
 */
import type { LanguageModel, SequenceRewardModel, Tokenizer } from '../core/model/types.ts';
import { greedy } from '../core/search/greedy.ts';
import { decode, type StrategyModels } from '../core/search/strategy.ts';
import { decodeUtf8, readDataset } from '../core/data/preferences.ts';
import { scorePairs, type ScorerModels } from '../core/metrics/scorePairs.ts';
import { rankingReport } from '../core/metrics/report.ts';
import { topK } from '../core/math/topk.ts';
import type { Device, DeviceChoice, ProbeResult, Request, Response } from './protocol.ts';
import { toWireError } from './protocol.ts';
import { yieldToEventLoop } from './yield.ts';

export interface LoadedLm {
  readonly model: LanguageModel;
  readonly tokenizer: Tokenizer;
}

export interface Backend {
  /** Picks the device for a choice, with a human-readable reason. */
  selectDevice(choice: DeviceChoice): Promise<{ device: Device; reason: string; threads: number; crossOriginIsolated: boolean }>;
  loadLanguageModel(id: string, device: Device): Promise<LoadedLm>;
  loadSequenceRewardModel(id: string, device: Device): Promise<SequenceRewardModel>;
  /** Fetches a file of the site (bundled datasets), relative to <base>models/. */
  fetch(path: string): Promise<globalThis.Response>;
}

/** Reads a byte stream chunk by chunk (ReadableStream is not async-iterable in every browser). */
async function* streamOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export class Handler {
  private device: Device = 'wasm';
  private readonly models = new Map<string, Promise<LoadedLm>>();
  private readonly rewardModels = new Map<string, Promise<SequenceRewardModel>>();
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly backend: Backend,
    private readonly post: (r: Response) => void,
  ) {}

  /** Loads each (device, model) once; a failed load is forgotten so it can be retried. */
  private memo<T>(cache: Map<string, Promise<T>>, id: string, load: (id: string, device: Device) => Promise<T>): Promise<T> {
    const key = `${this.device}:${id}`;
    let p = cache.get(key);
    if (!p) {
      p = load(id, this.device);
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  }

  private lm(id: string): Promise<LoadedLm> {
    return this.memo(this.models, id, (i, d) => this.backend.loadLanguageModel(i, d));
  }

  private rm(id: string): Promise<SequenceRewardModel> {
    return this.memo(this.rewardModels, id, (i, d) => this.backend.loadSequenceRewardModel(i, d));
  }

  async handle(req: Request): Promise<void> {
    try {
      switch (req.type) {
        case 'init': {
          const r = await this.backend.selectDevice(req.device);
          this.device = r.device;
          this.post({ id: req.id, type: 'ready', ...r });
          return;
        }
        case 'load': {
          const t0 = performance.now();
          const { model } = await this.lm(req.modelId);
          this.post({
            id: req.id,
            type: 'loaded',
            ms: performance.now() - t0,
            model: { id: req.modelId, vocabSize: model.vocabSize, contextLength: model.contextLength, eosTokenIds: model.eosTokenIds },
          });
          return;
        }
        case 'cancel':
          this.running.get(req.target)?.abort();
          this.post({ id: req.id, type: 'result', value: this.running.has(req.target) });
          return;
        case 'generate':
          return await this.generate(req);
        case 'probe':
          return await this.probe(req);
        case 'rank':
          return await this.rank(req);
      }
    } catch (e) {
      this.post({ id: req.id, type: 'error', error: toWireError(e) });
    }
  }

  private async generate(req: Extract<Request, { type: 'generate' }>): Promise<void> {
    const run = req.run;
    const { model, tokenizer } = await this.lm(run.policy);
    const load = async (id: string | undefined) => (id ? (await this.lm(id)).model : undefined);
    const models: StrategyModels = {
      policy: model,
      arms: await Promise.all((run.arms ?? []).map(async (id) => (await this.lm(id)).model)),
      tuned: await load(run.tuned),
      ref: await load(run.ref),
      rewardModel: run.rewardModel ? await this.rm(run.rewardModel) : undefined,
    };
    const prompt = tokenizer.encode(run.prompt);
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      for await (const event of decode(run.spec, models, prompt, ctrl.signal)) {
        const texts = event.type === 'step' ? event.rows.map((r) => tokenizer.tokenText(r.tokenId)) : event.sequences.map((s) => tokenizer.decode(s.tokenIds));
        const topTexts: Record<number, string> = {};
        if (event.type === 'step') {
          for (const r of event.rows) for (const e of [...r.top, ...(r.topCombined ?? [])]) topTexts[e.tokenId] ??= tokenizer.tokenText(e.tokenId);
          for (const h of event.hypotheses ?? []) {
            const last = h.tokenIds[h.tokenIds.length - 1];
            if (last !== undefined) topTexts[last] ??= tokenizer.tokenText(last);
          }
        }
        this.post({ id: req.id, type: 'event', data: { event, texts, topTexts } });
        await yieldToEventLoop();
      }
      this.post({ id: req.id, type: 'result', value: null });
    } finally {
      this.running.delete(req.id);
    }
  }

  /** Reads a dataset from the site or a picked file, scores it in batches with progress, and reports. */
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
      const rewardModel = job.rewardModel ? await this.rm(job.rewardModel) : undefined;
      const tokenizer = (policy ?? tuned ?? arm ?? (job.rewardModel ? await this.lm(job.rewardModel) : undefined))?.tokenizer;
      if (!tokenizer) throw new Error('No model with a tokenizer was given.');
      const bytes = await this.datasetBytes(job.dataset);
      this.post({ id: req.id, type: 'progress', data: { phase: 'reading', done: 0, total: 0 } });
      const data = await readDataset(decodeUtf8(bytes), job.limit ?? Infinity);
      const models: ScorerModels = { policy: policy?.model, tuned: tuned?.model, ref: ref?.model, arm: arm?.model, rewardModel };
      const res = await scorePairs(data.pairs, job.scorer, models, tokenizer, {
        beta: job.beta,
        lengthNormalize: job.lengthNormalize,
        signal: ctrl.signal,
        onProgress: (done, total) => this.post({ id: req.id, type: 'progress', data: { phase: 'scoring', done, total } }),
      });
      const report = rankingReport(res, { beta: job.beta, defaultAlpha: job.defaultAlpha });
      this.post({ id: req.id, type: 'result', value: { report, invalidLines: data.errors, cancelled: ctrl.signal.aborted, pairsRead: data.pairs.length } });
    } finally {
      this.running.delete(req.id);
    }
  }

  private async datasetBytes(src: Extract<Request, { type: 'rank' }>['job']['dataset']): Promise<AsyncIterable<Uint8Array>> {
    if (src.kind === 'file') return streamOf(src.file.stream());
    const res = await this.backend.fetch(src.path);
    if (!res.ok || !res.body) throw new Error(`Could not load the dataset ${src.path} (HTTP ${res.status}).`);
    if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${src.path} returned an HTML page, not a dataset: the host rewrites missing files to index.html.`);
    return streamOf(res.body);
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
