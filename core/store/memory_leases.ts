/**
 * Limit lease counters of the memory store. Every call completes in one synchronous step, so
 * grants are exact under any concurrency within the process (the memory store is not shared).
 * @module
 */
import { applyLease } from "../limits/lease_rules.ts";
import type { Store } from "./store.ts";

/** How often expired counters are dropped, ms. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Creates the counters.
 * @param now Clock (epoch ms), for dropping expired counters.
 * @returns The store's `takeLeases`.
 */
export function createMemoryLeases(now: () => number): Pick<Store, "takeLeases"> {
  const counters = new Map<string, { used: number; expiresAt: number }>();
  let prunedAt = 0;

  function prune(t: number): void {
    if (t - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = t;
    for (const [id, counter] of counters) if (counter.expiresAt <= t) counters.delete(id);
  }

  return {
    takeLeases(requests) {
      const t = now();
      prune(t);
      const grants = requests.map((request) => {
        const id = `${request.window}\u0000${request.counter}`;
        const current = counters.get(id);
        const used = current && current.expiresAt > t ? current.used : 0;
        const grant = applyLease(used, request);
        counters.set(id, {
          used: grant.used,
          expiresAt: Math.max(current?.expiresAt ?? 0, request.expiresAt),
        });
        return grant;
      });
      return Promise.resolve(grants);
    },
  };
}
