/// <reference lib="webworker" />
/**
 * The inference worker: all model calls and decoding happen here; the page only sends requests
 * and draws events. transformers.js is configured for offline use: local models only, served by
 * this site at <base>models/, and the ORT wasm runtime from this site (never a CDN).
 */
import { env } from '@huggingface/transformers';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { Handler, type Backend } from './handler.ts';
import type { Request, Response } from './protocol.ts';
import { liveResources, loadLanguageModel, loadSequenceRewardModel } from './backends/transformers.ts';
import { loseWebgpuDevice, webgpuDeviceLost } from './backends/webgpuDevice.ts';
import { ModelSources } from './sources.ts';
import { chooseDevice, type AdapterLike } from './compat.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = import.meta.env.BASE_URL + 'models/';
// The service worker's precache keeps the models and runtime offline; transformers.js's own Cache API
// copies would duplicate ~65 MB, and its wasm cache imports ORT from a blob: URL, which the CSP
// (public/_headers: script-src 'self') does not allow.
env.useBrowserCache = false;
env.useWasmCache = false;
const wasm = env.backends.onnx.wasm as { wasmPaths?: unknown; numThreads?: number };
wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };
// Every file transformers.js reads goes through this gate (src/inference/sources.ts): bundled files
// from this site, picked folders from their Files (never uploaded), Hugging Face ids only while the
// user loads one (remote models and the Cache API are on for that load alone); anything else that
// would leave the origin is refused.
const sources = new ModelSources({
  localModelPath: env.localModelPath,
  location: self.location.href,
  fetch: (input, init) => fetch(input, init),
  env,
  cacheApi: typeof caches !== 'undefined',
});
env.fetch = sources.fetch;
const threads = self.crossOriginIsolated ? Math.min(4, Math.max(1, navigator.hardwareConcurrency ?? 1)) : 1;
wasm.numThreads = threads;

const backend: Backend = {
  async selectDevice(choice) {
    const isolated = self.crossOriginIsolated;
    if (choice === 'wasm') return { device: 'wasm', reason: 'WASM chosen by the user', threads, crossOriginIsolated: isolated };
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    let adapter: unknown = null;
    let why = 'this browser has no WebGPU (navigator.gpu is missing)';
    if (gpu) {
      try {
        adapter = await gpu.requestAdapter();
        if (!adapter) why = 'WebGPU is present but no GPU adapter is available';
      } catch (e) {
        why = `WebGPU adapter request failed: ${String(e)}`;
      }
    }
    // Auto never picks a software (fallback) adapter such as SwiftShader: compat.ts chooseDevice.
    return { ...chooseDevice(choice, adapter as AdapterLike | null, why), threads, crossOriginIsolated: isolated };
  },
  async loadLanguageModel(id, device, onProgress) {
    const lm = await sources.run(id, onProgress, async () => loadLanguageModel(id, { device, dtype: sources.dtype(id), externalData: await sources.externalDataFiles(id) }));
    return { model: lm, tokenizer: lm.tokenizer };
  },
  loadSequenceRewardModel: (id, device, onProgress) =>
    sources.run(id, onProgress, async () => loadSequenceRewardModel(id, { device, dtype: sources.dtype(id), externalData: await sources.externalDataFiles(id) })),
  register: (source) => sources.register(source),
  setDtype: (id, dtype) => sources.setDtype(id, dtype),
  sourceLabel: (id) => sources.label(id),
  fetch: (path) => fetch(import.meta.env.BASE_URL + 'models/' + path),
  // A lost WebGPU device (issue 7): the handler moves to WASM; `lose-device` simulates it.
  deviceLost: webgpuDeviceLost,
  restartOnDeviceLoss: true,
  debug: async (action) => (action === 'lose-device' ? loseWebgpuDevice() : liveResources()),
  // Only the `bench` request needs it: a separate chunk, fetched then.
  loadGenerateBaseline: async (id, device) => (await import('../bench/baseline.ts')).loadGenerateBaseline(id, device),
};

const handler = new Handler(backend, (r: Response) => self.postMessage(r));
self.onmessage = (e: MessageEvent<Request>) => void handler.handle(e.data);
