/**
 * The Policy menu grouped by what each model was built for, and the note shown when a model that is
 * not a policy (an ARM, a DPO-tuned model) is picked as the policy.
 */
import type { RegistryModel } from './models.svelte.ts';

type MenuModel = Pick<RegistryModel, 'id' | 'role' | 'origin'>;

const GROUPS: readonly { readonly label: string; readonly has: (m: MenuModel) => boolean }[] = [
  { label: 'Policies (base language models)', has: (m) => m.role === 'policy' },
  { label: 'DPO-tuned models', has: (m) => m.role === 'tuned' },
  { label: 'ARMs (token-level reward models)', has: (m) => m.role === 'arm' },
  { label: 'Added this session', has: (m) => m.role === undefined },
  { label: 'Other', has: (m) => m.role !== undefined && !['policy', 'tuned', 'arm'].includes(m.role) },
];

/** The menu's groups in order, empty ones left out; every model lands in exactly one group. */
export function policyGroups<M extends MenuModel>(models: readonly M[]): { label: string; models: M[] }[] {
  return GROUPS.map((g) => ({ label: g.label, models: models.filter(g.has) })).filter((g) => g.models.length > 0);
}

/** What to tell the user when the chosen policy is not a base policy ('' when it is, or is unknown). */
export function policyNote(m: MenuModel | undefined): string {
  if (!m) return '';
  if (m.role === 'arm')
    return `${m.id} is an ARM, a reward model trained as a language model: it can write text, but it is meant to score tokens. For reward guidance keep tiny-base as the policy and add this ARM under GenARM.`;
  if (m.role === 'tuned')
    return `${m.id} is a DPO-tuned model: decoding from it directly shows what fine-tuning alone does (no guidance at decoding time). Guidance normally starts from the base policy, tiny-base.`;
  return '';
}
