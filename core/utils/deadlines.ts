/**
 * Cheap timeouts for the hot path: one shared timer checks every pending deadline a few times a
 * second, instead of a timer per request. Precision is the tick (100 ms), plenty for timeouts
 * measured in seconds.
 * @module
 */

const TICK_MS = 100;
const pending = new Set<{ at: number; fire: () => void }>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = performance.now();
  for (const entry of pending) {
    if (entry.at <= now) {
      pending.delete(entry);
      entry.fire();
    }
  }
  if (pending.size === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}

/**
 * Calls `fire` once `ms` milliseconds have passed, unless cancelled first.
 * @param ms Delay.
 * @param fire Called on expiry.
 * @returns Cancels the deadline.
 */
export function deadline(ms: number, fire: () => void): () => void {
  const entry = { at: performance.now() + ms, fire };
  pending.add(entry);
  timer ??= setInterval(tick, TICK_MS);
  return () => {
    pending.delete(entry);
    if (pending.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * A span of time shared by several steps (every key tried for one request), measured on the same
 * monotonic clock as the deadlines.
 * @param ms Its length.
 * @returns A function giving the ms left (zero or less once spent).
 * @example
 * ```ts
 * const left = timeBudget(140_000);
 * if (left() > 0) await callWithin(left());
 * ```
 */
export function timeBudget(ms: number): () => number {
  const end = performance.now() + ms;
  return () => end - performance.now();
}
