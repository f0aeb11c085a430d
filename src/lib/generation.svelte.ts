/**
 * State of the playground's generate view: device, one streaming run of any strategy, and its
 * returned sequences. Components read these fields; all work happens in the worker.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { Device, DeviceChoice, GenerateRun } from '../inference/protocol.ts';
import type { RowStep, SequenceResult, StepEvent } from '../core/search/events.ts';

/** One streamed token of row 0 with everything the token view and step inspector show. */
export interface StreamToken {
  readonly id: number;
  readonly text: string;
  readonly logprob: number;
  readonly step: RowStep;
  readonly topTexts: Readonly<Record<number, string>>;
}

export interface ShownSequence {
  readonly result: SequenceResult;
  readonly text: string;
}

export class GenerationState {
  device = $state<Device | null>(null);
  deviceReason = $state('');
  threads = $state(1);
  status = $state<'starting' | 'idle' | 'loading' | 'running' | 'error'>('starting');
  error = $state('');
  /** Tokens of row 0 as they stream (the first sample, or the top beam's ancestry is not known yet). */
  tokens = $state.raw<StreamToken[]>([]);
  sequences = $state.raw<ShownSequence[]>([]);
  finishReason = $state('');
  tokensPerSecond = $state(0);
  /** Every step event of the run (for the beam tree) and the text of every token id seen. */
  steps = $state.raw<StepEvent[]>([]);
  tokenTexts = $state.raw<Record<number, string>>({});
  /** Index of the token whose step the inspector shows. */
  selected = $state<number | null>(null);
  /** The request of the latest run (for exports) and its wall time once done. */
  run = $state.raw<GenerateRun | null>(null);
  elapsedMs = $state(0);
  private runId: number | null = null;

  constructor(private readonly client: InferenceClient) {
    client.onRestart = (message) => {
      this.runId = null;
      this.status = 'idle';
      this.error = message;
    };
    // The worker moved to WASM on its own (the WebGPU device was lost): the device line follows.
    client.onDevice = (d) => {
      this.device = d.device;
      this.deviceReason = d.reason;
    };
    // Something the worker did on its own that the user should know (e.g. a WASM fallback after a
    // WebGPU out-of-memory): shown until dismissed.
    client.onNotice = (message) => {
      this.notice = message;
    };
  }

  /** The worker's latest notice (empty when none or dismissed). */
  notice = $state('');

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

  async generate(run: GenerateRun): Promise<void> {
    if (this.runId !== null) await this.stop();
    this.error = '';
    this.tokens = [];
    this.sequences = [];
    this.selected = null;
    this.steps = [];
    this.tokenTexts = {};
    this.finishReason = '';
    this.run = run;
    this.elapsedMs = 0;
    this.status = 'loading';
    try {
      await this.client.load(run.policy);
      this.status = 'running';
      const t0 = performance.now();
      let steps = 0;
      const handle = this.client.generate(run, ({ event, texts, topTexts }) => {
        if (handle.id !== this.runId) return; // a late event of a cancelled run
        if (event.type === 'step') {
          steps++;
          this.steps = [...this.steps, event];
          const known: Record<number, string> = { ...this.tokenTexts, ...(topTexts ?? {}) };
          event.rows.forEach((r, j) => (known[r.tokenId] = texts[j] ?? ''));
          this.tokenTexts = known;
          const row = event.rows.find((r) => r.row === 0);
          const i = event.rows.indexOf(row as never);
          if (row) this.tokens = [...this.tokens, { id: row.tokenId, text: texts[i] ?? '', logprob: row.logprob, step: row, topTexts: topTexts ?? {} }];
          this.tokensPerSecond = steps / ((performance.now() - t0) / 1000);
        } else {
          this.sequences = event.sequences.map((result, i) => ({ result, text: texts[i] ?? '' }));
          this.finishReason = event.sequences[0]?.finishReason ?? '';
        }
      });
      this.runId = handle.id;
      await handle.done;
      this.elapsedMs = performance.now() - t0;
      if (this.runId === handle.id) {
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
