/**
 * Requests whose record is not finished yet: begun when the route is known, ended when the
 * record is complete and handed to the log queue (after the last byte, which a client holding a
 * `content-length` may have read a moment before). {@linkcode InFlight.settled} lets a forced
 * flush, at shutdown or in a test, wait until what has been answered is also accounted.
 * @module
 */

/** A count of open request records, and a way to wait until there are none. */
export interface InFlight {
  /** Records begun and not finished. */
  readonly count: number;
  /** One more request record is open. */
  begin(): void;
  /** One request record is finished. */
  end(): void;
  /** Resolves at once when no record is open, else when the last open one ends. */
  settled(): Promise<void>;
}

/** Creates an empty tracker. */
export function createInFlight(): InFlight {
  let count = 0;
  let waiting: PromiseWithResolvers<void> | null = null;
  return {
    get count() {
      return count;
    },
    begin() {
      count++;
    },
    end() {
      count = Math.max(0, count - 1);
      if (count === 0 && waiting) {
        waiting.resolve();
        waiting = null;
      }
    },
    settled() {
      if (count === 0) return Promise.resolve();
      waiting ??= Promise.withResolvers<void>();
      return waiting.promise;
    },
  };
}
