/**
 * State of the playground's generate view: device, one streaming run of any strategy, and its
 * returned sequences. Components read these fields; all work happens in the worker.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { Device, DeviceChoice, GenerateRun } from '../inference/protocol.ts';
import type { RowStep, SequenceResult, StepEvent } from '../core/search/events.ts';
import { conciseness, positivity } from '../core/reward/oracle.ts';
import { findRewardHack, type RewardHack } from '../core/reward/hacking.ts';
import { progressLine } from './progress.ts';
import type { Side } from './runForm.svelte.ts';

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

/** One sample of a side-by-side run, with its oracle scores and any reward hacking found in it. */
export interface SideSample {
  readonly seed: number;
  readonly text: string;
  readonly result: SequenceResult;
  readonly positivity: number;
  readonly conciseness: number;
  readonly hack: RewardHack | null;
}

export interface SideResult extends Side {
  readonly samples: readonly SideSample[];
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
  /** What the latest run is doing now ("Drawing 16 samples…: token 12 of 30, 5 of 16 finished"). */
  progress = $state('');
  /** 'single': one run (tokens/sequences); 'sides': a side-by-side run (`sides`). */
  mode = $state<'single' | 'sides'>('single');
  sides = $state.raw<SideResult[]>([]);
  /** Samples per side of the side-by-side run. */
  sideSamples = $state(0);
  private runId: number | null = null;
  private stopped = false;
  /** Counts runs started, so a side-by-side run replaced by a newer run leaves the state alone. */
  private generation = 0;

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

  /** Empties what a previous run showed (text, sequences, steps, status line), before a new run. */
  private clearOutput(): void {
    this.error = '';
    this.progress = '';
    this.tokens = [];
    this.sequences = [];
    this.selected = null;
    this.steps = [];
    this.tokenTexts = {};
    this.finishReason = '';
    this.elapsedMs = 0;
  }

  private fail(e: unknown): void {
    this.status = 'error';
    this.error = e instanceof Error ? e.message : String(e);
  }

  async generate(run: GenerateRun): Promise<void> {
    if (this.runId !== null) await this.stop();
    this.generation++;
    this.mode = 'single';
    this.sides = [];
    this.clearOutput();
    this.run = run;
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
        } else if (event.type === 'progress') {
          this.progress = progressLine(event, run.rewardModel);
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
        this.progress = '';
        this.status = 'idle';
      }
    } catch (e) {
      this.runId = null;
      this.fail(e);
    }
  }

  /**
   * A side-by-side run: each side for seeds seed, seed+1, … (its run's seed first), `samples` each,
   * interleaved (seed 0 of every side, then seed 1…) so the columns fill in together. Each side keeps
   * the first sequence a run returns (best-of-N: the chosen one).
   */
  async generateSides(sides: readonly Side[], samples: number): Promise<void> {
    if (this.runId !== null) await this.stop();
    if (!Number.isInteger(samples) || samples < 1 || samples > 64) {
      this.fail(new Error(`samples per side must be an integer from 1 to 64 (got ${samples})`));
      return;
    }
    const mine = ++this.generation;
    this.mode = 'sides';
    this.sideSamples = samples;
    this.sides = sides.map((s) => ({ ...s, samples: [] }));
    this.clearOutput();
    this.run = sides[0]?.run ?? null;
    this.stopped = false;
    this.status = 'loading';
    try {
      const ids = new Set(sides.map((s) => s.run.policy));
      for (const id of ids) await this.client.load(id);
      this.status = 'running';
      const t0 = performance.now();
      let steps = 0;
      outer: for (let i = 0; i < samples; i++) {
        for (let k = 0; k < sides.length; k++) {
          if (this.stopped || this.generation !== mine) break outer;
          const side = sides[k] as Side;
          const seed = (side.run.spec.config.seed ?? 0) + i;
          const run: GenerateRun = { ...side.run, spec: { ...side.run.spec, config: { ...side.run.spec.config, seed } } };
          this.progress = `${side.label}: sample ${i + 1} of ${samples} (seed ${seed})`;
          let done: ShownSequence | null = null;
          const handle = this.client.generate(run, ({ event, texts }) => {
            if (handle.id !== this.runId) return;
            if (event.type === 'step') {
              steps++;
              this.tokensPerSecond = steps / ((performance.now() - t0) / 1000);
            } else if (event.type === 'progress') this.progress = `${side.label}: sample ${i + 1} of ${samples} (seed ${seed}). ${progressLine(event, run.rewardModel)}`;
            else if (event.type === 'done' && event.sequences[0]) done = { result: event.sequences[0], text: texts[0] ?? '' };
          });
          this.runId = handle.id;
          await handle.done;
          const got = done as ShownSequence | null;
          if (this.generation !== mine) return; // a newer run took over the view
          if (!got || got.result.finishReason === 'aborted') continue;
          const sample: SideSample = { seed, text: got.text, result: got.result, positivity: positivity(got.text), conciseness: conciseness(got.text), hack: findRewardHack(got.text) };
          this.sides = this.sides.map((s, j) => (j === k ? { ...s, samples: [...s.samples, sample] } : s));
        }
      }
      if (this.generation !== mine) return;
      this.elapsedMs = performance.now() - t0;
      this.finishReason = this.stopped ? 'aborted' : 'done';
      this.progress = '';
      this.runId = null;
      this.status = 'idle';
    } catch (e) {
      if (this.generation !== mine) return;
      this.runId = null;
      this.fail(e);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.runId === null) return;
    await this.client.cancel(this.runId);
  }
}
