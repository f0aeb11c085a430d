/**
 * Tokenizer compatibility between the models of one run. Guidance adds log-probabilities token id by
 * token id, and reward models read the policy's token ids, so every role must use the policy's
 * tokenizer (DESIGN §3). Models are compared by vocabulary size and, when the backend gives one, a
 * digest of the tokenizer (the transformers.js adapter's `TransformersTokenizer.digest`).
 */

export interface TokenizerInfo {
  /** The tokenizer's vocabulary size (largest token id + 1). */
  readonly vocabSize: number;
  /** A digest of vocabulary, merges and added tokens, when the backend computes one. */
  readonly digest?: string;
}

/** What a loaded model tells about its tokenizer (duck-typed: fake test backends have no digest). */
export function tokenizerInfoOf(tokenizer: { vocabSize: number; digest?: unknown } | undefined, fallbackVocab?: number): TokenizerInfo | undefined {
  if (!tokenizer) return fallbackVocab === undefined ? undefined : { vocabSize: fallbackVocab };
  const digest = typeof tokenizer.digest === 'string' ? tokenizer.digest : undefined;
  return { vocabSize: tokenizer.vocabSize, ...(digest ? { digest } : {}) };
}

export interface RoleModel {
  readonly id: string;
  /** "ARM", "tuned model", "reference model", "reward model". */
  readonly role: string;
  /** Where it came from, for the message ("bundled", "local folder", "Hugging Face, …"). */
  readonly source?: string;
  readonly info: TokenizerInfo | undefined;
}

/**
 * The message refusing the first role whose tokenizer differs from the policy's, or null when all
 * match. Models without info are not compared.
 */
export function tokenizerMismatch(policy: { id: string; info: TokenizerInfo | undefined }, others: readonly RoleModel[]): string | null {
  const p = policy.info;
  if (!p) return null;
  for (const o of others) {
    const q = o.info;
    if (!q || o.id === policy.id) continue;
    const differs = q.vocabSize !== p.vocabSize || (p.digest !== undefined && q.digest !== undefined && p.digest !== q.digest);
    if (!differs) continue;
    const sizes = q.vocabSize === p.vocabSize ? `both ${p.vocabSize} tokens, but not the same ones` : `vocabulary ${q.vocabSize} vs ${p.vocabSize}`;
    const where = [o.source, o.role].filter(Boolean).join(', ');
    return (
      `${o.id} (${where}) has a different tokenizer from the policy ${policy.id} (${sizes}): ` +
      `ARMs, tuned/reference models and reward models must share the policy's tokenizer. Choose models made with the policy's tokenizer, or another policy.`
    );
  }
  return null;
}

/** What a WebGPU adapter says about itself (GPUAdapter; `isFallbackAdapter` moved into `info` in 2024). */
export interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { readonly isFallbackAdapter?: boolean; readonly vendor?: string; readonly architecture?: string; readonly description?: string };
}

/** A software (fallback) adapter, e.g. SwiftShader: WebGPU on the CPU, slower than WASM. */
export function isFallbackAdapter(adapter: AdapterLike): boolean {
  return adapter.info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
}

/**
 * The device for a choice, given the adapter `requestAdapter()` gave (null, with `why`, when none).
 * Auto never picks a fallback adapter: WebGPU emulated on the CPU is 3–30× slower than WASM. An
 * explicit WebGPU choice uses whatever adapter there is (the reason says when it is a software one)
 * and fails with `why` when there is none.
 */
export function chooseDevice(choice: 'auto' | 'wasm' | 'webgpu', adapter: AdapterLike | null, why: string): { device: 'wasm' | 'webgpu'; reason: string } {
  if (choice === 'wasm') return { device: 'wasm', reason: 'WASM chosen by the user' };
  if (!adapter) {
    if (choice === 'webgpu') throw new Error(`WebGPU was requested but ${why}. Choose WASM instead.`);
    return { device: 'wasm', reason: `WASM fallback: ${why}` };
  }
  const name = [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') || 'unnamed';
  if (isFallbackAdapter(adapter)) {
    if (choice === 'webgpu') return { device: 'webgpu', reason: `WebGPU chosen by the user, on a software fallback adapter (${name}): expect it to be slower than WASM` };
    return { device: 'wasm', reason: `WASM chosen by Auto: the only WebGPU adapter is a software fallback (${name}), which runs on the CPU and is slower than WASM; choose WebGPU in the Models view to use it anyway` };
  }
  return { device: 'webgpu', reason: choice === 'webgpu' ? `WebGPU chosen by the user (${name})` : `a hardware WebGPU adapter is available (${name})` };
}
