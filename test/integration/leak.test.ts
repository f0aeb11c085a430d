/**
 * Resources (issue 7): 200 consecutive generations on the real models, alternating beam search
 * (4 beams) and GenARM (one ARM), must leave the adapter's live KV caches at their starting count
 * after every run, and the JS heap flat. Node's CPU backend runs all 200 (~40 s on a busy 2-core
 * machine); the WebGPU
 * version of this check (live GPU buffers, fewer runs on SwiftShader) is in test/e2e/faults.test.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import './env.ts';
import { liveResources, loadLanguageModel } from '../../src/inference/backends/transformers.ts';
import { decode, type StrategySpec } from '../../src/core/search/strategy.ts';

/** A real `gc()` even without --expose-gc (V8 flag set at run time; a fresh context exposes it). */
function forceGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('no leaks over 200 generations (Node, CPU)', () => {
  it('beam (4 beams) and GenARM, alternating: live caches back to the start after each run, heap flat', async () => {
    const policy = await loadLanguageModel('tiny-base', { device: 'cpu' });
    const arm = await loadLanguageModel('tiny-arm-positive', { device: 'cpu' });
    const prompt = policy.tokenizer.encode('The state of the Union is');
    const beam: StrategySpec = { strategy: 'beam', config: { num_beams: 4, num_return_sequences: 2, max_new_tokens: 4 } };
    const genarm: StrategySpec = { strategy: 'genarm', config: { max_new_tokens: 4 }, beta: 0.5 };
    const gc = forceGc();
    const t0 = performance.now();
    const start = liveResources();
    const heap: number[] = [];
    const live: number[] = [];
    let tokens = 0;
    for (let i = 0; i < 200; i++) {
      const beamRun = i % 2 === 0;
      const events = decode(beamRun ? beam : genarm, beamRun ? { policy } : { policy, arms: [arm] }, prompt);
      for await (const e of events) if (e.type === 'done') tokens += e.sequences.reduce((n, s) => n + s.tokenIds.length, 0);
      live.push(liveResources().caches - start.caches);
      if (i % 5 === 4) {
        gc(); // every 5th run: a full gc per run would take most of the test's time
        heap.push(process.memoryUsage().heapUsed);
      }
    }
    console.log(`200 runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(tokens).toBeGreaterThan(200 * 3); // the runs really generated
    expect(live.every((n) => n === 0)).toBe(true);
    expect(liveResources().gpuBuffers).toBe(0);
    // Heap after gc (sampled every 5th run): the median of the last 40 runs within 4 MB of the median of runs 20..60 (after
    // warm-up). One leaked cache of a 4-beam run here is ~1 MB (4 layers × K,V × 4 rows × 4 heads ×
    // ~10 positions × 32 × 4 bytes ≈ 80 KB, plus its mask and tensors), so 200 runs leaking one each
    // would add far more than the bound.
    expect(heap).toHaveLength(40);
    const early = median(heap.slice(4, 12));
    const late = median(heap.slice(32));
    const growthMb = (late - early) / 2 ** 20;
    console.log(`heap: runs 20-60 median ${(early / 2 ** 20).toFixed(1)} MB, runs 160-200 median ${(late / 2 ** 20).toFixed(1)} MB, growth ${growthMb.toFixed(2)} MB`);
    expect(growthMb).toBeLessThan(4);
  });

  it('the live-cache count sees a cache that is not disposed (the check can fail)', async () => {
    const policy = await loadLanguageModel('tiny-base', { device: 'cpu' });
    const before = liveResources().caches;
    const { cache } = await policy.prefill([[1, 2, 3]]);
    const sel = await cache.select(Int32Array.from([0, 0]));
    expect(liveResources().caches - before).toBe(2);
    cache.dispose();
    sel.dispose();
    sel.dispose(); // twice is safe and counted once
    expect(liveResources().caches).toBe(before);
  });
});
