import { describe, expect, it } from 'vitest';
import { InferenceClient } from '../../src/inference/client.ts';
import type { Request, Response } from '../../src/inference/protocol.ts';

/** A stand-in Worker: records what the page sent and lets the test answer or crash it. */
class FakeWorker {
  onmessage: ((e: { data: Response }) => void) | null = null;
  onerror: ((e: { message: string; preventDefault(): void }) => void) | null = null;
  sent: Request[] = [];
  terminated = false;
  postMessage(r: Request) {
    this.sent.push(r);
  }
  terminate() {
    this.terminated = true;
  }
  reply(r: Response) {
    this.onmessage?.({ data: r });
  }
  crash(message: string) {
    this.onerror?.({ message, preventDefault() {} });
  }
}

describe('inference client', () => {
  it('matches responses to requests by id, streams events and drops late messages', async () => {
    const workers: FakeWorker[] = [];
    const c = new InferenceClient(() => (workers.push(new FakeWorker()), workers.at(-1) as unknown as Worker));
    const w = workers[0] as FakeWorker;
    const events: unknown[] = [];
    const run = c.generate({ policy: 'm', prompt: 'x', spec: { strategy: 'greedy', config: {} } }, (e) => events.push(e));
    const id = (w.sent[0] as Request).id;
    w.reply({ id, type: 'event', data: { event: { type: 'done', sequences: [] }, texts: [] } });
    w.reply({ id, type: 'result', value: null });
    await run.done;
    w.reply({ id, type: 'event', data: { event: { type: 'done', sequences: [] }, texts: [] } }); // late: ignored
    expect(events).toHaveLength(1);
  });

  it('hands the progress events of a run to its callback, in order, before the done event', async () => {
    const workers: FakeWorker[] = [];
    const c = new InferenceClient(() => (workers.push(new FakeWorker()), workers.at(-1) as unknown as Worker));
    const w = workers[0] as FakeWorker;
    const seen: string[] = [];
    const run = c.generate({ policy: 'm', prompt: 'x', rewardModel: 'rm', spec: { strategy: 'best_of_n', n: 2, config: {} } }, ({ event }) =>
      seen.push(event.type === 'progress' ? `${event.phase} ${event.done}/${event.total}` : event.type),
    );
    const id = (w.sent[0] as Request).id;
    w.reply({ id, type: 'event', data: { event: { type: 'progress', phase: 'sampling', done: 1, total: 2, step: 3, maxSteps: 3 }, texts: [] } });
    w.reply({ id, type: 'event', data: { event: { type: 'progress', phase: 'scoring', done: 2, total: 2 }, texts: [] } });
    w.reply({ id, type: 'event', data: { event: { type: 'done', sequences: [] }, texts: [] } });
    w.reply({ id, type: 'result', value: null });
    await run.done;
    expect(seen).toEqual(['sampling 1/2', 'scoring 2/2', 'done']);
  });

  it('fails pending requests with a clear error when the worker crashes, then restarts and re-initialises it', async () => {
    const workers: FakeWorker[] = [];
    const c = new InferenceClient(() => (workers.push(new FakeWorker()), workers.at(-1) as unknown as Worker));
    const restarted: string[] = [];
    c.onRestart = (m) => restarted.push(m);
    const first = workers[0] as FakeWorker;
    const ready = c.init('wasm');
    first.reply({ id: (first.sent[0] as Request).id, type: 'ready', device: 'wasm', reason: 'r', threads: 1, crossOriginIsolated: false });
    await ready;
    const pending = c.load('tiny-base');
    first.crash('out of memory');
    await expect(pending).rejects.toThrow('The inference worker crashed (out of memory); a new one was started. Run again.');
    expect(first.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect((workers[1] as FakeWorker).sent[0]).toMatchObject({ type: 'init', device: 'wasm' });
    expect(restarted).toHaveLength(1);
    expect(c.restarts).toBe(1);
  });
});
