/**
 * How fresh an in-memory view of the store is, and the one probe that makes it fresh again.
 *
 * The proxy answers from a snapshot of keys and tokens. A request that finds the snapshot older
 * than `maxAgeMs` waits for one probe (the store's version; a reload only when it changed) before
 * it is authenticated, so it is never judged against a list the store has already replaced.
 * Concurrent stale requests share that probe, and a snapshot younger than `maxAgeMs` costs
 * nothing: whatever keeps it young (a timer, a request's probe, a change signal calling
 * {@linkcode Freshness.markFresh}) saves every request the round trip.
 *
 * The guarantee: a change committed to the store at time C is seen by every request that starts
 * at C + `maxAgeMs` or later, while the store answers. When it does not (a failed or timed-out
 * probe), requests go on with the snapshot they have for `maxAgeMs`, then one of them probes
 * again: a dead store costs at most one probe per `maxAgeMs`, not one per request.
 * @module
 */

/** Options of {@linkcode createFreshness}. */
export interface FreshnessOptions {
  /** Reads the store's version and reloads the view when it changed; throws when it cannot. */
  probe: () => Promise<void>;
  /** Clock (epoch ms). */
  now: () => number;
  /** Oldest view a request is served from, ms (default 1000). */
  maxAgeMs?: number;
  /** A probe slower than this counts as failed and waiting requests go on, ms (default 5000). */
  timeoutMs?: number;
  /** Reports failed probes. */
  onError?: (error: unknown) => void;
}

/** The freshness of one view and the single-flight probe behind it. */
export interface Freshness {
  /** Epoch ms before which every committed change is in the view (start of the last good probe). */
  readonly checkedAt: number;
  /** Whether the last probe failed. */
  readonly degraded: boolean;
  /**
   * Resolves once the view holds every change committed `maxAgeMs` ago or earlier: at once when
   * it is that fresh, else after one probe shared with concurrent callers. Never rejects.
   * @param maxAgeMs Oldest acceptable view, ms (default: the option).
   */
  ensureFresh(maxAgeMs?: number): Promise<void>;
  /** Probes now, or joins the probe in flight (background timers). Never rejects. */
  check(): Promise<void>;
  /**
   * Records that the view holds every change committed before `at` (a reload that started then,
   * or a change signal saying nothing changed).
   * @param at Epoch ms.
   */
  markFresh(at: number): void;
}

const DONE = Promise.resolve();

/**
 * Creates the freshness gate of one view.
 * @param options The probe, clock, bound and timeout.
 * @returns The gate; the view starts stale until a probe or {@linkcode Freshness.markFresh}.
 * @example
 * ```ts
 * const freshness = createFreshness({ probe: () => registry.sync(), now: Date.now });
 * await freshness.ensureFresh(); // before authenticating a request
 * ```
 */
export function createFreshness(options: FreshnessOptions): Freshness {
  const { now } = options;
  const defaultMaxAge = options.maxAgeMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let checkedAt = -Infinity;
  let failedAt = -Infinity;
  let degraded = false;
  let running: { startedAt: number; done: Promise<boolean> } | null = null;
  let queued: Promise<unknown> | null = null;

  function markFresh(at: number): void {
    if (at > checkedAt) checkedAt = at;
    degraded = false;
  }

  /** Starts a probe; resolves to whether it succeeded. */
  function start(): Promise<boolean> {
    const startedAt = now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The store did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const done: Promise<boolean> = Promise.race([options.probe(), deadline]).then(
      () => {
        markFresh(startedAt);
        return true;
      },
      (error) => {
        failedAt = now();
        degraded = true;
        options.onError?.(error);
        return false;
      },
    ).finally(() => {
      clearTimeout(timer);
      if (running?.done === done) running = null;
    });
    running = { startedAt, done };
    return done;
  }

  /** A probe that starts at `since` or later: it reads every change committed before `since`. */
  function probeSince(since: number): Promise<unknown> {
    if (!running) return start();
    if (running.startedAt >= since) return running.done;
    // The probe in flight may have read the store before the change: one more follows it, shared.
    const next = queued ?? running.done.then((ok) => {
      queued = null;
      if (!ok) return false; // the store is failing: go on with the view
      return running ? running.done : start();
    });
    queued = next;
    return next;
  }

  return {
    get checkedAt() {
      return checkedAt;
    },
    get degraded() {
      return degraded;
    },
    ensureFresh(maxAgeMs = defaultMaxAge) {
      const t = now();
      if (t - checkedAt < maxAgeMs) return DONE;
      // A failing store is not asked again by every request: the view serves until the bound.
      if (t - failedAt < maxAgeMs) return DONE;
      return probeSince(t - maxAgeMs).then(() => {});
    },
    check() {
      return (running ? running.done : start()).then(() => {});
    },
    markFresh,
  };
}
