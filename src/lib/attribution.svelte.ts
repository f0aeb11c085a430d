/**
 * Token attribution of a generated sequence under a sequence reward model (issue 14 item 2), for the
 * generate view: which loaded reward model, its label or head mix, which sequence; the worker's
 * `attribute` request scores every prefix (a_t = RM(x ⊕ y≤t) − RM(x ⊕ y<t)) and the answer is kept
 * with the run it belongs to, so a new run never shows an old strip.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { GenerateRun, TokenAttribution } from '../inference/protocol.ts';

export interface ShownAttribution extends TokenAttribution {
  /** The run and sequence (index in the run's sequences) it was computed for. */
  readonly run: GenerateRun;
  readonly sequence: number;
}

/** The reward models the control offers: the run's own (the worker loaded it) first, then those loaded in the Models view. */
export function attributionChoices(run: GenerateRun | null, loaded: readonly string[]): string[] {
  return [...new Set([...(run?.rewardModel ? [run.rewardModel] : []), ...loaded])];
}

export class AttributionState {
  /** The chosen reward model ('' until one is chosen: the first choice is used). */
  rewardModel = $state('');
  /** Label or head mix of a reward model with several heads ("positivity=1,conciseness=0.5"); '' for a one-output model. */
  rewardLabel = $state('');
  /** Index of the chosen sequence in the run's sequences. */
  sequence = $state(0);
  running = $state(false);
  error = $state('');
  result = $state.raw<ShownAttribution | null>(null);
  private pending: number | null = null;

  constructor(private readonly client: InferenceClient) {}

  /** The reward model to use among `choices`: the chosen one while it is offered, else the first. */
  pick(choices: readonly string[]): string {
    return choices.includes(this.rewardModel) ? this.rewardModel : (choices[0] ?? '');
  }

  /** The label field's starting value: the run's own label when its reward model is the one chosen. */
  labelFor(run: GenerateRun | null, rewardModel: string): string {
    return run?.rewardModel === rewardModel ? (run.rewardLabel ?? '') : '';
  }

  /** Attributes sequence `index` of `run` (its generated ids `responseIds`) to its tokens under `rewardModel`. */
  async attribute(run: GenerateRun | null, responseIds: readonly number[] | undefined, index: number, rewardModel: string): Promise<void> {
    this.error = '';
    if (!run) return void (this.error = 'Generate first: token attribution scores a generated sequence.');
    if (!rewardModel)
      return void (this.error = 'No sequence reward model is loaded: load one (e.g. tiny-rm-positive) in the Models view, or run best-of-N, rejection sampling, ARGS or reward-guided beams with one, then attribute.');
    if (!responseIds || responseIds.length === 0) return void (this.error = `Sequence ${index + 1} has no generated tokens to attribute.`);
    const label = this.rewardLabel.trim();
    this.running = true;
    try {
      const h = this.client.attribute({
        policy: run.policy,
        prompt: run.prompt,
        ...(run.addBos === false ? { addBos: false } : {}),
        responseIds: [...responseIds],
        rewardModel,
        ...(label ? { rewardLabel: label } : {}),
      });
      this.pending = h.id;
      const value = await h.done;
      if (this.pending === h.id) this.result = { ...value, run, sequence: index };
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.running = false;
      this.pending = null;
    }
  }
}
