/**
 * "Never blocks": while a generation streams tokens into the page, the main thread runs no task over
 * 50 ms. A PerformanceObserver for 'longtask' is installed before any page script, and a 40-token
 * greedy run on WASM from the UI (models already loaded by a first run) is traced meanwhile.
 *
 * The Long Tasks API measures wall time: on a loaded 2-core machine the OS may leave the renderer
 * unscheduled for 100 ms inside a task that computed 1 ms (seen: 155 ms wall, 0.9 ms CPU). So each
 * long task the API reports is checked against the trace's thread time of the main-thread tasks: the
 * test fails when the page itself works more than 50 ms in one task. A deliberate busy loop at the
 * end proves that both the observer and the trace catch a task that really blocks.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mainThreadTasks, TASK_TRACE_CATEGORIES, type MainTask } from '../../src/bench/trace.ts';
import { openSession, type Session } from './browser.ts';

const TOKENS = 40;
/** Greedy runs the full 40 tokens on this prompt (the default prompt reaches EOS after 9). */
const PROMPT = 'In the coming year, the Congress';
const LIMIT_MS = 50;
const DONE = '[data-testid="status"][data-status="idle"][data-finish]:not([data-finish=""])';

interface LongTask {
  start: number;
  duration: number;
}

const longTasks = (s: Session) => s.page.evaluate(() => (window as unknown as { __longtasks: LongTask[] }).__longtasks);

/** Runs `work` under a Chromium trace and returns the main thread's tasks over `minWallMs`. */
async function traced(s: Session, work: () => Promise<void>, minWallMs: number): Promise<MainTask[]> {
  await s.browser.startTracing(s.page, { categories: TASK_TRACE_CATEGORIES });
  const failed = await work().then(
    () => null,
    (e: unknown) => e ?? new Error('traced work failed'),
  );
  const buf = await s.browser.stopTracing();
  if (failed) throw failed;
  return mainThreadTasks(buf.toString('utf8'), minWallMs);
}

describe('the page while generating', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession();
    await s.page.addInitScript(() => {
      const w = window as unknown as { __longtasks: { start: number; duration: number }[] };
      w.__longtasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longtasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
  });
  afterAll(async () => s?.close());

  it(`has no main-thread task over ${LIMIT_MS} ms during a ${TOKENS}-token greedy run on WASM`, async () => {
    const { page } = s;
    await page.goto(`${inject('siteUrl')}?device=wasm&strategy=greedy&max_new_tokens=${TOKENS}&prompt=${encodeURIComponent(PROMPT)}`);
    await page.locator('[data-testid="device"][data-device="wasm"]').waitFor({ timeout: 60_000 });
    // First run: loads the model (its cost is not what this test is about).
    await page.getByTestId('generate').click();
    await page.locator(DONE).waitFor({ timeout: 60_000 });

    let t0 = 0;
    let t1 = 0;
    const tasks = await traced(
      s,
      async () => {
        t0 = await page.evaluate(() => performance.now());
        await page.getByTestId('generate').click();
        await page.locator(DONE).waitFor({ timeout: 60_000 });
        t1 = await page.evaluate(() => performance.now());
      },
      LIMIT_MS,
    );
    const ids = ((await page.getByTestId('output').getAttribute('data-token-ids')) ?? '').split(' ').filter(Boolean);
    expect(ids).toHaveLength(TOKENS); // it really streamed all the tokens

    const long = (await longTasks(s)).filter((t) => t.start + t.duration > t0 && t.start < t1 && t.duration > LIMIT_MS);
    const working = tasks.filter((t) => t.cpuMs > LIMIT_MS);
    const summary = `Long Tasks API during ${(t1 - t0).toFixed(0)} ms of generation: [${long.map((t) => t.duration.toFixed(0)).join(', ')}] ms wall; ` +
      `traced main-thread tasks over ${LIMIT_MS} ms wall: [${tasks.map((t) => `${t.wallMs.toFixed(0)} wall/${t.cpuMs.toFixed(1)} cpu`).join(', ')}]`;
    expect(tasks.every((t) => Number.isFinite(t.cpuMs)), 'the trace has thread times').toBe(true);
    // Every long task the API saw that the page really worked through (CPU > 50 ms) fails the test.
    expect(working, summary).toEqual([]);
    if (long.length) console.warn(`longtasks: ${summary} — scheduling delay on a busy machine, not page work`);

    // Both probes catch a task that really blocks: a 1 s busy loop on the main thread (long enough
    // to get well over 50 ms of CPU even when the machine gives this renderer a small share).
    const busy = await traced(
      s,
      async () => {
        // From a timer, as the page's own work runs (a CDP evaluate is not a RunTask of the page).
        await page.evaluate(
          () =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                const end = performance.now() + 1000;
                let x = 0;
                while (performance.now() < end) x += Math.sqrt(x + 1);
                (window as unknown as { __x: number }).__x = x;
                setTimeout(resolve, 0);
              }, 0),
            ),
        );
      },
      LIMIT_MS,
    );
    expect(busy.some((t) => t.cpuMs > LIMIT_MS), `the busy loop in the trace: ${busy.map((t) => `${t.wallMs.toFixed(0)}/${t.cpuMs.toFixed(0)}`).join(', ')}`).toBe(true);
    await expect.poll(async () => (await longTasks(s)).filter((t) => t.start >= t1 && t.duration >= 900).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect(s.external).toEqual([]);
    expect(s.errors).toEqual([]);
  });
});
