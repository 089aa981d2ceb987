/**
 * Throttles admin logins per client address: a sliding window of recent attempts, in memory.
 * @module
 */

/** Options of {@linkcode createLoginThrottle}. */
export interface LoginThrottleOptions {
  /** Clock (epoch ms). */
  now: () => number;
  /** Attempts allowed per window (default 5). */
  limit?: number;
  /** Window length, ms (default one minute). */
  windowMs?: number;
  /** Most addresses tracked; the oldest are forgotten beyond it (default 10,000). */
  maxAddresses?: number;
}

/** The throttle. */
export interface LoginThrottle {
  /**
   * Records an attempt from an address, unless the address is over the limit.
   * @returns `{ ok: true }`, or when the next attempt will be allowed (epoch ms).
   */
  attempt(address: string): { ok: true } | { ok: false; retryAt: number };
  /** Forgets an address's attempts (after a successful login). */
  reset(address: string): void;
}

/**
 * Creates a login throttle.
 * @param options Clock, limit and window.
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ now: Date.now });
 * const verdict = throttle.attempt("203.0.113.7");
 * if (!verdict.ok) return tooManyAttempts(verdict.retryAt);
 * ```
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const limit = options.limit ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const attempts = new Map<string, number[]>();

  return {
    attempt(address) {
      const now = options.now();
      const recent = (attempts.get(address) ?? []).filter((t) => t > now - windowMs);
      if (recent.length >= limit) {
        attempts.set(address, recent);
        return { ok: false, retryAt: recent[0]! + windowMs };
      }
      recent.push(now);
      attempts.delete(address);
      attempts.set(address, recent);
      if (attempts.size > maxAddresses) {
        const oldest = attempts.keys().next().value;
        if (oldest !== undefined) attempts.delete(oldest);
      }
      return { ok: true };
    },
    reset(address) {
      attempts.delete(address);
    },
  };
}
