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
   * Makes sure the view holds every change committed `maxAgeMs` ago or earlier: nothing to wait
   * for (undefined) when it is that fresh, else a promise of one probe shared with concurrent
   * callers. Never rejects.
   * @param maxAgeMs Oldest acceptable view, ms (default: the option).
   * @returns Undefined when fresh enough (a request's common case costs no `await`), else the
   * probe to wait for.
   */
  ensureFresh(maxAgeMs?: number): Promise<void> | undefined;
  /** Probes now, or joins the probe in flight (background timers). Never rejects. */
  check(): Promise<void>;
  /**
   * Records that the view holds every change committed before `at` (a reload that started then,
   * or a change signal saying nothing changed).
   * @param at Epoch ms.
   */
  markFresh(at: number): void;
}

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
  return new FreshnessGate(options);
}

/** The gate behind {@linkcode createFreshness}. */
class FreshnessGate implements Freshness {
  checkedAt = -Infinity;
  degraded = false;
  #options: FreshnessOptions;
  #defaultMaxAge: number;
  #timeoutMs: number;
  #failedAt = -Infinity;
  #running: { startedAt: number; done: Promise<boolean> } | null = null;
  #queued: Promise<unknown> | null = null;

  constructor(options: FreshnessOptions) {
    this.#options = options;
    this.#defaultMaxAge = options.maxAgeMs ?? 1000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  markFresh(at: number): void {
    if (at > this.checkedAt) this.checkedAt = at;
    this.degraded = false;
  }

  ensureFresh(maxAgeMs = this.#defaultMaxAge): Promise<void> | undefined {
    const t = this.#options.now();
    if (t - this.checkedAt < maxAgeMs) return undefined;
    // A failing store is not asked again by every request: the view serves until the bound.
    if (t - this.#failedAt < maxAgeMs) return undefined;
    return this.#probeSince(t - maxAgeMs).then(() => {});
  }

  check(): Promise<void> {
    return (this.#running ? this.#running.done : this.#start()).then(() => {});
  }

  /** Starts a probe; resolves to whether it succeeded. */
  #start(): Promise<boolean> {
    const { now } = this.#options;
    const startedAt = now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The store did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    const done: Promise<boolean> = Promise.race([this.#options.probe(), deadline]).then(
      () => {
        this.markFresh(startedAt);
        return true;
      },
      (error) => {
        this.#failedAt = now();
        this.degraded = true;
        this.#options.onError?.(error);
        return false;
      },
    ).finally(() => {
      clearTimeout(timer);
      if (this.#running?.done === done) this.#running = null;
    });
    this.#running = { startedAt, done };
    return done;
  }

  /** A probe that starts at `since` or later: it reads every change committed before `since`. */
  #probeSince(since: number): Promise<unknown> {
    const running = this.#running;
    if (!running) return this.#start();
    if (running.startedAt >= since) return running.done;
    // The probe in flight may have read the store before the change: one more follows it, shared.
    const next = this.#queued ?? running.done.then((ok) => {
      this.#queued = null;
      if (!ok) return false; // the store is failing: go on with the view
      return this.#running ? this.#running.done : this.#start();
    });
    this.#queued = next;
    return next;
  }
}
