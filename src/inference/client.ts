/**
 * Main-thread proxy for the inference worker: typed requests with ids, events streamed to a
 * callback. If the worker dies, every pending request fails with a clear message, a fresh worker is
 * started and re-initialised on the same device choice, and `onRestart` tells the page.
 */
import type { DeviceChoice, GenerateRun, ModelInfo, ProbeResult, RankJob, RankProgress, Request, Response, TokenEvent } from './protocol.ts';
import type { RankReport } from '../core/metrics/report.ts';
import type { RecordError } from '../core/data/preferences.ts';

type Ready = Extract<Response, { type: 'ready' }>;
type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: TokenEvent) => void;
  onProgress?: (p: RankProgress) => void;
};

export interface RankResult {
  readonly report: RankReport;
  readonly invalidLines: readonly RecordError[];
  readonly cancelled: boolean;
  readonly pairsRead: number;
}
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class InferenceClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private device: DeviceChoice | null = null;
  /** Called after a crashed worker was replaced (the message says what happened). */
  onRestart: ((message: string) => void) | null = null;
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
    this.onRestart?.(message);
  }

  private receive(r: Response): void {
    const p = this.pending.get(r.id);
    if (!p) return; // a late message for a request nobody waits for any more
    switch (r.type) {
      case 'event':
        p.onEvent?.(r.data);
        return;
      case 'progress':
        p.onProgress?.(r.data);
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

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private send<T>(body: RequestBody, onEvent?: (e: TokenEvent) => void, onProgress?: (p: RankProgress) => void): { id: number; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent, onProgress });
    });
    this.worker.postMessage({ ...body, id } as Request);
    return { id, done };
  }

  init(device: DeviceChoice): Promise<Ready> {
    this.device = device;
    return this.send<Ready>({ type: 'init', device }).done;
  }

  async load(modelId: string): Promise<{ model: ModelInfo; ms: number }> {
    return this.send<{ model: ModelInfo; ms: number }>({ type: 'load', modelId }).done;
  }

  generate(run: GenerateRun, onEvent: (e: TokenEvent) => void): { id: number; done: Promise<void> } {
    return this.send<void>({ type: 'generate', run }, onEvent);
  }

  rank(job: RankJob, onProgress: (p: RankProgress) => void): { id: number; done: Promise<RankResult> } {
    return this.send<RankResult>({ type: 'rank', job }, undefined, onProgress);
  }

  cancel(target: number): Promise<boolean> {
    return this.send<boolean>({ type: 'cancel', target }).done;
  }

  probe(modelId: string, prompts: string[], greedyTokens = 20): Promise<ProbeResult> {
    return this.send<ProbeResult>({ type: 'probe', modelId, prompts, greedyTokens }).done;
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('The inference worker was stopped.'));
  }
}
