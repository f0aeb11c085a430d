/**
 * Routes worker requests to the backend. Kept free of worker globals so tests can drive it with
 * fake backends: `post` receives every response.
 */
import type { LanguageModel, Tokenizer } from '../core/model/types.ts';
import { greedy } from '../core/search/greedy.ts';
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
}

export class Handler {
  private device: Device = 'wasm';
  private readonly models = new Map<string, Promise<LoadedLm>>();
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly backend: Backend,
    private readonly post: (r: Response) => void,
  ) {}

  private lm(id: string): Promise<LoadedLm> {
    const key = `${this.device}:${id}`;
    let p = this.models.get(key);
    if (!p) {
      p = this.backend.loadLanguageModel(id, this.device);
      p.catch(() => this.models.delete(key));
      this.models.set(key, p);
    }
    return p;
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
      }
    } catch (e) {
      this.post({ id: req.id, type: 'error', error: toWireError(e) });
    }
  }

  private async generate(req: Extract<Request, { type: 'generate' }>): Promise<void> {
    const { model, tokenizer } = await this.lm(req.modelId);
    const prompt = tokenizer.encode(req.prompt);
    if (prompt.length === 0) throw new Error('The prompt is empty: type some text to continue.');
    if (prompt.length + req.maxNewTokens > model.contextLength) {
      throw new Error(
        `The prompt (${prompt.length} tokens) plus max_new_tokens (${req.maxNewTokens}) exceeds ${req.modelId}'s context of ${model.contextLength} tokens: shorten the prompt or lower max_new_tokens.`,
      );
    }
    const ctrl = new AbortController();
    this.running.set(req.id, ctrl);
    try {
      for await (const event of greedy(model, prompt, { maxNewTokens: req.maxNewTokens, signal: ctrl.signal })) {
        const texts = event.type === 'step' ? event.rows.map((r) => tokenizer.tokenText(r.tokenId)) : event.sequences.map((s) => tokenizer.decode(s.tokenIds));
        this.post({ id: req.id, type: 'event', data: { event, texts } });
        await yieldToEventLoop();
      }
      this.post({ id: req.id, type: 'result', value: null });
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
    cache.dispose();
    const next = Int32Array.from(rows, (_, i) => 5 + i);
    const { logits, cache: after } = await model.step(selected, next);
    after.dispose();
    const value: ProbeResult = { greedy: ids, selectRows: Array.from(rows), selectTop: logits.map((l) => topK(l, 5)) };
    this.post({ id: req.id, type: 'result', value });
  }
}
