/**
 * Main-thread proxy for the inference worker: typed requests with ids, events streamed to a
 * callback, and a clear error for every pending request if the worker dies.
 */
import type { DeviceChoice, GenerateRun, ModelInfo, ProbeResult, Request, Response, TokenEvent } from './protocol.ts';

type Ready = Extract<Response, { type: 'ready' }>;
type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: TokenEvent) => void;
};
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class InferenceClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(factory: () => Worker = () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })) {
    this.worker = factory();
    this.worker.onmessage = (e: MessageEvent<Response>) => this.receive(e.data);
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.failAll(new Error(`The inference worker crashed: ${e.message || 'unknown error'}. Reload the page to restart it.`));
    };
  }

  private receive(r: Response): void {
    const p = this.pending.get(r.id);
    if (!p) return; // a late message for a request nobody waits for any more
    switch (r.type) {
      case 'event':
        p.onEvent?.(r.data);
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

  private send<T>(body: RequestBody, onEvent?: (e: TokenEvent) => void): { id: number; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
    });
    this.worker.postMessage({ ...body, id } as Request);
    return { id, done };
  }

  init(device: DeviceChoice): Promise<Ready> {
    return this.send<Ready>({ type: 'init', device }).done;
  }

  async load(modelId: string): Promise<{ model: ModelInfo; ms: number }> {
    return this.send<{ model: ModelInfo; ms: number }>({ type: 'load', modelId }).done;
  }

  generate(run: GenerateRun, onEvent: (e: TokenEvent) => void): { id: number; done: Promise<void> } {
    return this.send<void>({ type: 'generate', run }, onEvent);
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
