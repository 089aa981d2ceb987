/**
 * One run of an async job at a time, for writers that flush what they hold.
 *
 * Two ways to ask for a run:
 * - {@linkcode SerialRuns.join}: any run will do, so a run on its way is shared (a timer's
 *   tick);
 * - {@linkcode SerialRuns.fresh}: the run must start after the call (a flush that must include
 *   what was held when it was asked for). A run on its way is waited for, then one more runs,
 *   shared by every call made meanwhile.
 *
 * So at most two runs are ever pending, however many callers ask.
 * @module
 */

/** A job run one at a time. See the module's documentation. */
export class SerialRuns<A> {
  #job: (arg: A) => Promise<void>;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  /** @param job What a run does; its argument comes from the call that starts the run. */
  constructor(job: (arg: A) => Promise<void>) {
    this.#job = job;
  }

  /** Whether a run is on its way. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /**
   * Shares the run on its way (or the one queued after it), else starts one with `arg`.
   * @returns When the shared run ends.
   */
  join(arg: A): Promise<void> {
    return this.#next ?? this.#running ?? this.#start(arg);
  }

  /**
   * A run that starts after this call, with `arg` (or the argument of the first call that queued
   * it, when one is already queued).
   * @returns When that run ends.
   */
  fresh(arg: A): Promise<void> {
    if (this.#next) return this.#next;
    const running = this.#running;
    if (!running) return this.#start(arg);
    const next = running.then(noop, noop).then(() => {
      this.#next = null;
      return this.#start(arg);
    });
    this.#next = next;
    return next;
  }

  #start(arg: A): Promise<void> {
    const run = this.#job(arg).finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }
}

function noop(): void {}
