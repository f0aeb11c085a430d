/**
 * What a loaded hub preset (src/core/hub/presets.ts) does to the run form: the models in their
 * roles, the strategy and the fields it sets, so that one click on Generate runs what it teaches.
 */
import type { HubPreset } from '../core/hub/presets.ts';
import type { RunForm } from './runForm.svelte.ts';

/** Sets the form for `preset`; returns the labels of the fields it set (for the page to list). */
export function applyHubPreset(form: RunForm, preset: HubPreset): string[] {
  const byRole = (r: string) => preset.models.find((m) => m.role === r)?.id;
  const set: string[] = [];
  const me = form as unknown as Record<string, unknown>;
  const put = (field: string, value: unknown) => {
    if (value === undefined) return;
    me[field] = value;
    set.push(field);
  };
  put('policy', byRole('policy'));
  put('strategy', preset.strategy);
  put('tuned', byRole('tuned'));
  put('ref', byRole('ref'));
  put('rewardModel', byRole('reward'));
  if (!byRole('reward')) put('rewardLabel', '');
  for (const [k, v] of Object.entries(preset.form)) if (k in me) put(k, v);
  // Not one of the Generate view's own presets: the preset menu shows "custom".
  form.preset = '';
  form.presetChanges = [];
  return set;
}

/** The device facts presetFit needs, read from the browser (tests pass their own). */
export interface DeviceFacts {
  /** navigator.deviceMemory, null where the browser does not expose it. */
  readonly deviceMemoryGb: number | null;
  /** Whether the WebGPU adapter has `shader-f16`; null when unknown or not on WebGPU. */
  readonly hasShaderF16: boolean | null;
}
