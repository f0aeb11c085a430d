/**
 * State of the seed playground: device, model, one streaming greedy run. Components read these
 * fields; all work happens in the worker behind InferenceClient.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { Device, DeviceChoice } from '../inference/protocol.ts';

export interface StreamToken {
  readonly id: number;
  readonly text: string;
  readonly logprob: number;
}

export class GenerationState {
  device = $state<Device | null>(null);
  deviceReason = $state('');
  threads = $state(1);
  status = $state<'starting' | 'idle' | 'loading' | 'running' | 'error'>('starting');
  error = $state('');
  tokens = $state.raw<StreamToken[]>([]);
  finishReason = $state('');
  tokensPerSecond = $state(0);
  private runId: number | null = null;

  constructor(private readonly client: InferenceClient) {}

  async start(choice: DeviceChoice): Promise<void> {
    try {
      const r = await this.client.init(choice);
      this.device = r.device;
      this.deviceReason = r.reason;
      this.threads = r.threads;
      this.status = 'idle';
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.status = 'error';
    this.error = e instanceof Error ? e.message : String(e);
  }

  async generate(modelId: string, prompt: string, maxNewTokens: number): Promise<void> {
    if (this.runId !== null) await this.stop();
    this.error = '';
    this.tokens = [];
    this.finishReason = '';
    this.status = 'loading';
    try {
      await this.client.load(modelId);
      this.status = 'running';
      const t0 = performance.now();
      const run = this.client.generate(modelId, prompt, maxNewTokens, ({ event, texts }) => {
        if (run.id !== this.runId) return;
        if (event.type === 'step') {
          const row = event.rows[0];
          if (row) this.tokens = [...this.tokens, { id: row.tokenId, text: texts[0] ?? '', logprob: row.logprob }];
          this.tokensPerSecond = this.tokens.length / ((performance.now() - t0) / 1000);
        } else {
          this.finishReason = event.sequences[0]?.finishReason ?? '';
        }
      });
      this.runId = run.id;
      await run.done;
      if (this.runId === run.id) {
        this.runId = null;
        this.status = 'idle';
      }
    } catch (e) {
      this.runId = null;
      this.fail(e);
    }
  }

  async stop(): Promise<void> {
    if (this.runId === null) return;
    await this.client.cancel(this.runId);
  }
}
