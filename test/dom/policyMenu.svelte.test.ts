/** The Policy menu's role groups and the note for a non-policy model (src/lib/policyMenu.ts), on the real manifest. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/lib/manifest.ts';
import { fromManifest } from '../../src/lib/models.svelte.ts';
import { policyGroups, policyNote } from '../../src/lib/policyMenu.ts';

const manifest = JSON.parse(readFileSync(path.join(process.cwd(), 'models/manifest.json'), 'utf8')) as Manifest;

describe('policy menu', () => {
  const lms = manifest.models.map(fromManifest).filter((m) => m.kind === 'causal-lm');
  it('groups the bundled language models by role, policies first, each model once', () => {
    const groups = policyGroups(lms);
    expect(groups.map((g) => g.label)).toEqual(['Policies (base language models)', 'DPO-tuned models', 'ARMs (token-level reward models)']);
    expect(groups[0]!.models.map((m) => m.id)).toEqual(['tiny-base']);
    expect(groups[2]!.models.map((m) => m.id).sort()).toEqual(['tiny-arm-concise', 'tiny-arm-positive']);
    expect(groups.flatMap((g) => g.models).length).toBe(lms.length);
    const added = { id: 'local/x', origin: 'local' as const, role: undefined };
    expect(policyGroups([...lms, added]).at(-1)).toEqual({ label: 'Added this session', models: [added] });
  });
  it('notes when an ARM or a DPO model is the policy, and not for the base', () => {
    const byId = (id: string) => lms.find((m) => m.id === id);
    expect(policyNote(byId('tiny-base'))).toBe('');
    expect(policyNote(byId('tiny-arm-positive'))).toMatch(/^tiny-arm-positive is an ARM/);
    expect(policyNote(byId('tiny-dpo-positive'))).toMatch(/DPO-tuned/);
    expect(policyNote(undefined)).toBe('');
  });
});
