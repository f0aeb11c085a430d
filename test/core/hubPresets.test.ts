/**
 * Hub presets (src/core/hub/presets.ts): the curated list's invariants (valid ids, one tokenizer
 * for the token-level roles, the roles its strategy needs, a size for every dtype it offers) and
 * the pure decision whether a device can load a choice (presetFit / variantFit), on hand-made cases.
 */
import { describe, expect, it } from 'vitest';
import { FP16_DTYPES, HUB_PRESETS, WASM_WEIGHT_BUDGET, formatBytes, largestFile, presetFiles, presetFit, variantBytes, variantFit, type FitInput } from '../../src/core/hub/presets.ts';
import { STRATEGIES } from '../../src/core/search/strategy.ts';
import { hubIdProblem, onnxFileFor } from '../../src/inference/sources.ts';

/** The roles each strategy needs besides the policy. */
const NEEDS: Partial<Record<string, readonly string[]>> = { implicit: ['tuned', 'ref'], best_of_n: ['reward'], rejection: ['reward'], args: ['reward'] };

describe('the curated list', () => {
  it('has 4–6 presets with unique keys and names', () => {
    expect(HUB_PRESETS.length).toBeGreaterThanOrEqual(4);
    expect(HUB_PRESETS.length).toBeLessThanOrEqual(6);
    expect(new Set(HUB_PRESETS.map((p) => p.key)).size).toBe(HUB_PRESETS.length);
    expect(new Set(HUB_PRESETS.map((p) => p.name)).size).toBe(HUB_PRESETS.length);
  });

  for (const p of HUB_PRESETS) {
    describe(p.key, () => {
      it('every id is a valid Hugging Face id (hubIdProblem) and not a local one', () => {
        for (const m of p.models) expect([m.id, hubIdProblem(m.id)]).toEqual([m.id, null]);
      });

      it('says which strategy and view it sets up, and has exactly the roles that strategy needs', () => {
        expect(STRATEGIES).toContain(p.strategy);
        expect(p.view).toBe('generate');
        expect(p.teaches.length).toBeGreaterThan(40);
        const roles = p.models.map((m) => m.role).sort();
        expect(roles).toEqual(['policy', ...(NEEDS[p.strategy] ?? [])].sort());
        expect(new Set(p.models.map((m) => m.id)).size).toBe(p.models.length);
        if (p.models.some((m) => m.role === 'reward')) expect(p.form.rewardLabel).toMatch(/^[A-Z]+(-[A-Z]+)?$/);
      });

      it('its token-level models share one tokenizer family; only a sequence reward model (re-tokenized) may differ', () => {
        const policy = p.models.find((m) => m.role === 'policy');
        expect(policy?.kind).toBe('causal-lm');
        for (const m of p.models) {
          if (m.role === 'reward') {
            expect(m.kind).toBe('sequence-classifier');
            expect(['best_of_n', 'rejection', 'args']).toContain(p.strategy); // the strategies that re-tokenize for a reward model
          } else {
            expect([m.id, m.kind, m.tokenizer]).toEqual([m.id, 'causal-lm', policy?.tokenizer]);
          }
        }
      });

      it('every variant gives every model a dtype with a listed size, a licence and a size source', () => {
        expect(p.variants.length).toBeGreaterThan(0);
        for (const v of p.variants) {
          expect(Object.keys(v.dtypes).sort()).toEqual(p.models.map((m) => m.id).sort());
          for (const m of p.models) {
            const d = v.dtypes[m.id] as string;
            expect([m.id, d, m.onnxBytes[d]! > 1e6]).toEqual([m.id, d, true]);
            expect(m.license).toMatch(/^(Apache-2\.0|MIT)$/);
            expect(m.sizeSource.length).toBeGreaterThan(10);
          }
          const total = variantBytes(p, v);
          expect(Number.isFinite(total)).toBe(true);
          expect(total).toBeGreaterThan(largestFile(p, v));
        }
      });

      it('names the files transformers.js reads, as the worker does (onnxFileFor)', () => {
        for (const v of p.variants) for (const m of p.models) expect(presetFiles(m, v.dtypes[m.id] as string)).toContain(onnxFileFor(v.dtypes[m.id] as string));
      });
    });
  }

  it('sizes by hand: SmolLM q8 is 363 + 136 + 136 MB of ONNX plus 3 × 2.2 MB of tokenizer and configs', () => {
    const p = HUB_PRESETS.find((x) => x.key === 'smollm-eft')!;
    expect(variantBytes(p, p.variants[0]!)).toBeCloseTo(635e6 + 6.6e6, -3);
    expect(formatBytes(variantBytes(p, p.variants[0]!))).toBe('642 MB');
    expect(formatBytes(2.5e9)).toBe('2.5 GB');
    expect(formatBytes(750_000)).toBe('750.0 kB');
  });
});

describe('presetFit', () => {
  const base: FitInput = { sizeBytes: 700e6, largestFileBytes: 400e6, dtypes: ['q8'], device: 'wasm', deviceMemoryGb: 8, hasShaderF16: null };

  it('fits a small choice and says so', () => {
    expect(presetFit(base)).toEqual({ ok: true, note: '≈ 700 MB fits WASM.' });
    expect(presetFit({ ...base, deviceMemoryGb: null, device: 'webgpu' })).toEqual({ ok: true, note: '≈ 700 MB fits WebGPU; this browser does not say how much memory the device has.' });
  });

  it('refuses fp16 and q4f16 on WebGPU without shader-f16, and only there', () => {
    for (const d of FP16_DTYPES) {
      const r = presetFit({ ...base, dtypes: ['q8', d], device: 'webgpu', hasShaderF16: false });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toBe(
        `This choice uses ${d} weights, which WebGPU can run only where the GPU offers the shader-f16 feature, and this one does not: pick q8, q4 or fp32, or switch the device to WASM above (it runs fp16 on the CPU, more slowly).`,
      );
    }
    expect(presetFit({ ...base, dtypes: ['fp16'], device: 'webgpu', hasShaderF16: true }).ok).toBe(true);
    expect(presetFit({ ...base, dtypes: ['fp16'], device: 'webgpu', hasShaderF16: null }).ok).toBe(true); // unknown: not refused
    expect(presetFit({ ...base, dtypes: ['fp16'], device: 'wasm', hasShaderF16: false }).ok).toBe(true);
    expect(presetFit({ ...base, dtypes: ['q8', 'fp32', 'q4'], device: 'webgpu', hasShaderF16: false }).ok).toBe(true);
  });

  it('refuses more weights than WASM holds, at the budget exactly', () => {
    expect(presetFit({ ...base, sizeBytes: WASM_WEIGHT_BUDGET }).ok).toBe(true);
    const r = presetFit({ ...base, sizeBytes: WASM_WEIGHT_BUDGET + 1 });
    expect(!r.ok && r.message).toMatch(/^This choice needs ≈ 3\.0 GB of weights in WebAssembly memory, which is limited to 4 GB per page .*pick a smaller dtype, or use WebGPU/);
    expect(presetFit({ ...base, sizeBytes: 3.5e9, device: 'webgpu' }).ok).toBe(true);
  });

  it('refuses a single ONNX file over 2 GB', () => {
    const r = presetFit({ ...base, device: 'webgpu', sizeBytes: 2.5e9, largestFileBytes: 2.2e9 });
    expect(!r.ok && r.message).toMatch(/^One ONNX file of this choice is 2\.2 GB, more than the 2 GB/);
  });

  it('refuses when navigator.deviceMemory is under 8 GB and the weights exceed half of it', () => {
    expect(presetFit({ ...base, deviceMemoryGb: 2, sizeBytes: 1e9 }).ok).toBe(true);
    const r = presetFit({ ...base, deviceMemoryGb: 2, sizeBytes: 1e9 + 1 });
    expect(!r.ok && r.message).toMatch(/^This device reports about 2 GB of memory \(navigator\.deviceMemory\) and this choice needs ≈ 1\.0 GB/);
    expect(presetFit({ ...base, deviceMemoryGb: 8, sizeBytes: 2.9e9 }).ok).toBe(true); // 8 means "8 or more"
  });

  it('variantFit names the choices of the preset that would fit', () => {
    const qwen = HUB_PRESETS.find((x) => x.key === 'qwen-eft')!;
    const q4f16 = qwen.variants.find((v) => v.name === 'q4f16')!;
    const r = variantFit(qwen, q4f16, { device: 'webgpu', deviceMemoryGb: null, hasShaderF16: false });
    expect(!r.ok && r.message).toMatch(/shader-f16.* Choices of this preset that fit: q8 \(≈ 2\.6 GB\), q4 \(≈ 3\.4 GB\)\.$/);
    const wasm = variantFit(qwen, q4f16, { device: 'wasm', deviceMemoryGb: 8, hasShaderF16: null });
    expect(wasm.ok).toBe(true);
    const q4 = variantFit(qwen, qwen.variants.find((v) => v.name === 'q4')!, { device: 'wasm', deviceMemoryGb: 8, hasShaderF16: null });
    expect(!q4.ok && q4.message).toMatch(/WebAssembly memory.* Choices of this preset that fit: q4f16 \(≈ 2\.2 GB\), q8 \(≈ 2\.6 GB\)\.$/);
  });
});
