/**
 * Main-thread proxy for the inference worker: typed requests with ids, events streamed to a
 * callback. If the worker dies, every pending request fails with a clear message, a fresh worker is
 * started and re-initialised on the same device choice, and `onRestart` tells the page.
 */
import type { AttributeRun, BenchOptions, BenchResult, CandidatesRun, TokenAttribution } from './protocol.ts';
import type { CandidateSet } from '../core/search/candidates.ts';
import type { DebugAction, DebugResources, Device } from './protocol.ts';
import type {
  DeviceChoice,
  DownloadProgress,
  GenerateRun,
  ModelInfo,
  ModelSource,
  ProbeResult,
  RankJob,
  RankProgress,
  RegisteredModel,
  Request,
  Response,
  TokenEvent,
} from './protocol.ts';
import type { RankReport } from '../core/metrics/report.ts';
import type { PreferencePair, RecordError } from '../core/data/preferences.ts';
import type { PairTokenScores } from '../core/metrics/tokenScores.ts';

type Ready = Extract<Response, { type: 'ready' }>;
type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: TokenEvent) => void;
  onProgress?: (p: RankProgress) => void;
  onDownload?: (p: DownloadProgress) => void;
  /** What was asked (to reload its models in a worker that replaces one whose GPU device was lost). */
  body?: RequestBody;
};

export interface RankResult {
  readonly report: RankReport;
  readonly invalidLines: readonly RecordError[];
  readonly cancelled: boolean;
  readonly pairsRead: number;
  /** The texts of the first 100 scored pairs (null where unknown), for their token strips (`scorePair`). */
  readonly texts?: readonly (PreferencePair | null)[];
}
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class InferenceClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private device: DeviceChoice | null = null;
  /** Models the user added (folders, Hugging Face ids), registered again in a restarted worker. */
  private readonly sources = new Map<string, ModelSource>();
  /** Called after a crashed worker was replaced (the message says what happened). */
  onRestart: ((message: string) => void) | null = null;
  /** Called when the worker changed device on its own (the WebGPU device was lost: now WASM). */
  onDevice: ((info: { device: Device; reason: string; notice?: string }) => void) | null = null;
  /** Called with what the user should know but is not an error (a model fell back to WASM…). */
  onNotice: ((message: string) => void) | null = null;
  /** Called after every successful model load (the page uses the first to start background work). */
  onLoaded: (() => void) | null = null;
  restarts = 0;

  constructor(private readonly factory: () => Worker = () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })) {
    this.worker = this.start();
  }

  private start(): Worker {
    const w = this.factory();
    w.onmessage = (e: MessageEvent<Response>) => this.receive(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.crashed(e.message || 'unknown error');
    };
    return w;
  }

  private crashed(reason: string): void {
    const message = `The inference worker crashed (${reason}); a new one was started. Run again.`;
    this.failAll(new Error(message));
    this.worker.terminate();
    this.restarts++;
    this.worker = this.start();
    if (this.device) void this.init(this.device).catch(() => {});
    for (const source of this.sources.values()) void this.send({ type: 'register', source }).done.catch(() => {});
    this.onRestart?.(message);
  }

  private receive(r: Response): void {
    // Device changes and notices concern the whole page, whichever request (if any) caused them.
    if (r.type === 'device' && r.restart) {
      void this.replaceAfterLoss(r.reason, r.notice);
      return;
    }
    if (r.type === 'device') {
      this.onDevice?.({ device: r.device, reason: r.reason, ...(r.notice ? { notice: r.notice } : {}) });
      if (r.notice) this.onNotice?.(r.notice);
      return;
    }
    if (r.type === 'notice') {
      this.onNotice?.(r.message);
      return;
    }
    if (r.type === 'loaded' && r.notice) this.onNotice?.(r.notice);
    if (r.type === 'loaded') this.onLoaded?.();
    const p = this.pending.get(r.id);
    if (!p) return; // a late message for a request nobody waits for any more
    switch (r.type) {
      case 'event':
        p.onEvent?.(r.data);
        return;
      case 'progress':
        p.onProgress?.(r.data);
        return;
      case 'download':
        p.onDownload?.(r.data);
        return;
      case 'error': {
        this.pending.delete(r.id);
        const err = new Error(r.error.message);
        err.name = r.error.name;
        p.reject(err);
        return;
      }
      case 'ready':
      case 'loaded':
        this.pending.delete(r.id);
        p.resolve(r);
        return;
      case 'result':
        this.pending.delete(r.id);
        p.resolve(r.value);
        return;
    }
  }

  /**
   * The worker's WebGPU device was lost and its runtime cannot be trusted any more: start a new
   * worker on WASM (models added by the user registered again), reload there the models of the
   * requests that were running, then fail those requests with a message saying to run again.
   */
  private async replaceAfterLoss(reason: string, notice?: string): Promise<void> {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker.terminate();
    this.worker = this.start();
    this.device = 'wasm';
    for (const source of this.sources.values()) void this.send({ type: 'register', source }).done.catch(() => {});
    await this.init('wasm').catch(() => {});
    const lm = new Set<string>();
    const rm = new Set<string>();
    for (const { body } of pending) {
      if (body?.type === 'generate') [body.run.policy, ...(body.run.arms ?? []), body.run.tuned, body.run.ref].forEach((id) => id && lm.add(id));
      if (body?.type === 'generate' && body.run.rewardModel) rm.add(body.run.rewardModel);
      if (body?.type === 'candidates') lm.add(body.run.policy);
      if (body?.type === 'rank') [body.job.policy, body.job.tuned, body.job.ref, body.job.arm].forEach((id) => id && lm.add(id));
      if (body?.type === 'rank' && body.job.rewardModel) rm.add(body.job.rewardModel);
      if (body?.type === 'attribute') (lm.add(body.run.policy), rm.add(body.run.rewardModel));
      if (body?.type === 'load') (body.as === 'rm' ? rm : lm).add(body.modelId);
    }
    await Promise.all([...[...lm].map((id) => this.load(id).catch(() => {})), ...[...rm].map((id) => this.load(id, { as: 'rm' }).catch(() => {}))]);
    this.onDevice?.({ device: 'wasm', reason, ...(notice ? { notice } : {}) });
    if (notice) this.onNotice?.(notice);
    const lost = /\((.*)\)$/.exec(reason)?.[1] ?? reason;
    for (const p of pending) {
      const err = new Error(`The GPU device was lost (${lost}). The models were reloaded on WASM; run again.`);
      err.name = 'DeviceLostError';
      p.reject(err);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private send<T>(
    body: RequestBody,
    onEvent?: (e: TokenEvent) => void,
    onProgress?: (p: RankProgress) => void,
    onDownload?: (p: DownloadProgress) => void,
  ): { id: number; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent, onProgress, onDownload, body });
    });
    this.worker.postMessage({ ...body, id } as Request);
    return { id, done };
  }

  init(device: DeviceChoice): Promise<Ready> {
    this.device = device;
    return this.send<Ready>({ type: 'init', device }).done;
  }

  /**
   * Loads a model (once per device; later calls are instant). `as: 'rm'` loads a sequence reward
   * model; `dtype` overrides the registered one; `onDownload` gets the bytes read of each file.
   */
  async load(modelId: string, opts: { as?: 'lm' | 'rm'; dtype?: string; onDownload?: (p: DownloadProgress) => void } = {}): Promise<{ model: ModelInfo; ms: number }> {
    const body = { type: 'load' as const, modelId, ...(opts.as ? { as: opts.as } : {}), ...(opts.dtype ? { dtype: opts.dtype } : {}) };
    return this.send<{ model: ModelInfo; ms: number }>(body, undefined, undefined, opts.onDownload).done;
  }

  /** Adds a picked folder (its Files stay in this browser) or a Hugging Face id to the worker. */
  async register(source: ModelSource): Promise<RegisteredModel> {
    const info = await this.send<RegisteredModel>({ type: 'register', source }).done;
    this.sources.set(info.id, source);
    return info;
  }

  generate(run: GenerateRun, onEvent: (e: TokenEvent) => void): { id: number; done: Promise<void> } {
    return this.send<void>({ type: 'generate', run }, onEvent);
  }

  /** k candidates for one prompt with their set diversity (nc_sample, diverse_beam or sample); progress events while it runs. */
  candidates(run: CandidatesRun, onEvent: (e: TokenEvent) => void = () => {}): { id: number; done: Promise<CandidateSet> } {
    return this.send<CandidateSet>({ type: 'candidates', run }, onEvent);
  }

  rank(job: RankJob, onProgress: (p: RankProgress) => void): { id: number; done: Promise<RankResult> } {
    return this.send<RankResult>({ type: 'rank', job }, undefined, onProgress);
  }

  /** Per-token scores of one pair with a rank job's models (the ranking view's reward strips). */
  scorePair(job: RankJob, pair: PreferencePair): Promise<PairTokenScores> {
    return this.send<PairTokenScores>({ type: 'score-pair', job, pair }).done;
  }

  /** Per-token attribution of a generated sequence under a sequence reward model (prefix scoring in the worker). */
  attribute(run: AttributeRun): { id: number; done: Promise<TokenAttribution> } {
    return this.send<TokenAttribution>({ type: 'attribute', run });
  }

  /** Runs the benchmark suite in the worker (src/bench/browser.ts calls it; minutes on WASM). */
  bench(options: BenchOptions = {}): Promise<BenchResult> {
    return this.send<BenchResult>({ type: 'bench', options }).done;
  }

  cancel(target: number): Promise<boolean> {
    return this.send<boolean>({ type: 'cancel', target }).done;
  }

  probe(modelId: string, prompts: string[], greedyTokens = 20): Promise<ProbeResult> {
    return this.send<ProbeResult>({ type: 'probe', modelId, prompts, greedyTokens }).done;
  }

  /** Fault simulation and resource counts (protocol DebugAction); for tests and the console. */
  debug<T = unknown>(action: DebugAction): Promise<T> {
    return this.send<T>({ type: 'debug', action }).done;
  }

  /** Destroys the WebGPU device, as a driver reset would; the worker moves to WASM. */
  loseDevice(): Promise<unknown> {
    return this.debug('lose-device');
  }

  /** KV caches and GPU buffers the backend adapter holds right now. */
  resources(): Promise<DebugResources> {
    return this.debug<DebugResources>('resources');
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('The inference worker was stopped.'));
  }
}
