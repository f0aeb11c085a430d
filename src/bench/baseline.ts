/**
 * The reference the bench compares our greedy loop with: transformers.js `generate()` (greedy,
 * exactly `tokens` new tokens) on its own copy of the same model, on the same device. Used by the
 * Node driver (onnxruntime-node) and by the worker's `bench` request (onnxruntime-web), which
 * imports this module dynamically so it stays out of the worker's main chunk.
 */
import { AutoModelForCausalLM, Tensor } from '@huggingface/transformers';
import type { GenerateBaseline } from './suite.ts';

export interface Baseline {
  readonly generate: GenerateBaseline;
  dispose(): Promise<void>;
}

/** Loads `id` (bundled id or folder, resolved by transformers.js's env) for `generate()`. */
export async function loadGenerateBaseline(id: string, device: 'cpu' | 'wasm' | 'webgpu', dtype = 'fp32'): Promise<Baseline> {
  const model = await AutoModelForCausalLM.from_pretrained(id, { device, dtype: dtype as 'fp32' });
  return {
    generate: async (ids, tokens) => {
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const out = (await model.generate({ input_ids, attention_mask, max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false })) as Tensor;
      return (out.dims[1] as number) - ids.length;
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}
