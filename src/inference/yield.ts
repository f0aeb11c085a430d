/**
 * Lets queued messages (e.g. a cancel request) run between decoding steps. Model calls may resolve
 * through microtasks only, which would starve the worker's message queue. A MessageChannel post is a
 * macrotask without setTimeout's 4 ms clamp.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
