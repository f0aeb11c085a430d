/**
 * Main-thread tasks of a Chromium trace (Tracing categories 'toplevel'), with their wall time and
 * their thread (CPU) time. The Long Tasks API reports wall time only, so on a busy machine a task
 * the OS did not schedule looks "long" although the page did almost no work; the trace's thread
 * time tells the two apart (bench/README.md, "Long tasks").
 */

export interface MainTask {
  /** Start, in the trace clock (µs). */
  readonly ts: number;
  /** Wall duration, ms. */
  readonly wallMs: number;
  /** Thread (CPU) time, ms; NaN when the trace has none. */
  readonly cpuMs: number;
}

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

/** The renderer main thread's top-level tasks longer than `minWallMs`. */
export function mainThreadTasks(traceJson: string, minWallMs = 0): MainTask[] {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (mains.length === 0) throw new Error('trace: no CrRendererMain thread (was the page traced with the "toplevel" category?)');
  const isMain = (e: TraceEvent) => mains.some((m) => m.pid === e.pid && m.tid === e.tid);
  // The top-level task is 'ThreadControllerImpl::RunTask' ('toplevel'); 'RunTask' (devtools.timeline)
  // nests inside it with the same span, so it is used only when the other is absent.
  const top = events.filter((e) => e.ph === 'X' && isMain(e) && e.name === 'ThreadControllerImpl::RunTask');
  const tasks = top.length ? top : events.filter((e) => e.ph === 'X' && isMain(e) && e.name === 'RunTask');
  return tasks
    .filter((e) => (e.dur ?? 0) / 1000 > minWallMs)
    .map((e) => ({ ts: e.ts, wallMs: (e.dur ?? 0) / 1000, cpuMs: e.tdur === undefined ? NaN : e.tdur / 1000 }));
}

/** Categories that give RunTask with thread time and little else. */
export const TASK_TRACE_CATEGORIES = ['-*', 'toplevel'];
