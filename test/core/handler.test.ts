import { describe, expect, it } from 'vitest';
import { Handler, type Backend } from '../../src/inference/handler.ts';
import type { Response } from '../../src/inference/protocol.ts';
import { TableModel, letterTokenizer } from '../support/fakeModel.ts';

const L3 = Math.log(3);
const table = [
  [0, 0, 0, 0],
  [0, 0, L3, 0],
  [0, 0, 0, L3],
  [L3, 0, 0, 0],
];

function setup(opts: { gpu?: boolean } = {}) {
  const out: Response[] = [];
  let loads = 0;
  const backend: Backend = {
    async selectDevice(choice) {
      if (choice === 'webgpu' && !opts.gpu) throw new Error('WebGPU was requested but no adapter. Choose WASM instead.');
      return opts.gpu && choice !== 'wasm'
        ? { device: 'webgpu', reason: 'adapter', threads: 1, crossOriginIsolated: false }
        : { device: 'wasm', reason: 'WASM fallback: no adapter', threads: 1, crossOriginIsolated: false };
    },
    async loadLanguageModel(id) {
      loads++;
      if (id === 'missing') throw new Error('tokenizer files not found for missing');
      return { model: new TableModel(table), tokenizer: letterTokenizer(4) };
    },
    async loadSequenceRewardModel() {
      throw new Error('no reward models here');
    },
    async fetch(): Promise<globalThis.Response> {
      throw new Error('no network in tests');
    },
  };
  return { handler: new Handler(backend, (r) => out.push(r)), out, loads: () => loads };
}

describe('worker request handler', () => {
  it('falls back to WASM with the reason, and refuses an explicit WebGPU request without an adapter', async () => {
    const { handler, out } = setup();
    await handler.handle({ id: 1, type: 'init', device: 'auto' });
    expect(out[0]).toMatchObject({ id: 1, type: 'ready', device: 'wasm', reason: 'WASM fallback: no adapter' });
    await handler.handle({ id: 2, type: 'init', device: 'webgpu' });
    expect(out[1]).toMatchObject({ id: 2, type: 'error', error: { name: 'Error', message: expect.stringMatching(/Choose WASM/) } });
  });

  it('streams token events with their text, then a result, and loads each model once', async () => {
    const { handler, out, loads } = setup();
    await handler.handle({ id: 1, type: 'load', modelId: 'm' });
    await handler.handle({ id: 2, type: 'generate', run: { policy: 'm', prompt: 'a', spec: { strategy: 'greedy', config: { max_new_tokens: 5 } } } });
    const mine = out.filter((r) => r.id === 2);
    const texts = mine.flatMap((r) => (r.type === 'event' && r.data.event.type === 'step' ? r.data.texts : []));
    expect(texts).toEqual(['b', 'c', '<eos>']);
    expect(mine.at(-1)).toEqual({ id: 2, type: 'result', value: null });
    expect(loads()).toBe(1);
  });

  it("passes a loaded LM's generation_config.json to the page (its sampling defaults), and none when it has none", async () => {
    const { handler, out } = setup();
    const file = { eos_token_id: [3, 2], do_sample: true, temperature: 0.7 };
    (handler as unknown as { backend: Backend }).backend.loadLanguageModel = async () => {
      const model = Object.assign(new TableModel(table), { generationDefaults: file });
      return { model, tokenizer: letterTokenizer(4) };
    };
    await handler.handle({ id: 1, type: 'load', modelId: 'qwen-like' });
    expect(out.at(-1)).toMatchObject({ id: 1, type: 'loaded', model: { id: 'qwen-like', generationDefaults: file } });
    const plain = setup();
    await plain.handler.handle({ id: 2, type: 'load', modelId: 'm' });
    expect(plain.out.at(-1)).toMatchObject({ type: 'loaded' });
    expect((plain.out.at(-1) as { model: object }).model).not.toHaveProperty('generationDefaults');
  });

  it('answers bad input with an error naming the problem (validated before any model runs)', async () => {
    const { handler, out } = setup();
    await handler.handle({ id: 3, type: 'generate', run: { policy: 'm', prompt: '', spec: { strategy: 'greedy', config: { max_new_tokens: 5 } } } });
    expect(out[0]).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/the prompt is empty/) } });
    await handler.handle({ id: 4, type: 'generate', run: { policy: 'm', prompt: 'ab', spec: { strategy: 'greedy', config: { max_new_tokens: 100 } } } });
    expect(out[1]).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/exceeds the context of 64 tokens/) } });
    await handler.handle({ id: 5, type: 'load', modelId: 'missing' });
    expect(out[2]).toMatchObject({ id: 5, type: 'error', error: { message: 'tokenizer files not found for missing' } });
  });

  it('streams progress of best-of-N (sampling: token k of max, candidates finished; then scoring) with no token texts', async () => {
    const { handler, out } = setup();
    const rm = { id: 'rm', vocabSize: 4, contextLength: 64, score: async (b: readonly (readonly number[])[]) => Float32Array.from(b, (x) => x.length), dispose: async () => {} };
    (handler as unknown as { rewardModels: Map<string, Promise<unknown>> }).rewardModels.set('wasm:rm', Promise.resolve(rm));
    await handler.handle({ id: 9, type: 'generate', run: { policy: 'm', prompt: 'a', rewardModel: 'rm', spec: { strategy: 'best_of_n', n: 4, config: { max_new_tokens: 2, seed: 1 } } } });
    const events = out.filter((r) => r.id === 9 && r.type === 'event').map((r) => (r.type === 'event' ? r.data : null)!);
    const progress = events.filter((e) => e.event.type === 'progress');
    expect(progress.every((e) => e.texts.length === 0)).toBe(true);
    expect(progress.map((e) => e.event)).toEqual([
      { type: 'progress', phase: 'sampling', done: expect.any(Number), total: 4, step: 1, maxSteps: 2 },
      { type: 'progress', phase: 'sampling', done: 4, total: 4, step: 2, maxSteps: 2 },
      { type: 'progress', phase: 'scoring', done: 0, total: 4 },
      { type: 'progress', phase: 'scoring', done: 4, total: 4 },
    ]);
    // Progress comes before the done event, which still lists the candidates with their rewards.
    const done = events.at(-1)!.event;
    expect(done.type === 'done' && done.sequences.length).toBe(4);
  });

  it('cancels a running generation', async () => {
    const { handler, out } = setup();
    const loop = new TableModel([
      [0, 1],
      [0, 1],
    ]);
    (handler as unknown as { models: Map<string, Promise<unknown>> }).models.set('wasm:loop', Promise.resolve({ model: loop, tokenizer: letterTokenizer(2) }));
    const gen = handler.handle({ id: 7, type: 'generate', run: { policy: 'loop', prompt: 'a', spec: { strategy: 'greedy', config: { max_new_tokens: 60 } } } });
    await new Promise((r) => setTimeout(r, 0));
    await handler.handle({ id: 8, type: 'cancel', target: 7 });
    await gen;
    const done = out.find((r) => r.id === 7 && r.type === 'event' && r.data.event.type === 'done');
    expect(done?.type === 'event' && done.data.event.type === 'done' && done.data.event.sequences[0]?.finishReason).toBe('aborted');
  });
});

/**
 * Issue 7, faults on WebGPU, with a fake backend whose device can run out of memory or be lost:
 * a load that does not fit falls back to WASM with a notice; a lost device fails the running request
 * with a clear message, reloads its models on WASM and moves every later request to WASM.
 */
describe('worker request handler: WebGPU faults', () => {
  // A model that loops on token 1 (never EOS), so a run lasts max_new_tokens steps.
  const loopTable = [
    [0, 1],
    [0, 1],
  ];

  function gpuSetup(opts: { oomOnLoad?: string[]; oomOnStep?: boolean; lostErrorOnStep?: boolean } = {}) {
    const out: Response[] = [];
    const loads: string[] = [];
    let loseDevice: (reason: string) => void = () => {};
    let lost: Promise<string> | undefined;
    const gone = { value: false };
    const backend: Backend = {
      async selectDevice(choice) {
        return choice === 'wasm' ? { device: 'wasm', reason: 'chosen', threads: 1, crossOriginIsolated: false } : { device: 'webgpu', reason: 'adapter', threads: 1, crossOriginIsolated: false };
      },
      async loadLanguageModel(id, device) {
        loads.push(`${device}:${id}`);
        if (device === 'webgpu' && opts.oomOnLoad?.includes(id)) throw new Error('Failed to allocate a buffer of size 4294967296 on the GPU');
        lost ??= new Promise<string>((r) => (loseDevice = r));
        const model = new TableModel(loopTable);
        if (device === 'webgpu') {
          const step = model.step.bind(model);
          model.step = async (c, n) => {
            if (opts.oomOnStep) throw new Error('WebGPU: out of memory while allocating the KV cache');
            if (opts.lostErrorOnStep && gone.value) throw new Error('Device is lost');
            return step(c, n);
          };
        }
        return { model, tokenizer: letterTokenizer(2) };
      },
      async loadSequenceRewardModel() {
        throw new Error('no reward models here');
      },
      async fetch(): Promise<globalThis.Response> {
        throw new Error('no network in tests');
      },
      deviceLost: () => lost,
      async debug(action) {
        if (action === 'lose-device') {
          gone.value = true;
          loseDevice('destroyed: Device was destroyed.');
          return 'destroyed';
        }
        return { caches: 0, gpuBuffers: 0 };
      },
    };
    const handler = new Handler(backend, (r) => out.push(r));
    return { handler, out, loads, gone, loseDevice: (reason: string) => loseDevice(reason) };
  }

  const run = (n: number) => ({ policy: 'm', prompt: 'a', spec: { strategy: 'greedy' as const, config: { max_new_tokens: n } } });
  const events = (out: Response[], id: number) => out.filter((r) => r.id === id && r.type === 'event').length;
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 0));
    expect(cond()).toBe(true);
  };

  it('loads a model that does not fit in GPU memory on WASM, and says so', async () => {
    const { handler, out, loads } = gpuSetup({ oomOnLoad: ['big'] });
    await handler.handle({ id: 1, type: 'init', device: 'auto' });
    await handler.handle({ id: 2, type: 'load', modelId: 'big' });
    expect(loads).toEqual(['webgpu:big', 'wasm:big']);
    const loaded = out.find((r) => r.id === 2);
    expect(loaded).toMatchObject({ type: 'loaded', notice: expect.stringMatching(/^big did not fit in GPU memory \(Failed to allocate .*\); it was loaded on WASM instead/) });
    expect(out.find((r) => r.type === 'notice')).toMatchObject({ id: 0, message: expect.stringMatching(/big did not fit in GPU memory/) });
    // other models stay on WebGPU; the big one is not tried on the GPU again
    await handler.handle({ id: 3, type: 'load', modelId: 'small' });
    expect(out.find((r) => r.id === 3)).not.toHaveProperty('notice');
    await handler.handle({ id: 4, type: 'generate', run: { ...run(3), policy: 'big', arms: ['small'], spec: { strategy: 'genarm', config: { max_new_tokens: 3 } } } });
    expect(out.filter((r) => r.id === 4).at(-1)).toEqual({ id: 4, type: 'result', value: null });
    expect(loads).toEqual(['webgpu:big', 'wasm:big', 'webgpu:small']);
  });

  it('fails a run that loses the WebGPU device mid-run with a clear message, then runs on WASM', async () => {
    const { handler, out, loads } = gpuSetup();
    await handler.handle({ id: 1, type: 'init', device: 'webgpu' });
    const gen = handler.handle({ id: 2, type: 'generate', run: run(60) });
    await until(() => events(out, 2) >= 3);
    await handler.handle({ id: 3, type: 'debug', action: 'lose-device' });
    await gen;
    const n = events(out, 2);
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThan(60); // stopped mid-run, not finished
    const err = out.find((r) => r.id === 2 && r.type === 'error');
    expect(err).toMatchObject({ error: { name: 'DeviceLostError', message: 'The GPU device was lost (destroyed: Device was destroyed.). The models were reloaded on WASM; run again.' } });
    // the page is told the device changed (id 0: no request asked), before the error
    const dev = out.findIndex((r) => r.type === 'device');
    expect(out[dev]).toMatchObject({ id: 0, type: 'device', device: 'wasm', reason: expect.stringMatching(/^WASM fallback: the GPU device was lost/) });
    expect(dev).toBeLessThan(out.indexOf(err!));
    expect(loads).toEqual(['webgpu:m', 'wasm:m']); // reloaded before the message said so
    await handler.handle({ id: 4, type: 'generate', run: run(5) });
    expect(events(out, 4)).toBe(6); // 5 steps + done
    expect(out.filter((r) => r.id === 4).at(-1)).toEqual({ id: 4, type: 'result', value: null });
    expect(loads).toEqual(['webgpu:m', 'wasm:m']);
    // a later init in this worker cannot go back to the lost device
    await handler.handle({ id: 5, type: 'init', device: 'auto' });
    expect(out.find((r) => r.id === 5)).toMatchObject({ type: 'ready', device: 'wasm', reason: expect.stringMatching(/GPU device was lost/) });
  });

  it('treats a "Device is lost" error from ORT like a lost device, even before the lost promise settles', async () => {
    const { handler, out, loads, gone } = gpuSetup({ lostErrorOnStep: true });
    await handler.handle({ id: 1, type: 'init', device: 'webgpu' });
    const gen = handler.handle({ id: 2, type: 'generate', run: run(60) });
    await until(() => events(out, 2) >= 2);
    gone.value = true; // the device is gone but its lost promise has not resolved yet
    await gen;
    expect(out.find((r) => r.id === 2 && r.type === 'error')).toMatchObject({ error: { message: 'The GPU device was lost (Device is lost). The models were reloaded on WASM; run again.' } });
    expect(out.find((r) => r.type === 'device')).toMatchObject({ device: 'wasm' });
    expect(loads).toEqual(['webgpu:m', 'wasm:m']);
  });

  it('reloads the models of a run that ran out of GPU memory on WASM and says to run again', async () => {
    const { handler, out, loads } = gpuSetup({ oomOnStep: true });
    await handler.handle({ id: 1, type: 'init', device: 'webgpu' });
    await handler.handle({ id: 2, type: 'generate', run: run(5) });
    expect(out.find((r) => r.id === 2 && r.type === 'error')).toMatchObject({
      error: { message: 'The GPU ran out of memory (WebGPU: out of memory while allocating the KV cache). The models were reloaded on WASM; run again.' },
    });
    expect(loads).toEqual(['webgpu:m', 'wasm:m']);
    await handler.handle({ id: 3, type: 'generate', run: run(5) });
    expect(out.filter((r) => r.id === 3).at(-1)).toEqual({ id: 3, type: 'result', value: null });
    expect(out.some((r) => r.type === 'device')).toBe(false); // the device itself is fine
  });

  it('answers debug requests through the backend, and refuses them where the backend has none', async () => {
    const { handler, out } = gpuSetup();
    await handler.handle({ id: 1, type: 'debug', action: 'resources' });
    expect(out[0]).toEqual({ id: 1, type: 'result', value: { caches: 0, gpuBuffers: 0 } });
    const plain = setup();
    await plain.handler.handle({ id: 2, type: 'debug', action: 'resources' });
    expect(plain.out[0]).toMatchObject({ id: 2, type: 'error', error: { message: 'This backend has no debug actions.' } });
  });
});

describe('device choice (Auto never picks a software adapter)', () => {
  it('Auto takes WASM on a fallback adapter and says why; an explicit WebGPU choice still uses it', async () => {
    const { chooseDevice, isFallbackAdapter } = await import('../../src/inference/compat.ts');
    const swiftshader = { info: { isFallbackAdapter: true, vendor: 'google', architecture: 'swiftshader', description: '' } };
    expect(isFallbackAdapter(swiftshader)).toBe(true);
    expect(isFallbackAdapter({ isFallbackAdapter: true })).toBe(true); // the pre-2024 attribute
    const auto = chooseDevice('auto', swiftshader, '');
    expect(auto.device).toBe('wasm');
    expect(auto.reason).toMatch(/software fallback \(google swiftshader\).*slower than WASM/);
    const explicit = chooseDevice('webgpu', swiftshader, '');
    expect(explicit.device).toBe('webgpu');
    expect(explicit.reason).toMatch(/software fallback adapter/);
    const hw = { info: { isFallbackAdapter: false, vendor: 'nvidia', architecture: 'hopper' } };
    expect(chooseDevice('auto', hw, '')).toEqual({ device: 'webgpu', reason: 'a hardware WebGPU adapter is available (nvidia hopper)' });
    expect(chooseDevice('wasm', hw, '').device).toBe('wasm');
    expect(chooseDevice('auto', null, 'this browser has no WebGPU')).toEqual({ device: 'wasm', reason: 'WASM fallback: this browser has no WebGPU' });
    expect(() => chooseDevice('webgpu', null, 'no adapter')).toThrow(/WebGPU was requested but no adapter\. Choose WASM instead\./);
  });
});
