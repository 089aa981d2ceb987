/**
 * Waiting on the wall clock, for tests of processes that run on it (child proxies, the Edge
 * Function, the Worker in workerd): the documented bound after a change, and bursts that must
 * fall in one window of a limit. Tests of a proxy in this process move the harness's injected
 * clock instead.
 * @module
 */

/** The documented bound: a change committed to the store reaches every instance within it, ms. */
export const CHANGE_BOUND_MS = 1000;

/** How long a burst of requests may take at most, ms: generous, for a loaded machine. */
const BURST_MARGIN_MS = 30_000;

/**
 * Waits until the wall clock reaches `at`. The instances under test run on the same clock, so
 * after `sleepUntil(committed + CHANGE_BOUND_MS)` every one of them must see the change, however
 * slowly each request is served.
 * @param at Epoch ms.
 */
export async function sleepUntil(at: number): Promise<void> {
  while (Date.now() < at) {
    await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
  }
}

/**
 * Runs `burst` inside one wall-clock minute, and so inside one Pacific day too, which turns with
 * a minute. When less than `marginMs` is left of the current minute it first waits for the next
 * one; afterwards it checks that the minute did not turn, so a burst slower than the margin
 * fails saying so instead of with a wrong count. For limits counted by processes on the real
 * clock (rpm, rpd, tpd), where the test cannot move their clock.
 * @param burst The requests; every one is admitted before its answer arrives.
 * @param marginMs The longest the burst may take.
 * @returns What `burst` returned.
 */
export async function inOneMinute<T>(
  burst: () => Promise<T>,
  marginMs = BURST_MARGIN_MS,
): Promise<T> {
  if (60_000 - Date.now() % 60_000 < marginMs) {
    await sleepUntil(Math.ceil(Date.now() / 60_000) * 60_000);
  }
  const minute = Math.floor(Date.now() / 60_000);
  const result = await burst();
  const took = Date.now() - minute * 60_000;
  if (Math.floor(Date.now() / 60_000) !== minute) {
    throw new Error(`the burst ran past the end of its minute (${took} ms after it began)`);
  }
  return result;
}

/** Options of {@linkcode pollUntil}. */
export interface PollOptions<T> {
  /** Whether the probed value is what the test waits for. */
  until: (value: T) => boolean;
  /** What is awaited, for the error when it never comes. */
  what: string;
  /** Longest wait, ms: generous, since only a broken process gets near it (default 60 s). */
  timeoutMs?: number;
}

/**
 * Probes, 100 ms apart, until another process has done what it does in the background (written
 * its request logs, ...) and there is no event to await across the process boundary. The budget
 * is generous: a busy machine only makes the wait longer, and only a broken process exhausts it.
 * @param probe Reads the state (through an API, a store).
 * @param options The condition, its description and the budget.
 * @returns The first value that met the condition.
 * @throws When the budget runs out, with the last value seen.
 */
export async function pollUntil<T>(probe: () => Promise<T>, options: PollOptions<T>): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await probe();
    if (options.until(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what}: not after ${options.timeoutMs ?? 60_000} ms (last seen: ${
          JSON.stringify(value)
        })`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
