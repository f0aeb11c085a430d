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

  it('answers bad input with an error naming the problem (validated before any model runs)', async () => {
    const { handler, out } = setup();
    await handler.handle({ id: 3, type: 'generate', run: { policy: 'm', prompt: '', spec: { strategy: 'greedy', config: { max_new_tokens: 5 } } } });
    expect(out[0]).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/the prompt is empty/) } });
    await handler.handle({ id: 4, type: 'generate', run: { policy: 'm', prompt: 'ab', spec: { strategy: 'greedy', config: { max_new_tokens: 100 } } } });
    expect(out[1]).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/exceeds the context of 64 tokens/) } });
    await handler.handle({ id: 5, type: 'load', modelId: 'missing' });
    expect(out[2]).toMatchObject({ id: 5, type: 'error', error: { message: 'tokenizer files not found for missing' } });
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
